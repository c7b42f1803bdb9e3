"""Rendering a validated JobSpec into a readable, commented batch script.

The script teaches sbatch rather than hiding it: it is complete on its own (``sbatch job.sh`` works),
every option is on its own ``#SBATCH`` line, and values are quoted where a shell reads them.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from . import ddp
from .spec import JobSpec, ddp_layout

# The stdout/stderr file names inside a job directory; %a is the array task index.
STDOUT, STDERR = "stdout.log", "stderr.log"
ARRAY_STDOUT, ARRAY_STDERR = "stdout.%a.log", "stderr.%a.log"
EXIT_FILE = "exit_code"
START_FILE = "started"
SAMPLER_FILE = "sampler.py"
SAMPLES_GLOB = "samples.*.jsonl"
PYTHON_FILE = "main.py"
USER_SCRIPT = "user.sh"


@dataclass(frozen=True)
class Defaults:
    """What applies when the spec leaves a field out (admin traitlets + the cluster)."""

    partition: Optional[str] = None
    time: Optional[str] = "01:00:00"
    cpus_per_task: Optional[int] = None
    mem: Optional[str] = None
    python: Optional[str] = None
    # The in-job GPU/CPU sampler (stdlib-only, copied into the job directory) runs with this Python;
    # this process's own is the one that has nvidia-ml-py. None: no sampling.
    sampler_python: Optional[str] = sys.executable
    sample_interval: float = 1.0


def sbatch_options(spec: JobSpec, defaults: Defaults, job_dir: str) -> list[tuple[str, str]]:
    """(option, comment) pairs, in the order a person would write them."""
    out = STDOUT if not spec.array else ARRAY_STDOUT
    err = STDERR if not spec.array else ARRAY_STDERR
    partition = spec.partition or defaults.partition
    time = spec.time or defaults.time
    cpus = spec.cpus_per_task or defaults.cpus_per_task
    mem = spec.mem or defaults.mem
    options: list[tuple[str, str]] = [(f"--job-name={spec.name or 'tritonml'}", "")]
    if partition:
        options.append((f"--partition={partition}", "" if spec.partition else "site default"))
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
    for option, comment in sbatch_options(spec, defaults, job_dir):
        lines.append(f"#SBATCH {option}" + (f"    # {comment}" if comment else ""))
    lines += [
        "",
        "# Tell the jobs panel the job started (time, nodes), so that it need not ask the scheduler.",
        f'printf \'%s %s\\n\' "${{EPOCHREALTIME:-$(date +%s)}}" "$SLURM_JOB_NODELIST" '
        f"> {shlex.quote(job_dir)}/{START_FILE}.${{SLURM_ARRAY_TASK_ID:-job}}",
        "",
        "# Record how the job ended, for the notebook and the jobs panel (even if it fails;",
        "# scancel and the time limit send SIGTERM: that ends the script with 143, not 0).",
        "trap 'exit 143' TERM",
        f"trap 'echo $? > {shlex.quote(job_dir)}/{EXIT_FILE}.${{SLURM_ARRAY_TASK_ID:-job}}' EXIT",
        "set -eo pipefail",
    ]
    if defaults.sampler_python:
        lines += [
            "",
            "# Live GPU and CPU samples for the charts (1 Hz, lowest priority), one file per node",
            "# ({node}: the Slurm node name); with several nodes it starts one on each other node",
            "# (srun --overlap). If it fails, the job goes on: the sampler catches its own errors",
            "# and stops when this script ends.",
            f"{shlex.quote(defaults.sampler_python)} {shlex.quote(job_dir + '/' + SAMPLER_FILE)} "
            f"--out {shlex.quote(job_dir + '/samples.{node}.jsonl')} --interval {defaults.sample_interval:g} "
            f'--pid $$ --job "$SLURM_JOB_ID" --other-nodes >> {shlex.quote(job_dir)}/sampler.log 2>&1 &',
        ]
    if spec.modules:
        lines += ["", "# Software environment"]
        lines += [f"module load {shlex.quote(module)}" for module in spec.modules]
    if spec.env:
        lines += ["", "# Environment variables"]
        lines += [f"export {key}={shlex.quote(value)}" for key, value in spec.env.items()]
    lines += ["", "# What to run"]
    if spec.code is not None:
        python = spec.python or defaults.python or "python3"
        program = f"{shlex.quote(python)} {shlex.quote(job_dir + '/' + PYTHON_FILE)}"
    elif spec.script is not None:
        program = f"bash {shlex.quote(job_dir + '/' + USER_SCRIPT)}"
    elif spec.ddp:
        program = f"bash -c {shlex.quote(spec.command or '')}"
    else:
        program = spec.command or ""
    lines += ddp.launcher(program) if spec.ddp else [program]
    return "\n".join(lines) + "\n"
