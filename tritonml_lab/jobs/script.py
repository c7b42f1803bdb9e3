"""Rendering a validated JobSpec into a readable, commented batch script.

The script teaches sbatch rather than hiding it: it is complete on its own (``sbatch job.sh`` works),
every option is on its own ``#SBATCH`` line, and values are quoted where a shell reads them.
"""

from __future__ import annotations

import shlex
from datetime import datetime, timezone

from ..injob import checkpoint as injob_checkpoint
from ..injob import profiler as injob_profiler
from ..injob.sampler import SAMPLES_OUT
from ..slurm.timefmt import parse_duration
from . import ddp
from .resources import job_python
from .spec import Defaults, JobSpec, ddp_layout, resolve

__all__ = ["Defaults", "render_script", "sbatch_options"]  # Defaults lives with the spec it completes

# The stdout/stderr file names inside a job directory; %a is the array task index.
STDOUT, STDERR = "stdout.log", "stderr.log"
ARRAY_STDOUT, ARRAY_STDERR = "stdout.%a.log", "stderr.%a.log"
EXIT_FILE = "exit_code"
START_FILE = "started"
SAMPLER_FILE = "sampler.py"
# At the end the script stops its sampler and waits for it (at most 8 s), so that the sampler stops its
# steps on the other nodes and every node's file gets its last line before Slurm ends the job and
# kills what is left (Slurm 24.11 killed the other nodes' sampler steps first: their end lines were lost).
STOP_SAMPLER = [
    "tritonml_sampler=",
    "tritonml_stop_sampler() {",
    '    [ -n "$tritonml_sampler" ] && kill -TERM "$tritonml_sampler" 2>/dev/null || return 0',
    '    for _ in $(seq 80); do kill -0 "$tritonml_sampler" 2>/dev/null || return 0; sleep 0.1; done',
    "}",
]
PYTHON_FILE = "main.py"
USER_SCRIPT = "user.sh"
# Long jobs (spec.checkpoint): the in-job module, the files of each run (markers.py reads them).
CHECKPOINT_MODULE = injob_checkpoint.MODULE_FILE  # tritonml_checkpoint.py, in every job directory
CHECKPOINT_DIR = injob_checkpoint.CHECKPOINT_DIR
WARNED_FILE, REQUEUED_FILE = "warned", "requeued"
REQUEUE_EXIT = injob_checkpoint.REQUEUE_EXIT
# --profile (issue 25): what the profile leaves (trace.<run>.json.gz, status.<run>.json, report.<run>.nsys-rep),
# and the folder put first on PYTHONPATH, holding injob/profiler.py as sitecustomize.py (--profile torch).
PROFILE_DIR = "profile"
PROFILE_HOOK_DIR = injob_profiler.HOOK_DIR


def sbatch_options(spec: JobSpec, defaults: Defaults, job_dir: str) -> list[tuple[str, str]]:
    """(option, comment) pairs, in the order a person would write them. ``spec`` is the user's; what
    is rendered is :func:`~.spec.resolve`'s (the admin's defaults applied, validated once)."""
    return _options(spec, resolve(spec, defaults), defaults, job_dir)


