"""Issue 23 item 4: ``GET jobs/{id}/suggestion`` answered 400 for valid jobs, because the adjusted spec is
validated again (as POST jobs validates it) and the suggestion broke the spec's own rules. No Slurm needed:
these are the figures GET jobs/{id} holds, through ``suggestion_of`` as the endpoint calls it."""

import json

import pytest

from tritonml_lab.advice.suggest import Change, _apply, suggestion_of
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.metrics.efficiency import GIB

from .test_jobs_api import post_job, wait_done


def test_a_warned_job_that_ran_three_minutes_keeps_a_limit_longer_than_its_warning():
    """--warn 5m, ran 3 min of 1 h: the time rule said 00:05:00, which is not longer than the warning."""
    spec = JobSpec(time="01:00:00", checkpoint={"warn": "5m", "requeue": 2}, command="python train.py")
    sacct = {"cpus": 1, "elapsed_seconds": 180, "time_limit_seconds": 3600, "state": "COMPLETED"}
    got = suggestion_of("5", spec, None, sacct)
    assert got.time.changed and got.time.to == "00:10:00"  # twice the warning: 5 min of work before it
    assert got.spec.time == "00:10:00" and got.spec.checkpoint.warn == "300s"
    assert JobSpec.model_validate(got.spec.model_dump()) == got.spec
    assert "--time=00:10:00" in got.time.reason
    # without a warning the usual 5-minute floor applies
    plain = suggestion_of("6", JobSpec(time="01:00:00", command="x"), None, sacct)
    assert plain.time.to == "00:05:00"
    # a warning of 40 min in a 1 h job that ran 3 min: nothing shorter is valid and useful
    long_warn = JobSpec(time="01:00:00", checkpoint={"warn": "40m"}, command="x")
    kept = suggestion_of("7", long_warn, None, sacct)
    assert kept.time.changed is False and kept.spec.time == "01:00:00"


def gpus(*rows):
    return {"seconds": 1800, "cpu_cores_mean": None, "gpus": [
        {"node": node, "index": i, "util_mean": util, "idle_fraction": 1.0 if util == 0 else 0.0,
         "memory_peak_bytes": 20 * GIB if util else 0, "memory_total_bytes": 80 * GIB}
        for node, i, util in rows]}


def test_a_two_node_job_with_one_idle_gpu_of_four_keeps_a_count_that_splits():
    """2 nodes x 2 GPUs (DDP), one idle: gpus=3 does not split over 2 nodes (a ValidationError, then 400)."""
    spec = JobSpec(nodes=2, ddp=True, gpus="h100:4", ntasks_per_node=2, command="python ddp.py")
    metrics = gpus(("g1", 0, 95.0), ("g1", 1, 93.0), ("g2", 0, 94.0), ("g2", 1, 0.0))
    got = suggestion_of("8", spec, metrics, None)
    assert got.gpus.changed is False and got.spec.gpus == "h100:4"
    assert "make your code use all of them (over 2 nodes the GPUs come in multiples of 2)" in got.gpus.reason
    assert JobSpec.model_validate(got.spec.model_dump()) == got.spec
    # one node's two GPUs idle: 2 GPUs, 1 on each node, and the tasks per node follow
    two_idle = gpus(("g1", 0, 95.0), ("g1", 1, 0.0), ("g2", 0, 94.0), ("g2", 1, 0.0))
    got = suggestion_of("9", spec, two_idle, None)
    assert got.gpus.changed and got.gpus.to == "h100:2"
    assert got.spec.gpus == "h100:2" and got.spec.ntasks_per_node == 1
    assert JobSpec.model_validate(got.spec.model_dump()) == got.spec
    # three of four idle: still 2 (one per node), never 1 over 2 nodes
    assert suggestion_of("10", spec, gpus(("g1", 0, 95.0), ("g1", 1, 0.0), ("g2", 0, 0.0), ("g2", 1, 0.0)),
                         None).spec.gpus == "h100:2"


def test_a_change_the_spec_refuses_is_left_out_with_its_reason():
    """The last guard: whatever a rule proposes, the suggested spec validates (the endpoint answers 200)."""
    spec = JobSpec(time="01:00:00", checkpoint={"warn": "10m"}, command="x")
    bad = Change(field="time", from_="01:00:00", to="00:05:00", changed=True, reason="Ran 3 min.")
    good = Change(field="mem", from_=None, to="2G", changed=True, reason="Peak 1 GB.")
    new, dropped = _apply(spec, [bad, good])
    assert new.time == "01:00:00" and new.mem == "2G"
    assert [c for c, _why in dropped] == [bad] and "shorter than the time limit" in dropped[0][1]


@pytest.mark.usefixtures("slurm_cluster")
async def test_the_endpoint_answers_200_for_a_warned_job_that_ran_briefly(jp_fetch):
    """The reproduced case through the API on the real cluster, at the default settings: --time 01:00:00
    --warn 5m, ran seconds. Before, the suggested 00:05:00 failed validation and the answer was a 400."""
    job = await post_job(jp_fetch, name="warned", partition="batch-csl", time="01:00:00",
                         checkpoint={"warn": "5m"}, command="sleep 2")
    detail = await wait_done(jp_fetch, job["id"], timeout=120)
    assert detail["state"] == "COMPLETED", detail
    response = await jp_fetch("tritonml", "jobs", job["id"], "suggestion")
    assert response.code == 200
    got = json.loads(response.body)
    assert got["time"]["from"] == "01:00:00" and got["time"]["to"] == "00:10:00", got["time"]
    assert got["spec"]["time"] == "00:10:00" and got["spec"]["checkpoint"]["warn"] == "300s"
    JobSpec.model_validate(got["spec"])
