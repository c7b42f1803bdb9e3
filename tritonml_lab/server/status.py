"""GET tritonml/status, and the routes of an extension that could not start.

Kept apart from handlers.py, with no import of the rest of the package: when a bad setting or a
broken install stops the extension, these still load and say why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web


@dataclass
class StartupStatus:
    """Whether the extension started; handlers read it as ``settings["tritonml_status"]``."""

    ok: bool
    reason: Optional[str] = None  # why not, in words an admin can act on


def startup_reason(error: BaseException) -> str:
    """The admin-facing reason: a bad setting's own message (it names the setting), else the error."""
    text = getattr(error, "message", None) or str(error)
    text = " ".join(text.split())
    if isinstance(error, ImportError):  # a broken install: say so, with Python's own words
        return f"{type(error).__name__}: {text} (the installation of tritonml-lab or of a package it needs is broken)"
    return text or type(error).__name__


class StatusHandler(APIHandler):
    """Whether the extension started, and why not: the front end's banner and admins read it."""

    @web.authenticated
    def get(self) -> None:
        from .. import __version__

        status = self.settings.get("tritonml_status")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"ok": bool(status and status.ok), "version": __version__,
                                "reason": status.reason if status else None}))


class NotStartedHandler(APIHandler):
    """Every other route of an extension that could not start: the reason instead of a bare 404."""

    @web.authenticated
    def get(self, path: str = "") -> None:
        self.set_status(500)
        self.set_header("Content-Type", "application/json")
        reason = self.settings["tritonml_status"].reason
        self.finish(json.dumps({"message": f"tritonml-lab could not start: {reason} — tell your admins",
                                "reason": "not_started"}))

    post = put = patch = delete = get


def setup_not_started(web_app, status: StartupStatus) -> None:
    """The routes of an extension whose start failed: status, and the reason from every other path."""
    web_app.settings["tritonml_status"] = status
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [
        (url_path_join(base_url, "tritonml", "status"), StatusHandler),
        (url_path_join(base_url, "tritonml", r"(.*)"), NotStartedHandler),
    ])
