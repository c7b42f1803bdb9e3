"""Sweeps as Slurm array jobs: the API and the magic end to end against the real local cluster, plus the
pure parts (validation, points, splitting, ranking, the stdlib shim) without it."""

import asyncio
import json
import math
import subprocess
import time
from pathlib import Path

import pytest
from pydantic import ValidationError
from tornado.httpclient import HTTPClientError

from tritonml_lab.jobs.spec import field_errors
from tritonml_lab.slurm import JobState
from tritonml_lab.sweeps import (
    SweepRequest,
    SweepTask,
    array_chunks,
    array_spec,
    generate_points,
    rank_tasks,
    write_task_files,
)

from .openapi_check import get_ok, post_created
from .openapi_check import validate as validate_schema

CLUSTER = pytest.mark.usefixtures("slurm_cluster")
RESOURCES = {"partition": "batch-csl", "time": "00:05:00"}
SYSTEM_PYTHON = "/usr/bin/python3"


# -- helpers -------------------------------------------------------------------------------------
async def post_sweep(jp_fetch, **body):
    return await post_created(jp_fetch, "/sweeps", "sweeps", body=body)


async def get_sweep(jp_fetch, sweep_id):
    return await get_ok(jp_fetch, "/sweeps/{id}", "sweeps", sweep_id)


async def wait_finished(jp_fetch, sweep_id, timeout=150):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep = await get_sweep(jp_fetch, sweep_id)
        if sweep["finished"]:
            return sweep
        await asyncio.sleep(0.5)
    raise AssertionError(f"sweep {sweep_id} did not finish in {timeout} s: {sweep['counts']}")


async def error_of(coro):
    with pytest.raises(HTTPClientError) as info:
        await coro
    return info.value.code, json.loads(info.value.response.body)


async def sweeps_of(jp_fetch, job_id):
    """GET sweeps?job=ID: the ids of the sweeps that job belongs to."""
    data = json.loads((await jp_fetch("tritonml", "sweeps", params={"job": job_id})).body)
    validate_schema("/sweeps", "get", 200, data)
    return [sweep["id"] for sweep in data["sweeps"]]


def job_dirs(root):
    return sorted(p for p in Path(root).iterdir() if p.name.startswith("job-"))


def by_index(sweep):
    return {task["index"]: task for task in sweep["tasks"]}


# -- without the cluster -------------------------------------------------------------------------
def test_points_are_deterministic_and_json():
    grid = SweepRequest(code="x", grid={"lr": [1e-3, 1e-4], "batch": [32, 64]})
    assert generate_points(grid) == [
        {"lr": 1e-3, "batch": 32}, {"lr": 1e-3, "batch": 64}, {"lr": 1e-4, "batch": 32}, {"lr": 1e-4, "batch": 64},
    ]
    space = {"lr": {"low": 1e-5, "high": 1e-2, "log": True}, "layers": [2, 4, 8],
             "width": {"low": 16, "high": 64, "integer": True}, "p": {"low": 0, "high": 1}}
    first = generate_points(SweepRequest(code="x", random={"n": 50, "space": space, "seed": 7}))
    assert first == generate_points(SweepRequest(code="x", random={"n": 50, "space": space, "seed": 7}))
    assert json.loads(json.dumps(first)) == first
    for point in first:
        assert 1e-5 <= point["lr"] <= 1e-2 and point["layers"] in (2, 4, 8) and 0 <= point["p"] <= 1
        assert isinstance(point["width"], int) and 16 <= point["width"] <= 64
    # log-uniform: about as many points per decade
    decades = [math.floor(math.log10(p["lr"])) for p in first]
    assert len(set(decades)) == 3
    seeded = SweepRequest(code="x", random={"n": 3, "space": space}).with_seed()
    assert seeded.random.seed is not None


def test_split_over_max_array_size():
    assert array_chunks(12, 5) == [(0, 5), (5, 10), (10, 12)]
    assert array_chunks(1000, 1001) == [(0, 1000)]
    assert array_chunks(1001, 1001) == [(0, 1001)]
    assert array_spec(5, 2) == "0-4%2" and array_spec(1, None) == "0" and array_spec(3, None) == "0-2"


