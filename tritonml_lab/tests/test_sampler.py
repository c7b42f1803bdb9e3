"""The in-job sampler (tritonml_lab/injob/sampler.py) and its reader (metrics/trace.py).

No GPU needed: NVML and nvidia-smi are replaced by fakes; the real GPU traces recorded on an
H200 (tests/data/gpu-traces/) are replayed through the reader."""

import glob
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tritonml_lab.injob import SAMPLER
from tritonml_lab.injob import sampler as S
from tritonml_lab.metrics import trace as T

SAMPLER_PATH = str(SAMPLER)

HERE = os.path.dirname(os.path.abspath(__file__))
TRACES = os.path.join(HERE, "data", "gpu-traces")
MIB = 1048576


class FakeClock(object):
    def __init__(self, t=1_700_000_000.0):
        self.t = t

    def __call__(self):
        return self.t

    def sleep(self, d):
        self.t += d


class FakeGpus(object):
    name = "fake"
    driver = "0.0"

    def __init__(self, n, clock):
        self.clock = clock
        self.gpus = [{"i": i, "uuid": "GPU-%d" % i, "name": "Fake", "mt": 81559, "pl": 700.0,
                      "smax": 1980, "bus": None} for i in range(n)]
        self.rng = random.Random(7)
        self.seen = []

    def sample(self):
        rows = [[self.rng.randint(0, 100), self.rng.randint(0, 80000),
                 round(self.rng.uniform(60, 700), 1), self.rng.randint(30, 90),
                 self.rng.choice([345, 1980])] for _ in self.gpus]
        self.seen.append((round(self.clock(), 1), rows))
        return rows


def lines(path):
    with open(path) as f:
        return [json.loads(x) for x in f]


def run_sampler(args, env=None, timeout=60, python=sys.executable, pre=()):
    return subprocess.run([python] + list(pre) + [SAMPLER_PATH] + list(args), env=env,
                          capture_output=True, text=True, timeout=timeout)


def spawn_burner_tree(seconds):
    """A parent that starts one child burning CPU for ``seconds``, waits for it, sleeps 1.5 s."""
    code = textwrap.dedent("""
        import subprocess, sys, time
        c = subprocess.Popen([sys.executable, "-c",
            "import time\\nt=time.time()\\nwhile time.time()-t<%f: pass"])
        c.wait()
        time.sleep(1.5)
    """ % seconds)
    return subprocess.Popen([sys.executable, "-c", code])


