import os

import pytest

from .cluster_control import ensure_up

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(scope="session")
def slurm_cluster():
    """The real local Slurm cluster (dev/cluster up), its client environment applied to this process."""
    env = ensure_up()
    os.environ.update(env)
    return env


@pytest.fixture
def jobs_root(tmp_path):
    root = tmp_path / "jobs"
    root.mkdir()
    return root


@pytest.fixture
def jp_server_config(jp_server_config, jobs_root):
    return {
        "ServerApp": {"jpserver_extensions": {"tritonml_lab": True}},
        "TritonML": {
            # Keep 503s quick when a test stops slurmctld; no cache so each request asks Slurm.
            "slurm_timeout": 15.0,
            "cluster_cache_seconds": 0.0,
            "jobs_root": str(jobs_root),
            "monitor_fast_seconds": 0.5,
        },
    }


@pytest.fixture(scope="module")
def shell():
    """An in-process IPython shell with %load_ext tritonml_lab (the kernel side)."""
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "tritonml_lab")
    return sh


@pytest.fixture
def magics(shell, jobs_root):
    """The shell's TritonMLMagics, writing job directories under this test's jobs root."""
    magics = shell.magics_manager.registry["TritonMLMagics"]
    magics.jobs_root = str(jobs_root)
    magics.poll_seconds = 0.2
    magics.last_job = None
    yield magics
    magics.jobs_root = ""
