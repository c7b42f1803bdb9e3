"""Turning parsed options into the fields of a job spec or sweep request: names (--in/--out), values
(--grid, --space, -p), --env and --workdir; and validation errors back into the options' names.

Every mistake is an IPython ``UsageError`` that names the option, raised before anything is written
or submitted.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Sequence
from typing import Any

from IPython.core.error import UsageError
from pydantic import ValidationError

from ..jobs.resources import check_workdir
from ..jobs.spec import field_errors

# JobSpec field -> the option that sets it, for error messages.
_OPTION_OF = {
    "name": "--name", "partition": "--partition", "gpus": "--gpus", "cpus_per_task": "--cpus",
    "mem": "--mem", "time": "--time", "nodes": "--nodes", "ntasks_per_node": "--ntasks-per-node",
    "array": "--array", "constraint": "--constraint", "gres": "--gres", "tmp": "--tmp",
    "account": "--account", "qos": "--qos", "modules": "--module", "env": "--env",
    "workdir": "--workdir", "python": "--python", "code": "the cell", "script": "the cell",
    "grid": "--grid", "random": "--random/--space", "optuna": "--optuna/--space", "metric": "--metric",
    "mode": "--mode",
    "parallel": "--parallel", "path": "PATH", "parameters": "-p", "kernel": "--kernel",
    "output_dir": "--output-dir", "checkpoint": "--warn/--requeue", "prune": "--prune", "profile": "--profile",
}

_DIST = re.compile(r"^(uniform|loguniform|randint|logint|choice)\((.*)\)$", re.IGNORECASE | re.DOTALL)


def option_errors(exc: ValidationError) -> str:
    """A spec's or request's validation errors, one line each, named by the option that set the field."""
    return "\n".join(
        f"  {_OPTION_OF.get(error['field'].split('.')[0], error['field'])}: {error['message']}"
        for error in field_errors(exc)
    )


def resource_fields(args) -> dict[str, Any]:
    """The JobSpec resource and environment fields the options give (submit, sweep, run-notebook)."""
    env: dict[str, str] = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--env: give NAME=VALUE, not {item!r}")
        env[key] = value
    from ..tracking.wandb import BadProject, wandb_env  # issue 26: --wandb PROJECT

    try:
        env.update(wandb_env(getattr(args, "wandb", None), env, sweep=args.name or "sweep" if hasattr(args, "grid")
                             else None))
    except BadProject as exc:
        raise UsageError(str(exc)) from None
    workdir = args.workdir
    if workdir is None:
        workdir = os.getcwd()  # the notebook's folder, if a job can start there; else the job directory
        try:
            check_workdir(workdir)
        except ValueError:
            workdir = None
    else:
        try:
            check_workdir(workdir)  # the spec's own rule, so that this names --workdir
        except ValueError as exc:
            raise UsageError(f"--workdir: {exc} (got {workdir!r})") from None
    return dict(
        name=args.name, partition=args.partition, gpus=args.gpus, cpus_per_task=args.cpus,
        mem=args.mem, time=args.time, nodes=args.nodes, ntasks_per_node=args.ntasks_per_node,
        array=getattr(args, "array", None), constraint=args.constraint, gres=args.gres, tmp=args.tmp,
        account=args.account, qos=args.qos, modules=list(args.module), env=env, workdir=workdir,
        profile=getattr(args, "profile", None),
    )


def split_names(values: Sequence[str], option: str) -> list[str]:
    """--in a,b --in c -> ['a', 'b', 'c']: Python variable names, each once."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if not name.isidentifier():
            raise UsageError(f"{option}: {name!r} is not a Python variable name")
    return list(dict.fromkeys(names))


def parse_value(text: str) -> Any:
    """One value of --grid/--space/-p: quoted text, true/false, none, an int, a float, else text."""
    word = text.strip()
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    lower = word.lower()
    if lower in ("true", "false"):
        return lower == "true"
    if lower in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            pass
    return word


def _name_and_rest(item: str, option: str, example: str) -> tuple[str, str]:
    name, sep, rest = item.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise UsageError(f"{option}: give {example}, not {item!r}")
    return name.strip(), rest.strip()


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """--grid lr=1e-3,1e-4 batch=32,64 -> {"lr": [0.001, 0.0001], "batch": [32, 64]}."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, rest = _name_and_rest(item, "--grid", "NAME=V1,V2,... (e.g. lr=1e-3,1e-4)")
        if name in grid:
            raise UsageError(f"--grid: {name} is given twice")
        grid[name] = [parse_value(value) for value in rest.split(",")]
    return grid


def parse_space(items: Sequence[str]) -> dict[str, Any]:
    """--space lr=loguniform(1e-5,1e-2) layers=2,4 -> {"lr": {low, high, log, integer}, "layers": [2, 4]}."""
    space: dict[str, Any] = {}
    for item in items:
        name, rest = _name_and_rest(item, "--space", "NAME=loguniform(1e-5,1e-2), NAME=choice(2,4,8) or NAME=2,4,8")
        if name in space:
            raise UsageError(f"--space: {name} is given twice")
        match = _DIST.fullmatch(rest)
        if not match:
            space[name] = [parse_value(value) for value in rest.split(",")]
            continue
        kind, inner = match.group(1).lower(), match.group(2)
        args = [part.strip() for part in inner.split(",")]
        if kind == "choice":
            space[name] = [parse_value(value) for value in args]
            continue
        try:
            low, high = (float(value) for value in args)
        except ValueError:
            raise UsageError(f"--space: {kind}() takes two numbers (low, high), not {inner!r}") from None
        space[name] = {"low": low, "high": high, "log": kind in ("loguniform", "logint"),
                       "integer": kind in ("randint", "logint")}
    return space


def parse_parameter(text: str) -> Any:
    """-p NAME VALUE of run-notebook: JSON, else a Python literal, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
