"""Running Slurm client commands: async, with time-outs, a clean environment, and typed errors.

Every Slurm CLI call of the project goes through :func:`run_slurm` (or, in a worker thread,
:func:`run_slurm_blocking`). Arguments are passed as a list: nothing reaches a shell.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import SchedulerUnavailable, SlurmCommandMissing, SlurmRejected

# Variables an enclosing job (the Open OnDemand Jupyter server is itself a Slurm job) exports. sbatch
# and srun read many of them as defaults (SLURM_MEM_PER_NODE, SBATCH_PARTITION, ...), and a child job
# that inherits SLURM_JOB_ID is misread as a step of the parent. They never leak into what we run.
_LEAKY_PREFIXES = ("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")
# Site configuration, not job state: keep it so clients find the cluster.
_KEEP = frozenset({"SLURM_CONF", "SLURM_TIME_FORMAT"})

# stderr of a client that could not talk to slurmctld / slurmdbd, across Slurm versions.
_UNREACHABLE = re.compile(
    r"Unable to contact slurm controller|Socket timed out|Connection refused|"
    r"Zero Bytes were transmitted|Communication connection failure|"
    r"Unable to establish connection|Slurm backup controller in standby mode|"
    r"slurmdbd: .*(?:not responding|connect)|Problem talking to the database|"
    r"Connection to slurmdbd|Unable to connect to database",
    re.IGNORECASE,
)


def clean_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``env`` (default: ``os.environ``) without an enclosing job's Slurm variables."""
    source = os.environ if env is None else env
    return {
        key: value
        for key, value in source.items()
        if key in _KEEP or not key.startswith(_LEAKY_PREFIXES)
    }


@dataclass(frozen=True)
class CommandResult:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str


def classify_failure(command: list[str], returncode: int, stderr: str) -> Exception:
    """Map a failed Slurm command to SchedulerUnavailable or SlurmRejected."""
    text = stderr.strip() or f"{command[0]} exited with status {returncode}"
    if _UNREACHABLE.search(text):
        return SchedulerUnavailable(
            "The Slurm scheduler cannot be reached right now; try again in a minute. "
            "If this persists, tell your cluster admins. "
            f"({command[0]}: {_first_line(text)})",
            command=command,
            stderr=stderr,
        )
    return SlurmRejected(_strip_prefix(text), command=command, stderr=stderr)


def _missing(command: list[str], exc: FileNotFoundError) -> SlurmCommandMissing:
    error = SlurmCommandMissing(
        f"The Slurm command '{command[0]}' is not installed on this host "
        "(is this Jupyter server running on a cluster node?).",
        command=command,
    )
    error.__cause__ = exc
    return error


def _timed_out(command: list[str], timeout: float) -> SchedulerUnavailable:
    return SchedulerUnavailable(
        f"The Slurm scheduler did not answer within {timeout:g} s ({command[0]}); "
        "it may be busy. Try again in a minute.",
        command=command,
    )


def _result(command: list[str], returncode: int | None, out: bytes, err: bytes, check: bool) -> CommandResult:
    result = CommandResult(command, returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))
    if check and result.returncode != 0:
        raise classify_failure(command, result.returncode, result.stderr)
    return result


async def run_slurm(
    command: list[str],
    *,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdin: str | None = None,
    check: bool = True,
) -> CommandResult:
    """Run one Slurm client command without blocking the event loop.

    ``env`` is cleaned of inherited job variables; extra variables for the job go in it explicitly.
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=clean_environment(env),
            cwd=cwd,
        )
    except FileNotFoundError as exc:
        raise _missing(command, exc) from exc
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(stdin.encode() if stdin is not None else None), timeout
        )
    except asyncio.TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise _timed_out(command, timeout) from exc
    except asyncio.CancelledError:
        # The caller is gone (a server shutting down, a closed request): leave no command running.
        if proc.returncode is None:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
        raise
    return _result(command, proc.returncode, out, err, check)


def run_slurm_blocking(
    command: list[str],
    *,
    timeout: float = 30.0,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdin: str | None = None,
    check: bool = True,
    meanwhile: Callable[[], None] | None = None,
) -> CommandResult:
    """:func:`run_slurm` for a worker thread (same environment, time-out and errors).

    ``meanwhile`` runs while the command waits for slurmctld: submitting writes the job
    directory's remaining files then, instead of before ``sbatch`` (see benchmarks/jobs_load.py).
    """
    # stdin through a pipe of our own, written and closed before `meanwhile`, so that the command
    # has all of it while we do other work (communicate() would write it only later).
    read_end, write_end = os.pipe() if stdin is not None else (subprocess.DEVNULL, None)
    try:
        proc = subprocess.Popen(
            command, stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=clean_environment(env), cwd=cwd,
        )
    except FileNotFoundError as exc:
        if write_end is not None:
            os.close(write_end)
        raise _missing(command, exc) from exc
    finally:
        if write_end is not None:
            os.close(read_end)
    with proc:
        try:
            if write_end is not None:
                with open(write_end, "wb") as pipe:
                    pipe.write(stdin.encode())  # type: ignore[union-attr]
            if meanwhile is not None:
                meanwhile()
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.wait()
            raise _timed_out(command, timeout) from exc
        except BaseException:
            proc.kill()
            raise
    return _result(command, proc.returncode, out, err, check)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _strip_prefix(text: str) -> str:
    # "sbatch: error: Batch job submission failed: Invalid partition name specified" -> the part a
    # person needs; keep every line Slurm wrote, without the repeated "sbatch: error:" noise.
    lines = [re.sub(r"^\w+: (?:error|fatal): ", "", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
