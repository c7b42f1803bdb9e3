"""Parsers of real Slurm 22.05 output, recorded from the local cluster (data/slurm-22.05/PROVENANCE.md)."""

import json
from pathlib import Path

import pytest

from tritonml_lab.slurm import JobState, clean_environment
from tritonml_lab.slurm import parse
from tritonml_lab.slurm.errors import SchedulerUnavailable, SlurmOutputError, SlurmRejected
from tritonml_lab.slurm.gres import gpus_of, parse_gres, split_gres
from tritonml_lab.slurm.runner import classify_failure
from tritonml_lab.slurm.timefmt import format_duration, parse_duration

DATA = Path(__file__).parent / "data" / "slurm-22.05"


def read(name: str) -> str:
    return (DATA / name).read_text()


@pytest.mark.parametrize(
    "text,state",
    [
        ("PENDING", JobState.PENDING),
        ("PD", JobState.PENDING),
        ("CANCELLED by 0", JobState.CANCELLED),
        ("OUT_OF_ME+", JobState.OUT_OF_MEMORY),
        ("OUT_OF_MEMORY", JobState.OUT_OF_MEMORY),
        ("TIMEOUT", JobState.TIMEOUT),
        ("NODE_FAIL", JobState.NODE_FAIL),
        ("BOOT_FAIL", JobState.BOOT_FAIL),
        ("PREEMPTED", JobState.PREEMPTED),
        ("DEADLINE", JobState.DEADLINE),
        ("REQUEUED", JobState.REQUEUED),
        ("SUSPENDED", JobState.SUSPENDED),
        ("CG", JobState.COMPLETING),
        ("", JobState.UNKNOWN),
        ("NONSENSE", JobState.UNKNOWN),
    ],
)
def test_every_job_state_parses(text, state):
    assert JobState.parse(text) is state


def test_active_and_finished_states():
    assert JobState.PENDING.is_active and JobState.RUNNING.is_active and JobState.COMPLETING.is_active
    for state in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT,
                  JobState.OUT_OF_MEMORY, JobState.NODE_FAIL):
        assert state.is_finished and not state.is_active
    assert not JobState.UNKNOWN.is_finished


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("5-00:00:00", 5 * 86400),
        ("30:00", 1800),
        ("00:30:00", 1800),
        ("1-12", 36 * 3600),
        ("2-03:04", (2 * 24 + 3) * 3600 + 4 * 60),
        ("45", 45 * 60),
        ("UNLIMITED", None),
        ("INVALID", None),
        ("", None),
        ("1:2:3:4", None),
        ("x-01:00", None),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_format_duration():
    assert format_duration(1800) == "00:30:00"
    assert format_duration(5 * 86400 + 61) == "5-00:01:01"
    assert format_duration(None) is None


def test_gres_strings():
    assert split_gres("gpu:h100:2(S:0-1,3),tmpdisk:100") == ["gpu:h100:2(S:0-1,3)", "tmpdisk:100"]
    assert parse_gres("gpu:2") == [("gpu", None, 2)]
    assert gpus_of("gpu:h100:1(IDX:0),gpu:a100:0(IDX:N/A)") == {"h100": 1, "a100": 0}
    assert gpus_of("(null)") == {} and gpus_of("") == {} and gpus_of("gpu:0") == {None: 0}


def test_sbatch_output():
    assert parse.sbatch_job_id("1234\n") == "1234"
    assert parse.sbatch_job_id("1234;triton\n") == "1234"
    with pytest.raises(SlurmOutputError):
        parse.sbatch_job_id("Submitted batch job\n")


def test_cluster_summary_from_recorded_sinfo():
    summary = parse.cluster_summary_json(read("sinfo-nodes.json"), read("sinfo-summary.txt"), cluster="triton-dev")
    by_name = {p.name: p for p in summary.partitions}
    assert list(by_name) == ["gpu-h100-80g", "gpu-a100-80g", "gpu-debug", "batch-csl", "interactive"]
    assert by_name["batch-csl"].default and not by_name["gpu-debug"].default
    assert by_name["gpu-debug"].time_limit_minutes == 30
    assert by_name["gpu-debug"].nodes == ["gpu1", "gpu2"]
    # One h100 and one a100 were allocated when this was recorded.
    assert {g.type: (g.total, g.free) for g in by_name["gpu-debug"].gpus} == {"a100": (2, 1), "h100": (2, 1)}
    assert by_name["batch-csl"].gpus == []
    assert (summary.gpus_total, summary.gpus_free) == (4, 2)
    assert (by_name["gpu-debug"].cpus_total, by_name["gpu-debug"].cpus_idle) == (16, 14)


