"""--profile (issue 25): the trace summary on real H200 traces, the in-job profiler on CPU torch, the
batch script's lines, the spec field and the advice's data-wait input. No cluster."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tritonml_lab.advice.rules import Usage, findings, profile_advice
from tritonml_lab.injob import profiler
from tritonml_lab.jobs.script import Defaults, render_script
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.metrics.profile import TraceError, summarize_file

TRACES = Path(__file__).parent / "data" / "profile-traces"

# Written next to the traces (README.md there): what each recorded H200 trace must summarize to.
EXPECTED = {
    "starved": {"steps": 10, "data_wait": (0.5, 0.7), "gpu_busy": (0.15, 0.3), "gaps_at_least": 4,
                "top": "Memcpy HtoD (Pageable -> Device)"},
    "fed": {"steps": 10, "data_wait": (0.0, 0.01), "gpu_busy": (0.45, 0.65), "gaps_at_least": 0,
            "top": "void at::native::batch_norm_collect_statistics_channels_last_kernel"},
}


@pytest.mark.parametrize("workload", sorted(EXPECTED))
def test_summary_of_real_h200_traces(workload):
    want = EXPECTED[workload]
    s = summarize_file(str(TRACES / f"h200-{workload}.trace.json.gz"))
    assert s["device"] == "NVIDIA H200" and s["top_by"] == "device" and not s["truncated"]
    assert s["steps"] == want["steps"]
    assert want["data_wait"][0] <= s["data_wait_share"] <= want["data_wait"][1]
    assert want["gpu_busy"][0] <= s["gpu_busy_share"] <= want["gpu_busy"][1]
    assert s["gpu_gap_count"] >= want["gaps_at_least"]
    assert s["top"][0]["name"].startswith(want["top"])
    assert len(s["top"]) == 10 and abs(sum(op["share"] for op in s["top"]) - 1) < 0.5
    if workload == "starved":  # four steps of the ten waited ~0.27-0.3 s each with the GPU idle
        assert s["gpu_gaps"][0]["ms"] > 250 and len(s["gpu_gaps"]) == 5


def test_summary_limits_and_errors(tmp_path):
    big = tmp_path / "t.json"
    events = [{"ph": "X", "cat": "cpu_op", "name": f"op{i % 3}", "ts": i * 10, "dur": 5, "pid": 1, "tid": 1}
              for i in range(5000)]
    big.write_text(json.dumps({"traceEvents": events}))
    s = summarize_file(str(big), max_events=1000)
    assert s["truncated"] and s["events"] == 1000 and s["top_by"] == "cpu" and s["steps"] == 0
    assert summarize_file(str(big))["events"] == 5000
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(b'{"other": []}'))
    with pytest.raises(TraceError):
        summarize_file(str(bad))


def test_cpu_self_time_and_data_wait(tmp_path):
    ev = [
        {"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#1", "ts": 0, "dur": 100, "tid": 1},
        {"ph": "X", "cat": "user_annotation", "name": "enumerate(DataLoader)#_X.__next__", "ts": 0, "dur": 40, "tid": 1},
        {"ph": "X", "cat": "cpu_op", "name": "aten::linear", "ts": 50, "dur": 40, "tid": 1},
        {"ph": "X", "cat": "cpu_op", "name": "aten::addmm", "ts": 55, "dur": 30, "tid": 1},
    ]
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"traceEvents": ev}))
    s = summarize_file(str(path))
    assert s["data_wait_share"] == 0.4 and s["gpu_busy_share"] is None
    assert [(op["name"], op["total_ms"]) for op in s["top"]] == [("aten::addmm", 0.03), ("aten::linear", 0.01)]


TRAIN = """
import torch
m = torch.nn.Linear(8, 2)
opt = torch.optim.SGD(m.parameters(), lr=0.1)
data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(256, 8), torch.randint(0, 2, (256,))),
                                   batch_size=8)
