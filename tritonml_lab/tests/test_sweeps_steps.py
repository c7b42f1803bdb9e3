"""Per-step values of sweep tasks (``tritonml.report(step=..., loss=...)``), their curves in the sweep
view, and pruning: Optuna's MedianPruner (``--prune median`` with --optuna) and the median stopping
rule (grid and random). The in-job side is run as Slurm would run each task (one process, without
Slurm); the API and the magic end to end against the real local cluster."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from tritonml_lab import injob
from tritonml_lab.jobs.spec import field_errors
from tritonml_lab.slurm import JobState
from tritonml_lab.sweeps import SweepRequest, SweepTask, rank_tasks, read_task_files, write_task_files
from tritonml_lab.sweeps.adaptive import task_config
from tritonml_lab.sweeps.models import Pruned
from tritonml_lab.sweeps.steps import HOLD, MAX_POINTS, StepLine, StepReader, parse_step_line

from .test_sweeps import RESOURCES, by_index, get_sweep, post_sweep, sweep_rows, wait_finished

CLUSTER = pytest.mark.usefixtures("slurm_cluster")
MEDIAN = {"rule": "median", "startup": 2, "warmup": 0}
# Good tasks' loss falls from 1 to 0.2 (each later task a hair better, so a good one is never worse
# than the median of those before it); from index BAD on the loss stays at 10: obviously bad.
CURVES = (
    "import time\n"
    "for step in range(5):\n"
    "    loss = 10.0 if tritonml.index() >= BAD else 1.0 / (step + 1) - 0.001 * tritonml.index()\n"
    "    tritonml.report(step=step, loss=loss, lr=0.1)\n"
    "    time.sleep(SLEEP)\n"
)


def curves(bad, sleep=0.0):
    return CURVES.replace("BAD", str(bad)).replace("SLEEP", str(sleep))


def run_task(job_dir, task, env=None):
    environment = {**os.environ, **(env or {}), "SLURM_ARRAY_TASK_ID": str(task)}
    return subprocess.run([sys.executable, str(job_dir / "main.py")], cwd=job_dir, capture_output=True, text=True,
                          env=environment, timeout=120)


def result_of(job_dir, task):
    return json.loads((job_dir / f"result.{task}.json").read_text())


def steps_of(job_dir, task):
    return [json.loads(line) for line in (job_dir / f"steps.{task}.jsonl").read_text().splitlines()]


def load_study(journal, name):
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(journal)))


# -- the in-job side, without the cluster --------------------------------------------------------
def test_steps_append_a_requeued_task_keeps_them_and_the_last_step_is_the_result(tmp_path):
    code = (
        "import os\n"
        "start = int(os.environ.get('FROM', '0'))\n"
        "for step in range(start, start + 3):\n"
        "    tritonml.report(step=step, loss=1.0 / (step + 1), note='text')\n"
    )
    write_task_files(tmp_path, code, [0], [{"a": 1}], "loss")
    first = run_task(tmp_path, 0)
    assert first.returncode == 0, first.stderr
    # no final report(): the last step's values are the result
    assert result_of(tmp_path, 0)["result"] == {"loss": 1 / 3, "note": "text"}
    again = run_task(tmp_path, 0, {"FROM": "2"})  # a requeue resuming from step 2: one file, appended
    assert again.returncode == 0, again.stderr
    lines = steps_of(tmp_path, 0)
    assert [line["step"] for line in lines] == [0, 1, 2, 2, 3, 4]
    assert lines[-1]["values"] == {"loss": 0.2, "note": "text"} and lines[0]["t"] <= lines[-1]["t"]
    assert result_of(tmp_path, 0)["result"]["loss"] == 0.2 and "pruned" not in result_of(tmp_path, 0)


def test_a_final_report_wins_and_bad_steps_say_what_to_give(tmp_path):
    code = (
        "tritonml.report(step=0, loss=5.0)\n"
        "tritonml.report(loss=0.5, acc=0.9)  # without step: the final result, as before\n"
        "try:\n    tritonml.report(step=1.5, loss=1.0)\nexcept TypeError as exc:\n    print('E1', exc)\n"
        "try:\n    tritonml.report(step=-1, loss=1.0)\nexcept ValueError as exc:\n    print('E2', exc)\n"
        "try:\n    tritonml.report(step=True, loss=1.0)\nexcept TypeError as exc:\n    print('E3', exc)\n"
    )
    write_task_files(tmp_path, code, [0], [{"a": 1}], "loss")
    done = run_task(tmp_path, 0)
    assert done.returncode == 0, done.stderr
    assert "E1 step must be a whole number (epoch, iteration), not 1.5" in done.stdout
    assert "E2 step must be 0 or more, not -1" in done.stdout and "E3 step must be a whole number" in done.stdout
    assert result_of(tmp_path, 0)["result"] == {"loss": 0.5, "acc": 0.9}
    assert [line["step"] for line in steps_of(tmp_path, 0)] == [0]


def test_the_median_stopping_rule_stops_the_bad_task_of_a_grid(tmp_path):
    write_task_files(tmp_path, curves(bad=3), [0, 1, 2, 3], [{"i": i} for i in range(4)], "loss",
                     stop={**MEDIAN, "warmup": 1, "mode": "min"})
    done = [run_task(tmp_path, task) for task in range(4)]
    assert [d.returncode for d in done] == [0, 0, 0, 0], [d.stderr for d in done]
    for task in range(3):
        assert "pruned" not in result_of(tmp_path, task) and len(steps_of(tmp_path, task)) == 5
    pruned = result_of(tmp_path, 3)["pruned"]
    assert pruned["step"] == 1  # warmup 1: step 0 is never judged
    assert pruned["why"] == ("median stopping rule: best loss 10 up to step 1 is worse than the median 0.499 "
                             "of 3 other tasks")
    assert [line["step"] for line in steps_of(tmp_path, 3)] == [0, 1]
    assert f"task 3 pruned at step 1 ({pruned['why']})" in done[3].stdout


def test_optuna_prunes_the_bad_trials_and_tells_the_study_pruned(tmp_path):
    pytest.importorskip("optuna")
    journal = str(tmp_path / "o" / "s.journal")
    search = {"space": {"x": {"low": 0, "high": 1}}, "sampler": "random", "seed": 3, "study": "s", "journal": journal}
    write_task_files(tmp_path, curves(bad=3), [0, 1, 2, 3, 4], [None] * 5, "loss",
                     task_config(search, "min", 0, MEDIAN))
    done = [run_task(tmp_path, task) for task in range(5)]
    assert [d.returncode for d in done] == [0] * 5, [d.stderr for d in done]
    trials = {t.number: t for t in load_study(journal, "s").trials}
    trial_of = {task: trials[json.loads((tmp_path / f"params.{task}.json").read_text())["trial"]] for task in range(5)}
    assert [trial_of[t].state.name for t in range(5)] == ["COMPLETE"] * 3 + ["PRUNED"] * 2
    for task in range(5):  # each step went to the trial
        values = {line["step"]: line["values"]["loss"] for line in steps_of(tmp_path, task)}
        assert trial_of[task].intermediate_values == values
    assert [result_of(tmp_path, t)["pruned"]["step"] for t in (3, 4)] == [0, 0]
    assert trial_of[2].value == pytest.approx(0.2 - 0.002)


def test_a_requeued_optuna_task_keeps_its_point(tmp_path):
    pytest.importorskip("optuna")
    journal = str(tmp_path / "o" / "s.journal")
    search = {"space": {"x": {"low": 0, "high": 1}}, "sampler": "random", "seed": 9, "study": "s", "journal": journal}
    code = ("import os\n"
            "tritonml.report(step=int(os.environ.get('FROM', '0')), loss=x)\n"
            "if not os.environ.get('FROM'):\n    raise SystemExit(3)  # killed: the trial is told FAIL\n")
    write_task_files(tmp_path, code, [0], [None], "loss", task_config(search, "min", 0, None))
    assert run_task(tmp_path, 0).returncode == 3
    first = json.loads((tmp_path / "params.0.json").read_text())
    assert run_task(tmp_path, 0, {"FROM": "1"}).returncode == 0
    second = json.loads((tmp_path / "params.0.json").read_text())
    trials = load_study(journal, "s").trials
    assert second["params"] == first["params"] and second["trial"] != first["trial"]
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    # the new trial got the earlier steps too (from the steps file), then its own
    assert trials[1].intermediate_values == {0: first["params"]["x"], 1: first["params"]["x"]}


def test_a_sweep_cell_has_the_long_job_api_when_the_job_has_it(tmp_path):
    """The contract with the long-jobs module (tritonml_checkpoint.py, in every job directory): its
    five functions are ``tritonml``'s in a sweep task too, with the values the batch script sets."""
    injob.copy_into(injob.CHECKPOINT, tmp_path, "tritonml_checkpoint.py")
    code = ("tritonml.report(left=round(tritonml.time_left()), warned=tritonml.should_checkpoint(), "
            "restarts=tritonml.restarts(), dir=tritonml.checkpoint_dir(), requeue=callable(tritonml.requeue))\n")
    write_task_files(tmp_path, code, [0], [{"a": 1}], None)
    end = time.time() + 600
    done = run_task(tmp_path, 0, {"TRITONML_RESTARTS": "2", "TRITONML_END_TIME": str(end),
                                  "TRITONML_WARN_SECONDS": "30", "TRITONML_CHECKPOINT_DIR": str(tmp_path / "cp.0")})
    assert done.returncode == 0, done.stderr
    result = result_of(tmp_path, 0)["result"]
    assert 590 <= result.pop("left") <= 600
    assert result == {"warned": False, "restarts": 2, "dir": str(tmp_path / "cp.0"), "requeue": True}


