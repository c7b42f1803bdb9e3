"""Running coroutines (the async Slurm client, the sweep and notebook services) from synchronous
magics: the kernel's own event loop is busy running the cell, so they run on a loop of their own in
one daemon thread, started on first use and shared by every magic of this kernel."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, Optional


class Loop:
    def __init__(self) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._lock = threading.Lock()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: Optional[float] = None):
        """The coroutine's result; its exception, or TimeoutError after ``timeout`` seconds."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="tritonml-slurm", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)


_loop = Loop()


def run(coro: Coroutine[Any, Any, Any], timeout: Optional[float] = None):
    """Run ``coro`` on the kernel's one background loop and wait for it."""
    return _loop.run(coro, timeout)
