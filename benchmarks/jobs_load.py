"""Issue 3 benchmarks: scheduler load of many clients, and the cost of submitting through the API.

    python benchmarks/jobs_load.py [--seconds 60] [--clients 1,10,50] [--submits 20]

Needs the local cluster (dev/cluster up) and runs a real Jupyter server with tritonml-lab.
1. For each N: N clients GET {base}tritonml/jobs once a second and N more listen on the push channel,
   for --seconds; slurmctld's job-info RPCs (sdiag: REQUEST_JOB_INFO + REQUEST_JOB_USER_INFO) per
   minute, and GET latency p50/p99. Two jobs stay pending/running meanwhile, so the monitor polls at
   its quickest interval (the worst case).
2. POST jobs wall time / raw `sbatch` wall time, medians of --submits each, measured in one run
   (the same GPU request on both sides, kept pending by the two jobs above); and the peer's submit,
   jupyterlab-slurm's POST sbatch of the same request as a script file (PyPI, in a venv made once:
   --jls-venv, default /var/tmp/tritonml-jls-venv; --no-jls leaves it out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Optional

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import jls_python, jls_version  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
JOB_RPCS = ("REQUEST_JOB_INFO", "REQUEST_JOB_USER_INFO")


def sdiag_counts() -> dict[str, int]:
    text = subprocess.run(["sdiag"], capture_output=True, text=True, check=True).stdout
    section = text.split("Remote Procedure Call statistics by message type", 1)[1]
    section = section.split("Remote Procedure Call statistics by user", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*(\w+)\s+\(\s*\d+\)\s+count:(\d+)", section, re.M)}


def job_rpcs() -> int:
    counts = sdiag_counts()
    return sum(counts.get(name, 0) for name in JOB_RPCS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def use_local_cluster() -> None:
    """Point the Slurm commands at the local cluster (dev/cluster env) unless SLURM_CONF is set."""
    if not os.environ.get("SLURM_CONF"):
        out = subprocess.run([str(REPO / "dev" / "cluster"), "env"], capture_output=True, text=True).stdout
        os.environ["SLURM_CONF"] = out.strip().split("=", 1)[1].strip("'\"")


def cleanup(proc: subprocess.Popen, tmp: Path, jobs: list[str]) -> None:
    """Cancel the benchmark's jobs, stop its server, remove its files."""
    for job in jobs:
        subprocess.run(["scancel", job], check=False)
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


async def events(url: str, token: str, stop: float, first: Optional[dict] = None) -> AsyncIterator[str]:
    """The push channel's messages until ``stop`` (time.monotonic()), after sending ``first``."""
    ws = await websocket_connect(url.replace("http://", "ws://") + f"tritonml/events?token={token}")
    if first is not None:
        ws.write_message(json.dumps(first))
    try:
        while time.monotonic() < stop:
            try:
                message = await asyncio.wait_for(ws.read_message(), max(0.1, stop - time.monotonic()))
            except asyncio.TimeoutError:
                return
            if message is None:
                return
            yield message
    finally:
        ws.close()


def start_server(tmp: Path, python: str = sys.executable,
                 extension: str = "tritonml_lab") -> tuple[subprocess.Popen, str, str]:
    port, token = free_port(), secrets.token_hex(16)
    base = "/node/bench/8888/"
    cmd = [
        python, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
        f"--ServerApp.base_url={base}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp}",
        f"--ServerApp.jpserver_extensions={{'{extension}': True}}", f"--TritonML.jobs_root={tmp}/jobs",
        "--allow-root",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(tmp / f"server-{extension}.log", "w"))
    url = f"http://127.0.0.1:{port}{base}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url, token
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the Jupyter server did not start; see {tmp}/server-{extension}.log")


async def load(url: str, token: str, clients: int, seconds: float) -> dict:
    http = AsyncHTTPClient(max_clients=clients + 10)
    headers = {"Authorization": f"token {token}"}
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def poller() -> None:
        await asyncio.sleep(random.random())  # tabs are not synchronised: spread them over the second
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            response = await http.fetch(HTTPRequest(url + "tritonml/jobs", headers=headers))
            latencies.append((time.perf_counter() - t0) * 1000)
            assert response.code == 200
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)))

    async def listener() -> int:
        return sum([1 async for _message in events(url, token, stop)])

    before = job_rpcs()
    t0 = time.monotonic()
    results = await asyncio.gather(*[poller() for _ in range(clients)], *[listener() for _ in range(clients)])
    minutes = (time.monotonic() - t0) / 60
    rpcs = job_rpcs() - before
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "rpc_per_min": rpcs / minutes,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "ws_messages": sum(r for r in results if isinstance(r, int)),
    }


