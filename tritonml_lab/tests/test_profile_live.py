"""--profile on the real local cluster (issue 25): a CPU PyTorch training job submitted through the API
with profile "torch" gets a Profile with its top operators and its data-wait share, and its trace to
download; a Python without torch still runs and says why there is no profile; the magic's --profile."""

import gzip
import json
import sys
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from .openapi_check import get_ok
from .test_jobs_api import post_job, read_log, wait_done

pytestmark = pytest.mark.usefixtures("slurm_cluster")

# A slow Dataset (30 ms per sample, no workers), a tiny model: the loop waits for data most of each step.
TRAIN = (Path(__file__).parent / "data" / "profile-slow-train.py").read_text()


async def test_cpu_torch_job_with_profile_gets_its_summary(jp_fetch, jobs_root):
    pytest.importorskip("torch")
    job = await post_job(jp_fetch, name="profiled", profile="torch", time="00:05:00", code=TRAIN,
                         python=sys.executable)
    assert job["spec"]["profile"] == "torch"
    detail = await wait_done(jp_fetch, job["id"], timeout=150)
    stdout = (await read_log(jp_fetch, job["id"]))["data"]
    assert detail["state"] == "COMPLETED", (stdout, (await read_log(jp_fetch, job["id"], "stderr"))["data"])
    assert "trained 14" in stdout
    profile = await get_ok(jp_fetch, "/jobs/{job_id}/profile", "jobs", job["id"], "profile")
    assert profile["mode"] == "torch" and profile["state"] == "recorded", profile
    s = profile["summary"]
    assert s["steps"] == 5 and s["top_by"] == "cpu" and s["device"] is None
    assert any(op["name"].startswith("aten::") for op in s["top"]), s["top"]
    assert s["data_wait_share"] > 0.4, s  # 8 samples x 30 ms per step, a tiny model (on a busy CI machine)
    assert profile["advice"] and "waiting for the DataLoader" in profile["advice"][0]
    assert profile["file"]["name"] == "trace.job.json.gz"
    # The job's detail carries the share in its samples summary: its advice and suggestion use it.
    detail = json.loads((await jp_fetch("tritonml", "jobs", job["id"])).body)
    assert detail["metrics"]["data_wait_share"] == pytest.approx(s["data_wait_share"]), detail["metrics"]
    response = await jp_fetch("tritonml", "jobs", job["id"], "profile", "trace")
    assert response.headers["Content-Type"] == "application/gzip"
    assert "traceEvents" in json.loads(gzip.decompress(response.body))


async def test_a_python_without_torch_still_runs_and_says_why(jp_fetch, jobs_root):
    # PYTHONPATH cleared as in a real server's jobs: pytest-jupyter puts the test runner's sys.path
    # (Python 3.11's standard library) there, which the 24.11 lane's Python 3.13 cannot load.
    job = await post_job(jp_fetch, name="no-torch", profile="torch", time="00:02:00",
                         code="print('plain python')", python="/usr/bin/python3", env={"PYTHONPATH": ""})
    detail = await wait_done(jp_fetch, job["id"], timeout=90)
    assert detail["state"] == "COMPLETED"
    profile = await get_ok(jp_fetch, "/jobs/{job_id}/profile", "jobs", job["id"], "profile")
    assert profile["state"] == "no-torch" and profile["summary"] is None and profile["file"] is None
    assert "not installed" in profile["message"] or "did not import torch" in profile["message"]
    plain = await post_job(jp_fetch, name="plain", time="00:02:00", command="true")
    profile = await get_ok(jp_fetch, "/jobs/{job_id}/profile", "jobs", plain["id"], "profile")
    assert profile["state"] == "none" and profile["mode"] is None
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("tritonml", "jobs", job["id"], "profile", "trace")
    assert info.value.code == 404
    await jp_fetch("tritonml", "jobs", plain["id"], method="DELETE")  # may still be pending: not left queued


def test_magic_profile_option(magics, capsys):
    magics.tritonml("submit --profile --dry-run", "print(1)")
    script = capsys.readouterr().out
    assert "export TRITONML_PROFILE=torch" in script and "profile-hook" in script
    magics.tritonml("submit --profile nsys --dry-run", "print(1)")
    assert "tritonml_nsys=(nsys profile" in capsys.readouterr().out
