"""The peer the benchmarks compare against: jupyterlab-slurm from PyPI, in a throwaway venv.

Shared by jobs_load.py (submit cost) and site_load.py (scheduler load, latency).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PYTHON = "/usr/bin/python3"  # readable by every user (site_load runs servers as other users)


def jls_python(venv: Path) -> str:
    """jupyterlab-slurm from PyPI in a venv, made once and reused (``--jls-venv``)."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "jupyterlab-slurm"], check=True)
    os.chmod(venv, 0o755)
    return str(python)


def jls_default_interval(python: str) -> float:
    """Its queue panel's default refresh interval (seconds), read from its own settings schema."""
    code = ("import json, importlib.resources as r; p = r.files('jupyterlab_slurm') / 'labextension/schemas/"
            "jupyterlab-slurm/plugin.json'; print(json.loads(p.read_text())['properties']['autoReloadRate']['default'])")
    return float(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


def jls_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('jupyterlab-slurm'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()

