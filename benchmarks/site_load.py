"""Issue 13: what one server costs slurmctld at site scale, and how soon state changes reach the browser.

    python benchmarks/site_load.py [--minutes 2] [--jobs 20] [--no-jls] [--jls-venv DIR]

Needs root and the local cluster (dev/cluster up). Every server under test runs as a system user of
its own (tmlb-*, created once), so that sdiag's "RPC statistics by user" count that server's calls
to slurmctld alone, while other people use the same cluster (no `sdiag --reset`: it would spoil
their figures). Servers run the system Python 3.11 with this checkout's .venv on PYTHONPATH: the
.venv's own interpreter lives under /root, which other users cannot reach.

1. slurmctld RPCs per minute over one window of --minutes, all servers at once, each in one state:
   no tab; (a) an idle tab; (b) one pending job; (c) one running job; (d) ten running jobs and a
   100-task array; and jupyterlab-slurm (PyPI, in a throwaway venv) with one tab that polls squeue
   at its default interval, counted the same way (sdiag sampled every second: the rate comes from
   the calls' spacing). The RPC types of one squeue of each. GET tritonml/jobs p50 for one client,
   during (c).
2. Delay from Slurm's own Start/End (sacct, whole seconds: up to 1 s of it is rounding) to the
   state change on a WebSocket client, --jobs jobs each: start, completion, failure; cancel from
   the DELETE's return. jupyterlab-slurm's tab, polling meanwhile, measured the same way.
3. Both extrapolated to a site with 500 open sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jobs_load import events, free_port, use_local_cluster  # noqa: E402
from peers import PYTHON, jls_default_interval, jls_python, jls_version  # noqa: E402
from sweep_bench import call  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tritonml_lab.server.handlers.events import EventsHandler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SITE = 500
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"}
JLS_GONE = {"CD", "F", "CA", "TO", "OOM", "NF", None}  # squeue's codes of ended jobs, or no longer listed


def rpcs_by_user() -> dict[str, int]:
    """sdiag's RPC counts by user, and "since" under the key "": other sessions' tests restart
    slurmctld now and then, which starts the counts again."""
    text = subprocess.run(["sdiag"], capture_output=True, text=True, check=True).stdout
    section = text.split("Remote Procedure Call statistics by user", 1)[1].split("Pending RPC", 1)[0]
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*(\S+)\s+\(\s*\d+\)\s+count:(\d+)", section, re.M)}
    counts[""] = int(re.search(r"Data since .*\((\d+)\)", text).group(1))
    return counts


def ensure_user(name: str) -> None:
    if subprocess.run(["getent", "passwd", name], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/bash", name], check=True)


class Server:
    """A Jupyter server run as ``user`` with either tritonml-lab or jupyterlab-slurm."""

    def __init__(self, tmp: Path, user: str, python: str = PYTHON, extension: str = "tritonml_lab") -> None:
        ensure_user(user)
        self.user, self.home = user, tmp / user
        self.home.mkdir()
        shutil.chown(self.home, user, user)
        port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{port}/node/bench/8888/"
        site = next((REPO / ".venv" / "lib").glob("python3*/site-packages"))
        env = {"HOME": str(self.home), "PATH": os.environ["PATH"], "SLURM_CONF": os.environ["SLURM_CONF"],
               "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"), "JUPYTER_CONFIG_DIR": str(self.home / "config"),
               "LANG": "C.UTF-8"}
        if extension == "tritonml_lab":
            env["PYTHONPATH"] = f"{REPO}:{site}"
        cmd = ["runuser", "-u", user, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()], python, "-m",
               "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               "--ServerApp.base_url=/node/bench/8888/", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.home}", f"--ServerApp.jpserver_extensions={{'{extension}': True}}",
               f"--TritonML.jobs_root={self.home}/jobs"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(tmp / f"{user}.log", "w"))

    async def ready(self) -> None:
        http = AsyncHTTPClient()
        for _ in range(300):
            try:
                response = await http.fetch(self.url + "api/status", headers={"Authorization": f"token {self.token}"})
                if response.code == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the server of {self.user} did not start: {self.home.parent / self.user}.log")

    async def submit(self, **spec) -> str:
        return (await call(self.url, self.token, "jobs", "POST", {"partition": "batch-csl", "time": "00:15:00", **spec}))[1]["id"]

    def stop(self) -> None:
        subprocess.run(["scancel", "-u", self.user], check=False)
        self.proc.terminate()
        self.proc.wait(15)


class Tab:
    """A browser tab on our server: the push channel, every job event with its arrival time. Its
    socket answers the server's pings (tornado's client does, as a browser does) and must stay open
    to the end: a close before ``stop`` is counted in ``drops`` (issue 23: every socket was closed
    after 15 s, so earlier figures measured monitors whose tabs had gone) and the tab reconnects, as
    the front end does."""

    tabs: list["Tab"] = []

    def __init__(self, server: Server, stop: float) -> None:
        self.seen: dict[tuple[str, str], float] = {}  # (job id, state) -> first arrival
        self.drops = 0
        self.task = asyncio.ensure_future(self._listen(server, stop))
        Tab.tabs.append(self)

    async def _listen(self, server: Server, stop: float) -> None:
        while True:
            async for message in events(server.url, server.token, stop):
                at, message = time.time(), json.loads(message)
                if message["event"] == "job":
                    self.seen.setdefault((message["data"]["id"], message["data"]["state"]), at)
            if time.monotonic() >= stop - 0.5:
                return
            self.drops += 1
            await asyncio.sleep(1.0)  # the front end's first retry

    async def wait(self, job_id: str, states: set[str], timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [at for (jid, state), at in self.seen.items() if jid == job_id and state in states]
            if found:
                return min(found)
            await asyncio.sleep(0.05)
        raise RuntimeError(f"job {job_id} never reached {states}")


class JlsTab:
    """A jupyterlab-slurm tab with its queue panel open: GET squeue every ``interval`` seconds."""

    def __init__(self, server: Server, interval: float, stop: float) -> None:
        self.polls: list[tuple[float, dict[str, str]]] = []  # (time, {job id: ST})
        self.task = asyncio.ensure_future(self._poll(server, interval, stop))

    async def _poll(self, server: Server, interval: float, stop: float) -> None:
        http = AsyncHTTPClient()
        request = HTTPRequest(server.url + "jupyterlab_slurm/squeue", headers={"Authorization": f"token {server.token}"})
        while time.monotonic() < stop:
            t0 = time.monotonic()
            body = json.loads((await http.fetch(request, raise_error=False)).body or b"{}")
            rows = (body.get("data") or {}).get("rows") or []
            self.polls.append((time.time(), {row[0]: row[4] for row in rows}))
            await asyncio.sleep(max(0.0, min(stop, t0 + interval) - time.monotonic()))

    def first(self, job_id: str, after: float, states: set) -> float | None:
        return next((at for at, jobs in self.polls if at >= after and jobs.get(job_id) in states), None)


async def get_p50(server: Server, stop: float) -> float:
    latencies = []
    while time.monotonic() < stop:
        elapsed, _ = await call(server.url, server.token, "jobs")
        latencies.append(elapsed * 1000)
        await asyncio.sleep(1.0)
    return statistics.median(latencies)


def sbatch(*args: str) -> str:
    for _ in range(10):  # slurmctld may be restarting (other sessions' tests stop it)
        done = subprocess.run(["sbatch", "--parsable", *args], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.strip()
        time.sleep(3)
    raise RuntimeError(f"sbatch failed: {done.stderr}")


def slurm_times(ids: list[str]) -> dict[str, tuple[float, float]]:
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-o", "JobID,Start,End", "-j", ",".join(ids)], check=True,
                         capture_output=True, text=True, env={**os.environ, "SLURM_TIME_FORMAT": "%s"}).stdout
    times = {}
    for line in out.splitlines():
        jid, start, end = line.split("|")
        if start.isdigit() and end.isdigit():
            times[jid] = (float(start), float(end))
    return times


async def sample_rpcs(stop: float) -> list[tuple[float, dict[str, int]]]:
    """sdiag's counts by user once a second: when each server called, not only how often."""
    samples = []
    while time.monotonic() < stop:
        samples.append((time.monotonic(), await asyncio.to_thread(rpcs_by_user)))
        await asyncio.sleep(1.0)
    return samples


