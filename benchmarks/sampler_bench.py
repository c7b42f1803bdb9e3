"""Cost and size of the in-job sampler (tritonml_lab/injob/sampler.py).

    python benchmarks/sampler_bench.py [--quick] [--json OUT.json]

Measures, with whatever this machine has:
  * CPU per sample of the sampler's own loop body (no GPU source: /proc accounting of a job tree of
    5 processes, JSON, write), as us/sample and CPU-seconds per hour of job at 1 Hz;
  * the same for a live sampler process (source auto: NVML where there is a GPU), from the CPU
    time it reports in its end line;
  * bytes written per hour at 1 Hz with 1 and 8 GPUs, and (not with --quick) the largest file of a
    simulated 5-day 8-GPU job at 1 Hz;
  * where pynvml and a GPU are present: NVML us per sample (all fields, all GPUs);
  * where nvidia-smi is present: CPU and wall ms of one `nvidia-smi --query-gpu` call, and CPU per
    row of the looping nvidia-smi that the fallback keeps running.
"""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLER = os.path.join(ROOT, "tritonml_lab", "injob", "sampler.py")
sys.path.insert(0, os.path.join(ROOT, "tritonml_lab", "injob"))
import sampler as S  # noqa: E402  (the standalone file, as a job would run it)

RESULTS = {}


def say(key, value, unit="", note=""):
    RESULTS[key] = value
    v = "%.3f" % value if isinstance(value, float) else str(value)
    print("%-44s %14s %-8s %s" % (key, v, unit, note), flush=True)


def job_tree():
    """A fake job: one parent with 4 children, all sleeping."""
    code = ("import subprocess,sys,time\n"
            "ps=[subprocess.Popen([sys.executable,'-c','import time; time.sleep(900)'])"
            " for _ in range(4)]\n"
            "time.sleep(900)\n")
    p = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(1.0)
    return p


def kill_tree(p):
    try:
        for line in open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split():
            os.kill(int(line), 9)
    except Exception:
        pass
    try:
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = S.read_stat(int(name))
                if st and st[1] == p.pid:
                    os.kill(int(name), 9)
    except Exception:
        pass
    p.kill()
    p.wait()


class FakeGpus(object):
    name = "fake"
    driver = None

    def __init__(self, n, seed=1):
        self.rng = random.Random(seed)
        self.gpus = [{"i": i, "uuid": "GPU-%08x-0000-0000-0000-000000000000" % i,
                      "name": "NVIDIA H200", "mt": 143771, "pl": 700.0, "smax": 1980,
                      "bus": "00000000:%02X:00.0" % i} for i in range(n)]

    def sample(self):
        r = self.rng
        return [[r.randint(0, 100), r.randint(500, 140000), round(r.uniform(80, 700), 1),
                 r.randint(30, 80), r.choice((345, 1755, 1980))] for _ in self.gpus]


class FakeClock(object):
    def __init__(self, t=1.7e9):
        self.t = t

    def __call__(self):
        return self.t

    def sleep(self, d):
        self.t += d


