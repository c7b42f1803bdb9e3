"""Slurm host lists: ``gpu[1-2,5],csl1`` -> gpu1, gpu2, gpu5, csl1 (zero padding and several
bracket groups, ``r[1-2]n[01-02]``, as Slurm writes them)."""

from __future__ import annotations

import re

from .values import split_top

_BRACKET = re.compile(r"\[([^\]]*)\]")


def expand(text: str | None) -> list[str]:
    names: list[str] = []
    for item in split_top(text or ""):
        names.extend(_expand_one(item))
    return names


def _expand_one(item: str) -> list[str]:
    match = _BRACKET.search(item)
    if not match:
        return [item]
    head, tail = item[: match.start()], item[match.end():]
    names = []
    for part in match.group(1).split(","):
        low, dash, high = part.partition("-")
        if dash and low.isdigit() and high.isdigit():
            values = [str(n).zfill(len(low)) for n in range(int(low), int(high) + 1)]
        else:
            values = [part]
        for value in values:
            names.extend(_expand_one(head + value + tail))
    return names
