"""The scheduler budget: how often one server may ask slurmctld (squeue, sinfo).

slurmctld is shared by every user of a site; hundreds of Open OnDemand sessions each asking every few
seconds add up to a load admins notice. So, per server:

- on schedule, at most once per ``budget_seconds`` (60 s), and only while someone looks;
- at once when a user asks (opens a job's detail, presses refresh), unless the answer is younger
  than ``fresh_seconds`` (10 s): a user who clicks around costs a few calls, not one per click;
- at once after a submission or a cancel, at most once per ``min_gap`` seconds (a burst of twenty
  submissions costs one squeue).

Start and end need no squeue at all: the job writes them into its directory (markers.py).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, Optional, TypeVar

T = TypeVar("T")


class SqueueBudget:
    """When the job monitor's next squeue is due (monotonic seconds; no I/O, no clock of its own)."""

    def __init__(self, budget_seconds: float = 60.0, fresh_seconds: float = 10.0, min_gap: float = 2.0,
                 idle_seconds: float = 60.0) -> None:
        self.budget = budget_seconds
        self.fresh = fresh_seconds
        self.min_gap = min_gap
        self.idle = idle_seconds  # the schedule with no active job ("slow"), never below the budget
        self.last: Optional[float] = None  # when the last squeue started
        self._asked_at: Optional[float] = None  # when an on-demand squeue was asked for

    def ask(self, now: float, *, unless_fresh: bool = False) -> bool:
        """Ask for a squeue soon; with ``unless_fresh``, only if the last is older than ``fresh``.
        Returns whether one is now due before the schedule."""
        if unless_fresh and self.last is not None and now - self.last < self.fresh:
            return False
        if self._asked_at is None:
            self._asked_at = now
        return True

    def polled(self, started: float) -> None:
        """A squeue started at ``started``: it answers every ask made before it."""
        self.last = started
        if self._asked_at is not None and self._asked_at <= started:
            self._asked_at = None

    def due_in(self, now: float, *, active: bool) -> float:
        """Seconds until the next squeue (0: now)."""
        if self.last is None:
            return 0.0
        due = self.last + (self.budget if active else max(self.budget, self.idle))
        if self._asked_at is not None:
            due = min(due, max(self._asked_at, self.last + self.min_gap))
        return max(0.0, due - now)

    @property
    def asked(self) -> bool:
        return self._asked_at is not None


class BudgetedCache(Generic[T]):
    """One answer of the scheduler shared by all tabs (the cluster summary's sinfo): asked only
    when someone wants it, then reused for ``budget_seconds``; ``get(fresh=True)`` (the refresh
    button) asks again unless the answer is younger than ``fresh_seconds``. Concurrent callers
    share one call; errors are not cached, so a recovered scheduler is seen at the next request."""

    def __init__(self, fetch: Callable[[], Awaitable[T]], budget_seconds: float = 60.0,
                 fresh_seconds: float = 10.0) -> None:
        self._fetch = fetch
        self.budget = budget_seconds
        self.fresh = min(fresh_seconds, budget_seconds)
        self._value: Optional[T] = None
        self._at = -math.inf
        self._inflight: Optional[asyncio.Future[T]] = None
        self.calls = 0  # scheduler calls made, for tests and benchmarks

    async def get(self, *, fresh: bool = False) -> T:
        age = time.monotonic() - self._at
        if self._value is not None and age < (self.fresh if fresh else self.budget):
            return self._value
        if self._inflight is None:
            self.calls += 1
            self._inflight = asyncio.ensure_future(self._fetch())
            self._inflight.add_done_callback(self._store)
        return await asyncio.shield(self._inflight)

    def _store(self, future: asyncio.Future[T]) -> None:
        self._inflight = None
        if not future.cancelled() and future.exception() is None:
            self._value = future.result()
            self._at = time.monotonic()
