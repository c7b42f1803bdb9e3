"""The kernel side: ``%load_ext tritonml_lab``, then ``%%tritonml submit`` and friends.

Submissions are made from the kernel itself, so the job inherits the kernel's environment (cleaned
of an enclosing job's SLURM_*/SBATCH_* variables) and Python cells run with the kernel's own Python.
The job directory is written by :class:`~tritonml_lab.jobs.store.JobStore` and the script rendered by
:func:`~tritonml_lab.jobs.script.render_script`, exactly as the server does for the jobs panel.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pickle
import re
import shlex
import shutil
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from pydantic import ValidationError
from traitlets import Float, Unicode

from .jobs.paths import kernel_jobs_root
from .jobs.script import PYTHON_FILE, render_script
from .jobs.server_defaults import kernel_defaults
from .jobs.spec import JobSpec, field_errors
from .jobs.store import BadJobRequest, JobDir, JobNotFound, JobStore, Manifest, Origin, parse_job_id
from .slurm import Job, JobState, SlurmClient, SlurmError

RUNNER_SOURCE = Path(__file__).with_name("jobs") / "runner.py"
CELL_FILE = "cell.py"
RUNNER_CONFIG, INPUTS_FILE = "runner.json", "inputs.pkl"

# JobSpec field -> the option that sets it, for error messages.
_OPTION_OF = {
    "name": "--name", "partition": "--partition", "gpus": "--gpus", "cpus_per_task": "--cpus",
    "mem": "--mem", "time": "--time", "nodes": "--nodes", "ntasks_per_node": "--ntasks-per-node",
    "array": "--array", "constraint": "--constraint", "gres": "--gres", "tmp": "--tmp",
    "account": "--account", "qos": "--qos", "modules": "--module", "env": "--env",
    "workdir": "--workdir", "python": "--python", "code": "the cell", "script": "the cell",
    "grid": "--grid", "random": "--random/--space", "optuna": "--optuna/--space", "metric": "--metric",
    "mode": "--mode",
    "parallel": "--parallel", "path": "PATH", "parameters": "-p", "kernel": "--kernel",
    "output_dir": "--output-dir",
}


def _option_errors(exc: ValidationError) -> str:
    return "\n".join(
        f"  {_OPTION_OF.get(error['field'].split('.')[0], error['field'])}: {error['message']}"
        for error in field_errors(exc)
    )
_SAFE_DIR = re.compile(r"^/[A-Za-z0-9._+/@=,-]*$")  # a --chdir Slurm reads without quoting


# -------------------------------------------------------------------------------------------------
# Running the async Slurm client from synchronous magics (the kernel's own loop is busy running us).
class _Loop:
    def __init__(self) -> None:
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._lock = threading.Lock()

    def run(self, coro, timeout: Optional[float] = None):
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="tritonml-slurm", daemon=True
                ).start()
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)


_loop = _Loop()


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


# -------------------------------------------------------------------------------------------------
# Argument parsing
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: Optional[str] = None):
        if message:
            print(message)
        raise _HelpShown()


class _HelpShown(Exception):
    pass


def _add_resource_options(p: argparse.ArgumentParser, array: bool = True, short_p: bool = True) -> None:
    """The resource options of submit (also sweep and run-notebook)."""
    res = p.add_argument_group("resources (as sbatch names them)")
    res.add_argument("--gpus", "-G", help='GPUs for the job: a count "2" or type:count "h100:1"')
    res.add_argument("--time", "-t", help='time limit, e.g. "30:00", "01:00:00", "2-00:00:00"')
    res.add_argument("--partition", *(["-p"] if short_p else []), help="partition (default: the cluster's default)")
    res.add_argument("--mem", help='memory per node, e.g. "16G"')
    res.add_argument("--cpus", "-c", type=int, help="CPU cores per task")
    res.add_argument("--nodes", "-N", type=int, help="number of nodes")
    res.add_argument("--ntasks-per-node", type=int, help="tasks per node")
    if array:
        res.add_argument("--array", "-a", help='array job indices, e.g. "0-9%%2"; the cell sees SLURM_ARRAY_TASK_ID')
    res.add_argument("--name", "-J", help="job name (letters, digits, . _ + -)")
    res.add_argument("--constraint", "-C", help='node features, e.g. "ampere"')
    res.add_argument("--gres", help='extra GRES, e.g. "min-vram:80g"')
    res.add_argument("--tmp", help='node-local disk, e.g. "100G"')
    res.add_argument("--account", "-A", help="account to charge")
    res.add_argument("--qos", help="quality of service")


def _add_environment_options(p: argparse.ArgumentParser, python: bool = True) -> None:
    env = p.add_argument_group("environment")
    env.add_argument("--module", "-m", action="append", default=[], metavar="M",
                     help="module to load first (repeat for several)")
    env.add_argument("--env", "-e", action="append", default=[], metavar="K=V",
                     help="environment variable for the job (repeat for several); the value is data, "
                     "never run by a shell")
    env.add_argument("--workdir", help="directory the job starts in (default: the notebook's)")
    if python:
        env.add_argument("--python", help="Python that runs the cell (default: this kernel's, sys.executable)")


def _submit_parser() -> _Parser:
    p = _Parser(
        prog="%%tritonml submit",
        description="Run the cell as a Slurm batch job. Without --wait the cell returns at once and "
        "shows a widget with the job's live state.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_resource_options(p)
    _add_environment_options(p)
    data = p.add_argument_group("data and waiting")
    data.add_argument("--in", dest="inputs", action="append", default=[], metavar="a,b",
                      help="notebook variables to send to the job (pickled)")
    data.add_argument("--out", dest="outputs", action="append", default=[], metavar="x,y",
                      help="variables the job sends back (pickled); they appear in the notebook with "
                      "--wait, with %%tritonml fetch ID, or with the widget's Fetch results")
    data.add_argument("--wait", "-w", action="store_true",
                      help="wait for the end, show the output as it comes, load the --out variables")
    data.add_argument("--bash", action="store_true", help="the cell is a bash script, not Python")
    data.add_argument("--dry-run", "-n", action="store_true", help="print the batch script; submit nothing")
    data.add_argument("--ddp", action="store_true",
                      help="distributed data-parallel: one task per GPU with srun (on --nodes nodes), with "
                      "MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK and WORLD_SIZE set, so "
                      "torch.distributed.init_process_group() just works. Without --gpus: "
                      "--ntasks-per-node CPU tasks per node (default 1)")
    return p


def _id_parser(command: str, help: str, follow: bool = False) -> _Parser:
    p = _Parser(prog=f"%tritonml {command}", description=help)
    p.add_argument("job_id", metavar="ID", help="Slurm job id (123, or 123_4 for one array task)")
    if follow:
        p.add_argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
        p.add_argument("--stream", choices=("both", "stdout", "stderr"), default="both")
    return p


def _parsers() -> dict[str, _Parser]:
    jobs = _Parser(prog="%tritonml jobs", description="Your recent jobs from this notebook's "
                   "jobs directory, and your active ones, with their state.")
    jobs.add_argument("--limit", type=int, default=20)
    return {
        "submit": _submit_parser(),
        "jobs": jobs,
        "status": _id_parser("status", "State, resources, times, exit code and directory of a job."),
        "logs": _id_parser("logs", "Print a job's stdout and stderr.", follow=True),
        "cancel": _id_parser("cancel", "Cancel a job (scancel); cancelling an ended job is fine."),
        "fetch": _id_parser("fetch", "Load a finished job's --out variables into the notebook "
                            "(for an array job without a task: one dict per variable, by task)."),
        "efficiency": _id_parser(
            "efficiency", "Efficiency of a finished job, as the jobs panel shows it: GPU utilisation and "
            "memory peak (from the job's GPU samples, else Slurm's gres/gpuutil and gres/gpumem where the "
            "site has them), CPU efficiency, memory peak and time used against what was asked, and advice."),
        "sweep": _sweep_parser(),
        "sweep-results": _sweep_id_parser(
            "sweep-results", "The results table of a sweep, sorted by its metric (best first): a pandas "
            "DataFrame when pandas is installed, else a list of dicts.", wait=True),
        "sweep-retry": _sweep_id_parser(
            "sweep-retry", "Run the failed tasks of a sweep again, as a new array job of the same sweep."),
        "sweep-cancel": _sweep_id_parser(
            "sweep-cancel", "Cancel a whole sweep: every array job with tasks still queued or running "
            "(ended tasks keep their results; cancelling an ended sweep is fine)."),
        "run-notebook": _run_notebook_parser(),
    }


def _sweep_parser() -> _Parser:
    p = _Parser(
        prog="%%tritonml sweep",
        description="Run the cell once per point of a grid, a random search or an Optuna search, as a Slurm "
        "array job (split into several when larger than the cluster's MaxArraySize). Each task gets its "
        "point's names as variables and reports with tritonml.report(loss=..., acc=...) or the cell's last "
        "expression (a dict, or a number for --metric). With --optuna N each task asks an Optuna study "
        "(a journal file under the jobs directory) for its point when it starts and tells it the metric "
        "(FAIL if the cell raised); the job's Python needs optuna. A retried task asks for a new trial.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    space = p.add_argument_group("the search space (one of --grid, --random or --optuna)")
    space.add_argument("--grid", "-g", nargs="+", action="extend", default=[], metavar="NAME=V1,V2",
                       help="every combination: --grid lr=1e-3,1e-4 batch=32,64 (values: numbers, "
                       "true/false, none, text)")
    space.add_argument("--random", "-r", type=int, metavar="N", help="N random points from --space")
    space.add_argument("--optuna", "-o", type=int, metavar="N",
                       help="N Optuna trials over --space (needs --metric and --mode)")
    space.add_argument("--space", "-s", nargs="+", action="extend", default=[], metavar="NAME=DIST",
                       help="with --random or --optuna: NAME=uniform(a,b), loguniform(a,b), randint(a,b) "
                       "(inclusive), logint(a,b), choice(v1,v2,...) or v1,v2,... (choices)")
    space.add_argument("--sampler", choices=("tpe", "random"), help="with --optuna: Optuna's sampler (default tpe)")
    space.add_argument("--seed", type=int, help="with --random: makes the points reproducible; with --optuna: "
                       "seeds each task's sampler")
    space.add_argument("--metric", help="the reported value the results are sorted by (Optuna optimizes it)")
    space.add_argument("--mode", choices=("min", "max"), help="best is the min (default) or max")
    space.add_argument("--parallel", "-k", type=int, metavar="K",
                       help="at most K tasks at once, for the whole sweep (--array=0-N%%K; a split "
                       "sweep's array jobs run one after the other)")
    space.add_argument("--wait", "-w", action="store_true",
                       help="wait for the end, updating the results table")
    _add_resource_options(p, array=False)
    _add_environment_options(p)
    return p


def _sweep_id_parser(command: str, help: str, wait: bool = False) -> _Parser:
    p = _Parser(prog=f"%tritonml {command}", description=help)
    p.add_argument("sweep_id", metavar="ID", help="the sweep id (its first array job's id)")
    if wait:
        p.add_argument("--wait", "-w", action="store_true", help="wait until every task has ended")
    return p


def _run_notebook_parser() -> _Parser:
    p = _Parser(
        prog="%tritonml run-notebook",
        description="Run a whole notebook headless as a batch job (as \"Run on GPU\" does); the executed "
        "copy is saved after every cell as <name>.<jobid>.ipynb next to it. Its kernel (default: the "
        "notebook's own) must be installed where jobs run. The executor needs nbclient: it runs with "
        "$TRITONML_SERVER_PYTHON (the Jupyter server's Python) when set, else this kernel's Python.",
    )
    p.add_argument("path", metavar="PATH", help="the notebook (.ipynb), relative to this notebook's folder")
    p.add_argument("-p", "--parameter", dest="parameters", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="a value for the cell tagged parameters "
                   "(VALUE read as JSON or a Python literal, else text); repeat for several")
    p.add_argument("--kernel", "-k", help="kernelspec to run it with (default: the notebook's own)")
    p.add_argument("--output-dir", help="where the executed copy goes, relative to the notebook's folder")
    _add_resource_options(p, array=False, short_p=False)  # -p is a parameter here, as in papermill
    _add_environment_options(p, python=False)
    return p


def _split_names(values: Sequence[str], option: str) -> list[str]:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    for name in names:
        if not name.isidentifier():
            raise UsageError(f"{option}: {name!r} is not a Python variable name")
    return list(dict.fromkeys(names))


def _doc() -> str:
    parts = [
        "Run notebook cells as Slurm batch jobs on the cluster, and follow them.",
        "",
        "  %%tritonml submit [options]     run the cell as a batch job (see below)",
        "  %tritonml jobs                  your recent and active jobs",
        "  %tritonml status ID             state, resources, times and exit code of a job",
        "  %tritonml logs ID [--follow]    a job's stdout/stderr (--follow: until it ends)",
        "  %tritonml cancel ID             cancel a job",
        "  %tritonml fetch ID              load a finished job's --out variables into the notebook",
        "  %tritonml efficiency ID         how well a finished job used its GPUs, CPUs, memory and time, with advice",
        "  %%tritonml sweep [options]      run the cell once per point of a grid, random or Optuna search (array job)",
        "  %tritonml sweep-results ID      a sweep's results table (pandas DataFrame, else a list of dicts)",
        "  %tritonml sweep-retry ID        run a sweep's failed tasks again",
        "  %tritonml sweep-cancel ID       cancel a whole sweep (all its array jobs)",
        "  %tritonml run-notebook PATH [-p NAME VALUE ...] [options]   run a whole notebook as a batch job",
        "",
        "Examples::",
        "",
        "  %%tritonml submit --gpus h100:1 --time 2:00:00 --mem 32G --in config --out losses",
        "  losses = train(config)",
        "",
        "  %%tritonml submit --ddp --nodes 2 --gpus 4 --time 1:00:00",
        "  import torch.distributed as dist; dist.init_process_group('nccl')",
        "",
        "  %%tritonml sweep --grid lr=1e-3,1e-4 batch=32,64 --metric loss --parallel 2 --gpus 1",
        "  loss, acc = train(lr=lr, batch_size=batch)       # lr and batch are this task's point",
        "  tritonml.report(loss=loss, acc=acc)              # or end the cell with {'loss': loss}",
        "",
        "  %%tritonml sweep --random 20 --space 'lr=loguniform(1e-5,1e-2)' 'layers=choice(2,4,8)' "
        "--metric acc --mode max",
        "  ...",
        "",
        "  %%tritonml sweep --optuna 30 --space 'lr=loguniform(1e-5,1e-1)' 'layers=randint(1,4)' "
        "--metric loss --mode min --parallel 4",
        "  tritonml.report(loss=train(lr=lr, layers=layers))  # each task asks Optuna (TPE) for lr, layers",
        "",
        "  %tritonml run-notebook train.ipynb -p epochs 10 -p lr 0.001 --gpus 1 --time 2:00:00",
        "",
        "Each job gets a directory under $TRITONML_JOBS_ROOT (default $WRKDIR/tritonml/jobs or "
        "~/tritonml/jobs) with the batch script job.sh (you can `sbatch job.sh` it yourself), the "
        "logs, the cell and its results.",
        "",
    ]
    for parser in _parsers().values():
        parts += [parser.format_help(), ""]
    return "\n".join(parts)


# -------------------------------------------------------------------------------------------------
@magics_class
class TritonMLMagics(Magics):
    """``%tritonml`` / ``%%tritonml``: see ``%tritonml?``."""

    jobs_root = Unicode(
        "", help="Where job directories go. Empty: $TRITONML_JOBS_ROOT, else $WRKDIR/tritonml/jobs, "
        "else ~/tritonml/jobs (the server's default)."
    ).tag(config=True)
    slurm_bin_dir = Unicode("", help="Directory of the Slurm commands; empty: PATH.").tag(config=True)
    slurm_timeout = Float(30.0, help="Seconds before a Slurm command counts as unanswered.").tag(config=True)
    poll_seconds = Float(0.5, help="--wait / --follow: how often the job directory is looked at.").tag(config=True)
    slurm_check_seconds = Float(
        10.0, help="--wait / --follow: how often Slurm is asked, for jobs that end without writing "
        "their exit code (cancelled, or killed before the script's exit trap ran)."
    ).tag(config=True)

    def __init__(self, shell=None, **kwargs) -> None:
        super().__init__(shell=shell, **kwargs)
        self._parsers = _parsers()
        self._store: Optional[JobStore] = None
        self._store_root: Optional[str] = None
        self._slurm: Optional[SlurmClient] = None
        self.defaults = kernel_defaults()  # the server's admin defaults, when it started this kernel
        self.last_job: Optional[tuple[str, Any]] = None  # (id, widget) of the last submission
        self.last_sweep: Optional[str] = None
        self._sweeps = None

    # -- plumbing ------------------------------------------------------------------------------
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

    def _ask(self, coro):
        try:
            return _loop.run(coro, timeout=self.slurm_timeout + 5)
        except SlurmError as exc:
            raise UsageError(exc.message) from None

    def _find(self, job_id: str) -> tuple[JobDir, Manifest]:
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

    # -- the magic -----------------------------------------------------------------------------
    @line_cell_magic
    def tritonml(self, line: str, cell: Optional[str] = None):
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%tritonml: cannot read the options ({exc})") from None
        if not words or words[0] in ("-h", "--help", "help"):
            print(_doc())
            return None
        command, rest = words[0], words[1:]
        parser = self._parsers.get(command)
        if parser is None:
            raise UsageError(f"%tritonml: unknown command {command!r}; one of {', '.join(self._parsers)}")
        try:
            args = parser.parse_args(rest)
        except _HelpShown:
            return None
        if command == "submit":
            return self.submit(args, cell)
        if command == "sweep":
            return self.sweep(args, cell)
        if cell is not None and cell.strip():
            raise UsageError(f"%tritonml {command} takes no cell; only submit and sweep run a cell")
        return getattr(self, f"_cmd_{command.replace('-', '_')}")(args)

    tritonml.__doc__ = _doc()

    # -- submit --------------------------------------------------------------------------------
    def build_spec(self, args, cell: str) -> tuple[JobSpec, list[str], list[str]]:
        """The validated spec, the --in names and the --out names; UsageError names a bad option."""
        inputs = _split_names(args.inputs, "--in")
        outputs = _split_names(args.outputs, "--out")
        if args.bash and (inputs or outputs):
            raise UsageError("--in and --out send Python variables; they need a Python cell (no --bash)")
        fields = self.resource_fields(args)
        fields["python"] = None if args.bash else (args.python or sys.executable)
        fields["ddp"] = bool(args.ddp)  # one task per GPU; JobSpec checks and lays it out
        if args.bash:
            fields["script"] = cell
        else:
            fields["code"] = cell
        try:
            spec = JobSpec(**{key: value for key, value in fields.items() if value is not None})
        except ValidationError as exc:
            raise UsageError("Invalid job options; nothing was submitted.\n" + _option_errors(exc)) from None
        return spec, inputs, outputs

    def resource_fields(self, args) -> dict[str, Any]:
        """The JobSpec resource and environment fields the options give (also sweep, run-notebook)."""
        env: dict[str, str] = {}
        for item in args.env:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UsageError(f"--env: give NAME=VALUE, not {item!r}")
            env[key] = value
        workdir = args.workdir
        if workdir is None:
            cwd = os.getcwd()
            workdir = cwd if _SAFE_DIR.fullmatch(cwd) else None  # else: the job directory
        elif not _SAFE_DIR.fullmatch(workdir):
            raise UsageError(f"--workdir: give an absolute path without spaces or quotes, not {workdir!r}")
        return dict(
            name=args.name, partition=args.partition, gpus=args.gpus, cpus_per_task=args.cpus,
            mem=args.mem, time=args.time, nodes=args.nodes, ntasks_per_node=args.ntasks_per_node,
            array=getattr(args, "array", None), constraint=args.constraint, gres=args.gres, tmp=args.tmp,
            account=args.account, qos=args.qos, modules=list(args.module), env=env, workdir=workdir,
        )

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

        store = self.store
        job_dir, manifest = store.create(spec, self.defaults, origin)
        try:
            self._write_payload(job_dir, cell, args, payload, outputs)
            job_id = _loop.run(self.slurm.submit(str(job_dir.script_path), cwd=str(job_dir.path),
                                                 env=_job_environment()), timeout=self.slurm_timeout + 5)
        except SlurmError as exc:
            shutil.rmtree(job_dir.path, ignore_errors=True)
            raise UsageError(f"Slurm did not take the job; nothing was submitted.\n{exc.message}") from None
        except BaseException:
            shutil.rmtree(job_dir.path, ignore_errors=True)
            raise
        manifest = store.attach(job_dir, manifest, job_id)
        name = spec.name or "tritonml"
        print(f"Submitted batch job {job_id} ({name}) → %tritonml status {job_id}")
        widget = self._widget(job_id, name, str(job_dir.path), outputs)
        self.last_job = (job_id, widget)
        if widget is not None:
            from IPython.display import display

            display(widget)
        if args.wait:
            self.wait(job_id, widget=widget)
        return None

    def _write_payload(self, job_dir: JobDir, cell: str, args, payload: Optional[bytes],
                       outputs: list[str]) -> None:
        if args.bash:
            return
        (job_dir.path / CELL_FILE).write_text(cell)
        # main.py is the stdlib-only runner; it runs cell.py (JobStore wrote the cell there first).
        shutil.copyfile(RUNNER_SOURCE, job_dir.path / PYTHON_FILE)
        config = {"cell": CELL_FILE, "inputs": INPUTS_FILE if payload is not None else None, "outputs": outputs}
        (job_dir.path / RUNNER_CONFIG).write_text(json.dumps(config, indent=1))
        if payload is not None:
            (job_dir.path / INPUTS_FILE).write_bytes(payload)

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

    def _origin(self) -> Origin:
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

    def _widget(self, job_id: str, name: str, directory: str, outputs: list[str]):
        try:
            from .widgets import JobWidget
        except ImportError:  # ipywidgets is not in this kernel's environment
            return None
        return JobWidget(job_id=job_id, job_name=name, directory=directory, out_vars=outputs,
                         state="PENDING", fetcher=self.fetch, canceller=self.cancel)

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
            tail = _tail(job_dir, "stderr", parse_job_id(job_id)[1], manifest)
            if widget is not None:
                widget.message = f"Job {job_id} {state}" + (f" (exit code {code})" if code is not None else "")
            if stream:  # the full stderr was printed already: the error names the last lines only
                tail = "\n".join(tail.rstrip().splitlines()[-3:])
            raise JobFailed(job_id, state, code, tail)
        print(f"Job {job_id} COMPLETED.")
        outputs = _runner_outputs(job_dir)
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
        tasks = _array_tasks(manifest.spec.array) if manifest.spec.array and task is None else None
        offsets = {"stdout": 0, "stderr": 0}
        can_stream = stream and tasks is None
        next_check = time.monotonic() + self.slurm_check_seconds
        unknown_checks = 0
        while True:
            if can_stream:
                self._print_new(job_id, offsets)
            codes = _exit_codes(job_dir, task, tasks)
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
                    codes = _exit_codes(job_dir, task, tasks)
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
        if code == 0 and _runner_finished(job_dir, task, tasks):
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
            jobs = _loop.run(self.slurm.accounting([wanted]), timeout=self.slurm_timeout + 5)
        except SlurmError:
            jobs = []
        mine = [j for j in jobs if j.id == wanted or (task is None and j.array_job_id == base)]
        if not mine:
            try:
                active = _loop.run(self.slurm.my_jobs(), timeout=self.slurm_timeout + 5)
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

    # -- fetch ---------------------------------------------------------------------------------
    def fetch(self, job_id: str) -> list[str]:
        """Load the job's --out variables into the notebook namespace; return their names."""
        job_dir, manifest = self._find(job_id)
        outputs = _runner_outputs(job_dir)
        if not outputs:
            return []
        _base, task = parse_job_id(job_id)
        if manifest.spec.array and task is None:
            values: dict[str, dict] = {name: {} for name in outputs}
            found = sorted(job_dir.path.glob("outputs.*.pkl"), key=lambda p: _task_key(p.name))
            if not found:
                raise UsageError(self._why_no_results(job_dir, job_id, None))
            for path in found:
                task_id = path.name.split(".")[1]
                for name, value in _unpickle(path).items():
                    values.setdefault(name, {})[_int_or(task_id)] = value
        else:
            path = job_dir.path / ("outputs.pkl" if task is None else f"outputs.{task}.pkl")
            if not path.exists():
                raise UsageError(self._why_no_results(job_dir, job_id, task))
            values = _unpickle(path)
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

    # -- sweeps --------------------------------------------------------------------------------
    @property
    def sweeps(self):
        from .sweeps import SweepService

        store = self.store
        if self._sweeps is None or self._sweeps.store is not store or self._sweeps.slurm is not self.slurm:
            self._sweeps = SweepService(store, self.slurm, self.defaults)
        return self._sweeps

    def build_sweep(self, args, cell: str):
        """The validated SweepRequest; UsageError names a bad option."""
        from .sweeps import SweepRequest

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
        fields = self.resource_fields(args)
        fields.pop("array", None)
        fields.update(code=cell, python=args.python or sys.executable, metric=args.metric, mode=args.mode,
                      parallel=args.parallel)
        if args.grid:
            fields["grid"] = _parse_grid(args.grid)
        elif args.random is not None:
            fields["random"] = {"n": args.random, "space": _parse_space(args.space), "seed": args.seed}
        else:
            fields["optuna"] = {"n": args.optuna, "space": _parse_space(args.space), "seed": args.seed,
                                "sampler": args.sampler or "tpe"}
        try:
            return SweepRequest(**{key: value for key, value in fields.items() if value is not None})
        except ValidationError as exc:
            raise UsageError("Invalid sweep options; nothing was submitted.\n" + _option_errors(exc)) from None

    def sweep(self, args, cell: Optional[str]):
        if cell is None or not cell.strip():
            raise UsageError("%%tritonml sweep runs the cell below it: use two %% and put code in the cell")
        from .sweeps import BadSweepRequest

        request = self.build_sweep(args, cell)
        try:
            view = _loop.run(self.sweeps.submit(request, self._origin(), env=_job_environment()))
        except SlurmError as exc:
            raise UsageError(f"Slurm did not take the sweep; nothing was submitted.\n{exc.message}") from None
        except BadSweepRequest as exc:  # e.g. an Optuna sweep whose Python lacks optuna
            raise UsageError(f"{exc.message}; nothing was submitted.") from None
        jobs = ", ".join(job.id for job in view.jobs)
        print(f"Submitted sweep {view.id} ({view.name}): {view.total} tasks in {len(view.jobs)} array "
              f"job{'s' if len(view.jobs) > 1 else ''} ({jobs}) → %tritonml sweep-results {view.id}")
        self.last_sweep = view.id
        widget = self._sweep_widget(view)
        handle = _show_html(_sweep_html(view)) if widget is None else _show_widget(widget)
        if args.wait:
            self._wait_sweep(view.id, handle, widget)
        return None

    def _sweep_widget(self, view):
        """The live sweep widget (the HTML table is its fallback repr); None without ipywidgets."""
        try:
            from .widgets import SweepWidget
        except ImportError:  # ipywidgets is not in this kernel's environment
            return None
        return SweepWidget(sweep_id=view.id, sweep_name=view.name, metric=view.metric or "", mode=view.mode,
                           total=view.total, snapshot=_sweep_snapshot(view), html=_sweep_html(view))

    def _sweep_view(self, sweep_id: str):
        from .sweeps import BadSweepRequest, SweepNotFound

        try:
            return _loop.run(self.sweeps.view(sweep_id), timeout=self.slurm_timeout + 30)
        except (SweepNotFound, BadSweepRequest) as exc:
            raise UsageError(f"{exc.message} (jobs directory {self.store.root})") from None

    def _wait_sweep(self, sweep_id: str, handle=None, widget=None):
        view = self._sweep_view(sweep_id)
        try:
            while not view.finished:
                time.sleep(max(self.poll_seconds, 1.0))
                view = self._sweep_view(sweep_id)
                if handle is not None and widget is None:  # the widget follows the sweep by itself
                    handle.update(_html_object(_sweep_html(view)))
        except KeyboardInterrupt:
            print(f"\nStopped waiting. Sweep {sweep_id} goes on: %tritonml sweep-results {sweep_id}")
            return view
        if widget is not None:  # the final table, also as the fallback HTML kept in the notebook
            widget.snapshot, widget.html = _sweep_snapshot(view), _sweep_html(view)
            if handle is not None:
                handle.update(widget)
        elif handle is not None:
            handle.update(_html_object(_sweep_html(view)))
        counts = ", ".join(f"{n} {state}" for state, n in sorted(view.counts.items()))
        best = view.best
        print(f"Sweep {sweep_id} ended: {counts}." + (
            f" Best ({view.metric}, {view.mode}): task {best.index} {json.dumps(best.params)} → "
            f"{json.dumps(best.result)}" if best else ""))
        return view

    def _cmd_sweep_results(self, args):
        view = self._wait_sweep(args.sweep_id) if args.wait else self._sweep_view(args.sweep_id)
        rows = sweep_rows(view)
        try:
            import pandas
        except ImportError:
            return rows
        frame = pandas.DataFrame(rows)
        return frame.set_index("index") if "index" in frame else frame

    def _cmd_sweep_retry(self, args) -> None:
        from .sweeps import BadSweepRequest, SweepNotFound

        try:
            view = _loop.run(self.sweeps.retry(args.sweep_id, origin=self._origin(), env=_job_environment()))
        except (SweepNotFound, BadSweepRequest) as exc:
            raise UsageError(exc.message) from None
        except SlurmError as exc:
            raise UsageError(f"Slurm did not take the retry; nothing was submitted.\n{exc.message}") from None
        retry = view.jobs[-1]
        print(f"Retrying {retry.tasks} task{'s' if retry.tasks > 1 else ''} of sweep {view.id} as array job "
              f"{retry.id} → %tritonml sweep-results {view.id}")
        _show_html(_sweep_html(view))

    def _cmd_sweep_cancel(self, args) -> None:
        from .sweeps import BadSweepRequest, SweepNotFound

        try:
            view = _loop.run(self.sweeps.cancel(args.sweep_id), timeout=self.slurm_timeout + 30)
        except (SweepNotFound, BadSweepRequest) as exc:
            raise UsageError(f"{exc.message} (jobs directory {self.store.root})") from None
        except SlurmError as exc:
            raise UsageError(f"Slurm did not cancel sweep {args.sweep_id}: {exc.message}") from None
        counts = ", ".join(f"{n} {state}" for state, n in sorted(view.counts.items()))
        print(f"Cancel requested for sweep {view.id} (array job{'s' if len(view.jobs) > 1 else ''} "
              f"{', '.join(job.id for job in view.jobs)}): {counts}. Tasks that had ended keep their results; "
              f"%tritonml sweep-retry {view.id} runs the cancelled points again.")

    # -- whole notebooks -----------------------------------------------------------------------
    def _cmd_run_notebook(self, args) -> None:
        from .notebooks.service import store_submitter, submit_notebook

        full = os.path.abspath(os.path.expanduser(args.path))
        root, name = os.path.dirname(full), os.path.basename(full)
        resources = {k: v for k, v in self.resource_fields(args).items() if v not in (None, [], {})}
        resources.pop("array", None)
        if args.workdir is None:
            resources.pop("workdir", None)  # the kernel starts in the notebook's own folder
        if args.output_dir is not None:
            resources["output_dir"] = args.output_dir
        parameters = {key: _parse_parameter(value) for key, value in args.parameters}
        python = os.environ.get("TRITONML_SERVER_PYTHON") or sys.executable
        try:
            job_id, output = _loop.run(submit_notebook(
                name, submit=store_submitter(self.store, self.slurm), root_dir=root, parameters=parameters,
                kernel=args.kernel, python=python, **resources,
            ))
        except ValidationError as exc:
            raise UsageError("Invalid options; nothing was submitted.\n" + _option_errors(exc)) from None
        except (BadJobRequest, JobNotFound) as exc:
            raise UsageError(f"{exc.message} Nothing was submitted.") from None
        except SlurmError as exc:
            raise UsageError(f"Slurm did not take the job; nothing was submitted.\n{exc.message}") from None
        print(f"Submitted notebook run {job_id} ({name}) → %tritonml status {job_id}\n"
              f"The executed notebook is saved after every cell to {output}")
        job_dir = self.store.find(job_id)
        widget = self._widget(job_id, name, str(job_dir.path) if job_dir else "", [])
        self.last_job = (job_id, widget)
        if widget is not None:
            from IPython.display import display

            display(widget)

    # -- the other commands --------------------------------------------------------------------
    def _cmd_fetch(self, args) -> None:
        names = self.fetch(args.job_id)
        print(f"Loaded {', '.join(names)} into the notebook." if names else
              f"Job {args.job_id} sends no variables back (submit it with --out x,y).")

    def _cmd_efficiency(self, args) -> None:
        from .metrics.report import after_the_end, report_lines
        from .metrics.stream import job_summary

        job_id = args.job_id
        try:
            parse_job_id(job_id)
            job_dir = self.store.find(job_id)
        except BadJobRequest as exc:
            raise UsageError(exc.message) from None
        job = next((j for j in self._ask(self.slurm.accounting([job_id])) if j.id == job_id), None)
        if job is None and job_dir is None:
            raise UsageError(f"Slurm knows no job {job_id} of yours.")
        if job is None or not job.state.is_finished:
            state = job.state.value if job else "not in Slurm's accounting yet"
            print(f"Job {job_id} is {state}: its efficiency comes after the end. Until then: "
                  f"%tritonml status {job_id}, and the live charts in the jobs panel.")
            return
        report = self._ask(after_the_end(self.slurm, job_id, job_summary(job_dir.path) if job_dir else None))
        if report.efficiency is None:
            print(f"Job {job_id} ended ({job.state.value}), but Slurm's accounting does not have all of it "
                  "yet: try again in a few seconds.")
            return
        print(f"Job {job_id} ({job.name}): {job.state.value}")
        print("\n".join(report_lines(report)))

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
            while _exit_codes(job_dir, task, None) is None:
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
        jobs = self._ask(self.slurm.accounting([job_id]))
        job = next((j for j in jobs if j.id == job_id), None)
        if job is None or job.state.is_active:
            active = {j.id: j for j in self._ask(self.slurm.my_jobs())}
            job = active.get(job_id, job)
            if job is not None and job.state is JobState.PENDING:
                job.expected_start = self._ask(self.slurm.expected_starts()).get(job_id)
        if job is None and manifest is None:
            raise UsageError(f"Slurm knows no job {job_id} of yours.")
        print(_describe(job_id, job, manifest, job_dir, task))

    def _cmd_jobs(self, args) -> None:
        ids = self.store.job_ids(limit=max(1, args.limit))
        known = {j.id: j for j in self._ask(self.slurm.accounting(ids))} if ids else {}
        for job in self._ask(self.slurm.my_jobs()):
            known[job.id] = job  # squeue is fresher for active jobs
        rows = []
        for job_id in ids:
            job = known.pop(job_id, None)
            rows.append(_row(job_id, job, self.store.find(job_id)))
        for job_id, job in known.items():  # active jobs not submitted from here
            if job.state.is_active and job.array_job_id not in ids:
                rows.append(_row(job_id, job, None))
        if not rows:
            print(f"No jobs yet (jobs directory {self.store.root}).")
            return
        header = ("ID", "NAME", "STATE", "ELAPSED", "SUBMITTED", "NODES", "DIRECTORY")
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
        for row in [header, *rows]:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)) + "  " + str(row[-1]))


