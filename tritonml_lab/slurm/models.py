"""Typed models of what Slurm reports: job states, jobs, partitions, GPUs."""

from __future__ import annotations

from enum import Enum
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict


class JobState(str, Enum):
    """Every base job state Slurm 22.05+ reports (``squeue``/``sacct``), by Slurm's own names."""

    BOOT_FAIL = "BOOT_FAIL"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    COMPLETING = "COMPLETING"
    CONFIGURING = "CONFIGURING"
    DEADLINE = "DEADLINE"
    FAILED = "FAILED"
    NODE_FAIL = "NODE_FAIL"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    PENDING = "PENDING"
    PREEMPTED = "PREEMPTED"
    RESV_DEL_HOLD = "RESV_DEL_HOLD"
    REQUEUE_FED = "REQUEUE_FED"
    REQUEUE_HOLD = "REQUEUE_HOLD"
    REQUEUED = "REQUEUED"
    RESIZING = "RESIZING"
    REVOKED = "REVOKED"
    RUNNING = "RUNNING"
    SIGNALING = "SIGNALING"
    SPECIAL_EXIT = "SPECIAL_EXIT"
    STAGE_OUT = "STAGE_OUT"
    STOPPED = "STOPPED"
    SUSPENDED = "SUSPENDED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, text: str | list | None) -> "JobState":
        """Parse 'CANCELLED by 0', 'OUT_OF_ME+', 'PD', 'RUNNING', ... into a state; a list of flags
        (23.02+ JSON: ["RUNNING", "COMPLETING"]) reads as Slurm's own job_state_string() does."""
        if isinstance(text, list):
            words = [str(word).upper() for word in text]
            text = next((flag for flag in _FLAG_PRECEDENCE if flag in words), words[0] if words else None)
        if not text or not isinstance(text, str) or not text.strip():  # absent, or of a shape Slurm never prints
            return cls.UNKNOWN
        word = text.strip().split()[0].rstrip("+").upper()
        if word in cls.__members__:
            return cls[word]
        if word in _SHORT:
            return _SHORT[word]
        # sacct truncates long names ("OUT_OF_ME+"): accept a unique prefix.
        matches = [state for name, state in cls.__members__.items() if name.startswith(word)]
        return matches[0] if len(matches) == 1 else cls.UNKNOWN

    @property
    def is_active(self) -> bool:
        """The job may still run or is running: keep polling it."""
        return self in _ACTIVE

    @property
    def is_finished(self) -> bool:
        return not self.is_active and self is not JobState.UNKNOWN

    @property
    def is_success(self) -> bool:
        return self is JobState.COMPLETED


_ACTIVE = frozenset(
    {
        JobState.PENDING,
        JobState.CONFIGURING,
        JobState.RUNNING,
        JobState.COMPLETING,
        JobState.RESIZING,
        JobState.REQUEUED,
        JobState.REQUEUE_FED,
        JobState.REQUEUE_HOLD,
        JobState.RESV_DEL_HOLD,
        JobState.SIGNALING,
        JobState.STAGE_OUT,
        JobState.STOPPED,
        JobState.SUSPENDED,
    }
)

# State flags that name the state before the base state (slurm_protocol_defs.c, job_state_string).
_FLAG_PRECEDENCE = ("COMPLETING", "STAGE_OUT", "CONFIGURING", "RESIZING", "REQUEUED", "REQUEUE_FED",
                    "REQUEUE_HOLD", "SPECIAL_EXIT", "STOPPED", "REVOKED", "RESV_DEL_HOLD", "SIGNALING")

# squeue's compact codes (%t).
_SHORT = {
    "BF": JobState.BOOT_FAIL,
    "CA": JobState.CANCELLED,
    "CD": JobState.COMPLETED,
    "CF": JobState.CONFIGURING,
    "CG": JobState.COMPLETING,
    "DL": JobState.DEADLINE,
    "F": JobState.FAILED,
    "NF": JobState.NODE_FAIL,
    "OOM": JobState.OUT_OF_MEMORY,
    "PD": JobState.PENDING,
    "PR": JobState.PREEMPTED,
    "R": JobState.RUNNING,
    "RD": JobState.RESV_DEL_HOLD,
    "RF": JobState.REQUEUE_FED,
    "RH": JobState.REQUEUE_HOLD,
    "RQ": JobState.REQUEUED,
    "RS": JobState.RESIZING,
    "RV": JobState.REVOKED,
    "SI": JobState.SIGNALING,
    "SE": JobState.SPECIAL_EXIT,
    "SO": JobState.STAGE_OUT,
    "ST": JobState.STOPPED,
    "S": JobState.SUSPENDED,
    "TO": JobState.TIMEOUT,
}


