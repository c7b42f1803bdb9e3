"""Background detection: a few daemon threads work through queued entries, opened ones first.

Threads, not processes: detection reads a few small files per entry and parses them with the
catalog's own code.  Daemon threads and a bounded number of them: an entry whose folder hangs holds
one thread (the listing then calls it "not responding") and the others go on.
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

from .isolation import Workers
from .workqueue import WorkQueue

log = logging.getLogger(__name__)


class Detector:
    def __init__(self, work: Callable[[str, str], None], threads: int = 4):
        self.queue = WorkQueue()
        self.workers = Workers("tritonml-catalog-detect", threads, self._serve)
        self._work = work
        self._started = False

    def submit(self, key: str, token: str = "detect", priority: bool = False) -> None:
        """``token``: ``detect`` (look again) or ``validate`` (look again only if the entry changed)."""
        self.queue.submit(key, token, priority)

    @property
    def running(self) -> bool:
        return self._started and not self.queue.stopped.is_set()

    def start(self) -> None:
        if not self.running:
            self.queue.restart()
            self._started = True
        self.workers.ensure(float("inf"), self.workers.threads)

    def keep_up(self, overdue: float) -> None:
        """Replace threads stuck for longer than ``overdue`` (within the workers' cap)."""
        if self.running:
            self.workers.ensure(overdue, self.queue.pending())

    def stop(self, timeout: float = 5.0) -> None:
        self.queue.stop()
        threads = self.workers.alive()
        for thread in threads:
            thread.join(timeout / max(1, len(threads)))

    def pending(self) -> int:
        return self.queue.pending()

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        return self.queue.wait_idle(timeout)

    def _serve(self, workers: Workers) -> None:
        while not self.queue.stopped.is_set():
            item = self.queue.take(block_for=1.0)
            if item is None:
                continue
            key, token = item
            try:
                with workers.job():
                    self._work(key, token)  # type: ignore[arg-type]
            except Exception:  # one odd entry must not stop the others
                log.exception("catalog: could not inspect %s", key)
            finally:
                self.queue.finish(key, token)
