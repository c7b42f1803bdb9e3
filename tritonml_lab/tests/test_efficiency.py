"""Efficiency figures and advice, from the real H200 trace recorded on the lent GPU machine."""

import json
from pathlib import Path

from tritonml_lab.metrics.efficiency import GIB, advise, summarize
from tritonml_lab.metrics.trace import load

TRACES = Path(__file__).parent / "data" / "gpu-traces"


def h200():
    header, samples, _end = load(str(TRACES / "h200-matmul-phases.nvml.jsonl"))
    phases = json.loads((TRACES / "h200-matmul-phases.phases.json").read_text())["phases"]
    return header, samples, phases


def test_summary_of_the_recorded_h200_phases():
    header, samples, phases = h200()
    summary = summarize(header, samples)
    (gpu,) = summary["gpus"]
    assert gpu["name"] == "NVIDIA H200"
    assert gpu["util_max"] >= 99
    # idle 15 s, full 30 s, half 30 s, idle 15 s (+ start and stop): about half the time idle-ish.
    assert 35 <= gpu["util_mean"] <= 75
    assert 0.2 <= gpu["idle_fraction"] <= 0.6
    assert gpu["memory_total_bytes"] > 130 * GIB and gpu["memory_peak_bytes"] > 8 * GIB
    full = [s for s in samples if phases[1]["t0"] + 2 < s["t"] < phases[1]["t1"] - 1]
    assert summarize(header, full)["gpus"][0]["util_mean"] >= 95


def test_advice_for_a_data_starved_gpu_and_oversized_requests():
    summary = {"gpus": [{"index": 0, "util_mean": 30.0, "idle_fraction": 0.6, "memory_peak_bytes": 10 * GIB,
                         "memory_total_bytes": 80 * GIB}], "cpu_cores_mean": 3.9}
    slurm = {"cpus": 4, "memory_requested_bytes": 40 * GIB, "memory_peak_bytes": 3 * GIB,
             "time_limit_seconds": 7200, "elapsed_seconds": 600, "state": "COMPLETED"}
    advice = " ".join(advise(summary, slurm))
    # issue 25: the starved-pipeline sentence now gives the numbers (was "idle 60% of the time while the CPU
    # was saturated: ask for more --cpus-per-task for data loading")
    assert "(idle 60% of the time) while the CPU was saturated (3.9 of 4 cores)" in advice
    assert "--cpus-per-task=8" in advice and "num_workers=7" in advice
    assert "Peak memory 3.0 GB of 40 GB requested (8%): --mem=6G would do" in advice
    assert "memory peaked at 10 GB of 80 GB" in advice
    assert "--time=00:15:00" in advice


def test_no_advice_for_a_well_used_job_and_state_advice():
    busy = {"gpus": [{"index": 0, "util_mean": 96.0, "idle_fraction": 0.01, "memory_peak_bytes": 70 * GIB,
                      "memory_total_bytes": 80 * GIB}], "cpu_cores_mean": 2.0}
    assert advise(busy, {"cpus": 2, "memory_requested_bytes": 8 * GIB, "memory_peak_bytes": 6 * GIB,
                         "time_limit_seconds": 3600, "elapsed_seconds": 3000}) == []
    assert "time limit" in advise(None, {"state": "TIMEOUT"})[0]
    two = {"gpus": [{"index": 0, "util_mean": 90.0, "idle_fraction": 0.0},
                    {"index": 1, "util_mean": 0.0, "idle_fraction": 1.0}]}
    assert advise(two, None) == ["GPU 1 of 2 was idle the whole time: ask for 1 GPU (or make your code use all of them)."]
