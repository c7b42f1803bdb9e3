"""Notebook runs ("Run on GPU"): submit, progress, and a notebook's parameters."""

from __future__ import annotations

from jupyter_server.utils import url_path_join

from ..api_models import NotebookParametersQuery
from ...jobs import BadJobRequest
from ...notebooks import NotebookJobRequest, NotebookJobStatus, NotebookParameters
from ..notebook_jobs import NotebookJobCreated
from .base import BaseHandler, endpoint


class NotebookJobsHandler(BaseHandler):
    @endpoint(summary='Run a whole notebook headless in a batch job ("Run on GPU").',
              description="The kernel (default the notebook's own) is checked to exist where jobs run; the "
              "executed copy is saved after every cell as `<name>.<jobid>.ipynb` next to the notebook (or in "
              "output_dir). Nothing is submitted on an error.",
              body=NotebookJobRequest, response=NotebookJobCreated, status=201,
              errors=(400, 404, 413, 422, 503, 507))
    async def post(self) -> None:
        request: NotebookJobRequest = await self.body("a JSON object with path, parameters, kernel and job fields")
        job = await self.services.notebooks.submit(request)
        self.set_header("Location", url_path_join(self.base_url, "tritonml", "notebook-jobs", job.id))
        self.write_model(job, status=201)


class NotebookJobHandler(BaseHandler):
    @endpoint(summary="A notebook run's progress (cell k of N, live output), failing cell, and output notebook.",
              response=NotebookJobStatus, errors=(400, 404))
    async def get(self, job_id: str) -> None:
        self.write_model(await self.services.notebooks.status(job_id))


class NotebookParametersHandler(BaseHandler):
    @endpoint(summary="The parameters (cell tagged `parameters`) and kernel of a notebook, for the run dialog.",
              response=NotebookParameters, query=NotebookParametersQuery, errors=(400, 404))
    async def get(self) -> None:
        path = self.get_argument("path", "")
        if not path:
            raise BadJobRequest("Give the notebook's path: ?path=dir/notebook.ipynb")
        self.write_model(await self.services.notebooks.parameters(path))
