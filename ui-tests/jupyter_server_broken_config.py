"""A second server for startup-banner.spec.ts: Galata's defaults and an admin's typo in catalog_roots,
so tritonml-lab cannot start. Port 8899, so that it runs beside the main test server."""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821
c.ServerApp.port = 8899  # noqa: F821
c.ServerApp.jpserver_extensions = {"tritonml_lab": True}  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821
c.TritonML.catalog_roots = ["dldata=/scratch/shareddata/dldata", "shared data"]  # noqa: F821
