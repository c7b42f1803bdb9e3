"""Weights & Biases: ``--wandb PROJECT`` on the magics, offline mode decided by the admin, and
``%tritonml wandb-sync ID``. The offline runs are made by the real wandb package inside real sweep
tasks on the local cluster (no network)."""

import json
import os

import pytest

from tritonml_lab.tracking.wandb import OFFLINE_ENV, logged_in, wandb_env

from .test_magics import cell

WANDB_CELL = (
    "import json, os, wandb\n"
    "run = wandb.init()\n"
    "run.log({'loss': lr})\n"
    "info = {'project': run.project, 'group': run.group, 'name': run.name, 'dir': os.environ['WANDB_DIR']}\n"
    "run.finish()\n"
    "open(os.path.join(os.environ['TRITONML_LOG_DIR'], 'wandb.json'), 'w').write(json.dumps(info))\n"
    "tritonml.report(loss=lr)\n"
)


def test_the_environment_of_wandb_option(monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, "0")
    assert wandb_env(None, {}) == {}
    assert wandb_env("demo", {}) == {"WANDB_PROJECT": "demo"}
    monkeypatch.setenv(OFFLINE_ENV, "1")
    env = wandb_env("demo", {"WANDB_MODE": "online"}, sweep="tune")
    assert env["WANDB_PROJECT"] == "demo" and "WANDB_MODE" not in env and env["WANDB_RUN_GROUP"].startswith("tune-")
    assert logged_in({"WANDB_API_KEY": "x"})
    assert not logged_in({"NETRC": "/nonexistent/netrc"})


def test_submit_with_wandb_dry_run(shell, magics, jobs_root, capsys, monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, "1")
    result = cell(shell, "submit --dry-run --time 5:00 -p batch-csl --wandb demo-1", "x = 1\n")
    assert result.success
    out = capsys.readouterr().out
    for line in ("export WANDB_PROJECT=demo-1", "export WANDB_MODE=offline", 'export WANDB_DIR="$TRITONML_LOG_DIR"',
                 "export TRITONML_LOG_DIR="):
        assert line in out, line
    assert "WANDB_RUN_GROUP" not in out  # a sweep's only
    bad = cell(shell, "submit --dry-run --time 5:00 -p batch-csl --wandb 'a b;rm'", "x = 1\n")
    assert not bad.success and "not a W&B project name" in str(bad.error_in_exec)


@pytest.mark.usefixtures("slurm_cluster")
def test_an_offline_wandb_sweep_and_its_sync(magics, capsys, monkeypatch, tmp_path):
    pytest.importorskip("wandb")
    monkeypatch.setenv(OFFLINE_ENV, "1")  # as c.TritonML.wandb_offline = True tells the kernels
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    shell = magics.shell
    result = shell.run_cell("%%tritonml sweep --grid lr=0.1,0.2 --metric loss --partition batch-csl --time 5:00 "
                            "--name tune --wandb demo --env WANDB_SILENT=true --wait\n" + WANDB_CELL)
    assert result.success, result.error_in_exec
    sweep_id = magics.last_sweep
    assert "2 COMPLETED" in capsys.readouterr().out
    job_dir = (magics.store.root / sweep_id).resolve()
    infos = {lr: json.loads((job_dir / "tensorboard" / f"lr={lr}" / "wandb.json").read_text()) for lr in (0.1, 0.2)}
    groups = {info["group"] for info in infos.values()}
    assert len(groups) == 1 and groups.pop().startswith("tune-")  # one group: the sweep
    for lr, info in infos.items():
        assert info["project"] == "demo" and info["name"] == f"lr={lr}"
        assert info["dir"] == str(job_dir / "tensorboard" / f"lr={lr}")
        assert list((job_dir / "tensorboard" / f"lr={lr}" / "wandb").glob("offline-run-*"))
    shell.run_line_magic("tritonml", f"wandb-sync {sweep_id}")
    out = capsys.readouterr().out
    assert f"2 offline runs of sweep {sweep_id}" in out and " sync " in out
    assert out.count("offline-run-") == 2
    assert "Not logged in to W&B" in out  # printed, not run
    shell.run_line_magic("tritonml", f"wandb-sync {sweep_id}_0 --dry-run --project other")
    assert "--project other" in capsys.readouterr().out
    os.environ.pop("WANDB_SILENT", None)


@pytest.mark.usefixtures("slurm_cluster")
async def test_sync_to_wandb_through_the_api(jp_fetch, monkeypatch, tmp_path):
    pytest.importorskip("wandb")
    from .test_sweeps import RESOURCES, post_sweep, wait_finished
    from .test_tracking import api

    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    sweep = await post_sweep(jp_fetch, code=WANDB_CELL, grid={"lr": [0.1, 0.2]}, metric="loss", **RESOURCES,
                             env={"WANDB_PROJECT": "demo", "WANDB_MODE": "offline", "WANDB_SILENT": "true"})
    finished = await wait_finished(jp_fetch, sweep["id"])
    assert finished["counts"] == {"COMPLETED": 2}, finished["tasks"]
    status, plan = await api(jp_fetch, "wandb-sync", method="POST", body={"sweep": sweep["id"], "dry_run": True},
                             path="/wandb-sync")
    assert status == 200 and len(plan["runs"]) == 2 and not plan["ran"], plan
    assert plan["command"][1] == "sync" and plan["command"][2:] == plan["runs"]
    assert all("/tensorboard/lr=" in run and "/wandb/offline-run-" in run for run in plan["runs"])
    status, answer = await api(jp_fetch, "wandb-sync", method="POST", body={"sweep": sweep["id"]}, path="/wandb-sync")
    assert status == 200 and not answer["ran"] and "Not logged in" in answer["message"], answer
    for body, code, words in (({}, 400, "exactly one"), ({"job": "99999999"}, 404, "No job"),
                              ({"sweep": "1;x"}, 400, "not a sweep id")):
        status, data = await api(jp_fetch, "wandb-sync", method="POST", body=body, path="/wandb-sync")
        assert status == code and words in data["message"], (body, data)
