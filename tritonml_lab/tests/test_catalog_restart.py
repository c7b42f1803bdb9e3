"""Issue 18: a first listing from names alone, details filled in by the background, and a restart
that lists from the cache without a look inside any entry (real files; calls counted with the
catalog's filesystem layer)."""

import os
import threading
from contextlib import contextmanager

import pytest

from tritonml_lab.catalog import Catalog, fsio
from tritonml_lab.tests.sample_tree import generate_sample

HUB = "dldata/huggingface-hub-cache/hub/"
LLAMA = HUB + "models--meta-llama--Meta-Llama-3-8B"


@pytest.fixture()
def dldata(tmp_path):
    root = tmp_path / "dldata"
    generate_sample(str(root))
    return root


@contextmanager
def counted():
    """Every call of the catalog's filesystem layer in this block, as (operation, path)."""
    calls, lock = [], threading.Lock()

    def hook(op, path):
        with lock:
            calls.append((op, path))
    previous = fsio.set_hook(hook)
    try:
        yield calls
    finally:
        fsio.set_hook(previous)


def inside(calls, entries):
    """The calls on paths below an entry directory (the directory itself is not inside)."""
    dirs = {e.path + "/" for e in entries}
    return [(op, p) for op, p in calls if any(p.startswith(d) for d in dirs)]


def start(cache, root, **kw):
    return Catalog([("dldata", str(root))], cache_path=str(cache), workers=0, **kw)


def test_first_listing_from_names_then_details_fill_in(dldata, tmp_path):
    cat = start(tmp_path / "cache.json", dldata)
    with counted() as calls:
        first = {e.id: e for e in cat.list()}
    assert len(first) == 12 and inside(calls, first.values()) == []
    assert len(calls) <= 3 * len(first)
    assert {e.details_status for e in first.values()} == {"pending"}
    # Kind and name from the name alone: HF repos exactly, folders guessed.
    llama = first[LLAMA]
    assert (llama.kind, llama.name, llama.description) == ("model", "meta-llama/Meta-Llama-3-8B", None)
    assert first["dldata/llama-2"].kind == "model" and first["dldata/imagenet"].kind == "dataset"
    listing = cat.listing()
    assert listing.detecting == 12 and not listing.scanning     # nothing runs until started

    cat.start_background_scan(sizes=False)
    assert cat.listing().scanning or cat.detector.pending() == 0
    assert cat.wait_for_details(30)
    now = {e.id: e for e in cat.list()}
    assert {e.details_status for e in now.values()} == {"ready"}
    assert now[LLAMA].num_parameters == 8030261248 and now[LLAMA].description.startswith("LlamaForCausalLM")
    assert now["dldata/imagenet"].name == "ImageNet ILSVRC-2012"       # the entry's own metadata file
    assert "webdataset" in now["dldata/imagenet-1k-wds"].tags
    assert all(e.size_status == "pending" for e in now.values())      # sizes are the scanner's
    cat.stop()


def test_restart_lists_from_the_cache_and_looks_again_only_at_changed_entries(dldata, tmp_path):
    cache = tmp_path / "cache.json"
    cat = start(cache, dldata)
    cat.list()
    cat.start_background_scan()
    assert cat.wait_for_scan(60)
    before = {e.id: e for e in cat.list()}
    cat.stop()

    # Restart: everything from the cache, one lstat per entry, not one call inside an entry.
    again = start(cache, dldata)
    with counted() as calls:
        listed = {e.id: e for e in again.list()}
    assert inside(calls, listed.values()) == []
    assert sum(op == "lstat" and p in {e.path for e in listed.values()} for op, p in calls) == 12
    assert {e.details_status for e in listed.values()} == {"ready"}
    assert listed == before
    assert again.detector.pending() == 0 and again.scanner.pending() == 0

    # One entry changes at its top level: only it is looked at again, the others come from the cache.
    (dldata / "maestro" / "README.md").write_text("# MAESTRO\n\nRe-recorded, version 4.\n")
    os.utime(dldata / "maestro", ns=(0, os.stat(dldata / "maestro").st_mtime_ns + 10**9))
    third = start(cache, dldata)
    with counted() as calls:
        listed = {e.id: e for e in third.list()}
    assert inside(calls, listed.values()) == []
    assert [i for i, e in listed.items() if e.details_status != "ready"] == ["dldata/maestro"]
    assert listed["dldata/maestro"].description == before["dldata/maestro"].description   # shown until looked at
    assert listed["dldata/maestro"].size_bytes is None and third.detector.pending() == 1
    third.start_background_scan()
    assert third.wait_for_scan(60)
    maestro = {e.id: e for e in third.list()}["dldata/maestro"]
    assert maestro.description == "Re-recorded, version 4." and maestro.size_status == "ready"
    third.stop()


def test_a_hub_in_a_folder_of_any_name_is_found_and_remembered(dldata, tmp_path):
    os.rename(dldata / "huggingface-hub-cache", dldata / "shared-stuff")   # no name hint
    cache = tmp_path / "cache.json"
    cat = start(cache, dldata)
    assert "dldata/shared-stuff" in {e.id for e in cat.list()}            # a folder, until detected
    cat.start_background_scan(sizes=False)
    assert cat.wait_for_details(30)
    cat.refresh(deep=False)
    ids = {e.id for e in cat.list()}
    assert "dldata/shared-stuff/hub/models--openai--whisper-small" in ids and "dldata/shared-stuff" not in ids
    cat.stop()
    # After a restart the cache knows the folder holds a hub: its repos are listed at once.
    ids = {e.id for e in start(cache, dldata).list()}
    assert "dldata/shared-stuff/hub/models--openai--whisper-small" in ids and "dldata/shared-stuff" not in ids


def test_root_metadata_applies_before_detection(dldata, tmp_path):
    (dldata / ".tritonml-catalog.toml").write_text('[entries.maestro]\nhidden = true\n'
                                                   '[entries.laion400M]\ntags = ["captions"]\n')
    cat = start(tmp_path / "cache.json", dldata)
    listed = {e.id: e for e in cat.list()}
    assert "dldata/maestro" not in listed and listed["dldata/laion400M"].tags == ["captions"]
