"""Live metrics of running jobs: tail each job's sample files while someone watches, push new points.

The batch job writes ``samples.<node>.jsonl`` into its job directory (see ``jobs/script.py``); the
server never contacts compute nodes. Files are read incrementally by offset (``trace.TraceReader``),
only for jobs that a client subscribed to, once per ``interval``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Optional

from ..catalog.isolation import BoundedIO
from .efficiency import summarize
from .trace import TraceReader, downsample, load

log = logging.getLogger(__name__)
Listener = Callable[[str, dict], None]
PREFIX, SUFFIX = "samples.", ".jsonl"
NOT_ANSWERING = "directory not answering"
TASK = ".task"  # samples.<node>.task<N>.jsonl: array task N's file (the sampler's out_path)


def split_name(name: str) -> Optional[tuple[str, Optional[str]]]:
    """(node, array task or None) of a samples file's name, or None when it is not one."""
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)) or len(name) <= len(PREFIX) + len(SUFFIX):
        return None
    middle = name[len(PREFIX) : -len(SUFFIX)]
    node, sep, task = middle.rpartition(TASK)
    if sep and node and task.isdigit():
        return node, task
    return middle, None


def sample_files(job_dir: Path, task: Optional[str] = None) -> dict[str, Path]:
    """node -> samples file of a job directory. With ``task`` (an array task's number): that
    task's files, plus files named without a task (written before tasks had their own, when every
    task of the array on a node wrote one file). Without: every file; an array task's is keyed
    "<node>_<task>", as Slurm names the task's job id."""
    try:
        paths = sorted(job_dir.glob(f"{PREFIX}*{SUFFIX}"))
    except OSError:
        return {}
    out: dict[str, Path] = {}
    for p in paths:
        parts = split_name(p.name)
        try:
            if parts is None or not p.is_file() or p.is_symlink():
                continue
        except OSError:
            continue
        node, its = parts
        if task is None:
            out[node if its is None else f"{node}_{its}"] = p
        elif its == str(task) or (its is None and node not in out):
            out[node] = p  # a task's own file wins over an old shared one
    return out


def task_of(job_id: str) -> Optional[str]:
    """The array task of a job id ("123_4" -> "4"), or None."""
    _base, sep, task = str(job_id).partition("_")
    return task if sep and task.isdigit() else None


def history(job_dir: Path, max_points: int = 3600, task: Optional[str] = None) -> dict[str, Any]:
    """All nodes' samples, each downsampled to at most about ``max_points``."""
    nodes = {}
    for node, path in sample_files(job_dir, task).items():
        header, samples, end = load(str(path))
        nodes[node] = {"header": header, "samples": downsample(samples, max_points=max_points), "ended": end is not None}
    return {"nodes": nodes}


def job_summary(job_dir: Path, task: Optional[str] = None) -> Optional[dict[str, Any]]:
    """The efficiency summary over every node's samples (GPUs listed per node), or None.
    ``task``: an array task's number, to read only its files (see ``sample_files``)."""
    files = sample_files(job_dir, task)
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
        cpu_busy_procs_mean=total("cpu_busy_procs_mean"),
        io_wait_mean=max((n["io_wait_mean"] for n in nodes if n.get("io_wait_mean") is not None), default=None),
    )
    return merged


