"""What ``POST sweeps`` (and ``%%tritonml sweep``) accepts, validated before anything is written or run.

A sweep is the user's Python ``code`` run once per point of a search space, as Slurm array tasks. The
space is either a ``grid`` (name -> list of values, every combination), a ``random`` search
(``n`` points drawn from per-name ranges or lists, reproducibly from ``seed``) or an ``optuna`` search
(``n`` trials over the same kind of space, each task asking Optuna for its point when it starts; see
:mod:`.adaptive`). The resource keys are those of ``POST jobs``, held to the same rules
(``jobs/resources.py``; errors per field).

Point values are data (JSON scalars), handed to the task in a JSON file and never written into the
batch script; they are still held to a narrow pattern so that a value can never look like a script
line (``#SBATCH ...``) or a shell fragment anywhere it might be shown or copied.
"""

from __future__ import annotations

import itertools
import keyword
import math
import random as _random
import re
import secrets
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from ..jobs.resources import Python, Resources
from ..jobs.spec import MAX_CODE

MAX_POINTS = 100_000
MAX_NAMES = 32
MAX_VALUES_PER_NAME = 10_000
MAX_STRING = 200
MAX_PARALLEL = 10_000
RESERVED_NAMES = frozenset({"tritonml"})

_SAFE_STRING = re.compile(r"^[A-Za-z0-9 ._+\-:/=@,]*$")
_METRIC = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")

Scalar = Any  # bool | int | float | str | None, checked by _check_value


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{name!r} is not a Python variable name (the task gets it as a variable)")
    if name.startswith("__") or name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is reserved; choose another name")
    return name


