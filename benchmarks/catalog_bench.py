"""Catalog benchmark (issue 5): one command, prints the figures as a table.

    python benchmarks/catalog_bench.py [--entries 1000] [--files 1000000] [--dest /var/tmp/...]

On a generated tree (reused if present) it measures, in one run:
  * first listing with sizes unknown (target < 1 s) and warm listing p50 (target < 20 ms);
  * background size scan wall time vs ``du -s`` of the same tree (ratio target <= 1.0), for the
    default worker-process pool and for the in-thread scanner;
  * listing after a restart with the persisted size cache;
  * RSS growth of this process while holding the catalog (target < 200 MB).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
warnings.filterwarnings("ignore")

from tritonml_lab.catalog import Catalog  # noqa: E402
from tritonml_lab.catalog.sample_tree import generate_bench  # noqa: E402
from tritonml_lab.catalog.sizes import default_workers  # noqa: E402


def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def du(path):
    t0 = time.perf_counter()
    out = subprocess.run(["du", "-s", "--block-size=1", path], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t0, int(out.split()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--files", type=int, default=1_000_000)
    ap.add_argument("--dest", default=None)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    dest = args.dest or f"/var/tmp/tritonml-catalog-bench-{args.entries}-{args.files}"

    t0 = time.perf_counter()
    made = generate_bench(dest, args.entries, args.files)
    gen = "reused" if made < 0 else f"generated {made:,} files in {time.perf_counter() - t0:.1f} s"
    print(f"tree: {dest} ({args.entries:,} entries, {args.files:,} files; {gen})", flush=True)
    du(dest)  # warm the inode cache once for both contenders

    work = tempfile.mkdtemp(prefix="catalog-bench-")
    rows = []
    try:
        rss0 = rss_mb()
        cache = os.path.join(work, "sizes.json")
        workers = default_workers() if args.workers is None else args.workers
        cat = Catalog([("bench", dest)], cache_path=cache, workers=workers, refresh_interval=3600)
        t = time.perf_counter()
        entries = cat.list()
        first = time.perf_counter() - t
        unknown = sum(e.size_bytes is None for e in entries)
        rows.append(("first listing, sizes unknown", f"{first * 1000:.0f} ms", "< 1 s", first < 1.0,
                     f"{len(entries)} entries, {unknown} 'computing'"))
        times = []
        for _ in range(300):
            t = time.perf_counter()
            cat.list()
            times.append(time.perf_counter() - t)
        p50 = statistics.median(times)
        rows.append(("warm listing p50", f"{p50 * 1000:.2f} ms", "< 20 ms", p50 < 0.02,
                     f"p95 {sorted(times)[int(len(times) * .95)] * 1000:.2f} ms"))
        qt = []
        for _ in range(100):
            t = time.perf_counter()
            cat.list(q="dataset-09", kind="dataset")
            qt.append(time.perf_counter() - t)
        rows.append(("warm filtered listing p50", f"{statistics.median(qt) * 1000:.2f} ms", "-", True, "q=, kind="))

        du1, du_bytes = du(dest)
        t = time.perf_counter()
        cat.start_background_scan()
        assert cat.wait_for_scan(3600)
        scan = time.perf_counter() - t
        du2, _ = du(dest)
        du_t = (du1 + du2) / 2
        entries = cat.list()
        files = sum(e.file_count or 0 for e in entries)
        disk = sum(e.disk_bytes or 0 for e in entries)
        rows.append(("du -s (mean of 2, same run)", f"{du_t:.2f} s", "-", True, f"{du1:.2f} s / {du2:.2f} s"))
        rows.append((f"background scan ({workers} worker proc)", f"{scan:.2f} s", "-", True,
                     f"{files:,} files counted; disk bytes {disk / du_bytes:.3f} of du"))
        rows.append(("scan / du ratio", f"{scan / du_t:.2f}", "<= 1.0", scan / du_t <= 1.0, "worker processes"))
        rss_hold = rss_mb() - rss0
        cat.stop()

        c0 = Catalog([("bench", dest)], cache_path="", workers=0, refresh_interval=3600)
        c0.list()
        t = time.perf_counter()
        c0.start_background_scan()
        assert c0.wait_for_scan(3600)
        scan0 = time.perf_counter() - t
        c0.stop()
        rows.append(("scan / du ratio, in-thread", f"{scan0 / du_t:.2f}", "(info)", True, f"{scan0:.2f} s, workers=0"))

        t = time.perf_counter()
        c2 = Catalog([("bench", dest)], cache_path=cache, workers=0, refresh_interval=3600)
        again = c2.list()
        restart = time.perf_counter() - t
        known = sum(e.size_bytes is not None for e in again)
        rows.append(("listing after restart (cache)", f"{restart * 1000:.0f} ms", "-", known == len(again),
                     f"{known}/{len(again)} sizes known from {os.path.getsize(cache) // 1024} KiB cache"))
        t = time.perf_counter()
        for e in again[:50]:
            c2.get(e.id)
        rows.append(("detail (get) mean", f"{(time.perf_counter() - t) / 50 * 1000:.2f} ms", "-", True, "50 entries"))
        growth = rss_mb() - rss0
        rows.append(("RSS growth holding catalog", f"{growth:.1f} MB", "< 200 MB", growth < 200,
                     f"{rss_hold:.1f} MB after first scan; peak VmHWM {rss_mb('VmHWM'):.0f} MB"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    w = max(len(r[0]) for r in rows)
    print(f"\n{'metric'.ljust(w)}  {'value':>10}  {'target':>8}  ok   notes")
    for name, value, target, ok, note in rows:
        print(f"{name.ljust(w)}  {value:>10}  {target:>8}  {'yes' if ok else 'NO ':3}  {note}")
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    return 0 if all(r[3] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
