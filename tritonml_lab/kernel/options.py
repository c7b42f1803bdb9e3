"""The options of every ``%tritonml`` command (argparse parsers) and the help text built from them.

Parsing a value (--grid, --space, -p, --env, --workdir) into what a spec or request takes is in
:mod:`.values`; here are only the options' names, defaults and help.
"""

from __future__ import annotations

import argparse
from typing import Optional

from IPython.core.error import UsageError


class Parser(argparse.ArgumentParser):
    """Errors become IPython's UsageError (a short message, no traceback); -h prints and stops."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: Optional[str] = None):
        if message:
            print(message)
        raise HelpShown()


class HelpShown(Exception):
    """-h/--help printed the help: the command does nothing else."""


def add_resource_options(p: argparse.ArgumentParser, array: bool = True, short_p: bool = True) -> None:
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
    add_checkpoint_options(p)


def add_checkpoint_options(p: argparse.ArgumentParser) -> None:
    """--warn and --requeue: long jobs that checkpoint before the time limit and come back."""
    long = p.add_argument_group("long jobs (checkpoint and requeue)")
    long.add_argument("--warn", metavar="TIME",
                      help='warn the job this long before its time limit, e.g. "2m" or "120s" (SIGUSR1; '
                      "tritonml.should_checkpoint() turns true, tritonml.time_left() says how long is left)")
    long.add_argument("--requeue", type=int, metavar="N",
                      help="a job that stops for the time limit (tritonml.requeue(), or a cell that returns after "
                      "the warning) comes back up to N times, resuming from tritonml.checkpoint_dir(); "
                      "default --warn 2m")


def checkpoint_field(args) -> Optional[dict]:
    """The spec's ``checkpoint`` from --warn/--requeue (None without either); JobSpec validates it."""
    warn, requeue = getattr(args, "warn", None), getattr(args, "requeue", None)
    if warn is None and requeue is None:
        return None
    field: dict = {}
    if warn is not None:
        field["warn"] = warn
    if requeue is not None:
        field["requeue"] = requeue
    return field


def add_environment_options(p: argparse.ArgumentParser, python: bool = True) -> None:
    env = p.add_argument_group("environment")
    env.add_argument("--module", "-m", action="append", default=[], metavar="M",
                     help="module to load first (repeat for several)")
    env.add_argument("--env", "-e", action="append", default=[], metavar="K=V",
                     help="environment variable for the job (repeat for several); the value is data, "
                     "never run by a shell")
    env.add_argument("--workdir", help="directory the job starts in (default: the notebook's)")
    env.add_argument("--wandb", metavar="PROJECT", help="log to this Weights & Biases project: sets WANDB_PROJECT, "
                     "WANDB_DIR (the job's log folder), WANDB_RUN_GROUP (a sweep) and WANDB_NAME (a task's point)")
    env.add_argument("--profile", nargs="?", const="torch", choices=("torch", "nsys"),
                     help="profile the job: torch (the default) records a few training steps with torch.profiler "
                     "(the job detail's Profile section: top kernels, data-wait share, GPU idle gaps); nsys runs "
                     "the program under nsys profile where nsys is on the PATH")
    if python:
        env.add_argument("--python", help="Python that runs the cell (default: this kernel's, sys.executable)")


