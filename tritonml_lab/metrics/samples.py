"""One reader per job's samples, shared by the live charts (stream.MetricsHub), the live advice
(advice/live.py) and the job's detail and report (``GET jobs/{id}``, the usage report).

``SampleReaders`` is the server's registry: ``job(job_dir)`` gives the job's ``JobSamples``, made
once and kept while it is used. A ``JobSamples`` follows each of the job's files (``NodeSamples``:
a ``trace.TraceReader``, the running ``efficiency.Summary`` of what the file holds now and, while
someone streams it, its last samples), so a second summary reads only the bytes written since the
first. Its methods block (they read the shared filesystem): callers run them in the job-directory
pool or a thread of their own, never on the event loop. One read of a job at a time (its lock), so a
directory that hangs holds its own callers only.

Memory stays bounded: a follower keeps sums, not samples, except while a stream holds the job
(charts, live advice: their window of samples, ``retain`` seconds), and the registry forgets the
least recently used jobs that no stream holds beyond ``max_jobs`` jobs or ``max_files`` files (an
array job has a file per task and node).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any, Optional

from ..injob.sampler import SAMPLES_GLOB, SAMPLES_PREFIX, SAMPLES_SUFFIX, TASK_INFIX
from .efficiency import Summary
from .trace import Sample, TraceReader, downsample

RETAIN_SECONDS = 900.0  # samples a stream's window may look back (the live advice's 600 s and a margin)
MARGIN_SECONDS = 300.0  # beyond a consumer's window: the nodes' clocks may be ahead of the server's
HOLD_SECONDS = 120.0  # a stream not heard from for this long holds nothing (a consumer that vanished)


def split_name(name: str) -> Optional[tuple[str, Optional[str]]]:
    """(node, array task or None) of a samples file's name, or None when it is not one."""
    if not (name.startswith(SAMPLES_PREFIX) and name.endswith(SAMPLES_SUFFIX)) or \
            len(name) <= len(SAMPLES_PREFIX) + len(SAMPLES_SUFFIX):
        return None
    middle = name[len(SAMPLES_PREFIX) : -len(SAMPLES_SUFFIX)]
    node, sep, task = middle.rpartition(TASK_INFIX)
    if sep and node and task.isdigit():
        return node, task
    return middle, None


def sample_files(job_dir: Path, task: Optional[str] = None) -> dict[str, Path]:
    """node -> samples file of a job directory. With ``task`` (an array task's number): that
    task's files, plus files named without a task (written before tasks had their own, when every
    task of the array on a node wrote one file). Without: every file; an array task's is keyed
    "<node>_<task>", as Slurm names the task's job id."""
    try:
        paths = sorted(Path(job_dir).glob(SAMPLES_GLOB))
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


class NodeSamples:
    """One samples file followed: its reader, the summary of what the file holds now, and while a
    stream holds the job (``recent`` not None) the samples of its last ``retain`` seconds."""

    def __init__(self, path: str, buffered: bool) -> None:
        self.path = path
        self.recent: Optional[deque[Sample]] = deque() if buffered else None
        self._start()

    def _start(self) -> None:
        self.reader = TraceReader(self.path)
        self.summary = Summary()
        self.stale = False  # a stream began after this file was summed: read it again from 0
        if self.recent is not None:
            self.recent.clear()

    @property
    def header(self) -> Optional[dict[str, Any]]:
        return self.reader.header

    def refresh(self, retain: float) -> list[Sample]:
        """Read what was written since; every sample read (all of the file after a rewrite)."""
        if self.stale:
            return self.rewind(retain)
        header = self.reader.header
        got = self.reader.read()
        if got.reset:
            self.summary = Summary()  # compaction rewrote the file: its sums start again
        elif self.reader.header is not header and self.summary.count:
            return self.rewind(retain)  # a header after samples (not the sampler's way): sum it all again
        for s in got.samples:
            self.summary.add(s, self.reader.header)
        if self.recent is not None and got.fresh:
            self.recent.extend(got.fresh)
            while self.recent and self.recent[0]["t"] < got.fresh[-1]["t"] - retain:
                self.recent.popleft()
        return got.samples

    def rewind(self, retain: float) -> list[Sample]:
        """Read the whole file again (a history is all of it); the byte count goes on."""
        bytes_read = self.reader.bytes_read
        self._start()
        self.reader.bytes_read = bytes_read
        return self.refresh(retain)


