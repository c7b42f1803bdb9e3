"""Live metrics of running jobs: tail each job's sample files while someone watches, push new points.

The batch job writes ``samples.<node>.jsonl`` into its job directory (see ``jobs/script.py``); the
server never contacts compute nodes. Files are read incrementally by offset (``trace.TraceReader``),
only for jobs that a client subscribed to, once per ``interval``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from .efficiency import summarize
from .trace import TraceReader, downsample, load

log = logging.getLogger(__name__)
Listener = Callable[[str, dict], None]
PREFIX, SUFFIX = "samples.", ".jsonl"


def sample_files(job_dir: Path) -> dict[str, Path]:
    """node name -> samples file of a job directory."""
    try:
        return {
            p.name[len(PREFIX) : -len(SUFFIX)]: p
            for p in sorted(job_dir.glob(f"{PREFIX}*{SUFFIX}"))
            if p.is_file() and not p.is_symlink()
        }
    except OSError:
        return {}


def history(job_dir: Path, max_points: int = 3600) -> dict[str, Any]:
    """All nodes' samples, each downsampled to at most about ``max_points``."""
    nodes = {}
    for node, path in sample_files(job_dir).items():
        header, samples, end = load(str(path))
        nodes[node] = {"header": header, "samples": downsample(samples, max_points=max_points), "ended": end is not None}
    return {"nodes": nodes}


def job_summary(job_dir: Path) -> Optional[dict[str, Any]]:
    """The efficiency summary over every node's samples (GPUs listed per node), or None."""
    files = sample_files(job_dir)
    if not files:
        return None
    merged: dict[str, Any] = {"gpus": [], "nodes": {}}
    for node, path in files.items():
        header, samples, _end = load(str(path))
        summary = summarize(header, samples)
        merged["nodes"][node] = summary
        merged["gpus"] += [{**gpu, "node": node} for gpu in summary["gpus"]]
    nodes = list(merged["nodes"].values())

    def total(key: str) -> Optional[float]:
        values = [n[key] for n in nodes if n[key] is not None]
        return round(sum(values), 2) if values else None

    peaks = [n["rss_peak_bytes"] for n in nodes if n["rss_peak_bytes"] is not None]
    merged.update(
        source=nodes[0]["source"],
        seconds=max(n["seconds"] for n in nodes),
        # the job's cores: the nodes added up (compared with all the CPUs Slurm allocated)
        cpu_cores_mean=total("cpu_cores_mean"),
        cpu_cores_max=total("cpu_cores_max"),
        # --mem is per node: the largest node's peak is the one to compare with it
        rss_peak_bytes=max(peaks) if peaks else None,
    )
    return merged


class MetricsHub:
    """Per watched job, one reader per node file; a poll loop that runs only while someone watches."""

    def __init__(self, find_dir: Callable[[str], Optional[Path]], interval: float = 1.0) -> None:
        self.find_dir = find_dir
        self.interval = interval
        self._watchers: dict[str, set[Listener]] = {}
        self._readers: dict[str, dict[str, TraceReader]] = {}
        self._task: Optional[asyncio.Task[None]] = None

    def watch(self, job_id: str, listener: Listener) -> tuple[dict[str, Any], Callable[[], None]]:
        """The job's history now, and from then on ``listener("metrics", {id, node, header,
        samples})`` as samples arrive. A client may see a sample twice when several watch one job:
        samples have unique ``t``."""
        job_dir = self.find_dir(job_id)
        past = history(job_dir) if job_dir is not None else {"nodes": {}}
        if job_id not in self._readers and job_dir is not None:
            readers = self._readers[job_id] = {}
            for node, path in sample_files(job_dir).items():
                readers[node] = TraceReader(str(path))
                readers[node].history()  # continue after what `past` holds
        self._watchers.setdefault(job_id, set()).add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

        def unwatch() -> None:
            listeners = self._watchers.get(job_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    self._watchers.pop(job_id, None)
                    self._readers.pop(job_id, None)

        return past, unwatch

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def poll_once(self) -> None:
        for job_id, listeners in list(self._watchers.items()):
            job_dir = self.find_dir(job_id)
            if job_dir is None:
                continue
            readers = self._readers.setdefault(job_id, {})
            for node, path in sample_files(job_dir).items():
                reader = readers.get(node)
                if reader is None:  # a node's file that appeared after watching began: all of it
                    reader = readers[node] = TraceReader(str(path))
                samples = reader.poll()
                if samples:
                    payload = {"id": job_id, "node": node, "header": reader.header, "samples": samples}
                    for listener in list(listeners):
                        try:
                            listener("metrics", payload)
                        except Exception:  # noqa: BLE001 - one broken client must not stop the rest
                            log.exception("tritonml-lab: metrics listener failed")

    async def _run(self) -> None:
        while self._watchers:
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("tritonml-lab: metrics poll failed")
            await asyncio.sleep(self.interval)
        self._task = None
