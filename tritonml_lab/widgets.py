"""The job widget a ``%%tritonml submit`` cell shows.

The view (``JobView`` in the labextension) shows the live job state from the Jupyter server's shared
job monitor, so the kernel never polls Slurm for it. The kernel side keeps what only the kernel can
do: on "Fetch results" the view sends ``{"action": "fetch"}`` and the widget loads the job's
``--out`` variables into the notebook namespace.
"""

from __future__ import annotations

from typing import Callable, Optional

import ipywidgets
from traitlets import Bool, Dict, Int, List, Unicode

MODULE, MODULE_VERSION = "tritonml-lab", "0.1.0"

# fetch(job_id) -> names loaded; raises with a message a person can act on.
Fetcher = Callable[[str], list]
Canceller = Callable[[str], None]


class _TritonWidget(ipywidgets.DOMWidget):
    """A widget whose view is in this package's labextension."""

    _model_module = Unicode(MODULE).tag(sync=True)
    _view_module = Unicode(MODULE).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)


class JobWidget(_TritonWidget):
    _model_name = Unicode("JobModel").tag(sync=True)
    _view_name = Unicode("JobView").tag(sync=True)

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


# -- sweeps (%%tritonml sweep) ----------------------------------------------------------------------
class SweepWidget(_TritonWidget):
    """The sweep a ``%%tritonml sweep`` cell shows: task states, the results table sorted by the metric
    with the best point marked, failed tasks with their error, "Retry failed" and "Cancel sweep".

    The view (``SweepView`` in the labextension) reads ``GET sweeps/{id}`` from the Jupyter server,
    re-asked when the jobs model reports a change of one of the sweep's array jobs: the kernel never
    polls. ``snapshot`` is the sweep as the kernel saw it at submission; the view writes the final
    table back into it, so a notebook saved with its widget state shows how the sweep ended.
    Front ends without the view show ``html`` (the same table as plain HTML) instead.
    """

    _model_name = Unicode("SweepModel").tag(sync=True)
    _view_name = Unicode("SweepView").tag(sync=True)

    sweep_id = Unicode("").tag(sync=True)
    sweep_name = Unicode("").tag(sync=True)
    metric = Unicode("").tag(sync=True)
    mode = Unicode("min").tag(sync=True)
    total = Int(0).tag(sync=True)
    snapshot = Dict().tag(sync=True)
    message = Unicode("").tag(sync=True)

    def __init__(self, *, html: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.html = html

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        if self.html:  # what nbviewer, GitHub and front ends without the labextension show
            data["text/html"] = self.html
        return data

    def __repr__(self) -> str:
        return f"tritonml sweep {self.sweep_id} ({self.sweep_name}, {self.total} tasks): " \
               f"%tritonml sweep-results {self.sweep_id}"
