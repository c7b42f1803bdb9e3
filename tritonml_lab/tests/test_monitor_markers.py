"""The monitor's parts that need no scheduler: reading markers, the squeue budget, the sinfo cache."""

import asyncio
import os
import time

import pytest

from tritonml_lab.server.budget import BudgetedCache, SqueueBudget
from tritonml_lab.jobs.markers import MarkerScanner, ended, parse_name, read_marker
from tritonml_lab.jobs.script import Defaults, render_script
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.slurm import JobState


def test_the_script_writes_its_start_marker_first():
    script = render_script(JobSpec(command="echo hi"), Defaults(sampler_python=None), "/jobs/job-1")
    body = [line for line in script.splitlines() if line and not line.startswith("#")]
    assert body[0].endswith("> /jobs/job-1/started.${SLURM_ARRAY_TASK_ID:-job}")
    assert body[0].startswith("printf '%s %s\\n' \"${EPOCHREALTIME:-$(date +%s)}\" \"$SLURM_JOB_NODELIST\"")


def test_marker_names_and_contents(tmp_path):
    assert parse_name("started.job") == ("start", None)
    assert parse_name("exit_code.17") == ("exit", "17")
    assert parse_name("exit_code.x") is None and parse_name("stdout.log") is None
    (tmp_path / "started.3").write_text("1700000000,25 gpu[1-2]\n")  # EPOCHREALTIME in a comma locale
    start = read_marker("10", "started.3", str(tmp_path / "started.3"), 5.0)
    assert (start.job_id, start.kind, start.at, start.nodes) == ("10_3", "start", 1700000000.25, "gpu[1-2]")
    (tmp_path / "exit_code.job").write_text("")  # created by the trap, not yet written
    assert read_marker("10", "exit_code.job", str(tmp_path / "exit_code.job"), 5.0) is None
    (tmp_path / "exit_code.job").write_text("3\n")
    done = read_marker("10", "exit_code.job", str(tmp_path / "exit_code.job"), 7.0)
    assert (done.job_id, done.exit_code, done.at) == ("10", 3, 7.0)


@pytest.mark.parametrize("code,ran,state", [
    (0, 5, JobState.COMPLETED), (3, 5, JobState.FAILED), (143, 30, JobState.CANCELLED), (143, 60, JobState.TIMEOUT),
    (143, 52, JobState.TIMEOUT),  # the start marker written 8 s after Slurm started the clock (a busy node)
])
def test_what_an_exit_code_means(code, ran, state):
    assert ended(code, 1000.0, 1000.0 + ran, time_limit=1)["state"] is state


def test_scanner_reads_each_marker_once_and_lists_a_directory_only_when_it_changed(tmp_path):
    job = tmp_path / "job-a"
    job.mkdir()
    (job / "job.sh").write_text("#!/bin/bash\n")
    scanner = MarkerScanner(str(tmp_path))
    assert scanner.scan({"5": str(job)}) == [] and scanner.new_ids() == []
    (job / "started.job").write_text("1700000000.5 csl1\n")
    (job / "exit_code.job").write_text("")
    found = scanner.scan({"5": str(job)})
    assert [(m.kind, m.nodes) for m in found] == [("start", "csl1")]
    (job / "exit_code.job").write_text("0\n")  # same name, no new file: read again because it was empty
    assert [(m.kind, m.exit_code) for m in scanner.scan({"5": str(job)})] == [("exit", 0)]
    stats = scanner.stats
    assert scanner.scan({"5": str(job)}) == [] and scanner.stats == stats + 1  # one stat, no listing
    os.symlink("job-a", tmp_path / "5")
    assert scanner.new_ids() == ["5"] and scanner.new_ids() == []


def test_scanner_lists_again_after_relist_seconds_though_the_mtime_looks_unchanged(tmp_path):
    """NFS caches directory attributes: a listing (which revalidates them) is made now and then."""
    job = tmp_path / "job-b"
    job.mkdir()
    scanner = MarkerScanner(relist_seconds=0.2)
    scanner.scan({"6": str(job)})
    before = os.stat(job).st_mtime_ns
    (job / "started.job").write_text("1700000000 csl1\n")
    os.utime(job, ns=(before, before))  # as a stale attribute cache would show it
    assert scanner.scan({"6": str(job)}) == []
    time.sleep(0.25)
    assert [m.kind for m in scanner.scan({"6": str(job)})] == ["start"]


