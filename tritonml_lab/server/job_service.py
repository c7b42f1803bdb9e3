"""Jobs as the API and the magics see them: submit, list, detail, cancel, logs.

Domain logic only (no Tornado): handlers and the kernel side call this.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from pydantic import BaseModel, Field

from ..advice.suggest import suggestion_of
from ..advice.thresholds import Thresholds
from ..metrics.models import MetricsSummary
from ..metrics.report import after_the_end
from ..metrics.stream import NOT_ANSWERING
from ..slurm import Job, JobState, SlurmClient
from ..slurm.models import SlurmEfficiency
from ..jobs.launcher import GRACE_SECONDS, Launcher
from ..jobs.markers import run_history
from .monitor import JobMonitor
from ..jobs.script import Defaults, render_script
from ..jobs.spec import JobSpec
from ..jobs.store import BadJobRequest, DirectoryNotAnswering, JobNotFound, JobStore, LogChunk, Origin, parse_job_id
from .job_files import DIR_TIMEOUT, JobFiles
from .job_profile import data_wait_share

if TYPE_CHECKING:
    from ..advice.spread import Spread
    from ..advice.suggest import Suggestion

log = logging.getLogger(__name__)



class JobView(Job):
    """A job in ``GET jobs``: Slurm's view plus what tritonml-lab knows of it."""

    tracked: bool = Field(False, description="submitted through tritonml-lab (has a job directory)")
    origin: Optional[Origin] = None
    directory: Optional[str] = None
    directory_error: Optional[str] = Field(
        None, description='"directory not answering" while reads of the job\'s directory hang (the rest of the '
        "job's view is Slurm's)")


class JobDetail(JobView):
    script: Optional[str] = None
    spec: Optional[JobSpec] = None
    efficiency: Optional[SlurmEfficiency] = Field(None, description="Slurm's accounting, after the end")
    metrics: Optional[MetricsSummary] = Field(None, description="GPU/CPU summary of the in-job samples")
    advice: list[str] = Field(default_factory=list)


class Preview(BaseModel):
    script: str