def _options(given: JobSpec, spec: JobSpec, defaults: Defaults, job_dir: str) -> list[tuple[str, str]]:
    out = STDOUT if not spec.array else ARRAY_STDOUT
    err = STDERR if not spec.array else ARRAY_STDERR
    # A default the spec's rules refuse but Slurm may take is rendered as the admin gave it.
    partition = spec.partition or defaults.partition
    time = spec.time or defaults.time
    cpus = spec.cpus_per_task or defaults.cpus_per_task
    mem = spec.mem or defaults.mem
    options: list[tuple[str, str]] = [(f"--job-name={spec.name or 'tritonml'}", "")]
    if partition:
        options.append((f"--partition={partition}", "" if given.partition else "site default"))
    gres = spec.gres
    if spec.ddp:
        nodes, per_node, gpu_gres = ddp_layout(spec.gpus, spec.nodes, spec.ntasks_per_node)
        options.append((f"--nodes={nodes}", ""))
        options.append((f"--ntasks-per-node={per_node}", "DDP: one task per GPU" if gpu_gres else "DDP tasks"))
        if gpu_gres:
            # GPUs per node (--gres), so that every node gets its share.
            options.append((f"--gres={gpu_gres}{',' + gres if gres else ''}", "GPUs on each node"))
            gres = None
    else:
        if spec.gpus:
            options.append((f"--gpus={spec.gpus}", "GPUs for the whole job"))
        if spec.nodes:
            options.append((f"--nodes={spec.nodes}", ""))
        if spec.ntasks_per_node:
            options.append((f"--ntasks-per-node={spec.ntasks_per_node}", ""))
    if cpus:
        options.append((f"--cpus-per-task={cpus}", "CPU cores per task (data loading needs some)"))
    if mem:
        options.append((f"--mem={mem}", "memory per node"))
    if time:
        options.append((f"--time={time}", "the job is stopped after this"))
    if spec.checkpoint is not None:
        warn = spec.checkpoint.warn_seconds
        options.append((f"--signal=B:USR1@{warn}", f"warn this script {warn} s before the limit (up to 60 s earlier)"))
        options.append(("--requeue", "the job may requeue itself (scontrol requeue)"))
        options.append(("--open-mode=append", "the logs keep every run"))
    if spec.array:
        options.append((f"--array={spec.array}", "one task per index; %N runs at most N at once"))
    if spec.constraint:
        options.append((f"--constraint={spec.constraint}", "node features"))
    if gres:
        options.append((f"--gres={gres}", ""))
    if spec.tmp:
        options.append((f"--tmp={spec.tmp}", "node-local disk in /tmp"))
    if spec.account:
        options.append((f"--account={spec.account}", ""))
    if spec.qos:
        options.append((f"--qos={spec.qos}", ""))
    options.append((f"--output={job_dir}/{out}", ""))
    options.append((f"--error={job_dir}/{err}", ""))
    options.append((f"--chdir={spec.workdir or job_dir}", "where the job starts"))
    return options


