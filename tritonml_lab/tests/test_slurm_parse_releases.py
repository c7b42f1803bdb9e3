"""The parsers on recorded real output of Slurm 23.02 (data_parser v0.0.39), 23.11 (v0.0.40) and
24.11 (v0.0.42), see data/slurm-<release>/PROVENANCE.md. Every job and partition is checked against
what its raw JSON says, read here the way each release spells it (the parsers read by meaning)."""

import json
import logging
from pathlib import Path

import pytest

from tritonml_lab.slurm import JobState, parse, values
from tritonml_lab.slurm.errors import SlurmOutputError

DATA = Path(__file__).parent / "data"


def load(release: str, name: str) -> dict:
    return json.loads((DATA / f"slurm-{release}" / name).read_text())


def num(value):
    """A 23.02+ number: {"set", "infinite", "number"}; the oracle insists on that shape."""
    assert isinstance(value, dict) and {"set", "infinite", "number"} <= set(value), value
    return value["number"] if value["set"] and not value["infinite"] else None


def by_id(jobs):
    return {job.id: job for job in jobs}


# -- squeue --json / scontrol show job --json ---------------------------------------------------------
QUEUE = [("23.11", p.name) for p in sorted((DATA / "slurm-23.11").glob("rest-slurm-job*.json"))] + [
    ("24.11", "cli-scontrol-show-job.json")]

# What each GPU recording holds, read off its tres_per_* and gres_detail by hand.
GPUS = {
    "rest-slurm-job-gpus-completed.json": ("6", 6),  # tres_per_job gres/gpu:6; ended, no gres_detail
    "rest-slurm-job-gpus-pending.json": ("6", 6),  # tres_per_job gres/gpu:6
    "rest-slurm-job-gpus-running.json": ("h100:2,h200:4", 6),  # gres_detail of ia1
    "rest-slurm-job-gpus-type.json": ("h100:1", 1),  # tres_per_job gres/gpu:h100:1
    "rest-slurm-job-gpus-gres.json": ("h100:2,h200:4", 6),  # tres_per_node gres/gpu:6
    "rest-slurm-job-gpus-multi-nodes.json": ("h100:4,h200:8", 12),  # 2 nodes x (h100:2 + h200:4)
    "rest-slurm-job-gpus-multi-types.json": ("h100:1,h200:1", 2),  # tres_per_node gres/gpu:h100:1,gres/gpu:h200:1
    "rest-slurm-job-gpus-per-node.json": ("h100:2", 2),  # gres/gpu:1 per node x 2 nodes
    "rest-slurm-job-gpus-per-socket.json": ("h100:2", 2),  # gres/gpu:2 per socket, one socket
    "rest-slurm-job-gpus-per-task.json": ("h100:2,h200:2", 4),  # gres/gpu:2 per task x 2 tasks
}


@pytest.mark.parametrize("release,name", QUEUE)
def test_squeue_jobs_match_their_raw_json(release, name):
    doc = load(release, name)
    jobs = parse.squeue_json(json.dumps(doc))
    assert len(jobs) == len(doc["jobs"]) > 0
    for raw, job in zip(doc["jobs"], jobs):
        assert num(raw["array_task_id"]) is None and not raw["array_task_string"]  # no arrays recorded
        assert job.id == str(raw["job_id"]) and job.name == raw["name"]
        assert raw["job_state"] == [job.state.value]
        assert job.reason == (None if raw["state_reason"] == "None" else raw["state_reason"])
        assert job.partition == raw["partition"] and job.nodes == (raw["nodes"] or None)
        assert job.node_count == num(raw["node_count"]) and job.cpus == num(raw["cpus"])
        assert job.time_limit == num(raw["time_limit"]) and job.user == raw["user_name"]
        assert job.account == (raw["account"] or None) and job.submitted == num(raw["submit_time"])
        start = num(raw["start_time"]) or None
        if job.state is JobState.PENDING:
            assert job.started is None and job.expected_start == start
        else:
            assert job.started == start and job.expected_start is None
        assert job.ended == (num(raw["end_time"]) if job.state.is_finished else None)
        exit_ = raw["exit_code"]
        if not job.state.is_finished:
            assert (job.exit_code, job.signal, job.signal_name) == (None, None, None)
        elif exit_["status"] == ["SIGNALED"]:
            assert job.exit_code is None and job.signal == num(exit_["signal"]["id"])
            assert job.signal_name == "SIG" + exit_["signal"]["name"]
        else:
            assert (job.exit_code, job.signal) == (num(exit_["return_code"]), None)
        assert job.workdir == raw["current_working_directory"] and job.stdout_path == raw["standard_output"]
        if name != "rest-slurm-jobs.json":
            assert (job.gpus, job.gpu_count) == GPUS.get(name, (None, None)), name


