"""TensorBoards run by the Jupyter server: one child process per set of log directories, on a Unix socket
in a private directory, reused while it runs, stopped after ``idle_seconds`` without a request.

Nothing runs until the first open: no process, no task. While at least one TensorBoard runs, one asyncio
task stops the idle ones and converts the ``report(step=...)`` values of their job directories
(:mod:`.convert`) every ``reload_seconds``; it ends with the last TensorBoard. The Jupyter server
reaches each through ``handlers/tracking.py`` (jupyter-server-proxy's ProxyHandler on the socket).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .convert import INSTALL_HINT, ReportConverter, TrackingUnavailable

log = logging.getLogger(__name__)

SOCKET = "tb.sock"


@dataclass
class Target:
    """What a TensorBoard shows: ``(run name prefix, log directory)`` pairs, and the job directories whose
    report(step=...) values are converted into them."""

    logdirs: list[tuple[str, str]]
    job_dirs: list[Path] = field(default_factory=list)
    label: str = ""

    @property
    def key(self) -> str:
        text = "\n".join(f"{name}\t{path}" for name, path in sorted(self.logdirs))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Instance:
    id: str
    target: Target
    directory: str  # private (0700): the socket and TensorBoard's log
    process: subprocess.Popen
    started_at: float
    last_used: float
    ready: "asyncio.Future[None]"
    converted_at: float = 0.0

    @property
    def socket(self) -> str:
        return os.path.join(self.directory, SOCKET)

    def alive(self) -> bool:
        return self.process.poll() is None


def installed() -> bool:
    """TensorBoard, and jupyter-server-proxy to reach it, in the server's environment."""
    return all(importlib.util.find_spec(name) is not None for name in ("tensorboard", "jupyter_server_proxy"))


