"""What ``POST notebook-jobs`` accepts, and how a user-given path is kept inside the server's root."""

from __future__ import annotations

import keyword
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from pydantic import Field, field_validator

from ..jobs.resources import Resources
from ..jobs.store import BadJobRequest, JobNotFound

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PARAMETERS_JSON = 256 * 1024
# JobSpec keys that say WHAT runs: for a notebook job the executor is what runs.
NOT_FOR_NOTEBOOKS = ("code", "script", "command", "python", "array")


class PathOutsideRoot(BadJobRequest):
    """A path that is absolute, has '..', or leads (through a symlink) out of the server's root."""


class KernelNotFound(BadJobRequest):
    """The notebook's kernel is not installed where the job runs."""


class BadNotebook(BadJobRequest):
    """The file is not a notebook we can run."""


class NotebookNotFound(JobNotFound):
    def __init__(self, path: str) -> None:
        LookupError.__init__(self, f"There is no notebook {path!r} under the server's root directory.")
        self.message = str(self)


class NotANotebookJob(JobNotFound):
    def __init__(self, job_id: str) -> None:
        LookupError.__init__(self, f"Job {job_id} is not a notebook run (submit it with POST notebook-jobs).")
        self.message = str(self)


def _check_relative(value: str, what: str) -> str:
    if _CONTROL.search(value) or "\\" in value:
        raise ValueError(f"the {what} contains a control character or a backslash")
    pure = PurePosixPath(value)
    if value.startswith(("/", "~")) or pure.is_absolute():
        raise ValueError(f"give the {what} relative to the server's root directory, not an absolute path")
    if ".." in pure.parts:
        raise ValueError(f"the {what} may not contain '..'")
    return value


class NotebookJobRequest(Resources):
    """``POST notebook-jobs``: the notebook, its parameters and kernel, plus the resources of
    ``POST jobs`` (held to the same rules, errors per field). What runs is the executor, so none of a
    job spec's payload keys."""

    refused = {key: "not used for notebook jobs (the notebook is what runs)" for key in NOT_FOR_NOTEBOOKS}

    path: str = Field(description="the notebook, relative to the server's root directory")
    parameters: dict[str, Any] = Field(default_factory=dict, description="values for the parameters cell")
    kernel: Optional[str] = Field(None, description="kernelspec name; default: the notebook's own")
    output_dir: Optional[str] = Field(
        None, description="where <name>.<jobid>.ipynb goes, relative to the root; default: next to the notebook"
    )

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("give the notebook's path")
        _check_relative(v, "path")
        if not v.endswith(".ipynb"):
            raise ValueError("give a notebook (a .ipynb file)")
        return v

    @field_validator("output_dir")
    @classmethod
    def _output_dir(cls, v: Optional[str]) -> Optional[str]:
        if v is None:
            return None
        v = v.strip().rstrip("/")
        return "." if v in ("", ".") else _check_relative(v, "output directory")

    @field_validator("kernel")
    @classmethod
    def _kernel(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}", v):
            raise ValueError("a kernelspec name has letters, digits and . _ + - only")
        return v or None

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, v: dict[str, Any]) -> dict[str, Any]:
        import json

        for name in v:
            if not name.isidentifier() or keyword.iskeyword(name):
                raise ValueError(f"{name!r} is not a Python variable name")
        try:
            size = len(json.dumps(v))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"parameters must be JSON values: {exc}") from None
        if size > MAX_PARAMETERS_JSON:
            raise ValueError(f"parameters are too large ({size} bytes; at most {MAX_PARAMETERS_JSON})")
        return v


def resolve_in_root(root_dir: str | os.PathLike[str], relative: str, what: str = "path") -> Path:
    """``root_dir/relative``, symlinks resolved, refused unless it is still inside ``root_dir``."""
    try:
        _check_relative(relative, what)
    except ValueError as exc:
        raise PathOutsideRoot(f"{exc}.") from None
    root = Path(root_dir).expanduser().resolve()
    full = (root / relative).resolve()
    if full != root and root not in full.parents:
        raise PathOutsideRoot(f"The {what} {relative!r} leads outside the server's root directory.")
    return full


def relative_to_root(root_dir: str | os.PathLike[str], path: str | os.PathLike[str]) -> Optional[str]:
    """``path`` relative to the root (POSIX style), or None when it is not inside it."""
    root = Path(root_dir).expanduser().resolve()
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None
