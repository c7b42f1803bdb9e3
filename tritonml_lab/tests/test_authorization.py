"""Jupyter's Authorizer decides: every tritonml handler asks it about the resource "tritonml" ("read"
for GET and the push channel, "write" for POST and DELETE)."""

import json

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado.httpclient import HTTPClientError

from .jobs_root import leftovers

pytestmark = pytest.mark.usefixtures("slurm_cluster")


class ReadOnlyAuthorizer(Authorizer):
    """A deployment's read-only collaborator: may look, may not submit or cancel."""

    def is_authorized(self, handler, user, action, resource):
        return action == "read"


@pytest.fixture
def jp_server_config(jp_server_config):
    return {**jp_server_config, "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": ReadOnlyAuthorizer}}


async def test_an_authorizer_that_denies_writes_stops_submissions_not_reads(jp_fetch, jobs_root):
    assert (await jp_fetch("tritonml", "jobs")).code == 200
    for method, path, body in (("POST", ("jobs",), json.dumps({"command": "true"})),
                               ("POST", ("sweeps",), json.dumps({"code": "x", "grid": {"a": [1]}})),
                               ("DELETE", ("jobs", "1"), None)):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("tritonml", *path, method=method, body=body)
        assert info.value.code == 403, path
    assert leftovers(jobs_root) == []