def test_squeue_budget():
    budget = SqueueBudget(budget_seconds=60, fresh_seconds=10, min_gap=2, idle_seconds=60)
    assert budget.due_in(0, active=True) == 0  # never asked: now
    budget.polled(100)
    assert budget.due_in(130, active=True) == 30  # on schedule, once a minute
    assert not budget.ask(105, unless_fresh=True)  # a detail opened 5 s after a poll: the cache
    assert budget.due_in(105, active=True) == 55
    assert budget.ask(115, unless_fresh=True)  # 15 s after: at once
    assert budget.due_in(115, active=True) == 0
    budget.polled(116)
    assert budget.ask(116.5)  # a submission right after a poll: after min_gap
    assert budget.due_in(116.5, active=True) == pytest.approx(1.5)
    budget.polled(118)
    assert not budget.asked and budget.due_in(118, active=False) == 60


def test_a_poll_that_started_before_an_ask_does_not_answer_it():
    budget = SqueueBudget(min_gap=2)
    budget.ask(10)
    budget.polled(9)  # started before the submission: the job may be missing from its answer
    assert budget.asked and budget.due_in(10, active=True) == 1


async def test_budgeted_cache_asks_once_per_budget_and_on_a_fresh_request_after_fresh_seconds():
    answers = iter(range(100))

    async def fetch():
        await asyncio.sleep(0.01)
        return next(answers)

    cache = BudgetedCache(fetch, budget_seconds=60, fresh_seconds=0.2)
    assert await asyncio.gather(*(cache.get() for _ in range(20))) == [0] * 20  # one call shared
    assert await cache.get(fresh=True) == 0 and cache.calls == 1  # younger than fresh_seconds
    await asyncio.sleep(0.25)
    assert await cache.get() == 0  # within the budget
    assert await cache.get(fresh=True) == 1 and cache.calls == 2


async def test_budgeted_cache_does_not_keep_errors():
    calls = []

    async def fetch():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("scheduler down")
        return "ok"

    cache = BudgetedCache(fetch)
    with pytest.raises(RuntimeError):
        await cache.get()
    assert await cache.get() == "ok"


def test_the_monitors_directory_lookups_shrink_with_its_jobs(tmp_path):
    """Issue 23 item 10: monitor._dirs (job id -> its directory) only grew, one entry per job the
    server ever watched. It now holds only the jobs the monitor still lists."""
    from tritonml_lab.jobs import JobStore
    from tritonml_lab.server.monitor import JobMonitor
    from tritonml_lab.slurm import Job

    store = JobStore(tmp_path / "jobs")
    monitor = JobMonitor(None, store=store, history=2)  # the default keeps 200; 2 shows the same
    for n in range(1, 6):
        monitor.jobs[str(n)] = Job(id=str(n), state=JobState.RUNNING, submitted=float(n))
    monitor._scan_blocking([str(n) for n in range(1, 6)], set(monitor.jobs))
    assert set(monitor._dirs) == {"1", "2", "3", "4", "5"}
    for n in range(1, 6):  # all ended; the monitor keeps the newest `history` of them
        monitor.jobs[str(n)] = Job(id=str(n), state=JobState.COMPLETED, submitted=float(n))
    monitor._trim()
    assert set(monitor.jobs) == {"4", "5"} and set(monitor._dirs) == {"4", "5"}


@pytest.mark.parametrize("skew", [-5.0, 5.0])
@pytest.mark.parametrize("code,ran,state", [(0, 2, JobState.COMPLETED), (143, 60, JobState.TIMEOUT),
                                            (143, 30, JobState.CANCELLED)])
