#!/usr/bin/env python3
"""tritonml-lab in-job sampler: GPU, CPU and memory of one Slurm job on one node.

ONE self-contained file, standard library only, for any Python >= 3.8. The batch script copies it
into the job directory and starts it next to the user's program, with whatever Python the job has:

    python sampler.py --out DIR/samples.{node}.jsonl --interval 1 --pid PID [--gpus 0,1]
                      [--job SLURM_JOB_ID [--other-nodes]]

One file of well over 400 lines on purpose: it runs by path in the job, whose Python often lacks
tritonml-lab, so it cannot import a sibling module. Its parts are the sections below (GPU selection,
sources, /proc accounting, aggregation, the file, the sampler, other nodes), a class or two each.

``{node}`` in --out is replaced by $SLURMD_NODENAME, else the short host name (one file per node);
in an array task, ``{task}`` by $SLURM_ARRAY_TASK_ID, and without ``{task}`` in --out the name gets
".task<N>" before its extension (samples.gpu1.task3.jsonl), so that tasks sharing a node and the
array's directory never share (or move aside) each other's file. Reader: metrics/samples.py.
Processes: --job J accounts every process of job J on this node (see JobProcs: the batch script,
its children and the tasks of every srun step); without it, the process tree of --pid. The sampler
stops when --pid (if given) is gone. --other-nodes (batch host of a multi-node job): one srun step
per GPU count starts a sampler with --job on every other node (see OtherNodes); those stop when
this one does, or when Slurm ends the job's steps.

Sources, first that works (or --source nvml|nvidia-smi|none):
  nvml        ``import pynvml`` (package nvidia-ml-py); handles and static data are read once.
  nvidia-smi  one long-lived ``nvidia-smi --query-gpu=... --format=csv,noheader,nounits -lms MS``
              whose rows are read by a thread (a fresh nvidia-smi per sample would cost ~25 ms).
  none        no GPU: CPU and memory only.
GPUs of the job: --gpus, else CUDA_VISIBLE_DEVICES, else every GPU this process can open.
Tokens are positions in the list of GPUs this process can open (what CUDA_VISIBLE_DEVICES means;
equal to the NVML index when all GPUs are visible) or UUIDs / UUID prefixes ("GPU-8c1e...").

FILE FORMAT, version 1: UTF-8 JSON lines, compact, one object per line, "\\n" terminated.
Line 1 is the header:
  k:"h"  v: format version (1)   gen: compaction generation (0, 1, ...; the file is rewritten
  atomically on each compaction, so a reader that sees a new inode or gen starts again at 0)
  host, pid: watched pid (0: none), spid: sampler pid, iv: interval s, src: "nvml"|"nvidia-smi"|"none"
  t0: start (unix s), keep: seconds kept at full resolution, bucket: coarse bucket s,
  tc: null, or unix time before which the file holds coarse buckets only
  cores: CPUs this process may use, memt: node memory MiB, driver: GPU driver version or null
  cols: ["u","m","p","T","s"]  (order of the per-GPU arrays below)
  gpus: [{i: index as selected (NVML index), uuid, name, mt: memory total MiB, pl: power limit W,
          smax: max SM clock MHz, bus: PCI bus id}]
  job: Slurm job id whose processes c and r count (null: the tree of pid), node: the Slurm node
  name (null without job), gsel: the GPU selection asked for (--gpus or CUDA_VISIBLE_DEVICES; null: all)
  task: $SLURM_ARRAY_TASK_ID or null; iosrc: the pressure file "io" is read from, or null
  (added keys, like those marked "added" below, are absent from older files: readers treat them
  as unknown, never as 0)
Full-resolution sample (no "k"):
  t: unix time s (0.1 s)
  g: per GPU, in header order: [u util %, m memory used MiB, p power W, T temperature C,
     s SM clock MHz]; null where a value is not available. Absent when there are no GPUs.
  c: CPU of the job on this node, in cores (CPU seconds per second summed over its processes:
     those of --job, else the process tree of --pid)
  r: resident memory of those processes, MiB (sum of RSS; shared pages count once per process)
  c and r are absent without --job and --pid; c is null on the first sample.
  pc (added): CPU of the busiest processes counted in c, cores each, largest first, at most 4
     (a starved DataLoader shows its workers each near 1.0 while the GPU waits); absent with c null
  w (added): block-I/O delay of those processes, s per s (delayacct_blkio_ticks of /proc/PID/stat),
     only where the kernel keeps delay accounting (kernel.task_delayacct = 1)
  io (added): % of the time some task waited on I/O (PSI "some": the job's cgroup io.pressure,
     else /proc/pressure/io, see the header's iosrc); absent where unreadable and on the first sample
Coarse sample (older data, one per bucket): the keys above plus d: bucket seconds (t is its
  start), n: samples in it, cx: max CPU cores; g rows have a 6th column, max util %.
  u, p, s, c, w, io and each rank of pc are means; m, T, r are maxima over the bucket.
Last line when the sampler stops: k:"e", t, why: "pid" (watched process gone) | "signal" |
  "limit" | "error", n: samples written, cpu: sampler CPU seconds (children included),
  cpu0: CPU seconds it had used when the first sample was written.

BOUND: samples newer than ``keep`` (3600 s) stay at full resolution; every ``keep`` seconds older
ones are folded into ``bucket`` (60 s) means and the file is rewritten (write temp + os.replace).
So the file holds at most 2*keep+bucket s of full samples plus one line per bucket of the job.
With 8 GPUs a full line is ~245 B and a coarse line ~300 B: 2 h full = 1.8 MB, 5 days of 60 s
buckets = 2.2 MB, so a 5-day 8-GPU job stays below ~5 MB (benchmarks/sampler_bench.py simulates
one: 3.7 MB at most); 1 GPU: ~70 B a line, 250 kB an hour before compaction, < 1 MB for 5 days.
Memory of the sampler grows likewise (it keeps those lines to rewrite the file): a few MB.

NEVER HARMS THE JOB: nice 19; every sample is wrapped in try/except; nothing of the job is locked
or opened; the file is line-buffered; exits when the watched pid is gone, on SIGTERM/SIGINT/SIGHUP,
or after --max-seconds. If an existing file is in the way it is renamed to FILE.1, FILE.2, ...
"""

import argparse
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque

FORMAT_VERSION = 1
COLS = ["u", "m", "p", "T", "s"]
# The samples files' names in the job directory, here only (the batch script's --out and the server's
# readers, metrics/, import them): samples.<node>.jsonl, an array task's samples.<node>.task<N>.jsonl.
SAMPLES_PREFIX, SAMPLES_SUFFIX, TASK_INFIX = "samples.", ".jsonl", ".task"
SAMPLES_OUT = SAMPLES_PREFIX + "{node}" + SAMPLES_SUFFIX  # --out's name, {node} filled in by out_path
SAMPLES_GLOB = SAMPLES_PREFIX + "*" + SAMPLES_SUFFIX
MIB = 1048576.0
TOP_PROCS = 4  # "pc": CPU of the busiest processes of the job (DataLoader workers near 1 each)
_DUMPS = json.JSONEncoder(separators=(",", ":")).encode


