"""Background sizes and file counts: queued entries walked by worker processes.

:class:`SizeScanner` is one daemon thread that saves the cache and runs the periodic revalidation,
and either walks queued entries itself (``workers=0``) or feeds them to ``workers`` processes
(``c.TritonML.catalog_scan_workers``): :mod:`.walk` run as a script, answering one JSON line per
path.  Processes rather than threads: the walk neither holds the server's GIL nor grows its memory,
its ``stat`` calls run in parallel (what helps most on Lustre), and it runs at low priority.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Callable, List, Optional, Sequence

from . import walk
from .cache import EntryCache
from .walk import scan_tree
from .workqueue import WorkQueue

log = logging.getLogger(__name__)


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class SizeScanner:
    """Walks queued entries; results go into an :class:`EntryCache`."""

    def __init__(self, cache: EntryCache, workers: Optional[int] = None, save_interval: float = 5.0,
                 idle_callback: Optional[Callable[[], None]] = None, idle_interval: float = 60.0,
                 on_result: Optional[Callable[[str], None]] = None):
        self.cache = cache
        self.workers = default_workers() if workers is None else max(0, int(workers))
        self.save_interval = save_interval
        self.idle_callback = idle_callback
        self.idle_interval = idle_interval
        self.on_result = on_result
        self.queue = WorkQueue()
        self._thread: Optional[threading.Thread] = None
        self._workers: List[_Worker] = []
        self._worker_threads: List[threading.Thread] = []

    # -- queue ---------------------------------------------------------------------------------
    def submit(self, path: str, key: Sequence[int], priority: bool = False) -> None:
        """Walk ``path``, whose directory had ``key`` (``[mtime_ns, ctime_ns]``) when listed."""
        self.queue.submit(path, tuple(key), priority)

    def pending(self) -> int:
        return self.queue.pending()

    def is_pending(self, path: str) -> bool:
        return self.queue.is_pending(path)

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        return self.queue.wait_idle(timeout)

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self.queue.restart()
        self._thread = threading.Thread(target=self._run, name="tritonml-catalog-scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.queue.stop()
        for worker in list(self._workers):
            worker.kill()
        for thread in [self._thread, *self._worker_threads]:
            if thread is not None:
                thread.join(timeout)
        self._thread = None
        self._worker_threads = []
        self.cache.save()

    # -- scanning ------------------------------------------------------------------------------
    def _finish(self, path: str, key: tuple, result: Optional[dict]) -> None:
        if result is not None and result.get("error") != "stopped":
            # A failed walk holds for the key it was asked for, so it is not retried at every listing.
            self.cache.put_size(path, result if "key" in result else dict(result, key=list(key)))
        self.queue.finish(path, key)
        if self.on_result is not None:
            try:
                self.on_result(path)
            except Exception:  # pragma: no cover
                log.exception("catalog scanner callback failed")

    def _feed(self, worker: "_Worker") -> None:
        """One thread per worker process: it pulls the next entry as soon as its worker is free,
        so the processes stay busy whatever the sizes of the entries."""
        while not self.queue.stopped.is_set():
            item = self.queue.take(block_for=1.0)
            if item is None:
                continue
            path, key = item
            try:
                result = worker.scan(path)
            except (OSError, ValueError) as exc:
                if self.queue.stopped.is_set():
                    return
                log.warning("catalog size scan of %s failed (%s); restarting the worker", path, exc)
                result = {"error": "scan worker failed"}
                worker.kill()
            self._finish(path, key, result)  # type: ignore[arg-type]

    def _run(self) -> None:
        """Walk in this thread (workers=0) or start the worker processes; save and revalidate."""
        last_save = last_idle = time.monotonic()
        if self.workers > 0:
            self._workers = [_Worker() for _ in range(self.workers)]
            self._worker_threads = [
                threading.Thread(target=self._feed, args=(w,), name=f"tritonml-catalog-scan-{i}", daemon=True)
                for i, w in enumerate(self._workers)]
            for thread in self._worker_threads:
                thread.start()
        try:
            while not self.queue.stopped.is_set():
                if self.workers == 0:
                    item = self.queue.take(block_for=min(1.0, self.idle_interval))
                    if item is not None:
                        self._finish(item[0], item[1], scan_tree(item[0], self.queue.stopped))  # type: ignore[arg-type]
                else:   # not on the queue's condition: that wakes at every finished entry
                    self.queue.stopped.wait(min(1.0, self.save_interval))
                now = time.monotonic()
                idle = not self.pending()
                if now - last_save >= self.save_interval or idle:
                    self.cache.save()
                    last_save = now
                if self.idle_callback is not None and idle and now - last_idle >= self.idle_interval:
                    last_idle = now
                    try:
                        self.idle_callback()
                    except Exception:  # pragma: no cover
                        log.exception("catalog revalidation failed")
        finally:
            for worker in self._workers:
                worker.kill()
            self._workers = []
            self.cache.save()


class _Worker:
    """A scan worker: :mod:`.walk` run as a script by the same Python (stdlib only, so it starts
    in milliseconds and never imports the server), answering one JSON line per path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None

    def _process(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(walk.__file__), "--worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, bufsize=1, close_fds=True)
        return self._proc

    def scan(self, path: str) -> dict:
        with self._lock:
            proc = self._process()
            proc.stdin.write(json.dumps(path) + "\n")  # type: ignore[union-attr]
            line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise OSError("the scan worker exited")
        return json.loads(line)

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
