"""%%tritonml submit and friends, run in an in-process IPython shell against the real local cluster."""

import asyncio
import os
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from tritonml_lab.magics import JobFailed
from tritonml_lab.slurm import SlurmClient

pytestmark = pytest.mark.usefixtures("slurm_cluster")



def cell(shell, line, body=""):
    """Run a %%tritonml cell as Jupyter would; return its ExecutionResult."""
    return shell.run_cell(f"%%tritonml {line}\n{body}" if body else f"%tritonml {line}")


def job_dirs(root):
    return sorted(p for p in Path(root).iterdir() if p.name.startswith("job-"))


def test_help_documents_every_command_and_option(shell):
    doc = shell.find_line_magic("tritonml").__doc__
    for word in ("submit", "jobs", "status ID", "logs ID", "--follow", "cancel ID", "fetch ID",
                 "--gpus", "--time", "--partition", "--mem", "--cpus", "--nodes", "--ntasks-per-node",
                 "--array", "--name", "--module", "--env", "--in", "--out", "--wait", "--bash",
                 "--dry-run", "--ddp", "TRITONML_JOBS_ROOT"):
        assert word in doc, word


def test_dry_run_prints_the_script_and_submits_nothing(shell, magics, jobs_root, capsys):
    shell.user_ns["config"] = {"lr": 0.1}
    result = cell(shell, "submit --dry-run --gpus h100:1 --time 30:00 -p gpu-h100-80g --mem 8G --cpus 4 "
                  "--name train --module scicomp-python-env --env MODE=fast --in config --out model",
                  "model = config\n")
    assert result.success
    out = capsys.readouterr().out
    for line in ("#SBATCH --job-name=train", "#SBATCH --gpus=h100:1", "#SBATCH --partition=gpu-h100-80g",
                 "#SBATCH --time=00:30:00", "#SBATCH --mem=8G", "#SBATCH --cpus-per-task=4",
                 "module load scicomp-python-env", "export MODE=fast",
                 f"#SBATCH --chdir={os.getcwd()}", "Dry run: nothing was submitted."):
        assert line in out, line
    assert os.path.realpath(os.sys.executable).split("/")[-1] in out or os.sys.executable in out
    assert not list(jobs_root.iterdir())
    assert magics.last_job is None


def test_python_cell_waits_and_round_trips_variables(shell, magics, jobs_root, capsys):
    shell.user_ns.update(settings={"scale": 3, "tags": ["a", "b"]}, values=[1, 2, 3])
    np = _numpy()
    ins, outs = "settings,values", "summary,scaled"
    body = ("summary = {'n': len(values), **settings}\n"
            "scaled = [v * settings['scale'] for v in values]\n")
    if np is not None:  # numpy is optional in the dev environment
        shell.user_ns["matrix"] = np.arange(6).reshape(2, 3)
        ins, outs, body = ins + ",matrix", outs + ",matrix2", body + "matrix2 = matrix * 2\n"
    body += "print('running on', __import__('os').environ['SLURMD_NODENAME'])\nlen(values) * 10\n"
    result = cell(shell, f"submit -p batch-csl --time 5:00 --wait --in {ins} --out {outs}", body)
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    job_id, widget = magics.last_job
    assert f"Submitted batch job {job_id} (tritonml) → %tritonml status {job_id}" in out
    assert "running on csl1\n30\n" in out and f"Job {job_id} COMPLETED." in out
    assert shell.user_ns["summary"] == {"n": 3, "scale": 3, "tags": ["a", "b"]}
    assert shell.user_ns["scaled"] == [3, 6, 9]
    if np is not None:
        assert (shell.user_ns["matrix2"] == np.arange(6).reshape(2, 3) * 2).all()
    assert widget.state == "COMPLETED" and widget.fetched
    (directory,) = job_dirs(jobs_root)
    assert widget.directory == str(directory) and (jobs_root / job_id).resolve() == directory
    assert (directory / "cell.py").read_text().startswith("summary = ")
    manifest = (directory / "manifest.json").read_text()
    assert '"kind": "magic"' in manifest and job_id in manifest


