"""Sweeps: hyperparameter searches (grid or random) as Slurm array jobs, with the results collected.

* :mod:`.request`  ``POST sweeps`` model (JobSpec's resource keys + the space), point generation, splitting
* :mod:`.service`  submit (one array job per MaxArraySize tasks), the results table, retry failed tasks
* :mod:`.shim`     ``tritonml.report()``: stdlib only, copied into each array job's directory
"""

from .request import MAX_POINTS, RandomSearch, Range, SweepRequest, array_chunks, array_spec, generate_points
from .service import (
    BadSweepRequest,
    SweepJob,
    SweepManifest,
    SweepNotFound,
    SweepService,
    SweepTask,
    SweepView,
    rank_tasks,
    read_task_files,
    write_task_files,
)

__all__ = [
    "MAX_POINTS",
    "BadSweepRequest",
    "RandomSearch",
    "Range",
    "SweepJob",
    "SweepManifest",
    "SweepNotFound",
    "SweepRequest",
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