def _log(msg):
    try:
        sys.stderr.write("tritonml-sampler: %s\n" % msg)
        sys.stderr.flush()
    except Exception:
        pass


def _str(x):
    return x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)


def _num(text):
    """A number from nvidia-smi's csv ("[N/A]", "[Not Supported]" -> None)."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return None if v != v else v


# --------------------------------------------------------------------------- GPU selection
def select_gpus(devices, spec):
    """Pick the job's GPUs from ``devices`` (dicts with "i" and "uuid", in NVML order, only those
    this process can open). ``spec``: comma list of positions or UUID (prefixes); None = all."""
    if spec is None:
        return list(devices)
    spec = spec.strip()
    if spec in ("", "-1", "none", "NoDevFiles"):
        return []
    if spec == "all":
        return list(devices)
    out = []
    for tok in spec.split(","):
        tok = tok.strip()
        if not tok:
            continue
        hit = None
        if tok.lstrip("-").isdigit():
            k = int(tok)
            if k < 0:
                break  # CUDA ignores everything after an invalid entry
            if k < len(devices):
                hit = devices[k]
        else:
            for d in devices:
                u = d.get("uuid") or ""
                if u == tok or (len(tok) >= 5 and u.startswith(tok)):
                    hit = d
                    break
        if hit is None:
            _log("GPU %r of the selection is not visible here; skipped" % tok)
        elif hit not in out:
            out.append(hit)
    return out


def gpu_spec(arg_gpus):
    if arg_gpus is not None:
        return arg_gpus
    return os.environ.get("CUDA_VISIBLE_DEVICES")


# --------------------------------------------------------------------------- sources
class NoSource(object):
    name = "none"
    driver = None

    def __init__(self):
        self.gpus = []

    def sample(self):
        return []

    def close(self):
        pass


class NvmlSource(object):
    """NVML through pynvml. Handles and static data are read once; a sample makes five calls per
    GPU. A field that answers NOT_SUPPORTED is not asked again."""

    name = "nvml"

    def __init__(self, spec):
        import pynvml as N  # noqa: N812

        self.N = N
        N.nvmlInit()
        try:
            devices = []
            for i in range(N.nvmlDeviceGetCount()):
                try:
                    h = N.nvmlDeviceGetHandleByIndex(i)
                    devices.append({"i": i, "uuid": _str(N.nvmlDeviceGetUUID(h)), "_h": h})
                except N.NVMLError:
                    continue  # not ours (cgroup) or broken
            chosen = select_gpus(devices, spec)
            if spec is not None and not chosen and spec.strip() not in ("", "-1", "none"):
                _log("GPU selection %r matched nothing; sampling all visible GPUs" % spec)
                chosen = devices
            try:
                self.driver = _str(N.nvmlSystemGetDriverVersion())
            except Exception:
                self.driver = None
            self.gpus = []
            self.handles = []
            for d in chosen:
                h = d.pop("_h")
                self.handles.append(h)
                self.gpus.append(self._static(h, d))
            for d in devices:
                d.pop("_h", None)
            self._ok = [[True] * 5 for _ in self.handles]
            # memory "used" as nvidia-smi shows it (v2: without the driver's reserve, ~600 MiB
            # on an H200); v1 where the binding or driver lacks v2
            self._memv2 = getattr(N, "nvmlMemory_v2", None)
            self._temp = getattr(N, "NVML_TEMPERATURE_GPU", 0)
            self._sm = getattr(N, "NVML_CLOCK_SM", 1)
            self._unsup = getattr(N, "NVML_ERROR_NOT_SUPPORTED", 3)
        except Exception:
            try:
                N.nvmlShutdown()
            except Exception:
                pass
            raise

    def _static(self, h, d):
        N = self.N
        info = {"i": d["i"], "uuid": d["uuid"], "name": None, "mt": None, "pl": None,
                "smax": None, "bus": None}
        calls = (
            ("name", lambda: _str(N.nvmlDeviceGetName(h))),
            ("mt", lambda: int(N.nvmlDeviceGetMemoryInfo(h).total // MIB)),
            ("pl", lambda: round(N.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0, 1)),
            ("smax", lambda: int(N.nvmlDeviceGetMaxClockInfo(h, getattr(N, "NVML_CLOCK_SM", 1)))),
            ("bus", lambda: _str(N.nvmlDeviceGetPciInfo(h).busId)),
        )
        for key, fn in calls:
            try:
                info[key] = fn()
            except Exception:
                pass
        return info

    def sample(self):
        N = self.N
        out = []
        for h, ok in zip(self.handles, self._ok):
            row = [None, None, None, None, None]
            for col in range(5):
                if not ok[col]:
                    continue
                try:
                    if col == 0:
                        row[0] = N.nvmlDeviceGetUtilizationRates(h).gpu
                    elif col == 1:
                        row[1] = int(self._mem(h).used // MIB)
                    elif col == 2:
                        row[2] = round(N.nvmlDeviceGetPowerUsage(h) / 1000.0, 1)
                    elif col == 3:
                        row[3] = N.nvmlDeviceGetTemperature(h, self._temp)
                    else:
                        row[4] = N.nvmlDeviceGetClockInfo(h, self._sm)
                except N.NVMLError as e:
                    if getattr(e, "value", None) == self._unsup:
                        ok[col] = False
                except Exception:
                    pass
            out.append(row)
        return out

    def _mem(self, h):
        if self._memv2 is not None:
            try:
                return self.N.nvmlDeviceGetMemoryInfo(h, version=self._memv2)
            except Exception:
                self._memv2 = None  # not supported here: v1 from now on
        return self.N.nvmlDeviceGetMemoryInfo(h)

    def close(self):
        try:
            self.N.nvmlShutdown()
        except Exception:
            pass


class SmiSource(object):
    """nvidia-smi fallback: static data from one call, then one nvidia-smi process that loops
    (-lms) and whose csv rows a daemon thread keeps as "latest per GPU"."""

    name = "nvidia-smi"
    STATIC = "index,uuid,name,memory.total,power.limit,clocks.max.sm,pci.bus_id,driver_version"
    DYNAMIC = "index,utilization.gpu,memory.used,power.draw,temperature.gpu,clocks.sm"
    FIRST_ROWS_S = 10.0  # the longest wait for the looping nvidia-smi's first rows

    def __init__(self, spec, interval, exe="nvidia-smi"):
        self.exe = exe
        self.interval = max(0.1, float(interval))
        out = subprocess.check_output(
            [exe, "--query-gpu=" + self.STATIC, "--format=csv,noheader,nounits"],
            stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        devices = []
        self.driver = None
        for line in _str(out).splitlines():
            f = [x.strip() for x in line.split(",")]
            if len(f) < 8 or not f[0].isdigit():
                continue
            pl = _num(f[4])
            sm = _num(f[5])
            mt = _num(f[3])
            devices.append({"i": int(f[0]), "uuid": f[1], "name": f[2],
                            "mt": int(mt) if mt is not None else None,
                            "pl": pl, "smax": int(sm) if sm is not None else None, "bus": f[6]})
            self.driver = f[7]
        if not devices:
            raise RuntimeError("nvidia-smi lists no GPU")
        chosen = select_gpus(devices, spec)
        if spec is not None and not chosen and spec.strip() not in ("", "-1", "none"):
            chosen = devices
        self.gpus = chosen
        self.latest = {}
        self.proc = None
        self.restart_at = 0.0
        self._lock = threading.Lock()
        self._first = threading.Event()
        if self.gpus:
            self._start()
            # The first sample is the GPUs', not a row of blanks: wait (bounded) for nvidia-smi's
            # first rows. It starts in ~0.1 s, seconds on a busy node; a hung one is not waited on.
            self._first.wait(self.FIRST_ROWS_S)

    def _start(self):
        cmd = [self.exe, "--query-gpu=" + self.DYNAMIC, "--format=csv,noheader,nounits",
               "-lms", str(int(self.interval * 1000))]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, bufsize=1,
                                     universal_newlines=True)
        t = threading.Thread(target=self._reader, args=(self.proc,), name="nvidia-smi-reader")
        t.daemon = True
        t.start()

    def _reader(self, proc):
        try:
            for line in proc.stdout:
                f = line.split(",")
                if len(f) < 6:
                    continue
                try:
                    idx = int(f[0])
                except ValueError:
                    continue
                v = [_num(x) for x in f[1:6]]
                row = [None if v[0] is None else int(v[0]), None if v[1] is None else int(v[1]),
                       v[2], None if v[3] is None else int(v[3]),
                       None if v[4] is None else int(v[4])]
                with self._lock:
                    self.latest[idx] = (time.monotonic(), row)
                    if all(g["i"] in self.latest for g in self.gpus):
                        self._first.set()
        except Exception:
            pass
        self._first.set()  # it ended: no first rows to wait for
        try:
            proc.wait(timeout=5)
        except Exception:
            pass

    def sample(self):
        now = time.monotonic()
        if self.proc is not None and self.proc.poll() is not None and now >= self.restart_at:
            self.restart_at = now + 60.0
            try:
                self._start()
            except Exception as e:
                _log("cannot restart nvidia-smi: %s" % e)
        stale = now - 3 * self.interval - 2.0
        out = []
        with self._lock:
            for g in self.gpus:
                got = self.latest.get(g["i"])
                out.append(list(got[1]) if got and got[0] >= stale else [None] * 5)
        return out

    def close(self):
        p = self.proc
        if p is not None and p.poll() is None:
            try:
                p.terminate()
                p.wait(timeout=2)
            except Exception:
                try:
                    p.kill()
                except Exception:
                    pass

    def child_pids(self):
        return [self.proc.pid] if self.proc is not None else []


def open_source(kind, spec, interval):
    kinds = ["nvml", "nvidia-smi", "none"] if kind == "auto" else [kind]
    for k in kinds:
        try:
            if k == "nvml":
                return NvmlSource(spec)
            if k == "nvidia-smi":
                return SmiSource(spec, interval)
            return NoSource()
        except Exception as e:
            if kind != "auto":
                _log("source %s failed (%s); sampling no GPU" % (k, e))
            elif k == "nvml" and not isinstance(e, ImportError) and not any(
                    x in type(e).__name__ for x in ("LibraryNotFound", "DriverNotLoaded")):
                _log("NVML failed (%s); trying nvidia-smi" % e)  # not on plain CPU nodes
    return NoSource()


# --------------------------------------------------------------------------- /proc accounting
def _read(path, size=4096):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def read_stat(pid, proc="/proc"):
    """(state, ppid, own ticks, children ticks, starttime ticks, rss pages, block I/O delay ticks
    (delayacct_blkio_ticks; 0 where the kernel keeps no delay accounting)) or None."""
    try:
        data = _read("%s/%d/stat" % (proc, pid))
    except OSError:
        return None
    return _parse_stat(data)


def _parse_stat(data):
    r = data.rfind(b")")
    if r < 0:
        return None
    f = data[r + 2:].split()
    try:
        return (f[0], int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]),
                int(f[19]), int(f[21]), int(f[39]) if len(f) > 39 else 0)
    except (IndexError, ValueError):
        return None


class ProcTree(object):
    """CPU (cores) and RSS (MiB) of the process tree under ``root``, from /proc.

    Per sample it reads /proc/PID/stat of the known members, and (where the kernel has it)
    /proc/PID/task/PID/children to find new ones; every ``rescan`` s (adaptive: a full scan of
    /proc costs ~5 us per process) it scans all of /proc to find children of other threads.
    CPU of members is counted as deltas of utime+stime; CPU of children that were never seen
    arrives through the parent's cutime+cstime once reaped; when a member that was counted is
    reaped, its total is subtracted from the parent's cutime jump (no double counting)."""

    def __init__(self, root, exclude=(), proc="/proc", boottime=None):
        self.root = int(root)
        self.proc = proc
        self.exclude = set(exclude)
        self.hz = float(os.sysconf("SC_CLK_TCK"))
        self.page_mib = os.sysconf("SC_PAGE_SIZE") / MIB
        self._boottime = boottime or _boottime
        st = read_stat(self.root, proc)
        self.root_start = st[4] if st else None
        self.members = {}  # pid -> [start, ppid, own, kids, base, blkio]
        self.top = None  # CPU cores of the busiest members at the last sample, largest first
        self.blkio = None  # block-I/O delay of the members, s per s, at the last sample
        self.credit = {}
        self.prev_boot = None
        self.prev_mono = None
        self.last_scan = None
        self.rescan = 10.0
        self.first = None
        self.children_file = os.path.exists("%s/%d/task/%d/children" % (proc, self.root, self.root))
        self.fds = {}  # pid -> open fd of /proc/PID/stat, re-read with pread (1 syscall, not 3)
        self.root_seen = None  # was the root alive at the last sample (None: not sampled)

    def _stat(self, pid):
        fd = self.fds.get(pid)
        if fd is None:
            try:
                fd = os.open("%s/%d/stat" % (self.proc, pid), os.O_RDONLY)
            except OSError:
                return None
            self.fds[pid] = fd
        try:
            data = os.pread(fd, 4096, 0)
        except OSError:
            data = b""
        if not data:  # the process is gone (an fd never follows a reused pid)
            self._close(pid)
            return None
        return _parse_stat(data)

    def _close(self, pid):
        fd = self.fds.pop(pid, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self):
        for pid in list(self.fds):
            self._close(pid)

    def _root_alive(self, st):
        return bool(st) and st[4] == self.root_start and st[0] not in (b"Z", b"X")

    def alive(self):
        """Is the watched process still there (not gone, not a zombie, not a reused pid)?
        True when none is watched (root 0)."""
        return self._root_alive(self._stat(self.root)) if self.root else True

    def _full_scan(self):
        kids = {}
        stats = {}
        t0 = time.process_time()
        try:
            names = os.listdir(self.proc)
        except OSError:
            names = []
        for name in names:
            if not name.isdigit():
                continue
            pid = int(name)
            st = read_stat(pid, self.proc)
            if st is None:
                continue
            stats[pid] = st
            kids.setdefault(st[1], []).append(pid)
        found = {}
        todo = [self.root] if self.root in stats else []
        while todo:
            p = todo.pop()
            if p in found or p in self.exclude:
                continue
            found[p] = stats[p]
            todo.extend(kids.get(p, ()))
        cost = time.process_time() - t0
        # spend at most ~25 us/s on scans, at least every 10 s, at most every 120 s
        self.rescan = min(120.0, max(10.0, cost / 25e-6))
        return found

    def _children(self, pid):
        try:
            return [int(x) for x in _read("%s/%d/task/%d/children" % (self.proc, pid, pid),
                                          65536).split()]
        except (OSError, ValueError):
            return []

    def sample(self, mono):
        """Returns (cores or None, rss MiB)."""
        if self.first is None:
            self.first = mono
        # Without /proc/PID/task/PID/children, new children show up only at full scans: scan
        # every 2 s during the first 20 s, when the job starts its processes (a few ms in all).
        rescan = 2.0 if not self.children_file and mono - self.first < 20 else self.rescan
        if self.last_scan is None or mono - self.last_scan >= rescan:
            self.last_scan = mono
            cur = self._full_scan()
        else:
            cur = self._walk([self.root])
        return self._account(cur, mono)

    def _walk(self, extra=()):
        """pid -> stat of the known members (and ``extra``) and, where the kernel lists them,
        of their children: the cheap per-sample path between full scans."""
        cur = {}
        todo = list(self.members)
        todo.extend(p for p in extra if p not in self.members)
        seen = set()
        while todo:
            p = todo.pop()
            if p in seen or p in self.exclude:
                continue
            seen.add(p)
            st = self._stat(p)
            if st is None:
                continue
            m = self.members.get(p)
            if m is not None and m[0] != st[4]:
                continue  # pid reused by something else
            cur[p] = st
            if self.children_file:
                todo.extend(self._children(p))
        return cur

    def _account(self, cur, mono):
        """CPU cores since the last sample and RSS MiB of the processes in ``cur`` (pid -> stat)."""
        boot = self._boottime()
        members = self.members
        # members that vanished (reaped): their parent's cutime jumps by their total
        for p, m in members.items():
            if p not in cur or cur[p][4] != m[0]:
                if m[1] in cur:
                    self.credit[m[1]] = self.credit.get(m[1], 0) + (m[2] + m[3] - m[4])
        ticks = 0
        rss = 0
        new = {}
        per = []  # ticks of each process since the last sample (its own and reaped children's)
        io = 0
        for p, st in cur.items():
            state, ppid, own, kids, start, pages = st[:6]
            blk = st[6] if len(st) > 6 else 0
            rss += pages
            m = members.get(p)
            if m is not None and m[0] == start:
                dk = kids - m[3]
                cr = self.credit.pop(p, 0)
                if cr:
                    take = min(cr, max(0, dk))
                    dk -= take
                    if cr - take > 0:
                        self.credit[p] = cr - take
                d = max(0, own - m[2]) + max(0, dk)
                io += max(0, blk - (m[5] if len(m) > 5 else blk))
                new[p] = [start, ppid, own, kids, m[4], blk]
            else:
                base = own + kids
                born = self.prev_boot is not None and start / self.hz >= self.prev_boot - 0.05
                if born:
                    base = 0  # born since the last sample: all of its CPU is new
                    io += blk
                d = own + kids - base
                new[p] = [start, ppid, own, kids, base, blk]
            ticks += d
            if d > 0:
                per.append(d)
        for p in list(self.credit):
            if p not in new:
                del self.credit[p]
        for p in list(self.fds):
            if p not in new:
                self._close(p)
        self.members = new
        self.root_seen = self._root_alive(cur.get(self.root)) if self.root else True
        cores = None
        self.top = self.blkio = None
        if self.prev_mono is not None and mono > self.prev_mono:
            dt = self.hz * (mono - self.prev_mono)
            cores = round(ticks / dt, 2)
            per.sort(reverse=True)
            self.top = [round(x / dt, 2) for x in per[:TOP_PROCS]]
            self.blkio = round(io / dt, 2)
        self.prev_boot = boot
        self.prev_mono = mono
        return cores, round(rss * self.page_mib, 1)


