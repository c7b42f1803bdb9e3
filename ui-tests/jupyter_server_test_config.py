"""Server configuration for the Galata tests: Galata's defaults (no token, a temporary root)."""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

# The extension is on by default through jupyter-config; say it here too so a test run never
# depends on how the package was installed.
c.ServerApp.jpserver_extensions = {"tritonml_lab": True}  # noqa: F821
# CI and the local cluster run as root.
c.ServerApp.allow_root = True  # noqa: F821

# The shared datasets and models catalog over a freshly generated sample dldata tree (sparse files:
# it takes almost no disk), sizes computed in a thread of the server, the size cache in the temp dir.
import atexit  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

from tritonml_lab.tests.sample_tree import generate_sample  # noqa: E402

_catalog_tmp = tempfile.mkdtemp(prefix="tritonml-ui-tests-")
atexit.register(shutil.rmtree, _catalog_tmp, ignore_errors=True)
_dldata = os.path.join(_catalog_tmp, "dldata")
generate_sample(_dldata)
c.TritonML.catalog_roots = [f"dldata={_dldata}"]  # noqa: F821
c.TritonML.catalog_scan_workers = 0  # noqa: F821
c.TritonML.catalog_cache_path = os.path.join(_catalog_tmp, "catalog-cache.json")  # noqa: F821

# Job directories of the jobs tests in a temp dir (the local cluster's nodes share this machine's disk).
import tempfile as _tempfile  # noqa: E402

c.TritonML.jobs_root = _tempfile.mkdtemp(prefix="tritonml-ui-jobs-")  # noqa: F821

# The admin's defaults for jobs that name no partition or time limit (issue 12): not the cluster's
# default partition (batch-csl) nor the built-in 01:00:00, so that admin-defaults.spec.ts can tell that
# a job from the New job dialog got exactly these. Every other spec names its partition and time.
c.TritonML.default_partition = "interactive"  # noqa: F821
c.TritonML.default_time = "00:07:00"  # noqa: F821

# Right-sized jobs (tests/advice.spec.ts): live advice after 20 s instead of 10 min, and notes for
# jobs longer than 10 s instead of 5 min, so that a 50 s test job gets both.
c.TritonML.advice_live_settle_seconds = 20.0  # noqa: F821
c.TritonML.advice_min_seconds = 10.0  # noqa: F821
