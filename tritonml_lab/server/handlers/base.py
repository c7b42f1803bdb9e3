"""The base of every JSON handler: authentication, the contract decorator, bodies and queries
validated into pydantic models, and domain errors mapped to HTTP answers of one shape.

A body is parsed into the model its method documents (``@endpoint(body=...)``, :meth:`BaseHandler.body`),
so the API description and the parsing cannot differ. The user's mistakes arrive here as domain
errors (``InvalidRequest`` with its errors per field: 400); a pydantic ``ValidationError`` that gets
here came from a model the server built itself, which is a bug: a logged 500, not the user's fault."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable, Optional, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from pydantic import BaseModel, ValidationError
from tornado import web

from ..api_models import ErrorBody
from ...catalog import BadEntryId, CatalogError, CatalogTimeout, EntryNotFound, InvalidQuery
from ...jobs import BadJobRequest, JobNotFound, field_errors
from ...jobs.errors import InvalidRequest
from ...jobs.spec import parse
from ...jobs.launcher import JobsRootUnavailable
from ..services import Services
from ...slurm.errors import SchedulerUnavailable, SlurmError, SlurmOutputError, SlurmRejected
from .contract import Operation

# Request bodies: a job's code is at most 1 MiB (jobs/spec.py MAX_CODE), so a body over this is a
# mistake or an attack; one over the inline limit is parsed in a worker thread, off the event loop.
MAX_BODY = 4 << 20
_PARSE_INLINE = 64 << 10
# The resource Jupyter's Authorizer is asked about: "read" for GET, "write" for POST and DELETE.
AUTH_RESOURCE = "tritonml"

M = TypeVar("M", bound=BaseModel)


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


def endpoint(**contract: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Authenticated, authorized, and documented: ``contract`` is an :class:`Operation`'s fields
    (summary, response, status, body, query, errors...), which openapi.yaml is generated from."""
    operation = Operation(**contract)

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = web.authenticated(authorized(method))
        wrapped.__api__ = operation  # type: ignore[attr-defined]
        return wrapped

    return wrap


def _decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadJobRequest("The request body is not UTF-8 text; send JSON encoded as UTF-8.") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadJobRequest(f"The request body is not JSON: {exc}") from None


def status_for(error: Exception) -> Optional[int]:
    if isinstance(error, ValidationError):  # never the user's: see the module's docstring
        return None
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return None


def _reason(error: Exception, status: int) -> str:
    if isinstance(error, InvalidRequest):
        return "invalid"
    return "scheduler_unavailable" if status == 503 else type(error).__name__


INTERNAL_ERROR = "The server failed on this request (an error of its own, written to its log); please report it."


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

    def fresh(self) -> bool:
        """?fresh=1: the refresh button; ask Slurm again unless its answer is only seconds old."""
        return self.get_argument("fresh", "") in ("1", "true")

    def query(self, model: type[M], error: type[Exception] = InvalidQuery) -> M:
        """The query string validated into ``model`` (empty values count as absent); ``error`` with
        a message per parameter when it does not fit."""
        given = {name: self.get_argument(name) for name in model.model_fields if self.get_argument(name, "")}
        try:
            return model.model_validate(given)
        except ValidationError as exc:
            problems = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors(exc))
            raise error(f"Invalid query parameter: {problems}") from None

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

    async def body(self, what: str, *, with_defaults: bool = True) -> Any:
        """The JSON body parsed into the model this method documents (``@endpoint(body=...)``), with the
        admin's defaults applied first unless ``with_defaults`` is False (a body of changes to a spec
        validated as a whole later); InvalidRequest (400, per field) or 413 when it does not fit.
        ``what`` describes the object expected."""
        method = getattr(type(self), self.request.method.lower())
        operation = getattr(method, "__api__", None)
        if operation is None or operation.body is None:
            raise TypeError(f"{type(self).__name__}.{self.request.method.lower()} documents no body")
        given = await self.json_object(what)
        return parse(operation.body, given, self.services.defaults if with_defaults else None)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        status = status_for(exc) if exc is not None else None
        if isinstance(exc, ValidationError):  # a model the server built: its bug, logged in log_exception
            body = ErrorBody(message=INTERNAL_ERROR, reason="internal")
            self.set_status(500)
        elif status is not None:
            message = getattr(exc, "message", None) or str(exc)
            errors = field_errors(exc) if isinstance(exc, InvalidRequest) else None
            body = ErrorBody(message=message, reason=_reason(exc, status), errors=errors)
            self.set_status(status)
        else:
            super().write_error(status_code, **kwargs)
            return
        self.set_header("Content-Type", "application/json")
        self.finish(body.model_dump_json(exclude_none=True))

    def log_exception(self, typ, value, tb) -> None:  # type: ignore[override]
        # Expected domain failures are not server bugs: one line, no traceback.
        if status_for(value) not in (None, 500):
            self.log.warning("tritonml-lab: %s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)
