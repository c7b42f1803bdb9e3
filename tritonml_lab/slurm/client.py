"""The async Slurm client: one method per Slurm question the product asks.

Every call goes through :func:`runner.run_slurm` (time-outs, clean environment, typed errors) and
every answer through :mod:`parse` (pure functions, tested on recorded real output).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Optional

from . import efficiency, parse
from .errors import SlurmOutputError
from .models import ClusterSummary, Job
from .runner import CommandResult, classify_failure, run_slurm, run_slurm_blocking
from .version import SlurmVersion

log = logging.getLogger("tritonml_lab.slurm")


class SlurmClient:
    def __init__(self, *, bin_dir: Optional[str] = None, timeout: float = 30.0) -> None:
        self.bin_dir = bin_dir
        self.timeout = timeout
        self._cluster_name: Optional[str] = None
        self._version: Optional[SlurmVersion] = None

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

    def queued_comments_blocking(self) -> dict[str, str]:
        """``{comment: job id}`` of this user's queued and running jobs (array jobs by their array
        id), for a worker thread. Text, not --json: two fields, the same on every release."""
        result = run_slurm_blocking([self._cmd("squeue"), "--me", "--noheader", "--format=%F|%k"],
                                    timeout=self.timeout)
        return parse.comments(result.stdout)

    def accounted_submissions_blocking(self, since: float) -> list[tuple[str, str]]:
        """``[(job or array id, its Comment and SubmitLine)]`` of this user's jobs that accounting
        knows since ``since`` (epoch s, less an hour for the clocks), for a worker thread. Comment is
        stored only with AccountingStoreFlags=job_comment; SubmitLine (every release since 21.08)
        carries sbatch's --comment all the same. Raises SlurmError (accounting off, slurmdbd down)."""
        seconds = int(max(0.0, time.time() - since)) + 3600
        result = run_slurm_blocking(
            [self._cmd("sacct"), "--allocations", "--noheader", "--parsable2", f"--uid={os.getuid()}",
             f"--starttime=now-{seconds}", "--endtime=now", "--format=JobID,Comment,SubmitLine"],
            timeout=self.timeout,
        )
        return parse.accounted_submissions(result.stdout)

    async def cancel(self, job_id: str, *, signal: Optional[str] = None) -> None:
        """``scancel``; cancelling a job that already ended is not an error (idempotent)."""
        args = [f"--signal={signal}"] if signal else []
        result = await self._run("scancel", *args, job_id, check=False)
        if result.returncode != 0 and not parse.is_already_finished_error(result.stderr):
            raise classify_failure(result.command, result.returncode, result.stderr)

    # -- what is happening ---------------------------------------------------------------------
    # squeue: JSON. One user's jobs are a small answer, and only the JSON has what the text formats
    # lack or cut: the GPUs each node holds (gres_detail, several types), the raw exit status
    # (code and signal), job names and paths whatever characters they hold. Its shape changed at
    # every release; jobs.py reads it by field name and value shape.
    async def my_jobs(self) -> list[Job]:
        """The user's jobs that slurmctld still knows, ended ones included (``squeue --me --json``)."""
        # --states=all: 23.02+ honour squeue's default filter (pending and running only) with
        # --json, 22.05 ignored it; with it every release lists the jobs that ended within
        # MinJobAge, with slurmctld's exit status. 22.05 also ignores --me: the parser keeps ours.
        result = await self._run("squeue", "--me", "--all", "--states=all", "--json")
        return await _parsed(parse.squeue_json, result.stdout, uid=os.getuid())

    # squeue --start: a fixed text format of two fields (id, time) that every release prints alike;
    # the time in Slurm's standard notation whatever the site's SLURM_TIME_FORMAT.
    async def expected_starts(self) -> dict[str, float]:
        """Expected start times (epoch seconds) of the user's pending jobs (``squeue --start``)."""
        result = await self._run(
            "squeue", "--me", "--start", "--noheader", "--format=%i|%S", "--states=PENDING",
            env=_standard_times(),
        )
        return parse.squeue_start(result.stdout)

    # sacct: JSON, like squeue, for the same job model (steps carry the signal of a cancelled or
    # timed-out job). 22.05's sacct --json reports every normal exit as 0: jobs.py leaves such an
    # exit code empty rather than saying a failed job exited 0.
    async def accounting(self, job_ids: Sequence[str]) -> list[Job]:
        """Finished (or any) jobs from ``sacct`` in ONE call, whatever the number of ids."""
        if not job_ids:
            return []
        result = await self._run("sacct", "--json", "--jobs", ",".join(job_ids))
        return await _parsed(parse.sacct_json, result.stdout)

    async def efficiency(self, job_id: str) -> dict:
        """CPU, memory and time used against what was asked, as Slurm accounted them (``sacct
        --parsable2``: these fields print alike in every release, see efficiency.py)."""
        result = await self._run(
            "sacct", "--jobs", job_id, "--noheader", "--parsable2", f"--format={parse.EFFICIENCY_FORMAT}"
        )
        return parse.sacct_efficiency(result.stdout)

    async def efficiency_between(self, start: str, end: str, user: str) -> dict[str, dict]:
        """Figures of every job of ``user`` in [start, end] (sacct's YYYY-MM-DDTHH:MM:SS), by job id:
        ONE sacct call however many jobs (the personal efficiency report)."""
        result = await self._run(
            "sacct", "--user", user, "--starttime", start, "--endtime", end, "--noheader", "--parsable2",
            f"--format={efficiency.USAGE_FORMAT}",
        )
        return efficiency.sacct_efficiency_by_job(result.stdout)

    async def efficiency_tasks(self, array_job_id: str) -> dict[str, dict]:
        """Figures of each task of an array job ("123_4" -> figures): ONE sacct call."""
        result = await self._run(
            "sacct", "--jobs", array_job_id, "--noheader", "--parsable2", f"--format={efficiency.USAGE_FORMAT}"
        )
        return {task: f for task, f in efficiency.sacct_efficiency_by_job(result.stdout).items()
                if task.partition("_")[2].isdigit()}

    async def cluster_summary(self) -> ClusterSummary:
        """Partitions, their limits and nodes, CPUs, and GPUs by type, total and free now.

        sinfo: text (``--Format`` of fixed fields, see sinfo.py), not ``--json``, which lists every
        node with dozens of fields (megabytes on a site of 1,000 nodes) and changed its top level in
        23.02. Should a release print the fields otherwise, ``sinfo --json`` is read instead."""
        result, name, version = await asyncio.gather(
            self._run("sinfo", "--noheader", f"--Format={parse.SINFO_FORMAT}"), self.cluster_name(), self.version()
        )
        try:
            summary = await _parsed(parse.cluster_summary, result.stdout, cluster=name)
        except SlurmOutputError as exc:
            log.warning("tritonml-lab: reading sinfo --json instead of its text format (%s)", exc.message)
            nodes = await self._run("sinfo", "--json")
            summary = await _parsed(parse.cluster_summary_json, nodes.stdout, cluster=name)
        summary.slurm_version = version.release
        return summary

    async def version(self) -> SlurmVersion:
        """The release of the Slurm commands (``sinfo --version``), read once: it does not change
        while the server runs, and a release the parsers do not know is logged once."""
        if self._version is None:
            result = await self._run("sinfo", "--version")
            self._version = parse.parse_version(result.stdout)
        return self._version

    # scontrol show config: text, one "Key = value" line per setting in every release (22.05 has no
    # JSON of it).
    async def show_config(self) -> CommandResult:
        """``scontrol show config`` (read values with ``parse.config_value``)."""
        return await self._run("scontrol", "show", "config")

    async def cluster_name(self) -> Optional[str]:
        """ClusterName from ``scontrol show config``; asked once per process (it never changes)."""
        if self._cluster_name is None:
            result = await self.show_config()
            self._cluster_name = parse.config_value(result.stdout, "ClusterName") or ""
        return self._cluster_name or None


def _standard_times() -> dict[str, str]:
    """Our environment with Slurm's default timestamps: a site's SLURM_TIME_FORMAT (the runner keeps
    it) could make squeue print "relative" times or any strftime format."""
    return {**os.environ, "SLURM_TIME_FORMAT": "standard"}


# A sacct answer for a long history, or sinfo --json of a site with hundreds of nodes, is megabytes
# of JSON: parsing it would hold up every other request of the server for tens of milliseconds.
_BIG_OUTPUT = 64 * 1024


async def _parsed(parser, *texts: str, **kwargs):
    """``parser(*texts)``, in a worker thread when the output is big, else right here (a hop to
    the thread pool costs more than parsing a few jobs)."""
    if sum(len(text) for text in texts) < _BIG_OUTPUT:
        return parser(*texts, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, partial(parser, *texts, **kwargs))
