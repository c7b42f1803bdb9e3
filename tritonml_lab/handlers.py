"""Thin Tornado handlers: one class per endpoint, one routes table. Domain logic lives elsewhere."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from typing import Any, Optional

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.utils import url_path_join
from pydantic import BaseModel, ValidationError
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .catalog import BadEntryId, CatalogError, CatalogTimeout, EntryNotFound, InvalidQuery
from .services import Services
from .jobs import BadJobRequest, JobNotFound, JobSpec, Origin, field_errors, parse_job_id
from .jobs.launcher import JobsRootUnavailable
from .notebooks import NotebookJobRequest
from .sweeps import SweepRequest
from .slurm.errors import SchedulerUnavailable, SlurmError, SlurmOutputError, SlurmRejected
from .status import StatusHandler

# Request bodies: a job's code is at most 1 MiB (jobs/spec.py MAX_CODE), so a body over this is a
# mistake or an attack; one over the inline limit is parsed in a worker thread, off the event loop.
MAX_BODY = 4 << 20
_PARSE_INLINE = 64 << 10
# One tab follows the live charts of a few jobs; more from one socket is a runaway client.
MAX_WATCHED_METRICS = 32
# The resource Jupyter's Authorizer is asked about: "read" for GET, "write" for POST and DELETE.
AUTH_RESOURCE = "tritonml"


class RequestTooLarge(BadJobRequest):
    pass


# Domain errors -> HTTP status, most specific first. The message is always one a person can act on.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (RequestTooLarge, 413),
    (JobsRootUnavailable, 507),
    (SchedulerUnavailable, 503),
    (SlurmRejected, 422),
    (SlurmOutputError, 502),
    (SlurmError, 500),
    (BadJobRequest, 400),
    (JobNotFound, 404),
    (BadEntryId, 400),
    (InvalidQuery, 400),
    (EntryNotFound, 404),
    (CatalogTimeout, 504),
    (CatalogError, 500),
)


def _decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadJobRequest("The request body is not UTF-8 text; send JSON encoded as UTF-8.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadJobRequest(f"The request body is not JSON: {exc}") from None


def status_for(error: Exception) -> Optional[int]:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return None


def _reason(error: Exception, status: int) -> str:
    return "scheduler_unavailable" if status == 503 else type(error).__name__


class BaseHandler(APIHandler):
    """Authenticated, authorized JSON handler that turns domain errors into JSON answers."""

    auth_resource = AUTH_RESOURCE

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

    async def json_object(self, what: str) -> dict[str, Any]:
        """The body as a JSON object, or a 400/413 that says what was wrong; ``what`` describes the
        object expected. Big bodies are decoded in a worker thread."""
        body = self.request.body or b"{}"
        if len(body) > MAX_BODY:
            raise RequestTooLarge(f"The request body is {len(body):,} bytes; at most {MAX_BODY:,} are accepted.")
        if len(body) > _PARSE_INLINE:
            value = await asyncio.get_running_loop().run_in_executor(None, _decode_json, body)
        else:
            value = _decode_json(body)
        if not isinstance(value, dict):
            raise BadJobRequest(f"The request body must be {what}.")
        return value

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        status = status_for(exc) if exc is not None else None
        if isinstance(exc, ValidationError):
            errors = field_errors(exc)
            self.set_status(400)
            self.set_header("Content-Type", "application/json")
            summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            self.finish(json.dumps({"message": f"Invalid job: {summary}", "reason": "invalid", "errors": errors}))
            return
        if status is not None:
            self.set_status(status)
            self.set_header("Content-Type", "application/json")
            message = getattr(exc, "message", None) or str(exc)
            self.finish(json.dumps({"message": message, "reason": _reason(exc, status)}))
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[override]
        # Expected domain failures are not server bugs: one line, no traceback.
        if isinstance(value, ValidationError) or status_for(value) not in (None, 500):
            self.log.warning("tritonml-lab: %s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)


class ClusterHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        # ?fresh=1: the refresh button; sinfo again unless the summary is younger than scheduler_fresh_seconds.
        self.write_model(await self.services.cluster.get(fresh=_fresh(self)))


def _fresh(handler: BaseHandler) -> bool:
    return handler.get_argument("fresh", "") in ("1", "true")


def _int_arg(handler: BaseHandler, name: str, error: type[Exception] = InvalidQuery) -> Optional[int]:
    value = handler.get_argument(name, None)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise error(f"{name} must be a whole number, not {value!r}") from None


class CatalogListHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        filters = {
            "kind": self.get_argument("kind", None) or None,
            "q": self.get_argument("q", None) or None,
            "tag": self.get_argument("tag", None) or None,
            "min_size": _int_arg(self, "min_size"),
            "max_size": _int_arg(self, "max_size"),
        }
        # Filesystem calls run in the catalog's own bounded pool, with a time-out (never the default
        # executor, which job submission needs).
        self.write_model(await self.services.catalog.listing_async(**filters))


class CatalogEntryHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, entry_id: str) -> None:
        self.write_model(await self.services.catalog.get_async(entry_id))


class CatalogImageHandler(BaseHandler):
    """An image a catalog README shows by a relative path (the README renders in the sidebar)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        entry_id, path = self.get_argument("id", ""), self.get_argument("path", "")
        data, mime = await self.services.catalog.readme_image_async(entry_id, path)
        self.set_header("X-Content-Type-Options", "nosniff")
        # An SVG opened on its own must not run scripts with the server's origin.
        self.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        self.set_header("Cache-Control", "private, max-age=300")
        self.finish(data, set_content_type=mime)