def rate(samples: list[tuple[float, dict[str, int]]], user: str) -> tuple[int, float]:
    """(calls in the window, calls per minute). The rate is taken from the calls' spacing (the
    calls after the first, over the time from the first to the last): with one call a minute, a
    window of two minutes holds two or three calls depending on where it starts, and calls/window
    would say 1.0 or 1.5 for the same server."""
    counts = [(t, c.get(user, 0)) for t, c in samples]
    calls = counts[-1][1] - counts[0][1]
    steps = [(t, c - p) for (t, c), (_, p) in zip(counts[1:], counts) if c > p]
    if len(steps) < 2:
        return calls, calls / ((counts[-1][0] - counts[0][0]) / 60)
    return calls, sum(n for _t, n in steps[1:]) / ((steps[-1][0] - steps[0][0]) / 60)


def rpc_types(user: str, args: list[str], n: int = 10) -> dict[str, float]:
    """slurmctld RPCs by type of one command, run n times as ``user`` (whole-cluster counts: others'
    calls meanwhile would show too, so n is small and the answer rounded)."""
    def by_type() -> dict[str, int]:
        text = subprocess.run(["sdiag"], capture_output=True, text=True, check=True).stdout
        section = text.split("by message type", 1)[1].split("by user", 1)[0]
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*(\w+)\s+\(\s*\d+\)\s+count:(\d+)", section, re.M)}
    def delta(run: bool) -> dict[str, int]:
        before, t0 = by_type(), time.monotonic()
        for _ in range(n):
            if run:
                subprocess.run(["runuser", "-u", user, "--", *args], capture_output=True, check=False)
            else:
                time.sleep(0.05)
        after = by_type()
        return {k: v - before.get(k, 0) for k, v in after.items()}
    ran, idle = delta(True), delta(False)  # the same stretch without the command: others' calls
    return {k: round((v - idle.get(k, 0)) / n, 1) for k, v in ran.items()
            if k != "REQUEST_STATS_INFO" and round((v - idle.get(k, 0)) / n, 1) > 0}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def rpc_window(args, tmp: Path, jls: tuple[str, float] | None) -> dict:
    names = {"no tab": "tmlb-notab", "(a) idle tab": "tmlb-idle", "(b) 1 pending": "tmlb-pending",
             "(c) 1 running": "tmlb-running", "(d) 10 running + 100-task array": "tmlb-many"}
    servers = {label: Server(tmp, user) for label, user in names.items()}
    if jls:
        servers["jupyterlab-slurm, 1 tab"] = Server(tmp, "tmlb-jls", jls[0], "jupyterlab_slurm")
    blocker = None
    try:
        await asyncio.gather(*(server.ready() for server in servers.values()))
        # (b): a job that waits for GPUs that a job submitted before it holds.
        blocker = sbatch("-p", "gpu-a100-80g", "--gpus=a100:2", "-t", "20", "-o", "/dev/null", "--wrap", "sleep 1200")
        pending = await servers["(b) 1 pending"].submit(partition="gpu-a100-80g", gpus="a100:1", command="sleep 600")
        await servers["(c) 1 running"].submit(command="sleep 900")
        many = servers["(d) 10 running + 100-task array"]
        for i in range(10):
            await many.submit(partition=("gpu-h100-80g", "gpu-a100-80g")[i % 2], command="sleep 900")
        await many.submit(array="0-99%4", command="sleep 20")
        stop = time.monotonic() + 30 + args.minutes * 60
        tabs = [Tab(server, stop) for label, server in servers.items() if label.startswith("(")]
        if jls:
            tabs.append(JlsTab(servers["jupyterlab-slurm, 1 tab"], jls[1], stop))
        await asyncio.sleep(30)  # the submissions' own squeue calls, and the tabs' first snapshot, settle
        t0 = time.monotonic()
        samples, p50, *_ = await asyncio.gather(sample_rpcs(stop), get_p50(servers["(c) 1 running"], stop),
                                                *(tab.task for tab in tabs))
        if samples[0][1][""] != samples[-1][1][""]:
            raise RuntimeError("slurmctld restarted during the window (its counts started again): run again")
        state = subprocess.run(["squeue", "-h", "-o", "%T %r", "-j", pending], capture_output=True, text=True).stdout
        running = subprocess.run(["squeue", "-h", "-u", many.user, "-t", "RUNNING", "-o", "%i"],
                                 capture_output=True, text=True).stdout.split()
        rates = {label: rate(samples, server.user) for label, server in servers.items()}
        fmt = '%.18i %.9P %j %.20u %.2t %.15M %.6D %R'
        types = {"ours": rpc_types("tmlb-notab", ["squeue", "--me", "--all", "--json"]),
                 "theirs": rpc_types("tmlb-notab", ["squeue", "-o", fmt, "-h"])}
        return {"rates": rates, "minutes": (time.monotonic() - t0) / 60, "get_p50_ms": p50,
                "pending_state": state.strip(), "types": types, "d_running": running}
    finally:
        if blocker:
            subprocess.run(["scancel", blocker], check=False)
        for server in servers.values():
            server.stop()