def test_gpu_cell_gets_its_gpu(shell, magics, capsys):
    result = cell(shell, "submit --gpus h100:1 -p gpu-h100-80g --time 5:00 --wait --out gpus",
                  "import os\ngpus = os.environ.get('SLURM_GPUS_ON_NODE')\nprint('gpus', gpus)\n")
    assert result.success, result.error_in_exec
    assert shell.user_ns["gpus"] == "1"  # Slurm gave the job one GPU on its node
    job_id, _ = magics.last_job
    assert "#SBATCH --gpus=h100:1" in (Path(magics.store.find(job_id).path) / "job.sh").read_text()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # accounting (AllocTRES) lags the end a moment
        found = [j for j in asyncio.run(SlurmClient().accounting([job_id])) if j.id == job_id]
        if found and found[0].gpus:
            break
        time.sleep(1)
    assert found and "1" in found[0].gpus


def test_failing_cell_surfaces_failed_with_the_traceback_tail(shell, magics, capsys):
    result = cell(shell, "submit -p batch-csl --time 5:00 --wait --out never",
                  "print('before the error')\nnever = 1 / 0\n")
    assert isinstance(result.error_in_exec, JobFailed)
    failure = result.error_in_exec
    assert failure.state == "FAILED" and failure.exit_code == 1
    captured = capsys.readouterr()
    assert "before the error" in captured.out
    assert "tritonml: job" in captured.out and "FAILED (exit code 1)" in captured.out
    assert "ZeroDivisionError: division by zero" in captured.out  # the report's tail
    assert 'cell.py", line 2, in <module>' in captured.err  # the streamed traceback
    assert "never" not in shell.user_ns
    job_id, widget = magics.last_job
    assert widget.state == "FAILED"
    with pytest.raises(UsageError, match="exit code 1"):
        magics.fetch(job_id)


def test_hostile_options_are_rejected_and_nothing_is_submitted(shell, magics, jobs_root, capsys):
    for line in ("submit --name 'x;rm -rf ~'", "submit --module 'a b'", "submit --gpus '1;id'",
                 "submit --env 'SLURM_JOB_ID=1'", "submit --env 'A=x\ny'", "submit --in 'os.system'",
                 "submit --partition 'batch-csl\n#SBATCH --uid=0'", "submit --in missing_variable",
                 "submit --bash --out x", "submit --time never"):
        result = cell(shell, line, "print(1)\n")
        assert isinstance(result.error_in_exec, UsageError), line
    err = capsys.readouterr().err
    assert "--name: use letters" in err and "--module: 'a b' is not a module name" in err
    assert "--gpus:" in err and "--time:" in err and "missing_variable" in err
    assert not list(jobs_root.iterdir())


def test_env_values_and_names_with_shell_metacharacters_are_data(shell, magics, tmp_path, capsys):
    marker = tmp_path / "pwned"
    result = cell(shell, f"submit -p batch-csl --time 5:00 --wait --bash --name 'a.b+c' "
                  f"--env 'A=$(touch {marker})' --env 'B=`touch {marker}`; touch {marker}'",
                  'echo "A=$A"\necho "B=$B"\n')
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    assert f"A=$(touch {marker})" in out and f"B=`touch {marker}`; touch {marker}" in out
    assert not marker.exists()


def test_the_job_python_needs_no_tritonml_lab(shell, magics, tmp_path, capsys):
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else None
    if python is None:
        pytest.skip("no system Python without tritonml-lab")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    shell.user_ns["payload"] = {"k": [1, 2]}
    result = cell(shell, f"submit -p batch-csl --time 5:00 --wait --python {python} --workdir {workdir} "
                  "--env PYTHONNOUSERSITE=1 --env PYTHONPATH= --in payload --out info",
                  "import importlib.util, sys\n"
                  "info = {'exe': sys.executable, 'payload': payload,\n"
                  "        'has_package': importlib.util.find_spec('tritonml_lab') is not None,\n"
                  "        'has_pydantic': importlib.util.find_spec('pydantic') is not None}\n")
    assert result.success, result.error_in_exec
    assert shell.user_ns["info"] == {"exe": python, "payload": {"k": [1, 2]},
                                     "has_package": False, "has_pydantic": False}


