"""A job's profile (``--profile``, issue 25) as the API gives it: its state, the summary of its trace,
and the file to download.

The job leaves ``profile/`` in its directory (jobs/script.py, injob/profiler.py): ``status.<run>.json``,
``trace.<run>.json.gz`` (torch) or ``report.<run>.nsys-rep`` (nsys), ``<run>`` the array task or
``job``. Every read happens in the bounded pool of job-directory threads (job_files.py; a hung
shared filesystem holds up this job's request only). The summary (metrics/profile.py) is computed
there once per trace file and kept in a small cache by path, size and modification time.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Literal, Optional

from pydantic import BaseModel, Field

from ..advice.rules import profile_advice, usage_of
from ..injob import profiler as injob_profiler
from ..metrics.profile import TraceError, summarize_file
from ..jobs.script import PROFILE_DIR
from ..jobs.store import DirectoryNotAnswering, JobNotFound, parse_job_id
from ..metrics.stream import NOT_ANSWERING

if TYPE_CHECKING:
    from ..advice.thresholds import Thresholds
    from .job_files import JobFiles
    from ..jobs.spec import JobSpec

SUMMARY_TIMEOUT = 60.0  # a trace of hundreds of MB takes a while to stream
CACHE_SIZE = 16
DOWNLOAD_CHUNK = 1 << 20
NSYS_REPORT = "report.%s.nsys-rep"


class ProfileOp(BaseModel):
    name: str = Field(description="the kernel's or operator's name (cut at 300 characters)")
    calls: int
    total_ms: float
    share: float = Field(description="of all device time (or all CPU self time) in the trace, 0..1")


class ProfileGap(BaseModel):
    start_ms: float = Field(description="from the start of the first profiled step")
    ms: float


class ProfileSummary(BaseModel):
    device: Optional[str] = Field(None, description="the GPU's name, from the trace")
    top_by: Literal["device", "cpu"] = Field(description="device time, or CPU self time where no device ran")
    top: list[ProfileOp] = Field(default_factory=list)
    steps: int = Field(description="ProfilerStep spans recorded")
    step_ms: Optional[float] = Field(None, description="mean step time")
    window_ms: float = Field(description="the profiled steps' time (the whole trace's without steps)")
    data_wait_share: Optional[float] = Field(None, description="share of the steps' time in DataLoader __next__, 0..1")
    data_wait_ms: Optional[float] = Field(None, description="per step")
    gpu_busy_share: Optional[float] = Field(None, description="share of the steps' time with device activity")
    gpu_idle_ms: Optional[float] = None
    gpu_gap_count: int = Field(0, description="idle stretches of 1 ms or more")
    gpu_gaps: list[ProfileGap] = Field(default_factory=list, description="the longest idle stretches (5 at most)")
    events: Optional[int] = None
    truncated: bool = Field(False, description="the trace was larger than the server reads; figures from its start")


class ProfileFile(BaseModel):
    name: str
    bytes: int
    kind: Literal["chrome-trace", "nsys-rep"]


class JobProfile(BaseModel):
    job_id: str
    mode: Optional[Literal["torch", "nsys"]] = Field(None, description="the job's --profile; null: not profiled")
    state: str = Field(description='"none" (not profiled), "waiting" (nothing written yet), the in-job status '
                       '("recording", "recorded", "no-torch", "no-steps", "too-short", "no-nsys", "error")')
    message: Optional[str] = None
    file: Optional[ProfileFile] = Field(None, description="the trace to download (GET jobs/{id}/profile/trace)")
    summary: Optional[ProfileSummary] = None
    summary_error: Optional[str] = None
    advice: list[str] = Field(default_factory=list, description="the starved-pipeline advice, where the profile "
                              "shows the steps waiting for data")


_cache: "OrderedDict[tuple[str, int, int], dict]" = OrderedDict()
_cache_lock = threading.Lock()


def _summary_of(path: str) -> dict:
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    summary = summarize_file(path)
    with _cache_lock:
        _cache[key] = summary
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return summary


def _run_of(job_id: str) -> str:
    _base, task = parse_job_id(job_id)
    return task or "job"


def _trace_path(folder: str, run: str) -> tuple[Optional[str], Optional[str]]:
    """(path, kind) of the run's trace; an array's parent id takes the first task that has one."""
    names = [injob_profiler.TRACE % run, NSYS_REPORT % run]
    if run == "job":
        try:
            listed = sorted(os.listdir(folder))
        except OSError:
            listed = []
        names += [n for n in listed if n.startswith("trace.") and n.endswith(".json.gz")]
        names += [n for n in listed if n.endswith(".nsys-rep")]
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path, "nsys-rep" if name.endswith(".nsys-rep") else "chrome-trace"
    return None, None


def _read_profile(files: "JobFiles", thresholds: "Thresholds", job_id: str, spec: "JobSpec") -> JobProfile:
    """Blocking (in the pool)."""
    mode = spec.profile
    profile = JobProfile(job_id=job_id, mode=mode, state="none" if mode is None else "waiting")
    base, _task = parse_job_id(job_id)
    job_dir = files.store.find(base)
    if job_dir is None or mode is None:
        return profile
    folder = os.path.join(str(job_dir.path), PROFILE_DIR)
    run = _run_of(job_id)
    try:
        with open(os.path.join(folder, injob_profiler.STATUS % run)) as handle:
            status = json.load(handle)
        profile.state, profile.message = str(status.get("state") or "waiting"), status.get("message")
    except (OSError, ValueError):
        pass
    path, kind = _trace_path(folder, run)
    if path is None:
        return profile
    profile.file = ProfileFile(name=os.path.basename(path), bytes=os.path.getsize(path), kind=kind)
    if mode == "nsys" and profile.state == "waiting":
        profile.state = "recorded"
    if kind == "chrome-trace":
        try:
            profile.summary = ProfileSummary.model_validate(_summary_of(path))
        except (TraceError, OSError) as exc:
            profile.summary_error = str(exc)
    if profile.summary is not None and profile.summary.data_wait_share is not None:
        usage = usage_of(files.summary(job_id), None, spec, data_wait=profile.summary.data_wait_share)
        profile.advice = profile_advice(usage, thresholds)
    return profile


async def data_wait_share(files: "JobFiles", thresholds: "Thresholds", job_id: str, spec: "JobSpec",
                          wait: float) -> Optional[float]:
    """The profile's data-wait share for the job's advice and suggestion, or None: no trace, or its
    summary not ready within ``wait`` seconds (it is cached once read, for the next request)."""
    if spec.profile != "torch":
        return None
    try:
        profile = await files.dirs.run(f"profile:{job_id}", "", _read_profile, files, thresholds, job_id, spec,
                                      timeout=wait)
    except DirectoryNotAnswering:
        return None
    return profile.summary.data_wait_share if profile.summary is not None else None


async def job_profile(files: "JobFiles", thresholds: "Thresholds", job_id: str) -> JobProfile:
    """The job's profile: state, summary, file (raises JobNotFound for a job without a directory)."""
    base, _task = parse_job_id(job_id)
    manifest = await files.manifest_soon(base)
    if manifest is None:
        raise JobNotFound(job_id)
    try:
        return await files.dirs.run(f"profile:{job_id}", NOT_ANSWERING, _read_profile, files, thresholds, job_id,
                                    manifest.spec, timeout=SUMMARY_TIMEOUT)
    except DirectoryNotAnswering:  # the read goes on in the pool: a later request gets the cached summary
        return JobProfile(job_id=job_id, mode=manifest.spec.profile, state="waiting",
                          summary_error="The job's directory did not answer in time, or its trace is still being "
                          "read: try again in a minute.")


async def trace_file(files: "JobFiles", job_id: str) -> tuple[str, str]:
    """(path, kind) of the job's trace to download; JobNotFound when there is none."""
    base, _task = parse_job_id(job_id)

    def find() -> tuple[Optional[str], Optional[str]]:
        job_dir = files.store.find(base)
        if job_dir is None:
            return None, None
        return _trace_path(os.path.join(str(job_dir.path), PROFILE_DIR), _run_of(job_id))

    path, kind = await files.dirs.run(f"profile-file:{job_id}", NOT_ANSWERING, find)
    if path is None or kind is None:
        raise JobNotFound(job_id)
    return path, kind


async def read_chunk(files: "JobFiles", path: str, offset: int) -> bytes:
    """DOWNLOAD_CHUNK bytes of the file from ``offset``, in the pool."""
    def read() -> bytes:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read(DOWNLOAD_CHUNK)

    return await files.dirs.run(f"profile-read:{path}:{offset}", NOT_ANSWERING, read)
