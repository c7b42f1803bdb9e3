"""A job's profile (``--profile``, issue 25): its summary, and its trace to download."""

from __future__ import annotations

from ..jobs.profile import DOWNLOAD_CHUNK, JobProfile, job_profile, read_chunk, trace_file
from .base import BaseHandler, endpoint

_TYPES = {"chrome-trace": "application/gzip", "nsys-rep": "application/octet-stream"}


class JobProfileHandler(BaseHandler):
    @endpoint(summary="The job's profile (--profile): its state, and the summary of its torch.profiler trace "
              "(top kernels or operators, the share of step time waiting for data, the GPU's idle gaps).",
              description="Computed on the server from the trace the job wrote, without a GPU; cached per trace.",
              response=JobProfile, errors=(400, 404))
    async def get(self, job_id: str) -> None:
        self.write_model(await job_profile(self.services.jobs, job_id))


class JobProfileTraceHandler(BaseHandler):
    @endpoint(summary="The job's profile file: the Chrome trace JSON (gzip; chrome://tracing, Perfetto, "
              "TensorBoard) or Nsight Systems' .nsys-rep.", errors=(400, 404),
              other_responses={200: ("The file, as an attachment", tuple(sorted(set(_TYPES.values()))))})
    async def get(self, job_id: str) -> None:
        jobs = self.services.jobs
        path, kind = await trace_file(jobs, job_id)
        name = f"{job_id}-{path.rsplit('/', 1)[-1]}"
        self.set_header("Content-Type", _TYPES[kind])
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.set_header("X-Content-Type-Options", "nosniff")
        offset = 0
        while True:
            chunk = await read_chunk(jobs, path, offset)
            if chunk:
                self.write(chunk)
                await self.flush()
                offset += len(chunk)
            if len(chunk) < DOWNLOAD_CHUNK:
                break
        self.finish()
