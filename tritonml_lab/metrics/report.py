"""The efficiency report of a finished job, the one ``GET jobs/{id}`` and ``%tritonml efficiency``
both give: Slurm's accounting (``sacct``), the in-job samples' summary (``stream.job_summary``),
Slurm's GPU TRES where no sample measured a GPU, and the advice; plus its plain-text form.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from .efficiency import advise, with_slurm_gpus

GIB = 1 << 30


class Report(NamedTuple):
    efficiency: Optional[dict[str, Any]]  # sacct's figures; None until slurmdbd has the whole record
    metrics: Optional[dict[str, Any]]  # the samples summary (gpu_source: "samples" | "sacct" | None)
    advice: list[str]


async def after_the_end(slurm, job_id: str, metrics: Optional[dict[str, Any]], thresholds=None,
                        spec: Any = None) -> Report:
    """Ask ``slurm`` (a SlurmClient) for the job's accounting and combine it with ``metrics``;
    ``thresholds`` (advice.thresholds.Thresholds) are the admin's, ``spec`` the job's JobSpec."""
    figures = await slurm.efficiency(job_id)
    # slurmdbd may not have the record yet, a moment after the end: say nothing rather than zeros.
    efficiency = figures if figures.get("complete") else None
    metrics = with_slurm_gpus(metrics, efficiency)
    return Report(efficiency, metrics, advise(metrics, efficiency, thresholds=thresholds, spec=spec))


def _size(n: Optional[float]) -> str:
    if n is None:
        return "-"
    if n >= GIB:
        return f"{n / GIB:.1f} GB"
    return f"{n / (1 << 20):.0f} MB"


def _pct(x: Optional[float]) -> str:
    return "-" if x is None else f"{x * 100:.0f}%"


def _hms(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def report_lines(report: Report, thresholds=None) -> list[str]:
    """The figures and advice as lines of text (the jobs panel shows the same as meters);
    ``thresholds`` (advice.thresholds) for why a short job gets no notes."""
    e, m = report.efficiency or {}, report.metrics or {}
    lines: list[str] = []
    gpus = m.get("gpus") or []
    nodes = len({g.get("node") for g in gpus}) > 1
    for gpu in gpus:
        who = "GPU" if len(gpus) == 1 else f"GPU {gpu.get('index')}" + (f" ({gpu.get('node')})" if nodes else "")
        if gpu.get("util_mean") is not None:
            extra = [f"max {gpu['util_max']:.0f}%" if gpu.get("util_max") is not None else "",
                     f"idle {_pct(gpu['idle_fraction'])} of the time" if gpu.get("idle_fraction") is not None else ""]
            lines.append(f"  {who} utilisation: {gpu['util_mean']:.0f}% mean"
                         + "".join(f", {x}" for x in extra if x))
        peak, card = gpu.get("memory_peak_bytes"), gpu.get("memory_total_bytes")
        if peak is not None:
            lines.append(f"  {who} memory peak: {_size(peak)}" + (f" of {_size(card)} ({_pct(peak / card)})" if card else ""))
    if m.get("gpu_source") == "sacct":
        lines.append("  (GPU figures from Slurm's accounting, gres/gpuutil and gres/gpumem: no in-job samples of the GPU)")
    elif m.get("gpu_source") == "samples":
        lines.append(f"  (GPU figures from the in-job samples, {m.get('source')})")
    if e.get("cpu_efficiency") is not None:
        lines.append(f"  CPU efficiency: {_pct(e['cpu_efficiency'])} ({_hms(e.get('cpu_used_seconds'))} used of "
                     f"{_hms(e.get('cpu_allocated_seconds'))} on {e.get('cpus')} CPUs)")
    if m.get("cpu_cores_mean") is not None:
        lines.append(f"  CPU cores used: {m['cpu_cores_mean']:.1f} mean (sampled)")
    peak = e.get("memory_peak_bytes")
    source = "" if peak is not None else " (sampled)"
    peak = peak if peak is not None else m.get("rss_peak_bytes")
    if peak is not None or e.get("memory_requested_bytes"):
        requested = e.get("memory_requested_bytes")
        lines.append(f"  Memory peak: {_size(peak)}{source}" + (f" of {_size(requested)} requested ({_pct(peak / requested)})"
                                                            if requested and peak is not None else ""))
    if e.get("elapsed_seconds") is not None:
        limit = e.get("time_limit_seconds")
        lines.append(f"  Time used: {_hms(e['elapsed_seconds'])} of {_hms(limit) if limit else 'no limit'}"
                     + (f" ({_pct(e['time_fraction'])})" if e.get("time_fraction") is not None else ""))
    if report.advice:
        lines += ["", "Advice:"] + [f"  - {sentence}" for sentence in report.advice]
    elif lines and e.get("elapsed_seconds") is not None and e["elapsed_seconds"] < _min_seconds(thresholds):
        lines += ["", f"No advice: jobs shorter than {_min_seconds(thresholds) / 60:g} min get none (as jobstats)."]
    elif lines:
        lines += ["", "No advice: the job used what it asked for."]
    return lines


def _min_seconds(thresholds) -> float:
    from ..advice.thresholds import DEFAULT

    return (thresholds or DEFAULT).min_seconds
