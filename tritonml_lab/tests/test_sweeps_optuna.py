"""Optuna (adaptive) sweeps: each array task asks a study in a journal file for its point and tells it
the result. The API and the magic end to end against the real local cluster; validation, the
optuna check and the in-job ask/tell (run as the task would be, without Slurm) without it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tritonml_lab.jobs.script import Defaults
from tritonml_lab.jobs.spec import field_errors
from tritonml_lab.sweeps import SweepRequest, generate_points, write_task_files
from tritonml_lab.sweeps.adaptive import missing_optuna, task_config

from .test_sweeps import (RESOURCES, SYSTEM_PYTHON, by_index, error_of, job_dirs, post_sweep, sweep_rows,
                          wait_finished)

optuna = pytest.importorskip("optuna", reason="pip install optuna (dev/setup installs it)")

CLUSTER = pytest.mark.usefixtures("slurm_cluster")
SPACE = {"x": {"low": 0, "high": 1}}
QUADRATIC = "loss = (x - 0.3) ** 2\ntritonml.report(loss=loss)\n"


def load_study(space):
    """The sweep's study, from the journal file its tasks share."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(space["optuna"]["journal"]))
    return optuna.load_study(study_name=space["optuna"]["study"], storage=storage)


# -- without the cluster -------------------------------------------------------------------------
@pytest.mark.parametrize("body, field, words", [
    ({"optuna": {"n": 3, "space": SPACE}, "mode": "min"}, "metric", "needs the metric"),
    ({"optuna": {"n": 3, "space": SPACE}, "metric": "loss"}, "mode", '"min" or "max"'),
    ({"optuna": {"n": 3, "space": {"x": {"low": 2, "high": 1}}}, "metric": "loss", "mode": "min"},
     "optuna.space", "must not be above"),
    ({"optuna": {"n": 3, "space": {"2x": [1]}}, "metric": "loss", "mode": "min"}, "optuna.space", "variable name"),
    ({"optuna": {"n": 3, "space": SPACE, "sampler": "cmaes"}, "metric": "loss", "mode": "min"},
     "optuna.sampler", "'tpe' or 'random'"),
    ({"optuna": {"n": 0, "space": SPACE}, "metric": "loss", "mode": "min"}, "optuna.n", "greater than or equal"),
    ({"optuna": {"n": 3, "space": SPACE}, "grid": {"a": [1]}, "metric": "loss", "mode": "min"}, "spec", "exactly one"),
    ({"optuna": {"n": 3, "space": SPACE}, "metric": "loss", "mode": "min", "ddp": True, "gpus": "2"}, "spec", "ddp"),
])
def test_bad_optuna_requests_name_the_field(body, field, words):
    with pytest.raises(ValidationError) as info:
        SweepRequest(**{"code": "x", **body})
    errors = field_errors(info.value)
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


def test_an_optuna_request_has_no_points_until_its_tasks_start():
    request = SweepRequest(code="x", optuna={"n": 4, "space": {**SPACE, "layers": [1, 2]}}, metric="loss",
                           mode="max").with_seed()
    assert request.search == "optuna" and request.optuna.seed is None and request.optuna.sampler == "tpe"
    assert generate_points(request) == [None] * 4
    assert request.space()["optuna"]["space"]["layers"] == [1, 2]
    # grid and random keep min as the default direction
    assert SweepRequest(code="x", grid={"a": [1]}).mode == "min"


async def test_the_optuna_check_asks_the_tasks_python(tmp_path):
    assert await missing_optuna({"python": sys.executable}, Defaults(), None) is None  # in-process
    venv_python = str(Path(sys.executable).with_name("python3"))
    assert await missing_optuna({}, Defaults(python=venv_python), None) is None  # asked with python -c
    if Path(SYSTEM_PYTHON).exists():
        message = await missing_optuna({"python": SYSTEM_PYTHON}, Defaults(), {"PATH": "/usr/bin:/bin"})
        assert message == (f"optuna is not installed in {SYSTEM_PYTHON}: "
                           "pip install optuna (in that Python's environment)")
    message = await missing_optuna({}, Defaults(), {"PATH": str(tmp_path)})
    assert "python3 (the Python the tasks run with) is not on the PATH" in message
    # with `module load`, the job's python3 is not this machine's: left to the task
    assert await missing_optuna({"modules": ["python/3.11"]}, Defaults(), {"PATH": str(tmp_path)}) is None


