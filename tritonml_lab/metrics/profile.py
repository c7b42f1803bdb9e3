"""A profile's summary from the Chrome trace JSON that ``torch.profiler`` exports (``--profile torch``).

Pure Python, no GPU and no torch: the server reads the trace the job left (``trace.<run>.json.gz``)
and keeps what a person looks at first:

- the top operators by **device time** (GPU kernels, copies, memsets, by name), or by **CPU self
  time** (``cpu_op`` events) when the trace has no device activity;
- the share of the profiled steps' time spent **waiting for data**: the main thread's
  ``enumerate(DataLoader)#...__next__`` spans inside the ``ProfilerStep#N`` spans;
- the GPU's **idle gaps** inside the profiled steps (device activity of every stream merged).

The file is streamed (the ``traceEvents`` array decoded one event at a time, gzip or not): at most
``MAX_BYTES`` of JSON and ``MAX_EVENTS`` events are read, and the summary says when it stopped short.
"""

from __future__ import annotations

import bisect
import gzip
import json
import re
from collections import defaultdict
from typing import Any, Iterator, Optional

MAX_BYTES = 512 << 20
MAX_EVENTS = 2_000_000  # ~25 s of reading at ~80,000 events/s
CHUNK = 1 << 20
TOP = 10
GAP_MIN_US = 1000.0  # an idle gap worth listing: 1 ms without any device activity
GAPS_LISTED = 5
NAME_MAX = 300
DEVICE_CATS = frozenset(("kernel", "gpu_memcpy", "gpu_memset"))
STEP = re.compile(r"^ProfilerStep#\d+$")
DATA_PREFIX = "enumerate(DataLoader)"
_DEVICE_NAME = re.compile(r'"deviceProperties"\s*:\s*\[\s*\{[^{}]*?"name"\s*:\s*"((?:[^"\\]|\\.)*)"')


class TraceError(ValueError):
    """The file is not a Chrome trace JSON (no ``traceEvents`` array) or not readable as one."""


def _open(path: str):
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8", errors="replace") if gz else open(path, encoding="utf-8", errors="replace")


def iter_events(handle, header: dict[str, Any], max_bytes: int = MAX_BYTES,
                max_events: int = MAX_EVENTS) -> Iterator[dict[str, Any]]:
    """The ``traceEvents`` of an open text file, one at a time. ``header`` gets ``device`` (from
    deviceProperties, when it comes before the events, as torch writes it), ``truncated``, ``bytes``."""
    decoder = json.JSONDecoder()
    buf = ""
    read = 0
    while True:  # find the array
        chunk = handle.read(CHUNK)
        read += len(chunk)
        buf += chunk
        at = buf.find('"traceEvents"')
        if at >= 0:
            bracket = buf.find("[", at)
            if bracket >= 0:
                break
        if not chunk or read > max_bytes:
            raise TraceError("no traceEvents array: not a Chrome trace JSON")
        if at < 0 and len(buf) > 4 * CHUNK:
            buf = buf[-64:]
    found = _DEVICE_NAME.search(buf[:at])
    header["device"] = json.loads('"%s"' % found.group(1)) if found else None
    pos = bracket + 1
    count = 0
    eof = False
    header["truncated"] = False
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            pos += 1
        need_more = pos >= len(buf) - 1 and not eof
        if need_more:
            buf, pos, eof, read = _refill(handle, buf, pos, read)
            continue
        if pos >= len(buf) or buf[pos] == "]":
            break
        if count >= max_events or read > max_bytes:
            header["truncated"] = True
            break
        try:
            event, end = decoder.raw_decode(buf, pos)
        except json.JSONDecodeError:
            if eof:
                header["truncated"] = True  # a trace cut off (the job was killed while it wrote)
                break
            buf, pos, eof, read = _refill(handle, buf, pos, read)
            continue
        pos = end
        count += 1
        if isinstance(event, dict):
            yield event
    header["events"] = count
    header["bytes"] = read


def _refill(handle, buf: str, pos: int, read: int) -> tuple[str, int, bool, int]:
    """The unread rest of ``buf`` and the next chunk: (buf, 0, eof, bytes read so far)."""
    chunk = handle.read(CHUNK)
    return buf[pos:] + chunk, 0, not chunk, read + len(chunk)


