"""The cluster summary (partitions, GPUs, free GPUs), cached so that many tabs cost one Slurm call."""

from __future__ import annotations

import asyncio
import time
from typing import Optional

from .slurm import SlurmClient
from .slurm.models import ClusterSummary


class ClusterService:
    """Single-flight, short-lived cache over :meth:`SlurmClient.cluster_summary`.

    Concurrent requests share one in-flight call; errors are not cached, so recovery after the
    scheduler comes back is seen at the next request.
    """

    def __init__(self, slurm: SlurmClient, cache_seconds: float = 10.0) -> None:
        self._slurm = slurm
        self._cache_seconds = cache_seconds
        self._value: Optional[ClusterSummary] = None
        self._at = 0.0
        self._inflight: Optional[asyncio.Future[ClusterSummary]] = None

    async def summary(self) -> ClusterSummary:
        if self._value is not None and time.monotonic() - self._at < self._cache_seconds:
            return self._value
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._slurm.cluster_summary())
            self._inflight.add_done_callback(self._store)
        return await asyncio.shield(self._inflight)

    def _store(self, future: "asyncio.Future[ClusterSummary]") -> None:
        self._inflight = None
        if not future.cancelled() and future.exception() is None:
            self._value = future.result()
            self._at = time.monotonic()