def _environ_has(pid, needles, proc="/proc"):
    """True/False: does /proc/PID/environ hold every one of ``needles`` (b"\\0K=V\\0")? None when it
    cannot be told now (empty: a zombie or a process in exec; it is asked again later)."""
    try:
        fd = os.open("%s/%d/environ" % (proc, pid), os.O_RDONLY)
    except OSError:
        return False  # gone, or another user's (not readable): not ours
    try:
        chunks = []
        size = 0
        while size < 4 << 20:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return False
    finally:
        os.close(fd)
    if not chunks:
        return None
    env = b"\0" + b"".join(chunks)
    if not env.endswith(b"\0"):
        env += b"\0"
    return all(n in env for n in needles)


# For the first minute of a job the node is scanned every 2 s whatever it costs: that is when the
# job starts its steps, whose tasks only a scan finds.
START_SECONDS = 60.0


class JobProcs(ProcTree):
    """CPU and RSS of every process of one Slurm job on THIS node, whoever started it.

    A process belongs to the job when its environment holds SLURM_JOB_ID=<job> and
    SLURMD_NODENAME=<node>, or when its parent belongs (so children that clear their
    environment still count). slurmstepd puts both variables into the batch script and into
    every task of every step, on every node, and children inherit them; so this finds the srun
    tasks of a DDP job (children of slurmstepd, not of the batch script) and works with any
    proctrack plugin, without root (a user may read the environment of their own processes).
    The node name tells apart two nodes of one job that share a kernel (the local test
    cluster; on a real cluster it is redundant and harmless).

    Cost: the members' /proc/PID/stat every sample (plus their children lists), and every
    ``rescan`` s (adaptive, 2..30 s; every 2 s in the job's first minute and about a second after a
    member starts a process; skipped when no process was created on the node since the last
    scan) a listing of /proc in which only pids not seen before are looked at (stat and
    environ, ~5 us each). ``root``: the pid whose end stops the sampler (0: none; then it runs
    until it is signalled, as Slurm does to every step when the job ends)."""

    def __init__(self, job, node=None, root=0, exclude=(), proc="/proc", boottime=None):
        ProcTree.__init__(self, root, exclude=exclude, proc=proc, boottime=boottime)
        self.job = str(job)
        self.node = node
        self.needles = [b"\0SLURM_JOB_ID=" + self.job.encode() + b"\0"]
        if node:
            self.needles.append(b"\0SLURMD_NODENAME=" + node.encode() + b"\0")
        me = os.getpid()
        self.children_file = os.path.exists("%s/%d/task/%d/children" % (proc, me, me))
        self.known = {}  # pid -> (starttime, belongs) for every pid looked at
        self.rescan = 2.0
        self.last_pid = None
        self.soon = None  # when to scan early: a member started a process (maybe a new step)

    def _last_pid(self):
        try:
            return _read("%s/loadavg" % self.proc, 128).split()[-1]
        except Exception:
            return None

    def sample(self, mono):
        if self.first is None:
            self.first = mono
        due = self.rescan
        if mono - self.first < START_SECONDS or (self.soon is not None and mono >= self.soon):
            due = 2.0  # the job is starting its steps, or one just began: find their tasks quickly
        if self.last_scan is None or mono - self.last_scan >= due:
            last = self._last_pid()
            if last is None or last != self.last_pid or self.last_scan is None:
                self.last_pid = last
                self.last_scan = mono
                self.soon = None
                return self._account(self._full_scan(), mono)
            self.last_scan = mono  # no process was created on the node since the last scan
        cur = self._walk()
        for p, st in cur.items():
            if p not in self.known:
                self.known[p] = (st[4], True)  # a new child of a member
                # Probably an srun: its step's tasks are children of slurmstepd, not of this
                # tree, and only a scan finds them. Look a second later, when they have started.
                self.soon = mono + 1.0
        return self._account(cur, mono)

    def _account(self, cur, mono):
        out = ProcTree._account(self, cur, mono)
        if self.root and self.root not in cur:
            self.root_seen = self.alive()  # the watched pid need not be a member
        return out

    def _full_scan(self):
        t0 = time.process_time()
        try:
            names = os.listdir(self.proc)
        except OSError:
            names = []
        pids = sorted(int(n) for n in names if n.isdigit())  # parents mostly before children
        known = {}
        cur = {}
        excluded = set(self.exclude)
        for pid in pids:
            if pid in excluded:
                continue
            k = self.known.get(pid)
            if k is not None and not k[1]:
                known[pid] = k  # not ours (a reused pid within one scan interval is not re-read)
                continue
            st = self._stat(pid) if k is not None else read_stat(pid, self.proc)
            if st is None:
                continue
            if k is not None and k[0] == st[4]:
                known[pid] = k
                cur[pid] = st
                continue
            if st[1] in excluded:
                excluded.add(pid)  # a helper's child
                continue
            if st[1] in cur:
                belongs = True
            else:
                belongs = _environ_has(pid, self.needles, self.proc)
                if belongs is None:
                    continue  # ask again at the next scan
            known[pid] = (st[4], belongs)
            if belongs:
                cur[pid] = st
        self.known = known
        cost = time.process_time() - t0
        # spend at most ~25 us/s on scans: every 2 s on a quiet node, up to every 30 s on a busy one
        self.rescan = min(30.0, max(2.0, cost / 25e-6))
        return cur


