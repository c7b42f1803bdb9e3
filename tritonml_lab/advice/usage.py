"""My efficiency report: ``%tritonml report --days 30`` and the jobs panel's section.

Over the user's jobs that ended in the last N days: GPU-hours requested against used, CPU, memory
and time requested against used, and the three changes (by job name and resource) that would have
saved the most, from the same rules as each job's advice (rules.py). Slurm is asked ONCE per report,
``sacct`` bounded by date (``SlurmClient.efficiency_between``), and the answer is cached for
``cache_seconds``; concurrent callers share one call.
"""

from __future__ import annotations

import asyncio
import getpass
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Optional

from pydantic import BaseModel, Field

from .rules import findings, usage_of
from .sizes import GIB
from .thresholds import DEFAULT, Thresholds

ACTIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"}
# To rank unlike savings on one scale, in core-hours: a GPU-hour as 16 (a typical GPU node's cores
# per GPU), a GB-hour of memory as 1/4 (4 GB per core), an hour of reserved time as 1/20 (it costs
# nothing once released, but long limits start later).
WEIGHT = {"gpus": 16.0, "cpus_per_task": 1.0, "mem": 0.25, "time": 0.05}
UNIT = {"gpus": "GPU-hours", "cpus_per_task": "core-hours", "mem": "GB-hours", "time": "hours of reserved time"}
OPTION = {"gpus": "--gpus", "cpus_per_task": "--cpus-per-task", "mem": "--mem", "time": "--time"}


class Saving(BaseModel):
    name: str = Field(description="the jobs' name")
    field: str = Field(description="the JobSpec field: gpus, cpus_per_task, mem or time")
    was: Optional[str] = Field(None, description="what those jobs asked for most often")
    to: str = Field(description="what to ask for (the largest suggestion over those jobs)")
    jobs: int
    saving: float = Field(description="in `unit`, summed over the jobs")
    unit: str
    text: str


class UsageReport(BaseModel):
    """``GET my-efficiency?days=N``."""

    days: int
    since: float = Field(description="unix time of the report's start")
    until: float
    jobs: int = Field(description="finished jobs in the window")
    gpu_jobs: int
    gpu_hours_requested: float
    gpu_hours_measured: float = Field(description="GPU-hours of the jobs with a utilisation figure")
    gpu_hours_used: Optional[float] = Field(None, description="those GPU-hours times their utilisation; "
                                            "None when no job has a GPU figure")
    cpu_hours_allocated: float
    cpu_hours_used: float
    memory_gb_hours_requested: float
    memory_gb_hours_used: float
    time_hours_requested: float = Field(description="time limits of the completed jobs, summed")
    time_hours_used: float = Field(description="their run times, summed")
    over_memory_jobs: int = Field(description="jobs whose memory peak was under the rules' share of the request")
    over_time_jobs: int = Field(description="completed jobs that used less than the rules' share of their limit")
    top: list[Saving] = Field(default_factory=list, description="the three changes that would save the most")
    cached_at: float