async def latency(args, tmp: Path, jls: tuple[str, float] | None) -> dict:
    server = Server(tmp, "tmlb-latency")
    jls_server = Server(tmp, "tmlb-jls2", jls[0], "jupyterlab_slurm") if jls else None
    try:
        await server.ready()
        if jls_server:
            await jls_server.ready()
        stop = time.monotonic() + 600
        tab = Tab(server, stop)
        jtab = JlsTab(jls_server, jls[1], stop) if jls_server else None
        await asyncio.sleep(2)
        ok = [await server.submit(command="sleep 3") for _ in range(args.jobs)]
        bad = [await server.submit(script="sleep 3\nexit 3\n") for _ in range(args.jobs)]
        ends = {jid: await tab.wait(jid, FINAL) for jid in ok + bad}
        starts = {jid: tab.seen[(jid, "RUNNING")] for jid in ok + bad if (jid, "RUNNING") in tab.seen}
        # Cancel: running jobs, spread over the nodes' CPUs; the delay from DELETE's return.
        parts = ("gpu-h100-80g", "gpu-a100-80g", "batch-csl")
        victims = [await server.submit(partition=parts[i % 3], command="sleep 300") for i in range(args.jobs)]
        cancels = {}
        for jid in victims:
            await tab.wait(jid, {"RUNNING"})
            await call(server.url, server.token, f"jobs/{jid}", "DELETE")
            cancels[jid] = time.time()
            await tab.wait(jid, {"CANCELLED"}, timeout=30)
        slurm = slurm_times(ok + bad)
        ours = {
            "start": [starts[j] - slurm[j][0] for j in ok + bad if j in slurm and j in starts],
            "completion": [ends[j] - slurm[j][1] for j in ok if j in slurm],
            "failure": [ends[j] - slurm[j][1] for j in bad if j in slurm],
            "cancel": [tab.seen[(j, "CANCELLED")] - cancels[j] for j in victims],
        }
        theirs = {}
        if jtab:
            await asyncio.sleep(jls[1] + 2)  # one more poll of theirs sees the last ends
            jtab.task.cancel()

            def seen(j, t, states):
                at = jtab.first(j, t, states)
                return None if at is None else at - t
            theirs = {
                "start": [seen(j, slurm[j][0], {"R", "CG"} | JLS_GONE) for j in ok + bad if j in slurm],
                "completion": [seen(j, slurm[j][1], JLS_GONE) for j in ok if j in slurm],
                "failure": [seen(j, slurm[j][1], JLS_GONE) for j in bad if j in slurm],
                "cancel": [seen(j, cancels[j], JLS_GONE) for j in victims],
            }
            theirs = {k: [v for v in vs if v is not None] for k, vs in theirs.items()}
        tab.task.cancel()
        return {"ours": ours, "theirs": theirs, "unseen_starts": 2 * args.jobs - len(starts)}
    finally:
        server.stop()
        if jls_server:
            jls_server.stop()


