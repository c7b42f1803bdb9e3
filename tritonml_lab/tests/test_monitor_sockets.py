"""Dead tabs cost nothing: the push channel pings its sockets, drops one whose browser vanished
without a close frame, and the monitor then stops; one socket may follow only so many jobs' charts."""

import asyncio
import base64
import json
import os
import time

import pytest

from tritonml_lab.handlers import EventsHandler

pytestmark = pytest.mark.usefixtures("slurm_cluster")


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["TritonML"]["monitor_idle_after_seconds"] = 1.0
    return jp_server_config


async def silent_socket(port: int, path: str, auth: dict):
    """A WebSocket client that completes the handshake and then never reads or answers again: a
    browser killed, or a laptop closed, with its TCP connection left open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    headers = "".join(f"{name}: {value}\r\n" for name, value in auth.items())
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n".encode()
    )
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return writer


async def test_a_killed_browser_stops_the_polling(jp_fetch, jp_serverapp, jp_http_port, jp_base_url,
                                                  jp_auth_header, monkeypatch):
    # The handler's server-side pings, quicker than in production (every 15 s, dropped after 15 s
    # without a pong).
    monkeypatch.setattr(EventsHandler, "ping_interval", 300, raising=False)
    monkeypatch.setattr(EventsHandler, "ping_timeout", 300, raising=False)
    monitor = jp_serverapp.web_app.settings["tritonml"].jobs.monitor
    writer = await silent_socket(jp_http_port, f"{jp_base_url}tritonml/events", jp_auth_header)
    try:
        deadline = time.monotonic() + 5
        while not monitor._listeners:
            assert time.monotonic() < deadline, "the socket never subscribed"
            await asyncio.sleep(0.05)
        assert monitor.interval() is not None  # someone listens: the monitor runs
        # Pings unanswered for ping_timeout, then tornado's close waits 5 s for a close frame.
        deadline = time.monotonic() + 15
        while monitor._listeners or monitor.interval() is not None:
            assert time.monotonic() < deadline, "a dead socket kept the monitor polling"
            await asyncio.sleep(0.1)
        polls, stats = monitor.polls, monitor.scanner.stats
        await asyncio.sleep(1.5)
        assert (monitor.polls, monitor.scanner.stats) == (polls, stats)
    finally:
        writer.close()


async def test_one_socket_follows_at_most_so_many_jobs_charts(jp_ws_fetch):
    ws = await jp_ws_fetch("tritonml", "events")
    assert json.loads(await ws.read_message())["event"] == "snapshot"
    for job_id in range(1, 101):
        ws.write_message(json.dumps({"action": "watch-metrics", "id": str(job_id)}))
    answers = {"metrics-history": 0, "error": 0}
    while sum(answers.values()) < 100:
        message = json.loads(await asyncio.wait_for(ws.read_message(), 10))
        if message["event"] in answers:
            answers[message["event"]] += 1
    assert 0 < answers["metrics-history"] <= 32 and answers["error"] == 100 - answers["metrics-history"]
    ws.close()
