"""The one submission path (jobs/launcher.py) against the real local cluster."""

import asyncio
import json
import os
import secrets
import signal
import time

import pytest

from tritonml_lab.jobs.launcher import GRACE_SECONDS, NEVER_QUEUED_FILE, UNCERTAIN_FILE, Launcher, SubmissionUncertain
from tritonml_lab.jobs.script import Defaults
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.jobs.store import JobStore
from tritonml_lab.slurm import JobState, SlurmClient, SlurmRejected

from .cluster_control import daemon_pid, slurm
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
    try:
        with pytest.raises(SlurmRejected):
            await launcher.launch(JobSpec(partition="no-such-partition", command="true"))
    finally:
        launcher.close()
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
        launcher.close()
    kept = info.value.job_dir.path
    assert "may or may not be queued" in info.value.message and str(kept) in info.value.message
    assert leftovers(jobs_root) == [kept]
    note = json.loads((kept / UNCERTAIN_FILE).read_text())
    assert note["spec"]["name"] == name and "did not answer" in note["error"]
    assert (kept / "job.sh").read_text().startswith("#!/bin/bash")


@pytest.fixture
def paused_slurmctld():
    """slurmctld stopped with SIGSTOP: it accepts connections but answers nothing until SIGCONT."""
    pid = daemon_pid("slurmctld")
    os.kill(pid, signal.SIGSTOP)
    resumed = []

    def resume():
        if not resumed:
            os.kill(pid, signal.SIGCONT)
            resumed.append(True)

    yield resume
    resume()


async def test_a_job_queued_after_sbatch_gave_up_is_attached_not_lost(jobs_root, paused_slurmctld):
    """sbatch times out while slurmctld is paused; slurmctld then reads the request and queues the job.
    The submission said "may or may not be queued" and kept the directory; reconcile finds the job
    by the token in its --comment and attaches it: one job, with its directory, nothing duplicated."""
    name = f"paused-{secrets.token_hex(3)}"
    store = JobStore(jobs_root)
    launcher = Launcher(store, SlurmClient(timeout=2))
    try:
        with pytest.raises(SubmissionUncertain):
            await launcher.launch(JobSpec(name=name, partition="batch-csl", command="sleep 30"))
        assert [d.path.name for d in store.submitting_dirs()] == [p.name for p in leftovers(jobs_root)]
        paused_slurmctld()
        for _ in range(40):  # slurmctld works through what waited in its socket
            if slurm("squeue", "--me", "--noheader", "--name", name, "--format=%i").strip():
                break
            await asyncio.sleep(0.5)
        queued = slurm("squeue", "--me", "--noheader", "--name", name, "--format=%i").split()
        counts = await launcher.reconcile()
    finally:
        slurm("scancel", "--name", name)
        launcher.close()
    assert len(queued) == 1 and counts == {"attached": 1, "kept": 0, "pending": 0}
    job_dir = store.find(queued[0])
    assert job_dir is not None and job_dir.manifest().job_id == queued[0]
    assert not (job_dir.path / UNCERTAIN_FILE).exists() and store.submitting_dirs() == []


async def test_reconcile_keeps_an_old_submission_slurm_never_queued_with_a_note(jobs_root):
    """A server killed between recording the intent and sbatch: neither the queue nor accounting has
    its token. Once the grace time is over it is settled, but its directory stays, with a note; a fresh
    one is left for a later pass; one whose job left markers ran, so it is never called unsubmitted."""
    store = JobStore(jobs_root)
    launcher = Launcher(store, SlurmClient())
    old, fresh, ran = (store.prepare(JobSpec(command="true"), Defaults()) for _ in range(3))
    for (job_dir, manifest), age in ((old, GRACE_SECONDS + 60), (fresh, 0), (ran, GRACE_SECONDS + 60)):
        store.record_intent(job_dir, manifest.model_copy(update={"token": secrets.token_hex(8),
                                                                 "submitted_at": time.time() - age}))
    (ran[0].path / "started.job").write_text("1700000000.5 csl1\n")
    (ran[0].path / "exit_code.job").write_text("0\n")
    try:
        assert await launcher.reconcile() == {"attached": 0, "kept": 2, "pending": 1}
    finally:
        launcher.close()
    assert leftovers(jobs_root) == sorted([old[0].path, fresh[0].path, ran[0].path])  # nothing deleted
    assert [d.path for d in store.submitting_dirs()] == [fresh[0].path]
    assert "never queued" in json.loads((old[0].path / NEVER_QUEUED_FILE).read_text())["why"]
    assert not (ran[0].path / NEVER_QUEUED_FILE).exists()
    assert "the job ran" in json.loads((ran[0].path / UNCERTAIN_FILE).read_text())["error"]
    assert (ran[0].path / "exit_code.job").exists()


async def test_reconcile_decides_nothing_while_slurm_cannot_be_asked(jobs_root):
    """sacct or squeue not answering: an old submission is neither attached nor settled."""
    store = JobStore(jobs_root)
    launcher = Launcher(store, SlurmClient(bin_dir=str(jobs_root / "no-such-bin")))
    job_dir, manifest = store.prepare(JobSpec(command="true"), Defaults())
    store.record_intent(job_dir, manifest.model_copy(update={"token": secrets.token_hex(8),
                                                             "submitted_at": time.time() - 2 * GRACE_SECONDS}))
    try:
        assert await launcher.reconcile() == {"attached": 0, "kept": 0, "pending": 1}
    finally:
        launcher.close()
    assert [d.path for d in store.submitting_dirs()] == [job_dir.path]
    assert sorted(p.name for p in job_dir.path.iterdir() if p.suffix == ".json") == ["manifest.json"]
