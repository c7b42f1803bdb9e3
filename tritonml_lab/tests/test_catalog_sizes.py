"""Background sizes: persistence, invalidation, non-blocking listing."""
import json
import os
import threading
import time


from tritonml_lab.catalog import Catalog
from tritonml_lab.catalog import sizes as sizes_mod


def _tree(tmp_path):
    root = tmp_path / "root"
    for name, n in (("alpha", 3), ("beta", 5)):
        d = root / name / "sub"
        d.mkdir(parents=True)
        for i in range(n):
            (d / f"f{i}.jpg").write_bytes(b"x" * 100)
    return root


def test_cache_survives_restart_and_mtime_invalidates(tmp_path):
    root = _tree(tmp_path)
    cache = tmp_path / "cache" / "sizes.json"
    c1 = Catalog([("r", str(root))], cache_path=str(cache), workers=0)
    assert all(e.size_bytes is None for e in c1.list())
    c1.start_background_scan()
    assert c1.wait_for_scan(30)
    got = {e.id: (e.size_bytes, e.file_count, e.size_status) for e in c1.list()}
    assert got == {"r/alpha": (300, 3, "ready"), "r/beta": (500, 5, "ready")}
    c1.stop()
    doc = json.loads(cache.read_text())
    assert doc["version"] == 2 and len(doc["entries"]) == 2
    assert [p for p in os.listdir(cache.parent) if p.endswith(".tmp")] == []

    # restart: sizes known at once, nothing queued, scanner never started
    c2 = Catalog([("r", str(root))], cache_path=str(cache), workers=0)
    assert {e.id: (e.size_bytes, e.file_count) for e in c2.list()} == {"r/alpha": (300, 3), "r/beta": (500, 5)}
    assert c2.scanner.pending() == 0 and c2.detector.pending() == 0

    # a change below the entry (subdir mtime) leaves the listing alone (no look inside entries);
    # the background revalidation sees it and rescans that entry only
    (root / "beta" / "sub" / "new.jpg").write_bytes(b"y" * 50)
    c3 = Catalog([("r", str(root))], cache_path=str(cache), workers=0)
    assert {e.id: e.size_bytes for e in c3.list()} == {"r/alpha": 300, "r/beta": 500}
    c3.refresh(deep=True)
    assert c3.scanner.pending() == 1 and c3.scanner.is_pending(str(root / "beta"))
    c3.start_background_scan()
    assert c3.wait_for_scan(30)
    assert {e.id: e.size_bytes for e in c3.list()} == {"r/alpha": 300, "r/beta": 550}

    # an mtime change of the entry directory itself is seen by the next discovery
    st = os.stat(root / "alpha")
    os.utime(root / "alpha", ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))
    c3.refresh(deep=True)
    assert c3.wait_for_scan(30)
    assert {e.id: e.size_status for e in c3.list()}["r/alpha"] == "ready"
    c3.stop()
    rec = json.loads(cache.read_text())["entries"][str(root / "alpha")]
    assert rec["size"]["key"][0] == rec["detected"]["key"][0] == st.st_mtime_ns + 5 * 10**9


def test_listing_does_not_block_on_scan(tmp_path, monkeypatch):
    root = _tree(tmp_path)
    release = threading.Event()
    started = threading.Event()
    real = sizes_mod.scan_tree

    def slow_scan(path, stop=None):
        started.set()
        release.wait(20)
        return real(path, stop)

    monkeypatch.setattr(sizes_mod, "scan_tree", slow_scan)
    c = Catalog([("r", str(root))], cache_path=str(tmp_path / "s.json"), workers=0)
    c.start_background_scan()
    assert started.wait(10)
    t0 = time.monotonic()
    entries = c.list()
    detail = c.get("r/alpha")
    assert time.monotonic() - t0 < 1.0
    assert [e.size_bytes for e in entries] == [None, None] and detail.size_status == "pending"
    listing = c.listing()
    assert listing.scanning and listing.pending == 2
    release.set()
    assert c.wait_for_scan(30)
    assert [e.size_bytes for e in c.list()] == [300, 500]
    c.stop()


def test_new_entry_picked_up_after_refresh_interval(tmp_path):
    root = _tree(tmp_path)
    c = Catalog([("r", str(root))], cache_path="", workers=0, refresh_interval=0.0)
    assert len(c.list()) == 2
    (root / "gamma").mkdir()
    (root / "gamma" / "x.parquet").write_bytes(b"PAR1")
    assert {e.id for e in c.list()} == {"r/alpha", "r/beta", "r/gamma"}
    import shutil
    shutil.rmtree(root / "beta")
    assert {e.id for e in c.list()} == {"r/alpha", "r/gamma"}


def test_process_pool_scanner(tmp_path):
    root = _tree(tmp_path)
    c = Catalog([("r", str(root))], cache_path=str(tmp_path / "p.json"), workers=1)
    c.start_background_scan()
    assert c.wait_for_scan(60)
    assert [e.file_count for e in c.list()] == [3, 5]
    c.stop()


def test_stop_is_prompt(tmp_path):
    root = _tree(tmp_path)
    c = Catalog([("r", str(root))], cache_path=str(tmp_path / "q.json"), workers=0)
    c.start_background_scan()
    t0 = time.monotonic()
    c.stop()
    assert time.monotonic() - t0 < 5 and not c.scanner.running


def test_corrupt_cache_ignored(tmp_path):
    root = _tree(tmp_path)
    cache = tmp_path / "bad.json"
    cache.write_text("{not json")
    c = Catalog([("r", str(root))], cache_path=str(cache), workers=0)
    assert [e.size_bytes for e in c.list()] == [None, None]
    c.start_background_scan()
    assert c.wait_for_scan(30)
    c.stop()
    assert json.loads(cache.read_text())["version"] == 2
