"""Result tracking: report(step=...) as TensorBoard scalars, and TensorBoard run by the Jupyter server,
reached through it under an Open OnDemand base_url with the server's token. Checked through
TensorBoard's own HTTP API (/data/runs, /data/plugin/scalars/...), against the real local cluster."""

import asyncio
import json
import time

import pytest
from tornado.httpclient import HTTPClientError

from tritonml_lab.tracking import ReportConverter
from tritonml_lab.tracking import tensorboard as tb_module
from tritonml_lab.tracking.convert import EVENTS_FILE

from .openapi_check import validate
from .test_sweeps import RESOURCES, post_sweep, wait_finished

CURVES = ("for step in range(3):\n"
          "    tritonml.report(step=step, loss=lr * (3 - step))\n")
LOG_DIR = ("import os\n"
           "open(os.path.join(os.environ['TRITONML_LOG_DIR'], 'where'), 'w').write(\n"
           "    os.environ['TRITONML_LOG_DIR'] + os.environ['TENSORBOARD_LOGDIR'])\n")


@pytest.fixture
def jp_base_url():
    return "/node/gpu1/8888/"


def scalars_of(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return {tag: [(e.step, round(e.value, 6)) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_report_steps_become_scalars_incrementally(tmp_path):
    job = tmp_path / "job-1"
    job.mkdir()
    (job / "sweep_points.json").write_text(json.dumps(
        {"metric": "loss", "indices": [4, 5], "params": [{"lr": 0.1, "opt": "a/b"}, {"lr": 0.2, "opt": "c"}]}))
    (job / "steps.0.jsonl").write_text('{"step": 0, "values": {"loss": 1.0, "name": "x"}, "t": 1.5}\n'
                                       '{"step": 1, "values": {"loss": 0.5}}\n{"step": 2, "val')  # cut line
    (job / "steps.1.jsonl").write_text('not json\n{"step": 0, "values": {"loss": 2.0, "acc": 0.25}}\n')
    converter = ReportConverter()
    assert converter.convert(job) == 3
    run0, run1 = job / "tensorboard" / "lr=0.1,opt=a_b", job / "tensorboard" / "lr=0.2,opt=c"
    assert scalars_of(run0) == {"loss": [(0, 1.0), (1, 0.5)]}
    assert scalars_of(run1) == {"loss": [(0, 2.0)], "acc": [(0, 0.25)]}
    assert converter.convert(job) == 0  # nothing new: nothing written
    with open(job / "steps.0.jsonl", "a") as handle:
        handle.write('ues": {"loss": 0.25}}\n')  # the cut line completed
    assert converter.convert(job) == 1
    assert scalars_of(run0) == {"loss": [(0, 1.0), (1, 0.5), (2, 0.25)]}
    assert len(list(run0.glob("events.out.tfevents*"))) == 1  # appended to one file
    # The shim's own name for a task (.run.<task>) wins over the points file.
    (job / "tensorboard" / ".run.1").write_text("renamed")
    (job / "steps.1.jsonl").write_text('{"step": 0, "values": {"loss": 3.0}}\n')
    converter.convert(job)
    assert scalars_of(job / "tensorboard" / "renamed") == {"loss": [(0, 3.0)]}
    assert (run0 / EVENTS_FILE).exists()


def test_a_point_the_sweep_has_twice_gets_a_run_of_its_own(tmp_path):
    """A random search over a few choices can draw one point twice: each task logs into its own
    run, named by its parameters and its point's index; a point drawn once keeps the plain name."""
    from tritonml_lab.injob.sweep_shim import run_name

    every = [{"lr": 0.1}, {"lr": 0.2}, {"lr": 0.1}]
    assert [run_name(p, i, every) for i, p in enumerate(every)] == ["lr=0.1,point=0", "lr=0.2", "lr=0.1,point=2"]
    assert run_name({"lr": 0.1}, 0) == "lr=0.1" and run_name({}, 3, every) == "task-3"
    assert len(run_name({"x": "y" * 300}, 7, [{"x": "y" * 300}] * 2)) <= 200
    job = tmp_path / "job-2"
    job.mkdir()
    (job / "sweep_points.json").write_text(json.dumps({"metric": "loss", "indices": [0, 1, 2], "params": every}))
    for task in "012":
        (job / f"steps.{task}.jsonl").write_text('{"step": 0, "values": {"loss": %s}}\n' % task)
    assert ReportConverter().convert(job) == 3
    assert sorted(p.name for p in (job / "tensorboard").iterdir()) == ["lr=0.1,point=0", "lr=0.1,point=2", "lr=0.2"]
    assert scalars_of(job / "tensorboard" / "lr=0.1,point=2") == {"loss": [(0, 2.0)]}


async def api(jp_fetch, *parts, method="GET", body=None, path=None):
    """A tritonml/ call, its answer checked against openapi.yaml: (status, body)."""
    try:
        response = await jp_fetch("tritonml", *parts, method=method,
                                  body=json.dumps(body) if body is not None else None)
        status, data = response.code, json.loads(response.body)
    except HTTPClientError as exc:
        status, data = exc.code, json.loads(exc.response.body)
    if path:
        validate(path, method.lower(), status, data)
    return status, data


async def tb_get(jp_fetch, info, *parts, **params):
    """GET a TensorBoard path through the Jupyter server (its proxy, with the test's token)."""
    base = ["tritonml", *info["url"].split("/tritonml/", 1)[1].strip("/").split("/")]
    return await jp_fetch(*base, *parts, params=params)


async def wait_stopped(jp_fetch, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _status, data = await api(jp_fetch, "tensorboards")
        if not data["tensorboards"]:
            return time.monotonic()
        await asyncio.sleep(0.2)
    raise AssertionError(f"TensorBoard still running after {timeout} s")


@pytest.mark.usefixtures("slurm_cluster")
async def test_a_sweep_shows_in_tensorboard_as_one_run_per_task(jp_fetch, jp_serverapp, jobs_root):
    sweep = await post_sweep(jp_fetch, code=CURVES + LOG_DIR, grid={"lr": [0.1, 0.2, 0.3, 0.4]}, metric="loss",
                             **RESOURCES)
    await wait_finished(jp_fetch, sweep["id"])
    log_root = (jobs_root / sweep["id"]).resolve() / "tensorboard"
    for lr in (0.1, 0.2, 0.3, 0.4):  # each task was told its run's folder, named by its point
        assert (log_root / f"lr={lr}" / "where").read_text() == str(log_root / f"lr={lr}") * 2
    status, info = await api(jp_fetch, "tensorboards", method="POST", body={"sweep": sweep["id"]},
                             path="/tensorboards")
    try:
        assert status == 200 and info["started"], info
        assert info["url"] == f"/node/gpu1/8888/tritonml/tensorboard/{info['id']}/"
        assert info["idle_seconds"] == 900.0  # the default
        runs = json.loads((await tb_get(jp_fetch, info, "data", "runs")).body)
        expected = {f"lr={lr}" for lr in (0.1, 0.2, 0.3, 0.4)}
        deadline = time.monotonic() + 30
        while set(runs) != expected and time.monotonic() < deadline:  # TensorBoard's first load
            await asyncio.sleep(0.5)
            runs = json.loads((await tb_get(jp_fetch, info, "data", "runs")).body)
        assert set(runs) == expected
        for lr in (0.1, 0.2, 0.3, 0.4):
            body = (await tb_get(jp_fetch, info, "data", "plugin", "scalars", "scalars",
                                 run=f"lr={lr}", tag="loss")).body
            points = json.loads(body)  # [[wall_time, step, value], ...]
            assert [(step, round(value, 5)) for _w, step, value in points] == \
                [(s, round(lr * (3 - s), 5)) for s in range(3)]
        page = await tb_get(jp_fetch, info, "index.html")
        assert b"tensorboard" in page.body.lower()
        # A second open of the same sweep reuses the running TensorBoard.
        status, again = await api(jp_fetch, "tensorboards", method="POST", body={"sweep": sweep["id"]})
        assert status == 200 and again["id"] == info["id"] and not again["started"]
        assert jp_serverapp.web_app.settings["tritonml"].tensorboards.started == 1
    finally:
        status, _ = await api(jp_fetch, "tensorboards", info["id"], method="DELETE",
                              path="/tensorboards/{tb_id}")
    assert status == 200
    with pytest.raises(HTTPClientError) as gone:
        await tb_get(jp_fetch, info, "data", "runs")
    assert gone.value.code == 404


async def test_the_proxy_needs_the_servers_token(jp_fetch, http_server_client, jp_base_url):
    response = await http_server_client.fetch(f"{jp_base_url}tritonml/tensorboard/0123456789abcdef/data/runs",
                                              raise_error=False, follow_redirects=False)
    assert response.code in (302, 401, 403)


@pytest.fixture
def short_idle(jp_server_config):
    jp_server_config["TritonML"]["tensorboard_idle_seconds"] = 1.0
    return jp_server_config


@pytest.mark.usefixtures("short_idle")
async def test_an_idle_tensorboard_is_stopped_and_opens_again(jp_fetch, tmp_path, jp_root_dir):
    logs = jp_root_dir / "runs"
    logs.mkdir()
    status, info = await api(jp_fetch, "tensorboards", method="POST", body={"path": "runs"})
    assert status == 200 and info["idle_seconds"] == 1.0
    opened = time.monotonic()
    for _ in range(6):  # a tab that asks keeps it running
        await tb_get(jp_fetch, info, "data", "environment")
        last = time.monotonic()
        await asyncio.sleep(0.4)
    assert time.monotonic() - opened > 2.0
    _status, data = await api(jp_fetch, "tensorboards")
    assert [t["id"] for t in data["tensorboards"]] == [info["id"]]
    stopped = await wait_stopped(jp_fetch, 10)
    assert 1.0 <= stopped - last < 5.0
    with pytest.raises(HTTPClientError) as gone:
        await tb_get(jp_fetch, info, "data", "runs")
    assert gone.value.code == 404
    status, again = await api(jp_fetch, "tensorboards", method="POST", body={"path": "runs"})
    assert status == 200 and again["id"] == info["id"] and again["started"]
    await api(jp_fetch, "tensorboards", again["id"], method="DELETE")


async def test_bad_requests_get_a_clear_400_or_404(jp_fetch, jp_root_dir, monkeypatch):
    (jp_root_dir / "file.txt").write_text("x")
    cases = [
        ({}, 400, "exactly one"),
        ({"job": "1", "sweep": "2"}, 400, "exactly one"),
        ({"jobs": "1"}, 400, "jobs"),
        ({"job": "1;rm -rf /"}, 400, "not a Slurm job id"),
        ({"job": "99999999"}, 404, "No job 99999999"),
        ({"sweep": "99999999"}, 404, "No sweep"),
        ({"path": "/etc"}, 400, "outside your Jupyter folder"),
        ({"path": "../.."}, 400, "outside your Jupyter folder"),
        ({"path": "nope"}, 404, "no folder"),
        ({"path": "file.txt"}, 404, "not a folder"),
    ]
    for body, code, words in cases:
        status, data = await api(jp_fetch, "tensorboards", method="POST", body=body, path="/tensorboards")
        assert status == code and words.lower() in data["message"].lower(), (body, status, data)
    status, data = await api(jp_fetch, "tensorboards", "0123456789abcdef", method="DELETE",
                             path="/tensorboards/{tb_id}")
    assert status == 404 and "TensorBoard" in data["message"]
    find_spec = tb_module.importlib.util.find_spec
    monkeypatch.setattr(tb_module.importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else find_spec(name, *a))
    (jp_root_dir / "logs").mkdir()
    status, data = await api(jp_fetch, "tensorboards", method="POST", body={"path": "logs"}, path="/tensorboards")
    assert status == 400 and "pip install" in data["message"] and "tracking" in data["message"], data



@pytest.mark.usefixtures("slurm_cluster")
async def test_every_job_and_array_task_is_told_where_to_log(jp_fetch, jobs_root):
    from .test_jobs_api import post_job

    command = ('env | grep -E "^(TRITONML_LOG_DIR|TENSORBOARD_LOGDIR|WANDB_DIR|WANDB_PROJECT)=" | sort '
               '> "$TENSORBOARD_LOGDIR/env.txt"')
    plain = await post_job(jp_fetch, partition="batch-csl", time="00:02:00", command=command)
    array = await post_job(jp_fetch, partition="batch-csl", time="00:02:00", command=command, array="0-1",
                           env={"WANDB_PROJECT": "demo"})
    plain_dir = (jobs_root / plain["id"]).resolve() / "tensorboard"
    array_dir = (jobs_root / array["id"]).resolve() / "tensorboard"
    files = [plain_dir / "env.txt", array_dir / "task-0" / "env.txt", array_dir / "task-1" / "env.txt"]
    deadline = time.monotonic() + 150
    while not all(f.exists() and f.read_text().endswith("\n") for f in files) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert (plain_dir / "env.txt").read_text().split() == [f"TENSORBOARD_LOGDIR={plain_dir}",
                                                           f"TRITONML_LOG_DIR={plain_dir}"]
    for task in (0, 1):
        task_dir = (jobs_root / array["id"]).resolve() / "tensorboard" / f"task-{task}"
        assert (task_dir / "env.txt").read_text().split() == [
            f"TENSORBOARD_LOGDIR={task_dir}", f"TRITONML_LOG_DIR={task_dir}", f"WANDB_DIR={task_dir}",
            "WANDB_PROJECT=demo"]


async def test_live_steps_and_the_default_idle_time(jp_fetch, jp_serverapp, jobs_root):
    """At the product's defaults (900 s idle, a conversion pass every 5 s): a running task's new steps
    reach TensorBoard while it is open; it is kept at 898 s without a request and stopped past 900 s
    (its last use moved back rather than waiting a quarter of an hour)."""
    from tritonml_lab.sweeps.models import SweepJob, SweepManifest

    job_dir = jobs_root / "job-live"
    job_dir.mkdir()
    (job_dir / "sweep_points.json").write_text(json.dumps({"metric": "loss", "indices": [0], "params": [{"lr": 1}]}))
    steps = job_dir / "steps.0.jsonl"
    steps.write_text('{"step": 0, "values": {"loss": 3.0}}\n{"step": 1, "values": {"loss": 2.0}}\n')
    manifest = SweepManifest(id="777001", name="live", search="grid", space={"lr": [1]}, metric="loss",
                             spec={"partition": "batch-csl"}, points=[{"lr": 1}], created_at=time.time(),
                             jobs=[SweepJob(id="777001", directory=str(job_dir), indices=[0])])
    (jobs_root / "sweeps").mkdir()
    (jobs_root / "sweeps" / "777001.json").write_text(manifest.model_dump_json())
    status, info = await api(jp_fetch, "tensorboards", method="POST", body={"sweep": "777001"})
    assert status == 200 and info["idle_seconds"] == 900.0

    async def loss_points():
        body = (await tb_get(jp_fetch, info, "data", "plugin", "scalars", "scalars", run="lr=1", tag="loss")).body
        return [step for _w, step, _v in json.loads(body)]

    deadline = time.monotonic() + 30
    while await loss_points() != [0, 1] and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert await loss_points() == [0, 1]
    with open(steps, "a") as handle:
        handle.write('{"step": 2, "values": {"loss": 1.0}}\n')
    while await loss_points() != [0, 1, 2] and time.monotonic() < deadline + 30:
        await asyncio.sleep(0.5)
    assert await loss_points() == [0, 1, 2]  # converted while open, read by TensorBoard's reload

    boards = jp_serverapp.web_app.settings["tritonml"].tensorboards
    instance = boards.get(info["id"])
    instance.last_used = time.monotonic() - 892
    await asyncio.sleep(boards.reload_seconds + 1.5)  # a tick of the watcher at least: 898.5 s unused
    assert boards.get(info["id"]) is instance and instance.alive()
    instance.last_used = time.monotonic() - 901
    await wait_stopped(jp_fetch, boards.reload_seconds + 5)
    deadline = time.monotonic() + 10
    while instance.alive() and time.monotonic() < deadline:  # terminated (SIGTERM, then SIGKILL after 5 s)
        await asyncio.sleep(0.1)
    assert not instance.alive()
