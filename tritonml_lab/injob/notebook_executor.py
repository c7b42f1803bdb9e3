"""tritonml-lab's in-job notebook executor ("Run on GPU").

Runs inside the batch job with the Jupyter SERVER environment's Python (which has nbclient), as its own
process; the notebook's code runs in a kernel of the user's kernelspec, as in JupyterLab. It imports
nothing from tritonml-lab, so the job keeps working if the package is upgraded while it waits.
One file (over 400 lines) for the same reason: it is copied into the job and run by path, so it
cannot import a sibling module.

Started by the job's ``user.sh``: ``python executor.py --script user.sh`` with, on stdin, one line of
JSON settings followed by the notebook to run (parameters already injected at submission).

While it runs it keeps, atomically rewritten:
  * the output notebook (``<name>.<jobid>.ipynb`` next to the original, or the configured directory),
    saved after every cell and every ``save_interval`` seconds while a long cell prints;
  * ``progress.json`` in the job directory: status, cell k of N, the executing cell and the tail of its
    output, the failing cell with its traceback, the output path;
  * ``output.ipynb`` in the job directory, a link to the output notebook.
Cell output is also echoed to stdout (the job's stdout.log), so it can be followed by offset.

SIGTERM (scancel, time limit, preemption: Slurm sends SIGTERM, then SIGKILL after KillWait) marks the
running cell as interrupted and saves everything done so far. A dead kernel (out of memory) marks it
too. Exit status: 0 completed, 1 a cell failed or the kernel died, 4 bad setup, 143 stopped by SIGTERM,
99 stopped for the time limit to be requeued.

Long jobs (``--warn``, ``--requeue``; the batch script sets TRITONML_END_TIME and TRITONML_WARN_SECONDS):
the warning's lead before the limit, the notebook is saved at once with "stopped at the time limit in
cell k" on the running cell (what stays if the job is then killed). With restarts left, no further cell
starts; a cell still running at half the lead is interrupted; then the job is requeued and the notebook
runs again from the top into the same output file, with ``tritonml.restarts() > 0`` (cells
``import tritonml``: the job directory's tritonml_checkpoint.py, on the kernel's PYTHONPATH). A cell that
calls ``tritonml.requeue()`` stops the run the same way.
"""

import os
import sys

if __name__ == "__main__" and sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(
    os.path.abspath(__file__)
):
    del sys.path[0]  # run by path: never let this folder's modules shadow installed ones

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

PROGRESS = "progress.json"
OUTPUT_LINK = "output.ipynb"
EXIT_FAILED, EXIT_SETUP, EXIT_STOPPED, EXIT_REQUEUE = 1, 4, 143, 99
CHECKPOINT_MODULE = "tritonml_checkpoint.py"  # copied into every job directory
KERNEL_LIB = ".tritonml-kernel"  # in the job directory: tritonml.py for the notebook's kernel
TAIL_CHARS = 4000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text):
    return _ANSI.sub("", text)


def _atomic_write(path, text):
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, ".%s.%d.tmp" % (name, os.getpid()))
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _process_start_time(pid):
    """Epoch seconds at which ``pid`` started (Linux), or None: the batch script's start."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        with open("/proc/stat") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime"))
        return boot + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _env_float(name):
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return None


def _ipc_dir():
    """A private directory for the kernel's sockets on this node's local disk (TMPDIR, or /tmp when
    its path is too long for a socket's), removed when the executor ends."""
    import atexit
    import shutil
    import tempfile

    base = os.environ.get("TMPDIR") or "/tmp"
    if len(base) > 60 or not os.path.isdir(base):
        base = "/tmp"
    path = tempfile.mkdtemp(prefix="tritonml-kernel-", dir=base)
    atexit.register(shutil.rmtree, path, True)
    return path


def _kernel_path(job_dir):
    """Put the job's tritonml_checkpoint.py on the kernel's PYTHONPATH as ``tritonml``."""
    source = os.path.join(job_dir, CHECKPOINT_MODULE)
    if not os.path.exists(source):
        return
    lib = os.path.join(job_dir, KERNEL_LIB)
    try:
        os.makedirs(lib, exist_ok=True)
        with open(source, encoding="utf-8") as handle:
            _atomic_write(os.path.join(lib, "tritonml.py"), handle.read())
    except OSError:
        return
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [lib, os.environ.get("PYTHONPATH")]))


