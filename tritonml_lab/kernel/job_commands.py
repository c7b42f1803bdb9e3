"""The commands that look at jobs or act on one: ``%tritonml`` alone (what this kernel is connected
to), ``jobs``, ``status``, ``logs``, ``fetch``, ``cancel``, ``efficiency``, ``resubmit`` and
``report`` (my efficiency report)."""

from __future__ import annotations

import time

from IPython.core.error import UsageError

from ..jobs.store import BadJobRequest, parse_job_id
from ..slurm import JobState
from . import display
from .jobdir import exit_codes
from .loop import run
from .submit import SubmitCommands


ENDING_SECONDS = 15  # the longest wait for Slurm to end a job whose script wrote its exit marker


class JobCommands(SubmitCommands):
    """Mixin: the commands on jobs, over the waiting, fetching and cancelling of submit."""

    def _cmd_connection(self) -> None:
        """``%tritonml`` alone: cluster, Slurm version, jobs root, the admin's defaults."""
        from .. import __version__
        from ..connection import Connection, slurm_info

        info = run(slurm_info(self.slurm), timeout=self.slurm_timeout + 5)
        print("\n".join(Connection.of_kernel(info, jobs_root=self.jobs_root).lines(__version__)))

    def _cmd_fetch(self, args) -> None:
        names = self.fetch(args.job_id)
        print(f"Loaded {', '.join(names)} into the notebook." if names else
              f"Job {args.job_id} sends no variables back (submit it with --out x,y).")

    def _cmd_efficiency(self, args) -> None:
        from ..advice.suggest import suggestion_lines, suggestion_of
        from ..metrics.report import after_the_end, report_lines
        from ..metrics.stream import job_summary

        job_id = args.job_id
        try:
            parse_job_id(job_id)
            job_dir = self.store.find(job_id)
        except BadJobRequest as exc:
            raise UsageError(exc.message) from None
        job = self._ask(self.launcher.lookup(job_id, queue=False))
        if job is None and job_dir is None:
            raise UsageError(f"Slurm knows no job {job_id} of yours.")
        if job is not None and not job.state.is_finished and job_dir is not None \
                and exit_codes(job_dir, parse_job_id(job_id)[1], None) is not None:
            # Its script wrote the exit marker (what --wait goes by) and is in its EXIT trap, which
            # stops the sampler (up to 8 s): Slurm says it ended once that is over.
            deadline = time.monotonic() + ENDING_SECONDS
            while not job.state.is_finished and time.monotonic() < deadline:
                time.sleep(1)
                job = self._ask(self.launcher.lookup(job_id, queue=False)) or job
        if job is None or not job.state.is_finished:
            state = job.state.value if job else "not in Slurm's accounting yet"
            print(f"Job {job_id} is {state}: its efficiency comes after the end. Until then: "
                  f"%tritonml status {job_id}, and the live charts in the jobs panel.")
            return
        summary = job_summary(job_dir.path) if job_dir else None
        spec = self._spec_of(job_dir)
        for _ in range(6):  # slurmdbd gets a just-ended job's figures some seconds after the end
            report = self._ask(after_the_end(self.slurm, job_id, summary, self.thresholds, spec))
            if report.efficiency is not None:
                break
            time.sleep(2)
        if report.efficiency is None:
            print(f"Job {job_id} ended ({job.state.value}), but Slurm's accounting does not have all of it "
                  "yet: try again in a few seconds.")
            return
        print(f"Job {job_id} ({job.name}): {job.state.value}")
        print("\n".join(report_lines(report, self.thresholds)))
        suggestion = suggestion_of(job_id, spec, report.metrics, report.efficiency, self.thresholds, job.state,
                                   defaults=self.defaults)
        print("\n" + "\n".join(suggestion_lines(suggestion)))

    @property
    def thresholds(self):
        """The admin's advice rules, as the server that started this kernel exported them."""
        from ..advice.thresholds import kernel_thresholds

        return kernel_thresholds()

    @staticmethod
    def _spec_of(job_dir):
        try:
            return job_dir.manifest().spec if job_dir is not None else None
        except (OSError, ValueError):
            return None

    def _cmd_resubmit(self, args) -> None:
        """The job again, from its directory (code, script, pickled inputs), with its own resources
        or, with --suggested, the suggested ones (the same GET jobs/{id}/suggestion gives)."""
        from .resubmit import resubmit

        resubmit(self, args.job_id, args.suggested)

    def _cmd_report(self, args) -> None:
        from ..advice.usage import UsageReports, report_lines as usage_lines

        if not 1 <= args.days <= 366:
            raise UsageError("--days: give 1 to 366 days")
        report = self._ask(UsageReports(self.slurm, self.thresholds, samples=self._summary).get(args.days))
        print("\n".join(usage_lines(report)))

    def _summary(self, job_id: str):
        from ..metrics.stream import job_summary

        job_dir = self.store.find(job_id)
        return job_summary(job_dir.path) if job_dir is not None else None

    def _cmd_cancel(self, args) -> None:
        self.cancel(args.job_id)
        print(f"Cancel requested for job {args.job_id}.")

    def _cmd_logs(self, args) -> None:
        self._find(args.job_id)
        streams = ("stdout", "stderr") if args.stream == "both" else (args.stream,)
        offsets = {"stdout": 0, "stderr": 0}
        self._print_new(args.job_id, offsets, streams)
        if not args.follow:
            return
        job_dir, _manifest = self._find(args.job_id)
        base, task = parse_job_id(args.job_id)
        next_check = time.monotonic() + self.slurm_check_seconds
        try:
            while exit_codes(job_dir, task, None) is None:
                time.sleep(self.poll_seconds)
                self._print_new(args.job_id, offsets, streams)
                if time.monotonic() >= next_check:
                    if self._slurm_state(base, task)[1]:
                        break
                    next_check = time.monotonic() + self.slurm_check_seconds
        except KeyboardInterrupt:
            return
        time.sleep(0.05)
        self._print_new(args.job_id, offsets, streams)

    def _cmd_status(self, args) -> None:
        job_id = args.job_id
        try:
            _base, task = parse_job_id(job_id)
        except BadJobRequest as exc:
            raise UsageError(exc.message) from None
        job_dir = self.store.find(job_id)
        manifest = job_dir.manifest() if job_dir else None
        job = self._ask(self.launcher.lookup(job_id, queue=False))
        if job is None or job.state.is_active:  # squeue is fresher for active jobs
            active = {j.id: j for j in self._ask(self.slurm.my_jobs())}
            job = active.get(job_id, job)
            if job is not None and job.state is JobState.PENDING:
                job.expected_start = self._ask(self.slurm.expected_starts()).get(job_id)
        if job is None and manifest is None:
            raise UsageError(f"Slurm knows no job {job_id} of yours.")
        print(display.describe(job_id, job, manifest, job_dir, task))

    def _cmd_jobs(self, args) -> None:
        ids = self.store.job_ids(limit=max(1, args.limit))
        known = {j.id: j for j in self._ask(self.slurm.accounting(ids))} if ids else {}
        for job in self._ask(self.slurm.my_jobs()):
            known[job.id] = job  # squeue is fresher for active jobs
        rows = []
        for job_id in ids:
            job = known.pop(job_id, None)
            rows.append(display.job_row(job_id, job, self.store.find(job_id)))
        for job_id, job in known.items():  # active jobs not submitted from here
            if job.state.is_active and job.array_job_id not in ids:
                rows.append(display.job_row(job_id, job, None))
        if not rows:
            print(f"No jobs yet (jobs directory {self.store.root}).")
            return
        print(display.jobs_table(rows))