# -------------------------------------------------------------------------------------------------
# Sweep helpers
_DIST = re.compile(r"^(uniform|loguniform|randint|logint|choice)\((.*)\)$", re.IGNORECASE | re.DOTALL)


def _parse_value(text: str) -> Any:
    """One value of --grid/--space/-p: quoted text, true/false, none, an int, a float, else text."""
    word = text.strip()
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    lower = word.lower()
    if lower in ("true", "false"):
        return lower == "true"
    if lower in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            pass
    return word


def _name_and_rest(item: str, option: str, example: str) -> tuple[str, str]:
    name, sep, rest = item.partition("=")
    if not sep or not name.strip() or not rest.strip():
        raise UsageError(f"{option}: give {example}, not {item!r}")
    return name.strip(), rest.strip()


def _parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, rest = _name_and_rest(item, "--grid", "NAME=V1,V2,... (e.g. lr=1e-3,1e-4)")
        if name in grid:
            raise UsageError(f"--grid: {name} is given twice")
        grid[name] = [_parse_value(value) for value in rest.split(",")]
    return grid


def _parse_space(items: Sequence[str]) -> dict[str, Any]:
    space: dict[str, Any] = {}
    for item in items:
        name, rest = _name_and_rest(item, "--space", "NAME=loguniform(1e-5,1e-2), NAME=choice(2,4,8) or NAME=2,4,8")
        if name in space:
            raise UsageError(f"--space: {name} is given twice")
        match = _DIST.fullmatch(rest)
        if not match:
            space[name] = [_parse_value(value) for value in rest.split(",")]
            continue
        kind, inner = match.group(1).lower(), match.group(2)
        args = [part.strip() for part in inner.split(",")]
        if kind == "choice":
            space[name] = [_parse_value(value) for value in args]
            continue
        try:
            low, high = (float(value) for value in args)
        except ValueError:
            raise UsageError(f"--space: {kind}() takes two numbers (low, high), not {inner!r}") from None
        space[name] = {"low": low, "high": high, "log": kind in ("loguniform", "logint"),
                       "integer": kind in ("randint", "logint")}
    return space


