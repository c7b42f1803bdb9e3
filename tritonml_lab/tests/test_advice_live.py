"""Advice while a job runs (advice/live.py) on the real local cluster: one event per job after the
settling time, none after a restart, and the finished job's advice agrees with it."""

import asyncio
import re
import time

import pytest

from tritonml_lab.advice.live import LiveAdvisor

from .test_jobs_api import post_job, wait_done

pytestmark = pytest.mark.usefixtures("slurm_cluster")

ONE_CORE = "import time\nt = time.time()\nwhile time.time() - t < 40:\n    sum(range(10000))\n"


@pytest.fixture
def jp_server_config(jp_server_config):
    tritonml = {**jp_server_config["TritonML"], "advice_live_settle_seconds": 15.0, "advice_min_seconds": 10.0}
    return {**jp_server_config, "TritonML": tritonml}


async def test_a_job_using_one_of_two_cores_is_told_once_and_its_advice_agrees(jp_fetch, jp_serverapp):
    services = jp_serverapp.web_app.settings["tritonml"]
    jobs, monitor = services.jobs, services.monitor
    events = []
    unsubscribe = monitor.subscribe(lambda event, data: events.append(data) if event == "advice" else None)
    try:
        services.advisor.start()  # as the events channel does when a tab connects
        job = await post_job(jp_fetch, name="half-idle", partition="batch-csl", cpus_per_task=2, time="00:05:00",
                             code=ONE_CORE)
        job_id = job["id"]
        deadline = time.monotonic() + 60
        while not [e for e in events if e["id"] == job_id] and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        told = [e for e in events if e["id"] == job_id]
        assert len(told) == 1, (told, monitor.jobs.get(job_id))
        (cpu,) = [f for f in told[0]["findings"] if f["code"] == "cpu"]
        assert cpu["level"] == "red" and cpu["to"] == "1" and cpu["field"] == "cpus_per_task"
        # "about 1", or "about 0.3" where a loaded machine gave the busy loop less of its core.
        assert re.match(r"Used about (1|0\.[0-9]) of 2 requested CPU cores", cpu["text"]), cpu
        assert told[0]["elapsed"] >= 10

        # A restarted server (a new advisor) reads the job's directory and stays quiet.
        fresh = LiveAdvisor(monitor, services.files.path, services.files.spec, services.thresholds)
        assert fresh.check(time.time()) == []

        detail = await wait_done(jp_fetch, job_id, timeout=120)
        assert [e for e in events if e["id"] == job_id] == told  # still exactly one
        after = [a for a in detail["advice"] if a.startswith("Used about")]
        assert after and re.match(r"Used about (1|0\.[0-9]) of 2 requested CPU cores", after[0]), (after, cpu)
        assert after[0].endswith("ask for --cpus-per-task=1.")  # the same advice as while it ran
    finally:
        unsubscribe()
