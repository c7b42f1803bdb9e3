"""The implementation against its description, tritonml_lab/openapi.yaml."""

import asyncio
import json
import re

import pytest
from tornado.httpclient import HTTPClientError

from tritonml_lab.server import handlers

from .openapi_check import SPEC, shape, validate
pytestmark = pytest.mark.usefixtures("slurm_cluster")


def test_every_route_is_described_and_every_description_is_routed():
    routed = {}
    for pattern, handler in handlers.ROUTES:
        path = "/" + re.sub(r"\(\?P<\w+>[^)]*\)", "{}", pattern)
        routed[path] = {m for m in ("get", "post", "delete", "put", "patch") if m in vars(handler)}
    described = {shape(p): {m for m in ops if m in ("get", "post", "delete", "put", "patch")}
                 for p, ops in SPEC["paths"].items()}
    assert routed == described


async def call(jp_fetch, path, *parts, method="GET", body=None, params=None):
    try:
        response = await jp_fetch("tritonml", *parts, method=method, body=body, params=params or {})
        status, data = response.code, json.loads(response.body)
    except HTTPClientError as exc:
        status, data = exc.code, json.loads(exc.response.body)
    validate(path, method.lower(), status, data)
    return status, data


async def test_responses_match_their_schemas(jp_fetch):
    assert (await call(jp_fetch, "/cluster", "cluster"))[0] == 200
    assert (await call(jp_fetch, "/jobs", "jobs"))[0] == 200
    status, job = await call(jp_fetch, "/jobs", "jobs", method="POST",
                             body=json.dumps({"partition": "batch-csl", "command": "echo openapi"}))
    assert status == 201
    status, _ = await call(jp_fetch, "/jobs", "jobs", method="POST", body=json.dumps({"gpus": "many"}))
    assert status == 400
    status, _ = await call(jp_fetch, "/jobs", "jobs", method="POST",
                           body=json.dumps({"partition": "nope", "command": "true"}))
    assert status == 422
    assert (await call(jp_fetch, "/jobs/preview", "jobs", "preview", method="POST",
                       body=json.dumps({"command": "true"})))[0] == 200
    for _ in range(120):
        status, detail = await call(jp_fetch, "/jobs/{id}", "jobs", job["id"])
        if detail["state"] == "COMPLETED" and detail["efficiency"]:
            break
        await asyncio.sleep(0.5)
    assert detail["state"] == "COMPLETED"
    assert (await call(jp_fetch, "/jobs/{id}/log", "jobs", job["id"], "log"))[1]["data"] == "openapi\n"
    assert (await call(jp_fetch, "/jobs/{id}", "jobs", "424242424"))[0] == 404
    assert (await call(jp_fetch, "/jobs/{id}", "jobs", job["id"], method="DELETE"))[0] == 200
    assert (await call(jp_fetch, "/catalog", "catalog"))[0] == 200
    assert (await call(jp_fetch, "/catalog", "catalog", params={"kind": "other"}))[0] == 400
