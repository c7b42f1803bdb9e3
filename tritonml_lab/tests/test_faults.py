"""Faults of the filesystem under the jobs root, against the real cluster: a clear answer, nothing
submitted, and no half-written directory. (The tests run as root, as CI does: a tmpfs of their own
is made full or read-only with mount, since root ignores file permissions.)"""

import json
import subprocess

import pytest
from tornado.httpclient import HTTPClientError

from .jobs_root import leftovers

pytestmark = pytest.mark.usefixtures("slurm_cluster")


@pytest.fixture
def jobs_root(tmp_path):
    """The server's jobs root on a tiny filesystem of its own (conftest's jp_server_config reads it)."""
    root = tmp_path / "small"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k,mode=0755", "tmpfs", str(root)], check=True)
    yield root
    subprocess.run(["umount", "-l", str(root)], check=False)


async def submit_refused(jp_fetch):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("tritonml", "jobs", method="POST", body=json.dumps({"code": "print(1)\n" * 1000}))
    return info.value.code, json.loads(info.value.response.body)["message"]


async def test_a_full_jobs_root_gives_507_and_leaves_nothing(jp_fetch, jobs_root):
    with open(jobs_root / "filler", "wb") as handle:  # what a full quota looks like
        try:
            handle.write(b"\0" * (1 << 20))
        except OSError:
            pass
    code, message = await submit_refused(jp_fetch)
    assert code == 507 and "cannot be written" in message and "No space left" in message
    assert [p.name for p in leftovers(jobs_root)] == ["filler"]
    assert json.loads((await jp_fetch("tritonml", "jobs")).body)["jobs"] is not None  # the rest still works


async def test_a_read_only_jobs_root_gives_507(jp_fetch, jobs_root):
    subprocess.run(["mount", "-o", "remount,ro", str(jobs_root)], check=True)
    code, message = await submit_refused(jp_fetch)
    assert code == 507 and "Read-only file system" in message
    assert leftovers(jobs_root) == []
