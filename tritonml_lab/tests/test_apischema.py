"""The one schema source: openapi.yaml and src/api/schema.ts are generated from the pydantic models
(dev/gen-api), and the checked-in copies must be what the generator writes now."""

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tritonml_lab.server import apischema, handlers
from tritonml_lab.server.handlers.base import _STATUS
from tritonml_lab.server.handlers.contract import ERROR_MEANINGS

REPO = Path(apischema.__file__).resolve().parents[2]
SCHEMA_TS = REPO / "src" / "api" / "schema.ts"
CLI = REPO / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
STALE = "is stale: run dev/gen-api and commit the result"


def test_openapi_yaml_is_generated_from_the_models():
    assert apischema.OPENAPI_PATH.read_text() == apischema.render(), f"tritonml_lab/openapi.yaml {STALE}"


def test_typescript_types_are_generated_from_openapi_yaml(tmp_path):
    node = shutil.which("node")
    assert node and CLI.exists(), "node and node_modules/openapi-typescript are needed: run jlpm install"
    out = tmp_path / "schema.ts"
    subprocess.run([node, str(CLI), str(apischema.OPENAPI_PATH), "--default-non-nullable=false", "-o", str(out)],
                   check=True, capture_output=True, cwd=REPO, timeout=120)
    assert SCHEMA_TS.read_text() == out.read_text(), f"src/api/schema.ts {STALE}"
    assert (REPO / "dev" / "gen-api").read_text().count("--default-non-nullable=false") == 1  # same options


def test_the_generator_reads_every_route_and_every_answer_has_a_model():
    spec = apischema.build()
    routed = {"/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", p) for p, _h in handlers.ROUTES}
    assert set(spec["paths"]) == routed
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op["summary"], (path, method)
            for status, response in op["responses"].items():
                content = response.get("content", {}).get("application/json")
                if content is not None:
                    assert content["schema"]["$ref"].rsplit("/", 1)[1] in schemas, (path, method, status)
                if int(status) >= 400 and path != "/events":  # one documented error shape (not a WebSocket refusal)
                    assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (path, method, status)
    job_get = spec["paths"]["/jobs/{job_id}/log"]["get"]
    assert [p["name"] for p in job_get["parameters"]] == ["job_id", "stream", "offset", "limit"]
    assert job_get["parameters"][1]["schema"] == {"default": "stdout", "enum": ["stdout", "stderr"], "type": "string"}


def test_every_mapped_domain_error_has_a_documented_meaning():
    assert {status for _kind, status in _STATUS} <= set(ERROR_MEANINGS)


def test_answers_list_every_field_the_server_always_sends():
    # Serialization: a field with a default is sent too, so it is required (the TS types rely on it).
    schemas = yaml.safe_load(apischema.OPENAPI_PATH.read_text())["components"]["schemas"]
    assert {"tracked", "origin", "directory", "advice"} <= set(schemas["JobDetail"]["required"])
    # Requests: only what the model requires.
    assert "required" not in schemas["JobRequest"]
    assert schemas["ErrorBody"]["required"] == ["message"]
