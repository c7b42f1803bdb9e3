"""TensorBoard: open one for a job, a sweep or a folder; list and stop them; and the proxy that serves
each through the Jupyter server (jupyter-server-proxy's ProxyHandler on TensorBoard's Unix socket, with
the server's authentication, under base_url)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyter_server.utils import url_path_join
from tornado import web

from ...jobs import BadJobRequest, JobNotFound
from ...tracking import Instance, Target, TrackingUnavailable, targets
from ...tracking.models import TensorBoardInfo, TensorBoardList, TensorBoardOpen, WandbSync, WandbSyncResult
from .base import AUTH_RESOURCE, BaseHandler, endpoint
from .contract import PATH_PARAMETERS

PATH_PARAMETERS.setdefault("tb_id", {
    "description": "A TensorBoard's id (the same for the same folders).",
    "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}})

_OPEN = """Starts TensorBoard as a child process of the Jupyter server (or reuses the one already running
for the same folders), after writing each task's `tritonml.report(step=...)` values as TensorBoard
scalars (one run per task, named by its parameters). Answers once it serves; open `url` in a tab. It is
stopped after `idle_seconds` without a request. 400: not exactly one of job/sweep/path, a folder outside
the Jupyter root and the jobs directory, or TensorBoard not installed in the server's environment (the
message says how to install it); 404: no such job, sweep or folder."""


def _info(handler: BaseHandler, instance: Instance, started: bool) -> TensorBoardInfo:
    return TensorBoardInfo(
        id=instance.id,
        url=url_path_join(handler.base_url, "tritonml", "tensorboard", instance.id) + "/",
        label=instance.target.label,
        logdirs=[path for _name, path in instance.target.logdirs],
        started=started,
        idle_seconds=handler.services.tensorboards.idle_seconds,
    )


def target_of(services, request: TensorBoardOpen) -> Target:
    """The folders of a job, a sweep or a folder (blocking: run in a worker thread)."""
    jobs_root = Path(services.store.root)
    if request.job:
        return targets.for_job(services.store, request.job)
    if request.sweep:
        return targets.for_sweep(services.sweeps.manifests, jobs_root, request.sweep)
    return targets.for_folder(request.path or "", services.root_dir, jobs_root)


class TensorBoardsHandler(BaseHandler):
    @endpoint(summary="The TensorBoards running for this server.", response=TensorBoardList)
    async def get(self) -> None:
        running = self.services.tensorboards.running()
        self.write_model(TensorBoardList(tensorboards=[_info(self, i, False) for i in running]))

    @endpoint(summary="Open TensorBoard for a job, a sweep or a folder.", description=_OPEN,
              body=TensorBoardOpen, response=TensorBoardInfo, errors=(400, 404, 413))
    async def post(self) -> None:
        request: TensorBoardOpen = await self.body("a JSON object: job, sweep or path", with_defaults=False)
        target = await asyncio.get_running_loop().run_in_executor(None, target_of, self.services, request)
        why = targets.check_spec(target)
        if why:
            raise BadJobRequest(why)
        boards = self.services.tensorboards
        before = boards.started
        instance = await boards.open(target)
        self.write_model(_info(self, instance, boards.started != before))


class TensorBoardHandler(BaseHandler):
    @endpoint(summary="Stop a TensorBoard now.", response=TensorBoardList, errors=(404,))
    async def delete(self, tb_id: str) -> None:
        boards = self.services.tensorboards
        if not await boards.stop(tb_id):
            raise JobNotFound(f"TensorBoard {tb_id}")
        self.write_model(TensorBoardList(tensorboards=[_info(self, i, False) for i in boards.running()]))


class WandbSyncHandler(BaseHandler):
    @endpoint(summary="Sync to W&B: `wandb sync` of a job's or a sweep's offline runs.",
              description="Runs in the Jupyter server's environment, without a shell, when wandb is installed "
              "there and the user is logged in; else (and with dry_run) says what would run and what is missing. "
              "404: no such job or sweep, or no offline runs in its directories.",
              body=WandbSync, response=WandbSyncResult, errors=(400, 404, 413))
    async def post(self) -> None:
        from ...tracking.wandb import offline_runs, sync

        request: WandbSync = await self.body("a JSON object: job or sweep, dry_run", with_defaults=False)
        open_request = TensorBoardOpen(job=request.job, sweep=request.sweep)
        loop = asyncio.get_running_loop()
        target = await loop.run_in_executor(None, target_of, self.services, open_request)
        runs = await loop.run_in_executor(None, offline_runs, target.job_dirs)
        if not runs:
            raise JobNotFound(f"W&B offline runs in {target.label} (submit with --wandb where offline mode is on, "
                              "or WANDB_MODE=offline)")
        self.write_model(WandbSyncResult.model_validate(await sync(runs, dry_run=request.dry_run)))


def proxy_handler():
    """The proxy's handler class (jupyter-server-proxy imported only when TensorBoard is wanted)."""
    from jupyter_server_proxy.handlers import ProxyHandler

    class TensorBoardProxyHandler(ProxyHandler):
        """``{base_url}tritonml/tensorboard/{id}/...`` -> the TensorBoard ``id``, on its Unix socket.
        Authenticated by ProxyHandler.prepare, authorized here like every tritonml route."""

        auth_resource = AUTH_RESOURCE

        def initialize(self) -> None:
            self.tb_id = ""

        async def prepare(self, *args, **kwargs) -> None:
            await super().prepare(*args, **kwargs)
            action = "read" if self.request.method in ("GET", "HEAD", "OPTIONS") else "write"
            if not self.authorizer.is_authorized(self, self.current_user, action, AUTH_RESOURCE):
                raise web.HTTPError(403)

        def _select(self, tb_id: str) -> None:
            services = self.settings.get("tritonml")
            instance = services.tensorboards.get(tb_id) if services is not None else None
            if instance is None or not instance.ready.done():
                raise web.HTTPError(404, reason="This TensorBoard is not running (stopped when idle): open it again")
            self.tb_id = tb_id
            self.unix_socket = instance.socket
            services.tensorboards.touch(tb_id)

        def _get_context_path(self, host, port):
            return url_path_join(self.base_url, "tritonml", "tensorboard", self.tb_id)

        async def http_get(self, tb_id: str, proxied_path: str):
            self._select(tb_id)
            return await self.proxy("localhost", 80, "/" + proxied_path)

        async def open(self, tb_id: str, proxied_path: str):
            raise web.HTTPError(400, reason="TensorBoard uses no WebSocket")

        async def _any(self, tb_id: str, proxied_path: str):
            self._select(tb_id)
            return await self.proxy("localhost", 80, "/" + proxied_path)

        post = put = delete = head = patch = options = _any

    return TensorBoardProxyHandler


__all__ = ["TensorBoardHandler", "TensorBoardsHandler", "TrackingUnavailable", "WandbSyncHandler", "proxy_handler"]
