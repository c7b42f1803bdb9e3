"""Sampling every node of a multi-node job, on the real local cluster (gpu1 and gpu2 are two slurmd
on one host: the samplers must tell the job's processes on each node apart by SLURMD_NODENAME)."""

import time

import pytest

from tritonml_lab.injob.sampler import JobProcs, OtherNodes, job_layout
from tritonml_lab.metrics.stream import job_summary
from tritonml_lab.metrics.trace import load

from .test_jobs_api import post_job, wait_done

pytestmark = pytest.mark.usefixtures("slurm_cluster")

# Each task burns one core for 10 s: one per node.
BURN = "t=time.time()\nwhile time.time()-t<10: pass\n"


def fake_job_id(k: int = 0) -> str:
    """A job id no other process on this host uses now: JobProcs scans all of /proc, where another
    run of the same test (the other Slurm lane's, dev/flaky runs both at once, or another user's)
    would otherwise add its processes to this one's job."""
    import os

    return f"9{os.getpid()}{k}"


async def test_two_node_job_samples_both_nodes_with_their_own_cpu_load(jp_fetch, jobs_root):
    job = await post_job(
        jp_fetch, name="two-node-burn", partition="gpu-debug", nodes=2, ntasks_per_node=1,
        time="00:05:00",
        script=f"srun python3 -c '\nimport time\n{BURN}'\n",
    )
    detail = await wait_done(jp_fetch, job["id"], timeout=120)
    assert detail["state"] == "COMPLETED", detail
    job_dir = jobs_root / job["id"]
    # The end lines are written before the script ends; the files may reach this host a little later.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        files = {p.name: p for p in job_dir.glob("samples.*.jsonl")}
        if len(files) == 2 and all(load(str(f))[2] is not None for f in files.values()):
            break
        time.sleep(0.5)
    files = {p.name: p for p in job_dir.glob("samples.*.jsonl")}
    assert set(files) == {"samples.gpu1.jsonl", "samples.gpu2.jsonl"}, (
        set(files), (job_dir / "sampler.log").read_text())
    for node in ("gpu1", "gpu2"):
        header, samples, end = load(str(files[f"samples.{node}.jsonl"]))
        assert header["node"] == node and header["job"] == job["id"]
        cores = [s["c"] for s in samples if s.get("c") is not None]
        # One busy task on each node (two cores on this machine, shared with the others).
        assert max(cores) >= 0.5, (node, cores)
        assert sum(c >= 0.3 for c in cores) >= 4, (node, cores)
        # The batch script stops its sampler at its end, which stops the other node's step first
        # (before, Slurm 24.11 could SIGKILL that step at the job's end: its end line was lost).
        assert end is not None, (f"the sampler on {node} did not stop cleanly", (job_dir / "sampler.log").read_text())
    _h, _s, end = load(str(files["samples.gpu2.jsonl"]))
    assert end["why"] == "signal"  # stopped with the job, not by a limit or an error
    # The API's summary adds the nodes up (the CPU of both tasks).
    summary = job_summary(job_dir)
    assert set(summary["nodes"]) == {"gpu1", "gpu2"}
    assert summary["cpu_cores_mean"] == pytest.approx(
        sum(n["cpu_cores_mean"] for n in summary["nodes"].values()), abs=0.02)


