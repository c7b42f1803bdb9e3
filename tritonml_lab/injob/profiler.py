"""tritonml-lab's in-job profiler (``--profile torch``): PyTorch's profiler for a few steps after warm-up.

Copied into the job directory as ``profile-hook/sitecustomize.py``; the batch script puts that folder
first on ``PYTHONPATH`` and sets ``TRITONML_PROFILE=torch`` and ``TRITONML_PROFILE_DIR``, so every
Python the job starts loads it (it also answers to ``import tritonml_profile``). Standard library
only: the job's Python often lacks tritonml-lab, and torch is imported only by the program itself.

Two ways to say what a step is:

- **automatic**, for the usual training loop: once the program imports torch, a global
  ``optimizer.step()`` post-hook (the first optimizer only) counts steps. After ``wait`` steps (the
  warm-up: cuDNN's choices, the DataLoader's workers starting) the profiler warms up for ``warmup``
  steps and records ``active`` steps, then stops. Each step spans one ``optimizer.step()`` end to the
  next, so the time spent waiting for the next batch (``enumerate(DataLoader)...__next__``) is in it.
- ``with tritonml.profile() as p:`` ... ``p.step()`` once per iteration, for loops without an optimizer
  (inference) or to choose the part profiled; the automatic hook then stays out of it. When the job
  was not submitted with ``--profile`` the context does nothing, so it may stay in the code.

``TRITONML_PROFILE_SCHEDULE=wait,warmup,active`` changes the default 5,2,5. Only rank 0 of a
distributed job profiles. What it leaves in ``TRITONML_PROFILE_DIR``: ``trace.<run>.json.gz`` (Chrome
trace JSON, as ``torch.profiler`` exports it; ``<run>`` is the array task id or ``job``) and
``status.<run>.json`` (state ``recorded``, or why there is no trace: torch missing, no step ran...).
A program without torch runs as always; the status says why there is no profile.
"""

import atexit
import importlib.abc
import importlib.util
import json
import os
import sys
import time

MODE_ENV = "TRITONML_PROFILE"
DIR_ENV = "TRITONML_PROFILE_DIR"
SCHEDULE_ENV = "TRITONML_PROFILE_SCHEDULE"
DEFAULT_SCHEDULE = (5, 2, 5)
HOOK_DIR = "profile-hook"  # in the job directory; holds this file as sitecustomize.py
HOOK_FILE = "sitecustomize.py"
MODULE = "tritonml_profile"
TRACE = "trace.%s.json.gz"
STATUS = "status.%s.json"
# A later process of the same job (a script running several Pythons, nbclient beside its kernel) does not
# replace a status that says more: recorded > what went wrong while profiling > nothing to profile.
RANK = {"recorded": 3, "recording": 2, "too-short": 2, "error": 2, "no-steps": 1, "no-hook": 1, "no-torch": 0}


def _run_name():
    return os.environ.get("SLURM_ARRAY_TASK_ID") or "job"


def _rank_zero():
    return all(os.environ.get(k, "0") in ("", "0") for k in ("RANK", "SLURM_PROCID"))


def schedule():
    """(wait, warmup, active) from TRITONML_PROFILE_SCHEDULE, else the default."""
    try:
        wait, warmup, active = (int(x) for x in os.environ[SCHEDULE_ENV].split(","))
        if wait >= 0 and warmup >= 0 and active >= 1:
            return wait, warmup, active
    except (KeyError, ValueError):
        pass
    return DEFAULT_SCHEDULE


def enabled():
    return os.environ.get(MODE_ENV) == "torch" and bool(os.environ.get(DIR_ENV)) and _rank_zero()


