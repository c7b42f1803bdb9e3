"""%tritonml efficiency ID: the figures and advice the jobs API gives, as text, for real jobs on the
local cluster."""

import asyncio
import time

import pytest
from IPython.core.error import UsageError

from tritonml_lab.jobs.store import JobStore
from tritonml_lab.metrics.report import after_the_end, report_lines
from tritonml_lab.metrics.stream import job_summary
from tritonml_lab.slurm import SlurmClient

pytestmark = pytest.mark.usefixtures("slurm_cluster")



def test_help_lists_efficiency(shell):
    assert "%tritonml efficiency ID" in shell.find_line_magic("tritonml").__doc__


def test_efficiency_of_a_finished_job_matches_the_api(shell, magics, jobs_root, capsys):
    code = "import time\nt = time.time()\nwhile time.time() - t < 4:\n    sum(range(1000))\n"
    assert shell.run_cell(f"%%tritonml submit -p batch-csl --mem 4G --time 2:00:00 --wait\n{code}").success
    job_id = magics.last_job[0]
    capsys.readouterr()
    deadline = time.monotonic() + 30
    while True:  # slurmdbd writes the finished record a moment after the end
        shell.run_line_magic("tritonml", f"efficiency {job_id}")
        out = capsys.readouterr().out
        if "try again" not in out or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert out.startswith(f"Job {job_id} (tritonml): COMPLETED"), out
    for figure in ("CPU efficiency:", "CPU cores used:", "Memory peak:", "of 4.0 GB requested", "Time used: 0:00:",
                   "of 2:00:00", "No advice: jobs shorter than 5 min get none", "Suggested for a rerun",
                   "--time=00:05:00 (was 02:00:00)"):
        assert figure in out, (figure, out)
    # The very lines the server's figures give (GET jobs/{id} uses after_the_end too).
    job_dir = JobStore(str(jobs_root)).find(job_id)
    expected = asyncio.run(after_the_end(SlurmClient(), job_id, job_summary(job_dir.path)))
    assert "\n".join(report_lines(expected)) in out


def test_a_job_whose_script_is_ending_is_waited_for(shell, magics, jobs_root, capsys):
    """--wait returns at the exit marker; the script then runs its EXIT trap (it stops the sampler, up
    to 8 s) while Slurm still says RUNNING. Efficiency right after waits for the end (seen in the
    flaky runs: "Job N is RUNNING: its efficiency comes after the end" after --wait said COMPLETED).
    Here the job writes its marker itself, 4 s before its script ends."""
    cell = ('echo 0 > "$(dirname "$TRITONML_LOG_DIR")/exit_code.job"\n'
            'sleep 4\n')
    assert shell.run_cell(f"%%tritonml submit -p batch-csl --time 5:00 --bash\n{cell}").success
    job_id = magics.last_job[0]
    job_dir = JobStore(str(jobs_root)).find(job_id).path
    deadline = time.monotonic() + 60
    while not (job_dir / "exit_code.job").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    capsys.readouterr()
    shell.run_line_magic("tritonml", f"efficiency {job_id}")
    out = capsys.readouterr().out
    assert out.startswith(f"Job {job_id} (tritonml): COMPLETED") or "try again in a few seconds" in out, out
    assert "its efficiency comes after the end" not in out, out


def test_running_and_unknown_jobs_get_a_clear_message(shell, magics, capsys):
    assert shell.run_cell("%%tritonml submit -p batch-csl --time 5:00 --bash\nsleep 60\n").success
    job_id = magics.last_job[0]
    capsys.readouterr()
    try:
        shell.run_line_magic("tritonml", f"efficiency {job_id}")
        out = capsys.readouterr().out
        assert f"Job {job_id} is " in out and "its efficiency comes after the end" in out, out
    finally:
        shell.run_line_magic("tritonml", f"cancel {job_id}")
    with pytest.raises(UsageError, match="Slurm knows no job 99999999"):
        shell.run_line_magic("tritonml", "efficiency 99999999")
    with pytest.raises(UsageError):
        shell.run_line_magic("tritonml", "efficiency ../etc")