# -- the server's side, without the cluster ------------------------------------------------------
def test_the_step_reader_follows_thins_and_bounds(tmp_path):
    path = tmp_path / "steps.0.jsonl"
    reader = StepReader()
    assert reader.read(str(path), "loss") is None
    with path.open("w") as out:
        for step in range(10_000):
            out.write(json.dumps({"step": step, "values": {"loss": 1 / (step + 1), "acc": step, "tag": "x"}}) + "\n")
        out.write('{"step": 10000, "values": {"loss"')  # being written: waits for its newline
    series = reader.read(str(path), "loss")
    assert series.count == 10_000 and len(series.steps) <= MAX_POINTS
    assert series.steps[0] == 0 and series.steps[-1] == 9_999 and series.steps == sorted(series.steps)
    assert list(series.values) == ["loss", "acc"]  # numbers only, the metric first
    assert series.values["acc"] == [float(step) for step in series.steps]
    gaps = [b - a for a, b in zip(series.steps, series.steps[1:-1])]  # (the last step is always shown)
    assert max(gaps) <= 2 * min(gaps)  # evenly thinned
    assert len(reader._files[str(path)].points) <= HOLD + 1  # bounded memory per file
    with path.open("a") as out:
        out.write(': 0.5}}\n{"step": 3, "values": {"loss": 7}}\n')  # completed; then a requeue rewinds to 3
    series = reader.read(str(path), "loss")
    assert series.count == 10_002 and series.steps[-1] == 3 and series.values["loss"][-1] == 7
    assert all(step < 3 for step in series.steps[:-1])