async def submits(url: str, token: str, tmp: Path, n: int, submitted: list[str],
                  jls: Optional[tuple[str, str]] = None) -> dict:
    """Both sides submit the same request: one h100 GPU on gpu1, whose two GPUs the kept jobs hold,
    so every job stays PENDING. What is timed is submission alone: jobs starting on this 2-core
    machine (and their samplers) would otherwise slow whichever submission happens to follow."""
    http = AsyncHTTPClient()
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    body = json.dumps({"partition": "gpu-h100-80g", "gpus": "h100:1", "time": "00:01:00", "command": "true"})
    api, raw, preview, peer = [], [], [], []
    script = tmp / "raw.sh"
    script.write_text("#!/bin/bash\ntrue\n")
    # The peer submits a script file the user wrote; the same request in its #SBATCH lines.
    peer_script = tmp / "peer.sh"
    peer_script.write_text("#!/bin/bash\n#SBATCH -p gpu-h100-80g\n#SBATCH --gpus=h100:1\n#SBATCH -t 1\n"
                           f"#SBATCH --output={tmp}/peer-%j.out\ntrue\n")
    for _ in range(n):  # interleaved, so both see the same scheduler load
        t0 = time.perf_counter()
        response = await http.fetch(HTTPRequest(url + "tritonml/jobs", method="POST", body=body, headers=headers))
        api.append(time.perf_counter() - t0)
        assert response.code == 201
        submitted.append(json.loads(response.body)["id"])
        t0 = time.perf_counter()
        out = subprocess.run(["sbatch", "--parsable", "-p", "gpu-h100-80g", "--gpus=h100:1", "-t", "1",
                              f"--output={tmp}/raw-%j.out", str(script)], check=True, capture_output=True, text=True)
        raw.append(time.perf_counter() - t0)
        submitted.append(out.stdout.strip())
        # The same request and rendering without sbatch: what HTTP, validation and rendering cost.
        t0 = time.perf_counter()
        await http.fetch(HTTPRequest(url + "tritonml/jobs/preview", method="POST", body=body, headers=headers))
        preview.append(time.perf_counter() - t0)
        if jls is not None:
            jls_url, jls_token = jls
            t0 = time.perf_counter()
            response = await http.fetch(HTTPRequest(
                jls_url + "jupyterlab_slurm/sbatch", method="POST",
                body=json.dumps({"inputPath": str(peer_script), "outputPath": str(tmp)}),
                headers={"Authorization": f"token {jls_token}", "Content-Type": "application/json"}))
            peer.append(time.perf_counter() - t0)
            answer = json.loads(response.body)
            assert answer["success"], answer
            submitted.append(answer["data"]["jobId"])
    a, r, p = statistics.median(api), statistics.median(raw), statistics.median(preview)
    row = {"api_ms": a * 1000, "sbatch_ms": r * 1000, "preview_ms": p * 1000, "ratio": a / r}
    if peer:
        row["jls_ms"] = statistics.median(peer) * 1000
    return row


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--submits", type=int, default=20)
    parser.add_argument("--no-jls", action="store_true", help="leave the peer (jupyterlab-slurm) out")
    parser.add_argument("--jls-venv", default="/var/tmp/tritonml-jls-venv", help="the peer's venv (made if missing)")
    args = parser.parse_args()
    use_local_cluster()
    tmp = Path(tempfile.mkdtemp(prefix="tritonml-bench-"))
    proc, url, token = start_server(tmp)
    keep = []
    peer = None
    try:
        if not args.no_jls:
            python = jls_python(Path(args.jls_venv))
            peer = start_server(tmp, python, "jupyterlab_slurm")
            print(f"peer: jupyterlab-slurm {jls_version(python)}")
        # Two long jobs that stay pending/running: the monitor's busiest case.
        for gpus in ("h100:2", "h100:2"):
            keep.append(subprocess.run(
                ["sbatch", "--parsable", "-p", "gpu-h100-80g", f"--gpus={gpus}", "-t", "10",
                 f"--output={tmp}/keep-%j.out", "--wrap", "sleep 600"],
                check=True, capture_output=True, text=True).stdout.strip())
        print(f"1. Scheduler load, {args.seconds:.0f} s per row (jobs pending meanwhile: monitor at its fastest)")
        print(f"{'clients':>8} {'GETs':>7} {'job RPC/min':>12} {'GET p50 ms':>11} {'GET p99 ms':>11} {'pushed msgs':>12}")
        for n in [int(x) for x in args.clients.split(",") if x]:
            row = await load(url, token, n, args.seconds)
            print(f"{row['clients']:>8} {row['requests']:>7} {row['rpc_per_min']:>12.1f} "
                  f"{row['p50_ms']:>11.2f} {row['p99_ms']:>11.2f} {row['ws_messages']:>12}")
        print(f"\n2. Submit, median of {args.submits} each (interleaved, one run)")
        row = await submits(url, token, tmp, args.submits, keep, peer and peer[1:])
        print(f"POST jobs {row['api_ms']:.1f} ms, raw sbatch {row['sbatch_ms']:.1f} ms, ratio {row['ratio']:.2f} (target <= 1.5)")
        print(f"  of which HTTP + validation + rendering (POST jobs/preview, no sbatch): {row['preview_ms']:.1f} ms")
        if "jls_ms" in row:
            print(f"peer: jupyterlab-slurm POST sbatch {row['jls_ms']:.1f} ms, ratio to raw sbatch "
                  f"{row['jls_ms'] / row['sbatch_ms']:.2f}; ours / the peer's {row['api_ms'] / row['jls_ms']:.2f}")
    finally:
        if peer is not None:
            peer[0].terminate()
            peer[0].wait(10)
        cleanup(proc, tmp, keep)


if __name__ == "__main__":
    asyncio.run(main())
