"""%%tritonml submit --ddp: one task per GPU with srun, torch.distributed's env:// variables set."""

import re

import pytest
from IPython.core.error import UsageError

pytestmark = pytest.mark.usefixtures("slurm_cluster")



def test_ddp_script_asks_for_gpus_per_node_and_one_task_each(shell, magics, capsys):
    result = shell.run_cell("%%tritonml submit --ddp --nodes 2 --gpus h100:4 --dry-run\nprint(1)\n")
    assert result.success
    out = capsys.readouterr().out
    for line in ("#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=2", "#SBATCH --gres=gpu:h100:2",
                 "export MASTER_PORT=", "export WORLD_SIZE=$SLURM_NTASKS",
                 "scontrol show hostnames \"$SLURM_JOB_NODELIST\"",
                 "export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID", "srun "):
        assert line in out, line
    assert "#SBATCH --gpus=" not in out
    for bad in ("--ddp --nodes 2 --gpus 3", "--ddp --gpus 2 --ntasks-per-node 3"):
        assert isinstance(shell.run_cell(f"%%tritonml submit {bad}\nx=1\n").error_in_exec, UsageError)


def test_ddp_tasks_get_rank_local_rank_world_size_and_a_reachable_master(shell, magics, capsys):
    cell = (
        "import os, socket\n"
        "addr, port = os.environ['MASTER_ADDR'], int(os.environ['MASTER_PORT'])\n"
        "socket.getaddrinfo(addr, port)\n"
        "print('task', os.environ['RANK'], os.environ['LOCAL_RANK'], os.environ['WORLD_SIZE'],\n"
        "      os.environ['SLURMD_NODENAME'], os.environ['SLURM_GPUS_ON_NODE'], flush=True)\n"
    )
    result = shell.run_cell(f"%%tritonml submit --ddp --nodes 2 --gpus 4 -p gpu-debug --time 5:00 --wait\n{cell}")
    assert result.success, result.error_in_exec
    tasks = sorted(re.findall(r"^task (\d) (\d) (\d) (\w+) (\d)$", capsys.readouterr().out, re.M))
    assert [t[0] for t in tasks] == ["0", "1", "2", "3"]
    assert {t[2] for t in tasks} == {"4"} and {t[4] for t in tasks} == {"2"}
    by_node = {}
    for rank, local, _world, node, _gpus in tasks:
        by_node.setdefault(node, set()).add(local)
    assert by_node == {"gpu1": {"0", "1"}, "gpu2": {"0", "1"}}


def test_two_node_gloo_all_reduce(shell, magics, capsys):
    pytest.importorskip("torch")
    cell = (
        "import torch, torch.distributed as dist\n"
        "dist.init_process_group('gloo')\n"
        "value = torch.tensor([float(dist.get_rank() + 1)])\n"
        "dist.all_reduce(value)\n"
        "total, world = value.item(), dist.get_world_size()\n"
        "print('rank', dist.get_rank(), 'sum', total, flush=True)\n"
        "dist.destroy_process_group()\n"
    )
    result = shell.run_cell(
        "%%tritonml submit --ddp --nodes 2 --ntasks-per-node 1 -p gpu-debug --time 5:00 --wait "
        f"--out total,world\n{cell}"
    )
    assert result.success, result.error_in_exec
    out = capsys.readouterr().out
    assert "rank 0 sum 3.0" in out and "rank 1 sum 3.0" in out
    assert shell.user_ns["total"] == 3.0 and shell.user_ns["world"] == 2
