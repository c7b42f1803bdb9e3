"""Advice while a job runs: once a tracked job has run for the settling time, the red-flag rules of
rules.py over its last window of in-job samples; the first time one fires, ONE ``advice`` event for
that job on the events channel (the front end shows a notification with a link to the job).

No Slurm call at all: the job list is the monitor's (squeue within the budget, markers), the
figures are the samples the job writes into its directory, read incrementally by the job's one reader
(metrics/samples.py, shared with the charts and the job's detail), which keeps the window looked at.
It runs only while someone listens on the channel, like the monitor. That a job was told is kept in
its directory (``advice.live.json``), so a restarted server does not tell it again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from ..metrics.efficiency import summarize
from ..metrics.samples import JobSamples, SampleReaders, task_of
from .rules import Finding, Usage, findings, usage_of
from .thresholds import DEFAULT, Thresholds

log = logging.getLogger(__name__)
TOLD_FILE = "advice.live.json"
MIN_SAMPLE_SECONDS = 5.0  # a window with less than this of samples says nothing


class LiveAdvisor:
    """One per server, over the monitor's jobs. ``monitor`` needs ``jobs`` (id -> Job),
    ``listening`` and ``publish(event, payload)``; ``find_dir(id)`` gives a job's directory or
    None; ``spec_of(id)`` its JobSpec or None; ``samples`` the server's readers of jobs' samples."""

    def __init__(self, monitor: Any, find_dir: Callable[[str], Optional[Path]],
                 spec_of: Callable[[str], Any], thresholds: Thresholds = DEFAULT,
                 interval: Optional[float] = None, samples: Optional[SampleReaders] = None) -> None:
        self.monitor = monitor
        self.find_dir = find_dir
        self.spec_of = spec_of
        self.t = thresholds
        self.interval = interval or max(1.0, min(30.0, thresholds.live_settle_seconds / 5))
        self.told: dict[str, Optional[dict]] = {}  # job id -> the event sent (None: nothing to tell)
        self.checks = 0
        self.samples = samples if samples is not None else SampleReaders()
        self.samples.keep_seconds(thresholds.live_window_seconds)  # the window it looks at
        self._held: dict[str, JobSamples] = {}  # job -> its reader, while its window is followed
        self._task: Optional[asyncio.Task[None]] = None

    def start(self) -> None:
        """Start the loop (idempotent; needs a running event loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            if not self.monitor.listening:
                continue
            try:  # the job list is read here, in the loop that changes it; the files in a thread
                events = await loop.run_in_executor(None, self.check, time.time(), self.running())
            except Exception:  # noqa: BLE001 - the loop must survive anything
                log.exception("tritonml-lab: live advice check failed")
                continue
            for event in events:
                self.monitor.publish("advice", event)

    def running(self) -> dict[str, Any]:
        """The monitor's running jobs, array tasks too (each task has its own samples file). An array
        shares one directory, so it is told once, by its first task the rules fire on: one
        notification per sweep, not one per task."""
        return {job.id: job for job in list(self.monitor.jobs.values())
                if getattr(job.state, "value", job.state) == "RUNNING" and job.started}

    def check(self, now: float, running: Optional[dict[str, Any]] = None) -> list[dict]:
        """The events to send now (blocking: reads sample files; run it in a thread)."""
        self.checks += 1
        events = []
        running = self.running() if running is None else running
        for job_id in list(self._held):
            if job_id not in running or job_id in self.told:  # ended, gone or told: its window is not needed
                self._held.pop(job_id).release(f"advice:{job_id}")
        for job_id in [job_id for job_id in list(self.told) if job_id not in running]:
            del self.told[job_id]  # ended: its directory remembers that it was told (TOLD_FILE)
        for job_id, job in running.items():
            if job_id in self.told or now - job.started < self.t.live_settle_seconds:
                continue
            job_dir = self.find_dir(job_id)
            if job_dir is None:
                continue
            if _read_told(job_dir) is not None:
                self.told[job_id] = None
                continue
            usage = self._window_usage(job_id, job, job_dir, now)
            if usage is None:
                continue
            found = findings(usage, self.t, live=True)
            if found:
                event = _event(job_id, job.name, found, usage)
                _write_told(job_dir, event)
                self.told[job_id] = event
                events.append(event)
        return events

    def _window_usage(self, job_id: str, job: Any, job_dir: Path, now: float) -> Optional[Usage]:
        reader = self._held[job_id] = self.samples.job(job_dir)
        windows = reader.window(now - self.t.live_window_seconds, task_of(job_id), f"advice:{job_id}")
        nodes = [summarize(header, window) for header, window in windows.values() if window]
        if not nodes:
            return None
        cores = [n["cpu_cores_mean"] for n in nodes if n["cpu_cores_mean"] is not None]
        peaks = [n["rss_peak_bytes"] for n in nodes if n["rss_peak_bytes"] is not None]
        seconds = max(n["seconds"] for n in nodes)
        if seconds < MIN_SAMPLE_SECONDS:
            return None
        metrics = {
            "seconds": seconds,
            "gpus": [gpu for n in nodes for gpu in n["gpus"]],
            "cpu_cores_mean": sum(cores) if cores else None,
            "rss_peak_bytes": max(peaks) if peaks else None,
            "cpu_busy_procs_mean": _total(nodes, "cpu_busy_procs_mean"),
            "io_wait_mean": max((n["io_wait_mean"] for n in nodes if n.get("io_wait_mean") is not None), default=None),
        }
        spec = self.spec_of(job_id)
        usage = usage_of(metrics, None, spec)
        if job.cpus and (spec is None or not spec.cpus_per_task):
            usage.cpus = job.cpus  # squeue's count, where the spec left it to the defaults
        return usage


def _total(nodes: list[dict], key: str) -> Optional[float]:
    values = [n[key] for n in nodes if n.get(key) is not None]
    return round(sum(values), 2) if values else None


def _event(job_id: str, name: str, found: list[Finding], usage: Usage) -> dict:
    return {
        "id": job_id,
        "name": name,
        "text": " ".join(f.text for f in found),
        "findings": [{"code": f.code, "level": f.level, "text": f.text, "field": f.field,
                      "to": None if f.to is None else str(f.to), "figure": f.figure} for f in found],
        "elapsed": usage.elapsed,
    }


def _read_told(job_dir: Path) -> Optional[dict]:
    try:
        return json.loads((job_dir / TOLD_FILE).read_text())
    except (OSError, ValueError):
        return None


def _write_told(job_dir: Path, event: dict) -> None:
    tmp = job_dir / f".{TOLD_FILE}.{os.getpid()}"
    try:
        tmp.write_text(json.dumps({**event, "at": time.time()}))
        os.replace(tmp, job_dir / TOLD_FILE)
    except OSError:
        log.warning("tritonml-lab: cannot record the live advice of job %s in %s", event["id"], job_dir)
