"""GET {base_url}tritonml/catalog[/{id}] over a generated sample dldata tree."""

import json
import time

import pytest
from tornado.httpclient import HTTPClientError

from tritonml_lab.tests.sample_tree import generate_sample


@pytest.fixture(scope="module")
def dldata(tmp_path_factory):
    root = tmp_path_factory.mktemp("dldata")
    generate_sample(str(root))
    return root


@pytest.fixture
def jp_server_config(jp_server_config, dldata, tmp_path):
    config = dict(jp_server_config)
    config["TritonML"] = {
        **config.get("TritonML", {}),
        "catalog_roots": [f"dldata={dldata}"],
        "catalog_cache_path": str(tmp_path / "sizes.json"),
        "catalog_scan_workers": 0,
    }
    return config


async def test_listing_filters_and_detail_with_snippets(jp_fetch, dldata):
    listing = json.loads((await jp_fetch("tritonml", "catalog")).body)
    entries = {e["id"]: e for e in listing["entries"]}
    llama = "dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B"
    assert llama in entries and entries[llama]["kind"] == "model"
    assert "dldata/imagenet" in entries and entries["dldata/imagenet"]["kind"] == "dataset"
    for entry in entries.values():
        assert {"id", "kind", "name", "root", "path", "size_bytes", "file_count"} <= set(entry)

    models = json.loads((await jp_fetch("tritonml", "catalog", params={"kind": "model", "q": "llama"})).body)
    assert llama in [e["id"] for e in models["entries"]]
    assert {e["kind"] for e in models["entries"]} == {"model"}

    detail = json.loads((await jp_fetch("tritonml", "catalog", llama)).body)
    assert detail["hf"]["num_parameters"] == 8030261248
    assert 'os.environ["HF_HUB_OFFLINE"] = "1"' in detail["snippets"]["python"]
    assert detail["snippets"]["python"].index("HF_HUB_OFFLINE") < detail["snippets"]["python"].index(
        "from transformers"
    )

    # Sizes arrive from the background scan without another request walking the tree.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        entries = {e["id"]: e for e in json.loads((await jp_fetch("tritonml", "catalog")).body)["entries"]}
        if entries[llama]["size_bytes"] is not None:
            break
        time.sleep(0.2)
    assert entries[llama]["size_bytes"] > 10**9 and entries[llama]["file_count"] > 0


@pytest.mark.parametrize(
    "entry_id,status",
    [
        # URL normalisation may resolve these before routing (404); either way nothing is read.
        ("dldata/%2e%2e/%2e%2e/etc/passwd", (400, 404)),
        ("dldata%2F..%2F..%2Fetc", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("dldata/imagenet%00", (400, 404)),
        ("dldata/no-such-entry", 404),
        ("other-root/imagenet", 404),
    ],
)
async def test_bad_and_unknown_ids(jp_fetch, entry_id, status):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("tritonml", "catalog", entry_id)
    assert info.value.code in (status if isinstance(status, tuple) else (status,))
    if not isinstance(status, tuple):
        assert json.loads(info.value.response.body)["message"]


async def test_bad_query_is_a_400(jp_fetch):
    for params in ({"kind": "weights"}, {"min_size": "big"}):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("tritonml", "catalog", params=params)
        assert info.value.code == 400


async def test_readme_images_are_served_and_nothing_else(jp_fetch, dldata):
    response = await jp_fetch("tritonml", "catalog-image",
                              params={"id": "dldata/imagenet", "path": "docs/class-groups.png"})
    assert response.code == 200 and response.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert response.headers["Content-Type"] == "image/png"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    readme = json.loads((await jp_fetch("tritonml", "catalog", "dldata/imagenet")).body)["readme"]
    assert "](docs/class-groups.png)" in readme

    # An image link that leaves the entry, as a symlink, is not followed.
    (dldata / "imagenet" / "docs" / "escape.png").symlink_to("/etc/hostname")
    for params, status in (
        ({"id": "dldata/imagenet", "path": "docs/escape.png"}, 404),
        ({"id": "dldata/imagenet", "path": "../imagenet-1k-wds/README.md"}, 400),
        ({"id": "dldata/imagenet", "path": "../../etc/x.png"}, 400),
        ({"id": "dldata/imagenet", "path": "/etc/x.png"}, 400),
        ({"id": "dldata/imagenet", "path": "LICENSE"}, 400),
        ({"id": "dldata/imagenet", "path": "docs/missing.png"}, 404),
        ({"id": "dldata/../etc", "path": "x.png"}, 400),
        ({"id": "dldata/no-such-entry", "path": "x.png"}, 404),
    ):
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("tritonml", "catalog-image", params=params)
        assert info.value.code == status, params
        assert json.loads(info.value.response.body)["message"]