def test_one_parser_reads_the_shims_step_lines():
    """The sweep view's curves and the TensorBoard conversion (tracking/convert.py) read steps lines
    through this one parser: finite numbers only, the shim's time when the line has one."""
    line = parse_step_line(b'{"step": 3, "values": {"loss": 0.123456, "n": 2, "ok": true, "x": "a", '
                           b'"big": 1e999, "nan": NaN}, "t": 1700000000}')
    assert line == StepLine(3, {"loss": 0.123456, "n": 2.0}, 1700000000.0)
    assert parse_step_line(b'{"step": 0, "values": {}}') == StepLine(0, {}, None)
    for bad in (b"not json", b"[1]", b'{"step": 1}', b'{"step": -1, "values": {}}', b'{"step": true, "values": {}}',
                b'{"step": 1.5, "values": {}}', b'{"step": 1, "values": [1]}', b'{"values": {"loss": 1}}'):
        assert parse_step_line(bad) is None, bad


def test_a_requeued_task_is_read_by_its_newest_run(tmp_path):
    """An earlier run's exit files (killed: 143; asked to come back: runner 99) do not end a task that
    runs again (started.TASK.k newer) or waits to (runner 99: Slurm's word)."""
    for name, text in [("started.0", "1 n"), ("exit_code.0", "143"), ("started.1", "1 n"), ("runner_exit.1", "99"),
                       ("started.2", "1 n"), ("exit_code.2", "0"), ("runner_exit.2", "0"),
                       ("stdout.0.log", ""), ("stdout.1.log", ""), ("stdout.2.log", "")]:
        (tmp_path / name).write_text(text)
    old = time.time() - 60
    for name in ("exit_code.0", "runner_exit.1"):
        os.utime(tmp_path / name, (old, old))
    (tmp_path / "started.0.1").write_text("2 n")  # task 0 runs again
    files = read_task_files(str(tmp_path), [0, 1, 2])
    assert (files[0].state, files[0].exit_code, files[0].final) == (JobState.RUNNING, None, False)
    assert (files[1].state, files[1].final) == (JobState.RUNNING, False)  # asked to be requeued: not over
    assert (files[2].state, files[2].final) == (JobState.COMPLETED, True)
    (tmp_path / "exit_code.0").write_text("0")  # the new run ends
    (tmp_path / "runner_exit.0").write_text("0")
    assert read_task_files(str(tmp_path), [0])[0].state is JobState.COMPLETED