class IoPressure(object):
    """Share of time (%) in which some task waited on I/O, from Linux's pressure stall information:
    the job's cgroup (io.pressure of the cgroup v2 directory named job_N above this process, else
    this process's own), else the whole node's /proc/pressure/io. One pread per sample on a file
    kept open. ``path`` is None where none is readable (kernels before 4.20, PSI off)."""

    def __init__(self, proc="/proc", cgroot="/sys/fs/cgroup"):
        self.path = None
        self.fd = None
        self.prev = None
        for path in self._candidates(proc, cgroot):
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            if self._total(fd) is None:
                os.close(fd)
                continue
            self.path, self.fd = path, fd
            break

    @staticmethod
    def _candidates(proc, cgroot):
        out = []
        try:
            for line in _read("%s/self/cgroup" % proc, 8192).decode("utf-8", "replace").splitlines():
                if line.startswith("0::"):
                    rel = line[3:].strip()
                    parts = rel.split("/")
                    for k, part in enumerate(parts):
                        if part.startswith("job_"):
                            out.append(cgroot + "/".join(parts[:k + 1]) + "/io.pressure")
                            break
                    out.append(cgroot + rel.rstrip("/") + "/io.pressure")
        except Exception:
            pass
        out.append("%s/pressure/io" % proc)
        return out

    @staticmethod
    def _total(fd):
        try:
            line = os.pread(fd, 512, 0).split(b"\n", 1)[0]  # "some avg10=.. total=US"
            if line.startswith(b"some"):
                return int(line.rsplit(b"total=", 1)[1])
        except Exception:
            pass
        return None

    def sample(self, mono):
        """% of the time since the last call; None on the first call or when unreadable."""
        if self.fd is None:
            return None
        total = self._total(self.fd)
        prev, self.prev = self.prev, (mono, total)
        if total is None or prev is None or prev[1] is None or mono <= prev[0]:
            return None
        return round(min(100.0, max(0.0, (total - prev[1]) / 1e4 / (mono - prev[0]))), 1)

    def close(self):
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None


