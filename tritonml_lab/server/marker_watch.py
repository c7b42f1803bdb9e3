"""The job monitor's second source: the markers the batch script writes into the job directory.

``JobMonitor`` (monitor.py) polls ``squeue`` within the scheduler budget; this half of it watches the
active jobs' directories for start, requeue and exit markers (cheap stats, every ``marker_tick``,
at most ``dirs_per_tick`` directories a tick, in one thread of its own) and turns each into the job's
new state at once, then has sacct confirm how it ended. A mixin, not a part of its own: both halves
change the same job table, and a marker must win over an older squeue answer (``MARKER_GRACE``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Optional

from ..catalog.isolation import BoundedIO
from ..jobs.markers import marker_order, Marker, ended, with_run
from ..jobs.store import DirectoryNotAnswering
from ..slurm import Job, JobState, SlurmError

if TYPE_CHECKING:
    from .monitor import JobMonitor

log = logging.getLogger(__name__)

# sacct is asked this long (s) after a job's end marker, then again after each next delay, until
# slurmdbd has the end (it lags slurmctld by about a second).
CONFIRM_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
# For this long after a marker changed a job, squeue may not set it back (the script ended, but
# slurmctld still says RUNNING or COMPLETING); after it, squeue wins (a requeued job runs again).
MARKER_GRACE = 30.0
# A tick's directories are scanned by one thread of a pool of SCAN_THREADS (more join while one hangs, as
# in the job files' pool); the tick waits at most SCAN_WAIT for them.
SCAN_THREADS = 2
SCAN_TIMEOUT = 2.0
SCAN_WAIT = 1.0
ROOT_KEY = "/"  # the jobs root's listing (new job ids); never a job id
BEFORE_START = {JobState.PENDING, JobState.CONFIGURING, JobState.UNKNOWN, JobState.REQUEUED,
                JobState.REQUEUE_HOLD, JobState.REQUEUE_FED}


class _Batch:
    """Directories one pool thread scans in turn (ROOT_KEY: the jobs root's listing), and what it
    found; ``at`` is the one it is in now. Filled by the thread, taken by the event loop."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.at: Optional[str] = None
        self.abandoned = False
        self.markers: deque[Marker] = deque()
        self.new_ids: deque[str] = deque()

    def take_markers(self) -> list[Marker]:
        return [self.markers.popleft() for _ in range(len(self.markers))]

    def take_new_ids(self) -> list[str]:
        return [self.new_ids.popleft() for _ in range(len(self.new_ids))]


class MarkerWatch:
    """The marker loop of :class:`JobMonitor` (its state is set up in ``JobMonitor.__init__``)."""

    def _init_markers(self) -> None:
        self._marked: dict[str, float] = {}  # job id -> when a marker last changed it (monotonic)
        self._confirm: dict[str, tuple[float, int]] = {}  # job id -> (sacct due, attempt)
        self._confirming: Optional[asyncio.Future[None]] = None
        self._scan: Optional[asyncio.Future[Any]] = None
        self._dirs: dict[str, Optional[str]] = {}  # job id -> its directory, None: not ours
        # job id -> (run, mtime of its start marker): the file server's clock, as the exit marker's
        self._start_mtimes: dict[str, tuple[int, float]] = {}
        self._turn = 0
        self._pool: Optional[BoundedIO] = None  # made on the first scan, in the server's event loop
        self._batches = 0  # batches started (each one pool task)
        self._stalled: list[tuple[_Batch, asyncio.Future[Any]]] = []  # given up, still out
        self._suspects: set[str] = set()  # directories a batch hung in: scanned on their own until they answer
        self._alone: dict[str, tuple[_Batch, asyncio.Future[Any]]] = {}  # directory -> its own scan, out now

    async def _watch(self: JobMonitor) -> None:
        while self._running():
            now = time.monotonic()
            self._watch_wake.clear()
            if not self._interested(now) or self.store is None:
                await self._watch_wake.wait()
                continue
            try:
                await asyncio.wait_for(self._watch_wake.wait(), self.marker_tick)
            except asyncio.TimeoutError:
                pass
            if not self._interested(time.monotonic()) or not self._running():
                continue  # (closed meanwhile: no scan, no executor made after close())
            try:
                self._confirm_due()
                if self._scan is None or self._scan.done():
                    self._scan = asyncio.ensure_future(self._scan_once())
                    await asyncio.wait_for(asyncio.shield(self._scan), 5 * self.marker_tick)
            except asyncio.TimeoutError:
                pass  # a slow filesystem: the next tick goes on when this scan is back
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("tritonml-lab: job marker scan failed")

    async def _scan_once(self: JobMonitor) -> None:
        """One tick. The directories are scanned in turn by one pool thread (one hop a tick: cheap);
        a scan not back within SCAN_WAIT is given up where it is, the directory it is in (an OST that
        stopped answering) is scanned on its own from then on until it answers, and the rest go on at
        the next tick. So a hung directory holds up its own job's markers, and the others' once."""
        bases = sorted({job.array_job_id or job.id for job in self.jobs.values() if job.state.is_active})
        if len(bases) > self.dirs_per_tick:  # bounded per second: take turns
            self._turn = (self._turn + self.dirs_per_tick) % len(bases)
            bases = (bases[self._turn:] + bases[: self._turn])[: self.dirs_per_tick]
        if not self._tasks:
            return  # closed: no thread is started after close()
        if self._pool is None:
            self._pool = BoundedIO(SCAN_THREADS, SCAN_TIMEOUT, "tritonml-markers", DirectoryNotAnswering)
        held = {batch.at for batch, future in self._stalled if not future.done()}  # hung in there now
        batch = _Batch([key for key in (ROOT_KEY, *bases) if key not in self._suspects])
        self._batches += 1
        waiting = asyncio.wrap_future(self._pool.submit(f"markers:{self._batches}", self._scan_batch, batch))
        for key in self._suspects - held - set(self._alone):
            alone = _Batch([key])
            self._alone[key] = (alone, asyncio.wrap_future(self._pool.submit(f"markers:{key}", self._scan_batch, alone)))
        await asyncio.wait([waiting, *(future for _b, future in self._alone.values())], timeout=SCAN_WAIT)
        if not waiting.done():
            batch.abandoned = True  # it stops after the directory it is in; the rest: the next tick
            if batch.at is not None:
                self._suspects.add(batch.at)
            self._stalled.append((batch, waiting))
        found = [batch]
        for key, (alone, future) in list(self._alone.items()):
            if future.done():
                found.append(alone)
                del self._alone[key]
                self._suspects.discard(key)  # it answered: back with the others
        for stalled, future in list(self._stalled):
            found.append(stalled)  # what it scanned before it hung, and the rest once it is back
            if future.done():
                self._stalled.remove((stalled, future))
                self._suspects.discard(stalled.at)
        markers, new_ids = [], []
        for each in found:
            markers += each.take_markers()
            new_ids += each.take_new_ids()
        for jid in new_ids:
            self._dirs.pop(jid, None)
        self.scanner.keep_only({job.array_job_id or job.id for job in self.jobs.values()} | self._suspects)
        now = time.monotonic()
        for marker in sorted(markers, key=marker_order):
            self._on_marker(marker, now)
        if new_ids and not all(jid in self.jobs for jid in new_ids):
            self.poke(submitted=True)  # submitted elsewhere (the kernel's magics): squeue once

    def _scan_batch(self: JobMonitor, batch: "_Batch") -> None:
        """In the pool: each directory of ``batch`` in turn, until it is given up."""
        for key in batch.keys:
            if batch.abandoned:
                return
            batch.at = key
            if key == ROOT_KEY:
                batch.new_ids.extend(self.scanner.new_ids())
            else:
                batch.markers.extend(self._scan_base(key))
        batch.at = None

    def _scan_base(self: JobMonitor, base: str) -> list[Marker]:
        """In the pool: the new markers of one job's directory (found through the jobs root once)."""
        if base not in self._dirs:
            job_dir = self.store.find(base)
            self._dirs[base] = str(job_dir.path) if job_dir is not None else None
        path = self._dirs.get(base)
        return self.scanner.scan({base: path}) if path is not None else []

    def _scan_blocking(self: JobMonitor, bases: list[str], known: set[str]) -> tuple[list[Marker], list[str]]:
        """The same as one tick, in the calling thread (tests and benchmarks)."""
        new_ids = self.scanner.new_ids()
        for jid in new_ids:
            self._dirs.pop(jid, None)
        markers = [marker for base in bases for marker in self._scan_base(base)]
        self.scanner.keep_only(known)
        return sorted(markers, key=marker_order), new_ids

    def _close_markers(self) -> None:
        for batch, _future in self._stalled:
            batch.abandoned = True
        self._stalled, self._alone, self._suspects = [], {}, set()
        if self._pool is not None:
            self._pool.shutdown()  # idle threads end; one hung in a read ends when the read returns
            self._pool = None

    def _on_marker(self, marker: Marker, now: float) -> None:
        if marker.kind == "start" and marker.mtime is not None:
            known = self._start_mtimes.get(marker.job_id)
            if known is None or marker.run >= known[0]:
                self._start_mtimes[marker.job_id] = (marker.run, marker.mtime)
        job = self.jobs.get(marker.job_id)
        if job is None:
            if marker.task is None or marker.base not in self.jobs:
                return
            # A task of a pending array, not split off in squeue's last answer: its array's record.
            job = self.jobs[marker.base].model_copy(update={
                "id": marker.job_id, "array_job_id": marker.base, "array_task_id": marker.task})
        if marker.kind == "start":
            # A later run of a job that requeued itself starts after the last one (its requeue
            # marker may not have been seen: both came within one scan).
            rerun = marker.run > 0 and (job.started is None or marker.at > job.started + 1)
            if job.state not in BEFORE_START and not rerun:
                return
            update = {"state": JobState.RUNNING, "started": marker.at, "nodes": marker.nodes or job.nodes,
                      "reason": None, "expected_start": None}
            if rerun:  # the restart history: kept only for jobs that restarted
                update.update(ended=None, elapsed=None,
                              runs=with_run(job.runs, marker.run, started=marker.at, nodes=marker.nodes))
        elif marker.kind == "requeue":
            # Run k stopped for the time limit and requeued the job: pending again, not ended.
            if not job.state.is_active:
                return
            known = any(item.run == marker.run for item in job.runs)
            update = {"state": JobState.PENDING, "reason": "BeginTime",
                      "runs": with_run(job.runs, marker.run, ended=marker.at, outcome="requeued",
                                        **({} if known else {"started": job.started, "nodes": job.nodes}))}
        else:
            # The exit marker's time is its mtime (the file server's clock); it is compared with the
            # start marker's mtime (the same clock), never with the start the node wrote (issue 23:
            # a skew over 1 s dropped the exit, or called a time-out a cancel).
            start = self._start_mtimes.get(job.id)
            began = start[1] if start is not None else None
            if not job.state.is_active or (began is not None and marker.at < began - 1):
                return  # already ended, or the exit of an earlier run of a requeued job
            ran = max(0.0, marker.at - began) if began is not None else None
            # Shown on the start's clock (job.started), so that ended - started is what it ran.
            at = job.started + ran if job.started is not None and ran is not None else marker.at
            update = {**ended(marker.exit_code or 0, began, marker.at, job.time_limit),
                      "ended": at, "reason": None}
            if job.runs:
                update["runs"] = with_run(job.runs, job.runs[-1].run, ended=at,
                                           outcome=f"exit {marker.exit_code}")
            if ran is not None:
                update["elapsed"] = int(ran)
            self._confirm[job.id] = (now + CONFIRM_DELAYS[0], 0)
        self.markers += 1
        self._change(job.model_copy(update=update), now)

    def _change(self, job: Job, now: float) -> None:
        self.jobs[job.id] = job
        self._marked[job.id] = now
        self.version += 1
        self._emit("job", job.model_dump(mode="json"))

    def _confirm_due(self) -> None:
        now = time.monotonic()
        due = [jid for jid, (at, _attempt) in self._confirm.items() if at <= now]
        if due and (self._confirming is None or self._confirming.done()):
            self._confirming = asyncio.ensure_future(self._confirm_now(due))

    async def _confirm_now(self, due: list[str]) -> None:
        """One sacct (slurmdbd) for every job whose end a marker showed."""
        asked = time.monotonic()
        try:
            self.confirms += 1
            accounted = {job.id: job for job in await self.slurm.accounting(due)}
        except SlurmError:
            accounted = {}
        for jid in due:
            job, (_at, attempt) = accounted.get(jid), self._confirm.pop(jid, (0.0, 0))
            if job is not None and job.state.is_finished:
                self._marked.pop(jid, None)
                merged = self._merge(job, asked)
                if merged is not None:
                    self.version += 1
                    self._emit("job", merged.model_dump(mode="json"))
            elif attempt + 1 < len(CONFIRM_DELAYS):
                self._confirm[jid] = (time.monotonic() + CONFIRM_DELAYS[attempt + 1], attempt + 1)
