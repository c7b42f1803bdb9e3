"""The value shapes Slurm's releases print (values.py, exitcode.py, gres.py, hostlist.py) and the
version string, one case per shape; the recorded outputs test them in context."""

import logging

import pytest

from tritonml_lab.slurm import JobState, parse, parse_version, values
from tritonml_lab.slurm.errors import SlurmOutputError
from tritonml_lab.slurm.exitcode import ExitStatus, read, signal_name
from tritonml_lab.slurm.gres import format_gpus, tres_gpus
from tritonml_lab.slurm.hostlist import expand
from tritonml_lab.slurm.sinfo import SINFO_FIELDS, SINFO_FORMAT
from tritonml_lab.slurm.values import data_parser, epoch, number, release


@pytest.mark.parametrize("text,release_,known,parser", [
    ("slurm 22.05.8\n", "22.05.8", True, "v0.0.38"),
    ("slurm-wlm 22.05.8", "22.05.8", True, "v0.0.38"),  # Debian 12
    ("slurm 23.02.7", "23.02.7", True, "v0.0.39"),
    ("slurm 23.11.10", "23.11.10", True, "v0.0.40"),
    ("slurm 24.05.4", "24.05.4", True, "v0.0.41"),
    ("slurm-wlm 24.11.5", "24.11.5", True, "v0.0.42"),  # Debian 13
    ("slurm 25.05.0-0rc1", "25.05.0", True, "v0.0.43"),
])
def test_known_versions(text, release_, known, parser, caplog):
    with caplog.at_level(logging.WARNING, logger="tritonml_lab.slurm"):
        version = parse_version(text)
    assert (version.release, version.known, version.data_parser) == (release_, known, parser)
    assert version.major * 100 + version.minor == int(release_[:2]) * 100 + int(release_[3:5])
    assert caplog.text == ""


@pytest.mark.parametrize("text,release_,where", [
    ("slurm 21.08.8", "21.08.8", "older than"),
    ("slurm 25.11.1", "25.11.1", "newer than"),
    ("slurm 26.05", "26.05", "newer than"),
])
def test_unknown_versions_are_logged_once_and_parsed_best_effort(text, release_, where, caplog):
    with caplog.at_level(logging.WARNING, logger="tritonml_lab.slurm"):
        version = parse_version(text)
    assert version.release == release_ and not version.known and version.data_parser is None
    assert len(caplog.records) == 1 and where in caplog.text and "22.05 to 25.05" in caplog.text


def test_an_unreadable_version_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="tritonml_lab.slurm"):
        version = parse_version("sinfo: error: something\n")
    assert version.release is None and version.major is None and "cannot read a Slurm release" in caplog.text


@pytest.mark.parametrize("value,status", [
    (0, ExitStatus(code=0)),
    (768, ExitStatus(code=3)),  # squeue 22.05: the raw wait status
    (15, ExitStatus(signal=15, signal_name="SIGTERM")),
    ({"status": "SUCCESS", "return_code": 0}, ExitStatus(code=0)),  # sacct 22.05, 23.02
    ({"status": "ERROR", "return_code": 2}, ExitStatus(code=2)),  # 23.02
    ({"status": "SIGNALED", "return_code": None, "signal": {"signal_id": 9, "name": "Killed"}},
     ExitStatus(signal=9, signal_name="SIGKILL")),  # 22.05: strsignal's name
    ({"status": ["ERROR"], "return_code": {"set": True, "infinite": False, "number": 3},
      "signal": {"id": {"set": False, "infinite": False, "number": 0}, "name": ""}}, ExitStatus(code=3)),  # 23.11+
    ({"status": ["SIGNALED"], "return_code": {"set": False, "infinite": False, "number": 0},
      "signal": {"id": {"set": True, "infinite": False, "number": 15}, "name": "TERM"}},
     ExitStatus(signal=15, signal_name="SIGTERM")),
    ({"status": ["SIGNALED"], "signal": {"name": "KILL"}}, ExitStatus(signal=9, signal_name="SIGKILL")),
    ({"status": ["PENDING"], "return_code": {"set": False, "infinite": False, "number": 0}}, None),
    (None, None),
    ({"set": True, "infinite": False, "number": 256}, ExitStatus(code=1)),  # a wrapped wait status
])
def test_exit_status_of_every_shape(value, status):
    assert read(value) == status


def test_signal_names():
    assert signal_name(15, "Terminated") == "SIGTERM" and signal_name(None, "TERM") == "SIGTERM"
    assert signal_name(None, "SIGUSR1") == "SIGUSR1" and signal_name(None, "Mystery") == "Mystery"


