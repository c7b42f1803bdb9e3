"""What ``%tritonml`` alone prints: what this kernel is connected to (no IPython, no Tornado here).

A kernel cannot ask its Jupyter server; it knows what the server exported into its environment
(jobs root, admin job defaults, catalog roots) and what Slurm answers. Without those variables the
kernel was started elsewhere (a terminal, another server): "stand-alone", built-in defaults.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from .jobs.paths import JOBS_ROOT_ENV, kernel_jobs_root
from .jobs.script import Defaults
from .jobs.server_defaults import DEFAULTS_ENV, kernel_defaults
from .slurm import SlurmClient, SlurmError
from .slurm.parse import config_value

CATALOG_ROOTS_ENV = "TRITONML_CATALOG_ROOTS"


def export_catalog_roots(pairs: list[tuple[str, str]], environ: Optional[dict] = None) -> None:
    """The server's catalog roots, as JSON {label: path}, for the kernels it starts."""
    (os.environ if environ is None else environ)[CATALOG_ROOTS_ENV] = json.dumps(dict(pairs))


def catalog_roots(environ: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    try:
        roots = json.loads((os.environ if environ is None else environ).get(CATALOG_ROOTS_ENV) or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in roots.items()} if isinstance(roots, dict) else {}


@dataclass
class SlurmInfo:
    cluster: Optional[str] = None
    version: Optional[str] = None
    error: Optional[str] = None  # why Slurm could not be asked, in Slurm's or our words


async def slurm_info(slurm: SlurmClient) -> SlurmInfo:
    """Cluster name and Slurm version from one ``scontrol show config``."""
    try:
        result = await slurm.show_config()
    except SlurmError as exc:
        return SlurmInfo(error=exc.message)
    return SlurmInfo(config_value(result.stdout, "ClusterName"), config_value(result.stdout, "SLURM_VERSION"))


@dataclass
class Connection:
    server: bool  # started by a Jupyter server with tritonml-lab (it exported its settings)
    jobs_root: str
    jobs_root_from: str
    defaults: Defaults
    catalog: dict[str, str]
    slurm: SlurmInfo

    @classmethod
    def of_kernel(cls, slurm: SlurmInfo, jobs_root: str = "", environ: Optional[Mapping[str, str]] = None):
        env = os.environ if environ is None else environ
        if jobs_root:
            source = "this kernel's TritonMLMagics.jobs_root"
        elif env.get(JOBS_ROOT_ENV, "").strip():
            source = "$" + JOBS_ROOT_ENV
        else:
            source = "$WRKDIR" if env.get("WRKDIR") else "the home directory"
        return cls(
            server=bool(env.get(DEFAULTS_ENV, "").strip()),
            jobs_root=jobs_root or kernel_jobs_root(env),
            jobs_root_from=source,
            defaults=kernel_defaults(env),
            catalog=catalog_roots(env),
            slurm=slurm,
        )

    def lines(self, version: str) -> list[str]:
        if self.slurm.error:
            cluster = f"Slurm cannot be asked: {self.slurm.error}"
        else:
            cluster = f"{self.slurm.cluster or 'unnamed cluster'}, Slurm {self.slurm.version or 'version unknown'}"
        mode = (
            "server: this kernel was started by a Jupyter server with tritonml-lab, which set the jobs root "
            "and the admin's job defaults"
            if self.server
            else "stand-alone: no tritonml-lab server started this kernel; built-in job defaults"
        )
        fields = {f.name: getattr(self.defaults, f.name) for f in dataclasses.fields(self.defaults)}
        shown = {k: v for k, v in fields.items() if k not in ("sampler_python", "sample_interval") and v}
        defaults = ", ".join(f"{k}={v}" for k, v in shown.items()) or "none"
        catalog = ", ".join(f"{label}={path}" for label, path in self.catalog.items()) or "not known to this kernel"
        return [
            f"tritonml-lab {version}",
            f"  cluster:      {cluster}",
            f"  mode:         {mode}",
            f"  jobs root:    {self.jobs_root} (from {self.jobs_root_from})",
            f"  job defaults: {defaults}" + ("" if self.server else " (built in)"),
            f"  shared data:  {catalog}",
            "  %tritonml? lists every command.",
        ]