def test_a_pruned_task_is_never_the_best():
    def task(index, loss, pruned=None):
        return SweepTask(index=index, params={}, state=JobState.COMPLETED, result={"loss": loss}, job_id=f"1_{index}",
                         pruned=Pruned(step=pruned, why="") if pruned is not None else None)

    tasks = [task(0, 0.5), task(1, 0.1, pruned=2), task(2, 0.3)]
    best = rank_tasks(tasks, "loss", "min")
    assert best.index == 2 and [t.index for t in tasks] == [2, 0, 1]


@pytest.mark.parametrize("body, field, words", [
    ({"grid": {"a": [1]}, "prune": {}}, "prune", "give metric"),
    ({"grid": {"a": [1]}, "metric": "loss", "prune": {"rule": "mean"}}, "prune.rule", "'median'"),
    ({"grid": {"a": [1]}, "metric": "loss", "prune": {"startup": 0}}, "prune.startup", "greater than or equal"),
    ({"grid": {"a": [1]}, "metric": "loss", "prune": {"warmup": -1}}, "prune.warmup", "greater than or equal"),
    ({"grid": {"a": [1]}, "metric": "loss", "prune": {"after": 3}}, "prune.after", "unknown field"),
])
def test_bad_prune_requests_name_the_field(body, field, words):
    with pytest.raises(ValidationError) as info:
        SweepRequest(**{"code": "x", **body})
    errors = field_errors(info.value)
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


# -- against the cluster -------------------------------------------------------------------------
@CLUSTER
async def test_an_optuna_sweep_with_prune_median_prunes_the_obviously_bad_trials(jp_fetch):
    """The issue's "done when": 6 trials, 2 at once; the last two report a loss of 10 at every step
    while the others fall to 0.2. Both bad ones are pruned at their first step; every task has its
    curve in the view."""
    optuna = pytest.importorskip("optuna")
    sweep = await post_sweep(jp_fetch, code=curves(bad=4, sleep=0.2), optuna={"n": 6, "space": {"x": [0, 1]}},
                             metric="loss", mode="min", parallel=2, prune=MEDIAN, name="prune-test", **RESOURCES)
    assert sweep["prune"] == MEDIAN
    done = await wait_finished(jp_fetch, sweep["id"], timeout=240)
    assert done["counts"] == {"COMPLETED": 6}, [t["error"] for t in done["tasks"]]
    assert done["pruned"] == 2
    tasks = by_index(done)
    for index in (4, 5):
        pruned = tasks[index]["pruned"]
        assert pruned["step"] == 0 and "median pruner: loss 10 at step 0" in pruned["why"]
        assert tasks[index]["result"] == {"loss": 10.0, "lr": 0.1} and not tasks[index]["best"]
        assert tasks[index]["curve"] == {"steps": [0], "values": {"loss": [10.0], "lr": [0.1]}, "count": 1}
    for index in range(4):
        curve = tasks[index]["curve"]
        assert tasks[index]["pruned"] is None and curve["steps"] == [0, 1, 2, 3, 4] and curve["count"] == 5
        assert curve["values"]["loss"] == pytest.approx([1 / (s + 1) - 0.001 * index for s in range(5)], rel=1e-3)
    assert done["best"]["index"] == 3 and [t["index"] for t in done["tasks"]][-2:] in ([4, 5], [5, 4])
    study = load_study(done["space"]["optuna"]["journal"], done["space"]["optuna"]["study"])
    assert sorted(t.state.name for t in study.trials) == ["COMPLETE"] * 4 + ["PRUNED"] * 2
    assert optuna.trial.TrialState.PRUNED.name == "PRUNED"


