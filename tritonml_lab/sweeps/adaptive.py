"""Adaptive (Optuna) sweeps, the server's side: is optuna installed where the tasks run, and which
study they share.

The tasks do the searching: each asks the study for its point when it starts and tells it the result
(``injob/optuna_task.py``, copied into the job directory). The study is an Optuna journal file under
``<jobs root>/sweeps/optuna/``, on the filesystem the nodes share; its name and path are in the
sweep's ``space``, so it can be opened from a notebook too::

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(journal))
    study = optuna.load_study(study_name=study, storage=storage)

A retried task asks for a new trial (the failed one stays FAIL in the study).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, Optional

from ..jobs.resources import job_python
from ..jobs.script import Defaults

TASK_FILE = "tritonml_optuna.py"  # its name in the job directory (the shim loads it)
STUDIES_DIR = "optuna"
CHECK_TIMEOUT = 30.0
_HAS_OPTUNA = "import importlib.util, sys; sys.exit(importlib.util.find_spec('optuna') is None)"


async def missing_optuna(spec: Mapping[str, Any], defaults: Defaults,
                         env: Optional[Mapping[str, str]]) -> Optional[str]:
    """Why the tasks' Python cannot run an Optuna sweep (optuna not installed there), or None. ``spec``:
    the JobSpec fields of the array jobs. This process's own Python is asked in-process; another one
    with a quick ``python -c``, in the environment the job gets (the submitter's, plus ``env``)."""
    python = job_python(spec.get("python"), defaults)  # as the batch script picks it
    if not os.path.isabs(python) and spec.get("modules"):
        return None  # `module load` decides which python3 the job gets; a task missing optuna says so
    environment = {**(env if env is not None else os.environ), **(spec.get("env") or {})}
    path = python if os.path.isabs(python) else shutil.which(python, path=environment.get("PATH"))
    if path is None:
        return (f"{python} (the Python the tasks run with) is not on the PATH here, so optuna cannot be "
                "checked; give python, the absolute path of a Python that has optuna")
    if os.path.abspath(path) == os.path.abspath(sys.executable):
        found = importlib.util.find_spec("optuna") is not None
    else:
        run = partial(subprocess.run, [path, "-c", _HAS_OPTUNA], env=environment, stdin=subprocess.DEVNULL,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=CHECK_TIMEOUT)
        try:
            found = (await asyncio.get_running_loop().run_in_executor(None, run)).returncode == 0
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{path} (the Python the tasks run with) could not be asked whether optuna is installed: {exc}"
    return None if found else f"optuna is not installed in {path}: pip install optuna (in that Python's environment)"


def new_study(root: Path) -> dict[str, str]:
    """A fresh study's name and journal file (created by the first task that starts)."""
    name = f"sweep-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    return {"study": name, "journal": str(root / STUDIES_DIR / f"{name}.journal")}


def task_config(search: dict[str, Any], mode: str, attempt: int,
                prune: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """What a task needs to ask and tell (``"optuna"`` of runner.json's sweep config), from the
    manifest's ``space["optuna"]`` (and its ``prune``: Optuna's MedianPruner, injob/optuna_task.py)."""
    keys = ("study", "journal", "space", "sampler", "seed")
    return {**{key: search.get(key) for key in keys}, "mode": mode, "attempt": attempt, "prune": prune}