def run_task(job_dir, task, python=sys.executable, env=None):
    environment = {**os.environ, **(env or {}), "SLURM_ARRAY_TASK_ID": str(task)}
    return subprocess.run([python, str(job_dir / "main.py")], cwd=job_dir, capture_output=True, text=True,
                          env=environment, timeout=120)


def test_each_task_asks_a_trial_and_tells_its_result(tmp_path):
    """The in-job side as Slurm would run it (one process per task): ask, run, tell; FAIL on errors."""
    search = {"space": SPACE, "sampler": "random", "seed": 5, "study": "s",
              "journal": str(tmp_path / "o" / "s.journal")}
    code = (
        "if tritonml.index() == 1:\n    raise ValueError('boom')\n"
        "if tritonml.index() == 2:\n    raise SystemExit(0)  # ended before reporting: nothing to tell\n"
        "loss = (x - 0.3) ** 2\n"
        "{'loss': loss} if tritonml.index() == 3 else (None if tritonml.index() == 4 else loss)\n"
    )
    write_task_files(tmp_path, code, [0, 1, 2, 3, 4], [None] * 5, "loss", task_config(search, "min", 0))
    done = [run_task(tmp_path, task) for task in range(5)]
    assert [d.returncode for d in done] == [0, 1, 0, 0, 1], [d.stderr for d in done]
    assert done[1].stderr.rstrip().endswith("ValueError: boom")  # the error tail ends with the cell's error
    assert "optimizes 'loss', but the cell reported None for it" in done[4].stderr
    trials = {t.number: t for t in load_study({"optuna": search}).trials}
    trial_of = {task: trials[json.loads((tmp_path / f"params.{task}.json").read_text())["trial"]]
                for task in range(5)}
    assert len(trials) == 5
    assert [trial_of[t].state.name for t in range(5)] == ["COMPLETE", "FAIL", "FAIL", "COMPLETE", "FAIL"]
    for task in (0, 3):
        params = json.loads((tmp_path / f"params.{task}.json").read_text())["params"]
        result = json.loads((tmp_path / f"result.{task}.json").read_text())
        assert params == trial_of[task].params == result["params"] and 0 <= params["x"] <= 1
        assert trial_of[task].value == pytest.approx((params["x"] - 0.3) ** 2) == result["result"]["loss"]


@pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists(), reason="no system Python")
def test_a_task_under_a_python_without_optuna_says_what_to_do(tmp_path):
    search = {"space": SPACE, "sampler": "tpe", "seed": None, "study": "s", "journal": str(tmp_path / "s.journal")}
    write_task_files(tmp_path, QUADRATIC, [0], [None], "loss", task_config(search, "min", 0))
    done = run_task(tmp_path, 0, SYSTEM_PYTHON, {"PATH": "/usr/bin:/bin", "PYTHONPATH": "", "PYTHONNOUSERSITE": "1"})
    assert done.returncode == 4
    assert f"optuna is not installed in {SYSTEM_PYTHON} (this job's Python): pip install optuna" in done.stderr


