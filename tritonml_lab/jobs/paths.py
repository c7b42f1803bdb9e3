"""Where the kernel side finds the jobs root (the server reads its traitlet, c.TritonML.jobs_root).

A kernel cannot read the server's traitlets, so it looks at ``TRITONML_JOBS_ROOT`` first (the server,
or the site, can export it to kernels), then uses the same default as the server:
``$WRKDIR/tritonml/jobs`` when ``WRKDIR`` is set, else ``~/tritonml/jobs``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Optional

JOBS_ROOT_ENV = "TRITONML_JOBS_ROOT"


def expand_user(path: str) -> str:
    """``{user}`` in an admin's jobs_root -> this user's name (a shared root must be per user)."""
    if "{user}" not in path:
        return path
    import getpass

    return path.replace("{user}", getpass.getuser())


def kernel_jobs_root(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    explicit = env.get(JOBS_ROOT_ENV, "").strip()
    if explicit:
        return os.path.abspath(os.path.expanduser(expand_user(explicit)))
    base = env.get("WRKDIR") or os.path.expanduser("~")
    return os.path.join(base, "tritonml", "jobs")