def _parse_parameter(text: str) -> Any:
    """-p NAME VALUE of run-notebook: JSON, else a Python literal, else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def sweep_rows(view) -> list[dict[str, Any]]:
    """The results table as flat rows: index, state, each param, each reported value, best, error."""
    keys: list[str] = [view.metric] if view.metric else []
    for task in view.tasks:
        keys += [key for key in task.result or {} if key not in keys]
    rows = []
    for task in view.tasks:
        params = task.params or {}  # None: an Optuna task that has not asked for its point yet
        row: dict[str, Any] = {"index": task.index, "state": task.state.value}
        row.update(params)
        result = task.result or {}
        for key in keys:  # the same columns in every row, None where a task reported nothing
            row[f"result_{key}" if key in params or key in ("index", "state") else key] = result.get(key)
        row.update(best=task.best, error=task.error, job_id=task.job_id)
        rows.append(row)
    return rows


def _html_object(markup: str):
    from IPython.display import HTML

    return HTML(markup)


def _show_widget(widget):
    """Display the sweep widget; returns a handle to update it (None outside IPython's display)."""
    try:
        from IPython.display import display

        return display(widget, display_id=True)
    except Exception:  # noqa: BLE001 - no display (plain scripts)
        return None


def _sweep_snapshot(view, limit: int = 200) -> dict[str, Any]:
    """The sweep as JSON for the widget's model (the first ``limit`` rows of the table)."""
    data = view.model_dump(mode="json")
    if len(data["tasks"]) > limit:
        data["tasks"], data["truncated"] = data["tasks"][:limit], True
    return data


def _show_html(markup: str):
    """Display the table; returns a handle to update it (None outside IPython's display)."""
    try:
        from IPython.display import display

        return display(_html_object(markup), display_id=True)
    except Exception:  # noqa: BLE001 - no display (plain scripts)
        return None


def _sweep_html(view, limit: int = 50) -> str:
    import html

    params = list(dict.fromkeys(name for task in view.tasks for name in task.params or {}))
    metrics: list[str] = [view.metric] if view.metric else []
    for task in view.tasks:
        for key in task.result or {}:
            if key not in metrics and len(metrics) < 8:
                metrics.append(key)
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(view.counts.items()))
    head = (f"<b>Sweep {html.escape(view.id)}</b> ({html.escape(view.name)}, {view.total} tasks"
            f"{', by ' + html.escape(view.metric) + ' ' + view.mode if view.metric else ''}): {html.escape(counts)}")
    cols = ["#", "state", *params, *metrics, "error"]
    out = [f"<div class='tritonml-sweep'><p>{head}</p><table><thead><tr>"
           + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr></thead><tbody>"]

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:.6g}"
        return html.escape(str(value))

    for task in view.tasks[:limit]:
        style = " style='font-weight:bold;background:rgba(80,200,120,0.25)'" if task.best else ""
        error = (task.error or "").strip().splitlines()
        values = [task.index, task.state.value + (" ★ best" if task.best else ""),
                  *[(task.params or {}).get(p) for p in params], *[(task.result or {}).get(m) for m in metrics],
                  error[-1][:120] if error else None]
        out.append(f"<tr{style}>" + "".join(f"<td>{cell(v)}</td>" for v in values) + "</tr>")
    out.append("</tbody></table>")
    if len(view.tasks) > limit:
        out.append(f"<p>… and {len(view.tasks) - limit} more: %tritonml sweep-results {html.escape(view.id)}</p>")
    out.append("</div>")
    return "".join(out)


