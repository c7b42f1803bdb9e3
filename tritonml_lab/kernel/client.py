"""The kernel's way to the domain: the jobs root, the Slurm client, the one :class:`Launcher` and
the sweep service over it, built lazily from the magics' settings and rebuilt when they change.

Also what every command needs of the kernel around it: where a submission comes from (the notebook,
cell and kernel), the environment it passes on, the way to run a coroutine, and turning "not found"
and Slurm errors into short usage errors.
"""

from __future__ import annotations

import os
import re
from typing import Any, Optional

from IPython.core.error import UsageError

from ..jobs.launcher import Launcher
from ..jobs.paths import kernel_jobs_root
from ..jobs.server_defaults import kernel_defaults
from ..jobs.store import BadJobRequest, JobDir, JobStore, Manifest, Origin
from ..slurm import SlurmClient, SlurmError
from .loop import run


class KernelClient:
    """Mixin: the state the command groups share. The composed class (``TritonMLMagics``) gives
    ``shell`` and the settings ``jobs_root``, ``slurm_bin_dir`` and ``slurm_timeout``."""

    def __init__(self, shell=None, **kwargs) -> None:
        super().__init__(shell=shell, **kwargs)
        self._store: Optional[JobStore] = None
        self._store_root: Optional[str] = None
        self._slurm: Optional[SlurmClient] = None
        self._launcher: Optional[Launcher] = None
        self._sweeps = None
        self.defaults = kernel_defaults()  # the server's admin defaults, when it started this kernel
        self.last_job: Optional[tuple[str, Any]] = None  # (id, widget) of the last submission
        self.last_sweep: Optional[str] = None

    @property
    def store(self) -> JobStore:
        root = self.jobs_root or kernel_jobs_root()
        if self._store is None or self._store_root != root:
            try:
                self._store = JobStore(root)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            self._store_root = root
        return self._store

    @property
    def slurm(self) -> SlurmClient:
        if self._slurm is None:
            self._slurm = SlurmClient(bin_dir=self.slurm_bin_dir or None, timeout=self.slurm_timeout)
        return self._slurm

    @property
    def launcher(self) -> Launcher:
        """The one submission path (jobs/launcher.py), with the admin's defaults, into the jobs root."""
        store = self.store
        if self._launcher is None or self._launcher.store is not store:
            self._launcher = Launcher(store, self.slurm, self.defaults)
        return self._launcher

    @property
    def sweeps(self):
        """The sweep service, submitting through :attr:`launcher`."""
        from ..sweeps import SweepService

        launcher = self.launcher
        if self._sweeps is None or self._sweeps.launcher is not launcher:
            self._sweeps = SweepService(launcher.store, launcher.slurm, launcher.defaults, launcher=launcher)
        return self._sweeps

    def _ask(self, coro):
        """Run a Slurm question; its errors become usage errors."""
        try:
            return run(coro, timeout=self.slurm_timeout + 5)
        except SlurmError as exc:
            raise UsageError(exc.message) from None

    def _find(self, job_id: str) -> tuple[JobDir, Manifest]:
        """The directory and manifest of a job submitted through tritonml-lab into the jobs root."""
        try:
            job_dir = self.store.find(job_id)
        except BadJobRequest as exc:
            raise UsageError(exc.message) from None
        if job_dir is None:
            raise UsageError(
                f"Job {job_id} was not submitted through tritonml-lab into {self.store.root} "
                "(set $TRITONML_JOBS_ROOT if your jobs are elsewhere)."
            )
        return job_dir, job_dir.manifest()

    def _origin(self) -> Origin:
        """Where a submission comes from: this notebook, the running cell, this kernel."""
        notebook = os.environ.get("JPY_SESSION_NAME") or None
        cell_id = kernel_id = None
        kernel = getattr(self.shell, "kernel", None)
        try:
            parent = kernel.get_parent() if kernel is not None else {}
            cell_id = (parent.get("metadata") or {}).get("cellId")
        except Exception:  # noqa: BLE001 - best effort
            pass
        try:
            from ipykernel.connect import get_connection_file

            match = re.search(r"kernel-([\w-]+)\.json$", get_connection_file())
            kernel_id = match.group(1) if match else None
        except Exception:  # noqa: BLE001 - not in a kernel (IPython terminal, tests)
            pass
        return Origin(kind="magic", notebook=notebook, cell_id=cell_id, kernel=kernel_id)


def job_environment() -> dict[str, str]:
    """The kernel's environment for the job, less what only makes sense inside a Jupyter kernel."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "PYDEVD_"))}
    if "inline" in env.get("MPLBACKEND", ""):
        env.pop("MPLBACKEND")  # the notebook's inline backend; a batch job draws to files
    return env
