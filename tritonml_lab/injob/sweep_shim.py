"""tritonml: the in-job side of a tritonml-lab sweep task.

This file is copied into each sweep array job's directory as ``tritonml.py``. It runs with the job's
own Python, which may not have tritonml-lab installed: standard library only, no package imports.

In the task, the runner (``main.py``) makes this module importable as ``tritonml`` and puts it in the
cell's namespace, sets the task's point as variables, and runs the cell. The cell reports with::

    tritonml.report(loss=0.12, acc=0.97)     # or report({"loss": 0.12}); several calls merge

or by ending with an expression (a dict of values, or a number for the sweep's metric). The values go
to ``result.<task>.json`` next to this file, where the sweep's results table reads them.

With ``step``, a report is an intermediate value: ``tritonml.report(step=epoch, loss=...)`` appends one
JSON line to ``steps.<task>.jsonl`` (append-only: a requeued task keeps its earlier steps, a crash loses
at most the last line); the sweep view draws them as a curve per task. A cell that reports steps but no
final result ends with its last step's values as its result. With pruning (``--prune median``) each
step of the sweep's metric may stop the task: :class:`Pruned` ends the cell cleanly (exit 0) and the
result file says ``"pruned": {"step": ...}``, so the table shows the task as pruned, not failed.

In an Optuna sweep (``"optuna"`` in the runner's sweep config) the point is not in the points file:
the task asks the study for a trial before the cell (``tritonml_optuna.py``, loaded only then: it
needs optuna) and tells it the metric after, or FAIL when the cell did not give one; each step's
metric goes to ``trial.report`` and ``trial.should_prune`` (Optuna's MedianPruner). Grid and random
sweeps prune with the median stopping rule over the other tasks' step files (:func:`_median_says_stop`).

When the job directory has ``tritonml_checkpoint.py`` (long jobs: ``--warn``/``--requeue``), its
time_left(), should_checkpoint(), checkpoint_dir(), restarts() and requeue() are this module's too.
"""

import atexit
import importlib.util
import json
import math
import operator
import os
import signal
import sys
import time

POINTS_FILE = "sweep_points.json"
RESULT_FILE = "result.%s.json"
OPTUNA_MODULE = "tritonml_optuna.py"
STEPS_FILE = "steps.%s.jsonl"
CHECKPOINT_MODULE = "tritonml_checkpoint.py"
CHECKPOINT_NAMES = ("time_left", "should_checkpoint", "checkpoint_dir", "restarts", "requeue")
MEDIAN_CHECK_SECONDS = 2.0  # the median rule reads the other tasks' step files at most this often
LOG_ROOT = "tensorboard"  # the job's log directory: one run per task, <job dir>/tensorboard/<run name>
RUN_FILE = ".run.%s"  # in LOG_ROOT: the run name this task used (the server's report() -> TensorBoard)
LOG_ENV = ("TRITONML_LOG_DIR", "TENSORBOARD_LOGDIR")

_task = {"path": None, "index": None, "params": None, "metric": None, "values": None, "steps": None,
         "last": {}, "own": [], "pruned": None, "stop": None, "mode": "min", "dir": None, "task": None,
         "others": {}, "checked": 0.0}
_trial = {"study": None, "trial": None, "module": None, "pruning": False}  # an Optuna trial, until told


def point():
    """This task's point (name -> value), as the sweep defined it."""
    return dict(_task["params"] or {})


def index():
    """This task's index in the sweep (0-based; the row of the results table)."""
    return _task["index"]


class Pruned(SystemExit):
    """Raised by ``report(step=...)`` when the task is pruned: ends the cell cleanly (exit status 0,
    so not a failure; a ``try/except Exception`` in the cell does not catch it)."""

    def __init__(self, step, why):
        SystemExit.__init__(self, 0)
        self.step, self.why = step, why


