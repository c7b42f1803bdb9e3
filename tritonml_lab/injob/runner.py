"""tritonml-lab's in-job runner for ``%%tritonml submit`` Python cells.

This file is copied into the job directory as ``main.py`` and run there by the notebook kernel's own
Python. That Python may not have tritonml-lab installed, so this file uses the standard library only
and imports nothing from the package.

What it does, driven by ``runner.json`` next to it:
  1. loads the notebook variables sent with ``--in`` (``inputs.pkl``) into a fresh ``__main__``;
  2. runs the cell (``cell.py``) there, so tracebacks name ``cell.py`` and its line numbers;
  3. prints the repr of a trailing expression, as a notebook shows it;
  4. pickles the variables named by ``--out`` into ``outputs.pkl`` (``outputs.<task>.pkl`` in array
     jobs; only rank 0 writes in distributed jobs). A missing one is an error (exit status 3).
  In a sweep task (``"sweep"`` in runner.json) the stdlib shim ``tritonml.py`` next to this file is
  loaded as the module ``tritonml``: it sets the task's point as variables before the cell and records
  ``tritonml.report(...)``, or the trailing expression, in ``result.<task>.json`` (in an Optuna sweep
  it also asks the study for the point and tells it the result; only then is optuna imported).
  Elsewhere ``tritonml`` is ``tritonml_checkpoint.py`` next to this file (long jobs: time_left(),
  should_checkpoint(), checkpoint_dir(), restarts(), requeue()), its SIGUSR1 handler installed
  before the cell.

How a cell says "I finished" or "I stopped for the time limit": a cell that returns (or runs to its
end) has finished, whenever that is, also after the time-limit warning: its ``--out`` variables are
saved and the runner exits 0. Only a cell that calls ``tritonml.requeue()`` (or exits with status 99,
``sys.exit(99)``) stopped for the limit: the runner exits 99 without saving ``--out``, and the batch
script requeues the job while restarts are left. Whether the warning came is the cell's to decide
(``tritonml.should_checkpoint()``), never the runner's: a cell that finished its work just after the
warning must not run again from the top.

You can rerun the job by hand: ``sbatch job.sh`` in the job directory.
"""

import ast
import importlib.util
import json
import os
import pickle
import sys
import traceback
import types

CONFIG = "runner.json"
EXIT_CELL_FAILED = 1
EXIT_MISSING_OUTPUT = 3
EXIT_BAD_SETUP = 4
EXIT_REQUEUE = 99  # tritonml_checkpoint.REQUEUE_EXIT: the batch script requeues the job
CHECKPOINT_MODULE = "tritonml_checkpoint.py"


def _say(message):
    sys.stderr.write("tritonml: " + message + "\n")
    sys.stderr.flush()


def done_name(task):
    """Written when the runner itself finishes: tells a clean end from a job killed from outside
    (the batch script's exit trap may record 0 for a job cancelled while it waited)."""
    return "runner_exit.%s" % (task or "job")


def output_name(task):
    return "outputs.pkl" if not task else "outputs.%s.pkl" % task


def _load_config(job_dir):
    path = os.path.join(job_dir, CONFIG)
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        _say("cannot read %s: %s" % (path, exc))
        sys.exit(EXIT_BAD_SETUP)


def _compile_cell(source, filename):
    """(body code, trailing expression code or None)."""
    tree = ast.parse(source, filename, "exec")
    last = None
    # A trailing expression is shown, as in a notebook, unless the cell ends with ';'.
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, filename, "exec")
    return body, compile(last, filename, "eval") if last is not None else None


