"""Slurm's GRES and TRES notations of GPUs, as every release prints them.

GRES (node configuration, usage, a job's ``gres_detail``): ``gpu:h100:2(S:0-1),tmpdisk:100``,
``gpu:h100:1(IDX:0),gpu:h200:0(IDX:N/A)``. TRES: ``gres/gpu:h100=2,gres/gpu=2`` (tres_alloc_str,
sacct AllocTRES), ``gres:gpu:h100:2`` (22.05's tres_per_job/node/task/socket), ``gres/gpu:h100:2``
(23.02+), or sacct --json's ``[{"type": "gres", "name": "gpu:h100", "count": 2}]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, NamedTuple, Optional

from .values import number, split_top

_ITEM = re.compile(r"^(?P<name>[^:()]+)(?::(?P<type>[^:()]+))?(?::(?P<count>\d+))?(?:\((?P<extra>[^)]*)\))?$")


class Gres(NamedTuple):
    name: str
    type: Optional[str]
    count: int


def split_gres(text: str | None) -> list[str]:
    """Split on commas that are not inside parentheses ("(S:0-1,3)" stays whole)."""
    if not text or text in {"(null)", "N/A"}:
        return []
    return split_top(text)


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


GpuCounts = dict[Optional[str], int]


def _tres_items(tres: Any) -> Iterator[tuple[str, Optional[int]]]:
    """(name, count) of each TRES entry, from a string or sacct --json's list of {type, name, count}."""
    if isinstance(tres, list):
        for item in tres:
            if isinstance(item, dict) and item.get("type") == "gres":
                yield f"gres/{item.get('name') or ''}", number(item.get("count"))
        return
    for item in split_gres(tres if isinstance(tres, str) else None):
        name, sep, count = item.partition("=")
        if not sep:  # "gres:gpu:h100:2": the count is the last field, if numeric
            head, _, last = item.rpartition(":")
            name, count = (head, last) if last.isdigit() else (item, "1")
        yield name.strip(), int(count) if count.strip().isdigit() else None


def tres_gpus(tres: Any) -> GpuCounts:
    """GPU counts by type in a TRES list; typed entries win over the untyped total they add up to,
    and what the types do not cover stays untyped ({"h100": 1, None: 2} for ``gpu:h100=1,gpu=3``)."""
    typed: GpuCounts = {}
    total: Optional[int] = None
    for name, count in _tres_items(tres):
        kind = re.sub(r"^gres[:/]", "", name)
        if count is None or not (kind == "gpu" or kind.startswith("gpu:")):
            continue
        if kind == "gpu":
            total = (total or 0) + count
        else:
            typed[kind[4:]] = typed.get(kind[4:], 0) + count
    rest = (total or 0) - sum(typed.values())
    if rest > 0:
        typed[None] = rest
    return {kind: count for kind, count in typed.items() if count > 0}


def add_gpus(into: GpuCounts, counts: GpuCounts, times: int = 1) -> GpuCounts:
    for kind, count in counts.items():
        into[kind] = into.get(kind, 0) + count * times
    return into


def format_gpus(counts: GpuCounts) -> Optional[str]:
    """{"h200": 4, "h100": 2} -> "h100:2,h200:4"; {None: 6} -> "6"; nothing -> None."""
    items = sorted((kind or "", count) for kind, count in counts.items() if count > 0)
    return ",".join(f"{kind}:{count}" if kind else str(count) for kind, count in items) or None
