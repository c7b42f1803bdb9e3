"""The job tells us: start and exit markers in job directories, noticed without asking slurmctld.

The batch script (script.py) writes ``started.<task|job>`` ("<epoch> <nodelist>") as its first
action and ``exit_code.<task|job>`` from its EXIT trap. :class:`MarkerScanner` finds them with
cheap filesystem calls, in a worker thread (a hung Lustre must not stall the event loop):

- one ``stat`` of each watched job directory per scan; ``scandir`` only when the directory changed
  (a new file changes its mtime), and at least every ``relist_seconds`` all the same, because NFS
  caches directory attributes (``acdirmin``, 30 s by default) while opening the directory
  revalidates them (close-to-open consistency);
- each marker is read once (a requeued job's second start is left to the minute's squeue);
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
from typing import Optional

from ..slurm import JobState
from .script import EXIT_FILE, START_FILE

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

    @property
    def job_id(self) -> str:
        return f"{self.base}_{self.task}" if self.task is not None else self.base


@dataclass
class _Dir:
    mtime: int = -1
    listed: float = 0.0
    seen: set[str] = field(default_factory=set)  # markers read
    retry: bool = False  # a marker was there but still empty: list again next scan


def parse_name(name: str) -> Optional[tuple[str, Optional[str]]]:
    """'started.job' -> ('start', None); 'exit_code.7' -> ('exit', '7'); else None."""
    stem, _, task = name.partition(".")
    kind = {START_FILE: "start", EXIT_FILE: "exit"}.get(stem)
    if kind is None or not (task == "job" or task.isdigit()):
        return None
    return kind, None if task == "job" else task


def read_marker(base: str, name: str, path: str, mtime: float) -> Optional[Marker]:
    """The marker in file ``path``; None while the script has created but not yet written it."""
    parsed = parse_name(name)
    if parsed is None:
        return None
    kind, task = parsed
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(4096).strip()
    except OSError:
        return None
    if not text:
        return None
    if kind == "exit":
        try:
            return Marker(base, task, kind, mtime, exit_code=int(text.split()[0]))
        except ValueError:
            return None
    first, _, nodes = text.partition(" ")
    try:
        at = float(first.replace(",", "."))  # bash's EPOCHREALTIME follows LC_NUMERIC
    except ValueError:
        at = mtime
    return Marker(base, task, kind, at, nodes=nodes.strip() or None)


class MarkerScanner:
    """What changed in the watched job directories since the last scan. Not thread-safe: one
    worker thread calls :meth:`scan` at a time."""

    def __init__(self, root: Optional[str] = None, *, relist_seconds: float = 10.0) -> None:
        self.root = root
        self.relist_seconds = relist_seconds
        self._dirs: dict[str, _Dir] = {}
        self._root_mtime: Optional[int] = None
        self._root_ids: Optional[set[str]] = None
        self.stats = 0  # filesystem calls made, for tests and benchmarks

    def scan(self, dirs: dict[str, str]) -> list[Marker]:
        """Markers new since the last scan in ``{job id: directory}``; starts before exits."""
        found: list[Marker] = []
        for base, path in dirs.items():
            found += self._scan_dir(base, path)
        return sorted(found, key=lambda m: (m.kind != "start", m.at))

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


def ended(code: int, started: Optional[float], at: float, time_limit: Optional[int]) -> dict:
    """Job fields for an exit marker: COMPLETED (0), FAILED (other codes), and for the TERM trap
    TIMEOUT when the job ran its whole time limit (minutes), else CANCELLED. sacct confirms later."""
    if code == 0:
        return {"state": JobState.COMPLETED, "exit_code": 0}
    if code != TERM_EXIT:
        return {"state": JobState.FAILED, "exit_code": code}
    ran = at - started if started is not None else None
    out_of_time = ran is not None and time_limit is not None and ran >= time_limit * 60 - 1
    state = JobState.TIMEOUT if out_of_time else JobState.CANCELLED
    return {"state": state, "exit_code": None, "signal": 15, "signal_name": "SIGTERM"}
