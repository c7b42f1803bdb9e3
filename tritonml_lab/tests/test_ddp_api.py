"""DDP through the API (the New job dialog's "Distributed (DDP)" choice): JobSpec.ddp, on the real
local cluster."""

import json
import sys

import pytest

from tritonml_lab.jobs.script import Defaults, render_script
from tritonml_lab.jobs.spec import JobSpec

from .jobs_root import leftovers
from .test_jobs_api import error_of, post_job, read_log, wait_done

pytestmark = pytest.mark.usefixtures("slurm_cluster")

GLOO = (
    "import torch, torch.distributed as dist\n"
    "dist.init_process_group('gloo')\n"
    "value = torch.tensor([float(dist.get_rank() + 1)])\n"
    "dist.all_reduce(value)\n"
    "print('rank', dist.get_rank(), 'of', dist.get_world_size(), 'sum', value.item(), flush=True)\n"
    "dist.destroy_process_group()\n"
)


async def test_preview_lays_out_one_task_per_gpu_with_gpus_per_node(jp_fetch, jobs_root):
    response = await jp_fetch("tritonml", "jobs", "preview", method="POST", body=json.dumps(
        {"ddp": True, "nodes": 2, "gpus": "h100:4", "gres": "min-vram:80g", "code": "print(1)"}))
    script = json.loads(response.body)["script"]
    for line in ("#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=2", "#SBATCH --gres=gpu:h100:2,min-vram:80g",
                 "export MASTER_PORT=", "export WORLD_SIZE=$SLURM_NTASKS",
                 "export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID", "srun --kill-on-bad-exit=1 "):
        assert line in script, line
    assert "--gpus=" not in script and leftovers(jobs_root) == []
    assert script.count("--gres=") == 1


def test_ddp_without_gpus_and_with_a_command_quotes_it():
    spec = JobSpec(ddp=True, nodes=2, ntasks_per_node=3, command="echo 'hi'; hostname")
    script = render_script(spec, Defaults(sampler_python=None), "/jobs/job-1")
    assert "#SBATCH --ntasks-per-node=3" in script and "#SBATCH --nodes=2" in script
    assert script.rstrip().endswith("""ddp bash -c 'echo '"'"'hi'"'"'; hostname'""")
    plain = render_script(JobSpec(nodes=2, command="hostname"), Defaults(sampler_python=None), "/jobs/job-1")
    assert "srun" not in plain and plain.rstrip().endswith("hostname")


async def test_gpus_that_do_not_split_evenly_are_400_naming_the_field(jp_fetch, jobs_root):
    code, body = await error_of(jp_fetch("tritonml", "jobs", method="POST", body=json.dumps(
        {"ddp": True, "nodes": 2, "gpus": "3", "code": "print(1)"})))
    assert code == 400 and [e["field"] for e in body["errors"]] == ["gpus"]
    assert "cannot be split evenly over 2 nodes" in body["errors"][0]["message"]
    code, body = await error_of(jp_fetch("tritonml", "jobs", "preview", method="POST", body=json.dumps(
        {"ddp": True, "nodes": 2, "gpus": "4", "ntasks_per_node": 3, "code": "print(1)"})))
    assert code == 400 and [e["field"] for e in body["errors"]] == ["ntasks_per_node"]
    assert "must be 2" in body["errors"][0]["message"]
    code, body = await error_of(jp_fetch("tritonml", "jobs", method="POST", body=json.dumps(
        {"ddp": "yes please", "code": "print(1)"})))
    assert code == 400 and [e["field"] for e in body["errors"]] == ["ddp"]
    assert leftovers(jobs_root) == []


async def test_two_node_gloo_all_reduce_submitted_through_the_api(jp_fetch, jobs_root):
    pytest.importorskip("torch")
    job = await post_job(jp_fetch, name="ddp-gloo", ddp=True, nodes=2, ntasks_per_node=1,
                         partition="gpu-debug", time="00:05:00", code=GLOO, python=sys.executable)
    assert job["spec"]["ddp"] is True
    detail = await wait_done(jp_fetch, job["id"], timeout=120)
    stdout = (await read_log(jp_fetch, job["id"]))["data"]
    assert detail["state"] == "COMPLETED", (detail["state"], stdout,
                                            (await read_log(jp_fetch, job["id"], "stderr"))["data"])
    assert "rank 0 of 2 sum 3.0" in stdout and "rank 1 of 2 sum 3.0" in stdout
    # Both nodes were sampled (the batch host and, through srun, the other one).
    assert {p.name for p in (jobs_root / job["id"]).glob("samples.*.jsonl")} == {
        "samples.gpu1.jsonl", "samples.gpu2.jsonl"}
