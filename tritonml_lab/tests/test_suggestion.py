"""Suggested resources (advice/suggest.py) for a real job on the local cluster, and resubmitting it
through the API with the suggestion."""

import json

import pytest

from tritonml_lab.advice.rules import Usage
from tritonml_lab.advice.sizes import round_size, round_time
from tritonml_lab.advice.suggest import suggest
from tritonml_lab.jobs.spec import JobSpec

from .test_jobs_api import post_job, wait_done

MIB = 1 << 20

# One busy core and ~200 MB (touched, so resident) for 20 s.
LOAD = """\
import time
block = bytearray(200 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
t = time.time()
while time.time() - t < 20:
    sum(range(10000))
print('done', len(block))
"""


async def suggestion(jp_fetch, jp_serverapp, job_id):
    """GET jobs/{id}/suggestion once the route exists; the service's own method until then."""
    try:
        return json.loads((await jp_fetch("tritonml", "jobs", job_id, "suggestion")).body)
    except Exception as exc:  # noqa: BLE001 - only a missing route (404) falls back
        if getattr(exc, "code", None) != 404:
            raise
    service = jp_serverapp.web_app.settings["tritonml"].jobs
    return (await service.suggestion(job_id)).model_dump(mode="json", by_alias=True)


@pytest.mark.usefixtures("slurm_cluster")
async def test_a_job_asking_too_much_gets_a_right_sized_suggestion_that_runs(jp_fetch, jp_serverapp):
    job = await post_job(jp_fetch, name="too-big", partition="batch-csl", cpus_per_task=2, mem="2G",
                         time="00:10:00", code=LOAD)
    detail = await wait_done(jp_fetch, job["id"], timeout=120)
    assert detail["state"] == "COMPLETED", detail
    got = await suggestion(jp_fetch, jp_serverapp, job["id"])

    assert got["cpus_per_task"]["from"] == "2" and got["cpus_per_task"]["to"] == "1", got["cpus_per_task"]
    assert "of 2 requested CPU cores" in got["cpus_per_task"]["reason"]
    mem = got["mem"]
    assert mem["from"] == "2G" and mem["to"] in ("256M", "512M", "1G"), mem
    assert "Peak memory" in mem["reason"] and "of 2.0 GB requested" in mem["reason"], mem
    time_change = got["time"]
    assert time_change["from"] == "00:10:00" and time_change["to"] in ("00:02:00", "00:03:00", "00:05:00"), time_change
    assert "of its 10 min limit" in time_change["reason"], time_change
    assert got["gpus"] is None  # a CPU job: no GPU figures, no GPU verdict
    assert {c["field"] for c in got["changes"]} == {"cpus_per_task", "mem", "time"}
    assert all(c["figure"] for c in got["changes"])
    assert got["source"] == "samples+sacct"

    spec = got["spec"]
    assert spec["code"] == LOAD and spec["cpus_per_task"] == 1 and spec["mem"] == mem["to"]
    again = await post_job(jp_fetch, **spec)
    done = await wait_done(jp_fetch, again["id"], timeout=120)
    assert done["state"] == "COMPLETED" and done["exit_code"] == 0
    assert done["efficiency"]["cpus"] == 1
    assert done["efficiency"]["memory_requested_bytes"] == {"256M": 256, "512M": 512, "1G": 1024}[mem["to"]] * MIB


def test_unknown_parts_are_null_and_known_ones_keep_their_reason():
    spec = JobSpec(command="true", gpus="h100:4", cpus_per_task=8, mem="64G", time="04:00:00")
    idle = {"util_mean": 0.0, "idle_fraction": 1.0}
    busy = {"util_mean": 93.0, "idle_fraction": 0.02}
    usage = Usage(cpus=8, cores_used=7.5, gpus_requested="h100:4",
                  gpus=[{"index": i, **(busy if i < 2 else idle)} for i in range(4)])
    got = suggest("1", spec, usage)
    assert got.mem is None and got.time is None  # no memory or time figures
    assert got.gpus.to == "h100:2" and got.gpus.reason.startswith("GPU 2, GPU 3 of 4 were idle the whole time")
    assert got.cpus_per_task.changed is False and "keep" in got.cpus_per_task.reason
    assert got.spec.gpus == "h100:2" and got.spec.cpus_per_task == 8


def test_sizes_people_write():
    assert [round_size(n * MIB) for n in (1, 300, 700, 1500, 4500)] == [
        256 * MIB, 512 * MIB, 1024 * MIB, 2048 * MIB, 6144 * MIB]
    assert [round_time(s) // 60 for s in (30, 400, 1000, 4000, 30000)] == [5, 7, 20, 75, 540]


def test_the_admin_thresholds_reach_the_rules_and_the_kernels():
    from tritonml_lab.advice.rules import findings
    from tritonml_lab.advice.thresholds import Thresholds, export_thresholds, kernel_thresholds
    from tritonml_lab.server.config import TritonML

    half = Usage(cpus=2, cores_used=1.0, elapsed=3600)
    assert [f.code for f in findings(half)] == ["cpu"]  # 50 % < jobstats' 65 %: red
    config = TritonML(advice_cpu_efficiency_red=0.3, advice_cpu_efficiency_low=0.4, advice_min_time_minutes=10)
    site = Thresholds.from_config(config)
    assert site.cpu_efficiency_low == 0.4 and site.min_time_minutes == 10 and site.gpu_util_red == 15.0
    assert findings(half, site) == []
    env: dict = {}
    export_thresholds(site, env)
    assert kernel_thresholds(env) == site
    assert kernel_thresholds({"TRITONML_ADVICE": "not json"}) == Thresholds()
