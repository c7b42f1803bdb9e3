"""Misconfiguration explains itself: GET tritonml/status, the not-started routes, and `%tritonml` alone."""

import json
import os
import sys

import pytest
from IPython.core.error import UsageError
from tornado.httpclient import HTTPClientError

from tritonml_lab.connection import CATALOG_ROOTS_ENV, Connection, SlurmInfo
from tritonml_lab.jobs.paths import JOBS_ROOT_ENV
from tritonml_lab.jobs.server_defaults import DEFAULTS_ENV

pytestmark = pytest.mark.usefixtures("slurm_cluster")


async def test_a_started_extension_says_ok(jp_fetch):
    status = json.loads((await jp_fetch("tritonml", "status")).body)
    assert status["ok"] is True and status["reason"] is None and status["version"]


class TestABadSetting:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        jp_server_config["TritonML"]["catalog_roots"] = ["dldata=/ok/path", "shared data"]
        return jp_server_config

    async def test_status_names_the_setting_and_every_route_repeats_it(self, jp_fetch):
        status = json.loads((await jp_fetch("tritonml", "status")).body)
        assert status["ok"] is False
        assert "c.TritonML.catalog_roots" in status["reason"] and "'shared data'" in status["reason"]
        for parts, method in ((("cluster",), "GET"), (("jobs", "123"), "GET"), (("jobs",), "POST")):
            with pytest.raises(HTTPClientError) as err:
                await jp_fetch("tritonml", *parts, method=method, **({"body": "{}"} if method == "POST" else {}))
            body = json.loads(err.value.response.body)
            assert err.value.code == 500 and body["reason"] == "not_started"
            assert body["message"].startswith("tritonml-lab could not start: c.TritonML.catalog_roots")
            assert body["message"].endswith("tell your admins")

    async def test_status_needs_a_login(self, jp_fetch):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("tritonml", "status", headers={"Authorization": ""})
        assert err.value.code == 403


class TestABrokenInstall:
    @pytest.fixture
    def jp_server_config(self, jp_server_config, monkeypatch):
        monkeypatch.setitem(sys.modules, "tritonml_lab.server.handlers", None)  # its import now fails
        return jp_server_config

    async def test_status_says_the_install_is_broken(self, jp_fetch):
        status = json.loads((await jp_fetch("tritonml", "status")).body)
        assert status["ok"] is False
        assert "Error: " in status["reason"] and "tritonml_lab.server.handlers" in status["reason"]
        assert "installation of tritonml-lab or of a package it needs is broken" in status["reason"]


@pytest.fixture
def kernel_env(monkeypatch, jobs_root):
    for name in (DEFAULTS_ENV, CATALOG_ROOTS_ENV, JOBS_ROOT_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_magic_alone_reports_a_server_kernel(magics, kernel_env, capsys, jobs_root):
    kernel_env.setenv(DEFAULTS_ENV, json.dumps({"partition": "gpu-debug", "time": "00:10:00"}))
    kernel_env.setenv(CATALOG_ROOTS_ENV, json.dumps({"dldata": "/scratch/shareddata/dldata"}))
    magics.tritonml("")
    out = capsys.readouterr().out
    assert "cluster:      triton-dev, Slurm " in out
    version = [line for line in out.splitlines() if "cluster:" in line][0].rsplit(" ", 1)[1]
    assert version.count(".") == 2, out  # e.g. 22.05.8, as `sinfo --version` says
    assert "mode:         server" in out
    assert f"jobs root:    {jobs_root} (from this kernel's TritonMLMagics.jobs_root)" in out
    assert "job defaults: partition=gpu-debug, time=00:10:00" in out
    assert "shared data:  dldata=/scratch/shareddata/dldata" in out


def test_the_magic_alone_reports_a_stand_alone_kernel_and_an_unreachable_slurm(magics, kernel_env, capsys):
    magics.jobs_root = ""
    kernel_env.setenv("WRKDIR", "/tmp/wrk")
    magics.slurm_bin_dir, magics._slurm = "/nonexistent/slurm/bin", None
    try:
        magics.tritonml("")
    finally:
        magics.slurm_bin_dir, magics._slurm = "", None
    out = capsys.readouterr().out
    assert "cluster:      Slurm cannot be asked: " in out
    assert "mode:         stand-alone" in out and "(built in)" in out
    assert "jobs root:    /tmp/wrk/tritonml/jobs (from $WRKDIR)" in out
    assert "shared data:  not known to this kernel" in out


def test_help_still_prints_the_reference(magics, capsys):
    magics.tritonml("help")
    assert "%%tritonml submit [options]" in capsys.readouterr().out


def test_last_is_the_last_submission_of_this_notebook(magics, capsys):
    magics.last_job, magics.last_sweep = None, None
    with pytest.raises(UsageError, match="No job was submitted from this notebook yet"):
        magics.tritonml("status last")
    with pytest.raises(UsageError, match="No sweep was submitted"):
        magics.tritonml("sweep-results last")
    magics.tritonml("submit --partition batch-csl --time 0:02:00 --wait", "print('hello from last')\n")
    job_id = magics.last_job[0]
    capsys.readouterr()
    magics.tritonml("status last")
    assert f"Job {job_id}" in capsys.readouterr().out


def test_connection_lines_without_slurm_answers():
    conn = Connection.of_kernel(SlurmInfo(), environ={JOBS_ROOT_ENV: "/w/jobs"})
    text = "\n".join(conn.lines("1.0"))
    assert "unnamed cluster, Slurm version unknown" in text and "/w/jobs (from $TRITONML_JOBS_ROOT)" in text
    assert os.path.isabs(conn.jobs_root)
