"""One job monitor per server: it alone asks Slurm about the user's jobs.

However many tabs, panels and widgets are open, Slurm sees one ``squeue --me --json`` per interval
(plus one batched ``sacct`` when jobs leave squeue). The interval adapts: quick while something is
pending or just submitted, slower while jobs run, slow when nothing is active, and no polling at all
when nobody is listening (no push subscriber and no recent request).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Optional

from ..slurm import Job, JobState, SlurmClient, SlurmError

log = logging.getLogger(__name__)

Listener = Callable[[str, dict], None]


class JobMonitor:
    def __init__(
        self,
        slurm: SlurmClient,
        known_ids: Callable[[], Iterable[str]] = lambda: (),
        *,
        fast: float = 2.0,
        normal: float = 10.0,
        slow: float = 60.0,
        idle_after: float = 120.0,
        history: int = 200,
    ) -> None:
        self.slurm = slurm
        self.known_ids = known_ids
        self.fast, self.normal, self.slow, self.idle_after = fast, normal, slow, idle_after
        self.history = history
        self.settle = 0.5
        self.jobs: dict[str, Job] = {}
        self.updated: Optional[float] = None
        self.error: Optional[SlurmError] = None
        self.polls = 0  # squeue calls made, for tests and benchmarks
        self.version = 0  # bumped by every poll: lets readers cache what they derive from `jobs`
        self._listeners: set[Listener] = set()
        self._last_interest = 0.0
        self._last_submit = 0.0
        self._wake = asyncio.Event()
        self._task: Optional[asyncio.Task[None]] = None
        self._inflight: Optional[asyncio.Future[None]] = None
        self._history_loaded = False
        self.updated_mono: Optional[float] = None
        self._waiting_for: Optional[float] = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the polling loop (idempotent; needs a running event loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    # -- what clients call ---------------------------------------------------------------------
    async def snapshot(self) -> list[Job]:
        """The cached jobs, newest first. Asks Slurm only when nothing is loaded or the monitor was
        idle (nobody listening) until now; otherwise the cache is as fresh as the interval."""
        self.start()
        was_idle = self._interest()
        if self.updated is None or was_idle:
            await self.refresh()
        return sorted(self.jobs.values(), key=_sort_key, reverse=True)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Push channel: ``listener(event, payload)`` for each change; returns an unsubscribe."""
        self.start()
        self._listeners.add(listener)
        self._interest()
        return lambda: self._listeners.discard(listener)

    def poke(self, *, submitted: bool = False) -> None:
        """Look again soon (after a submission or a cancel)."""
        self.start()
        if submitted:
            self._last_submit = time.monotonic()
        self._last_interest = time.monotonic()
        self._wake.set()

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

    # -- internals -----------------------------------------------------------------------------
    def _interest(self) -> bool:
        """Note that someone looks; wake the loop only if it was idle. Returns whether it was."""
        was_idle = self.interval() is None
        self._last_interest = time.monotonic()
        if was_idle:
            self._wake.set()
        return was_idle

    def interval(self) -> Optional[float]:
        """Seconds until the next poll; None when idle (nobody listening)."""
        now = time.monotonic()
        if not self._listeners and now - self._last_interest > self.idle_after:
            return None
        states = {job.state for job in self.jobs.values()}
        if now - self._last_submit < 30 or states & {JobState.PENDING, JobState.CONFIGURING}:
            return self.fast
        if any(state.is_active for state in states):
            return self.normal
        return self.slow

    async def _run(self) -> None:
        while True:
            interval = self._waiting_for = self.interval()
            self._wake.clear()
            try:
                if interval is None:
                    await self._wake.wait()
                else:
                    await asyncio.wait_for(self._wake.wait(), interval)
                # Woken early (a submission, a cancel, a new listener): let a burst settle so that
                # twenty submissions in a row cost one squeue, not twenty.
                await asyncio.sleep(self.settle)
            except asyncio.TimeoutError:
                pass
            if self.interval() is None:
                continue
            if self.updated_mono is not None:  # never faster than `fast`, however often poked
                await asyncio.sleep(max(0.0, self.fast - (time.monotonic() - self.updated_mono)))
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("tritonml-lab: job monitor poll failed")

    async def _refresh(self) -> None:
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
        changed = []
        for job in [*accounted, *active]:
            previous = self.jobs.get(job.id)
            if previous is None or _differs(previous, job):
                changed.append(job)
            self.jobs[job.id] = job
        self._trim()
        self.version += 1
        self.updated = time.time()
        self.updated_mono = time.monotonic()
        for job in changed:
            self._emit("job", job.model_dump(mode="json"))
        self._emit("status", self.status())
        # A new pending job (seen by this poll) needs a quicker pace than the loop is waiting for.
        interval = self.interval()
        if interval is not None and (self._waiting_for is None or interval < self._waiting_for):
            self._wake.set()

    def status(self) -> dict:
        return {
            "updated": self.updated,
            "error": self.error.message if self.error else None,
            "interval": self.interval(),
        }

    def _trim(self) -> None:
        finished = [job for job in self.jobs.values() if not job.state.is_active]
        if len(finished) > self.history:
            for job in sorted(finished, key=_sort_key)[: len(finished) - self.history]:
                self.jobs.pop(job.id, None)

    def _emit(self, event: str, payload: dict) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, payload)
            except Exception:  # noqa: BLE001 - one broken client must not stop the others
                log.exception("tritonml-lab: job listener failed")


def _differs(a: Job, b: Job) -> bool:
    keys = ("state", "reason", "nodes", "started", "ended", "expected_start", "exit_code", "elapsed")
    return any(getattr(a, key) != getattr(b, key) for key in keys)


def _sort_key(job: Job) -> tuple[float, int, int]:
    base, _, task = job.id.partition("_")
    return (job.submitted or 0.0, int(base) if base.isdigit() else 0, int(task) if task.isdigit() else -1)
