"""The job spec: everything a user may ask of a batch job, validated before anything runs.

Every value that ends up in the batch script is checked against a narrow pattern here (no whitespace,
quotes, newlines or shell metacharacters where Slurm does not need them) and is still quoted when the
script is rendered. Error messages name the field and say what is allowed.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from ..slurm.timefmt import format_duration, parse_duration

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_GPUS = re.compile(r"^(?:(?P<type>[A-Za-z0-9][A-Za-z0-9_.-]{0,31}):)?(?P<count>[1-9][0-9]{0,2})$")
_SIZE = re.compile(r"^[1-9][0-9]{0,8}[KMGT]?$", re.IGNORECASE)
_ARRAY = re.compile(r"^\d{1,7}(?:-\d{1,7})?(?::\d{1,7})?(?:,\d{1,7}(?:-\d{1,7})?(?::\d{1,7})?)*(?:%\d{1,5})?$")
_CONSTRAINT = re.compile(r"^[A-Za-z0-9_.&|\[\]()*!,-]{1,200}$")
_GRES = re.compile(r"^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+){0,2}(?:,[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+){0,2})*$")
_MODULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+/-]{0,127}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters except tab
_SBATCH_UNSAFE = re.compile(r"[\s'\"\\%$`#]")  # sbatch ends an #SBATCH value at # too
_RESERVED_ENV = ("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "TRITONML_")


# A cell or script larger than this is data, not code: read the data from a file in the job instead.
MAX_CODE = 1 << 20
# checkpoint.warn: Slurm's --signal takes at most 65535 s; under 10 s there is no time to save anything.
MIN_WARN, MAX_WARN = 10, 65535
MAX_REQUEUE = 100
_WARN = re.compile(r"^(?P<n>[1-9][0-9]{0,5})\s*(?P<unit>s|sec|m|min|h)?$", re.IGNORECASE)


class Checkpoint(BaseModel):
    """Long jobs: Slurm warns the job ``warn`` before its time limit (SIGUSR1); a job that stops
    there to come back (``tritonml.requeue()``) is requeued, up to ``requeue`` times."""

    model_config = ConfigDict(extra="forbid")

    warn: str = Field("120s", description='how long before the time limit the warning comes: "120s", "2m", "1h" '
                      "(a bare number is seconds); Slurm may send it up to a minute earlier")
    requeue: int = Field(0, ge=0, le=MAX_REQUEUE, description="how many times the job may requeue itself")

    @field_validator("warn", mode="before")
    @classmethod
    def _warn(cls, v) -> str:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ValueError('give a duration such as "120s", "2m" or "1h"')
        match = _WARN.fullmatch(str(v).strip())
        if match is None:
            raise ValueError('give a duration such as "120s", "2m" or "1h" (a bare number is seconds)')
        unit = (match.group("unit") or "s").lower()[0]
        seconds = int(match.group("n")) * {"s": 1, "m": 60, "h": 3600}[unit]
        if not MIN_WARN <= seconds <= MAX_WARN:
            raise ValueError(f"the warning must come {MIN_WARN} s to {MAX_WARN} s before the time limit")
        return f"{seconds}s"

    @property
    def warn_seconds(self) -> int:
        return int(self.warn[:-1])


def _check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(what)
    return value


class JobSpec(BaseModel):
    """What ``POST jobs`` accepts (snake_case keys; all optional except what to run)."""

    model_config = ConfigDict(extra="forbid")

    name: Optional[str] = Field(None, description="job name: letters, digits, . _ + -; up to 64")
    partition: Optional[str] = None
    # ddp and nodes come before gpus and ntasks_per_node: their validators read them.
    ddp: bool = Field(False, description="distributed data-parallel: one task per GPU with srun, "
                      "MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK and WORLD_SIZE set")
    nodes: Optional[int] = Field(None, ge=1, le=256)
    gpus: Optional[str] = Field(None, description='GPU count "2" or type:count "h100:1"')
    cpus_per_task: Optional[int] = Field(None, ge=1, le=1024)
    mem: Optional[str] = Field(None, description='memory per node, e.g. "16G" or "500M"')
    time: Optional[str] = Field(None, description='time limit, e.g. "01:00:00" or "2-00:00:00"')
    ntasks_per_node: Optional[int] = Field(None, ge=1, le=1024)
    array: Optional[str] = Field(None, description='array indices, e.g. "0-9%2" or "1,3,5"')
    constraint: Optional[str] = None
    gres: Optional[str] = Field(None, description='extra GRES, e.g. "min-vram:80g"')
    tmp: Optional[str] = Field(None, description='node-local disk, e.g. "100G"')
    account: Optional[str] = None
    qos: Optional[str] = None
    modules: list[str] = Field(default_factory=list, max_length=64)
    env: dict[str, str] = Field(default_factory=dict, max_length=256)
    workdir: Optional[str] = Field(None, description="absolute directory the job starts in")
    code: Optional[str] = Field(None, max_length=MAX_CODE, description="Python source to run")
    script: Optional[str] = Field(None, max_length=MAX_CODE, description="shell script to run (bash)")
    command: Optional[str] = Field(None, max_length=8192, description="one shell command line to run")
    python: Optional[str] = Field(None, description="absolute path of the Python that runs `code`")
    checkpoint: Optional[Checkpoint] = Field(None, description="warn before the time limit (SIGUSR1) and "
                                             "requeue a job that stops there, up to N times")
    profile: Optional[Literal["torch", "nsys"]] = Field(
        None, description='profile the program: "torch" (torch.profiler over a few steps after warm-up; the job '
        'detail\'s Profile section summarizes the trace) or "nsys" (nsys profile, where nsys is on the PATH)')

    @field_validator("name")
    @classmethod
    def _name(cls, v: Optional[str]) -> Optional[str]:
        return v and _check(_NAME, v, "use letters, digits and . _ + - (up to 64, starting with a letter or digit)")

    @field_validator("partition", "account", "qos")
    @classmethod
    def _word(cls, v: Optional[str]) -> Optional[str]:
        return v and _check(_WORD, v, "use letters, digits and . _ - only (as Slurm names them)")

    @field_validator("gpus")
    @classmethod
    def _gpus(cls, v: Optional[str], info) -> Optional[str]:
        v = v and _check(_GPUS, v, 'give a count ("2") or a type and a count ("h100:1"), 1 to 999 GPUs')
        if v and info.data.get("ddp"):
            nodes = info.data.get("nodes") or 1
            count = int(_GPUS.fullmatch(v).group("count"))
            if count % nodes:
                raise ValueError(f"DDP runs one task per GPU: {count} GPUs cannot be split evenly over "
                                 f"{nodes} nodes; ask for a multiple of {nodes}")
        return v

    @field_validator("ntasks_per_node")
    @classmethod
    def _ntasks_per_node(cls, v: Optional[int], info) -> Optional[int]:
        gpus = info.data.get("gpus")
        if v is not None and gpus and info.data.get("ddp"):
            per_node = ddp_layout(gpus, info.data.get("nodes"), None)[1]
            if v != per_node:
                raise ValueError(f"DDP runs one task per GPU: with {gpus} GPUs on "
                                 f"{info.data.get('nodes') or 1} node(s) this must be {per_node} (or left out)")
        return v

    @field_validator("mem", "tmp")
    @classmethod
    def _size(cls, v: Optional[str]) -> Optional[str]:
        return v and _check(_SIZE, v, 'give a size such as "500M", "16G" or "1T"').upper()

    @field_validator("time")
    @classmethod
    def _time(cls, v: Optional[str]) -> Optional[str]:
        if not v:
            return None
        seconds = parse_duration(v)
        if seconds is None or seconds <= 0:
            raise ValueError('give a time limit such as "30:00", "01:00:00" or "2-00:00:00"')
        return format_duration(seconds)

    @field_validator("array")
    @classmethod
    def _array(cls, v: Optional[str]) -> Optional[str]:
        return v and _check(_ARRAY, v, 'give indices such as "0-9", "0-99%10" or "1,3,5"')

    @field_validator("constraint")
    @classmethod
    def _constraint(cls, v: Optional[str]) -> Optional[str]:
        return v and _check(_CONSTRAINT, v, 'give node features such as "ampere" or "volta|ampere"')

    @field_validator("gres")
    @classmethod
    def _gres(cls, v: Optional[str]) -> Optional[str]:
        return v and _check(_GRES, v, 'give GRES such as "min-vram:80g" or "gpu:1,min-cuda-cc:80"')

    @field_validator("modules")
    @classmethod
    def _modules(cls, v: list[str]) -> list[str]:
        for item in v:
            _check(_MODULE, item, f"{item!r} is not a module name (letters, digits and . _ + / -)")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if not _ENV_NAME.fullmatch(key):
                raise ValueError(f"{key!r} is not a variable name (letters, digits and _)")
            if key.startswith(_RESERVED_ENV):
                raise ValueError(f"{key} is set by Slurm or tritonml-lab; choose another name")
            if _CONTROL.search(value):
                raise ValueError(f"the value of {key} contains a newline or control character")
            if len(value) > 32768:
                raise ValueError(f"the value of {key} is longer than 32768 characters")
        return v

    @field_validator("workdir", "python")
    @classmethod
    def _abs_path(cls, v: Optional[str], info) -> Optional[str]:
        if v is None:
            return None
        if not v.startswith("/") or _CONTROL.search(v) or "\t" in v:
            raise ValueError("give an absolute path (starting with /) without control characters")
        if info.field_name == "workdir" and _SBATCH_UNSAFE.search(v):
            # It goes on an #SBATCH line, which sbatch does not parse like a shell.
            raise ValueError("the directory's path must not contain spaces, quotes, #, %, $ or backslashes")
        return v

    @model_validator(mode="after")
    def _exactly_one_payload(self, info: ValidationInfo) -> "JobSpec":
        given = [key for key in ("code", "script", "command") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of code (Python), script (shell) or command"
                + (f"; got {', '.join(given)}" if given else "")
            )
        if self.command is not None and _CONTROL.search(self.command):
            raise ValueError("command must be one line; use script for several lines")
        # The time limit the job gets: its own, or the admin's default (resolve() fills it in and
        # says so in the context); a spec not resolved yet and without a time is checked there.
        limit = parse_duration(self.time) if self.time else None
        if self.checkpoint is not None and limit is not None and self.checkpoint.warn_seconds >= limit:
            defaulted = "time" in ((info.context or {}).get("defaulted") or ())
            whose = ", the site's default: the job gives none" if defaulted else ""
            raise ValueError(f"checkpoint.warn ({self.checkpoint.warn}) must be shorter than the time limit "
                             f"({self.time}{whose}): give a shorter warn or a longer time")
        return self

    @property
    def gpu_count(self) -> int:
        if not self.gpus:
            return 0
        match = _GPUS.fullmatch(self.gpus)
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


# The spec's fields an admin's default fills in when the spec leaves them out. ``python`` is not one
# of them: the admin's Python may be a bare name found on the job's PATH; script.py applies it.
DEFAULTED_FIELDS = ("partition", "time", "cpus_per_task", "mem")


def resolve(spec: JobSpec, defaults: Defaults) -> JobSpec:
    """The spec as the job gets it: each field it leaves out filled with the admin's default, then
    validated as a whole, once, so that every rule between fields sees the values that apply (a
    checkpoint.warn longer than the site's default time limit is refused like one longer than an
    explicit time). Raises pydantic's ValidationError (400 in the API, an option error in the magics).
    What is rendered (script.py) is this spec; the manifest keeps the user's own."""
    filled = {name: getattr(defaults, name) for name in DEFAULTED_FIELDS
              if getattr(spec, name) is None and getattr(defaults, name) not in (None, "")}
    # A default the spec's own rules would refuse but Slurm takes ("UNLIMITED", a list of partitions)
    # stays the admin's to answer for: it is rendered as given, as before, and Slurm judges it.
    for name, value in list(filled.items()):
        try:
            JobSpec.model_validate({"command": "true", name: value})  # the field's own rules alone
        except ValidationError:
            del filled[name]
    if not filled:
        return spec
    data = {**spec.model_dump(exclude_unset=True), **filled}
    return type(spec).model_validate(data, context={"defaulted": frozenset(filled)})


