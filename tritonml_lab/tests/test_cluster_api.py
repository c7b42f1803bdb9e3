"""GET {base_url}tritonml/cluster against the real local Slurm cluster."""

import json
import re

import pytest
from tornado.httpclient import HTTPClientError

from .cluster_control import ensure_up, stop_daemon

pytestmark = pytest.mark.usefixtures("slurm_cluster")

PARTITIONS = {"gpu-h100-80g", "gpu-a100-80g", "gpu-debug", "batch-csl", "interactive"}


async def test_cluster_summary_lists_real_partitions_and_gpus(jp_fetch):
    response = await jp_fetch("tritonml", "cluster")
    assert response.code == 200
    data = json.loads(response.body)
    assert data["cluster"] == "triton-dev"
    by_name = {p["name"]: p for p in data["partitions"]}
    assert PARTITIONS <= set(by_name)
    assert by_name["batch-csl"]["default"] is True
    assert by_name["gpu-debug"]["time_limit_minutes"] == 30
    assert by_name["gpu-debug"]["nodes"] == ["gpu1", "gpu2"]
    assert by_name["gpu-h100-80g"]["time_limit_minutes"] == 5 * 24 * 60
    assert {g["type"]: g["total"] for g in by_name["gpu-debug"]["gpus"]} == {"a100": 2, "h100": 2}
    assert by_name["batch-csl"]["gpus"] == []
    assert data["gpus_total"] == 4
    assert 0 <= data["gpus_free"] <= 4


async def test_requests_without_a_token_are_refused(jp_fetch, http_server_client, jp_base_url):
    """Every method of every route, without a token but WITH a valid XSRF cookie and header (so that
    the XSRF check cannot be what refuses a POST or DELETE): 401/403, never the handler's work."""
    from ..server import handlers

    login = await http_server_client.fetch(f"{jp_base_url}login", raise_error=False)
    xsrf = next(c.split(";")[0].split("=", 1)[1] for c in login.headers.get_list("Set-Cookie") if c.startswith("_xsrf="))
    headers = {"Cookie": f"_xsrf={xsrf}", "X-XSRFToken": xsrf}
    for pattern, handler in handlers.ROUTES:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", "1", pattern)  # a sample URL for each route
        methods = [m for m in ("get", "post", "delete") if m in vars(handler)]
        assert methods, pattern
        for method in methods:
            response = await http_server_client.fetch(
                f"{jp_base_url}tritonml/{path}", method=method.upper(), headers=headers,
                body="{}" if method == "post" else None, raise_error=False, follow_redirects=False,
            )
            assert response.code in (401, 403), (method, path, response.code)
            assert b"xsrf" not in response.body.lower(), (method, path)  # refused for want of a login


async def test_scheduler_down_gives_503_with_a_readable_message_then_recovers(jp_fetch):
    stop_daemon("slurmctld")
    try:
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("tritonml", "cluster")
        assert info.value.code == 503
        body = json.loads(info.value.response.body)
        assert body["reason"] == "scheduler_unavailable"
        assert "scheduler cannot be reached" in body["message"]
    finally:
        ensure_up()
    response = await jp_fetch("tritonml", "cluster")
    assert response.code == 200
    assert PARTITIONS <= {p["name"] for p in json.loads(response.body)["partitions"]}
