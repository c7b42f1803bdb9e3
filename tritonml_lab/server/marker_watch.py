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
# Directories are scanned by SCAN_THREADS threads (more join while one hangs, as in the job files'
# pool); a tick waits at most SCAN_WAIT for its scans, and those not back are collected by a later one.
SCAN_THREADS = 2
SCAN_TIMEOUT = 2.0
SCAN_WAIT = 1.0
ROOT_KEY = "/"  # the jobs root's listing (new job ids); never a job id
BEFORE_START = {JobState.PENDING, JobState.CONFIGURING, JobState.UNKNOWN, JobState.REQUEUED,
                JobState.REQUEUE_HOLD, JobState.REQUEUE_FED}


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
        self._scans: dict[str, asyncio.Future[Any]] = {}  # directory (job id, or the root) -> its scan

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
        """One tick: each directory scanned in the pool on its own, so that one that hangs (an OST that
        stopped answering) holds up its own job's markers only; its scan is collected when it is back."""
        bases = sorted({job.array_job_id or job.id for job in self.jobs.values() if job.state.is_active})
        if len(bases) > self.dirs_per_tick:  # bounded per second: take turns
            self._turn = (self._turn + self.dirs_per_tick) % len(bases)
            bases = (bases[self._turn:] + bases[: self._turn])[: self.dirs_per_tick]
        if not self._tasks:
            return  # closed: no thread is started after close()
        if self._pool is None:
            self._pool = BoundedIO(SCAN_THREADS, SCAN_TIMEOUT, "tritonml-markers", DirectoryNotAnswering)
        for key in [ROOT_KEY, *bases]:
            if key not in self._scans:  # one scan at a time per directory: a hung one is not stacked
                work = (self.scanner.new_ids,) if key == ROOT_KEY else (self._scan_base, key)
                self._scans[key] = asyncio.wrap_future(self._pool.submit(f"markers:{key}", *work))
        await asyncio.wait(list(self._scans.values()), timeout=SCAN_WAIT)
        markers, new_ids = [], []
        for key, future in list(self._scans.items()):
            if not future.done():
                continue
            del self._scans[key]
            if future.cancelled() or future.exception() is not None:
                continue
            if key == ROOT_KEY:
                new_ids = future.result()
            else:
                markers += future.result()
        for jid in new_ids:
            self._dirs.pop(jid, None)
        self.scanner.keep_only({job.array_job_id or job.id for job in self.jobs.values()} | set(self._scans))
        now = time.monotonic()
        for marker in sorted(markers, key=marker_order):
            self._on_marker(marker, now)
        if new_ids and not all(jid in self.jobs for jid in new_ids):
            self.poke(submitted=True)  # submitted elsewhere (the kernel's magics): squeue once

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
        for future in self._scans.values():
            future.cancel()
        self._scans = {}
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
