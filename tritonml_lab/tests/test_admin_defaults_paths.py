"""The admin's job defaults hold on every way into Slurm (one launcher): POST jobs, POST notebook-jobs,
POST sweeps, and from a kernel the server started, %%tritonml submit, %%tritonml sweep and
%tritonml run-notebook. Each job is checked in slurmctld itself (scontrol show job)."""

import json
import os
import re

import pytest

from tritonml_lab.jobs.server_defaults import DEFAULTS_ENV, kernel_defaults

from .cluster_control import slurm
from .openapi_check import get_ok
from .test_notebook_jobs import write_notebook

pytestmark = pytest.mark.usefixtures("slurm_cluster")

PARTITION, TIME = "gpu-debug", "00:07:00"


@pytest.fixture
def jp_server_config(jp_server_config):
    jp_server_config["TritonML"].update(default_partition=PARTITION, default_time=TIME)
    return jp_server_config


@pytest.fixture
def kernel_magics(jp_serverapp, magics):
    """The magics as in a kernel this server started: they read the defaults the server exported
    (test_server_defaults.py shows a new kernel gets them)."""
    saved = magics.defaults
    magics.defaults = kernel_defaults()
    magics._launcher = magics._sweeps = None
    yield magics
    magics.defaults = saved
    magics._launcher = magics._sweeps = None
    os.environ.pop(DEFAULTS_ENV, None)


def slurm_settings(job_id: str) -> tuple[str, str]:
    shown = slurm("scontrol", "show", "job", job_id.split("_")[0])
    return re.search(r"Partition=(\S+)", shown).group(1), re.search(r"TimeLimit=(\S+)", shown).group(1)


async def test_every_server_path_applies_the_admins_defaults(jp_fetch, jp_root_dir):
    job = json.loads((await jp_fetch("tritonml", "jobs", method="POST", body=json.dumps({"command": "true"}))).body)
    write_notebook(jp_root_dir, "nb/defaults.ipynb", ["print(1)"])
    run = json.loads((await jp_fetch("tritonml", "notebook-jobs", method="POST",
                                     body=json.dumps({"path": "nb/defaults.ipynb"}))).body)
    sweep = json.loads((await jp_fetch("tritonml", "sweeps", method="POST",
                                       body=json.dumps({"code": "x = 1", "grid": {"x": [1, 2]}}))).body)
    try:
        for job_id in (job["id"], run["id"], sweep["id"]):
            assert slurm_settings(job_id) == (PARTITION, TIME), job_id
    finally:  # only their settings matter: no need to let them run
        slurm("scancel", job["id"], run["id"], sweep["id"].split("_")[0])
    # The dialogs show the same defaults as "default" (GET cluster carries them).
    cluster = await get_ok(jp_fetch, "/cluster", "cluster")
    assert cluster["job_defaults"] == {"partition": PARTITION, "time": TIME, "cpus_per_task": None, "mem": None}


def test_every_kernel_path_applies_the_admins_defaults(kernel_magics, tmp_path, monkeypatch):
    shell = kernel_magics.shell
    shell.run_cell_magic("tritonml", "submit", "x = 1\n")
    submitted = kernel_magics.last_job[0]
    shell.run_cell_magic("tritonml", "sweep --grid x=1,2", "y = x\n")
    swept = kernel_magics.last_sweep
    write_notebook(tmp_path, "defaults.ipynb", ["print(1)"])
    monkeypatch.chdir(tmp_path)
    shell.run_line_magic("tritonml", "run-notebook defaults.ipynb")
    notebook_run = kernel_magics.last_job[0]
    try:
        for job_id in (submitted, swept, notebook_run):
            assert slurm_settings(job_id) == (PARTITION, TIME), job_id
    finally:
        slurm("scancel", submitted, str(swept).split("_")[0], notebook_run)