def test_cluster_summary_counts_no_free_gpus_on_a_down_node():
    nodes = read("sinfo-nodes.json").replace('"state": "mixed"', '"state": "down"')
    summary = parse.cluster_summary_json(nodes, read("sinfo-summary.txt"))
    assert summary.gpus_total == 4 and summary.gpus_free == 0


def test_cluster_summary_from_the_live_text_format():
    """sinfo --Format=SINFO_FORMAT, the live call: an h100 job (1 GPU, 1 CPU) on gpu1 and an a100 job
    (2 GPUs, 3 CPUs) on gpu2 when recorded."""
    summary = parse.cluster_summary(read("sinfo-format.txt"), cluster="triton-dev")
    by_name = {p.name: p for p in summary.partitions}
    assert list(by_name) == ["gpu-h100-80g", "gpu-a100-80g", "gpu-debug", "batch-csl", "interactive"]
    assert by_name["batch-csl"].default and [p.name for p in summary.partitions if p.default] == ["batch-csl"]
    assert by_name["gpu-debug"].time_limit == "30:00" and by_name["gpu-debug"].time_limit_minutes == 30
    assert by_name["gpu-h100-80g"].time_limit_minutes == 5 * 24 * 60 and by_name["gpu-h100-80g"].state == "UP"
    assert by_name["gpu-debug"].nodes == ["gpu1", "gpu2"] and by_name["gpu-debug"].node_count == 2
    assert {g.type: (g.total, g.free) for g in by_name["gpu-debug"].gpus} == {"a100": (2, 0), "h100": (2, 1)}
    assert (by_name["gpu-debug"].cpus_total, by_name["gpu-debug"].cpus_idle) == (16, 12)
    assert (by_name["batch-csl"].cpus_total, by_name["batch-csl"].cpus_idle, by_name["batch-csl"].gpus) == (8, 8, [])
    # gpu1 and gpu2 are in two partitions each: their GPUs count once in the cluster's total.
    assert {g.type: (g.total, g.free) for g in summary.gpus} == {"a100": (2, 0), "h100": (2, 1)}
    assert (summary.gpus_total, summary.gpus_free) == (4, 1)


def test_text_and_json_of_one_moment_give_the_same_summary():
    text = parse.cluster_summary(read("sinfo-format.txt"))
    json_ = parse.cluster_summary_json(read("sinfo-nodes-busy.json"))
    assert text.model_dump(exclude={"partitions"}) == json_.model_dump(exclude={"partitions"})
    keys = {"name", "nodes", "node_count", "cpus_total", "cpus_idle", "gpus"}
    def rows(summary):  # 22.05's node list has no partition order: compare by name
        return sorted((p.model_dump(include=keys) for p in summary.partitions), key=lambda row: row["name"])

    assert rows(text) == rows(json_) and len(rows(text)) == 5


def test_squeue_json_recorded():
    jobs = {job.id: job for job in parse.squeue_json(read("squeue-me.json"))}
    running, pending = jobs["1"], jobs["2"]
    assert running.state is JobState.RUNNING and running.gpus == "h100:1" and running.nodes == "gpu1"
    assert running.gpu_count == 1 and jobs["7"].gpus == "a100:1"
    assert running.started and running.ended is None and running.exit_code is None
    assert pending.state is JobState.PENDING and pending.reason == "Resources"
    assert pending.started is None and pending.expected_start and pending.gpus == "h100:2"
    # 22.05 prints the raw wait status: 768 is exit 3, 15 is SIGTERM (no return code).
    assert jobs["4"].state is JobState.FAILED and (jobs["4"].exit_code, jobs["4"].signal) == (3, None)
    assert jobs["5"].state is JobState.CANCELLED and jobs["5"].signal == 15 and jobs["5"].signal_name == "SIGTERM"
    assert jobs["5"].exit_code is None and jobs["3"].exit_code == 0
    assert {jobs[f"6_{i}"].array_task_id for i in range(3)} == {"0", "1", "2"}
    assert jobs["6_0"].array_job_id == "6"
    assert jobs["3"].gpus is None and jobs["3"].gpu_count is None and jobs["3"].time_limit == 7200