@CLUSTER
def test_the_sweep_magic_prunes_a_grid_with_the_median_rule(magics, capsys):
    shell = magics.shell
    result = shell.run_cell(
        "%%tritonml sweep --grid i=0,1,2,3,4 --metric loss --prune median --prune-startup 2 --parallel 2 "
        "--partition batch-csl --time 5:00 --wait\n" + curves(bad=4, sleep=0.2)
    )
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    assert "5 COMPLETED (1 of them pruned)" in out and "Best (loss, min): task 3" in out
    rows = {row["index"]: row for row in sweep_rows(shell, magics.last_sweep)}
    assert rows[4]["loss"] == 10.0 and rows[3]["loss"] == pytest.approx(0.2 - 0.003)
    assert rows[4]["pruned_at"] is not None and rows[3]["pruned_at"] is None
    view = magics._sweep_view(magics.last_sweep)
    assert [t.index for t in view.tasks if t.pruned] == [4] and view.prune == {**MEDIAN, "startup": 2}
    for line, words in [
        ("sweep --grid i=1,2 --prune median", "give --metric NAME"),
        ("sweep --grid i=1,2 --metric loss --prune-warmup 3", "go with --prune median"),
    ]:
        result = shell.run_cell(f"%%tritonml {line}\nx = 1\n")
        assert not result.success and words in str(result.error_in_exec), (line, result.error_in_exec)


RESUMING = """
import json, os, time
path = os.path.join(tritonml.checkpoint_dir(), "state.json")
state = json.load(open(path)) if tritonml.restarts() else {"step": 0}
while state["step"] < 40:
    time.sleep(1)
    state["step"] += 1
    tritonml.report(step=state["step"], loss=1.0 / state["step"], run=tritonml.restarts())
    if tritonml.should_checkpoint():
        json.dump(state, open(path, "w"))
        tritonml.requeue()
"""


@CLUSTER
async def test_each_task_of_a_sweep_requeues_on_its_own_and_keeps_its_steps(jp_fetch):
    """Two tasks of 40 one-second steps under a one-minute limit, warned 30 s before it: each checkpoints
    on the warning, requeues itself and resumes (Slurm starts a requeued job again about two minutes
    later). The table never shows a requeued task as failed; each ends COMPLETED with one curve of all
    40 steps, the last ones reported by a later run."""
    import asyncio

    sweep = await post_sweep(jp_fetch, code=RESUMING, grid={"i": [0, 1]}, metric="loss", parallel=2,
                             name="requeue-test", partition="batch-csl", time="00:01:00",
                             checkpoint={"warn": "30s", "requeue": 2})
    seen = set()
    deadline = time.monotonic() + 480
    while time.monotonic() < deadline:
        view = await get_sweep(jp_fetch, sweep["id"])
        seen.update(task["state"] for task in view["tasks"])
        if view["finished"]:
            break
        await asyncio.sleep(2)
    assert view["finished"], view["counts"]
    assert "FAILED" not in seen and view["counts"] == {"COMPLETED": 2}, (seen, [t["error"] for t in view["tasks"]])
    job_dir = Path(sweep["jobs"][0]["directory"])
    for task in view["tasks"]:
        # each task asked to come back itself (requeued.TASK.0), and was not stopped by the other's requeue
        assert (job_dir / f"requeued.{task['index']}.0").exists(), sorted(p.name for p in job_dir.iterdir())
        assert task["curve"]["count"] == 40 and task["curve"]["steps"][0] == 1 and task["curve"]["steps"][-1] == 40
        assert task["result"]["loss"] == 0.025 and task["result"]["run"] >= 1  # finished by a later run
        runs = [line["values"]["run"] for line in steps_of(job_dir, task["index"])]
        assert runs == sorted(runs) and runs[0] == 0  # one file: the first run's steps, then the next's
