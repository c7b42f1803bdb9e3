"""Notebook runs ("Run on GPU"): check, prepare and submit a notebook as a batch job; read its progress.

Domain logic only (no Tornado). A notebook job is an ordinary tritonml-lab job (JobService.submit: the
monitor, the panel and ``GET jobs`` see it) whose ``user.sh`` starts the executor (``injob/notebook_executor.py``, with
the SERVER environment's Python) and hands it, on stdin, the settings and a snapshot of the notebook
taken at submission (outputs cleared, parameters injected). The notebook's code runs in a kernel of the
user's kernelspec, which is checked to exist before anything is submitted.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

import nbformat
from pydantic import BaseModel, Field

from .. import injob
from ..jobs.launcher import Launcher
from ..jobs.script import USER_SCRIPT
from ..jobs.service import JobDetail, JobService
from ..jobs.spec import JobSpec
from ..jobs.store import JobDir, JobNotFound, JobStore, Origin, parse_job_id
from ..slurm import Job, JobState, SlurmClient, SlurmError
from ..injob import notebook_executor as _executor
from .parameters import Parameter, inject_parameters, parameters_cell_index, read_parameters
from .request import (
    BadNotebook,
    KernelNotFound,
    NotANotebookJob,
    NotebookJobRequest,
    NotebookNotFound,
    relative_to_root,
    resolve_in_root,
)

EXECUTOR = injob.NOTEBOOK_EXECUTOR
HEREDOC = "TRITONML_NOTEBOOK"
OUTPUT_NAME = "{stem}.{job_id}.ipynb"
MAX_NOTEBOOK_BYTES = 64 << 20
_JOB_NAME = re.compile(r"[^A-Za-z0-9._+-]+")


# -- models --------------------------------------------------------------------------------------
class KernelInfo(BaseModel):
    name: str
    display_name: Optional[str] = None
    language: Optional[str] = None
    resource_dir: Optional[str] = None
    argv: list[str] = Field(default_factory=list)


class NotebookParameters(BaseModel):
    """``GET notebook-parameters``: what the "Run on GPU" dialog shows."""

    path: str
    kernel: Optional[str] = Field(None, description="the notebook's own kernelspec name")
    kernel_display_name: Optional[str] = None
    language: Optional[str] = None
    kernel_available: bool = False
    kernel_error: Optional[str] = Field(None, description="why the kernel cannot run in a job")
    has_parameters_cell: bool = False
    cell_index: Optional[int] = None
    parameters: list[Parameter] = Field(default_factory=list)


class NotebookJobCreated(JobDetail):
    """``POST notebook-jobs`` 201: the job, plus where its executed notebook will be."""

    notebook: str
    kernel: str
    output: Optional[str] = Field(None, description="output notebook, relative to the server root")
    parameters: dict[str, Any] = Field(default_factory=dict)


class ExecutingCell(BaseModel):
    index: int = Field(description="position in the output notebook (0-based)")
    number: int = Field(description="k in 'cell k of N' (code cells, 1-based)")
    started_at: Optional[float] = None
    output_tail: str = ""


class FailedCell(BaseModel):
    index: Optional[int] = None
    number: Optional[int] = None
    cell_id: Optional[str] = None
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = Field(default_factory=list)


class NotebookJobStatus(BaseModel):
    """``GET notebook-jobs/{id}``: the run as the panel shows it."""

    id: str
    state: JobState = Field(description="Slurm's state")
    status: str = Field(description="pending | starting | running | completed | failed | interrupted | unknown")
    notebook: Optional[str] = None
    kernel: Optional[str] = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    output: Optional[str] = Field(None, description="output notebook relative to the server root")
    output_path: Optional[str] = Field(None, description="output notebook, absolute")
    output_exists: bool = False
    cells_total: Optional[int] = None
    cells_done: int = 0
    executing: Optional[ExecutingCell] = None
    failed_cell: Optional[FailedCell] = None
    message: Optional[str] = None
    host: Optional[str] = None
    started_at: Optional[float] = None
    first_cell_at: Optional[float] = None
    updated_at: Optional[float] = None
    ended_at: Optional[float] = None
    directory: Optional[str] = None


@dataclass
class PreparedNotebookJob:
    spec: JobSpec
    origin: Origin
    settings: dict[str, Any]
    kernel: KernelInfo
    output_dir: Path


# -- kernels -------------------------------------------------------------------------------------
async def _maybe_await(value):
    return await value if inspect.isawaitable(value) else value


async def check_kernel(name: str, kernel_specs: Any = None) -> KernelInfo:
    """The kernelspec ``name`` as jobs will find it (same filesystem and environment as the server),
    with its program present; else KernelNotFound with what is installed."""
    if kernel_specs is None:
        from jupyter_client.kernelspec import KernelSpecManager

        kernel_specs = KernelSpecManager()
    loop = asyncio.get_running_loop()

    def call(method, *args):
        result = getattr(kernel_specs, method)(*args)
        return result

    try:
        spec = await _maybe_await(await loop.run_in_executor(None, call, "get_kernel_spec", name))
    except Exception:  # NoSuchKernel (a KeyError), or a broken kernel.json
        try:
            names = sorted(await _maybe_await(await loop.run_in_executor(None, call, "find_kernel_specs")))
        except Exception:  # noqa: BLE001
            names = []
        available = f" Kernels installed here: {', '.join(names)}." if names else ""
        raise KernelNotFound(
            f"The kernel {name!r} is not installed where jobs run, so the notebook cannot run there.{available} "
            f"Choose another kernel, or install it (in its environment: "
            f"python -m ipykernel install --user --name {name})."
        ) from None
    argv = list(getattr(spec, "argv", []) or [])
    program = argv[0] if argv else None
    if program in ("python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"):
        program = None  # jupyter_client starts these with the executor's (the server's) own Python
    if program and not (os.access(program, os.X_OK) if os.path.isabs(program) else shutil.which(program)):
        raise KernelNotFound(
            f"The kernel {name!r} starts {program}, which does not exist here (was its environment "
            "removed?). Choose another kernel or reinstall this one."
        )
    return KernelInfo(
        name=name,
        display_name=getattr(spec, "display_name", None),
        language=getattr(spec, "language", None),
        resource_dir=getattr(spec, "resource_dir", None),
        argv=argv,
    )


# -- notebooks -----------------------------------------------------------------------------------
def load_notebook(root_dir: str | os.PathLike[str], path: str) -> tuple[Path, Any]:
    full = resolve_in_root(root_dir, path, "notebook path")
    if not full.is_file():
        raise NotebookNotFound(path)
    if full.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise BadNotebook(f"{path} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB; clear its outputs first.")
    try:
        nb = nbformat.read(str(full), as_version=4)
    except Exception as exc:  # noqa: BLE001 - any parse error is the user's file
        raise BadNotebook(f"{path} is not a notebook that can be read: {exc}") from None
    return full, nb


def notebook_kernel_name(nb) -> Optional[str]:
    kernelspec = nb.metadata.get("kernelspec") or {}
    return kernelspec.get("name") if isinstance(kernelspec, dict) else None


async def notebook_parameters(root_dir: str, path: str, kernel_specs: Any = None) -> NotebookParameters:
    loop = asyncio.get_running_loop()
    _full, nb = await loop.run_in_executor(None, load_notebook, root_dir, path)
    index = parameters_cell_index(nb)
    result = NotebookParameters(
        path=path,
        kernel=notebook_kernel_name(nb),
        has_parameters_cell=index is not None,
        cell_index=index,
        parameters=read_parameters(nb.cells[index].source) if index is not None else [],
    )
    if result.kernel:
        try:
            info = await check_kernel(result.kernel, kernel_specs)
            result.kernel_available = True
            result.kernel_display_name, result.language = info.display_name, info.language
        except KernelNotFound as exc:
            result.kernel_error = exc.message
    else:
        result.kernel_error = "The notebook names no kernel; choose one."
    return result


def _snapshot(nb, kernel: KernelInfo, parameters: dict[str, Any]):
    """The notebook as it will run: outputs cleared, parameters injected, the chosen kernel named."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
            cell.metadata.pop("tritonml", None)
    inject_parameters(nb, parameters)
    nb.metadata["kernelspec"] = {
        "name": kernel.name,
        "display_name": kernel.display_name or kernel.name,
        "language": kernel.language or "",
    }
    nb.metadata.pop("tritonml", None)
    return nb


