"""Replaying the real H200 trace through the metrics hub, as a job writing it live would."""

import asyncio
import shutil
from pathlib import Path

from tritonml_lab.metrics.stream import MetricsHub, history, job_summary

TRACE = Path(__file__).parent / "data" / "gpu-traces" / "h200-matmul-phases.nvml.jsonl"


async def history_of(received: list, job_id: str, timeout: float = 10.0) -> dict:
    """The "metrics-history" the hub sent for ``job_id`` (read in its pool, not on the loop)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for event, data in received:
            if event == "metrics-history" and data["id"] == job_id:
                return data
        await asyncio.sleep(0.01)
    raise AssertionError(f"no metrics-history for {job_id}")


async def test_history_then_live_points_in_order(tmp_path):
    lines = TRACE.read_text().splitlines(keepends=True)
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    target = job_dir / "samples.gpu1.jsonl"
    target.write_text("".join(lines[:21]))  # header + 20 samples written so far

    hub = MetricsHub(lambda job_id: job_dir if job_id == "7" else None, interval=0.05)
    received = []
    unwatch = hub.watch("7", lambda event, data: received.append((event, data)))
    past = await history_of(received, "7")
    received.clear()
    assert past["nodes"]["gpu1"]["header"]["gpus"][0]["name"] == "NVIDIA H200"
    assert len(past["nodes"]["gpu1"]["samples"]) == 20

    with target.open("a") as handle:  # the job goes on writing, partial lines included
        for line in lines[21:41]:
            handle.write(line[:10])
            handle.flush()
            await asyncio.sleep(0.01)
            handle.write(line[10:])
            handle.flush()
    for _ in range(100):
        if sum(len(d["samples"]) for _, d in received) >= 20:
            break
        await asyncio.sleep(0.05)
    live = [s for _, d in received for s in d["samples"]]
    times = [s["t"] for s in past["nodes"]["gpu1"]["samples"]] + [s["t"] for s in live]
    assert len(live) == 20 and times == sorted(times) and len(set(times)) == 40
    assert all(event == "metrics" and data["id"] == "7" and data["node"] == "gpu1" for event, data in received)

    # A second node's file appearing later is streamed from its start.
    shutil.copy(TRACE, job_dir / "samples.gpu2.jsonl")
    for _ in range(100):
        if any(d["node"] == "gpu2" for _, d in received):
            break
        await asyncio.sleep(0.05)
    assert any(d["node"] == "gpu2" for _, d in received)
    unwatch()
    hub.close()


def test_summary_over_nodes(tmp_path):
    shutil.copy(TRACE, tmp_path / "samples.gpu1.jsonl")
    shutil.copy(TRACE, tmp_path / "samples.gpu2.jsonl")
    summary = job_summary(tmp_path)
    assert [g["node"] for g in summary["gpus"]] == ["gpu1", "gpu2"]
    assert summary["source"] == "nvml" and summary["seconds"] > 80
    assert len(history(tmp_path, max_points=30)["nodes"]["gpu1"]["samples"]) <= 31
    assert job_summary(tmp_path / "nothing-here") is None


async def test_a_gpu_job_streams_its_samples_over_the_push_channel(jp_fetch, jp_ws_fetch, slurm_cluster):
    """A real job writes samples (no GPU here: CPU and memory only); the history comes over REST
    and over the WebSocket, then live points while it runs."""
    import json

    response = await jp_fetch("tritonml", "jobs", method="POST", body=json.dumps(
        {"partition": "gpu-h100-80g", "gpus": "h100:1", "time": "00:05:00",
         "code": "import time\nt = time.time()\nwhile time.time() - t < 6:\n    sum(range(10000))\n"}))
    job_id = json.loads(response.body)["id"]
    ws = await jp_ws_fetch("tritonml", "events")
    assert json.loads(await ws.read_message())["event"] == "snapshot"
    for _ in range(60):  # wait until the job started and wrote its first samples
        history = json.loads((await jp_fetch("tritonml", "jobs", job_id, "metrics")).body)
        if history["nodes"]:
            break
        await asyncio.sleep(0.25)
    (node,) = history["nodes"]
    assert node == "gpu1" and history["nodes"][node]["header"]["src"] == "none"
    ws.write_message(json.dumps({"action": "watch-metrics", "id": job_id}))
    live = []
    while len(live) < 2:
        message = json.loads(await asyncio.wait_for(ws.read_message(), 20))
        if message["event"] == "metrics-history":
            assert message["data"]["id"] == job_id
        elif message["event"] == "metrics":
            live += message["data"]["samples"]
    assert all(s["c"] is None or s["c"] >= 0 for s in live) and live[-1]["t"] > live[0]["t"]
    ws.write_message(json.dumps({"action": "watch-metrics", "id": "../../etc"}))
    events = []
    while "error" not in events:
        events.append(json.loads(await asyncio.wait_for(ws.read_message(), 5))["event"])
    ws.close()


async def test_a_hung_directory_stops_only_its_own_charts(tmp_path):
    """Issue 23 item 5, the watch path: finding or reading one job's directory hangs (an OST that
    stopped answering; here the lookup blocks until released). The hub's defaults (1 s polls, its
    pool's 10 s time-out): the other job's history and live points still come, the event loop keeps
    turning, and the hung job's history says "directory not answering"."""
    import threading
    import time

    lines = TRACE.read_text().splitlines(keepends=True)
    ok = tmp_path / "ok"
    ok.mkdir()
    target = ok / "samples.gpu1.jsonl"
    target.write_text("".join(lines[:21]))
    release = threading.Event()
    # On the code before the fix the loop itself blocked in the lookup: released after this long, so
    # that the test fails instead of hanging.
    watchdog = threading.Timer(30, release.set)
    watchdog.start()

    def find_dir(job_id):
        if job_id == "9":
            release.wait()
            return None
        return ok

    hub = MetricsHub(find_dir)
    received = []
    try:
        started = time.monotonic()
        unwatch_hung = hub.watch("9", lambda event, data: received.append((event, data)))
        unwatch_ok = hub.watch("7", lambda event, data: received.append((event, data)))
        past = await history_of(received, "7", timeout=5)
        assert time.monotonic() - started < 5 and len(past["nodes"]["gpu1"]["samples"]) == 20
        with target.open("a") as handle:
            handle.writelines(lines[21:26])
        lags = []
        deadline = time.monotonic() + 15
        while not any(e == "metrics" and d["id"] == "7" for e, d in received):
            assert time.monotonic() < deadline, "the healthy job's samples never came"
            before = time.monotonic()
            await asyncio.sleep(0.05)
            lags.append(time.monotonic() - before - 0.05)
        assert max(lags) < 0.5, "the event loop stalled"
        hung = await history_of(received, "9", timeout=15)
        assert hung["nodes"] == {} and hung["error"] == "directory not answering"
        assert not release.is_set(), "the watchdog had to release the lookup"
        unwatch_hung()
        unwatch_ok()
    finally:
        watchdog.cancel()
        release.set()
        hub.close()
