"""The one submission path (jobs/launcher.py) against the real local cluster."""

import json
import secrets

import pytest

from tritonml_lab.jobs.launcher import UNCERTAIN_FILE, Launcher, SubmissionUncertain
from tritonml_lab.jobs.script import Defaults
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.jobs.store import JobStore
from tritonml_lab.slurm import JobState, SlurmClient, SlurmRejected

from .cluster_control import slurm
from .jobs_root import leftovers

pytestmark = pytest.mark.usefixtures("slurm_cluster")


async def test_a_launch_renders_with_the_admins_defaults_and_links_the_id(jobs_root):
    launcher = Launcher(JobStore(jobs_root), SlurmClient(), Defaults(partition="gpu-debug", time="00:07:00"))
    try:
        launched = await launcher.launch(JobSpec(command="true"))
    finally:
        launcher.close()
    script = launched.job_dir.script_path.read_text()
    assert "#SBATCH --partition=gpu-debug" in script and "#SBATCH --time=00:07:00" in script
    assert (jobs_root / launched.job_id).resolve() == launched.job_dir.path.resolve()
    assert launched.manifest.job_id == launched.job_id
    assert await launcher.state(launched.job_id) in {JobState.PENDING, JobState.RUNNING, JobState.COMPLETED}
    scontrol = slurm("scontrol", "show", "job", launched.job_id)
    assert "Partition=gpu-debug" in scontrol and "TimeLimit=00:07:00" in scontrol


async def test_a_refused_job_leaves_nothing(jobs_root):
    launcher = Launcher(JobStore(jobs_root), SlurmClient())
    with pytest.raises(SlurmRejected):
        await launcher.launch(JobSpec(partition="no-such-partition", command="true"))
    assert leftovers(jobs_root) == []


async def test_a_lost_sbatch_reply_keeps_the_directory_with_a_note(jobs_root):
    """sbatch killed before it answered (a time-out far below its run time): slurmctld may have
    queued the job, so its directory must stay for it, and the error must say so."""
    name = f"lost-reply-{secrets.token_hex(3)}"
    launcher = Launcher(JobStore(jobs_root), SlurmClient(timeout=0.001))
    try:
        with pytest.raises(SubmissionUncertain) as info:
            await launcher.launch(JobSpec(name=name, partition="batch-csl", command="true"))
    finally:
        slurm("scancel", "--name", name)  # if slurmctld took it after all
    kept = info.value.job_dir.path
    assert "may or may not be queued" in info.value.message and str(kept) in info.value.message
    assert leftovers(jobs_root) == [kept]
    note = json.loads((kept / UNCERTAIN_FILE).read_text())
    assert note["spec"]["name"] == name and "did not answer" in note["error"]
    assert (kept / "job.sh").read_text().startswith("#!/bin/bash")
