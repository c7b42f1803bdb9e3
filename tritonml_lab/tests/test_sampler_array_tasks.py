"""Issue 23 item 6 on the real cluster: two tasks of an array on one node (batch-csl has one node) each
write their own samples file; neither moves the other's aside, and each task's figures are its own."""

import json

import pytest

from tritonml_lab.metrics.samples import sample_files
from tritonml_lab.metrics.stream import job_summary

from .test_jobs_api import post_job, wait_done

pytestmark = pytest.mark.usefixtures("slurm_cluster")

# task 0 sleeps, task 1 keeps one core busy: both for 8 s, at the same time on the same node
WORK = ('if [ "$SLURM_ARRAY_TASK_ID" = 1 ]; then timeout 8 sh -c "while :; do :; done" || true; else sleep 8; fi; '
        "echo task $SLURM_ARRAY_TASK_ID on $SLURMD_NODENAME")


async def test_two_array_tasks_on_one_node_have_separate_samples(jp_fetch, jp_serverapp):
    job = await post_job(jp_fetch, name="two-tasks", partition="batch-csl", array="0-1", command=WORK)
    for task in (0, 1):
        detail = await wait_done(jp_fetch, f"{job['id']}_{task}", timeout=120)
        assert detail["state"] == "COMPLETED", detail
    job_dir = jp_serverapp.web_app.settings["tritonml"].store.find(job["id"]).path
    names = sorted(p.name for p in job_dir.iterdir() if p.name.startswith("samples."))
    assert names == ["samples.csl1.task0.jsonl", "samples.csl1.task1.jsonl"], names  # nothing moved aside
    for task in ("0", "1"):
        (path,) = sample_files(job_dir, task).values()
        header = json.loads(path.read_text().splitlines()[0])
        assert header["task"] == task and header["node"] == "csl1"
    idle, busy = job_summary(job_dir, "0"), job_summary(job_dir, "1")
    assert busy["cpu_cores_mean"] > 0.4 > idle["cpu_cores_mean"], (busy, idle)
    # the charts' history: one series per task, never one file for both
    got = json.loads((await jp_fetch("tritonml", "jobs", f"{job['id']}_1", "metrics")).body)
    assert set(got["nodes"]) <= {"csl1", "csl1_0", "csl1_1"} and len(got["nodes"]) >= 1
