"""Notebook runs: the notebook and its kernel, checked before anything is submitted.

``GET notebook-parameters`` (what the Run on GPU dialog shows) and the kernel check of a submission:
the kernelspec must exist where jobs run (same filesystem and environment as the server), with its
program present.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

import nbformat
from pydantic import BaseModel, Field

from .parameters import Parameter, parameters_cell_index, read_parameters
from .request import BadNotebook, KernelNotFound, NotebookNotFound, resolve_in_root

MAX_NOTEBOOK_BYTES = 64 << 20


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
