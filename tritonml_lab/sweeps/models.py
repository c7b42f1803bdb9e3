"""The sweep's records (its manifest on disk) and views (``GET sweeps/{id}``), and its errors."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, Field

from ..jobs.store import BadJobRequest, JobNotFound, Origin
from ..slurm import JobState


class SweepNotFound(JobNotFound):
    def __init__(self, sweep_id: str) -> None:
        LookupError.__init__(self, f"No sweep {sweep_id} of yours is known here.")
        self.message = str(self)


class BadSweepRequest(BadJobRequest):
    pass


class SweepJob(BaseModel):
    """One array job of a sweep: its task ``i`` runs the sweep's point ``indices[i]``."""

    id: str
    directory: str
    indices: list[int]
    attempt: int = Field(0, description="0: the first run; 1, 2, ...: retries")
    array: str = ""
    submitted_at: float = 0.0
    after: Optional[str] = Field(None, description="starts after this array job ends (--parallel of a split sweep)")


class SweepManifest(BaseModel):
    id: str
    name: str
    search: Literal["grid", "random", "optuna"]
    space: dict[str, Any]
    metric: Optional[str] = None
    mode: Literal["min", "max"] = "min"
    parallel: Optional[int] = None
    spec: dict[str, Any] = Field(description="JobSpec fields of every array job (code included)")
    points: list[Optional[dict[str, Any]]] = Field(description="None: chosen when the task starts (optuna)")
    origin: Origin = Field(default_factory=Origin)
    created_at: float
    user: Optional[str] = None
    jobs: list[SweepJob] = Field(default_factory=list)
    cancelled_at: Optional[float] = Field(None, description="when the whole sweep was cancelled; a retry clears it")
    prune: Optional[dict[str, Any]] = Field(None, description="the request's prune (rule, startup, warmup)")


class StepSeries(BaseModel):
    """A task's per-step values (``tritonml.report(step=..., NAME=...)``), thinned for the view."""

    steps: list[int] = Field(description="the steps shown, ascending (at most 32, evenly thinned; the last kept)")
    values: dict[str, list[Optional[float]]] = Field(
        description="name -> its value at each of steps, to 4 significant digits (null: not reported then); "
                    "at most 3 names, the sweep's metric first")
    count: int = Field(description="values reported in all (a requeued task's repeated steps too)")


class Pruned(BaseModel):
    step: int = Field(description="the step at which the task was stopped")
    why: str = ""


class SweepTask(BaseModel):
    index: int = Field(description="the point's index in the sweep (0-based)")
    params: Optional[dict[str, Any]] = Field(description="the point; null until an optuna task has asked for it")
    state: JobState
    result: Optional[dict[str, Any]] = Field(None, description="what the task reported; null until then")
    error: Optional[str] = Field(None, description="why a failed task failed (its stderr's last lines)")
    exit_code: Optional[int] = None
    job_id: str = Field(description="the array task running this point: JOBID_TASK")
    attempt: int = 0
    best: bool = False
    pruned: Optional[Pruned] = Field(None, description="stopped early as clearly worse (state COMPLETED); null if not")
    curve: Optional[StepSeries] = Field(None, description="the per-step values; null without any")


class SweepJobView(BaseModel):
    id: str
    attempt: int
    tasks: int
    array: str
    directory: str
    after: Optional[str] = None


class SweepView(BaseModel):
    """``GET sweeps/{id}``: the sweep and its results table (sorted by the metric, best first)."""

    id: str
    name: str
    search: Literal["grid", "random", "optuna"]
    space: dict[str, Any]
    metric: Optional[str] = None
    mode: Literal["min", "max"] = "min"
    parallel: Optional[int] = None
    created_at: float
    total: int
    counts: dict[str, int] = Field(default_factory=dict, description="tasks per state")
    finished: bool = Field(False, description="every task has ended")
    best: Optional[SweepTask] = None
    jobs: list[SweepJobView] = Field(default_factory=list)
    tasks: list[SweepTask] = Field(default_factory=list)
    slurm_error: Optional[str] = Field(None, description="Slurm could not be asked; states may be stale")
    cancelled_at: Optional[float] = Field(None, description="when the whole sweep was cancelled (epoch s)")
    prune: Optional[dict[str, Any]] = Field(None, description="how clearly worse tasks are stopped early, if they are")
    pruned: int = Field(0, description="tasks pruned (counted as COMPLETED in counts)")
