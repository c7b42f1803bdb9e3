"""Dead tabs cost nothing, live ones stay: the push channel pings its sockets, keeps every one that
answers for as long as it is open, drops one whose browser vanished without a close frame within two
ping intervals, and the monitor then stops; one socket may follow only so many jobs' charts."""

import asyncio
import base64
import json
import os
import time

import pytest

from tritonml_lab.server.handlers import EventsHandler

pytestmark = pytest.mark.usefixtures("slurm_cluster")


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["TritonML"]["monitor_idle_after_seconds"] = 1.0
    return jp_server_config


async def open_raw(port: int, path: str, auth: dict):
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
    return reader, writer


async def silent_socket(port: int, path: str, auth: dict):
    return (await open_raw(port, path, auth))[1]


class RawClient:
    """A WebSocket client on a bare TCP connection that reads every frame the server sends and answers
    its first ``answers`` pings (tornado's and browsers' clients answer every ping): 0 is a browser
    killed right after it connected, 2 one whose laptop was closed after half a minute."""

    def __init__(self, reader, writer, answers: int) -> None:
        self.reader, self.writer, self.answers = reader, writer, answers
        self.pings: list[float] = []  # when each server ping arrived
        self.answered: list[float] = []  # when each pong was sent
        self.closed_at = None  # when the server's close frame (or the end of the stream) came
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                head = await self.reader.readexactly(2)
                opcode, length = head[0] & 0x0F, head[1] & 0x7F
                if length == 126:
                    length = int.from_bytes(await self.reader.readexactly(2), "big")
                elif length == 127:
                    length = int.from_bytes(await self.reader.readexactly(8), "big")
                payload = await self.reader.readexactly(length)  # server frames are not masked
                if opcode == 0x8:
                    break
                if opcode == 0x9:
                    self.pings.append(time.monotonic())
                    if len(self.answered) < self.answers:
                        mask = os.urandom(4)
                        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                        self.writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
                        self.answered.append(time.monotonic())
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        self.closed_at = time.monotonic()

    async def close(self) -> None:
        self.task.cancel()
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (OSError, asyncio.TimeoutError):
            pass


async def test_at_the_default_intervals_a_live_tab_stays_and_a_silent_one_goes(
        jp_serverapp, jp_http_port, jp_base_url, jp_auth_header, jp_ws_fetch):
    """The product's own ping settings, nothing patched. A tab that answers pings (tornado's client
    answers them as a browser does) is still connected after four intervals; one that never answers
    is closed two intervals after it opened; one that answered two pings and then went silent is
    closed within two intervals of its last answer."""
    interval = EventsHandler.ping_interval / 1000
    assert interval < EventsHandler.ping_timeout / 1000 < 2 * interval
    path, monitor = f"{jp_base_url}tritonml/events", jp_serverapp.web_app.settings["tritonml"].monitor
    live = await jp_ws_fetch("tritonml", "events")
    opened = time.monotonic()
    live_pings: list[float] = []
    live.on_ping = lambda data: live_pings.append(time.monotonic())  # tornado answers it by itself
    silent = RawClient(*await open_raw(jp_http_port, path, jp_auth_header), answers=0)
    stops = RawClient(*await open_raw(jp_http_port, path, jp_auth_header), answers=2)
    try:
        assert json.loads(await asyncio.wait_for(live.read_message(), 10))["event"] == "snapshot"
        await asyncio.wait_for(asyncio.gather(silent.task, stops.task), 5 * interval)
        slack = 3.0  # the event loop's timers on a loaded machine
        # Never answered: closed at the second check, two intervals after the open.
        assert interval < silent.closed_at - opened <= 2 * interval + slack, silent.closed_at - opened
        # Answered two pings, then silent: the next ping goes unanswered and the check after it closes it.
        assert len(stops.answered) == 2 and len(stops.pings) == 3, stops.pings
        assert stops.closed_at - stops.answered[-1] <= 2 * interval + slack
        assert stops.closed_at - stops.pings[-1] <= interval + slack
        # The live tab: open across four intervals, pinged at each, and still answering.
        assert time.monotonic() - opened >= 3 * interval
        assert len(live_pings) >= 3 and live.close_code is None
        live.write_message("ping")
        while json.loads(await asyncio.wait_for(live.read_message(), 10))["event"] != "pong":
            pass
        deadline = time.monotonic() + 10  # tornado's close waits up to 5 s for the client's close frame
        while len(monitor._listeners) > 1:
            assert time.monotonic() < deadline, "a dead socket stayed subscribed"
            await asyncio.sleep(0.1)
        assert len(monitor._listeners) == 1  # the two dead sockets unsubscribed, the live one did not
        print(f"\nping interval {interval:g} s: silent socket closed after {silent.closed_at - opened:.1f} s, "
              f"the one that stopped answering {stops.closed_at - stops.answered[-1]:.1f} s after its last pong; "
              f"the live one pinged {len(live_pings)} times in {time.monotonic() - opened:.1f} s and still open")
    finally:
        live.close()
        await silent.close()
        await stops.close()
        while await asyncio.wait_for(live.read_message(), 10) is not None:  # until the close completes
            pass


async def test_a_killed_browser_stops_the_polling(jp_fetch, jp_serverapp, jp_http_port, jp_base_url,
                                                  jp_auth_header, monkeypatch):
    # In addition to the test at the defaults above: the handler's server-side pings 50 times quicker
    # than in production (every 15 s, dropped 22.5 s after the last pong).
    monkeypatch.setattr(EventsHandler, "ping_interval", 300, raising=False)
    monkeypatch.setattr(EventsHandler, "ping_timeout", 450, raising=False)
    monitor = jp_serverapp.web_app.settings["tritonml"].monitor
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
