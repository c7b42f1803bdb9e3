"""Sweeps: hyperparameter searches (grid, random or Optuna) as Slurm array jobs, with the results collected.

* :mod:`.request`     ``POST sweeps`` and retry models (the resources of ``POST jobs`` + the space), point generation, splitting
* :mod:`.service`     submit (one array job per MaxArraySize tasks), the results table, retry failed tasks, cancel
* :mod:`.manifests`   the sweep's manifest on disk; :mod:`.table` the results table from the task files
* :mod:`.models`      the sweep's manifest and views; :mod:`.taskfiles` its files in each array job's directory
* :mod:`.steps`       the per-step values (``report(step=...)``), followed and thinned for the view
* ``injob/sweep_shim.py`` ``tritonml.report()``: stdlib only, copied into each array job's directory;
  pruning (the median stopping rule for grid and random sweeps)
* :mod:`.adaptive`    Optuna sweeps, the server's side: the optuna check, the study (a journal file)
* ``injob/optuna_task.py`` Optuna sweeps, the in-job side: ask a trial, report steps (MedianPruner), tell
"""

from .request import (
    MAX_POINTS,
    OptunaSearch,
    Prune,
    RandomSearch,
    Range,
    SweepRequest,
    SweepRetry,
    array_chunks,
    array_spec,
    generate_points,
)
from .models import BadSweepRequest, StepSeries, SweepJob, SweepManifest, SweepNotFound, SweepTask, SweepView
from .service import SweepService
from .taskfiles import rank_tasks, read_task_files, write_task_files

__all__ = [
    "MAX_POINTS",
    "BadSweepRequest",
    "OptunaSearch",
    "Prune",
    "RandomSearch",
    "Range",
    "StepSeries",
    "SweepJob",
    "SweepManifest",
    "SweepNotFound",
    "SweepRequest",
    "SweepRetry",
    "SweepService",
    "SweepTask",
    "SweepView",
    "array_chunks",
    "array_spec",
    "generate_points",
    "rank_tasks",
    "read_task_files",
    "write_task_files",
]
