"""A sweep's manifest on disk (``<jobs root>/sweeps/<sweep id>.json``): written whole (atomic rename),
read through an mtime-keyed cache, listed newest first, and found from any of its array jobs' ids."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any, Optional

from ..jobs.store import JobNotFound, parse_job_id
from .models import BadSweepRequest, SweepManifest, SweepNotFound

_SWEEP_ID = re.compile(r"^\d{1,12}$")
SWEEP_SCAN = 200  # sweeps looked through to find the sweep of a later array job


class SweepManifests:
    """The manifests under one directory (the jobs root's ``sweeps/``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._manifests: dict[str, tuple[int, SweepManifest]] = {}

    def path(self, sweep_id: str) -> Path:
        if not _SWEEP_ID.fullmatch(sweep_id or ""):
            raise BadSweepRequest(f"{sweep_id!r} is not a sweep id (the first array job's id: digits)")
        return self.root / f"{sweep_id}.json"

    def write(self, manifest: SweepManifest) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path(manifest.id)
        tmp = path.with_name(f".{manifest.id}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(manifest.model_dump_json())
        os.replace(tmp, path)
        self._manifests.pop(manifest.id, None)

    def load(self, sweep_id: str) -> SweepManifest:
        path = self.path(sweep_id)
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            raise SweepNotFound(sweep_id) from None
        cached = self._manifests.get(sweep_id)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            manifest = SweepManifest.model_validate_json(path.read_bytes())
        except (OSError, ValueError):
            raise SweepNotFound(sweep_id) from None
        self._manifests[sweep_id] = (mtime, manifest)
        return manifest

    def sweep_ids(self, limit: int = 200) -> list[str]:
        try:
            names = [e.name[:-5] for e in os.scandir(self.root) if e.name.endswith(".json")
                     and _SWEEP_ID.fullmatch(e.name[:-5])]
        except FileNotFoundError:
            return []
        return sorted(names, key=int, reverse=True)[:limit]

    def listing(self, limit: int = 50, job: Optional[str] = None) -> list[dict[str, Any]]:
        """The newest sweeps, from their manifests only (no Slurm call). With ``job`` (an array job's
        id, or one of its tasks ``JOBID_TASK``): only the sweep that job belongs to, if any."""
        if job is not None:
            base, _task = parse_job_id(job)
            manifest = self.sweep_of(base)
            return [self.summary(manifest)] if manifest is not None else []
        out = []
        for sweep_id in self.sweep_ids(limit):
            try:
                manifest = self.load(sweep_id)
            except JobNotFound:
                continue
            out.append(self.summary(manifest))
        return out

    @staticmethod
    def summary(manifest: SweepManifest) -> dict[str, Any]:
        return {"id": manifest.id, "name": manifest.name, "search": manifest.search,
                "metric": manifest.metric, "mode": manifest.mode, "total": len(manifest.points),
                "created_at": manifest.created_at, "jobs": [job.id for job in manifest.jobs]}

    def sweep_of(self, job_id: str, scan: int = SWEEP_SCAN) -> Optional[SweepManifest]:
        """The sweep whose array jobs include ``job_id`` (no task suffix), or None. The first array
        job's id is the sweep's own (one stat); later chunks and retries are found among the newest
        ``scan`` sweeps whose ids are not above the job's (manifests are cached by mtime)."""
        try:
            manifest = self.load(job_id)
            if any(job.id == job_id for job in manifest.jobs):
                return manifest
        except JobNotFound:
            pass
        if not job_id.isdigit():
            return None
        number = int(job_id)
        for sweep_id in self.sweep_ids(limit=100_000):
            if int(sweep_id) > number:
                continue  # a sweep's jobs are all submitted after its first one
            scan -= 1
            if scan < 0:
                break
            try:
                manifest = self.load(sweep_id)
            except JobNotFound:
                continue
            if any(job.id == job_id for job in manifest.jobs):
                return manifest
        return None
