"""The shared services of one Jupyter server: what every handler reaches through
``self.settings["tritonml"]``. Its own module so that handlers and the extension's wiring import it,
not each other."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

# The rest of the package is imported when the extension loads (extension.py, inside its try: a
# broken install or a bad setting then still leaves GET tritonml/status to say why).
if TYPE_CHECKING:
    from ..advice.live import LiveAdvisor
    from ..advice.thresholds import Thresholds
    from ..advice.usage import UsageReports
    from ..catalog import Catalog
    from ..jobs.launcher import Launcher
    from ..jobs.script import Defaults
    from ..jobs.store import JobStore
    from ..metrics.stream import MetricsHub
    from .job_files import JobFiles
    from .monitor import JobMonitor
    from .config import TritonML
    from .budget import BudgetedCache
    from ..slurm import ClusterSummary
    from .job_service import JobService
    from .notebook_jobs import NotebookJobs
    from ..slurm import SlurmClient
    from ..sweeps import SweepService


@dataclass
class Services:
    """What handlers reach through ``self.settings["tritonml"]``: one of each per server, each made
    here and closed here (the job service uses the monitor, the reader and the launcher; it does not
    own them)."""

    config: TritonML
    slurm: SlurmClient
    cluster: "BudgetedCache[ClusterSummary]"
    thresholds: Thresholds  # the advice rules (admin traitlets advice_*)
    defaults: Defaults  # the admin's job defaults, applied before a request is validated
    store: JobStore  # the jobs root (c.TritonML.job_store_class)
    monitor: JobMonitor
    files: JobFiles  # the job directories' reader (pool, manifests, the jobs' samples readers)
    launcher: Launcher
    jobs: JobService
    metrics: MetricsHub  # live charts: the push channel's job-metrics
    advisor: LiveAdvisor  # live advice: the push channel's advice events
    reports: UsageReports  # GET jobs/report
    root_dir: str = "."
    kernel_specs: Any = None
    _catalog: Optional[Catalog] = None
    _catalog_lock: threading.Lock = field(default_factory=threading.Lock)
    _notebooks: Any = None
    _sweeps: Any = None
    _tensorboards: Any = None

    @property
    def notebooks(self) -> "NotebookJobs":
        """'Run on GPU' notebook runs on top of the jobs service (made on first use)."""
        if self._notebooks is None:
            from .notebook_jobs import NotebookJobs

            self._notebooks = NotebookJobs(
                self.jobs,
                root_dir=self.root_dir,
                kernel_specs=self.kernel_specs,
                default_output_dir=self.config.notebook_output_dir or None,
            )
        return self._notebooks

    @property
    def sweeps(self) -> "SweepService":
        """Sweeps as array jobs on top of the jobs service (made on first use)."""
        if self._sweeps is None:
            from ..sweeps import SweepService

            jobs = self.jobs  # the same store, Slurm client, defaults, monitor and launcher
            self._sweeps = SweepService(jobs.store, jobs.slurm, jobs.defaults, jobs.monitor, launcher=jobs.launcher,
                                        max_array_size=self.config.max_array_size or None)
        return self._sweeps

    @property
    def tensorboards(self) -> Any:
        """The TensorBoards this server runs (tracking/tensorboard.py; made on first use, nothing runs before)."""
        if self._tensorboards is None:
            from ..tracking import TensorBoards

            self._tensorboards = TensorBoards(idle_seconds=self.config.tensorboard_idle_seconds)
        return self._tensorboards

    @property
    def catalog(self) -> Catalog:
        """The shared-data catalog, created and its background size scan started on first use."""
        from ..catalog import Catalog

        with self._catalog_lock:
            if self._catalog is None:
                config = self.config
                catalog = Catalog(
                    config.catalog_root_pairs(),
                    cache_path=config.catalog_cache_path or None,
                    workers=config.catalog_scan_workers,
                    threads=config.catalog_threads,
                    timeout=config.catalog_timeout,
                )
                catalog.start_background_scan()
                self._catalog = catalog
            return self._catalog

    def close(self) -> None:
        if self._tensorboards is not None:
            self._tensorboards.close()
        if self._catalog is not None:
            self._catalog.stop()
        self.monitor.close()
        self.metrics.close()
        self.advisor.close()
        self.launcher.close()
        self.files.dirs.shutdown()


def build_services(config: TritonML) -> Services:
    from ..advice.thresholds import Thresholds
    from ..advice.live import LiveAdvisor
    from ..advice.usage import UsageReports
    from ..jobs import Defaults
    from ..jobs.launcher import Launcher
    from ..metrics.stream import MetricsHub
    from .job_files import JobFiles
    from .job_service import JobService
    from .monitor import JobMonitor
    from .budget import BudgetedCache

    slurm = config.slurm_client_class(bin_dir=config.slurm_bin_dir or None, timeout=config.slurm_timeout)
    from ..tracking.wandb import OFFLINE_ENV

    os.environ[OFFLINE_ENV] = "1" if config.wandb_offline else "0"  # for the kernels it starts (--wandb)
    store = config.job_store_class(config.resolved_jobs_root())
    monitor = JobMonitor(
        slurm,
        known_ids=store.job_ids,
        store=store,
        fast=config.monitor_fast_seconds,
        slow=config.monitor_slow_seconds,
        idle_after=config.monitor_idle_after_seconds,
        squeue_budget_seconds=config.squeue_budget_seconds,
        fresh_seconds=config.scheduler_fresh_seconds,
        marker_tick=config.monitor_marker_seconds,
    )
    defaults = Defaults(
        partition=config.default_partition or None,
        time=config.default_time or None,
        python=config.default_python or None,
    )
    thresholds = Thresholds.from_config(config)
    files = JobFiles(store)
    launcher = Launcher(store, slurm, defaults)
    return Services(
        config=config,
        slurm=slurm,
        # sinfo within the budget while a sidebar asks; nothing while none does.
        cluster=BudgetedCache(slurm.cluster_summary, budget_seconds=config.cluster_cache_seconds,
                              fresh_seconds=config.scheduler_fresh_seconds),
        thresholds=thresholds,
        defaults=defaults,
        store=store,
        monitor=monitor,
        files=files,
        launcher=launcher,
        jobs=JobService(slurm, store, monitor, defaults, thresholds, files=files, launcher=launcher),
        # The charts, the live advice and the job detail (files.summary, JobService) share each job's reader.
        metrics=MetricsHub(files.path, io=files.dirs, samples=files.samples),
        advisor=LiveAdvisor(monitor, files.path, files.spec, thresholds, samples=files.samples),
        reports=UsageReports(slurm, thresholds, samples=files.summary),  # my efficiency report
    )
