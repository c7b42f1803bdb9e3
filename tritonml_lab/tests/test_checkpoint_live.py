"""Long jobs against the real cluster: warn before the time limit, checkpoint, requeue and resume.

The jobs are submitted together (each needs a minute or more; a requeued job waits about two minutes
before Slurm starts it again: its BeginTime is the requeue plus the credential lifetime,
AuthInfo cred_expire, 120 s by default), then each test checks its own.
"""

import asyncio
import json
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tritonml_lab.jobs.markers import run_history
from tritonml_lab.magics import JobFailed
from tritonml_lab.slurm import SlurmClient

pytestmark = pytest.mark.usefixtures("slurm_cluster")

WARN = 30
COUNTING_CELL = f"""
import json, os, time
path = os.path.join(tritonml.checkpoint_dir(), "state.json")
state = json.load(open(path)) if tritonml.restarts() else {{"step": 0, "resumed_at": []}}
state["resumed_at"].append(state["step"])
print(f"run {{tritonml.restarts()}} starts at step {{state['step']}} with {{tritonml.time_left():.0f}} s left", flush=True)
while state["step"] < 45:
    time.sleep(1)
    state["step"] += 1
    if tritonml.should_checkpoint():
        json.dump(state, open(path, "w"))
        print(f"checkpoint at step {{state['step']}} at {{time.time():.3f}}", flush=True)
        tritonml.requeue()
steps, resumed_at = state["step"], state["resumed_at"]
print("finished at step", steps, "runs started at steps", resumed_at)
"""


def write_notebook(path, cells):
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [new_code_cell(source) for source in cells]
    nbformat.write(nb, str(path))


@pytest.fixture(scope="module")
def jobs(shell, tmp_path_factory):
    """Submit the four jobs at once: {name: (job id, job directory)}."""
    magics = shell.magics_manager.registry["TritonMLMagics"]
    root = tmp_path_factory.mktemp("checkpoint-jobs")
    magics.jobs_root, magics.poll_seconds = str(root), 0.5
    here = tmp_path_factory.mktemp("notebooks")
    write_notebook(here / "sleepy.ipynb", ["print('one')", "import time\nprint('sleeping', flush=True)\ntime.sleep(120)"])
    write_notebook(here / "resumes.ipynb", [
        "import tritonml\nprint('restarts', tritonml.restarts())",
        "import time\nif tritonml.restarts() == 0:\n    time.sleep(120)\nprint('resumed')"])
    submitted = {}
    common = f"--partition batch-csl --time 00:01:00 --warn {WARN}s"
    for name, line, body in [
        ("requeue", f"submit {common} --requeue 3 --out steps,resumed_at", COUNTING_CELL),
        ("no-requeue", f"submit {common}", COUNTING_CELL),
        ("notebook", f"run-notebook {here / 'sleepy.ipynb'} {common}", None),
        ("notebook-requeue", f"run-notebook {here / 'resumes.ipynb'} {common} --requeue 1", None),
    ]:
        result = shell.run_cell(f"%%tritonml {line}\n{body}" if body else f"%tritonml {line}")
        assert result.success, result.error_in_exec
        job_id, _widget = magics.last_job
        submitted[name] = (job_id, Path(magics.store.find(job_id).path))
    yield magics, submitted
    magics.jobs_root = ""


def final_state(job_id, timeout=420):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [j for j in asyncio.run(SlurmClient().accounting([job_id])) if j.id == job_id]
        if found and found[0].state.is_finished:
            return found[0]
        time.sleep(2)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def test_a_cell_that_checkpoints_on_the_warning_resumes_after_a_requeue(jobs, shell, capsys):
    magics, submitted = jobs
    job_id, job_dir = submitted["requeue"]
    magics.wait(job_id, stream=False)  # raises JobFailed unless COMPLETED; loads --out
    assert final_state(job_id).state.value == "COMPLETED"
    steps, resumed_at = shell.user_ns["steps"], shell.user_ns["resumed_at"]
    # It resumed where it checkpointed, not from zero, after at least one restart.
    assert steps == 45 and len(resumed_at) >= 2 and resumed_at[0] == 0 and 0 < resumed_at[1] < 45, resumed_at
    log = (job_dir / "stdout.log").read_text()  # --open-mode=append: every run's output
    assert log.count("starts at step") == len(resumed_at) and f"finished at step 45" in log
    runs = run_history(str(job_dir))
    assert [r.outcome for r in runs] == ["requeued"] * (len(runs) - 1) + ["exit 0"]
    assert all(r.started and r.ended and r.nodes == "csl1" for r in runs)
    # Lost work per restart: from the last checkpoint to the end of the run is under --warn.
    saved = [float(line.rsplit(" ", 1)[1]) for line in log.splitlines() if line.startswith("checkpoint at")]
    lost = [run.ended - at for run, at in zip(runs, saved)]
    assert len(lost) == len(runs) - 1 and all(0 <= s < WARN for s in lost), lost
    # %tritonml status: the options and the restart history.
    shell.run_cell(f"%tritonml status {job_id}")
    status = capsys.readouterr().out
    assert "long job: warned 30 s before the limit, requeues itself up to 3 times" in status
    assert "first run:" in status and "stopped for the time limit, requeued" in status
    assert "restart 1:" in status and "exit 0" in status
    print(f"\nlost work per restart (s): {[round(s, 3) for s in lost]}; "
          f"warning lead measured (s): {[round(r.started + 60 - r.warned, 1) for r in runs if r.warned]}")


