#!/usr/bin/env bash
# Record a real GPU trace with the in-job sampler, and measure what sampling costs.
# This is the one command that was run on the lent GPU machine (one H100/H200), from the repo root:
#
#     bash dev/gpu-trace.sh          # writes into $OUT (default ./gpu-trace-out)
#
# It prints nvidia-smi, runs benchmarks/sampler_bench.py --quick (NVML us per sample, nvidia-smi
# ms per call, sampler CPU), then runs a PyTorch matmul load with phases -- idle 15 s, full 30 s,
# duty-cycled ~50 % 30 s (plus a CPU-burning child process, a data-loader stand-in), idle 15 s --
# while two samplers watch it at 1 Hz: one on NVML, one on the nvidia-smi fallback.
# Files: nvidia-smi.txt, run.log, measurements.json, trace.phases.json, trace.nvml.jsonl,
# trace.nvidia-smi.jsonl. GPU_TRACE_SCALE=0.05 shortens the phases (a dry run without a GPU).
set -u
OUT=${OUT:-$PWD/gpu-trace-out}
mkdir -p "$OUT"
PY=${PY:-python3}
SCALE=${GPU_TRACE_SCALE:-1}
export PYTHONUNBUFFERED=1
exec > >(tee "$OUT/run.log") 2>&1

echo "== $(date -u +%FT%TZ) $(hostname) python: $($PY --version 2>&1)"
echo "== nvidia-smi"
nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt" || echo "(no nvidia-smi)"
$PY -c "import pynvml; print('pynvml', getattr(pynvml, '__version__', '?'), pynvml.__file__)" \
  || echo "(no pynvml)"

echo "== benchmark"
timeout 150 $PY benchmarks/sampler_bench.py --quick --json "$OUT/measurements.json"

echo "== trace"
cat > /tmp/gpu_load.py <<'EOF'
import json, subprocess, sys, time
out, scale = sys.argv[1], float(sys.argv[2])
phases = [("idle", 15), ("full", 30), ("half", 30), ("idle", 15)]
try:
    import torch
    dev = torch.device("cuda")
    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    b = torch.randn_like(a)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    name = torch.cuda.get_device_name(0)
except Exception as e:  # dry run without a GPU
    print("load: no torch/GPU (%s): phases only" % e)
    torch = None
    name = None


def mm_for(seconds):
    end, k = time.time() + seconds, 0
    while time.time() < end:
        for _ in range(4):
            a @ b
        torch.cuda.synchronize()
        k += 4
    return k


marks = []
for phase, dur in phases:
    dur *= scale
    info = {"phase": phase, "t0": time.time()}
    if phase == "idle" or torch is None:
        child = None
        if phase == "half":
            child = subprocess.Popen([sys.executable, "-c",
                                      "import time\nt=time.time()\nwhile time.time()-t<%f: pass" % dur])
        time.sleep(dur)
        if child:
            child.wait()
    elif phase == "full":
        big = torch.empty(16 << 30, dtype=torch.uint8, device=dev)  # 16 GiB more in use
        info["matmuls"] = mm_for(dur)
        del big
    else:
        big = torch.empty(8 << 30, dtype=torch.uint8, device=dev)
        child = subprocess.Popen([sys.executable, "-c",
                                  "import time\nt=time.time()\nwhile time.time()-t<%f: pass" % dur])
        end, n = info["t0"] + dur, 0
        while time.time() < end:  # ~100 ms on, 100 ms off
            n += mm_for(0.1)
            time.sleep(0.1)
        child.wait()
        info["matmuls"] = n
        del big
    if torch is not None:
        torch.cuda.empty_cache()
    info["t1"] = time.time()
    marks.append(info)
    print("load:", info, flush=True)
json.dump({"device": name, "matmul": "8192x8192x8192 bf16, torch", "phases": marks,
           "half": "loop of (matmuls for 0.1 s, sleep 0.1 s) + one CPU-burning child process",
           "memory": "full: +16 GiB allocated, half: +8 GiB"}, open(out, "w"), indent=1)
EOF
timeout 200 $PY /tmp/gpu_load.py "$OUT/trace.phases.json" "$SCALE" &
LOAD=$!
timeout 220 $PY tritonml_lab/injob/sampler.py --out "$OUT/trace.nvml.jsonl" --source nvml \
  --interval 1 --pid $LOAD &
S1=$!
timeout 220 $PY tritonml_lab/injob/sampler.py --out "$OUT/trace.nvidia-smi.jsonl" \
  --source nvidia-smi --interval 1 --pid $LOAD &
S2=$!
wait $LOAD; echo "load rc=$?"
wait $S1; echo "sampler nvml rc=$?"
wait $S2; echo "sampler nvidia-smi rc=$?"
for f in "$OUT"/trace.*.jsonl; do
  echo "== $f: $(wc -l < "$f") lines, $(wc -c < "$f") bytes"; head -c 600 "$f"; echo; tail -n 2 "$f"
done
echo "== done $(date -u +%FT%TZ)"