def test_layout_from_scontrol_show_job_detail():
    # Recorded from `scontrol show job -d` on the local Slurm 22.05 cluster (--gpus=3 over 2 nodes).
    text = (
        "JobId=4465 JobName=wrap\n"
        "   NodeList=gpu[1-2]\n   BatchHost=gpu1\n"
        "   ReqNodeList=(null) ExcNodeList=(null)\n"
        "   JOB_GRES=gpu:h100:2,gpu:a100:1\n"
        "     Nodes=gpu1 CPU_IDs=0 Mem=1000 GRES=gpu:h100:2(IDX:0-1)\n"
        "     Nodes=gpu2 CPU_IDs=0 Mem=1000 GRES=gpu:a100:1(IDX:0)\n"
        "   TresPerJob=gres:gpu:3\n"
    )
    assert job_layout(text) == ("gpu1", [("gpu1", 2), ("gpu2", 1)])
    cpu_only = "   NodeList=csl[1-3]\n   BatchHost=csl1\n     Nodes=csl[1-3] CPU_IDs=0 Mem=1000 GRES=\n"
    assert job_layout(cpu_only) == ("csl1", [("csl[1-3]", 0)])
    others = OtherNodes("1", ["true"])
    expand = {"csl[1-3]": ["csl1", "csl2", "csl3"], "gpu1": ["gpu1"], "gpu2": ["gpu2"]}.get
    assert others.steps(cpu_only, expand) == [(["csl2", "csl3"], 0)]
    assert others.steps(text, expand) == [(["gpu2"], 1)]
    cmd = others.srun_command(["gpu2"], 1)
    assert "--overlap" in cmd and "--gres=gpu:1" in cmd and "--nodelist=gpu2" in cmd
    assert "--gres=none" in others.srun_command(["csl2", "csl3"], 0)


def test_job_procs_counts_only_this_job_on_this_node(tmp_path):
    """Processes are the job's on this node by their environment; a child that clears its
    environment still counts (through its parent); another node's or job's do not."""
    import os
    import subprocess
    import sys

    def spawn(env, code):
        return subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **env})

    burn = "import time\nt=time.time()\nwhile time.time()-t<4: pass\n"
    clears = ("import subprocess, sys\nsubprocess.run([sys.executable, '-c', %r], env={})\n" % burn)
    job, other = fake_job_id(1), fake_job_id(2)
    mine = spawn({"SLURM_JOB_ID": job, "SLURMD_NODENAME": "n1"}, clears)
    sleep = "import time\ntime.sleep(4)\n"
    other_node = spawn({"SLURM_JOB_ID": job, "SLURMD_NODENAME": "n2"}, sleep)
    other_job = spawn({"SLURM_JOB_ID": other, "SLURMD_NODENAME": "n1"}, sleep)
    try:
        procs = JobProcs(job, "n1")
        time.sleep(0.5)
        procs.sample(time.monotonic())
        time.sleep(1.5)
        cores, rss = procs.sample(time.monotonic())
        assert mine.pid in procs.members and len(procs.members) == 2  # the parent and its child
        assert other_node.pid not in procs.members and other_job.pid not in procs.members
        assert 0.3 <= cores <= 1.2, cores  # the burning child
        assert rss > 5
    finally:
        for p in (mine, other_node, other_job):
            p.kill()
            p.wait()


def test_a_step_started_late_in_a_long_job_is_found_within_seconds():
    """An srun step's tasks are children of slurmstepd, not of the batch script: only a scan of
    /proc finds them. Long after the job's start scans are rare (they cost), but a process the
    batch script starts (the srun client) brings the next scan forward to about a second later."""
    import os
    import subprocess
    import sys

    job = fake_job_id()
    env = {**os.environ, "SLURM_JOB_ID": job, "SLURMD_NODENAME": "n1"}
    # The "batch script": after a second it starts a child (the srun client), which waits.
    batch = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\ntime.sleep(1.0)\n"
        "subprocess.run([sys.executable, '-c', 'import time; time.sleep(6)'])\n")], env=env)
    task = None
    try:
        procs = JobProcs(job, "n1")
        now = time.monotonic()
        procs.first = now - 3600  # an hour into the job
        procs.sample(now)
        procs.rescan = 30.0  # a busy node: the next regular scan is far away
        assert set(procs.members) == {batch.pid}
        time.sleep(1.5)
        # The step's task appears (as slurmstepd would start it: the job's environment, another parent).
        task = subprocess.Popen([sys.executable, "-c", "import time\nt=time.time()\nwhile time.time()-t<5: pass\n"],
                                env=env)
        procs.sample(time.monotonic())  # sees the srun client, a new child of the batch script
        assert task.pid not in procs.members
        time.sleep(1.2)
        procs.sample(time.monotonic())  # the scan brought forward
        assert task.pid in procs.members
        time.sleep(1.0)
        cores, _rss = procs.sample(time.monotonic())
        assert cores >= 0.3, cores
    finally:
        for p in (batch, task):
            if p is not None:
                p.kill()
                p.wait()