for x, y in data:
    loss = torch.nn.functional.cross_entropy(m(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
"""


def _run_hooked(tmp_path, code, python=sys.executable, schedule="2,1,3"):
    hook = tmp_path / profiler.HOOK_DIR
    hook.mkdir(exist_ok=True)
    (hook / profiler.HOOK_FILE).write_bytes(Path(profiler.__file__).read_bytes())
    out = tmp_path / "profile"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "SLURM_PROCID", "SLURM_ARRAY_TASK_ID")}
    env.update(TRITONML_PROFILE="torch", TRITONML_PROFILE_DIR=str(out), TRITONML_PROFILE_SCHEDULE=schedule,
               PYTHONPATH=str(hook))
    subprocess.run([python, "-c", code], env=env, check=True, timeout=120, cwd=tmp_path)
    return out, json.loads((out / "status.job.json").read_text())


def test_injob_profiler_records_a_cpu_training_loop(tmp_path):
    pytest.importorskip("torch")
    out, status = _run_hooked(tmp_path, TRAIN)
    assert status["state"] == "recorded" and status["source"] == "optimizer.step" and status["cuda"] is False
    s = summarize_file(str(out / "trace.job.json.gz"))
    assert s["steps"] == 3 and s["top_by"] == "cpu" and s["data_wait_share"] is not None
    assert any(op["name"].startswith("aten::") for op in s["top"])


def test_injob_profiler_context_and_no_torch(tmp_path):
    pytest.importorskip("torch")
    code = ("import torch, tritonml_profile as tp\nwith tp.profile(wait=1, warmup=0, active=2) as p:\n"
            "    for _ in range(5):\n        torch.randn(64, 64) @ torch.randn(64, 64); p.step()\n")
    _out, status = _run_hooked(tmp_path / "a" if (tmp_path / "a").mkdir() is None else None, code)
    assert status["state"] == "recorded" and status["source"] == "tritonml.profile()"
    (tmp_path / "b").mkdir()
    _out, status = _run_hooked(tmp_path / "b", "print('no torch here')")
    assert status["state"] == "no-torch" and "did not import torch" in status["message"]
    (tmp_path / "c").mkdir()  # a Python without torch at all (-S: no site-packages; the hook still loads)
    _out, status = _run_hooked(tmp_path / "c", "import sys; sys.path[:] = [p for p in sys.path if 'site-packages' not in p]")
    assert status["state"] in ("no-torch",)


def test_script_lines(tmp_path):
    torch = render_script(JobSpec(code="print(1)", profile="torch"), Defaults(), "/jobs/j1")
    assert "export TRITONML_PROFILE=torch" in torch and 'export PYTHONPATH=/jobs/j1/profile-hook"${PYTHONPATH:+:$PYTHONPATH}"' in torch
    nsys = render_script(JobSpec(command="python t.py 'a b'", profile="nsys"), Defaults(), "/jobs/j1")
    assert "tritonml_nsys=(nsys profile" in nsys
    assert """"${tritonml_nsys[@]}" bash -c 'python t.py '"'"'a b'"'"''""" in nsys
    subprocess.run(["bash", "-n"], input=nsys, text=True, check=True)
    # Without nsys on the PATH the job still runs, and says why there is no profile.
    job = tmp_path / "j"
    (job / "profile").mkdir(parents=True)
    body = "export" + nsys.split("\nexport", 1)[1]
    body = body[body.index("export TRITONML_PROFILE="):].replace("/jobs/j1", str(job)).replace(
        "python t.py", "echo ran")
    done = subprocess.run(["bash", "-c", "set -eo pipefail\n" + body], text=True, capture_output=True,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and "ran a b" in done.stdout and "nsys is not on the PATH" in done.stderr
    assert json.loads((job / "profile" / "status.job.json").read_text())["state"] == "no-nsys"
    assert "TRITONML_PROFILE" not in render_script(JobSpec(command="true"), Defaults(), "/jobs/j1")


def test_spec_field():
    assert JobSpec(command="true", profile="torch").profile == "torch"
    with pytest.raises(ValidationError):
        JobSpec(command="true", profile="ncu")


def test_advice_data_wait_makes_starved_certain():
    gpu = {"index": 0, "util_mean": 60.0, "idle_fraction": 0.1, "memory_peak_bytes": 7 << 30,
           "memory_total_bytes": 140 << 30}
    quiet = Usage(cpus=4, cores_used=1.5, gpus=[dict(gpu)], busy_procs=0.5)
    assert not [f for f in findings(quiet, any_length=True) if f.code == "gpu-starved"]
    profiled = Usage(cpus=4, cores_used=1.5, gpus=[dict(gpu)], busy_procs=0.5, data_wait=0.58)
    starved = [f for f in findings(profiled, any_length=True) if f.code == "gpu-starved"]
    assert starved and starved[0].to == 8 and "58% of each training step" in starved[0].text
    assert profile_advice(Usage(cpus=2, data_wait=0.4))[0].startswith("The profile found 40%")
    assert profile_advice(Usage(cpus=2, data_wait=0.01)) == []


def test_sweeps_and_notebook_runs_pass_profile_on():
    from tritonml_lab.notebooks.request import NotebookJobRequest
    from tritonml_lab.sweeps.request import SweepRequest

    assert "profile" in SweepRequest.model_fields and "profile" in NotebookJobRequest.model_fields
    from tritonml_lab.jobs.spec import JobSpec, compose

    sweep = SweepRequest.model_validate({"code": "x", "grid": {"a": [1, 2]}, "profile": "torch"})
    assert compose(JobSpec, sweep).profile == "torch"
    run = NotebookJobRequest.model_validate({"path": "nb.ipynb", "profile": "nsys"})
    assert compose(JobSpec, run, script="true").profile == "nsys"
