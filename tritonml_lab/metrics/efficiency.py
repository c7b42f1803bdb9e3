"""Efficiency of a finished job and plain advice, from the in-job samples and Slurm's accounting.

``summarize(header, samples)`` reduces a sampler file (any mix of 1 Hz and coarse rows) to GPU and
CPU figures (``Summary``: the same as running sums, for a reader that follows the file); ``with_slurm_gpus`` falls back to Slurm's GPU TRES where no sample measured a GPU;
``advise(figures)`` turns those plus sacct's (``slurm.parse.sacct_efficiency``) into sentences a
researcher can act on, with the rules of ``advice/rules.py``. Pure functions: the server, the widget and ``%tritonml efficiency`` all show
the same result (``report.py`` puts them together).
"""

from __future__ import annotations

from typing import Any, Optional

from ..advice.rules import findings, usage_of
from ..advice.thresholds import DEFAULT, Thresholds
from .trace import expand

MIB = 1 << 20
GIB = 1 << 30
BUSY_CORE = 0.8  # a process at this share of a core or more counts as busy (a DataLoader worker that cannot keep up)


def summarize(header: Optional[dict], samples: list[dict]) -> dict[str, Any]:
    """Time-weighted GPU utilisation (mean, max, idle share), GPU memory peak vs the card, CPU
    cores used (mean, max) and resident memory peak, over the whole file."""
    summary = Summary()
    for raw in samples:
        summary.add(raw, header)
    return summary.result(header)


class Summary:
    """``summarize`` as running sums: ``add`` samples as they are read, ``result`` at any time (the
    same figures as ``summarize`` over all the samples added, as they are summed in the same order)."""

    def __init__(self) -> None:
        self.count = 0
        self.per_gpu: list[dict[str, Any]] = []
        self.total = self.cpu_sum = self.cpu_time = 0.0
        self.cpu_max: Optional[float] = None
        self.rss_max: Optional[float] = None
        self.busy_sum = self.busy_time = self.io_sum = self.io_time = 0.0

    def add(self, raw: dict, header: Optional[dict]) -> None:
        self.count += 1
        s = expand(raw, header)
        seconds = float(s["seconds"])
        self.total += seconds
        if raw.get("pc") is not None:  # added keys: absent from older files (then None, not 0)
            self.busy_sum += sum(1 for c in raw["pc"] if c >= BUSY_CORE) * seconds
            self.busy_time += seconds
        if raw.get("io") is not None:
            self.io_sum += raw["io"] * seconds
            self.io_time += seconds
        if s["cpu_cores"] is not None:
            self.cpu_sum += s["cpu_cores"] * seconds
            self.cpu_time += seconds
            peak = s["cpu_cores_max"] if s["cpu_cores_max"] is not None else s["cpu_cores"]
            self.cpu_max = peak if self.cpu_max is None else max(self.cpu_max, peak)
        if s["rss_mib"] is not None:
            self.rss_max = s["rss_mib"] if self.rss_max is None else max(self.rss_max, s["rss_mib"])
        for k, gpu in enumerate(s["gpus"]):
            while len(self.per_gpu) <= k:
                self.per_gpu.append({"util_sum": 0.0, "time": 0.0, "idle": 0.0, "util_max": None,
                                     "mem_max": None, "mem_total_mib": gpu.get("mem_total_mib"),
                                     "name": gpu.get("name"), "index": gpu.get("index")})
            acc = self.per_gpu[k]
            if gpu["util"] is not None:
                acc["util_sum"] += gpu["util"] * seconds
                acc["time"] += seconds
                if gpu["util"] < 5:
                    acc["idle"] += seconds
                peak = gpu["util_max"] if gpu["util_max"] is not None else gpu["util"]
                acc["util_max"] = peak if acc["util_max"] is None else max(acc["util_max"], peak)
            if gpu["mem_mib"] is not None:
                acc["mem_max"] = gpu["mem_mib"] if acc["mem_max"] is None else max(acc["mem_max"], gpu["mem_mib"])

    def result(self, header: Optional[dict]) -> dict[str, Any]:
        """The figures so far, as new objects each time (callers add to them)."""
        gpus = [
            {
                "index": acc["index"],
                "name": acc["name"],
                "util_mean": round(acc["util_sum"] / acc["time"], 1) if acc["time"] else None,
                "util_max": acc["util_max"],
                "idle_fraction": round(acc["idle"] / acc["time"], 3) if acc["time"] else None,
                "memory_peak_bytes": int(acc["mem_max"] * MIB) if acc["mem_max"] is not None else None,
                "memory_total_bytes": int(acc["mem_total_mib"] * MIB) if acc["mem_total_mib"] else None,
            }
            for acc in self.per_gpu
        ]
        return {
            "seconds": self.total,
            "source": (header or {}).get("src"),
            "gpus": gpus,
            "cpu_cores_mean": round(self.cpu_sum / self.cpu_time, 2) if self.cpu_time else None,
            "cpu_cores_max": self.cpu_max,
            "rss_peak_bytes": int(self.rss_max * MIB) if self.rss_max is not None else None,
            # processes each near a full core (the sampler's "pc"), on average: DataLoader workers
            # that cannot keep up show as 2 or more while the GPU waits
            "cpu_busy_procs_mean": round(self.busy_sum / self.busy_time, 2) if self.busy_time else None,
            "io_wait_mean": round(self.io_sum / self.io_time, 1) if self.io_time else None,  # % of time stalled on I/O
        }


SLURM_GPU_NAME = "Slurm accounting (gres/gpuutil, gres/gpumem)"


def with_slurm_gpus(metrics: Optional[dict], slurm: Optional[dict]) -> Optional[dict]:
    """The samples summary with ``gpu_source`` set: "samples" when the in-job samples measured a GPU
    (preferred: per GPU, 1 Hz, with the card's size), else "sacct" with one entry from Slurm's GPU
    TRES (``slurm.parse.sacct_efficiency``) when the site accounts them, else None."""
    has_samples = bool(metrics and any(g.get("util_mean") is not None for g in metrics.get("gpus") or []))
    slurm = slurm or {}
    util, peak = slurm.get("gpu_util_mean"), slurm.get("gpu_memory_peak_bytes")
    if has_samples or (util is None and peak is None):
        return None if metrics is None else {**metrics, "gpu_source": "samples" if has_samples else None}
    entry = {
        "node": None, "index": None, "name": SLURM_GPU_NAME,
        "count": slurm.get("gpu_count"),  # summed over GPU types ("h100:2,a100:1" -> 3)
        "util_mean": util, "util_max": slurm.get("gpu_util_max"), "idle_fraction": None,
        "memory_peak_bytes": peak, "memory_total_bytes": None,
    }
    base = metrics or {"source": None, "seconds": slurm.get("elapsed_seconds") or 0, "nodes": {},
                       "cpu_cores_mean": None, "cpu_cores_max": None, "rss_peak_bytes": None}
    return {**base, "gpus": [entry], "gpu_source": "sacct"}


def advise(samples: Optional[dict], slurm: Optional[dict], cpus: Optional[int] = None,
           thresholds: Optional[Thresholds] = None, spec: Any = None) -> list[str]:
    """Plain advice from the sample summary and sacct's figures (either may be missing): the
    rules of ``advice/rules.py``, the same the live advice and the suggestion use."""
    usage = usage_of(samples, slurm, spec)
    if cpus and usage.cpus is None:
        usage.cpus = cpus
    return [f.text for f in findings(usage, thresholds or DEFAULT)]
