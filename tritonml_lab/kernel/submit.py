"""``%%tritonml submit`` and what follows a job: waiting (``--wait``, ``logs --follow``), fetching
its ``--out`` variables, cancelling it.

A cell becomes a job through the one :class:`~tritonml_lab.jobs.launcher.Launcher`; the runner's
files are added to its directory by the launcher's ``prepare`` hook (:mod:`.jobdir`). Waiting reads
the job directory (cheap, every ``poll_seconds``) and asks Slurm only every ``slurm_check_seconds``,
for jobs that end without writing their exit code.
"""

from __future__ import annotations

import pickle
import sys
import textwrap
import time
from typing import Optional

from IPython.core.error import UsageError
from ..jobs.launcher import JobsRootUnavailable, SubmissionUncertain
from ..jobs.script import render_script
from ..jobs.spec import InvalidRequest, JobSpec, parse
from ..jobs.store import BadJobRequest, JobDir, Manifest, parse_job_id
from ..slurm import JobState, SlurmError
from . import display
from .client import KernelClient, job_environment
from .jobdir import array_tasks, exit_codes, read_outputs, runner_finished, runner_outputs, write_runner_files
from .jobdir import tail as log_tail
from .loop import run
from .options import checkpoint_field
from .values import option_errors, resource_fields, split_names


class JobFailed(Exception):
    """A job run with ``--wait`` did not complete; shown as a short report, not a Python traceback."""

    def __init__(self, job_id: str, state: str, exit_code: Optional[int], tail: str) -> None:
        self.job_id, self.state, self.exit_code, self.tail = job_id, state, exit_code, tail
        code = f", exit code {exit_code}" if exit_code is not None else ""
        super().__init__(f"Job {job_id} {state}{code}")

    def _render_traceback_(self) -> list[str]:
        lines = [f"\x1b[31mtritonml: job {self.job_id} {self.state}"
                 + (f" (exit code {self.exit_code})" if self.exit_code is not None else "") + "\x1b[0m"]
        if self.tail.strip():
            lines += ["Last lines of its stderr:"] + ["  " + line for line in self.tail.rstrip().splitlines()]
        lines.append(f"Full logs: %tritonml logs {self.job_id}")
        return lines


