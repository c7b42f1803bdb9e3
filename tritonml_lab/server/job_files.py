"""The job directories as the server reads them: one pool of reader threads with a time-out, and the
manifests read so far.

Job directories are read in a pool of their own threads, never on the event loop (issue 23): a request
waits at most DIR_TIMEOUT seconds for one; the job list waits at most LIST_WAIT for the manifests it has
not read yet (the rest follow as job events). A manifest found missing or unreadable is looked for again
after MANIFEST_RECHECK seconds (it may have been briefly so). The job service, the live charts
(MetricsHub), the live advice and the usage report all read through this one owner, and the jobs'
samples through its one registry of readers (``samples``, metrics/samples.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from ..catalog.isolation import BoundedIO
from ..jobs.spec import JobSpec
from ..jobs.store import BadJobRequest, DirectoryNotAnswering, JobStore, Manifest, parse_job_id
from ..metrics.samples import SampleReaders
from ..slurm import Job
from ..metrics.stream import NOT_ANSWERING

DIR_THREADS = 4
DIR_TIMEOUT = 5.0
LIST_WAIT = 1.0
MANIFEST_RECHECK = 10.0


class JobFiles:
    def __init__(self, store: JobStore, on_late: Callable[[str], None] = lambda base: None) -> None:
        """``on_late(base)``: a job shown before its manifest could be read has one now, or its directory
        stopped answering (the server pushes the job's row again)."""
        self.store = store
        self.on_late = on_late
        self.samples = SampleReaders()  # one reader per job's samples: the detail, the charts, the live advice
        self.dirs = BoundedIO(DIR_THREADS, DIR_TIMEOUT, "tritonml-jobdir-io", DirectoryNotAnswering)
        self.manifests: dict[str, Manifest] = {}  # job id (an array's) -> its manifest
        self._no_manifest: dict[str, float] = {}  # job id -> when a read found none (monotonic)
        self.version = 0  # bumped when a manifest read comes back or a directory stops answering
        self._late: set[str] = set()  # shown before their manifest was read: pushed again once it is

    # -- blocking reads, for worker threads (the live advice, the usage report, the pool) ---------
    def path(self, job_id: str) -> Optional[Path]:
        job_dir = self.store.find(job_id)
        return job_dir.path if job_dir is not None else None

    def summary(self, job_id: str) -> Optional[dict[str, Any]]:
        """The samples' summary of the job (all its tasks), or None without a directory."""
        path = self.path(job_id)
        return self.samples.job(path).summary() if path is not None else None

    def spec(self, job_id: str) -> Optional[JobSpec]:
        manifest = self.manifest(job_id)
        return manifest.spec if manifest is not None else None

    def manifest(self, job_id: str) -> Optional[Manifest]:
        """The job's manifest, read here if not known."""
        base, _task = parse_job_id(job_id)
        if base in self.manifests or not self.manifest_due(base):
            return self.manifests.get(base)
        return self.read_manifest(base)

    def manifest_due(self, base: str) -> bool:
        """Not read yet, or found missing long enough ago to look again."""
        if base in self.manifests:
            return False
        missed = self._no_manifest.get(base)
        return missed is None or time.monotonic() - missed >= MANIFEST_RECHECK

    def read_manifest(self, base: str) -> Optional[Manifest]:
        """Read the manifest and remember it; a missing or unreadable one is remembered for
        MANIFEST_RECHECK seconds only (a manifest being replaced, an NFS hiccup)."""
        job_dir = self.store.find(base)
        try:
            manifest = job_dir.manifest() if job_dir else None
        except (OSError, ValueError):
            manifest = None
        if manifest is not None:
            self.manifests[base] = manifest
            self._no_manifest.pop(base, None)
        else:
            self._no_manifest[base] = time.monotonic()
        return manifest

    # -- from the event loop -------------------------------------------------------------------
    async def manifest_soon(self, base: str) -> Optional[Manifest]:
        """The manifest, known or read in the pool (raises DirectoryNotAnswering after DIR_TIMEOUT)."""
        return self.manifests.get(base) or await self.dirs.run(f"manifest:{base}", NOT_ANSWERING,
                                                               self.read_manifest, base)

    def known(self, job_id: str) -> tuple[Optional[Manifest], bool]:
        """Never blocks: (the manifest as read, whether the directory hangs); a read not done yet is
        started in the pool, and the job pushed again when it comes back."""
        if not _valid_id(job_id):
            return None, False
        base, _task = parse_job_id(job_id)
        manifest = self.manifests.get(base)
        if manifest is None and self.manifest_due(base):
            self._start_read(base)
            self._late.add(base)
        return manifest, self.not_answering(job_id)

    async def read_listed(self, jobs: list[Job]) -> None:
        """The manifests of ``jobs`` not read yet, in the pool; waits at most LIST_WAIT, and not for
        reads that already take longer (their jobs are shown without, and pushed again later)."""
        waits = []
        listed = {parse_job_id(job.id)[0] for job in jobs if _valid_id(job.id)}
        if len(self.manifests) + len(self._no_manifest) > 2 * len(listed) + 100:
            for cache in (self.manifests, self._no_manifest):  # jobs no longer listed: forgotten
                for base in [base for base in list(cache) if base not in listed]:  # list(): pool threads add
                    cache.pop(base, None)
        for base in listed:
            if self.manifest_due(base):
                future = self._start_read(base)
                if self.dirs.running_for(f"manifest:{base}") < LIST_WAIT:
                    waits.append(asyncio.wrap_future(future))
        if waits:
            await asyncio.wait(waits, timeout=LIST_WAIT)

    def not_answering(self, job_id: str) -> bool:
        base, _task = parse_job_id(job_id)
        keys = (f"manifest:{base}", f"detail:{job_id}", f"metrics-poll:{job_id}", f"metrics-history:{job_id}")
        return any(self.dirs.running_for(key) > self.dirs.timeout for key in keys)

    def _start_read(self, base: str) -> Any:
        """Read a manifest in the pool (once at a time per job); the future of the read."""
        key = f"manifest:{base}"
        running = self.dirs.running_for(key) > 0
        future = self.dirs.submit(key, self.read_manifest, base)
        if not running:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return future
            future.add_done_callback(lambda _f: loop.call_soon_threadsafe(self._back, base))
            loop.call_later(self.dirs.timeout + 0.05, self._overdue, base, future)
        return future

    def _back(self, base: str) -> None:
        self.version += 1
        if base in self._late:
            self._late.discard(base)
            if base in self.manifests:  # shown untracked before: now it is tracked
                self.on_late(base)

    def _overdue(self, base: str, future: Any) -> None:
        if not future.done():  # the directory does not answer: say so on the job's row
            self.version += 1
            self.on_late(base)


def _valid_id(job_id: str) -> bool:
    try:
        parse_job_id(job_id)
    except BadJobRequest:
        return False
    return True
