"""A site can plug in its own Slurm client and job store (c.TritonML.slurm_client_class,
job_store_class), as jupyter-scheduler allows: the server then uses them for every request; a class of
the wrong kind stops the extension with a status that names the setting."""

import json

import pytest

from tritonml_lab.jobs.store import JobStore
from tritonml_lab.slurm import SlurmClient

pytestmark = pytest.mark.usefixtures("slurm_cluster")

CALLS: list[str] = []


class RecordingSlurmClient(SlurmClient):
    """The real client (the real cluster answers), recording which commands the server asked for."""

    async def _run(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        CALLS.append(name)
        return await super()._run(name, *args, **kwargs)


class RecordingJobStore(JobStore):
    made: list[str] = []

    def __init__(self, root):  # type: ignore[no-untyped-def]
        super().__init__(root)
        RecordingJobStore.made.append(str(root))


class NotAClient:
    pass


class TestASiteClientAndStore:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        here = __name__
        jp_server_config["TritonML"]["slurm_client_class"] = f"{here}.RecordingSlurmClient"
        jp_server_config["TritonML"]["job_store_class"] = f"{here}.RecordingJobStore"
        return jp_server_config

    async def test_the_server_uses_them(self, jp_fetch, jobs_root):
        cluster = json.loads((await jp_fetch("tritonml", "cluster")).body)
        assert cluster["partitions"], cluster
        assert "sinfo" in CALLS, CALLS
        assert RecordingJobStore.made[-1] == str(jobs_root)  # made when the server started


class TestAWrongClass:
    @pytest.fixture
    def jp_server_config(self, jp_server_config):
        jp_server_config["TritonML"]["slurm_client_class"] = f"{__name__}.NotAClient"
        return jp_server_config

    async def test_status_names_the_setting(self, jp_fetch):
        status = json.loads((await jp_fetch("tritonml", "status")).body)
        assert status["ok"] is False
        assert "slurm_client_class" in status["reason"], status["reason"]