def test_squeue_failed_and_timed_out_jobs_of_23_11():
    failed = parse.squeue_json(json.dumps(load("23.11", "rest-slurm-job-failed.json")))[0]
    assert (failed.id, failed.state, failed.reason) == ("778", JobState.FAILED, "NonZeroExitCode")
    assert (failed.exit_code, failed.signal) == (1, None)
    timeout = parse.squeue_json(json.dumps(load("23.11", "rest-slurm-job-timeout.json")))[0]
    assert (timeout.state, timeout.reason) == (JobState.TIMEOUT, "TimeLimit")
    assert (timeout.exit_code, timeout.signal, timeout.signal_name) == (None, 15, "SIGTERM")
    many = by_id(parse.squeue_json(json.dumps(load("23.11", "rest-slurm-jobs.json"))))
    assert many["776"].signal == 15 and many["778"].exit_code == 1 and many["777"].exit_code == 0
    assert many["787"].state is JobState.PENDING and many["787"].reason == "Resources"


def test_squeue_keeps_only_the_given_users_jobs():
    text = json.dumps(load("23.11", "rest-slurm-jobs.json"))
    assert [job.id for job in parse.squeue_json(text, uid=10004)] == ["782", "783"]
    assert len(parse.squeue_json(text)) == 14


def pending(name: str) -> str:
    """A recorded running GPU job as it was before it started: what it asked for, nothing held."""
    doc = load("23.11", name)
    doc["jobs"][0].update(job_state=["PENDING"], gres_detail=[], tres_alloc_str="", nodes="")
    return json.dumps(doc)


@pytest.mark.parametrize("name,gpus", [
    ("rest-slurm-job-gpus-per-node.json", ("2", 2)),  # gres/gpu:1 per node x 2 nodes
    ("rest-slurm-job-gpus-per-task.json", ("4", 4)),  # gres/gpu:2 per task x 2 tasks
    ("rest-slurm-job-gpus-multi-types.json", ("h100:1,h200:1", 2)),  # both types count
    ("rest-slurm-job-gpus-multi-nodes.json", ("12", 12)),  # gres/gpu:12 per job
    ("rest-slurm-job-gpus-type.json", ("h100:1", 1)),
])
def test_gpus_asked_per_job_node_and_task(name, gpus):
    job = parse.squeue_json(pending(name))[0]
    assert job.state is JobState.PENDING and (job.gpus, job.gpu_count) == gpus


def test_gpus_asked_per_socket_have_no_total_until_the_job_runs(caplog, monkeypatch):
    monkeypatch.setattr(values, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="tritonml_lab.slurm"):
        job = parse.squeue_json(pending("rest-slurm-job-gpus-per-socket.json"))[0]
    assert (job.gpus, job.gpu_count) == (None, None)
    assert "per socket" in caplog.text
    doc = json.loads(pending("rest-slurm-job-gpus-per-socket.json"))
    doc["jobs"][0]["tres_req_str"] += ",gres/gpu=4"  # where the site accounts gres/gpu, slurmctld's total
    assert parse.squeue_json(json.dumps(doc))[0].gpus == "4"


