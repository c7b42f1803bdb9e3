"""Wiring of the server extension: read the admin settings, build the shared services (services.py),
add routes. The rest of the package is imported inside load()'s try, so that a broken install or a
bad setting still leaves GET tritonml/status to say why."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING

from .status import StartupStatus, setup_not_started, startup_reason

if TYPE_CHECKING:
    from .services import Services


def load(server_app) -> None:
    web_app = server_app.web_app
    try:
        from .handlers import setup_handlers

        services = _start(server_app)
    except Exception as exc:  # noqa: BLE001 - a misconfigured site must still explain itself
        status = StartupStatus(ok=False, reason=startup_reason(exc))
        server_app.log.error("tritonml-lab could not start: %s", status.reason, exc_info=exc)
        setup_not_started(web_app, status)  # GET tritonml/status says why; every other route too
        return
    web_app.settings["tritonml_status"] = StartupStatus(ok=True)
    web_app.settings["tritonml"] = services
    setup_handlers(web_app)
    _close_on_cleanup(server_app)
    server_app.log.info("tritonml-lab: API registered under %stritonml/", web_app.settings["base_url"])


def _start(server_app) -> Services:
    from .config import TritonML
    from ..connection import export_catalog_roots
    from .services import build_services
    from ..jobs.paths import JOBS_ROOT_ENV
    from ..jobs.server_defaults import export_defaults
    from ..advice.thresholds import export_thresholds

    config = TritonML(parent=server_app)
    services = build_services(config)
    services.root_dir = server_app.root_dir
    services.kernel_specs = server_app.kernel_spec_manager
    # Kernels this server starts inherit its environment: the magics then use the same jobs root and
    # the admin's job defaults, and `%tritonml run-notebook` the server's Python (it has nbclient).
    os.environ[JOBS_ROOT_ENV] = str(services.store.root)
    os.environ.setdefault("TRITONML_SERVER_PYTHON", sys.executable)
    export_defaults(services.defaults)
    export_thresholds(services.thresholds)  # the advice rules, for %tritonml efficiency/resubmit
    export_catalog_roots(config.catalog_root_pairs())
    return services


def _close_on_cleanup(server_app) -> None:
    """jupyter_server 2 runs the shutdown hooks of ExtensionApps only, never a module's
    _unload_jupyter_server_extension: close the services (their threads: catalog, submission, marker
    scan) when the server cleans up its extensions, or they outlive it."""
    cleanup = server_app.cleanup_extensions

    async def cleanup_extensions() -> None:
        try:
            await cleanup()
        finally:
            services = server_app.web_app.settings.get("tritonml")
            if services is not None:
                await services.monitor.stop()  # bounded; its Slurm commands end with it
            unload(server_app)
            await asyncio.sleep(0.05)  # the cancelled tasks of the closed services end (and kill theirs)

    server_app.cleanup_extensions = cleanup_extensions


def unload(server_app) -> None:
    services = server_app.web_app.settings.get("tritonml")
    if services is not None:
        services.close()