def bench_loop(tmp, n):
    p = job_tree()
    try:
        out = os.path.join(tmp, "loop.jsonl")
        s = S.Sampler(out, interval=1.0, pid=p.pid)
        s.take()
        t0 = time.process_time()
        for _ in range(n):
            s.store.add(s.take())
        per = (time.process_time() - t0) / n * 1e6
        say("none: CPU per sample (5-process tree)", per, "us", "take + JSON + write")
        say("none: CPU per hour at 1 Hz", per * 3600 / 1e6, "s", "= %.4f %% of a core" %
            (per / 1e4))
        tree = s.tree
        t0 = time.process_time()
        for _ in range(n):
            tree.sample(time.monotonic())
        say("  /proc accounting per sample", (time.process_time() - t0) / n * 1e6, "us",
            "%d members" % len(tree.members))
        t0 = time.process_time()
        k = max(5, n // 50)
        for _ in range(k):
            found = tree._full_scan()
        nproc = sum(1 for x in os.listdir("/proc") if x.isdigit())
        say("  full /proc scan", (time.process_time() - t0) / k * 1e6, "us",
            "%d processes on the node, %d in the tree; rescan every %.0f s" %
            (nproc, len(found), tree.rescan))
        s.store.close()
    finally:
        kill_tree(p)


def bench_live(tmp, seconds):
    p = job_tree()
    try:
        out = os.path.join(tmp, "live.jsonl")
        subprocess.run([sys.executable, SAMPLER, "--out", out, "--interval", "1", "--pid",
                        str(p.pid), "--max-seconds", str(seconds)], check=False, timeout=seconds + 60)
        lines = [json.loads(x) for x in open(out)]
        head, end = lines[0], lines[-1]
        loop = (end["cpu"] - end["cpu0"]) / max(1, end["n"] - 1)
        say("live sampler (%s): CPU per sample" % head["src"], loop * 1e6, "us",
            "%d samples, %d GPUs, end-line cpu-cpu0" % (end["n"], len(head["gpus"])))
        say("live sampler: CPU per hour at 1 Hz", loop * 3600, "s")
        say("live sampler: start-up CPU", end["cpu0"], "s", "interpreter + source init")
        RESULTS["live_source"] = head["src"]
    finally:
        kill_tree(p)


def bench_size(tmp, full_5_days):
    for ngpu in (1, 8):
        clk = FakeClock()
        out = os.path.join(tmp, "size%d.jsonl" % ngpu)
        s = S.Sampler(out, interval=1.0, pid=0, source=FakeGpus(ngpu), clock=clk, mono=clk,
                      sleep=clk.sleep, max_seconds=3600 - 1)
        s.run()
        size = os.path.getsize(out)
        say("bytes per hour, %d GPU(s), 1 Hz" % ngpu, size, "B", "%.0f B/line" % (size / 3600.0))
    if not full_5_days:
        return
    clk = FakeClock()
    out = os.path.join(tmp, "fiveday.jsonl")
    s = S.Sampler(out, interval=1.0, pid=0, source=FakeGpus(8), clock=clk, mono=clk,
                  sleep=clk.sleep)
    biggest = 0
    t0 = time.process_time()
    for _ in range(5 * 86400):
        s.store.add(s.take())
        clk.sleep(1.0)
        if s.store.f is not None and s.store.next_compact - clk.t < 1.5:
            biggest = max(biggest, os.path.getsize(out))
    biggest = max(biggest, os.path.getsize(out))
    s.store.close()
    say("5-day 8-GPU job at 1 Hz: largest file", biggest / 1e6, "MB",
        "final %.2f MB, %d compactions, %.1f s CPU to simulate" %
        (os.path.getsize(out) / 1e6, s.store.header["gen"], time.process_time() - t0))


def bench_nvml(n):
    try:
        import pynvml as N
        N.nvmlInit()
    except Exception as e:
        print("NVML: not available (%s)" % (e.__class__.__name__,))
        return
    count = N.nvmlDeviceGetCount()
    if not count:
        print("NVML: no GPU")
        return
    hs = [N.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
    for h in hs:  # warm up
        N.nvmlDeviceGetUtilizationRates(h)
    t0 = time.process_time()
    w0 = time.perf_counter()
    for _ in range(n):
        for h in hs:
            N.nvmlDeviceGetUtilizationRates(h).gpu
            N.nvmlDeviceGetMemoryInfo(h).used
            N.nvmlDeviceGetPowerUsage(h)
            N.nvmlDeviceGetTemperature(h, N.NVML_TEMPERATURE_GPU)
            N.nvmlDeviceGetClockInfo(h, N.NVML_CLOCK_SM)
    cpu = (time.process_time() - t0) / n * 1e6
    wall = (time.perf_counter() - w0) / n * 1e6
    say("NVML: 5 fields x %d GPU(s), CPU per sample" % count, cpu, "us", "wall %.1f us" % wall)
    N.nvmlShutdown()
    src = S.NvmlSource(None)
    src.sample()
    t0 = time.process_time()
    for _ in range(n):
        src.sample()
    say("NVML: NvmlSource.sample() CPU", (time.process_time() - t0) / n * 1e6, "us",
        ", ".join("%s %s MiB" % (g["name"], g["mt"]) for g in src.gpus))
    RESULTS["nvml_driver"] = src.driver
    src.close()


def bench_smi(calls, loop_seconds):
    exe = shutil.which("nvidia-smi")
    if not exe:
        print("nvidia-smi: not on PATH")
        return
    q = ["nvidia-smi", "--query-gpu=" + S.SmiSource.DYNAMIC, "--format=csv,noheader,nounits"]
    subprocess.run(q, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    for _ in range(calls):
        subprocess.run(q, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / calls * 1e3
    say("nvidia-smi --query-gpu: one call, CPU", cpu, "ms",
        "wall %.1f ms" % ((time.perf_counter() - w0) / calls * 1e3))
    p = subprocess.Popen(q + ["-lms", "1000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    a = S.read_stat(p.pid)
    time.sleep(loop_seconds)
    b = S.read_stat(p.pid)
    p.terminate()
    p.wait()
    if a and b:
        hz = float(os.sysconf("SC_CLK_TCK"))
        say("nvidia-smi -lms 1000 (fallback): CPU per row", (b[2] - a[2]) / hz / loop_seconds * 1e3,
            "ms", "over %d s" % loop_seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter; no 5-day simulation")
    ap.add_argument("--json", help="write the figures here too")
    a = ap.parse_args()
    print("python %s on %s" % (sys.version.split()[0], os.uname().nodename))
    tmp = tempfile.mkdtemp(prefix="sampler-bench-")
    try:
        bench_loop(tmp, 500 if a.quick else 2000)
        bench_nvml(1000)
        bench_smi(5 if a.quick else 10, 5 if a.quick else 10)
        bench_size(tmp, not a.quick)
        bench_live(tmp, 8 if a.quick else 20)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(RESULTS, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
