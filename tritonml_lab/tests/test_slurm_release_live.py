"""What must hold on every live Slurm lane (22.05 native, 24.11 from dev/slurm-chroot): dev/test runs
this file on each, so a release whose output changed shape fails here, not at a site."""

import json
import re
import subprocess

import pytest

from tritonml_lab.slurm.client import SlurmClient

from .job_waits import in_state, wait_detail
from .test_jobs_api import post_job, wait_done

pytestmark = pytest.mark.usefixtures("slurm_cluster")


def sinfo_release() -> str:
    """'22.05' / '24.11' as the lane's own client prints it."""
    out = subprocess.run(["sinfo", "--version"], capture_output=True, text=True, check=True).stdout
    return re.search(r"(\d+\.\d+)\.\d+", out).group(1)


async def test_the_client_reads_the_lanes_slurm_version():
    version = await SlurmClient().version()
    assert f"{version.major}.{version.minor:02d}" == sinfo_release()


async def test_a_gpu_job_that_exits_3_is_failed_with_exit_code_3(jp_fetch):
    job = await post_job(jp_fetch, partition="gpu-h100-80g", gpus="h100:1", time="00:05:00", command="exit 3")
    detail = await wait_done(jp_fetch, job["id"])
    assert (detail["state"], detail["exit_code"], detail["signal"]) == ("FAILED", 3, None)
    assert detail["gpus"] in ("h100:1", "1")


async def test_a_cancelled_running_job_is_cancelled_with_its_signal(jp_fetch):
    job = await post_job(jp_fetch, partition="batch-csl", time="00:05:00", command="echo started; sleep 300")
    assert (await wait_detail(jp_fetch, job["id"], in_state("RUNNING")))["state"] == "RUNNING"
    await jp_fetch("tritonml", "jobs", job["id"], method="DELETE")
    detail = await wait_done(jp_fetch, job["id"])
    # scancel sends SIGTERM; our script's trap exits 143 (128 + 15). Slurm shows the job CANCELLED a
    # moment before the batch step's end is recorded, so the signal may come one poll later.
    if detail["signal"] is None:
        detail = await wait_detail(jp_fetch, job["id"], lambda d: d["signal"] is not None)
    assert (detail["state"], detail["signal"]) == ("CANCELLED", 15)


async def test_the_cluster_summary_is_the_same_on_every_release(jp_fetch):
    data = json.loads((await jp_fetch("tritonml", "cluster")).body)
    by_name = {p["name"]: p for p in data["partitions"]}
    assert {name: (p["node_count"], p["nodes"], p["cpus_total"]) for name, p in by_name.items()} == {
        "gpu-h100-80g": (1, ["gpu1"], 8),
        "gpu-a100-80g": (1, ["gpu2"], 8),
        "gpu-debug": (2, ["gpu1", "gpu2"], 16),
        "batch-csl": (1, ["csl1"], 8),
        "interactive": (1, ["csl1"], 8),
    }
    gpus = {g["type"]: (g["total"], g["free"]) for g in data["gpus"]}
    assert set(gpus) == {"h100", "a100"} and all(total == 2 for total, _ in gpus.values())
    assert sum(free for _, free in gpus.values()) == data["gpus_free"]
    assert data["slurm_version"].startswith(sinfo_release())