class SubmitCommands(KernelClient):
    """Mixin: submit, wait, fetch, cancel. Also uses ``poll_seconds`` and ``slurm_check_seconds``."""

    # -- submit --------------------------------------------------------------------------------
    def build_spec(self, args, cell: str) -> tuple[JobSpec, list[str], list[str]]:
        """The validated spec, the --in names and the --out names; UsageError names a bad option."""
        inputs = split_names(args.inputs, "--in")
        outputs = split_names(args.outputs, "--out")
        if args.bash and (inputs or outputs):
            raise UsageError("--in and --out send Python variables; they need a Python cell (no --bash)")
        fields = resource_fields(args)
        fields["python"] = None if args.bash else (args.python or sys.executable)
        fields["ddp"] = bool(args.ddp)  # one task per GPU; JobSpec checks and lays it out
        fields["checkpoint"] = checkpoint_field(args)  # --warn/--requeue
        if args.bash:
            fields["script"] = cell
        else:
            fields["code"] = cell
        try:  # with the admin's defaults first, as the job gets it: e.g. --warn against the default --time
            spec = parse(JobSpec, {key: value for key, value in fields.items() if value is not None}, self.defaults)
        except InvalidRequest as exc:
            raise UsageError("Invalid job options; nothing was submitted.\n" + option_errors(exc)) from None
        return spec, inputs, outputs

    def submit(self, args, cell: Optional[str]):
        if cell is None or not cell.strip():
            raise UsageError("%%tritonml submit runs the cell below it: use two %% and put code in the cell")
        cell = textwrap.dedent(cell)  # an editor may indent the body under the magic line
        spec, inputs, outputs = self.build_spec(args, cell)
        origin = self._origin()
        missing = [name for name in inputs if name not in self.shell.user_ns]
        if missing:
            raise UsageError(f"--in: no variable {', '.join(map(repr, missing))} in the notebook; "
                             "nothing was submitted")
        if args.dry_run:
            placeholder = f"{self.store.root}/job-<created-at-submission>"
            print(render_script(spec, self.defaults, placeholder, origin=origin.notebook or origin.kind))
            print("# Dry run: nothing was submitted.")
            return None
        payload = self._pickle_inputs(inputs) if inputs else None

        def prepare(job_dir: JobDir) -> None:
            if not args.bash:
                write_runner_files(job_dir, cell, payload, outputs)

        try:
            launched = self.launcher.launch_blocking(spec, origin, env=job_environment(), prepare=prepare)
        except (SubmissionUncertain, JobsRootUnavailable) as exc:
            raise UsageError(exc.message) from None
        except SlurmError as exc:
            raise UsageError(f"Slurm did not take the job; nothing was submitted.\n{exc.message}") from None
        job_id, job_dir = launched.job_id, launched.job_dir
        name = spec.name or "tritonml"
        print(f"Submitted batch job {job_id} ({name}) → %tritonml status {job_id}")
        widget = self._widget(job_id, name, str(job_dir.path), outputs)
        self.last_job = (job_id, widget)
        display.show_job_widget(widget)
        if args.wait:
            self.wait(job_id, widget=widget)
        return None

    def _pickle_inputs(self, names: list[str]) -> bytes:
        namespace = self.shell.user_ns
        values = {name: namespace[name] for name in names}
        for name, value in values.items():
            try:
                pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001
                raise UsageError(f"--in: {name} cannot be sent to the job ({type(exc).__name__}: {exc}); "
                                 "nothing was submitted") from None
        return pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)

    def _widget(self, job_id: str, name: str, directory: str, outputs: list[str]):
        return display.job_widget(job_id, name, directory, outputs, fetcher=self.fetch, canceller=self.cancel)

    # -- waiting -------------------------------------------------------------------------------
    def wait(self, job_id: str, widget=None, stream: bool = True, load: bool = True):
        """Block until the job ends, printing its output as it comes; load --out; raise on failure."""
        job_dir, manifest = self._find(job_id)
        try:
            state, code = self._follow(job_id, job_dir, manifest, stream=stream)
        except KeyboardInterrupt:
            print(f"\nStopped waiting. Job {job_id} goes on: %tritonml status {job_id}, "
                  f"%tritonml fetch {job_id} when it is done, %tritonml cancel {job_id} to stop it.")
            return None
        if widget is not None:
            widget.state = state
        if state != JobState.COMPLETED.value:
            tail = log_tail(job_dir, "stderr", parse_job_id(job_id)[1], manifest)
            if widget is not None:
                widget.message = f"Job {job_id} {state}" + (f" (exit code {code})" if code is not None else "")
            if stream:  # the full stderr was printed already: the error names the last lines only
                tail = "\n".join(tail.rstrip().splitlines()[-3:])
            raise JobFailed(job_id, state, code, tail)
        print(f"Job {job_id} COMPLETED.")
        outputs = runner_outputs(job_dir)
        if load and outputs:
            if widget is not None:
                widget.fetch()
            else:
                self.fetch(job_id)
            print(f"Loaded {', '.join(outputs)} into the notebook.")
        return None

    def _follow(self, job_id: str, job_dir: JobDir, manifest: Manifest, stream: bool) -> tuple[str, Optional[int]]:
        """Poll the job directory (cheap) and, every slurm_check_seconds, Slurm; return (state, exit code)."""
        base, task = parse_job_id(job_id)
        tasks = array_tasks(manifest.spec.array) if manifest.spec.array and task is None else None
        offsets = {"stdout": 0, "stderr": 0}
        can_stream = stream and tasks is None
        next_check = time.monotonic() + self.slurm_check_seconds
        unknown_checks = 0
        while True:
            if can_stream:
                self._print_new(job_id, offsets)
            codes = exit_codes(job_dir, task, tasks)
            if codes is not None:
                break
            if time.monotonic() >= next_check:
                state, finished = self._slurm_state(base, task)
                if state is None:
                    unknown_checks += 1
                finished = finished or unknown_checks >= 6  # a minute unknown to squeue and sacct
                if finished:
                    if can_stream:
                        self._print_new(job_id, offsets)
                    codes = exit_codes(job_dir, task, tasks)
                    if codes is None:
                        return (state or JobState.UNKNOWN.value), None
                    break
                next_check = time.monotonic() + self.slurm_check_seconds
            time.sleep(self.poll_seconds)
        if can_stream:
            time.sleep(0.05)  # the last writes of the job reach the log before its exit code
            self._print_new(job_id, offsets)
        bad = [c for c in codes if c != 0]
        code = bad[0] if bad else 0
        if code == 0 and runner_finished(job_dir, task, tasks):
            return JobState.COMPLETED.value, 0
        # Ask Slurm for the precise state: TIMEOUT, OUT_OF_MEMORY, or CANCELLED (the script's exit
        # trap may record 0 for a job cancelled while it waited on its command).
        for _ in range(10):
            state, finished = self._slurm_state(base, task)
            if finished and state is not None:
                return state, code if code or state == JobState.COMPLETED.value else None
            time.sleep(0.5)
        return (JobState.FAILED.value if code else JobState.COMPLETED.value), code

    def _slurm_state(self, base: str, task: Optional[str]) -> tuple[Optional[str], bool]:
        """(state name or None when Slurm knows nothing, finished?) from one sacct, else squeue."""
        wanted = f"{base}_{task}" if task else base
        try:
            jobs = run(self.slurm.accounting([wanted]), timeout=self.slurm_timeout + 5)
        except SlurmError:
            jobs = []
        mine = [j for j in jobs if j.id == wanted or (task is None and j.array_job_id == base)]
        if not mine:
            try:
                active = run(self.slurm.my_jobs(), timeout=self.slurm_timeout + 5)
            except SlurmError:
                return None, False
            mine = [j for j in active if j.id == wanted or j.array_job_id == base or j.id.startswith(f"{base}_")]
            if not mine:
                return None, False
        if any(j.state.is_active or j.state is JobState.UNKNOWN for j in mine):
            active = next(j for j in mine if j.state.is_active or j.state is JobState.UNKNOWN)
            return active.state.value, False
        bad = [j for j in mine if j.state is not JobState.COMPLETED]
        return (bad[0] if bad else mine[0]).state.value, True

    def _print_new(self, job_id: str, offsets: dict[str, int], streams=("stdout", "stderr")) -> None:
        for stream in streams:
            while True:
                chunk = self.store.read_log(job_id, stream, offsets[stream])
                if not chunk.data:
                    break
                offsets[stream] = chunk.offset
                target = sys.stdout if stream == "stdout" else sys.stderr
                target.write(chunk.data)
                target.flush()

    # -- fetch, cancel -------------------------------------------------------------------------
    def fetch(self, job_id: str) -> list[str]:
        """Load the job's --out variables into the notebook namespace; return their names."""
        job_dir, manifest = self._find(job_id)
        outputs = runner_outputs(job_dir)
        if not outputs:
            return []
        _base, task = parse_job_id(job_id)
        values = read_outputs(job_dir, manifest, task, outputs)
        if values is None:
            raise UsageError(self._why_no_results(job_dir, job_id, task))
        self.shell.user_ns.update(values)
        return list(values)

    def _why_no_results(self, job_dir: JobDir, job_id: str, task: Optional[str]) -> str:
        code = job_dir.exit_code(task)
        if code is None:
            return (f"Job {job_id} has not sent results back yet (still pending or running?): "
                    f"%tritonml status {job_id}")
        return (f"Job {job_id} ended with exit code {code} and sent no results back: "
                f"%tritonml logs {job_id}")

    def cancel(self, job_id: str) -> None:
        try:
            parse_job_id(job_id)
        except BadJobRequest as exc:
            raise UsageError(exc.message) from None
        self._ask(self.slurm.cancel(job_id))
