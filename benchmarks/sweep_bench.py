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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--partition", default="batch-csl")
    parser.add_argument("--gets", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--keep", action="store_true", help="keep the temporary jobs root")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print(json.dumps(figures))
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
