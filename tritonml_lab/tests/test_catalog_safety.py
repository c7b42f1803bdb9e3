"""Ids are validated, nothing outside the roots is listed, read or followed."""
import os

import pytest

from tritonml_lab.catalog import BadEntryId, Catalog, EntryNotFound
from tritonml_lab.tests.sample_tree import generate_sample
from tritonml_lab.catalog.sizes import scan_tree


@pytest.fixture()
def trees(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "big.bin").write_bytes(b"x" * 100_000)
    (outside / "config.json").write_text('{"architectures": ["Leaked"], "model_type": "leak"}')
    (outside / "README.md").write_text("# secret readme\n\nSECRET\n")
    (root / "ds").mkdir(parents=True)
    (root / "ds" / "a.txt").write_text("hello")
    os.symlink(outside / "secret", root / "ds" / "escape")            # dir link leaving the root
    os.symlink(outside / "README.md", root / "ds" / "README.md")      # file link leaving the root
    os.symlink(outside / "secret", root / "linked-entry")             # top-level link
    repo = root / "hub" / "models--org--leaky"
    snap = repo / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    os.symlink(outside / "config.json", snap / "config.json")         # HF link leaving the repo
    return root, outside


def test_links_leaving_root_not_followed(trees, tmp_path):
    root, outside = trees
    c = Catalog([("r", str(root))], cache_path=str(tmp_path / "c.json"), workers=0)
    ids = {e.id for e in c.list()}
    assert ids == {"r/ds", "r/hub/models--org--leaky"}          # no r/linked-entry
    d = c.get("r/ds")
    assert d.readme is None                                      # README link points outside
    hf = c.get("r/hub/models--org--leaky").hf
    assert hf.architectures == [] and hf.model_type is None        # outside config.json not read
    c.start_background_scan()
    assert c.wait_for_scan(30)
    d = c.get("r/ds")
    assert d.size_bytes == 5 and d.file_count == 1                 # escape/big.bin not counted
    c.stop(timeout=5)


def test_scan_tree_counts_links_once(tmp_path):
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / "b1").write_bytes(b"x" * 1000)
    os.link(tmp_path / "blobs" / "b1", tmp_path / "blobs" / "b1-hardlink")
    (tmp_path / "snap").mkdir()
    os.symlink("../blobs/b1", tmp_path / "snap" / "f")
    r = scan_tree(str(tmp_path))
    assert r["size_bytes"] == 1000 and r["file_count"] == 1 and r["symlink_count"] == 1
    assert r["dir_count"] == 2 and r["formats"] == {}


BAD_IDS = ["", "..", "../etc", "r/../etc", "r/ds/..", "/etc/passwd", "r//ds", "r/./ds", "r/ds\x00",
           "r\\ds", "r", "~/x", "r/ds\n", "x" * 2000, None, 5, "bad label!/x"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids_refused(trees, bad):
    root, _ = trees
    c = Catalog([("r", str(root))], cache_path="", workers=0)
    with pytest.raises(BadEntryId):
        c.get(bad)


@pytest.mark.parametrize("missing", ["r/nope", "r/ds/escape", "r/linked-entry", "other/ds", "r/hub",
                                     "r/ds/a.txt"])
def test_unknown_ids_not_found(trees, missing):
    root, _ = trees
    c = Catalog([("r", str(root))], cache_path="", workers=0)
    with pytest.raises(EntryNotFound):
        c.get(missing)


def test_error_types():
    assert issubclass(BadEntryId, ValueError) and issubclass(EntryNotFound, LookupError)
    assert not issubclass(BadEntryId, EntryNotFound)


def test_root_validation(tmp_path):
    with pytest.raises(ValueError):
        Catalog([("a b", str(tmp_path))], cache_path="")
    with pytest.raises(ValueError):
        Catalog([("a", "relative/path")], cache_path="")
    with pytest.raises(ValueError):
        Catalog([("a", str(tmp_path)), ("a", str(tmp_path))], cache_path="")
    assert Catalog([("gone", str(tmp_path / "missing"))], cache_path="").list() == []


def test_sample_symlinks_stay_in_repo(tmp_path):
    generate_sample(str(tmp_path / "d"))
    hub = tmp_path / "d" / "huggingface-hub-cache" / "hub"
    for link in hub.rglob("*"):
        if link.is_symlink():
            target = os.path.realpath(link)
            repo = str(link.relative_to(hub)).split(os.sep)[0]
            assert target.startswith(str(hub / repo / "blobs") + os.sep)
            assert not os.path.isabs(os.readlink(link))
