"""Slurm's time notations: limits like ``5-00:00:00``/``30:00``/``UNLIMITED`` and timestamps."""

from __future__ import annotations

from typing import Optional



def parse_duration(text: str | None) -> Optional[int]:
    """Seconds in a Slurm duration; None for UNLIMITED/INVALID/empty.

    Slurm accepts "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS".
    """
    if text is None:
        return None
    text = text.strip()
    if not text or text.upper() in {"UNLIMITED", "INFINITE", "INVALID", "NONE", "N/A", "PARTITION_LIMIT"}:
        return None
    days = 0
    if "-" in text:
        day_part, text = text.split("-", 1)
        if not day_part.isdigit():
            return None
        days = int(day_part)
        parts = text.split(":")
        # With days, the first field is hours: D-HH, D-HH:MM, D-HH:MM:SS.
        nums = [int(p) for p in parts if p.isdigit()]
        if len(nums) != len(parts) or not 1 <= len(nums) <= 3:
            return None
        h, m, s = (nums + [0, 0])[:3]
        return ((days * 24 + h) * 60 + m) * 60 + s
    parts = text.split(":")
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3:
        return None
    nums = [int(p) for p in parts]
    if len(nums) == 1:  # minutes
        return nums[0] * 60
    if len(nums) == 2:  # MM:SS
        return nums[0] * 60 + nums[1]
    return (nums[0] * 60 + nums[1]) * 60 + nums[2]


def format_duration(seconds: int | None) -> Optional[str]:
    """Seconds -> Slurm's ``D-HH:MM:SS`` (``HH:MM:SS`` under a day); None stays None."""
    if seconds is None:
        return None
    days, rest = divmod(int(seconds), 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    core = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{days}-{core}" if days else core
