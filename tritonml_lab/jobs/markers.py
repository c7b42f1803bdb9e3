"""The job tells us: start and exit markers in job directories, noticed without asking slurmctld.

The batch script (script.py) writes ``started.<task|job>`` ("<epoch> <nodelist>") as its first
action and ``exit_code.<task|job>`` from its EXIT trap. :class:`MarkerScanner` finds them with
cheap filesystem calls, in a worker thread (a hung Lustre must not stall the event loop):

- one ``stat`` of each watched job directory per scan; ``scandir`` only when the directory changed
  (a new file changes its mtime), and at least every ``relist_seconds`` all the same, because NFS
  caches directory attributes (``acdirmin``, 30 s by default) while opening the directory
  revalidates them (close-to-open consistency);
- each marker is read once; a long job (spec.checkpoint) that requeues itself writes one start
  marker per run (``started.<task|job>.<k>`` for restart k), ``requeued.<task|job>.<k>`` instead of
  an exit code when run k requeued the job, and ``warned.<task|job>.<k>`` when the time-limit
  warning reached it: :func:`run_history` reads them as the job's restart history;
- one ``stat`` of the jobs root: a new ``<jobid>`` link is a submission from elsewhere (the kernel's
  magics), worth one squeue.

Why stats and not inotify: inotify reports only what this machine's kernel writes. On a real site
the markers are written by compute nodes onto Lustre, GPFS or NFS, where another node's writes
raise no inotify event, so stats are needed anyway; inotify would only speed up the case where the
job runs on the server's own node, at the price of ctypes code, per-user watch limits and a second
code path. A scan of ten job directories costs ten ``stat`` calls, about 30 µs on local disk and
served from the client's cache on Lustre until something changes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from ..slurm import JobState
from ..slurm.models import JobRun
from .script import EXIT_FILE, REQUEUED_FILE, START_FILE, WARNED_FILE

# The script's `trap 'exit 143' TERM`: scancel and the time limit both end it so.
TERM_EXIT = 143


@dataclass(frozen=True)
class Marker:
    base: str  # the job id; an array task's is its array's
    task: Optional[str]  # the array task index, None for a plain job
    kind: str  # "start" | "exit"
    at: float  # epoch seconds: the start the script wrote, or when the exit file was written
    nodes: Optional[str] = None
    exit_code: Optional[int] = None
    run: int = 0  # which run of a requeued job: 0 first, k after k restarts (exit markers: 0)
    # The file's mtime: the file server's clock, which ``at`` of a start marker is not (the compute
    # node's). Two markers are compared by their mtimes: one clock per comparison.
    mtime: Optional[float] = None

    @property
    def job_id(self) -> str:
        return f"{self.base}_{self.task}" if self.task is not None else self.base


@dataclass
class _Dir:
    mtime: int = -1
    listed: float = 0.0
    seen: set[str] = field(default_factory=set)  # markers read
    retry: bool = False  # a marker was there but still empty: list again next scan


_KINDS = {START_FILE: "start", EXIT_FILE: "exit", REQUEUED_FILE: "requeue"}


def parse_run(name: str) -> Optional[tuple[str, Optional[str], int]]:
    """'started.job' -> ('start', None, 0); 'started.7.2' -> ('start', '7', 2) (run 2 of task 7);
    'requeued.job.0' -> ('requeue', None, 0); 'exit_code.7' -> ('exit', '7', 0); else None."""
    stem, _, rest = name.partition(".")
    task, _, run = rest.partition(".")
    kind = _KINDS.get(stem)
    if kind is None or not (task == "job" or task.isdigit()):
        return None
    if kind == "requeue" and not run.isdigit() or kind != "requeue" and run and (kind == "exit" or not run.isdigit()):
        return None
    return kind, None if task == "job" else task, int(run or 0)


def parse_name(name: str) -> Optional[tuple[str, Optional[str]]]:
    """'started.job' -> ('start', None); 'exit_code.7' -> ('exit', '7'); else None."""
    parsed = parse_run(name)
    return None if parsed is None else parsed[:2]


def read_marker(base: str, name: str, path: str, mtime: float) -> Optional[Marker]:
    """The marker in file ``path``; None while the script has created but not yet written it."""
    parsed = parse_run(name)
    if parsed is None:
        return None
    kind, task, run = parsed
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(4096).strip()
    except OSError:
        return None
    if not text:
        return None
    if kind == "exit":
        try:
            return Marker(base, task, kind, mtime, exit_code=int(text.split()[0]), mtime=mtime)
        except ValueError:
            return None
    first, _, rest = text.partition(" ")
    at = _epoch(first, mtime)
    if kind == "requeue":
        code = rest.strip()
        return Marker(base, task, kind, at, exit_code=int(code) if code.isdigit() else None, run=run, mtime=mtime)
    return Marker(base, task, kind, at, nodes=rest.strip() or None, run=run, mtime=mtime)


def _epoch(text: str, default: float) -> float:
    try:
        return float(text.replace(",", "."))  # bash's EPOCHREALTIME follows LC_NUMERIC
    except ValueError:
        return default


def run_history(path: str, task: Optional[str] = None) -> list[JobRun]:
    """Each run of a job (or array task) from its markers: start, end, nodes, whether the warning
    reached it, and how it ended ("requeued", or the exit code of the last run). One listing of the
    directory and a read per marker; [] when the job has not started."""
    wanted = task or "job"
    runs: dict[int, dict] = {}
    try:
        with os.scandir(path) as entries:
            names = {entry.name: entry for entry in entries if entry.name.split(".")[1:2] == [wanted]}
    except OSError:
        return []
    for name, entry in names.items():
        stem, _, rest = name.partition(".")
        suffix = rest.partition(".")[2]
        try:
            with open(entry.path, encoding="utf-8", errors="replace") as handle:
                text = handle.read(4096).strip()
            mtime = entry.stat().st_mtime
        except OSError:
            continue
        if stem == WARNED_FILE and suffix.isdigit():
            runs.setdefault(int(suffix), {})["warned"] = _epoch(text.split(" ")[0], mtime)
            continue
        marker = read_marker("", name, entry.path, mtime)
        if marker is None:
            continue
        if marker.kind == "start":
            runs.setdefault(marker.run, {}).update(started=marker.at, nodes=marker.nodes)
        elif marker.kind == "requeue":
            runs.setdefault(marker.run, {}).update(ended=marker.at, outcome="requeued")
    if not runs:
        return []
    last = max(runs)
    exit_marker = names.get(f"{EXIT_FILE}.{wanted}")
    if exit_marker is not None:
        marker = read_marker("", exit_marker.name, exit_marker.path, exit_marker.stat().st_mtime)
        if marker is not None and "outcome" not in runs[last]:
            runs[last].update(ended=marker.at, outcome=f"exit {marker.exit_code}")
    return [JobRun(run=k, **runs[k]) for k in sorted(runs)]


def marker_order(marker: "Marker") -> tuple:
    """Runs in order, each run's start before its end, the job's exit last."""
    return (marker.kind == "exit", marker.run, marker.kind != "start", marker.at)


class MarkerScanner:
    """What changed in the watched job directories since the last scan. Scans of different
    directories may run in different threads (each has its own state); one directory is scanned by
    one thread at a time."""

    def __init__(self, root: Optional[str] = None, *, relist_seconds: float = 10.0) -> None:
        self.root = root
        self.relist_seconds = relist_seconds
        self._dirs: dict[str, _Dir] = {}
        self._root_mtime: Optional[int] = None
        self._root_ids: Optional[set[str]] = None
        self.stats = 0  # filesystem calls made, for tests and benchmarks

    def scan(self, dirs: dict[str, str]) -> list[Marker]:
        """Markers new since the last scan in ``{job id: directory}``; starts before ends."""
        found: list[Marker] = []
        for base, path in dirs.items():
            found += self._scan_dir(base, path)
        return sorted(found, key=marker_order)

    def keep_only(self, bases: set[str]) -> None:
        """Forget the directories of jobs no longer watched."""
        for gone in set(self._dirs) - bases:
            del self._dirs[gone]

    def new_ids(self) -> list[str]:
        """Job ids linked in the jobs root since the last call (none on the first)."""
        if self.root is None:
            return []
        try:
            self.stats += 1
            mtime = os.stat(self.root).st_mtime_ns
            if mtime == self._root_mtime:
                return []
            self.stats += 1
            with os.scandir(self.root) as entries:
                ids = {entry.name for entry in entries if entry.name.isdigit()}
        except OSError:
            return []
        self._root_mtime = mtime
        new = [] if self._root_ids is None else sorted(ids - self._root_ids)
        self._root_ids = ids
        return new

    def _scan_dir(self, base: str, path: str) -> list[Marker]:
        state = self._dirs.setdefault(base, _Dir())
        now = time.monotonic()
        try:
            self.stats += 1
            mtime = os.stat(path).st_mtime_ns
            if mtime == state.mtime and not state.retry and now - state.listed < self.relist_seconds:
                return []
            self.stats += 1
            with os.scandir(path) as entries:
                candidates = [entry for entry in entries if parse_name(entry.name) is not None]
            found, state.retry = [], False
            for entry in candidates:
                if entry.name in state.seen:
                    continue
                self.stats += 2
                marker = read_marker(base, entry.name, entry.path, entry.stat().st_mtime)
                if marker is None:
                    state.retry = True
                    continue
                state.seen.add(entry.name)
                found.append(marker)
        except OSError:
            return []  # gone or not answering: the minute poll still covers the job
        state.mtime, state.listed = mtime, now
        return found


# Slurm starts the limit's clock when it allocates the job; the start marker is written when the script
# starts, seconds later on a busy node (over 1 s was seen): a SIGTERM this close to the limit is the
# limit's. A cancel in these last seconds shows as TIMEOUT until sacct confirms (seconds later).
LIMIT_SLACK = 10.0


def ended(code: int, started: Optional[float], at: float, time_limit: Optional[int]) -> dict:
    """Job fields for an exit marker: COMPLETED (0), FAILED (other codes), and for the TERM trap
    TIMEOUT when the job ran its whole time limit (minutes), else CANCELLED. sacct confirms later.
    ``started`` and ``at`` must be of one clock (the start and exit markers' mtimes)."""
    if code == 0:
        return {"state": JobState.COMPLETED, "exit_code": 0}
    if code != TERM_EXIT:
        return {"state": JobState.FAILED, "exit_code": code}
    ran = at - started if started is not None else None
    out_of_time = ran is not None and time_limit is not None and ran >= time_limit * 60 - LIMIT_SLACK
    state = JobState.TIMEOUT if out_of_time else JobState.CANCELLED
    return {"state": state, "exit_code": None, "signal": 15, "signal_name": "SIGTERM"}


def with_run(runs: list[JobRun], run: int, **fields: Any) -> list[JobRun]:
    """``runs`` with run ``run`` set to ``fields`` (None values leave a field as it was): the monitor's
    restart history, updated marker by marker."""
    by_run = {item.run: item for item in runs}
    current = by_run.get(run, JobRun(run=run))
    by_run[run] = current.model_copy(update={k: v for k, v in fields.items() if v is not None})
    return [by_run[k] for k in sorted(by_run)]
