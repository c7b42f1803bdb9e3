"""The job monitor against the real local cluster: starts and ends arrive through the job's markers
without asking squeue; jobs submitted with plain sbatch still show up by the slow poll."""

import asyncio
import contextlib
import time

import pytest

from tritonml_lab.jobs import Defaults, JobSpec, JobStore
from tritonml_lab.server.monitor import JobMonitor
from tritonml_lab.jobs.launcher import Launcher
from tritonml_lab.slurm import JobState, SlurmClient

from .cluster_control import slurm

pytestmark = pytest.mark.usefixtures("slurm_cluster")


class Recorder:
    """A push-channel listener: every job event, with when it arrived."""

    def __init__(self, monitor: JobMonitor) -> None:
        self.events: list[tuple[float, dict]] = []
        self.removed: list[str] = []
        self.unsubscribe = monitor.subscribe(self)

    def __call__(self, event: str, data: dict) -> None:
        if event == "job":
            self.events.append((time.time(), data))
        elif event == "job-removed":
            self.removed.append(data["id"])

    def states(self, job_id: str) -> list[str]:
        return [data["state"] for _at, data in self.events if data["id"] == job_id]

    async def wait_for(self, job_id: str, state: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _at, data in self.events:
                if data["id"] == job_id and data["state"] == state:
                    return data
            await asyncio.sleep(0.05)
        raise AssertionError(f"{job_id} never {state}; saw {self.states(job_id)}")

    async def wait_for_any(self, job_id: str, timeout: float = 60) -> dict:
        """The first event of the job, whatever its state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _at, data in self.events:
                if data["id"] == job_id:
                    return data
            await asyncio.sleep(0.05)
        raise AssertionError(f"{job_id} never showed up")


@contextlib.asynccontextmanager
async def watching(jobs_root):
    """A monitor over a fresh jobs root, a launcher into it, and a listener (so that the monitor is
    interested), as the server builds them."""
    client = SlurmClient(timeout=30)
    store = JobStore(jobs_root)
    monitor = JobMonitor(client, store=store, squeue_budget_seconds=60, fast=0.5)
    launcher = Launcher(store, client, Defaults(sampler_python=None))
    recorder = Recorder(monitor)
    try:
        await monitor.snapshot()
        yield monitor, launcher, recorder
    finally:
        recorder.unsubscribe()
        await monitor.stop()
        launcher.close()


async def submit(monitor, launcher, *, held: bool = False, **spec) -> str:
    spec = {"partition": "batch-csl", "time": "00:05:00", **spec}
    job_id = (await launcher.launch(JobSpec(**spec), options=["--hold"] if held else [])).job_id
    monitor.poke(submitted=True)
    return job_id


async def settled(monitor, job_id: str, timeout: float = 10) -> int:
    """Wait until the squeue after the submission has seen the job and no squeue asked for is still
    to come (two submissions in a row may each ask for one); the poll count then."""
    deadline = time.monotonic() + timeout

    def quiet() -> bool:  # seen, nothing asked for, and no squeue in flight (it counts when it returns)
        return job_id in monitor.jobs and not monitor.budget.asked and monitor._inflight is None

    while not quiet():
        assert time.monotonic() < deadline, f"job {job_id} seen: {job_id in monitor.jobs}, asked: {monitor.budget.asked}"
        await asyncio.sleep(0.05)
    return monitor.polls


async def test_start_and_end_arrive_through_the_markers_without_squeue(jobs_root):
    async with watching(jobs_root) as (monitor, launcher, recorder):
        # Held until squeue has seen it pending, so that its start can only come from the marker.
        job_id = await submit(monitor, launcher, command="sleep 3", held=True)
        polls = await settled(monitor, job_id)
        assert monitor.jobs[job_id].state is JobState.PENDING
        slurm("scontrol", "release", job_id)
        running = await recorder.wait_for(job_id, "RUNNING")
        done = await recorder.wait_for(job_id, "COMPLETED")
        assert monitor.polls == polls, "squeue was asked between the submission and the end"
        assert running["nodes"] == "csl1" and running["started"] is not None
        assert done["exit_code"] == 0 and done["ended"] >= running["started"]
        # sacct (slurmdbd, not slurmctld) confirms the end once.
        deadline = time.monotonic() + 30
        while monitor.confirms == 0 or job_id in monitor._confirm:
            assert time.monotonic() < deadline, "sacct never confirmed the end"
            await asyncio.sleep(0.2)
        assert monitor.jobs[job_id].state is JobState.COMPLETED and monitor.polls == polls


async def test_failure_and_a_cancel_from_elsewhere_arrive_through_the_markers(jobs_root):
    async with watching(jobs_root) as (monitor, launcher, recorder):
        failing = await submit(monitor, launcher, script="echo no >&2\nexit 3\n", held=True)
        sleeper = await submit(monitor, launcher, command="sleep 300", held=True)
        polls = max(await settled(monitor, failing), await settled(monitor, sleeper))
        slurm("scontrol", "release", f"{failing},{sleeper}")
        failed = await recorder.wait_for(failing, "FAILED")
        assert failed["exit_code"] == 3
        await recorder.wait_for(sleeper, "RUNNING")
        slurm("scancel", sleeper)  # not through the server: only the marker tells
        cancelled = await recorder.wait_for(sleeper, "CANCELLED", timeout=30)
        assert cancelled["signal"] == 15
        assert monitor.polls == polls


async def test_a_pending_job_cancelled_through_us_shows_at_once_and_sacct_confirms(jobs_root):
    async with watching(jobs_root) as (monitor, launcher, recorder):
        job_id = await submit(monitor, launcher, command="sleep 300", held=True)
        polls = await settled(monitor, job_id)
        await monitor.slurm.cancel(job_id)
        monitor.cancelled(job_id)  # what JobService.cancel calls once scancel returned
        assert recorder.states(job_id)[-1] == "CANCELLED"
        deadline = time.monotonic() + 30
        while job_id in monitor._confirm:
            assert time.monotonic() < deadline, "sacct never confirmed the cancel"
            await asyncio.sleep(0.2)
        assert monitor.jobs[job_id].state is JobState.CANCELLED and monitor.polls == polls


async def test_a_plain_sbatch_job_shows_up_within_the_slow_interval(jobs_root):
    client = SlurmClient(timeout=30)
    monitor = JobMonitor(client, store=JobStore(jobs_root), squeue_budget_seconds=5, slow=5, fast=0.5)
    recorder = Recorder(monitor)
    job_id = None
    try:
        await monitor.snapshot()
        polls = monitor.polls
        job_id = slurm("sbatch", "--parsable", "-p", "batch-csl", "-t", "1", f"--output={jobs_root}/plain-%j.out",
                       "--wrap", "sleep 8").strip()
        # Within the slow interval (5 s here): the bound allows for a loaded 2-core CI machine, since
        # this test checks that it shows up without a marker, not how fast (benchmarks/site_load.py).
        await recorder.wait_for_any(job_id, timeout=20)
        # It runs once csl1 has a free CPU: the other tests' jobs share its 8 (some sleep out a
        # one-minute limit), so it may stay pending a while; squeue (every 5 s) tells when it runs.
        await recorder.wait_for(job_id, "RUNNING", timeout=150)
        await recorder.wait_for(job_id, "COMPLETED", timeout=45)  # squeue, then sacct once it left
        assert monitor.polls > polls
    finally:
        recorder.unsubscribe()
        await monitor.stop()
        if job_id is not None:
            slurm("scancel", job_id)  # ended already, unless the test failed: never left queued


async def test_nobody_listening_costs_nothing(jobs_root):
    monitor = JobMonitor(SlurmClient(timeout=30), store=JobStore(jobs_root), squeue_budget_seconds=1, slow=1,
                         fast=0.2, idle_after=0.5)
    try:
        await monitor.snapshot()
        await asyncio.sleep(1.5)  # idle_after passes: nobody asked since
        polls, stats = monitor.polls, monitor.scanner.stats
        await asyncio.sleep(2.5)
        assert monitor.interval() is None
        assert (monitor.polls, monitor.scanner.stats) == (polls, stats)
    finally:
        await monitor.stop()


@contextlib.asynccontextmanager
async def watching_at_defaults(jobs_root):
    """As :func:`watching`, with the monitor at the product's default intervals."""
    client = SlurmClient(timeout=30)
    store = JobStore(jobs_root)
    monitor = JobMonitor(client, store=store)
    launcher = Launcher(store, client, Defaults(sampler_python=None))
    recorder = Recorder(monitor)
    try:
        await monitor.snapshot()
        yield monitor, launcher, recorder
    finally:
        recorder.unsubscribe()
        await monitor.stop()
        launcher.close()


async def until(check, timeout: float = 60.0, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(every)


@pytest.mark.parametrize("outcome", ["ran", "cancelled"])
async def test_a_pending_arrays_record_does_not_stay_pending(jobs_root, outcome):
    """Issue 23 item 7: squeue lists a pending array as one record under the array's id ("0-1"); once
    its tasks are split off (they run) or the array is cancelled, that record leaves squeue, and sacct
    never answers under the array's id for tasks that ran. The record must not stay PENDING."""
    async with watching_at_defaults(jobs_root) as (monitor, launcher, recorder):
        base = await submit(monitor, launcher, command="sleep 1", array="0-1", held=True)
        await until(lambda: base in monitor.jobs, timeout=20)
        assert monitor.jobs[base].state is JobState.PENDING and monitor.jobs[base].array_task_id == "0-1"
        if outcome == "ran":
            slurm("scontrol", "release", base)
            for task in ("0", "1"):
                await recorder.wait_for(f"{base}_{task}", "COMPLETED", timeout=60)
        else:
            slurm("scancel", base)  # from elsewhere: only squeue and sacct tell
        # The next scheduled poll (squeue, then sacct for what left it); slurmdbd may lag a moment.
        deadline = time.monotonic() + 30
        while True:
            await monitor.refresh()
            record = monitor.jobs.get(base)
            if record is None or not record.state.is_active:
                break
            assert time.monotonic() < deadline, f"the array's record stays {record.state.value}"
            await asyncio.sleep(2)
        if outcome == "ran":
            assert record is None, f"the array's record is still listed: {record}"
            assert recorder.removed == [base]  # open tabs drop its row too
            assert {monitor.jobs[f"{base}_{t}"].state for t in ("0", "1")} == {JobState.COMPLETED}
        else:
            assert record is not None and record.state is JobState.CANCELLED
