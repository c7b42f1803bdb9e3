"""A profiled job's data-wait share reaches its advice and its suggestion (issue 25: "waiting on data =>
the starved-pipeline advice, with certainty"), through the samples summary the job detail carries.
Both halves are real H200 recordings: the sampler's traces (data/gpu-traces/) and torch.profiler's
traces of the same workloads (data/profile-traces/)."""

import shutil
from pathlib import Path

import pytest

from tritonml_lab.advice.suggest import suggestion_of
from tritonml_lab.metrics.efficiency import GIB, advise
from tritonml_lab.metrics.profile import summarize_file
from tritonml_lab.metrics.stream import job_summary

from .test_advice_real_traces import SPEC

DATA = Path(__file__).parent / "data"
SACCT = {"cpus": 4, "memory_requested_bytes": 32 * GIB, "time_limit_seconds": 7200, "elapsed_seconds": 1800,
         "state": "COMPLETED"}


def metrics_of(tmp_path, workload, profile):
    d = tmp_path / workload
    d.mkdir()
    shutil.copy(DATA / "gpu-traces" / f"h200-{workload}.jsonl", d / "samples.gpu1.jsonl")
    metrics = job_summary(d)
    metrics["data_wait_share"] = summarize_file(str(DATA / "profile-traces" / f"h200-{profile}.trace.json.gz"))[
        "data_wait_share"]
    return metrics


def starved(advice):
    return [a for a in advice if "the data pipeline cannot keep up" in a]


def test_the_starved_profile_confirms_the_starved_advice(tmp_path):
    metrics = metrics_of(tmp_path, "starved", "starved")
    assert metrics["data_wait_share"] == pytest.approx(0.583, abs=0.01)
    (advice,) = starved(advise(metrics, SACCT, spec=SPEC))
    assert "the profile found 58% of each training step spent waiting for the DataLoader" in advice, advice
    suggestion = suggestion_of("1", SPEC, metrics, SACCT)
    assert suggestion.spec.cpus_per_task > 4


def test_waiting_on_data_is_starved_even_when_the_samples_look_busy(tmp_path):
    # The fed run's samples (94 % busy) with the starved run's profile: the profile decides.
    metrics = metrics_of(tmp_path, "fed", "starved")
    assert starved(advise(metrics, SACCT, spec=SPEC))
    assert suggestion_of("1", SPEC, metrics, SACCT).spec.cpus_per_task > 4


def test_a_fed_profile_adds_nothing(tmp_path):
    metrics = metrics_of(tmp_path, "fed", "fed")
    assert metrics["data_wait_share"] == pytest.approx(0.0, abs=0.01)
    assert not starved(advise(metrics, SACCT, spec=SPEC))
    assert suggestion_of("1", SPEC, metrics, SACCT).spec.cpus_per_task == 1
