"""Settings admins own, as traitlets (set them in jupyter_server_config.py as ``c.TritonML.<name>``).

Settings users may change live belong in the JupyterLab settings registry (schema/plugin.json).
"""

from __future__ import annotations

from traitlets import Float, Unicode
from traitlets.config import Configurable


class TritonML(Configurable):
    """tritonml-lab server settings."""

    slurm_bin_dir = Unicode(
        "",
        help="Directory holding the Slurm client commands (sbatch, squeue, ...). Empty: use PATH.",
    ).tag(config=True)

    slurm_timeout = Float(
        30.0,
        help="Seconds to wait for one Slurm command before telling the user the scheduler is busy.",
    ).tag(config=True)

    cluster_cache_seconds = Float(
        10.0,
        help=(
            "How long one cluster summary (partitions, free GPUs) is reused. However many tabs ask, "
            "the scheduler is asked at most once per this interval."
        ),
    ).tag(config=True)
