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
  lost answer or a killed server, and never deletes one: Slurm may have accepted its job. The job is
  looked for by its token in the queue (``squeue``: queued and running jobs) and in accounting
  (``sacct``: jobs that ended, which a killed server's job may well have done before the next
  start); found, it is attached and shows with its logs and outputs. Only when both answered, neither
  knows the token, the job left no trace in its directory (no start or exit marker, no log) and the
  submission is older than :data:`GRACE_SECONDS`, was it certainly never queued: the directory is
  kept with a note (:data:`NEVER_QUEUED_FILE`) and no longer reconciled. A directory whose job ran but
  that Slurm no longer names (accounting purged) is kept with a note too; anything else waits for a
  later pass (Slurm could not be asked, or the manifest cannot be read).

A client that retries ``POST jobs`` after a lost HTTP answer submits a second job: the front end never
retries a POST by itself, and the jobs list shows both (documented in docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Optional, Protocol

from ..slurm import Job, JobState, SlurmClient, SlurmError
from ..slurm.errors import SchedulerUnavailable, SlurmCommandMissing, SlurmRejected
from .script import EXIT_FILE, REQUEUED_FILE, START_FILE, STDERR, STDOUT, WARNED_FILE, Defaults
from .spec import JobSpec
from .store import BadJobRequest, JobDir, JobStore, Manifest, Origin


class SubmissionListener(Protocol):
    """What a service that submits or cancels tells the server's monitor (``server/monitor.py``), so
    that the core names no server class; in a kernel there is none."""

    def poke(self, *, submitted: bool = False) -> None: ...

    def cancelled(self, job_id: str) -> None: ...

log = logging.getLogger(__name__)

# Written into a kept directory whose submission is uncertain (see the module doc).
UNCERTAIN_FILE = "submission-uncertain.json"
# Written into a kept directory whose job Slurm certainly never queued (see the module doc).
NEVER_QUEUED_FILE = "never-submitted.json"
COMMENT_PREFIX = "tritonml:"
_TOKEN = re.compile(re.escape(COMMENT_PREFIX) + r"[0-9a-f]{16}\b")
# A "submitting" directory neither the queue nor accounting knows after this long was never queued:
# sbatch either answers or gives up well within it (MessageTimeout is 10 s by default, retries included).
GRACE_SECONDS = 600.0
# What a job writes into its directory once it runs (script.py, injob/runner.py; Slurm opens the logs).
_TRACES = (f"{START_FILE}.", f"{EXIT_FILE}.", f"{REQUEUED_FILE}.", f"{WARNED_FILE}.", "runner_exit.", "outputs.")
_LOGS = (STDOUT, STDERR)

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


def _ran(job_dir: JobDir) -> bool:
    """Whether the job left a trace in its directory (a start or exit marker, a log, its outputs):
    then it ran, whatever Slurm still says. True when the directory cannot be read (cannot tell)."""
    try:
        names = os.listdir(job_dir.path)
    except OSError:
        return True
    return any(name.startswith(_TRACES) or name in _LOGS or name.startswith(("stdout.", "stderr."))
               for name in names)


def _note(job_dir: JobDir, name: str, note: dict) -> None:
    try:
        (job_dir.path / name).write_text(json.dumps({"at": time.time(), **note}, indent=1))
    except OSError:
        pass  # the log line says it too


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
        counts = {"attached": 0, "kept": 0, "pending": 0}
        left = []
        for job_dir in self.store.submitting_dirs():
            if not job_dir.path.exists():  # removed by its user: nothing left to settle
                self.store.settle(job_dir)
                continue
            try:
                left.append((job_dir, job_dir.manifest()))
            except (OSError, ValueError):  # written before the marker, so unreadable now: look later
                left.append((job_dir, None))
        if not left:
            return counts
        queued = self._ask(self.slurm.queued_comments_blocking)
        # Jobs that left the queue (ended, or cancelled while pending): accounting, in one call.
        unknown = [m for _d, m in left if m is not None and not m.job_id and self._token(m) not in (queued or {})]
        accounted = self._ask(lambda: self._accounted_comments(min(m.submitted_at for m in unknown))) if unknown else {}
        for job_dir, manifest in left:
            if manifest is None:
                counts["pending"] += 1
                continue
            token = self._token(manifest)
            job_id = manifest.job_id or (queued or {}).get(token) or (accounted or {}).get(token)
            if job_id is not None:
                self.store.attach(job_dir, manifest, job_id)
                (job_dir.path / UNCERTAIN_FILE).unlink(missing_ok=True)
                counts["attached"] += 1
            elif queued is None or accounted is None:
                counts["pending"] += 1  # Slurm could not be asked: touch nothing
            elif _ran(job_dir):
                _note(job_dir, UNCERTAIN_FILE, {"error": "the job ran (its directory has its markers or logs) "
                      "but neither squeue nor sacct names a job with its token any more; its id is unknown",
                      "token": manifest.token})
                log.warning("tritonml-lab: %s ran, but Slurm no longer names its job; kept as it is", job_dir.path)
                self.store.settle(job_dir)
                counts["kept"] += 1
            elif time.time() - manifest.submitted_at > GRACE_SECONDS:
                _note(job_dir, NEVER_QUEUED_FILE, {"why": "Slurm never queued this submission (the server "
                      "stopped before sbatch answered, and neither squeue nor sacct knows its token); "
                      "submit it again with: sbatch job.sh", "token": manifest.token})
                self.store.settle(job_dir)
                counts["kept"] += 1
            else:
                counts["pending"] += 1
        if counts["attached"] or counts["kept"]:
            log.info("tritonml-lab: reconciled unfinished submissions: %s", counts)
        return counts

    @staticmethod
    def _token(manifest: Manifest) -> str:
        return f"{COMMENT_PREFIX}{manifest.token}"

    @staticmethod
    def _ask(question: Callable[[], dict[str, str]]) -> Optional[dict[str, str]]:
        """Slurm's answer, or None when it cannot be asked (then nothing is decided)."""
        try:
            return question()
        except SlurmError:
            return None

    def _accounted_comments(self, since: float) -> dict[str, str]:
        """``{comment token: job id}`` of this user's jobs that accounting (sacct) knows since
        ``since``: the token from Comment or SubmitLine. Raises SlurmError."""
        found: dict[str, str] = {}
        for job_id, text in self.slurm.accounted_submissions_blocking(since):
            for token in _TOKEN.findall(text):
                found.setdefault(token, job_id)
        return found

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
