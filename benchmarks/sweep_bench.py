"""Issue 7 benchmarks: submitting a large sweep, and loading its results table.

    python benchmarks/sweep_bench.py [--points 1000] [--partition batch-csl] [--gets 20]

Needs the local cluster (dev/cluster up) and runs a real Jupyter server with tritonml-lab.
1. ``POST {base}tritonml/sweeps`` of a --points sweep (a grid over one name; each task does
   ``tritonml.report(x=i)``): wall time of the request, and slurmctld's REQUEST_SUBMIT_BATCH_JOB RPCs
   (sdiag, before/after) against the number of array jobs (MaxArraySize 1001: one for 1,000 points).
   Targets: one submit RPC per array job, < 2 s.
2. When every task has finished: ``GET {base}tritonml/sweeps/{id}`` wall time, first on a freshly
   restarted server (cold: every task's files read) and then the median and max of --gets warm calls.
   Target: < 200 ms.
sdiag counts are cluster-wide: other users of the cluster submitting at the same time add to them.

    python benchmarks/sweep_bench.py --steps [--tasks 1000] [--steps-per-task 1000]

3. Per-step values (issue 15; no cluster, no server): in a task, the cost of one
   ``tritonml.report(step=..., loss=...)`` (an appended line), alone and with the median stopping rule
   reading 50 other tasks' files of 1,000 steps; on the server, the step reader over --tasks files of
   --steps-per-task lines: the first read, a re-read after one more line per file, the curves' JSON size.
   Targets: < 100 µs per report without the rule; re-read < 100 ms for 1,000 tasks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs_load import sdiag_counts, start_server  # noqa: E402

SUBMIT_RPC = "REQUEST_SUBMIT_BATCH_JOB"


async def call(url: str, token: str, path: str, method: str = "GET", body: dict | None = None,
               raise_404: bool = True):
    http = AsyncHTTPClient()
    request = HTTPRequest(
        url + "tritonml/" + path, method=method, headers={"Authorization": f"token {token}"},
        body=json.dumps(body) if body is not None else None, request_timeout=600,
    )
    started = time.perf_counter()
    response = await http.fetch(request, raise_error=False)
    elapsed = time.perf_counter() - started
    if response.code == 404 and not raise_404:
        return elapsed, None
    if response.code >= 400:
        raise RuntimeError(f"{method} {path}: {response.code} {response.body[:500]!r}")
    return elapsed, json.loads(response.body)


async def warm_up(url: str, token: str) -> None:
    await call(url, token, "jobs")


async def run(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    proc, url, token = start_server(tmp)
    figures: dict = {"points": args.points}
    try:
        await warm_up(url, token)
        body = {"code": "tritonml.report(x=i)\n", "grid": {"i": list(range(args.points))}, "metric": "x", "mode": "max",
                "name": "sweep-bench", "partition": args.partition, "time": "00:10:00"}
        # Other users of the cluster submit too: count a quiet window of the same length first.
        before = sdiag_counts().get(SUBMIT_RPC, 0)
        await call(url, token, "sweeps/0", raise_404=False)  # creates the sweep service, submits nothing
        await asyncio.sleep(2)
        noise = sdiag_counts().get(SUBMIT_RPC, 0) - before
        before = sdiag_counts().get(SUBMIT_RPC, 0)
        seconds, sweep = await call(url, token, "sweeps", "POST", body)
        after = sdiag_counts().get(SUBMIT_RPC, 0)
        figures.update(submit_seconds=round(seconds, 3), array_jobs=len(sweep["jobs"]),
                       submit_rpcs=after - before, other_submits_in_2s_before=noise,
                       arrays=[job["array"] for job in sweep["jobs"]])
        print(f"POST sweeps ({args.points} points): {seconds * 1000:.0f} ms, {len(sweep['jobs'])} array job(s), "
              f"{after - before} {SUBMIT_RPC} (sdiag; {noise} by others in 2 s before)", flush=True)

        started = time.monotonic()
        while True:
            _s, view = await call(url, token, f"sweeps/{sweep['id']}")
            if view["finished"]:
                break
            if time.monotonic() - started > args.timeout:
                raise RuntimeError(f"the sweep did not finish in {args.timeout} s: {view['counts']}")
            await asyncio.sleep(5)
        figures.update(run_seconds=round(time.monotonic() - started, 1), counts=view["counts"])
        print(f"all tasks ended after {figures['run_seconds']} s: {view['counts']}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    # A fresh server: nothing cached, every task's files are read. Its only request before is one
    # that makes the sweep service (a 404), so the job monitor stays idle, as without a jobs panel.
    proc, url, token = start_server(tmp)
    try:
        await call(url, token, "sweeps/0", raise_404=False)
        await asyncio.sleep(1)
        cold, view = await call(url, token, f"sweeps/{sweep['id']}")
        warm = [(await call(url, token, f"sweeps/{sweep['id']}"))[0] for _ in range(args.gets)]
        assert len(view["tasks"]) == args.points and view["best"]["result"] == {"x": args.points - 1}
        figures.update(get_cold_ms=round(cold * 1000, 1), get_warm_median_ms=round(statistics.median(warm) * 1000, 1),
                       get_warm_max_ms=round(max(warm) * 1000, 1), body_bytes=len(json.dumps(view)))
        print(f"GET sweeps/{{id}} ({args.points} finished tasks): cold {cold * 1000:.1f} ms, warm median "
              f"{figures['get_warm_median_ms']} ms, max {figures['get_warm_max_ms']} ms "
              f"({figures['body_bytes']} bytes)", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    figures["ok"] = (figures["submit_rpcs"] == figures["array_jobs"] and figures["submit_seconds"] < 2
                     and figures["get_cold_ms"] < 200 and figures["get_warm_max_ms"] < 200)
    return figures


STEP_CELL = """
import time
started = time.perf_counter()
for step in range(N):
    tritonml.report(step=step, loss=1.0 / (step + 1))