def _job_name(stem: str) -> str:
    name = _JOB_NAME.sub("-", stem).strip("-._+")[:64]
    return name or "notebook"


def render_user_script(settings: dict[str, Any], notebook_json: str, python: str) -> str:
    """``user.sh``: the executor with its settings and the notebook on stdin (a quoted here-document:
    nothing in it is expanded, and every line of it is a JSON object, never the end marker)."""
    output = os.path.join(settings["output_dir"], settings["output_name"].replace("{job_id}", "$SLURM_JOB_ID"))
    lines = [
        "#!/bin/bash",
        f"# Runs the notebook {settings['notebook']} headless (tritonml-lab \"Run on GPU\").",
        f"# The notebook's code runs in the kernel {settings['kernel']!r}; the executor (nbclient, in the",
        "# Jupyter server's environment) saves the executed notebook after every cell to",
        f"#   {output}",
        "# and its progress to progress.json next to this file. Below: its settings, then the notebook.",
        f'exec {shlex.quote(python)} {shlex.quote(str(EXECUTOR))} --script "$0" <<\'{HEREDOC}\'',
        json.dumps(settings),
        notebook_json,
        HEREDOC,
    ]
    return "\n".join(lines) + "\n"


async def prepare(
    request: NotebookJobRequest,
    root_dir: str,
    *,
    kernel_specs: Any = None,
    python: Optional[str] = None,
    default_output_dir: Optional[str] = None,
) -> PreparedNotebookJob:
    """Everything checked and the JobSpec built; nothing written, nothing submitted.

    ``python`` runs the executor (needs nbclient): default the current interpreter (the server's).
    ``default_output_dir``: relative to the root, where outputs go when the request names none
    (None: next to the notebook)."""
    loop = asyncio.get_running_loop()
    full, nb = await loop.run_in_executor(None, load_notebook, root_dir, request.path)
    kernel_name = request.kernel or notebook_kernel_name(nb)
    if not kernel_name:
        raise KernelNotFound("The notebook names no kernel (no kernelspec in its metadata); choose one.")
    kernel = await check_kernel(kernel_name, kernel_specs)
    if request.parameters and (kernel.language or "python").lower() != "python":
        raise BadNotebook(
            f"Parameters can be injected for Python kernels only; {kernel_name} runs {kernel.language}."
        )
    out_rel = request.output_dir if request.output_dir is not None else default_output_dir
    output_dir = resolve_in_root(root_dir, out_rel, "output directory") if out_rel else full.parent
    if output_dir.exists() and not output_dir.is_dir():
        raise BadNotebook(f"The output directory {out_rel!r} is a file.")
    stem = full.name[: -len(".ipynb")] if full.name.endswith(".ipynb") else full.stem
    notebook_rel = relative_to_root(root_dir, full) or request.path
    settings = {
        "version": 1,
        "notebook": request.path,
        "notebook_path": str(full),
        "kernel": kernel.name,
        "kernel_dir": kernel.resource_dir,
        "cwd": request.workdir or str(full.parent),
        "output_dir": str(output_dir),
        "output_name": OUTPUT_NAME.replace("{stem}", stem),
        "parameters": request.parameters,
        "save_interval": 30,
        "submitted_at": time.time(),
    }
    snapshot = _snapshot(nb, kernel, request.parameters)
    notebook_json = json.dumps(snapshot)
    script = render_user_script(settings, notebook_json, python or sys.executable)
    fields = request.resources()
    fields.setdefault("name", _job_name(stem))
    spec = JobSpec(**fields, script=script)
    origin = Origin(kind="notebook", notebook=notebook_rel, kernel=kernel.name)
    return PreparedNotebookJob(spec=spec, origin=origin, settings=settings, kernel=kernel, output_dir=output_dir)