def submit_parser() -> Parser:
    p = Parser(
        prog="%%tritonml submit",
        description="Run the cell as a Slurm batch job. Without --wait the cell returns at once and "
        "shows a widget with the job's live state.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_resource_options(p)
    add_environment_options(p)
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


def id_parser(command: str, help: str, follow: bool = False) -> Parser:
    p = Parser(prog=f"%tritonml {command}", description=help)
    p.add_argument("job_id", metavar="ID", help="Slurm job id (123, or 123_4 for one array task)")
    if follow:
        p.add_argument("--follow", "-f", action="store_true", help="keep printing until the job ends")
        p.add_argument("--stream", choices=("both", "stdout", "stderr"), default="both")
    return p


def parsers() -> dict[str, Parser]:
    jobs = Parser(prog="%tritonml jobs", description="Your recent jobs from this notebook's "
                   "jobs directory, and your active ones, with their state.")
    jobs.add_argument("--limit", type=int, default=20)
    return {
        "submit": submit_parser(),
        "jobs": jobs,
        "status": id_parser("status", "State, resources, times, exit code and directory of a job."),
        "logs": id_parser("logs", "Print a job's stdout and stderr.", follow=True),
        "cancel": id_parser("cancel", "Cancel a job (scancel); cancelling an ended job is fine."),
        "fetch": id_parser("fetch", "Load a finished job's --out variables into the notebook "
                            "(for an array job without a task: one dict per variable, by task)."),
        "efficiency": id_parser(
            "efficiency", "Efficiency of a finished job, as the jobs panel shows it: GPU utilisation and "
            "memory peak (from the job's GPU samples, else Slurm's gres/gpuutil and gres/gpumem where the "
            "site has them), CPU efficiency, memory peak and time used against what was asked, and advice."),
        "resubmit": resubmit_parser(),
        "report": report_parser(),
        "sweep": sweep_parser(),
        "sweep-results": sweep_id_parser(
            "sweep-results", "The results table of a sweep, sorted by its metric (best first): a pandas "
            "DataFrame when pandas is installed, else a list of dicts.", wait=True),
        "sweep-retry": sweep_id_parser(
            "sweep-retry", "Run the failed tasks of a sweep again, as a new array job of the same sweep."),
        "sweep-cancel": sweep_id_parser(
            "sweep-cancel", "Cancel a whole sweep: every array job with tasks still queued or running "
            "(ended tasks keep their results; cancelling an ended sweep is fine)."),
        "run-notebook": run_notebook_parser(),
        "wandb-sync": wandb_sync_parser(),
    }


def wandb_sync_parser() -> Parser:
    p = Parser(prog="%tritonml wandb-sync", description="Sync the W&B offline runs of a job or a sweep (wandb "
               "sync): prints the command, and runs it when wandb is installed and you are logged in.")
    p.add_argument("id", metavar="ID", help="a job id or a sweep id")
    p.add_argument("--project", help="the W&B project to sync into (default: the runs' own)")
    p.add_argument("--dry-run", "-n", action="store_true", help="print the command only")
    return p


def resubmit_parser() -> Parser:
    p = id_parser("resubmit", "Submit a finished job again from its job directory: the same code, script or "
                  "cell (with its --in values) and the same resources, or with --suggested the resources its "
                  "figures call for (as the jobs panel's \"Resubmit with these settings\"), each change with its reason.")
    p.add_argument("--suggested", "-s", action="store_true",
                   help="use the suggested --cpus-per-task, --mem, --time and --gpus")
    return p


def report_parser() -> Parser:
    p = Parser(prog="%tritonml report", description="My efficiency report: GPU-hours, CPU cores, memory and time "
               "requested against used by my jobs that ended in the last --days days, and the three changes that "
               "would save the most (one sacct call).")
    p.add_argument("--days", "-d", type=int, default=30, help="how many days back (1 to 366; default 30)")
    return p


def sweep_parser() -> Parser:
    p = Parser(
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
    space.add_argument("--prune", choices=("median",), help="stop clearly worse tasks early from their "
                       "tritonml.report(step=..., METRIC=...) values: Optuna's MedianPruner with --optuna, the "
                       "median stopping rule with --grid or --random (needs --metric)")
    space.add_argument("--prune-startup", type=int, metavar="N", help="with --prune: none pruned before N trials "
                       "completed (--optuna) or N other tasks reached the step (default 5)")
    space.add_argument("--prune-warmup", type=int, metavar="STEPS", help="with --prune: none pruned before this "
                       "step (default 0)")
    space.add_argument("--seed", type=int, help="with --random: makes the points reproducible; with --optuna: "
                       "seeds each task's sampler")
    space.add_argument("--metric", help="the reported value the results are sorted by (Optuna optimizes it)")
    space.add_argument("--mode", choices=("min", "max"), help="best is the min (default) or max")
    space.add_argument("--parallel", "-k", type=int, metavar="K",
                       help="at most K tasks at once, for the whole sweep (--array=0-N%%K; a split "
                       "sweep's array jobs run one after the other)")
    space.add_argument("--wait", "-w", action="store_true",
                       help="wait for the end, updating the results table")
    add_resource_options(p, array=False)
    add_environment_options(p)
    return p


def sweep_id_parser(command: str, help: str, wait: bool = False) -> Parser:
    p = Parser(prog=f"%tritonml {command}", description=help)
    p.add_argument("sweep_id", metavar="ID", help="the sweep id (its first array job's id)")
    if wait:
        p.add_argument("--wait", "-w", action="store_true", help="wait until every task has ended")
    return p


def run_notebook_parser() -> Parser:
    p = Parser(
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
    add_resource_options(p, array=False, short_p=False)  # -p is a parameter here, as in papermill
    add_environment_options(p, python=False)
    return p


def doc() -> str:
    """``%tritonml?`` and ``%tritonml help``: the commands, examples, then every command's options."""
    parts = [
        "Run notebook cells as Slurm batch jobs on the cluster, and follow them.",
        "",
        "  %%tritonml submit [options]     run the cell as a batch job (see below)",
        "  %tritonml                       what this notebook is connected to: cluster, Slurm version, jobs root",
        "  %tritonml jobs                  your recent and active jobs",
        "  %tritonml status ID             state, resources, times and exit code of a job",
        "  %tritonml logs ID [--follow]    a job's stdout/stderr (--follow: until it ends)",
        "  %tritonml cancel ID             cancel a job",
        "  %tritonml fetch ID              load a finished job's --out variables into the notebook",
        "  %tritonml efficiency ID         how well a finished job used its GPUs, CPUs, memory and time, with advice",
        "  %tritonml resubmit ID [--suggested]   the job again (--suggested: with right-sized resources)",
        "  %tritonml report [--days 30]    my efficiency report: requested vs used, the changes that save the most",
        "  %%tritonml sweep [options]      run the cell once per point of a grid, random or Optuna search (array job)",
        "  %tritonml sweep-results ID      a sweep's results table (pandas DataFrame, else a list of dicts)",
        "  %tritonml sweep-retry ID        run a sweep's failed tasks again",
        "  %tritonml sweep-cancel ID       cancel a whole sweep (all its array jobs)",
        "  %tritonml run-notebook PATH [-p NAME VALUE ...] [options]   run a whole notebook as a batch job",
        "  %tritonml wandb-sync ID         sync a job's or sweep's W&B offline runs (wandb sync)",
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
        "  %%tritonml submit --gpus 1 --time 6:00:00 --warn 5m --requeue 10    # train for days in 6-hour jobs",
        "  state = load(tritonml.checkpoint_dir()) if tritonml.restarts() else fresh()",
        "  while not state.done:",
        "      train_one_epoch(state)",
        "      if tritonml.should_checkpoint():              # 5 min before the limit",
        "          save(state, tritonml.checkpoint_dir()); tritonml.requeue()   # the job comes back",
        "",
        "ID may be `last`: the job (or sweep) last submitted from this notebook.",
        "",
        "Each job gets a directory under $TRITONML_JOBS_ROOT (default $WRKDIR/tritonml/jobs or "
        "~/tritonml/jobs) with the batch script job.sh (you can `sbatch job.sh` it yourself), the "
        "logs, the cell and its results.",
        "",
    ]
    for parser in parsers().values():
        parts += [parser.format_help(), ""]
    return "\n".join(parts)