def test_submit_returns_at_once_and_fetch_and_widget_bring_results(shell, magics, capsys):
    start = time.perf_counter()
    result = cell(shell, "submit -p batch-csl --time 5:00 --name later --out answer",
                  "import time\ntime.sleep(1)\nanswer = 42\n")
    elapsed = time.perf_counter() - start
    assert result.success and elapsed < 1.0, elapsed
    job_id, widget = magics.last_job
    assert (widget._model_name, widget._view_name, widget._model_module) == ("JobModel", "JobView", "tritonml-lab")
    assert (widget.job_id, widget.job_name, widget.out_vars, widget.fetched) == (job_id, "later", ["answer"], False)
    assert widget.state == "PENDING"

    # Before the end: a clear message, nothing loaded.
    widget._handle_custom_msg({"action": "fetch"}, [])
    assert not widget.fetched and "not sent results back yet" in widget.message
    assert isinstance(cell(shell, f"fetch {job_id}").error_in_exec, UsageError)

    magics.wait(job_id, stream=False, load=False)
    shell.user_ns.pop("answer", None)
    widget._handle_custom_msg({"action": "fetch"}, [])  # what the view's "Fetch results" sends
    assert widget.fetched and widget.message == "Loaded answer into the notebook."
    assert shell.user_ns.pop("answer") == 42
    assert cell(shell, f"fetch {job_id}").success
    assert shell.user_ns["answer"] == 42
    assert "Loaded answer into the notebook." in capsys.readouterr().out


def test_status_logs_cancel_and_jobs(shell, magics, capsys):
    result = cell(shell, "submit -p batch-csl --time 5:00 --bash --name sleeper",
                  "echo started\nsleep 120 || exit\necho never\n")  # || exit: Slurm may TERM the sleep before bash
    assert result.success
    job_id, _ = magics.last_job
    deadline = time.monotonic() + 30
    while not (Path(magics.store.find(job_id).path) / "stdout.log").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    capsys.readouterr()
    assert cell(shell, f"status {job_id}").success
    out = capsys.readouterr().out
    assert f"Job {job_id} (sleeper): RUNNING" in out and "partition: batch-csl" in out
    assert cell(shell, "jobs").success
    out = capsys.readouterr().out
    assert job_id in out and "sleeper" in out and "RUNNING" in out

    assert cell(shell, f"cancel {job_id}").success
    assert f"Cancel requested for job {job_id}." in capsys.readouterr().out
    magics.slurm_check_seconds = 1.0
    try:
        with pytest.raises(JobFailed) as info:
            magics.wait(job_id, stream=False)
    finally:
        magics.slurm_check_seconds = 10.0
    assert info.value.state == "CANCELLED"
    assert cell(shell, f"logs {job_id}").success
    assert capsys.readouterr().out == "started\n"
    assert cell(shell, f"cancel {job_id}").success  # idempotent


def test_logs_follow_prints_until_the_end(shell, magics, capsys):
    assert cell(shell, "submit -p batch-csl --time 5:00 --bash",
                "for i in 1 2 3; do echo line $i; sleep 0.5; done\necho oops >&2\n").success
    job_id, _ = magics.last_job
    capsys.readouterr()
    assert cell(shell, f"logs {job_id} --follow").success
    captured = capsys.readouterr()
    assert captured.out == "line 1\nline 2\nline 3\n" and captured.err == "oops\n"


def test_array_job_out_variables_come_back_by_task(shell, magics, capsys):
    result = cell(shell, "submit -p batch-csl --time 5:00 --array 0-2 --wait --out square",
                  "import os\nsquare = int(os.environ['SLURM_ARRAY_TASK_ID']) ** 2\n")
    assert result.success, result.error_in_exec
    assert shell.user_ns["square"] == {0: 0, 1: 1, 2: 4}
    job_id, _ = magics.last_job
    assert cell(shell, f"fetch {job_id}_2").success
    assert shell.user_ns["square"] == 4


def test_slurm_rejection_is_a_clear_error_and_leaves_nothing(shell, magics, jobs_root, capsys):
    result = cell(shell, "submit -p no-such-partition", "print(1)\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert "Invalid partition" in capsys.readouterr().err
    assert not job_dirs(jobs_root)


def test_unknown_commands_and_ids_are_usage_errors(shell, magics, capsys):
    for line in ("frobnicate", "status 12;3", "fetch ../x", "logs 999999999"):
        assert isinstance(cell(shell, line).error_in_exec, UsageError), line
    assert isinstance(shell.run_cell("%%tritonml submit\n").error_in_exec, UsageError)


def _numpy():
    try:
        import numpy
    except ImportError:
        return None
    return numpy
