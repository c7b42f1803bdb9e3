"""Sizes and durations as people write them in sbatch options, for the suggested values."""

from __future__ import annotations

import math

MIB = 1 << 20
GIB = 1 << 30

# What people write for --mem: powers of two, and the halfway steps above a few GB.
_SIZES_MIB = [256, 512, 1024, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536,
              98304, 131072, 196608, 262144, 393216, 524288, 786432, 1048576]


def round_size(n: float) -> int:
    """Bytes -> the next size in the list (256M, 512M, 1G, 2G, 3G, 4G, 6G, 8G, 12G, ...), in bytes;
    past 1T, whole TB."""
    for mib in _SIZES_MIB:
        if n <= mib * MIB:
            return mib * MIB
    return math.ceil(n / (1 << 40)) * (1 << 40)


def format_size(n: int) -> str:
    """Bytes -> sbatch's notation: '512M', '2G', '1T'."""
    if n % (1 << 40) == 0:
        return f"{n >> 40}T"
    if n % GIB == 0:
        return f"{n // GIB}G"
    return f"{math.ceil(n / MIB)}M"


def human_size(n: float) -> str:
    if n < GIB:
        return f"{max(1, round(n / MIB))} MB"
    value = n / GIB
    return f"{value:.0f} GB" if value >= 10 else f"{value:.1f} GB"


def round_time(seconds: float, minimum_minutes: int = 5) -> int:
    """Seconds -> a limit people write, in seconds: whole minutes (at least ``minimum_minutes``),
    then 5-minute steps past 15 min, 15-minute steps past 1 h, whole hours past 6 h."""
    minutes = max(minimum_minutes, math.ceil(seconds / 60))
    for above, step in ((360, 60), (60, 15), (15, 5)):
        if minutes > above:
            minutes = math.ceil(minutes / step) * step
            break
    return minutes * 60


def format_time(seconds: int) -> str:
    """Seconds -> 'HH:MM:SS' or 'D-HH:MM:SS'."""
    minutes = int(seconds) // 60
    days, minutes = divmod(minutes, 1440)
    text = f"{minutes // 60:02d}:{minutes % 60:02d}:00"
    return f"{days}-{text}" if days else text
