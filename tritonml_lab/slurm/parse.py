"""Pure parsers of real Slurm output, 22.05 (data_parser v0.0.38) through 25.05 (v0.0.43).

One module per command does the work (:mod:`jobs` for squeue/sacct/scontrol show job JSON,
:mod:`sinfo` for the cluster summary, :mod:`efficiency` for sacct --parsable2 figures); this one
gathers them under one name, with the small text answers (sbatch, scancel, scontrol show config,
squeue --start). Tested on recorded output of several releases in tests/data/slurm-*/.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from .efficiency import EFFICIENCY_FORMAT, cpu_seconds, sacct_efficiency, size_bytes, tres_value
from .errors import SlurmOutputError
from .jobs import sacct_json, squeue_json
from .sinfo import SINFO_FORMAT, cluster_summary, cluster_summary_json
from .version import SlurmVersion, parse_version

__all__ = [
    "EFFICIENCY_FORMAT", "SINFO_FORMAT", "SlurmVersion", "cluster_summary", "cluster_summary_json", "config_value",
    "cpu_seconds", "is_already_finished_error", "parse_version", "sacct_efficiency", "sacct_json", "sbatch_job_id",
    "size_bytes", "squeue_json", "squeue_start", "tres_value",
]


def sbatch_job_id(stdout: str) -> str:
    """``sbatch --parsable`` prints ``ID`` or ``ID;CLUSTER``."""
    line = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    job_id = line.split(";", 1)[0].strip()
    if not job_id.isdigit():
        raise SlurmOutputError(f"sbatch printed no job id: {stdout.strip()!r}")
    return job_id


def is_already_finished_error(stderr: str) -> bool:
    """scancel of a job that ended: 'Job/step already completing or completed' / 'Invalid job id'."""
    return bool(re.search(r"already complet|Invalid job id specified", stderr, re.IGNORECASE))


def config_value(text: str, key: str) -> Optional[str]:
    """One value of ``scontrol show config`` ("ClusterName             = triton-dev")."""
    match = re.search(rf"^{re.escape(key)}\s*=\s*(.*?)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def squeue_start(text: str) -> dict[str, float]:
    """``squeue --start --format=%i|%S`` (with SLURM_TIME_FORMAT=standard): job id -> expected
    start (epoch); 'N/A' lines dropped."""
    starts = {}
    for line in text.splitlines():
        if "|" not in line:
            continue
        job_id, when = (part.strip() for part in line.split("|", 1))
        try:
            starts[job_id] = datetime.fromisoformat(when).timestamp()
        except ValueError:
            continue
    return starts


def accounted_submissions(text: str) -> list[tuple[str, str]]:
    """``sacct --parsable2 --format=JobID,Comment,SubmitLine`` -> ``[(job or array id, the rest)]``:
    an array's tasks (``15_0``, ``529_[0-2%2]``) and steps (``15.batch``, ``7+0``) by their first id,
    as squeue's %F; the rest holds Comment and SubmitLine, the last of which may itself hold "|"."""
    found = []
    for line in text.splitlines():
        job_id, _, rest = line.partition("|")
        base = re.split(r"[_+.]", job_id.strip(), maxsplit=1)[0]
        if base.isdigit():
            found.append((base, rest))
    return found


def comments(text: str) -> dict[str, str]:
    """``squeue --format=%F|%k`` -> ``{comment: array-or-job id}``; jobs without a comment are left out
    (22.05 prints "(null)", newer releases an empty field)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        job_id, _, comment = line.strip().partition("|")
        if job_id.isdigit() and comment and comment != "(null)":
            found.setdefault(comment, job_id)
    return found
