import fcntl
import os
import tempfile
from pathlib import Path

import pytest

from .cluster_control import ensure_up

# leak_guard: every test fails that leaves threads, child processes, sockets, a Jupyter server or
# Slurm jobs of its own behind (see its docstring).
pytest_plugins = ["pytest_jupyter.jupyter_server", "tritonml_lab.tests.leak_guard"]

# Tests that stop or freeze the cluster's daemons: no other test may run against the same cluster at
# that moment, so dev/test runs them after the parallel (pytest-xdist) part, one at a time.
SERIAL_MODULES = {"test_cluster_api.py", "test_launcher.py"}
# Tests that measure the CPU use of busy processes (a burner must get most of a core) or latency:
# beside other workers on a 2-core machine they starve, so they run in the serial part too.
CPU_TIMING_MODULES = {"test_metrics_multinode.py", "test_sampler_array_tasks.py", "test_advice_live.py",
                      "test_jobdir_hang.py"}
CPU_TIMING = {
    "test_sampler.py::test_process_tree_cpu_rss_and_exit_when_pid_dies",
    "test_sampler.py::test_proc_tree_accounts_children_reaped_between_samples",
    "test_sampler.py::test_busiest_processes_and_io_keys",
    "test_metrics_multinode.py::test_two_node_job_samples_both_nodes_with_their_own_cpu_load",
}
# Tests that need root (they mount filesystems, chown to other users): marked like the cluster
# tests, out of the fast lane.
ROOT_MODULES = {"test_faults.py"}
ROOT_TESTS = {
    "test_jobs_store.py::test_a_root_others_can_write_to_or_own_is_refused",
    "test_jobs_store.py::test_job_directories_are_private_and_only_the_users_own_are_found",
    "test_jobs_store.py::test_a_root_another_user_creates_after_start_up_is_refused_when_used",
}
# Tests that parse or compile source with ast (not thread-safe in CPython 3.11): run with no other
# thread of this process alive (leak_guard's source_parsing marker).
SOURCE_PARSING = {"test_import_cycles.py", "test_injob.py", "test_runner.py", "test_apischema.py"}


def pytest_collection_modifyitems(config, items):
    """Mark by what a test uses, not file by file, so new tests are marked without anyone thinking of it:

    - ``cluster``: it uses the real Slurm cluster (the slurm_cluster fixture, directly or through
      pytestmark / usefixtures), or needs root; ``dev/test --fast`` runs ``-m "not cluster"``;
    - ``serial``: it stops or freezes the cluster's daemons (SERIAL_MODULES), or measures CPU use
      or latency (CPU_TIMING_MODULES, CPU_TIMING);
    - ``source_parsing``: see SOURCE_PARSING.
    """
    for item in items:
        module = Path(str(item.fspath)).name
        test = f"{module}::{getattr(item, 'originalname', item.name)}"
        if "slurm_cluster" in getattr(item, "fixturenames", ()) or module in ROOT_MODULES or test in ROOT_TESTS:
            item.add_marker(pytest.mark.cluster)
        if module in SERIAL_MODULES or module in CPU_TIMING_MODULES or test in CPU_TIMING:
            item.add_marker(pytest.mark.serial)
        if module in SOURCE_PARSING:
            item.add_marker(pytest.mark.source_parsing)


@pytest.fixture(scope="session")
def slurm_cluster():
    """The real local Slurm cluster (dev/cluster up), its client environment applied to this process."""
    if os.environ.get("TRITONML_FAST") == "1":
        pytest.fail("the fast lane (TRITONML_FAST=1) runs no cluster test; mark this one 'cluster'")
    # One `dev/cluster up` at a time (pytest-xdist workers each set this fixture up).
    lane = os.environ.get("TRITONML_CLUSTER_LANE", "native")
    with open(os.path.join(tempfile.gettempdir(), f"tritonml-cluster-up-{lane}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
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
    yield sh
    _close_launcher(sh.magics_manager.registry["TritonMLMagics"])


def _close_launcher(magics) -> None:
    """The kernel side's launcher (one per jobs root) and its submission threads end with the test."""
    launcher = getattr(magics, "_launcher", None)
    if launcher is not None:
        launcher.close()
    magics._launcher = None
    magics._sweeps = None


@pytest.fixture
def magics(shell, jobs_root):
    """The shell's TritonMLMagics, writing job directories under this test's jobs root."""
    magics = shell.magics_manager.registry["TritonMLMagics"]
    magics.jobs_root = str(jobs_root)
    magics.poll_seconds = 0.2
    magics.last_job = None
    yield magics
    magics.jobs_root = ""
    _close_launcher(magics)
