"""Readers of the value shapes that Slurm's JSON output changed from release to release.

22.05 (data_parser v0.0.38) prints plain numbers and strings; 23.02 (v0.0.39) wraps numbers as
``{"set": bool, "infinite": bool, "number": N}``; 23.11+ (v0.0.40..v0.0.43) also prints job states
and exit statuses as lists of flags. Each reader accepts every shape and answers None, never a
made-up value, for what is unset, infinite or unreadable.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any, Optional, TypeVar

from .errors import SlurmOutputError

log = logging.getLogger("tritonml_lab.slurm")
T = TypeVar("T")

# 22.05 prints unset/unlimited 32- and 64-bit fields as Slurm's sentinels (NO_VAL, INFINITE, ...)
# where newer releases say {"set": false} / {"infinite": true}.
_SENTINELS = frozenset({0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF})

_warned: set[str] = set()


def warn_once(key: str, message: str, *args: Any) -> None:
    """A warning logged once per process: a field unreadable in one job is unreadable in all."""
    if key not in _warned:
        _warned.add(key)
        log.warning("tritonml-lab: " + message, *args)


def load(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SlurmOutputError(f"{what} did not print JSON ({exc}); is this Slurm 21.08 or newer?") from exc
    if not isinstance(data, dict):
        raise SlurmOutputError(f"{what} printed JSON of an unexpected shape")
    return data


def obj(value: Any) -> dict[str, Any]:
    """A field Slurm prints as an object; {} when it holds anything else (absent, or a string or a
    list where an object belongs): its fields then read as None, never as an AttributeError."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """A field Slurm prints as a list; [] when it holds anything else."""
    return value if isinstance(value, list) else []


def guarded(what: str, parse: Callable[[], T]) -> T:
    """``parse()``, with any error of a shape its readers did not expect turned into the typed
    SlurmOutputError (the callers' error state), never an AttributeError or TypeError past it."""
    try:
        return parse()
    except SlurmOutputError:
        raise
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise SlurmOutputError(f"{what} printed a field of an unexpected type ({type(exc).__name__}: {exc})") from exc


def number(value: Any) -> Optional[int]:
    """5, "5", {"set": true, "number": 5} -> 5; unset, infinite, a sentinel or no number -> None."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite"):
            return None
        value = value.get("number")
    if isinstance(value, bool) or value is None:
        return None
    try:
        result = int(value)
    except (TypeError, ValueError):
        return None
    return None if result in _SENTINELS else result


def epoch(value: Any) -> Optional[float]:
    """A timestamp; 0 (Slurm's "not yet") is None."""
    seconds = number(value)
    return float(seconds) if seconds and seconds > 0 else None


def text(value: Any) -> Optional[str]:
    """A string field; a list (23.x flags) gives its first item; empty is None."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, bool)):
        return None
    result = str(value).strip()
    return result or None


def flags(value: Any) -> list[str]:
    """State-like fields: "RUNNING" (22.05) or ["RUNNING", "COMPLETING"] (23.x), upper-cased."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [item.strip().upper() for item in value if isinstance(item, str) and item.strip()]


def first(raw: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` that ``raw`` has (fields renamed between releases)."""
    for key in keys:
        if key in raw:
            return raw[key]
    return None


def split_top(text: str) -> list[str]:
    """Split on the commas outside brackets: "gpu:2(S:0-1,3),x" and "gpu[1-2,5],cn1" keep their groups."""
    items, depth, current = [], 0, []
    for char in text:
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def data_parser(doc: dict[str, Any]) -> Optional[str]:
    """The data_parser version of a JSON answer ("v0.0.40"), from any release's ``meta``:
    22.05 ``plugin.type`` "openapi/dbv0.0.38", 23.02 ``plugins.data_parser``, 23.11+ ``plugin.data_parser``."""
    meta = obj(doc.get("meta"))
    for holder in (meta.get("plugin"), meta.get("plugins")):
        if isinstance(holder, dict):
            for key in ("data_parser", "type"):
                match = re.search(r"v\d+\.\d+\.\d+", str(holder.get(key) or ""))
                if match:
                    return match.group(0)
    return None


def release(doc: dict[str, Any]) -> Optional[str]:
    """The Slurm release that printed a JSON answer ("23.11.10"), from ``meta.Slurm`` or ``meta.slurm``."""
    meta = obj(doc.get("meta"))
    slurm = meta.get("slurm") or meta.get("Slurm") or {}
    return text(slurm.get("release")) if isinstance(slurm, dict) else None


def note_layout(doc: dict[str, Any], what: str, known: frozenset[str]) -> None:
    """Log once when a JSON answer comes in a layout (data_parser) the parsers were not checked on."""
    parser = data_parser(doc)
    if parser is not None and parser not in known:
        warn_once(f"layout-{what}-{parser}", "%s printed JSON of data_parser %s (Slurm %s), which this version "
                  "was not checked on; reading its fields by name", what, parser, release(doc) or "of unknown release")
