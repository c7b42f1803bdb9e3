"""Notebook runs ("Run on GPU"): prepare and submit a notebook as a batch job (kernels.py checks the
notebook and its kernel; progress.py reads a run).

Domain logic only (no Tornado), shared by the kernel (``%tritonml run-notebook``) and the server
(``server/notebook_jobs.py``). A notebook job is an ordinary tritonml-lab job (the monitor, the panel and
``GET jobs`` see it) whose ``user.sh`` starts the executor (``injob/notebook_executor.py``, with
the SERVER environment's Python) and hands it, on stdin, the settings and a snapshot of the notebook
taken at submission (outputs cleared, parameters injected). The notebook's code runs in a kernel of the
user's kernelspec, which is checked to exist before anything is submitted.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

from pydantic import ValidationError

from .. import injob
from ..jobs.launcher import Launcher
from ..jobs.script import Defaults
from ..jobs.spec import MAX_CODE, JobSpec, compose, parse
from ..jobs.store import Origin
from .kernels import KernelInfo, NotebookParameters, check_kernel, load_notebook, notebook_kernel_name
from .kernels import notebook_parameters
from .parameters import inject_parameters
from .progress import HEREDOC, NotebookJobStatus, output_path, read_progress, read_settings
from .progress import summarize
from .request import (
    BadNotebook,
    KernelNotFound,
    NotebookJobRequest,
    relative_to_root,
    resolve_in_root,
)

EXECUTOR = injob.NOTEBOOK_EXECUTOR
OUTPUT_NAME = "{stem}.{job_id}.ipynb"
_JOB_NAME = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass
class PreparedNotebookJob:
    spec: JobSpec
    origin: Origin
    settings: dict[str, Any]
    kernel: KernelInfo
    output_dir: Path


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
    if len(script) > MAX_CODE:
        raise BadNotebook(f"The notebook is {len(script):,} bytes as it will run (outputs cleared); a job takes "
                          f"at most {MAX_CODE:,}. Keep large data in files the notebook reads.")
    # The request's resources, checked when it was (with the admin's defaults); the script is ours.
    named = {} if request.name else {"name": _job_name(stem)}
    spec = compose(JobSpec, request, script=script, **named)
    try:
        origin = Origin(kind="notebook", notebook=notebook_rel, kernel=kernel.name)
    except ValidationError:  # a name on disk (through a symlink) with a control character in it
        raise BadNotebook("The notebook's path has a control character; rename it to run it.") from None
    return PreparedNotebookJob(spec=spec, origin=origin, settings=settings, kernel=kernel, output_dir=output_dir)


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
    defaults: Optional[Defaults] = None,
    **resources: Any,
) -> tuple[Any, str]:
    """Submit a notebook run; returns (what ``submit`` returned, absolute output path).

    For ``%tritonml run-notebook PATH [-p name value ...] [resources...]``: ``submit`` is
    ``JobService.submit`` on the server, or :func:`launcher_submitter` in a kernel. Raises
    BadJobRequest subclasses (InvalidRequest, per field; KernelNotFound, PathOutsideRoot,
    BadNotebook), NotebookNotFound, or SlurmError.
    ``python`` must be an interpreter with nbclient (the Jupyter server's); default this one.
    ``defaults``: the admin's, applied before the one validation (the submitter's launcher's).
    """
    request = parse(NotebookJobRequest, dict(path=path, parameters=parameters or {}, kernel=kernel, **resources),
                    defaults)
    prepared = await prepare(request, root_dir, kernel_specs=kernel_specs, python=python)
    result = await submit(prepared.spec, prepared.origin)
    job_id = result if isinstance(result, str) else result.id
    return result, output_path(prepared.settings, job_id)


__all__ = [
    "KernelInfo",
    "NotebookJobStatus",
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
