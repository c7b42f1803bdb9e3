"""The push channel's messages (``{base_url}tritonml/events``) as pydantic models: the one description
of what the server sends and what a tab may send, generated into ``openapi.yaml`` (components
``ServerEvent`` and ``ClientAction``) and from there into ``src/api/schema.ts``, like the REST models.

Every server message is ``{"event": NAME, "data": ...}``; ``ServerEvent`` is their union, told apart
by ``event``. ``tests/test_event_models.py`` checks that every name the server code sends is here and
that real messages of a live socket validate.
"""

from __future__ import annotations

from typing import Literal, Optional, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, RootModel
from typing_extensions import Annotated

from .api_models import JobList, Metrics, MetricsHeader, MetricsSample, MonitorStatus
from .job_service import JobView


class EventError(BaseModel):
    message: str = Field(description="what went wrong with the tab's request, for a person")


class JobRef(BaseModel):
    id: str


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricsLive(BaseModel):
    """New samples of one node of a watched job."""

    id: str
    node: str
    header: Optional[MetricsHeader]
    samples: list[MetricsSample]


class AdviceFinding(BaseModel):
    """One rule that fired (``advice/rules.py`` ``Finding``)."""

    code: str
    level: Literal["red", "low", "state"]
    text: str
    field: Optional[str] = Field(description="the job spec field it concerns")
    to: Optional[str] = Field(description="the value to ask for instead, where there is one")
    figure: str = Field(description="the measurement behind it, short")


class AdviceLive(BaseModel):
    """Sent once per running job that crossed a red flag (``advice/live.py``)."""

    id: str
    name: str
    text: str
    findings: list[AdviceFinding]
    elapsed: Optional[float] = Field(description="seconds the job had run when it was judged")


class SnapshotEvent(BaseModel):
    """On connect: my jobs and the monitor's state."""

    event: Literal["snapshot"]
    data: JobList


class JobEvent(BaseModel):
    """A job changed."""

    event: Literal["job"]
    data: JobView


class JobRemovedEvent(BaseModel):
    """The monitor no longer lists a job (a pending array's record whose tasks were split off, or old
    history past the list's length): its row goes."""

    event: Literal["job-removed"]
    data: JobRef


class StatusEvent(BaseModel):
    """The monitor's state changed (a poll, an error, the interval)."""

    event: Literal["status"]
    data: MonitorStatus


class PongEvent(BaseModel):
    """The answer to the text "ping"."""

    event: Literal["pong"]
    data: Empty


class ErrorEvent(BaseModel):
    """A tab's request could not be served; the socket stays open."""

    event: Literal["error"]
    data: EventError


class MetricsHistoryEvent(BaseModel):
    """The answer to watch-metrics: the job's samples so far (as ``GET jobs/{id}/metrics``)."""

    event: Literal["metrics-history"]
    data: Metrics


class MetricsEvent(BaseModel):
    """New samples of a watched job, as the job writes them."""

    event: Literal["metrics"]
    data: MetricsLive


class AdviceEvent(BaseModel):
    """Live advice about a running job."""

    event: Literal["advice"]
    data: AdviceLive


EVENTS = (SnapshotEvent, JobEvent, JobRemovedEvent, StatusEvent, PongEvent, ErrorEvent, MetricsHistoryEvent, MetricsEvent,
          AdviceEvent)
ServerEventUnion = Annotated[Union[EVENTS], Field(discriminator="event")]


class ServerEvent(RootModel[ServerEventUnion]):
    """Every message the server sends on the push channel."""


class ClientAction(BaseModel):
    """What a tab may send besides the text "ping": start or stop the live samples of a job."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["watch-metrics", "unwatch-metrics"]
    id: str = Field(description="a job id: JOBID or JOBID_TASK")


# The models apischema.py writes into openapi.yaml besides those of the REST endpoints.
SCHEMA_MODELS = ((ServerEvent, "serialization"), (ClientAction, "validation"))
EVENT_NAMES = frozenset(get_args(m.model_fields["event"].annotation)[0] for m in EVENTS)