def report(rpc: dict, lat: dict, jls: tuple[str, float] | None) -> None:
    print(f"\n1. slurmctld RPCs of each server (sdiag, by user, sampled every second; window {rpc['minutes']:.1f} min)")
    print(f"{'state':<38}{'calls':>6}{'RPC/min':>9}{'target':>9}{'x500 sessions /min':>20}{'/s':>8}")
    targets = {"no tab": "0", "(a) idle tab": "", "(b) 1 pending": "<= 2", "(c) 1 running": "<= 1",
               "(d) 10 running + 100-task array": "<= 2"}
    for label, (calls, per_min) in rpc["rates"].items():
        print(f"{label:<38}{calls:>6}{per_min:>9.2f}{targets.get(label, ''):>9}{per_min * SITE:>20.0f}"
              f"{per_min * SITE / 60:>8.1f}")
    at10 = 2 * 60 / 10
    print(f"{'jupyterlab-slurm, 1 tab at 10 s':<38}{'':>6}{at10:>9.2f}{'':>9}{at10 * SITE:>20.0f}{at10 * SITE / 60:>8.1f}"
          "   (the 10 s of prior-art.md: counted from the interval)")
    print("RPCs per call, by type: ours (squeue --me --all --json): " + ", ".join(
        f"{k} {v:g}" for k, v in rpc["types"]["ours"].items()) + ";  jupyterlab-slurm's squeue: " + ", ".join(
        f"{k} {v:g}" for k, v in rpc["types"]["theirs"].items()))
    tasks = sum("_" in jid for jid in rpc["d_running"])
    print(f"(d) at the end: {len(rpc['d_running']) - tasks} jobs and {tasks} array tasks running; "
          f"(b)'s job in squeue: {rpc['pending_state']};  GET tritonml/jobs p50 (one client, 1/s, during (c)): "
          f"{rpc['get_p50_ms']:.2f} ms (target < 10)")
    print("\n2. Seconds from Slurm's own Start/End (sacct) to the change on the client (cancel: from DELETE's return)")
    print(f"{'event':<12}{'n':>4}{'p50':>8}{'p95':>8}{'max':>8}{'target p95':>12}" + (
        f"{'jupyterlab-slurm p50':>22}{'p95':>8}" if jls else ""))
    for event, values in lat["ours"].items():
        line = f"{event:<12}{len(values):>4}{pct(values, .5):>8.2f}{pct(values, .95):>8.2f}{max(values):>8.2f}{'<= 2':>12}"
        theirs = lat["theirs"].get(event)
        if theirs:
            line += f"{pct(theirs, .5):>22.1f}{pct(theirs, .95):>8.1f}"
        print(line)
    if lat["unseen_starts"]:
        print(f"({lat['unseen_starts']} jobs ended before their RUNNING reached the client: no start figure for them)")
    drops = [tab.drops for tab in Tab.tabs]
    print(f"\nPush channel: ping every {EventsHandler.ping_interval / 1000:g} s, closed {EventsHandler.ping_timeout / 1000:g} s "
          f"after the last pong (the defaults); {len(drops)} tabs, {sum(drops)} closed before the end of their window")
    if jls:
        print(f"\njupyterlab-slurm {jls[2]}: its tab polls squeue every {jls[1]:.0f} s by default (its settings "
              "schema); every open tab polls on its own, so 500 sessions cost 500 x that; its ends are when a job "
              "leaves its table.")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--no-jls", action="store_true", help="leave jupyterlab-slurm out")
    parser.add_argument("--jls-venv", default="", help="reuse this venv for jupyterlab-slurm")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("site_load.py needs root: its servers run as users of their own (sdiag counts per user)")
    use_local_cluster()
    tmp = Path(tempfile.mkdtemp(prefix="tritonml-site-load-"))
    os.chmod(tmp, 0o755)
    jls = None
    try:
        if not args.no_jls:
            try:
                python = jls_python(Path(args.jls_venv) if args.jls_venv else tmp / "jls-venv")
                version = jls_version(python)
                jls = (python, jls_default_interval(python), version)
            except (subprocess.CalledProcessError, OSError, ValueError) as exc:
                print(f"jupyterlab-slurm could not be installed ({exc}); counted from its documented 10 s instead")
        rpc = await rpc_window(args, tmp, jls)
        lat = await latency(args, tmp, jls)
        report(rpc, lat, jls)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
