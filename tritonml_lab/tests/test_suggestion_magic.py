"""%tritonml resubmit ID [--suggested] and %tritonml report on the real local cluster (the kernel side)."""

import time

import pytest
from IPython.core.error import UsageError

pytestmark = pytest.mark.usefixtures("slurm_cluster")

CELL = "import time\nt = time.time()\nwhile time.time() - t < 3:\n    sum(range(10000))\ny = x * 2\n"


def wait_for(shell, magics, job_id, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = magics._ask(magics.launcher.lookup(job_id, queue=False))
        if job is not None and job.state.is_finished:
            return job
        time.sleep(1)
    raise AssertionError(f"job {job_id} did not end")


def test_resubmit_runs_the_same_cell_on_the_same_inputs_with_the_suggested_resources(shell, magics, capsys):
    shell.user_ns["x"] = 21
    line = "%%tritonml submit -p batch-csl -c 2 --mem 2G --time 10:00 --in x --out y --wait"
    assert shell.run_cell(f"{line}\n{CELL}").success
    first = magics.last_job[0]
    assert shell.user_ns.pop("y") == 42
    capsys.readouterr()
    deadline = time.monotonic() + 30
    while True:  # the suggestion needs slurmdbd's record of the end
        shell.run_line_magic("tritonml", f"resubmit {first} --suggested")
        out = capsys.readouterr().out
        if "--cpus-per-task=1 (was 2)" in out or time.monotonic() > deadline:
            break
        second = magics.last_job[0]
        shell.run_line_magic("tritonml", f"cancel {second}")
        time.sleep(2)
    assert "Suggested for a rerun" in out and "--cpus-per-task=1 (was 2)" in out, out
    assert "--mem=256M (was 2G)" in out or "--mem=512M (was 2G)" in out, out
    second = magics.last_job[0]
    assert second != first and f"Resubmitted job {first} as {second}" in out
    assert wait_for(shell, magics, second).state.value == "COMPLETED"
    shell.run_line_magic("tritonml", f"fetch {second}")
    assert shell.user_ns["y"] == 42  # the same cell and the same pickled x
    spec = magics.store.find(second).manifest().spec
    assert spec.cpus_per_task == 1 and spec.mem in ("256M", "512M") and spec.code == CELL

    # Without --suggested: the very same resources.
    shell.run_line_magic("tritonml", f"resubmit {second}")
    third = magics.last_job[0]
    assert magics.store.find(third).manifest().spec == spec
    shell.run_line_magic("tritonml", f"cancel {third}")


def test_resubmit_refuses_what_it_cannot_run_again(shell, magics):
    with pytest.raises(UsageError, match="no job directory"):
        shell.run_line_magic("tritonml", "resubmit 99999999")
    with pytest.raises(UsageError, match="one task of array job 12"):
        shell.run_line_magic("tritonml", "resubmit 12_3")
    with pytest.raises(UsageError, match="not a Slurm job id"):
        shell.run_line_magic("tritonml", "resubmit ../x")


def test_report_prints_my_figures(shell, magics, capsys):
    shell.run_line_magic("tritonml", "report --days 1")
    out = capsys.readouterr().out
    assert out.startswith("Your jobs that ended in the last 1 days:")
    for line in ("CPU core-hours:", "Memory GB-hours:", "Time:"):
        assert line in out, out
    with pytest.raises(UsageError, match="--days"):
        shell.run_line_magic("tritonml", "report --days 0")
