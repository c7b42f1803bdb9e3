"""A catalog folder that hangs degrades the catalog only -- and only that entry where it can.

A hung Lustre read is simulated with the catalog's test-only filesystem layer (:mod:`..catalog.fsio`):
every call under a "stuck" entry blocks until the test lets it go, like a read from an OST that
does not answer.  (A FIFO cannot simulate it: the catalog opens files non-blocking and reads only
regular files, which the FIFO test below checks.)  Slurm is real.
"""

import asyncio
import json
import os
import threading
import time

import pytest
from tornado.httpclient import HTTPClientError

from tritonml_lab.catalog import Catalog, CatalogTimeout, fsio

from .openapi_check import validate

STUCK = 4  # hung entries: more than the catalog has request threads


def make_tree(root):
    for name in ["ok"] + [f"stuck-{i}" for i in range(STUCK)]:
        (root / name / "train").mkdir(parents=True)
        (root / name / "README.md").write_text(f"# {name}\n\nThe {name} data set.\n")
        (root / name / "train" / "a.parquet").write_bytes(b"PAR1")
    return root


@pytest.fixture
def hung(tmp_path):
    """Every filesystem call inside a stuck-* entry blocks (the entry directory itself answers, as
    a Lustre MDS does while an OST is down); yields the threads that are blocked."""
    root = make_tree(tmp_path / "root")
    release = threading.Event()
    blocked = set()

    def hook(op, path):
        rel = os.path.relpath(path, root)
        if rel.startswith("stuck-") and "/" in rel:
            blocked.add(threading.current_thread().name)
            release.wait(120)

    previous = fsio.set_hook(hook)
    yield root, blocked
    release.set()
    fsio.set_hook(previous)


async def test_hung_entry_times_out_alone(hung):
    root, blocked = hung
    cat = Catalog([("r", str(root))], cache_path="", workers=0, threads=2, timeout=1.0)
    cat.start_background_scan(sizes=False)
    listing = await cat.listing_async()        # names only: nothing inside an entry is touched
    assert {e.id for e in listing.entries} == {"r/ok"} | {f"r/stuck-{i}" for i in range(STUCK)}
    t0 = time.monotonic()
    with pytest.raises(CatalogTimeout, match="r/stuck-0 is not responding"):
        await cat.get_async("r/stuck-0")
    assert 0.9 < time.monotonic() - t0 < 3
    # Asking again for the same hung entry fails at once: its read is still going, no new thread.
    t0 = time.monotonic()
    with pytest.raises(CatalogTimeout):
        await cat.get_async("r/stuck-0")
    assert time.monotonic() - t0 < 0.5
    # More hung entries than request threads: other entries are still served ...
    results = await asyncio.gather(*(cat.get_async(f"r/stuck-{i}") for i in range(1, STUCK)),
                                   cat.get_async("r/ok"), return_exceptions=True)
    assert all(isinstance(r, CatalogTimeout) for r in results[:-1])
    assert results[-1].description == "The ok data set."
    # ... the listing from memory answers at once, the hung entries marked as such ...
    await asyncio.sleep(1.1)
    t0 = time.monotonic()
    listing = await cat.listing_async()
    assert time.monotonic() - t0 < 0.5
    status = {e.id: e.details_status for e in listing.entries}
    assert status["r/ok"] == "ready" and status["r/stuck-0"] in ("stalled", "pending")
    assert "stalled" in status.values()
    # ... and the threads held are bounded: one per hung entry and kind of work, within the cap.
    assert len(blocked) <= 2 * STUCK
    cat.stop(timeout=1)


async def test_entry_answers_again_when_the_folder_does(tmp_path):
    root = make_tree(tmp_path / "root")
    release = threading.Event()
    fsio.set_hook(lambda op, path: "/stuck-0/" in path and release.wait(30))
    try:
        cat = Catalog([("r", str(root))], cache_path="", workers=0, threads=1, timeout=0.5)
        with pytest.raises(CatalogTimeout):
            await cat.get_async("r/stuck-0")
        release.set()
        await asyncio.sleep(0.2)
        assert (await cat.get_async("r/stuck-0")).readme.startswith("# stuck-0")
        cat.stop(timeout=1)
    finally:
        release.set()
        fsio.set_hook(None)


