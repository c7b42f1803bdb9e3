"""Issue 23, "Also": recorded real output mutated to shapes Slurm did not print, field by field.

A field of an unexpected JSON type (a string where Slurm puts an object or a list, an object where it
puts a string) must give that field None and leave the others as recorded, or, where the record
cannot be read at all, the typed SlurmOutputError: never an AttributeError or TypeError that the job
monitor would log as a traceback instead of showing an error state. And sacct's text fields with
an unreadable number give None, not ValueError.
"""

import copy
import json
from pathlib import Path

import pytest

from tritonml_lab.slurm import parse
from tritonml_lab.slurm.efficiency import EFFICIENCY_FORMAT, cpu_seconds, sacct_efficiency, size_bytes
from tritonml_lab.slurm.errors import SlurmOutputError
from tritonml_lab.slurm.sinfo import cluster_summary_json

DATA = Path(__file__).parent / "data"
ODD = ["x", 7, {"x": 1}, ["x"], True]  # what a field may hold instead of its recorded shape

JOB_FILES = {
    "squeue": ["slurm-22.05/squeue-me.json", "slurm-24.11/lane-squeue.json", "slurm-24.11/cli-scontrol-show-job.json",
               "slurm-23.11/rest-slurm-jobs.json", "slurm-23.11/rest-slurm-job-gpus-running.json"],
    "sacct": ["slurm-22.05/sacct.json", "slurm-23.02/cli-sacct.json", "slurm-24.11/lane-sacct.json",
              "slurm-24.11/cli-sacct-jobs.json", "slurm-23.11/rest-slurmdb-job-timeout.json"],
}
PARSERS = {"squeue": parse.squeue_json, "sacct": parse.sacct_json}
# Fields that make the job what it is: with them unreadable the other fields are not compared.
IDENTITY = {"job_id", "array_job_id", "array_task_id", "array", "state", "job_state", "submit_time", "time"}


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def cases():
    for kind, names in JOB_FILES.items():
        for name in names:
            yield pytest.param(kind, name, id=f"{kind}-{name}")


@pytest.mark.parametrize("kind,name", list(cases()))
def test_every_field_of_an_unexpected_type(kind, name):
    doc = load(name)
    parser = PARSERS[kind]
    recorded = {job.id: job for job in parser(json.dumps(doc))}
    assert recorded, "the recorded output has jobs"
    raw = doc["jobs"][0]
    job_id = [j for j in parser(json.dumps({**doc, "jobs": [raw]}))][0].id
    checked = 0
    for key in raw:
        for odd in ODD:
            if type(odd) is type(raw[key]):
                continue
            mutated = copy.deepcopy(doc)
            mutated["jobs"] = [{**raw, key: odd}]
            try:
                (job,) = parser(json.dumps(mutated))
            except SlurmOutputError:
                # The typed error (the monitor's error state), only where the job itself is unreadable.
                assert key in IDENTITY, (key, odd)
                continue
            checked += 1
            if key in IDENTITY:
                continue
            same = recorded[job_id]
            assert (job.id, job.name if key != "name" else same.name, job.state) == (same.id, same.name, same.state), \
                (key, odd)
    assert checked > 10


@pytest.mark.parametrize("meta", ["x", 7, ["x"]])
def test_a_meta_of_an_unexpected_type(meta):
    doc = load("slurm-24.11/lane-sacct.json")
    jobs = parse.sacct_json(json.dumps({**doc, "meta": meta}))
    assert [job.id for job in jobs] == [job.id for job in parse.sacct_json(json.dumps(doc))]


@pytest.mark.parametrize("key", ["state", "time", "array", "tres", "steps", "exit_code"])
def test_sacct_objects_given_as_strings_read_what_they_can(key):
    """24.11's sacct record with one object written as a plain string: its fields are None, the
    others as recorded (values checked against the recording)."""
    doc = load("slurm-24.11/lane-sacct.json")
    recorded = parse.sacct_json(json.dumps(doc))[0]
    raw = doc["jobs"][0]
    mutated = {**doc, "jobs": [{**raw, key: "COMPLETED" if key == "state" else "x"}]}
    job = parse.sacct_json(json.dumps(mutated))[0]
    assert job.id == recorded.id and job.name == recorded.name and job.user == recorded.user
    if key == "state":  # a state written as its name is still that state
        assert job.state.value == "COMPLETED"
    elif key == "time":
        assert job.submitted is None and job.started is None and job.elapsed is None
    elif key == "tres":
        assert job.cpus is None and job.gpus is None
    else:
        assert job.state is recorded.state


@pytest.mark.parametrize("name", ["slurm-24.11/lane-sinfo.json", "slurm-23.02/cli-sinfo.json",
                                  "slurm-22.05/sinfo-nodes.json"])
def test_sinfo_records_of_unexpected_types(name):
    doc = load(name)
    key = "sinfo" if "sinfo" in doc else "nodes"
    raw = doc[key][0]
    for field in raw:
        for odd in ODD:
            if type(odd) is type(raw[field]):
                continue
            try:
                cluster_summary_json(json.dumps({**doc, key: [{**raw, field: odd}]}))
            except SlurmOutputError:
                pass


def test_an_unexpected_shape_past_the_readers_is_the_typed_error():
    """The last guard: whatever a reader did not foresee becomes SlurmOutputError, with what it was."""
    from tritonml_lab.slurm.values import guarded

    with pytest.raises(SlurmOutputError, match="sacct --json printed a field of an unexpected type"):
        guarded("sacct --json", lambda: "x".get("current"))


def test_sacct_text_with_unreadable_numbers():
    """TotalCPU with a day part that is not a number, sizes with two dots: None, not ValueError."""
    assert cpu_seconds("x-01:00:00") is None and cpu_seconds("1-00:00:01") == 86401.0
    assert size_bytes("1.2.3G") is None and size_bytes("1.5G") == int(1.5 * (1 << 30))
    assert EFFICIENCY_FORMAT.split(",")[:4] == ["JobID", "State", "ElapsedRaw", "TotalCPU"]
    line = "77|COMPLETED|120|x-00:01:00|2|4G|1.2.3G|10|billing=2,cpu=2,mem=4G,node=1"
    figures = sacct_efficiency(line)
    assert figures["cpu_used_seconds"] is None and figures["cpu_efficiency"] is None
    assert figures["elapsed_seconds"] == 120 and figures["cpus"] == 2 and figures["memory_peak_bytes"] is None
    assert figures["time_limit_seconds"] == 600 and figures["state"] == "COMPLETED"


def test_a_record_still_running_is_not_complete():
    """The job's script has ended (its exit marker says so) while sacct still says RUNNING, without
    its CPU time: the figures wait (None in the report) rather than show 0 % used."""
    running = "78|RUNNING|9|00:00:00|2|2G||30|billing=2,cpu=2,mem=2G,node=1"
    ended = "78|COMPLETED|9|00:00:16|2|2G||30|billing=2,cpu=2,mem=2G,node=1\n78.batch|COMPLETED|9|00:00:16|2||110M||"
    assert sacct_efficiency(running)["complete"] is False and sacct_efficiency(running)["state"] == "RUNNING"
    figures = sacct_efficiency(ended)
    assert figures["complete"] is True and figures["cpu_used_seconds"] == 16.0
    assert figures["memory_peak_bytes"] == 110 * (1 << 20)