def _read_status(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_status(state, message, **extra):
    """status.<run>.json, atomically; another process's status that says more is kept (RANK)."""
    folder = os.environ.get(DIR_ENV)
    if not folder:
        return
    path = os.path.join(folder, STATUS % _run_name())
    old = _read_status(path)
    if old and old.get("pid") != os.getpid() and RANK.get(old.get("state"), 0) > RANK.get(state, 0):
        return
    data = {"version": 1, "state": state, "message": message, "t": time.time(), "pid": os.getpid(),
            "python": sys.executable, "schedule": list(schedule())}
    data.update(extra)
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = "%s.%d.tmp" % (path, os.getpid())
        with open(tmp, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except OSError as exc:
        sys.stderr.write("tritonml: could not write the profile's status (%s)\n" % exc)


class _Session:
    """One torch.profiler run over wait + warmup + active steps."""

    def __init__(self, source, wait=None, warmup=None, active=None):
        default = schedule()
        self.wait, self.warmup, self.active = (default[0] if wait is None else wait,
                                               default[1] if warmup is None else warmup,
                                               default[2] if active is None else active)
        self.source, self.steps, self.prof, self.done, self.recorded = source, 0, None, False, False
        self.t0 = time.time()

    def start(self):
        import torch  # the program imported it already
        activities = [torch.profiler.ProfilerActivity.CPU]
        self.cuda = bool(torch.cuda.is_available())
        if self.cuda:
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        self.torch = torch.__version__
        self.prof = torch.profiler.profile(
            activities=activities, on_trace_ready=self._export,
            schedule=torch.profiler.schedule(wait=self.wait, warmup=self.warmup, active=self.active, repeat=1))
        self.prof.start()
        write_status("recording", "profiling %d steps after %d of warm-up" % (self.active, self.wait + self.warmup),
                     source=self.source, torch=self.torch, cuda=self.cuda)

    def step(self):
        if self.done or self.prof is None:
            return
        self.steps += 1
        self.prof.step()
        if self.steps >= self.wait + self.warmup + self.active:
            self.stop()

    def _export(self, prof):
        path = os.path.join(os.environ[DIR_ENV], TRACE % _run_name())
        started = time.time()
        prof.export_chrome_trace(path)
        self.recorded = True
        write_status("recorded", "recorded %d steps" % min(self.active, max(0, self.steps - self.wait - self.warmup)),
                     source=self.source, torch=self.torch, cuda=self.cuda, trace=os.path.basename(path),
                     steps=self.steps, export_seconds=round(time.time() - started, 3))

    def stop(self):
        if self.done:
            return
        self.done = True
        try:
            self.prof.stop()  # while recording, this exports what was recorded
        except Exception as exc:  # noqa: BLE001 - the program's own run matters more than its profile
            write_status("error", "the profiler failed: %s: %s" % (type(exc).__name__, exc), source=self.source)
            return
        if not self.recorded:
            needed = self.wait + self.warmup + 1
            write_status("too-short", "only %d step(s) ran; the profile records from step %d on "
                         "(%s=wait,warmup,active sets the schedule)" % (self.steps, needed, SCHEDULE_ENV),
                         source=self.source, steps=self.steps)


_state = {"session": None, "context": False, "optimizer": None, "torch": False}


def _on_optimizer_step(optimizer, args, kwargs):
    if _state["context"]:
        return
    if _state["optimizer"] is None:
        _state["optimizer"] = id(optimizer)
    elif _state["optimizer"] != id(optimizer):
        return  # several optimizers (a GAN): the first one's steps count
    session = _state["session"]
    if session is None:
        session = _state["session"] = _Session("optimizer.step")
        try:
            session.start()
        except Exception as exc:  # noqa: BLE001
            session.done = True
            write_status("error", "could not start torch.profiler: %s: %s" % (type(exc).__name__, exc))
            return
    session.step()


def _on_torch(torch):
    _state["torch"] = True
    try:
        import torch.optim.optimizer as opt
        opt.register_optimizer_step_post_hook(_on_optimizer_step)
    except Exception as exc:  # noqa: BLE001 - an old torch: tritonml.profile() still works
        write_status("no-hook", "no automatic hook on optimizer.step() (%s); use tritonml.profile()" % exc)


class _TorchWatcher(importlib.abc.MetaPathFinder):
    """Installs the optimizer hook right after the program imports torch (never imports it itself)."""

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("torch")
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            original = spec.loader.exec_module

            def exec_module(module):
                original(module)
                _on_torch(module)

            spec.loader.exec_module = exec_module
        return spec


class _Profile:
    def __init__(self, wait, warmup, active):
        self.session = _Session("tritonml.profile()", wait, warmup, active) if enabled() else None

    def __enter__(self):
        if self.session is not None and not _state["context"] and _state["session"] is None:
            _state["context"] = True
            _state["session"] = self.session
            self.session.start()
        else:
            self.session = None  # not profiling, or a profile already ran: do nothing
        return self

    def step(self):
        """Call once per iteration."""
        if self.session is not None:
            self.session.step()

    def __exit__(self, *exc):
        if self.session is not None:
            self.session.stop()
        return False


def profile(wait=None, warmup=None, active=None):
    """``with tritonml.profile() as p: for batch in data: ...; p.step()``. Profiles ``active`` steps
    after ``wait + warmup`` (default: TRITONML_PROFILE_SCHEDULE or 5,2,5) when the job runs with
    ``--profile torch``; does nothing otherwise."""
    return _Profile(wait, warmup, active)


def _at_exit():
    session = _state["session"]
    if session is not None and not session.done:
        session.stop()
        return
    if session is not None:
        return
    if importlib.util.find_spec("torch") is None:
        write_status("no-torch", "PyTorch is not installed in this job's Python (%s): the program ran without "
                     "a profile. Install torch there, or use --profile nsys where nsys is available." % sys.executable)
    elif not _state["torch"]:
        write_status("no-torch", "the program did not import torch: nothing for torch.profiler to record")
    else:
        write_status("no-steps", "torch was imported but no optimizer.step() ran: wrap the loop in "
                     "tritonml.profile() and call p.step() once per iteration")


def _chain_next_sitecustomize(here):
    """A sitecustomize of the environment's own, which this file shadows, still runs."""
    for entry in sys.path:
        folder = os.path.abspath(entry or os.getcwd())
        if folder == here:
            continue
        candidate = os.path.join(folder, HOOK_FILE)
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_tritonml_next_sitecustomize", candidate)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except Exception as exc:  # noqa: BLE001
                sys.stderr.write("tritonml: %s failed: %s\n" % (candidate, exc))
            return


def install():
    """Called when Python starts (this file as sitecustomize): watch for torch, write the status at exit."""
    sys.modules.setdefault(MODULE, sys.modules[__name__])
    if not enabled():
        return
    if "torch" in sys.modules:
        _on_torch(sys.modules["torch"])
    else:
        sys.meta_path.insert(0, _TorchWatcher())
    atexit.register(_at_exit)


if __name__ == "sitecustomize":
    install()
    _chain_next_sitecustomize(os.path.dirname(os.path.abspath(__file__)))