def test_a_script_that_traps_sigterm_reports_it_as_the_shell_does():
    """tritonml-lab's batch scripts trap SIGTERM and exit 143 (128 + 15): a cancelled or timed-out
    job says so with its exit code, which names the signal; a failed job's 143 is left as it is."""
    doc = json.loads(read("squeue-me.json"))
    for raw in doc["jobs"]:
        if raw["job_id"] in (4, 5):
            raw["exit_code"] = 143 << 8  # 22.05's raw wait status
    jobs = {job.id: job for job in parse.squeue_json(json.dumps(doc))}
    assert (jobs["5"].state, jobs["5"].exit_code, jobs["5"].signal, jobs["5"].signal_name) == (
        JobState.CANCELLED, 143, 15, "SIGTERM")
    assert (jobs["4"].state, jobs["4"].exit_code, jobs["4"].signal) == (JobState.FAILED, 143, None)


def test_sacct_gives_no_exit_code_where_slurm_ended_the_job_without_a_signal_on_record():
    doc = json.loads(read("sacct.json"))
    cancelled = next(raw for raw in doc["jobs"] if raw["job_id"] == 5)
    cancelled["steps"][0]["exit_code"] = {"status": "SUCCESS", "return_code": 0}
    jobs = {job.id: job for job in parse.sacct_json(json.dumps(doc))}
    assert (jobs["5"].state, jobs["5"].exit_code, jobs["5"].signal) == (JobState.CANCELLED, None, None)


def test_squeue_json_keeps_only_the_users_jobs():
    """22.05's squeue --json ignores --me: the parser keeps the jobs of the uid it is given."""
    assert len(parse.squeue_json(read("squeue-me.json"), uid=0)) == 9
    assert parse.squeue_json(read("squeue-me.json"), uid=1000) == []


def test_squeue_start_recorded():
    starts = parse.squeue_start(read("squeue-start.txt") + "17|N/A\n")
    assert set(starts) == {"2"} and starts["2"] > 1.7e9


def test_sacct_json_recorded():
    jobs = {job.id: job for job in parse.sacct_json(read("sacct.json"))}
    assert jobs["3"].state is JobState.COMPLETED and jobs["3"].exit_code == 0
    # 22.05's sacct --json says {"status": "SUCCESS", "return_code": 0} for the job that exited 3:
    # not believed for a job that did not complete.
    assert jobs["4"].state is JobState.FAILED and jobs["4"].exit_code is None and jobs["4"].signal is None
    # The cancel's SIGTERM is on the batch step ({"status": "SIGNALED", "signal": {"signal_id": 15}}).
    assert jobs["5"].state is JobState.CANCELLED and (jobs["5"].exit_code, jobs["5"].signal) == (None, 15)
    assert jobs["5"].signal_name == "SIGTERM"
    assert (jobs["1"].gpus, jobs["1"].gpu_count) == ("1", 1) and jobs["7"].gpus == "1"  # gres/gpu, untyped
    assert jobs["2"].gpus == "2" and jobs["2"].nodes is None  # pending: requested TRES, "None assigned"
    assert jobs["6_1"].array_job_id == "6"
    assert jobs["5"].elapsed == 3 and jobs["5"].time_limit == 7200 and jobs["2"].time_limit is None


def test_unparseable_json_is_a_typed_error():
    with pytest.raises(SlurmOutputError):
        parse.squeue_json("squeue: error: something\n")


def test_clean_environment_drops_enclosing_job_variables():
    env = {
        "SLURM_JOB_ID": "42", "SLURM_MEM_PER_NODE": "4096", "SBATCH_PARTITION": "interactive",
        "SRUN_CPUS_PER_TASK": "2", "SALLOC_ACCOUNT": "x", "SLURM_CONF": "/etc/slurm/slurm.conf",
        "PATH": "/usr/bin", "HOME": "/home/u",
    }
    assert clean_environment(env) == {"SLURM_CONF": "/etc/slurm/slurm.conf", "PATH": "/usr/bin", "HOME": "/home/u"}


def test_failures_are_classified():
    down = classify_failure(["sinfo"], 1, "slurm_load_partitions: Unable to contact slurm controller (connect failure)\n")
    assert isinstance(down, SchedulerUnavailable)
    rejected = classify_failure(
        ["sbatch"], 1, "sbatch: error: Batch job submission failed: Invalid partition name specified\n"
    )
    assert isinstance(rejected, SlurmRejected)
    assert rejected.message == "Batch job submission failed: Invalid partition name specified"
