"""Settings admins own, as traitlets (set them in jupyter_server_config.py as ``c.TritonML.<name>``).

Settings users may change live belong in the JupyterLab settings registry (schema/plugin.json).
"""

from __future__ import annotations

import os

from traitlets import Bool, Float, Int, List, Type, Unicode, validate, TraitError
from traitlets.config import Configurable


class TritonML(Configurable):
    """tritonml-lab server settings."""

    # Swappable parts, as jupyter-scheduler does it: a site may plug in its own (a slurmrestd client,
    # a store on an object filesystem). Given as import strings, so this module stays cheap to import.
    slurm_client_class = Type(
        default_value="tritonml_lab.slurm.SlurmClient",
        klass="tritonml_lab.slurm.SlurmClient",
        help="The Slurm client: a subclass of tritonml_lab.slurm.SlurmClient, made with "
        "(bin_dir=..., timeout=...). The default runs the Slurm commands.",
    ).tag(config=True)
    job_store_class = Type(
        default_value="tritonml_lab.jobs.store.JobStore",
        klass="tritonml_lab.jobs.store.JobStore",
        help="Where job directories are made and found: a subclass of tritonml_lab.jobs.store.JobStore, "
        "made with the resolved jobs_root.",
    ).tag(config=True)

    slurm_bin_dir = Unicode(
        "",
        help="Directory holding the Slurm client commands (sbatch, squeue, ...). Empty: use PATH.",
    ).tag(config=True)

    slurm_timeout = Float(
        30.0,
        help="Seconds to wait for one Slurm command before telling the user the scheduler is busy.",
    ).tag(config=True)

    cluster_cache_seconds = Float(
        60.0,
        help=(
            "The cluster summary's budget: sinfo at most once per this many seconds while a cluster "
            "sidebar asks, none while none does; its refresh button asks again after "
            "scheduler_fresh_seconds."
        ),
    ).tag(config=True)

    catalog_roots = List(
        Unicode(),
        default_value=["dldata=/scratch/shareddata/dldata"],
        help=(
            "Shared datasets and models, as 'label=/absolute/path' items. Nothing outside these roots "
            "is ever listed or read."
        ),
    ).tag(config=True)

    catalog_cache_path = Unicode(
        "",
        help=(
            "Where what the catalog found about each entry (details, sizes) persists across restarts. "
            "Empty: ~/.cache/tritonml-lab/catalog-cache.json."
        ),
    ).tag(config=True)

    catalog_scan_workers = Int(
        2,
        help="Processes that compute catalog sizes in the background (0: one thread in the server).",
    ).tag(config=True)

    catalog_threads = Int(
        4,
        help=(
            "Threads that read catalog folders: as many detect entries in the background, as many serve "
            "requests. A folder that hangs holds one of them, never a thread job submission needs."
        ),
    ).tag(config=True)

    catalog_timeout = Float(
        10.0,
        help="Seconds a catalog request waits for the shared filesystem before it says the folder is not responding.",
    ).tag(config=True)

    @validate("catalog_roots")
    def _check_roots(self, proposal):
        from ..catalog.safety import validate_label

        for item in proposal["value"]:
            label, sep, path = item.partition("=")
            try:
                if not sep or not path.startswith("/"):
                    raise ValueError("no absolute path")
                validate_label(label)
            except ValueError:
                raise TraitError(
                    f"c.TritonML.catalog_roots items look like 'label=/absolute/path' (label: letters, "
                    f"digits, _ . -), not {item!r}"
                ) from None
        return proposal["value"]

    def catalog_root_pairs(self) -> list[tuple[str, str]]:
        return [tuple(item.split("=", 1)) for item in self.catalog_roots]  # type: ignore[misc]

    jobs_root = Unicode(
        "",
        help=(
            "Where job directories (script, logs, manifest, results) are written; must be on a "
            "filesystem the compute nodes see. {user} is replaced by the user's name (one root per "
            "user; the resolved root must belong to the user and not be writable by others). Empty: "
            "$WRKDIR/tritonml/jobs when WRKDIR is set, else ~/tritonml/jobs."
        ),
    ).tag(config=True)

    default_partition = Unicode(
        "", help="Partition for jobs that name none. Empty: the cluster's default partition."
    ).tag(config=True)

    default_time = Unicode("01:00:00", help="Time limit for jobs that give none.").tag(config=True)

    default_python = Unicode(
        "",
        help=(
            "Python that runs `code` jobs submitted from the UI when the request names none. "
            "Empty: python3 on the job's PATH (after its modules are loaded)."
        ),
    ).tag(config=True)

    notebook_output_dir = Unicode(
        "",
        help=(
            "Where 'Run on GPU' writes executed notebooks, relative to the server's root directory. "
            "Empty: next to the original, as <name>.<jobid>.ipynb."
        ),
    ).tag(config=True)

    max_array_size = Int(
        0, help="Most tasks per array job a sweep makes (bigger sweeps are split). 0: Slurm's MaxArraySize."
    ).tag(config=True)

    tensorboard_idle_seconds = Float(
        900.0,
        help="A TensorBoard opened from JupyterLab is stopped after this many seconds without a request "
        "(an open tab asks every 30 s while TensorBoard's auto-reload is on). Nothing runs until one is opened.",
    ).tag(config=True)
    wandb_offline = Bool(
        False,
        help="Jobs submitted with --wandb log to W&B offline (WANDB_MODE=offline: compute nodes without "
        "internet); users sync them later with %tritonml wandb-sync ID.",
    ).tag(config=True)

    squeue_budget_seconds = Float(
        60.0,
        help=(
            "The scheduler budget of one server: the job monitor asks squeue (slurmctld) on its own at "
            "most once per this many seconds, for pending reasons, expected starts, jobs killed while "
            "pending and jobs submitted outside tritonml-lab. Starts and ends need no squeue: jobs write "
            "them into their directories. A submission, a cancel, a job's detail and the refresh button "
            "ask at once."
        ),
    ).tag(config=True)
    scheduler_fresh_seconds = Float(
        10.0,
        help="A job's detail or a refresh button asks squeue or sinfo again only when the last answer "
        "is older than this.",
    ).tag(config=True)
    monitor_marker_seconds = Float(
        0.5, help="How often the directories of active jobs are checked for their start and exit markers "
        "(a stat each)."
    ).tag(config=True)
    monitor_fast_seconds = Float(
        2.0, help="Least time between two squeue calls asked for at once (submissions, cancels): a burst "
        "costs one."
    ).tag(config=True)
    monitor_normal_seconds = Float(
        10.0, help="Unused since jobs report their own start and end; kept so that older configurations load."
    ).tag(config=True)
    monitor_slow_seconds = Float(
        60.0, help="squeue interval with no active job (never below squeue_budget_seconds)."
    ).tag(config=True)
    monitor_idle_after_seconds = Float(
        45.0, help="Stop asking Slurm when no tab has listened or asked for this long (a killed browser is "
        "dropped by server pings within about 35 s)."
    ).tag(config=True)

    # The advice rules (tritonml_lab/advice/): defaults from Princeton jobstats' public config.py
    # (GPU_UTIL_RED/BLACK, CPU_UTIL_RED/BLACK, TIME_EFFICIENCY_RED/BLACK, MIN_MEMORY_USAGE,
    # MIN_RUNTIME_SECONDS); docs/admin-guide.md, "Advice rules".
    advice_gpu_util_red = Float(
        15.0, help="GPU utilisation (%, mean) at or under which advice flags a GPU red."
    ).tag(config=True)
    advice_gpu_util_low = Float(
        25.0, help="GPU utilisation (%, mean) under which advice notes it as low."
    ).tag(config=True)
    advice_cpu_efficiency_red = Float(
        0.65, help="Share of the requested CPU cores used under which advice flags red."
    ).tag(config=True)
    advice_cpu_efficiency_low = Float(
        0.80, help="Share of the requested CPU cores used under which advice notes it."
    ).tag(config=True)
    advice_memory_low = Float(
        0.70, help="Memory peak under this share of --mem: advice suggests less."
    ).tag(config=True)
    advice_time_red = Float(0.10, help="Share of --time used under which advice flags red.").tag(config=True)
    advice_time_low = Float(0.60, help="Share of --time used under which advice suggests less.").tag(config=True)
    advice_min_seconds = Float(
        300.0, help="No advice notes for jobs shorter than this (how a job ended is always said)."
    ).tag(config=True)
    advice_memory_margin = Float(
        1.5, help="Suggested --mem: the peak times this, rounded up to a size people write."
    ).tag(config=True)
    advice_time_margin = Float(1.5, help="Suggested --time: the run time times this, rounded up.").tag(config=True)
    advice_min_time_minutes = Int(5, help="Never suggest a --time shorter than this many minutes.").tag(config=True)
    advice_cpu_headroom = Float(0.25, help="Suggested cores: the mean used times (1 + this), rounded.").tag(config=True)
    advice_gpu_idle_share = Float(
        0.80, help="A GPU idle (under 5 %) this share of the time is flagged red."
    ).tag(config=True)
    advice_memory_oom_share = Float(
        0.95, help="Live: memory at this share of --mem is about to be killed: flagged red."
    ).tag(config=True)
    advice_live_settle_seconds = Float(
        600.0, help="Live advice only for jobs that have run at least this long."
    ).tag(config=True)
    advice_live_window_seconds = Float(
        600.0, help="Live advice looks at this last stretch of a running job's samples."
    ).tag(config=True)
    # A starved data pipeline and its neighbours, tuned on real H200 traces (tests/data/gpu-traces/).
    advice_gpu_starved_util = Float(
        50.0, help="A GPU that holds memory and is busy under this % on average, while the job's processes "
        "keep cores busy (the two settings below), is starved by its data pipeline."
    ).tag(config=True)
    advice_starved_busy_procs = Float(
        1.5, help="Starved pipeline: at least this many of the job's processes each near a full core (DataLoader workers)."
    ).tag(config=True)
    advice_starved_cpu_share = Float(
        0.6, help="Starved pipeline: the job uses at least this share of its allocated cores."
    ).tag(config=True)
    advice_io_wait_share = Float(
        0.25, help="The job stalled on I/O this share of the time: its reads are too slow."
    ).tag(config=True)
    advice_gpu_memory_held_mib = Float(
        256.0, help="A GPU holding at least this much memory (MiB) is in use: never advise a CPU partition."
    ).tag(config=True)
    advice_gpu_memory_full_share = Float(
        0.95, help="GPU memory peaking at this share of the card is at the edge of CUDA out of memory."
    ).tag(config=True)

    def resolved_jobs_root(self) -> str:
        """The traitlet, else what kernels use too ($TRITONML_JOBS_ROOT, $WRKDIR/..., ~/...)."""
        from ..jobs.paths import kernel_jobs_root

        from ..jobs.paths import expand_user

        return os.path.expanduser(expand_user(self.jobs_root)) if self.jobs_root else kernel_jobs_root()