def report(_values=None, step=None, **metrics):
    """Record results of this task: ``report(loss=0.1, acc=0.9)`` or ``report({"loss": 0.1})``.
    Numbers (also numpy/torch scalars), text, true/false, and lists or dicts of them. Several calls
    merge, the last value of a name wins; the file is rewritten whole each time (never half-written).
    With ``step`` (a whole number: epoch, iteration) the values are that step's intermediate values
    (one line appended to ``steps.<task>.jsonl``); the task may be pruned there (raises Pruned)."""
    values = {}
    if _values is not None:
        if not isinstance(_values, dict):
            raise TypeError("report() takes a dict or name=value pairs, e.g. report(loss=0.1)")
        values.update(_values)
    values.update(metrics)
    if not values:
        raise TypeError("report() needs at least one value, e.g. report(loss=0.1)")
    if step is not None:
        return _report_step(_check_step(step), {str(key): _jsonable(value) for key, value in values.items()})
    if _task["path"] is None:
        sys.stderr.write("tritonml.report: not in a sweep task; nothing recorded: %r\n" % (values,))
        return
    merged = dict(_task["values"] or {})
    merged.update({str(key): _jsonable(value) for key, value in values.items()})
    _task["values"] = merged
    _write_result(merged)


def _write_result(merged):
    record = {
        "index": _task["index"],
        "params": _task["params"],
        "result": merged,
        "job_id": os.environ.get("SLURM_ARRAY_JOB_ID"),
        "task": os.environ.get("SLURM_ARRAY_TASK_ID"),
        "host": os.environ.get("SLURMD_NODENAME"),
        "reported_at": time.time(),
    }
    if _task["pruned"] is not None:
        record["pruned"] = _task["pruned"]
    tmp = "%s.%d.tmp" % (_task["path"], os.getpid())
    with open(tmp, "w") as handle:
        json.dump(record, handle, allow_nan=False)
    os.replace(tmp, _task["path"])


