"""Long jobs without the cluster: the checkpoint option's validation, the batch script it renders,
the in-job module, and the restart history read from a job directory's markers."""

import os
import re
import subprocess
import sys
import time

import pytest
from pydantic import ValidationError

from tritonml_lab import injob
from tritonml_lab.jobs.markers import MarkerScanner, parse_run, run_history
from tritonml_lab.jobs.script import Defaults, render_script
from tritonml_lab.jobs.spec import JobSpec, field_errors


def spec(**checkpoint):
    return JobSpec(command="true", time="00:10:00", checkpoint=checkpoint)


@pytest.mark.parametrize("given, seconds", [("120s", 120), ("2m", 120), ("90", 90), (45, 45), ("1h", 3600),
                                            ("5 min", 300)])
def test_warn_takes_seconds_minutes_and_hours(given, seconds):
    if seconds >= 600:
        checkpoint = JobSpec(command="true", time="02:00:00", checkpoint={"warn": given}).checkpoint
    else:
        checkpoint = spec(warn=given).checkpoint
    assert checkpoint.warn_seconds == seconds and checkpoint.warn == f"{seconds}s"
    assert checkpoint.requeue == 0


@pytest.mark.parametrize("checkpoint, field, words", [
    ({"warn": "5s"}, "checkpoint.warn", "10 s to 65535 s"),
    ({"warn": "2 days"}, "checkpoint.warn", "a duration"),
    ({"warn": "$(reboot)"}, "checkpoint.warn", "a duration"),
    ({"warn": True}, "checkpoint.warn", "a duration"),
    ({"requeue": -1}, "checkpoint.requeue", "greater than or equal to 0"),
    ({"requeue": 101}, "checkpoint.requeue", "less than or equal to 100"),
    ({"warn": "60s", "retries": 2}, "checkpoint.retries", "unknown field"),
    ({"warn": "15m"}, "spec", "must be shorter than the time limit"),
])
def test_bad_checkpoint_options_name_the_field(checkpoint, field, words):
    with pytest.raises(ValidationError) as info:
        JobSpec(command="true", time="00:10:00", checkpoint=checkpoint)
    errors = field_errors(info.value)
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


def test_the_script_uses_slurms_own_options_and_requeues_itself():
    script = render_script(spec(warn="30s", requeue=3), Defaults(sampler_python=None), "/jobs/job-1")
    for line in ("#SBATCH --signal=B:USR1@30", "#SBATCH --requeue", "#SBATCH --open-mode=append",
                 "export TRITONML_REQUEUE_MAX=3", "export TRITONML_WARN_SECONDS=30",
                 "export TRITONML_END_TIME=${SLURM_JOB_END_TIME:-$(( ${EPOCHSECONDS:-$(date +%s)} + 600 ))}",
                 # an array task requeues itself alone (JOB_TASK), not the whole array
                 "tritonml_self=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID}",
                 'scontrol requeue "${tritonml_self:-$SLURM_JOB_ID}"', "trap tritonml_warning USR1"):
        assert line in script, line
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    plain = render_script(JobSpec(command="true"), Defaults(sampler_python=None), "/jobs/job-2")
    assert "--signal" not in plain and "--requeue" not in plain and "tritonml_warning" not in plain


def test_the_warning_trap_comes_before_any_command():
    """slurmctld looks at the warnings every 30 s and sends one up to 30 s early: a job whose warning
    is due within 30 s of its start can get it as the script starts. Seen in CI: the script, still
    writing its start marker, died of SIGUSR1 (FAILED, no exit marker). Before the trap there are
    only assignments (no command, no $(...)) and the handler's definition."""
    script = render_script(JobSpec(command="true", time="00:02:00", checkpoint={"warn": "90s"}),
                           Defaults(sampler_python="/usr/bin/python3"), "/jobs/job-1").splitlines()
    trap = script.index("trap tritonml_warning USR1")
    handler = (script.index("tritonml_warning() {"), script.index("}", script.index("tritonml_warning() {")))
    before = [line for i, line in enumerate(script[:trap])
              if line.strip() and not line.startswith("#") and not handler[0] <= i <= handler[1]]
    assert before and all(re.fullmatch(r"(export )?\w+=[^$`;|&<>]*(\$\{?\w+(:-\w+)?\}?[^$`;|&<>]*)*", line)
                          for line in before), before


