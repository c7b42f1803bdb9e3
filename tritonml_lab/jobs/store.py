"""Job directories on the shared filesystem: the only state besides Slurm itself.

Layout under the jobs root::

    <root>/job-<uid>/            one directory per submission
        job.sh                   the batch script (as submitted)
        manifest.json            spec, submit time, origin (notebook, cell), job id
        main.py | user.sh        what runs
        stdout.log stderr.log    (stdout.<task>.log for arrays)
        exit_code.<task|job>     written by the script's EXIT trap
    <root>/<jobid> -> job-<uid>  found by id in O(1), also after a server restart
    <root>/.tritonml/submitting/job-<uid>   while sbatch runs (and after, if its answer was lost):
                                 what jobs/launcher.py reconciles against Slurm at start-up
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, Field, field_validator

from .script import (
    ARRAY_STDERR,
    ARRAY_STDOUT,
    CHECKPOINT_MODULE,
    EXIT_FILE,
    PROFILE_HOOK_DIR,
    PYTHON_FILE,
    SAMPLER_FILE,
    STDERR,
    STDOUT,
    USER_SCRIPT,
    Defaults,
    render_script,
)
from .. import injob
from ..injob.profiler import HOOK_FILE as PROFILE_HOOK_FILE
from .errors import BadJobRequest
from .spec import _CONTROL, JobSpec

_JOB_ID = re.compile(r"^(\d{1,12})(?:_(\d{1,7}))?$")
_UNSAFE_ROOT = re.compile(r"[\s'\"\\%$`]")
MAX_LOG_CHUNK = 1 << 20


class JobNotFound(LookupError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"No job {job_id} of yours is known here.")
        self.message = str(self)


class DirectoryNotAnswering(Exception):
    """A job directory's read did not come back in time (a hung OST or NFS server)."""

    def __init__(self, message: str = "directory not answering") -> None:
        super().__init__(message)
        self.message = message


class UnsafeJobsRoot(BadJobRequest):
    """The jobs root belongs to another user or others may write to it: nothing is written there."""


def parse_job_id(job_id: str) -> tuple[str, Optional[str]]:
    """'123' -> ('123', None); '123_4' -> ('123', '4'); anything else is refused."""
    match = _JOB_ID.fullmatch(job_id or "")
    if not match:
        raise BadJobRequest(f"{job_id!r} is not a Slurm job id (digits, or digits_task for array tasks)")
    return match.group(1), match.group(2)