def render_script(spec: JobSpec, defaults: Defaults, job_dir: str, *, origin: str = "") -> str:
    """The whole batch script. ``job_dir`` must be an absolute path without whitespace."""
    lines = [
        "#!/bin/bash",
        f"# Batch job written by tritonml-lab{f' for {origin}' if origin else ''}",
        f"# on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. You can submit this file",
        "# yourself: sbatch job.sh. Options: https://slurm.schedmd.com/sbatch.html",
    ]
    given, spec = spec, resolve(spec, defaults)  # raises InvalidRequest: nothing is written
    for option, comment in _options(given, spec, defaults, job_dir):
        lines.append(f"#SBATCH {option}" + (f"    # {comment}" if comment else ""))
    quoted_dir = shlex.quote(job_dir)
    if spec.checkpoint is not None:
        lines += _checkpoint_head(spec, defaults, quoted_dir)
    else:
        lines += [
            "",
            "# Tell the jobs panel the job started (time, nodes), so that it need not ask the scheduler.",
            f'printf \'%s %s\\n\' "${{EPOCHREALTIME:-$(date +%s)}}" "$SLURM_JOB_NODELIST" '
            f"> {quoted_dir}/{START_FILE}.${{SLURM_ARRAY_TASK_ID:-job}}",
            "",
            "# Record how the job ended, for the notebook and the jobs panel (even if it fails;",
            "# scancel and the time limit send SIGTERM: that ends the script with 143, not 0).",
            "trap 'exit 143' TERM",
            *STOP_SAMPLER,
            f"trap 'tritonml_code=$?; echo $tritonml_code > {quoted_dir}/{EXIT_FILE}.${{SLURM_ARRAY_TASK_ID:-job}}; "
            "tritonml_stop_sampler; exit $tritonml_code' EXIT",
            "set -eo pipefail",
        ]
    if defaults.sampler_python:
        lines += [
            "",
            "# Live GPU and CPU samples for the charts (1 Hz, lowest priority), one file per node",
            "# ({node}: the Slurm node name); with several nodes it starts one on each other node",
            "# (srun --overlap). If it fails, the job goes on: the sampler catches its own errors",
            "# and this script stops it at its end (tritonml_stop_sampler).",
            f"{shlex.quote(defaults.sampler_python)} {shlex.quote(job_dir + '/' + SAMPLER_FILE)} "
            f"--out {shlex.quote(job_dir + '/' + SAMPLES_OUT)} --interval {defaults.sample_interval:g} "
            f'--pid $$ --job "$SLURM_JOB_ID" --other-nodes >> {shlex.quote(job_dir)}/sampler.log 2>&1 &',
            "tritonml_sampler=$!",
        ]
    if spec.modules:
        lines += ["", "# Software environment"]
        lines += [f"module load {shlex.quote(module)}" for module in spec.modules]
    lines += [  # issue 26: result tracking (a sweep task's runner names its own: tensorboard/<parameters>)
        "", "# Where to log (TensorBoard's SummaryWriter, W&B): the job's folder, one per array task",
        f"export TRITONML_LOG_DIR={quoted_dir}/tensorboard${{SLURM_ARRAY_TASK_ID:+/task-$SLURM_ARRAY_TASK_ID}}",
        'export TENSORBOARD_LOGDIR="$TRITONML_LOG_DIR"', 'mkdir -p "$TRITONML_LOG_DIR" 2>/dev/null || true',
    ]
    if spec.env:
        lines += ["", "# Environment variables"]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in spec.env.items()]
    if "WANDB_PROJECT" in spec.env and "WANDB_DIR" not in spec.env:
        lines.append('export WANDB_DIR="$TRITONML_LOG_DIR"')
    if spec.profile:
        lines += _profile_lines(spec, quoted_dir)
    lines += ["", "# What to run"]
    if spec.code is not None:
        python = job_python(spec.python, defaults)
        program = f"{shlex.quote(python)} {shlex.quote(job_dir + '/' + PYTHON_FILE)}"
    elif spec.script is not None:
        program = f"bash {shlex.quote(job_dir + '/' + USER_SCRIPT)}"
    elif spec.ddp or spec.checkpoint is not None:  # one process: srun's, or the one the warning goes to
        program = f"bash -c {shlex.quote(spec.command or '')}"
    else:
        program = spec.command or ""
    if spec.profile == "nsys":
        if spec.code is None and spec.script is None and not (spec.ddp or spec.checkpoint is not None):
            program = f"bash -c {shlex.quote(program)}"  # one command line: nsys runs a program
        program = f'"${{tritonml_nsys[@]}}" {program}'
    run = ddp.launcher(program) if spec.ddp else [program]
    if spec.checkpoint is not None:
        run = _checkpoint_run(run, spec, quoted_dir)
    lines += run
    return "\n".join(lines) + "\n"


def _profile_lines(spec: JobSpec, quoted_dir: str) -> list[str]:
    """Environment of ``--profile torch`` (the hook every Python of the job loads), or the ``nsys profile``
    command line (``tritonml_nsys``, empty where nsys is not on the PATH: the job runs without it)."""
    profile_dir = f"{quoted_dir}/{PROFILE_DIR}"
    lines = ["", f"# Profile (--profile {spec.profile}): the job detail's Profile section reads {PROFILE_DIR}/",
             f"export TRITONML_PROFILE={spec.profile}", f"export TRITONML_PROFILE_DIR={profile_dir}",
             'mkdir -p "$TRITONML_PROFILE_DIR"']
    if spec.profile == "torch":
        return lines + [
            "# torch.profiler for a few steps after warm-up (counted on optimizer.step(), or tritonml.profile()):",
            "# every Python of the job loads tritonml_profile (profile-hook/sitecustomize.py) first.",
            f'export PYTHONPATH={quoted_dir}/{PROFILE_HOOK_DIR}"${{PYTHONPATH:+:$PYTHONPATH}}"',
        ]
    status = f"$TRITONML_PROFILE_DIR/{injob_profiler.STATUS % '${SLURM_ARRAY_TASK_ID:-job}'}"
    report = "$TRITONML_PROFILE_DIR/report.${SLURM_ARRAY_TASK_ID:-job}"
    return lines + [
        "# Nsight Systems (load it with a module where the site has one); without nsys the job runs unprofiled.",
        "tritonml_nsys=()",
        "if command -v nsys >/dev/null 2>&1; then",
        f'    tritonml_nsys=(nsys profile --trace=cuda,nvtx,osrt --force-overwrite=true -o "{report}")',
        "else",
        '    echo "tritonml: --profile nsys: nsys is not on the PATH on $(hostname) (load its module, e.g.'
        ' --module nsys); the job runs without a profile" >&2',
        f'    printf \'{{"version": 1, "state": "no-nsys", "message": "nsys is not on the PATH on %s: the job ran'
        f' without a profile (load its module)"}}\\n\' "$(hostname)" > "{status}"',
        "fi",
    ]


