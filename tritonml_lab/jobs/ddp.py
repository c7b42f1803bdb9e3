"""Distributed data-parallel launch: one task per GPU with ``srun``, rendezvous on the first node.

The launcher is a few readable lines of bash (it becomes the job's ``user.sh``) that set what
``torch.distributed.init_process_group()`` reads from the environment (the ``env://`` method):
MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK and WORLD_SIZE, all from Slurm's own variables.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

PORT_BASE, PORT_SPAN = 20000, 20000


def launcher(program: Sequence[str], job_file: str) -> str:
    """Bash text that runs ``program job_dir/job_file`` once per Slurm task (words quoted here).

    It is run as ``bash <job_dir>/user.sh``, so the job directory is the directory of ``$0``."""
    words = " ".join(shlex.quote(word) for word in program)
    return f"""# Distributed data-parallel (tritonml --ddp): one task per GPU, started by srun.
# torch.distributed.init_process_group() reads these (the env:// method).
first_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MASTER_ADDR=$first_node
if ! getent hosts "$MASTER_ADDR" > /dev/null; then
    # The node name does not resolve here: use the address Slurm has for that node.
    MASTER_ADDR=$(scontrol show node "$first_node" | grep -o 'NodeAddr=[^ ]*' | cut -d= -f2)
fi
export MASTER_ADDR
export MASTER_PORT=$(( {PORT_BASE} + SLURM_JOB_ID % {PORT_SPAN} ))   # one port per job
export WORLD_SIZE=$SLURM_NTASKS
echo "tritonml: $WORLD_SIZE tasks on $SLURM_JOB_NODELIST, rendezvous at $MASTER_ADDR:$MASTER_PORT" >&2

# RANK and LOCAL_RANK differ per task, so each task sets them from its own Slurm variables.
job_dir=$(dirname "$0")
set -- {words} "$job_dir"/{shlex.quote(job_file)}
srun --kill-on-bad-exit=1 bash -c 'export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID; exec "$@"' ddp "$@"
"""
