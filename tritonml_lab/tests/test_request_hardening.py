"""Hostile and broken requests: a clear 400/403/413, never a 500, and nothing submitted or written."""

import json

import pytest
from tornado.httpclient import HTTPClientError

from tritonml_lab.server.handlers import MAX_BODY

from .jobs_root import leftovers

pytestmark = pytest.mark.usefixtures("slurm_cluster")

POSTS = [("jobs",), ("jobs", "preview"), ("notebook-jobs",), ("sweeps",), ("sweeps", "1", "retry")]


async def refused(jp_fetch, *path, body: bytes | str, **kwargs):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("tritonml", *path, method="POST", body=body, **kwargs)
    return info.value.code, json.loads(info.value.response.body)


@pytest.mark.parametrize("path", POSTS, ids="/".join)
async def test_bodies_that_are_not_a_json_object_are_400_or_413(jp_fetch, jobs_root, path):
    cases = [
        (b"\xff\xfe{\x00", 400, "not UTF-8"),
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 400, "must be"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "not JSON"),  # nesting deeper than the parser's stack
        (b'{"code": "' + b"x" * MAX_BODY + b'"}', 413, "at most"),
    ]
    for body, status, words in cases:
        code, answer = await refused(jp_fetch, *path, body=body)
        assert (code, words in answer["message"]) == (status, True), (body[:20], answer)
    assert leftovers(jobs_root) == []


async def test_client_fields_cannot_add_lines_to_the_batch_script(jp_fetch, jobs_root):
    for origin in ({"kind": "api", "notebook": "a.ipynb\n#SBATCH --qos=evil"}, {"kind": "evil"},
                   {"kind": "api", "cell_id": "x\r\ny"}):
        code, answer = await refused(jp_fetch, "jobs", body=json.dumps({"command": "true", "origin": origin}))
        assert code == 400 and answer["reason"] == "invalid", answer
    code, answer = await refused(jp_fetch, "jobs", body=json.dumps({"command": "true", "workdir": "/tmp/a#b"}))
    assert code == 400 and "#" in answer["message"]
    code, answer = await refused(jp_fetch, "jobs", body=json.dumps({"code": "x" * (1 << 20 + 1)}))
    assert code == 400 and "code" in answer["message"]
    assert leftovers(jobs_root) == []
