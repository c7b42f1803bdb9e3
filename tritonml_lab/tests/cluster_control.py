"""Control of the project's real local Slurm cluster (dev/cluster) from tests."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = REPO / "dev" / "cluster"


def cluster(*args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [str(CLUSTER_SCRIPT), *args], capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"dev/cluster {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def ensure_up() -> dict[str, str]:
    """Start the cluster if needed (idempotent) and return the client environment it prints."""
    cluster("up")
    env = {}
    for line in cluster("env").splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def daemon_pid(name: str) -> int:
    """The pid of one of the cluster's daemons (its pid file is next to the slurm.conf in use)."""
    run_dir = Path(os.environ["SLURM_CONF"]).resolve().parent.parent / "run"
    return int((run_dir / f"{name}.pid").read_text().strip())


def stop_daemon(name: str) -> None:
    cluster("stop-daemon", name)


def slurm(*args: str, timeout: float = 60) -> str:
    """Run a Slurm command directly (test set-up and checks), raising on failure."""
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, env=os.environ)
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} failed: {result.stderr}")
    return result.stdout