def test_a_file_server_clock_apart_from_the_nodes(tmp_path, skew, code, ran, state):
    """Issue 23 item 9: the start marker holds the node's clock, a marker's mtime is the file server's.
    With the file server `skew` seconds off, a short job's exit must not be dropped (it was, with the
    server behind by more than 1 s: its end waited for the minute poll), and a job that ran its whole
    limit ends TIMEOUT, one cancelled halfway CANCELLED. The markers are real files, their mtimes set
    with os.utime, read by the monitor's own scanner."""
    from tritonml_lab.jobs import JobStore
    from tritonml_lab.server.monitor import JobMonitor
    from tritonml_lab.slurm import Job

    store = JobStore(tmp_path / "jobs")
    job_dir, manifest = store.prepare(JobSpec(command="true", time="00:01:00"), Defaults(sampler_python=None))
    store.attach(job_dir, manifest, "41")
    node_start = time.time() - 100
    started = job_dir.path / "started.job"
    started.write_text(f"{node_start:.6f} csl1\n")
    os.utime(started, (node_start + skew, node_start + skew))
    exited = job_dir.path / "exit_code.job"
    exited.write_text(f"{code}\n")
    os.utime(exited, (node_start + skew + ran, node_start + skew + ran))

    monitor = JobMonitor(None, store=store)
    monitor.jobs["41"] = Job(id="41", state=JobState.PENDING, time_limit=1, submitted=node_start - 1)
    markers, _new = monitor._scan_blocking(["41"], {"41"})
    assert [m.kind for m in markers] == ["start", "exit"]
    for marker in markers:
        monitor._on_marker(marker, time.monotonic())
    job = monitor.jobs["41"]
    assert job.state is state, (skew, job)
    assert job.started == pytest.approx(node_start) and job.elapsed == ran
    assert job.ended == pytest.approx(node_start + ran)  # on the start's clock: ended - started = ran


async def test_a_hung_job_directory_holds_up_its_own_markers_only(tmp_path):
    """A marker file that blocks every open() (a FIFO nobody writes, as a read from an OST that stopped
    answering) in job 41's directory: job 42's end still shows within a few ticks, at the default tick
    and time-outs. With one scanning thread for every directory (before), 42's end waited for the
    read of 41's marker, which never returned (here: until the test unblocks it)."""
    from tritonml_lab.jobs import JobStore
    from tritonml_lab.server.monitor import JobMonitor
    from tritonml_lab.slurm import Job

    store = JobStore(tmp_path / "jobs")
    dirs = {}
    for job_id in ("41", "42"):
        job_dir, manifest = store.prepare(JobSpec(command="true"), Defaults(sampler_python=None))
        store.attach(job_dir, manifest, job_id)
        dirs[job_id] = job_dir.path
    fifo = dirs["41"] / "started.job"
    os.mkfifo(fifo)
    monitor = JobMonitor(None, store=store)
    now = time.time()
    for job_id in ("41", "42"):
        monitor.jobs[job_id] = Job(id=job_id, state=JobState.PENDING, submitted=now - 60)
    monitor.start()  # its loops idle (nobody listens); the ticks are driven below
    try:
        (dirs["42"] / "started.job").write_text(f"{now - 30:.6f} csl1\n")
        (dirs["42"] / "exit_code.job").write_text("0\n")
        deadline = time.monotonic() + 10 * monitor.marker_tick + 5
        while monitor.jobs["42"].state is not JobState.COMPLETED and time.monotonic() < deadline:
            await monitor._scan_once()
            await asyncio.sleep(monitor.marker_tick)
        assert monitor.jobs["42"].state is JobState.COMPLETED, monitor.jobs["42"]
        assert monitor.jobs["41"].state is JobState.PENDING  # its scan is still out
    finally:
        for _ in range(20):  # the blocked open() returns, with no data (ENXIO: no reader yet)
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                break
            except OSError:
                await asyncio.sleep(0.1)
        for _ in range(50):  # its scan comes back; the next tick collects it
            if not (monitor._stalled or monitor._alone):
                break
            await monitor._scan_once()
            await asyncio.sleep(0.1)
        monitor.close()
