"""Issue 23, item 1: a push channel held for a long time at the product's default ping settings.

    python benchmarks/push_soak.py [--minutes 10]

Starts a Jupyter server with tritonml-lab (the local cluster: dev/cluster up) and opens its push
channel (tritonml/events) with tornado's WebSocket client, which answers the server's pings as a
browser does; like the front end it also sends the text "ping" every 30 s and expects "pong". It holds
the socket for --minutes and then says how long it stayed open, how many server pings it answered and
whether the server logged a ping time-out. Nothing is patched: the handler's own interval and time-out.
A socket closed before the end is a failure (exit status 1).

Not part of the test suite (it takes ten minutes); tests/test_monitor_sockets.py holds a socket for
four intervals at the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tornado.websocket import websocket_connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from jobs_load import start_server, use_local_cluster  # noqa: E402

from tritonml_lab.server.handlers.events import EventsHandler  # noqa: E402

APP_PING_SECONDS = 30.0  # src/events/channel.ts


async def soak(url: str, token: str, seconds: float) -> dict:
    ws = await websocket_connect(url.replace("http://", "ws://") + f"tritonml/events?token={token}")
    opened = time.monotonic()
    pings: list[float] = []
    ws.on_ping = lambda data: pings.append(time.monotonic() - opened)  # tornado sends the pong itself
    events: dict[str, int] = {}
    app_pings = 0
    closed_at = None
    next_app_ping = opened + APP_PING_SECONDS
    try:
        while time.monotonic() - opened < seconds:
            timeout = max(0.1, min(next_app_ping, opened + seconds) - time.monotonic())
            try:
                message = await asyncio.wait_for(ws.read_message(), timeout)
            except asyncio.TimeoutError:
                message = ""
            if message is None:
                closed_at = time.monotonic() - opened
                break
            if message:
                event = json.loads(message)["event"]
                events[event] = events.get(event, 0) + 1
            if time.monotonic() >= next_app_ping:
                ws.write_message("ping")
                app_pings += 1
                next_app_ping += APP_PING_SECONDS
    finally:
        held = time.monotonic() - opened
        ws.close()
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    return {"held_s": held, "closed_at_s": closed_at, "close_code": ws.close_code, "server_pings": len(pings),
            "ping_gap_max_s": max(gaps) if gaps else None, "app_pings": app_pings, "events": events}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    use_local_cluster()
    tmp = Path(tempfile.mkdtemp(prefix="tritonml-push-soak-"))
    proc, url, token = start_server(tmp)
    try:
        await asyncio.sleep(3)  # the extension loads
        result = await soak(url, token, args.minutes * 60)
    finally:
        proc.terminate()
        proc.wait(15)
        log = (tmp / "server-tritonml_lab.log").read_text(errors="replace")
        shutil.rmtree(tmp, ignore_errors=True)
    timeouts = log.count("WebSocket ping timeout")
    print(f"ping interval {EventsHandler.ping_interval / 1000:g} s, time-out {EventsHandler.ping_timeout / 1000:g} s "
          "(the handler's defaults, nothing patched)")
    print(f"held {result['held_s']:.1f} s of {args.minutes * 60:.0f} s; "
          + ("still open at the end" if result["closed_at_s"] is None
             else f"CLOSED by the server after {result['closed_at_s']:.1f} s (code {result['close_code']})"))
    print(f"server pings answered: {result['server_pings']} (largest gap {result['ping_gap_max_s'] or 0:.1f} s); "
          f"app pings sent: {result['app_pings']}; messages: {result['events']}; "
          f"'WebSocket ping timeout' in the server log: {timeouts}")
    return 0 if result["closed_at_s"] is None and timeouts == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