class MetricsHub:
    """Per watched job, one reader per node file; a poll loop that runs only while someone watches.

    Every read of a job directory runs in the bounded pool ``io`` (the jobs service's, shared with
    its other job-directory reads), never on the event loop: a directory that hangs (an OST that
    stops answering) holds one of its threads and stops only that job's charts. Each job is read
    by at most one poll at a time; while its poll hangs, the others go on."""

    def __init__(self, find_dir: Callable[[str], Optional[Path]], interval: float = 1.0,
                 io: Optional[BoundedIO] = None) -> None:
        self.find_dir = find_dir
        self.interval = interval
        self._own_io = io is None  # a pool given (the server's job directories') is closed by its owner
        self.io = io if io is not None else BoundedIO(2, 10.0, "tritonml-metrics-io")
        self._watchers: dict[str, set[Listener]] = {}
        self._readers: dict[str, dict[str, TraceReader]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._polling: set[str] = set()  # jobs whose poll is in the pool now
        self._task: Optional[asyncio.Task[None]] = None

    def watch(self, job_id: str, listener: Listener) -> Callable[[], None]:
        """Follow the job: ``listener("metrics-history", {id, nodes})`` once its history is read,
        then ``listener("metrics", {id, node, header, samples})`` as samples arrive. Returns the
        unwatch. A directory that does not answer within the pool's time-out gets a history with
        no nodes and ``error`` "directory not answering"; its samples follow once it answers. A
        client may see a sample twice when several watch one job: samples have unique ``t``."""
        begin = asyncio.ensure_future(self._begin(job_id, listener))

        def unwatch() -> None:
            begin.cancel()
            listeners = self._watchers.get(job_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    self._watchers.pop(job_id, None)
                    self._readers.pop(job_id, None)

        return unwatch

    async def _begin(self, job_id: str, listener: Listener) -> None:
        try:
            past = await self.io.run(f"metrics-history:{job_id}", NOT_ANSWERING, self._history_blocking, job_id)
        except self.io.error:
            past = {"nodes": {}, "error": NOT_ANSWERING}
        except OSError as exc:
            past = {"nodes": {}, "error": f"The job's directory could not be read: {exc.strerror or exc}"}
        self._watchers.setdefault(job_id, set()).add(listener)
        _call(listener, "metrics-history", {"id": job_id, **past})
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def _lock(self, job_id: str) -> threading.Lock:
        return self._locks.setdefault(job_id, threading.Lock())

    def _history_blocking(self, job_id: str) -> dict[str, Any]:
        """In the pool: the job's history, and readers that continue after it."""
        with self._lock(job_id):
            job_dir = self.find_dir(job_id)
            if job_dir is None:
                return {"nodes": {}}
            past = history(job_dir, task=task_of(job_id))
            if job_id not in self._readers:
                readers = {}
                for node, path in sample_files(job_dir, task_of(job_id)).items():
                    readers[node] = TraceReader(str(path))
                    readers[node].history()  # continue after what `past` holds
                self._readers[job_id] = readers
            return past

    def _poll_blocking(self, job_id: str) -> list[tuple[str, Any, list]]:
        """In the pool: (node, header, new samples) of one watched job."""
        with self._lock(job_id):
            job_dir = self.find_dir(job_id)
            if job_dir is None or job_id not in self._watchers:
                return []
            readers = self._readers.setdefault(job_id, {})
            out = []
            for node, path in sample_files(job_dir, task_of(job_id)).items():
                reader = readers.get(node)
                if reader is None:  # a node's file that appeared after watching began: all of it
                    reader = readers[node] = TraceReader(str(path))
                samples = reader.poll()
                if samples:
                    out.append((node, reader.header, samples))
            return out

    def close(self) -> None:
        """Stop polling, and let the pool's idle threads end if the pool is this hub's own."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._own_io:
            self.io.shutdown()

    def poll_once(self) -> None:
        """Start a poll in the pool for each watched job whose last poll is back (never waits)."""
        loop = asyncio.get_running_loop()
        for job_id in list(self._watchers):
            if job_id in self._polling:
                continue  # its directory is slow or hangs: the other jobs go on
            self._polling.add(job_id)
            future = self.io.submit(f"metrics-poll:{job_id}", self._poll_blocking, job_id)
            future.add_done_callback(lambda f, j=job_id: loop.call_soon_threadsafe(self._polled, j, f))

    def _polled(self, job_id: str, future: "Future[list]") -> None:
        self._polling.discard(job_id)
        try:
            found = future.result()
        except Exception:  # noqa: BLE001 - one job's directory must not stop the others
            log.warning("tritonml-lab: reading the samples of job %s failed", job_id, exc_info=True)
            return
        for node, header, samples in found:
            payload = {"id": job_id, "node": node, "header": header, "samples": samples}
            for listener in list(self._watchers.get(job_id, ())):
                _call(listener, "metrics", payload)

    async def _run(self) -> None:
        while self._watchers:
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("tritonml-lab: metrics poll failed")
            await asyncio.sleep(self.interval)
        self._task = None
        for job_id in list(self._locks):
            if job_id not in self._watchers and job_id not in self._polling:
                self._locks.pop(job_id, None)


def _call(listener: Listener, event: str, payload: dict) -> None:
    try:
        listener(event, payload)
    except Exception:  # noqa: BLE001 - one broken client must not stop the rest
        log.exception("tritonml-lab: metrics listener failed")