def _delayacct_on(proc="/proc"):
    """Does the kernel keep per-task delay accounting (delayacct_blkio_ticks is real, not 0)?"""
    try:
        return _read("%s/sys/kernel/task_delayacct" % proc, 16).strip() == b"1"
    except Exception:
        return False


def _boottime():
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):
        try:
            return float(_read("/proc/uptime", 64).split()[0])
        except Exception:
            return time.monotonic()


# --------------------------------------------------------------------------- aggregation
class Bucket(object):
    """Folds samples (full or coarse) into one coarse sample. Shared with trace.py."""

    def __init__(self, start, length, ngpu):
        self.start = start
        self.length = length
        self.n = 0
        self.g = [[0.0, 0, None, 0.0, 0, None, 0.0, 0, None, None] for _ in range(ngpu)]
        # per GPU: u_sum, u_n, m_max, p_sum, p_n, T_max, s_sum, s_n, u_max, spare
        self.c_sum = 0.0
        self.c_n = 0
        self.c_max = None
        self.r_max = None
        self.has_c = False
        self.has_r = False
        self.more = {}  # "w", "io": [sum, n]; "pc": [[sum, n] per rank]

    def add(self, s):
        w = s.get("n", 1) or 1
        self.n += w
        g = s.get("g")
        if g:
            for acc, row in zip(self.g, g):
                u = row[0]
                if u is not None:
                    acc[0] += u * w
                    acc[1] += w
                    um = row[5] if len(row) > 5 and row[5] is not None else u
                    acc[8] = um if acc[8] is None or um > acc[8] else acc[8]
                m = row[1]
                if m is not None and (acc[2] is None or m > acc[2]):
                    acc[2] = m
                if row[2] is not None:
                    acc[3] += row[2] * w
                    acc[4] += w
                T = row[3]
                if T is not None and (acc[5] is None or T > acc[5]):
                    acc[5] = T
                if row[4] is not None:
                    acc[6] += row[4] * w
                    acc[7] += w
        if "c" in s:
            self.has_c = True
            c = s["c"]
            if c is not None:
                self.c_sum += c * w
                self.c_n += w
                cx = s.get("cx", c)
                if cx is not None and (self.c_max is None or cx > self.c_max):
                    self.c_max = cx
        if "r" in s:
            self.has_r = True
            r = s["r"]
            if r is not None and (self.r_max is None or r > self.r_max):
                self.r_max = r
        for key in ("w", "io"):
            v = s.get(key)
            if v is not None:
                acc = self.more.setdefault(key, [0.0, 0])
                acc[0] += v * w
                acc[1] += w
        pc = s.get("pc")
        if pc is not None:
            ranks = self.more.setdefault("pc", [])
            for k in range(TOP_PROCS):  # a missing rank is a process at 0
                if len(ranks) <= k:
                    ranks.append([0.0, 0])
                ranks[k][0] += (pc[k] if k < len(pc) else 0.0) * w
                ranks[k][1] += w

    def result(self):
        out = {"t": self.start, "d": self.length, "n": self.n}
        if self.g:
            rows = []
            for a in self.g:
                rows.append([round(a[0] / a[1], 1) if a[1] else None, a[2],
                             round(a[3] / a[4], 1) if a[4] else None, a[5],
                             int(round(a[6] / a[7])) if a[7] else None, a[8]])
            out["g"] = rows
        if self.has_c:
            out["c"] = round(self.c_sum / self.c_n, 2) if self.c_n else None
            out["cx"] = self.c_max
        if self.has_r:
            out["r"] = self.r_max
        for key in ("w", "io"):
            if key in self.more:
                acc = self.more[key]
                out[key] = round(acc[0] / acc[1], 2 if key == "w" else 1)
        if "pc" in self.more:
            pc = [round(a / n, 2) for a, n in self.more["pc"]]
            while pc and pc[-1] == 0:
                pc.pop()
            out["pc"] = pc
        return out


