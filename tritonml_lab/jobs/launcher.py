"""The one way a job spec becomes a Slurm job, and the one way to look up a job's state.

REST handlers (through JobService), sweeps, notebook runs and the kernel's magics all launch through
:class:`Launcher`: render the batch script with the admin's defaults, write the job directory,
``sbatch`` it, attach the id. Nothing else writes job directories or calls sbatch.

Submissions never lose or duplicate a job:
- before sbatch, the intent is recorded (a manifest without id, a marker under
  ``.tritonml/submitting/``) and the job carries a unique token in its ``--comment``;
- a failure where Slurm certainly did not queue the job (it refused, or was never reached) removes
  the directory;
- when sbatch's answer was lost (our time-out, "Socket timed out", an interrupt), the queue is asked
  for the token before anything is touched: found, the job is attached as if sbatch had answered;
  not found, the directory is kept with a note and the user is told the job may be queued;
- :meth:`Launcher.reconcile` (at server start) settles every directory left in "submitting" by a
  lost answer or a killed server: attached when the queue has its token, removed when it is older
  than :data:`GRACE_SECONDS` and the queue does not, left for later when Slurm cannot be asked.

A client that retries ``POST jobs`` after a lost HTTP answer submits a second job: the front end never
retries a POST by itself, and the jobs list shows both (documented in docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
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
from .store import BadJobRequest, JobDir, JobStore, Manifest, Origin

log = logging.getLogger(__name__)

# Written into a kept directory whose submission is uncertain (see the module doc).
UNCERTAIN_FILE = "submission-uncertain.json"
COMMENT_PREFIX = "tritonml:"
# A "submitting" directory the queue does not know after this long was never queued: sbatch either
# answers or gives up well within it (MessageTimeout is 10 s by default, retries included).
GRACE_SECONDS = 600.0

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


def _mtime(job_dir: JobDir) -> float:
    try:
        return job_dir.path.stat().st_mtime
    except OSError:
        return 0.0


class JobsRootUnavailable(BadJobRequest):
    """The jobs directory cannot be written (full, read-only, over quota): nothing was submitted."""

    def __init__(self, root, cause: OSError) -> None:
        super().__init__(
            f"Nothing was submitted: the jobs directory {root} cannot be written ({cause.strerror or cause}). "
            "Free some space or ask your admins; your quota: `quota` or `lfs quota -u $USER`."
        )


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
        try:
            job_dir, manifest = self.store.prepare(spec, self.defaults, origin)
        except OSError as exc:  # prepare removes what it made; nothing was submitted
            raise JobsRootUnavailable(self.store.root, exc) from exc
        manifest = manifest.model_copy(update={"token": secrets.token_hex(8)})
        try:
            if prepare is not None:
                prepare(job_dir)
            self.store.record_intent(job_dir, manifest)
        except BaseException as exc:
            self.remove(job_dir)
            if isinstance(exc, OSError):
                raise JobsRootUnavailable(self.store.root, exc) from exc
            raise
        try:
            self.submissions += 1
            job_id = self.slurm.submit_blocking(
                script=manifest.script, options=[f"--comment={COMMENT_PREFIX}{manifest.token}", *options],
                cwd=str(job_dir.path), env=env, meanwhile=lambda: self.store.write_script(job_dir, manifest),
            )
        except BaseException as exc:
            if _certainly_not_queued(exc):
                self.remove(job_dir)
                raise
            self._keep_uncertain(job_dir, manifest, exc)
            job_id = self._queued_id(manifest.token)
            if job_id is None:
                raise SubmissionUncertain(job_dir, exc) from exc
            log.warning("tritonml-lab: sbatch's answer was lost (%s); the queue has the job: %s", exc, job_id)
            (job_dir.path / UNCERTAIN_FILE).unlink(missing_ok=True)
        return Launched(job_dir, self.store.attach(job_dir, manifest, job_id), job_id)

    def _queued_id(self, token: Optional[str]) -> Optional[str]:
        """The id of the queued job whose --comment carries ``token``; None when not queued or
        Slurm cannot be asked."""
        try:
            return self.slurm.queued_comments_blocking().get(f"{COMMENT_PREFIX}{token}")
        except SlurmError:
            return None

    async def reconcile(self) -> dict[str, int]:
        """Settle the directories a lost sbatch answer or a killed server left in "submitting" (see
        the module doc). Returns counts: attached, removed, pending (left for a later call)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.reconcile_blocking)

    def reconcile_blocking(self) -> dict[str, int]:
        counts = {"attached": 0, "removed": 0, "pending": 0}
        left = self.store.submitting_dirs()
        if not left:
            return counts
        try:
            queued = self.slurm.queued_comments_blocking()
        except SlurmError:
            queued = None  # cannot tell: touch nothing
        for job_dir in left:
            try:
                manifest = job_dir.manifest()
            except (OSError, ValueError):  # gone, or the server died before the intent was written
                if not job_dir.path.exists() or time.time() - _mtime(job_dir) > GRACE_SECONDS:
                    self.remove(job_dir)
                    counts["removed"] += 1
                else:
                    counts["pending"] += 1
                continue
            job_id = manifest.job_id or (queued or {}).get(f"{COMMENT_PREFIX}{manifest.token}")
            if job_id is not None:
                self.store.attach(job_dir, manifest, job_id)
                (job_dir.path / UNCERTAIN_FILE).unlink(missing_ok=True)
                counts["attached"] += 1
            elif queued is not None and time.time() - manifest.submitted_at > GRACE_SECONDS:
                self.remove(job_dir)
                counts["removed"] += 1
            else:
                counts["pending"] += 1
        if counts["attached"] or counts["removed"]:
            log.info("tritonml-lab: reconciled unfinished submissions: %s", counts)
        return counts

    def remove(self, job_dir: JobDir, job_id: Optional[str] = None) -> None:
        """Take back a directory no job will run in (and its id link)."""
        shutil.rmtree(job_dir.path, ignore_errors=True)
        self.store.settle(job_dir)
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
