"""Thin Tornado handlers, one module per feature, and the ONE routes table.

Each handler method declares its contract with ``@endpoint`` (base.py, contract.py);
``python -m tritonml_lab.apischema`` generates openapi.yaml from this table and those contracts.
Domain logic lives elsewhere.
"""

from __future__ import annotations

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join

from ..api_models import StartupStatus
from ..status import StatusHandler
from .base import AUTH_RESOURCE, MAX_BODY, BaseHandler, RequestTooLarge, endpoint, status_for
from .catalog import CatalogEntryHandler, CatalogImageHandler, CatalogListHandler
from .cluster import ClusterHandler
from .contract import Operation
from .events import MAX_WATCHED_METRICS, EventsHandler
from .jobs import (JobHandler, JobLogHandler, JobMetricsHandler, JobPreviewHandler, JobsHandler, JobSpreadHandler,
                   JobSuggestionHandler, MyEfficiencyHandler)
from .notebooks import NotebookJobHandler, NotebookJobsHandler, NotebookParametersHandler
from .profile import JobProfileHandler, JobProfileTraceHandler
from .sweeps import SweepHandler, SweepRetryHandler, SweepsHandler
from .tracking import TensorBoardHandler, TensorBoardsHandler, WandbSyncHandler, proxy_handler

# status.py imports nothing of the package (it must load when the rest cannot), so its contract is here.
StatusHandler.get.__api__ = Operation(  # type: ignore[attr-defined]
    summary="Whether the extension started, and if not, why (the front end shows it on every sidebar).",
    description='Registered even when the extension could not start (for example a bad c.TritonML setting). '
    'Then every other tritonml/ URL answers 500 with reason "not_started" and the message '
    '"tritonml-lab could not start: <reason> — tell your admins".',
    response=StartupStatus,
)

ROUTES: list[tuple[str, type[JupyterHandler]]] = [
    (r"status", StatusHandler),
    (r"cluster", ClusterHandler),
    (r"jobs", JobsHandler),
    (r"jobs/preview", JobPreviewHandler),
    (r"jobs/(?P<job_id>[^/]+)", JobHandler),
    (r"jobs/(?P<job_id>[^/]+)/log", JobLogHandler),
    (r"jobs/(?P<job_id>[^/]+)/metrics", JobMetricsHandler),
    (r"jobs/(?P<job_id>[^/]+)/suggestion", JobSuggestionHandler),
    (r"jobs/(?P<job_id>[^/]+)/spread", JobSpreadHandler),
    (r"jobs/(?P<job_id>[^/]+)/profile", JobProfileHandler),
    (r"jobs/(?P<job_id>[^/]+)/profile/trace", JobProfileTraceHandler),
    (r"my-efficiency", MyEfficiencyHandler),
    (r"events", EventsHandler),
    (r"catalog", CatalogListHandler),
    (r"catalog-image", CatalogImageHandler),
    (r"catalog/(?P<entry_id>.+)", CatalogEntryHandler),
    (r"notebook-jobs", NotebookJobsHandler),
    (r"notebook-jobs/(?P<job_id>[^/]+)", NotebookJobHandler),
    (r"notebook-parameters", NotebookParametersHandler),
    (r"sweeps", SweepsHandler),
    (r"sweeps/(?P<sweep_id>[^/]+)", SweepHandler),
    (r"sweeps/(?P<sweep_id>[^/]+)/retry", SweepRetryHandler),
    (r"tensorboards", TensorBoardsHandler),
    (r"tensorboards/(?P<tb_id>[^/]+)", TensorBoardHandler),
    (r"wandb-sync", WandbSyncHandler),
]

# Not JSON endpoints (their answers are TensorBoard's own pages and data), so not in ROUTES nor the schema.
TENSORBOARD_PROXY = r"tensorboard/(?P<tb_id>[0-9a-f]{16})/(?P<proxied_path>.*)"


def setup_handlers(web_app) -> None:
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "tritonml", path), handler) for path, handler in ROUTES]
    )
    try:
        proxy = proxy_handler()
    except ImportError:  # POST tensorboards says how to install the tracking extra
        return
    web_app.add_handlers(".*$", [(url_path_join(base_url, "tritonml", TENSORBOARD_PROXY), proxy)])


__all__ = [
    "AUTH_RESOURCE", "MAX_BODY", "MAX_WATCHED_METRICS", "ROUTES", "BaseHandler", "EventsHandler",
    "RequestTooLarge", "endpoint", "setup_handlers", "status_for",
]
