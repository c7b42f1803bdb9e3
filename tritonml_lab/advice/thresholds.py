"""The thresholds and margins of the advice rules, with jobstats' defaults.

Defaults from Princeton's jobstats (github.com/PrincetonUniversity/jobstats, ``config.py``):
GPU_UTIL_RED 15, GPU_UTIL_BLACK 25, CPU_UTIL_RED 65, CPU_UTIL_BLACK 80, TIME_EFFICIENCY_RED 10,
TIME_EFFICIENCY_BLACK 60, MIN_MEMORY_USAGE 70, MIN_RUNTIME_SECONDS 300. Admins change them with the
``c.TritonML.advice_*`` traitlets (config.py, docs/admin-guide.md); ``Thresholds.from_config`` reads
them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    gpu_util_red: float = 15.0  # % mean GPU utilisation at or under which a GPU is flagged red
    gpu_util_low: float = 25.0  # % under which it is noted as low
    cpu_efficiency_red: float = 0.65  # share of the requested cores used
    cpu_efficiency_low: float = 0.80
    memory_low: float = 0.70  # peak under this share of --mem: suggest less
    time_red: float = 0.10  # share of --time used
    time_low: float = 0.60
    min_seconds: float = 300.0  # no notes for shorter jobs (states such as TIMEOUT always)
    memory_margin: float = 1.5  # suggested --mem = peak x this, rounded up to a size people write
    time_margin: float = 1.5  # suggested --time = elapsed x this, rounded up
    min_time_minutes: int = 5  # never suggest a shorter --time
    cpu_headroom: float = 0.25  # suggested cores = used x (1 + this), rounded up
    gpu_idle_share: float = 0.80  # live: a GPU idle (<5 %) this share of the window is flagged red
    memory_oom_share: float = 0.95  # live: RSS at this share of --mem is about to be killed
    live_settle_seconds: float = 600.0  # live advice only for jobs running at least this long
    live_window_seconds: float = 600.0  # the live rules look at this last stretch of samples
    # A starved data pipeline (issue 25, recorded on an H200): under this % mean GPU utilisation ...
    gpu_starved_util: float = 50.0
    starved_busy_procs: float = 1.5  # ... with at least this many processes each near a full core ...
    starved_cpu_share: float = 0.6  # ... using at least this share of the allocated cores
    io_wait_share: float = 0.25  # or the job stalled on I/O this share of the time: reads are too slow
    gpu_memory_held_mib: float = 256.0  # a GPU holding this much is in use (a CUDA context is ~500 MiB)
    gpu_memory_full_share: float = 0.95  # GPU memory peak at this share of the card: at the edge of OOM

    @classmethod
    def from_config(cls, config: Any) -> "Thresholds":
        """From a TritonML config: each field ``x`` is the traitlet ``advice_x``."""
        return cls(**{f.name: getattr(config, f"advice_{f.name}") for f in fields(cls)
                      if hasattr(config, f"advice_{f.name}")})


DEFAULT = Thresholds()


THRESHOLDS_ENV = "TRITONML_ADVICE"


def export_thresholds(t: Thresholds, environ: Any = None) -> None:
    """For the kernels this server starts (as jobs/server_defaults.py does for the job defaults):
    ``%tritonml efficiency`` and ``resubmit --suggested`` then apply the admin's rules."""
    import json
    import os
    from dataclasses import asdict

    (os.environ if environ is None else environ)[THRESHOLDS_ENV] = json.dumps(asdict(t))


def kernel_thresholds(environ: Any = None) -> Thresholds:
    """The server's thresholds when it exported them, else the defaults; unknown or bad values are ignored."""
    import json
    import os

    text = (os.environ if environ is None else environ).get(THRESHOLDS_ENV, "").strip()
    try:
        given = json.loads(text) if text else {}
        known = {f.name: f.type for f in fields(Thresholds)}
        return Thresholds(**{k: float(v) if k != "min_time_minutes" else int(v)
                             for k, v in given.items() if k in known})
    except (ValueError, TypeError, AttributeError):
        return Thresholds()
