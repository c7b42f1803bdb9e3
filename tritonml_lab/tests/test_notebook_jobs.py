"""Notebook runs ("Run on GPU") end to end through the API, against the real local Slurm cluster."""

import asyncio
import json
import os
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from tornado.httpclient import HTTPClientError

from tritonml_lab.notebooks import inject_parameters, read_parameters

from .jobs_root import leftovers
from .openapi_check import get_ok, post_created
from .openapi_check import validate as validate_schema

CLUSTER = pytest.mark.usefixtures("slurm_cluster")
RESOURCES = {"partition": "batch-csl", "time": "00:05:00"}


def write_notebook(root, relative, cells, kernel="python3"):
    nb = new_notebook(metadata={"kernelspec": {"name": kernel, "display_name": kernel, "language": "python"}})
    for cell in cells:
        source, tags = (cell, []) if isinstance(cell, str) else cell
        nb.cells.append(new_code_cell(source, metadata={"tags": tags}) if tags != "md" else new_markdown_cell(source))
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


async def post(jp_fetch, **body):
    return await post_created(jp_fetch, "/notebook-jobs", "notebook-jobs", body=body)


async def status(jp_fetch, job_id):
    return await get_ok(jp_fetch, "/notebook-jobs/{id}", "notebook-jobs", job_id)


async def wait_for(jp_fetch, job_id, predicate, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = await status(jp_fetch, job_id)
        if predicate(run):
            return run
        await asyncio.sleep(0.3)
    raise AssertionError(f"notebook job {job_id}: condition not met in {timeout} s; last: {run}")


def ended(run):
    return run["state"] not in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "UNKNOWN") and run[
        "status"
    ] not in ("starting", "running", "pending")


async def error_of(coro):
    with pytest.raises(HTTPClientError) as info:
        await coro
    return info.value.code, json.loads(info.value.response.body)


def outputs_text(cell):
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)


# -- without the cluster ---------------------------------------------------------------------------
def test_parameters_cell_is_read_with_defaults_types_and_comments():
    params = read_parameters(
        "alpha = 0.5  # learning rate\nepochs: int = 10\nname = 'resnet'\nflags = {'a': [1, True, None]}\n"
        "import os\npath = os.getcwd()\nx, y = 1, 2\n"
    )
    by_name = {p.name: p for p in params}
    assert list(by_name) == ["alpha", "epochs", "name", "flags", "path"]
    assert by_name["alpha"].default == 0.5 and by_name["alpha"].help == "learning rate"
    assert by_name["epochs"].type == "int" and by_name["name"].type == "str"
    assert by_name["flags"].default == {"a": [1, True, None]}
    assert not by_name["path"].literal and by_name["path"].source == "os.getcwd()"


def test_injected_cell_goes_after_the_parameters_cell_and_replaces_an_earlier_one():
    nb = new_notebook(cells=[new_code_cell("import x"), new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
                             new_code_cell("print(a)")])
    assert inject_parameters(nb, {"a": 2, "b": [True, None, "q"]}) == 2
    assert inject_parameters(nb, {"a": 3}) == 2
    assert len(nb.cells) == 4 and nb.cells[2].metadata.tags == ["injected-parameters"]
    assert "a = 3" in nb.cells[2].source
    nb2 = new_notebook(cells=[new_code_cell("print(1)")])
    assert inject_parameters(nb2, {"b": [True, None]}) == 0 and "b = [True, None]" in nb2.cells[0].source