# --------------------------------------------------------------------------- the file
def _free_name(path):
    n = 1
    while os.path.exists("%s.%d" % (path, n)):
        n += 1
    return "%s.%d" % (path, n)


class Store(object):
    """Writes the samples file and keeps it bounded (see BOUND in the module docstring)."""

    def __init__(self, path, header, keep=3600.0, bucket=60.0, ngpu=0):
        self.path = path
        self.header = dict(header)
        self.header.setdefault("gen", 0)
        self.header.setdefault("tc", None)
        self.keep = float(keep)
        self.bucket = float(bucket)
        self.ngpu = ngpu
        self.full = deque()  # (t, line)
        self.pending = deque()  # (bucket start, line) finished buckets still covered by full
        self.coarse = []  # lines
        self.acc = None
        self.next_compact = None
        self.f = None
        self.write_errors = 0
        d = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(d):
            os.makedirs(d)
        if os.path.exists(path) and os.path.getsize(path) > 0:
            os.replace(path, _free_name(path))  # a requeued job: keep the old file beside
        self.f = open(path, "w", buffering=1)
        self.f.write(_DUMPS(self.header) + "\n")

    def _emit(self, line):
        try:
            if self.f is None:
                self.f = open(self.path, "a", buffering=1)
            self.f.write(line)
        except Exception as e:
            self.write_errors += 1
            if self.write_errors in (1, 10, 100) or self.write_errors % 1000 == 0:
                _log("write failed (%d times): %s" % (self.write_errors, e))
            try:
                if self.f is not None:
                    self.f.close()
            except Exception:
                pass
            self.f = None

    def add(self, sample):
        t = sample["t"]
        line = _DUMPS(sample) + "\n"
        self._emit(line)
        self.full.append((t, line))
        b = math.floor(t / self.bucket) * self.bucket
        if self.acc is None or self.acc.start != b:
            if self.acc is not None and self.acc.n:
                self.pending.append((self.acc.start, _DUMPS(self.acc.result()) + "\n"))
            self.acc = Bucket(int(b) if b == int(b) else b, int(self.bucket)
                              if self.bucket == int(self.bucket) else self.bucket, self.ngpu)
        self.acc.add(sample)
        if self.next_compact is None:
            self.next_compact = t + 2 * self.keep
        elif t >= self.next_compact:
            self.compact(t)

    def compact(self, now):
        cutoff = math.floor((now - self.keep) / self.bucket) * self.bucket
        self.next_compact = now + self.keep
        if not self.full or self.full[0][0] >= cutoff:
            return
        while self.pending and self.pending[0][0] < cutoff:
            self.coarse.append(self.pending.popleft()[1])
        while self.full and self.full[0][0] < cutoff:
            self.full.popleft()
        self.header["gen"] += 1
        self.header["tc"] = int(cutoff) if cutoff == int(cutoff) else cutoff
        tmp = "%s.tmp%d" % (self.path, os.getpid())
        try:
            with open(tmp, "w") as g:
                g.write(_DUMPS(self.header) + "\n")
                g.write("".join(self.coarse))
                g.write("".join(line for _, line in self.full))
            os.replace(tmp, self.path)
        except Exception as e:
            _log("compaction failed: %s" % e)
            try:
                os.unlink(tmp)
            except Exception:
                pass
            return
        try:
            if self.f is not None:
                self.f.close()
        except Exception:
            pass
        self.f = None
        try:
            self.f = open(self.path, "a", buffering=1)
        except Exception as e:
            _log("reopen failed: %s" % e)

    def close(self, end=None):
        if end is not None:
            self._emit(_DUMPS(end) + "\n")
        try:
            if self.f is not None:
                self.f.close()
        except Exception:
            pass
        self.f = None


# --------------------------------------------------------------------------- the sampler
class _Stop(Exception):
    pass


def _self_cpu(child_pids=()):
    """CPU seconds of this process (ns resolution), its reaped children and live helpers."""
    t = os.times()
    cpu = time.process_time() + t[2] + t[3]
    for p in child_pids:  # live helpers (nvidia-smi) are not in os.times() until reaped
        st = read_stat(p)
        if st:
            cpu += st[2] / float(os.sysconf("SC_CLK_TCK"))
    return cpu


