"""Jobs, the shared core: the validated spec, script rendering, job directories and the launcher.

The kernel and the server both use it; what runs only in the server (the monitor, the job service)
is in ``server/``, so importing this package loads nothing of the server (tests/test_rooms.py).
"""

from .errors import InvalidRequest
from .resources import Resources
from .script import Defaults, render_script
from .spec import JobSpec, field_errors
from .store import BadJobRequest, JobNotFound, JobStore, LogChunk, Origin, parse_job_id

__all__ = [
    "BadJobRequest",
    "Defaults",
    "InvalidRequest",
    "JobNotFound",
    "JobSpec",
    "JobStore",
    "LogChunk",
    "Origin",
    "Resources",
    "field_errors",
    "parse_job_id",
    "render_script",
]