async def test_a_root_that_hangs_becomes_a_warning(tmp_path):
    good, bad = make_tree(tmp_path / "good"), make_tree(tmp_path / "bad")
    release = threading.Event()
    fsio.set_hook(lambda op, path: path.startswith(str(bad)) and release.wait(30))
    try:
        cat = Catalog([("good", str(good)), ("bad", str(bad))], cache_path="", workers=0, timeout=0.5)
        listing = await cat.listing_async()
        assert {e.root for e in listing.entries} == {"good"} and len(listing.entries) == STUCK + 1
        assert len(listing.warnings) == 1 and "root 'bad'" in listing.warnings[0]
        with pytest.raises(CatalogTimeout, match="root 'bad'"):
            await cat.get_async("bad/ok")
        assert (await cat.get_async("good/ok")).name == "ok"
        release.set()
        await asyncio.sleep(0.2)
        assert {e.root for e in (await cat.listing_async()).entries} == {"good", "bad"}
        cat.stop(timeout=1)
    finally:
        release.set()
        fsio.set_hook(None)


async def test_fifo_in_an_entry_does_not_hang(tmp_path):
    root = tmp_path / "root"
    (root / "ds").mkdir(parents=True)
    os.mkfifo(root / "ds" / "README.md")      # no writer: a blocking open would never return
    os.mkfifo(root / "ds" / ".tritonml.toml")
    snapshot = root / "hub" / "models--org--fifo" / "snapshots" / ("c" * 40)
    snapshot.mkdir(parents=True)
    (snapshot.parent.parent / "refs").mkdir()
    (snapshot.parent.parent / "refs" / "main").write_text("c" * 40)
    os.mkfifo(snapshot / "model.safetensors")  # the header read opens it too
    cat = Catalog([("r", str(root))], cache_path="", workers=0, timeout=5.0)
    t0 = time.monotonic()
    detail = await cat.get_async("r/ds")
    assert time.monotonic() - t0 < 2 and detail.readme is None and detail.metadata is None
    model = await cat.get_async("r/hub/models--org--fifo")
    assert time.monotonic() - t0 < 4 and model.hf.num_parameters is None
    cat.stop(timeout=1)


# -- in the server: the default executor (job submission) is never the catalog's ----------------
@pytest.fixture
def jp_server_config(jp_server_config, hung):
    config = dict(jp_server_config)
    config["TritonML"] = {**config.get("TritonML", {}), "catalog_roots": [f"r={hung[0]}"],
                          "catalog_cache_path": "", "catalog_scan_workers": 0,
                          "catalog_threads": 2, "catalog_timeout": 1.0}
    return config


async def error_of(coro):
    with pytest.raises(HTTPClientError) as info:
        await coro
    return info.value.code, json.loads(info.value.response.body)


async def test_hung_reads_leave_the_default_executor_free(jp_fetch):
    # Hung entries asked for, all at once and again: more than the default executor has threads.
    loop = asyncio.get_running_loop()
    asks = [jp_fetch("tritonml", "catalog", f"r/stuck-{i % STUCK}") for i in range(3 * STUCK)]
    answers = await asyncio.gather(*(error_of(a) for a in asks))
    assert {code for code, _ in answers} == {504}
    assert "not responding" in answers[0][1]["message"]
    validate("/catalog/{entry_id}", "get", 504, answers[0][1])
    # Work on the default executor -- what POST jobs uses to write the job directory -- runs at once.
    t0 = time.monotonic()
    assert await asyncio.wait_for(loop.run_in_executor(None, time.monotonic), 2) >= t0
    assert time.monotonic() - t0 < 0.5
    # Other catalog requests are served.
    listing = json.loads((await jp_fetch("tritonml", "catalog")).body)
    validate("/catalog", "get", 200, listing)
    assert len(listing["entries"]) == STUCK + 1
    assert json.loads((await jp_fetch("tritonml", "catalog", "r/ok")).body)["readme"].startswith("# ok")


@pytest.mark.usefixtures("slurm_cluster")
async def test_post_jobs_while_a_catalog_read_hangs(jp_fetch, jobs_root):
    hung = [asyncio.ensure_future(jp_fetch("tritonml", "catalog", f"r/stuck-{i % STUCK}")) for i in range(12)]
    await asyncio.sleep(0.2)    # the catalog's threads are now stuck in reads
    t0 = time.monotonic()
    response = await jp_fetch("tritonml", "jobs", method="POST",
                              body=json.dumps({"partition": "batch-csl", "command": "true", "time": "00:01:00"}))
    assert response.code == 201 and time.monotonic() - t0 < 15
    job_id = json.loads(response.body)["id"]
    assert (jobs_root / job_id / "manifest.json").exists()
    codes = [code for code, _ in await asyncio.gather(*(error_of(h) for h in hung))]
    assert set(codes) == {504}
    await jp_fetch("tritonml", "jobs", job_id, method="DELETE")
