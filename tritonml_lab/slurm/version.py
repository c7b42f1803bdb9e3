"""The Slurm release of the client commands, read once (``sinfo --version``).

The parsers read fields by name and do not branch on the release; the version is for people (the
cluster summary shows it) and for one clear log line when a release outside those the parsers
were checked on is met.
"""

from __future__ import annotations

import logging
import re
from typing import Optional

from pydantic import BaseModel

log = logging.getLogger("tritonml_lab.slurm")

# Releases whose output the parsers were checked on, and the JSON layout (data_parser) each prints.
DATA_PARSERS = {
    (22, 5): "v0.0.38",
    (23, 2): "v0.0.39",
    (23, 11): "v0.0.40",
    (24, 5): "v0.0.41",
    (24, 11): "v0.0.42",
    (25, 5): "v0.0.43",
}


KNOWN_LAYOUTS = frozenset(DATA_PARSERS.values())


class SlurmVersion(BaseModel):
    text: str
    release: Optional[str] = None
    major: Optional[int] = None
    minor: Optional[int] = None
    micro: Optional[int] = None

    @property
    def known(self) -> bool:
        return (self.major, self.minor) in DATA_PARSERS

    @property
    def data_parser(self) -> Optional[str]:
        return DATA_PARSERS.get((self.major, self.minor))  # type: ignore[arg-type]


def parse_version(text: str) -> SlurmVersion:
    """``slurm 23.11.10`` / ``slurm-wlm 24.11.5`` / ``slurm 25.05.0-0rc1`` -> the release; a
    release outside 22.05..25.05 (or none) is logged once by the caller's single read."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    match = re.search(r"\b(\d{2})\.(\d{1,2})(?:\.(\d+))?", line)
    if not match:
        log.warning("tritonml-lab: cannot read a Slurm release from %r; parsing Slurm's output by field "
                    "names, as for a known release", line)
        return SlurmVersion(text=line)
    major, minor, micro = (int(part) if part is not None else None for part in match.groups())
    version = SlurmVersion(text=line, release=match.group(0), major=major, minor=minor, micro=micro)
    if not version.known:
        oldest, newest = min(DATA_PARSERS), max(DATA_PARSERS)
        where = "older than" if (major, minor) < oldest else "newer than" if (major, minor) > newest else "not one of"
        log.warning("tritonml-lab: Slurm %s is %s the releases this tritonml-lab was checked on "
                    "(%d.%02d to %d.%02d); reading its output by field names (best effort)",
                    version.release, where, *oldest, *newest)
    return version
