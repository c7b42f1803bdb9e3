"""My efficiency report (advice/usage.py) over real jobs of the local cluster: the figures, the
changes that would save the most, and exactly ONE sacct call (counted by a wrapper in front of the
real sacct), cached."""

import asyncio
import json
import shutil
import time
import uuid

import pytest

from tritonml_lab.advice.usage import UsageReports, build_report, report_lines
from tritonml_lab.slurm import SlurmClient

from .test_jobs_api import post_job, wait_done

pytestmark = pytest.mark.usefixtures("slurm_cluster")

LOAD = ("import time\nblock = bytearray(100 * 1024 * 1024)\nfor i in range(0, len(block), 4096):\n    block[i] = 1\n"
        "t = time.time()\nwhile time.time() - t < 8:\n    sum(range(10000))\n")


@pytest.fixture
def counting_sacct(tmp_path):
    """A directory whose sacct appends a line to a file, then execs the real sacct."""
    real = shutil.which("sacct")
    assert real, "sacct not on PATH"
    bin_dir, calls = tmp_path / "bin", tmp_path / "sacct-calls"
    bin_dir.mkdir()
    wrapper = bin_dir / "sacct"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return str(bin_dir), calls


async def test_report_of_my_last_jobs_with_one_sacct_call(jp_fetch, counting_sacct):
    name = f"report-{uuid.uuid4().hex[:6]}"
    jobs = [await post_job(jp_fetch, name=name, partition="batch-csl", cpus_per_task=2, mem="2G",
                           time="00:30:00", code=LOAD) for _ in range(2)]
    for job in jobs:
        assert (await wait_done(jp_fetch, job["id"], timeout=120))["state"] == "COMPLETED"
    bin_dir, calls = counting_sacct
    reports = UsageReports(SlurmClient(bin_dir=bin_dir), cache_seconds=60)
    seen = {}
    real = reports.slurm.efficiency_between

    async def keep(*args):
        seen.update(await real(*args))
        return seen

    reports.slurm.efficiency_between = keep
    first, second = await asyncio.gather(reports.get(1), reports.get(1))  # concurrent: one call
    third = await reports.get(1)  # cached
    assert first is second is third
    lines = calls.read_text().splitlines()
    assert len(lines) == 1 and reports.calls == 1, lines
    assert "--starttime" in lines[0] and "--endtime" in lines[0] and "--user" in lines[0]

    assert {job["id"] for job in jobs} <= set(seen)
    assert first.jobs >= 2 and first.cpu_hours_allocated > 0 and first.memory_gb_hours_requested > 0
    assert first.cpu_hours_used <= first.cpu_hours_allocated
    # The test's own jobs alone (from that same answer): both over-asked cores, memory and time.
    mine = build_report({job["id"]: seen[job["id"]] for job in jobs}, 1, first.since, first.until)
    assert mine.jobs == 2 and mine.over_memory_jobs == 2 and mine.over_time_jobs == 2
    ((e1, e2)) = (seen[jobs[0]["id"]], seen[jobs[1]["id"]])
    expected_cpu = (e1["cpus"] * e1["elapsed_seconds"] + e2["cpus"] * e2["elapsed_seconds"]) / 3600
    assert mine.cpu_hours_allocated == pytest.approx(expected_cpu, abs=0.01)
    fields = {s.field: s for s in mine.top}
    assert set(fields) == {"cpus_per_task", "mem", "time"}
    cpus = fields["cpus_per_task"]
    assert cpus.to == "1" and cpus.was == "2" and cpus.jobs == 2
    assert fields["mem"].to in ("256M", "512M") and fields["mem"].was == "2G"
    assert fields["time"].to == "00:05:00" and fields["time"].was == "00:30:00"
    text = "\n".join(report_lines(mine))
    assert f"--cpus-per-task=1 instead of 2 for jobs named “{name}” (2 jobs)" in text
    assert "CPU core-hours:" in text and "Memory GB-hours:" in text and "Time:" in text


async def test_report_endpoint_answers_and_refuses_bad_days(jp_fetch):
    from tornado.httpclient import HTTPClientError

    body = json.loads((await jp_fetch("tritonml", "my-efficiency", params={"days": 1})).body)
    assert body["days"] == 1 and body["jobs"] >= 0 and len(body["top"]) <= 3
    assert body["until"] - body["since"] == pytest.approx(86400, abs=1)
    for bad in ("0", "400", "abc"):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("tritonml", "my-efficiency", params={"days": bad})
        assert info.value.code == 400 and "days" in json.loads(info.value.response.body)["message"]


async def test_the_spread_of_a_real_array_names_its_outlier(jp_fetch):
    # Three tasks; task 2 holds 400 MB for 12 s (sacct samples memory every 5 s here), the others ~10 MB.
    code = ("import os, time\nn = 400 if os.environ['SLURM_ARRAY_TASK_ID'] == '2' else 1\n"
            "block = bytearray(n * 1024 * 1024)\nfor i in range(0, len(block), 4096):\n    block[i] = 1\n"
            "time.sleep(12)\n")
    job = await post_job(jp_fetch, name="spread", partition="batch-csl", array="0-2", time="00:05:00", code=code)
    base = job["id"]
    deadline = time.monotonic() + 150
    while True:
        body = json.loads((await jp_fetch("tritonml", "jobs", base, "spread")).body)
        done = body["tasks"] == 3 and body["memory_peak"]["median"] is not None and body["outliers"]
        if done or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    assert body["tasks"] == 3, body
    assert body["memory_peak"]["worst_task"] == f"{base}_2" and body["memory_peak"]["worst"] > 350 * (1 << 20), body
    assert [o["task"] for o in body["outliers"]] == [f"{base}_2"], body
    assert body["outliers"][0]["why"].startswith("memory peak")
    assert body["gpu_util"]["median"] is None  # CPU tasks, and this site accounts no gres/gpuutil
