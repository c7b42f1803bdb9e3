"""Issue 24 item 5 benchmark: repeated ``GET jobs/{id}`` summaries of a job with a large samples file.

    python benchmarks/samples_bench.py [--hours 2] [--gpus 8] [--requests 30]

The job: the recorded H200 trace's rows (tests/data/gpu-traces/h200-starved.jsonl), one row per second
for --hours (the sampler keeps up to two hours at full resolution before it compacts), its GPU row
repeated for --gpus GPUs. Each GET jobs/{id} summarizes the samples (``JobService._detail_files``):

  before  every request read and summed the whole file (``stream.job_summary`` as it was: load + summarize)
  after   the job's one reader (``metrics.samples``): a request reads what was written since the last one

Two cases: the job still running (one second of samples appended before each request) and finished
(nothing new). Prints the time per request of each, and the ratio; checks the summaries are equal.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tritonml_lab.metrics.efficiency import summarize  # noqa: E402
from tritonml_lab.metrics.samples import SampleReaders, merge, sample_files  # noqa: E402
from tritonml_lab.metrics.trace import load  # noqa: E402

TRACE = Path(__file__).resolve().parents[1] / "tritonml_lab/tests/data/gpu-traces/h200-starved.jsonl"


def before(job_dir: Path, task: Optional[str] = None) -> Optional[dict[str, Any]]:
    """The summary as every GET jobs/{id} made it before: each node's whole file read and summed."""
    nodes = {}
    for node, path in sample_files(job_dir, task).items():
        header, samples, _end = load(str(path))
        nodes[node] = summarize(header, samples)
    return merge(nodes) if nodes else None


def rows(hours: float, gpus: int) -> tuple[dict, list[str]]:
    header, samples, _end = load(str(TRACE))
    steady = [s for s in samples if s.get("c") is not None]
    header = {**header, "gpus": [{**header["gpus"][0], "i": k} for k in range(gpus)]}
    t0, lines = 1_800_000_000.0, []
    for k in range(int(hours * 3600)):
        s = steady[k % len(steady)]
        lines.append(json.dumps({**s, "t": round(t0 + k, 1), "g": s["g"] * gpus}, separators=(",", ":")) + "\n")
    return header, lines


def timed(request: Callable[[], Any], count: int, append: Optional[Callable[[], None]]) -> tuple[float, Any]:
    """Median seconds per request, and the last answer."""
    times, answer = [], None
    for _ in range(count):
        if append is not None:
            append()
        start = time.perf_counter()
        answer = request()
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    header, lines = rows(args.hours, args.gpus)
    tail = lines[-2 * args.requests:]  # what the running job writes while it is asked about
    with tempfile.TemporaryDirectory(prefix="tritonml-samples-bench-") as tmp:
        print(f"{args.hours:g} h of 1 Hz samples, {args.gpus} GPUs, {args.requests} requests each")
        for case in ("running", "finished"):
            results = {}
            for name in ("before", "after"):
                job_dir = Path(tmp) / f"{case}-{name}"
                job_dir.mkdir()
                path = job_dir / "samples.gpu1.jsonl"
                written = lines[: len(lines) - len(tail)] if case == "running" else lines
                path.write_text(json.dumps(header) + "\n" + "".join(written))
                more = iter(tail)

                def append(path: Path = path, more: Any = more) -> None:
                    with path.open("a") as handle:
                        handle.write(next(more))

                readers = SampleReaders()
                request = (lambda d=job_dir: before(d)) if name == "before" else \
                    (lambda d=job_dir, r=readers: r.job(d).summary())
                if name == "after":
                    request()  # the job's first detail: the reader's one full read (shown apart below)
                seconds, answer = timed(request, args.requests, append if case == "running" else None)
                results[name] = seconds
                assert answer == before(job_dir), "the incremental summary differs from a full read"
            size = path.stat().st_size / 1e6
            print(f"{case:9s} ({size:.1f} MB): before {results['before'] * 1e3:8.2f} ms/request, "
                  f"after {results['after'] * 1e3:6.3f} ms/request, {results['before'] / results['after']:7.0f}x")
        readers = SampleReaders()
        start = time.perf_counter()
        readers.job(job_dir).summary()
        print(f"first request of a job (one full read, either way): {(time.perf_counter() - start) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