# -- sacct --json -------------------------------------------------------------------------------------
SACCT = [("23.02", "cli-sacct.json"), ("24.11", "cli-sacct-allusers.json"), ("24.11", "cli-sacct-jobs.json")] + [
    ("23.11", p.name) for p in sorted((DATA / "slurm-23.11").glob("rest-slurmdb-job*.json"))]


def raw_exit(raw, state):
    """(code, signal) as the recording says: the job's own status, or its batch step's signal
    (23.x records a cancel or time-out as the job's 0 and the step's SIGTERM)."""
    exit_ = raw["exit_code"]
    status = exit_["status"] if isinstance(exit_["status"], list) else [exit_["status"]]
    code = num(exit_["return_code"]) if isinstance(exit_["return_code"], dict) else exit_["return_code"]
    if code == 0 and state is not JobState.COMPLETED:
        for step in raw["steps"]:
            if step["step"]["name"] == "batch" and step["exit_code"]["status"] == ["SIGNALED"]:
                return None, num(step["exit_code"]["signal"]["id"])
    assert status != ["SIGNALED"]
    return code, None


@pytest.mark.parametrize("release,name", SACCT)
def test_sacct_jobs_match_their_raw_json(release, name):
    doc = load(release, name)
    jobs = by_id(parse.sacct_json(json.dumps(doc)))
    assert len(jobs) == len(doc["jobs"]) > 0
    for raw in doc["jobs"]:
        task = raw["array"]["task_id"]
        task = num(task) if isinstance(task, dict) else task
        job = jobs[f"{raw['array']['job_id']}_{task}" if task is not None else str(raw["job_id"])]
        current = raw["state"]["current"]
        assert job.state.value == (current[0] if isinstance(current, list) else current)
        assert job.partition == raw["partition"] and job.user == raw["user"] and job.name == raw["name"]
        assert job.nodes == (None if raw["nodes"] == "None assigned" else raw["nodes"])
        times = raw["time"]
        assert job.submitted == times["submission"] and job.started == (times["start"] or None)
        assert job.ended == (times["end"] or None) and job.elapsed == times["elapsed"]
        assert job.time_limit == num(times["limit"])
        cpus = [t["count"] for t in raw["tres"]["allocated"] or raw["tres"]["requested"] if t["type"] == "cpu"]
        assert job.cpus == (cpus[0] if cpus else None)
        if job.state.is_finished:
            assert (job.exit_code, job.signal) == raw_exit(raw, job.state)
        else:
            assert (job.exit_code, job.signal) == (None, None)
        assert job.gpus is None  # these clusters account no GPU TRES


def test_sacct_failed_timed_out_and_cancelled_jobs():
    def one(release, name):
        return parse.sacct_json(json.dumps(load(release, name)))[0]

    failed = one("23.11", "rest-slurmdb-job-failed.json")
    assert (failed.state, failed.exit_code, failed.signal) == (JobState.FAILED, 1, None)
    timeout = one("23.11", "rest-slurmdb-job-timeout.json")
    assert (timeout.state, timeout.exit_code, timeout.signal, timeout.signal_name) == (
        JobState.TIMEOUT, None, 15, "SIGTERM")
    cancelled = one("23.11", "rest-slurmdb-job-archived.json")
    assert (cancelled.state, cancelled.exit_code, cancelled.signal) == (JobState.CANCELLED, None, 15)
    array_task = one("23.02", "cli-sacct.json")
    assert (array_task.id, array_task.array_job_id, array_task.array_task_id) == ("12078642_6", "12078642", "6")
    assert array_task.exit_code == 0 and array_task.time_limit == 90 and array_task.cpus == 10
    queued = by_id(parse.sacct_json(json.dumps(load("24.11", "cli-sacct-allusers.json"))))["6"]
    assert queued.state is JobState.PENDING and queued.nodes is None and queued.started is None


# -- sinfo --json, scontrol show nodes --json ---------------------------------------------------------
def summary(release: str, name: str):
    return parse.cluster_summary_json(json.dumps(load(release, name)))


