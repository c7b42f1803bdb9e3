"""Thin Tornado handlers: one class per endpoint, one routes table. Domain logic lives elsewhere."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from pydantic import BaseModel
from tornado import web

from .extension import Services
from .slurm.errors import SchedulerUnavailable, SlurmError, SlurmOutputError, SlurmRejected

# Domain errors -> HTTP status. The message is always one a person can act on.
_STATUS = (
    (SchedulerUnavailable, 503),
    (SlurmRejected, 422),
    (SlurmOutputError, 502),
)


def status_for(error: SlurmError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


class BaseHandler(APIHandler):
    """Authenticated JSON handler that turns domain errors into JSON answers."""

    @property
    def services(self) -> Services:
        return self.settings["tritonml"]

    def write_model(self, model: BaseModel | Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        if isinstance(model, BaseModel):
            self.finish(model.model_dump_json())
        else:
            self.finish(json.dumps(model))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, SlurmError):
            status = status_for(exc)
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            reason = "scheduler_unavailable" if status == 503 else type(exc).__name__
            self.finish(json.dumps({"message": exc.message, "reason": reason}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[override]
        # Expected domain failures are not server bugs: one line, no traceback.
        if isinstance(value, SlurmError):
            self.log.warning("tritonml-lab: %s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)


class ClusterHandler(BaseHandler):
    @web.authenticated
    async def get(self) -> None:
        self.write_model(await self.services.cluster.summary())


ROUTES: list[tuple[str, type[BaseHandler]]] = [
    (r"cluster", ClusterHandler),
]


def setup_handlers(web_app) -> None:
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "tritonml", path), handler) for path, handler in ROUTES]
    )
