"""The spread over the tasks of an array job (a sweep): median and worst GPU utilisation, memory
peaks, and the tasks that stand out, so that one bad point of a sweep is seen among a hundred.

Each task is a flat dict of figures (``task_figures`` makes one from sacct's and/or the samples'
figures); ``spread`` summarises them. Pure functions.
"""

from __future__ import annotations

from statistics import median
from typing import Any, Optional

from pydantic import BaseModel, Field

from .sizes import human_size
from .thresholds import DEFAULT, Thresholds

MIN_MEMORY_OUTLIER = 256 << 20  # memory peaks under this are never outliers (start-up noise)


class Outlier(BaseModel):
    task: str
    why: str


class Figure(BaseModel):
    median: Optional[float] = None
    worst: Optional[float] = Field(None, description="lowest GPU utilisation, highest memory peak, longest run")
    worst_task: Optional[str] = None


class Spread(BaseModel):
    """``GET jobs/{id}/spread``: the array's tasks as a whole."""

    id: str
    tasks: int
    gpu_util: Figure = Field(description="mean GPU utilisation per task, %: the worst is the lowest")
    memory_peak: Figure = Field(description="memory peak per task, bytes: the worst is the highest")
    gpu_memory_peak: Figure = Field(description="GPU memory peak per task, bytes")
    elapsed: Figure = Field(description="run time per task, seconds: the worst is the longest")
    outliers: list[Outlier] = Field(default_factory=list)


def task_figures(efficiency: Optional[dict], metrics: Optional[dict] = None) -> dict[str, Any]:
    """One task's figures: GPU utilisation (mean over its GPUs) and GPU memory from the samples, else
    from sacct's GPU TRES; memory peak and run time from sacct, else the samples."""
    e, m = efficiency or {}, metrics or {}
    gpus = [g for g in m.get("gpus") or [] if g.get("util_mean") is not None]
    util = sum(g["util_mean"] for g in gpus) / len(gpus) if gpus else e.get("gpu_util_mean")
    gpu_peaks = [g["memory_peak_bytes"] for g in m.get("gpus") or [] if g.get("memory_peak_bytes") is not None]
    peaks = [p for p in (e.get("memory_peak_bytes"), m.get("rss_peak_bytes")) if p is not None]
    return {
        "gpu_util": util,
        "gpu_memory_peak": max(gpu_peaks) if gpu_peaks else e.get("gpu_memory_peak_bytes"),
        "memory_peak": max(peaks) if peaks else None,
        "elapsed": e.get("elapsed_seconds") if e.get("elapsed_seconds") is not None else m.get("seconds"),
        "state": e.get("state"),
    }


def spread(job_id: str, tasks: dict[str, dict[str, Any]], t: Thresholds = DEFAULT) -> Spread:
    """The spread of ``tasks`` (task id -> ``task_figures``)."""
    outliers: list[Outlier] = []
    util = _figure(tasks, "gpu_util", lowest=True)
    if util.median is not None and util.median > t.gpu_util_low:
        for task, f in tasks.items():
            value = f.get("gpu_util")
            if value is not None and (value <= t.gpu_util_red or value < util.median / 2):
                outliers.append(Outlier(task=task, why=f"GPU busy {value:.0f}% against the tasks' median "
                                                       f"{util.median:.0f}%"))
    for key, label in (("memory_peak", "memory peak"), ("gpu_memory_peak", "GPU memory peak")):
        fig = _figure(tasks, key)
        if fig.median:
            for task, f in tasks.items():
                value = f.get(key)
                if value is not None and value > MIN_MEMORY_OUTLIER and value > 1.5 * fig.median:
                    outliers.append(Outlier(task=task, why=f"{label} {human_size(value)} against the tasks' median "
                                                           f"{human_size(fig.median)}"))
    elapsed = _figure(tasks, "elapsed")
    if elapsed.median:
        for task, f in tasks.items():
            value = f.get("elapsed")
            if value is not None and value > 2 * elapsed.median and value > 60:
                outliers.append(Outlier(task=task, why=f"ran {value / 60:.0f} min against the tasks' median "
                                                       f"{elapsed.median / 60:.0f} min"))
    failed = [task for task, f in tasks.items() if f.get("state") not in (None, "COMPLETED", "RUNNING", "PENDING")]
    outliers += [Outlier(task=task, why=f"ended {tasks[task]['state']}") for task in failed]
    return Spread(id=job_id, tasks=len(tasks), gpu_util=util, memory_peak=_figure(tasks, "memory_peak"),
                  gpu_memory_peak=_figure(tasks, "gpu_memory_peak"), elapsed=elapsed,
                  outliers=sorted(outliers, key=lambda o: _task_key(o.task)))


def spread_lines(s: Spread) -> list[str]:
    """The spread as text."""
    lines = [f"{s.tasks} tasks."]
    if s.gpu_util.median is not None:
        lines.append(f"  GPU utilisation: median {s.gpu_util.median:.0f}%, lowest {s.gpu_util.worst:.0f}% "
                     f"(task {s.gpu_util.worst_task})")
    for fig, label in ((s.memory_peak, "Memory peak"), (s.gpu_memory_peak, "GPU memory peak")):
        if fig.median is not None:
            lines.append(f"  {label}: median {human_size(fig.median)}, highest {human_size(fig.worst)} "
                         f"(task {fig.worst_task})")
    lines += [f"  Task {o.task}: {o.why}" for o in s.outliers]
    return lines


def _figure(tasks: dict[str, dict[str, Any]], key: str, lowest: bool = False) -> Figure:
    values = {task: f[key] for task, f in tasks.items() if f.get(key) is not None}
    if not values:
        return Figure()
    pick = min if lowest else max
    worst_task = pick(sorted(values, key=_task_key), key=lambda task: values[task])
    return Figure(median=round(median(values.values()), 2), worst=values[worst_task], worst_task=worst_task)


def _task_key(task: str) -> tuple[int, str]:
    number = task.rpartition("_")[2]
    return (int(number), task) if number.isdigit() else (1 << 30, task)