# --------------------------------------------------------------------------- format
def test_self_contained_and_py38_syntax():
    # In a subprocess of its own: CPython 3.11's ast is not thread-safe (python/cpython#106905), and
    # this process may have other threads (a server's, a kernel loop's) compiling at the same moment.
    check = """
import ast, sys
src = open(sys.argv[1]).read()
ast.parse(src, feature_version=(3, 8))
mods = set()
for node in ast.walk(ast.parse(src)):
    if isinstance(node, ast.Import):
        mods.update(a.name.split(".")[0] for a in node.names)
    elif isinstance(node, ast.ImportFrom):
        assert node.level == 0, "relative import in the standalone sampler"
        mods.add(node.module.split(".")[0])
extra = mods - {"pynvml"} - set(sys.stdlib_module_names)
assert not extra, f"not in the standard library: {sorted(extra)}"
"""
    result = subprocess.run([sys.executable, "-c", check, str(SAMPLER)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_header_and_samples_format(tmp_path):
    clk = FakeClock()
    out = tmp_path / "gpu-samples.n1.jsonl"
    src = FakeGpus(2, clk)
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    time.sleep(0.5)  # let the child's interpreter start, so that it has a resident set to count
    try:
        s = S.Sampler(str(out), interval=1.0, pid=p.pid, source=src, clock=clk, mono=clk,
                      sleep=clk.sleep, max_seconds=9)
        assert s.run() == "limit"
    finally:
        p.kill()
        p.wait()
    rows = lines(out)
    h, body, end = rows[0], rows[1:-1], rows[-1]
    assert h["k"] == "h" and h["v"] == S.FORMAT_VERSION and h["gen"] == 0
    assert h["src"] == "fake" and h["iv"] == 1.0 and h["pid"] == p.pid
    assert h["cols"] == ["u", "m", "p", "T", "s"]
    assert [g["uuid"] for g in h["gpus"]] == ["GPU-0", "GPU-1"] and h["gpus"][0]["mt"] == 81559
    for key in ("host", "t0", "keep", "bucket", "cores", "memt", "driver", "spid", "tc"):
        assert key in h
    assert len(body) == 10
    for b, (t, g) in zip(body, src.seen):
        # pc, io (and w where the kernel keeps delay accounting) are added keys: absent on the first
        assert {"t", "g", "c", "r"} <= set(b) <= {"t", "g", "c", "r", "pc", "io", "w"}
        assert ("pc" in b) == (b["c"] is not None)
        assert b["t"] == t and b["g"] == g and len(b["g"]) == 2 and len(b["g"][0]) == 5
        assert b["r"] > 1
    assert body[0]["c"] is None and body[1]["c"] is not None
    assert end["k"] == "e" and end["why"] == "limit" and end["n"] == 10
    assert end["cpu"] >= end["cpu0"] >= 0
    # compact: no spaces
    assert " " not in out.read_text().splitlines()[1]


def test_cli_none_source_without_pynvml_or_nvidia_smi(tmp_path):
    """The job's Python may lack pynvml and the node nvidia-smi: CPU/RAM only."""
    env = dict(os.environ, PATH=str(tmp_path))  # no nvidia-smi
    out = tmp_path / "gpu-samples.{node}.jsonl"
    block = ("import sys, runpy; sys.modules['pynvml'] = None; sys.argv = [%r] + sys.argv[1:];"
             " runpy.run_path(%r, run_name='__main__')" % (SAMPLER_PATH, SAMPLER_PATH))
    r = subprocess.run([sys.executable, "-S", "-c", block, "--out", str(out), "--interval",
                        "0.2", "--max-seconds", "0.5"], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    files = glob.glob(str(tmp_path / "gpu-samples.*.jsonl"))
    assert len(files) == 1 and "{node}" not in files[0]
    rows = lines(files[0])
    assert rows[0]["src"] == "none" and rows[0]["gpus"] == []
    assert all("g" not in x and "c" not in x for x in rows[1:-1])
    assert rows[-1]["why"] == "limit"
    for py in ("/usr/bin/python3",):  # the system Python, isolated from any site-packages
        if os.path.exists(py):
            r = run_sampler(["--out", str(tmp_path / "sys.jsonl"), "--interval", "0.2",
                             "--max-seconds", "0.3"], env=env, python=py, pre=["-I", "-S"])
            assert r.returncode == 0, r.stderr
            assert lines(tmp_path / "sys.jsonl")[0]["src"] == "none"


FAKE_PYNVML = '''
import types
class NVMLError(Exception):
    def __init__(self, value=999):
        Exception.__init__(self, value)
        self.value = value
NVML_ERROR_NOT_SUPPORTED = 3
NVML_TEMPERATURE_GPU = 0
NVML_CLOCK_SM = 1
CALLS = {"temp": 0}
def nvmlInit(): pass
def nvmlShutdown(): pass
def nvmlSystemGetDriverVersion(): return b"580.00"
def nvmlDeviceGetCount(): return 4
def nvmlDeviceGetHandleByIndex(i):
    if i == 1:
        raise NVMLError(4)  # not ours (cgroup)
    return i
def nvmlDeviceGetUUID(h): return "GPU-%d0000000-aaaa" % h
def nvmlDeviceGetName(h): return b"Fake H200"
nvmlMemory_v2 = 0x02000028
FAIL_V2 = False
def nvmlDeviceGetMemoryInfo(h, version=None):
    if version is not None and FAIL_V2:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)  # older driver: v1 from then on
    used = (1000 + h) if version is None else (400 + h)  # v2 leaves out the reserve
    return types.SimpleNamespace(total=143771 * 1048576, used=used * 1048576)
def nvmlDeviceGetEnforcedPowerLimit(h): return 700000
def nvmlDeviceGetMaxClockInfo(h, c): return 1980
def nvmlDeviceGetPciInfo(h): return types.SimpleNamespace(busId="00000000:%02X:00.0" % h)
def nvmlDeviceGetUtilizationRates(h): return types.SimpleNamespace(gpu=50 + h)
def nvmlDeviceGetPowerUsage(h): return 123456
def nvmlDeviceGetTemperature(h, s):
    CALLS["temp"] += 1
    if h == 3:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return 40 + h
def nvmlDeviceGetClockInfo(h, c): return 1755
'''


def test_nvml_source_with_fake_pynvml(tmp_path, monkeypatch):
    (tmp_path / "pynvml.py").write_text(FAKE_PYNVML)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("pynvml", None)
    try:
        src = S.NvmlSource("2,GPU-30000000")  # position 2 of the visible (0,2,3) = NVML 3
        import pynvml
        assert [g["i"] for g in src.gpus] == [3]
        src = S.NvmlSource(None)
        assert [g["i"] for g in src.gpus] == [0, 2, 3]
        assert src.driver == "580.00" and src.gpus[0]["name"] == "Fake H200"
        assert src.gpus[0]["mt"] == 143771 and src.gpus[0]["pl"] == 700.0
        for _ in range(3):
            rows = src.sample()
        assert rows[0] == [50, 400, 123.5, 40, 1755]
        assert rows[2] == [53, 403, 123.5, None, 1755]
        assert pynvml.CALLS["temp"] == 3 * 2 + 1  # NOT_SUPPORTED is not asked again
        pynvml.FAIL_V2 = True
        assert [r[1] for r in S.NvmlSource(None).sample()] == [1000, 1002, 1003]
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-20000000-aaaa,0")
        src = S.open_source("auto", S.gpu_spec(None), 1.0)
        assert src.name == "nvml" and [g["i"] for g in src.gpus] == [2, 0]
    finally:
        sys.modules.pop("pynvml", None)


FAKE_SMI = '''#!%s
import sys, time
args = sys.argv[1:]
q = [a for a in args if a.startswith("--query-gpu=")][0].split("=", 1)[1]
if q.startswith("index,uuid"):
    print("0, GPU-aaaa, Fake GPU, 81559, 700.00, 1980, 00000000:01:00.0, 580.1")
    print("1, GPU-bbbb, Fake GPU, 81559, [N/A], 1980, 00000000:02:00.0, 580.1")
    sys.exit(0)
ms = int(args[args.index("-lms") + 1]) if "-lms" in args else None
while True:
    print("0, 42, 1234, 250.5, 50, 1755")
    print("1, [N/A], 10, 60.1, 30, 345", flush=True)
    if ms is None:
        break
    time.sleep(ms / 1000.0)
'''


def test_nvidia_smi_fallback(tmp_path):
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    smi = bin_ / "nvidia-smi"
    smi.write_text(FAKE_SMI % sys.executable)
    smi.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (bin_, os.environ["PATH"]), CUDA_VISIBLE_DEVICES="1")
    out = tmp_path / "s.jsonl"
    block = ("import sys, runpy; sys.modules['pynvml'] = None; sys.argv = [%r] + sys.argv[1:];"
             " runpy.run_path(%r, run_name='__main__')" % (SAMPLER_PATH, SAMPLER_PATH))
    r = subprocess.run([sys.executable, "-c", block, "--out", str(out), "--interval", "0.3",
                        "--max-seconds", "1.6"], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    rows = lines(out)
    h = rows[0]
    assert h["src"] == "nvidia-smi" and h["driver"] == "580.1"
    assert [g["uuid"] for g in h["gpus"]] == ["GPU-bbbb"] and h["gpus"][0]["pl"] is None
    got = [x["g"] for x in rows[1:-1]]
    assert [[None, 10, 60.1, 30, 345]] in got
    assert rows[-1]["why"] == "limit"


def test_select_gpus():
    devs = [{"i": 0, "uuid": "GPU-a1"}, {"i": 2, "uuid": "GPU-b2c3d4"}, {"i": 5, "uuid": "GPU-c3"}]
    assert S.select_gpus(devs, None) == devs
    assert S.select_gpus(devs, "all") == devs
    assert S.select_gpus(devs, "") == [] and S.select_gpus(devs, "-1") == []
    assert S.select_gpus(devs, "1,0") == [devs[1], devs[0]]
    assert S.select_gpus(devs, "GPU-b2c3d4") == [devs[1]]
    assert S.select_gpus(devs, "GPU-b2c") == [devs[1]]  # prefix, as CUDA accepts
    assert S.select_gpus(devs, "0,-1,2") == [devs[0]]  # CUDA stops at an invalid entry
    assert S.select_gpus(devs, "7") == []


# --------------------------------------------------------------------------- /proc accounting
def test_process_tree_cpu_rss_and_exit_when_pid_dies(tmp_path):
    job = spawn_burner_tree(3.0)
    out = tmp_path / "t.jsonl"
    t0 = time.time()
    r = run_sampler(["--out", str(out), "--interval", "0.5", "--pid", str(job.pid),
                     "--source", "none"], timeout=30)
    took = time.time() - t0
    job.wait()
    assert r.returncode == 0, r.stderr
    rows = lines(out)
    assert rows[-1]["why"] == "pid"
    assert took < 4.5 + 2.0, "sampler outlived the job"
    cs = [x["c"] for x in rows[1:-1] if x.get("c") is not None]
    busy = [c for c in cs[1:5]]
    assert busy and 0.6 <= max(busy) <= 1.3, cs
    assert max(cs) <= 1.3, "the reaped child's CPU was counted twice: %s" % cs
    assert cs[-1] < 0.3  # parent sleeping after the child is gone
    assert max(x["r"] for x in rows[1:-1]) > 5  # MiB: python parent + child


def test_proc_tree_accounts_children_reaped_between_samples():
    """A child that lives and dies between two samples arrives via the parent's cutime."""
    code = ("import subprocess, sys, time\n"
            "time.sleep(0.6)\n"
            "subprocess.run([sys.executable, '-c', "
            "'import time\\nt=time.time()\\nwhile time.time()-t<0.5: pass'])\n"
            "time.sleep(5)\n")
    job = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.2)
        tree = S.ProcTree(job.pid)
        tree.rescan = 1e9
        tree.sample(time.monotonic())
        tree.last_scan = time.monotonic()
        tree.rescan = 1e9  # no full scans: the child is never seen alive
        time.sleep(1.8)
        cores, rss = tree.sample(time.monotonic())
        assert 0.15 <= cores <= 0.6, cores  # ~0.5 CPU-s (+ start-up) over ~1.8 s
        assert rss > 1
        assert tree.alive()
    finally:
        job.kill()
        job.wait()
    assert not tree.alive()


def test_sigterm_stops_cleanly(tmp_path):
    out = tmp_path / "sig.jsonl"
    p = subprocess.Popen([sys.executable, SAMPLER_PATH, "--out", str(out), "--interval", "5",
                          "--source", "none"])
    deadline = time.time() + 10
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 2):
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=5) == 0
    rows = lines(out)
    assert rows[-1]["k"] == "e" and rows[-1]["why"] == "signal"


