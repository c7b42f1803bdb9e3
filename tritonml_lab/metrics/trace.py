"""The one reader of the sampler's files (format in ``sampler.py``'s docstring): incremental by byte
offset, tolerant of a partial last line and of the atomic rewrite that compaction makes; and the one
place that decodes a sample's GPU rows, through the header's ``cols`` (``gpu_order``, ``expand``).
Everything above it (metrics/samples.py, efficiency.py, the charts) gets rows in the sampler's COLS
order, and a header that says so.

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
# What each of the sampler's columns means, in expand's names.
NAMES = {"u": "util", "m": "mem_mib", "p": "power_w", "T": "temp_c", "s": "sm_mhz"}


class Chunk(NamedTuple):
    header: Optional[Dict[str, Any]]  # the last header line read in this chunk, if any
    samples: List[Sample]
    end: Optional[Dict[str, Any]]  # the end line, if read in this chunk
    offset: int  # where the next read starts (always just after a "\n")
    ino: Optional[int]  # inode of the file read: a new one means it was rewritten
    reset: bool  # True when the file was replaced or shrank and was read again from 0
    bad: int  # complete lines that were not valid JSON objects (skipped)
    nbytes: int = 0  # bytes read from the file by this call


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
        return Chunk(None, samples, None, offset, st.st_ino, reset, 0, len(data))
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
    return Chunk(header, samples, end, offset + cut + 1, st.st_ino, reset, bad, len(data))


def gpu_order(header):
    # type: (Optional[Dict[str, Any]]) -> Optional[List[Optional[int]]]
    """Where each of COLS is in this file's GPU rows (None: not written), or None when the rows are
    already in COLS order (every file so far; a header without ``cols`` is from before they were named)."""
    cols = (header or {}).get("cols")
    if not cols or list(cols) == COLS:
        return None
    return [cols.index(c) if c in cols else None for c in COLS] + [len(cols)]  # + coarse rows' max util


def in_cols_order(samples, order):
    # type: (List[Sample], List[Optional[int]]) -> List[Sample]
    """The samples with their GPU rows rearranged by ``gpu_order`` (copies; the rest as it was)."""
    out = []
    for s in samples:
        if s.get("g"):
            rows = [[row[i] if i is not None and i < len(row) else None for i in order[:-1]]
                    + list(row[order[-1]:]) for row in s["g"]]
            s = dict(s, g=rows)
        out.append(s)
    return out


class Read(NamedTuple):
    reset: bool  # the file was rewritten or shrank and was read again from 0: sums over it start over
    samples: List[Sample]  # every complete sample since the last read, in file order
    fresh: List[Sample]  # those newer than any returned before (what a stream sends on)


class TraceReader:
    """Follows one samples file. ``poll()`` returns only samples newer than the newest one
    returned before, so a rewrite by compaction (which re-sends older, coarser data) is
    invisible to a streaming consumer; ``history()`` gives everything in the file now; ``read()``
    both, for a consumer that also sums what the file holds (metrics/samples.py)."""

    def __init__(self, path, max_bytes=None):
        self.path = path
        self.offset = 0
        self.ino = None  # type: Optional[int]
        self.header = None  # type: Optional[Dict[str, Any]]
        self.end = None  # type: Optional[Dict[str, Any]]
        self.last_t = None  # type: Optional[float]
        self.resets = 0
        self.bad = 0
        self.bytes_read = 0  # all the bytes read so far (what an incremental reader saves shows here)
        self.max_bytes = max_bytes
        self._order = None  # type: Optional[List[Optional[int]]]

    def read(self):
        # type: () -> Read
        c = read_chunk(self.path, self.offset, self.ino, self.max_bytes)
        if c.reset:
            self.resets += 1
            self.end = None
        self.offset, self.ino = c.offset, c.ino
        self.bad += c.bad
        self.bytes_read += c.nbytes
        if c.header is not None:
            self._order = gpu_order(c.header)
            # rows are handed on in COLS order: the header says so (the charts decode through it)
            self.header = c.header if self._order is None else dict(c.header, cols=list(COLS))
        if c.end is not None:
            self.end = c.end
        samples = c.samples if self._order is None else in_cols_order(c.samples, self._order)
        fresh = samples
        if self.last_t is not None:
            fresh = [s for s in samples if s["t"] > self.last_t]
        if fresh:
            self.last_t = fresh[-1]["t"]
        return Read(c.reset, samples, fresh)

    def poll(self):
        # type: () -> List[Sample]
        return self.read().fresh

    def history(self, max_points=None):
        # type: (Optional[int]) -> List[Sample]
        """The whole file now, downsampled to at most about ``max_points``; also moves the
        reader to the end, so that ``poll()`` continues after it."""
        self.offset, self.ino, self.last_t = 0, None, None
        samples = self.poll()
        return downsample(samples, max_points=max_points) if max_points else samples


def load(path):
    """(header, samples, end) of a whole file."""
    r = TraceReader(path)
    samples = r.read().samples
    return r.header, samples, r.end


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
    """A sample (rows in COLS order, as ``TraceReader`` gives them) with named fields: {t, seconds,
    cpu_cores, cpu_cores_max, rss_mib, rss_mib_max, gpus: [{index, uuid, name, util, util_max,
    mem_mib, mem_total_mib, power_w, temp_c, sm_mhz}]}. ``*_max`` equal the value for
    full-resolution samples; coarse rows carry util's maximum after the columns."""
    gpus = (header or {}).get("gpus") or []
    rows = []
    for k, row in enumerate(s.get("g") or ()):
        info = gpus[k] if k < len(gpus) else {}
        d = {NAMES[c]: row[i] for i, c in enumerate(COLS) if i < len(row)}
        d["util_max"] = row[len(COLS)] if len(row) > len(COLS) else d.get("util")
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