# -- end to end ------------------------------------------------------------------------------------
@CLUSTER
async def test_parameters_are_injected_and_every_cell_has_its_outputs(jp_fetch, jp_root_dir, jobs_root):
    write_notebook(jp_root_dir, "work/train.ipynb", [
        ("# Training", "md"),
        ("alpha = 1  # how much\nlabel = 'default'", ["parameters"]),
        "print('alpha is', alpha)",
        "label.upper()",
        "import os\nprint(os.getcwd())",
    ])
    form = json.loads((await jp_fetch("tritonml", "notebook-parameters", params={"path": "work/train.ipynb"})).body)
    validate_schema("/notebook-parameters", "get", 200, form)
    assert form["kernel"] == "python3" and form["kernel_available"] and form["has_parameters_cell"]
    assert [(p["name"], p["default"], p["help"]) for p in form["parameters"]] == [
        ("alpha", 1, "how much"), ("label", "default", None)]

    job = await post(jp_fetch, path="work/train.ipynb", parameters={"alpha": 42, "label": "moi"}, **RESOURCES)
    job_id = job["id"]
    assert job["origin"]["kind"] == "notebook" and job["origin"]["notebook"] == "work/train.ipynb"
    assert job["output"] == f"work/train.{job_id}.ipynb" and job["kernel"] == "python3"
    run = await wait_for(jp_fetch, job_id, ended)
    assert run["state"] == "COMPLETED" and run["status"] == "completed", run
    assert run["cells_total"] == run["cells_done"] == 5 and run["failed_cell"] is None
    assert run["output"] == f"work/train.{job_id}.ipynb" and run["output_exists"]

    out = nbformat.read(str(jp_root_dir / run["output"]), as_version=4)
    assert out.cells[2].metadata.tags == ["injected-parameters"]
    code = [c for c in out.cells if c.cell_type == "code"]
    assert all(c.outputs or c.metadata.tags for c in code)  # the parameters cells print nothing
    assert all(c.metadata["tritonml"]["status"] == "done" for c in code)
    assert outputs_text(out.cells[3]) == "alpha is 42\n"
    assert outputs_text(out.cells[4]) == "'MOI'"
    assert outputs_text(out.cells[5]).strip() == str((jp_root_dir / "work").resolve())
    assert out.metadata["tritonml"]["status"] == "completed" and out.metadata["tritonml"]["job_id"] == job_id
    assert os.path.realpath(jobs_root / job_id / "output.ipynb") == str((jp_root_dir / run["output"]).resolve())
    # The jobs panel sees it as a tracked job with its origin; its log has the cells' output.
    detail = json.loads((await jp_fetch("tritonml", "jobs", job_id)).body)
    assert detail["tracked"] and detail["origin"]["kind"] == "notebook"
    log = json.loads((await jp_fetch("tritonml", "jobs", job_id, "log")).body)
    assert "alpha is 42" in log["data"] and "cell 3 of 5" in log["data"]


@CLUSTER
async def test_a_failing_cell_fails_the_job_and_is_identified(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir, "fails.ipynb", [
        "x = 1", "print('before')", "def f():\n    raise ValueError('boom')\nf()", "print('after')"])
    job = await post(jp_fetch, path="fails.ipynb", **RESOURCES)
    run = await wait_for(jp_fetch, job["id"], ended)
    assert run["state"] == "FAILED" and run["status"] == "failed", run
    failed = run["failed_cell"]
    assert failed["index"] == 2 and failed["number"] == 3
    assert failed["ename"] == "ValueError" and failed["evalue"] == "boom"
    assert any("boom" in line for line in failed["traceback"]) and "\x1b[" not in "".join(failed["traceback"])
    assert "cell 3 of 4" in run["message"] and run["cells_done"] == 2
    out = nbformat.read(str(jp_root_dir / run["output"]), as_version=4)
    assert outputs_text(out.cells[1]) == "before\n"
    assert out.cells[2].outputs[-1].output_type == "error" and out.cells[2].metadata["tritonml"]["status"] == "failed"
    assert out.cells[3].outputs == [] and "tritonml" not in out.cells[3].metadata


@CLUSTER
async def test_a_job_cancelled_mid_run_keeps_the_finished_cells(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir, "slow.ipynb", [
        "print('one')", "print('two')", "import time\nprint('sleeping', flush=True)\ntime.sleep(30)\nprint('woke')",
        "print('never')"])
    job = await post(jp_fetch, path="slow.ipynb", **RESOURCES)
    run = await wait_for(
        jp_fetch, job["id"],
        lambda r: (r["executing"] or {}).get("number") == 3 and "sleeping" in r["executing"]["output_tail"],
    )
    assert run["status"] == "running" and run["cells_done"] == 2 and run["cells_total"] == 4
    assert (await jp_fetch("tritonml", "jobs", job["id"], method="DELETE")).code == 200
    run = await wait_for(jp_fetch, job["id"], ended, timeout=60)
    assert run["state"] == "CANCELLED" and run["status"] == "interrupted", run
    assert run["failed_cell"]["index"] == 2 and "cancelled" in run["message"]
    out = nbformat.read(str(jp_root_dir / run["output"]), as_version=4)
    assert [outputs_text(c) for c in out.cells[:2]] == ["one\n", "two\n"]
    assert outputs_text(out.cells[2]).startswith("sleeping\nJobStopped")
    assert out.cells[2].metadata["tritonml"]["status"] == "interrupted" and out.cells[3].outputs == []
    assert out.metadata["tritonml"]["status"] == "interrupted"


