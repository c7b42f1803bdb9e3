"""The catalog's own bounded threads for blocking filesystem work, with a time-out per request.

A read under a catalog root can hang for as long as Lustre does (an unreachable OST).  Such a read
must not take a thread of the event loop's default executor, which the jobs service needs to
submit jobs, nor make every later catalog request wait.  So:

* the catalog's blocking calls run in threads of its own (:class:`Workers`): ``threads`` of them,
  plus one more for each that has been stuck longer than the time-out, up to ``4 * threads`` -- a
  few hung entries do not starve the others, and no number of them grows the server without bound;
* each request waits at most ``timeout`` seconds, then gets :class:`CatalogTimeout` (a message a
  person can act on) while the read goes on in its thread -- a thread cannot be interrupted, but
  when the filesystem answers again it finishes and the next request works;
* work is keyed (one entry, one root) and a key runs at most once at a time: asking again for an
  entry that hangs waits for the same read -- or fails at once when that read is older than the
  time-out -- instead of taking one more thread.
"""
from __future__ import annotations

import asyncio
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Tuple

from .safety import CatalogError

CAP_FACTOR = 4


class CatalogTimeout(CatalogError):
    """The filesystem under a catalog root did not answer in time (HTTP 504)."""


class Workers:
    """Daemon threads running ``serve(workers)`` -- daemons, unlike concurrent.futures' pool, so a
    read that never returns does not keep the server from exiting.  ``serve`` wraps each job in
    :meth:`job` so that stuck threads can be told apart and replaced (:meth:`ensure`)."""

    def __init__(self, name: str, threads: int, serve: Callable[["Workers"], None]):
        self.name = name
        self.threads = max(1, int(threads))
        self._serve = serve
        self._lock = threading.Lock()
        self._all: List[threading.Thread] = []
        self._busy: Dict[int, float] = {}

    def job(self) -> "_Job":
        return _Job(self)

    def alive(self) -> List[threading.Thread]:
        with self._lock:
            self._all = [t for t in self._all if t.is_alive()]
            return list(self._all)

    def stuck(self, overdue: float) -> int:
        now = time.monotonic()
        return sum(now - t > overdue for t in list(self._busy.values()))

    def ensure(self, overdue: float, queued: int) -> None:
        """Start threads for ``queued`` jobs waiting: up to ``threads`` that are not stuck (busy
        longer than ``overdue``), at most ``CAP_FACTOR * threads`` in all."""
        self.alive()
        target = min(self.threads + self.stuck(overdue), CAP_FACTOR * self.threads, len(self._busy) + queued)
        with self._lock:
            while len(self._all) < target:
                thread = threading.Thread(target=self._serve, args=(self,), daemon=True,
                                          name=f"{self.name}-{len(self._all)}")
                self._all.append(thread)
                thread.start()


class _Job:
    def __init__(self, workers: Workers):
        self._workers = workers

    def __enter__(self) -> None:
        self._workers._busy[threading.get_ident()] = time.monotonic()

    def __exit__(self, *exc: Any) -> None:
        self._workers._busy.pop(threading.get_ident(), None)


class BoundedIO:
    """``error``: the exception a request that waited its time-out gets (the catalog's
    :class:`CatalogTimeout`; the jobs service uses the pool too, for job directories)."""

    def __init__(self, threads: int = 4, timeout: float = 10.0, name: str = "tritonml-catalog-io",
                 error: type[Exception] = CatalogTimeout):
        self.timeout = float(timeout)
        self.error = error
        self.workers = Workers(name, threads, self._serve)
        self._work: "queue.SimpleQueue[Tuple[Any, Any, tuple]]" = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running: Dict[str, Tuple[Future, float]] = {}
        self._queued = 0

    def submit(self, key: str, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(*args)`` in the pool unless work with this key is already running; its future."""
        with self._lock:
            found = self._running.get(key)
            if found is not None and not found[0].done():
                return found[0]
            future: Future = Future()
            self._running[key] = (future, time.monotonic())
            self._queued += 1
        future.add_done_callback(lambda f: self._forget(key, f))
        self._work.put((future, fn, args))
        self._ensure()
        return future

    def _ensure(self) -> None:
        # A thread busy for half the time-out is taken as stuck: a request queued behind it then
        # gets a thread of its own before its own time-out.
        self.workers.ensure(self.timeout / 2, self._queued)

    def _serve(self, workers: Workers) -> None:
        while True:
            future, fn, args = self._work.get()
            if future is None:
                return
            with self._lock:
                self._queued -= 1
            if not future.set_running_or_notify_cancel():
                continue
            with workers.job():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # handed to whoever awaits it
                    future.set_exception(exc)

    def _forget(self, key: str, future: Future) -> None:
        with self._lock:
            found = self._running.get(key)
            if found is not None and found[0] is future:
                del self._running[key]

    def running_for(self, key: str) -> float:
        """Seconds the work with this key has been running (0 when none is)."""
        found = self._running.get(key)
        return time.monotonic() - found[1] if found is not None and not found[0].done() else 0.0

    async def run(self, key: str, message: str, fn: Callable[..., Any], *args: Any,
                  timeout: Optional[float] = None) -> Any:
        """Await ``fn(*args)`` for at most the time-out (or ``timeout``, counted from when the work
        with this key started); ``self.error`` (``message``) after."""
        limit = self.timeout if timeout is None else timeout
        future = self.submit(key, fn, *args)
        deadline = time.monotonic() + limit - self.running_for(key)
        waiting = asyncio.wrap_future(future)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not future.done():
                raise self.error(message)
            try:
                return await asyncio.wait_for(asyncio.shield(waiting), max(min(remaining, limit / 4), 0.001))
            except asyncio.TimeoutError:
                if not future.running():
                    self._ensure()

    def shutdown(self) -> None:
        """Let idle threads end (one that hangs in a read stays until the read returns)."""
        for _ in self.workers.alive():
            self._work.put((None, None, ()))
