"""The job widget a ``%%tritonml submit`` cell shows.

The view (``JobView`` in the labextension) shows the live job state from the Jupyter server's shared
job monitor, so the kernel never polls Slurm for it. The kernel side keeps what only the kernel can
do: on "Fetch results" the view sends ``{"action": "fetch"}`` and the widget loads the job's
``--out`` variables into the notebook namespace.
"""

from __future__ import annotations

from typing import Callable, Optional

import ipywidgets
from traitlets import Bool, List, Unicode

MODULE, MODULE_VERSION = "tritonml-lab", "0.1.0"

# fetch(job_id) -> names loaded; raises with a message a person can act on.
Fetcher = Callable[[str], list]
Canceller = Callable[[str], None]


class JobWidget(ipywidgets.DOMWidget):
    _model_name = Unicode("JobModel").tag(sync=True)
    _view_name = Unicode("JobView").tag(sync=True)
    _model_module = Unicode(MODULE).tag(sync=True)
    _view_module = Unicode(MODULE).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)

    job_id = Unicode("").tag(sync=True)
    job_name = Unicode("").tag(sync=True)
    directory = Unicode("").tag(sync=True)
    out_vars = List(Unicode()).tag(sync=True)
    state = Unicode("PENDING").tag(sync=True)
    message = Unicode("").tag(sync=True)
    fetched = Bool(False).tag(sync=True)

    def __init__(
        self, *, fetcher: Optional[Fetcher] = None, canceller: Optional[Canceller] = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self._fetcher = fetcher
        self._canceller = canceller
        self.on_msg(self._on_message)

    def _on_message(self, _widget, content, _buffers) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action == "fetch":
            self.fetch()
        elif action == "cancel" and self._canceller is not None:
            try:
                self._canceller(self.job_id)
                self.message = f"Cancel requested for job {self.job_id}."
            except Exception as exc:  # noqa: BLE001 - shown in the widget
                self.message = f"Could not cancel job {self.job_id}: {exc}"

    def fetch(self) -> list:
        """Load the job's --out variables into the notebook; the outcome goes to ``message``."""
        if self._fetcher is None:
            self.message = "This widget is not connected to a kernel that can fetch results."
            return []
        try:
            names = self._fetcher(self.job_id)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self.message = str(exc)
            return []
        self.fetched = True
        self.message = (
            f"Loaded {', '.join(names)} into the notebook." if names else "The job sent no variables back."
        )
        return names

    def __repr__(self) -> str:  # the text a front end without the widget view shows
        return f"tritonml job {self.job_id} ({self.job_name}): %tritonml status {self.job_id}"
