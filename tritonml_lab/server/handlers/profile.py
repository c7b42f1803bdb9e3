"""A job's profile (``--profile``, issue 25): its summary, and its trace to download."""

from __future__ import annotations

from ..job_profile import DOWNLOAD_CHUNK, JobProfile, job_profile, read_chunk, trace_file
from .base import BaseHandler, endpoint

_TYPES = {"chrome-trace": "application/gzip", "nsys-rep": "application/octet-stream"}


class JobProfileHandler(BaseHandler):
    @endpoint(summary="The job's profile (--profile): its state, and the summary of its torch.profiler trace "
              "(top kernels or operators, the share of step time waiting for data, the GPU's idle gaps).",
              description="Computed on the server from the trace the job wrote, without a GPU; cached per trace.",
              response=JobProfile, errors=(400, 404))
    async def get(self, job_id: str) -> None:
        services = self.services
        self.write_model(await job_profile(services.files, services.thresholds, job_id))


class JobProfileTraceHandler(BaseHandler):
    @endpoint(summary="The job's profile file: the Chrome trace JSON (gzip; chrome://tracing, Perfetto, "
              "TensorBoard) or Nsight Systems' .nsys-rep.", errors=(400, 404),
              other_responses={200: ("The file, as an attachment", tuple(sorted(set(_TYPES.values()))))})
    async def get(self, job_id: str) -> None:
        files = self.services.files
        path, kind = await trace_file(files, job_id)
        name = f"{job_id}-{path.rsplit('/', 1)[-1]}"
        self.set_header("Content-Type", _TYPES[kind])
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.set_header("X-Content-Type-Options", "nosniff")
        offset = 0
        while True:
            chunk = await read_chunk(files, path, offset)
            if chunk:
                self.write(chunk)
                await self.flush()
                offset += len(chunk)
            if len(chunk) < DOWNLOAD_CHUNK:
                break
        self.finish()
