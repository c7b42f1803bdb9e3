"""tritonml: the in-job side of a tritonml-lab sweep task.

This file is copied into each sweep array job's directory as ``tritonml.py``. It runs with the job's
own Python, which may not have tritonml-lab installed: standard library only, no package imports.

In the task, the runner (``main.py``) makes this module importable as ``tritonml`` and puts it in the
cell's namespace, sets the task's point as variables, and runs the cell. The cell reports with::

    tritonml.report(loss=0.12, acc=0.97)     # or report({"loss": 0.12}); several calls merge

or by ending with an expression (a dict of values, or a number for the sweep's metric). The values go
to ``result.<task>.json`` next to this file, where the sweep's results table reads them.

In an Optuna sweep (``"optuna"`` in the runner's sweep config) the point is not in the points file:
the task asks the study for a trial before the cell (``tritonml_optuna.py``, loaded only then: it
needs optuna) and tells it the metric after, or FAIL when the cell did not give one.
"""

import atexit
import importlib.util
import json
import math
import os
import signal
import sys
import time

POINTS_FILE = "sweep_points.json"
RESULT_FILE = "result.%s.json"
OPTUNA_MODULE = "tritonml_optuna.py"

_task = {"path": None, "index": None, "params": None, "metric": None, "values": None}
_trial = {"study": None, "trial": None, "module": None}  # an Optuna sweep's trial, until told


def point():
    """This task's point (name -> value), as the sweep defined it."""
    return dict(_task["params"] or {})


def index():
    """This task's index in the sweep (0-based; the row of the results table)."""
    return _task["index"]


def report(_values=None, **metrics):
    """Record results of this task: ``report(loss=0.1, acc=0.9)`` or ``report({"loss": 0.1})``.
    Numbers (also numpy/torch scalars), text, true/false, and lists or dicts of them. Several calls
    merge, the last value of a name wins; the file is rewritten whole each time (never half-written)."""
    values = {}
    if _values is not None:
        if not isinstance(_values, dict):
            raise TypeError("report() takes a dict or name=value pairs, e.g. report(loss=0.1)")
        values.update(_values)
    values.update(metrics)
    if not values:
        raise TypeError("report() needs at least one value, e.g. report(loss=0.1)")
    if _task["path"] is None:
        sys.stderr.write("tritonml.report: not in a sweep task; nothing recorded: %r\n" % (values,))
        return
    merged = dict(_task["values"] or {})
    merged.update({str(key): _jsonable(value) for key, value in values.items()})
    _task["values"] = merged
    record = {
        "index": _task["index"],
        "params": _task["params"],
        "result": merged,
        "job_id": os.environ.get("SLURM_ARRAY_JOB_ID"),
        "task": os.environ.get("SLURM_ARRAY_TASK_ID"),
        "host": os.environ.get("SLURMD_NODENAME"),
        "reported_at": time.time(),
    }
    tmp = "%s.%d.tmp" % (_task["path"], os.getpid())
    with open(tmp, "w") as handle:
        json.dump(record, handle, allow_nan=False)
    os.replace(tmp, _task["path"])


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
    _task["metric"] = points.get("metric")
    _task["path"] = os.path.join(job_dir, RESULT_FILE % task)
    _task["values"] = None
    if config.get("optuna"):
        _task["params"] = _ask(job_dir, config["optuna"], task)
    namespace.update(_task["params"])
    namespace["tritonml"] = sys.modules[__name__]
    print("tritonml sweep: task %s = point %d: %s" % (task, _task["index"], json.dumps(_task["params"])))
    sys.stdout.flush()


def _finish(value):
    """Called by the runner after the cell with its trailing expression (None without one): reported
    unless report() was called. An Optuna trial is told the metric here."""
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
    ends without telling it: an exception, sys.exit, SIGTERM from a cancel or the time limit)."""
    try:
        import optuna  # noqa: F401 - checked here to say what to do
    except ImportError:
        raise RuntimeError("optuna is not installed in %s (this job's Python): pip install optuna"
                           % sys.executable) from None
    spec = importlib.util.spec_from_file_location("tritonml_optuna", os.path.join(job_dir, OPTUNA_MODULE))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    study, trial = module.ask(config, _task["index"], job_dir, task)
    _trial.update(study=study, trial=trial, module=module)
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
