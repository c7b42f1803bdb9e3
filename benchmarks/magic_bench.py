"""Time from executing a ``%%tritonml submit`` cell (no --wait) to the kernel being free again.

    eval "$(dev/cluster env)"; python benchmarks/magic_bench.py [--runs 20] [--partition batch-csl]

Runs the cell in an in-process IPython shell, as a kernel would: the time covers parsing the options,
validating the spec, writing the job directory (script, runner, cell, pickled --in variable), sbatch,
and displaying the job widget. Target (issue 3): median < 300 ms. The jobs are cancelled at the end.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402

from tritonml_lab.slurm import SlurmClient  # noqa: E402

CELL = "%%tritonml submit -p {partition} --time 05:00 --name bench --in data --out result\nresult = len(data)\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--partition", default="batch-csl")
    args = parser.parse_args()

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "tritonml_lab")
    magics = shell.magics_manager.registry["TritonMLMagics"]
    shell.user_ns["data"] = list(range(10_000))
    cell = CELL.format(partition=args.partition)
    ids, times = [], []
    with tempfile.TemporaryDirectory(prefix="magic-bench-") as root:
        magics.jobs_root = root
        devnull = open(os.devnull, "w")
        for i in range(args.runs + 1):  # the first is a warm-up (imports, first sbatch)
            stdout, sys.stdout = sys.stdout, devnull
            try:
                start = time.perf_counter()
                result = shell.run_cell(cell)
                elapsed = time.perf_counter() - start
            finally:
                sys.stdout = stdout
            if not result.success:
                raise SystemExit(f"the cell failed: {result.error_in_exec}")
            ids.append(magics.last_job[0])
            if i:
                times.append(elapsed * 1000)
        asyncio.run(_cancel(ids))
    times.sort()
    median = statistics.median(times)
    print(f"%%tritonml submit (no --wait), cell executed -> kernel idle, {len(times)} runs:")
    print(f"  median {median:.1f} ms   min {times[0]:.1f} ms   p90 {times[int(0.9 * (len(times) - 1))]:.1f} ms"
          f"   max {times[-1]:.1f} ms")
    print(f"  target < 300 ms: {'PASS' if median < 300 else 'FAIL'}")


async def _cancel(ids):
    client = SlurmClient()
    await asyncio.gather(*(client.cancel(job_id) for job_id in ids))


if __name__ == "__main__":
    main()
