"""Models that exist only to describe the REST API: the error shape, list wrappers, query parameters
and request bodies that add ``origin`` to a domain model. The domain's own models (JobSpec, JobDetail,
SweepView, ...) are used as they are; openapi.yaml is generated from both (apischema.py).

No Tornado here: the handlers validate queries into these, the generator and the tests read them.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..jobs import JobSpec, Origin
from ..jobs.spec import compose
from ..slurm import ClusterSummary
from ..sweeps import SweepRequest
from .job_service import JobView


def _required(*names: str):
    def fix(schema: dict[str, Any]) -> None:
        schema["required"] = list(names)
    return fix


# -- errors ----------------------------------------------------------------------------------------
class FieldError(BaseModel):
    field: str = Field(description='the request key, dotted for nested ones ("random.n")')
    message: str


class ErrorBody(BaseModel):
    """The JSON body of every error answer; ``message`` says what to do."""

    model_config = ConfigDict(json_schema_extra=_required("message"))

    message: str
    reason: Optional[str] = Field(None, description='"invalid", "scheduler_unavailable", "not_started", "internal" or the error\'s kind')
    errors: Optional[list[FieldError]] = Field(None, description="per field, for an invalid request")


# -- status and jobs -------------------------------------------------------------------------------
class StartupStatus(BaseModel):
    ok: bool = Field(description="true when the extension started")
    version: str
    reason: Optional[str] = Field(description="why it could not start; null when ok")


class JobRequest(JobSpec):
    """``POST jobs`` and ``POST jobs/preview``: a JobSpec, and where it came from."""

    origin: Optional[Origin] = None

    def split(self) -> tuple[JobSpec, Origin]:
        """The spec (its values as checked, not again) and the origin (default: the API)."""
        return compose(JobSpec, self), self.origin or Origin(kind="api")


class MonitorStatus(BaseModel):
    """The shared job monitor's state (the events channel's "status")."""

    updated: Optional[float] = Field(description="when the monitor last heard from Slurm (epoch s)")
    error: Optional[str] = Field(description="why the last poll failed (scheduler down), or null")
    interval: Optional[float] = Field(description="seconds between polls now; null when idle")
    server_time: Optional[float] = Field(None, description="the server's clock when this was sent (epoch s): "
                                         "time left before a job's limit is counted from it, not the browser's clock")


class JobList(MonitorStatus):
    """``GET jobs`` (and the events channel's "snapshot")."""

    jobs: list[JobView]


class JobDefaults(BaseModel):
    """What a job gets for a resource it leaves out: the admin's c.TritonML.default_* (null: Slurm's own)."""

    partition: Optional[str] = None
    time: Optional[str] = None
    cpus_per_task: Optional[int] = None
    mem: Optional[str] = None


class ClusterView(ClusterSummary):
    """``GET cluster``: the cluster, and the admin's job defaults the dialogs show as "default"."""

    job_defaults: JobDefaults = Field(default_factory=JobDefaults)


class FreshQuery(BaseModel):
    fresh: Optional[Literal["1", "true"]] = Field(
        None, description="the refresh button: ask Slurm now unless its last answer is younger than "
        "c.TritonML.scheduler_fresh_seconds")


class ReportQuery(BaseModel):
    days: int = Field(30, ge=1, le=366, description="the report covers jobs of the last this many days")
    fresh: Optional[Literal["1", "true"]] = Field(None, description="ask sacct again instead of the cached report")


class LogQuery(BaseModel):
    stream: Literal["stdout", "stderr"] = "stdout"
    offset: int = Field(0, ge=0, description="the byte to start at: the previous chunk's offset")
    limit: int = Field(64 * 1024, ge=0, description="bytes at most (capped at 1 MiB; 0: the default)")


class MetricsQuery(BaseModel):
    max_points: int = Field(3600, ge=0, description="samples per node at most, about (10 to 20000; 0: the default)")


# -- live metrics (the sampler's compact format, tritonml_lab/injob/sampler.py) --------------------
class MetricsGpu(BaseModel):
    model_config = ConfigDict(extra="allow")

    i: int
    uuid: Optional[str] = None
    name: Optional[str] = None
    mt: Optional[float] = Field(None, description="memory total, MiB")
    pl: Optional[float] = Field(None, description="power limit, W")
    smax: Optional[float] = Field(None, description="max SM clock, MHz")
    bus: Optional[str] = None


class MetricsHeader(BaseModel):
    """The sampler's header line: what it watches and with what (it may add fields)."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_required("src", "gpus"))

    src: Literal["nvml", "nvidia-smi", "none"]
    gpus: list[MetricsGpu]
    host: Optional[str] = None
    iv: Optional[float] = Field(None, description="sampling interval, s")
    t0: Optional[float] = None
    cores: Optional[float] = Field(None, description="CPUs the job may use on this node")
    memt: Optional[float] = Field(None, description="memory of the node, MiB")
    driver: Optional[str] = None
    cols: Optional[list[str]] = None


class MetricsSample(BaseModel):
    """t (unix s); g per GPU [util %, memory MiB, power W, temp C, SM MHz(, util max)]; c CPU cores;
    r RSS MiB. Downsampled rows add d (bucket s), n (samples) and cx (max cores)."""

    model_config = ConfigDict(json_schema_extra=_required("t"))

    t: float
    g: Optional[list[list[Optional[float]]]] = None
    c: Optional[float] = None
    r: Optional[float] = None
    d: Optional[float] = None
    n: Optional[int] = None
    cx: Optional[float] = None


class MetricsNode(BaseModel):
    header: Optional[MetricsHeader]
    samples: list[MetricsSample]
    ended: bool


class Metrics(BaseModel):
    """``GET jobs/{id}/metrics`` and the events channel's "metrics-history": per node, downsampled."""

    id: str
    nodes: dict[str, MetricsNode]
    error: Optional[str] = Field(None, description='"directory not answering" when the job\'s directory did not '
                                 "answer in time (the events channel's history; its samples follow once it does)")


# -- catalog ---------------------------------------------------------------------------------------
class CatalogQuery(BaseModel):
    kind: Optional[Literal["model", "dataset"]] = None
    q: Optional[str] = Field(None, description="words in the name, description or tags")
    tag: Optional[str] = None
    min_size: Optional[int] = Field(None, description="bytes")
    max_size: Optional[int] = Field(None, description="bytes")


class CatalogImageQuery(BaseModel):
    model_config = ConfigDict(json_schema_extra=_required("id", "path"))

    id: str = Field("", description="the entry id")
    path: str = Field("", description="the image, relative to the README")


# -- notebook runs ---------------------------------------------------------------------------------
class NotebookParametersQuery(BaseModel):
    path: str = Field(description="the notebook, relative to the server root")


# -- sweeps ----------------------------------------------------------------------------------------
class SweepSubmit(SweepRequest):
    """``POST sweeps``: a SweepRequest, and where it came from."""

    origin: Optional[Origin] = None


class SweepSummary(BaseModel):
    """One sweep of ``GET sweeps``, from its manifest (no states)."""

    id: str
    name: str
    search: Literal["grid", "random", "optuna"]
    metric: Optional[str]
    mode: Literal["min", "max"]
    total: int
    created_at: float
    jobs: list[str] = Field(description="its array jobs' ids (retries included)")


class SweepList(BaseModel):
    sweeps: list[SweepSummary] = Field(description="newest first")


class SweepsQuery(BaseModel):
    job: Optional[str] = Field(None, description="only the sweep this array job (or array task JOBID_TASK) "
                               "belongs to; an empty list when none")