class JobSamples:
    """The sample files of one job directory, read incrementally (see the module's docstring).
    ``task`` selects an array task's files as ``sample_files`` does. ``holder`` names a stream
    ("charts:<id>", "advice:<id>"): while one holds the job, its files keep their recent samples."""

    def __init__(self, job_dir: Path, retain: float = RETAIN_SECONDS) -> None:
        self.dir = Path(job_dir)
        self.retain = retain
        self.lock = threading.Lock()  # one read of the directory at a time
        self.holders: dict[str, float] = {}  # stream -> when it last read (monotonic)
        self._files: dict[str, NodeSamples] = {}  # path -> its follower

    def __len__(self) -> int:
        return len(self._files)

    @property
    def bytes_read(self) -> int:
        """Bytes read from the job's files so far (what the incremental reads save shows here)."""
        return sum(f.reader.bytes_read for f in list(self._files.values()))

    def summary(self, task: Optional[str] = None) -> Optional[dict[str, Any]]:
        """The efficiency summary over every node's samples (GPUs listed per node), or None
        without a samples file: what ``summarize`` gives over each whole file, merged."""
        with self.lock:
            nodes = {}
            for node, f in self._nodes(task, None).items():
                f.refresh(self.retain)
                nodes[node] = f.summary.result(f.header)
            self._drop_buffers()
        return merge(nodes) if nodes else None

    def history(self, task: Optional[str] = None, max_points: int = 3600, holder: Optional[str] = None,
                marks: Optional[dict[str, Optional[float]]] = None) -> dict[str, Any]:
        """All nodes' samples (each file read whole), each downsampled to at most about ``max_points``.
        ``marks``: node -> the newest sample's time, set for nodes it lacks (where ``since`` goes on)."""
        with self.lock:
            nodes = {}
            for node, f in self._nodes(task, holder).items():
                samples = f.rewind(self.retain)
                nodes[node] = {"header": f.header, "samples": downsample(samples, max_points=max_points),
                               "ended": f.reader.end is not None}
                if marks is not None:
                    marks.setdefault(node, f.reader.last_t)
            self._drop_buffers()
        return {"nodes": nodes}

    def since(self, marks: dict[str, Optional[float]], task: Optional[str], holder: str) -> list[tuple]:
        """(node, header, samples newer than ``marks[node]``) of each node with some, and ``marks``
        moved on; a node without a mark (its file came later) gives all its recent samples."""
        out = []
        with self.lock:
            for node, f in self._nodes(task, holder).items():
                f.refresh(self.retain)
                mark, new = marks.get(node), []
                for s in reversed(f.recent or ()):
                    if mark is not None and s["t"] <= mark:
                        break
                    new.append(s)
                if new:
                    new.reverse()
                    marks[node] = new[-1]["t"]
                    out.append((node, f.header, new))
            self._drop_buffers()  # a release while this read ran: its samples go now
        return out

    def window(self, start: float, task: Optional[str], holder: str) -> dict[str, tuple]:
        """node -> (header, its samples from ``start`` on), of the samples read so far."""
        with self.lock:
            out = {}
            for node, f in self._nodes(task, holder).items():
                f.refresh(self.retain)
                out[node] = (f.header, [s for s in f.recent or () if s["t"] >= start])
            self._drop_buffers()
        return out

    def release(self, holder: str) -> None:
        """The stream stopped. Never blocks (the event loop calls it): the samples kept for it go
        now if no read is under way, else at the end of that read."""
        self.holders.pop(holder, None)
        if self.lock.acquire(blocking=False):
            try:
                self._drop_buffers()
            finally:
                self.lock.release()

    def held(self) -> bool:
        now = time.monotonic()
        return any(now - seen < HOLD_SECONDS for seen in list(self.holders.values()))

    def _nodes(self, task: Optional[str], holder: Optional[str]) -> dict[str, NodeSamples]:
        """node -> the follower of its file, for the files there now (under the lock)."""
        if holder is not None:
            self.holders[holder] = time.monotonic()
        buffered = holder is not None or self.held()
        files = sample_files(self.dir, task)
        if task is None:  # the whole directory was listed: files gone are forgotten
            listed = {str(p) for p in files.values()}
            for path in [p for p in self._files if p not in listed]:
                del self._files[path]
        out = {}
        for node, path in files.items():
            f = self._files.get(str(path))
            if f is None:
                f = self._files[str(path)] = NodeSamples(str(path), buffered)
            elif holder is not None and f.recent is None:
                f.recent, f.stale = deque(), True  # its recent samples were not kept: read it again
            out[node] = f
        return out

    def _drop_buffers(self) -> None:
        if not self.held():
            for f in self._files.values():
                f.recent = None


