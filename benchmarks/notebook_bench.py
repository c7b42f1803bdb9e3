"""Issue 4 benchmark: the cost of running a notebook as a batch job ("Run on GPU").

    python benchmarks/notebook_bench.py [--cells 20] [--repeat 3] [--partition batch-csl]

Needs the local cluster (dev/cluster up). For a notebook of --cells trivial cells, on the CPU partition:
  1. time from the job starting to the first cell executing;
  2. total runtime minus the runtime of the same code as a plain ``python`` script in the same kind
     of job (same partition, same resources, same interpreter as the kernel).
"The job starting" is when the batch script's process started (from /proc, 10 ms resolution), read by
the executor and by the plain script alike; both ends are taken inside the job, so queueing is
excluded. Slurm's own accounting (whole seconds) is printed alongside. Targets: first cell within 5 s,
overhead <= 3 s. Medians of --repeat runs of each (alternating).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tritonml_lab.server.config import TritonML  # noqa: E402
from tritonml_lab.server.services import build_services  # noqa: E402
from tritonml_lab.jobs import JobSpec  # noqa: E402
from tritonml_lab.notebooks import NotebookJobRequest, check_kernel  # noqa: E402
from tritonml_lab.server.notebook_jobs import NotebookJobs  # noqa: E402
from tritonml_lab.notebooks.submit import read_progress  # noqa: E402
from tritonml_lab.tests.cluster_control import ensure_up  # noqa: E402

PLAIN_PRELUDE = '''\
import os, time
def _started(pid):
    with open("/proc/%d/stat" % pid) as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/stat") as f:
        boot = next(int(l.split()[1]) for l in f if l.startswith("btime"))
    return boot + ticks / os.sysconf("SC_CLK_TCK")
_BATCH_START = _started(os.getppid())
'''
PLAIN_EPILOGUE = '''
print("BENCH", _BATCH_START, time.time(), flush=True)
'''


def cells(n: int) -> list[str]:
    return [f"v{i} = {i} ** 2\nprint('cell', {i}, v{i})" for i in range(n)]


async def wait_end(services, job_id: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = await services.jobs.detail(job_id)
        if detail.state.is_finished and detail.efficiency:
            return detail
        await asyncio.sleep(0.5)
    raise RuntimeError(f"job {job_id} did not end in {timeout} s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--partition", default="batch-csl")
    args = parser.parse_args()
    os.environ.update(ensure_up())

    work = Path(tempfile.mkdtemp(prefix="tritonml-nbbench-"))
    root, jobs_root = work / "root", work / "jobs"
    root.mkdir()
    nb = new_notebook(cells=[new_code_cell(src) for src in cells(args.cells)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, str(root / "bench.ipynb"))
    kernel = await check_kernel("python3")
    # The plain script runs with the kernel's own interpreter ("python" in a kernelspec means the
    # Python that starts the kernel: the executor's, i.e. this one).
    kernel_python = kernel.argv[0] if os.path.isabs(kernel.argv[0]) else sys.executable
    plain = PLAIN_PRELUDE + "\n".join(cells(args.cells)) + PLAIN_EPILOGUE

    services = build_services(TritonML(jobs_root=str(jobs_root), monitor_fast_seconds=0.5))
    notebooks = NotebookJobs(services.jobs, root_dir=str(root))
    resources = {"partition": args.partition, "time": "00:10:00", "cpus_per_task": 1}
    rows = []
    try:
        for run in range(args.repeat):
            created = await notebooks.submit(NotebookJobRequest(path="bench.ipynb", **resources))
            nb_detail = await wait_end(services, created.id)
            progress = read_progress(services.store.find(created.id))
            assert progress and progress["status"] == "completed", progress
            py = await services.jobs.submit(JobSpec(code=plain, python=kernel_python, **resources))
            py_detail = await wait_end(services, py.id)
            log = services.jobs.read_log(py.id, "stdout", 0, 1 << 20).data
            _tag, py_start, py_end = next(line for line in log.splitlines() if line.startswith("BENCH")).split()
            batch_start = progress["batch_started_at"]
            row = {
                "first_cell_s": progress["first_cell_at"] - batch_start,
                "first_cell_from_slurm_start_s": progress["first_cell_at"] - nb_detail.started,
                "executor_start_s": progress["started_at"] - batch_start,
                "kernel_ready_s": progress["kernel_ready_at"] - batch_start,
                "notebook_s": progress["ended_at"] - batch_start,
                "script_s": float(py_end) - float(py_start),
                "slurm_elapsed_notebook_s": nb_detail.efficiency["elapsed_seconds"],
                "slurm_elapsed_script_s": py_detail.efficiency["elapsed_seconds"],
            }
            row["overhead_s"] = row["notebook_s"] - row["script_s"]
            rows.append(row)
            print(f"run {run + 1}: " + ", ".join(f"{k}={v:.2f}" for k, v in row.items()), flush=True)
    finally:
        services.close()

    med = {key: statistics.median(r[key] for r in rows) for key in rows[0]}
    print()
    print(f"Notebook of {args.cells} trivial cells on {args.partition}, median of {len(rows)} runs:")
    print(f"  job start -> first cell executing: {med['first_cell_s']:.2f} s (target <= 5 s)"
          f"  [executor up {med['executor_start_s']:.2f} s, kernel ready {med['kernel_ready_s']:.2f} s;"
          f" from Slurm's whole-second start: {med['first_cell_from_slurm_start_s']:.2f} s]")
    print(f"  overhead vs plain python script:   {med['overhead_s']:.2f} s (target <= 3 s)"
          f"  [notebook {med['notebook_s']:.2f} s, script {med['script_s']:.2f} s;"
          f" Slurm elapsed {med['slurm_elapsed_notebook_s']:.0f} s vs {med['slurm_elapsed_script_s']:.0f} s]")
    print(json.dumps({"median": med, "runs": rows}))


if __name__ == "__main__":
    asyncio.run(main())
