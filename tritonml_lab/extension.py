"""Wiring of the server extension: read the admin settings, build the shared services, add routes."""

from __future__ import annotations

from dataclasses import dataclass

from .cluster import ClusterService
from .config import TritonML
from .slurm import SlurmClient


@dataclass
class Services:
    """What handlers reach through ``self.settings["tritonml"]``: one of each per server."""

    config: TritonML
    slurm: SlurmClient
    cluster: ClusterService


def build_services(config: TritonML) -> Services:
    slurm = SlurmClient(bin_dir=config.slurm_bin_dir or None, timeout=config.slurm_timeout)
    return Services(
        config=config,
        slurm=slurm,
        cluster=ClusterService(slurm, cache_seconds=config.cluster_cache_seconds),
    )


def load(server_app) -> None:
    from .handlers import setup_handlers

    config = TritonML(parent=server_app)
    services = build_services(config)
    web_app = server_app.web_app
    web_app.settings["tritonml"] = services
    setup_handlers(web_app)
    server_app.log.info("tritonml-lab: API registered under %stritonml/", web_app.settings["base_url"])