class SampleReaders:
    """The server's ``JobSamples``, one per job directory, the least recently used forgotten first
    (never one a stream holds). Thread-safe."""

    def __init__(self, max_jobs: int = 128, max_files: int = 2048, retain: float = RETAIN_SECONDS) -> None:
        self.max_jobs, self.max_files, self.retain = max_jobs, max_files, retain
        self._jobs: OrderedDict[str, JobSamples] = OrderedDict()
        self._lock = threading.Lock()

    def keep_seconds(self, seconds: float) -> None:
        """A stream will look back ``seconds``: the recent samples kept cover that (and a margin)."""
        with self._lock:
            self.retain = max(self.retain, seconds + MARGIN_SECONDS)
            for job in self._jobs.values():
                job.retain = self.retain

    def job(self, job_dir: Path) -> JobSamples:
        key = str(job_dir)
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = JobSamples(Path(job_dir), self.retain)
            self._jobs.move_to_end(key)
            self._evict(keep=key)
        return job

    def __len__(self) -> int:
        return len(self._jobs)

    def _evict(self, keep: str) -> None:
        files = sum(len(job) for job in self._jobs.values())
        for key, job in list(self._jobs.items()):  # the least recently used first
            if len(self._jobs) <= self.max_jobs and files <= self.max_files:
                return
            if key != keep and not job.held():
                del self._jobs[key]
                files -= len(job)


def merge(nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One job's summary from its nodes' (``Summary.result`` of each file, in ``sample_files`` order)."""
    merged: dict[str, Any] = {"gpus": [], "nodes": nodes}
    for node, summary in nodes.items():
        merged["gpus"] += [{**gpu, "node": node} for gpu in summary["gpus"]]
    each = list(nodes.values())

    def total(key: str) -> Optional[float]:
        values = [n[key] for n in each if n[key] is not None]
        return round(sum(values), 2) if values else None

    peaks = [n["rss_peak_bytes"] for n in each if n["rss_peak_bytes"] is not None]
    merged.update(
        source=each[0]["source"],
        seconds=max(n["seconds"] for n in each),
        # the job's cores: the nodes added up (compared with all the CPUs Slurm allocated)
        cpu_cores_mean=total("cpu_cores_mean"),
        cpu_cores_max=total("cpu_cores_max"),
        # --mem is per node: the largest node's peak is the one to compare with it
        rss_peak_bytes=max(peaks) if peaks else None,
        cpu_busy_procs_mean=total("cpu_busy_procs_mean"),
        io_wait_mean=max((n["io_wait_mean"] for n in each if n.get("io_wait_mean") is not None), default=None),
    )
    return merged