def _check_step(step):
    """A step is a whole number >= 0 (numpy integers too)."""
    if isinstance(step, bool):
        raise TypeError("step must be a whole number (epoch, iteration), not %r" % (step,))
    try:
        step = operator.index(step)
    except TypeError:
        raise TypeError("step must be a whole number (epoch, iteration), not %r" % (step,)) from None
    if step < 0:
        raise ValueError("step must be 0 or more, not %d" % step)
    return step


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _report_step(step, values):
    """One step's intermediate values: appended as one line (one write, O_APPEND), then pruning asked."""
    if _task["steps"] is None:
        sys.stderr.write("tritonml.report: not in a sweep task; step %d not recorded: %r\n" % (step, values))
        return
    if os.environ.get("RANK", "0") not in ("", "0"):
        return  # a distributed task's steps are rank 0's
    line = json.dumps({"step": step, "values": values, "t": round(time.time(), 3)}, allow_nan=False) + "\n"
    fd = os.open(_task["steps"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)
    _task["last"].update(values)
    value = values.get(_task["metric"]) if _task["metric"] else None
    if not _is_number(value):
        return
    _task["own"].append((step, value))
    why = None
    if _trial["trial"] is not None:  # told to the trial also without pruning: Optuna's own tools show them
        if _trial["module"].report(_trial["trial"], value, step, ask=_trial["pruning"]):
            why = "Optuna's median pruner: %s %g at step %d is worse than the median of the completed " \
                  "trials at that step" % (_task["metric"], value, step)
    elif _task["stop"]:
        why = _median_says_stop(step)
    if why:
        _prune(step, why)


def _prune(step, why):
    """Stop this task here: tell the trial PRUNED, record the last values with ``pruned``, end the cell."""
    _task["pruned"] = {"step": step, "why": why}
    if _trial["trial"] is not None:
        trial, _trial["trial"] = _trial["trial"], None
        _trial["module"].tell(_trial["study"], trial, None, pruned=True)
    _task["values"] = dict(_task["last"])
    _write_result(_task["values"])
    print("tritonml sweep: task %s pruned at step %d (%s)" % (_task["task"], step, why))
    sys.stdout.flush()
    raise Pruned(step, why)


def _read_steps(path, seen=None):
    """(step, metric value) pairs of a steps file, from byte ``seen["offset"]`` on (kept up to date);
    a last line without its newline (being written, or cut by a crash) is left for the next read."""
    seen = seen if seen is not None else {"offset": 0, "points": []}
    try:
        with open(path, "rb") as handle:
            handle.seek(seen["offset"])
            data = handle.read()
    except OSError:
        return seen
    end = data.rfind(b"\n") + 1
    seen["offset"] += end
    for raw in data[:end].splitlines():
        try:
            record = json.loads(raw)
            step, value = record["step"], record["values"].get(_task["metric"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if isinstance(step, int) and _is_number(value):
            seen["points"].append((step, value))
    return seen


def _best(points, step, mode):
    values = [value for at, value in points if at <= step]
    if not values:
        return None
    return max(values) if mode == "max" else min(values)


def _median_says_stop(step):
    """The median stopping rule (grid and random sweeps): stop when this task's best value up to
    ``step`` is worse than the median of the best values up to ``step`` of the other tasks of this
    array job that have reached it, once ``startup`` of them have and after ``warmup`` steps."""
    rule = _task["stop"]
    if step < int(rule.get("warmup") or 0):
        return None
    now = time.monotonic()
    if now - _task["checked"] < MEDIAN_CHECK_SECONDS:
        return None
    _task["checked"] = now
    others = _task["others"]
    try:
        names = os.listdir(_task["dir"])
    except OSError:
        return None
    own = STEPS_FILE % _task["task"]
    for name in names:
        if name.startswith("steps.") and name.endswith(".jsonl") and name != own:
            others[name] = _read_steps(os.path.join(_task["dir"], name), others.get(name))
    mode = _task["mode"]
    bests = [_best(seen["points"], step, mode) for seen in others.values()
             if seen["points"] and max(at for at, _v in seen["points"]) >= step]
    bests = sorted(value for value in bests if value is not None)
    if len(bests) < max(1, int(rule.get("startup") or 1)):
        return None
    middle = len(bests) // 2
    median = bests[middle] if len(bests) % 2 else (bests[middle - 1] + bests[middle]) / 2
    mine = _best(_task["own"], step, mode)
    if mine is None or not (mine > median if mode != "max" else mine < median):
        return None
    return "median stopping rule: best %s %g up to step %d is worse than the median %g of %d other tasks" % (
        _task["metric"], mine, step, median, len(bests))


def run_name(params, index, all_params=None):
    """The task's run name (TensorBoard, W&B): its parameters, ``lr=0.001,batch=32``; ``task-<index>``
    without any. A point that the sweep has more than once (a random search over a few choices) gets
    its index too (``lr=0.1,point=3``): two tasks must not log into one run. ``all_params``: every
    point's parameters (the points file's). Safe as one directory name (no ``/``, no control
    characters, at most 200 characters)."""
    if not params:
        return "task-%d" % index
    text = ",".join("%s=%s" % (name, value) for name, value in params.items())
    if all_params is not None and sum(1 for other in all_params if other == params) > 1:
        text = "%s,point=%d" % (text[:180], index)
    text = "".join("_" if ch in "/\\" or ord(ch) < 32 else ch for ch in text).strip() or "task-%d" % index
    if text in (".", ".."):
        text = "task-%d" % index
    return text[:200]


def _export_log_dir(job_dir, task):
    """This task's log directory, named by its point: in the environment (the user's own SummaryWriter
    logs there, W&B names its run so) and its name in ``tensorboard/.run.<task>`` (the server writes
    the report(step=...) values there as TensorBoard scalars)."""
    name = run_name(_task["params"], _task["index"], _task.get("all_params"))
    root = os.path.join(job_dir, LOG_ROOT)
    path = os.path.join(root, name)
    try:
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(root, RUN_FILE % task), "w") as handle:
            handle.write(name)
    except OSError as exc:
        sys.stderr.write("tritonml: no log directory %s: %s\n" % (path, exc))
        return
    for key in LOG_ENV:
        os.environ[key] = path
    if os.environ.get("WANDB_PROJECT"):
        os.environ["WANDB_NAME"] = name
        os.environ["WANDB_DIR"] = path


def _reexport_checkpoint(job_dir):
    """The long-job API (``tritonml_checkpoint.py``, when the job has one) as this module's own."""
    path = os.path.join(job_dir, CHECKPOINT_MODULE)
    if not os.path.exists(path):
        return
    module = sys.modules.get("tritonml_checkpoint")
    if module is None or os.path.abspath(getattr(module, "__file__", "") or "") != os.path.abspath(path):
        spec = importlib.util.spec_from_file_location("tritonml_checkpoint", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["tritonml_checkpoint"] = module
        spec.loader.exec_module(module)
    for name in CHECKPOINT_NAMES:
        if hasattr(module, name):
            globals()[name] = getattr(module, name)


def _jsonable(value, depth=0):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth < 4 and isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if depth < 4 and isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    item = getattr(value, "item", None)  # numpy scalars, one-element torch tensors
    if callable(item):
        try:
            return _jsonable(item(), depth + 1)
        except Exception:  # noqa: BLE001 - fall through to float/str
            pass
    try:
        return _jsonable(float(value), depth + 1)
    except Exception:  # noqa: BLE001
        return str(value)[:1000]


def _setup(namespace, job_dir, config):
    """Called by the runner before the cell: this task's point into ``namespace``."""
    task = os.environ.get("SLURM_ARRAY_TASK_ID")
    if task is None or not task.isdigit():
        raise RuntimeError("SLURM_ARRAY_TASK_ID is not set: a sweep task runs as a Slurm array task")
    with open(os.path.join(job_dir, config.get("points") or POINTS_FILE)) as handle:
        points = json.load(handle)
    local = int(task)
    if local >= len(points["indices"]):
        raise RuntimeError("array task %d has no point (this array job has %d)" % (local, len(points["indices"])))
    _task["index"] = points["indices"][local]
    _task["params"] = points["params"][local]
    _task["all_params"] = points["params"]
    _task["metric"] = points.get("metric")
    _task["path"] = os.path.join(job_dir, RESULT_FILE % task)
    _task["steps"] = os.path.join(job_dir, STEPS_FILE % task)
    _task.update(values=None, dir=job_dir, task=task, stop=config.get("stop"), last={}, pruned=None)
    _task["mode"] = (config.get("stop") or config.get("optuna") or {}).get("mode") or "min"
    # A requeued task keeps its earlier steps: the median rule counts them as its own.
    _task["own"] = list(_read_steps(_task["steps"])["points"]) if _task["metric"] else []
    _reexport_checkpoint(job_dir)
    if config.get("optuna"):
        _task["params"] = _ask(job_dir, config["optuna"], task)
    _export_log_dir(job_dir, task)
    namespace.update(_task["params"])
    namespace["tritonml"] = sys.modules[__name__]
    print("tritonml sweep: task %s = point %d: %s" % (task, _task["index"], json.dumps(_task["params"])))
    sys.stdout.flush()


def _finish(value):
    """Called by the runner after the cell with its trailing expression (None without one): reported
    unless report() was called; without either, the last step's values are the result. An Optuna
    trial is told the metric here."""
    if value is None and _task["values"] is None and _task["last"]:
        report(dict(_task["last"]))
    if value is not None and _task["values"] is None:
        if isinstance(value, dict) and value:
            report(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) or hasattr(value, "item"):
            report({_task["metric"] or "value": value})
        else:
            report({"value": value})
    if _trial["trial"] is not None:
        metric = _task["metric"]
        result = (_task["values"] or {}).get(metric)
        if not isinstance(result, (int, float)) or isinstance(result, bool) or not math.isfinite(result):
            # Raised into the runner: the task fails with this message, and the trial is told FAIL.
            raise RuntimeError("this Optuna sweep optimizes %r, but the cell reported %r for it; report a "
                               "number: tritonml.report(%s=...)" % (metric, result, metric))
        _tell(result)


def _ask(job_dir, config, task):
    """An Optuna sweep: this task's point is a new trial of the study (told FAIL at exit if the task
    ends without telling it: an exception, sys.exit, SIGTERM from a cancel or the time limit). A
    requeued task gets its point again (:func:`tritonml_optuna.ask`)."""
    try:
        import optuna  # noqa: F401 - checked here to say what to do
    except ImportError:
        raise RuntimeError("optuna is not installed in %s (this job's Python): pip install optuna"
                           % sys.executable) from None
    spec = importlib.util.spec_from_file_location("tritonml_optuna", os.path.join(job_dir, OPTUNA_MODULE))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    study, trial = module.ask(config, _task["index"], job_dir, task)
    _trial.update(study=study, trial=trial, module=module, pruning=bool(config.get("prune")))
    for step, value in _task["own"]:  # a requeued task's earlier steps, told to its (new) trial
        module.report(trial, value, step, ask=False)
    atexit.register(_tell, None)
    # Slurm ends a cancelled or timed-out task with SIGTERM (SIGKILL only KillWait later): exit
    # through Python so that the atexit above tells the trial FAIL instead of leaving it RUNNING.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    return dict(trial.params)


def _terminated(signum, frame):
    sys.exit(128 + signum)


def _tell(value):
    """Tell the trial once: the metric, or None for FAIL."""
    trial, _trial["trial"] = _trial["trial"], None
    if trial is not None:
        _trial["module"].tell(_trial["study"], trial, value)