def test_a_warning_while_the_script_starts_is_noted_not_fatal(tmp_path):
    """The script's start marker made slow (as on a busy node): the warning that comes meanwhile is
    noted and the program still runs and ends the job with its own status."""
    (tmp_path / "main.py").write_text("print('ran', flush=True)\n")
    job = JobSpec(command=f"python3 {tmp_path}/main.py", time="00:02:00", checkpoint={"warn": "90s"})
    script = render_script(job, Defaults(sampler_python=None), str(tmp_path))
    lines = script.splitlines()
    start_marker = next(i for i, line in enumerate(lines) if line.startswith("printf") and "/started." in line)
    lines.insert(start_marker, f"touch {tmp_path}/ready; sleep 0.5")
    script = "\n".join(lines) + "\n"
    env = {**os.environ, "SLURM_JOB_ID": "1", "SLURM_JOB_END_TIME": str(int(time.time()) + 120)}
    proc = subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 20
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(10)  # SIGUSR1
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and out == "ran\n", err
    assert (tmp_path / "warned.job.0").read_text().strip()
    assert (tmp_path / "exit_code.job").read_text().strip() == "0"


def test_the_script_passes_the_warning_only_to_a_program_that_handles_it(tmp_path):
    """The rendered script, run by bash outside Slurm: SIGUSR1 to the script reaches a Python that
    handles it, is noted in the warned file, and exit 99 without a restart left says TIMEOUT."""
    (tmp_path / "main.py").write_text(
        "import signal, sys, time\n"
        "got = []\n"
        "signal.signal(signal.SIGUSR1, lambda *a: got.append(1))\n"
        "open(sys.argv[1], 'w').write('ready')\n"
        "while not got: time.sleep(0.05)\n"
        "print('warned', flush=True)\n"
        "sys.exit(99)\n")
    job = JobSpec(command=f"python3 {tmp_path}/main.py {tmp_path}/ready", time="00:01:00",
                  checkpoint={"warn": "20s"})
    script = render_script(job, Defaults(sampler_python=None), str(tmp_path))
    env = {**os.environ, "SLURM_JOB_ID": "1", "SLURM_JOB_END_TIME": str(int(time.time()) - 200)}
    proc = subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 20
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(10)  # SIGUSR1, as Slurm's --signal=B:USR1 sends it to the batch shell
    out, err = proc.communicate(timeout=30)
    assert out == "warned\n"
    assert "no restart left (0 allowed: --requeue)" in err and "ends as TIMEOUT" in err
    assert (tmp_path / "warned.job.0").read_text().strip()
    assert (tmp_path / "exit_code.job").read_text().strip() == "99"  # the end time had passed: no wait