def test_sinfo_23_02_lists_its_partition_with_nodes_and_cpus():
    """23.02's sinfo --json: a top-level "sinfo" list of node groups (22.05 printed "nodes")."""
    raw = load("23.02", "cli-sinfo.json")["sinfo"][0]
    (hw,) = summary("23.02", "cli-sinfo.json").partitions
    assert hw.name == raw["partition"]["name"] == "hw"
    assert hw.node_count == raw["nodes"]["total"] == 10 and hw.nodes == sorted(raw["nodes"]["nodes"])
    assert hw.cpus_total == raw["cpus"]["total"] == 640
    assert hw.cpus_idle == raw["cpus"]["idle"] == 0  # allocated+drain: no CPU free
    assert hw.time_limit_minutes == num(raw["partition"]["maximums"]["time"]) == 20160
    assert hw.gpus == [] and raw["gres"]["total"] == ""
    (debug,) = summary("23.02", "cli-sinfo-N.json").partitions
    assert (debug.name, debug.nodes, debug.cpus_total, debug.cpus_idle) == ("debug", ["localhost"], 1, 0)
    assert debug.time_limit_minutes is None  # infinite


def test_sinfo_24_11_lists_every_partition_of_a_node_once_each():
    doc = load("24.11", "cli-sinfo.json")
    result = summary("24.11", "cli-sinfo.json")
    assert [p.name for p in result.partitions] == [g["partition"]["name"] for g in doc["sinfo"]]
    for raw, partition in zip(doc["sinfo"], result.partitions):
        assert partition.nodes == raw["nodes"]["nodes"] == ["localhost"] and partition.node_count == 1
        assert (partition.cpus_total, partition.cpus_idle) == (raw["cpus"]["total"], raw["cpus"]["idle"]) == (2, 2)
        assert partition.time_limit_minutes == num(raw["partition"]["maximums"]["time"])
        assert partition.state == "UP" and partition.gpus == []
    assert [p.time_limit_minutes for p in result.partitions] == [7200, 2880, 2880]
    assert (result.gpus, result.gpus_total, result.gpus_free) == ([], 0, 0)


def test_scontrol_nodes_23_11_give_cpus_and_gpus_of_several_types():
    """scontrol show nodes --json (v0.0.40): no idle_cpus any more; two GPU types per node."""
    result = summary("23.11", "rest-slurm-nodes.json")
    by_name = {p.name: p for p in result.partitions}
    standard, ia = by_name["standard"], by_name["ia"]
    assert standard.nodes == ["cn1", "cn2", "cn3", "cn4"] and (standard.cpus_total, standard.cpus_idle) == (256, 19)
    assert standard.gpus == []  # cn1 drained and cn4 down: none of their CPUs is idle; cn2 has 19
    assert ia.nodes == ["ia1", "ia2"] and (ia.cpus_total, ia.cpus_idle) == (64, 64)
    assert {g.type: (g.total, g.free) for g in ia.gpus} == {"h100": (4, 4), "h200": (8, 8)}
    assert (result.gpus_total, result.gpus_free) == (12, 12)
    held = summary("23.11", "rest-slurm-node-with-gpus-allocated.json")
    assert {g.type: (g.total, g.free) for g in held.gpus} == {"h100": (2, 0), "h200": (4, 0)}
    mixed = summary("23.11", "rest-slurm-node-with-gpus-mixed.json")
    assert {g.type: (g.total, g.free) for g in mixed.gpus} == {"h100": (2, 1), "h200": (4, 4)}
    for name in ("rest-slurm-node-drain.json", "rest-slurm-node-down.json"):
        assert summary("23.11", name).partitions[0].cpus_idle == 0


def test_json_of_no_known_layout_is_an_error_not_an_empty_cluster():
    with pytest.raises(SlurmOutputError):
        parse.cluster_summary_json(json.dumps({"meta": {}, "partitions": []}))