def _cell_text(cell):
    """The text outputs of a cell so far (stream text and plain-text results), ANSI stripped."""
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            text = output.get("data", {}).get("text/plain")
            if text:
                parts.append((text if isinstance(text, str) else "".join(text)) + "\n")
        elif kind == "error":
            parts.append("\n".join(output.get("traceback", [])) + "\n")
    return strip_ansi("".join(parts))


class Run:
    """One execution of one notebook in one job."""

    def __init__(self, job_dir, settings, notebook_text):
        import nbformat

        self.nbformat = nbformat
        self.job_dir = job_dir
        self.settings = settings
        self.nb = nbformat.reads(notebook_text, as_version=4)
        self.job_id = os.environ.get("SLURM_JOB_ID") or "local"
        self.started_at = time.time()
        self.stop_reason = None
        self.client = None
        self.executing = None  # (index, number, started_at)
        self.cells_done = 0
        self.code_cells = [
            i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and c.source.strip()
        ]
        self.progress = {
            "version": 1,
            "status": "starting",
            "job_id": self.job_id,
            "host": socket.gethostname(),
            "notebook": settings.get("notebook"),
            "kernel": settings.get("kernel"),
            "batch_started_at": _process_start_time(os.getppid()),
            "started_at": self.started_at,
            "kernel_ready_at": None,
            "first_cell_at": None,
            "updated_at": self.started_at,
            "ended_at": None,
            "cells_total": len(self.code_cells),
            "cells_done": 0,
            "executing": None,
            "failed_cell": None,
            "message": None,
            "output": None,
        }
        self.output_path = self._output_path()
        self.progress["output"] = self.output_path
        self._dirty_output = False
        self._last_save = 0.0
        self._last_progress = 0.0
        self.end_time = _env_float("TRITONML_END_TIME")
        self.warn_seconds = _env_float("TRITONML_WARN_SECONDS")
        restarts, most = _env_float("TRITONML_RESTARTS") or 0, _env_float("TRITONML_REQUEUE_MAX") or 0
        self.requeue_left = restarts < most
        self.time_limit_cell = None  # the cell number running when the warning's lead came
        self.warning_task = None

    # -- files ---------------------------------------------------------------------------------
    def _output_path(self):
        name = self.settings["output_name"].replace("{job_id}", self.job_id)
        for directory in (self.settings.get("output_dir"), self.job_dir):
            if not directory:
                continue
            path = os.path.join(directory, name)
            try:
                os.makedirs(directory, exist_ok=True)
                probe = os.path.join(directory, ".%s.%d.probe" % (name, os.getpid()))
                with open(probe, "w"):
                    pass
                os.unlink(probe)
            except OSError as exc:
                self.say("cannot write to %s (%s); the output goes to the job directory" % (directory, exc))
                continue
            return path
        return os.path.join(self.job_dir, name)

    def say(self, message):
        sys.stderr.write("tritonml: %s\n" % message)
        sys.stderr.flush()

    def save_notebook(self):
        meta = self.nb.metadata.setdefault("tritonml", {})
        meta.update(
            job_id=self.job_id,
            host=self.progress["host"],
            status=self.progress["status"],
            parameters=self.settings.get("parameters", {}),
            source=self.settings.get("notebook"),
            started_at=self.started_at,
            ended_at=self.progress["ended_at"],
        )
        from nbformat.v4 import nbjson

        _atomic_write(self.output_path, nbjson.writes(self.nb))
        self._last_save = time.time()
        self._dirty_output = False

    def write_progress(self):
        self.progress["updated_at"] = time.time()
        self.progress["cells_done"] = self.cells_done
        if self.executing is not None:
            index, number, started = self.executing
            self.progress["executing"] = {
                "index": index,
                "number": number,
                "started_at": started,
                "output_tail": _cell_text(self.nb.cells[index])[-TAIL_CHARS:],
            }
        else:
            self.progress["executing"] = None
        _atomic_write(os.path.join(self.job_dir, PROGRESS), json.dumps(self.progress, indent=1))
        self._last_progress = time.time()

    def link_output(self):
        link = os.path.join(self.job_dir, OUTPUT_LINK)
        if os.path.abspath(self.output_path) == os.path.abspath(link):
            return
        tmp = link + ".%d.tmp" % os.getpid()
        try:
            os.symlink(self.output_path, tmp)
            os.replace(tmp, link)
        except OSError as exc:
            self.say("cannot link %s: %s" % (link, exc))

    # -- running -------------------------------------------------------------------------------
    def make_client(self):
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient

        run = self
        kernel_name, kernel_dir = self.settings["kernel"], self.settings.get("kernel_dir")

        class PinnedSpecs(KernelSpecManager):
            """The exact kernelspec the server checked (wherever it lives); others by name."""

            def get_kernel_spec(self, name):
                if name == kernel_name and kernel_dir and os.path.isfile(os.path.join(kernel_dir, "kernel.json")):
                    return self.kernel_spec_class.from_resource_dir(kernel_dir)
                return super().get_kernel_spec(name)

        class Client(NotebookClient):
            def create_kernel_manager(self):
                # The kernel listens on Unix sockets in a private directory, not on TCP ports: choosing
                # free ports and binding them later races with every other process on the node
                # (the kernel then dies with "ZMQError: Address already in use").
                self.km = AsyncKernelManager(kernel_name=self.kernel_name, kernel_spec_manager=PinnedSpecs(),
                                             transport="ipc", ip=os.path.join(_ipc_dir(), "kernel"))
                return self.km

            def output(self, outs, msg, display_id, cell_index):
                out = super().output(outs, msg, display_id, cell_index)
                if msg["msg_type"] == "stream":
                    stream = sys.stdout if msg["content"].get("name") == "stdout" else sys.stderr
                    stream.write(msg["content"].get("text", ""))
                    stream.flush()
                run._dirty_output = True
                return out

        return Client(
            self.nb,
            kernel_name=self.settings["kernel"],
            timeout=None,
            startup_timeout=int(self.settings.get("startup_timeout", 300)),
            shutdown_kernel="immediate",
            record_timing=True,
            resources={"metadata": {"path": self.settings.get("cwd") or os.getcwd()}},
        )

    def on_stop(self, signum):
        if self.stop_reason is not None:
            return
        self.stop_reason = signal.Signals(signum).name
        self.say("received %s: saving what is done and stopping" % self.stop_reason)
        task = getattr(self.client, "task_poll_for_reply", None) if self.client else None
        if task is not None and not task.done():
            task.cancel()  # nbclient turns this into DeadKernelError; stop_reason tells them apart
        elif self.main_task is not None:
            self.main_task.cancel()

    async def ticker(self):
        """Live progress (at most once a second) and a save every save_interval inside long cells."""
        interval = float(self.settings.get("save_interval", 30))
        while True:
            await asyncio.sleep(1.0)
            if not self._dirty_output:
                continue
            now = time.time()
            if now - self._last_progress >= 1.0:
                self.write_progress()
            if now - self._last_save >= interval:
                self.save_notebook()

    def mark_cell(self, index, status, **extra):
        cell = self.nb.cells[index]
        cell.metadata["tritonml"] = dict(cell.metadata.get("tritonml") or {}, status=status, **extra)

    def fail(self, index, number, ename, evalue, traceback, status="failed", message=None):
        self.progress["status"] = status
        self.progress["failed_cell"] = {
            "index": index,
            "number": number,
            "cell_id": self.nb.cells[index].get("id") if index is not None else None,
            "ename": ename,
            "evalue": evalue,
            "traceback": [strip_ansi(line) for line in traceback][-60:],
        }
        self.progress["message"] = message

    async def execute(self):
        from nbclient.exceptions import CellExecutionError, DeadKernelError
        from jupyter_client.utils import ensure_async

        loop = asyncio.get_running_loop()
        self.main_task = asyncio.current_task()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.on_stop, signum)
        if self.warn_seconds is not None:
            loop.add_signal_handler(signal.SIGUSR1, self.on_warning)
            if self.end_time is not None:
                self.on_warning()  # its lead is known: no need to wait for Slurm's (early) signal
        self.save_notebook()
        self.link_output()
        self.write_progress()
        client = self.client = self.make_client()
        client.reset_execution_trackers()
        ticker = None
        code = 0
        try:
            async with client.async_setup_kernel():
                # nbclient installs its own SIGTERM handler (kill the kernel at once); ours saves first.
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(signum, self.on_stop, signum)
                if self.stop_reason:
                    raise asyncio.CancelledError
                info = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
                if info and "language_info" in info["content"]:
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                self.progress["kernel_ready_at"] = time.time()
                self.progress["status"] = "running"
                ticker = asyncio.ensure_future(self.ticker())
                code = await self._cells(CellExecutionError, DeadKernelError)
                client.set_widgets_metadata()
        except asyncio.CancelledError:
            code = self._stopped(None, None)
        except Exception as exc:  # kernel did not start, or nbclient failed: say so in the progress
            if self.stop_reason:
                code = self._stopped(None, None)
            else:
                self.fail(None, None, type(exc).__name__, str(exc), [], message="the kernel could not be started or run: %s" % exc)
                code = EXIT_FAILED
        finally:
            if ticker is not None:
                ticker.cancel()
            if self.warning_task is not None:
                self.warning_task.cancel()
            self.executing = None
            self.progress["ended_at"] = time.time()
            self.save_notebook()
            self.write_progress()
        return code

    async def _cells(self, CellExecutionError, DeadKernelError):
        client = self.client
        for number, index in enumerate(self.code_cells, start=1):
            cell = self.nb.cells[index]
            if self.time_limit_cell is not None and self.requeue_left:
                return self._requeue(number, "the time limit is near")
            now = time.time()
            if self.progress["first_cell_at"] is None:
                self.progress["first_cell_at"] = now
            self.executing = (index, number, now)
            self.mark_cell(index, "running", started_at=now)
            self.write_progress()
            print("tritonml: cell %d of %d (notebook cell %d)" % (number, len(self.code_cells), index + 1), flush=True)
            try:
                await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            except CellExecutionError as exc:
                if self.stop_reason:
                    return self._stopped(index, number)
                error = next((o for o in cell.outputs if o.get("output_type") == "error"), None)
                ename = getattr(exc, "ename", None) or (error or {}).get("ename", "Error")
                evalue = getattr(exc, "evalue", None) or (error or {}).get("evalue", "")
                if ename == "Requeue" or (ename == "KeyboardInterrupt" and self.time_limit_cell is not None):
                    self.mark_cell(index, "interrupted", ended_at=time.time(), reason="time limit")
                    return self._requeue(number, "tritonml.requeue()" if ename == "Requeue" else "interrupted")
                traceback = (error or {}).get("traceback") or str(exc).splitlines()
                self.mark_cell(index, "failed", ended_at=time.time())
                self.fail(index, number, ename, evalue, traceback,
                          message="cell %d of %d raised %s: %s" % (number, len(self.code_cells), ename, evalue))
                self.say("cell %d raised %s: %s" % (index + 1, ename, evalue))
                return EXIT_FAILED
            except DeadKernelError:
                await asyncio.sleep(0.3)  # a SIGTERM to the whole job may reach the kernel first
                if self.stop_reason:
                    return self._stopped(index, number)
                text = "The kernel died while this cell ran (out of memory, or killed)."
                self._error_output(cell, "KernelDied", text)
                self.mark_cell(index, "interrupted", ended_at=time.time(), reason="kernel died")
                self.fail(index, number, "KernelDied", text, [], message=text)
                return EXIT_FAILED
            self.cells_done += 1
            self.executing = None
            self.mark_cell(index, "done", ended_at=time.time())
            self.save_notebook()
            self.write_progress()
        self.progress["status"] = "completed"
        return 0

    def _error_output(self, cell, ename, evalue):
        from nbformat.v4 import new_output

        merged = []  # nbclient merges a cell's stream outputs only when it completes
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (output.get("output_type") == "stream" and last is not None
                    and last.get("output_type") == "stream" and last.get("name") == output.get("name")):
                last["text"] += output.get("text", "")
            else:
                merged.append(output)
        cell["outputs"] = merged
        cell.setdefault("outputs", []).append(
            new_output("error", ename=ename, evalue=evalue, traceback=["%s: %s" % (ename, evalue)])
        )

    # -- long jobs: the time limit ---------------------------------------------------------------
    def on_warning(self):
        if self.warning_task is None:
            self.warning_task = asyncio.ensure_future(self._time_limit())

    async def _time_limit(self):
        """At the lead asked for (Slurm's signal comes up to a minute early): save the notebook as it
        would stay if the job were killed now; with restarts left, interrupt a cell still running at
        half the lead, so that the job can requeue before the limit."""
        lead = self.warn_seconds or 0
        if self.end_time is not None:
            await asyncio.sleep(max(0.0, self.end_time - time.time() - lead))
        executing = self.executing
        self.time_limit_cell = executing[1] if executing else len(self.code_cells)
        self.say("the time limit is %s s away (in cell %d)" % (
            "%.0f" % (self.end_time - time.time()) if self.end_time else "?", self.time_limit_cell))
        self._save_stopped_copy()
        if not self.requeue_left or executing is None or self.end_time is None:
            return
        await asyncio.sleep(max(0.0, self.end_time - time.time() - lead / 2))
        if self.executing is not None and self.client is not None and getattr(self.client, "km", None):
            self.say("cell %d still runs: interrupting it to requeue before the limit" % self.executing[1])
            from jupyter_client.utils import ensure_async

            await ensure_async(self.client.km.interrupt_kernel())

    def _time_limit_text(self):
        return "stopped at the time limit in cell %d of %d" % (self.time_limit_cell or 0, len(self.code_cells))

    def _save_stopped_copy(self):
        """The output notebook with the running cell marked as stopped at the time limit; the run
        goes on (a later save replaces it when the cell ends in time)."""
        import copy

        if self.executing is None:
            return
        index = self.executing[0]
        saved = self.nb
        self.nb = copy.deepcopy(saved)
        try:
            self._error_output(self.nb.cells[index], "TimeLimit", "The job " + self._time_limit_text() + ".")
            self.mark_cell(index, "interrupted", ended_at=time.time(), reason="time limit")
            self.save_notebook()
        finally:
            self.nb = saved
        self.progress["message"] = "The job reached its time-limit warning in cell %d." % self.time_limit_cell
        self.write_progress()

    def _requeue(self, number, why):
        """Stop this run for the time limit: exit 99, the batch script requeues the job."""
        self.executing = None
        restarts = int(_env_float("TRITONML_RESTARTS") or 0)
        most = int(_env_float("TRITONML_REQUEUE_MAX") or 0)
        again = ("it runs again from the top (restart %d of %d)" % (restarts + 1, most)
                 if restarts < most else "no restart is left (--requeue %d)" % most)
        self.progress["status"] = "interrupted"
        self.progress["message"] = "The job %s (%s); %s." % (
            "stopped at the time limit in cell %d of %d" % (number, len(self.code_cells)), why, again)
        self.say(self.progress["message"])
        return EXIT_REQUEUE

    def _stopped(self, index, number):
        if index is None and self.executing is not None:
            index, number, _ = self.executing
        text = "The job was stopped (%s: cancelled, out of time or preempted) while this cell ran." % (
            self.stop_reason or "signal"
        )
        if self.time_limit_cell is not None:
            text = "The job %s (%s)." % (self._time_limit_text(), self.stop_reason or "signal")
        if index is not None:
            self._error_output(self.nb.cells[index], "JobStopped", text)
            self.mark_cell(index, "interrupted", ended_at=time.time(), reason=self.stop_reason)
        self.fail(index, number, "JobStopped", text, [], status="interrupted", message=text)
        return EXIT_STOPPED


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--job-dir", help="the job directory")
    where.add_argument("--script", help="the job's user.sh (its folder is the job directory)")
    args = parser.parse_args(argv)
    job_dir = os.path.abspath(args.job_dir or os.path.dirname(os.path.abspath(args.script)))
    try:
        settings = json.loads(sys.stdin.readline())
        notebook_text = sys.stdin.read()
        run = Run(job_dir, settings, notebook_text)
    except Exception as exc:  # noqa: BLE001 - reported in the log and progress.json
        sys.stderr.write("tritonml: cannot set up the notebook run: %s\n" % exc)
        try:
            _atomic_write(os.path.join(job_dir, PROGRESS), json.dumps(
                {"version": 1, "status": "failed", "message": "cannot set up the notebook run: %s" % exc,
                 "updated_at": time.time(), "ended_at": time.time()}))
        except OSError:
            pass
        return EXIT_SETUP
    run.main_task = None
    _kernel_path(job_dir)
    return asyncio.run(run.execute())


if __name__ == "__main__":
    sys.exit(main())
