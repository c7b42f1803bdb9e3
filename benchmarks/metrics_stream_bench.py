"""Issue 6 benchmark: live GPU/CPU samples from running jobs to WebSocket clients.

    python benchmarks/metrics_stream_bench.py [--jobs 20] [--seconds 30]

Needs the local cluster (dev/cluster up). Starts a real Jupyter server with tritonml-lab, submits
--jobs jobs through the API (each runs the in-job sampler at 1 Hz; no GPUs here, so samples carry
CPU and RAM), opens one WebSocket per job (as many tabs) watching its metrics, and for --seconds
measures: the delay from a sample being taken (its `t`, written at once) to its arrival at the
client, and the server's CPU time and resident memory while it streams all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

sys.path.insert(0, str(Path(__file__).parent))
from jobs_load import cleanup, events, start_server, use_local_cluster  # noqa: E402  (same server start-up as the jobs benchmark)

TICK = os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def server_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    use_local_cluster()
    tmp = Path(tempfile.mkdtemp(prefix="tritonml-metrics-bench-"))
    proc, url, token = start_server(tmp)
    http = AsyncHTTPClient()
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    ids: list[str] = []
    try:
        run = args.seconds + 40
        for i in range(args.jobs):  # 8 CPUs on batch-csl, 16 on gpu-debug's two nodes
            partition = "batch-csl" if i < 8 else "gpu-debug"
            body = json.dumps({"partition": partition, "time": "00:10:00", "name": f"stream-{i}",
                               "command": f"sleep {run:.0f}"})
            response = await http.fetch(HTTPRequest(url + "tritonml/jobs", method="POST", body=body, headers=headers))
            ids.append(json.loads(response.body)["id"])
        # Wait until every job wrote its first samples.
        deadline = time.monotonic() + 90
        started: set[str] = set()
        while len(started) < len(ids) and time.monotonic() < deadline:
            for job_id in set(ids) - started:
                response = await http.fetch(HTTPRequest(url + f"tritonml/jobs/{job_id}/metrics", headers=headers))
                if json.loads(response.body)["nodes"]:
                    started.add(job_id)
            await asyncio.sleep(1)
        print(f"{len(started)} of {len(ids)} jobs running and sampling")

        delays: list[float] = []
        received = 0
        stop = time.monotonic() + args.seconds

        async def watch(job_id: str) -> None:
            nonlocal received
            async for message in events(url, token, stop, {"action": "watch-metrics", "id": job_id}):
                event = json.loads(message)
                if event["event"] == "metrics" and event["data"]["id"] == job_id:
                    now = time.time()
                    for sample in event["data"]["samples"]:
                        delays.append(now - sample["t"])
                        received += 1

        cpu0, rss0, t0 = server_cpu_seconds(proc.pid), server_rss_mib(proc.pid), time.monotonic()
        await asyncio.gather(*(watch(job_id) for job_id in ids))
        cpu1, rss1, wall = server_cpu_seconds(proc.pid), server_rss_mib(proc.pid), time.monotonic() - t0
        delays.sort()
        print(f"{args.jobs} jobs streamed to {args.jobs} WebSocket clients for {wall:.0f} s: {received} samples")
        if delays:
            print(f"sample taken -> delivered: p50 {statistics.median(delays):.2f} s, "
                  f"p95 {delays[int(len(delays) * 0.95)]:.2f} s, max {delays[-1]:.2f} s (target < 2 s)")
        print(f"server CPU while streaming: {100 * (cpu1 - cpu0) / wall:.1f} % of one core; "
              f"RSS {rss0:.0f} MiB -> {rss1:.0f} MiB")
    finally:
        cleanup(proc, tmp, ids)


if __name__ == "__main__":
    asyncio.run(main())
