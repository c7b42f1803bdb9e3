"""``%tritonml run-notebook``: a whole notebook as a batch job, through the notebook-run code of
:mod:`tritonml_lab.notebooks` and the kernel's one launcher (so with the admin's defaults)."""

from __future__ import annotations

import os
import sys

from IPython.core.error import UsageError

from ..jobs.errors import InvalidRequest
from ..jobs.store import BadJobRequest, JobNotFound
from ..slurm import SlurmError
from . import display
from .loop import run
from .options import checkpoint_field
from .submit import SubmitCommands
from .values import option_errors, parse_parameter, resource_fields


class NotebookCommands(SubmitCommands):
    """Mixin: run-notebook (a notebook run is followed, fetched and cancelled as a submitted job)."""

    def _cmd_run_notebook(self, args) -> None:
        from ..notebooks.submit import launcher_submitter, submit_notebook

        full = os.path.abspath(os.path.expanduser(args.path))
        root, name = os.path.dirname(full), os.path.basename(full)
        resources = {k: v for k, v in resource_fields(args).items() if v not in (None, [], {})}
        resources.pop("array", None)
        if args.workdir is None:
            resources.pop("workdir", None)  # the kernel starts in the notebook's own folder
        if args.output_dir is not None:
            resources["output_dir"] = args.output_dir
        if checkpoint_field(args) is not None:  # --warn/--requeue
            resources["checkpoint"] = checkpoint_field(args)
        parameters = {key: parse_parameter(value) for key, value in args.parameters}
        python = os.environ.get("TRITONML_SERVER_PYTHON") or sys.executable
        try:
            job_id, output = run(submit_notebook(
                name, submit=launcher_submitter(self.launcher), root_dir=root, parameters=parameters,
                kernel=args.kernel, python=python, defaults=self.defaults, **resources,
            ))
        except InvalidRequest as exc:
            raise UsageError("Invalid options; nothing was submitted.\n" + option_errors(exc)) from None
        except (BadJobRequest, JobNotFound) as exc:
            raise UsageError(f"{exc.message} Nothing was submitted.") from None
        except SlurmError as exc:
            raise UsageError(f"Slurm did not take the job; nothing was submitted.\n{exc.message}") from None
        print(f"Submitted notebook run {job_id} ({name}) → %tritonml status {job_id}\n"
              f"The executed notebook is saved after every cell to {output}")
        job_dir = self.store.find(job_id)
        widget = self._widget(job_id, name, str(job_dir.path) if job_dir else "", [])
        self.last_job = (job_id, widget)
        display.show_job_widget(widget)
