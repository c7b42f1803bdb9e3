"""The Slurm layer against the real local cluster: submit, list, account, cancel, errors."""

import asyncio
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tritonml_lab.slurm import JobState, SlurmClient, SlurmRejected
from tritonml_lab.slurm.errors import SchedulerUnavailable, SlurmCommandMissing

pytestmark = pytest.mark.usefixtures("slurm_cluster")
REPO = Path(__file__).resolve().parents[2]


async def wait_for(client: SlurmClient, job_id: str, timeout: float = 60) -> JobState:
    """Poll until the job has left squeue's active states; return its final state from sacct."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = {job.id: job for job in await client.my_jobs()}
        if job_id in jobs and jobs[job_id].state.is_finished:
            return jobs[job_id].state
        if job_id not in jobs:
            break
        await asyncio.sleep(0.3)
    for _ in range(20):  # slurmdbd may lag slurmctld by a moment
        accounted = {job.id: job for job in await client.accounting([job_id])}
        if job_id in accounted and accounted[job_id].state.is_finished:
            return accounted[job_id].state
        await asyncio.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s")


def script(path: Path, body: str) -> str:
    path.write_text("#!/bin/bash\n" + textwrap.dedent(body))
    return str(path)


async def test_submit_list_account_and_cancel(tmp_path):
    client = SlurmClient()
    job_id = await client.submit(
        script(tmp_path / "gpu.sh", "echo hello from $SLURM_JOB_ID\nsleep 30\n"),
        options=["--job-name=tml-test-gpu", "--partition=gpu-h100-80g", "--gpus=h100:1",
                 f"--output={tmp_path}/out.txt", "--time=00:05:00"],
        cwd=str(tmp_path),
    )
    assert job_id.isdigit()
    mine = {job.id: job for job in await client.my_jobs()}
    assert mine[job_id].name == "tml-test-gpu"
    assert mine[job_id].partition == "gpu-h100-80g"
    assert mine[job_id].gpus == "h100:1"
    assert mine[job_id].state in (JobState.PENDING, JobState.RUNNING, JobState.CONFIGURING)

    await client.cancel(job_id)
    assert await wait_for(client, job_id) is JobState.CANCELLED
    await client.cancel(job_id)  # idempotent: cancelling an ended job is fine

    # slurmdbd writes the full record a moment after slurmctld has the state.
    for _ in range(40):
        record = {job.id: job for job in await client.accounting([job_id])}.get(job_id)
        if record is not None and record.partition:
            break
        await asyncio.sleep(0.25)
    assert record is not None and record.state is JobState.CANCELLED
    assert record.name == "tml-test-gpu" and record.partition == "gpu-h100-80g"
    assert record.gpus  # gres/gpu requested (and allocated if it started) is accounted


async def test_failed_job_reports_its_exit_code(tmp_path):
    client = SlurmClient()
    job_id = await client.submit(
        script(tmp_path / "fail.sh", "exit 3\n"),
        options=["--partition=batch-csl", f"--output={tmp_path}/out.txt"],
    )
    assert await wait_for(client, job_id) is JobState.FAILED
    jobs = {job.id: job for job in await client.my_jobs()}
    if job_id in jobs:  # still within MinJobAge: squeue reports it with its exit code
        assert jobs[job_id].exit_code == 3


async def test_slurm_rejection_carries_slurms_message(tmp_path):
    client = SlurmClient()
    with pytest.raises(SlurmRejected) as info:
        await client.submit(script(tmp_path / "x.sh", "true\n"), options=["--partition=no-such-partition"])
    assert "Invalid partition name specified" in info.value.message
    with pytest.raises(SlurmRejected) as info:
        await client.submit(script(tmp_path / "y.sh", "true\n"), options=["--partition=gpu-debug", "--time=02:00:00"])
    assert "time limit" in info.value.message.lower()


def test_blocking_submit_gives_the_same_answers_and_errors(tmp_path, monkeypatch):
    """submit_blocking (the API's one-thread submission) behaves like submit: id, Slurm's own
    rejection, a clear error for a missing command, a time-out that kills sbatch."""
    client = SlurmClient()
    job_id = client.submit_blocking(script(tmp_path / "ok.sh", "true\n"),
                                    options=["--partition=batch-csl", "--time=1", f"--output={tmp_path}/o-%j"])
    assert job_id.isdigit()
    # The script as text on sbatch's stdin, with other work done while sbatch waits for slurmctld.
    calls = []
    from_stdin = client.submit_blocking(script=f"#!/bin/bash\n#SBATCH --output={tmp_path}/stdin-%j.out\necho via-stdin\n",
                                        options=["--partition=batch-csl", "--time=1"], meanwhile=lambda: calls.append(1))
    assert from_stdin.isdigit() and calls == [1]
    with pytest.raises(ValueError):
        client.submit_blocking(str(tmp_path / "ok.sh"), script="true")
    with pytest.raises(SlurmRejected) as info:
        client.submit_blocking(script(tmp_path / "x.sh", "true\n"), options=["--partition=no-such-partition"])
    assert "Invalid partition name specified" in info.value.message
    with pytest.raises(SlurmCommandMissing) as missing:
        SlurmClient(bin_dir=str(tmp_path)).submit_blocking(str(tmp_path / "ok.sh"))
    assert "not installed" in missing.value.message
    slow = tmp_path / "bin"
    slow.mkdir()
    (slow / "sbatch").write_text("#!/bin/sh\nsleep 30\n")
    (slow / "sbatch").chmod(0o755)
    t0 = time.monotonic()
    with pytest.raises(SchedulerUnavailable) as late:
        SlurmClient(bin_dir=str(slow), timeout=0.5).submit_blocking(str(tmp_path / "ok.sh"))
    assert time.monotonic() - t0 < 5 and "did not answer within 0.5 s" in late.value.message
    assert (await_file(tmp_path / f"stdin-{from_stdin}.out")).strip() == "via-stdin"


def await_file(path: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text()
        time.sleep(0.3)
    raise AssertionError(f"{path} was not written in {timeout} s")


async def test_big_answers_are_parsed_off_the_event_loop_with_the_same_result(monkeypatch):
    """A long sacct history (recorded real output, its jobs repeated past 64 KiB) parses in a worker
    thread, to the same jobs as a direct parse."""
    import json
    import threading

    from tritonml_lab.slurm import client as client_mod, parse

    doc = json.loads((Path(__file__).parent / "data" / "slurm-22.05" / "sacct.json").read_text())
    doc["jobs"] = doc["jobs"] * (1 + 64 * 1024 // max(1, len(json.dumps(doc["jobs"]))))
    big = json.dumps(doc)
    assert len(big) > client_mod._BIG_OUTPUT
    threads = []

    def spy(text):
        threads.append(threading.current_thread())
        return parse.sacct_json(text)

    assert await client_mod._parsed(spy, big) == parse.sacct_json(big)
    assert threads[0] is not threading.main_thread()
    await client_mod._parsed(spy, json.dumps({"jobs": []}))
    assert threads[1] is threading.main_thread()  # small answers: no hop


async def test_expected_start_of_a_pending_job(tmp_path):
    client = SlurmClient()
    # Ask for more h100s than exist together with the running ones: it must wait.
    blockers = [
        await client.submit(script(tmp_path / f"b{i}.sh", "sleep 60\n"),
                            options=["--partition=gpu-h100-80g", "--gpus=h100:2", "--time=00:10:00",
                                     f"--output={tmp_path}/b{i}.out"])
        for i in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        starts: dict[str, float] = {}
        while time.monotonic() < deadline and blockers[1] not in starts:
            starts = await client.expected_starts()
            await asyncio.sleep(1)
        assert blockers[1] in starts, "backfill should estimate a start for the waiting job"
        assert starts[blockers[1]] > time.time() - 5
        waiting = {job.id: job for job in await client.my_jobs()}[blockers[1]]
        assert waiting.state is JobState.PENDING and waiting.reason in {"Resources", "Priority"}
    finally:
        for job_id in blockers:
            await client.cancel(job_id)


async def test_submission_from_inside_a_job_does_not_inherit_its_variables(tmp_path):
    """As from Open OnDemand: the Jupyter server is itself a Slurm job with SLURM_*/SBATCH_* set."""
    child_env = tmp_path / "child.env"
    child_script = script(tmp_path / "child.sh", f"env | sort > {child_env}\n")
    submit_py = tmp_path / "submit.py"
    submit_py.write_text(textwrap.dedent(f"""
        import asyncio, sys
        sys.path.insert(0, {str(REPO)!r})
        from tritonml_lab.slurm import SlurmClient
        job_id = asyncio.run(SlurmClient().submit({child_script!r},
                             options=["--partition=batch-csl", "--output={tmp_path}/child.out"]))
        open({str(tmp_path / 'child.id')!r}, "w").write(job_id)
    """))
    parent = script(
        tmp_path / "parent.sh",
        f"""
        # What an Open OnDemand Jupyter job has in its environment, plus a leaky SBATCH default.
        export SBATCH_JOB_NAME=leaked-from-parent
        echo $SLURM_JOB_ID > {tmp_path}/parent.id
        {sys.executable} {submit_py}
        """,
    )
    client = SlurmClient()
    parent_id = await client.submit(
        parent, options=["--partition=interactive", "--mem=1500M", f"--output={tmp_path}/parent.out"]
    )
    assert await wait_for(client, parent_id) is JobState.COMPLETED, (tmp_path / "parent.out").read_text()
    child_id = (tmp_path / "child.id").read_text().strip()
    assert child_id != parent_id
    assert await wait_for(client, child_id) is JobState.COMPLETED

    env = dict(line.split("=", 1) for line in child_env.read_text().splitlines() if "=" in line)
    assert env["SLURM_JOB_ID"] == child_id
    assert parent_id not in {value for key, value in env.items() if key.startswith("SLURM_")}
    assert "SBATCH_JOB_NAME" not in env
    assert env["SLURM_JOB_NAME"] != "leaked-from-parent"
    assert env["SLURM_JOB_PARTITION"] == "batch-csl"
    # The parent's --mem=1500M must not become the child's memory (default is 1000M per CPU).
    assert env.get("SLURM_MEM_PER_NODE") != "1500"
    assert os.environ.get("SLURM_CONF") is None or env.get("SLURM_CONF") == os.environ["SLURM_CONF"]