def ddp_layout(gpus: Optional[str], nodes: Optional[int], ntasks_per_node: Optional[int]) -> tuple[int, int, Optional[str]]:
    """(nodes, tasks per node, GRES per node) of a DDP job: one task per GPU, each node asking for
    its share of the GPUs as ``--gres`` (``--gpus`` counts for the whole job and could put 3 on one
    node and 1 on the other). Without GPUs: ``ntasks_per_node`` CPU tasks per node (default 1).
    Call with validated values (JobSpec checks that the GPUs split evenly)."""
    nodes = nodes or 1
    match = _GPUS.fullmatch(gpus) if gpus else None
    if match is None:
        return nodes, ntasks_per_node or 1, None
    per_node = int(match.group("count")) // nodes
    kind = match.group("type")
    return nodes, per_node, f"gpu:{kind}:{per_node}" if kind else f"gpu:{per_node}"


def schema_without(*names: str):
    """A ``json_schema_extra`` for a JobSpec subclass that refuses some keys: the API schema leaves them out."""
    def drop(schema: dict) -> None:
        for name in names:
            schema.get("properties", {}).pop(name, None)
    return drop


def field_errors(exc) -> list[dict[str, str]]:
    """pydantic ValidationError -> [{"field": "gpus", "message": "..."}] for the API and the magic."""
    errors = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ())) or "spec"
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        errors.append({"field": field, "message": message})
    return errors
