"""A sweep's files in each array job's directory: written before submission (the stdlib runner, the
shim, the points), read back for the results table (results, exit codes, the error's stderr tail)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

from .. import injob
from ..injob import checkpoint as injob_checkpoint
from ..jobs.script import ARRAY_STDERR, PYTHON_FILE
from ..slurm import JobState
from . import adaptive
from .models import SweepTask
from .steps import STEPS_FILE

CELL_FILE, RUNNER_CONFIG, SHIM_FILE = "cell.py", "runner.json", "tritonml.py"
POINTS_FILE = "sweep_points.json"
PARAMS_FILE = "params.%s.json"  # an Optuna task's point, written when it starts
ERROR_TAIL_LINES, ERROR_TAIL_BYTES = 20, 4096
REQUEUE_EXIT = injob_checkpoint.REQUEUE_EXIT  # a run that stopped for the time limit, to be requeued

_STOPPED = {
    JobState.CANCELLED: "The task was cancelled.",
    JobState.TIMEOUT: "The task reached its time limit (give more --time and retry).",
    JobState.OUT_OF_MEMORY: "The task ran out of memory (give more --mem and retry).",
    JobState.NODE_FAIL: "The node running the task failed.",
    JobState.BOOT_FAIL: "The node did not boot.",
    JobState.PREEMPTED: "The task was preempted.",
    JobState.DEADLINE: "The task reached its deadline.",
}


def write_task_files(job_dir: Path, code: str, indices: list[int], params: list[Optional[dict[str, Any]]],
                     metric: Optional[str], optuna: Optional[dict[str, Any]] = None,
                     stop: Optional[dict[str, Any]] = None) -> None:
    """What runs in each task: the stdlib runner as main.py, the code, the shim, the points (and for an
    Optuna sweep, the in-job ask/tell and the study, :func:`.adaptive.task_config`; for a grid or
    random sweep with pruning, ``stop``: the median stopping rule's prune fields and mode)."""
    (job_dir / CELL_FILE).write_text(code)
    injob.copy_into(injob.RUNNER, job_dir, PYTHON_FILE)
    injob.copy_into(injob.SWEEP_SHIM, job_dir, SHIM_FILE)
    sweep: dict[str, Any] = {"points": POINTS_FILE}
    if optuna is not None:
        injob.copy_into(injob.OPTUNA_TASK, job_dir, adaptive.TASK_FILE)
        sweep["optuna"] = optuna
    elif stop is not None:
        sweep["stop"] = stop
    config = {"cell": CELL_FILE, "inputs": None, "outputs": [], "sweep": sweep}
    (job_dir / RUNNER_CONFIG).write_text(json.dumps(config, indent=1))
    (job_dir / POINTS_FILE).write_text(json.dumps({"metric": metric, "indices": indices, "params": params}))


def _read_int(path: str) -> Optional[int]:
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _read_record(path: str) -> dict[str, Any]:
    """A task's JSON file (result.<task>.json, params.<task>.json); {} if unreadable."""
    try:
        with open(path) as handle:
            record = json.load(handle)
        return record if isinstance(record, dict) else {}
    except (OSError, ValueError):
        return {}


def _dict(record: dict[str, Any], key: str) -> Optional[dict[str, Any]]:
    value = record.get(key)
    return value if isinstance(value, dict) else None


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - ERROR_TAIL_BYTES))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.rstrip().splitlines()[-ERROR_TAIL_LINES:])


class _Files:
    """What a task's files say, read without asking Slurm."""

    __slots__ = ("state", "exit_code", "result", "final", "params", "pruned", "steps")

    def __init__(self, state: JobState, exit_code: Optional[int], result: Optional[dict], final: bool,
                 params: Optional[dict] = None):
        self.state, self.exit_code, self.result, self.final = state, exit_code, result, final
        self.params = params  # the point an Optuna task asked for (None: the manifest's)
        self.pruned: Optional[dict] = None  # {"step", "why"} of a task stopped early
        self.steps: Optional[str] = None  # the path of its steps file, if it has one


