"""Sweeps: list, submit, one sweep's results table, cancel, and retry of ended tasks."""

from __future__ import annotations

import asyncio
from functools import partial

from jupyter_server.utils import url_path_join

from ..api_models import SweepList, SweepsQuery, SweepSubmit
from ...jobs import BadJobRequest, Origin
from ...sweeps import SweepRetry, SweepView
from .base import BaseHandler, endpoint

_SUBMIT = """The code runs once per point of a grid (every combination), a random search or an Optuna
search, as Slurm array job(s) `--array=0-N%parallel`, split into several when larger than the cluster's
MaxArraySize. Each task gets its point's names as variables and reports with `tritonml.report(name=value,
...)` or the code's trailing expression. In an Optuna search each task asks the study (an Optuna journal
file under the jobs directory) for its point when it starts (`params` is null until then) and tells it the
metric, or FAIL when the code raised; the tasks' Python needs optuna (checked here: 400 when it lacks it).
The sweep id is the first array job's id. Nothing is submitted on an error (if Slurm refuses a later array
job, the earlier ones are cancelled)."""

_VIEW = """Every task with its point, state, reported result and error, sorted by the metric (best first,
the best completed task marked). Task states come from the task files and ONE batched sacct for the array
jobs with tasks not yet ended (shared for 2 s)."""

_CANCEL = """`scancel` of each of its array jobs that still has tasks queued or running (all at once).
Idempotent: cancelling an ended or already cancelled sweep changes nothing and answers 200 too. Ended tasks
keep their results; the retry endpoint can run the cancelled points again. The answer is the sweep right
after the request (`cancelled_at` set); tasks read CANCELLED once Slurm has stopped them (usually within
seconds)."""

_RETRY = """A new array job of the same sweep (in an Optuna sweep each asks the study for a new trial);
the table then shows each point's newest attempt. Resource keys in the body (e.g. time, mem) change the
new array job's resources."""


class SweepsHandler(BaseHandler):
    @endpoint(summary="My newest sweeps (from their manifests; no Slurm call).",
              response=SweepList, query=SweepsQuery, errors=(400,))
    async def get(self) -> None:
        sweeps = self.services.sweeps
        job = self.query(SweepsQuery, BadJobRequest).job  # the sweep this array job belongs to
        listing = await asyncio.get_running_loop().run_in_executor(None, partial(sweeps.listing, job=job))
        self.write_model({"sweeps": listing})

    @endpoint(summary="Submit a sweep: code run once per point of a search space, as Slurm array jobs.",
              description=_SUBMIT, body=SweepSubmit, response=SweepView, status=201,
              errors=(400, 413, 422, 503, 507))
    async def post(self) -> None:
        request: SweepSubmit = await self.body("a JSON object with code, grid or random, and job fields")
        sweep = await self.services.sweeps.submit(request, request.origin or Origin(kind="api"))
        self.set_header("Location", url_path_join(self.base_url, "tritonml", "sweeps", sweep.id))
        self.write_model(sweep, status=201)


class SweepHandler(BaseHandler):
    @endpoint(summary="The sweep and its results table.", description=_VIEW,
              response=SweepView, errors=(400, 404))
    async def get(self, sweep_id: str) -> None:
        self.write_model(await self.services.sweeps.view(sweep_id))

    @endpoint(summary="Cancel the whole sweep.", description=_CANCEL,
              response=SweepView, errors=(400, 404, 503))
    async def delete(self, sweep_id: str) -> None:
        self.write_model(await self.services.sweeps.cancel(sweep_id))


class SweepRetryHandler(BaseHandler):
    @endpoint(summary="Run the failed tasks (or the ended tasks in `indices`) again.", description=_RETRY,
              body=SweepRetry, body_required=False, response=SweepView, errors=(400, 404, 413, 422, 503, 507))
    async def post(self, sweep_id: str) -> None:
        # The changes alone: the sweep's spec with them is validated as a whole, with the defaults, by retry.
        request: SweepRetry = await self.body('a JSON object: {} or {"indices": [...], "time": ...}',
                                              with_defaults=False)
        self.write_model(await self.services.sweeps.retry(sweep_id, request))