class Origin(BaseModel):
    """Where a submission came from, shown in the panel and used to bring results back. The client
    sends it, and the notebook's name goes into a comment line of job.sh: one printable line each."""

    kind: Literal["api", "magic", "notebook", "dialog", "sweep"] = Field("api")
    notebook: Optional[str] = Field(None, max_length=1024)
    cell_id: Optional[str] = Field(None, max_length=256)
    kernel: Optional[str] = Field(None, max_length=256)

    @field_validator("notebook", "cell_id", "kernel")
    @classmethod
    def _one_printable_line(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and _CONTROL.search(v):
            raise ValueError("must be one line without control characters")
        return v


class Manifest(BaseModel):
    job_id: Optional[str] = Field(None, description="None while submitting: sbatch has not answered yet")
    token: Optional[str] = Field(None, description="in the job's --comment: finds it when sbatch's answer is lost")
    spec: JobSpec
    submitted_at: float
    origin: Origin = Field(default_factory=Origin)
    directory: str
    user: Optional[str] = None
    script: Optional[str] = Field(None, exclude=True, description="kept in memory; job.sh is the file")


@dataclass
class JobDir:
    path: Path

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    @property
    def script_path(self) -> Path:
        return self.path / "job.sh"

    def manifest(self) -> Manifest:
        return Manifest.model_validate_json(self.manifest_path.read_text())

    def write_manifest(self, manifest: Manifest) -> None:
        """Written before sbatch (the intent, no id yet) and again with the id, before the id link:
        replaced whole, so a reader never sees half a file."""
        tmp = self.path / f".manifest.{secrets.token_hex(3)}"
        tmp.write_text(manifest.model_dump_json(indent=1))
        os.replace(tmp, self.manifest_path)

    def script(self) -> Optional[str]:
        """job.sh, or None when it is gone (the directory was removed while the job ran, and the
        job's own writers made it again)."""
        try:
            return self.script_path.read_text()
        except FileNotFoundError:
            return None

    def log_path(self, stream: str, task: Optional[str]) -> Path:
        if stream not in ("stdout", "stderr"):
            raise BadJobRequest("stream must be stdout or stderr")
        if task is None:
            name = STDOUT if stream == "stdout" else STDERR
        else:
            name = (ARRAY_STDOUT if stream == "stdout" else ARRAY_STDERR).replace("%a", task)
        return self.path / name

    def exit_code(self, task: Optional[str]) -> Optional[int]:
        try:
            return int((self.path / f"{EXIT_FILE}.{task or 'job'}").read_text().strip())
        except (OSError, ValueError):
            return None


class LogChunk(BaseModel):
    stream: str
    offset: int = Field(description="where the next read starts")
    size: int = Field(description="size of the log file now")
    data: str
    missing: bool = Field(False, description="the file does not exist (yet)")


class JobStore:
    """Creates and finds job directories under one root."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        root = os.path.abspath(os.path.expanduser(os.fspath(root)))
        if _UNSAFE_ROOT.search(root):
            raise ValueError(
                f"The jobs directory {root!r} contains spaces, quotes or %; Slurm's #SBATCH lines "
                "cannot name such paths. Set c.TritonML.jobs_root to a simpler path."
            )
        self.root = Path(root)
        _check_owned(self.root)
        self.submitting = self.root / ".tritonml" / "submitting"
        self._shared_sampler: Optional[Path] = None

    def create(
        self, spec: JobSpec, defaults: Defaults, origin: Optional[Origin] = None
    ) -> tuple[JobDir, Manifest]:
        """Write the directory, the script and what runs; the job id comes after submission."""
        job_dir, manifest = self.prepare(spec, defaults, origin)
        self.write_script(job_dir, manifest)
        return job_dir, manifest

    def prepare(
        self, spec: JobSpec, defaults: Defaults, origin: Optional[Origin] = None
    ) -> tuple[JobDir, Manifest]:
        """The directory and what the job runs (its code, the sampler); the batch script is
        rendered into the manifest but written by :meth:`write_script` (the API writes it while
        sbatch, which reads it from stdin, waits for slurmctld)."""
        self.root.mkdir(parents=True, exist_ok=True)
        # Checked on every use, not once at start-up: on shared scratch another user may create the
        # root (or take it over) after the server started, and then plant code in our jobs.
        _check_owned(self.root)
        job_dir = JobDir(self.root / f"job-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}")
        job_dir.path.mkdir(mode=0o700)  # job.sh holds the job's environment values
        try:
            origin = origin or Origin()
            if spec.code is not None:
                (job_dir.path / PYTHON_FILE).write_text(spec.code)
            if spec.script is not None:
                (job_dir.path / USER_SCRIPT).write_text(spec.script)
            if defaults.sampler_python:
                self._add_sampler(job_dir.path / SAMPLER_FILE)
            # Long jobs' in-job API (tritonml.time_left(), ...), next to the code in every job.
            injob.copy_into(injob.CHECKPOINT, job_dir.path, CHECKPOINT_MODULE)
            if spec.profile == "torch":  # issue 25: the profiler's hook, first on the job's PYTHONPATH
                (job_dir.path / PROFILE_HOOK_DIR).mkdir()
                injob.copy_into(injob.PROFILER, job_dir.path / PROFILE_HOOK_DIR, PROFILE_HOOK_FILE)
            label = origin.notebook or origin.kind
            script = render_script(spec, defaults, str(job_dir.path), origin=label)
            manifest = Manifest(
                spec=spec,
                submitted_at=time.time(),
                origin=origin,
                directory=str(job_dir.path),
                user=_user(),
                script=script,
            )
        except BaseException:
            shutil.rmtree(job_dir.path, ignore_errors=True)  # a full disk leaves no half directory
            raise
        return job_dir, manifest

    def _add_sampler(self, target: Path) -> None:
        """Each job directory holds the sampler it ran: a hard link to one copy per sampler version
        under ``<root>/.tritonml/`` (a link is one system call; a copy is five, on every submission).
        Where the filesystem has no hard links, a copy."""
        shared = self._shared_sampler
        if shared is None or not shared.exists():
            data = injob.SAMPLER.read_bytes()
            shared = self.root / ".tritonml" / f"sampler-{hashlib.sha256(data).hexdigest()[:16]}.py"
            # Trusted by content, not by name: a file someone else put there is replaced.
            if not _same_file_content(shared, data):
                shared.parent.mkdir(exist_ok=True)
                tmp = shared.with_name(f".{shared.name}.{secrets.token_hex(3)}")
                tmp.write_bytes(data)
                os.chmod(tmp, 0o444)  # edited in one job directory, it would change in all
                os.replace(tmp, shared)
            self._shared_sampler = shared
        try:
            os.link(shared, target)
        except OSError:
            shutil.copyfile(shared, target)

    def record_intent(self, job_dir: JobDir, manifest: Manifest) -> None:
        """Before sbatch: the manifest (no id yet) and a marker in ``.tritonml/submitting/``, so a
        submission whose answer is lost (time-out, interrupt, a killed server) is found again."""
        job_dir.write_manifest(manifest)
        self.submitting.mkdir(parents=True, exist_ok=True)
        (self.submitting / job_dir.path.name).touch()

    def submitting_dirs(self) -> list[JobDir]:
        """Directories whose submission has no known outcome yet (see :meth:`record_intent`)."""
        try:
            names = [entry.name for entry in os.scandir(self.submitting)]
        except FileNotFoundError:
            return []
        return [JobDir(self.root / name) for name in names if name.startswith("job-")]

    def settle(self, job_dir: JobDir) -> None:
        """The submission's outcome is known (attached, or the directory removed)."""
        try:
            (self.submitting / job_dir.path.name).unlink()
        except FileNotFoundError:
            pass

    def write_script(self, job_dir: JobDir, manifest: Manifest) -> None:
        """job.sh: the batch script as Slurm got it, to read, copy, or submit again by hand."""
        job_dir.script_path.write_text(manifest.script or "")

    def attach(self, job_dir: JobDir, manifest: Manifest, job_id: str) -> Manifest:
        """Record the id Slurm gave: the manifest (written once, now) and the id link."""
        manifest = manifest.model_copy(update={"job_id": job_id})
        job_dir.write_manifest(manifest)
        link = self.root / job_id
        try:
            os.symlink(job_dir.path.name, link)
        except FileExistsError:  # an id reused after the cluster's state was reset: replace, atomically
            tmp = self.root / f".{job_id}.{secrets.token_hex(3)}"
            os.symlink(job_dir.path.name, tmp)
            os.replace(tmp, link)
        self.settle(job_dir)
        return manifest

    def find(self, job_id: str) -> Optional[JobDir]:
        """The directory of ``job_id`` (array tasks share their array's), or None."""
        base, _task = parse_job_id(job_id)
        link = self.root / base
        if not link.is_symlink():
            return None
        target = (self.root / os.readlink(link)).resolve()
        if target.parent != self.root.resolve():
            return None  # never follow a link out of the jobs root
        try:
            info = target.stat()
        except OSError:
            return None
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return None  # only the user's own directories: fetch unpickles what is in them
        return JobDir(target)

    def job_ids(self, limit: int = 500) -> list[str]:
        """Ids of the jobs submitted through tritonml-lab, newest first."""
        try:
            names = [entry.name for entry in os.scandir(self.root) if entry.name.isdigit()]
        except FileNotFoundError:
            return []
        return sorted(names, key=int, reverse=True)[:limit]

    def read_log(self, job_id: str, stream: str, offset: int, limit: int = 64 * 1024) -> LogChunk:
        """Bytes ``offset..offset+limit`` of a log: an incremental tail that never reads the whole file."""
        if offset < 0:
            raise BadJobRequest("offset must be 0 or more")
        limit = max(1, min(limit, MAX_LOG_CHUNK))
        job_dir = self.find(job_id)
        if job_dir is None:
            raise JobNotFound(job_id)
        _base, task = parse_job_id(job_id)
        path = job_dir.log_path(stream, task)
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if offset > size:  # the file was truncated or replaced: start again
                    offset = 0
                handle.seek(offset)
                data = handle.read(limit)
        except FileNotFoundError:
            return LogChunk(stream=stream, offset=0, size=0, data="", missing=True)
        # Do not split a UTF-8 character between two chunks.
        cut = len(data)
        if len(data) == limit:
            while cut > 0 and cut > len(data) - 4 and (data[cut - 1] & 0xC0) == 0x80:
                cut -= 1
            if cut > 0 and data[cut - 1] >= 0xC0:
                cut -= 1
            if cut == 0:
                cut = len(data)
        return LogChunk(
            stream=stream, offset=offset + cut, size=size, data=data[:cut].decode("utf-8", "replace")
        )


def _check_owned(root: Path) -> None:
    """A jobs root that another user owns or can write to would let them plant code in our jobs."""
    try:
        info = root.stat()
    except FileNotFoundError:
        return  # made on first use, by us, with our umask
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeJobsRoot(
            f"The jobs directory {root} belongs to another user or others may write to it; job scripts "
            "there could be changed by them. Set c.TritonML.jobs_root to a directory of your own (it "
            "may contain {user}), or run: chmod go-w " + str(root)
        )


def _same_file_content(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_uid == os.getuid() and path.read_bytes() == data
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def _user() -> Optional[str]:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("USER")
