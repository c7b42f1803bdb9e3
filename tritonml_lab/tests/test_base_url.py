"""The server as Open OnDemand runs it: under base_url=/node/<host>/<port>/."""

import json

import pytest

pytestmark = pytest.mark.usefixtures("slurm_cluster")


@pytest.fixture
def jp_base_url():
    return "/node/gpu1/8888/"


async def test_api_answers_under_the_open_ondemand_base_url(jp_fetch, jp_base_url, http_server_client):
    response = await jp_fetch("tritonml", "cluster")
    assert response.code == 200
    assert response.effective_url.split("?")[0].endswith("/node/gpu1/8888/tritonml/cluster")
    assert "batch-csl" in {p["name"] for p in json.loads(response.body)["partitions"]}
    # Nothing is served at the root: every route carries the base URL.
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch("/tritonml/cluster", raise_error=True)
    assert info.value.code == 404
