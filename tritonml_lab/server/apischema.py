"""Generate ``openapi.yaml`` from the routes table and the pydantic models: the one schema source.

    python -m tritonml_lab.apischema            # write tritonml_lab/openapi.yaml
    python -m tritonml_lab.apischema --check    # exit 1 when the checked-in file is stale
    dev/gen-api                                 # both files: openapi.yaml, then src/api/schema.ts

Each route's handler methods carry an :class:`~tritonml_lab.handlers.contract.Operation` (set by
``@endpoint``). Request bodies and queries are described as pydantic validates them, answers as it
serializes them (every field the server always sends is required). The output is deterministic:
components sorted by name, no titles, YAML keys in a fixed order.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from .. import __version__
from .api_models import ErrorBody
from .event_models import SCHEMA_MODELS
from .handlers import ROUTES
from .handlers.contract import PATH_PARAMETERS, Operation, operation_of

OPENAPI_PATH = Path(__file__).parents[1] / "openapi.yaml"  # in the package's top, beside its labextension
REF = "#/components/schemas/{model}"
METHODS = ("get", "post", "put", "patch", "delete")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")

INFO_DESCRIPTION = """\
Served by the Jupyter server extension under `{base_url}tritonml/` (for example
`/node/gpu1/8888/tritonml/jobs` behind Open OnDemand). Every endpoint needs the Jupyter server's
authentication (token or cookie). Errors are JSON `ErrorBody` objects whose `message` a person can act
on. GENERATED from the pydantic models and tritonml_lab/handlers/ by `python -m tritonml_lab.apischema`:
do not edit by hand. tritonml_lab/tests/test_openapi.py checks real answers against it.
"""


class _Schema(GenerateJsonSchema):
    """Answers: a field with a default is still always sent, so it is required (unless excluded)."""

    def field_is_required(self, field, total: bool) -> bool:  # type: ignore[override]
        if self.mode == "serialization" and field["type"] == "model-field":
            return not field.get("serialization_exclude")
        return super().field_is_required(field, total)


def _clean(schema: Any) -> Any:
    """Drop pydantic's titles (noise in the document and the TypeScript), keep everything else."""
    if isinstance(schema, list):
        return [_clean(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: _clean(sub) for name, sub in value.items()}
        elif key in ("default", "enum", "const", "examples"):
            out[key] = value
        else:
            out[key] = _clean(value)
    return out


def _operations() -> list[tuple[str, str, list[str], Operation]]:
    found = []
    for pattern, handler in ROUTES:
        path = "/" + _GROUP.sub(r"{\1}", pattern)
        for method in METHODS:
            function = vars(handler).get(method)
            if function is None:
                continue
            operation = operation_of(function)
            if operation is None:
                raise TypeError(f"{handler.__name__}.{method} has no contract: decorate it with @endpoint(...)")
            found.append((path, method, _GROUP.findall(pattern), operation))
    return found


def _json(ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or has a value: Optional[X] is just X there."""
    schema = {key: value for key, value in schema.items() if not (key == "default" and value is None)}
    options = [s for s in schema.get("anyOf", ()) if s != {"type": "null"}]
    if len(options) == 1:
        schema.pop("anyOf")
        schema.update(options[0])
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = _clean(model.model_json_schema(ref_template=REF))
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = _not_null(prop)
        description = prop.pop("description", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def build() -> dict[str, Any]:
    operations = _operations()
    # The push channel's messages are no endpoint's body or answer: listed by event_models.py.
    pairs: list[tuple[type[BaseModel], str]] = [(ErrorBody, "serialization"), *SCHEMA_MODELS]
    for _path, _method, _groups, op in operations:
        if op.body is not None:
            pairs.append((op.body, "validation"))
        if op.response is not None:
            pairs.append((op.response, "serialization"))
    pairs = list(dict.fromkeys(pairs))
    refs, defs = models_json_schema(pairs, ref_template=REF, schema_generator=_Schema)
    error_ref = refs[(ErrorBody, "serialization")]

    paths: dict[str, Any] = {}
    for path, method, groups, op in operations:
        entry: dict[str, Any] = {"summary": op.summary}
        if op.description:
            entry["description"] = " ".join(op.description.split())
        params = [{"name": g, "in": "path", "required": True, **PATH_PARAMETERS[g]} for g in groups]
        if op.query is not None:
            params += _query_parameters(op.query)
        if params:
            entry["parameters"] = params
        if op.body is not None:
            entry["requestBody"] = {"required": op.body_required,
                                    "content": {"application/json": {"schema": refs[(op.body, "validation")]}}}
        responses: dict[str, Any] = {}
        if op.response is not None:
            responses[str(op.status)] = _json(refs[(op.response, "serialization")], "Success")
        for status, (meaning, media_types) in op.other_responses.items():
            responses[str(status)] = {"description": meaning}
            if media_types:
                binary = {"schema": {"type": "string", "format": "binary"}}
                responses[str(status)]["content"] = {media: binary for media in media_types}
        for status, meaning in op.error_meanings().items():
            responses[str(status)] = _json(error_ref, meaning)
        entry["responses"] = dict(sorted(responses.items()))
        paths.setdefault(path, {})[method] = entry

    return {
        "openapi": "3.1.0",
        "info": {"title": "tritonml-lab REST API", "version": __version__, "description": INFO_DESCRIPTION},
        "servers": [{"url": "{base_url}tritonml", "variables": {"base_url": {"default": "/"}}}],
        "paths": paths,
        "components": {"schemas": dict(sorted(_clean(defs.get("$defs", {})).items()))},
    }


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors for repeated parts, text with line breaks as literal blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def render() -> str:
    header = "# GENERATED by `python -m tritonml_lab.apischema` from the pydantic models; do not edit.\n"
    document = yaml.dump(build(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110,
                         default_flow_style=None)
    return header + document


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if OPENAPI_PATH.read_text() != text:
            print(f"{OPENAPI_PATH} is stale: run dev/gen-api", file=sys.stderr)
            return 1
        return 0
    OPENAPI_PATH.write_text(text)
    print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
