"""The tracking API's models (openapi.yaml is generated from them)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TensorBoardOpen(BaseModel):
    """What to show: exactly one of job, sweep and path."""

    model_config = ConfigDict(extra="forbid")

    job: Optional[str] = Field(None, description="a job id (or JOBID_TASK): its directory's tensorboard/ folder",
                               max_length=64)
    sweep: Optional[str] = Field(None, description="a sweep id: each task one run, named by its parameters",
                                 max_length=64)
    path: Optional[str] = Field(None, description="a folder, relative to the Jupyter root or absolute, inside "
                                "the Jupyter root or the jobs directory", max_length=4096)

    @model_validator(mode="after")
    def _one(self) -> "TensorBoardOpen":
        if sum(value is not None and value != "" for value in (self.job, self.sweep, self.path)) != 1:
            raise ValueError("give exactly one of job, sweep and path")
        return self


class TensorBoardInfo(BaseModel):
    id: str = Field(description="the same id for the same folders: a second open reuses the running one")
    url: str = Field(description="where it is served, through the Jupyter server: {base_url}tritonml/tensorboard/{id}/")
    label: str = Field(description="what it shows, in words (job 123, sweep 123, folder /path)")
    logdirs: list[str] = Field(description="the folders it reads")
    started: bool = Field(description="true: this request started it; false: it was already running")
    idle_seconds: float = Field(description="stopped after this long without a request (c.TritonML.tensorboard_idle_seconds)")


class TensorBoardList(BaseModel):
    tensorboards: list[TensorBoardInfo]


class WandbSync(BaseModel):
    """Whose W&B offline runs to sync: exactly one of job and sweep."""

    model_config = ConfigDict(extra="forbid")

    job: Optional[str] = Field(None, description="a job id: the offline runs in its directory", max_length=64)
    sweep: Optional[str] = Field(None, description="a sweep id: the offline runs of all its tasks", max_length=64)
    dry_run: bool = Field(False, description="only say what would run")

    @model_validator(mode="after")
    def _one(self) -> "WandbSync":
        if sum(value is not None and value != "" for value in (self.job, self.sweep)) != 1:
            raise ValueError("give exactly one of job and sweep")
        return self


class WandbSyncResult(BaseModel):
    runs: list[str] = Field(description="the offline run folders found")
    command: list[str] = Field(description="the wandb sync command line (run without a shell)")
    ran: bool = Field(description="true: it was run (false: a dry run, wandb missing or not logged in)")
    exit_code: Optional[int] = Field(None, description="wandb sync's exit status when it ran")
    message: str = Field(description="what happened, for a person")
    output: str = Field("", description="the end of wandb sync's output")
