"""What each endpoint promises: the request and response models next to the handler method.

A handler method declares its contract with ``@endpoint(...)`` (handlers/base.py), which stores an
:class:`Operation` as the method's ``__api__``. ``tritonml_lab/apischema.py`` walks the routes table
and these operations to write ``openapi.yaml``; the TypeScript types are generated from that file.
No Tornado here: the generator and the tests read these without a server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Union

from pydantic import BaseModel

# The one error shape (api_models.ErrorBody); what each status means, unless an operation says more.
ERROR_MEANINGS: dict[int, str] = {
    400: "The request is invalid; nothing was done",
    403: "Not authenticated or not authorized",
    404: "No such job, sweep, notebook or entry",
    413: "The request body is over 4 MiB; nothing was done",
    422: "Slurm refused the job; the message is Slurm's own; nothing was submitted",
    500: "An error of the server or of a Slurm command",
    502: "A Slurm command answered something that could not be read",
    503: "The scheduler cannot be reached (reason: scheduler_unavailable)",
    504: "The shared filesystem under a catalog root did not answer within c.TritonML.catalog_timeout "
         "(reason: CatalogTimeout); other entries and jobs are not affected",
    507: "The jobs directory cannot be written (full, over quota, read-only); nothing was submitted",
}

# Path parameters by the name of their group in the route's pattern.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "job_id": {"description": "Slurm job id, or ARRAYID_TASK for an array task.",
               "schema": {"type": "string", "pattern": "^[0-9]{1,12}(_[0-9]{1,7})?$"}},
    "sweep_id": {"description": "The sweep id (its first array job's id).",
                 "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}},
    "entry_id": {"description": "'<root label>/<relative path>'", "schema": {"type": "string"}},
}


@dataclass(frozen=True)
class Operation:
    """One method of one route.

    ``response``: the model of the success answer's JSON (None: no JSON body, see ``content``);
    ``body``: the model the JSON request body is validated into; ``query``: a model whose fields are
    the query parameters (handlers parse the query with it too); ``errors``: the error statuses it may
    answer, each with the one error shape (a mapping gives a more precise meaning than ERROR_MEANINGS).
    """

    summary: str
    response: Optional[type[BaseModel]] = None
    status: int = 200
    body: Optional[type[BaseModel]] = None
    body_required: bool = True
    query: Optional[type[BaseModel]] = None
    errors: Union[tuple[int, ...], Mapping[int, str]] = ()
    description: Optional[str] = None
    # Answers that are not JSON (an image, a WebSocket upgrade): status -> (meaning, media types).
    other_responses: Mapping[int, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def error_meanings(self) -> dict[int, str]:
        given = self.errors if isinstance(self.errors, Mapping) else {s: ERROR_MEANINGS[s] for s in self.errors}
        return {status: given[status] for status in sorted(given)}


def operation_of(method: Callable[..., Any]) -> Optional[Operation]:
    return getattr(method, "__api__", None)
