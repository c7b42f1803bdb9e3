"""Catalog detection on the generated sample tree (real files on disk, no server)."""
import json
import os

import pytest

from tritonml_lab.catalog import Catalog
from tritonml_lab.catalog.hf_cache import parse_front_matter, parse_repo_dirname
from tritonml_lab.tests.sample_tree import generate_sample

HUB = "dldata/huggingface-hub-cache/hub/"
LLAMA = HUB + "models--meta-llama--Meta-Llama-3-8B"
MISTRAL = HUB + "models--mistralai--Mistral-7B-Instruct-v0.3"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("dldata")
    expected = generate_sample(str(root))
    return str(root), expected


@pytest.fixture()
def cat(sample, tmp_path):
    c = Catalog([("dldata", sample[0])], cache_path=str(tmp_path / "sizes.json"), workers=0)
    c.refresh()   # details now, in this thread (a server detects in the background)
    yield c
    c.stop()


def test_lists_every_kind(cat):
    entries = {e.id: e for e in cat.list()}
    assert set(entries) == {
        LLAMA, MISTRAL, HUB + "models--openai--whisper-small", HUB + "models--google-bert--bert-base-uncased",
        HUB + "models--Helsinki-NLP--opus-mt-en-fi", HUB + "datasets--uoft-cs--cifar10",
        HUB + "datasets--Salesforce--wikitext", "dldata/imagenet", "dldata/imagenet-1k-wds",
        "dldata/laion400M", "dldata/llama-2", "dldata/maestro"}
    assert entries[LLAMA].kind == "model" and entries[LLAMA].name == "meta-llama/Meta-Llama-3-8B"
    assert entries[HUB + "datasets--uoft-cs--cifar10"].kind == "dataset"
    assert entries["dldata/llama-2"].kind == "model"          # raw consolidated checkpoints
    assert entries["dldata/imagenet"].kind == "dataset"
    for e in entries.values():
        assert e.root == "dldata" and os.path.isabs(e.path)
        assert e.size_bytes is None and e.file_count is None and e.size_status == "pending"


def test_hf_model_config_and_revisions(cat):
    d = cat.get(LLAMA)
    hf = d.hf
    assert hf.repo_id == "meta-llama/Meta-Llama-3-8B" and hf.repo_type == "model"
    assert hf.architectures == ["LlamaForCausalLM"] and hf.model_type == "llama"
    assert hf.torch_dtype == "bfloat16" and hf.context_length == 8192
    assert hf.num_layers == 32 and hf.hidden_size == 4096 and hf.vocab_size == 128256
    assert hf.hf_home.endswith("huggingface-hub-cache")
    assert "config.json" in hf.files and "model-00001-of-00004.safetensors" in hf.files
    assert d.license == "llama3"
    assert d.readme and "# Meta Llama 3" in d.readme
    m = cat.get(MISTRAL).hf
    assert len(m.revisions) == 2
    main = [r for r in m.revisions if "main" in r.refs]
    assert main and main[0].commit == m.default_revision
    assert any("refs/pr/42" in r.refs for r in m.revisions)
    assert m.context_length == 32768


def test_parameter_counts(cat, sample):
    expected = sample[1]
    llama = cat.get(LLAMA).hf
    assert llama.num_parameters == expected["meta-llama/Meta-Llama-3-8B"] == 8_030_261_248
    assert llama.parameter_source == "safetensors-index"
    bert = cat.get(HUB + "models--google-bert--bert-base-uncased").hf
    assert bert.num_parameters == expected["google-bert/bert-base-uncased"]
    assert bert.parameter_source == "safetensors-header"
    whisper = cat.get(HUB + "models--openai--whisper-small").hf
    assert whisper.num_parameters == expected["openai/whisper-small"]
    assert cat.get(HUB + "models--Helsinki-NLP--opus-mt-en-fi").hf.num_parameters is None


def test_param_count_does_not_read_weights(tmp_path):
    """A header-only safetensors file whose data region is absent still gives a count."""
    from tritonml_lab.catalog.hf_cache import count_header_parameters, read_safetensors_header
    from tritonml_lab.tests.sample_tree import safetensors_header

    head, _ = safetensors_header([("w", "BF16", (1000, 1000)), ("b", "BF16", (1000,))])
    p = tmp_path / "m.safetensors"
    p.write_bytes(head)   # no data at all
    header = read_safetensors_header(str(p), str(tmp_path))
    assert count_header_parameters(header)[0] == 1_001_000


def test_dataset_layouts(cat):
    im = cat.get("dldata/imagenet").dataset
    assert "ilsvrc-tars" in im.layouts and "imagefolder" in im.layouts
    assert im.splits == ["train", "val"] and im.class_dirs == 5
    assert "ILSVRC2012_img_train.tar" in im.archives
    wds = cat.get("dldata/imagenet-1k-wds")
    assert "webdataset" in wds.dataset.layouts
    patterns = {s.pattern for s in wds.dataset.shards}
    assert "imagenet1k-train-{0000..0007}.tar" in patterns
    assert "parquet" in cat.get("dldata/laion400M").dataset.layouts
    d = cat.get("dldata/maestro")
    assert d.readme.startswith("# MAESTRO") and d.license_path.endswith("LICENSE")


def test_hf_home_or_hub_as_root(sample, tmp_path):
    hub = os.path.join(sample[0], "huggingface-hub-cache", "hub")
    for label, root in (("hf", os.path.dirname(hub)), ("hub", hub)):
        c = Catalog([(label, root)], cache_path="", workers=0)
        ids = {e.id for e in c.list(kind="model")}
        assert f"{label}/" + ("hub/" if label == "hf" else "") + "models--openai--whisper-small" in ids
        hf = c.get(next(i for i in ids if "whisper" in i)).hf
        assert hf.hf_home and hf.hf_home.endswith("huggingface-hub-cache")


def test_filters(cat):
    assert {e.kind for e in cat.list(kind="model")} == {"model"}
    assert [e.name for e in cat.list(q="WHISPER")] == ["openai/whisper-small"]
    assert {e.id for e in cat.list(tag="webdataset")} == {"dldata/imagenet-1k-wds"}
    cat.start_background_scan()
    assert cat.wait_for_scan(60)
    big = cat.list(min_size=100 << 30)
    assert {e.id for e in big} == {"dldata/imagenet"}
    small = cat.list(max_size=1 << 20)
    assert {e.id for e in small} == {"dldata/imagenet-1k-wds"}
    with pytest.raises(ValueError):
        cat.list(kind="weights")


def test_front_matter_and_dirname():
    assert parse_repo_dirname("models--gpt2") == ("model", "gpt2")
    assert parse_repo_dirname("datasets--a--b") == ("dataset", "a/b")
    assert parse_repo_dirname("spaces--a--b") is None
    fm = parse_front_matter("---\nlicense: mit\ntags:\n- a\n- b\nlanguage: [en, fi]\n---\n# x\n")
    assert fm == {"license": "mit", "tags": ["a", "b"], "language": ["en", "fi"]}


def test_models_serialise(cat):
    d = cat.get("dldata/imagenet")
    doc = json.loads(d.model_dump_json())
    for key in ("id", "kind", "name", "root", "path", "size_bytes", "file_count", "metadata", "files",
                "readme", "snippets"):
        assert key in doc
