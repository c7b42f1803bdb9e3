"""GET cluster: partitions, GPUs and what is free now."""

from __future__ import annotations

from ..api_models import ClusterView, FreshQuery, JobDefaults
from .base import BaseHandler, endpoint


class ClusterHandler(BaseHandler):
    @endpoint(summary="Partitions, their limits and nodes, GPU types and counts, and GPUs free now.",
              description="One sinfo per c.TritonML.cluster_cache_seconds is shared by every tab.",
              response=ClusterView, query=FreshQuery, errors=(503,))
    async def get(self) -> None:
        summary = await self.services.cluster.get(fresh=self.fresh())
        d = self.services.defaults
        defaults = JobDefaults(partition=d.partition, time=d.time, cpus_per_task=d.cpus_per_task, mem=d.mem)
        self.write_model(ClusterView(**dict(summary), job_defaults=defaults))
