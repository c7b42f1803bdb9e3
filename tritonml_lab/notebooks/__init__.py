"""Notebook runs ("Run on GPU"): a whole notebook executed headless in a batch job.

* :mod:`.request`    ``POST notebook-jobs`` model and the root-directory path checks
* :mod:`.parameters` papermill's ``parameters`` cell: read defaults, inject values
* :mod:`.submit`     check the kernel, prepare and submit (the server's JobService or the kernel's launcher)
* ``server/notebook_jobs.py`` the server's ``POST notebook-jobs`` on top of it
* ``injob/notebook_executor.py`` runs IN the job with the server's Python (nbclient); imports nothing from here
"""

from .parameters import INJECTED_TAG, PARAMETERS_TAG, Parameter, inject_parameters, read_parameters
from .request import (
    BadNotebook,
    KernelNotFound,
    NotANotebookJob,
    NotebookJobRequest,
    NotebookNotFound,
    PathOutsideRoot,
    resolve_in_root,
)
from .kernels import NotebookParameters, check_kernel, notebook_parameters
from .progress import NotebookJobStatus
from .submit import (
    prepare,
    launcher_submitter,
    submit_notebook,
)

__all__ = [
    "INJECTED_TAG",
    "PARAMETERS_TAG",
    "BadNotebook",
    "KernelNotFound",
    "NotANotebookJob",
    "NotebookJobRequest",
    "NotebookJobStatus",
    "NotebookNotFound",
    "NotebookParameters",
    "Parameter",
    "PathOutsideRoot",
    "check_kernel",
    "inject_parameters",
    "notebook_parameters",
    "prepare",
    "read_parameters",
    "resolve_in_root",
    "launcher_submitter",
    "submit_notebook",
]