class JobService:
    """Submit, list, detail, cancel, logs. Its parts are the server's (``services.py`` makes each once
    and closes them): the monitor, the job directories' reader, the launcher."""

    def __init__(
        self,
        slurm: SlurmClient,
        store: JobStore,
        monitor: JobMonitor,
        defaults: Defaults = Defaults(),
        thresholds: Optional[Thresholds] = None,
        *,
        files: Optional[JobFiles] = None,
        launcher: Optional[Launcher] = None,
    ) -> None:
        self.slurm = slurm
        self.thresholds = thresholds or Thresholds()  # the advice rules' (admin traitlets advice_*)
        self.store = store
        self.monitor = monitor
        self.defaults = defaults
        self.launcher = launcher or Launcher(store, slurm, defaults)
        self.files = files or JobFiles(store)
        self.files.on_late = self._push
        self._reconciling: Optional[asyncio.Future[None]] = None
        self._list_cache: Optional[tuple[tuple[int, bool, int], str]] = None

    async def submit(
        self,
        spec: JobSpec,
        origin: Optional[Origin] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> JobDetail:
        """Launch the job (see :class:`Launcher`) and tell the monitor."""
        launched = await self.launcher.launch(spec, origin, env=env)
        manifest, job_id = launched.manifest, launched.job_id
        self.files.manifests[job_id] = manifest
        self.monitor.poke(submitted=True)
        return JobDetail(
            id=job_id,
            name=spec.name or "tritonml",
            state=JobState.PENDING,
            submitted=manifest.submitted_at,
            partition=spec.partition or self.defaults.partition,
            gpus=spec.gpus,
            tracked=True,
            origin=manifest.origin,
            directory=manifest.directory,
            script=manifest.script,
            spec=spec,
        )

    def preview(self, spec: JobSpec, origin: Optional[Origin] = None) -> Preview:
        """The script ``submit`` would write, with a placeholder directory."""
        placeholder = f"{self.store.root}/job-<created-at-submission>"
        label = (origin.notebook or origin.kind) if origin else ""
        return Preview(script=render_script(spec, self.defaults, placeholder, origin=label))

    async def list(self) -> list[JobView]:
        self._reconcile_once()
        jobs = await self.monitor.snapshot()
        await self.files.read_listed(jobs)
        return [self._view(job) for job in jobs]

    async def list_json(self) -> str:
        """``GET jobs`` body, built once per monitor poll however many clients ask (the hot path)."""
        self._reconcile_once()
        jobs = await self.monitor.snapshot()
        await self.files.read_listed(jobs)
        key = (self.monitor.version, self.monitor.error is None, self.files.version)
        if self._list_cache is None or self._list_cache[0] != key:
            views = [self._view(job).model_dump(mode="json") for job in jobs]
            self._list_cache = (key, json.dumps({"jobs": views})[:-1])
        # The views once per poll; the status (the server's time in it) as of now.
        return f"{self._list_cache[1]}, {json.dumps(self.monitor.status())[1:]}"

    def _reconcile_once(self) -> None:
        """On the first listing, in the background: settle submissions a lost sbatch answer or a
        killed server left open (Launcher.reconcile); the jobs it attaches then show up."""
        if self._reconciling is None:
            self._reconciling = asyncio.ensure_future(self._reconcile())

    async def _reconcile(self) -> None:
        # Again while some are undecided: an sbatch of a killed server may still be running and
        # queue its job later. One squeue a pass, backing off; only after a failure.
        delay, deadline = 2.0, time.monotonic() + GRACE_SECONDS + 60
        while True:
            try:
                counts = await self.launcher.reconcile()
            except Exception:  # noqa: BLE001 - a later server start tries again
                log.exception("tritonml-lab: reconciling unfinished submissions failed")
                return
            if counts["attached"]:
                self.monitor.poke(submitted=True)
            if not counts["pending"] or time.monotonic() > deadline:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def lookup(self, job_id: str) -> Optional[Job]:
        """One job as Slurm sees it: the monitor's cache, a fresh snapshot, then accounting."""
        job = self.monitor.jobs.get(job_id)
        if job is None:
            await self.monitor.snapshot()
            job = self.monitor.jobs.get(job_id)
        if job is None:
            # Submitted elsewhere (the magics submit from the kernel): poll quickly for a while.
            self.monitor.poke(submitted=True)
            job = await self.launcher.lookup(job_id, queue=False)  # older than the monitor's history
        return job

    async def detail(self, job_id: str) -> JobDetail:
        parse_job_id(job_id)
        self.monitor.want_fresh()  # a user looks: squeue soon for its pending reason, within the budget
        job = await self.lookup(job_id)
        base, task = parse_job_id(job_id)
        hung = False
        try:  # in the job directories' pool, at most DIR_TIMEOUT: a hung directory degrades this job only
            manifest = await self.files.manifest_soon(base)
        except DirectoryNotAnswering:
            manifest, hung = None, True
        if job is None and manifest is None:
            raise JobNotFound(job_id)
        if job is None:
            job = Job(id=job_id, name=manifest.spec.name or "tritonml", submitted=manifest.submitted_at)
        files = None
        if not hung:
            try:
                files = await self.files.dirs.run(f"detail:{job_id}", NOT_ANSWERING, self._detail_files, job_id,
                                                  manifest is not None,
                                                  manifest is not None and manifest.spec.checkpoint is not None)
            except DirectoryNotAnswering:
                hung = True
                self.files.version += 1  # the list says so too from now on
        view = self._view(job)
        detail = JobDetail(**view.model_dump())
        if manifest is not None:
            detail.spec = manifest.spec
        if files is not None:
            detail.script, detail.metrics, runs = files
            if runs is not None:  # long jobs: each run
                detail.runs = runs
        if hung:
            detail.directory_error = NOT_ANSWERING
        elif detail.metrics is not None and detail.spec is not None and detail.spec.profile:
            # The profile's advice: steps waiting on data are a starved pipeline, with certainty.
            share = await data_wait_share(self.files, self.thresholds, job_id, detail.spec, wait=DIR_TIMEOUT)
            if share is not None:
                detail.metrics["data_wait_share"] = share
        if job.state.is_finished:
            detail.efficiency, detail.metrics, detail.advice = await after_the_end(
                self.slurm, job_id, detail.metrics, self.thresholds, detail.spec)
        return detail

    async def suggestion(self, job_id: str) -> "Suggestion":
        """Resources to ask for next time, from the same figures and rules as the detail's advice."""
        detail = await self.detail(job_id)
        return suggestion_of(job_id, detail.spec, detail.metrics, detail.efficiency, self.thresholds, detail.state,
                             defaults=self.defaults)

    async def spread(self, job_id: str) -> "Spread":
        """The spread over an array job's tasks (one sacct call): median and worst, outliers."""
        from ..advice.spread import spread, task_figures

        base, _task = parse_job_id(job_id)
        tasks = await self.slurm.efficiency_tasks(base)
        return spread(base, {task: task_figures(figures) for task, figures in tasks.items()}, self.thresholds)

    async def cancel(self, job_id: str) -> JobView:
        parse_job_id(job_id)
        await self.slurm.cancel(job_id)
        self.monitor.cancelled(job_id)  # slurmctld has it CANCELLED now; shown at once, sacct confirms
        job = self.monitor.jobs.get(job_id) or Job(id=job_id)
        return self._view(job)

    def read_log(self, job_id: str, stream: str, offset: int, limit: int) -> LogChunk:
        return self.store.read_log(job_id, stream, offset, limit)

    def metrics_history(self, job_id: str, max_points: int = 3600) -> dict[str, Any]:
        """The job's GPU/CPU samples per node, downsampled (for charts opened after the start)."""
        path = self.files.path(job_id)
        if path is None:
            raise JobNotFound(job_id)
        return {"id": job_id, **self.files.samples.job(path).history(max_points=max(10, min(max_points, 20000)))}

    def _detail_files(self, job_id: str, with_script: bool, with_runs: bool) -> Optional[tuple]:
        """In the pool: (job.sh, the samples' summary, the runs or None) of the job's directory. The
        summary from the job's shared reader: what was written since the last look is read, not all."""
        base, task = parse_job_id(job_id)
        job_dir = self.store.find(base)
        if job_dir is None:
            return None
        script = job_dir.script() if with_script else None
        summary = self.files.samples.job(job_dir.path).summary(task)
        return script, summary, run_history(str(job_dir.path), task) if with_runs else None

    def view_dict(self, job: dict) -> dict:
        """A monitor event's job, as the API shows it (with tracking fields)."""
        return self._view(Job.model_validate(job)).model_dump(mode="json")

    def _push(self, base: str) -> None:
        """The job's row again: its manifest came late, or its directory stopped answering."""
        for job in list(self.monitor.jobs.values()):
            if job.id == base or job.array_job_id == base:
                self.monitor.publish("job", job.model_dump(mode="json"))

    def _view(self, job: Job) -> JobView:
        """Never blocks: the manifest as read (a read not done yet is started in the pool)."""
        manifest, hung = self.files.known(job.id)
        data = job.model_dump()
        if job.state is JobState.RUNNING and job.started:
            data["elapsed"] = int(time.time() - job.started)
        elif data.get("elapsed") is None and job.started and job.ended:
            data["elapsed"] = int(job.ended - job.started)
        return JobView(
            **data,
            tracked=manifest is not None,
            origin=manifest.origin if manifest else None,
            directory=manifest.directory if manifest else None,
            directory_error=NOT_ANSWERING if hung else None,
        )


__all__ = ["BadJobRequest", "JobDetail", "JobNotFound", "JobService", "JobView", "Preview"]
