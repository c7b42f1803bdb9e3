"""The kernel side: ``%load_ext tritonml_lab``, then ``%%tritonml submit`` and friends.

Submissions are made from the kernel itself, so the job inherits the kernel's environment (cleaned
of an enclosing job's SLURM_*/SBATCH_* variables) and Python cells run with the kernel's own Python.
They go through :class:`~tritonml_lab.jobs.launcher.Launcher`, exactly as the server's do for the
jobs panel. This module is the magic itself: its settings, and the dispatch of ``%tritonml COMMAND``
to the command groups of :mod:`tritonml_lab.kernel` (see its docstring for the layout and choices).
"""

from __future__ import annotations

import shlex
from typing import Optional

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Float, Unicode

from .kernel.job_commands import JobCommands
from .kernel.options import HelpShown, doc, parsers
from .kernel.run_notebook import NotebookCommands
from .kernel.submit import JobFailed
from .kernel.sweep import SweepCommands
from .kernel.wandb_sync import WandbCommands

__all__ = ["JobFailed", "TritonMLMagics", "load_ipython_extension"]


@magics_class
class TritonMLMagics(JobCommands, NotebookCommands, SweepCommands, WandbCommands, Magics):
    """``%tritonml`` / ``%%tritonml``: see ``%tritonml?``."""

    jobs_root = Unicode(
        "", help="Where job directories go. Empty: $TRITONML_JOBS_ROOT, else $WRKDIR/tritonml/jobs, "
        "else ~/tritonml/jobs (the server's default)."
    ).tag(config=True)
    slurm_bin_dir = Unicode("", help="Directory of the Slurm commands; empty: PATH.").tag(config=True)
    slurm_timeout = Float(30.0, help="Seconds before a Slurm command counts as unanswered.").tag(config=True)
    poll_seconds = Float(0.5, help="--wait / --follow: how often the job directory is looked at.").tag(config=True)
    slurm_check_seconds = Float(
        10.0, help="--wait / --follow: how often Slurm is asked, for jobs that end without writing "
        "their exit code (cancelled, or killed before the script's exit trap ran)."
    ).tag(config=True)

    def __init__(self, shell=None, **kwargs) -> None:
        super().__init__(shell=shell, **kwargs)
        self._parsers = parsers()

    @line_cell_magic
    def tritonml(self, line: str, cell: Optional[str] = None):
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%tritonml: cannot read the options ({exc})") from None
        if not words:
            return self._cmd_connection()
        if words[0] in ("-h", "--help", "help"):
            print(doc())
            return None
        command, rest = words[0], words[1:]
        parser = self._parsers.get(command)
        if parser is None:
            raise UsageError(f"%tritonml: unknown command {command!r}; one of {', '.join(self._parsers)}")
        try:
            args = parser.parse_args(rest)
        except HelpShown:
            return None
        self._resolve_last(args)
        if command == "submit":
            return self.submit(args, cell)
        if command == "sweep":
            return self.sweep(args, cell)
        if cell is not None and cell.strip():
            raise UsageError(f"%tritonml {command} takes no cell; only submit and sweep run a cell")
        return getattr(self, f"_cmd_{command.replace('-', '_')}")(args)

    tritonml.__doc__ = doc()

    def _resolve_last(self, args) -> None:
        """ID "last": the job or sweep last submitted from this notebook (tours and quick checks)."""
        for attr, last in (("job_id", self.last_job and self.last_job[0]), ("sweep_id", self.last_sweep)):
            if getattr(args, attr, None) == "last":
                if not last:
                    raise UsageError(f"No {attr[:-3]} was submitted from this notebook yet: give its ID.")
                setattr(args, attr, last)


def load_ipython_extension(ipython) -> None:
    """``%load_ext tritonml_lab``."""
    ipython.register_magics(TritonMLMagics)
    try:  # import the widget now, so that the first submit is as quick as the next ones
        from . import widgets  # noqa: F401
    except ImportError:
        pass
