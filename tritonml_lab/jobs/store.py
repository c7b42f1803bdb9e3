"""Job directories on the shared filesystem: the only state besides Slurm itself.

Layout under the jobs root::

    <root>/job-<uid>/            one directory per submission
        job.sh                   the batch script (as submitted)
        manifest.json            spec, submit time, origin (notebook, cell), job id
        main.py | user.sh        what runs
        stdout.log stderr.log    (stdout.<task>.log for arrays)
        exit_code.<task|job>     written by the script's EXIT trap
    <root>/<jobid> -> job-<uid>  found by id in O(1), also after a server restart
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field

from .script import (
    ARRAY_STDERR,
    ARRAY_STDOUT,
    EXIT_FILE,
    PYTHON_FILE,
    SAMPLER_FILE,
    STDERR,
    STDOUT,
    USER_SCRIPT,
    Defaults,
    render_script,
)
from ..metrics import SAMPLER_PATH
from .spec import JobSpec

_JOB_ID = re.compile(r"^(\d{1,12})(?:_(\d{1,7}))?$")
_UNSAFE_ROOT = re.compile(r"[\s'\"\\%$`]")
MAX_LOG_CHUNK = 1 << 20


class JobNotFound(LookupError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"No job {job_id} of yours is known here.")
        self.message = str(self)


class BadJobRequest(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_job_id(job_id: str) -> tuple[str, Optional[str]]:
    """'123' -> ('123', None); '123_4' -> ('123', '4'); anything else is refused."""
    match = _JOB_ID.fullmatch(job_id or "")
    if not match:
        raise BadJobRequest(f"{job_id!r} is not a Slurm job id (digits, or digits_task for array tasks)")
    return match.group(1), match.group(2)


class Origin(BaseModel):
    """Where a submission came from, shown in the panel and used to bring results back."""

    kind: str = Field("api", description="api | magic | notebook | dialog")
    notebook: Optional[str] = None
    cell_id: Optional[str] = None
    kernel: Optional[str] = None


class Manifest(BaseModel):
    job_id: Optional[str] = None
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
        """Written once, before the id link: nobody finds the directory (through the link) while
        the file is incomplete, so no temporary file and rename are needed."""
        with open(self.manifest_path, "x", encoding="utf-8") as handle:
            handle.write(manifest.model_dump_json(indent=1))

    def script(self) -> str:
        return self.script_path.read_text()

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
        job_dir = JobDir(self.root / f"job-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}")
        job_dir.path.mkdir(mode=0o755)
        origin = origin or Origin()
        if spec.code is not None:
            (job_dir.path / PYTHON_FILE).write_text(spec.code)
        if spec.script is not None:
            (job_dir.path / USER_SCRIPT).write_text(spec.script)
        if defaults.sampler_python:
            self._add_sampler(job_dir.path / SAMPLER_FILE)
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
        return job_dir, manifest

    def _add_sampler(self, target: Path) -> None:
        """Each job directory holds the sampler it ran: a hard link to one copy per sampler version
        under ``<root>/.tritonml/`` (a link is one system call; a copy is five, on every submission).
        Where the filesystem has no hard links, a copy."""
        shared = self._shared_sampler
        if shared is None or not shared.exists():
            data = Path(SAMPLER_PATH).read_bytes()
            shared = self.root / ".tritonml" / f"sampler-{hashlib.sha256(data).hexdigest()[:16]}.py"
            if not shared.exists():
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
        return manifest

    def find(self, job_id: str) -> Optional[JobDir]:
        """The directory of ``job_id`` (array tasks share their array's), or None."""
        base, _task = parse_job_id(job_id)
        link = self.root / base
        if not link.is_symlink():
            return None
        target = (self.root / os.readlink(link)).resolve()
        if target.parent != self.root.resolve() or not target.is_dir():
            return None  # never follow a link out of the jobs root
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


@functools.lru_cache(maxsize=1)
def _user() -> Optional[str]:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("USER")
