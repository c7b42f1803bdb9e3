"""The GPU rules, per GPU and per array task, on the real H200 trace recorded by the in-job sampler
(tests/data/gpu-traces: idle 15 s, full load 30 s, half load 30 s, idle 15 s). Multi-GPU jobs and
arrays are put together from its recorded rows: each GPU or task is a stretch of what the card did."""

import json
from pathlib import Path

from tritonml_lab.advice.rules import findings, usage_of
from tritonml_lab.advice.spread import spread, spread_lines, task_figures
from tritonml_lab.advice.suggest import suggest
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.metrics.efficiency import GIB, summarize
from tritonml_lab.metrics.trace import load

TRACES = Path(__file__).parent / "data" / "gpu-traces"


def trace():
    header, samples, _end = load(str(TRACES / "h200-matmul-phases.nvml.jsonl"))
    phases = json.loads((TRACES / "h200-matmul-phases.phases.json").read_text())["phases"]
    return header, samples, phases


def stretch(samples, phase, margin=1.5):
    """The samples well inside a phase (the edges mix two phases)."""
    return [s for s in samples if phase["t0"] + margin < s["t"] < phase["t1"] - margin]


def two_gpus(header, busy, idle):
    """A 2-GPU job: GPU 0 did what the card did in `busy`, GPU 1 what it did in `idle`, row by row."""
    n = min(len(busy), len(idle))
    card = header["gpus"][0]
    joined = {**header, "gpus": [card, {**card, "i": 1, "uuid": card["uuid"] + "-1"}]}
    rows = [{**b, "g": [b["g"][0], i["g"][0]]} for b, i in zip(busy[:n], idle[:n])]
    return joined, rows


def test_a_gpu_idle_the_whole_time_is_named_and_dropped():
    header, samples, phases = trace()
    joined, rows = two_gpus(header, stretch(samples, phases[1]), stretch(samples, phases[0]))
    summary = summarize(joined, rows)
    busy, idle = summary["gpus"]
    assert busy["util_mean"] >= 95 and busy["idle_fraction"] == 0
    assert idle["util_mean"] == 0 and idle["idle_fraction"] == 1.0
    assert busy["memory_peak_bytes"] > 16 * GIB > idle["memory_peak_bytes"]  # the full phase allocated 16 GiB
    usage = usage_of(summary, None, JobSpec(command="train", gpus="h200:2"))
    # (A 12 s stretch: notes skip jobs under 5 min, the rules themselves do not.)
    (unused,) = [f for f in findings(usage, any_length=True) if f.code == "gpu-unused"]
    assert unused.text == "GPU 1 of 2 was idle the whole time: ask for 1 GPU (or make your code use all of them)."
    assert unused.level == "red" and unused.to == "h200:1"
    got = suggest("9", JobSpec(command="train", gpus="h200:2"), usage)
    assert got.gpus.from_ == "h200:2" and got.gpus.to == "h200:1" and got.spec.gpus == "h200:1"


def test_the_whole_trace_one_gpu_low_memory_but_busy_enough():
    header, samples, _phases = trace()
    usage = usage_of(summarize(header, samples), None)
    codes = {f.code: f for f in findings(usage, any_length=True)}
    # ~50 % mean, idle ~40 %: above the jobstats thresholds (15 % red, 25 % low), not idle 80 %.
    assert "gpu-util" not in codes and "gpu-idle" not in codes and "gpu-unused" not in codes
    # 18 GB of a 140 GB card: a smaller GPU would do.
    assert codes["gpu-memory"].level == "low"
    assert codes["gpu-memory"].text.startswith("The GPU memory peaked at 1") and "of 140 GB" in codes["gpu-memory"].text


def test_live_rules_on_windows_of_the_trace():
    header, samples, phases = trace()
    idle_end = usage_of(summarize(header, stretch(samples, phases[3], margin=1)), None)
    (flag,) = findings(idle_end, live=True)
    assert flag.code == "gpu-idle" and flag.level == "red" and flag.text.startswith("The GPU was idle 100% of the time")
    assert findings(usage_of(summarize(header, stretch(samples, phases[1])), None), live=True) == []
    # The duty-cycled phase: ~45 % mean, idle part of the time, not a red flag.
    assert findings(usage_of(summarize(header, stretch(samples, phases[2])), None), live=True) == []


def test_the_spread_of_an_array_whose_tasks_are_phases_of_the_trace():
    header, samples, phases = trace()
    full = stretch(samples, phases[1])
    parts = {"5_0": full[: len(full) // 2], "5_1": full[len(full) // 2:], "5_2": stretch(samples, phases[2]),
             "5_3": stretch(samples, phases[3])}
    tasks = {task: task_figures(None, summarize(header, rows)) for task, rows in parts.items()}
    s = spread("5", tasks)
    assert s.tasks == 4
    assert s.gpu_util.worst_task == "5_3" and s.gpu_util.worst == 0
    assert 60 <= s.gpu_util.median <= 80  # between the half phase (~45 %) and full load (~99 %)
    assert s.gpu_memory_peak.worst_task in ("5_0", "5_1") and s.gpu_memory_peak.worst > 16 * GIB
    assert [o.task for o in s.outliers if o.why.startswith("GPU busy")] == ["5_3"]
    text = "\n".join(spread_lines(s))
    assert "GPU utilisation: median" in text and "lowest 0% (task 5_3)" in text
    assert "Task 5_3: GPU busy 0% against the tasks' median" in text