@pytest.mark.parametrize("body, field, words", [
    ({"grid": {"lr": []}}, "grid", "non-empty list"),
    ({"grid": {"lr": "1e-3"}}, "grid", "non-empty list"),
    ({"grid": {"lr": [[1, 2]]}}, "grid", "numbers, text"),
    ({"grid": {"2lr": [1]}}, "grid", "not a Python variable name"),
    ({"grid": {"a": ["#SBATCH --gpus=8"]}}, "grid", "not allowed"),
    ({"grid": {"a": ["x\n#SBATCH --gpus=8"]}}, "grid", "not allowed"),
    ({"grid": {"a": list(range(1000)), "b": list(range(1000))}}, "grid", "at most 100,000"),
    ({"random": {"n": 3, "space": {"not-a-name": [1]}}}, "random.space", "not a Python variable name"),
    ({"random": {"n": 3, "space": {"lr": {"low": 0, "high": 1, "log": True}}}}, "random.space", "low > 0"),
    ({"random": {"n": 3, "space": {"lr": {"low": 2, "high": 1}}}}, "random.space", "must not be above"),
    ({"random": {"n": 0, "space": {"a": [1]}}}, "random.n", "greater than or equal"),
    ({"random": {"n": 200_000, "space": {"a": [1]}}}, "random.n", "less than or equal"),
    ({"grid": {"a": [1]}, "random": {"n": 1, "space": {"a": [1]}}}, "spec", "exactly one of grid"),
    ({"grid": {"a": [1]}, "array": "0-3"}, "array", "the sweep makes the array"),
    ({"grid": {"a": [1]}, "mode": "best"}, "mode", "min"),
    ({"grid": {"a": [1]}, "metric": "a b"}, "metric", "metric name"),
    ({"grid": {"a": [1]}, "gpus": "lots"}, "gpus", "count"),
])
def test_bad_requests_name_the_field(body, field, words):
    with pytest.raises(ValidationError) as info:
        SweepRequest(**{"code": "x", **body})
    errors = field_errors(info.value)
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


def test_ranking_marks_the_best_completed_task():
    def task(i, state, loss):
        return SweepTask(index=i, params={"i": i}, state=state, job_id=f"1_{i}",
                         result=None if loss is None else {"loss": loss})

    tasks = [task(0, JobState.COMPLETED, 0.5), task(1, JobState.FAILED, 0.1), task(2, JobState.COMPLETED, 0.2),
             task(3, JobState.PENDING, None), task(4, JobState.COMPLETED, True)]
    best = rank_tasks(tasks, "loss", "min")
    assert [t.index for t in tasks] == [1, 2, 0, 3, 4] and best.index == 2
    assert [t.best for t in tasks] == [False, True, False, False, False]
    tasks = [task(0, JobState.COMPLETED, 0.5), task(1, JobState.COMPLETED, 0.7)]
    assert rank_tasks(tasks, "loss", "max").index == 1


@pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists(), reason="no system Python")
def test_the_shim_runs_under_the_system_python_without_the_package(tmp_path):
    code = (
        "import importlib.util, tritonml\n"
        "assert importlib.util.find_spec('tritonml_lab') is None\n"
        "if b == 1:\n    tritonml.report(loss=lr * b, acc=0.5)\n    tritonml.report(acc=0.75)\n"
        "result = {'loss': lr * b} if b == 2 else lr * b\n"
        "result if b != 1 else None\n"
    )
    write_task_files(tmp_path, code, [7, 8, 9], [{"lr": 0.5, "b": 1}, {"lr": 0.5, "b": 2}, {"lr": 0.5, "b": 3}],
                     "loss")
    env = {"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    for task in range(3):
        done = subprocess.run([SYSTEM_PYTHON, "-I", str(tmp_path / "main.py")], cwd=tmp_path, capture_output=True,
                              text=True, env={**env, "SLURM_ARRAY_TASK_ID": str(task)}, timeout=60)
        assert done.returncode == 0, done.stderr
    results = [json.loads((tmp_path / f"result.{t}.json").read_text()) for t in range(3)]
    assert results[0]["index"] == 7 and results[0]["params"] == {"lr": 0.5, "b": 1}
    assert results[0]["result"] == {"loss": 0.5, "acc": 0.75}   # several report() calls merge
    assert results[1]["result"] == {"loss": 1.0}                # trailing dict
    assert results[2]["result"] == {"loss": 1.5}                # trailing number -> the metric
    # without SLURM_ARRAY_TASK_ID the task says why, instead of running the wrong point
    done = subprocess.run([SYSTEM_PYTHON, "-I", str(tmp_path / "main.py")], cwd=tmp_path, capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 4 and "SLURM_ARRAY_TASK_ID" in done.stderr


# -- the API against the cluster -----------------------------------------------------------------
@CLUSTER
async def test_grid_sweep_runs_collects_results_and_marks_the_best(jp_fetch, jobs_root):
    code = "loss = (lr - 0.01) ** 2 + batch / 1000\ntritonml.report(loss=loss, acc=1 - loss)\n"
    sweep = await post_sweep(jp_fetch, code=code, grid={"lr": [0.01, 0.1], "batch": [32, 64]}, metric="loss",
                             parallel=2, name="grid-test", **RESOURCES)
    assert sweep["id"] == sweep["jobs"][0]["id"] and len(sweep["jobs"]) == 1
    assert sweep["jobs"][0]["array"] == "0-3%2" and sweep["total"] == 4
    assert {t["state"] for t in sweep["tasks"]} == {"PENDING"} and all(t["result"] is None for t in sweep["tasks"])
    script = (Path(sweep["jobs"][0]["directory"]) / "job.sh").read_text()
    assert "#SBATCH --array=0-3%2" in script and "stdout.%a.log" in script

    done = await wait_finished(jp_fetch, sweep["id"])
    assert done["counts"] == {"COMPLETED": 4}
    tasks = done["tasks"]
    losses = [t["result"]["loss"] for t in tasks]
    assert losses == sorted(losses)  # sorted by the metric, best first
    assert tasks[0]["best"] and not any(t["best"] for t in tasks[1:])
    assert done["best"]["params"] == {"lr": 0.01, "batch": 32} == tasks[0]["params"]
    assert done["best"]["result"]["loss"] == pytest.approx(0.032)
    assert by_index(done)[3]["params"] == {"lr": 0.1, "batch": 64}
    assert by_index(done)[3]["job_id"] == f"{sweep['id']}_3" and all(t["error"] is None for t in tasks)
    listing = json.loads((await jp_fetch("tritonml", "sweeps")).body)
    validate_schema("/sweeps", "get", 200, listing)
    assert listing["sweeps"][0]["id"] == sweep["id"] and listing["sweeps"][0]["total"] == 4
    # the array job is an ordinary tracked job of the jobs API
    detail = json.loads((await jp_fetch("tritonml", "jobs", sweep["id"])).body)
    assert detail["tracked"] and detail["spec"]["array"] == "0-3%2"


@CLUSTER
@pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists(), reason="no system Python")
async def test_random_sweep_under_a_python_without_the_package(jp_fetch):
    code = (
        "import importlib.util\n"
        "{'score': lr * layers, 'has_package': importlib.util.find_spec('tritonml_lab') is not None}\n"
    )
    space = {"lr": {"low": 1e-5, "high": 1e-2, "log": True}, "layers": [2, 4, 8]}
    sweep = await post_sweep(jp_fetch, code=code, random={"n": 4, "space": space, "seed": 3}, metric="score",
                             mode="max", python=SYSTEM_PYTHON, env={"PYTHONNOUSERSITE": "1", "PYTHONPATH": ""},
                             **RESOURCES)
    assert sweep["space"]["random"]["seed"] == 3 and sweep["jobs"][0]["array"] == "0-3"
    done = await wait_finished(jp_fetch, sweep["id"])
    assert done["counts"] == {"COMPLETED": 4}, [t["error"] for t in done["tasks"]]
    scores = [t["result"]["score"] for t in done["tasks"]]
    assert scores == sorted(scores, reverse=True) and done["best"]["result"]["score"] == scores[0]
    for task in done["tasks"]:
        assert task["result"]["has_package"] is False
        assert 1e-5 <= task["params"]["lr"] <= 1e-2 and task["params"]["layers"] in (2, 4, 8)
        assert task["result"]["score"] == pytest.approx(task["params"]["lr"] * task["params"]["layers"])


@CLUSTER
async def test_a_failed_task_shows_its_error_and_is_retried(jp_fetch, tmp_path):
    marker = tmp_path / "fail-marker"
    marker.write_text("fail")
    code = (
        "import os\n"
        f"if x == 1 and os.path.exists({str(marker)!r}):\n"
        "    raise ValueError(f'boom at x={x}')\n"
        "tritonml.report(y=x * 10)\n"
    )
    sweep = await post_sweep(jp_fetch, code=code, grid={"x": [0, 1, 2]}, metric="y", mode="max",
                             **RESOURCES)
    done = await wait_finished(jp_fetch, sweep["id"])
    failed = by_index(done)[1]
    assert failed["state"] == "FAILED" and failed["result"] is None and failed["exit_code"] == 1
    assert "ValueError: boom at x=1" in failed["error"] and "cell.py" in failed["error"]
    assert done["counts"] == {"COMPLETED": 2, "FAILED": 1} and done["best"]["index"] == 2

    code, body = await error_of(jp_fetch("tritonml", "sweeps", sweep["id"], "retry", method="POST",
                                         body=json.dumps({"indices": [7]})))
    assert code == 400 and "no task 7" in body["message"]
    # The changes are checked with the sweep's spec, as a whole, before anything runs.
    code, body = await error_of(jp_fetch("tritonml", "sweeps", sweep["id"], "retry", method="POST",
                                         body=json.dumps({"checkpoint": {"warn": "10m"}})))
    assert code == 400 and body["reason"] == "invalid" and "shorter than the time limit (00:05:00)" in body["message"]
    marker.unlink()
    response = await jp_fetch("tritonml", "sweeps", sweep["id"], "retry", method="POST", body="{}")
    retried = json.loads(response.body)
    validate_schema("/sweeps/{id}/retry", "post", 200, retried)
    assert len(retried["jobs"]) == 2 and retried["jobs"][1]["attempt"] == 1 and retried["jobs"][1]["tasks"] == 1
    assert by_index(retried)[1]["job_id"] == f"{retried['jobs'][1]['id']}_0"
    done = await wait_finished(jp_fetch, sweep["id"])
    assert done["counts"] == {"COMPLETED": 3}
    assert by_index(done)[1]["result"] == {"y": 10} and by_index(done)[1]["attempt"] == 1
    assert by_index(done)[0]["attempt"] == 0 and done["best"]["index"] == 2

    code, body = await error_of(jp_fetch("tritonml", "sweeps", sweep["id"], "retry", method="POST", body="{}"))
    assert code == 400 and "no failed tasks" in body["message"]


@CLUSTER
async def test_a_sweep_over_max_array_size_is_split_and_reads_as_one(jp_fetch, jp_serverapp):
    jp_serverapp.web_app.settings["tritonml"].config.max_array_size = 5  # before the sweeps service exists
    sweep = await post_sweep(jp_fetch, code="tritonml.report(twice=2 * i)\n", grid={"i": list(range(12))},
                             metric="twice", mode="max", parallel=4, **RESOURCES)
    assert [job["array"] for job in sweep["jobs"]] == ["0-4%4", "0-4%4", "0-1%4"]
    assert sweep["id"] == sweep["jobs"][0]["id"] and len({job["id"] for job in sweep["jobs"]}) == 3
    # --parallel 4 holds for the whole sweep: each array job waits for the one before it
    assert [job["after"] for job in sweep["jobs"]] == [None, sweep["jobs"][0]["id"], sweep["jobs"][1]["id"]]
    done = await wait_finished(jp_fetch, sweep["id"])
    assert done["total"] == 12 and done["counts"] == {"COMPLETED": 12}
    tasks = by_index(done)
    assert sorted(tasks) == list(range(12))
    for index, task in tasks.items():
        assert task["params"] == {"i": index} and task["result"] == {"twice": 2 * index}
        job = sweep["jobs"][index // 5]["id"]
        assert task["job_id"] == f"{job}_{index % 5}"
    assert done["best"]["index"] == 11 and done["tasks"][0]["index"] == 11
    # every array job (and task) of the split sweep leads back to it
    for job in sweep["jobs"]:
        for ask in (job["id"], f"{job['id']}_1"):
            assert await sweeps_of(jp_fetch, ask) == [sweep["id"]], ask


@CLUSTER
async def test_bad_sweeps_are_400_and_slurm_rejections_422_with_nothing_submitted(jp_fetch, jobs_root):
    bad = [
        {"code": "x", "grid": {"lr": []}},
        {"code": "x", "grid": "lr=1,2"},
        {"code": "x", "random": {"n": 2, "space": {"not a name": [1, 2]}}},
        {"code": "x", "grid": {"opt": ["adam", "#SBATCH --gpus=8"]}},
        {"code": "x", "grid": {"a": [1]}, "gpus": "lots"},
        {"grid": {"a": [1]}},
    ]
    for body in bad:
        code, error = await error_of(post_sweep(jp_fetch, **body, **RESOURCES))
        assert code == 400 and error["errors"], body
    code, error = await error_of(post_sweep(jp_fetch, code="x", grid={"a": [1]}, gpus="lots", time="soon"))
    assert {e["field"] for e in error["errors"]} == {"gpus", "time"}
    code, error = await error_of(jp_fetch("tritonml", "sweeps", method="POST", body="[1]"))
    assert code == 400
    code, error = await error_of(post_sweep(jp_fetch, code="x", grid={"a": [1, 2]}, partition="nope"))
    assert code == 422 and "partition" in error["message"].lower()
    assert job_dirs(jobs_root) == [] and not any((jobs_root / "sweeps").glob("*.json"))
    assert [p for p in jobs_root.iterdir() if p.name.isdigit()] == []
    code, error = await error_of(jp_fetch("tritonml", "sweeps", "424242424"))
    assert code == 404
    code, error = await error_of(jp_fetch("tritonml", "sweeps", "abc"))
    assert code == 400


async def wait_for(jp_fetch, sweep_id, predicate, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep = await get_sweep(jp_fetch, sweep_id)
        if predicate(sweep):
            return sweep
        await asyncio.sleep(0.5)
    raise AssertionError(f"sweep {sweep_id}: {what} not seen in {timeout} s: {sweep['counts']}")


def queued_or_running(job_ids):
    out = subprocess.run(["squeue", "--noheader", "--array", "--format=%i|%T", "--states=PENDING,RUNNING",
                          "--jobs", ",".join(job_ids)], capture_output=True, text=True, timeout=30).stdout
    return [line for line in out.splitlines() if line.strip()]


@CLUSTER
async def test_cancel_a_whole_sweep_in_one_call(jp_fetch, jp_serverapp):
    jp_serverapp.web_app.settings["tritonml"].config.max_array_size = 3  # two array jobs: both cancelled
    code = "import time\ntime.sleep(300)\ntritonml.report(y=x)\n"
    sweep = await post_sweep(jp_fetch, code=code, grid={"x": [0, 1, 2, 3, 4]}, metric="y", parallel=2,
                             name="cancel-me", **RESOURCES)
    ids = [job["id"] for job in sweep["jobs"]]
    assert len(ids) == 2 and sweep["cancelled_at"] is None
    # the sweep of any of its array jobs (what the jobs panel asks), and none for another job
    assert await sweeps_of(jp_fetch, f"{ids[1]}_0") == [ids[0]]
    assert await sweeps_of(jp_fetch, "424242424") == []
    code, body = await error_of(jp_fetch("tritonml", "sweeps", params={"job": "12; rm"}))
    assert code == 400 and "not a Slurm job id" in body["message"]
    running = await wait_for(jp_fetch, sweep["id"], lambda s: s["counts"].get("RUNNING", 0) >= 1, "a RUNNING task")
    # --parallel 2 for the whole sweep: the second array job waits for the first (Slurm says why)
    assert sweep["jobs"][1]["after"] == ids[0] and running["counts"].get("RUNNING", 0) <= 2
    reason = subprocess.run(["squeue", "--noheader", "--format=%r", "--jobs", ids[1]], capture_output=True,
                            text=True, timeout=30).stdout
    assert "Dependency" in reason, reason

    response = await jp_fetch("tritonml", "sweeps", sweep["id"], method="DELETE")
    assert response.code == 200
    cancelled = json.loads(response.body)
    validate_schema("/sweeps/{id}", "delete", 200, cancelled)
    assert cancelled["id"] == sweep["id"] and cancelled["cancelled_at"] is not None
    done = await wait_for(jp_fetch, sweep["id"], lambda s: s["finished"], "the end")
    assert done["counts"] == {"CANCELLED": 5}, done["counts"]
    for task in done["tasks"]:
        assert task["result"] is None and task["best"] is False and "cancelled" in task["error"]
    assert done["best"] is None and done["cancelled_at"] == cancelled["cancelled_at"]
    assert queued_or_running(ids) == []  # nothing of the sweep is left to run

    # idempotent: again, nothing changes and the answer is the same sweep
    again = json.loads((await jp_fetch("tritonml", "sweeps", sweep["id"], method="DELETE")).body)
    assert again["counts"] == {"CANCELLED": 5} and again["cancelled_at"] == cancelled["cancelled_at"]
    code, body = await error_of(jp_fetch("tritonml", "sweeps", "424242424", method="DELETE"))
    assert code == 404
    code, body = await error_of(jp_fetch("tritonml", "sweeps", "abc", method="DELETE"))
    assert code == 400


# -- the magic -----------------------------------------------------------------------------------
# (the shell and magics fixtures are in conftest.py)
def sweep_rows(shell, sweep_id, wait=False) -> list[dict]:
    """%tritonml sweep-results as a list of dicts (it is a DataFrame where pandas is installed)."""
    rows = shell.run_line_magic("tritonml", f"sweep-results {sweep_id}" + (" --wait" if wait else ""))
    return rows if isinstance(rows, list) else rows.reset_index().to_dict("records")

@CLUSTER
def test_sweep_magic_runs_and_returns_the_results_table(magics, capsys):
    shell = magics.shell
    result = shell.run_cell(
        "%%tritonml sweep --grid a=1,2,3 b=x,y --metric score --mode max --parallel 3 "
        "--partition batch-csl --time 5:00 --wait\n"
        "score = a * (2 if b == 'y' else 1)\n"
        "tritonml.report(score=score)\n"
    )
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    sweep_id = magics.last_sweep
    assert f"Submitted sweep {sweep_id}" in out and "6 tasks" in out and "6 COMPLETED" in out
    rows = sweep_rows(shell, sweep_id)
    assert [r["score"] for r in rows] == [6, 4, 3, 2, 2, 1]
    assert rows[0] == {"index": 5, "state": "COMPLETED", "a": 3, "b": "y", "score": 6, "best": True,
                       "pruned_at": None, "error": None, "job_id": f"{sweep_id}_5"}


@CLUSTER
def test_sweep_magic_shows_the_widget_and_cancels(magics, capsys):
    from tritonml_lab.widgets import SweepWidget

    shell = magics.shell
    result = shell.run_cell(
        "%%tritonml sweep --grid x=1,2 --metric y --partition batch-csl --time 5:00\n"
        "import time\ntime.sleep(300)\n"
    )
    assert result.success, result.error_in_exec
    sweep_id = magics.last_sweep
    view = magics._sweep_view(sweep_id)
    widget = magics._sweep_widget(view)
    assert isinstance(widget, SweepWidget) and widget.sweep_id == sweep_id and widget.total == 2
    assert widget.metric == "y" and widget.snapshot["id"] == sweep_id and len(widget.snapshot["tasks"]) == 2
    bundle = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live view in JupyterLab
    assert f"Sweep {sweep_id}" in bundle["text/html"]           # the table elsewhere
    assert f"sweep-results {sweep_id}" in bundle["text/plain"]
    capsys.readouterr()

    shell.run_line_magic("tritonml", f"sweep-cancel {sweep_id}")
    assert f"Cancel requested for sweep {sweep_id}" in capsys.readouterr().out
    rows = sweep_rows(shell, sweep_id, wait=True)
    assert [r["state"] for r in rows] == ["CANCELLED", "CANCELLED"]
    shell.run_line_magic("tritonml", f"sweep-cancel {sweep_id}")  # again: fine
    assert "2 CANCELLED" in capsys.readouterr().out
    with pytest.raises(Exception) as info:
        shell.run_line_magic("tritonml", "sweep-cancel 42424242")
    assert "No sweep 42424242" in str(info.value)


@CLUSTER
def test_sweep_magic_random_syntax_and_errors(magics, capsys):
    shell = magics.shell
    args = magics._parsers["sweep"].parse_args(
        ["--random", "5", "--space", "lr=loguniform(1e-5,1e-2)", "layers=choice(2,4,8)", "--space",
         "width=randint(16,64)", "--seed", "1", "--metric", "loss", "--partition", "batch-csl"])
    request = magics.build_sweep(args, "loss = lr\n")
    points = generate_points(request)
    assert len(points) == 5 and all(p["layers"] in (2, 4, 8) and 16 <= p["width"] <= 64 for p in points)
    assert request.python and request.random.seed == 1
    for line, words in [
        ("sweep --grid lr=1,2 --random 3 --space a=1,2", "not both"),
        ("sweep --random 3", "--space"),
        ("sweep --grid lr", "NAME=V1,V2"),
        ("sweep --grid 2x=1,2", "--grid: '2x' is not a Python variable name"),
        ("sweep --grid a=1 --gpus lots", "--gpus"),
    ]:
        result = shell.run_cell(f"%%tritonml {line}\nx = 1\n")
        assert not result.success and words in str(result.error_in_exec), (line, result.error_in_exec)
    assert list(Path(magics.store.root).glob("job-*")) == []
    with pytest.raises(Exception) as info:
        shell.run_line_magic("tritonml", "sweep-results 42424242")
    assert "No sweep 42424242" in str(info.value)


@CLUSTER
def test_run_notebook_magic_submits_the_notebook(magics, tmp_path, capsys, monkeypatch):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [new_code_cell("x = 1", metadata={"tags": ["parameters"]}), new_code_cell("print('x is', x * 2)")]
    folder = tmp_path / "nbs"
    folder.mkdir()
    nbformat.write(nb, str(folder / "double.ipynb"))
    monkeypatch.chdir(folder)
    monkeypatch.delenv("TRITONML_SERVER_PYTHON", raising=False)
    magics.shell.run_line_magic("tritonml", "run-notebook double.ipynb -p x 21 --partition batch-csl --time 5:00")
    out = capsys.readouterr().out
    job_id = magics.last_job[0]
    output = folder / f"double.{job_id}.ipynb"
    assert f"Submitted notebook run {job_id}" in out and str(output) in out
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (magics.store.find(job_id).path / "exit_code.job").exists():
            break
        time.sleep(0.5)
    executed = nbformat.read(str(output), as_version=4)
    assert "x is 42" in json.dumps(executed.cells[-1].outputs)
    with pytest.raises(Exception) as info:
        magics.shell.run_line_magic("tritonml", "run-notebook missing.ipynb")
    assert "no notebook" in str(info.value).lower()
