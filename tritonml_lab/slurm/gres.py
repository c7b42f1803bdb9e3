"""Parsing of Slurm GRES strings such as ``gpu:h100:2(S:0-1),tmpdisk:100`` and ``gpu:h100:1(IDX:0)``."""

from __future__ import annotations

import re
from typing import NamedTuple, Optional

_ITEM = re.compile(r"^(?P<name>[^:()]+)(?::(?P<type>[^:()]+))?(?::(?P<count>\d+))?(?:\((?P<extra>[^)]*)\))?$")


class Gres(NamedTuple):
    name: str
    type: Optional[str]
    count: int


def split_gres(text: str | None) -> list[str]:
    """Split on commas that are not inside parentheses ("(S:0-1,3)" stays whole)."""
    if not text or text in {"(null)", "N/A"}:
        return []
    items, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def parse_gres(text: str | None) -> list[Gres]:
    """``gpu:h100:2`` -> Gres('gpu', 'h100', 2); ``gpu:2`` -> Gres('gpu', None, 2); ``gpu`` -> count 1."""
    result = []
    for item in split_gres(text):
        match = _ITEM.match(item)
        if not match:
            continue
        name, kind, count = match.group("name"), match.group("type"), match.group("count")
        if count is None and kind is not None and kind.isdigit():
            kind, count = None, kind
        result.append(Gres(name, kind, int(count) if count is not None else 1))
    return result


def gpus_of(text: str | None) -> dict[Optional[str], int]:
    """GPU counts by type from a GRES string (other GRES ignored)."""
    counts: dict[Optional[str], int] = {}
    for gres in parse_gres(text):
        if gres.name == "gpu":
            counts[gres.type] = counts.get(gres.type, 0) + gres.count
    return counts
