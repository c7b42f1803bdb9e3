"""The push channel is in the contract: every event the server code sends is one of the pydantic event
models (event_models.py, generated into openapi.yaml and src/api/schema.ts; test_apischema.py checks
that those files are fresh), and what a live socket really sends validates against them."""

import json
import re
from pathlib import Path

import pytest
from tornado.escape import url_escape

from tritonml_lab.server.event_models import EVENT_NAMES, ClientAction, ServerEvent

PACKAGE = Path(__file__).resolve().parents[1]
# The ways the server hands an event to a socket: the handler's _send, the monitor's _emit/publish,
# the metrics hub's listener calls.
SENDS = re.compile(r"""(?:_send|_emit|publish|_call\(listener,|listener\()\s*\(?\s*["']([a-z-]+)["']""")


def test_every_event_the_server_sends_is_described():
    sent = {}
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts or "injob" in path.parts:
            continue
        for name in SENDS.findall(path.read_text()):
            sent.setdefault(name, path.relative_to(PACKAGE).as_posix())
    # The scan must see the senders it is meant to see, or it proves nothing.
    assert {"snapshot", "pong", "error", "job", "status", "advice", "metrics"} <= set(sent), sent
    undescribed = {name: where for name, where in sent.items() if name not in EVENT_NAMES}
    assert not undescribed, f"events sent but not in event_models.py: {undescribed}"


def test_models_reject_what_the_server_never_sends():
    assert ServerEvent.model_validate({"event": "pong", "data": {}}).root.event == "pong"
    with pytest.raises(ValueError):
        ServerEvent.model_validate({"event": "nonsense", "data": {}})
    with pytest.raises(ValueError):
        ServerEvent.model_validate({"event": "error", "data": {}})  # an error always says what
    assert ClientAction.model_validate({"action": "watch-metrics", "id": "12"}).id == "12"
    with pytest.raises(ValueError):
        ClientAction.model_validate({"action": "watch-metrics", "id": "12", "extra": 1})


@pytest.mark.usefixtures("slurm_cluster")
async def test_a_live_socket_sends_only_described_events(jp_ws_fetch, jp_fetch):
    submitted = await jp_fetch("tritonml", "jobs", method="POST", body=json.dumps(
        {"script": "true", "name": "event-models", "time": "00:01:00"}))
    job_id = json.loads(submitted.body)["id"]
    ws = await jp_ws_fetch("tritonml", "events")
    try:
        seen = []
        snapshot = ServerEvent.model_validate_json(await ws.read_message()).root
        assert snapshot.event == "snapshot"
        seen.append(snapshot.event)
        ws.write_message("ping")
        ws.write_message(json.dumps({"action": "watch-metrics", "id": job_id}))
        ws.write_message(json.dumps({"action": "watch-metrics", "id": "not a job"}))
        # Until the pong, the history and the error have come (job and status events may come between).
        while not {"pong", "metrics-history", "error"} <= set(seen):
            raw = await ws.read_message()
            assert raw is not None, f"the socket closed after {seen}"
            seen.append(ServerEvent.model_validate_json(raw).root.event)
    finally:
        ws.close()
        await jp_fetch("tritonml", "jobs", url_escape(job_id), method="DELETE", raise_error=False)
