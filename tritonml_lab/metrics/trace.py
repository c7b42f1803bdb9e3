"""Read the sampler's files (format in ``sampler.py``'s docstring): incrementally by byte offset,
tolerant of a partial last line and of the atomic rewrite that compaction makes; plus helpers to
downsample and to expand the compact rows into named fields.

    r = TraceReader(path)
    r.poll()      # -> new samples since the last poll (dicts as in the file), oldest first
    r.header      # the file's header once seen; r.end: the end line once the sampler stopped
"""

import json
import math
import os
from typing import Any, Dict, List, NamedTuple, Optional

from ..injob.sampler import COLS, Bucket

Sample = Dict[str, Any]


class Chunk(NamedTuple):
    header: Optional[Dict[str, Any]]  # the last header line read in this chunk, if any
    samples: List[Sample]
    end: Optional[Dict[str, Any]]  # the end line, if read in this chunk
    offset: int  # where the next read starts (always just after a "\n")
    ino: Optional[int]  # inode of the file read: a new one means it was rewritten
    reset: bool  # True when the file was replaced or shrank and was read again from 0
    bad: int  # complete lines that were not valid JSON objects (skipped)


def read_chunk(path, offset=0, ino=None, max_bytes=None):
    # type: (str, int, Optional[int], Optional[int]) -> Chunk
    """Read the complete lines of ``path`` from byte ``offset``. A partial last line is left for
    the next call. If the file's inode differs from ``ino`` or it is shorter than ``offset``, it
    was rewritten (compaction, restart): it is read from 0 and ``reset`` is True."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return Chunk(None, [], None, offset, ino, False, 0)
    with f:
        st = os.fstat(f.fileno())
        reset = False
        if (ino is not None and st.st_ino != ino) or st.st_size < offset:
            offset = 0
            reset = True
        f.seek(offset)
        data = f.read() if max_bytes is None else f.read(max_bytes)
    cut = data.rfind(b"\n")
    header = end = None
    samples = []  # type: List[Sample]
    bad = 0
    if cut < 0:
        return Chunk(None, samples, None, offset, st.st_ino, reset, 0)
    for line in data[: cut + 1].split(b"\n"):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(obj, dict):
            bad += 1
            continue
        k = obj.get("k")
        if k == "h":
            header = obj
        elif k == "e":
            end = obj
        elif k is None and "t" in obj:
            samples.append(obj)
        # unknown kinds: ignored (newer writers)
    return Chunk(header, samples, end, offset + cut + 1, st.st_ino, reset, bad)


class TraceReader:
    """Follows one samples file. ``poll()`` returns only samples newer than the newest one
    returned before, so a rewrite by compaction (which re-sends older, coarser data) is
    invisible to a streaming consumer; ``history()`` gives everything in the file now."""

    def __init__(self, path, max_bytes=None):
        self.path = path
        self.offset = 0
        self.ino = None  # type: Optional[int]
        self.header = None  # type: Optional[Dict[str, Any]]
        self.end = None  # type: Optional[Dict[str, Any]]
        self.last_t = None  # type: Optional[float]
        self.resets = 0
        self.bad = 0
        self.max_bytes = max_bytes

    def poll(self):
        # type: () -> List[Sample]
        c = read_chunk(self.path, self.offset, self.ino, self.max_bytes)
        if c.reset:
            self.resets += 1
            self.end = None
        self.offset, self.ino = c.offset, c.ino
        self.bad += c.bad
        if c.header is not None:
            self.header = c.header
        if c.end is not None:
            self.end = c.end
        out = c.samples
        if self.last_t is not None:
            out = [s for s in out if s["t"] > self.last_t]
        if out:
            self.last_t = out[-1]["t"]
        return out

    def history(self, max_points=None):
        # type: (Optional[int]) -> List[Sample]
        """The whole file now, downsampled to at most about ``max_points``; also moves the
        reader to the end, so that ``poll()`` continues after it."""
        self.offset, self.ino, self.last_t = 0, None, None
        samples = self.poll()
        return downsample(samples, max_points=max_points) if max_points else samples


def load(path):
    """(header, samples, end) of a whole file."""
    c = read_chunk(path)
    return c.header, c.samples, c.end


def sample_seconds(s, header=None):
    """How many seconds a sample stands for: d for coarse ones, else the interval."""
    return s.get("d") or (header or {}).get("iv") or 1.0


def downsample(samples, step=None, max_points=None):
    # type: (List[Sample], Optional[float], Optional[int]) -> List[Sample]
    """Fold samples into buckets of ``step`` s (or a step giving at most about ``max_points``
    buckets), aligned to multiples of step. Output rows have the coarse-line format (t = bucket
    start, d, n, g rows with 6 columns, c, cx, r): u, p, s, c means, m, T, r, cx maxima. Samples
    already as coarse as ``step`` pass through unchanged."""
    if not samples:
        return []
    if step is None:
        if not max_points:
            return list(samples)
        span = samples[-1]["t"] - samples[0]["t"]
        if len(samples) <= max_points:
            return list(samples)
        step = max(1, int(math.ceil(span / float(max_points))))
    ngpu = max(len(s.get("g") or ()) for s in samples)
    out = []  # type: List[Sample]
    acc = None
    for s in samples:
        if (s.get("d") or 0) >= step:
            if acc is not None:
                out.append(acc.result())
                acc = None
            out.append(s)
            continue
        b = math.floor(s["t"] / step) * step
        if acc is None or acc.start != b:
            if acc is not None:
                out.append(acc.result())
            acc = Bucket(int(b) if b == int(b) else b, step, ngpu)
        acc.add(s)
    if acc is not None:
        out.append(acc.result())
    return out


def expand(s, header=None):
    # type: (Sample, Optional[Dict[str, Any]]) -> Dict[str, Any]
    """A sample with named fields: {t, seconds, cpu_cores, cpu_cores_max, rss_mib, rss_mib_max,
    gpus: [{index, uuid, name, util, util_max, mem_mib, mem_total_mib, power_w, temp_c,
    sm_mhz}]}. ``*_max`` equal the value for full-resolution samples."""
    gpus = (header or {}).get("gpus") or []
    rows = []
    for k, row in enumerate(s.get("g") or ()):
        info = gpus[k] if k < len(gpus) else {}
        d = dict(zip(("util", "mem_mib", "power_w", "temp_c", "sm_mhz"), row[: len(COLS)]))
        d["util_max"] = row[5] if len(row) > 5 else row[0]
        d.update(index=info.get("i", k), uuid=info.get("uuid"), name=info.get("name"),
                 mem_total_mib=info.get("mt"))
        rows.append(d)
    return {
        "t": s["t"],
        "seconds": sample_seconds(s, header),
        "cpu_cores": s.get("c"),
        "cpu_cores_max": s.get("cx", s.get("c")),
        "rss_mib": s.get("r"),
        "gpus": rows,
    }
