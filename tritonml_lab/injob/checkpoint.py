"""tritonml-lab's in-job API for long jobs: know the time left, checkpoint on the warning, come back.

Copied into every job directory as ``tritonml_checkpoint.py`` (stdlib only; the job's Python may
lack tritonml-lab). In ``%%tritonml submit`` Python cells it is the module ``tritonml`` (already
imported); elsewhere ``import tritonml_checkpoint as tritonml`` from the job directory.

    import tritonml
    state = load(tritonml.checkpoint_dir()) if tritonml.restarts() else fresh()
    for step in range(state.step, steps):
        train_one(state)
        if tritonml.should_checkpoint():     # the time-limit warning arrived
            save(state, tritonml.checkpoint_dir())
            tritonml.requeue()               # stop now; the job comes back and resumes

What the batch script sets (``checkpoint`` in the job spec, ``--warn``/``--requeue`` in the magics),
usable from any language:

- ``TRITONML_END_TIME``: the end of the time limit, epoch seconds;
- ``TRITONML_WARN_SECONDS``: how long before it Slurm warns (SIGUSR1, up to a minute early: its
  time-limit check runs about every 30 s; should_checkpoint() waits for the lead asked for);
- ``TRITONML_WARNED_FILE``: written (an epoch time) when the warning arrived;
- ``TRITONML_CHECKPOINT_DIR``: a directory in the job directory that survives requeues;
- ``TRITONML_RESTARTS``: how many times the job was requeued so far (Slurm's SLURM_RESTART_COUNT);
- ``TRITONML_REQUEUE_MAX``: how many times it may be.

The batch script passes SIGUSR1 on to its program only if the program handles it (a default
handler would end it); this module installs one when imported in the job's main thread. A program
that exits with status 99 (:data:`REQUEUE_EXIT`, what :func:`requeue` does) stopped for the time limit
and asks to be requeued; any other end is the job's end. In particular a ``%%tritonml submit`` cell
that returns has finished, also when it returns after the warning: its ``--out`` is saved.
"""

import os
import signal
import sys
import time

MODULE_FILE = "tritonml_checkpoint.py"
CHECKPOINT_DIR = "checkpoint"
REQUEUE_EXIT = 99

__all__ = ["time_left", "should_checkpoint", "checkpoint_dir", "restarts", "requeue"]

_state = {"warned": False, "checked": 0.0}


class Requeue(SystemExit):
    """Raised by :func:`requeue`: the program exits with REQUEUE_EXIT and the job comes back."""

    def __init__(self):
        super().__init__(REQUEUE_EXIT)


def _env_float(name):
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return None


def time_left():
    """Seconds until the job's time limit (float, never below 0); ``inf`` outside a long job."""
    end = _env_float("TRITONML_END_TIME")
    if end is None:
        return float("inf")
    return max(0.0, end - time.time())


def warned():
    """Whether Slurm's warning reached this job (this process's handler, or the batch script's note,
    looked at once a second at most: other processes, a notebook's kernel, see it too)."""
    if _state["warned"]:
        return True
    path = os.environ.get("TRITONML_WARNED_FILE")
    now = time.monotonic()
    if path and now - _state["checked"] >= 1.0:
        _state["checked"] = now
        if os.path.exists(path):
            _state["warned"] = True
    return _state["warned"]


def should_checkpoint():
    """True once the time left is down to the warning's lead (``--warn``). Slurm's signal comes up to
    a minute early (it checks time limits every 30 s or so); where the job's end time is known this
    waits for the lead asked for, so that a short job still gets its work done; else the signal counts."""
    lead = _env_float("TRITONML_WARN_SECONDS")
    if lead is not None and _env_float("TRITONML_END_TIME") is not None:
        return time_left() <= lead
    return warned()


def checkpoint_dir():
    """A directory that survives requeues (created if needed): save here, load here after a restart."""
    path = os.environ.get("TRITONML_CHECKPOINT_DIR") or os.path.join(os.getcwd(), CHECKPOINT_DIR)
    os.makedirs(path, exist_ok=True)
    return path


def restarts():
    """How many times this job was requeued (0 in its first run)."""
    for name in ("TRITONML_RESTARTS", "SLURM_RESTART_COUNT"):
        try:
            return int(os.environ[name])
        except (KeyError, ValueError):
            pass
    return 0


def requeue_max():
    try:
        return int(os.environ.get("TRITONML_REQUEUE_MAX", "0"))
    except ValueError:
        return 0


def requeue():
    """Stop now and come back: the job is requeued (while ``--requeue`` restarts are left, else it
    ends as TIMEOUT at its limit). Save a checkpoint first."""
    sys.stdout.flush()
    sys.stderr.flush()
    raise Requeue()


def _on_warning(signum, frame):
    _state["warned"] = True
    sys.stderr.write("tritonml: the time-limit warning arrived (%.0f s left)\n" % time_left())
    sys.stderr.flush()


def install():
    """Handle SIGUSR1 (Slurm's warning) in this process; a no-op outside the main thread or where
    the program set a handler of its own."""
    try:
        if signal.getsignal(signal.SIGUSR1) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGUSR1, _on_warning)
    except (ValueError, AttributeError, OSError):
        pass  # not the main thread, or no SIGUSR1 (Windows)


if os.environ.get("TRITONML_WARN_SECONDS"):
    install()
