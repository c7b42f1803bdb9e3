"""Issue 15 figures: how early Slurm's time-limit warning comes, and what a restart costs.

    python benchmarks/checkpoint_bench.py [--jobs 6] [--time 120] [--warn 30] [--partition batch-csl]

Needs the local cluster (dev/cluster up). Submits --jobs long jobs at once through the Launcher
(``checkpoint: {warn, requeue: 1}``), each a Python program that counts steps of 0.1 s, saves a
checkpoint when ``should_checkpoint()`` turns true and calls ``requeue()``; its second run ends at once.
From the job directories' markers and the program's own notes it reports, per job:

- signal lead: seconds between Slurm's SIGUSR1 (``warned.job.0``) and the end of the time limit,
  against the --warn asked for (``--signal=B:USR1@N``; Slurm checks time limits periodically, so it
  comes early);
- checkpoint lead: the same for ``should_checkpoint()``, which waits for the lead asked for;
- lost work: seconds from the last checkpoint to the end of the run (the requeue);
- unused allocation: seconds from the requeue to the end of the time limit (what requeueing early
  gives back to the cluster);
- requeue delay: seconds from the requeue to the next run's start (Slurm holds a requeued job for
  the credential lifetime, AuthInfo cred_expire, 120 s by default, then schedules it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tritonml_lab.jobs.launcher import Launcher  # noqa: E402
from tritonml_lab.jobs.markers import run_history  # noqa: E402
from tritonml_lab.jobs.script import Defaults  # noqa: E402
from tritonml_lab.jobs.spec import JobSpec  # noqa: E402
from tritonml_lab.jobs.store import JobStore  # noqa: E402
from tritonml_lab.slurm import SlurmClient  # noqa: E402

PROGRAM = r'''
import json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tritonml_checkpoint as tritonml
notes = os.path.join(tritonml.checkpoint_dir(), "notes.json")
if tritonml.restarts():
    sys.exit(0)
step = 0
while True:
    time.sleep(0.1)
    step += 1
    if tritonml.should_checkpoint():
        with open(notes, "w") as out:
            json.dump({"step": step, "saved": time.time(), "end": float(os.environ["TRITONML_END_TIME"])}, out)
        tritonml.requeue()
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--time", type=int, default=120, help="time limit, seconds")
    parser.add_argument("--warn", type=int, default=30, help="--warn, seconds")
    parser.add_argument("--partition", default="batch-csl")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="checkpoint-bench-"))
    launcher = Launcher(JobStore(root), SlurmClient(), Defaults(sampler_python=None, python=sys.executable))
    spec = JobSpec(code=PROGRAM, partition=args.partition, time=f"{args.time // 60:02d}:{args.time % 60:02d}",
                   checkpoint={"warn": f"{args.warn}s", "requeue": 1}, name="checkpoint-bench")
    jobs = [launcher.launch_blocking(spec) for _ in range(args.jobs)]
    print(f"submitted {', '.join(j.job_id for j in jobs)}; waiting (each about {args.time + 150} s)", flush=True)
    deadline = time.monotonic() + args.time * 3 + 600
    while time.monotonic() < deadline and not all((j.job_dir.path / "exit_code.job").exists() for j in jobs):
        time.sleep(2)
    rows = []
    for job in jobs:
        path = job.job_dir.path
        runs = run_history(str(path))
        try:
            notes = json.loads((path / "checkpoint" / "notes.json").read_text())
        except (OSError, ValueError):
            print(f"{job.job_id}: no checkpoint notes; runs {runs}")
            continue
        first = runs[0]
        end = notes["end"]
        row = {
            "job": job.job_id,
            "signal_lead": end - first.warned if first.warned else None,
            "checkpoint_lead": end - notes["saved"],
            "lost_work": first.ended - notes["saved"] if first.ended else None,
            "unused": end - first.ended if first.ended else None,
            "requeue_delay": runs[1].started - first.ended if len(runs) > 1 and runs[1].started else None,
            "final": runs[-1].outcome,
        }
        rows.append(row)
        print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    for key in ("signal_lead", "checkpoint_lead", "lost_work", "unused", "requeue_delay"):
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            print(f"{key:16s} min {min(values):7.2f}  median {statistics.median(values):7.2f}  "
                  f"max {max(values):7.2f}  (n={len(values)}; --warn {args.warn} s)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
