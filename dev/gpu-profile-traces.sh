#!/usr/bin/env bash
# Record real torch.profiler traces through the in-job profiler (--profile torch, issue 25): the
# starved and fed workloads of dev/gpu_workloads.py, each pinned to 4 CPUs (a --cpus-per-task=4 job),
# with tritonml_lab/injob/profiler.py loaded as the batch script loads it (profile-hook/sitecustomize.py
# first on PYTHONPATH, TRITONML_PROFILE=torch). The one command run on the lent GPU machine:
#
#     bash dev/gpu-profile-traces.sh     # writes into $OUT (default ./profile-traces-out)
#
# Out: <prefix>-<w>.trace.json.gz, <prefix>-<w>.status.json, <prefix>-<w>.meta.json per workload,
# run.log. PROFILE_SECONDS (default 20) sets each workload's length; without a GPU it is a dry run.
set -u
OUT=${OUT:-$PWD/profile-traces-out}
mkdir -p "$OUT"
PY=${PY:-python3}
SECONDS_EACH=${PROFILE_SECONDS:-20}
WORKLOADS=${WORKLOADS:-starved fed}
PREFIX=${PREFIX:-h200}
export PYTHONUNBUFFERED=1
exec > >(tee "$OUT/run.log") 2>&1
echo "== $(date -u +%FT%TZ) $($PY --version 2>&1) cpus=$(nproc)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "(no nvidia-smi)"
$PY -c "import torch, sys; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())"
command -v nsys && nsys --version || echo "(no nsys on PATH)"
HOOK=$(mktemp -d)/profile-hook
mkdir -p "$HOOK"
cp tritonml_lab/injob/profiler.py "$HOOK/sitecustomize.py"
for w in $WORKLOADS; do
  echo "== $w $(date -u +%T)"
  P=$(mktemp -d)
  TRITONML_PROFILE=torch TRITONML_PROFILE_DIR=$P TRITONML_PROFILE_SCHEDULE=${PROFILE_SCHEDULE:-10,3,10} \
    PYTHONPATH=$HOOK${PYTHONPATH:+:$PYTHONPATH} \
    taskset -c 0-3 timeout $(( SECONDS_EACH * 3 + 60 )) $PY dev/gpu_workloads.py "$w" \
    --seconds "$SECONDS_EACH" --meta "$OUT/$PREFIX-$w.meta.json"
  echo "$w rc=$?"
  ls -la "$P"
  cat "$P"/status.job.json; echo
  cp "$P"/status.job.json "$OUT/$PREFIX-$w.status.json"
  [ -f "$P/trace.job.json.gz" ] && cp "$P/trace.job.json.gz" "$OUT/$PREFIX-$w.trace.json.gz"
done
PYTHONPATH=. $PY - "$OUT" "$PREFIX" <<'PYEOF' || true
import glob, sys
from tritonml_lab.metrics.profile import summarize_file
for f in sorted(glob.glob("%s/%s-*.trace.json.gz" % tuple(sys.argv[1:3]))):
    s = summarize_file(f)
    print(f, "data wait", s.get("data_wait_share"), "steps", s.get("steps"), "gpu busy", s.get("gpu_busy_share"))
    for op in s.get("top", [])[:5]:
        print("   ", op)
PYEOF
ls -la "$OUT"
echo "== done $(date -u +%FT%TZ)"