def build_report(figures: dict[str, dict], days: int, since: float, until: float,
                 t: Thresholds = DEFAULT, samples: Optional[Callable[[str], Optional[dict]]] = None) -> UsageReport:
    """The report over ``figures`` (``sacct_efficiency_by_job``); ``samples(id)`` gives a job's
    samples summary where one exists (GPU utilisation where sacct has none)."""
    totals: Counter[str] = Counter()
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    jobs = gpu_jobs = over_memory = over_time = 0
    measured = False
    for job_id, e in figures.items():
        if not e.get("complete") or e.get("state") in ACTIVE or not e.get("elapsed_seconds"):
            continue
        jobs += 1
        hours = e["elapsed_seconds"] / 3600
        count = e.get("gpu_count") or 0
        metrics = samples(job_id) if samples is not None and count else None
        u = usage_of(metrics, e)
        if count:
            gpu_jobs += 1
            totals["gpu_req"] += count * hours
            utils = [g["util_mean"] for g in u.gpus if g.get("util_mean") is not None]
            if e.get("gpu_util_mean") is not None and not utils:
                utils = [e["gpu_util_mean"]]
            if utils:
                measured = True
                totals["gpu_measured"] += count * hours
                totals["gpu_used"] += count * hours * sum(utils) / len(utils) / 100
        if e.get("cpus"):
            totals["cpu_alloc"] += e["cpus"] * hours
            totals["cpu_used"] += (e.get("cpu_used_seconds") or 0) / 3600
        if e.get("memory_requested_bytes"):
            totals["mem_req"] += e["memory_requested_bytes"] / GIB * hours
            totals["mem_used"] += (e.get("memory_peak_bytes") or 0) / GIB * hours
        if e.get("state") == "COMPLETED" and e.get("time_limit_seconds"):
            totals["time_req"] += e["time_limit_seconds"] / 3600
            totals["time_used"] += hours
        for f in findings(u, t, any_length=True):
            if f.to is None or f.field not in WEIGHT:
                continue
            saved = _saving(f.field, f.to, u, e, hours)
            if saved <= 0:
                continue
            over_memory += f.field == "mem"
            over_time += f.field == "time"
            group = groups.setdefault((e.get("name") or "(no name)", f.field),
                                      {"was": Counter(), "to": [], "jobs": 0, "saving": 0.0})
            group["was"][_asked(f.field, u, e)] += 1
            group["to"].append(f.to)
            group["jobs"] += 1
            group["saving"] += saved
    ranked = sorted(groups.items(), key=lambda kv: kv[1]["saving"] * WEIGHT[kv[0][1]], reverse=True)[:3]
    return UsageReport(
        days=days, since=since, until=until, jobs=jobs, gpu_jobs=gpu_jobs,
        gpu_hours_requested=round(totals["gpu_req"], 2), gpu_hours_measured=round(totals["gpu_measured"], 2),
        gpu_hours_used=round(totals["gpu_used"], 2) if measured else None,
        cpu_hours_allocated=round(totals["cpu_alloc"], 2), cpu_hours_used=round(totals["cpu_used"], 2),
        memory_gb_hours_requested=round(totals["mem_req"], 2), memory_gb_hours_used=round(totals["mem_used"], 2),
        time_hours_requested=round(totals["time_req"], 2), time_hours_used=round(totals["time_used"], 2),
        over_memory_jobs=over_memory, over_time_jobs=over_time,
        top=[_top(name, field, g) for (name, field), g in ranked], cached_at=time.time(),
    )


class UsageReports:
    """The reports of one user, cached: ``get(days)`` asks sacct at most once per ``cache_seconds``
    per window length; ``calls`` counts the sacct calls made."""

    def __init__(self, slurm: Any, thresholds: Thresholds = DEFAULT, cache_seconds: float = 300.0,
                 samples: Optional[Callable[[str], Optional[dict]]] = None, user: Optional[str] = None) -> None:
        self.slurm = slurm
        self.t = thresholds
        self.cache_seconds = cache_seconds
        self.samples = samples
        self.user = user or getpass.getuser()
        self.calls = 0
        self._cache: dict[int, tuple[float, UsageReport]] = {}
        self._inflight: dict[int, asyncio.Future[UsageReport]] = {}

    async def get(self, days: int, *, fresh: bool = False) -> UsageReport:
        cached = self._cache.get(days)
        if cached is not None and not fresh and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        if days not in self._inflight:
            self._inflight[days] = asyncio.ensure_future(self._make(days))
        future = self._inflight[days]
        try:
            return await asyncio.shield(future)
        finally:
            if future.done():
                self._inflight.pop(days, None)

    async def _make(self, days: int) -> UsageReport:
        until = datetime.now()
        since = until - timedelta(days=days)
        self.calls += 1
        figures = await self.slurm.efficiency_between(_sacct_time(since), _sacct_time(until), self.user)
        loop = asyncio.get_running_loop()
        report = await loop.run_in_executor(None, build_report, figures, days, since.timestamp(),
                                            until.timestamp(), self.t, self.samples)
        self._cache[days] = (time.monotonic(), report)
        return report


