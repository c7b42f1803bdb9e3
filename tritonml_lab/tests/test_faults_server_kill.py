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


def age(job_dir, seconds: float) -> None:
    """The submission as a later server start finds it ``seconds`` later: the manifest's submit time
    and the files' times moved back (instead of waiting)."""
    manifest = json.loads((job_dir / "manifest.json").read_text())
    manifest["submitted_at"] -= seconds
    (job_dir / "manifest.json").write_text(json.dumps(manifest))
    marker = job_dir.parent / ".tritonml" / "submitting" / job_dir.name
    for path in (job_dir, marker, *job_dir.iterdir()):
        info = path.stat()
        os.utime(path, (info.st_atime - seconds, info.st_mtime - seconds))


async def test_a_server_killed_right_after_sbatch_whose_job_then_completes_shows_it_completed(tmp_path, jobs_root):
    """Issue 23, in a site's order: slurmctld stalls while POST jobs waits in sbatch; the server is
    killed (SIGKILL) before it could link the id; slurmctld resumes, queues and runs the job, which
    completes; a new server starts with the submission 15 minutes old, past the grace time, and lists
    the jobs. The job is found in accounting by the token in its --comment and shows COMPLETED with
    its logs and outputs; nothing is deleted. Default intervals and time-outs throughout."""
    from .cluster_control import daemon_pid

    name = f"killed-{secrets.token_hex(3)}"
    body = json.dumps({"name": name, "partition": "batch-csl", "time": "00:05:00",
                       "command": "echo hello-from-the-job; echo 42 > result.txt"})
    first, second, paused = Server(tmp_path, jobs_root), None, None
    try:
        await first.started()
        pid = daemon_pid("slurmctld")
        os.kill(pid, signal.SIGSTOP)
        paused = pid
        post = asyncio.ensure_future(first.fetch("jobs", method="POST", body=body))
        submitting = jobs_root / ".tritonml" / "submitting"
        deadline = time.monotonic() + 30
        while not (submitting.is_dir() and any(submitting.iterdir())):  # the intent is written: sbatch runs
            assert time.monotonic() < deadline, "the submission never started"
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # sbatch has sent its request and waits for the answer
        first.kill()
        os.kill(pid, signal.SIGCONT)
        paused = None
        await asyncio.gather(post, return_exceptions=True)
        (job_dir,) = [p for p in jobs_root.iterdir() if p.name.startswith("job-")]
        assert json.loads((job_dir / "manifest.json").read_text())["job_id"] is None  # the id was never linked
        job_id = None
        for _ in range(240):  # the killed server's sbatch queues the job; it runs and completes
            out = slurm("sacct", "-X", "--noheader", "--parsable2", "--name", name, "--format=JobID,State",
                        "--starttime=now-3600").split()
            if out:
                job_id, state = out[0].split("|")
                if state == "COMPLETED":
                    break
            await asyncio.sleep(0.5)
        assert job_id is not None and state == "COMPLETED", out
        assert not slurm("squeue", "--me", "--noheader", "--name", name, "--format=%i").strip()  # out of the queue
        age(job_dir, 15 * 60)

        second = Server(tmp_path, jobs_root)
        await second.started()
        listed = None
        # Reconciliation runs in the background after the first listing. slurmctld still lists the
        # ended job (MinJobAge), so it may show at first as not ours, until its manifest is read again.
        for _ in range(120):
            jobs = json.loads((await second.fetch("jobs")).body)["jobs"]
            listed = next((j for j in jobs if j["id"] == job_id), None)
            if listed is not None and listed["state"] == "COMPLETED" and listed["tracked"]:
                break
            await asyncio.sleep(0.5)
        assert listed is not None and listed["state"] == "COMPLETED" and listed["tracked"], listed
        detail = json.loads((await second.fetch(f"jobs/{job_id}")).body)
        assert detail["directory"] == str(job_dir) and detail["state"] == "COMPLETED"
        logs = json.loads((await second.fetch(f"jobs/{job_id}/log?stream=stdout")).body)
        assert "hello-from-the-job" in logs["data"], logs
    finally:
        if paused is not None:
            os.kill(paused, signal.SIGCONT)
        slurm("scancel", "--name", name)
        for server in (first, second):
            if server is not None and server.proc.poll() is None:
                server.kill()
    # Nothing deleted: the directory, its script, logs and outputs, and no note that it was not submitted.
    assert (job_dir / "result.txt").read_text() == "42\n"
    assert {"job.sh", "manifest.json", "stdout.log", "exit_code.job"} <= {p.name for p in job_dir.iterdir()}
    assert not (job_dir / "never-submitted.json").exists()
    assert os.readlink(jobs_root / job_id) == job_dir.name
    assert not any((jobs_root / ".tritonml" / "submitting").iterdir())