def _node_mem_mib():
    try:
        for line in _read("/proc/meminfo", 8192).split(b"\n"):
            if line.startswith(b"MemTotal:"):
                return int(int(line.split()[1]) // 1024)
    except Exception:
        pass
    return None


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except Exception:
        return os.cpu_count()


class Sampler(object):
    def __init__(self, out, interval=1.0, pid=0, source=None, keep=3600.0, bucket=60.0,
                 max_seconds=None, clock=time.time, mono=time.monotonic, sleep=time.sleep,
                 tree=None, job=None, node=None, gsel=None, io=None, delayacct=None, task=None):
        self.interval = float(interval)
        self.pid = int(pid or 0)
        self.source = source if source is not None else NoSource()
        self.clock = clock
        self.mono = mono
        self.sleep = sleep
        self.max_seconds = max_seconds
        self.stop = None
        self.sleeping = False
        self.n = 0
        self.errors = 0
        excl = [os.getpid()]
        if hasattr(self.source, "child_pids"):
            excl += self.source.child_pids()
        if tree is None and job:
            tree = JobProcs(job, node, root=self.pid, exclude=excl)
        elif tree is None and self.pid:
            tree = ProcTree(self.pid, exclude=excl)
        self.tree = tree
        self.io = IoPressure() if io is None else io
        self.delayacct = _delayacct_on() if delayacct is None else delayacct
        self.helpers = []  # pids of processes this sampler started (srun of --other-nodes)
        self.on_stop = None  # called once when the sampler stops
        header = {
            "k": "h", "v": FORMAT_VERSION, "gen": 0, "host": socket.gethostname(),
            "pid": self.pid, "spid": os.getpid(), "iv": self.interval, "src": self.source.name,
            "t0": round(clock(), 3), "keep": keep, "bucket": bucket, "tc": None,
            "cores": _cores(), "memt": _node_mem_mib(),
            "driver": getattr(self.source, "driver", None), "cols": COLS,
            "gpus": self.source.gpus, "job": job, "node": node, "gsel": gsel,
            "task": task, "iosrc": getattr(self.io, "path", None),
        }
        self.store = Store(out, header, keep=keep, bucket=bucket, ngpu=len(self.source.gpus))

    def _error(self, what, e):
        self.errors += 1
        if self.errors in (1, 10, 100) or self.errors % 1000 == 0:
            _log("%s failed (%d errors so far): %r" % (what, self.errors, e))

    def take(self):
        """One sample; never raises (a part that fails is written as nulls)."""
        t = self.clock()
        s = {"t": round(t, 1)}
        if self.source.gpus:
            try:
                s["g"] = self.source.sample()
            except Exception as e:
                s["g"] = [[None] * 5 for _ in self.source.gpus]
                self._error("GPU sample", e)
        if self.tree is not None:
            try:
                s["c"], s["r"] = self.tree.sample(self.mono())
                top = getattr(self.tree, "top", None)
                if top is not None:
                    s["pc"] = top
                    if self.delayacct and self.tree.blkio is not None:
                        s["w"] = self.tree.blkio
            except Exception as e:
                s["c"] = s["r"] = None
                self._error("process sample", e)
        try:
            io = self.io.sample(self.mono()) if self.io is not None else None
            if io is not None:
                s["io"] = io
        except Exception as e:
            self._error("I/O pressure sample", e)
        return s

    def _on_signal(self, signum, frame):
        self.stop = "signal"
        if self.sleeping:
            raise _Stop()

    def install_signals(self, usr1=False):
        """``usr1``: a sampler on another node of the job also stops on SIGUSR1, which is how the
        batch host's sampler stops it (srun passes SIGUSR1 on to its tasks; on SIGTERM or SIGHUP it
        kills the step at once, which lost the sampler's last line)."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP) + ((signal.SIGUSR1,) if usr1 else ()):
            try:
                signal.signal(sig, self._on_signal)
            except Exception:
                pass

    def run(self):
        why = "error"
        cpu0 = None
        start = self.mono()
        nxt = start
        try:
            while self.stop is None:
                try:
                    if self.tree is not None:
                        self.tree.root_seen = None
                    s = self.take()
                    if self.tree is not None:  # gone: stop without a sample of the remains
                        alive = self.tree.root_seen
                        if alive is None:
                            alive = self.tree.alive()
                        if not alive:
                            self.stop = "pid"
                            break
                    self.store.add(s)
                    self.n += 1
                    if cpu0 is None:
                        cpu0 = _self_cpu()
                except _Stop:
                    raise
                except Exception as e:
                    self._error("store", e)
                if self.stop is not None:
                    break
                now = self.mono()
                if self.max_seconds is not None and now - start >= self.max_seconds:
                    self.stop = "limit"
                    break
                nxt += self.interval
                delay = nxt - now
                if delay < 0:  # late (suspended, overloaded): skip the missed slots
                    nxt = now + self.interval
                    delay = self.interval
                self.sleeping = True
                try:
                    if self.stop is None:
                        self.sleep(delay)
                finally:
                    self.sleeping = False
            why = self.stop or "error"
        except _Stop:
            why = self.stop or "signal"
        except BaseException as e:  # noqa: B902 - never leave a traceback in the job's log
            _log("stopped by %r" % (e,))
            why = "error"
        finally:
            if self.on_stop is not None:
                try:
                    self.on_stop()
                except Exception as e:
                    _log("stopping helpers failed: %r" % (e,))
            kids = self.source.child_pids() if hasattr(self.source, "child_pids") else []
            kids = kids + self.helpers
            end = {"k": "e", "t": round(self.clock(), 1), "why": why, "n": self.n,
                   "cpu": round(_self_cpu(kids), 6),
                   "cpu0": round(cpu0, 6) if cpu0 is not None else None}
            try:
                self.source.close()
            except Exception:
                pass
            if self.tree is not None and hasattr(self.tree, "close"):
                self.tree.close()
            if self.io is not None and hasattr(self.io, "close"):
                self.io.close()
            self.store.close(end)
        return why


# --------------------------------------------------------------------------- other nodes
# srun reads these from the batch script's environment; they would make the sampler's step ask
# for the job's GPUs or tasks again (a --gpus=4 job's step on one node fails with "Invalid generic
# resource (gres) specification"). The step asks for each node's own GPU count instead.
_STEP_ENV_DROP = ("SLURM_GPUS", "SLURM_GPUS_PER_NODE", "SLURM_GPUS_PER_TASK", "SLURM_GPUS_PER_SOCKET",
                  "SLURM_NTASKS_PER_GPU", "SLURM_CPUS_PER_GPU", "SLURM_MEM_PER_GPU", "SLURM_GRES",
                  "SLURM_TRES_PER_TASK", "SLURM_NTASKS", "SLURM_NPROCS", "SLURM_NTASKS_PER_NODE",
                  "SLURM_DISTRIBUTION", "SLURM_EXCLUSIVE", "SLURM_EXACT", "SLURM_CPUS_PER_TASK",
                  "SLURM_MEM_PER_CPU", "SLURM_MEM_PER_NODE")
_GPU_GRES = re.compile(r"(?:^|,)gpu(?::[^:,(]+)?:(\d+)")


def job_layout(text):
    """(batch host, [(node expression, GPUs of the job on each of those nodes)]) from
    ``scontrol show job -d ID`` ("BatchHost=gpu1", "  Nodes=gpu[1-2] CPU_IDs=0-1 Mem=1000
    GRES=gpu:h100:2(IDX:0-1)")."""
    m = re.search(r"\bBatchHost=(\S+)", text)
    batch = m.group(1) if m else None
    groups = []
    for m in re.finditer(r"^\s*Nodes=(\S+)(.*)$", text, re.M):
        g = re.search(r"\bGRES=(\S*)", m.group(2))
        groups.append((m.group(1), sum(int(n) for n in _GPU_GRES.findall(g.group(1))) if g else 0))
    if not groups:
        m = re.search(r"(?:^|\s)NodeList=(\S+)", text)
        if m:
            groups.append((m.group(1), 0))
    return batch, groups


class OtherNodes(object):
    """Starts a sampler on every node of a multi-node job but this one (the batch host, which
    has its own), with srun: one step per distinct GPU count (usually one), ``--overlap`` so
    that it takes nothing from the job's own steps and they never wait for it, ``--gres=gpu:N``
    so that the step (and, where devices are constrained by cgroup, the sampler) sees that
    node's GPUs of the job. It never harms the job: all runs in a daemon thread, every failure
    is logged (to sampler.log) and ignored, and ``stop()`` ends the steps: SIGUSR1 to srun, which
    passes it on to the samplers (started with --helper: they stop on it and write their last line),
    then SIGTERM to an srun still running after ``wait`` seconds (srun then kills its step)."""

    def __init__(self, job, command, sampler=None, exclude=None):
        self.job = str(job)
        self.command = list(command)
        self.sampler = sampler
        self.exclude = exclude  # a set the JobProcs of this sampler skips (the srun clients)
        self.procs = []
        self.stopped = False
        self.lock = threading.Lock()
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._start, name="tritonml-other-nodes")
        self.thread.daemon = True
        self.thread.start()

    def _run(self, *args):
        return _str(subprocess.check_output(("scontrol",) + args, stdin=subprocess.DEVNULL,
                                            stderr=subprocess.STDOUT, timeout=60))

    def steps(self, layout_text, hostnames=None):
        """[(nodes, GPUs on each)] of the other nodes, grouped by GPU count."""
        hostnames = hostnames or (lambda expr: self._run("show", "hostnames", expr).split())
        batch, groups = job_layout(layout_text)
        by_count = {}
        for expr, gpus in groups:
            for node in hostnames(expr):
                if node != batch:
                    by_count.setdefault(gpus, []).append(node)
        return sorted(((nodes, gpus) for gpus, nodes in by_count.items()), key=lambda x: x[0])

    def srun_command(self, nodes, gpus):
        return ["srun", "--overlap", "--nodelist=" + ",".join(nodes), "--nodes=%d" % len(nodes),
                "--ntasks=%d" % len(nodes), "--ntasks-per-node=1", "--cpus-per-task=1",
                "--gres=gpu:%d" % gpus if gpus else "--gres=none",
                # --mem=0: the job's memory, shared (--overlap). A step that asks for a size is
                # refused ("Memory required by task is not available") once a job step has it all.
                "--mem=0", "--kill-on-bad-exit=0", "--mpi=none", "--input=none", "--quiet",
                "--job-name=tritonml-sampler"] + self.command

    def _start(self):
        try:
            steps = self.steps(self._run("show", "job", "-d", self.job))
        except Exception as e:
            _log("cannot start samplers on the other nodes (scontrol: %s)" % (e,))
            return
        env = {k: v for k, v in os.environ.items() if k not in _STEP_ENV_DROP}
        for nodes, gpus in steps:
            with self.lock:
                if self.stopped:
                    return
                try:
                    p = subprocess.Popen(self.srun_command(nodes, gpus), env=env,
                                         stdin=subprocess.DEVNULL)
                except Exception as e:
                    _log("cannot start samplers on %s: %s" % (",".join(nodes), e))
                    continue
                self.procs.append((nodes, p))
                if self.exclude is not None:
                    self.exclude.add(p.pid)
                if self.sampler is not None:
                    self.sampler.helpers.append(p.pid)
            _log("sampling %s too (srun step, %d GPU%s each)" % (
                ",".join(nodes), gpus, "" if gpus == 1 else "s"))

    def stop(self, wait=5.0):
        with self.lock:
            self.stopped = True
            procs = list(self.procs)
        for nodes, p in procs:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGUSR1)
                except Exception:
                    pass
            elif p.returncode:
                _log("the sampler step on %s had ended early (exit %s)" % (",".join(nodes), p.returncode))
        deadline = time.monotonic() + wait
        for _nodes, p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except Exception:
                try:
                    p.terminate()
                    p.wait(timeout=2.0)
                except Exception:
                    try:
                        p.kill()
                    except Exception:
                        pass


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def _lower_priority():
    try:
        os.nice(19)
    except Exception:
        pass


