"""GET cluster: partitions, GPUs and what is free now."""

from __future__ import annotations

from ..api_models import FreshQuery
from ..slurm import ClusterSummary
from .base import BaseHandler, endpoint


class ClusterHandler(BaseHandler):
    @endpoint(summary="Partitions, their limits and nodes, GPU types and counts, and GPUs free now.",
              description="One sinfo per c.TritonML.cluster_cache_seconds is shared by every tab.",
              response=ClusterSummary, query=FreshQuery, errors=(503,))
    async def get(self) -> None:
        self.write_model(await self.services.cluster.get(fresh=self.fresh()))
