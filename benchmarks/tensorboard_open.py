"""Open TensorBoard for a sweep of 100 tasks: the time from "Open TensorBoard" (POST tritonml/tensorboards)
to the first scalar served, and to all 100 runs' curves; the Jupyter server's memory (RSS) before, while
TensorBoard is idle, and after it has stopped (stopped by its idle time-out, as a closed tab would).

One command: ``python benchmarks/tensorboard_open.py [--tasks 100 --steps 200 --idle 10]``. The sweep's
tasks are synthesised (their steps files as the in-job shim writes them, and the sweep's manifest),
so no Slurm job runs; a real Jupyter server (its own process, under /node/bench/8888/ with a token)
converts and serves them. ``--idle`` shortens c.TritonML.tensorboard_idle_seconds (default 900 s) so the
run ends in seconds; the stop is the same code path at any value.
"""

from __future__ import annotations

import argparse
import os
import asyncio
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs_load import start_server  # noqa: E402 - the benchmarks' one way to start a server

from tritonml_lab.sweeps.models import SweepJob, SweepManifest  # noqa: E402

SWEEP_ID = "900001"


def synthesise(jobs_root: Path, tasks: int, steps: int) -> list[dict]:
    """A finished grid sweep of ``tasks`` points, one array job, each task ``steps`` reported steps."""
    job_dir = jobs_root / "job-bench"
    job_dir.mkdir(parents=True)
    params = [{"lr": round(10 ** (-1 - 3 * i / tasks), 6), "seed": i % 5} for i in range(tasks)]
    (job_dir / "sweep_points.json").write_text(json.dumps({"metric": "loss", "indices": list(range(tasks)),
                                                           "params": params}))
    t0 = time.time() - 3600
    for task, point in enumerate(params):
        lines = (json.dumps({"step": s, "values": {"loss": math.exp(-point["lr"] * s) + 0.01 * task,
                                                   "acc": 1 - math.exp(-point["lr"] * s)}, "t": t0 + s})
                 for s in range(steps))
        (job_dir / f"steps.{task}.jsonl").write_text("\n".join(lines) + "\n")
    manifest = SweepManifest(id=SWEEP_ID, name="bench", search="grid", space={"lr": [p["lr"] for p in params]},
                             metric="loss", spec={"partition": "batch-csl"}, points=params, created_at=time.time(),
                             jobs=[SweepJob(id=SWEEP_ID, directory=str(job_dir), indices=list(range(tasks)))])
    (jobs_root / "sweeps").mkdir()
    (jobs_root / "sweeps" / f"{SWEEP_ID}.json").write_text(manifest.model_dump_json())
    return params


def rss_mib(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


async def run(url: str, token: str, server: psutil.Process, tasks: int, idle: float) -> dict:
    http = AsyncHTTPClient()
    headers = {"Authorization": f"token {token}"}

    async def get(path: str, **kw) -> tuple[int, bytes]:
        response = await http.fetch(HTTPRequest(url + path, headers=headers, **kw), raise_error=False)
        return response.code, response.body

    await get("tritonml/status")
    await asyncio.sleep(2)
    before = rss_mib(server)
    t0 = time.perf_counter()
    code, body = await get("tritonml/tensorboards", method="POST", body=json.dumps({"sweep": SWEEP_ID}))
    assert code == 200, body
    info = json.loads(body)
    opened = time.perf_counter() - t0
    base = info["url"].lstrip("/").split("/", 3)[3]  # past node/bench/8888/
    first_run = "lr=0.1,seed=0"
    first = all_runs = None
    while time.perf_counter() - t0 < 120:
        code, body = await get(f"{base}data/plugin/scalars/scalars?run={first_run.replace(',', '%2C')}&tag=loss")
        if first is None and code == 200 and json.loads(body):
            first = time.perf_counter() - t0
        if first is not None:
            code, body = await get(f"{base}data/runs")
            if code == 200 and len(json.loads(body)) == tasks:
                all_runs = time.perf_counter() - t0
                break
        await asyncio.sleep(0.05)
    _code, body = await get(f"{base}data/plugin/scalars/scalars?run={first_run.replace(',', '%2C')}&tag=loss")
    points = len(json.loads(body))
    children = [p for p in server.children(recursive=True)]
    tb_rss = sum(rss_mib(p) for p in children)
    await asyncio.sleep(max(0.0, idle / 2))
    idle_rss = rss_mib(server)
    t_idle = time.perf_counter()
    while time.perf_counter() - t_idle < idle + 30:  # nobody asks: stopped after the idle time
        _code, body = await get("tritonml/tensorboards")
        if not json.loads(body)["tensorboards"]:
            break
        await asyncio.sleep(0.2)
    stopped_after = time.perf_counter() - t_idle + idle / 2
    await asyncio.sleep(1)
    return {
        "tasks": tasks, "post_seconds": round(opened, 2),
        "first_scalar_seconds": round(first, 2) if first else None,
        "all_runs_seconds": round(all_runs, 2) if all_runs else None,
        "points_first_run": points,
        "server_rss_mib_before": round(before, 1), "server_rss_mib_tensorboard_idle": round(idle_rss, 1),
        "tensorboard_process_rss_mib": round(tb_rss, 1),
        "stopped_after_idle_seconds": round(stopped_after, 1),
        "server_rss_mib_after_stop": round(rss_mib(server), 1),
        "tensorboard_processes_after_stop": len(server.children(recursive=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--idle", type=float, default=10.0, help="c.TritonML.tensorboard_idle_seconds for this run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tb-bench-") as name:
        tmp = Path(name)
        synthesise(tmp / "jobs", args.tasks, args.steps)
        (tmp / "jupyter_server_config.json").write_text(json.dumps(
            {"TritonML": {"tensorboard_idle_seconds": args.idle}}))
        os.environ["JUPYTER_CONFIG_DIR"] = str(tmp)
        proc, url, token = start_server(tmp)
        try:
            result = asyncio.run(run(url, token, psutil.Process(proc.pid), args.tasks, args.idle))
        finally:
            proc.terminate()
            proc.wait(30)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