_JOB_FIELDS = "a JSON object of job fields"


def _spec_and_origin(body: dict[str, Any]) -> tuple[JobSpec, Origin]:
    body = dict(body)
    origin = Origin.model_validate(body.pop("origin", None) or {"kind": "api"})
    return JobSpec.model_validate(body), origin


class JobsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        if _fresh(self):  # the refresh button: squeue, within the budget
            self.services.jobs.monitor.want_fresh()
        self.set_header("Content-Type", "application/json")
        self.finish(await self.services.jobs.list_json())

    @web.authenticated
    @authorized
    async def post(self) -> None:
        spec, origin = _spec_and_origin(await self.json_object(_JOB_FIELDS))
        job = await self.services.jobs.submit(spec, origin)
        self.set_header("Location", url_path_join(self.base_url, "tritonml", "jobs", job.id))
        self.write_model(job, status=201)


class JobPreviewHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        spec, origin = _spec_and_origin(await self.json_object(_JOB_FIELDS))
        self.write_model(self.services.jobs.preview(spec, origin))


class JobHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.write_model(await self.services.jobs.detail(job_id))

    @web.authenticated
    @authorized
    async def delete(self, job_id: str) -> None:
        self.write_model(await self.services.jobs.cancel(job_id))


class JobMetricsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        max_points = _int_arg(self, "max_points", BadJobRequest) or 3600
        history = await asyncio.get_running_loop().run_in_executor(
            None, self.services.jobs.metrics_history, job_id, max_points
        )
        self.write_model(history)


class JobLogHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        stream = self.get_argument("stream", "stdout")
        offset = _int_arg(self, "offset", BadJobRequest) or 0
        limit = _int_arg(self, "limit", BadJobRequest) or 64 * 1024
        chunk = await asyncio.get_running_loop().run_in_executor(
            None, self.services.jobs.read_log, job_id, stream, offset, limit
        )
        self.write_model(chunk)


class EventsHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """The push channel: one WebSocket per tab, job changes from the one shared monitor."""

    # Server-side pings (jupyter_server's loop, started by WebSocketMixin.open): a tab that vanished
    # without a close frame (killed browser, closed laptop) is closed after 15 s without a pong, about
    # 35 s at worst, and its subscription with it, so the monitor stops. Milliseconds; jupyter_server's
    # defaults (30 s, 90 s) are too slow. Timeout == interval keeps tornado, which reads the same names
    # in seconds for its own unused loop, from warning.
    ping_interval = 15_000
    ping_timeout = 15_000

    @property
    def services(self) -> Services:
        return self.settings["tritonml"]

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if self.current_user is None:
            raise web.HTTPError(403)
        if not await ensure_async(self.authorizer.is_authorized(self, self.current_user, "read", AUTH_RESOURCE)):
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    async def open(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().open(*args, **kwargs)  # WebSocketMixin: starts the ping loop
        monitor = self.services.jobs.monitor
        jobs = await self.services.jobs.list()
        # Snapshot first, then changes: no await between the two, so nothing falls in between.
        self._send("snapshot", {"jobs": [job.model_dump(mode="json") for job in jobs], **monitor.status()})
        self._unsubscribe = monitor.subscribe(self._send)

    def on_message(self, message: str | bytes) -> None:
        """"ping" keeps proxies (Open OnDemand) from closing an idle socket; JSON actions
        {"action": "watch-metrics"|"unwatch-metrics", "id": JOBID} start and stop live GPU samples."""
        if message == "ping":
            self._send("pong", {})
            return
        try:
            request = json.loads(message)
            action, job_id = request["action"], str(request["id"])
            parse_job_id(job_id)
        except (ValueError, KeyError, TypeError, BadJobRequest) as exc:
            self._send("error", {"message": f"Unknown request on the events channel: {exc}"})
            return
        watching = self.__dict__.setdefault("_metrics", {})
        if action == "watch-metrics" and job_id not in watching:
            if len(watching) >= MAX_WATCHED_METRICS:
                self._send("error", {"message": f"One tab follows the charts of at most {MAX_WATCHED_METRICS} "
                                                "jobs at once; close some first."})
                return
            try:
                past, watching[job_id] = self.services.jobs.metrics.watch(job_id, self._send)
            except Exception as exc:  # noqa: BLE001 - answer the client instead of dropping the socket
                self._send("error", {"message": str(exc)})
                return
            self._send("metrics-history", {"id": job_id, **past})
        elif action == "unwatch-metrics" and job_id in watching:
            watching.pop(job_id)()

    def on_close(self) -> None:
        if getattr(self, "ping_callback", None) is not None:
            self.ping_callback.stop()
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe:
            unsubscribe()
            self._unsubscribe = None
        for unwatch in self.__dict__.pop("_metrics", {}).values():
            unwatch()

    def _send(self, event: str, data: dict) -> None:
        if event == "job":
            data = self.services.jobs.view_dict(data)
        try:
            self.write_message(json.dumps({"event": event, "data": data}))
        except WebSocketClosedError:
            self.on_close()


class NotebookJobsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = await self.json_object("a JSON object with path, parameters, kernel and job fields")
        job = await self.services.notebooks.submit(NotebookJobRequest.model_validate(body))
        self.set_header("Location", url_path_join(self.base_url, "tritonml", "notebook-jobs", job.id))
        self.write_model(job, status=201)


class NotebookJobHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        self.write_model(await self.services.notebooks.status(job_id))


class NotebookParametersHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        path = self.get_argument("path", "")
        if not path:
            raise BadJobRequest("Give the notebook's path: ?path=dir/notebook.ipynb")
        self.write_model(await self.services.notebooks.parameters(path))


class SweepsHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        sweeps = self.services.sweeps
        job = self.get_argument("job", None) or None  # ?job=ID: the sweep this array job belongs to
        listing = await asyncio.get_running_loop().run_in_executor(None, partial(sweeps.listing, job=job))
        self.write_model({"sweeps": listing})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = await self.json_object("a JSON object with code, grid or random, and job fields")
        origin = Origin.model_validate(body.pop("origin", None) or {"kind": "api"})
        sweep = await self.services.sweeps.submit(SweepRequest.model_validate(body), origin)
        self.set_header("Location", url_path_join(self.base_url, "tritonml", "sweeps", sweep.id))
        self.write_model(sweep, status=201)


class SweepHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def get(self, sweep_id: str) -> None:
        self.write_model(await self.services.sweeps.view(sweep_id))

    @web.authenticated
    @authorized
    async def delete(self, sweep_id: str) -> None:
        self.write_model(await self.services.sweeps.cancel(sweep_id))


class SweepRetryHandler(BaseHandler):
    @web.authenticated
    @authorized
    async def post(self, sweep_id: str) -> None:
        body = await self.json_object('a JSON object: {} or {"indices": [...], "time": ...}')
        indices = body.pop("indices", None)
        if indices is not None and (
            not isinstance(indices, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices)
        ):
            raise BadJobRequest("indices must be a list of task indices (whole numbers)")
        self.write_model(await self.services.sweeps.retry(sweep_id, indices=indices, overrides=body))


ROUTES: list[tuple[str, type[JupyterHandler]]] = [
    (r"status", StatusHandler),
    (r"cluster", ClusterHandler),
    (r"jobs", JobsHandler),
    (r"jobs/preview", JobPreviewHandler),
    (r"jobs/(?P<job_id>[^/]+)", JobHandler),
    (r"jobs/(?P<job_id>[^/]+)/log", JobLogHandler),
    (r"jobs/(?P<job_id>[^/]+)/metrics", JobMetricsHandler),
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
]


def setup_handlers(web_app) -> None:
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$", [(url_path_join(base_url, "tritonml", path), handler) for path, handler in ROUTES]
    )
