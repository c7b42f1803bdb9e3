"""Jobs: the validated spec, script rendering, job directories, the shared monitor, the service."""

from .monitor import JobMonitor
from .script import Defaults, render_script
from .service import JobDetail, JobService, JobView, Preview
from .spec import JobSpec, field_errors
from .store import BadJobRequest, JobNotFound, JobStore, LogChunk, Origin, parse_job_id

__all__ = [
    "BadJobRequest",
    "Defaults",
    "JobDetail",
    "JobMonitor",
    "JobNotFound",
    "JobService",
    "JobSpec",
    "JobStore",
    "JobView",
    "LogChunk",
    "Origin",
    "Preview",
    "field_errors",
    "parse_job_id",
    "render_script",
]
