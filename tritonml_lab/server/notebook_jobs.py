"""``POST notebook-jobs`` and its status: notebook runs on top of the server's one JobService.

The preparing and submitting is the shared core's (``notebooks/submit.py``), which the kernel's
``%tritonml run-notebook`` uses too; this adds what only a server has: its job service and root.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic import Field

from ..jobs.store import JobNotFound, parse_job_id
from ..notebooks.kernels import NotebookParameters, notebook_parameters
from ..notebooks.progress import NotebookJobStatus, _executor_saving, output_path, read_progress, read_settings
from ..notebooks.progress import summarize
from ..notebooks.request import NotANotebookJob, NotebookJobRequest, relative_to_root
from ..notebooks.submit import prepare
from ..slurm import Job, JobState, SlurmError
from .job_service import JobDetail, JobService


# -- models --------------------------------------------------------------------------------------
class NotebookJobCreated(JobDetail):
    """``POST notebook-jobs`` 201: the job, plus where its executed notebook will be."""

    notebook: str
    kernel: str
    output: Optional[str] = Field(None, description="output notebook, relative to the server root")
    parameters: dict[str, Any] = Field(default_factory=dict)


# -- the service the handlers use ----------------------------------------------------------------
@dataclass
class NotebookJobs:
    """Notebook runs on top of the one JobService of a server."""

    jobs: JobService
    root_dir: str
    kernel_specs: Any = None
    python: str = field(default_factory=lambda: sys.executable)
    default_output_dir: Optional[str] = None

    async def parameters(self, path: str) -> NotebookParameters:
        return await notebook_parameters(self.root_dir, path, self.kernel_specs)

    async def submit(self, request: NotebookJobRequest) -> NotebookJobCreated:
        prepared = await prepare(
            request, self.root_dir, kernel_specs=self.kernel_specs, python=self.python,
            default_output_dir=self.default_output_dir,
        )
        job = await self.jobs.submit(prepared.spec, prepared.origin)
        out = output_path(prepared.settings, job.id)
        return NotebookJobCreated(
            **job.model_dump(),
            notebook=request.path,
            kernel=prepared.kernel.name,
            output=relative_to_root(self.root_dir, out),
            parameters=request.parameters,
        )

    async def status(self, job_id: str) -> NotebookJobStatus:
        base, _task = parse_job_id(job_id)
        loop = asyncio.get_running_loop()
        job_dir, manifest, settings, progress = await loop.run_in_executor(None, self._read, base)
        job = await self._job(base)
        state = job.state if job is not None else JobState.UNKNOWN
        if state.is_finished and _executor_saving(progress, job):
            # Cancelled (shown at once) while the executor still saves the cells it ran: Slurm's own
            # word for a job whose processes are ending, until the output notebook is complete.
            state = JobState.COMPLETING
        return summarize(base, state, settings, progress, self.root_dir, str(job_dir.path))

    def _read(self, job_id: str):
        job_dir = self.jobs.store.find(job_id)
        if job_dir is None:
            raise JobNotFound(job_id)
        try:
            manifest = job_dir.manifest()
        except (OSError, ValueError):
            raise JobNotFound(job_id) from None
        if manifest.origin.kind != "notebook":
            raise NotANotebookJob(job_id)
        return job_dir, manifest, read_settings(job_dir), read_progress(job_dir)

    async def _job(self, job_id: str) -> Optional[Job]:
        try:
            return await self.jobs.lookup(job_id)
        except SlurmError:
            return None
