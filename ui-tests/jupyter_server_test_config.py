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

from tritonml_lab.catalog.sample_tree import generate_sample  # noqa: E402

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
