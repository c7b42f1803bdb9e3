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


BODIES = {  # the smallest valid body of each POST, to which a test adds what it checks
    ("jobs",): {"command": "true"}, ("jobs", "preview"): {"command": "true"},
    ("notebook-jobs",): {"path": "nb.ipynb"}, ("sweeps",): {"code": "print(x)", "grid": {"x": [1]}},
    ("sweeps", "1", "retry"): {},
}


@pytest.mark.parametrize("field, value", [("time", "soon"), ("gpus", "many"), ("workdir", "/tmp/a b")])
async def test_a_bad_resource_is_the_same_400_through_every_endpoint(jp_fetch, jobs_root, field, value):
    answers = []
    for path, body in BODIES.items():
        code, answer = await refused(jp_fetch, *path, body=json.dumps({**body, field: value}))
        assert code == 400 and answer["reason"] == "invalid", (path, answer)
        answers.append(answer["errors"])
    assert len({json.dumps(errors) for errors in answers}) == 1 and answers[0][0]["field"] == field, answers
    assert leftovers(jobs_root) == []


async def test_keys_a_request_does_not_take_are_400_with_why(jp_fetch, jobs_root):
    for path, key, words in ((("notebook-jobs",), "code", "notebook is what runs"),
                             (("sweeps",), "array", "the sweep makes the array"),
                             (("sweeps", "1", "retry"), "code", "cannot be changed on retry"),
                             (("sweeps", "1", "retry"), "indices", "valid list")):
        code, answer = await refused(jp_fetch, *path, body=json.dumps({**BODIES[path], key: "x"}))
        assert code == 400 and any(e["field"] == key and words in e["message"] for e in answer["errors"]), answer
    assert leftovers(jobs_root) == []


async def test_an_internal_validation_error_is_a_logged_500_not_a_400(jp_fetch, jp_serverapp, monkeypatch, caplog):
    from tritonml_lab.jobs import Origin

    def broken(spec, origin=None):
        return Origin.model_validate({"kind": "made-by-the-server"})  # a bug: not the request's fault

    monkeypatch.setattr(jp_serverapp.web_app.settings["tritonml"].jobs, "preview", broken)
    code, answer = await refused(jp_fetch, "jobs", "preview", body=json.dumps({"command": "true"}))
    assert code == 500 and answer["reason"] == "internal" and "errors" not in answer, answer
    assert "kind" not in answer["message"] and "log" in answer["message"]
    logged = [r for r in caplog.records if r.exc_info and type(r.exc_info[1]).__name__ == "ValidationError"]
    assert logged, [r.getMessage() for r in caplog.records]