# -------------------------------------------------------------------------------------------------
# Helpers
def _job_environment() -> dict[str, str]:
    """The kernel's environment for the job, less what only makes sense inside a Jupyter kernel."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JPY_", "PYDEVD_"))}
    if "inline" in env.get("MPLBACKEND", ""):
        env.pop("MPLBACKEND")  # the notebook's inline backend; a batch job draws to files
    return env


def _runner_finished(job_dir: JobDir, task: Optional[str], tasks: Optional[list[str]]) -> bool:
    """The Python runner of every task reported a clean end (so no Slurm question is needed)."""
    for one in tasks if tasks is not None else [task]:
        try:
            if (job_dir.path / f"runner_exit.{one or 'job'}").read_text().strip() != "0":
                return False
        except OSError:
            return False
    return True


def _runner_outputs(job_dir: JobDir) -> list[str]:
    try:
        return list(json.loads((job_dir.path / RUNNER_CONFIG).read_text()).get("outputs") or [])
    except (OSError, ValueError):
        return []


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception as exc:  # noqa: BLE001
        raise UsageError(f"Could not load {path} ({type(exc).__name__}: {exc})") from None


def _int_or(text: str):
    return int(text) if text.isdigit() else text


def _task_key(name: str):
    task = name.split(".")[1]
    return (0, int(task)) if task.isdigit() else (1, task)


def _array_tasks(array: str) -> list[str]:
    """'0-9:2,11%3' -> ['0', '2', ..., '11']."""
    tasks: list[str] = []
    for part in array.split("%")[0].split(","):
        span, _, step = part.partition(":")
        first, _, last = span.partition("-")
        tasks += [str(i) for i in range(int(first), int(last or first) + 1, int(step or 1))]
    return tasks


def _exit_codes(job_dir: JobDir, task: Optional[str], tasks: Optional[list[str]]) -> Optional[list[int]]:
    """The exit codes the script's EXIT trap wrote, once all are there; else None."""
    wanted = tasks if tasks is not None else [task]
    codes = []
    for one in wanted:
        code = job_dir.exit_code(one)
        if code is None:
            return None
        codes.append(code)
    return codes


