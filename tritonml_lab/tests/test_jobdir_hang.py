"""Issue 23 item 5: one job's directory that hangs degrades that job only.

The hang is real: manifest.json and job.sh of one job are replaced by FIFOs nobody writes, so every
open() of them blocks, as a read from an OST that stopped answering does. The job was submitted the
way the kernel's magics submit (the launcher, not the server), so the server has not read its
manifest yet. The server runs at its default intervals and time-outs. While the job's directory
hangs, GET jobs, another job's detail and an open events socket answer as fast as before (p99 within
2x, or 5 ms of scheduling jitter for sub-millisecond answers), and the hung job shows "directory not answering" in the list and in its detail.
"""

import asyncio
import json
import math
import os
import threading
import time
from pathlib import Path

import pytest

from tritonml_lab.jobs import Defaults, JobSpec, JobStore
from tritonml_lab.jobs.launcher import Launcher
from tritonml_lab.slurm import SlurmClient

from .cluster_control import slurm
from .test_jobs_api import post_job

pytestmark = pytest.mark.usefixtures("slurm_cluster")
NOT_ANSWERING = "directory not answering"
ROUNDS = 60
JITTER = 0.005
# On the code before the fix the event loop itself blocks in open(); this thread then writes the
# FIFOs after this many seconds, so that the test fails (every request took that long) instead of
# hanging for ever.
UNBLOCK_AFTER = 40.0


