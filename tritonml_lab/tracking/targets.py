"""What "Open TensorBoard" shows, from what the user asked: a job, a sweep or a folder.

A job (or an array task): its directory's ``tensorboard/`` (``$TRITONML_LOG_DIR``; a sweep task's run
is ``tensorboard/<parameters>``). A sweep: the ``tensorboard/`` of each of its array jobs, each task one
run named by its parameters (prefixed by the array job's id when the sweep has several, e.g. a retry).
A folder: relative to the Jupyter root (the file browser's path) or absolute, and inside the Jupyter
root or the jobs root; never outside them (symbolic links resolved first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..injob.sweep_shim import LOG_ROOT
from ..jobs.store import BadJobRequest, JobNotFound, JobStore
from ..sweeps.manifests import SweepManifests
from .tensorboard import Target

_SPEC_UNSAFE = (",", ":")  # --logdir_spec separates its pairs with "," and a name from its path with ":"


class NotAFolder(JobNotFound):
    def __init__(self, message: str) -> None:
        LookupError.__init__(self, message)
        self.message = message


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _log_root(job_dir: Path) -> str:
    log_root = job_dir / LOG_ROOT
    try:
        log_root.mkdir(exist_ok=True)  # a job that has logged nothing yet shows an empty TensorBoard
    except OSError:
        pass
    return str(log_root)


def for_job(store: JobStore, job_id: str) -> Target:
    job_dir = store.find(job_id)  # BadJobRequest for a malformed id
    if job_dir is None:
        raise JobNotFound(job_id)
    path = job_dir.path.resolve()
    return Target(logdirs=[("", _log_root(path))], job_dirs=[path], label=f"job {job_id}")


def for_sweep(manifests: SweepManifests, jobs_root: Path, sweep_id: str) -> Target:
    manifest = manifests.load(sweep_id)  # SweepNotFound (404), BadSweepRequest (400)
    root = jobs_root.resolve()
    dirs: list[tuple[str, Path]] = []
    for job in manifest.jobs:
        path = Path(job.directory).resolve()
        if root in path.parents and (job.id, path) not in dirs:
            dirs.append((job.id, path))
    if not dirs:
        raise JobNotFound(f"sweep {sweep_id} (it has no array job yet)")
    if len(dirs) == 1:
        logdirs = [("", _log_root(dirs[0][1]))]
    else:
        logdirs = [(job_id, _log_root(path)) for job_id, path in dirs]
    return Target(logdirs=logdirs, job_dirs=[p for _j, p in dirs], label=f"sweep {sweep_id}")


def for_folder(path: str, root_dir: str, jobs_root: Path) -> Target:
    if not path or "\x00" in path:
        raise BadJobRequest("path: give a folder (relative to the Jupyter root, or absolute)")
    roots = [Path(root_dir).expanduser().resolve(), jobs_root.resolve()]
    given = Path(path).expanduser()
    candidate = given if given.is_absolute() else roots[0] / given
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotAFolder(f"There is no folder {path!r}.") from None
    if not _inside(resolved, roots):
        raise BadJobRequest(f"{path!r} is outside your Jupyter folder ({roots[0]}) and your jobs directory "
                            f"({roots[1]}); TensorBoard opens only folders inside them.")
    if not resolved.is_dir():
        raise NotAFolder(f"{path!r} is not a folder; open TensorBoard on the folder that holds the event files.")
    if any(ch in str(resolved) for ch in ("\n", "\r")):
        raise BadJobRequest(f"{path!r}: a folder name with a line break cannot be given to TensorBoard.")
    job_dirs = [resolved] if _is_job_dir(resolved, roots[1]) else []
    return Target(logdirs=[("", str(resolved))], job_dirs=job_dirs, label=f"folder {resolved}")


def _is_job_dir(path: Path, jobs_root: Path) -> bool:
    return path.parent == jobs_root.resolve() and (path / "manifest.json").exists()


def check_spec(target: Target) -> Optional[str]:
    """Why these directories cannot be given as one --logdir_spec (None: they can)."""
    if len(target.logdirs) == 1 and not target.logdirs[0][0]:
        return None
    for name, path in target.logdirs:
        if any(ch in name for ch in _SPEC_UNSAFE) or "," in path:
            return f"{path!r} has a comma in its path: TensorBoard cannot show it beside other folders"
    return None


__all__ = ["NotAFolder", "check_spec", "for_folder", "for_job", "for_sweep"]
