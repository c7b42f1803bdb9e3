"""The Slurm layer: async CLI client, parsers of real Slurm output, typed models and errors.

Nothing in here imports Tornado: it is used by the server extension, the kernel magics and tests alike.
"""

from .client import SlurmClient
from .errors import (
    SchedulerUnavailable,
    SlurmCommandMissing,
    SlurmError,
    SlurmOutputError,
    SlurmRejected,
)
from .models import ClusterSummary, GpuCount, Job, JobState, Partition
from .runner import clean_environment, run_slurm

__all__ = [
    "ClusterSummary",
    "GpuCount",
    "Job",
    "JobState",
    "Partition",
    "SchedulerUnavailable",
    "SlurmClient",
    "SlurmCommandMissing",
    "SlurmError",
    "SlurmOutputError",
    "SlurmRejected",
    "clean_environment",
    "run_slurm",
]