def test_sacct_of_a_cancelled_job_whose_script_traps_sigterm():
    """As 24.11 records a cancelled tritonml-lab job, whose script traps SIGTERM and exits 143 (seen
    on the 24.11 lane): 0 on the job's line, 143 on its batch step."""
    doc = load("24.11", "cli-sacct-jobs.json")
    raw = doc["jobs"][0]
    raw["state"]["current"] = ["CANCELLED"]
    raw["steps"][0]["exit_code"] = {"status": ["ERROR"], "return_code": {"set": True, "infinite": False, "number": 143},
                                    "signal": {"id": {"set": False, "infinite": False, "number": 0}, "name": ""}}
    job = parse.sacct_json(json.dumps(doc))[0]
    assert (job.state, job.exit_code, job.signal, job.signal_name) == (JobState.CANCELLED, 143, 15, "SIGTERM")


# -- this project's 24.11 lane (data/slurm-24.11/PROVENANCE.md) ---------------------------------------
def test_squeue_of_the_24_11_lane():
    jobs = by_id(parse.squeue_json(json.dumps(load("24.11", "lane-squeue.json"))))
    assert (jobs["134"].state, jobs["134"].exit_code, jobs["134"].signal) == (JobState.FAILED, 3, None)
    # 2 tasks x tres_per_task "gres/gpu=1" (24.11's spelling), held as gres_detail "gpu:h100:2(IDX:0-1)".
    assert (jobs["135"].state, jobs["135"].gpus, jobs["135"].gpu_count) == (JobState.RUNNING, "h100:2", 2)
    assert (jobs["136"].gpus, jobs["136"].nodes) == ("a100:1", "gpu2")
    # Pending: gres/gpu:1 per node on 2 nodes.
    assert (jobs["137"].state, jobs["137"].reason, jobs["137"].gpus) == (JobState.PENDING, "Resources", "2")
    assert (jobs["138"].state, jobs["138"].exit_code, jobs["138"].signal, jobs["138"].signal_name) == (
        JobState.CANCELLED, None, 15, "SIGTERM")
    assert (jobs["139"].state, jobs["139"].exit_code, jobs["139"].signal) == (JobState.CANCELLED, 143, 15)


def test_sacct_of_the_24_11_lane():
    jobs = by_id(parse.sacct_json(json.dumps(load("24.11", "lane-sacct.json"))))
    assert (jobs["134"].state, jobs["134"].exit_code, jobs["134"].signal) == (JobState.FAILED, 3, None)
    assert (jobs["135"].state, jobs["135"].exit_code, jobs["135"].signal) == (JobState.CANCELLED, None, 15)
    assert (jobs["135"].gpus, jobs["136"].gpus) == ("2", "1")  # gres/gpu, untyped, in AllocTRES
    assert (jobs["137"].state, jobs["137"].exit_code, jobs["137"].signal, jobs["137"].started) == (
        JobState.CANCELLED, None, None, None)  # cancelled before it started: no status, not 0
    assert (jobs["138"].exit_code, jobs["138"].signal_name) == (None, "SIGTERM")
    assert (jobs["139"].exit_code, jobs["139"].signal) == (143, 15)


def test_sinfo_text_and_json_of_the_24_11_lane_agree():
    text = parse.cluster_summary((DATA / "slurm-24.11" / "lane-sinfo-format.txt").read_text())
    json_ = parse.cluster_summary_json(json.dumps(load("24.11", "lane-sinfo.json")))
    by_name = {p.name: p for p in text.partitions}
    assert {g.type: (g.total, g.free) for g in text.gpus} == {"h100": (2, 0), "a100": (2, 1)}
    assert (by_name["gpu-debug"].cpus_total, by_name["gpu-debug"].cpus_idle) == (16, 13)  # "mixed+planned"
    assert by_name["batch-csl"].default and by_name["gpu-debug"].time_limit_minutes == 30
    keys = {"name", "nodes", "node_count", "cpus_total", "cpus_idle", "gpus", "time_limit_minutes", "state"}
    assert [p.model_dump(include=keys) for p in text.partitions] == [
        p.model_dump(include=keys) for p in json_.partitions]
    assert (text.gpus, text.gpus_total, text.gpus_free) == (json_.gpus, 4, 1)
