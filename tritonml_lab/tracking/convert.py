"""``tritonml.report(step=..., **values)`` as TensorBoard scalars, written by the server.

The job's Python often lacks tensorboard (and tritonml-lab), so the in-job shim only appends JSON lines
to ``steps.<task>.jsonl``; here the server turns them into an event file per task, in the task's run
directory ``<job dir>/tensorboard/<run name>/`` (the name the shim chose from the task's parameters and
left in ``tensorboard/.run.<task>``). The records are written with TensorBoard's own ``RecordWriter``
and its protobuf messages (what ``torch.utils.tensorboard`` uses underneath), never a hand-written format.

Incremental: each pass appends only the steps file's new complete lines to one event file per run,
``events.out.tfevents.tritonml-report``, and remembers the offset next to it
(``.tritonml-report.json``), so a TensorBoard that is open reads the new steps as they come. A steps
file that was replaced or shortened (a retry in a reused directory) starts the event file over.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Optional

from ..injob.sweep_shim import LOG_ROOT, POINTS_FILE, RUN_FILE, STEPS_FILE, run_name
from ..jobs.store import BadJobRequest
from ..sweeps.steps import parse_step_line

EVENTS_FILE = "events.out.tfevents.tritonml-report"  # "tfevents" in the name: TensorBoard reads it
STATE_FILE = ".tritonml-report.json"
_STEPS = re.compile(r"^steps\.(\d+)\.jsonl$")
MAX_READ = 32 << 20  # bytes of new lines converted per file and pass (the rest in the next pass)

INSTALL_HINT = ('pip install "tritonml-lab[tracking]" (or: pip install tensorboard) into the environment '
                'that runs the Jupyter server')


class TrackingUnavailable(BadJobRequest):
    """TensorBoard is not installed where the server runs, or did not start (a 400 that says why)."""


def _writer_parts():
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.record_writer import RecordWriter
    except ImportError as exc:
        raise TrackingUnavailable(f"TensorBoard is not installed in the Jupyter server's environment "
                                  f"({exc}): {INSTALL_HINT}") from None
    return Event, Summary, RecordWriter


def _task_names(job_dir: Path, tasks: list[str]) -> dict[str, str]:
    """Task -> run name: the shim's own (``.run.<task>``), else from the points file, else task-<n>."""
    names: dict[str, str] = {}
    points: Optional[dict[str, Any]] = None
    for task in tasks:
        try:
            name = (job_dir / LOG_ROOT / (RUN_FILE % task)).read_text()[:200].strip()
        except OSError:
            name = ""
        if not name or "/" in name or name in (".", ".."):
            if points is None:
                try:
                    points = json.loads((job_dir / POINTS_FILE).read_text())
                except (OSError, ValueError):
                    points = {}
            local = int(task)
            try:
                params, index, every = points["params"][local], points["indices"][local], points["params"]
            except (KeyError, IndexError, TypeError):
                params, index, every = None, local, None
            name = run_name(params if isinstance(params, dict) else None, index, every)
        names[task] = name
    return names


class ReportConverter:
    """Converts the steps files of job directories; thread-safe (passes run in executor threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def convert(self, job_dir: Path) -> int:
        """One pass over ``job_dir``'s steps files; the number of steps written."""
        Event, Summary, RecordWriter = _writer_parts()
        try:
            tasks = sorted((m.group(1) for e in os.scandir(job_dir) if (m := _STEPS.match(e.name))), key=int)
        except OSError:
            return 0
        if not tasks:
            return 0
        written = 0
        with self._lock:
            for task, name in _task_names(job_dir, tasks).items():
                written += self._convert_one(job_dir / (STEPS_FILE % task), job_dir / LOG_ROOT / name,
                                             Event, Summary, RecordWriter)
        return written

    @staticmethod
    def _convert_one(steps: Path, run_dir: Path, Event, Summary, RecordWriter) -> int:
        try:
            info = steps.stat()
        except OSError:
            return 0
        state_path, events_path = run_dir / STATE_FILE, run_dir / EVENTS_FILE
        try:
            state = json.loads(state_path.read_text())
            if state.get("inode") != info.st_ino or info.st_size < state.get("offset", 0) \
                    or not events_path.exists():
                state = None
        except (OSError, ValueError, AttributeError):
            state = None
        offset = state["offset"] if state else 0
        if state and info.st_size == offset:
            return 0
        with open(steps, "rb") as handle:
            handle.seek(offset)
            data = handle.read(MAX_READ)
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next pass
        records = []
        for raw in data[:end].splitlines():
            event = _event(raw, Event, Summary)
            if event is not None:
                records.append(event.SerializeToString())
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(events_path, "ab" if state else "wb") as out:
            writer = RecordWriter(out)
            if not state:
                writer.write(Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
            for record in records:
                writer.write(record)
            writer.flush()
        tmp = state_path.with_name(STATE_FILE + ".tmp")
        tmp.write_text(json.dumps({"inode": info.st_ino, "offset": offset + end, "source": steps.name}))
        os.replace(tmp, state_path)
        return len(records)


def _event(raw: bytes, Event, Summary):
    """One steps line as an Event of simple scalars; None if it is not a step line with numbers."""
    line = parse_step_line(raw)
    if line is None or not line.values:
        return None
    scalars = [Summary.Value(tag=name[:200], simple_value=value) for name, value in line.values.items()]
    wall = line.t if line.t is not None else time.time()
    return Event(wall_time=wall, step=line.step, summary=Summary(value=scalars))