@pytest.fixture
def jp_server_config(jobs_root):
    """The product's defaults: only the jobs root is set (no shortened interval or time-out)."""
    return {"ServerApp": {"jpserver_extensions": {"tritonml_lab": True}},
            "TritonML": {"jobs_root": str(jobs_root)}}


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def hang(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def unblock(fifos: list[Path]) -> None:
    """Let every reader blocked on the FIFOs go: opening one for writing (non-blocking, so that a FIFO
    nobody reads is skipped) and closing it gives them end of file."""
    for fifo in fifos:
        for _ in range(20):
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                break  # no reader left


class Socket:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.messages: list[dict] = []

    async def until(self, wanted, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if wanted(message):
                    self.messages.remove(message)
                    return message
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no such message; saw {[m['event'] for m in self.messages]}"
            raw = await asyncio.wait_for(self.ws.read_message(), remaining)
            assert raw is not None, "the socket closed"
            self.messages.append(json.loads(raw))

    async def ping(self) -> float:
        started = time.monotonic()
        self.ws.write_message("ping")
        await self.until(lambda m: m["event"] == "pong")
        return time.monotonic() - started


async def timings(jp_fetch, socket: Socket, healthy: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"list": [], "detail": [], "socket": []}
    for _ in range(ROUNDS):
        started = time.monotonic()
        await jp_fetch("tritonml", "jobs")
        out["list"].append(time.monotonic() - started)
        started = time.monotonic()
        await jp_fetch("tritonml", "jobs", healthy)
        out["detail"].append(time.monotonic() - started)
        out["socket"].append(await socket.ping())
    return out


async def test_a_hung_job_directory_degrades_only_that_job(jp_fetch, jp_ws_fetch, jp_serverapp, jobs_root):
    healthy = (await post_job(jp_fetch, partition="batch-csl", time="00:05:00", command="sleep 300"))["id"]
    socket = Socket(await jp_ws_fetch("tritonml", "events"))
    fifos: list[Path] = []
    watchdog = threading.Timer(UNBLOCK_AFTER, unblock, args=(fifos,))
    hung = None
    try:
        await socket.until(lambda m: m["event"] == "snapshot")
        await jp_fetch("tritonml", "jobs", healthy)  # warm: the healthy job's detail read once
        normal = await timings(jp_fetch, socket, healthy)

        # Submitted as the kernel's magics do: the server learns of it from the jobs root and squeue.
        launcher = Launcher(JobStore(jobs_root), SlurmClient(timeout=30), Defaults(sampler_python=None))
        launched = await launcher.launch(JobSpec(partition="batch-csl", time="00:05:00", command="sleep 300"))
        launcher.close()
        hung, job_dir = launched.job_id, Path(launched.manifest.directory)
        fifos += [job_dir / "manifest.json", job_dir / "job.sh"]
        for fifo in fifos:
            hang(fifo)
        watchdog.start()
        # The list shows the hung job, without its manifest, "directory not answering" once the read
        # took longer than the directories' time-out; the job's own detail says so after that time-out.
        deadline = time.monotonic() + 30
        while True:
            listed = {j["id"]: j for j in json.loads((await jp_fetch("tritonml", "jobs")).body)["jobs"]}
            if hung in listed and listed[hung]["directory_error"] == NOT_ANSWERING:
                break
            assert time.monotonic() < deadline, f"the hung job never showed as not answering: {listed.get(hung)}"
            await asyncio.sleep(0.5)
        assert listed[healthy]["tracked"] and listed[healthy]["directory_error"] is None
        started = time.monotonic()
        detail = json.loads((await jp_fetch("tritonml", "jobs", hung)).body)
        assert time.monotonic() - started < 10
        assert detail["directory_error"] == NOT_ANSWERING and detail["script"] is None
        assert detail["state"] in ("PENDING", "RUNNING")  # what Slurm says is still shown
        pushed = await socket.until(lambda m: m["event"] == "job" and m["data"]["id"] == hung
                                    and m["data"]["directory_error"] == NOT_ANSWERING)
        assert pushed["data"]["state"] in ("PENDING", "RUNNING")

        # 2x, and never less than 5 ms over: a sub-millisecond ping on a shared 2-core machine meets
        # one scheduling hiccup in 60. (Before the fix every request waited UNBLOCK_AFTER seconds.)
        def too_slow(degraded: dict[str, list[float]]) -> list[str]:
            return [what for what in normal
                    if p99(degraded[what]) > max(2 * p99(normal[what]), p99(normal[what]) + JITTER)]

        # Up to three rounds of timings: another process's burst of CPU (a loaded 2-core machine)
        # slows one round by some ms; a request that waits on the hung directory is slow in every one.
        for _round in range(3):
            degraded = await timings(jp_fetch, socket, healthy)
            if not too_slow(degraded):
                break
        assert not watchdog.finished.is_set(), "the event loop was blocked until the watchdog unblocked it"
        for what in normal:
            assert p99(degraded[what]) <= max(2 * p99(normal[what]), p99(normal[what]) + JITTER), (
                what, f"p99 {p99(degraded[what]) * 1000:.1f} ms while one directory hangs, "
                      f"{p99(normal[what]) * 1000:.1f} ms before")
        # The healthy job's charts still open over the same socket.
        socket.ws.write_message(json.dumps({"action": "watch-metrics", "id": healthy}))
        history = await socket.until(lambda m: m["event"] == "metrics-history", timeout=10)
        assert history["data"]["id"] == healthy and "error" not in history["data"]
    finally:
        watchdog.cancel()
        unblock(fifos)
        socket.ws.close()
        slurm("scancel", healthy, *([hung] if hung else []))
        jp_serverapp.web_app.settings["tritonml"].close()  # its threads end now, not at the server's end


async def test_a_manifest_briefly_unreadable_is_read_again(jp_fetch, jp_serverapp, jobs_root):
    """Issue 23 item 10: a manifest that could not be read once (caught half-written, an NFS hiccup)
    made its job show as untracked for the server's lifetime. Now it is looked for again."""
    launcher = Launcher(JobStore(jobs_root), SlurmClient(timeout=30), Defaults(sampler_python=None))
    launched = await launcher.launch(JobSpec(partition="batch-csl", time="00:05:00", command="sleep 300"))
    launcher.close()
    job_id, manifest = launched.job_id, Path(launched.manifest.directory) / "manifest.json"
    good = manifest.read_text()
    try:
        manifest.write_text(good[: len(good) // 2])  # half of it: not JSON
        deadline = time.monotonic() + 30
        while True:
            listed = {j["id"]: j for j in json.loads((await jp_fetch("tritonml", "jobs")).body)["jobs"]}
            if job_id in listed:
                break
            assert time.monotonic() < deadline, "the job never showed up"
            await asyncio.sleep(0.5)
        assert not listed[job_id]["tracked"] and listed[job_id]["directory"] is None
        manifest.write_text(good)
        started = time.monotonic()
        while not listed[job_id]["tracked"]:
            assert time.monotonic() - started < 30, "the job stays untracked"
            await asyncio.sleep(1)
            listed = {j["id"]: j for j in json.loads((await jp_fetch("tritonml", "jobs")).body)["jobs"]}
        assert listed[job_id]["directory"] == launched.manifest.directory
        detail = json.loads((await jp_fetch("tritonml", "jobs", job_id)).body)
        assert detail["tracked"] and detail["script"].startswith("#!/bin/bash")
    finally:
        slurm("scancel", job_id)
        jp_serverapp.web_app.settings["tritonml"].close()
