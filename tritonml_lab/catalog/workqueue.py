"""The queue behind the catalog's background work (detection threads, size workers).

Each key (an entry path) is waiting or in progress at most once, with the *token* it is wanted for
(the entry's signature): submitting the same token again is free, a new token while one is in
progress queues the key again.  Entries someone opens jump the queue.  The start time of work in
progress tells the listing which entries are not answering.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Dict, Hashable, Optional, Tuple


class WorkQueue:
    def __init__(self) -> None:
        self._queue: deque = deque()
        self._queued: Dict[str, Hashable] = {}
        self._in_flight: Dict[str, Tuple[Hashable, float]] = {}
        self.cond = threading.Condition()
        self.stopped = threading.Event()

    def submit(self, key: str, token: Hashable = None, priority: bool = False) -> None:
        with self.cond:
            flight = self._in_flight.get(key)
            if flight is not None and flight[0] == token and key not in self._queued:
                return
            if key in self._queued:
                self._queued[key] = token
                if priority:
                    self._queue.remove(key)
                    self._queue.appendleft(key)
                return
            self._queued[key] = token
            (self._queue.appendleft if priority else self._queue.append)(key)
            self.cond.notify_all()

    def take(self, block_for: float) -> Optional[Tuple[str, Hashable]]:
        """The next key and its token, or None after ``block_for`` seconds or once stopped.  A key
        whose earlier token is still in progress waits for it (no two workers on one entry)."""
        with self.cond:
            if not self._queue and not self.stopped.is_set():
                self.cond.wait(block_for)
            if self.stopped.is_set():
                return None
            for key in self._queue:
                if key not in self._in_flight:
                    self._queue.remove(key)
                    token = self._queued.pop(key)
                    self._in_flight[key] = (token, time.monotonic())
                    return key, token
            return None

    def finish(self, key: str, token: Hashable) -> None:
        with self.cond:
            flight = self._in_flight.get(key)
            if flight is not None and flight[0] == token:
                del self._in_flight[key]
            self.cond.notify_all()

    def pending(self) -> int:
        with self.cond:
            return len(self._queued) + sum(1 for k in self._in_flight if k not in self._queued)

    def is_pending(self, key: str) -> bool:
        with self.cond:
            return key in self._queued or key in self._in_flight

    def running_since(self, key: str) -> Optional[float]:
        flight = self._in_flight.get(key)
        return flight[1] if flight is not None else None

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while self._queued or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self.cond.wait(min(remaining, 1.0) if remaining is not None else 1.0)
        return True

    def stop(self) -> None:
        self.stopped.set()
        with self.cond:
            self.cond.notify_all()

    def restart(self) -> None:
        """After :meth:`stop`: work that was in progress waits again, first."""
        with self.cond:
            for key, (token, _) in self._in_flight.items():
                if key not in self._queued:
                    self._queued[key] = token
                    self._queue.appendleft(key)
            self._in_flight.clear()
            self.stopped.clear()
            self.cond.notify_all()
