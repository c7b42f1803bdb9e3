"""Sweeps as Slurm array jobs: submit, read the results table, retry the failed tasks, cancel.

Domain logic only (no Tornado): the handlers and the ``%%tritonml sweep`` magic call this. The
manifests are :mod:`.manifests`; the table built from the task files is :mod:`.table`.

Layout under the jobs root (the job directories are ordinary JobStore ones, so the jobs panel, the
monitor and ``GET jobs/{id}`` see every array job)::

    <root>/sweeps/<sweep id>.json     the sweep: request, points, and its array jobs (index -> job, task)
    <root>/job-<uid>/                 one per array job; in it, besides job.sh and the logs:
        main.py runner.json cell.py   the stdlib runner and the user's code
        tritonml.py                   the stdlib shim: ``tritonml.report(...)``
        sweep_points.json             task (SLURM_ARRAY_TASK_ID) -> sweep index and point
        result.<task>.json            what the task reported ("pruned": {"step", "why"} if stopped early)
        steps.<task>.jsonl            its per-step values, one JSON line each (:mod:`.steps`)
        tritonml_optuna.py params.<task>.json   an Optuna sweep: asks/tells the study; the point asked
        exit_code.<task> runner_exit.<task> stdout.<task>.log stderr.<task>.log

An Optuna sweep (:mod:`.adaptive`) has no points until its tasks start: each asks the study in
``<root>/sweeps/optuna/`` for one and writes it to ``params.<task>.json`` (null in the table until then).

The sweep id is the first array job's id. A sweep larger than the cluster's MaxArraySize is split into
several array jobs (``--array=0-N%K`` each, chained with ``--dependency=afterany`` when K is given, so
that K holds for the whole sweep); a retry adds one (or more) array job(s) with only the
failed points, and the newest attempt of each point is what the table shows. Cancelling a sweep
cancels each of its array jobs that still has tasks queued or running (one ``scancel`` per array job).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Optional

from ..jobs.launcher import Launcher, SubmissionListener
from ..jobs.script import Defaults
from ..jobs.spec import JobSpec, checked, compose, parse
from ..jobs.store import JobDir, JobStore, Origin
from ..slurm import Job, JobState, SlurmClient, SlurmError
from ..slurm import parse as slurm_parse
from . import adaptive
from .manifests import SweepManifests
from .models import BadSweepRequest, SweepJob, SweepManifest, SweepView
from .request import SweepRequest, SweepRetry, array_chunks, array_spec, generate_points
from .table import SweepTable
from .taskfiles import write_task_files

SWEEPS_DIR = "sweeps"
DEFAULT_MAX_ARRAY_SIZE = 1001  # Slurm's own default


def _write_task_files(job_dir: JobDir, *, code: str, indices: list[int], params: list[Optional[dict[str, Any]]],
                      metric: Optional[str], optuna: Optional[dict[str, Any]],
                      stop: Optional[dict[str, Any]]) -> None:
    """The sweep's files in an array job's directory (the launcher's ``prepare`` step)."""
    write_task_files(job_dir.path, code, indices, params, metric, optuna, stop)


def _stored(spec: JobSpec) -> dict[str, Any]:
    """The fields of every array job's spec as the manifest keeps them (the array is each job's own)."""
    return {k: v for k, v in spec.model_dump(exclude={"array"}).items() if v not in (None, [], {})}


# -- the service ---------------------------------------------------------------------------------
class SweepService:
    """Sweeps on top of one JobStore (the server's, or the kernel's for the magic)."""

    def __init__(
        self,
        store: JobStore,
        slurm: SlurmClient,
        defaults: Defaults = Defaults(),
        monitor: Optional[SubmissionListener] = None,
        *,
        max_array_size: Optional[int] = None,
        state_ttl: float = 2.0,
        launcher: Optional[Launcher] = None,
    ) -> None:
        self.store = store
        self.slurm = slurm
        self.defaults = defaults
        self.launcher = launcher or Launcher(store, slurm, defaults)
        self.monitor = monitor
        # None: the cluster's MaxArraySize (scontrol show config), asked once.
        self.max_array_size = max_array_size
        self._cluster_max: Optional[int] = None
        self.state_ttl = state_ttl
        self.table = SweepTable()
        self._sacct: dict[tuple[str, ...], tuple[float, dict[str, Job]]] = {}
        self.manifests = SweepManifests(self.root)
        self._lock = threading.Lock()

    @property
    def submissions(self) -> int:
        """sbatch calls made, for tests and benchmarks."""
        return self.launcher.submissions

    @property
    def root(self) -> Path:
        return self.store.root / SWEEPS_DIR

    # -- MaxArraySize ----------------------------------------------------------------------------
    async def array_limit(self) -> int:
        """Tasks per array job: the override, else the cluster's MaxArraySize (indices 0..Max-1)."""
        if self.max_array_size:
            return int(self.max_array_size)
        if self._cluster_max is None:
            try:
                result = await self.slurm.show_config()
                value = slurm_parse.config_value(result.stdout, "MaxArraySize")
                self._cluster_max = int(value) if value and value.isdigit() and int(value) > 0 \
                    else DEFAULT_MAX_ARRAY_SIZE
            except SlurmError:
                return DEFAULT_MAX_ARRAY_SIZE  # ask again next time
        return self._cluster_max

    # -- submit ----------------------------------------------------------------------------------
    async def submit(
        self,
        request: SweepRequest,
        origin: Optional[Origin] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> SweepView:
        """Write one job directory per array job and sbatch each (one RPC per array job). When Slurm
        refuses any of them, the ones already submitted are cancelled and nothing is left behind."""
        request = request.with_seed()
        # Every array job's spec: the request's code, Python and resources, checked with the admin's
        # defaults once, here (when the request was not parsed with them), before anything runs.
        template = checked(compose(JobSpec, request), self.defaults)
        spec_fields = _stored(template)
        space = request.space()
        if request.optuna is not None:
            missing = await adaptive.missing_optuna(spec_fields, self.defaults, env)
            if missing:
                raise BadSweepRequest(missing)
            space["optuna"].update(adaptive.new_study(self.root))
        points = generate_points(request)
        prune = request.prune.model_dump() if request.prune is not None else None
        origin = origin or Origin()
        limit = await self.array_limit()
        chunks = [list(range(start, stop)) for start, stop in array_chunks(len(points), limit)]
        jobs = await self._submit_chunks(template, chunks, points, request.metric, request.parallel,
                                         attempt=0, origin=origin, env=env,
                                         optuna=space.get("optuna"), mode=request.mode or "min", prune=prune)
        manifest = SweepManifest(
            id=jobs[0].id,
            name=request.name or "sweep",
            search=request.search,  # type: ignore[arg-type]
            space=space,
            metric=request.metric,
            mode=request.mode,
            parallel=request.parallel,
            spec=spec_fields,
            points=points,
            origin=origin,
            created_at=time.time(),
            user=os.environ.get("USER"),
            jobs=jobs,
            prune=prune,
        )
        await asyncio.get_running_loop().run_in_executor(None, self.manifests.write, manifest)
        if self.monitor is not None:
            self.monitor.poke(submitted=True)
        return self.table.assemble(manifest, {}, None, fresh=True)

    async def _submit_chunks(
        self,
        template: JobSpec,
        chunks: list[list[int]],
        points: list[Optional[dict[str, Any]]],
        metric: Optional[str],
        parallel: Optional[int],
        *,
        attempt: int,
        origin: Origin,
        env: Optional[Mapping[str, str]],
        optuna: Optional[dict[str, Any]] = None,
        mode: str = "min",
        prune: Optional[dict[str, Any]] = None,
    ) -> list[SweepJob]:
        specs = [template.model_copy(update={"array": array_spec(len(chunk), parallel)}) for chunk in chunks]
        study = adaptive.task_config(optuna, mode, attempt, prune) if optuna is not None else None
        stop = {**prune, "mode": mode} if prune is not None and optuna is None else None  # the median rule
        done: list[tuple[SweepJob, JobDir]] = []
        try:
            for spec, indices in zip(specs, chunks):
                # --parallel K holds for the sweep as a whole: a split sweep's array jobs run one after
                # the other (each %K), so never more than K tasks at once. afterany: a chunk with
                # failed or cancelled tasks does not hold up the next.
                after = done[-1][0].id if parallel and done else None
                task_files = partial(_write_task_files, code=spec.code or "", indices=indices,
                                     params=[points[i] for i in indices], metric=metric, optuna=study, stop=stop)
                launched = await self.launcher.launch(
                    spec, origin, env=env, options=[f"--dependency=afterany:{after}"] if after else [],
                    prepare=task_files,
                )
                done.append((SweepJob(id=launched.job_id, directory=str(launched.job_dir.path), indices=indices,
                                      attempt=attempt, array=spec.array or "",
                                      submitted_at=launched.manifest.submitted_at, after=after), launched.job_dir))
        except BaseException:
            loop = asyncio.get_running_loop()
            for job, job_dir in done:  # all or nothing
                try:
                    await self.slurm.cancel(job.id)
                except SlurmError:
                    pass
                await loop.run_in_executor(None, self.launcher.remove, job_dir, job.id)
            raise
        return [job for job, _dir in done]

    # -- the manifests ---------------------------------------------------------------------------
    def load(self, sweep_id: str) -> SweepManifest:
        return self.manifests.load(sweep_id)

    def listing(self, limit: int = 50, job: Optional[str] = None) -> list[dict[str, Any]]:
        """The newest sweeps, from their manifests only (no Slurm call); with ``job``, its sweep."""
        return self.manifests.listing(limit, job)

    # -- the results table -----------------------------------------------------------------------
    async def view(self, sweep_id: str) -> SweepView:
        loop = asyncio.get_running_loop()
        manifest = await loop.run_in_executor(None, self.load, sweep_id)
        files = await loop.run_in_executor(None, self.table.read_files, manifest)
        unresolved = sorted({job_id for (job_id, _task), f in files.items() if f is not None and not f.final})
        slurm_jobs: dict[str, Job] = {}
        slurm_error = None
        if unresolved:
            try:
                slurm_jobs = await self._accounting(unresolved)
            except SlurmError as exc:
                slurm_error = exc.message
            if slurm_jobs:
                # A task may have ended between the file read and sacct: read its files again, or
                # Slurm's COMPLETED would be kept (cached as final) without the result it wrote.
                files = await loop.run_in_executor(None, self.table.read_files, manifest)
        return await loop.run_in_executor(
            None, partial(self.table.assemble, manifest, files, slurm_error, slurm_jobs=slurm_jobs)
        )

    async def _accounting(self, job_ids: list[str]) -> dict[str, Job]:
        """One ``sacct`` for all the array jobs with tasks not yet ended, shared for ``state_ttl``
        by every reader of the sweep (widgets, panels, tabs)."""
        key = tuple(job_ids)
        cached = self._sacct.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.state_ttl:
            return cached[1]
        jobs = {job.id: job for job in await self.slurm.accounting(job_ids)}
        self._sacct = {k: v for k, v in self._sacct.items() if now - v[0] < self.state_ttl}
        self._sacct[key] = (time.monotonic(), jobs)
        return jobs

    # -- retry -----------------------------------------------------------------------------------
    async def retry(
        self,
        sweep_id: str,
        request: Optional[SweepRetry] = None,
        origin: Optional[Origin] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> SweepView:
        """Run the failed points again (or ``request.indices``, which must have ended) as new array
        job(s) of the same sweep; the request's resources change the sweep's (e.g. more time or
        memory). In an Optuna sweep each retried task asks the study for a new trial (the failed
        ones stay FAIL there)."""
        request = request or SweepRetry()
        indices = request.indices
        view = await self.view(sweep_id)
        by_index = {task.index: task for task in view.tasks}
        if indices is None:
            chosen = sorted(i for i, t in by_index.items() if t.state.is_finished and t.state is not JobState.COMPLETED)
            if not chosen:
                raise BadSweepRequest(f"Sweep {sweep_id} has no failed tasks to retry.")
        else:
            chosen = sorted(set(indices))
            unknown = [i for i in chosen if i not in by_index]
            if unknown:
                raise BadSweepRequest(f"Sweep {sweep_id} has no task {unknown[0]} (0 to {len(by_index) - 1}).")
            active = [i for i in chosen if not by_index[i].state.is_finished]
            if active:
                raise BadSweepRequest(f"Task {active[0]} of sweep {sweep_id} has not ended; retry it when it has.")
            if not chosen:
                raise BadSweepRequest("Give the indices of the tasks to retry.")
        manifest = await asyncio.get_running_loop().run_in_executor(None, self.load, sweep_id)
        # The sweep's spec with the changes, as a whole, with the admin's defaults: once, before anything runs.
        template = parse(JobSpec, {**manifest.spec, **request.changes()}, self.defaults)
        spec_fields = _stored(template)
        if "optuna" in manifest.space:
            if template.ddp:
                raise BadSweepRequest("ddp is not supported for an optuna sweep (each task asks for one trial)")
            missing = await adaptive.missing_optuna(spec_fields, self.defaults, env)
            if missing:
                raise BadSweepRequest(missing)
        limit = await self.array_limit()
        chunks = [chosen[start:stop] for start, stop in array_chunks(len(chosen), limit)]
        attempt = max(job.attempt for job in manifest.jobs) + 1
        jobs = await self._submit_chunks(template, chunks, manifest.points, manifest.metric, manifest.parallel,
                                         attempt=attempt, origin=origin or manifest.origin, env=env,
                                         optuna=manifest.space.get("optuna"), mode=manifest.mode,
                                         prune=manifest.prune)
        with self._lock:
            latest = self.load(sweep_id)  # re-read: another retry may have been added meanwhile
            updated = latest.model_copy(update={"jobs": [*latest.jobs, *jobs], "cancelled_at": None})
            self.manifests.write(updated)
        if self.monitor is not None:
            self.monitor.poke(submitted=True)
        return await self.view(sweep_id)

    # -- cancel ----------------------------------------------------------------------------------
    async def cancel(self, sweep_id: str) -> SweepView:
        """Cancel every array job of the sweep that still has tasks queued or running (idempotent:
        a sweep that has ended is left as it is). Tasks already ended keep their results. Returns
        the sweep as Slurm tells it right after; tasks read CANCELLED once Slurm has stopped them."""
        view = await self.view(sweep_id)  # 404/400 before anything is cancelled
        active = sorted({task.job_id.partition("_")[0] for task in view.tasks if not task.state.is_finished},
                        key=int)
        if active:
            # One scancel per array job, all at once; each is idempotent ("already finished" is fine).
            results = await asyncio.gather(*(self.slurm.cancel(job_id) for job_id in active),
                                           return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            with self._lock:
                manifest = self.load(sweep_id)
                if manifest.cancelled_at is None:
                    self.manifests.write(manifest.model_copy(update={"cancelled_at": time.time()}))
            self._sacct.clear()  # the next view asks Slurm again instead of reusing the last answer
            if self.monitor is not None:  # shown CANCELLED at once; sacct confirms
                for job_id, result in zip(active, results):
                    if not isinstance(result, BaseException):
                        self.monitor.cancelled(job_id)
            if errors:
                raise errors[0]
        return await self.view(sweep_id)