def parse_args(argv):
    p = argparse.ArgumentParser(description="tritonml-lab in-job GPU/CPU sampler")
    p.add_argument("--out", required=True, help="samples file; {node} = short host name")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    p.add_argument("--pid", type=int, default=0, help="job process to account and follow; 0: none")
    p.add_argument("--gpus", default=None, help="GPU positions/UUIDs (default CUDA_VISIBLE_DEVICES)")
    p.add_argument("--source", default="auto", choices=["auto", "nvml", "nvidia-smi", "none"])
    p.add_argument("--keep", type=float, default=3600.0, help="seconds kept at full resolution")
    p.add_argument("--bucket", type=float, default=60.0, help="coarse bucket seconds")
    p.add_argument("--max-seconds", type=float, default=None, help="stop after this long")
    p.add_argument("--job", default=None,
                   help="Slurm job id: account every process of this job on this node (those with "
                   "SLURM_JOB_ID and SLURMD_NODENAME in their environment, and their children)")
    p.add_argument("--helper", action="store_true",
                   help="started by --other-nodes on another node of the job: also stop on SIGUSR1")
    p.add_argument("--other-nodes", action="store_true",
                   help="with --job, on the batch host of a multi-node job: also start a sampler on "
                   "each other node of the job (srun --overlap), writing --out with its node name")
    return p.parse_args(argv)


def out_path(out, node, task=None):
    """--out with {node} and {task} filled in. The tasks of an array job share its directory and
    may share a node: each gets its own file. Without {task} in --out, a task's name gets
    ".task<N>" before its extension (samples.gpu1.jsonl -> samples.gpu1.task3.jsonl)."""
    if task is not None and "{task}" not in out:
        base, ext = os.path.splitext(out)
        out = "%s%s%s%s" % (base, TASK_INFIX, task, ext)
    if task is None:
        out = out.replace(".{task}", "")
    return out.replace("{node}", node).replace("{task}", task or "")


def node_name():
    """The node as Slurm names it (the local test cluster runs several on one host), else the
    short host name."""
    return os.environ.get("SLURMD_NODENAME") or socket.gethostname().split(".")[0]


def main(argv=None):
    try:
        a = parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    _lower_priority()
    node = node_name()
    task = os.environ.get("SLURM_ARRAY_TASK_ID") or None
    out = out_path(a.out, node, task)
    if a.interval <= 0:
        a.interval = 1.0
    try:
        source = open_source(a.source, gpu_spec(a.gpus), a.interval)
    except Exception as e:
        _log("no GPU source: %s" % e)
        source = NoSource()
    try:
        s = Sampler(out, interval=a.interval, pid=a.pid, source=source, keep=a.keep,
                    bucket=a.bucket, max_seconds=a.max_seconds, job=a.job,
                    node=node if a.job else None, gsel=gpu_spec(a.gpus), task=task)
    except Exception as e:
        _log("cannot start: %r" % (e,))
        source.close()
        return 1
    s.install_signals(usr1=a.helper)
    if a.other_nodes and a.job and _int(os.environ.get("SLURM_JOB_NUM_NODES")) > 1:
        command = [sys.executable, os.path.abspath(__file__), "--out", a.out, "--interval",
                   "%g" % a.interval, "--source", a.source, "--keep", "%g" % a.keep,
                   "--bucket", "%g" % a.bucket, "--job", a.job, "--helper"]
        others = OtherNodes(a.job, command, sampler=s,
                            exclude=getattr(s.tree, "exclude", None))
        s.on_stop = others.stop
        others.start()
    s.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