def output_path(settings: dict[str, Any], job_id: str) -> str:
    base, _task = parse_job_id(job_id)
    return os.path.join(settings["output_dir"], settings["output_name"].replace("{job_id}", base))


# -- reading a run -------------------------------------------------------------------------------
def read_settings(job_dir: JobDir) -> Optional[dict[str, Any]]:
    """The executor's settings from ``user.sh`` (the line after the here-document's start)."""
    try:
        with open(job_dir.path / USER_SCRIPT, encoding="utf-8") as handle:
            for line in handle:
                if line.rstrip("\n").endswith(f"<<'{HEREDOC}'"):
                    return json.loads(handle.readline())
    except (OSError, ValueError):
        return None
    return None


def read_progress(job_dir: JobDir) -> Optional[dict[str, Any]]:
    try:
        return json.loads((job_dir.path / _executor.PROGRESS).read_text())
    except (OSError, ValueError):
        return None


_STOPPED_BY = {
    JobState.CANCELLED: "The job was cancelled",
    JobState.TIMEOUT: "The job reached its time limit",
    JobState.PREEMPTED: "The job was preempted",
    JobState.DEADLINE: "The job reached its deadline",
    JobState.NODE_FAIL: "The node running the job failed",
    JobState.OUT_OF_MEMORY: "The job ran out of memory",
    JobState.BOOT_FAIL: "The node did not boot",
}


