"""A sweep's results table (``GET sweeps/{id}``) from its manifest, its task files and Slurm's word.

Each point's row comes from the newest array job that ran it. A task's files say most (the runner's
clean end or the cell's failure are final; an exit code without the runner's word, or none yet, needs
Slurm's); final rows are cached for the life of the server, so an ended sweep costs no reads.
"""

from __future__ import annotations

import threading
from typing import Optional

from ..slurm import Job, JobState
from .models import Pruned, SweepJob, SweepJobView, SweepManifest, SweepTask, SweepView
from .steps import StepReader
from .taskfiles import _Files, rank_tasks, read_task_files, task_error


_REQUEUED = frozenset({JobState.PENDING, JobState.REQUEUED, JobState.REQUEUE_HOLD, JobState.REQUEUE_FED})


def latest_tasks(manifest: SweepManifest) -> dict[int, tuple[SweepJob, int]]:
    """Sweep index -> (the newest array job running it, its task there)."""
    latest: dict[int, tuple[SweepJob, int]] = {}
    for job in manifest.jobs:
        for task, index in enumerate(job.indices):
            latest[index] = (job, task)
    return latest


class SweepTable:
    """Builds views; keeps the final rows and follows the running tasks' step files."""

    def __init__(self) -> None:
        self._final: dict[tuple[str, int], SweepTask] = {}
        self._lock = threading.Lock()
        self.steps = StepReader()

    def read_files(self, manifest: SweepManifest) -> dict[tuple[str, int], Optional[_Files]]:
        """(job id, task) -> what the files say, for the tasks whose final row is not cached."""
        wanted: dict[str, tuple[SweepJob, list[int]]] = {}
        for job, task in latest_tasks(manifest).values():
            if (job.id, task) not in self._final:
                wanted.setdefault(job.id, (job, []))[1].append(task)
        out: dict[tuple[str, int], Optional[_Files]] = {}
        for job_id, (job, tasks) in wanted.items():
            for task, files in read_task_files(job.directory, tasks).items():
                out[(job_id, task)] = files
        return out

    def assemble(
        self,
        manifest: SweepManifest,
        files: dict[tuple[str, int], Optional[_Files]],
        slurm_error: Optional[str],
        *,
        slurm_jobs: Optional[dict[str, Job]] = None,
        fresh: bool = False,
    ) -> SweepView:
        """The view (blocking: reads step files). ``fresh``: just submitted, Slurm not asked."""
        slurm_jobs = slurm_jobs or {}
        tasks: list[SweepTask] = []
        for index, (job, task) in sorted(latest_tasks(manifest).items()):
            key = (job.id, task)
            cached = self._final.get(key)
            if cached is not None:
                tasks.append(cached.model_copy())
                continue
            info = files.get(key)
            state = info.state if info else JobState.PENDING
            exit_code = info.exit_code if info else None
            final = bool(info and info.final)
            if not final and not fresh:
                record = slurm_jobs.get(f"{job.id}_{task}")
                if record is None:  # a pending array not yet split into tasks: one record "JOBID"
                    parent = slurm_jobs.get(job.id)
                    record = parent if parent is not None and parent.array_task_id is None else None
                if record is not None and record.state is not JobState.UNKNOWN:
                    # Slurm's word wins when the task ended, when its files say nothing yet, and when it
                    # was requeued (an exit code on file is then an earlier run's).
                    if record.state.is_finished or not (info and info.exit_code is not None) \
                            or record.state in _REQUEUED:
                        state = record.state
                    if record.state.is_finished:
                        final = True
                        if exit_code is None:
                            exit_code = record.exit_code
            if not final and manifest.cancelled_at is not None and exit_code is not None:
                # Killed (exit trap, no runner's word) in a cancelled sweep, sacct not yet told: that
                # is the cancel, not a failure. Not cached: Slurm's own word replaces it when it comes.
                state = JobState.CANCELLED
            pruned = info.pruned if info else None
            item = SweepTask(
                index=index,
                params=info.params if info and info.params is not None else manifest.points[index],
                state=state,
                result=info.result if info else None,
                exit_code=exit_code,
                job_id=f"{job.id}_{task}",
                attempt=job.attempt,
                error=task_error(job.directory, task, state, exit_code) if state.is_finished else None,
                pruned=Pruned(step=pruned["step"], why=str(pruned.get("why") or "")[:500])
                if pruned and isinstance(pruned.get("step"), int) else None,
                curve=self.steps.read(info.steps, manifest.metric) if info and info.steps else None,
            )
            if final:
                with self._lock:
                    self._final[key] = item.model_copy()
                if info and info.steps:
                    self.steps.forget(info.steps)
            tasks.append(item)
        counts: dict[str, int] = {}
        for task in tasks:
            counts[task.state.value] = counts.get(task.state.value, 0) + 1
        best = rank_tasks(tasks, manifest.metric, manifest.mode)
        return SweepView(
            id=manifest.id,
            name=manifest.name,
            search=manifest.search,
            space=manifest.space,
            metric=manifest.metric,
            mode=manifest.mode,
            parallel=manifest.parallel,
            created_at=manifest.created_at,
            total=len(tasks),
            counts=counts,
            finished=all(task.state.is_finished for task in tasks),
            best=best.model_copy() if best else None,
            jobs=[SweepJobView(id=j.id, attempt=j.attempt, tasks=len(j.indices), array=j.array,
                               directory=j.directory, after=j.after) for j in manifest.jobs],
            tasks=tasks,
            slurm_error=slurm_error,
            cancelled_at=manifest.cancelled_at,
            prune=manifest.prune,
            pruned=sum(1 for task in tasks if task.pruned is not None),
        )
