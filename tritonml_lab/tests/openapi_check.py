"""Checking API answers against tritonml_lab/openapi.yaml, for every test module that calls the API.

The file is generated from the pydantic models (tritonml_lab/apischema.py): these checks are what prove
that the models describe what the server really sends."""

import json
import re

import yaml
from jsonschema import Draft202012Validator
from tornado.httpclient import HTTPClientError

from tritonml_lab.server.apischema import OPENAPI_PATH

SPEC = yaml.safe_load(OPENAPI_PATH.read_text())


def shape(path: str) -> str:
    """"/jobs/{id}" and "/jobs/{job_id}" are the same path."""
    return re.sub(r"\{[^}]+\}", "{}", path)


_BY_SHAPE = {shape(path): ops for path, ops in SPEC["paths"].items()}


def validate(path: str, method: str, status: int, body) -> None:
    """Validate ``body`` against the schema documented for this path, method and status."""
    response = _BY_SHAPE[shape(path)][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": SPEC["components"]}).validate(body)


async def post_created(jp_fetch, path: str, *parts: str, body: dict) -> dict:
    """POST ``body`` to ``{base}tritonml/<parts>`` and expect 201; every answer, errors included, is
    checked against the description of ``path``."""
    try:
        response = await jp_fetch("tritonml", *parts, method="POST", body=json.dumps(body))
    except HTTPClientError as exc:
        validate(path, "post", exc.code, json.loads(exc.response.body))
        raise
    assert response.code == 201
    data = json.loads(response.body)
    validate(path, "post", 201, data)
    return data


async def get_ok(jp_fetch, path: str, *parts: str) -> dict:
    """GET ``{base}tritonml/<parts>``, checked against the description of ``path``."""
    data = json.loads((await jp_fetch("tritonml", *parts)).body)
    validate(path, "get", 200, data)
    return data
