"""The job spec: everything a user may ask of a batch job, and the one way it becomes what the job gets.

A spec is the resources (``resources.py``: the fields and THE rules they are held to) plus what runs.
The admin's defaults are applied first, then the whole is validated once (:func:`parse`, or
:func:`resolve` for a spec validated without them); a user's mistake is an :class:`InvalidRequest`
with an error per field, never a bare pydantic error.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from .errors import BadJobRequest, InvalidRequest, field_errors
from .resources import CONTROL as _CONTROL
from .resources import DEFAULTS, GPUS, Checkpoint, Python, Resources, admin_defaults, check
from .resources import defaults_key

__all__ = ["BadJobRequest", "Checkpoint", "Defaults", "InvalidRequest", "JobSpec", "Resources", "checked", "compose",
           "ddp_layout", "field_errors", "parse", "resolve"]

_ARRAY = re.compile(r"^\d{1,7}(?:-\d{1,7})?(?::\d{1,7})?(?:,\d{1,7}(?:-\d{1,7})?(?::\d{1,7})?)*(?:%\d{1,5})?$")

# A cell or script larger than this is data, not code: read the data from a file in the job instead.
MAX_CODE = 1 << 20

M = TypeVar("M", bound=Resources)


class JobSpec(Resources):
    """What ``POST jobs`` accepts: the resources, and exactly one of code, script or command."""

    array: Optional[str] = Field(None, description='array indices, e.g. "0-9%2" or "1,3,5"')
    code: Optional[str] = Field(None, max_length=MAX_CODE, description="Python source to run")
    script: Optional[str] = Field(None, max_length=MAX_CODE, description="shell script to run (bash)")
    command: Optional[str] = Field(None, max_length=8192, description="one shell command line to run")
    python: Optional[Python] = Field(None, description="absolute path of the Python that runs `code`")

    @field_validator("array")
    @classmethod
    def _array(cls, v: Optional[str]) -> Optional[str]:
        return v and check(_ARRAY, v, 'give indices such as "0-9", "0-99%10" or "1,3,5"')

    @model_validator(mode="after")
    def _exactly_one_payload(self) -> "JobSpec":
        given = [key for key in ("code", "script", "command") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of code (Python), script (shell) or command"
                + (f"; got {', '.join(given)}" if given else "")
            )
        if self.command is not None and _CONTROL.search(self.command):
            raise ValueError("command must be one line; use script for several lines")
        return self

    @property
    def gpu_count(self) -> int:
        if not self.gpus:
            return 0
        match = GPUS.fullmatch(self.gpus)
        return int(match.group("count")) if match else 0

    @property
    def kind(self) -> str:
        return "python" if self.code is not None else "script" if self.script is not None else "command"


@dataclass(frozen=True)
class Defaults:
    """What applies when the spec leaves a field out (admin traitlets + the cluster)."""

    partition: Optional[str] = None
    time: Optional[str] = "01:00:00"
    cpus_per_task: Optional[int] = None
    mem: Optional[str] = None
    python: Optional[str] = None
    # The in-job GPU/CPU sampler (stdlib-only, copied into the job directory) runs with this Python;
    # this process's own is the one that has nvidia-ml-py. None: no sampling.
    sampler_python: Optional[str] = sys.executable
    sample_interval: float = 1.0


def parse(model: type[M], data: Any, defaults: Optional[Defaults] = None, what: str = "job") -> M:
    """What the user gave, validated ONCE into ``model`` with the admin's ``defaults`` applied first
    (each rule between fields sees the values the job gets); InvalidRequest, per field, if it breaks
    a rule. The model keeps the user's own values (the manifest records them); resolve() adds the
    defaults without validating again."""
    try:
        return model.model_validate(data, context={DEFAULTS: defaults} if defaults is not None else None)
    except ValidationError as exc:
        raise InvalidRequest.of(exc, what) from None


def resolve(spec: M, defaults: Defaults) -> M:
    """The spec as the job gets it: each field it leaves out filled with the admin's default. A spec
    parsed with these defaults was checked with them, so they are only filled in; one validated
    without them (a test, a stored sweep spec) is validated now, once, with them. Raises
    InvalidRequest (400 in the API, an option error in the magics). What is rendered (script.py) is
    this spec; the manifest keeps the user's own."""
    filled = {name: value for name, value in admin_defaults(defaults).items() if getattr(spec, name) is None}
    if not filled:
        return spec
    return checked(spec, defaults).model_copy(update=filled)


def checked(spec: M, defaults: Defaults) -> M:
    """``spec`` as the user gave it, its rules checked with the admin's ``defaults``: validated now,
    unless it was parsed with these defaults already. Raises InvalidRequest."""
    if spec._checked_with == defaults_key(defaults):
        return spec
    return parse(type(spec), spec.model_dump(exclude_unset=True), defaults)


def compose(model: type[M], source: BaseModel, **own: Any) -> M:
    """A ``model`` (a JobSpec, say) from the values ``source`` (a request) was validated with, plus
    ``own``: values the caller makes itself and answers for (a notebook job's script, an array job's
    indices). Nothing is validated again: the values were checked by the same rules when ``source``
    was, and with the same defaults, which the result remembers."""
    given = {name: getattr(source, name) for name in model.model_fields if name in source.model_fields_set}
    made = model.model_construct(_fields_set=set(given) | set(own), **given, **own)
    made._checked_with = getattr(source, "_checked_with", None)
    return made


def ddp_layout(gpus: Optional[str], nodes: Optional[int], ntasks_per_node: Optional[int]) -> tuple[int, int, Optional[str]]:
    """(nodes, tasks per node, GRES per node) of a DDP job: one task per GPU, each node asking for
    its share of the GPUs as ``--gres`` (``--gpus`` counts for the whole job and could put 3 on one
    node and 1 on the other). Without GPUs: ``ntasks_per_node`` CPU tasks per node (default 1).
    Call with validated values (JobSpec checks that the GPUs split evenly)."""
    nodes = nodes or 1
    match = GPUS.fullmatch(gpus) if gpus else None
    if match is None:
        return nodes, ntasks_per_node or 1, None
    per_node = int(match.group("count")) // nodes
    kind = match.group("type")
    return nodes, per_node, f"gpu:{kind}:{per_node}" if kind else f"gpu:{per_node}"