def test_without_requeue_the_job_checkpoints_once_and_ends_timeout(jobs, shell, capsys):
    magics, submitted = jobs
    job_id, job_dir = submitted["no-requeue"]
    with pytest.raises(JobFailed) as info:
        magics.wait(job_id, stream=False)
    assert info.value.state == "TIMEOUT"
    assert final_state(job_id).state.value == "TIMEOUT"
    state = json.loads((job_dir / "checkpoint" / "state.json").read_text())
    assert 0 < state["step"] < 45 and state["resumed_at"] == [0]
    log = (job_dir / "stdout.log").read_text()
    assert log.count("checkpoint at") == 1 and "finished" not in log
    err = (job_dir / "stderr.log").read_text()
    assert "no restart left (0 allowed: --requeue)" in err and "ends as TIMEOUT" in err
    assert [r.outcome for r in run_history(str(job_dir))] == ["exit 143"]


def test_after_a_timeout_the_advice_names_warn_and_requeue(jobs, shell, capsys):
    magics, submitted = jobs
    job_id, _job_dir = submitted["no-requeue"]
    final_state(job_id)
    capsys.readouterr()
    shell.run_cell(f"%tritonml efficiency {job_id}")
    out = capsys.readouterr().out
    assert "time limit" in out and "--warn" in out and "--requeue" in out, out


def test_a_notebook_past_its_limit_keeps_its_outputs_and_marks_the_cell(jobs):
    _magics, submitted = jobs
    job_id, job_dir = submitted["notebook"]
    assert final_state(job_id).state.value == "TIMEOUT"
    # The batch script ends at Slurm's SIGTERM (its trap); the notebook executor, TERMed too, saves the
    # notebook and then progress.json (with ended_at) a moment later (0.3 s after the job's end, seen
    # on 24.11): read them once it has. Before, progress.json could still hold the warning's message.
    deadline = time.monotonic() + 30
    while json.loads((job_dir / "progress.json").read_text()).get("ended_at") is None:
        assert time.monotonic() < deadline, "the notebook executor never saved how the job ended"
        time.sleep(0.2)
    out = nbformat.read(str(job_dir / "output.ipynb"), as_version=4)
    assert out.cells[0].outputs[0].text == "one\n"
    second = out.cells[1]
    texts = [o.get("text", "") for o in second.outputs if o.output_type == "stream"]
    errors = [f"{o.ename}: {o.evalue}" for o in second.outputs if o.output_type == "error"]
    assert texts[0].startswith("sleeping") and len(errors) == 1, second.outputs
    assert "stopped at the time limit in cell 2 of 2" in errors[0], errors
    assert second.metadata["tritonml"]["status"] == "interrupted"
    progress = json.loads((job_dir / "progress.json").read_text())
    assert "stopped at the time limit in cell 2 of 2" in progress["message"]


def test_a_notebook_with_requeue_runs_again_from_the_top(jobs):
    _magics, submitted = jobs
    job_id, job_dir = submitted["notebook-requeue"]
    assert final_state(job_id).state.value == "COMPLETED"
    out = nbformat.read(str(job_dir / "output.ipynb"), as_version=4)  # one output file, updated
    assert out.cells[0].outputs[0].text == "restarts 1\n" and out.cells[1].outputs[0].text == "resumed\n"
    log = (job_dir / "stderr.log").read_text()
    assert "stopped at the time limit in cell 2 of 2" in log and "restart 1 of 1" in log
    assert [r.outcome for r in run_history(str(job_dir))] == ["requeued", "exit 0"]
