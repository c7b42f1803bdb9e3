"""The spec is validated as the job gets it: with the admin's defaults applied first (issue 23). A
checkpoint.warn longer than the site's default time limit is refused like one longer than an explicit
time, by the API (400) and by the magic, before anything is written or submitted."""

import json
import os

import pytest
from tornado.httpclient import HTTPClientError

from tritonml_lab.jobs.script import Defaults, render_script
from tritonml_lab.jobs.server_defaults import DEFAULTS_ENV
from tritonml_lab.jobs.spec import JobSpec, field_errors, resolve

from .jobs_root import leftovers

pytestmark = pytest.mark.usefixtures("slurm_cluster")

DEFAULT_TIME = "00:01:00"


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["TritonML"].update(default_time=DEFAULT_TIME)
    yield jp_server_config
    os.environ.pop(DEFAULTS_ENV, None)  # the server exports its defaults into this process


async def error_of(request):
    with pytest.raises(HTTPClientError) as info:
        await request
    return info.value.code, json.loads(info.value.response.body)


async def test_a_warn_longer_than_the_default_time_is_a_400(jp_fetch, jobs_root):
    body = json.dumps({"command": "true", "checkpoint": {"warn": "5m", "requeue": 1}})
    for path in ("jobs", "jobs/preview"):
        code, error = await error_of(jp_fetch("tritonml", *path.split("/"), method="POST", body=body))
        assert code == 400 and error["reason"] == "invalid", error
        message = error["message"]
        assert "checkpoint.warn (300s) must be shorter than the time limit (00:01:00, the site's default" in message
        assert "give a shorter warn or a longer time" in message
    assert leftovers(jobs_root) == []  # no job directory, no job
    # A warn that fits the default, or a time of its own that the warn fits: accepted.
    for ok in ({"command": "true", "checkpoint": {"warn": "30s"}},
               {"command": "true", "time": "00:10:00", "checkpoint": {"warn": "5m"}}):
        script = json.loads((await jp_fetch("tritonml", "jobs", "preview", method="POST", body=json.dumps(ok))).body)
        assert "#SBATCH --signal=B:USR1@" in script["script"]


def test_the_magic_refuses_it_and_submits_nothing(shell, magics, jobs_root, capsys, tmp_path):
    saved = magics.defaults
    magics.defaults = Defaults(time=DEFAULT_TIME, sampler_python=None)
    magics.last_job = None
    try:
        for line in ("submit --warn 5m --requeue 1", "submit --warn 5m --dry-run"):
            result = shell.run_cell(f"%%tritonml {line}\nprint('never runs')\n")
            error = result.error_in_exec
            assert type(error).__name__ == "UsageError", error
            assert "nothing was submitted" in str(error)
            assert "--warn/--requeue" in str(error) or "spec" in str(error)
            assert "must be shorter than the time limit (00:01:00, the site's default" in str(error), str(error)
        assert magics.last_job is None and leftovers(jobs_root) == []
        # A sweep's array jobs are rendered with the same defaults.
        result = shell.run_cell("%%tritonml sweep --grid x=1,2 --warn 5m\nprint(x)\n")
        assert type(result.error_in_exec).__name__ == "UsageError", result.error_in_exec
        assert "must be shorter than the time limit (00:01:00, the site's default" in str(result.error_in_exec)
        assert leftovers(jobs_root) == []
        # A notebook run too, checked with the defaults before its notebook is read or copied.
        (tmp_path / "notebooks").mkdir()
        notebook = tmp_path / "notebooks" / "nb.ipynb"
        notebook.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        with pytest.raises(Exception) as info:
            shell.run_line_magic("tritonml", f"run-notebook {notebook} --warn 5m")
        assert type(info.value).__name__ == "UsageError" and "nothing was submitted" in str(info.value)
        assert "must be shorter than the time limit (00:01:00, the site's default" in str(info.value), info.value
        assert leftovers(jobs_root) == [] and sorted(p.name for p in notebook.parent.iterdir()) == ["nb.ipynb"]
        # --time of its own: the same --warn is fine.
        assert shell.run_cell("%%tritonml submit --warn 5m --time 00:10:00 --dry-run\nprint(1)\n").success
        assert "#SBATCH --time=00:10:00" in capsys.readouterr().out
    finally:
        magics.defaults = saved
        if magics._launcher is not None:  # made for these defaults: its submission thread ends with it
            magics._launcher.close()
        magics._launcher = magics._sweeps = None


def test_resolve_fills_the_defaults_and_validates_once():
    defaults = Defaults(partition="gpu-debug", time=DEFAULT_TIME, mem="4g", sampler_python=None)
    spec = JobSpec(command="true", checkpoint={"warn": "5m"})  # valid alone: no time of its own
    with pytest.raises(Exception) as info:
        resolve(spec, defaults)
    assert [e["field"] for e in field_errors(info.value)] == ["spec"]
    with pytest.raises(Exception):
        render_script(spec, defaults, "/jobs/job-1")  # every way into a script resolves first
    resolved = resolve(JobSpec(command="true", checkpoint={"warn": "30s"}), defaults)
    assert (resolved.partition, resolved.time, resolved.mem) == ("gpu-debug", DEFAULT_TIME, "4G")
    script = render_script(JobSpec(command="true"), defaults, "/jobs/job-1")
    assert "#SBATCH --partition=gpu-debug    # site default" in script and "#SBATCH --time=00:01:00" in script
    # A default Slurm takes but the spec's rules would not (no limit, several partitions): rendered as
    # the admin gave it, and the warn cannot be checked against it.
    odd = Defaults(partition="batch-csl,gpu-debug", time="UNLIMITED", sampler_python=None)
    script = render_script(JobSpec(command="true", checkpoint={"warn": "5m"}), odd, "/jobs/job-1")
    assert "#SBATCH --partition=batch-csl,gpu-debug" in script and "#SBATCH --time=UNLIMITED" in script
