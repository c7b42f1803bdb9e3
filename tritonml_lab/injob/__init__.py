"""Code that runs inside the batch job, next to the user's code: one place, one way to copy it.

A user's kernel, and so the job's Python, often lacks tritonml-lab (a site module, the user's own
conda env). Every file here therefore runs as a plain script and imports nothing of this package:

- ``runner.py``            loads ``--in`` variables, runs the cell, saves ``--out`` ones (stdlib only)
- ``sweep_shim.py``        ``tritonml.report()`` for sweep tasks (stdlib only)
- ``optuna_task.py``       an Optuna sweep task's ask/tell (needs optuna in the job's Python)
- ``sampler.py``           the 1 Hz GPU/CPU sampler (stdlib; NVML through ctypes when present)
- ``notebook_executor.py`` runs a notebook headless (nbclient; started with the server's Python)
- ``checkpoint.py``        long jobs: time_left(), should_checkpoint(), checkpoint_dir(), restarts(),
                           requeue(); in every job directory as ``tritonml_checkpoint.py`` (stdlib only)
- ``profiler.py``          ``--profile torch``: torch.profiler for a few steps, ``tritonml.profile()``; in
                           ``profile-hook/sitecustomize.py`` of profiled jobs (stdlib only)

The server side reads their constants by importing them (they are plain modules too), and copies
or links them into job directories with :func:`copy_into`. tests/test_injob.py checks the rule.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "runner.py"
SWEEP_SHIM = HERE / "sweep_shim.py"
OPTUNA_TASK = HERE / "optuna_task.py"
SAMPLER = HERE / "sampler.py"
NOTEBOOK_EXECUTOR = HERE / "notebook_executor.py"
CHECKPOINT = HERE / "checkpoint.py"
PROFILER = HERE / "profiler.py"
ALL = (RUNNER, SWEEP_SHIM, OPTUNA_TASK, SAMPLER, NOTEBOOK_EXECUTOR, CHECKPOINT, PROFILER)


def copy_into(source: Path, job_dir: Path, name: str | None = None) -> Path:
    """Copy one in-job file into a job directory (as ``name``, default its own)."""
    target = Path(job_dir) / (name or source.name)
    shutil.copyfile(source, target)
    return target
