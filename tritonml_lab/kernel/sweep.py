"""``%%tritonml sweep`` and the sweep commands (results, retry, cancel), over the sweep service
(:mod:`tritonml_lab.sweeps`), which submits each array job through the kernel's one launcher."""

from __future__ import annotations

import json
import sys
import time
from typing import Optional

from IPython.core.error import UsageError

from ..jobs.spec import InvalidRequest, parse
from ..slurm import SlurmError
from . import display
from .client import KernelClient, job_environment
from .loop import run
from .options import checkpoint_field
from .values import option_errors, parse_grid, parse_space, resource_fields


class SweepCommands(KernelClient):
    """Mixin: sweep, sweep-results, sweep-retry, sweep-cancel. Also uses ``poll_seconds``."""

    def build_sweep(self, args, cell: str):
        """The validated SweepRequest; UsageError names a bad option."""
        from ..sweeps import SweepRequest

        searches = [option for option, given in (("--grid", args.grid), ("--random", args.random is not None),
                                                 ("--optuna", args.optuna is not None)) if given]
        if len(searches) > 1:
            raise UsageError(f"%%tritonml sweep: give one of --grid, --random or --optuna, not both "
                             f"{' and '.join(searches)}")
        if not searches:
            raise UsageError("%%tritonml sweep: give the points: --grid NAME=V1,V2 ..., "
                             "--random N --space NAME=DIST ... or --optuna N --space NAME=DIST ...")
        search = args.random if args.random is not None else args.optuna
        if search is not None and not args.space:
            raise UsageError(f"{searches[0]} N needs --space NAME=DIST for each name, "
                             "e.g. --space 'lr=loguniform(1e-5,1e-2)'")
        if args.space and search is None:
            raise UsageError("--space goes with --random N or --optuna N")
        if args.seed is not None and search is None:
            raise UsageError("--seed goes with --random N or --optuna N")
        if args.sampler and args.optuna is None:
            raise UsageError("--sampler goes with --optuna N")
        prune = self._prune_field(args)
        fields = resource_fields(args)
        fields.pop("array", None)
        fields.update(code=cell, python=args.python or sys.executable, metric=args.metric, mode=args.mode,
                      parallel=args.parallel)
        fields["checkpoint"] = checkpoint_field(args)  # --warn/--requeue: each task requeues on its own
        fields["prune"] = prune
        if args.grid:
            fields["grid"] = parse_grid(args.grid)
        elif args.random is not None:
            fields["random"] = {"n": args.random, "space": parse_space(args.space), "seed": args.seed}
        else:
            fields["optuna"] = {"n": args.optuna, "space": parse_space(args.space), "seed": args.seed,
                                "sampler": args.sampler or "tpe"}
        try:  # with the admin's defaults first, as the tasks get them
            return parse(SweepRequest, {key: value for key, value in fields.items() if value is not None},
                         self.defaults, "sweep")
        except InvalidRequest as exc:
            raise UsageError("Invalid sweep options; nothing was submitted.\n" + option_errors(exc)) from None

    @staticmethod
    def _prune_field(args):
        """``prune`` from --prune median [--prune-startup N] [--prune-warmup STEPS] (None without)."""
        if args.prune is None:
            if args.prune_startup is not None or args.prune_warmup is not None:
                raise UsageError("--prune-startup and --prune-warmup go with --prune median")
            return None
        if not args.metric:
            raise UsageError("--prune median compares the sweep's metric per step: give --metric NAME (reported "
                             "with tritonml.report(step=..., NAME=...))")
        prune = {"rule": args.prune, "startup": args.prune_startup, "warmup": args.prune_warmup}
        return {key: value for key, value in prune.items() if value is not None}

    def sweep(self, args, cell: Optional[str]):
        if cell is None or not cell.strip():
            raise UsageError("%%tritonml sweep runs the cell below it: use two %% and put code in the cell")
        from ..sweeps import BadSweepRequest

        request = self.build_sweep(args, cell)
        try:
            view = run(self.sweeps.submit(request, self._origin(), env=job_environment()))
        except SlurmError as exc:
            raise UsageError(f"Slurm did not take the sweep; nothing was submitted.\n{exc.message}") from None
        except BadSweepRequest as exc:  # e.g. an Optuna sweep whose Python lacks optuna
            raise UsageError(f"{exc.message}; nothing was submitted.") from None
        except InvalidRequest as exc:  # e.g. a spec stored by a sweep, against today's defaults
            raise UsageError("Invalid sweep options; nothing was submitted.\n" + option_errors(exc)) from None
        jobs = ", ".join(job.id for job in view.jobs)
        print(f"Submitted sweep {view.id} ({view.name}): {view.total} tasks in {len(view.jobs)} array "
              f"job{'s' if len(view.jobs) > 1 else ''} ({jobs}) → %tritonml sweep-results {view.id}")
        self.last_sweep = view.id
        widget = self._sweep_widget(view)
        handle = display.show_html(display.sweep_html(view)) if widget is None else display.show_widget(widget)
        if args.wait:
            self._wait_sweep(view.id, handle, widget)
        return None

    def _sweep_widget(self, view):
        """The live sweep widget (the HTML table is its fallback repr); None without ipywidgets."""
        return display.sweep_widget(view)

    def _sweep_view(self, sweep_id: str):
        from ..sweeps import BadSweepRequest, SweepNotFound

        try:
            return run(self.sweeps.view(sweep_id), timeout=self.slurm_timeout + 30)
        except (SweepNotFound, BadSweepRequest) as exc:
            raise UsageError(f"{exc.message} (jobs directory {self.store.root})") from None

    def _wait_sweep(self, sweep_id: str, handle=None, widget=None):
        view = self._sweep_view(sweep_id)
        try:
            while not view.finished:
                time.sleep(max(self.poll_seconds, 1.0))
                view = self._sweep_view(sweep_id)
                if handle is not None and widget is None:  # the widget follows the sweep by itself
                    handle.update(display.html_object(display.sweep_html(view)))
        except KeyboardInterrupt:
            print(f"\nStopped waiting. Sweep {sweep_id} goes on: %tritonml sweep-results {sweep_id}")
            return view
        if widget is not None:  # the final table, also as the fallback HTML kept in the notebook
            widget.snapshot, widget.html = display.sweep_snapshot(view), display.sweep_html(view)
            if handle is not None:
                handle.update(widget)
        elif handle is not None:
            handle.update(display.html_object(display.sweep_html(view)))
        counts = ", ".join(f"{n} {state}" for state, n in sorted(view.counts.items()))
        if view.pruned:
            counts += f" ({view.pruned} of them pruned)"
        best = view.best
        print(f"Sweep {sweep_id} ended: {counts}." + (
            f" Best ({view.metric}, {view.mode}): task {best.index} {json.dumps(best.params)} → "
            f"{json.dumps(best.result)}" if best else ""))
        return view

    def _cmd_sweep_results(self, args):
        view = self._wait_sweep(args.sweep_id) if args.wait else self._sweep_view(args.sweep_id)
        rows = display.sweep_rows(view)
        try:
            import pandas
        except ImportError:
            return rows
        frame = pandas.DataFrame(rows)
        return frame.set_index("index") if "index" in frame else frame

    def _cmd_sweep_retry(self, args) -> None:
        from ..sweeps import BadSweepRequest, SweepNotFound

        try:
            view = run(self.sweeps.retry(args.sweep_id, origin=self._origin(), env=job_environment()))
        except (SweepNotFound, BadSweepRequest, InvalidRequest) as exc:  # InvalidRequest: against today's defaults
            raise UsageError(exc.message) from None
        except SlurmError as exc:
            raise UsageError(f"Slurm did not take the retry; nothing was submitted.\n{exc.message}") from None
        retry = view.jobs[-1]
        print(f"Retrying {retry.tasks} task{'s' if retry.tasks > 1 else ''} of sweep {view.id} as array job "
              f"{retry.id} → %tritonml sweep-results {view.id}")
        display.show_html(display.sweep_html(view))

    def _cmd_sweep_cancel(self, args) -> None:
        from ..sweeps import BadSweepRequest, SweepNotFound

        try:
            view = run(self.sweeps.cancel(args.sweep_id), timeout=self.slurm_timeout + 30)
        except (SweepNotFound, BadSweepRequest) as exc:
            raise UsageError(f"{exc.message} (jobs directory {self.store.root})") from None
        except SlurmError as exc:
            raise UsageError(f"Slurm did not cancel sweep {args.sweep_id}: {exc.message}") from None
        counts = ", ".join(f"{n} {state}" for state, n in sorted(view.counts.items()))
        print(f"Cancel requested for sweep {view.id} (array job{'s' if len(view.jobs) > 1 else ''} "
              f"{', '.join(job.id for job in view.jobs)}): {counts}. Tasks that had ended keep their results; "
              f"%tritonml sweep-retry {view.id} runs the cancelled points again.")
