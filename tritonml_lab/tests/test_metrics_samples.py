"""Issue 24 item 5: one reader per job's samples (metrics/samples.py), owned by metrics/. The rows are
decoded through the header's ``cols`` in one place, the files' names are defined once, a second read
of a job reads only what was appended (and sums to what a full read gives), and the charts, the live
advice and the job detail share the job's one reader."""

import asyncio
import json
import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

from tritonml_lab.injob import sampler
from tritonml_lab.metrics.samples import JobSamples, SampleReaders, sample_files, split_name
from tritonml_lab.metrics.stream import history, job_summary
from tritonml_lab.metrics.trace import load
from tritonml_lab.server.config import TritonML
from tritonml_lab.server.services import build_services

PACKAGE = Path(__file__).resolve().parents[1]
TRACE = PACKAGE / "tests" / "data" / "gpu-traces" / "h200-starved.jsonl"


def sources(*skip: str) -> dict[str, str]:
    """The package's Python code (not its tests), by path relative to the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if not name.startswith(("tests/",) + skip):
            out[name] = path.read_text()
    return out


def test_one_place_decodes_sample_rows():
    """Only metrics/trace.py reads a header's ``cols`` or a sample's GPU rows ("g"). The sampler
    (injob/, the writer) defines them; everything else gets rows in its COLS order or named fields."""
    cols = re.compile(r"""["']cols["']""")
    rows = re.compile(r"""(\.get\(|\[)\s*["']g["']\s*[\]),]""")
    found = sorted(name for name, text in sources("injob/").items() if cols.search(text) or rows.search(text))
    assert found == ["metrics/trace.py"]


def test_rows_in_another_column_order_read_the_same(tmp_path):
    """A header whose ``cols`` are in another order: the summary is the same, and the rows handed on
    (to the charts too) are in COLS order, with a header that says so."""
    header, samples, end = load(str(TRACE))
    order = ["T", "s", "u", "p", "m"]
    at = [sampler.COLS.index(c) for c in order]
    moved = [{**s, "g": [[row[i] for i in at] for row in s["g"]]} if s.get("g") else s for s in samples]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a" / "samples.gpu1.jsonl", header, samples)
    write(tmp_path / "b" / "samples.gpu1.jsonl", {**header, "cols": order}, moved)
    assert job_summary(tmp_path / "b") == job_summary(tmp_path / "a")
    node = history(tmp_path / "b")["nodes"]["gpu1"]
    assert node["header"]["cols"] == sampler.COLS and node["samples"] == history(tmp_path / "a")["nodes"]["gpu1"]["samples"]


def test_the_sample_files_names_are_defined_once():
    """injob/sampler.py names the files; the batch script's --out and the readers import the names."""
    literal = re.compile(r"""["']samples\.|["']\.task["']""")
    assert sorted(name for name, text in sources().items() if literal.search(text)) == ["injob/sampler.py"]
    written = sampler.out_path("/d/" + sampler.SAMPLES_OUT, "gpu1", "3")
    assert split_name(os.path.basename(written)) == ("gpu1", "3")
    assert split_name(os.path.basename(sampler.out_path("/d/" + sampler.SAMPLES_OUT, "gpu1"))) == ("gpu1", None)


def write(path: Path, header: dict, samples: list, mode: str = "w") -> int:
    text = "".join(json.dumps(x) + "\n" for x in ([header] if header else []) + samples)
    with open(path, mode) as handle:
        handle.write(text)
    return len(text.encode())


def test_a_second_summary_reads_only_what_was_appended_and_equals_a_full_read(tmp_path):
    header, samples, _end = load(str(TRACE))
    path = tmp_path / "samples.gpu1.jsonl"
    size = write(path, header, samples[:20])
    reader = SampleReaders().job(tmp_path)
    first = reader.summary()
    assert first == job_summary(tmp_path) and reader.bytes_read == size
    added = write(path, None, samples[20:30], "a")
    with open(path, "a") as handle:
        handle.write('{"t": 1')  # a line the sampler is writing: left for the next read
    again = reader.summary()
    assert reader.bytes_read == size + added + len('{"t": 1')
    assert again == job_summary(tmp_path) and again["seconds"] == first["seconds"] + 10
    # A compaction rewrites the file (a new inode): read again from 0, still what a full read gives.
    tmp = tmp_path / "compacting"
    write(tmp, {**header, "gen": 1}, samples[5:])
    os.replace(tmp, path)
    assert reader.summary() == job_summary(tmp_path)
    summary = reader.summary()
    summary["gpus"][0]["util_mean"] = -1  # a caller adds to its copy (the detail does): not to the reader's
    assert reader.summary() == job_summary(tmp_path)


def test_an_array_tasks_files_are_followed_once_for_the_task_and_the_whole_array(tmp_path):
    header, samples, _end = load(str(TRACE))
    for task in ("3", "4"):
        write(tmp_path / f"samples.gpu1.task{task}.jsonl", {**header, "task": task}, samples)
    reader = SampleReaders().job(tmp_path)
    assert reader.summary("3") == job_summary(tmp_path, "3")
    assert reader.summary() == job_summary(tmp_path) and len(reader) == 2
    read = reader.bytes_read
    assert reader.summary("4") == job_summary(tmp_path, "4") and reader.bytes_read == read


def test_memory_stays_bounded(tmp_path):
    """The registry forgets the least recently used jobs no stream holds; a stream's samples go with it."""
    header, samples, _end = load(str(TRACE))
    dirs = []
    for k in range(4):
        dirs.append(tmp_path / str(k))
        dirs[-1].mkdir()
        write(dirs[-1] / "samples.gpu1.jsonl", header, samples)
    readers = SampleReaders(max_jobs=2)
    watched = readers.job(dirs[0])
    watched.window(0, None, "advice:0")
    first_files = watched._files.values()
    assert all(f.recent for f in first_files)
    for d in dirs[1:]:
        readers.job(d).summary()
    assert len(readers) == 2 and readers.job(dirs[0]) is watched  # held: kept
    assert all(f.recent is None for d in dirs[1:] for f in readers.job(d)._files.values())
    watched.release("advice:0")
    assert all(f.recent is None for f in watched._files.values())
    readers.job(dirs[1])
    readers.job(dirs[2])
    assert readers.job(dirs[0]) is not watched  # no longer held: forgotten, then made again


def trace_now(now: float) -> tuple[dict, list]:
    """The recorded trace's rows at 1 s steps, ending now (the live advice looks at the last 10 min)."""
    header, samples, _end = load(str(TRACE))
    rows = [s for s in samples if s.get("c") is not None]
    start = now - len(rows)
    return header, [{**s, "t": round(start + k, 1)} for k, s in enumerate(rows)]


def test_the_charts_the_live_advice_and_the_detail_share_one_reader(tmp_path):
    root = tmp_path / "jobs"
    root.mkdir()
    (root / "job-1").mkdir()
    os.symlink("job-1", root / "4242")
    services = build_services(TritonML(jobs_root=str(root)))
    try:
        now = time.time()
        header, rows = trace_now(now)
        path = root / "job-1" / "samples.gpu1.jsonl"
        size = write(path, header, rows[:-5])
        _script, detail, _runs = services.jobs._detail_files("4242", False, False)
        reader = services.files.samples.job(root / "job-1")
        assert reader.bytes_read == size and detail == job_summary(root / "job-1")

        marks: dict = {}
        past, charts = services.metrics._history_blocking("4242", marks)
        assert charts is reader and past["nodes"]["gpu1"]["samples"]
        running = {"4242": SimpleNamespace(id="4242", name="x", started=now - 3600, state="RUNNING",
                                           array_job_id=None, cpus=4)}
        services.advisor.check(now, running)
        assert services.advisor._held["4242"] is reader

        added = write(path, None, rows[-5:], "a")
        before = reader.bytes_read
        found, again = services.metrics._poll_blocking("4242", marks)
        assert again is reader and [s["t"] for _node, _h, new in found for s in new] == [s["t"] for s in rows[-5:]]
        assert reader.bytes_read == before + added  # the charts read what was appended, once
        assert services.jobs._detail_files("4242", False, False)[1] == job_summary(root / "job-1")
        assert services.files.summary("4242") == job_summary(root / "job-1")
        assert reader.bytes_read == before + added  # and the detail and the report read nothing again
        assert len(services.files.samples) == 1
    finally:
        async def close():
            services.close()

        asyncio.run(close())


def test_a_one_shot_reader_reads_each_file_once(tmp_path):
    header, samples, _end = load(str(TRACE))
    size = write(tmp_path / "samples.gpu1.jsonl", header, samples)
    reader = JobSamples(tmp_path)
    assert reader.summary() is not None and reader.bytes_read == size
    assert sample_files(tmp_path) and JobSamples(tmp_path / "none").summary() is None
