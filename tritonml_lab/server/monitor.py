"""One job monitor per server: it alone asks Slurm about the user's jobs.

The job tells us; we do not ask slurmctld. The batch script writes start and exit markers into its
job directory (markers.py); the monitor notices them within about half a second with cheap stats
and pushes RUNNING, COMPLETED, FAILED, CANCELLED or TIMEOUT at once; sacct (slurmdbd, not
slurmctld) then confirms how the job ended, once. ``squeue --me`` is for what only slurmctld knows
(pending reasons, expected starts, jobs killed while pending, jobs submitted with plain sbatch), and
runs within the scheduler budget (budget.py): at most once a minute on schedule, at once after a
submission or when a user looks. However many tabs, panels and widgets are open, that is one server's
cost; with nobody listening (no push subscriber, no recent request) nothing runs at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Optional

from ..slurm import Job, JobState, SlurmClient, SlurmError
from ..jobs.markers import MarkerScanner
from .budget import SqueueBudget
from .marker_watch import BEFORE_START, CONFIRM_DELAYS, MARKER_GRACE, MarkerWatch

log = logging.getLogger(__name__)
STOP_SECONDS = 10.0

Listener = Callable[[str, dict], None]



class JobMonitor(MarkerWatch):
    def __init__(
        self,
        slurm: SlurmClient,
        known_ids: Callable[[], Iterable[str]] = lambda: (),
        *,
        store: Any = None,
        fast: float = 2.0,
        normal: float = 10.0,  # unused since the markers; kept so that older settings still load
        slow: float = 60.0,
        idle_after: float = 120.0,
        history: int = 200,
        squeue_budget_seconds: float = 60.0,
        fresh_seconds: float = 10.0,
        marker_tick: float = 0.5,
        marker_dirs_per_second: float = 200.0,
    ) -> None:
        self.slurm = slurm
        self.known_ids = known_ids
        self.store = store  # the job directories (JobStore): find(id), root
        self.fast, self.slow, self.idle_after = fast, slow, idle_after
        self.history = history
        self.settle = 0.5
        self.budget = SqueueBudget(squeue_budget_seconds, fresh_seconds, min_gap=fast, idle_seconds=slow)
        self.scanner = MarkerScanner(str(self.store.root) if self.store is not None else None)
        self.marker_tick = marker_tick
        self.dirs_per_tick = max(1, int(marker_dirs_per_second * marker_tick))
        self.jobs: dict[str, Job] = {}
        self.updated: Optional[float] = None
        self.updated_mono: Optional[float] = None
        self.error: Optional[SlurmError] = None
        self.polls = 0  # squeue calls made, for tests and benchmarks
        self.confirms = 0  # sacct calls confirming a marker
        self.markers = 0  # job changes seen through markers
        self.version = 0  # bumped by every change: lets readers cache what they derive from `jobs`
        self._listeners: set[Listener] = set()
        self._last_interest = 0.0
        self._wake = asyncio.Event()
        self._watch_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._inflight: Optional[asyncio.Future[None]] = None
        self._history_loaded = False
        self._init_markers()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the squeue and marker loops (idempotent; needs a running event loop)."""
        if not self._tasks or any(task.done() for task in self._tasks):
            self.close()
            self._tasks = [asyncio.ensure_future(self._run()), asyncio.ensure_future(self._watch())]

    def close(self) -> None:
        for task in [*self._tasks, self._scan, self._confirming]:
            if task is not None:
                task.cancel()  # a scan in flight must not start a new pool after this
        self._tasks, self._scan, self._confirming = [], None, None
        self._close_markers()

    async def stop(self) -> None:
        """Cancel the loops and wait for them, for a bounded time: a Slurm command that hangs past
        its own time-out must not hang the server's shutdown too."""
        tasks = self._tasks
        self.close()
        if self._inflight is not None and not self._inflight.done():
            self._inflight.cancel()  # the squeue of a refresh in flight ends too (slurm/runner.py kills it)
            tasks = [*tasks, self._inflight]
        if tasks:
            _done, stuck = await asyncio.wait(tasks, timeout=STOP_SECONDS)
            if stuck:
                log.warning("tritonml-lab: %d job monitor task(s) did not stop within %g s", len(stuck), STOP_SECONDS)

    # -- what clients call ---------------------------------------------------------------------
    async def snapshot(self) -> list[Job]:
        """The cached jobs, newest first. Asks Slurm only when nothing is loaded, or when nobody
        listened until now and the last answer is older than ``fresh_seconds``."""
        self.start()
        was_idle = self._interest()
        if self.updated is None or (was_idle and self.budget.ask(time.monotonic(), unless_fresh=True)):
            await self.refresh()
        return sorted(self.jobs.values(), key=_sort_key, reverse=True)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Push channel: ``listener(event, payload)`` for each change; returns an unsubscribe."""
        self.start()
        self._listeners.add(listener)
        self._interest()
        return lambda: self._listeners.discard(listener)

    @property
    def listening(self) -> bool:
        """Someone is subscribed to the push channel (companions such as the live advice run only then)."""
        return bool(self._listeners)

    def publish(self, event: str, payload: dict) -> None:
        """Send an event of a companion (the live advice) to every subscriber."""
        self._emit(event, payload)

    def poke(self, *, submitted: bool = False) -> None:
        """Ask squeue soon (after a submission or a cancel), at most once per ``fast`` seconds."""
        self.start()
        self._interest()
        self.budget.ask(time.monotonic())
        self._wake.set()

    def want_fresh(self) -> None:
        """A user looks (a job's detail, the refresh button): ask squeue soon, unless its last
        answer is younger than ``fresh_seconds``."""
        self.start()
        self._interest()
        if self.budget.ask(time.monotonic(), unless_fresh=True):
            self._wake.set()

    def cancelled(self, job_id: str) -> None:
        """Our scancel of ``job_id`` (a job, an array task or a whole array) returned: slurmctld has
        the job CANCELLED now. Shown at once; sacct confirms."""
        base, _, task = job_id.partition("_")
        now, wall = time.monotonic(), time.time()
        for job in list(self.jobs.values()):
            if job.state.is_active and (job.id == job_id or (not task and job.array_job_id == base)):
                self._change(job.model_copy(update={"state": JobState.CANCELLED, "reason": None, "ended": wall}), now)
                self._confirm[job.id] = (now + CONFIRM_DELAYS[0], 0)
        self._watch_wake.set()

    async def refresh(self) -> None:
        """Ask Slurm now; concurrent callers share one call."""
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._refresh())
        inflight = self._inflight
        try:
            await asyncio.shield(inflight)
        finally:
            if self._inflight is inflight and inflight.done():
                self._inflight = None

    def status(self) -> dict:
        return {
            "updated": self.updated,
            "error": self.error.message if self.error else None,
            "interval": self.interval(),
            # The server's clock as this is sent: the browser counts time left from it, not its own.
            "server_time": time.time(),
        }

    def interval(self) -> Optional[float]:
        """Seconds between scheduled squeue calls; None while idle (nobody listening)."""
        if not self._interested(time.monotonic()):
            return None
        return self.budget.budget if self._active() else max(self.budget.budget, self.slow)

    # -- squeue, within the budget -------------------------------------------------------------
    def _interested(self, now: float) -> bool:
        return bool(self._listeners) or now - self._last_interest <= self.idle_after

    def _interest(self) -> bool:
        """Note that someone looks; wake the loops only if they were idle. Returns whether they were."""
        now = time.monotonic()
        was_idle = not self._interested(now)
        self._last_interest = now
        if was_idle:
            self._wake.set()
            self._watch_wake.set()
        return was_idle

    def _active(self) -> bool:
        return any(job.state.is_active for job in self.jobs.values())

    def _running(self) -> bool:
        """This loop is still one of ours: close() empties the list. (Python 3.11's wait_for may
        swallow a cancel that comes as its wait ends; the loop must end all the same.)"""
        return asyncio.current_task() in self._tasks

    async def _run(self) -> None:
        while self._running():
            now = time.monotonic()
            self._wake.clear()
            try:
                if not self._interested(now):
                    await self._wake.wait()
                else:
                    await asyncio.wait_for(self._wake.wait(), self.budget.due_in(now, active=self._active()))
                # Woken early (a submission, a cancel, a user looking): let a burst settle so that
                # twenty submissions in a row cost one squeue, not twenty.
                await asyncio.sleep(self.settle)
            except asyncio.TimeoutError:
                pass
            now = time.monotonic()
            if not self._interested(now) or self.budget.due_in(now, active=self._active()) > 0:
                continue
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("tritonml-lab: job monitor poll failed")

    async def _refresh(self) -> None:
        asked = time.monotonic()
        self.budget.polled(asked)
        try:
            active = await self.slurm.my_jobs()
            self.polls += 1
            seen = {job.id for job in active}
            # Jobs that left squeue (finished and aged out) and, once, our history: one sacct call.
            missing = [jid for jid, job in self.jobs.items() if jid not in seen and job.state.is_active]
            if not self._history_loaded:
                missing += [jid for jid in self.known_ids() if jid not in seen and jid not in self.jobs]
            accounted = await self.slurm.accounting(missing[: self.history * 2]) if missing else []
            self._history_loaded = True
        except SlurmError as exc:
            self.error = exc
            self._emit("status", self.status())
            raise
        self.error = None
        # sacct also answers with an older job of the same id (ids reused after a reset): not ours.
        accounted = [job for job in accounted if not _older(job, self.jobs.get(job.id))]
        changed = [merged for job in [*accounted, *active] if (merged := self._merge(job, asked))]
        answered = {job.id for job in accounted}
        for jid in missing:
            job = self.jobs.get(jid)
            if job is not None and _pending_array(job) and jid not in answered and job.state.is_active:
                # A pending array's record ("0-9" under the array's id) left squeue: its tasks were
                # split off, each listed and accounted under its own id; sacct never answers under
                # the array's id for them, so the record would stay PENDING for ever (issue 23).
                self._forget(jid)
        self._trim()
        self.version += 1
        self.updated = time.time()
        self.updated_mono = time.monotonic()
        for job in changed:
            self._emit("job", job.model_dump(mode="json"))
        self._emit("status", self.status())
        self._watch_wake.set()  # new active jobs: their directories are watched from now on

    def _merge(self, job: Job, asked: float) -> Optional[Job]:
        """Take Slurm's answer (asked at ``asked``) unless a marker knows better. Returns the job
        as stored when it changed."""
        previous = self.jobs.get(job.id)
        if previous is not None:
            marked = self._marked.get(job.id)
            if marked is not None and (marked > asked or (
                    time.monotonic() - marked < MARKER_GRACE and _rank(job.state) < _rank(previous.state))):
                return None  # the marker is newer than this answer
            if job.exit_code is None and job.signal is None and previous.exit_code is not None \
                    and job.state is previous.state:
                job = job.model_copy(update={"exit_code": previous.exit_code})  # 22.05's sacct --json has none
            if previous.runs and not job.runs:
                job = job.model_copy(update={"runs": previous.runs})  # only the markers know the runs
        self.jobs[job.id] = job
        return job if previous is None or _differs(previous, job) else None

    # -- bookkeeping ---------------------------------------------------------------------------
    def _trim(self) -> None:
        finished = [job for job in self.jobs.values() if not job.state.is_active]
        if len(finished) > self.history:
            for job in sorted(finished, key=_sort_key)[: len(finished) - self.history]:
                self._forget(job.id)
        # Directories looked up for jobs no longer listed (bounded like the jobs themselves).
        listed = {job.array_job_id or job.id for job in self.jobs.values()}
        for base in [base for base in list(self._dirs) if base not in listed]:  # list(): the scan thread adds
            self._dirs.pop(base, None)
        for jid in [jid for jid in self._start_mtimes if jid.partition("_")[0] not in listed]:
            self._start_mtimes.pop(jid, None)

    def _forget(self, job_id: str) -> None:
        gone = self.jobs.pop(job_id, None)
        self._marked.pop(job_id, None)
        self._confirm.pop(job_id, None)
        self._start_mtimes.pop(job_id, None)
        if gone is not None:  # open tabs drop its row too (they only ever hear of changes)
            self._emit("job-removed", {"id": job_id})

    def _emit(self, event: str, payload: dict) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, payload)
            except Exception:  # noqa: BLE001 - one broken client must not stop the others
                log.exception("tritonml-lab: job listener failed")


def _older(answer: Job, known: Optional[Job]) -> bool:
    """``answer`` was submitted before the job we know under its id: another job."""
    return (known is not None and answer.submitted is not None and known.submitted is not None
            and answer.submitted < known.submitted - 1)


def _pending_array(job: Job) -> bool:
    """squeue's record of a pending array's tasks not yet split off: the array's id, a task range."""
    return job.array_job_id == job.id and job.array_task_id is not None and not job.array_task_id.isdigit()


def _rank(state: JobState) -> int:
    if state in BEFORE_START:
        return 0
    return 1 if state.is_active else 2


def _differs(a: Job, b: Job) -> bool:
    keys = ("state", "reason", "nodes", "started", "ended", "expected_start", "exit_code", "signal", "elapsed",
            "runs")
    return any(getattr(a, key) != getattr(b, key) for key in keys)


def _sort_key(job: Job) -> tuple[float, int, int]:
    base, _, task = job.id.partition("_")
    return (job.submitted or 0.0, int(base) if base.isdigit() else 0, int(task) if task.isdigit() else -1)