def summarize(job_id: str, state: JobState, settings: Optional[dict], progress: Optional[dict],
              root_dir: str, directory: Optional[str] = None) -> NotebookJobStatus:
    """One view from Slurm's state, the settings and the executor's progress.json."""
    settings = settings or {}
    progress = progress or {}
    out = progress.get("output") or (output_path(settings, job_id) if settings.get("output_dir") else None)
    said = progress.get("status")
    if state.is_finished:
        if said in ("completed", "failed", "interrupted"):
            status = said
        elif state is JobState.COMPLETED:
            status = "unknown"
        elif state in (JobState.FAILED, JobState.OUT_OF_MEMORY, JobState.BOOT_FAIL):
            status = "failed"
        else:
            status = "interrupted"
    elif state in (JobState.PENDING, JobState.CONFIGURING, JobState.REQUEUED, JobState.REQUEUE_HOLD,
                   JobState.RESV_DEL_HOLD, JobState.REQUEUE_FED):
        status = "pending"
    elif state is JobState.UNKNOWN:
        status = said or "unknown"
    else:
        status = said or "starting"
    failed = progress.get("failed_cell")
    executing = progress.get("executing") if status in ("starting", "running") else None
    message = progress.get("message")
    if state.is_finished and state in _STOPPED_BY:
        cell = (failed or {}).get("number") or ((progress.get("executing") or {}).get("number"))
        total = progress.get("cells_total")
        where = f" while cell {cell} of {total} ran" if cell and total else ""
        message = f"{_STOPPED_BY[state]}{where}; the cells before it are saved in the output notebook."
        if status == "interrupted" and not failed and cell:
            failed = {"index": (progress.get("executing") or {}).get("index"), "number": cell,
                      "ename": "JobStopped", "evalue": _STOPPED_BY[state], "traceback": []}
    elif state.is_finished and not progress:
        message = "The executor did not start; see the job's stderr log."
    return NotebookJobStatus(
        id=job_id,
        state=state,
        status=status,
        notebook=settings.get("notebook"),
        kernel=settings.get("kernel"),
        parameters=settings.get("parameters") or {},
        output=relative_to_root(root_dir, out) if out else None,
        output_path=out,
        output_exists=bool(out and os.path.exists(out)),
        cells_total=progress.get("cells_total"),
        cells_done=progress.get("cells_done") or 0,
        executing=ExecutingCell(**executing) if executing else None,
        failed_cell=FailedCell(**failed) if failed else None,
        message=message,
        host=progress.get("host"),
        started_at=progress.get("started_at"),
        first_cell_at=progress.get("first_cell_at"),
        updated_at=progress.get("updated_at"),
        ended_at=progress.get("ended_at"),
        directory=directory,
    )


