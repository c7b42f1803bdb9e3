"""Issue 16 benchmark: what right-sized jobs cost the server.

    python benchmarks/advice_bench.py [--jobs 200] [--hours 1] [--days 30]

1. Live advice: one LiveAdvisor check over --jobs running jobs, each with an hour (--hours) of 1 Hz
   samples (the recorded H200 trace's rows, repeated), as the first check after a restart reads them
   and as each later check does (new lines only). No Slurm call: that is the design.
2. My efficiency report: the ONE sacct call over --days days of the local cluster's accounting
   (dev/cluster up; skipped without it) and building the report from its answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tritonml_lab.advice.live import LiveAdvisor  # noqa: E402
from tritonml_lab.advice.usage import build_report  # noqa: E402
from tritonml_lab.slurm import Job, JobState  # noqa: E402

TRACE = Path(__file__).resolve().parents[1] / "tritonml_lab/tests/data/gpu-traces/h200-matmul-phases.nvml.jsonl"


class Monitor:
    def __init__(self, jobs):
        self.jobs = jobs
        self.listening = True

    def publish(self, event, payload):
        pass


def write_samples(path: Path, t0: float, seconds: int) -> None:
    lines = TRACE.read_text().splitlines()
    header, rows = lines[0], [json.loads(x) for x in lines[1:] if '"k"' not in x]
    with path.open("w") as f:
        f.write(header + "\n")
        for k in range(seconds):
            row = dict(rows[k % len(rows)])
            row["t"] = round(t0 + k, 1)
            f.write(json.dumps(row, separators=(",", ":")) + "\n")


def bench_live(jobs: int, hours: float) -> dict:
    root = Path(tempfile.mkdtemp(prefix="advice-bench-"))
    try:
        now = time.time()
        seconds = int(hours * 3600)
        running = {}
        for k in range(jobs):
            job_dir = root / f"job-{k}"
            job_dir.mkdir()
            write_samples(job_dir / "samples.gpu1.jsonl", now - seconds, seconds)
            running[str(1000 + k)] = Job(id=str(1000 + k), name="bench", state=JobState.RUNNING,
                                         started=now - seconds, cpus=4)
        dirs = {str(1000 + k): root / f"job-{k}" for k in range(jobs)}
        advisor = LiveAdvisor(Monitor(running), dirs.get, lambda _id: None)
        t = time.perf_counter()
        cold_events = advisor.check(now)
        cold = time.perf_counter() - t
        advisor.told.clear()  # as if no job had been told: every check reads and evaluates them all
        for job_dir in dirs.values():
            (job_dir / "advice.live.json").unlink(missing_ok=True)
        warm = []
        for _ in range(5):
            t = time.perf_counter()
            advisor.check(now)
            warm.append(time.perf_counter() - t)
            advisor.told.clear()
            for job_dir in dirs.values():
                (job_dir / "advice.live.json").unlink(missing_ok=True)
        return {"jobs": jobs, "samples_per_job": seconds, "first_check_s": round(cold, 3),
                "later_check_s_median": round(statistics.median(warm), 4), "events_first_check": len(cold_events)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def bench_report(days: int) -> dict:
    import getpass

    from tritonml_lab.slurm import SlurmClient

    until = datetime.now()
    since = until - timedelta(days=days)
    fmt = "%Y-%m-%dT%H:%M:%S"
    t = time.perf_counter()
    figures = await SlurmClient().efficiency_between(since.strftime(fmt), until.strftime(fmt), getpass.getuser())
    sacct = time.perf_counter() - t
    t = time.perf_counter()
    report = build_report(figures, days, since.timestamp(), until.timestamp())
    build = time.perf_counter() - t
    return {"days": days, "jobs_in_answer": len(figures), "jobs_reported": report.jobs, "sacct_calls": 1,
            "sacct_s": round(sacct, 3), "build_s": round(build, 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--days", type=int, default=30)
    args = p.parse_args()
    print(json.dumps({"live": bench_live(args.jobs, args.hours)}))
    from tritonml_lab.slurm import SlurmError

    skipped = "skipped: no cluster (dev/cluster up; eval \"$(dev/cluster env)\")"
    if not shutil.which("sacct"):
        print(json.dumps({"report": skipped}))
        return
    try:  # sacct is installed here even when the cluster is down
        print(json.dumps({"report": asyncio.run(bench_report(args.days))}))
    except SlurmError as exc:
        print(json.dumps({"report": f"{skipped}: {exc.message}"}))


if __name__ == "__main__":
    main()
