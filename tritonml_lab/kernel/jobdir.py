"""The files a Python cell's job keeps next to the runner, and what the kernel reads from a job
directory: exit codes, the runner's outputs and clean ends, a log's tail, the pickled --out values.

The layout is the stdlib-only runner's (``injob/runner.py``): it reads ``runner.json`` (the cell's
file, the pickled inputs, the names to send back) and writes ``outputs[.TASK].pkl`` and
``runner_exit.TASK``; the batch script's exit trap writes ``exit_code.TASK`` (read through
:class:`~tritonml_lab.jobs.store.JobDir`).
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any, Optional

from IPython.core.error import UsageError

from .. import injob
from ..jobs.script import PYTHON_FILE
from ..jobs.store import JobDir, Manifest

CELL_FILE = "cell.py"
RUNNER_CONFIG, INPUTS_FILE = "runner.json", "inputs.pkl"


def write_runner_files(job_dir: JobDir, cell: str, payload: Optional[bytes], outputs: list[str]) -> None:
    """The cell, the runner as the job's main.py, its config and the pickled --in values."""
    (job_dir.path / CELL_FILE).write_text(cell)
    # main.py is the stdlib-only runner; it runs cell.py (JobStore wrote the cell there first).
    injob.copy_into(injob.RUNNER, job_dir.path, PYTHON_FILE)
    config = {"cell": CELL_FILE, "inputs": INPUTS_FILE if payload is not None else None, "outputs": outputs}
    (job_dir.path / RUNNER_CONFIG).write_text(json.dumps(config, indent=1))
    if payload is not None:
        (job_dir.path / INPUTS_FILE).write_bytes(payload)


def runner_outputs(job_dir: JobDir) -> list[str]:
    """The --out names the job was submitted with ([] for bash cells and notebook runs)."""
    try:
        return list(json.loads((job_dir.path / RUNNER_CONFIG).read_text()).get("outputs") or [])
    except (OSError, ValueError):
        return []


def runner_finished(job_dir: JobDir, task: Optional[str], tasks: Optional[list[str]]) -> bool:
    """The Python runner of every task reported a clean end (so no Slurm question is needed)."""
    for one in tasks if tasks is not None else [task]:
        try:
            if (job_dir.path / f"runner_exit.{one or 'job'}").read_text().strip() != "0":
                return False
        except OSError:
            return False
    return True


def array_tasks(array: str) -> list[str]:
    """'0-9:2,11%3' -> ['0', '2', ..., '11']."""
    tasks: list[str] = []
    for part in array.split("%")[0].split(","):
        span, _, step = part.partition(":")
        first, _, last = span.partition("-")
        tasks += [str(i) for i in range(int(first), int(last or first) + 1, int(step or 1))]
    return tasks


def exit_codes(job_dir: JobDir, task: Optional[str], tasks: Optional[list[str]]) -> Optional[list[int]]:
    """The exit codes the script's EXIT trap wrote, once all are there; else None."""
    wanted = tasks if tasks is not None else [task]
    codes = []
    for one in wanted:
        code = job_dir.exit_code(one)
        if code is None:
            return None
        codes.append(code)
    return codes


def tail(job_dir: JobDir, stream: str, task: Optional[str], manifest: Manifest, lines: int = 25) -> str:
    """The last lines of a job's (or one task's) stdout or stderr; "" for a whole array."""
    if manifest.spec.array and task is None:
        return ""
    path = job_dir.log_path(stream, task)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - 16384))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def read_outputs(job_dir: JobDir, manifest: Manifest, task: Optional[str],
                 names: list[str]) -> Optional[dict[str, Any]]:
    """The --out values (``names``) the job sent back; None when none came back yet. For a whole
    array job: ``{name: {task: value}}`` over the tasks that sent theirs."""
    if manifest.spec.array and task is None:
        found = sorted(job_dir.path.glob("outputs.*.pkl"), key=lambda p: _task_key(p.name))
        if not found:
            return None
        values: dict[str, dict] = {name: {} for name in names}
        for path in found:
            task_id = path.name.split(".")[1]
            for name, value in unpickle(path).items():
                values.setdefault(name, {})[_int_or(task_id)] = value
        return values
    path = job_dir.path / ("outputs.pkl" if task is None else f"outputs.{task}.pkl")
    return unpickle(path) if path.exists() else None


def unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception as exc:  # noqa: BLE001
        raise UsageError(f"Could not load {path} ({type(exc).__name__}: {exc})") from None


def _int_or(text: str):
    return int(text) if text.isdigit() else text


def _task_key(name: str):
    task = name.split(".")[1]
    return (0, int(task)) if task.isdigit() else (1, task)