def _checkpoint_head(spec: JobSpec, defaults: Defaults, quoted_dir: str) -> list[str]:
    """Start marker, environment and traps of a long job (``spec.checkpoint``): every run (a
    requeued job runs this script again, same id, SLURM_RESTART_COUNT set) writes its own markers."""
    assert spec.checkpoint is not None
    limit = parse_duration(spec.time or defaults.time or "")
    fallback_end = f"$(( ${{EPOCHSECONDS:-$(date +%s)}} + {limit} ))" if limit else ""
    return [
        "",
        "# Long job. Slurm's warning (SIGUSR1) is noted in $TRITONML_WARNED_FILE and passed on to the",
        "# program, if the program handles SIGUSR1 (it would die of it otherwise). The trap comes first:",
        "# slurmctld checks the warnings every 30 s and sends one up to 30 s early, so a job whose warning",
        "# is that close to its start gets it as it starts (a script without the trap yet dies of it).",
        "tritonml_task=${SLURM_ARRAY_TASK_ID:-job}",
        "tritonml_restart=${SLURM_RESTART_COUNT:-0}",
        f"export TRITONML_WARNED_FILE={quoted_dir}/{WARNED_FILE}.$tritonml_task.$tritonml_restart",
        "tritonml_child=",
        "tritonml_warned=",
        "tritonml_interrupted=",
        "tritonml_warning() {",
        "    tritonml_warned=1 tritonml_interrupted=1",
        '    printf \'%s\\n\' "${EPOCHREALTIME:-$(date +%s)}" > "$TRITONML_WARNED_FILE"',
        '    [ -n "$tritonml_child" ] || return 0',
        "    local caught",
        "    caught=$(awk '/^SigCgt:/ {print $2}' /proc/\"$tritonml_child\"/status 2>/dev/null) || return 0",
        '    if (( 0x${caught:-0} & 0x200 )); then kill -USR1 "$tritonml_child" 2>/dev/null || true; fi',
        "}",
        "trap tritonml_warning USR1",
        "",
        "# Each run (the first, and each after a requeue) notes its start (time, nodes) for the jobs",
        "# panel; run k > 0 as started.TASK.k.",
        'tritonml_run=$tritonml_task; [ "$tritonml_restart" = 0 ] || tritonml_run=$tritonml_task.$tritonml_restart',
        f'printf \'%s %s\\n\' "${{EPOCHREALTIME:-$(date +%s)}}" "$SLURM_JOB_NODELIST" '
        f"> {quoted_dir}/{START_FILE}.$tritonml_run",
        "",
        "# What tritonml_checkpoint.py (time_left(), should_checkpoint(), checkpoint_dir(), restarts(),",
        "# requeue()) reads; plain scripts can read them too.",
        f"export TRITONML_CHECKPOINT_DIR={quoted_dir}/{CHECKPOINT_DIR}${{SLURM_ARRAY_TASK_ID:+.$SLURM_ARRAY_TASK_ID}}",
        'mkdir -p "$TRITONML_CHECKPOINT_DIR"',
        'export TRITONML_RESTARTS=$tritonml_restart',
        f"export TRITONML_REQUEUE_MAX={spec.checkpoint.requeue}",
        f"export TRITONML_WARN_SECONDS={spec.checkpoint.warn_seconds}",
        "# The end of the time limit, epoch seconds (Slurm 23.02+ sets SLURM_JOB_END_TIME).",
        f"export TRITONML_END_TIME=${{SLURM_JOB_END_TIME:-{fallback_end}}}",
        "",
        "# Record how the run ended, for the notebook and the jobs panel (even if it fails; scancel and",
        "# the time limit send SIGTERM: that ends the script with 143). A run that requeues the job",
        "# writes requeued.TASK.k instead of the exit code: the job is not over.",
        "# Slurm sends that SIGTERM to every process of the job, and SIGKILL after KillWait; the end of",
        "# this script ends the job and (proctrack/cgroup) kills what is left at once. So the script",
        "# waits for the program, which is saving on its own SIGTERM (a notebook's outputs), to end.",
        "tritonml_terminated() {",
        '    [ -z "$tritonml_child" ] || wait "$tritonml_child" 2>/dev/null || true',
        "    exit 143",
        "}",
        "trap tritonml_terminated TERM",
        "tritonml_requeued=",
        *STOP_SAMPLER,
        f"trap 'tritonml_code=$?; [ -n \"$tritonml_requeued\" ] || echo $tritonml_code > {quoted_dir}/{EXIT_FILE}.$tritonml_task; "
        "tritonml_stop_sampler; exit $tritonml_code' EXIT",
        "set -eo pipefail",
    ]


