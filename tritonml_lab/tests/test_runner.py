"""The in-job runner (main.py of %%tritonml submit jobs), run as the job runs it: a separate Python
that does not have tritonml-lab (``-I -S``: no site-packages, no PYTHONPATH, no user site)."""

import ast
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tritonml_lab import injob

RUNNER = injob.RUNNER
ISOLATED = [sys.executable, "-I", "-S"]


def make_job(tmp_path, cell, inputs=None, outputs=()):
    job = tmp_path / "job"
    job.mkdir()
    shutil.copyfile(RUNNER, job / "main.py")
    (job / "cell.py").write_text(cell)
    config = {"cell": "cell.py", "inputs": None, "outputs": list(outputs)}
    if inputs is not None:
        (job / "inputs.pkl").write_bytes(pickle.dumps(inputs))
        config["inputs"] = "inputs.pkl"
    (job / "runner.json").write_text(json.dumps(config))
    return job


def run(job, python=ISOLATED, env=None, cwd=None):
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})}
    return subprocess.run(
        [*python, str(job / "main.py")], capture_output=True, text=True, env=environment,
        cwd=cwd or job, timeout=60,
    )


def test_runner_uses_the_standard_library_only():
    tree = ast.parse(RUNNER.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree))
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


def test_inputs_in_outputs_out_and_the_last_expression_is_shown(tmp_path):
    cell = (
        "import importlib.util, sys\n"
        "has_package = importlib.util.find_spec('tritonml_lab') is not None\n"
        "result = {'total': sum(numbers), 'scale': config['scale'] * 2}\n"
        "print('working')\n"
        "result['total'] + 1\n"
    )
    job = make_job(tmp_path, cell, inputs={"numbers": [1, 2, 3], "config": {"scale": 2}},
                   outputs=["result", "has_package"])
    done = run(job)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "working\n7\n"
    saved = pickle.loads((job / "outputs.pkl").read_bytes())
    assert saved == {"result": {"total": 6, "scale": 4}, "has_package": False}


def test_a_trailing_semicolon_or_none_shows_nothing(tmp_path):
    job = make_job(tmp_path, "x = 5\nx;\n")
    assert run(job).stdout == ""
    (tmp_path / "b").mkdir()
    assert run(make_job(tmp_path / "b", "print('a')\nNone\n")).stdout == "a\n"


def test_failure_prints_a_traceback_of_cell_lines_and_exits_1(tmp_path):
    cell = "def f(x):\n    return 1 / x\n\nvalue = 3\nf(0)\n"
    job = make_job(tmp_path, cell, outputs=["value"])
    done = run(job)
    assert done.returncode == 1
    assert f'File "{job / "cell.py"}", line 5, in <module>' in done.stderr
    assert f'File "{job / "cell.py"}", line 2, in f' in done.stderr
    assert done.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "main.py" not in done.stderr  # the runner's own frames are left out
    assert not (job / "outputs.pkl").exists()
    assert (job / "runner_exit.job").read_text() == "1\n"


def test_syntax_errors_name_the_cell_line(tmp_path):
    job = make_job(tmp_path, "x = 1\ny = (\n")
    done = run(job)
    assert done.returncode == 1 and "cell.py" in done.stderr and "SyntaxError" in done.stderr


def test_a_missing_out_variable_is_a_clear_error(tmp_path):
    job = make_job(tmp_path, "a = 1\n", outputs=["a", "b"])
    done = run(job)
    assert done.returncode == 3
    assert "did not define 'b', named by --out" in done.stderr
    assert not (job / "outputs.pkl").exists()


def test_sys_exit_zero_still_saves_outputs_and_nonzero_fails(tmp_path):
    job = make_job(tmp_path, "import sys\na = 1\nsys.exit(0)\n", outputs=["a"])
    assert run(job).returncode == 0
    assert pickle.loads((job / "outputs.pkl").read_bytes()) == {"a": 1}
    job2 = tmp_path / "other"
    job2.mkdir()
    job2 = make_job(job2, "import sys\nsys.exit(7)\n")
    assert run(job2).returncode == 7


