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
from .version import SlurmVersion, parse_version

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
    "SlurmVersion",
    "clean_environment",
    "parse_version",
    "run_slurm",
]
