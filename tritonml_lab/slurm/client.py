"""The async Slurm client: one method per Slurm question the product asks.

Every call goes through :func:`runner.run_slurm` (time-outs, clean environment, typed errors) and
every answer through :mod:`parse` (pure functions, tested on recorded real output).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Optional

from . import parse
from .models import ClusterSummary, Job
from .runner import CommandResult, classify_failure, run_slurm, run_slurm_blocking


class SlurmClient:
    def __init__(self, *, bin_dir: Optional[str] = None, timeout: float = 30.0) -> None:
        self.bin_dir = bin_dir
        self.timeout = timeout
        self._cluster_name: Optional[str] = None

    def _cmd(self, name: str) -> str:
        return os.path.join(self.bin_dir, name) if self.bin_dir else name

    async def _run(self, name: str, *args: str, **kwargs) -> CommandResult:
        kwargs.setdefault("timeout", self.timeout)
        return await run_slurm([self._cmd(name), *args], **kwargs)

    # -- submitting and cancelling -------------------------------------------------------------
    async def submit(
        self,
        script_path: str,
        *,
        options: Sequence[str] = (),
        cwd: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> str:
        """``sbatch --parsable [options] SCRIPT`` and return the job id.

        ``env`` is the environment the job starts from (sbatch's default --export=ALL); it is
        cleaned of an enclosing job's SLURM_*/SBATCH_*/SRUN_* variables either way.
        """
        result = await self._run("sbatch", "--parsable", *options, script_path, cwd=cwd, env=env)
        return parse.sbatch_job_id(result.stdout)

    def submit_blocking(
        self,
        script_path: Optional[str] = None,
        *,
        script: Optional[str] = None,
        options: Sequence[str] = (),
        cwd: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        meanwhile: Optional[Callable[[], None]] = None,
    ) -> str:
        """:meth:`submit` for a worker thread: the script from a file, or its text on sbatch's stdin
        (then ``meanwhile`` can write files while sbatch waits for slurmctld)."""
        if (script_path is None) == (script is None):
            raise ValueError("give the batch script as a file or as text, not both")
        args = [script_path] if script_path is not None else []
        result = run_slurm_blocking([self._cmd("sbatch"), "--parsable", *options, *args], timeout=self.timeout,
                                    cwd=cwd, env=env, stdin=script, meanwhile=meanwhile)
        return parse.sbatch_job_id(result.stdout)

    async def cancel(self, job_id: str, *, signal: Optional[str] = None) -> None:
        """``scancel``; cancelling a job that already ended is not an error (idempotent)."""
        args = [f"--signal={signal}"] if signal else []
        result = await self._run("scancel", *args, job_id, check=False)
        if result.returncode != 0 and not parse.is_already_finished_error(result.stderr):
            raise classify_failure(result.command, result.returncode, result.stderr)

    # -- what is happening ---------------------------------------------------------------------
    async def my_jobs(self) -> list[Job]:
        """The user's jobs that slurmctld still knows (``squeue --me --json``)."""
        result = await self._run("squeue", "--me", "--all", "--json")
        return await _parsed(parse.squeue_json, result.stdout)

    async def expected_starts(self) -> dict[str, float]:
        """Expected start times (epoch seconds) of the user's pending jobs (``squeue --start``)."""
        result = await self._run(
            "squeue", "--me", "--start", "--noheader", "--format=%i|%S", "--states=PENDING"
        )
        return parse.squeue_start(result.stdout)

    async def accounting(self, job_ids: Sequence[str]) -> list[Job]:
        """Finished (or any) jobs from ``sacct`` in ONE call, whatever the number of ids."""
        if not job_ids:
            return []
        result = await self._run("sacct", "--json", "--jobs", ",".join(job_ids))
        return await _parsed(parse.sacct_json, result.stdout)

    async def efficiency(self, job_id: str) -> dict:
        """CPU, memory and time used against what was asked, as Slurm accounted them."""
        result = await self._run(
            "sacct", "--jobs", job_id, "--noheader", "--parsable2", f"--format={parse.EFFICIENCY_FORMAT}"
        )
        return parse.sacct_efficiency(result.stdout)

    async def cluster_summary(self) -> ClusterSummary:
        """Partitions, their limits and nodes, and GPUs by type, total and free now (``sinfo``)."""
        summary, nodes, name = await asyncio.gather(
            self._run("sinfo", "--noheader", "--summarize", "--format=%P|%a|%l|%F|%N"),
            self._run("sinfo", "--json"),
            self.cluster_name(),
        )
        return await _parsed(parse.cluster_summary, summary.stdout, nodes.stdout, cluster=name)

    async def show_config(self) -> CommandResult:
        """``scontrol show config`` (read values with ``parse.config_value``)."""
        return await self._run("scontrol", "show", "config")

    async def cluster_name(self) -> Optional[str]:
        """ClusterName from ``scontrol show config``; asked once per process (it never changes)."""
        if self._cluster_name is None:
            result = await self.show_config()
            self._cluster_name = parse.config_value(result.stdout, "ClusterName") or ""
        return self._cluster_name or None


# A sacct answer for a long history, or sinfo --json of a site with hundreds of nodes, is megabytes
# of JSON: parsing it would hold up every other request of the server for tens of milliseconds.
_BIG_OUTPUT = 64 * 1024


async def _parsed(parser, *texts: str, **kwargs):
    """``parser(*texts)``, in a worker thread when the output is big, else right here (a hop to
    the thread pool costs more than parsing a few jobs)."""
    if sum(len(text) for text in texts) < _BIG_OUTPUT:
        return parser(*texts, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, partial(parser, *texts, **kwargs))
