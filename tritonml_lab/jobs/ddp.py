"""Distributed data-parallel launch: one task per GPU with ``srun``, rendezvous on the first node.

The launcher is a few readable lines of bash in the batch script (``JobSpec.ddp``; the API, the
New job dialog and ``%%tritonml submit --ddp`` all render it here) that set what
``torch.distributed.init_process_group()`` reads from the environment (the ``env://`` method):
MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK and WORLD_SIZE, all from Slurm's own variables.
The resources (``--nodes``, ``--ntasks-per-node``, GPUs per node as ``--gres``) come from
:func:`~tritonml_lab.jobs.spec.ddp_layout`.
"""

from __future__ import annotations

PORT_BASE, PORT_SPAN = 20000, 20000


def launcher(program: str) -> list[str]:
    """Bash lines that run ``program`` (shell words, already quoted) once per Slurm task."""
    return f"""# Distributed data-parallel: one task per GPU, started by srun.
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
srun --kill-on-bad-exit=1 bash -c 'export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID; exec "$@"' ddp {program}""".split("\n")
