"""The parsers on what the local cluster prints now, whatever Slurm release it runs (22.05 on
Debian 12, 24.11 on Debian 13): the version, the text and JSON cluster summaries agreeing, and the
exit code and signal of a failed and a cancelled job through squeue and sacct."""

import asyncio
import subprocess

import pytest

from tritonml_lab.slurm import JobState, SlurmClient, parse

from .test_slurm_client import script, wait_for

pytestmark = pytest.mark.usefixtures("slurm_cluster")


async def test_the_version_is_read_once_and_known():
    client = SlurmClient()
    version = await client.version()
    printed = subprocess.run(["sinfo", "--version"], capture_output=True, text=True, check=True).stdout
    assert version.release and version.release in printed and version.known, printed
    assert await client.version() is version


async def test_text_and_json_summaries_of_the_live_cluster_agree():
    """The live summary (sinfo --Format) against `sinfo --json` of this release; free counts move
    with other tests' jobs, what is configured does not."""
    client = SlurmClient()
    text = await client.cluster_summary()
    nodes = subprocess.run(["sinfo", "--json"], capture_output=True, text=True, check=True).stdout
    json_ = parse.cluster_summary_json(nodes, cluster=text.cluster)
    assert text.slurm_version == (await client.version()).release

    def configured(summary):
        return sorted((p.name, p.nodes, p.node_count, p.cpus_total, [(g.type, g.total) for g in p.gpus])
                      for p in summary.partitions)

    assert configured(text) == configured(json_) and len(text.partitions) >= 5
    assert [(g.type, g.total) for g in text.gpus] == [(g.type, g.total) for g in json_.gpus]
    assert text.gpus_total == json_.gpus_total == 4


async def test_a_gpu_job_that_exits_3_is_failed_with_exit_code_3(tmp_path):
    client = SlurmClient()
    job_id = await client.submit(script(tmp_path / "fail.sh", "exit 3\n"), options=[
        "--partition=gpu-debug", "--gpus=1", "--time=1", f"--output={tmp_path}/out.txt"])
    assert await wait_for(client, job_id) is JobState.FAILED
    queued = {job.id: job for job in await client.my_jobs()}.get(job_id)
    if queued is not None:  # still within MinJobAge
        assert (queued.state, queued.exit_code, queued.signal) == (JobState.FAILED, 3, None)
        assert queued.gpu_count == 1
    accounted = await _accounted(client, job_id)
    assert accounted.state is JobState.FAILED and accounted.signal is None and accounted.gpu_count == 1
    # 22.05's sacct --json reports every normal exit as 0: the parser leaves it empty there.
    assert accounted.exit_code == (None if (await client.version()).major == 22 else 3)


async def test_a_cancelled_job_is_cancelled_with_its_signal(tmp_path):
    # exec: the signal reaches one process. With a shell waiting on its sleep, Slurm signals both,
    # and when the sleep dies first the shell exits 143 by itself (a loaded machine showed it).
    client = SlurmClient()
    job_id = await client.submit(script(tmp_path / "sleep.sh", "exec sleep 120\n"), options=[
        "--partition=batch-csl", "--time=2", f"--output={tmp_path}/out.txt"])
    for _ in range(100):  # cancelled while running, so that the batch step gets the signal
        if {job.id: job for job in await client.my_jobs()}[job_id].state is JobState.RUNNING:
            break
        await asyncio.sleep(0.3)
    await asyncio.sleep(1)
    await client.cancel(job_id)
    assert await wait_for(client, job_id) is JobState.CANCELLED
    queued = {job.id: job for job in await client.my_jobs()}.get(job_id)
    if queued is not None:
        assert (queued.state, queued.exit_code, queued.signal, queued.signal_name) == (
            JobState.CANCELLED, None, 15, "SIGTERM")
    for _ in range(40):  # the batch step's record may follow the job's
        accounted = await _accounted(client, job_id)
        if accounted.signal is not None:
            break
        await asyncio.sleep(0.5)
    assert (accounted.state, accounted.exit_code, accounted.signal, accounted.signal_name) == (
        JobState.CANCELLED, None, 15, "SIGTERM")


async def _accounted(client: SlurmClient, job_id: str):
    for _ in range(40):  # slurmdbd writes the full record a moment after slurmctld has the state
        record = {job.id: job for job in await client.accounting([job_id])}.get(job_id)
        if record is not None and record.state.is_finished and record.partition:
            return record
        await asyncio.sleep(0.5)
    raise AssertionError(f"sacct has no finished record of job {job_id}")
