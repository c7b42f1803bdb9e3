"""The job monitor's marker tick (server/marker_watch.py): its cost with many active jobs, now (one
batch a tick in a pool, a directory it hangs in set aside and scanned on its own, so that a hung one
holds up only itself) against one hop to one thread that scanned them all (before), in one run.

    python benchmarks/marker_scan_bench.py [--jobs 100] [--ticks 200]

No Slurm is needed: the jobs are directories in a temporary jobs root, marked active in the monitor.
Reported per tick: wall time, and the CPU time of the whole process (event loop and pool threads).
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tritonml_lab.jobs import Defaults, JobSpec, JobStore  # noqa: E402
from tritonml_lab.server.monitor import JobMonitor  # noqa: E402
from tritonml_lab.slurm import Job, JobState  # noqa: E402


def make_monitor(root: Path, jobs: int) -> JobMonitor:
    store = JobStore(root)
    monitor = JobMonitor(None, store=store)
    for n in range(jobs):
        job_dir, manifest = store.prepare(JobSpec(command="true"), Defaults(sampler_python=None))
        job_id = str(100000 + n)
        store.attach(job_dir, manifest, job_id)
        (job_dir.path / "started.job").write_text(f"{time.time():.6f} csl1\n")
        monitor.jobs[job_id] = Job(id=job_id, state=JobState.RUNNING, started=time.time())
    return monitor


async def per_directory(monitor: JobMonitor, ticks: int) -> tuple[list[float], float]:
    monitor.start()
    walls = []
    cpu0 = time.process_time()
    for _ in range(ticks):
        t0 = time.perf_counter()
        await monitor._scan_once()
        walls.append(time.perf_counter() - t0)
    cpu = time.process_time() - cpu0
    monitor.close()
    return walls, cpu


async def one_hop(monitor: JobMonitor, ticks: int) -> tuple[list[float], float]:
    loop = asyncio.get_running_loop()
    bases = sorted(monitor.jobs)
    walls = []
    cpu0 = time.process_time()
    for _ in range(ticks):
        t0 = time.perf_counter()
        markers, _new = await loop.run_in_executor(None, monitor._scan_blocking, bases, set(bases))
        for marker in markers:
            monitor._on_marker(marker, time.monotonic())
        walls.append(time.perf_counter() - t0)
    return walls, time.process_time() - cpu0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--ticks", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name, run in (("one hop, one thread (before)", one_hop), ("a batch in the pool (now)", per_directory)):
            monitor = make_monitor(Path(tmp) / name.split()[0], args.jobs)
            asyncio.run(run(monitor, 5))  # warm: the first scan reads the markers, later ones only stat
            monitor = make_monitor(Path(tmp) / (name.split()[0] + "2"), args.jobs)
            asyncio.run(run(monitor, 1))
            results[name] = asyncio.run(run(monitor, args.ticks))
        print(f"{args.jobs} active jobs, {args.ticks} ticks")
        for name, (walls, cpu) in results.items():
            print(f"  {name:34s} wall median {statistics.median(walls) * 1000:6.2f} ms, "
                  f"p99 {sorted(walls)[int(0.99 * len(walls)) - 1] * 1000:6.2f} ms, CPU {cpu / args.ticks * 1000:6.2f} ms/tick")
        (before, cpu_b), (now, cpu_n) = results.values()
        print(f"  ratio now/before: wall {statistics.median(now) / statistics.median(before):.2f}x, "
              f"CPU {cpu_n / cpu_b:.2f}x (the tick runs every 0.5 s by default)")


if __name__ == "__main__":
    main()