def test_at_the_time_limit_the_script_ends_after_its_program_saved(tmp_path):
    """Slurm's SIGTERM (time limit, scancel) reaches the script and its program at once; the script's
    end ends the job, and under proctrack/cgroup kills what is left: it waits for the program, which
    saves on its SIGTERM (a notebook's outputs: issue 23), before it exits with 143."""
    (tmp_path / "main.py").write_text(
        "import os, signal, sys, time\n"
        "def save(*_):\n"
        "    time.sleep(1.0)  # a notebook's last save\n"
        f"    open({str(tmp_path / 'saved')!r}, 'w').write('saved')\n"
        "    sys.exit(143)\n"
        "signal.signal(signal.SIGTERM, save)\n"
        f"open({str(tmp_path / 'ready')!r}, 'w').write(str(os.getpid()))\n"
        "while True: time.sleep(0.05)\n")
    job = JobSpec(command=f"python3 {tmp_path}/main.py", time="00:10:00", checkpoint={"warn": "60s"})
    script = render_script(job, Defaults(sampler_python=None), str(tmp_path))
    env = {**os.environ, "SLURM_JOB_ID": "1", "SLURM_JOB_END_TIME": str(int(time.time()) + 600)}
    proc = subprocess.Popen(["bash", "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    program = int((tmp_path / "ready").read_text())
    proc.send_signal(15)  # as Slurm does: the batch shell and every process of the job
    os.kill(program, 15)
    proc.wait(timeout=30)
    assert (tmp_path / "saved").exists(), "the script ended before its program had saved"
    assert proc.returncode == 143 and (tmp_path / "exit_code.job").read_text().strip() == "143"


def test_a_bash_program_that_exits_at_once_on_the_warning_keeps_its_status(tmp_path):
    """The script's wait, interrupted by the warning, still gets the program's own status (99: come
    back) when the program ends before the script looks again."""
    (tmp_path / "user.sh").write_text(f"trap 'exit 99' USR1\ntouch {tmp_path}/ready\nsleep 5 & wait\n")
    job = JobSpec(script="unused", time="00:01:00", checkpoint={"warn": "20s"})
    script = render_script(job, Defaults(sampler_python=None), str(tmp_path))
    # Widen the window seen under load on the cluster: the program exits (and bash reaps it) while
    # the script's warning handler still runs.
    forward = 'kill -USR1 "$tritonml_child" 2>/dev/null || true; fi'
    assert forward in script
    script = script.replace(forward, forward + "\n    sleep 0.3")
    env = {**os.environ, "SLURM_JOB_ID": "1", "SLURM_JOB_END_TIME": str(int(time.time()) - 200)}
    for attempt in range(3):  # the race it guards against: the program is gone before the script looks
        (tmp_path / "ready").unlink(missing_ok=True)
        with open(tmp_path / "err", "w") as err_file:  # not a pipe: the program's sleep outlives it
            proc = subprocess.Popen(["bash", "-c", script], env=env, stderr=err_file)
        deadline = time.monotonic() + 20
        while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        proc.send_signal(10)
        proc.wait(timeout=30)
        err = (tmp_path / "err").read_text()
        assert proc.returncode == 99 and (tmp_path / "exit_code.job").read_text().strip() == "99", (attempt, err)


def test_marker_names_of_each_run():
    assert parse_run("started.job") == ("start", None, 0)
    assert parse_run("started.job.2") == ("start", None, 2)
    assert parse_run("started.7.1") == ("start", "7", 1)
    assert parse_run("requeued.job.0") == ("requeue", None, 0)
    assert parse_run("requeued.job") is None and parse_run("exit_code.job.1") is None
    assert parse_run("warned.job.0") is None  # read by run_history, not a state change


def test_run_history_and_the_scanner_follow_each_run(tmp_path):
    (tmp_path / "started.job").write_text("100.5 gpu1\n")
    (tmp_path / "warned.job.0").write_text("131.0\n")
    (tmp_path / "requeued.job.0").write_text("150.25 99\n")
    (tmp_path / "started.job.1").write_text("290.0 gpu2\n")
    scanner = MarkerScanner()
    first = scanner.scan({"10": str(tmp_path)})
    assert [(m.kind, m.run, m.at) for m in first] == [("start", 0, 100.5), ("requeue", 0, 150.25),
                                                      ("start", 1, 290.0)]
    (tmp_path / "exit_code.job").write_text("0\n")
    assert [(m.kind, m.exit_code) for m in scanner.scan({"10": str(tmp_path)})] == [("exit", 0)]
    runs = run_history(str(tmp_path))
    assert [(r.run, r.started, r.ended, r.nodes, r.warned, r.outcome) for r in runs[:1]] == [
        (0, 100.5, 150.25, "gpu1", 131.0, "requeued")]
    assert (runs[1].run, runs[1].started, runs[1].nodes, runs[1].outcome) == (1, 290.0, "gpu2", "exit 0")
    assert runs[1].ended == pytest.approx((tmp_path / "exit_code.job").stat().st_mtime)
    assert run_history(str(tmp_path), "3") == []


def _in_job(code, env):
    """Run ``code`` with the in-job module as a bare job Python would (-I -S: no site-packages)."""
    target = injob.CHECKPOINT
    program = f"import importlib.util as u; s = u.spec_from_file_location('t', {str(target)!r}); " \
              f"t = u.module_from_spec(s); s.loader.exec_module(t)\n{code}"
    result = subprocess.run([sys.executable, "-I", "-S", "-c", program], env=env, capture_output=True,
                            text=True, timeout=30)
    return result


def test_the_in_job_api_reads_what_the_script_set(tmp_path):
    env = {"TRITONML_END_TIME": str(time.time() + 100), "TRITONML_WARN_SECONDS": "30",
           "TRITONML_RESTARTS": "2", "TRITONML_CHECKPOINT_DIR": str(tmp_path / "ck"),
           "TRITONML_WARNED_FILE": str(tmp_path / "warned")}
    result = _in_job("print(round(t.time_left()), t.should_checkpoint(), t.restarts(), t.checkpoint_dir())\n"
                     "import os, signal; os.kill(os.getpid(), signal.SIGUSR1)\n"
                     "print(t.warned(), t.should_checkpoint())\n"
                     "t.requeue()", env)
    lines = result.stdout.splitlines()
    assert lines[0] == f"100 False 2 {tmp_path / 'ck'}" and (tmp_path / "ck").is_dir()
    # The signal came (early, as Slurm's does): noted, but should_checkpoint waits for the 30 s lead.
    assert lines[1] == "True False"
    assert result.returncode == 99 and "time-limit warning arrived" in result.stderr
    env["TRITONML_END_TIME"] = str(time.time() + 20)
    assert _in_job("print(t.should_checkpoint(), t.__all__)", env).stdout.split(" ", 1)[0] == "True"
    outside = _in_job("print(t.time_left(), t.should_checkpoint(), t.restarts())", {})
    assert outside.stdout.strip() == "inf False 0"


def test_every_job_directory_holds_the_module(tmp_path):
    from tritonml_lab.jobs.store import JobStore

    job_dir, _manifest = JobStore(tmp_path / "jobs").create(JobSpec(command="true"), Defaults(sampler_python=None))
    assert (job_dir.path / "tritonml_checkpoint.py").read_bytes() == injob.CHECKPOINT.read_bytes()


def test_the_monitor_keeps_a_requeued_job_going_and_records_each_run(tmp_path):
    """Markers of a job that requeued itself: pending again after run 0 (not ended), running in
    run 1, completed at its exit code; the restart history rides on the job's record. (The markers'
    file times are on one clock, as the scanner reads them: the run time is measured between them.)"""
    from tritonml_lab.jobs.markers import Marker
    from tritonml_lab.server.monitor import JobMonitor
    from tritonml_lab.slurm import Job, JobState

    monitor = JobMonitor(slurm=None)
    monitor.jobs["5"] = Job(id="5", state=JobState.PENDING, time_limit=1)
    events = []
    monitor._listeners.add(lambda event, payload: events.append(payload))
    monitor._on_marker(Marker("5", None, "start", 100.0, nodes="csl1", mtime=100.0), 0.0)
    monitor._on_marker(Marker("5", None, "requeue", 130.0, exit_code=99, run=0), 0.0)
    job = monitor.jobs["5"]
    assert job.state is JobState.PENDING and job.ended is None
    assert [(r.run, r.started, r.ended, r.outcome) for r in job.runs] == [(0, 100.0, 130.0, "requeued")]
    monitor._on_marker(Marker("5", None, "start", 260.0, nodes="csl1", run=1, mtime=260.0), 0.0)
    assert monitor.jobs["5"].state is JobState.RUNNING and monitor.jobs["5"].started == 260.0
    monitor._on_marker(Marker("5", None, "exit", 280.0, exit_code=0, mtime=280.0), 0.0)
    job = monitor.jobs["5"]
    assert job.state is JobState.COMPLETED and job.elapsed == 20
    assert [(r.run, r.outcome) for r in job.runs] == [(0, "requeued"), (1, "exit 0")]
    assert [e["state"] for e in events] == ["RUNNING", "PENDING", "RUNNING", "COMPLETED"]
    assert events[-1]["runs"][1]["started"] == 260.0