# -- the API against the cluster -----------------------------------------------------------------
@CLUSTER
async def test_optuna_sweep_runs_tells_the_study_and_retries_with_new_trials(jp_fetch, tmp_path):
    marker = tmp_path / "fail-marker"
    marker.write_text("fail")
    code = (
        "import os\n"
        f"if tritonml.index() == 4 and os.path.exists({str(marker)!r}):\n"
        "    raise ValueError(f'boom at x={x}')\n" + QUADRATIC
    )
    sweep = await post_sweep(jp_fetch, code=code, optuna={"n": 6, "space": SPACE, "seed": 11}, metric="loss",
                             mode="min", parallel=2, name="optuna-test", **RESOURCES)
    assert sweep["search"] == "optuna" and sweep["jobs"][0]["array"] == "0-5%2" and sweep["total"] == 6
    assert all(task["params"] is None for task in sweep["tasks"])  # chosen as each task starts
    study = sweep["space"]["optuna"]
    assert study["sampler"] == "tpe" and study["seed"] == 11 and study["space"]["x"]["high"] == 1
    assert Path(study["journal"]).parent == Path(sweep["jobs"][0]["directory"]).parent / "sweeps" / "optuna"

    done = await wait_finished(jp_fetch, sweep["id"], timeout=240)
    assert done["counts"] == {"COMPLETED": 5, "FAILED": 1}, [t["error"] for t in done["tasks"]]
    trials = {t.number: t for t in load_study(done["space"]).trials}
    assert len(trials) == 6
    assert sorted(t.state.name for t in trials.values()) == ["COMPLETE"] * 5 + ["FAIL"]
    job_dir = Path(sweep["jobs"][0]["directory"])
    for task in done["tasks"]:
        # the point shown is the one Optuna gave the task (its params file names the trial)
        record = json.loads((job_dir / f"params.{task['index']}.json").read_text())
        trial = trials[record["trial"]]
        assert task["params"] == trial.params == record["params"] and 0 <= task["params"]["x"] <= 1
        if task["index"] == 4:
            assert task["state"] == "FAILED" and trial.state.name == "FAIL"
            assert "ValueError: boom at x=" in task["error"] and task["result"] is None
        else:
            assert task["state"] == "COMPLETED" and task["result"]["loss"] == pytest.approx(trial.value)
    losses = [t["result"]["loss"] for t in done["tasks"] if t["result"]]
    assert losses == sorted(losses) and done["tasks"][0]["best"] and not any(t["best"] for t in done["tasks"][1:])
    assert done["best"]["result"]["loss"] == pytest.approx(load_study(done["space"]).best_value)

    # a retried task asks the study for a new trial; the failed one stays FAIL
    marker.unlink()
    response = await jp_fetch("tritonml", "sweeps", sweep["id"], "retry", method="POST", body="{}")
    retried = json.loads(response.body)
    assert by_index(retried)[4]["attempt"] == 1 and by_index(retried)[4]["params"] is None
    done = await wait_finished(jp_fetch, sweep["id"], timeout=120)
    assert done["counts"] == {"COMPLETED": 6}
    trials = load_study(done["space"]).trials
    assert len(trials) == 7 and sorted(t.state.name for t in trials) == ["COMPLETE"] * 6 + ["FAIL"]
    fourth = by_index(done)[4]
    assert fourth["params"] == trials[-1].params and fourth["result"]["loss"] == pytest.approx(trials[-1].value)


@CLUSTER
async def test_cancelled_tasks_tell_their_trials_fail(jp_fetch):
    """A cancel (or the time limit) ends a task with SIGTERM: its trial is told FAIL, not left
    RUNNING in the study."""
    import asyncio
    import time

    sweep = await post_sweep(jp_fetch, code="import time\ntime.sleep(120)\n" + QUADRATIC,
                             optuna={"n": 2, "space": SPACE}, metric="loss", mode="min", parallel=2,
                             name="optuna-cancel", **RESOURCES)
    job_dir = Path(sweep["jobs"][0]["directory"])
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(list(job_dir.glob("params.*.json"))) < 2:
        await asyncio.sleep(0.5)  # both tasks have asked their trials
    assert len(list(job_dir.glob("params.*.json"))) == 2
    assert sorted(t.state.name for t in load_study(sweep["space"]).trials) == ["RUNNING", "RUNNING"]
    await jp_fetch("tritonml", "sweeps", sweep["id"], method="DELETE")
    await wait_finished(jp_fetch, sweep["id"], timeout=90)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = sorted(t.state.name for t in load_study(sweep["space"]).trials)
        if states == ["FAIL", "FAIL"]:
            break
        await asyncio.sleep(0.5)
    assert states == ["FAIL", "FAIL"]


