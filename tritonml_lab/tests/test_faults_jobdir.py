"""A job directory deleted while its job runs (a clean-up script, a user's rm -r): the job is still
listed and followed from Slurm, its missing logs are a clear 404, and nothing answers 500."""

import asyncio
import json
import shutil
import time
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from .job_waits import in_state, wait_detail
from .test_jobs_api import post_job

pytestmark = pytest.mark.usefixtures("slurm_cluster")


async def test_a_job_whose_directory_vanished_is_still_followed(jp_fetch, jobs_root):
    job = await post_job(jp_fetch, partition="batch-csl", time="00:05:00", command="echo start; sleep 4; echo end")
    await wait_detail(jp_fetch, job["id"], in_state("RUNNING"))
    # Deleted once the job's sampler writes its file: a sampler still starting (a second or more of
    # Python start-up on a loaded machine) makes the missing directory again for its samples, and
    # the job's log is then a 200 "missing", not the 404 of a directory that is gone.
    deadline = time.monotonic() + 30
    while not list(Path(job["directory"]).glob("samples.*.jsonl")):
        assert time.monotonic() < deadline, "the job's sampler never wrote its samples"
        await asyncio.sleep(0.2)
    shutil.rmtree(job["directory"])
    listed = json.loads((await jp_fetch("tritonml", "jobs")).body)
    assert job["id"] in {j["id"] for j in listed["jobs"]}
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("tritonml", "jobs", job["id"], "log")
    assert info.value.code == 404 and job["id"] in json.loads(info.value.response.body)["message"]
    detail = await wait_detail(jp_fetch, job["id"], in_state("COMPLETED", "FAILED"))
    assert detail["state"] in ("COMPLETED", "FAILED") and detail["id"] == job["id"]