def test_array_tasks_and_ranks(tmp_path):
    job = make_job(tmp_path, "import os\nsquare = int(os.environ['SLURM_ARRAY_TASK_ID']) ** 2\n",
                   outputs=["square"])
    assert run(job, env={"SLURM_ARRAY_TASK_ID": "3"}).returncode == 0
    assert pickle.loads((job / "outputs.3.pkl").read_bytes()) == {"square": 9}
    assert (job / "runner_exit.3").read_text() == "0\n"  # tells a clean end from a killed job
    (job / "outputs.3.pkl").unlink()
    # In distributed jobs only rank 0 sends results back.
    assert run(job, env={"SLURM_ARRAY_TASK_ID": "3", "RANK": "1"}).returncode == 0
    assert not list(job.glob("outputs*.pkl"))


def test_cell_runs_as_main_in_the_start_directory_and_imports_from_there(tmp_path):
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    (workdir / "helpers.py").write_text("def twice(x):\n    return 2 * x\n")
    cell = (
        "import os, pickle\nfrom helpers import twice\n"
        "class Point:\n    pass\n"
        "here = os.getcwd()\nname = __name__\n"
        "roundtrip = type(pickle.loads(pickle.dumps(Point()))).__name__\n"
        "doubled = twice(21)\n"
    )
    job = make_job(tmp_path, cell, outputs=["here", "name", "roundtrip", "doubled"])
    done = run(job, cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert pickle.loads((job / "outputs.pkl").read_bytes()) == {
        "here": str(workdir), "name": "__main__", "roundtrip": "Point", "doubled": 42
    }


@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no system Python")
def test_runs_under_the_system_python_without_the_package(tmp_path):
    job = make_job(tmp_path, "import importlib.util\nfound = importlib.util.find_spec('pydantic')\n"
                   "ok = found is None and importlib.util.find_spec('tritonml_lab') is None\n",
                   inputs={"x": [1]}, outputs=["ok", "x"])
    done = run(job, python=["/usr/bin/python3"], env={"PYTHONNOUSERSITE": "1"})
    assert done.returncode == 0, done.stderr
    assert pickle.loads((job / "outputs.pkl").read_bytes()) == {"ok": True, "x": [1]}


def test_a_cell_that_returns_after_the_warning_has_finished_and_one_that_calls_requeue_stopped(tmp_path):
    """How a cell says "I finished" or "I stopped for the time limit" (issue 23): returning is
    finishing, whenever it happens, so --out is saved and the status is 0, also after the warning and
    with restarts left; only tritonml.requeue() (or sys.exit(99)) asks to come back, saving nothing."""
    import time

    env = {"TRITONML_END_TIME": str(time.time() + 20), "TRITONML_WARN_SECONDS": "90",  # warned already
           "TRITONML_REQUEUE_MAX": "1", "TRITONML_RESTARTS": "0"}
    cases = {
        "finished": ("warned = tritonml.should_checkpoint()\nx = 42\n", 0),
        "requeue": ("warned = tritonml.should_checkpoint()\nx = 42\ntritonml.requeue()\n", 99),
        "exit-99": ("import sys\nx = 42\nsys.exit(99)\n", 99),
    }
    for name, (cell, status) in cases.items():
        (tmp_path / name).mkdir()
        job = make_job(tmp_path / name, cell, outputs=["x", "warned"] if "warned" in cell else ["x"])
        shutil.copyfile(injob.CHECKPOINT, job / "tritonml_checkpoint.py")
        result = run(job, env=env)
        assert result.returncode == status, (name, result.stderr)
        saved = job / "outputs.pkl"
        if status == 0:
            assert pickle.loads(saved.read_bytes()) == {"x": 42, "warned": True}
            assert "time limit" not in result.stderr
        else:
            assert not saved.exists() and "stopping here for the time limit" in result.stderr, result.stderr