def _span(event: dict[str, Any]) -> Optional[tuple[float, float]]:
    try:
        ts = float(event["ts"])
        return ts, ts + float(event.get("dur") or 0.0)
    except (KeyError, TypeError, ValueError):
        return None


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _clip(intervals: list[tuple[float, float]], windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of (merged, sorted) ``intervals`` inside (merged, sorted) ``windows``."""
    out = []
    starts = [w[0] for w in windows]
    for start, end in intervals:
        i = max(0, bisect.bisect_right(starts, start) - 1)
        while i < len(windows) and windows[i][0] < end:
            lo, hi = max(start, windows[i][0]), min(end, windows[i][1])
            if hi > lo:
                out.append((lo, hi))
            i += 1
    return out


def _total(intervals: list[tuple[float, float]]) -> float:
    return sum(end - start for start, end in intervals)


def _self_times(by_thread: dict[Any, list[tuple[float, float, str]]]) -> dict[str, list[float]]:
    """CPU operators' self time (their time less their children's), by name: [calls, µs]."""
    out: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for events in by_thread.values():
        events.sort(key=lambda e: (e[0], -e[1]))
        stack: list[list[Any]] = []  # [end, name, children's time, dur]

        def close(item):
            entry = out[item[1]]
            entry[0] += 1
            entry[1] += max(0.0, item[3] - item[2])

        for ts, dur, name in events:
            while stack and stack[-1][0] <= ts:
                close(stack.pop())
            if stack:
                stack[-1][2] += dur
            stack.append([ts + dur, name, 0.0, dur])
        while stack:
            close(stack.pop())
    return out


def summarize_events(events, header: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """The summary of an iterable of trace events (see the module doc); plain data, times in ms."""
    header = header if header is not None else {}
    device_time: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    device_spans: list[tuple[float, float]] = []
    cpu_ops: dict[Any, list[tuple[float, float, str]]] = defaultdict(list)
    steps: list[tuple[float, float, Any]] = []
    data: list[tuple[float, float, Any]] = []
    first, last = None, None
    for event in events:
        if event.get("ph") != "X":
            continue
        span = _span(event)
        if span is None:
            continue
        cat, name = event.get("cat"), str(event.get("name", ""))[:NAME_MAX]
        if cat in DEVICE_CATS:
            entry = device_time[name]
            entry[0] += 1
            entry[1] += span[1] - span[0]
            device_spans.append(span)
        elif cat == "cpu_op":
            cpu_ops[(event.get("pid"), event.get("tid"))].append((span[0], span[1] - span[0], name))
        elif cat == "user_annotation" and STEP.match(name):
            steps.append((span[0], span[1], event.get("tid")))
        elif name.startswith(DATA_PREFIX):
            data.append((span[0], span[1], event.get("tid")))
        if cat not in ("Trace",):
            first = span[0] if first is None else min(first, span[0])
            last = span[1] if last is None else max(last, span[1])
    windows = _merge([(s, e) for s, e, _t in steps]) or ([(first, last)] if first is not None else [])
    window_us = _total(windows)
    summary: dict[str, Any] = {
        "device": header.get("device"), "events": header.get("events"), "truncated": bool(header.get("truncated")),
        "steps": len(steps), "step_ms": round(window_us / len(steps) / 1000, 3) if steps else None,
        "window_ms": round(window_us / 1000, 3),
        "data_wait_share": None, "data_wait_ms": None,
        "gpu_busy_share": None, "gpu_idle_ms": None, "gpu_gap_count": 0, "gpu_gaps": [],
    }
    if steps:
        step_threads = {t for _s, _e, t in steps}
        waits = _clip(_merge([(s, e) for s, e, t in data if t in step_threads]), windows)
        waited = _total(waits)
        summary["data_wait_share"] = round(waited / window_us, 4) if window_us else None
        summary["data_wait_ms"] = round(waited / len(steps) / 1000, 3)
    if device_spans and windows:
        busy = _clip(_merge(device_spans), windows)
        summary["gpu_busy_share"] = round(_total(busy) / window_us, 4) if window_us else None
        summary["gpu_idle_ms"] = round((window_us - _total(busy)) / 1000, 3)
        gaps = []
        for lo, hi in windows:  # idle stretches inside each window
            edge = lo
            for start, end in (b for b in busy if lo <= b[0] < hi):
                if start - edge >= GAP_MIN_US:
                    gaps.append((edge, start))
                edge = max(edge, end)
            if hi - edge >= GAP_MIN_US:
                gaps.append((edge, hi))
        origin = windows[0][0]
        summary["gpu_gap_count"] = len(gaps)
        summary["gpu_gaps"] = [{"start_ms": round((s - origin) / 1000, 3), "ms": round((e - s) / 1000, 3)}
                               for s, e in sorted(gaps, key=lambda g: g[0] - g[1])[:GAPS_LISTED]]
    if device_time:
        summary["top_by"], table = "device", device_time
    else:
        summary["top_by"], table = "cpu", _self_times(cpu_ops)
    total = sum(v[1] for v in table.values()) or 1.0
    ranked = sorted(table.items(), key=lambda item: -item[1][1])[:TOP]
    summary["top"] = [{"name": name, "calls": int(calls), "total_ms": round(us / 1000, 3),
                       "share": round(us / total, 4)} for name, (calls, us) in ranked]
    return summary


def summarize_file(path: str, max_bytes: int = MAX_BYTES, max_events: int = MAX_EVENTS) -> dict[str, Any]:
    """Blocking: read the trace at ``path`` (gzip or plain) and summarize it. Raises TraceError, OSError."""
    header: dict[str, Any] = {}
    try:
        with _open(path) as handle:
            return summarize_events(iter_events(handle, header, max_bytes, max_events), header)
    except (EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise TraceError(f"the trace could not be read: {exc}") from None
