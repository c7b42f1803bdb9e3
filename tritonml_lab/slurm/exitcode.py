"""Exit code and signal of a job, from every shape Slurm printed them in.

- squeue 22.05: the raw wait status, a number (768 = exit 3; 15 = killed by SIGTERM);
- sacct 22.05, 23.02: ``{"status": "SIGNALED", "return_code": N, "signal": {"signal_id": 15, "name": "Terminated"}}``;
- 23.11+: ``{"status": ["SIGNALED"], "return_code": {"set": false, ...}, "signal": {"id": {"number": 15, ...},
  "name": "TERM"}}``.

A job ended by a signal has no return code: its exit code is None and the signal says what happened.
"""

from __future__ import annotations

import signal as _signal
from typing import Any, NamedTuple, Optional

from .values import flags, number, text


class ExitStatus(NamedTuple):
    code: Optional[int] = None
    signal: Optional[int] = None
    signal_name: Optional[str] = None


def from_wait_status(raw: int) -> ExitStatus:
    """Decode a wait(2) status as slurmctld stores it."""
    low = raw & 0x7F
    if low == 0:
        return ExitStatus(code=(raw >> 8) & 0xFF)
    if low != 0x7F:
        return ExitStatus(signal=low, signal_name=signal_name(low, None))
    return ExitStatus()


def read(value: Any) -> Optional[ExitStatus]:
    """Any release's exit status; None where it is absent or says nothing (still pending)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not ({"status", "return_code", "signal"} & value.keys()):
        raw = number(value)
        return from_wait_status(raw) if raw is not None else None
    status = flags(value.get("status"))
    info = value.get("signal") if isinstance(value.get("signal"), dict) else {}
    sig = number(info.get("id", info.get("signal_id")))
    name = text(info.get("name"))
    if sig or "SIGNALED" in status:
        sig = sig or signal_number(name)
        return ExitStatus(signal=sig, signal_name=signal_name(sig, name))
    if "PENDING" in status:
        return None
    return ExitStatus(code=number(value.get("return_code")))


def signal_number(name: Optional[str]) -> Optional[int]:
    """"TERM" / "SIGTERM" -> 15 (Linux numbering, as on the cluster); unknown -> None."""
    if not name:
        return None
    key = name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()
    try:
        return int(_signal.Signals[key])
    except KeyError:
        return None


def signal_name(sig: Optional[int], name: Optional[str]) -> Optional[str]:
    """One spelling for every release: "SIGTERM" (23.11 says "TERM", 22.05 strsignal's "Terminated")."""
    if sig is not None:
        try:
            return _signal.Signals(sig).name
        except ValueError:
            pass
    if name and signal_number(name) is not None:
        return _signal.Signals(signal_number(name)).name
    return name