tritonml.report(per_report_us=(time.perf_counter() - started) / N * 1e6)
"""


def steps_figures(tasks: int, steps: int) -> dict:
    """Section 3: the in-job cost of report(step=...) and the server's step reader."""
    import os
    import subprocess

    from tritonml_lab.sweeps import write_task_files
    from tritonml_lab.sweeps.steps import StepReader

    figures: dict = {"tasks": tasks, "steps_per_task": steps}
    tmp = Path(tempfile.mkdtemp(prefix="sweep-steps-bench-"))
    try:
        for rule, stop in (("none", None), ("median", {"rule": "median", "startup": 5, "warmup": 0, "mode": "min"})):
            job = tmp / f"job-{rule}"
            job.mkdir()
            write_task_files(job, STEP_CELL.replace("N", "20000"), list(range(51)), [{"i": i} for i in range(51)],
                             "loss", stop=stop)
            for other in range(1, 51):  # 50 other tasks, 1,000 steps each, already there (and worse)
                (job / f"steps.{other}.jsonl").write_text("".join(
                    json.dumps({"step": k, "values": {"loss": 2.0 / (k + 1)}, "t": 0}) + "\n" for k in range(1000)))
            done = subprocess.run([sys.executable, str(job / "main.py")], cwd=job, capture_output=True, text=True,
                                  env={**os.environ, "SLURM_ARRAY_TASK_ID": "0"}, timeout=600)
            result = json.loads((job / "result.0.json").read_text())
            per = result["result"].get("per_report_us")
            figures[f"report_step_us_{rule}"] = round(per, 1) if per is not None else None
            figures[f"pruned_{rule}"] = result.get("pruned", {}).get("step")
            print(f"report(step=...) in a task, rule {rule}: {figures[f'report_step_us_{rule}']} µs per call "
                  f"(exit {done.returncode}; pruned at step {figures[f'pruned_{rule}']})", flush=True)
        root = tmp / "many"
        root.mkdir()
        line = [json.dumps({"step": k, "values": {"loss": 1.0 / (k + 1), "acc": k / steps}, "t": 0}) + "\n"
                for k in range(steps)]
        for task in range(tasks):
            (root / f"steps.{task}.jsonl").write_text("".join(line))
        reader = StepReader()
        started = time.perf_counter()
        curves = [reader.read(str(root / f"steps.{task}.jsonl"), "loss") for task in range(tasks)]
        cold = time.perf_counter() - started
        for task in range(tasks):
            with open(root / f"steps.{task}.jsonl", "a") as out:
                out.write(json.dumps({"step": steps, "values": {"loss": 0.0}, "t": 0}) + "\n")
        started = time.perf_counter()
        curves = [reader.read(str(root / f"steps.{task}.jsonl"), "loss") for task in range(tasks)]
        again = time.perf_counter() - started
        size = len(json.dumps([curve.model_dump() for curve in curves]))
        figures.update(read_cold_ms=round(cold * 1000, 1), reread_ms=round(again * 1000, 1), curves_bytes=size,
                       points_per_curve=len(curves[0].steps))
        print(f"step reader, {tasks} files x {steps} lines: first read {cold * 1000:.0f} ms, after one more line "
              f"each {again * 1000:.1f} ms; curves {size} bytes ({len(curves[0].steps)} points each)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    figures["ok"] = bool(figures["report_step_us_none"] is not None and figures["report_step_us_none"] < 100
                         and figures["reread_ms"] < 100)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", action="store_true", help="only section 3: per-step values, no cluster")
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--steps-per-task", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--partition", default="batch-csl")
    parser.add_argument("--gets", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--keep", action="store_true", help="keep the temporary jobs root")
    args = parser.parse_args()
    figures = steps_figures(args.tasks, args.steps_per_task) if args.steps else asyncio.run(run(args))
    print(json.dumps(figures))
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