def test_numbers_timestamps_and_meta_of_every_release():
    assert number(5) == number("5") == number({"set": True, "infinite": False, "number": 5}) == 5
    assert number({"set": False, "number": 5}) is None and number({"set": True, "infinite": True}) is None
    assert number(4294967295) is None and number(True) is None and number("n/a") is None  # 22.05's INFINITE
    assert epoch(0) is None and epoch({"set": True, "infinite": False, "number": 0}) is None and epoch(17) == 17.0
    assert data_parser({"meta": {"plugin": {"type": "openapi/dbv0.0.38"}}}) == "v0.0.38"
    assert data_parser({"meta": {"plugins": {"data_parser": "data_parser/v0.0.39"}}}) == "v0.0.39"
    assert data_parser({"meta": {"plugin": {"type": "", "data_parser": "data_parser/v0.0.42"}}}) == "v0.0.42"
    assert release({"meta": {"Slurm": {"release": "22.05.8"}}}) == "22.05.8"
    assert release({"meta": {"slurm": {"release": "24.11.3"}}}) == "24.11.3" and release({}) is None


@pytest.mark.parametrize("flags,state", [
    (["RUNNING"], JobState.RUNNING),
    (["RUNNING", "COMPLETING"], JobState.COMPLETING),  # as 22.05 prints it: the flag names the state
    (["PENDING", "REQUEUED"], JobState.REQUEUED),
    (["CANCELLED", "LAUNCH_FAILED"], JobState.CANCELLED),
    (["OUT_OF_MEMORY"], JobState.OUT_OF_MEMORY),
    ([], JobState.UNKNOWN),
])
def test_job_state_flag_lists(flags, state):
    assert JobState.parse(flags) is state


@pytest.mark.parametrize("tres,counts", [
    ("cpu=1,mem=1000M,node=1,billing=1,gres/gpu=2", {None: 2}),  # tres_req_str / alloc_str
    ("billing=1,cpu=1,gres/gpu:h100=2,gres/gpu=2,mem=1G", {"h100": 2}),  # sacct AllocTRES, typed accounting
    ("gres/gpu:a100=1,gres/gpu:h100=1,gres/gpu=3", {"a100": 1, "h100": 1, None: 1}),
    ("gres:gpu:h100:2", {"h100": 2}),  # 22.05 tres_per_job
    ("gres:gpu:1", {None: 1}),
    ("gres/gpu:h100:1,gres/gpu:h200:1", {"h100": 1, "h200": 1}),  # 23.11 tres_per_node, two types
    ("gres/gpu", {None: 1}),
    ("gres/shard:4,license/matlab=1", {}),
    ("", {}),
    ([{"type": "gres", "name": "gpu", "count": 6}, {"type": "gres", "name": "gpu:h100", "count": 2},
      {"type": "gres", "name": "gpu:h200", "count": 4}, {"type": "cpu", "name": "", "count": 2}],
     {"h100": 2, "h200": 4}),  # sacct --json
])
def test_gpu_tres_of_every_notation(tres, counts):
    assert tres_gpus(tres) == counts


def test_gpu_formatting_and_host_lists():
    assert format_gpus({"h200": 4, "h100": 2}) == "h100:2,h200:4" and format_gpus({None: 6}) == "6"
    assert format_gpus({}) is None and format_gpus({"h100": 0}) is None
    assert expand("gpu[1-2,5],csl1") == ["gpu1", "gpu2", "gpu5", "csl1"]
    assert expand("r[1-2]n[09-10]") == ["r1n09", "r1n10", "r2n09", "r2n10"] and expand("") == []


def test_the_sinfo_format_prints_every_field_whole():
    fields = SINFO_FORMAT.split(",")
    assert [f.split(":")[0] for f in fields] == list(SINFO_FIELDS)
    assert all(f.split(":")[1].rstrip("|") == "0" for f in fields)  # width 0: no padding, no truncation


def test_json_without_a_jobs_list_is_an_error_not_an_empty_queue():
    for parser in (parse.squeue_json, parse.sacct_json):
        with pytest.raises(SlurmOutputError):
            parser('{"meta": {}, "job_list": []}')
        assert parser('{"jobs": []}') == []


def test_a_json_layout_newer_than_known_is_logged_once_and_read(caplog, monkeypatch):
    monkeypatch.setattr(values, "_warned", set())
    doc = '{"meta": {"plugin": {"data_parser": "data_parser/v0.0.44"}, "slurm": {"release": "25.11.0"}}, "jobs": []}'
    with caplog.at_level(logging.WARNING, logger="tritonml_lab.slurm"):
        assert parse.squeue_json(doc) == [] and parse.squeue_json(doc) == []
    assert len(caplog.records) == 1 and "v0.0.44 (Slurm 25.11.0)" in caplog.text