def _load_shim(job_dir):
    """``tritonml.py`` from the job directory, importable as ``tritonml`` (``import tritonml`` works)."""
    spec = importlib.util.spec_from_file_location("tritonml", os.path.join(job_dir, "tritonml.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["tritonml"] = module
    spec.loader.exec_module(module)
    return module


def _load_checkpoint(job_dir):
    """``tritonml_checkpoint.py`` from the job directory as ``tritonml_checkpoint`` (None when absent:
    a job directory made before it existed)."""
    path = os.path.join(job_dir, CHECKPOINT_MODULE)
    if not os.path.exists(path):
        return None
    spec = importlib.util.spec_from_file_location("tritonml_checkpoint", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tritonml_checkpoint"] = module
    spec.loader.exec_module(module)
    module.install()  # the warning must not end the cell: it sets should_checkpoint()
    return module


class _NoProfile:
    """``tritonml.profile()`` in a job submitted without ``--profile torch``: does nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def step(self):
        pass


def _add_profile(module):
    """``tritonml.profile()``: the profiler's context where ``--profile torch`` loaded it (as
    ``tritonml_profile``, from profile-hook/sitecustomize.py), else one that does nothing."""
    if module is None or hasattr(module, "profile"):
        return
    profiler = sys.modules.get("tritonml_profile")
    module.profile = profiler.profile if profiler is not None else (lambda *a, **k: _NoProfile())


def _is_rank_zero():
    return os.environ.get("RANK", "0") in ("", "0")


def main():
    job_dir = os.path.dirname(os.path.abspath(__file__))
    config = _load_config(job_dir)
    cell_path = os.path.join(job_dir, config.get("cell", "cell.py"))
    outputs = list(config.get("outputs") or [])

    # Imports of the notebook's own modules resolve from where the job starts (the notebook's folder),
    # not from the job directory.
    sys.path[0] = os.getcwd()

    module = types.ModuleType("__main__")
    module.__file__ = cell_path
    module.__builtins__ = __builtins__
    namespace = module.__dict__
    sys.modules["__main__"] = module  # classes defined in the cell pickle as __main__.X

    inputs = config.get("inputs")
    if inputs:
        try:
            with open(os.path.join(job_dir, inputs), "rb") as handle:
                namespace.update(pickle.load(handle))
        except Exception as exc:  # noqa: BLE001 - any unpickling failure is the user's to read
            _say("could not load the --in variables (%s: %s). They are unpickled with this job's "
                 "Python, %s; the classes they need must be importable here." % (
                     type(exc).__name__, exc, sys.executable))
            return EXIT_BAD_SETUP

    try:
        checkpoint = _load_checkpoint(job_dir)
    except Exception as exc:  # noqa: BLE001
        _say("could not load %s (%s: %s)" % (CHECKPOINT_MODULE, type(exc).__name__, exc))
        return EXIT_BAD_SETUP
    if checkpoint is not None and not config.get("sweep"):
        sys.modules["tritonml"] = checkpoint
        namespace.setdefault("tritonml", checkpoint)

    shim = None
    if config.get("sweep"):
        try:
            shim = _load_shim(job_dir)
            shim._setup(namespace, job_dir, config["sweep"])
        except Exception as exc:  # noqa: BLE001
            _say("could not set up this sweep task (%s: %s)" % (type(exc).__name__, exc))
            return EXIT_BAD_SETUP

    _add_profile(sys.modules.get("tritonml"))

    with open(cell_path, encoding="utf-8") as handle:
        source = handle.read()
    try:
        body, last = _compile_cell(source, cell_path)
        exec(body, namespace)
        value = None
        if last is not None:
            value = eval(last, namespace)
            if value is not None and _is_rank_zero():
                print(repr(value))
        if shim is not None and _is_rank_zero():
            shim._finish(value)  # also without a trailing expression: an Optuna trial is told here
    except SystemExit as exc:
        if exc.code == EXIT_REQUEUE:
            return _requeue("the cell called tritonml.requeue()")
        if exc.code not in (None, 0):
            raise
    except BaseException:  # noqa: BLE001 - report like Python, without this runner's frames
        etype, value, tb = sys.exc_info()
        while tb is not None and tb.tb_frame.f_code.co_filename != cell_path:
            tb = tb.tb_next
        sys.stdout.flush()
        traceback.print_exception(etype, value, tb)
        return EXIT_CELL_FAILED
    sys.stdout.flush()
    # The cell returned: it finished, warning or not (see the module doc). Its results are saved.

    if outputs and _is_rank_zero():
        missing = [name for name in outputs if name not in namespace]
        if missing:
            _say("the cell did not define %s, named by --out; nothing was saved."
                 % ", ".join(repr(name) for name in missing))
            return EXIT_MISSING_OUTPUT
        values = {name: namespace[name] for name in outputs}
        target = os.path.join(job_dir, output_name(os.environ.get("SLURM_ARRAY_TASK_ID")))
        tmp = "%s.%d.tmp" % (target, os.getpid())
        try:
            with open(tmp, "wb") as handle:
                pickle.dump(values, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except Exception as exc:  # noqa: BLE001
            try:
                os.unlink(tmp)
            except OSError:
                pass
            _say("could not save the --out variables (%s: %s)" % (type(exc).__name__, exc))
            return EXIT_MISSING_OUTPUT
    return 0


def _requeue(why):
    _say("%s: stopping here for the time limit" % why)
    return EXIT_REQUEUE


def run():
    status = main()
    if _is_rank_zero():
        task = os.environ.get("SLURM_ARRAY_TASK_ID")
        try:
            with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), done_name(task)), "w") as out:
                out.write("%d\n" % status)
        except OSError:
            pass
    return status


if __name__ == "__main__":
    sys.exit(run())
