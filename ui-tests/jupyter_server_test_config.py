"""Server configuration for the Galata tests: Galata's defaults (no token, a temporary root)."""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

# The extension is on by default through jupyter-config; say it here too so a test run never
# depends on how the package was installed.
c.ServerApp.jpserver_extensions = {"tritonml_lab": True}  # noqa: F821
# CI and the local cluster run as root.
c.ServerApp.allow_root = True  # noqa: F821