def read_task_files(directory: str, tasks: list[int]) -> dict[int, _Files]:
    """Each task's state as its files tell it: the runner's clean end (COMPLETED) or the cell's failure
    (FAILED) are final; an exit code without the runner's word (killed: time limit, memory, cancel)
    or no exit code yet needs Slurm's word (``final`` False). One directory listing per job."""
    try:
        names = set(os.listdir(directory))
    except OSError:
        names = set()
    out: dict[int, _Files] = {}
    for task in tasks:
        exit_code = _read_int(f"{directory}/exit_code.{task}") if f"exit_code.{task}" in names else None
        runner = _read_int(f"{directory}/runner_exit.{task}") if f"runner_exit.{task}" in names else None
        record = _read_record(f"{directory}/result.{task}.json") if f"result.{task}.json" in names else {}
        result = _dict(record, "result")
        params_file = PARAMS_FILE % task
        params = _dict(_read_record(f"{directory}/{params_file}"), "params") if params_file in names else None
        if runner == REQUEUE_EXIT:
            runner = None  # a run that asked to come back: not the runner's last word (Slurm's is)
        if (exit_code is not None or runner is not None) and any(n.startswith(f"started.{task}.") for n in names):
            exit_code, runner = _this_run(directory, task, names, exit_code, runner)
        if exit_code is not None and runner is not None:
            ok = exit_code == 0 and runner == 0
            files = _Files(JobState.COMPLETED if ok else JobState.FAILED, exit_code or runner, result, True)
        elif exit_code is not None:
            files = _Files(JobState.FAILED if exit_code else JobState.COMPLETED, exit_code, result, False)
        else:
            started = f"stdout.{task}.log" in names or f"stderr.{task}.log" in names
            files = _Files(JobState.RUNNING if started else JobState.PENDING, None, result, False)
        files.params = params
        files.pruned = _dict(record, "pruned")
        if STEPS_FILE % task in names:
            files.steps = f"{directory}/{STEPS_FILE % task}"
        out[task] = files
    return out


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def _this_run(directory: str, task: int, names: set[str], exit_code: Optional[int],
              runner: Optional[int]) -> tuple[Optional[int], Optional[int]]:
    """A requeued task (``started.<task>.<k>`` markers): its exit files count only if written after
    the newest run started; older ones are an earlier run's."""
    started = max(_mtime(f"{directory}/{name}") for name in names if name.startswith(f"started.{task}."))
    if exit_code is not None and _mtime(f"{directory}/exit_code.{task}") < started:
        exit_code = None
    if runner is not None and _mtime(f"{directory}/runner_exit.{task}") < started:
        runner = None
    return exit_code, runner


def task_error(directory: str, task: int, state: JobState, exit_code: Optional[int]) -> Optional[str]:
    if state is JobState.COMPLETED or not state.is_finished:
        return None
    tail = _tail(os.path.join(directory, ARRAY_STDERR.replace("%a", str(task))))
    stopped = _STOPPED.get(state)
    if stopped and tail:
        return f"{stopped}\n{tail}"
    return stopped or tail or (f"The task ended with exit code {exit_code}." if exit_code is not None
                               else f"The task ended: {state.value}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def rank_tasks(tasks: list[SweepTask], metric: Optional[str], mode: str) -> Optional[SweepTask]:
    """Sort in place: tasks with a numeric ``metric`` first, best first (pruned ones after); then the
    rest by index. Marks and returns the best completed, unpruned task (None without a metric or results)."""
    if not metric:
        tasks.sort(key=lambda t: t.index)
        return None
    sign = -1.0 if mode == "max" else 1.0

    def key(task: SweepTask):
        value = (task.result or {}).get(metric)
        if _is_number(value):  # a pruned task's value is its last step's: after the ones that finished
            return (1 if task.pruned else 0, sign * value, task.index)
        return (2, 0.0, task.index)

    tasks.sort(key=key)
    for task in tasks:
        if task.state is JobState.COMPLETED and not task.pruned and _is_number((task.result or {}).get(metric)):
            task.best = True
            return task
    return None
