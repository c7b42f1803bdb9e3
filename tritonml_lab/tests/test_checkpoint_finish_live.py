"""A long job's cell that finishes its work after the time-limit warning has finished (issue 23): its
--out comes back and the job is COMPLETED, against the real cluster, at the product's own settings.

How a cell says which it is (docs/user-guide.md, "Train for days"): a cell that returns has finished;
only ``tritonml.requeue()`` (or exit status 99) means "I stopped for the time limit, bring me back".
The other side, a cell that checkpoints and calls requeue(), is test_checkpoint_live.py's.
"""

import asyncio

import pytest

from tritonml_lab.jobs.markers import run_history
from tritonml_lab.slurm import SlurmClient

from .test_checkpoint_live import final_state

pytestmark = pytest.mark.usefixtures("slurm_cluster")

# The cell works 40 s: the warning (90 s before a 2-minute limit) comes after 30 s, so the cell
# returns after it, with its one restart still left.
CELL = """
import time
started = time.time()
time.sleep(40)
x = {"work": "done", "warned_before_the_end": tritonml.should_checkpoint(), "restarts": tritonml.restarts(),
     "left": tritonml.time_left()}
print("finished after", round(time.time() - started), "s with", round(tritonml.time_left()), "s left", flush=True)
"""


def test_a_cell_that_finishes_after_the_warning_gets_its_out_back_and_completes(shell, magics):
    shell.user_ns.pop("x", None)
    result = shell.run_cell("%%tritonml submit --partition batch-csl --time 00:02:00 --warn 90s --requeue 1 --out x\n"
                            + CELL)
    assert result.success, result.error_in_exec
    job_id, _widget = magics.last_job
    job_dir = magics.store.find(job_id).path
    try:
        magics.wait(job_id, stream=False)  # raises JobFailed unless COMPLETED; loads --out
        job = final_state(job_id)
    finally:
        asyncio.run(SlurmClient().cancel(job_id))  # nothing left running if it failed
    x = shell.user_ns["x"]
    assert x["work"] == "done" and x["warned_before_the_end"] is True and x["restarts"] == 0, x
    assert job.state.value == "COMPLETED"
    # One run, ended by the cell: not requeued, no restart used, nothing about the time limit.
    assert [r.outcome for r in run_history(str(job_dir))] == ["exit 0"]
    assert (job_dir / "outputs.pkl").exists()
    assert "time limit" not in (job_dir / "stderr.log").read_text()
    assert "finished after 40 s" in (job_dir / "stdout.log").read_text()
