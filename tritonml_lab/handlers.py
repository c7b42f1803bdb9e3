"""Thin Tornado handlers: one class per endpoint, one routes table. Domain logic lives elsewhere."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Optional

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from pydantic import BaseModel
from tornado import web

from .catalog import BadEntryId, CatalogError, EntryNotFound, InvalidQuery
from .extension import Services
from .slurm.errors import SchedulerUnavailable, SlurmError, SlurmOutputError, SlurmRejected

# Domain errors -> HTTP status, most specific first. The message is always one a person can act on.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (SchedulerUnavailable, 503),
    (SlurmRejected, 422),
    (SlurmOutputError, 502),
    (SlurmError, 500),
    (BadEntryId, 400),
    (InvalidQuery, 400),
    (EntryNotFound, 404),
    (CatalogError, 500),
)


def status_for(error: Exception) -> Optional[int]:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return None


def _reason(error: Exception, status: int) -> str:
    return "scheduler_unavailable" if status == 503 else type(error).__name__


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
        status = status_for(exc) if exc is not None else None
        if status is not None:
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            message = getattr(exc, "message", None) or str(exc)
            self.finish(json.dumps({"message": message, "reason": _reason(exc, status)}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[override]
        # Expected domain failures are not server bugs: one line, no traceback.
        if status_for(value) is not None and status_for(value) != 500:
            self.log.warning("tritonml-lab: %s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)


class ClusterHandler(BaseHandler):
    @web.authenticated
    async def get(self) -> None:
        self.write_model(await self.services.cluster.summary())


def _int_arg(handler: BaseHandler, name: str) -> Optional[int]:
    value = handler.get_argument(name, None)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidQuery(f"{name} must be a whole number of bytes, not {value!r}") from None


class CatalogListHandler(BaseHandler):
    @web.authenticated
    async def get(self) -> None:
        filters = {
            "kind": self.get_argument("kind", None) or None,
            "q": self.get_argument("q", None) or None,
            "tag": self.get_argument("tag", None) or None,
            "min_size": _int_arg(self, "min_size"),
            "max_size": _int_arg(self, "max_size"),
        }
        # The first listing looks at the roots' top levels (filesystem calls): off the event loop.
        listing = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.services.catalog.listing(**filters)
        )
        self.write_model(listing)


class CatalogEntryHandler(BaseHandler):
    @web.authenticated
    async def get(self, entry_id: str) -> None:
        detail = await asyncio.get_running_loop().run_in_executor(
            None, self.services.catalog.get, entry_id
        )
        self.write_model(detail)


ROUTES: list[tuple[str, type[BaseHandler]]] = [
    (r"cluster", ClusterHandler),
    (r"catalog", CatalogListHandler),
    (r"catalog/(?P<entry_id>.+)", CatalogEntryHandler),
]


def setup_handlers(web_app) -> None:
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "tritonml", path), handler) for path, handler in ROUTES]
    )