def _check_value(name: str, value: Any) -> Any:
    """One point value: a JSON scalar that can never read as a script line or shell fragment."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > 2**53:
            raise ValueError(f"{name}: {value} is too large (at most 2**53 in magnitude)")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name}: values must be finite numbers (not NaN or infinity)")
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING or not _SAFE_STRING.fullmatch(value):
            raise ValueError(
                f"{name}: the value {value[:40]!r} is not allowed; text values may have letters, digits, "
                f"spaces and . _ + - : / = @ , only (up to {MAX_STRING} characters)"
            )
        return value
    raise ValueError(f"{name}: values must be numbers, text, true/false or null, not {type(value).__name__}")


def _check_values(name: str, values: Any) -> list[Any]:
    if not isinstance(values, list) or not values:
        raise ValueError(f"{name}: give a non-empty list of values")
    if len(values) > MAX_VALUES_PER_NAME:
        raise ValueError(f"{name}: at most {MAX_VALUES_PER_NAME} values per name")
    return [_check_value(name, value) for value in values]


class Range(BaseModel):
    """A numeric range of a random search: uniform in [low, high], log-uniform with ``log``,
    whole numbers with ``integer``."""

    model_config = ConfigDict(extra="forbid")

    low: float
    high: float
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _bounds(self) -> "Range":
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite numbers")
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not be above high ({self.high:g})")
        if self.log and self.low <= 0:
            raise ValueError("a log-uniform range needs low > 0")
        if self.integer and math.floor(self.high) < math.ceil(self.low):
            raise ValueError("an integer range needs a whole number between low and high")
        return self

    def draw(self, rng: _random.Random) -> float | int:
        if self.integer:
            lo, hi = math.ceil(self.low), math.floor(self.high)
            if self.log:  # log-uniform over [lo - 0.5, hi + 0.5), rounded: every integer reachable
                value = round(math.exp(rng.uniform(math.log(max(lo - 0.5, 1e-12)), math.log(hi + 0.5))))
                return int(min(max(value, lo), hi))
            return rng.randint(lo, hi)
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)


class RandomSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(description="number of points", ge=1, le=MAX_POINTS)
    space: dict[str, Any] = Field(description='name -> {"low", "high", "log"?, "integer"?} or a list of choices')
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1, description="makes the points reproducible")

    @field_validator("space")
    @classmethod
    def _space(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not v:
            raise ValueError("give at least one name with a range or a list of choices")
        if len(v) > MAX_NAMES:
            raise ValueError(f"at most {MAX_NAMES} names")
        space: dict[str, Any] = {}
        for name, dim in v.items():
            _check_name(name)
            if isinstance(dim, list):
                space[name] = _check_values(name, dim)
            elif isinstance(dim, dict):
                try:
                    space[name] = Range.model_validate(dim)
                except ValidationError as exc:
                    detail = "; ".join(
                        f"{'.'.join(map(str, e['loc'])) or 'range'}: {e['msg'].removeprefix('Value error, ')}"
                        for e in exc.errors()
                    )
                    raise ValueError(f"{name}: {detail}") from None
            else:
                raise ValueError(
                    f'{name}: give a range {{"low": 1e-5, "high": 1e-2, "log": true}} or a list of choices'
                )
        return space


class OptunaSearch(RandomSearch):
    """An adaptive search: ``n`` trials over a random search's space, each array task asking Optuna's
    ``sampler`` for its point when it starts (``seed`` makes each task's sampler reproducible)."""

    sampler: Literal["tpe", "random"] = Field("tpe", description="Optuna's TPE (default) or random sampler")


class Prune(BaseModel):
    """Stop tasks early that are clearly worse, from the values they report per step
    (``tritonml.report(step=..., loss=...)``). ``median``: in an Optuna sweep, Optuna's MedianPruner
    (a trial worse at a step than the median of the completed trials there); in a grid or random
    sweep, the median stopping rule (a task whose best value so far is worse than the median of the
    other tasks' best values at the same step). A pruned task ends cleanly and shows as pruned."""

    model_config = ConfigDict(extra="forbid")

    rule: Literal["median"] = Field("median", description="the only rule: median")
    startup: int = Field(5, ge=1, le=10_000, description="no task is pruned before this many trials have "
                         "completed (Optuna) or this many other tasks have reached the step (grid, random)")
    warmup: int = Field(0, ge=0, le=10**9, description="no task is pruned before this step")


class SweepRequest(Resources):
    """``POST sweeps``: the code, the space (``grid``, ``random`` or ``optuna``), the metric and the
    resources of ``POST jobs`` (held to the same rules)."""

    refused = {"array": "not used for sweeps: the sweep makes the array (one task per point)",
               **{key: "not used for sweeps: a sweep runs Python code (give code)" for key in ("script", "command")}}

    code: Optional[str] = Field(None, validate_default=True, max_length=MAX_CODE,
                                description="Python source each task runs")
    python: Optional[Python] = Field(None, description="absolute path of the Python that runs `code`")
    grid: Optional[dict[str, Any]] = Field(None, description="name -> list of values; every combination runs")
    random: Optional[RandomSearch] = None
    optuna: Optional[OptunaSearch] = None
    # metric and mode come after optuna: their validators read it (an Optuna study needs both).
    metric: Optional[str] = Field(None, validate_default=True,
                                  description="the reported value the results are sorted by")
    mode: Optional[Literal["min", "max"]] = Field(None, validate_default=True, description="min (default) or max")
    parallel: Optional[int] = Field(None, ge=1, le=MAX_PARALLEL, description="at most this many tasks at once")
    prune: Optional[Prune] = Field(None, description="stop clearly worse tasks early from their per-step values")

    @model_validator(mode="after")
    def _one_space(self) -> "SweepRequest":
        if sum(space is not None for space in (self.grid, self.random, self.optuna)) != 1:
            raise ValueError("give exactly one of grid (every combination), random (n random points) "
                             "or optuna (n adaptive trials)")
        if self.optuna is not None and self.ddp:
            raise ValueError("an optuna sweep runs one process per task (each asks Optuna for a trial); "
                             "ddp is not supported for it")
        return self

    @field_validator("code")
    @classmethod
    def _code(cls, v: Optional[str]) -> str:
        if not v or not v.strip():
            raise ValueError("give the Python code each task runs")
        return v

    @field_validator("grid")
    @classmethod
    def _grid(cls, v: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
        if v is None:
            return None
        if not v:
            raise ValueError("give at least one name with a list of values")
        if len(v) > MAX_NAMES:
            raise ValueError(f"at most {MAX_NAMES} names")
        grid = {_check_name(name): _check_values(name, values) for name, values in v.items()}
        total = math.prod(len(values) for values in grid.values())
        if total > MAX_POINTS:
            raise ValueError(f"the grid has {total:,} points; a sweep may have at most {MAX_POINTS:,}")
        return grid

    @field_validator("prune")
    @classmethod
    def _prune(cls, v: Optional[Prune], info) -> Optional[Prune]:
        if v is not None and "metric" in info.data and not info.data["metric"]:  # (a bad metric says so itself)
            raise ValueError("pruning compares the sweep's metric per step: give metric (the name given to "
                             "tritonml.report(step=..., NAME=...))")
        return v

    @field_validator("metric")
    @classmethod
    def _metric(cls, v: Optional[str], info) -> Optional[str]:
        if v is not None and not _METRIC.fullmatch(v):
            raise ValueError("a metric name has letters, digits and _ . - (as given to tritonml.report)")
        if not v and info.data.get("optuna") is not None:
            raise ValueError("an optuna search needs the metric it optimizes (a name given to tritonml.report)")
        return v or None

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: Optional[str], info) -> str:
        if v is None and info.data.get("optuna") is not None:
            raise ValueError('an optuna search needs the direction: "min" or "max"')
        return v or "min"

    @property
    def search(self) -> str:
        return "grid" if self.grid is not None else "random" if self.random is not None else "optuna"

    def with_seed(self) -> "SweepRequest":
        """A random search without a seed gets one now, so that its points can be told again (an
        optuna search keeps none: its points depend on the order the trials end in anyway)."""
        if self.random is not None and self.random.seed is None:
            random = self.random.model_copy(update={"seed": secrets.randbelow(2**31)})
            return self.model_copy(update={"random": random})
        return self

    def space(self) -> dict[str, Any]:
        """The space as given (JSON), for the manifest and the view."""
        if self.grid is not None:
            return {"grid": self.grid}
        search = self.random or self.optuna
        assert search is not None
        space = {"n": search.n, "seed": search.seed, "space": {
            name: dim.model_dump() if isinstance(dim, Range) else dim for name, dim in search.space.items()
        }}
        if self.optuna is not None:
            return {"optuna": {**space, "sampler": self.optuna.sampler}}
        return {"random": space}


class SweepRetry(Resources):
    """``POST sweeps/{id}/retry``: which ended tasks (default: the failed ones), and resources to
    change for the new array job(s) (e.g. time, mem), held to the rules of ``POST jobs``; the sweep's
    spec with them is validated as a whole when the retry is made."""

    refused = {key: "cannot be changed on retry (resource keys only)" for key in ("code", "script", "command", "array")}

    indices: Optional[list[StrictInt]] = Field(None, description="task indices (default: the failed tasks)")
    python: Optional[Python] = Field(None, description="absolute path of the Python that runs the code")

    def changes(self) -> dict[str, Any]:
        """The keys given, to lay over the sweep's spec."""
        return self.model_dump(exclude_unset=True, exclude={"indices"})


def generate_points(request: SweepRequest) -> list[Optional[dict[str, Any]]]:
    """The sweep's points, in task order; the same request (and seed) always gives the same list.
    An optuna search's points are chosen as its tasks start: None here."""
    if request.optuna is not None:
        return [None] * request.optuna.n
    if request.grid is not None:
        names = list(request.grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*request.grid.values())]
    random = request.random
    assert random is not None
    if random.seed is None:
        raise ValueError("a random search needs a seed here (SweepRequest.with_seed)")
    rng = _random.Random(random.seed)
    points = []
    for _ in range(random.n):
        point = {}
        for name, dim in random.space.items():
            point[name] = rng.choice(dim) if isinstance(dim, list) else dim.draw(rng)
        points.append(point)
    return points


def array_chunks(count: int, max_array_size: int) -> list[tuple[int, int]]:
    """(start, stop) of the array jobs a sweep of ``count`` points needs: Slurm's array indices run
    from 0 to MaxArraySize - 1, so one array job holds at most ``max_array_size`` tasks."""
    size = max(1, int(max_array_size))
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def array_spec(tasks: int, parallel: Optional[int]) -> str:
    """``--array`` for ``tasks`` tasks, at most ``parallel`` at once."""
    spec = "0" if tasks == 1 else f"0-{tasks - 1}"
    return f"{spec}%{parallel}" if parallel else spec