class GpuCount(BaseModel):
    """GPUs of one type (``None`` when Slurm knows no type) in some set of nodes."""

    type: Optional[str] = None
    total: int = 0
    free: int = 0


class Partition(BaseModel):
    name: str
    default: bool = False
    time_limit: Optional[str] = Field(None, description="Slurm's D-HH:MM:SS, or None when unlimited")
    time_limit_minutes: Optional[int] = None
    nodes: list[str] = Field(default_factory=list)
    node_count: int = 0
    state: str = "UP"
    cpus_total: int = 0
    cpus_idle: int = 0
    gpus: list[GpuCount] = Field(default_factory=list)

    @property
    def gpus_total(self) -> int:
        return sum(g.total for g in self.gpus)


class ClusterSummary(BaseModel):
    cluster: Optional[str] = None
    slurm_version: Optional[str] = Field(None, description="the release of the Slurm commands, e.g. 24.11.5")
    partitions: list[Partition]
    gpus: list[GpuCount] = Field(description="GPUs by type over the whole cluster")
    gpus_total: int = 0
    gpus_free: int = 0


class JobRun(BaseModel):
    """One run of a job that requeued itself (long jobs, ``checkpoint``): from the job's markers."""

    run: int = Field(description="0 for the first run, k after k restarts")
    started: Optional[float] = None
    ended: Optional[float] = None
    nodes: Optional[str] = None
    warned: Optional[float] = Field(None, description="when the time-limit warning reached this run")
    outcome: Optional[str] = Field(None, description='"requeued", or "exit N" for the last run; None while running')


class Job(BaseModel):
    """One job as squeue (active) or sacct (finished) describes it."""

    id: str
    name: str = ""
    state: JobState = JobState.UNKNOWN
    reason: Optional[str] = None
    partition: Optional[str] = None
    nodes: Optional[str] = None
    node_count: Optional[int] = None
    gpus: Optional[str] = Field(None, description="GPUs of the whole job by type, 'h100:2,h200:4' ('6' untyped)")
    gpu_count: Optional[int] = Field(None, description="GPUs of the whole job; None without GPUs")
    cpus: Optional[int] = None
    user: Optional[str] = None
    account: Optional[str] = None
    submitted: Optional[float] = None
    started: Optional[float] = None
    ended: Optional[float] = None
    expected_start: Optional[float] = None
    elapsed: Optional[int] = Field(None, description="seconds")
    time_limit: Optional[int] = Field(None, description="minutes; None when unlimited")
    exit_code: Optional[int] = Field(None, description="None while running, when ended by a signal, or unknown")
    signal: Optional[int] = Field(None, description="the signal that ended the job (15 for a cancel or time-out)")
    signal_name: Optional[str] = Field(None, description="that signal's name, e.g. SIGTERM")
    array_job_id: Optional[str] = None
    array_task_id: Optional[str] = None
    workdir: Optional[str] = None
    stdout_path: Optional[str] = None
    stderr_path: Optional[str] = None
    runs: list[JobRun] = Field(default_factory=list, description="the runs of a job that requeued itself "
                               "(long jobs), oldest first; empty for other jobs")


@with_config(ConfigDict(extra="allow"))
class SlurmEfficiency(TypedDict):
    """A finished job's accounting (``sacct_efficiency``): what it used against what it asked for.
    A TypedDict: the figures stay a plain dict, this only describes them (the API schema)."""

    complete: bool
    state: str
    elapsed_seconds: Optional[int]
    time_limit_seconds: Optional[int]
    cpus: Optional[int]
    cpu_used_seconds: Optional[float]
    cpu_allocated_seconds: Optional[float]
    memory_requested_bytes: Optional[int]
    memory_peak_bytes: Optional[int]
    gpus: Optional[str]
    gpu_count: Optional[int]
    gpu_util_mean: Optional[float]  # Slurm's gres/gpuutil (%) of the busiest step; None where not accounted
    gpu_util_max: Optional[float]
    gpu_memory_peak_bytes: Optional[int]  # gres/gpumem
    cpu_efficiency: Optional[float]
    time_fraction: Optional[float]
    memory_fraction: Optional[float]
