"""Live metrics of running jobs: follow each watched job's samples, push new points.

The batch job writes its samples files into its job directory (see ``injob/sampler.py``); the server
never contacts compute nodes. The files are read through the job's one reader (``samples.JobSamples``,
shared with the live advice and the job's detail), only for jobs that a client subscribed to, once
per ``interval``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Optional

from ..catalog.isolation import BoundedIO
from .samples import JobSamples, SampleReaders, task_of

log = logging.getLogger(__name__)
Listener = Callable[[str, dict], None]
NOT_ANSWERING = "directory not answering"


def history(job_dir: Path, max_points: int = 3600, task: Optional[str] = None) -> dict[str, Any]:
    """All nodes' samples, each downsampled to at most about ``max_points`` (a reader of its own: the
    kernel's side; the server asks its ``SampleReaders``)."""
    return JobSamples(job_dir).history(task, max_points)


def job_summary(job_dir: Path, task: Optional[str] = None) -> Optional[dict[str, Any]]:
    """The efficiency summary over every node's samples (GPUs listed per node), or None; each file
    read whole (the kernel's side; the server asks its ``SampleReaders``, which read what is new).
    ``task``: an array task's number, to read only its files (see ``samples.sample_files``)."""
    return JobSamples(job_dir).summary(task)


class MetricsHub:
    """Per watched job, where each node's stream is (``marks``) in the job's shared reader; a poll
    loop that runs only while someone watches.

    Every read of a job directory runs in the bounded pool ``io`` (the jobs service's, shared with
    its other job-directory reads), never on the event loop: a directory that hangs (an OST that
    stops answering) holds one of its threads and stops only that job's charts. Each job is read
    by at most one poll at a time; while its poll hangs, the others go on."""

    def __init__(self, find_dir: Callable[[str], Optional[Path]], interval: float = 1.0,
                 io: Optional[BoundedIO] = None, samples: Optional[SampleReaders] = None) -> None:
        self.find_dir = find_dir
        self.interval = interval
        self._own_io = io is None  # a pool given (the server's job directories') is closed by its owner
        self.io = io if io is not None else BoundedIO(2, 10.0, "tritonml-metrics-io")
        self.samples = samples if samples is not None else SampleReaders()
        self._watchers: dict[str, set[Listener]] = {}
        self._marks: dict[str, dict[str, Optional[float]]] = {}  # job -> node -> newest sample sent
        self._held: dict[str, JobSamples] = {}  # job -> the reader its stream holds
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
                    self._forget(job_id)

        return unwatch

    async def _begin(self, job_id: str, listener: Listener) -> None:
        marks = self._marks.get(job_id, {})  # a second watcher's history leaves the first's marks
        try:
            past, reader = await self.io.run(f"metrics-history:{job_id}", NOT_ANSWERING, self._history_blocking,
                                             job_id, marks)
        except self.io.error:
            past, reader = {"nodes": {}, "error": NOT_ANSWERING}, None
        except OSError as exc:
            past, reader = {"nodes": {}, "error": f"The job's directory could not be read: {exc.strerror or exc}"}, None
        self._watchers.setdefault(job_id, set()).add(listener)
        self._marks.setdefault(job_id, marks)
        if reader is not None:
            self._held[job_id] = reader
        _call(listener, "metrics-history", {"id": job_id, **past})
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def _forget(self, job_id: str) -> None:
        """No one watches the job: its stream lets go of the reader (never blocks). A read cancelled
        or under way may hold it again: that hold lapses by itself (samples.HOLD_SECONDS)."""
        self._marks.pop(job_id, None)
        held = self._held.pop(job_id, None)
        if held is not None:
            held.release(f"charts:{job_id}")

    def _history_blocking(self, job_id: str, marks: dict) -> tuple[dict[str, Any], Optional[JobSamples]]:
        """In the pool: the job's history and its reader; the stream goes on after it (``marks``)."""
        job_dir = self.find_dir(job_id)
        if job_dir is None:
            return {"nodes": {}}, None
        reader = self.samples.job(job_dir)
        return reader.history(task_of(job_id), holder=f"charts:{job_id}", marks=marks), reader

    def _poll_blocking(self, job_id: str, marks: dict) -> tuple[list[tuple[str, Any, list]], Optional[JobSamples]]:
        """In the pool: (node, header, new samples) of one watched job, and its reader."""
        job_dir = self.find_dir(job_id)
        if job_dir is None:
            return [], None
        reader = self.samples.job(job_dir)
        return reader.since(marks, task_of(job_id), f"charts:{job_id}"), reader

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
            marks = self._marks.setdefault(job_id, {})
            future = self.io.submit(f"metrics-poll:{job_id}", self._poll_blocking, job_id, marks)
            future.add_done_callback(lambda f, j=job_id: loop.call_soon_threadsafe(self._polled, j, f))

    def _polled(self, job_id: str, future: "Future[list]") -> None:
        self._polling.discard(job_id)
        try:
            found, reader = future.result()
        except Exception:  # noqa: BLE001 - one job's directory must not stop the others
            log.warning("tritonml-lab: reading the samples of job %s failed", job_id, exc_info=True)
            return
        if job_id not in self._watchers:  # unwatched while it read: the read held the reader again
            if reader is not None:
                reader.release(f"charts:{job_id}")
            return
        if reader is not None:
            self._held[job_id] = reader
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


def _call(listener: Listener, event: str, payload: dict) -> None:
    try:
        listener(event, payload)
    except Exception:  # noqa: BLE001 - one broken client must not stop the rest
        log.exception("tritonml-lab: metrics listener failed")
