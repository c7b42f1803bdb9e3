"""Efficiency figures of a finished job from ``sacct --parsable2`` text.

Text, not ``sacct --json``: these --format fields (ElapsedRaw, TotalCPU, ReqMem, MaxRSS, TRESUsageIn*)
print the same in every release from 22.05 to 25.05 and long before, where the JSON moved or
reshaped each of them between releases; the one drift, ReqMem's per-node/per-CPU suffix of older
releases ("1000Mn"), is read too. ``--parsable2`` with fixed fields: no widths, no truncation.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from .gres import format_gpus, tres_gpus
from .models import JobState

EFFICIENCY_FORMAT = (
    "JobID,State,ElapsedRaw,TotalCPU,AllocCPUS,ReqMem,MaxRSS,TimelimitRaw,AllocTRES,TRESUsageInAve,TRESUsageInMax"
)

_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}


def size_bytes(text: str | None) -> Optional[int]:
    """'1000M' / '3.5G' / '5120K' / '16000Mn' (per node) / '1000Mc' (per CPU) / '123' -> bytes."""
    if not text:
        return None
    match = re.fullmatch(r"([0-9.]+)([KMGTP]?)[nc]?", text.strip())
    if not match:
        return None
    number, unit = match.groups()
    try:
        return int(float(number) * _UNITS.get(unit, 1))
    except ValueError:  # "1.2.3G": not a number
        return None


def cpu_seconds(text: str | None) -> Optional[float]:
    """sacct TotalCPU: '[DD-[HH:]]MM:SS[.mmm]' -> seconds."""
    if not text:
        return None
    days = 0
    if "-" in text:
        day, text = text.split("-", 1)
        if not day.isdigit():  # "x-01:00:00": not a day count
            return None
        days = int(day)
    parts = text.split(":")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return days * 86400 + seconds


def tres_value(tres: str | None, name: str) -> Optional[str]:
    """One entry of a TRES list: tres_value("cpu=00:01:00,gres/gpuutil=43", "gres/gpuutil") -> "43"."""
    for item in (tres or "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    return None


def _gpu_tres(ave: str, peak: str, gpu: dict[str, Optional[float]]) -> None:
    """Fold one step's GPU TRES (gres/gpuutil in %, gres/gpumem a size; Slurm's gpu/nvml plugin,
    where AccountingStorageTRES lists them) into ``gpu``: the busiest step counts."""
    for key, text, field in (("util_mean", ave, "gres/gpuutil"), ("util_max", peak, "gres/gpuutil"),
                             ("memory_peak_bytes", peak, "gres/gpumem")):
        raw = tres_value(text, field)
        if raw is None:
            continue
        value = size_bytes(raw) if field == "gres/gpumem" else _float(raw)
        if value is not None:
            gpu[key] = value if gpu.get(key) is None else max(gpu[key], value)


def _float(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


def sacct_efficiency(text: str) -> dict[str, Any]:
    """Figures for one job (and its steps) from ``sacct --parsable2 --format=EFFICIENCY_FORMAT``.

    ``gpu_util_mean``/``gpu_util_max`` (%) and ``gpu_memory_peak_bytes`` are Slurm's GPU TRES of the
    busiest step (TRESUsageInAve/TRESUsageInMax gres/gpuutil and gres/gpumem, per task), or None
    where the site does not account them."""
    figures: dict[str, Any] = {}
    peak = None
    gpu: dict[str, Optional[float]] = {"util_mean": None, "util_max": None, "memory_peak_bytes": None}
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) < 9:
            continue
        job_id, state, elapsed, total_cpu, alloc_cpus, req_mem, max_rss, limit, tres = fields[:9]
        rss = size_bytes(max_rss)
        if rss is not None:
            peak = max(peak or 0, rss)
        if len(fields) >= 11:
            _gpu_tres(fields[9], fields[10], gpu)
        if "." in job_id:  # a step: only its memory peak and GPU usage matter here
            continue
        elapsed_s = int(elapsed) if elapsed.isdigit() else None
        cpus = int(alloc_cpus) if alloc_cpus.isdigit() else None
        used = cpu_seconds(total_cpu)
        gpus = tres_gpus(tres)
        figures.update(
            # A record slurmdbd has not finished writing has no time limit and "16?" as ReqMem; one
            # still RUNNING (the job's script has ended, slurmdbd not heard yet) lacks its CPU time.
            complete=limit.isdigit() and size_bytes(req_mem) is not None and not JobState.parse(state).is_active,
            state=JobState.parse(state).value,
            elapsed_seconds=elapsed_s,
            time_limit_seconds=int(limit) * 60 if limit.isdigit() else None,
            cpus=cpus,
            cpu_used_seconds=used,
            cpu_allocated_seconds=elapsed_s * cpus if elapsed_s is not None and cpus else None,
            memory_requested_bytes=size_bytes(req_mem),
            gpus=format_gpus(gpus),
            gpu_count=sum(gpus.values()) or None,
        )
    figures["memory_peak_bytes"] = peak
    figures["gpu_util_mean"] = gpu["util_mean"]
    figures["gpu_util_max"] = gpu["util_max"]
    memory = gpu["memory_peak_bytes"]
    figures["gpu_memory_peak_bytes"] = int(memory) if memory is not None else None
    alloc = figures.get("cpu_allocated_seconds")
    used = figures.get("cpu_used_seconds")
    figures["cpu_efficiency"] = round(used / alloc, 4) if alloc and used is not None else None
    limit_s, elapsed_s = figures.get("time_limit_seconds"), figures.get("elapsed_seconds")
    figures["time_fraction"] = round(elapsed_s / limit_s, 4) if limit_s and elapsed_s is not None else None
    requested = figures.get("memory_requested_bytes")
    figures["memory_fraction"] = round(peak / requested, 4) if peak is not None and requested else None
    return figures


# The personal report's one sacct call: the efficiency fields, then the job's name, partition and end.
USAGE_FORMAT = EFFICIENCY_FORMAT + ",JobName,Partition,End"


def sacct_efficiency_by_job(text: str) -> dict[str, dict[str, Any]]:
    """``sacct_efficiency`` for each job (array task: "123_4") of one ``sacct --parsable2
    --format=USAGE_FORMAT`` listing of many jobs, with ``name``, ``partition`` and ``ended`` (the End
    field as written, e.g. 2026-11-30T08:00:00) added. Steps ("123.batch", "123_4.0") go to their
    job; a step whose job line is missing is dropped."""
    lines: dict[str, list[str]] = {}
    extra: dict[str, dict[str, Optional[str]]] = {}
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) < 9 or not fields[0]:
            continue
        job_id = fields[0].split(".", 1)[0]
        lines.setdefault(job_id, []).append(line)
        if "." not in fields[0] and len(fields) >= 14:
            extra[job_id] = {"name": fields[11], "partition": fields[12] or None,
                             "ended": fields[13] if fields[13] not in ("", "Unknown", "None") else None}
    return {job_id: {**sacct_efficiency("\n".join(group)), **extra[job_id]}
            for job_id, group in lines.items() if job_id in extra}
