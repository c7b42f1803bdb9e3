"""Notebook runs: reading one, from its job directory (the executor's settings in ``user.sh`` and its
``progress.json``) and Slurm's state, into what the panel shows (``GET notebook-jobs/{id}``)."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Optional

from pydantic import BaseModel, Field

from ..injob import notebook_executor as _executor
from ..jobs.script import USER_SCRIPT
from ..jobs.store import JobDir, parse_job_id
from ..slurm import Job, JobState
from .request import relative_to_root

HEREDOC = "TRITONML_NOTEBOOK"  # user.sh: the settings line follows the here-document's start


class ExecutingCell(BaseModel):
    index: int = Field(description="position in the output notebook (0-based)")
    number: int = Field(description="k in 'cell k of N' (code cells, 1-based)")
    started_at: Optional[float] = None
    output_tail: str = ""


class FailedCell(BaseModel):
    index: Optional[int] = None
    number: Optional[int] = None
    cell_id: Optional[str] = None
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = Field(default_factory=list)


class NotebookJobStatus(BaseModel):
    """``GET notebook-jobs/{id}``: the run as the panel shows it."""

    id: str
    state: JobState = Field(description="Slurm's state")
    # The executor's own word, held to these by summarize(); an enum in the schema only.
    status: str = Field(description="the run's progress beside Slurm's state", json_schema_extra={
        "enum": ["pending", "starting", "running", "completed", "failed", "interrupted", "unknown"]})
    notebook: Optional[str] = None
    kernel: Optional[str] = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    output: Optional[str] = Field(None, description="output notebook relative to the server root")
    output_path: Optional[str] = Field(None, description="output notebook, absolute")
    output_exists: bool = False
    cells_total: Optional[int] = None
    cells_done: int = 0
    executing: Optional[ExecutingCell] = None
    failed_cell: Optional[FailedCell] = None
    message: Optional[str] = None
    host: Optional[str] = None
    started_at: Optional[float] = None
    first_cell_at: Optional[float] = None
    updated_at: Optional[float] = None
    ended_at: Optional[float] = None
    directory: Optional[str] = None


def output_path(settings: dict[str, Any], job_id: str) -> str:
    base, _task = parse_job_id(job_id)
    return os.path.join(settings["output_dir"], settings["output_name"].replace("{job_id}", base))


# -- reading a run -------------------------------------------------------------------------------
def read_settings(job_dir: JobDir) -> Optional[dict[str, Any]]:
    """The executor's settings from ``user.sh`` (the line after the here-document's start)."""
    try:
        with open(job_dir.path / USER_SCRIPT, encoding="utf-8") as handle:
            for line in handle:
                if line.rstrip("\n").endswith(f"<<'{HEREDOC}'"):
                    return json.loads(handle.readline())
    except (OSError, ValueError):
        return None
    return None


def read_progress(job_dir: JobDir) -> Optional[dict[str, Any]]:
    try:
        return json.loads((job_dir.path / _executor.PROGRESS).read_text())
    except (OSError, ValueError):
        return None


_STOPPED_BY = {
    JobState.CANCELLED: "The job was cancelled",
    JobState.TIMEOUT: "The job reached its time limit",
    JobState.PREEMPTED: "The job was preempted",
    JobState.DEADLINE: "The job reached its deadline",
    JobState.NODE_FAIL: "The node running the job failed",
    JobState.OUT_OF_MEMORY: "The job ran out of memory",
    JobState.BOOT_FAIL: "The node did not boot",
}


def summarize(job_id: str, state: JobState, settings: Optional[dict], progress: Optional[dict],
              root_dir: str, directory: Optional[str] = None) -> NotebookJobStatus:
    """One view from Slurm's state, the settings and the executor's progress.json."""
    settings = settings or {}
    progress = progress or {}
    out = progress.get("output") or (output_path(settings, job_id) if settings.get("output_dir") else None)
    said = progress.get("status")
    if state.is_finished:
        if said in ("completed", "failed", "interrupted"):
            status = said
        elif state is JobState.COMPLETED:
            status = "unknown"
        elif state in (JobState.FAILED, JobState.OUT_OF_MEMORY, JobState.BOOT_FAIL):
            status = "failed"
        else:
            status = "interrupted"
    elif state in (JobState.PENDING, JobState.CONFIGURING, JobState.REQUEUED, JobState.REQUEUE_HOLD,
                   JobState.RESV_DEL_HOLD, JobState.REQUEUE_FED):
        status = "pending"
    elif state is JobState.UNKNOWN:
        status = said or "unknown"
    else:
        status = said or "starting"
    failed = progress.get("failed_cell")
    executing = progress.get("executing") if status in ("starting", "running") else None
    message = progress.get("message")
    if state.is_finished and state in _STOPPED_BY:
        cell = (failed or {}).get("number") or ((progress.get("executing") or {}).get("number"))
        total = progress.get("cells_total")
        where = f" while cell {cell} of {total} ran" if cell and total else ""
        message = f"{_STOPPED_BY[state]}{where}; the cells before it are saved in the output notebook."
        if status == "interrupted" and not failed and cell:
            failed = {"index": (progress.get("executing") or {}).get("index"), "number": cell,
                      "ename": "JobStopped", "evalue": _STOPPED_BY[state], "traceback": []}
    elif state.is_finished and not progress:
        message = "The executor did not start; see the job's stderr log."
    return NotebookJobStatus(
        id=job_id,
        state=state,
        status=status,
        notebook=settings.get("notebook"),
        kernel=settings.get("kernel"),
        parameters=settings.get("parameters") or {},
        output=relative_to_root(root_dir, out) if out else None,
        output_path=out,
        output_exists=bool(out and os.path.exists(out)),
        cells_total=progress.get("cells_total"),
        cells_done=progress.get("cells_done") or 0,
        executing=ExecutingCell(**executing) if executing else None,
        failed_cell=FailedCell(**failed) if failed else None,
        message=message,
        host=progress.get("host"),
        started_at=progress.get("started_at"),
        first_cell_at=progress.get("first_cell_at"),
        updated_at=progress.get("updated_at"),
        ended_at=progress.get("ended_at"),
        directory=directory,
    )


# A killed executor never writes its end: after this long, Slurm's end is the end.
EXECUTOR_SAVE_SECONDS = 30.0


def _executor_saving(progress: Optional[dict], job: Job) -> bool:
    progress = progress or {}
    recent = job.ended is None or time.time() - job.ended < EXECUTOR_SAVE_SECONDS
    return progress.get("status") in ("starting", "running") and progress.get("ended_at") is None and recent