def _tail(job_dir: JobDir, stream: str, task: Optional[str], manifest: Manifest, lines: int = 25) -> str:
    if manifest.spec.array and task is None:
        return ""
    path = job_dir.log_path(stream, task)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - 16384))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def _when(epoch: Optional[float]) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S") if epoch else "-"


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"


def _elapsed(job: Optional[Job]) -> Optional[float]:
    if job is None:
        return None
    if job.state is JobState.RUNNING and job.started:
        return time.time() - job.started
    if job.elapsed is None and job.started and job.ended:
        return job.ended - job.started
    return job.elapsed


def _row(job_id: str, job: Optional[Job], job_dir: Optional[JobDir]) -> tuple:
    state = job.state.value if job else "UNKNOWN"
    if job is not None and job.state is JobState.PENDING and job.reason:
        state += f" ({job.reason})"
    return (job_id, job.name if job else "", state, _duration(_elapsed(job)),
            _when(job.submitted if job else None), (job.nodes or "-") if job else "-",
            str(job_dir.path) if job_dir else "")


def _describe(job_id: str, job: Optional[Job], manifest: Optional[Manifest], job_dir: Optional[JobDir],
              task: Optional[str]) -> str:
    name = job.name if job else (manifest.spec.name or "tritonml") if manifest else ""
    state = job.state.value if job else "UNKNOWN (Slurm has no record yet)"
    lines = [f"Job {job_id} ({name}): {state}"]
    if job is not None:
        if job.state is JobState.PENDING:
            lines.append(f"  waiting for: {job.reason or '-'}; expected start {_when(job.expected_start)}")
        details = [
            ("partition", job.partition), ("nodes", job.nodes), ("GPUs", job.gpus), ("CPUs", job.cpus),
            ("submitted", _when(job.submitted)), ("started", _when(job.started) if job.started else None),
            ("ended", _when(job.ended) if job.ended else None), ("elapsed", _duration(_elapsed(job))),
            ("time limit", _duration(job.time_limit * 60) if job.time_limit else None),
            ("exit code", job.exit_code),
        ]
        lines += [f"  {label}: {value}" for label, value in details if value not in (None, "")]
    if job_dir is not None:
        code = job_dir.exit_code(task)
        if code is not None and (job is None or job.exit_code is None):
            lines.append(f"  exit code: {code}")
        lines.append(f"  directory: {job_dir.path}")
        outputs = _runner_outputs(job_dir)
        if outputs:
            ready = any(job_dir.path.glob("outputs*.pkl"))
            lines.append(f"  --out: {', '.join(outputs)}" + (
                f" (ready: %tritonml fetch {job_id})" if ready else " (not sent back yet)"))
        lines.append(f"  logs: %tritonml logs {job_id}")
    return "\n".join(lines)


def load_ipython_extension(ipython) -> None:
    """``%load_ext tritonml_lab``."""
    ipython.register_magics(TritonMLMagics)
    try:  # import the widget now, so that the first submit is as quick as the next ones
        from . import widgets  # noqa: F401
    except ImportError:
        pass