def _log_tail(directory: str, limit: int = 1500) -> str:
    try:
        with open(os.path.join(directory, "tensorboard.log"), "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - limit))
            return handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _answers(path: str) -> bool:
    """TensorBoard answers on its socket (its /data/environment)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(path)
            sock.sendall(b"GET /data/environment HTTP/1.0\r\nHost: localhost\r\n\r\n")
            return sock.recv(32).split(b" ")[1:2] == [b"200"]  # HTTP/1.x 200
    except OSError:
        return False


def _stop_process(process: subprocess.Popen, grace: float = 5.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class TensorBoards:
    """The TensorBoards of one Jupyter server."""

    def __init__(self, idle_seconds: float = 900.0, reload_seconds: float = 5.0, start_timeout: float = 60.0,
                 python: str = sys.executable) -> None:
        self.idle_seconds = idle_seconds
        self.reload_seconds = reload_seconds
        self.start_timeout = start_timeout
        self.python = python
        self.converter = ReportConverter()
        self._instances: dict[str, Instance] = {}
        self._watch: Optional[asyncio.Task[None]] = None
        self.started = 0  # processes started (tests: a second open reuses the first)

    # -- open, find, touch ------------------------------------------------------------------------
    async def open(self, target: Target) -> Instance:
        """The running TensorBoard of ``target``'s directories, or a new one once it answers."""
        key = target.key
        instance = self._instances.get(key)
        if instance is not None and (instance.alive() or not instance.ready.done()):
            instance.last_used = time.monotonic()
            await asyncio.shield(instance.ready)
            return instance
        if instance is not None:
            self._forget(instance)
        if not installed():
            raise TrackingUnavailable(f"TensorBoard or jupyter-server-proxy is not installed in the Jupyter "
                                      f"server's environment "
                                      f"({self.python}): {INSTALL_HINT}")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._convert, target)  # the first scalars are there at once
        directory, process = await loop.run_in_executor(None, self._spawn, key, target)
        now = time.monotonic()
        instance = Instance(id=key, target=target, directory=directory, process=process, started_at=now,
                            last_used=now, ready=loop.create_future())
        self._instances[key] = instance
        self.started += 1
        if self._watch is None or self._watch.done():
            self._watch = asyncio.ensure_future(self._watch_loop())
        try:
            await self._wait_ready(instance)
        except BaseException as exc:
            if not instance.ready.done():
                instance.ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
                instance.ready.exception()  # retrieved: others awaiting it get it too
            await self.stop(key)
            raise
        instance.ready.set_result(None)
        return instance

    def get(self, key: str) -> Optional[Instance]:
        instance = self._instances.get(key)
        return instance if instance is not None and instance.alive() else None

    def touch(self, key: str) -> None:
        instance = self._instances.get(key)
        if instance is not None:
            instance.last_used = time.monotonic()

    def running(self) -> list[Instance]:
        return [i for i in self._instances.values() if i.alive()]

    # -- processes ---------------------------------------------------------------------------------
    def _spawn(self, key: str, target: Target) -> tuple[str, subprocess.Popen]:
        directory = tempfile.mkdtemp(prefix="tritonml-tb-")  # 0700: only this user reaches the socket
        if len(target.logdirs) == 1 and not target.logdirs[0][0]:
            logdir = ["--logdir", target.logdirs[0][1]]
        else:
            logdir = ["--logdir_spec", ",".join(f"{name}:{path}" for name, path in target.logdirs)]
        argv = [self.python, "-m", "tritonml_lab.tracking.tbserve", *logdir,
                "--host", "unix://" + os.path.join(directory, SOCKET), "--port", "0",
                "--reload_interval", str(max(1, round(self.reload_seconds))), "--reload_multifile", "true",
                "--load_fast", "false"]
        with open(os.path.join(directory, "tensorboard.log"), "wb") as out:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, cwd=directory)
        log.info("tritonml-lab: TensorBoard %s started (pid %d) for %s", key, process.pid, target.label)
        return directory, process

    async def _wait_ready(self, instance: Instance) -> None:
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.start_timeout
        while True:
            if not instance.alive():
                raise TrackingUnavailable("TensorBoard stopped as it started: "
                                          + (_log_tail(instance.directory) or f"exit status {instance.process.returncode}"))
            if os.path.exists(instance.socket) and await loop.run_in_executor(None, _answers, instance.socket):
                return
            if time.monotonic() > deadline:
                raise TrackingUnavailable(f"TensorBoard did not answer within {self.start_timeout:.0f} s: "
                                          + _log_tail(instance.directory))
            await asyncio.sleep(0.1)

    async def stop(self, key: str) -> bool:
        instance = self._instances.get(key)
        if instance is None:
            return False
        self._forget(instance)
        await asyncio.get_running_loop().run_in_executor(None, self._reap, instance)
        return True

    def _forget(self, instance: Instance) -> None:
        if self._instances.get(instance.id) is instance:
            del self._instances[instance.id]

    @staticmethod
    def _reap(instance: Instance) -> None:
        _stop_process(instance.process)
        shutil.rmtree(instance.directory, ignore_errors=True)
        log.info("tritonml-lab: TensorBoard %s stopped", instance.id)

    def close(self) -> None:
        """Stop every TensorBoard (the server's shutdown; synchronous)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        for instance in list(self._instances.values()):
            self._forget(instance)
            self._reap(instance)

    # -- while any runs: idle stop and conversion --------------------------------------------------
    def _convert(self, target: Target) -> None:
        for job_dir in target.job_dirs:
            try:
                self.converter.convert(job_dir)
            except TrackingUnavailable:
                raise
            except Exception:  # noqa: BLE001 - one unreadable job must not stop the others' curves
                log.warning("tritonml-lab: report() steps of %s not converted", job_dir, exc_info=True)

    async def _watch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        tick = max(0.05, min(self.reload_seconds, self.idle_seconds / 4))
        while self._instances:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for instance in list(self._instances.values()):
                if not instance.ready.done():
                    continue
                if not instance.alive() or now - instance.last_used > self.idle_seconds:
                    log.info("tritonml-lab: TensorBoard %s idle for %.0f s: stopping", instance.id,
                             now - instance.last_used)
                    await self.stop(instance.id)
                elif now - instance.converted_at >= self.reload_seconds and instance.target.job_dirs:
                    instance.converted_at = now
                    try:
                        await loop.run_in_executor(None, self._convert, instance.target)
                    except TrackingUnavailable:
                        pass