def report_lines(r: UsageReport) -> list[str]:
    """The report as text (``%tritonml report``)."""
    lines = [f"Your jobs that ended in the last {r.days} days: {r.jobs} ({r.gpu_jobs} with GPUs)."]
    if r.gpu_jobs:
        used = (f"; used {r.gpu_hours_used:.1f} of the {r.gpu_hours_measured:.1f} with a utilisation figure"
                f" ({_share(r.gpu_hours_used, r.gpu_hours_measured)})" if r.gpu_hours_used is not None
                else "; no utilisation figures (no samples, and the site does not account gres/gpuutil)")
        lines.append(f"  GPU-hours requested: {r.gpu_hours_requested:.1f}{used}")
    lines.append(f"  CPU core-hours: {r.cpu_hours_used:.1f} used of {r.cpu_hours_allocated:.1f} allocated "
                 f"({_share(r.cpu_hours_used, r.cpu_hours_allocated)})")
    lines.append(f"  Memory GB-hours: {r.memory_gb_hours_used:.1f} used (peak) of {r.memory_gb_hours_requested:.1f} "
                 f"requested ({_share(r.memory_gb_hours_used, r.memory_gb_hours_requested)}); "
                 f"{r.over_memory_jobs} jobs asked for much more memory than they used")
    lines.append(f"  Time: {r.time_hours_used:.1f} h used of {r.time_hours_requested:.1f} h requested by completed "
                 f"jobs ({_share(r.time_hours_used, r.time_hours_requested)}); {r.over_time_jobs} jobs asked for much "
                 "more time than they used")
    if r.top:
        lines += ["", "The changes that would save the most:"]
        lines += [f"  {k}. {s.text}" for k, s in enumerate(r.top, 1)]
    else:
        lines += ["", "Nothing to change: your jobs used what they asked for."]
    return lines


# -- helpers -------------------------------------------------------------------------------------
def _saving(field: str, to: Any, u: Any, e: dict, hours: float) -> float:
    from ..slurm.efficiency import size_bytes
    from ..slurm.timefmt import parse_duration

    if field == "cpus_per_task" and u.cpus:
        return max(0, u.cpus - int(to) * u.tasks) * hours
    if field == "gpus":
        return max(0, (e.get("gpu_count") or 0) - int(str(to).rpartition(":")[2])) * hours
    if field == "mem" and u.memory_requested:
        return max(0, u.memory_requested - (size_bytes(str(to)) or 0)) / GIB * hours
    if field == "time" and u.time_limit:
        return max(0, u.time_limit - (parse_duration(str(to)) or 0)) / 3600
    return 0.0


def _asked(field: str, u: Any, e: dict) -> Optional[str]:
    from .sizes import format_size, format_time

    if field == "cpus_per_task":
        return str(u.cpus) if u.cpus else None
    if field == "gpus":
        return e.get("gpus")
    if field == "mem":
        return format_size(u.memory_requested) if u.memory_requested else None
    return format_time(int(u.time_limit)) if u.time_limit else None


def _top(name: str, field: str, g: dict) -> Saving:
    from ..slurm.efficiency import size_bytes
    from ..slurm.timefmt import parse_duration

    def magnitude(v: str) -> float:
        if field == "mem":
            return size_bytes(v) or 0
        if field == "time":
            return parse_duration(v) or 0
        return float(v.rpartition(":")[2])

    to = max(g["to"], key=lambda v: magnitude(str(v)))
    was = g["was"].most_common(1)[0][0]
    saving = round(g["saving"], 2)
    jobs = g["jobs"]
    text = (f"{OPTION[field]}={to}" + (f" instead of {was}" if was else "") + f" for jobs named “{name}” "
            f"({jobs} job{'s' if jobs != 1 else ''}): saves {saving:g} {UNIT[field]}.")
    return Saving(name=name, field=field, was=was, to=str(to), jobs=jobs, saving=saving, unit=UNIT[field], text=text)


def _share(a: Optional[float], b: float) -> str:
    return f"{a / b:.0%}" if a is not None and b else "-"


def _sacct_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
