"""A task's per-step values (``steps.<task>.jsonl``, written by the shim's ``report(step=...)``), read
for the sweep view as a small, bounded series.

The file is append-only, one JSON line per step, so it is read incrementally: each reader keeps, per
file, the bytes consumed and a thinned series (every ``stride``-th step, the stride doubling when the
series grows past ``HOLD``), so that a view polled every few seconds reads only the new lines and the
memory per task stays bounded however many steps it reports; only the lines kept are parsed. A line
without its newline (being written, or cut by a crash) waits for the next read. A step at or below
one already seen (a requeued task going back to its checkpoint) replaces the later ones: the curve
shows the run that counts (seen among the lines parsed: a thumbnail, not a record).
"""

from __future__ import annotations

import functools
import json
import math
import os
import threading
from typing import NamedTuple, Optional

from ..injob.sweep_shim import STEPS_FILE  # the shim writes them: the name is defined there
from .models import StepSeries

MAX_POINTS = 32  # points per curve in the view (a 96-pixel sparkline; the body of a 1,000-task sweep stays small)
MAX_NAMES = 3  # curves per task: the sweep's metric first, then the first others reported
DIGITS = 4  # significant digits sent
HOLD = 4 * MAX_POINTS  # points kept per file between reads
MAX_FILES = 20_000  # files followed at once; beyond, the cache starts over (reads again from the start)


class StepLine(NamedTuple):
    step: int
    values: dict[str, float]  # the line's values that are finite numbers
    t: Optional[float]  # the shim's wall time of the report, when the line has one


def parse_step_line(raw: bytes) -> Optional[StepLine]:
    """One line of ``steps.<task>.jsonl`` as the shim's ``report(step=...)`` writes it
    (``{"step": n, "values": {...}, "t": ...}``); None if it is not a step line. The one parser of the
    format in the package: the sweep view's curves here, TensorBoard's scalars in tracking/convert.py
    (the in-job shim reads the file with its own few lines: it cannot import the package)."""
    try:
        record = json.loads(raw)
        step, values = record["step"], record["values"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0 or not isinstance(values, dict):
        return None
    numbers = {str(k): float(v) for k, v in values.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    t = record.get("t")
    return StepLine(step, numbers, float(t) if isinstance(t, (int, float)) else None)


class _Followed:
    __slots__ = ("inode", "offset", "points", "last", "last_step", "stride", "count", "names", "cached")

    def __init__(self, inode: int) -> None:
        self.inode, self.offset = inode, 0
        self.points: list[tuple[int, int, dict[str, float]]] = []  # (line number, step, values), every stride-th
        self.last: Optional[tuple[int, dict[str, float]]] = None  # the newest step, always shown
        self.last_step = -1
        self.stride, self.count = 1, 0  # count: lines read (a requeued task's repeats too)
        self.names: list[str] = []
        self.cached: Optional[tuple[Optional[str], int, StepSeries]] = None  # (metric, count, series)

    def consume(self, lines: list[bytes]) -> None:
        """New lines, in order. The stride first grows to what the whole file needs (at most HOLD lines
        kept); then only every stride-th line, and the newest, is parsed. A step at or below the last
        one parsed (a requeued task back at its checkpoint) drops the later ones kept."""
        base, total = self.count, self.count + len(lines)
        while total > HOLD * self.stride:
            self.stride *= 2
            self.points = [point for point in self.points if point[0] % self.stride == 0]
        picks = list(range((-base) % self.stride, len(lines), self.stride))
        if lines and (not picks or picks[-1] != len(lines) - 1):
            picks.append(len(lines) - 1)
        for i in picks:
            line = parse_step_line(lines[i])
            if line is None:
                continue
            step, values = line.step, {name: float(f"{v:.{DIGITS}g}") for name, v in line.values.items()}
            if step <= self.last_step:
                self.points = [point for point in self.points if point[1] < step]
            self.last_step = step
            if not values:
                continue
            for name in values:
                if name not in self.names and len(self.names) < 2 * MAX_NAMES:
                    self.names.append(name)
            self.last = (step, values)
            if (base + i) % self.stride == 0:
                self.points.append((base + i, step, values))
        self.count = total

    def series(self, metric: Optional[str]) -> Optional[StepSeries]:
        if self.last is None:
            return None
        if self.cached is not None and self.cached[:2] == (metric, self.count):
            return self.cached[2]
        kept = self.points
        extra = not kept or kept[-1][1] != self.last[0]  # the newest step, when not a kept one
        count = len(kept) + extra
        points = [self.last if extra and i == count - 1 else kept[i][1:] for i in _picks(count)]
        names = ([metric] if metric and metric in self.names else []) + [n for n in self.names if n != metric]
        names = names[:MAX_NAMES]
        series = StepSeries.model_construct(  # built from checked numbers: no validation needed
            steps=[step for step, _v in points],
            values={name: [values.get(name) for _s, values in points] for name in names},
            count=self.count)
        self.cached = (metric, self.count, series)
        return series


@functools.lru_cache(maxsize=2 * HOLD + 2)
def _picks(count: int) -> tuple[int, ...]:
    """Which of ``count`` points are shown: all, or MAX_POINTS evenly spaced, the first and last kept."""
    if count <= MAX_POINTS:
        return tuple(range(count))
    return tuple(sorted({round(i * (count - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)}))


class StepReader:
    """Follows steps files across views (thread-safe: views read in executor threads)."""

    def __init__(self) -> None:
        self._files: dict[str, _Followed] = {}
        self._lock = threading.Lock()

    def read(self, path: str, metric: Optional[str]) -> Optional[StepSeries]:
        """The series of ``path`` (None without steps), reading only what was appended since last time."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        with self._lock:
            followed = self._files.get(path)
            if followed is None or followed.inode != stat.st_ino or stat.st_size < followed.offset:
                if len(self._files) >= MAX_FILES:
                    self._files.clear()
                followed = self._files[path] = _Followed(stat.st_ino)
            if stat.st_size > followed.offset:
                self._consume(path, followed)
            return followed.series(metric)

    def forget(self, path: str) -> None:
        """A task whose row is final (cached by the service) needs no following."""
        with self._lock:
            self._files.pop(path, None)

    @staticmethod
    def _consume(path: str, followed: _Followed) -> None:
        try:
            with open(path, "rb") as handle:
                handle.seek(followed.offset)
                data = handle.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1
        followed.offset += end
        followed.consume(data[:end].splitlines())
