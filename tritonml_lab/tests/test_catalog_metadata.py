"""Admin metadata overrides."""
import json
import os

from tritonml_lab.catalog import Catalog
from tritonml_lab.tests.sample_tree import generate_sample


def _mk(tmp_path):
    root = tmp_path / "root"
    (root / "ds1").mkdir(parents=True)
    (root / "ds1" / "README.md").write_text("# DS1\n\nDetected description.\n")
    (root / "ds1" / "a.csv").write_text("x\n")
    return root


def test_sample_overrides(tmp_path):
    root = tmp_path / "dldata"
    generate_sample(str(root))
    c = Catalog([("dldata", str(root))], cache_path="", workers=0)
    im = c.get("dldata/imagenet")
    assert im.name == "ImageNet ILSVRC-2012"
    assert im.license == "ImageNet terms of access (non-commercial)"
    assert im.citation.startswith("Russakovsky")
    assert im.url == "https://image-net.org"
    assert im.tags[:3] == ["vision", "classification", "imagenet"]
    assert im.metadata.source.endswith(".tritonml.toml")
    llama = c.get("dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B")
    assert llama.tags[:2] == ["llm", "gated"] and llama.citation.startswith("Meta AI")
    assert llama.license == "llama3"   # from the model card, not overridden
    assert [e.id for e in c.list(tag="gated")] == [llama.id]


def test_json_override_and_change(tmp_path):
    root = _mk(tmp_path)
    c = Catalog([("r", str(root))], cache_path="", workers=0)
    e = c.get("r/ds1")
    assert e.description == "Detected description." and e.name == "ds1"
    meta = root / "ds1" / ".tritonml.json"
    meta.write_text(json.dumps({"description": "Admin text", "licence": "CC-BY-4.0", "tags": "a, b",
                                "name": "Data set one", "kind": "model", "bogus": 1}))
    e = c.get("r/ds1")   # get() revalidates the entry
    assert (e.description, e.license, e.name, e.kind) == ("Admin text", "CC-BY-4.0", "Data set one", "model")
    assert e.tags[:2] == ["a", "b"]
    # edit in place: directory mtime unchanged, metadata file mtime changes
    st = os.stat(root / "ds1")
    meta.write_text(json.dumps({"description": "Edited"}))
    os.utime(meta, ns=(st.st_mtime_ns + 10**9, st.st_mtime_ns + 10**9))
    os.utime(root / "ds1", ns=(st.st_atime_ns, st.st_mtime_ns))
    c.refresh()
    assert [x.description for x in c.list()] == ["Edited"]


def test_hidden_and_malformed(tmp_path):
    root = _mk(tmp_path)
    (root / "ds2").mkdir()
    (root / "ds2" / ".tritonml.toml").write_text("hidden = true\n")
    (root / "ds3").mkdir()
    (root / "ds3" / ".tritonml.toml").write_text("this is = = not toml\n")
    c = Catalog([("r", str(root))], cache_path="", workers=0)
    c.refresh()   # an entry's own file is read by detection
    assert {e.id for e in c.list()} == {"r/ds1", "r/ds3"}
    assert c.get("r/ds3").name == "ds3"


def test_only_web_addresses_become_links():
    from tritonml_lab.catalog.metadata import to_metadata

    for bad in ("javascript:alert(1)", "data:text/html,<script>x</script>", "file:///etc/passwd", "https://a b"):
        assert to_metadata({"name": "x", "url": bad}, "meta.toml").url is None, bad
    assert to_metadata({"url": "https://image-net.org/"}, "meta.toml").url == "https://image-net.org/"
