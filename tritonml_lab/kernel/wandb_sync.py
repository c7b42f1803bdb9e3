"""``%tritonml wandb-sync ID``: the W&B offline runs of a job or a sweep, synced with ``wandb sync``.

Prints the command it would run; runs it (no shell) when wandb is installed and the user is logged in
(``wandb login``, or WANDB_API_KEY), else says how. ``ID`` is a job id or a sweep id (a sweep's array
jobs all at once)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from IPython.core.error import UsageError

from ..tracking.wandb import find_wandb, logged_in, offline_runs, sync_command
from .client import KernelClient


class WandbCommands(KernelClient):
    """Mixin: wandb-sync."""

    def _cmd_wandb_sync(self, args) -> None:
        from ..jobs.store import BadJobRequest
        from ..sweeps import BadSweepRequest, SweepNotFound

        dirs: list[Path] = []
        what = f"job {args.id}"
        try:
            manifest = self.sweeps.load(args.id) if args.id.isdigit() else None
        except (SweepNotFound, BadSweepRequest):
            manifest = None
        if manifest is not None:
            what = f"sweep {args.id}"
            dirs = [Path(job.directory) for job in manifest.jobs]
        else:
            try:
                job_dir = self.store.find(args.id)
            except BadJobRequest as exc:
                raise UsageError(exc.message) from None
            if job_dir is None:
                raise UsageError(f"No job or sweep {args.id} in the jobs directory {self.store.root}")
            dirs = [job_dir.path]
        runs = offline_runs(dirs)
        if not runs:
            print(f"No W&B offline runs in {what} ({', '.join(map(str, dirs))}): submit with --wandb PROJECT "
                  "where the admin set offline mode, or WANDB_MODE=offline, and call wandb.init() in the job.")
            return
        wandb = find_wandb()
        argv = sync_command(runs, args.project, wandb)
        print(f"{len(runs)} offline run{'s' if len(runs) != 1 else ''} of {what}:\n  {shlex.join(argv)}")
        if args.dry_run:
            return
        if wandb is None:
            print("wandb is not installed in this kernel's environment: pip install wandb, then run it again.")
            return
        if not logged_in():
            print("Not logged in to W&B: run `wandb login` in a terminal (or set WANDB_API_KEY), then again.")
            return
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, check=False, timeout=3600)
        print("Synced." if done.returncode == 0 else f"wandb sync ended with exit status {done.returncode}.")