# -- the service the handlers use ----------------------------------------------------------------
@dataclass
class NotebookJobs:
    """Notebook runs on top of the one JobService of a server."""

    jobs: JobService
    root_dir: str
    kernel_specs: Any = None
    python: str = field(default_factory=lambda: sys.executable)
    default_output_dir: Optional[str] = None

    async def parameters(self, path: str) -> NotebookParameters:
        return await notebook_parameters(self.root_dir, path, self.kernel_specs)

    async def submit(self, request: NotebookJobRequest) -> NotebookJobCreated:
        prepared = await prepare(
            request, self.root_dir, kernel_specs=self.kernel_specs, python=self.python,
            default_output_dir=self.default_output_dir,
        )
        job = await self.jobs.submit(prepared.spec, prepared.origin)
        out = output_path(prepared.settings, job.id)
        return NotebookJobCreated(
            **job.model_dump(),
            notebook=request.path,
            kernel=prepared.kernel.name,
            output=relative_to_root(self.root_dir, out),
            parameters=request.parameters,
        )

    async def status(self, job_id: str) -> NotebookJobStatus:
        base, _task = parse_job_id(job_id)
        loop = asyncio.get_running_loop()
        job_dir, manifest, settings, progress = await loop.run_in_executor(None, self._read, base)
        job = await self._job(base)
        state = job.state if job is not None else JobState.UNKNOWN
        if state.is_finished and _executor_saving(progress, job):
            # Cancelled (shown at once) while the executor still saves the cells it ran: Slurm's own
            # word for a job whose processes are ending, until the output notebook is complete.
            state = JobState.COMPLETING
        return summarize(base, state, settings, progress, self.root_dir, str(job_dir.path))

    def _read(self, job_id: str):
        job_dir = self.jobs.store.find(job_id)
        if job_dir is None:
            raise JobNotFound(job_id)
        try:
            manifest = job_dir.manifest()
        except (OSError, ValueError):
            raise JobNotFound(job_id) from None
        if manifest.origin.kind != "notebook":
            raise NotANotebookJob(job_id)
        return job_dir, manifest, read_settings(job_dir), read_progress(job_dir)

    async def _job(self, job_id: str) -> Optional[Job]:
        try:
            return await self.jobs.lookup(job_id)
        except SlurmError:
            return None


# A killed executor never writes its end: after this long, Slurm's end is the end.
EXECUTOR_SAVE_SECONDS = 30.0


def _executor_saving(progress: Optional[dict], job: Job) -> bool:
    progress = progress or {}
    recent = job.ended is None or time.time() - job.ended < EXECUTOR_SAVE_SECONDS
    return progress.get("status") in ("starting", "running") and progress.get("ended_at") is None and recent


# -- for the kernel side (%tritonml run-notebook) ------------------------------------------------
def launcher_submitter(launcher: Launcher) -> Callable[[JobSpec, Origin], Awaitable[str]]:
    """A ``submit(spec, origin) -> job id`` without a server (what the magic has)."""

    async def submit(spec: JobSpec, origin: Origin) -> str:
        return (await launcher.launch(spec, origin)).job_id

    return submit


async def submit_notebook(
    path: str,
    *,
    submit: Callable[[JobSpec, Origin], Awaitable[Any]],
    root_dir: str = ".",
    parameters: Optional[dict[str, Any]] = None,
    kernel: Optional[str] = None,
    python: Optional[str] = None,
    kernel_specs: Any = None,
    **resources: Any,
) -> tuple[Any, str]:
    """Submit a notebook run; returns (what ``submit`` returned, absolute output path).

    For ``%tritonml run-notebook PATH [-p name value ...] [resources...]``: ``submit`` is
    ``JobService.submit`` on the server, or :func:`launcher_submitter` in a kernel. Raises pydantic's
    ValidationError (use jobs.spec.field_errors), BadJobRequest subclasses (KernelNotFound,
    PathOutsideRoot, BadNotebook), NotebookNotFound, or SlurmError.
    ``python`` must be an interpreter with nbclient (the Jupyter server's); default this one.
    """
    request = NotebookJobRequest(path=path, parameters=parameters or {}, kernel=kernel, **resources)
    prepared = await prepare(request, root_dir, kernel_specs=kernel_specs, python=python)
    result = await submit(prepared.spec, prepared.origin)
    job_id = result if isinstance(result, str) else result.id
    return result, output_path(prepared.settings, job_id)


__all__ = [
    "KernelInfo",
    "NotebookJobCreated",
    "NotebookJobStatus",
    "NotebookJobs",
    "NotebookParameters",
    "PreparedNotebookJob",
    "check_kernel",
    "notebook_parameters",
    "prepare",
    "read_progress",
    "read_settings",
    "launcher_submitter",
    "submit_notebook",
    "summarize",
]