def _checkpoint_run(run: list[str], spec: JobSpec, quoted_dir: str) -> list[str]:
    """The program in the background (so that the warning can be passed on to it), then: requeue
    when it asks to come back (exit status REQUEUE_EXIT), while restarts are left; else end as
    TIMEOUT at the limit, saying why."""
    assert spec.checkpoint is not None
    n = spec.checkpoint.requeue
    body = run[:-1] + [run[-1] + " &"]
    return body + [
        "tritonml_child=$!",
        "while :; do",
        "    tritonml_interrupted=",
        "    wait \"$tritonml_child\" && tritonml_status=0 || tritonml_status=$?",
        "    # The warning interrupts the wait (status > 128); the program's own status is still to come.",
        '    [ -n "$tritonml_interrupted" ] && [ "$tritonml_status" -gt 128 ] || break',
        "done",
        "tritonml_child=",
        "",
        f"# Exit status {REQUEUE_EXIT}: the program stopped for the time limit and wants to come back",
        "# (tritonml.requeue(); a %%tritonml submit cell that returns has finished, exit 0).",
        f'if [ "$tritonml_status" = {REQUEUE_EXIT} ]; then',
        f'    if [ "$tritonml_restart" -lt {n} ]; then',
        f'        echo "tritonml: run $((tritonml_restart + 1)) stopped for the time limit; requeueing the job'
        f' (restart $((tritonml_restart + 1)) of {n})" >&2',
        f'        printf \'%s %s\\n\' "${{EPOCHREALTIME:-$(date +%s)}}" "$tritonml_status" '
        f"> {quoted_dir}/{REQUEUED_FILE}.$tritonml_task.$tritonml_restart",
        "        tritonml_requeued=1",
        # An array task by its own id: the first task's SLURM_JOB_ID is the array's, which would
        # requeue every task of the array.
        '        tritonml_self=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID}',
        '        if scontrol requeue "${tritonml_self:-$SLURM_JOB_ID}"; then exit 0; fi',
        f"        rm -f {quoted_dir}/{REQUEUED_FILE}.$tritonml_task.$tritonml_restart",
        "        tritonml_requeued=",
        '        echo "tritonml: scontrol requeue failed; the job cannot come back by itself" >&2',
        "    fi",
        f'    echo "tritonml: the job stopped for its time limit with no restart left ({n} allowed: --requeue);'
        f' it ends as TIMEOUT at the limit. Its checkpoint is in $TRITONML_CHECKPOINT_DIR: ask for more'
        f' --requeue or --time, or resume in a new job." >&2',
        '    if [ -n "$TRITONML_END_TIME" ]; then',
        '        sleep $(( TRITONML_END_TIME - ${EPOCHSECONDS:-$(date +%s)} + 120 )) &',
        '        tritonml_child=$!',
        "        tritonml_slept=0",
        '        while kill -0 "$tritonml_child" 2>/dev/null; do',
        '            wait "$tritonml_child" && tritonml_slept=0 || tritonml_slept=$?',
        "        done",
        # Slurm signals every process of the job: when its SIGTERM ends the sleep before this script
        # sees its own, the run still ended by the signal (143), not with the program's 99.
        '        [ "$tritonml_slept" -le 128 ] || tritonml_status=$tritonml_slept',
        "    fi",
        "fi",
        'exit "$tritonml_status"',
    ]