@CLUSTER
async def test_a_missing_kernel_is_400_before_anything_is_submitted(jp_fetch, jp_root_dir, jobs_root):
    write_notebook(jp_root_dir, "julia.ipynb", ["println(1)"], kernel="no-such-kernel-1")
    code, body = await error_of(post(jp_fetch, path="julia.ipynb", **RESOURCES))
    assert code == 400 and body["reason"] == "KernelNotFound"
    assert "'no-such-kernel-1' is not installed" in body["message"] and "python3" in body["message"]
    code, body = await error_of(post(jp_fetch, path="julia.ipynb", kernel="nope2", **RESOURCES))
    assert code == 400 and "'nope2'" in body["message"]
    form = json.loads((await jp_fetch("tritonml", "notebook-parameters", params={"path": "julia.ipynb"})).body)
    assert form["kernel_available"] is False and "not installed" in form["kernel_error"]
    assert leftovers(jobs_root) == []


@CLUSTER
async def test_paths_outside_the_root_are_refused(jp_fetch, jp_root_dir, jobs_root, tmp_path):
    outside = tmp_path / "outside"
    write_notebook(outside, "secret.ipynb", ["print(1)"])
    (jp_root_dir / "escape").symlink_to(outside, target_is_directory=True)
    (jp_root_dir / "link.ipynb").symlink_to(outside / "secret.ipynb")
    write_notebook(jp_root_dir, "ok.ipynb", ["print(1)"])
    for path in ("../outside/secret.ipynb", str(outside / "secret.ipynb"), "escape/secret.ipynb", "link.ipynb",
                 "a/../../outside/secret.ipynb"):
        code, body = await error_of(post(jp_fetch, path=path, **RESOURCES))
        assert code == 400, (path, body)
        code, _ = await error_of(jp_fetch("tritonml", "notebook-parameters", params={"path": path}))
        assert code == 400, path
    code, body = await error_of(post(jp_fetch, path="ok.ipynb", output_dir="../elsewhere", **RESOURCES))
    assert code == 400 and body["errors"][0]["field"] == "output_dir"
    code, body = await error_of(post(jp_fetch, path="ok.ipynb", output_dir="escape", **RESOURCES))
    assert code == 400 and body["reason"] == "PathOutsideRoot"
    code, _ = await error_of(post(jp_fetch, path="missing.ipynb", **RESOURCES))
    assert code == 404
    assert leftovers(jobs_root) == []


@CLUSTER
async def test_job_fields_are_validated_per_field_and_slurm_rejections_are_422(jp_fetch, jp_root_dir, jobs_root):
    write_notebook(jp_root_dir, "ok.ipynb", ["print(1)"])
    code, body = await error_of(post(jp_fetch, path="ok.ipynb", gpus="many", code="print(2)",
                                     parameters={"not a name": 1}, surprise=True))
    assert code == 400 and body["reason"] == "invalid"
    assert {e["field"] for e in body["errors"]} == {"gpus", "code", "parameters", "surprise"}
    code, body = await error_of(post(jp_fetch, path="ok.ipynb", partition="nope"))
    assert code == 422 and "Invalid partition name specified" in body["message"]
    code, body = await error_of(jp_fetch("tritonml", "notebook-jobs", "999999999"))
    assert code == 404
    assert leftovers(jobs_root) == []


@CLUSTER
async def test_output_dir_and_a_plain_job_is_not_a_notebook_job(jp_fetch, jp_root_dir):
    write_notebook(jp_root_dir, "nb/a b.ipynb", ["print('spaces ok')"])
    job = await post(jp_fetch, path="nb/a b.ipynb", output_dir="results/runs", **RESOURCES)
    assert job["output"] == f"results/runs/a b.{job['id']}.ipynb"
    run = await wait_for(jp_fetch, job["id"], ended)
    assert run["status"] == "completed" and (jp_root_dir / job["output"]).is_file()
    plain = json.loads((await jp_fetch("tritonml", "jobs", method="POST",
                                       body=json.dumps({"command": "true", **RESOURCES}))).body)
    code, body = await error_of(jp_fetch("tritonml", "notebook-jobs", plain["id"]))
    assert code == 404 and "not a notebook run" in body["message"]
    # Done with it: on a loaded machine it may still be pending (the leak guard fails a test that
    # leaves its own Slurm jobs queued).
    await jp_fetch("tritonml", "jobs", plain["id"], method="DELETE")
