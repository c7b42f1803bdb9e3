"""What a job asks Slurm for and where it runs, and THE rules those values are held to.

``Resources`` is the one definition: ``JobSpec`` (``POST jobs``, the magics) adds what runs, and the
notebook and sweep requests add theirs, all on this base, so a bad ``time`` is refused by the same
validator everywhere. The wire format stays flat (``{"path": ..., "gpus": "1", "time": ...}``), which is
why the requests extend this model instead of holding it as a field: pydantic has no flattened field.
A request keeps only its own keys: it never is a JobSpec with rules switched off, and a JobSpec is
built from it with :func:`~.spec.compose`, without validating the values again.

The admin's defaults apply first: validated with them in the context (``spec.parse``), the rules
between fields see the values the job will get (a ``checkpoint.warn`` against the site's default
time); the model remembers for which defaults it was checked, so ``spec.resolve`` fills them in
without a second validation.

Every value that ends up in the batch script is checked against a narrow pattern here (no whitespace,
quotes, newlines or shell metacharacters where Slurm does not need them) and is still quoted when the
script is rendered. Error messages name the field and say what is allowed.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Any, ClassVar, Literal, Mapping, Optional

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo,
                      field_validator, model_validator)
from pydantic_core import PydanticCustomError

from ..slurm.timefmt import format_duration, parse_duration

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
GPUS = re.compile(r"^(?:(?P<type>[A-Za-z0-9][A-Za-z0-9_.-]{0,31}):)?(?P<count>[1-9][0-9]{0,2})$")
_SIZE = re.compile(r"^[1-9][0-9]{0,8}[KMGT]?$", re.IGNORECASE)
_CONSTRAINT = re.compile(r"^[A-Za-z0-9_.&|\[\]()*!,-]{1,200}$")
_GRES = re.compile(r"^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+){0,2}(?:,[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+){0,2})*$")
_MODULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+/-]{0,127}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters except tab
_SBATCH_UNSAFE = re.compile(r"[\s'\"\\%$`#]")  # sbatch ends an #SBATCH value at # too
_RESERVED_ENV = ("SLURM_", "SBATCH_", "SRUN_", "SALLOC_", "TRITONML_")

# checkpoint.warn: Slurm's --signal takes at most 65535 s; under 10 s there is no time to save anything.
MIN_WARN, MAX_WARN = 10, 65535
MAX_REQUEUE = 100
_WARN = re.compile(r"^(?P<n>[1-9][0-9]{0,5})\s*(?P<unit>s|sec|m|min|h)?$", re.IGNORECASE)
# The fields an admin's default fills in when the request leaves them out. ``python`` is not one of
# them: the admin's Python may be a bare name found on the job's PATH (job_python applies it).
DEFAULTED_FIELDS = ("partition", "time", "cpus_per_task", "mem")
# The validation context's key for the admin's defaults (a jobs.spec.Defaults).
DEFAULTS = "defaults"


def check(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(what)
    return value


def check_absolute(path: str) -> str:
    """An absolute path a job can be given: no control characters (it is written into job.sh)."""
    if not path.startswith("/") or CONTROL.search(path) or "\t" in path:
        raise ValueError("give an absolute path (starting with /) without control characters")
    return path


def check_workdir(path: str) -> str:
    """THE rule for the directory a job starts in, for the API and the magics' --workdir (and the
    kernel's own folder, used only when it passes): it goes on an ``#SBATCH --chdir`` line, which
    sbatch does not parse like a shell."""
    check_absolute(path)
    if _SBATCH_UNSAFE.search(path):
        raise ValueError("the directory's path must not contain spaces, quotes, #, %, $ or backslashes")
    return path


Workdir = Annotated[str, AfterValidator(check_workdir)]
Python = Annotated[str, AfterValidator(check_absolute)]


def job_python(python: Optional[str], defaults: Any) -> str:
    """THE choice of the Python that runs a job's code: the request's own, else the admin's
    (``c.TritonML.default_python``, maybe a bare name found on the job's PATH), else python3."""
    return python or getattr(defaults, "python", None) or "python3"


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


class Resources(BaseModel):
    """The Slurm resources and the environment a job asks for (snake_case keys, all optional)."""

    model_config = ConfigDict(extra="forbid")
    # Keys a job spec has that this request does not take, with why: a clearer error than "unknown field".
    refused: ClassVar[Mapping[str, str]] = {}
    # The admin's defaults (defaults_key) the rules between fields were checked with; None: none.
    _checked_with: Optional[tuple[tuple[str, Any], ...]] = PrivateAttr(None)

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
    constraint: Optional[str] = None
    gres: Optional[str] = Field(None, description='extra GRES, e.g. "min-vram:80g"')
    tmp: Optional[str] = Field(None, description='node-local disk, e.g. "100G"')
    account: Optional[str] = None
    qos: Optional[str] = None
    modules: list[str] = Field(default_factory=list, max_length=64)
    env: dict[str, str] = Field(default_factory=dict, max_length=256)
    workdir: Optional[Workdir] = Field(None, description="absolute directory the job starts in")
    checkpoint: Optional[Checkpoint] = Field(None, description="warn before the time limit (SIGUSR1) and "
                                             "requeue a job that stops there, up to N times")
    profile: Optional[Literal["torch", "nsys"]] = Field(
        None, description='profile the program: "torch" (torch.profiler over a few steps after warm-up; the job '
        'detail\'s Profile section summarizes the trace) or "nsys" (nsys profile, where nsys is on the PATH)')

    @field_validator("name")
    @classmethod
    def _name(cls, v: Optional[str]) -> Optional[str]:
        return v and check(_NAME, v, "use letters, digits and . _ + - (up to 64, starting with a letter or digit)")

    @field_validator("partition", "account", "qos")
    @classmethod
    def _word(cls, v: Optional[str]) -> Optional[str]:
        return v and check(_WORD, v, "use letters, digits and . _ - only (as Slurm names them)")

    @field_validator("gpus")
    @classmethod
    def _gpus(cls, v: Optional[str], info: ValidationInfo) -> Optional[str]:
        v = v and check(GPUS, v, 'give a count ("2") or a type and a count ("h100:1"), 1 to 999 GPUs')
        if v and info.data.get("ddp"):
            nodes = info.data.get("nodes") or 1
            count = int(GPUS.fullmatch(v).group("count"))
            if count % nodes:
                raise ValueError(f"DDP runs one task per GPU: {count} GPUs cannot be split evenly over "
                                 f"{nodes} nodes; ask for a multiple of {nodes}")
        return v

    @field_validator("ntasks_per_node")
    @classmethod
    def _ntasks_per_node(cls, v: Optional[int], info: ValidationInfo) -> Optional[int]:
        gpus = info.data.get("gpus")
        if v is not None and gpus and info.data.get("ddp"):
            per_node = int(GPUS.fullmatch(gpus).group("count")) // (info.data.get("nodes") or 1)
            if v != per_node:
                raise ValueError(f"DDP runs one task per GPU: with {gpus} GPUs on "
                                 f"{info.data.get('nodes') or 1} node(s) this must be {per_node} (or left out)")
        return v

    @field_validator("mem", "tmp")
    @classmethod
    def _size(cls, v: Optional[str]) -> Optional[str]:
        return v and check(_SIZE, v, 'give a size such as "500M", "16G" or "1T"').upper()

    @field_validator("time")
    @classmethod
    def _time(cls, v: Optional[str]) -> Optional[str]:
        if not v:
            return None
        seconds = parse_duration(v)
        if seconds is None or seconds <= 0:
            raise ValueError('give a time limit such as "30:00", "01:00:00" or "2-00:00:00"')
        return format_duration(seconds)

    @field_validator("constraint")
    @classmethod
    def _constraint(cls, v: Optional[str]) -> Optional[str]:
        return v and check(_CONSTRAINT, v, 'give node features such as "ampere" or "volta|ampere"')

    @field_validator("gres")
    @classmethod
    def _gres(cls, v: Optional[str]) -> Optional[str]:
        return v and check(_GRES, v, 'give GRES such as "min-vram:80g" or "gpu:1,min-cuda-cc:80"')

    @field_validator("modules")
    @classmethod
    def _modules(cls, v: list[str]) -> list[str]:
        for item in v:
            check(_MODULE, item, f"{item!r} is not a module name (letters, digits and . _ + / -)")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        for key, value in v.items():
            if not _ENV_NAME.fullmatch(key):
                raise ValueError(f"{key!r} is not a variable name (letters, digits and _)")
            if key.startswith(_RESERVED_ENV):
                raise ValueError(f"{key} is set by Slurm or tritonml-lab; choose another name")
            if CONTROL.search(value):
                raise ValueError(f"the value of {key} contains a newline or control character")
            if len(value) > 32768:
                raise ValueError(f"the value of {key} is longer than 32768 characters")
        return v

    @model_validator(mode="wrap")
    @classmethod
    def _explain_refused(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            if not cls.refused:
                raise
            errors = [
                {"type": PydanticCustomError("refused", "{why}", {"why": cls.refused[e["loc"][0]]}),
                 "loc": e["loc"], "input": e["input"]}
                if e["type"] == "extra_forbidden" and len(e["loc"]) == 1 and e["loc"][0] in cls.refused else e
                for e in exc.errors()
            ]
            raise ValidationError.from_exception_data(exc.title, errors) from None

    @model_validator(mode="after")
    def _with_the_defaults(self, info: ValidationInfo) -> "Resources":
        # The rules between fields, on the values the job gets: its own, else the admin's default.
        defaults = (info.context or {}).get(DEFAULTS)
        filled = admin_defaults(defaults) if defaults is not None else {}
        time = self.time or filled.get("time")
        limit = parse_duration(time) if time else None
        if self.checkpoint is not None and limit is not None and self.checkpoint.warn_seconds >= limit:
            whose = ", the site's default: the job gives none" if not self.time else ""
            raise ValueError(f"checkpoint.warn ({self.checkpoint.warn}) must be shorter than the time limit "
                             f"({time}{whose}): give a shorter warn or a longer time")
        self._checked_with = defaults_key(defaults) if defaults is not None else None
        return self


def defaults_key(defaults: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(admin_defaults(defaults).items()))


def admin_defaults(defaults: Any) -> dict[str, Any]:
    """The admin's defaults a request's fields can take, as the field's rules give them ("4g" is
    "4G"). A default the rules would refuse but Slurm takes ("UNLIMITED", a list of partitions)
    stays the admin's to answer for: left out here, rendered as given, and Slurm judges it."""
    return dict(_usable(tuple((name, getattr(defaults, name, None)) for name in DEFAULTED_FIELDS)))


@functools.lru_cache(maxsize=32)
def _usable(given: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
    usable = []
    for name, value in given:
        if value in (None, ""):
            continue
        try:  # the field's own rules alone, once per set of defaults
            usable.append((name, getattr(Resources.model_validate({name: value}), name)))
        except ValidationError:
            pass
    return tuple(usable)
