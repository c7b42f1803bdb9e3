#!/usr/bin/env bash
# Record real GPU traces of common workloads with the in-job sampler at its defaults beside each,
# nvidia-smi alongside as the truth, and each workload's own throughput (issue 25). The one command
# run on the lent GPU machine (one H200), from the repository root:
#
#     bash dev/gpu-traces.sh        # writes into $OUT (default ./gpu-traces-out)
#
# Each workload of dev/gpu_workloads.py (starved fed idle small cpu eval oom) runs pinned to 4 CPUs
# (taskset -c 0-3, as a --cpus-per-task=4 job), with the sampler on the same CPUs following its pid
# (python injob/sampler.py --out ... --pid PID: interval, source and the rest at their defaults), and
# `nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used -lms 1000` beside it.
# Out: gpu-traces.tar.gz (h200-<w>.jsonl, <w>.smi.csv, <w>.meta.json per workload,
# provenance.json, nvidia-smi.txt) and run.log. GPU_TRACE_SECONDS (default 40) sets each workload's
# length; WORKLOADS the list. Without a GPU it is a dry run (the models shrink, no nvidia-smi).
set -u
OUT=${OUT:-$PWD/gpu-traces-out}
W=${TRACE_DIR:-$OUT/traces}
mkdir -p "$W"
PY=${PY:-python3}
SECONDS_EACH=${GPU_TRACE_SECONDS:-40}
WORKLOADS=${WORKLOADS:-starved fed idle small cpu eval oom}
CPUS=${CPUS:-0-3}
PREFIX=${PREFIX:-h200}
export PYTHONUNBUFFERED=1
exec > >(tee "$OUT/run.log") 2>&1

echo "== $(date -u +%FT%TZ) $(hostname) $($PY --version 2>&1) cpus=$(nproc)"
nvidia-smi 2>&1 | tee "$W/nvidia-smi.txt" || echo "(no nvidia-smi)"
HAVE_SMI=0; command -v nvidia-smi >/dev/null && HAVE_SMI=1
$PY -c "import torch, sys; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
$PY -c "import pynvml; print('pynvml', pynvml.__file__)" || echo "(no pynvml)"
cat /proc/sys/kernel/task_delayacct 2>/dev/null | sed 's/^/task_delayacct=/'
head -1 /proc/pressure/io 2>/dev/null | sed 's/^/pressure io: /' || echo "(no /proc/pressure/io)"

for w in $WORKLOADS; do
  echo "== $w $(date -u +%T)"
  SMI=
  if [ $HAVE_SMI = 1 ]; then
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits \
      -lms 1000 > "$W/$w.smi.csv" 2>/dev/null &
    SMI=$!
  fi
  taskset -c "$CPUS" timeout $(( ${SECONDS_EACH%.*} * 3 + 60 )) $PY dev/gpu_workloads.py "$w" \
    --seconds "$SECONDS_EACH" --meta "$W/$w.meta.json" &
  LOAD=$!
  taskset -c "$CPUS" timeout $(( ${SECONDS_EACH%.*} * 3 + 90 )) $PY tritonml_lab/injob/sampler.py \
    --out "$W/$PREFIX-$w.jsonl" --pid $LOAD &
  S=$!
  wait $LOAD; echo "$w rc=$?"
  wait $S; echo "sampler rc=$?"
  [ -n "$SMI" ] && { kill $SMI; wait $SMI 2>/dev/null; }
  sleep 2  # the card settles between workloads
  tar -C "$W" -czf "$OUT/gpu-traces.tar.gz" .  # what is done so far, should a later one hang
done

$PY - "$W" "$PREFIX" "$SECONDS_EACH" <<'PYEOF'
import csv, datetime, json, os, subprocess, sys, time
W, prefix, secs = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, ".")
from tritonml_lab.metrics.trace import load

def smi_rows(path):
    rows = []
    if not os.path.exists(path):
        return rows
    for r in csv.reader(open(path)):
        try:
            t = datetime.datetime.strptime(r[0].strip(), "%Y/%m/%d %H:%M:%S.%f").timestamp()
            rows.append((t, float(r[1]), float(r[2])))
        except Exception:
            pass
    return rows

def mean(xs):
    return round(sum(xs) / len(xs), 1) if xs else None

out = {"recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "command": "bash dev/gpu-traces.sh (GPU_TRACE_SECONDS=%s)" % secs, "workloads": {}}
try:
    q = subprocess.check_output(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                                 "--format=csv,noheader"], text=True).strip()
    out["gpu"] = q
except Exception:
    out["gpu"] = None
for f in sorted(os.listdir(W)):
    if not f.endswith(".meta.json"):
        continue
    w = f[: -len(".meta.json")]
    meta = json.load(open(os.path.join(W, f)))
    out.setdefault("torch", meta.get("torch"))
    out.setdefault("torchvision", meta.get("torchvision"))
    h, samples, end = load(os.path.join(W, "%s-%s.jsonl" % (prefix, w)))
    t0, t1 = meta["t0"], meta["t1"]
    inside = [s for s in samples if t0 <= s["t"] <= t1]
    su = [s["g"][0][0] for s in inside if s.get("g") and s["g"][0][0] is not None]
    sm = [s["g"][0][1] for s in inside if s.get("g") and s["g"][0][1] is not None]
    smi = [r for r in smi_rows(os.path.join(W, w + ".smi.csv")) if t0 <= r[0] <= t1]
    cs = [s["c"] for s in inside if s.get("c") is not None]
    busy = [sum(1 for x in s["pc"] if x >= 0.8) for s in inside if s.get("pc") is not None]
    io = [s["io"] for s in inside if s.get("io") is not None]
    out["workloads"][w] = {
        "throughput": meta.get("throughput"), "unit": meta.get("unit"), "error": meta.get("error"),
        "seconds": round(t1 - t0, 1), "samples": len(inside), "sampler_end": (end or {}).get("why"),
        "sampler_util_mean": mean(su), "nvidia_smi_util_mean": mean([r[1] for r in smi]),
        "sampler_mem_max_mib": max(sm) if sm else None, "nvidia_smi_mem_max_mib": max([r[2] for r in smi]) if smi else None,
        "cpu_cores_mean": mean(cs), "procs_near_100pct_mean": mean(busy), "io_pressure_mean": mean(io),
        "sampler_cpu_ms_per_sample": round(((end or {}).get("cpu", 0) - ((end or {}).get("cpu0") or 0)) * 1000 / max(1, len(samples) - 1), 2) if end else None,
        "max_memory_allocated_mib": meta.get("max_memory_allocated_mib"), "phases": meta.get("phases"),
    }
json.dump(out, open(os.path.join(W, "provenance.json"), "w"), indent=1)
for w, d in out["workloads"].items():
    print("%-8s %s %s | util sampler %s smi %s | mem %s/%s MiB | cpu %s, near-100%% procs %s, io %s | %s" % (
        w, d["throughput"], d["unit"], d["sampler_util_mean"], d["nvidia_smi_util_mean"], d["sampler_mem_max_mib"],
        d["nvidia_smi_mem_max_mib"], d["cpu_cores_mean"], d["procs_near_100pct_mean"], d["io_pressure_mean"], d["error"]))
PYEOF
ls -la "$W"
tar -C "$W" -czf "$OUT/gpu-traces.tar.gz" .
echo "== done $(date -u +%FT%TZ)"
