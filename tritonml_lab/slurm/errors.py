"""Typed errors of the Slurm layer.

Two failures matter to users and must never be confused:
- the scheduler cannot be reached (slurmctld down, network, time-out): retry later;
- Slurm understood the request and refused it: the user must change something, and Slurm's own
  message says what.
"""

from __future__ import annotations


class SlurmError(Exception):
    """Base of every error the Slurm layer raises."""

    def __init__(self, message: str, *, command: list[str] | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.command = command or []
        self.stderr = stderr


class SchedulerUnavailable(SlurmError):
    """slurmctld (or slurmdbd for accounting) could not be reached, or a command timed out."""


class SlurmCommandMissing(SchedulerUnavailable):
    """A Slurm client command is not installed on this host."""


class SlurmRejected(SlurmError):
    """Slurm answered and refused the request; ``message`` is Slurm's own words."""


class SlurmOutputError(SlurmError):
    """Slurm answered with output this module cannot parse (a version we do not know?)."""
