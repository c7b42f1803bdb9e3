"""Catalog benchmark (issues 5 and 18): one command, prints the figures as tables.

    python benchmarks/catalog_bench.py [--entries 1000] [--files 1000000] [--dest /var/tmp/...] [--delay-ms 0.5]

On a generated tree (reused if present) each phase runs in a fresh process, as a restarted server
would, twice: once for the wall times, once with strace attached for the filesystem calls (so the
counts do not depend on the machine; strace is Debian's ``strace`` package):

  * first listing with an empty cache (targets <= 0.5 s and <= 3 metadata operations per entry),
    warm listing p50 (< 5 ms);
  * background detection of every entry, and the size scan against ``du -s`` of the same tree in
    the same run, alternated three times (scan/du of the medians <= 1.0);
  * listing after a restart from the persisted cache (<= 50 ms, 0 operations inside entries), and
    opening entries;
  * a slow metadata server: strace delays every metadata call by --delay-ms (default 0.5 ms; first
    listing <= 2 s).  Without strace a test-only layer (:mod:`tritonml_lab.catalog.fsio`) counts
    and delays the server process's calls instead.

Metadata operations: ``openat``, ``getdents64``, the ``stat`` family (``fstat`` included),
``readlink``, ``access`` and ``close`` on paths in the tree; ``read``/``pread64`` are data.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from contextlib import contextmanager

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
warnings.filterwarnings("ignore")

from bench_tree import generate_bench  # noqa: E402
from tritonml_lab.catalog import Catalog, fsio  # noqa: E402
from tritonml_lab.catalog.cache import EntryCache  # noqa: E402
from tritonml_lab.catalog.sizes import SizeScanner  # noqa: E402

META = ("openat", "getdents64", "newfstatat", "statx", "fstat", "lstat", "stat", "readlink", "readlinkat",
        "access", "faccessat", "faccessat2", "close")
DATA = ("read", "pread64")
STRACE = shutil.which("strace")
LINE = re.compile(r"^\d+\s+(\w+)\((.*)$")
FD_PATH = re.compile(r"^(?:AT_FDCWD|-?\d+)<([^>]*)>")
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


# ----------------------------------------------------------------------------- counting
def _path_of(name, args):
    fd = FD_PATH.match(args)
    s = STRING.search(args)
    if name in ("getdents64", "fstat", "close", "read", "pread64"):
        return fd.group(1) if fd else None
    if s is None:
        return None
    p = s.group(1)
    if p.startswith("/") or fd is None:
        return p
    return fd.group(1) + ("/" + p if p else "")


def count_log(log, tree, entries):
    """Calls per syscall on the tree, and how many of them were inside an entry directory."""
    calls, inside = Counter(), 0
    entries = set(entries)
    with open(log, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m or m.group(1) not in META + DATA:
                continue
            p = _path_of(m.group(1), m.group(2))
            if p is None or not (p == tree or p.startswith(tree + "/")):
                continue
            calls[m.group(1)] += 1
            d = os.path.dirname(p)
            while len(d) > len(tree):
                if d in entries:
                    inside += 1
                    break
                d = os.path.dirname(d)
    return calls, inside


def count_summary(log):
    calls = Counter()
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[-1] in META + DATA and parts[3].isdigit():
                calls[parts[-1]] += int(parts[3])
    return calls


@contextmanager
def traced(out, name, tree, entries=(), summary=False, delay_us=0):
    """Attach strace to this process (its threads, and processes it starts) for one window; put the
    counts and the wall time of the window into ``out[name]``."""
    rec = out.setdefault(name, {})
    log = os.path.join(tempfile.gettempdir(), f"catalog-bench-{os.getpid()}-{name}.strace")
    if STRACE is None:
        counts = Counter()

        def hook(op, path, delay=delay_us / 1e6):
            counts[op] += 1
            if delay:
                time.sleep(delay)
        fsio.set_hook(hook)
    else:
        args = [STRACE, "-f", "-qq", "-o", log, "-e", "trace=" + ",".join(META + DATA)]
        args += ["-c"] if summary else ["-y", "-s", "512"]
        if delay_us:
            args += ["-e", f"inject={','.join(META)}:delay_enter={delay_us}"]
        tracer = subprocess.Popen(args + ["-p", str(os.getpid())], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not all(_traced(t) for t in os.listdir("/proc/self/task")):
            if time.monotonic() > deadline:
                raise SystemExit("strace did not attach (ptrace not allowed here?)")
            time.sleep(0.01)
    t0 = time.perf_counter()
    try:
        yield rec
    finally:
        rec["seconds"] = time.perf_counter() - t0
        if STRACE is None:
            fsio.set_hook(None)
            rec.update(calls=dict(counts), inside=None, method="fsio layer")
        else:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(120)
            if summary:
                rec.update(calls=dict(count_summary(log)), inside=None, method="strace -c")
            else:
                calls, inside = count_log(log, tree, entries() if callable(entries) else entries)
                rec.update(calls=dict(calls), inside=inside, method="strace")
            os.unlink(log)


def _traced(tid):
    try:
        with open(f"/proc/self/task/{tid}/status") as f:
            return any(line.startswith("TracerPid:") and line.split()[1] != "0" for line in f)
    except OSError:
        return True


@contextmanager
def timed(out, name, *a, **k):
    """Wall time of a window, and this process's CPU time (what other users' load changes less)."""
    rec = out.setdefault(name, {})
    t0, c0 = time.perf_counter(), time.process_time()
    yield rec
    rec["seconds"], rec["cpu"] = time.perf_counter() - t0, time.process_time() - c0


# ----------------------------------------------------------------------------- the phases (children)
def rss_mb(field="VmRSS"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def du(path, nice=0, cpu=None):
    t0, c0 = time.perf_counter(), children_cpu()
    cmd = (["nice", "-n", str(nice)] if nice else []) + ["du", "-s", "--block-size=1", path]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if cpu is not None:
        cpu.append(children_cpu() - c0)
    return time.perf_counter() - t0, int(out.split()[0])


def scan_again(paths, workers, cpu):
    """The same size scan (worker processes, same queue) into a throw-away cache."""
    scanner = SizeScanner(EntryCache(None), workers=workers)
    for p in paths:
        scanner.submit(p, (0, 0))
    t0, c0 = time.perf_counter(), children_cpu()
    scanner.start()
    assert scanner.wait_idle(3600)
    elapsed = time.perf_counter() - t0
    scanner.stop()   # the workers are reaped: their CPU time counts
    cpu.append(children_cpu() - c0)
    return elapsed


def p50(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), sorted(times)[int(n * .95)]


def child(args):
    tree, out = args.dest, {}
    window = traced if args.trace or args.child.startswith("slow") else timed
    paths, known = [], []

    def make(cache):
        return Catalog([("bench", tree)], cache_path=cache, workers=args.workers, refresh_interval=3600)

    if args.child in ("cold", "slow-cold"):
        delay = int(args.delay_ms * 1000) if args.child == "slow-cold" else 0
        rss0 = rss_mb()
        cat = make(args.cache)
        with window(out, "first", tree, lambda: paths, delay_us=delay):
            entries = cat.list()
            paths[:] = [e.path for e in entries]
        out["first"].update(entries=len(entries), pending=sum(e.details_status == "pending" for e in entries))
        if args.child == "slow-cold":
            print(json.dumps(out))
            return
        out["warm"] = dict(zip(("p50", "p95"), p50(cat.list, 300)))
        out["warm_filtered"] = p50(lambda: cat.list(q="dataset-09", kind="dataset"), 100)[0]
        with window(out, "details", tree, paths):
            cat.start_background_scan(sizes=False)
            assert cat.wait_for_details(3600)
        out["details"]["ready"] = sum(e.details_status == "ready" for e in cat.list())
        if not args.trace:
            out["du"], out["du_nice"] = [du(tree)[0]], [du(tree, nice=10)[0]]
        with window(out, "scan", tree, summary=True):
            cat.start_background_scan(details=False)
            assert cat.wait_for_scan(3600)
        if not args.trace:
            entries = cat.list()
            out["scans"] = [out["scan"]["seconds"]]
            out["du_cpu"], out["scan_cpu"] = [], []
            for _ in range(2):   # alternate du and the scan: medians of three, on a machine others use too
                d, du_bytes = du(tree, cpu=out["du_cpu"])
                out["du"].append(d)
                out["du_nice"].append(du(tree, nice=10)[0])
                out["scans"].append(scan_again(paths, args.workers, out["scan_cpu"]))
            out["du"].append(du(tree)[0])
            out["scan"].update(files=sum(e.file_count or 0 for e in entries),
                               disk=sum(e.disk_bytes or 0 for e in entries) / du_bytes)
        out["rss"] = [rss_mb() - rss0, rss_mb("VmHWM")]
        cat.stop()
    else:   # restart, slow-restart
        delay = int(args.delay_ms * 1000) if args.child == "slow-restart" else 0
        with window(out, "restart", tree, lambda: known, delay_us=delay):
            cat = make(args.cache)
            again = cat.list()
            known[:] = [e.path for e in again]
        out["restart"].update(entries=len(again), sizes=sum(e.size_bytes is not None for e in again),
                              details=sum(e.details_status == "ready" for e in again),
                              queued=cat.detector.pending() + cat.scanner.pending())
        if not delay:
            out["warm"] = dict(zip(("p50", "p95"), p50(cat.list, 300)))
            with window(out, "get", tree, known):
                for e in again[:50]:
                    cat.get(e.id)
    print(json.dumps(out))


# ----------------------------------------------------------------------------- the parent
def run_child(args, name, cache, trace=False):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--dest", args.dest, "--cache", cache,
           "--workers", str(args.workers), "--delay-ms", str(args.delay_ms)] + (["--trace"] if trace else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"phase {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ops(rec):
    calls = rec.get("calls") or {}
    return sum(n for k, n in calls.items() if k in META), calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--files", type=int, default=1_000_000)
    ap.add_argument("--dest", default=None)
    ap.add_argument("--workers", type=int, default=2, help="size scan processes (c.TritonML.catalog_scan_workers)")
    ap.add_argument("--delay-ms", type=float, default=0.5, help="simulated metadata server: delay per operation")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.dest = args.dest or f"/var/tmp/tritonml-catalog-bench-{args.entries}-{args.files}"
    if args.child:
        return child(args)

    t0 = time.perf_counter()
    made = generate_bench(args.dest, args.entries, args.files)
    gen = "reused" if made < 0 else f"generated {made:,} files in {time.perf_counter() - t0:.1f} s"
    print(f"tree: {args.dest} ({args.entries:,} entries, {args.files:,} files; {gen})", flush=True)
    du(args.dest)  # warm the inode cache once for all contenders
    work = tempfile.mkdtemp(prefix="catalog-bench-")
    try:
        cache = os.path.join(work, "cache.json")
        cold = run_child(args, "cold", cache)
        restart = run_child(args, "restart", cache)
        c_cold = run_child(args, "cold", os.path.join(work, "traced.json"), trace=True)
        c_restart = run_child(args, "restart", cache, trace=True)
        slow = run_child(args, "slow-cold", os.path.join(work, "slow.json"))
        slow_restart = run_child(args, "slow-restart", cache)
        cache_kib = os.path.getsize(cache) // 1024
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = cold["first"]["entries"]
    first_ops, _ = ops(c_cold["first"])
    du_t, du_nice, scan = (statistics.median(cold[k]) for k in ("du", "du_nice", "scans"))
    du_cpu_file = statistics.median(cold["du_cpu"]) / cold["scan"]["files"] * 1e6
    cpu_scan = statistics.median(cold["scan_cpu"]) / statistics.median(cold["du_cpu"])
    r = restart["restart"]
    rows = [
        ("first listing, empty cache", f"{cold['first']['seconds'] * 1000:.0f} ms", "<= 0.5 s",
         cold["first"]["seconds"] <= 0.5,
         f"{n} entries, {cold['first']['pending']} with details pending; CPU {cold['first']['cpu'] * 1000:.0f} ms"),
        ("  metadata ops per entry", f"{first_ops / n:.2f}", "<= 3", first_ops / n <= 3,
         f"{first_ops:,} in all, {c_cold['first']['inside']} inside entries"),
        ("warm listing p50", f"{cold['warm']['p50'] * 1000:.2f} ms", "< 5 ms", cold["warm"]["p50"] < 0.005,
         f"p95 {cold['warm']['p95'] * 1000:.2f} ms; filtered p50 {cold['warm_filtered'] * 1000:.2f} ms"),
        ("details, in the background", f"{cold['details']['seconds']:.2f} s", "-", True,
         f"{cold['details']['ready']}/{n} ready; {ops(c_cold['details'])[0] / n:.1f} ops per entry"),
        ("du -s (median, same run)", f"{du_t:.2f} s", "-", True,
         " / ".join(f"{x:.2f}" for x in cold["du"]) + f" s; at the workers' nice 10: {du_nice:.2f} s"),
        (f"size scan ({args.workers} worker proc, median)", f"{scan:.2f} s", "-", True,
         " / ".join(f"{x:.2f}" for x in cold["scans"])
         + f" s; {cold['scan']['files']:,} files; disk bytes {cold['scan']['disk']:.3f} of du"),
        ("scan / du ratio", f"{scan / du_t:.2f}", "<= 1.0", scan / du_t <= 1.0,
         f"vs du at nice 10: {scan / du_nice:.2f}"),
        ("  CPU per file, scan / du", f"{cpu_scan:.2f}", "-", True,
         f"{cpu_scan * du_cpu_file:.2f} / {du_cpu_file:.2f} us (all workers / du): with {args.workers} free cores "
         f"scan/du would be {cpu_scan / args.workers:.2f}"),
        ("listing after restart (cache)", f"{r['seconds'] * 1000:.1f} ms", "<= 50 ms", r["seconds"] <= 0.05,
         f"CPU {r['cpu'] * 1000:.0f} ms; {r['details']}/{r['entries']} details, {r['sizes']} sizes known; "
         f"{r['queued']} queued; {cache_kib} KiB cache"),
        ("  ops inside entries", f"{c_restart['restart']['inside']}", "0", c_restart["restart"]["inside"] == 0,
         f"{ops(c_restart['restart'])[0] / n:.2f} metadata ops per entry in all"),
        ("warm listing p50 after restart", f"{restart['warm']['p50'] * 1000:.2f} ms", "< 5 ms",
         restart["warm"]["p50"] < 0.005, f"p95 {restart['warm']['p95'] * 1000:.2f} ms"),
        ("open an entry (get) mean", f"{restart['get']['seconds'] / 50 * 1000:.2f} ms", "-", True,
         f"50 entries; {ops(c_restart['get'])[0] / 50:.0f} ops each (detected again: not persisted)"),
        (f"first listing, {args.delay_ms} ms per op", f"{slow['first']['seconds'] * 1000:.0f} ms", "<= 2 s",
         slow["first"]["seconds"] <= 2.0, f"{ops(slow['first'])[0]:,} ops delayed ({slow['first']['method']})"),
        (f"restart listing, {args.delay_ms} ms per op", f"{slow_restart['restart']['seconds'] * 1000:.0f} ms", "-",
         True, f"{ops(slow_restart['restart'])[0]:,} ops delayed"),
        ("RSS growth holding catalog", f"{cold['rss'][0]:.1f} MB", "< 200 MB", cold["rss"][0] < 200,
         f"peak VmHWM {cold['rss'][1]:.0f} MB"),
    ]
    w = max(len(x[0]) for x in rows)
    print(f"\n{'metric'.ljust(w)}  {'value':>10}  {'target':>8}  ok   notes")
    for name, value, target, ok, note in rows:
        print(f"{name.ljust(w)}  {value:>10}  {target:>8}  {'yes' if ok else 'NO ':3}  {note}")

    cols = ("openat", "getdents64", "newfstatat", "fstat", "statx", "close", "read")
    print(f"\nfilesystem calls on the tree per phase ({c_cold['first']['method']}; per entry in brackets)")
    print(f"{'phase'.ljust(26)} {'metadata':>10} " + " ".join(f"{c:>11}" for c in cols) + "  inside entries")
    for label, rec in (("first listing", c_cold["first"]), ("details (background)", c_cold["details"]),
                       ("size scan (all calls)", c_cold["scan"]), ("restart listing", c_restart["restart"]),
                       ("open 50 entries", c_restart["get"]), (f"first @{args.delay_ms} ms/op", slow["first"])):
        total, calls = ops(rec)
        per = 50 if label.startswith("open") else n
        inside = "-" if rec.get("inside") is None else f"{rec['inside']:,}"
        print(f"{label.ljust(26)} {total:>10,} " + " ".join(f"{calls.get(c, 0):>11,}" for c in cols)
              + f"  {inside}  [{total / per:.2f}]")
    print(f"\npython {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    return 0 if all(x[3] for x in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
