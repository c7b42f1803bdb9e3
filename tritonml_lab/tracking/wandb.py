"""Weights & Biases for jobs: the environment a job gets with ``--wandb PROJECT``, and ``wandb sync`` of
the offline runs a job or sweep left in its job directories (nodes without internet).

No wandb import here: the job's Python runs wandb; the kernel only builds environment variables and a
command line. The admin decides offline mode (``c.TritonML.wandb_offline``); the server passes it to the
kernels it starts as ``TRITONML_WANDB_OFFLINE=1``.
"""

from __future__ import annotations

import netrc
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Iterable, Optional

OFFLINE_ENV = "TRITONML_WANDB_OFFLINE"
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_RUNS = 10_000


class BadProject(ValueError):
    pass


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "") in ("1", "true", "yes")


def wandb_env(project: Optional[str], env: dict[str, str], *, sweep: Optional[str] = None) -> dict[str, str]:
    """The W&B variables for a job: ``WANDB_PROJECT``, ``WANDB_MODE=offline`` where the admin says so,
    ``WANDB_RUN_GROUP`` for a sweep (all its tasks one group). ``WANDB_DIR`` (the job's log directory) is
    set by the batch script, ``WANDB_NAME`` (the task's point) by the sweep task's runner. Values the
    user gave with --env win."""
    if not project:
        return {}
    if not _PROJECT.fullmatch(project):
        raise BadProject(f"--wandb: {project!r} is not a W&B project name (letters, digits, . _ -)")
    out = {"WANDB_PROJECT": project}
    if offline():
        out["WANDB_MODE"] = "offline"
    if sweep is not None:
        out["WANDB_RUN_GROUP"] = f"{sweep}-{time.strftime('%Y%m%d-%H%M%S')}"
    return {key: value for key, value in out.items() if key not in env}


def offline_runs(job_dirs: Iterable[Path]) -> list[Path]:
    """The offline runs (``wandb/offline-run-*``) under the job directories, oldest first."""
    runs: list[Path] = []
    for job_dir in job_dirs:
        for pattern in ("wandb/offline-run-*", "*/wandb/offline-run-*", "*/*/wandb/offline-run-*"):
            runs += [p for p in job_dir.glob(pattern) if p.is_dir()]
            if len(runs) > MAX_RUNS:
                break
    return sorted(set(runs), key=lambda p: p.name)


def find_wandb() -> Optional[str]:
    """The wandb command of this Python's environment (its bin/), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "wandb")
    return beside if os.access(beside, os.X_OK) else shutil.which("wandb")


def sync_command(runs: list[Path], project: Optional[str] = None, wandb: Optional[str] = None) -> list[str]:
    """``wandb sync [--project P] RUN...`` as an argument list (run without a shell)."""
    argv = [wandb or find_wandb() or "wandb", "sync"]
    if project:
        argv += ["--project", project]
    return argv + [str(run) for run in runs]


def logged_in(environ: Optional[dict[str, str]] = None) -> bool:
    """An API key where wandb looks for one: WANDB_API_KEY, or ~/.netrc's entry for the W&B host."""
    environ = os.environ if environ is None else environ
    if environ.get("WANDB_API_KEY"):
        return True
    host = re.sub(r"^https?://", "", environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).split("/")[0]
    try:
        return netrc.netrc(environ.get("NETRC") or None).authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


async def sync(runs: list[Path], *, dry_run: bool = False, timeout: float = 600.0) -> dict:
    """``wandb sync`` of ``runs`` in the server's environment (the "Sync to W&B" action): what would
    run, and its result when wandb is there and the user is logged in."""
    import asyncio

    wandb = find_wandb()
    argv = sync_command(runs, wandb=wandb)
    result = {"runs": [str(run) for run in runs], "command": argv, "ran": False, "exit_code": None, "output": ""}
    if dry_run:
        return {**result, "message": f"Would run: {' '.join(argv)}"}
    if wandb is None:
        return {**result, "message": "wandb is not installed in the Jupyter server's environment: ask your admins "
                "for pip install wandb, or run %tritonml wandb-sync ID in a notebook whose kernel has it."}
    if not logged_in():
        return {**result, "message": "Not logged in to W&B on this server: run `wandb login` in a terminal "
                "(or set WANDB_API_KEY), then sync again."}
    process = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return {**result, "ran": True, "message": f"wandb sync did not end within {timeout:.0f} s: stopped."}
    text = output.decode("utf-8", "replace")[-4000:]
    ok = process.returncode == 0
    return {**result, "ran": True, "exit_code": process.returncode, "output": text,
            "message": f"Synced {len(runs)} run{'s' if len(runs) != 1 else ''}." if ok
            else f"wandb sync ended with exit status {process.returncode}."}
