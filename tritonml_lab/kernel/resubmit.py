"""``%tritonml resubmit ID [--suggested]``: a finished job again, from its job directory.

The spec is the one its manifest holds (the cell, script or command, modules, environment), with
the suggested resources when asked (the same ``GET jobs/{id}/suggestion`` gives: advice/suggest.py).
A cell's runner files (the cell, the pickled --in values, the --out names) are copied from the old
directory, so the job runs the same code on the same inputs. Notebook runs and sweeps have their
own ways (``run-notebook``, ``sweep-retry``), which the error says.
"""

from __future__ import annotations

import shutil

from IPython.core.error import UsageError

from ..jobs.launcher import JobsRootUnavailable, SubmissionUncertain
from ..jobs.script import PYTHON_FILE
from ..jobs.store import BadJobRequest, JobDir, parse_job_id
from ..slurm import SlurmError
from . import display
from .client import job_environment
from .jobdir import CELL_FILE, INPUTS_FILE, RUNNER_CONFIG, runner_outputs

RUNNER_FILES = (CELL_FILE, RUNNER_CONFIG, INPUTS_FILE, PYTHON_FILE)


def resubmit(cmds, job_id: str, suggested: bool) -> None:
    """``cmds``: the magics (store, launcher, slurm, _ask, _origin, _widget, thresholds)."""
    from ..advice.suggest import suggestion_lines, suggestion_of
    from ..metrics.stream import job_summary

    try:
        base, task = parse_job_id(job_id)
    except BadJobRequest as exc:
        raise UsageError(exc.message) from None
    if task is not None:
        raise UsageError(f"{job_id} is one task of array job {base}: resubmit the array ({base}), or run a "
                         f"sweep's failed tasks again with %tritonml sweep-retry.")
    old = cmds.store.find(job_id)
    if old is None:
        raise UsageError(f"Job {job_id} has no job directory under {cmds.store.root} (submitted outside "
                         "tritonml-lab, or under another jobs root): nothing to resubmit from.")
    try:
        manifest = old.manifest()
    except (OSError, ValueError) as exc:
        raise UsageError(f"Job {job_id}'s manifest.json cannot be read ({exc}): nothing was submitted.") from None
    if manifest.origin.kind == "sweep":
        raise UsageError(f"Job {job_id} is a sweep's array job: %tritonml sweep-retry {job_id} runs its failed "
                         "tasks again; for other resources run the sweep's cell again with them.")
    if manifest.origin.kind == "notebook":
        raise UsageError(f"Job {job_id} is a notebook run: run it again with Run on GPU, or %tritonml "
                         f"run-notebook {manifest.origin.notebook or 'PATH'} with the resources you want.")
    spec = manifest.spec
    if suggested:
        job = cmds._ask(cmds.launcher.lookup(job_id, queue=False))
        figures = cmds._ask(cmds.slurm.efficiency(job_id))
        efficiency = figures if figures.get("complete") else None
        suggestion = suggestion_of(job_id, spec, job_summary(old.path), efficiency, cmds.thresholds,
                                   job.state if job is not None else None, defaults=cmds.defaults)
        print("\n".join(suggestion_lines(suggestion)))
        spec = suggestion.spec or spec

    def prepare(new: JobDir) -> None:
        if (old.path / RUNNER_CONFIG).exists():  # a %%tritonml submit cell: the same code, the same inputs
            for name in RUNNER_FILES:
                if (old.path / name).is_file():
                    shutil.copyfile(old.path / name, new.path / name)

    try:
        launched = cmds.launcher.launch_blocking(spec, cmds._origin(), env=job_environment(), prepare=prepare)
    except (SubmissionUncertain, JobsRootUnavailable) as exc:
        raise UsageError(exc.message) from None
    except SlurmError as exc:
        raise UsageError(f"Slurm did not take the job; nothing was submitted.\n{exc.message}") from None
    name = spec.name or "tritonml"
    print(f"Resubmitted job {job_id} as {launched.job_id} ({name}) → %tritonml status {launched.job_id}")
    widget = cmds._widget(launched.job_id, name, str(launched.job_dir.path), runner_outputs(old))
    cmds.last_job = (launched.job_id, widget)
    display.show_job_widget(widget)
