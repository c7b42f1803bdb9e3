"""The server killed with SIGKILL in the middle of a burst of submissions, then started again on the
same jobs root: every job Slurm queued is listed as ours with its directory, none twice, and what
was never queued is not shown as a job (a real `jupyter server` process, the real cluster)."""

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from .cluster_control import slurm

pytestmark = pytest.mark.usefixtures("slurm_cluster")

BURST = 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A Jupyter server with the extension, in its own process, on one jobs root."""

    def __init__(self, tmp_path, jobs_root) -> None:
        self.port, self.token = free_port(), secrets.token_hex(8)
        self.url = f"http://127.0.0.1:{self.port}/tritonml/"
        log = open(tmp_path / f"server-{self.port}.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root", f"--port={self.port}", "--ip=127.0.0.1",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={tmp_path}",
             f"--TritonML.jobs_root={jobs_root}", "--ServerApp.jpserver_extensions={'tritonml_lab': True}"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "JUPYTER_PLATFORM_DIRS": "1"},
        )

    async def fetch(self, path, **kwargs):
        headers = {"Authorization": f"token {self.token}"}
        return await AsyncHTTPClient().fetch(self.url + path, headers=headers, **kwargs)

    async def started(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                await self.fetch("status")
                return
            except (OSError, HTTPClientError):
                await asyncio.sleep(0.3)
        raise AssertionError("the Jupyter server did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


async def test_a_killed_server_loses_and_duplicates_no_job(tmp_path, jobs_root):
    name = f"burst-{secrets.token_hex(3)}"
    first = Server(tmp_path, jobs_root)
    second = None
    try:
        await first.started()
        body = json.dumps({"name": name, "partition": "batch-csl", "time": "00:05:00", "command": "sleep 120"})
        posts = [asyncio.ensure_future(first.fetch("jobs", method="POST", body=body)) for _ in range(BURST)]
        while sum(p.done() for p in posts) < 3:  # kill it while the burst is under way
            await asyncio.sleep(0.01)
        first.kill()
        answered = sum(1 for p in posts if p.done() and not p.exception())
        await asyncio.gather(*posts, return_exceptions=True)

        second = Server(tmp_path, jobs_root)
        await second.started()
        queued, listed = {}, set()
        for _ in range(90):
            # Reconciliation runs in the background after the first listing; an sbatch the killed
            # server started may still be running and queue its job a moment later.
            queued = dict(line.split("|") for line in slurm(
                "squeue", "--me", "--noheader", "--name", name, "--format=%i|%k").split())
            jobs = json.loads((await second.fetch("jobs")).body)["jobs"]
            listed = {j["id"] for j in jobs if j["name"] == name and j["tracked"]}
            if set(queued) == listed:
                break
            await asyncio.sleep(0.5)
    finally:
        slurm("scancel", "--name", name)
        for server in (first, second):
            if server is not None and server.proc.poll() is None:
                server.kill()
    figures = f"{BURST} sent, {answered} answered before the kill, {len(queued)} queued, {len(listed)} listed"
    assert answered <= len(queued) <= BURST, figures
    assert set(queued) == listed, figures  # nothing lost, nothing shown that Slurm does not have
    assert len(set(queued.values())) == len(queued), figures  # each submission's token queued once
    print(figures)
