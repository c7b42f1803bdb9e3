"""The push channel: one WebSocket per tab, job changes from the one shared monitor, live GPU samples."""

from __future__ import annotations

import json
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from ...jobs import BadJobRequest, parse_job_id
from ..services import Services
from .base import AUTH_RESOURCE
from .contract import Operation

# One tab follows the live charts of a few jobs; more from one socket is a runaway client.
MAX_WATCHED_METRICS = 32


class EventsHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):
    """The push channel: one WebSocket per tab, job changes from the one shared monitor."""

    # Server-side pings: jupyter_server's loop (WebSocketMixin.open starts it; milliseconds). Every
    # ping_interval it first checks the time since the last pong, then pings. So at each check a
    # healthy client's last pong is about one interval old (its answer to the previous round's ping;
    # at the first check, the open itself): the time-out must be longer than one interval, or every
    # socket is closed at its first check (it was equal: issue 23, tabs reconnecting every 15 s). At
    # 1.5 intervals, timer jitter of up to 7 s is tolerated, and a client that stops answering (a
    # killed browser, a closed laptop) is closed at the second check after its last pong: within two
    # intervals, 30 s, and its subscription with it, so the monitor stops. jupyter_server's defaults
    # (30 s, 90 s) are too slow for that.
    ping_interval = 15_000
    ping_timeout = 22_500

    def get_websocket_protocol(self):  # type: ignore[no-untyped-def]
        """Tornado's own ping loop stays off: it reads the same two names, in seconds (it would ping
        every 4 hours and clamp the time-out to the interval, with a warning). One loop: the mixin's."""
        protocol = super().get_websocket_protocol()
        if protocol is not None:
            protocol.params.ping_interval = None
            protocol.params.ping_timeout = None
        return protocol

    @property
    def services(self) -> Services:
        return self.settings["tritonml"]

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if self.current_user is None:
            raise web.HTTPError(403)
        if not await ensure_async(self.authorizer.is_authorized(self, self.current_user, "read", AUTH_RESOURCE)):
            raise web.HTTPError(403)
        await super().get(*args, **kwargs)

    async def open(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().open(*args, **kwargs)  # WebSocketMixin: starts the ping loop
        monitor = self.services.monitor
        self.services.advisor.start()  # live advice is pushed here: it runs while a tab listens
        jobs = await self.services.jobs.list()
        # Snapshot first, then changes: no await between the two, so nothing falls in between.
        self._send("snapshot", {"jobs": [job.model_dump(mode="json") for job in jobs], **monitor.status()})
        self._unsubscribe = monitor.subscribe(self._send)

    def on_message(self, message: str | bytes) -> None:
        """"ping" keeps proxies (Open OnDemand) from closing an idle socket; JSON actions
        {"action": "watch-metrics"|"unwatch-metrics", "id": JOBID} start and stop live GPU samples."""
        if message == "ping":
            self._send("pong", {})
            return
        try:
            request = json.loads(message)
            action, job_id = request["action"], str(request["id"])
            parse_job_id(job_id)
        except (ValueError, KeyError, TypeError, BadJobRequest) as exc:
            self._send("error", {"message": f"Unknown request on the events channel: {exc}"})
            return
        watching = self.__dict__.setdefault("_metrics", {})
        if action == "watch-metrics" and job_id not in watching:
            if len(watching) >= MAX_WATCHED_METRICS:
                self._send("error", {"message": f"One tab follows the charts of at most {MAX_WATCHED_METRICS} "
                                                "jobs at once; close some first."})
                return
            try:  # the hub sends "metrics-history" once read (in its pool: a hung directory must not hang us)
                watching[job_id] = self.services.metrics.watch(job_id, self._send)
            except Exception as exc:  # noqa: BLE001 - answer the client instead of dropping the socket
                self._send("error", {"message": str(exc)})
                return
        elif action == "unwatch-metrics" and job_id in watching:
            watching.pop(job_id)()

    def on_close(self) -> None:
        if getattr(self, "ping_callback", None) is not None:
            self.ping_callback.stop()
        unsubscribe = getattr(self, "_unsubscribe", None)
        if unsubscribe:
            unsubscribe()
            self._unsubscribe = None
        for unwatch in self.__dict__.pop("_metrics", {}).values():
            unwatch()

    def _send(self, event: str, data: dict) -> None:
        if event == "job":
            data = self.services.jobs.view_dict(data)
        try:
            self.write_message(json.dumps({"event": event, "data": data}))
        except WebSocketClosedError:
            self.on_close()



# Documented here, not by @endpoint: the upgrade is checked by get() itself (a WebSocket has no JSON answer).
EventsHandler.get.__api__ = Operation(  # type: ignore[attr-defined]
    summary="WebSocket push channel, one per tab.",
    description='Server messages are JSON {"event", "data"}: "snapshot" (data is a JobList) on connect, then '
    '"job" (data is a Job) on each change and "status". The client may send the text "ping" (answered by '
    '"pong"), and {"action": "watch-metrics", "id": JOBID}: the server answers "metrics-history" (data is '
    'Metrics) and then sends "metrics" ({id, node, header, samples}) as the job writes samples, until '
    '{"action": "unwatch-metrics", "id": JOBID}.',
    other_responses={101: ("Switching to the WebSocket protocol", ()), 403: ("Not authenticated", ())},
)