@CLUSTER
async def test_bad_optuna_sweeps_are_400_with_nothing_submitted(jp_fetch, jobs_root):
    good = {"code": QUADRATIC, "optuna": {"n": 2, "space": SPACE}, "metric": "loss", "mode": "min", **RESOURCES}
    code, error = await error_of(post_sweep(jp_fetch, **{**good, "metric": None}))
    assert code == 400 and error["errors"] == [{
        "field": "metric",
        "message": "an optuna search needs the metric it optimizes (a name given to tritonml.report)",
    }]
    code, error = await error_of(post_sweep(jp_fetch, **{k: v for k, v in good.items() if k != "mode"}))
    assert code == 400 and [e["field"] for e in error["errors"]] == ["mode"]
    code, error = await error_of(post_sweep(jp_fetch, **{**good, "optuna": {"n": 2, "space": {"x": {"low": 0}}}}))
    assert code == 400 and error["errors"][0]["field"] == "optuna.space" and "high" in error["errors"][0]["message"]
    code, error = await error_of(post_sweep(jp_fetch, **{**good, "optuna": {"n": 2, "space": {"x": "0..1"}}}))
    assert code == 400 and "give a range" in error["errors"][0]["message"]
    if Path(SYSTEM_PYTHON).exists():
        # asked in the job's environment: PYTHONPATH (the test runner's names the venv) is cleared as in the job
        code, error = await error_of(post_sweep(jp_fetch, **good, python=SYSTEM_PYTHON,
                                                env={"PYTHONNOUSERSITE": "1", "PYTHONPATH": ""}))
        assert code == 400 and error["message"] == (
            f"optuna is not installed in {SYSTEM_PYTHON}: pip install optuna (in that Python's environment)")
    assert job_dirs(jobs_root) == [] and not (jobs_root / "sweeps").exists()
    assert [p for p in jobs_root.iterdir() if p.name.isdigit()] == []


# -- the magic -----------------------------------------------------------------------------------
@CLUSTER
def test_optuna_sweep_magic(magics, capsys):
    shell = magics.shell
    result = shell.run_cell(
        "%%tritonml sweep --optuna 3 --space 'x=uniform(0,1)' 'layers=randint(1,4)' --metric loss --mode min "
        "--sampler random --seed 2 --parallel 3 --partition batch-csl --time 5:00 --wait\n"
        "(x - 0.3) ** 2 + layers  # a trailing number is the metric\n"
    )
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    sweep_id = magics.last_sweep
    assert f"Submitted sweep {sweep_id}" in out and "3 COMPLETED" in out and "Best (loss, min)" in out
    rows = sweep_rows(shell, sweep_id)
    assert len(rows) == 3 and rows[0]["best"] and [r["loss"] for r in rows] == sorted(r["loss"] for r in rows)
    for row in rows:
        assert 0 <= row["x"] <= 1 and row["layers"] in (1, 2, 3, 4)
        assert row["loss"] == pytest.approx((row["x"] - 0.3) ** 2 + row["layers"])
    view = magics._sweep_view(sweep_id)
    assert view.space["optuna"]["sampler"] == "random" and len(load_study(view.space).trials) == 3

    for line, words in [
        ("sweep --optuna 3 --space x=uniform(0,1) --metric loss", "--mode: an optuna search needs the direction"),
        ("sweep --optuna 3 --space x=uniform(0,1) --mode max", "--metric: an optuna search needs the metric"),
        ("sweep --optuna 3 --metric loss --mode min", "--optuna N needs --space"),
        ("sweep --random 3 --optuna 3 --space x=1,2", "not both --random and --optuna"),
        ("sweep --grid x=1,2 --sampler tpe", "--sampler goes with --optuna N"),
        ("sweep --optuna 3 --space x=uniform(0,1) --metric loss --mode min --python /usr/bin/python3 "
         "--env PYTHONPATH= --env PYTHONNOUSERSITE=1",
         "optuna is not installed in /usr/bin/python3"),
    ]:
        if "/usr/bin/python3" in line and not Path(SYSTEM_PYTHON).exists():
            continue
        result = shell.run_cell(f"%%tritonml {line}\nx = 1\n")
        assert not result.success and words in str(result.error_in_exec), (line, result.error_in_exec)
    assert len(list(Path(magics.store.root).glob("job-*"))) == 1  # the first sweep's only