def test_existing_file_is_kept_aside(tmp_path):
    out = tmp_path / "g.jsonl"
    out.write_text("old\n")
    r = run_sampler(["--out", str(out), "--max-seconds", "0", "--source", "none"])
    assert r.returncode == 0
    assert (tmp_path / "g.jsonl.1").read_text() == "old\n"
    assert lines(out)[0]["k"] == "h"


def test_never_crashes_on_failing_source(tmp_path):
    class Broken(FakeGpus):
        def sample(self):
            raise RuntimeError("GPU fell off the bus")

    clk = FakeClock()
    s = S.Sampler(str(tmp_path / "b.jsonl"), source=Broken(1, clk), clock=clk, mono=clk,
                  sleep=clk.sleep, max_seconds=3)
    assert s.run() == "limit"
    rows = lines(tmp_path / "b.jsonl")
    assert rows[1]["g"] == [[None] * 5] and rows[-1]["why"] == "limit"


# --------------------------------------------------------------------------- bounds
def test_long_run_is_bounded_and_downsampled(tmp_path):
    """6 simulated hours, 8 GPUs, keep 10 min: the file holds <= 2*keep of 1 Hz samples plus one
    line per 60 s bucket, and the buckets are the right means/maxima."""
    clk = FakeClock(1_700_000_000.0)
    out = tmp_path / "long.jsonl"
    src = FakeGpus(8, clk)
    keep, hours = 600, 6
    s = S.Sampler(str(out), interval=1.0, pid=0, source=src, keep=keep, bucket=60, clock=clk,
                  mono=clk, sleep=clk.sleep, max_seconds=hours * 3600 - 1)
    sizes = []
    orig = s.store.compact

    def compact(now):
        sizes.append(os.path.getsize(str(out)))
        orig(now)

    s.store.compact = compact
    s.run()
    h, samples, end = T.load(str(out))
    assert end["n"] == hours * 3600
    assert h["gen"] >= hours * 3600 // keep - 2 and h["tc"] is not None
    full = [x for x in samples if "d" not in x]
    coarse = [x for x in samples if "d" in x]
    assert keep <= len(full) <= 2 * keep + 60 + 1  # keep .. keep + compaction period + bucket
    assert len(coarse) == (h["tc"] - h["t0"]) // 60 + 1 or len(coarse) >= hours * 60 - 21
    assert all(x["n"] <= 60 and x["d"] == 60 for x in coarse)
    assert all(a["t"] < b["t"] for a, b in zip(samples, samples[1:]))
    assert coarse[-1]["t"] + 60 == h["tc"] <= full[0]["t"]
    # bound: 2*keep full lines + one coarse line per minute (+ header/end)
    full_line = max(len(json.dumps(x, separators=(",", ":"))) for x in full) + 1
    coarse_line = max(len(json.dumps(x, separators=(",", ":"))) for x in coarse) + 1
    bound = (2 * keep + 60) * full_line + (hours * 60 + 1) * coarse_line + 2000
    assert max(sizes + [os.path.getsize(str(out))]) <= bound
    # 5 days, keep 1 h, 8 GPUs, with these line sizes: a few MB, not gigabytes
    five_days = (2 * 3600 + 60) * full_line + 5 * 1440 * coarse_line
    assert five_days < 8e6, five_days
    # a bucket is the mean/max of what the source gave
    seen = dict(src.seen)
    b = coarse[len(coarse) // 2]
    inside = [seen[t] for t in seen if b["t"] <= t < b["t"] + 60]
    assert len(inside) == b["n"] == 60
    for k in range(8):
        us = [r[k][0] for r in inside]
        assert b["g"][k][0] == round(sum(us) / 60.0, 1)
        assert b["g"][k][5] == max(us)
        assert b["g"][k][1] == max(r[k][1] for r in inside)
        assert b["g"][k][3] == max(r[k][3] for r in inside)


# --------------------------------------------------------------------------- reader
def _w(path, text, mode="a"):
    with open(path, mode) as f:
        f.write(text)


def test_reader_partial_lines_and_offsets(tmp_path):
    p = str(tmp_path / "r.jsonl")
    head = '{"k":"h","v":1,"gen":0,"iv":1.0,"gpus":[]}\n'
    _w(p, head + '{"t":1.0,"c":0.5}\n{"t":2.0,"c":0.6}\n{"t":3.0,', "w")
    c = T.read_chunk(p)
    assert c.header["v"] == 1 and [x["t"] for x in c.samples] == [1.0, 2.0]
    assert c.offset == len(head) + 2 * len('{"t":1.0,"c":0.5}\n') and not c.reset
    c2 = T.read_chunk(p, c.offset, c.ino)
    assert c2.samples == [] and c2.offset == c.offset  # the partial line waits
    _w(p, '"c":0.7}\nnot json\n{"t":4.0,"c":0.8}\n{"k":"e","why":"pid"}\n')
    c3 = T.read_chunk(p, c2.offset, c2.ino)
    assert [x["t"] for x in c3.samples] == [3.0, 4.0] and c3.bad == 1
    assert c3.end["why"] == "pid" and c3.header is None
    assert c3.offset == os.path.getsize(p)
    assert T.read_chunk(str(tmp_path / "missing"), 5).offset == 5


def test_reader_follows_compaction_rewrite(tmp_path):
    p = str(tmp_path / "r.jsonl")
    _w(p, '{"k":"h","v":1,"gen":0}\n' + "".join('{"t":%d.0,"c":1}\n' % t for t in range(10)),
       "w")
    r = T.TraceReader(p)
    assert len(r.poll()) == 10 and r.poll() == []
    tmp = p + ".tmp"  # what Store.compact does: write elsewhere, os.replace
    _w(tmp, '{"k":"h","v":1,"gen":1,"tc":0}\n{"t":0,"d":60,"n":8,"c":1,"cx":1}\n'
       + "".join('{"t":%d.0,"c":1}\n' % t for t in range(8, 13)), "w")
    os.replace(tmp, p)
    got = r.poll()
    assert [x["t"] for x in got] == [10.0, 11.0, 12.0]  # only what is new
    assert r.resets == 1 and r.header["gen"] == 1
    hist = r.history()
    assert hist[0]["d"] == 60 and len(hist) == 6 and r.poll() == []
    _w(p, '{"t":"x"}\n'[:0] + '{"t":13.0,"c":2}\n')
    assert [x["t"] for x in r.poll()] == [13.0]
    # a shorter file (truncated, or a restarted sampler) is read again from 0
    _w(p, '{"k":"h","v":1,"gen":0}\n{"t":20.0}\n', "w")
    assert [x["t"] for x in r.poll()] == [20.0]


def test_reader_on_a_live_sampler_with_compactions(tmp_path):
    clk = FakeClock(1_700_000_000.0)
    out = str(tmp_path / "live.jsonl")
    src = FakeGpus(2, clk)
    s = S.Sampler(out, interval=1.0, pid=0, source=src, keep=120, bucket=30, clock=clk,
                  mono=clk, sleep=clk.sleep)
    r = T.TraceReader(out)
    got = []
    for k in range(1500):
        s.store.add(s.take())
        clk.sleep(1.0)
        if k % 37 == 0:
            got += r.poll()
    s.store.close({"k": "e", "t": clk.t, "why": "limit"})
    got += r.poll()
    assert [x["t"] for x in got] == [t for t, _ in src.seen]  # every 1 Hz sample, once
    assert r.resets >= 5 and r.end["why"] == "limit"


def test_downsample_and_expand():
    header = {"iv": 1.0, "gpus": [{"i": 3, "uuid": "GPU-x", "name": "H", "mt": 100}]}
    ss = [{"t": 1000.0 + k, "g": [[k % 100, k, 100.0, 40 + k % 3, 1980]], "c": 1.0, "r": k}
          for k in range(120)]
    d = T.downsample(ss, step=60)
    assert [x["t"] for x in d] == [960, 1020, 1080]
    assert [x["n"] for x in d] == [20, 60, 40]
    mid = d[1]
    assert mid["g"][0] == [round(sum(range(20, 80)) / 60.0, 1), 79, 100.0, 42, 1980, 79]
    assert mid["c"] == 1.0 and mid["cx"] == 1.0 and mid["r"] == 79
    assert len(T.downsample(ss, max_points=10)) <= 11
    assert T.downsample(d, step=60) == d  # already coarse: unchanged
    e = T.expand(mid, header)
    assert e["gpus"][0]["index"] == 3 and e["gpus"][0]["util_max"] == 79
    assert e["seconds"] == 60 and e["rss_mib"] == 79
    assert T.expand(ss[0], header)["seconds"] == 1.0


# --------------------------------------------------------------------------- real traces
def _real_traces():
    return sorted(glob.glob(os.path.join(TRACES, "*.jsonl")))


def test_real_trace_exists():
    assert _real_traces(), "no recorded GPU trace in %s" % TRACES


@pytest.mark.parametrize("path", _real_traces(), ids=os.path.basename)
def test_replay_real_trace(path, tmp_path):
    h, samples, end = T.load(path)
    assert h["v"] == 1 and h["src"] in ("nvml", "nvidia-smi")
    assert h["gpus"] and "NVIDIA" in h["gpus"][0]["name"] and h["gpus"][0]["mt"] > 70000
    # The phased traces follow a load process (why "pid"); the short memory check stops at a limit.
    assert len(samples) >= 15 and end["why"] in ("pid", "limit")
    assert all(a["t"] < b["t"] for a, b in zip(samples, samples[1:]))
    # byte by byte as a job writes it, polled at random points: the same samples, in order
    rng = random.Random(3)
    data = open(path, "rb").read()
    live = str(tmp_path / "live.jsonl")
    open(live, "wb").close()
    r = T.TraceReader(live)
    got = []
    pos = 0
    while pos < len(data):
        n = rng.randint(1, 700)
        with open(live, "ab") as f:
            f.write(data[pos:pos + n])
        pos += n
        got += r.poll()
    assert got == samples and r.end == end and r.header == h and r.bad == 0
    # the load's phases show in the figures
    phases_file = os.path.join(TRACES, os.path.basename(path).split(".")[0] + ".phases.json")
    if os.path.exists(phases_file):
        phases = json.load(open(phases_file))["phases"]

        def util(phase):
            ph = [p for p in phases if p["phase"] == phase][0]
            us = [x["g"][0][0] for x in samples
                  if ph["t0"] + 2 <= x["t"] <= ph["t1"] - 1 and x["g"][0][0] is not None]
            return sum(us) / len(us)

        assert util("full") > 80
        assert 15 < util("half") < 90
        assert util("idle") < 10
        full = [p for p in phases if p["phase"] == "full"][0]
        hot = [x for x in samples if full["t0"] + 3 <= x["t"] <= full["t1"] - 1]
        assert max(x["g"][0][2] for x in hot) > 200  # W under load
        assert max(x.get("c") or 0 for x in samples) > 0.5  # the job's CPU shows
    assert len(T.downsample(samples, max_points=30)) <= 31


def test_nvml_v2_memory_matches_nvidia_smi_on_the_real_h200():
    """Recorded after the switch to NVML's v2 memory reading: nvidia-smi printed 1103 MiB used."""
    h, samples, _end = T.load(os.path.join(TRACES, "h200-matmul-nvml-memv2.jsonl"))
    busy = [x["g"][0][1] for x in samples if x["g"][0][0] and x["g"][0][0] > 90]
    assert busy and all(abs(m - 1103) <= 8 for m in busy)


# --------------------------------------------------------------------------- added keys, task files
def test_busiest_processes_and_io_keys(tmp_path):
    """pc: the busiest processes' CPU, largest first (a burning child near 1 core, its parent near 0);
    io: the pressure file's share when one is readable."""
    job = spawn_burner_tree(3.0)
    out = tmp_path / "pc.jsonl"
    try:
        s = S.Sampler(str(out), interval=0.5, pid=job.pid, source=S.NoSource(), max_seconds=2.5)
        assert s.run() == "limit"
    finally:
        job.kill()
        job.wait()
    rows = lines(out)
    body = rows[1:-1]
    tops = [b["pc"] for b in body[2:] if b.get("pc")]
    assert tops and max(t[0] for t in tops) >= 0.25, body  # the burner (less on a loaded machine)
    assert all(t == sorted(t, reverse=True) and len(t) <= S.TOP_PROCS for t in tops)
    assert all(abs(sum(b["pc"]) - b["c"]) <= 0.05 * len(b["pc"]) + 0.02 for b in body if b.get("pc"))
    if rows[0]["iosrc"]:
        assert any("io" in b for b in body) and all(0 <= b["io"] <= 100 for b in body if "io" in b)
    assert "w" not in body[-1] or S._delayacct_on()


def test_io_pressure_reads_the_jobs_cgroup_first(tmp_path):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "pressure").mkdir()
    (proc / "self" / "cgroup").write_text("0::/system.slice/slurmstepd.scope/job_42/step_batch/user/task_0\n")
    (proc / "pressure" / "io").write_text("some avg10=0.00 avg60=0.00 avg300=0.00 total=100\n")
    cg = tmp_path / "cg" / "system.slice" / "slurmstepd.scope" / "job_42"
    cg.mkdir(parents=True)
    (cg / "io.pressure").write_text("some avg10=1.00 avg60=0.00 avg300=0.00 total=1000000\n"
                                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=10\n")
    io = S.IoPressure(proc=str(proc), cgroot=str(tmp_path / "cg"))
    assert io.path == str(cg / "io.pressure")
    assert io.sample(10.0) is None
    (cg / "io.pressure").write_text("some avg10=1.00 avg60=0.00 avg300=0.00 total=1500000\n")
    assert io.sample(12.0) == 25.0  # 0.5 s stalled over 2 s
    io.close()
    (cg / "io.pressure").unlink()
    io = S.IoPressure(proc=str(proc), cgroot=str(tmp_path / "cg"))
    assert io.path == str(proc / "pressure" / "io")
    io.close()
    assert S.IoPressure(proc=str(tmp_path / "nothing"), cgroot=str(tmp_path / "none")).sample(1.0) is None


def test_coarse_buckets_fold_the_added_keys():
    b = S.Bucket(0, 60, 0)
    b.add({"t": 1, "c": 3.0, "pc": [1.0, 1.0, 0.9], "io": 10.0})
    b.add({"t": 2, "c": 1.0, "pc": [1.0], "io": 0.0, "w": 0.5})
    b.add({"t": 3, "c": 1.0})  # an old writer's sample: no added keys
    r = b.result()
    assert r["pc"] == [1.0, 0.5, 0.45] and r["io"] == 5.0 and r["w"] == 0.5
    again = S.Bucket(0, 120, 0)
    again.add(r)
    assert again.result()["pc"] == [1.0, 0.5, 0.45]
    old = S.Bucket(0, 60, 0)
    old.add({"t": 1, "c": 1.0})
    assert not {"pc", "io", "w"} & set(old.result())


def test_array_tasks_get_their_own_file(tmp_path, monkeypatch):
    """Issue 23 item 6: two tasks of an array on one node wrote one samples.{node}.jsonl, and the
    second moved the first's live file aside."""
    assert S.out_path("d/samples.{node}.jsonl", "gpu1") == "d/samples.gpu1.jsonl"
    assert S.out_path("d/samples.{node}.jsonl", "gpu1", "3") == "d/samples.gpu1.task3.jsonl"
    assert S.out_path("d/samples.{node}.{task}.jsonl", "gpu1", "3") == "d/samples.gpu1.3.jsonl"
    assert S.out_path("d/samples.{node}.{task}.jsonl", "gpu1") == "d/samples.gpu1.jsonl"
    procs = [subprocess.Popen([sys.executable, SAMPLER_PATH, "--out", str(tmp_path / "samples.{node}.jsonl"),
                               "--interval", "0.2", "--source", "none", "--max-seconds", "1"],
                              env=dict(os.environ, SLURMD_NODENAME="gpu1", SLURM_ARRAY_TASK_ID=task))
             for task in ("3", "4")]  # at the same time, as two tasks on one node
    assert [p.wait(timeout=20) for p in procs] == [0, 0]
    names = sorted(os.listdir(tmp_path))
    assert names == ["samples.gpu1.task3.jsonl", "samples.gpu1.task4.jsonl"], names
    assert lines(tmp_path / "samples.gpu1.task4.jsonl")[0]["task"] == "4"
    from tritonml_lab.metrics.samples import sample_files, split_name
    (tmp_path / "samples.gpu2.jsonl").write_text("")  # an old, shared file (before tasks had their own)
    assert split_name("samples.gpu1.task3.jsonl") == ("gpu1", "3")
    assert split_name("samples.gpu2.jsonl") == ("gpu2", None)
    assert split_name("samples.jsonl") is None and split_name("x.gpu1.jsonl") is None
    assert {k: v.name for k, v in sample_files(tmp_path, "3").items()} == {
        "gpu1": "samples.gpu1.task3.jsonl", "gpu2": "samples.gpu2.jsonl"}
    assert set(sample_files(tmp_path)) == {"gpu1_3", "gpu1_4", "gpu2"}
    assert sample_files(tmp_path, "9") == {"gpu2": tmp_path / "samples.gpu2.jsonl"}
