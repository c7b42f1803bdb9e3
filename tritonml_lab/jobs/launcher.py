"""The one way a job spec becomes a Slurm job, and the one way to look up a job's state.

REST handlers (through JobService), sweeps, notebook runs and the kernel's magics all launch through
:class:`Launcher`: render the batch script with the admin's defaults, write the job directory,
``sbatch`` it, attach the id. Nothing else writes job directories or calls sbatch.

A failed submission leaves nothing behind, unless Slurm may have accepted the job: when sbatch was
started but its answer was lost (our time-out, "Socket timed out", an interrupt), the directory is
kept with a note, because a job that runs must find its directory, and the user must not be told
"nothing was submitted" and resubmit a duplicate.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Optional

from ..slurm import Job, JobState, SlurmClient, SlurmError
from ..slurm.errors import SchedulerUnavailable, SlurmCommandMissing, SlurmRejected
from .script import Defaults
from .spec import JobSpec
from .store import JobDir, JobStore, Manifest, Origin

# Written into a kept directory whose submission is uncertain (see the module doc).
UNCERTAIN_FILE = "submission-uncertain.json"

# stderr of an sbatch that never reached slurmctld: the job certainly was not queued.
_NEVER_REACHED = re.compile(r"Unable to contact slurm controller|Connection refused", re.IGNORECASE)


class SubmissionUncertain(SchedulerUnavailable):
    """sbatch started, but its answer was lost: the job may be queued. Its directory is kept."""

    def __init__(self, job_dir: JobDir, cause: BaseException) -> None:
        reason = getattr(cause, "message", None) or type(cause).__name__
        super().__init__(
            "Slurm did not confirm the submission, so the job may or may not be queued "
            f"({reason}). Check your jobs list before you submit again; the job's directory is kept "
            f"at {job_dir.path}."
        )
        self.job_dir = job_dir


@dataclass
class Launched:
    job_dir: JobDir
    manifest: Manifest
    job_id: str


def _certainly_not_queued(exc: BaseException) -> bool:
    if isinstance(exc, (SlurmRejected, SlurmCommandMissing)):
        return True  # Slurm answered "no", or there is no sbatch to run
    if isinstance(exc, SchedulerUnavailable) and not isinstance(exc.__cause__, subprocess.TimeoutExpired):
        return bool(_NEVER_REACHED.search(exc.stderr))
    return False


class Launcher:
    """Submits specs with one set of admin defaults into one jobs root."""

    def __init__(self, store: JobStore, slurm: SlurmClient, defaults: Defaults = Defaults(),
                 executor: Optional[ThreadPoolExecutor] = None) -> None:
        self.store = store
        self.slurm = slurm
        self.defaults = defaults
        # Submissions get threads of their own: a hung read elsewhere (the catalog on Lustre)
        # must not hold up sbatch. Owned here unless given.
        self._own_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(max_workers=4, thread_name_prefix="tritonml-submit")
        self.submissions = 0

    def close(self) -> None:
        if self._own_executor:
            self.executor.shutdown(wait=False, cancel_futures=True)

    async def launch(self, spec: JobSpec, origin: Optional[Origin] = None, *,
                     env: Optional[Mapping[str, str]] = None, options: Sequence[str] = (),
                     prepare: Optional[Callable[[JobDir], None]] = None) -> Launched:
        """:meth:`launch_blocking` in a submission thread: one hop for directory, sbatch and id link
        (each hop between the loop and a thread costs about as much as writing a file)."""
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, partial(self.launch_blocking, spec, origin, env=env, options=options, prepare=prepare)
        )

    def launch_blocking(self, spec: JobSpec, origin: Optional[Origin] = None, *,
                        env: Optional[Mapping[str, str]] = None, options: Sequence[str] = (),
                        prepare: Optional[Callable[[JobDir], None]] = None) -> Launched:
        """Write the job directory (``prepare`` adds files of its own), sbatch the script through
        stdin while job.sh is written, then record the id."""
        job_dir, manifest = self.store.prepare(spec, self.defaults, origin)
        try:
            if prepare is not None:
                prepare(job_dir)
        except BaseException:
            self.remove(job_dir)
            raise
        try:
            self.submissions += 1
            job_id = self.slurm.submit_blocking(
                script=manifest.script, options=options, cwd=str(job_dir.path), env=env,
                meanwhile=lambda: self.store.write_script(job_dir, manifest),
            )
        except BaseException as exc:
            if _certainly_not_queued(exc):
                self.remove(job_dir)
                raise
            self._keep_uncertain(job_dir, manifest, exc)
            raise SubmissionUncertain(job_dir, exc) from exc
        return Launched(job_dir, self.store.attach(job_dir, manifest, job_id), job_id)

    def remove(self, job_dir: JobDir, job_id: Optional[str] = None) -> None:
        """Take back a directory no job will run in (and its id link)."""
        shutil.rmtree(job_dir.path, ignore_errors=True)
        if job_id is not None:
            try:
                (self.store.root / job_id).unlink()
            except OSError:
                pass

    def _keep_uncertain(self, job_dir: JobDir, manifest: Manifest, exc: BaseException) -> None:
        try:
            if not job_dir.script_path.exists():
                self.store.write_script(job_dir, manifest)
            note = {"at": time.time(), "error": getattr(exc, "message", None) or repr(exc),
                    "spec": manifest.spec.model_dump(mode="json")}
            (job_dir.path / UNCERTAIN_FILE).write_text(json.dumps(note, indent=1))
        except OSError:
            pass  # the error raised next still names the directory

    # -- state -------------------------------------------------------------------------------
    async def lookup(self, job_id: str, *, queue: bool = True) -> Optional[Job]:
        """What Slurm says of one job: accounting first (it knows finished jobs), then the queue
        (``queue=False`` where the caller's monitor just asked it). Raises SlurmError."""
        found = [job for job in await self.slurm.accounting([job_id]) if job.id == job_id]
        if not found and queue:
            found = [job for job in await self.slurm.my_jobs() if job.id == job_id]
        return found[0] if found else None

    async def state(self, job_id: str) -> JobState:
        """The job's state, UNKNOWN when Slurm cannot be asked or knows nothing of it."""
        try:
            job = await self.lookup(job_id)
        except SlurmError:
            return JobState.UNKNOWN
        return job.state if job is not None else JobState.UNKNOWN
