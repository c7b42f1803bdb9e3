"""Jobs: list, submit, preview, one job, cancel, its log and its GPU/CPU samples."""

from __future__ import annotations

import asyncio

from jupyter_server.utils import url_path_join

from ...advice.spread import Spread
from ...advice.suggest import Suggestion
from ...advice.usage import UsageReport
from ..api_models import FreshQuery, JobList, JobRequest, LogQuery, Metrics, MetricsQuery, ReportQuery
from ...jobs import BadJobRequest, LogChunk
from ..job_service import JobDetail, JobView, Preview
from .base import BaseHandler, endpoint

_JOB_FIELDS = "a JSON object of job fields"
_SUBMIT_ERRORS = (400, 413, 422, 503, 507)


class JobsHandler(BaseHandler):
    @endpoint(summary="My jobs (active and recent finished ones) from the server's one shared job monitor.",
              response=JobList, query=FreshQuery, errors=(503,))
    async def get(self) -> None:
        if self.fresh():  # the refresh button: squeue, within the budget
            self.services.monitor.want_fresh()
        self.set_header("Content-Type", "application/json")
        self.finish(await self.services.jobs.list_json())  # JobList, serialized once per poll

    @endpoint(summary="Submit a job. Exactly one of code, script, command.",
              body=JobRequest, response=JobDetail, status=201, errors=_SUBMIT_ERRORS)
    async def post(self) -> None:
        request: JobRequest = await self.body(_JOB_FIELDS)
        spec, origin = request.split()
        job = await self.services.jobs.submit(spec, origin)
        self.set_header("Location", url_path_join(self.base_url, "tritonml", "jobs", job.id))
        self.write_model(job, status=201)


class JobPreviewHandler(BaseHandler):
    @endpoint(summary="The batch script a spec would submit; submits nothing.",
              body=JobRequest, response=Preview, errors=(400, 413))
    async def post(self) -> None:
        request: JobRequest = await self.body(_JOB_FIELDS)
        self.write_model(self.services.jobs.preview(*request.split()))


class JobHandler(BaseHandler):
    @endpoint(summary="One job with its script, spec and (after the end) efficiency figures.",
              response=JobDetail, errors=(400, 404))
    async def get(self, job_id: str) -> None:
        self.write_model(await self.services.jobs.detail(job_id))

    @endpoint(summary="Cancel the job (idempotent).", response=JobView, errors=(400, 422, 503))
    async def delete(self, job_id: str) -> None:
        self.write_model(await self.services.jobs.cancel(job_id))


class JobSuggestionHandler(BaseHandler):
    @endpoint(summary="Resources to ask for next time (gpus, cpus_per_task, mem, time), each with its reason "
              "and figure, and the job's spec with them applied; null parts where data lacks.",
              response=Suggestion, errors=(400, 404))
    async def get(self, job_id: str) -> None:
        self.write_model(await self.services.jobs.suggestion(job_id))


class JobSpreadHandler(BaseHandler):
    @endpoint(summary="The spread over an array job's tasks (a sweep): median and worst GPU utilisation, memory "
              "peaks and run time, and the tasks that stand out. One sacct call.",
              response=Spread, errors=(400, 503))
    async def get(self, job_id: str) -> None:
        self.write_model(await self.services.jobs.spread(job_id))


class MyEfficiencyHandler(BaseHandler):
    @endpoint(summary="My efficiency report: GPU-hours, cores, memory and time requested against used by my "
              "jobs of the last `days` days, and the three changes that would save the most. One sacct call, "
              "cached.", response=UsageReport, query=ReportQuery, errors=(400, 503))
    async def get(self) -> None:
        query = self.query(ReportQuery)
        self.write_model(await self.services.reports.get(query.days, fresh=bool(query.fresh)))


class JobMetricsHandler(BaseHandler):
    @endpoint(summary="The GPU/CPU samples the job wrote (per node, downsampled), for charts.",
              response=Metrics, query=MetricsQuery, errors=(400, 404))
    async def get(self, job_id: str) -> None:
        max_points = self.query(MetricsQuery, BadJobRequest).max_points or 3600
        history = await asyncio.get_running_loop().run_in_executor(
            None, self.services.jobs.metrics_history, job_id, max_points
        )
        self.write_model(history)


class JobLogHandler(BaseHandler):
    @endpoint(summary="An incremental tail of the job's log, from offset on; never reads the whole file.",
              response=LogChunk, query=LogQuery, errors=(400, 404))
    async def get(self, job_id: str) -> None:
        query = self.query(LogQuery, BadJobRequest)
        chunk = await asyncio.get_running_loop().run_in_executor(
            None, self.services.jobs.read_log, job_id, query.stream, query.offset, query.limit or 64 * 1024
        )
        self.write_model(chunk)
