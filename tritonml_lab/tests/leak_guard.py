"""The leak guard: a test must leave nothing behind that could disturb the tests after it.

A pytest plugin (conftest.py loads it; ``-p tritonml_lab.tests.leak_guard`` loads it anywhere). Around
every test it notes what this process has, and after the test's own fixtures are torn down it fails
the test (an error at teardown) that left behind any of:

- threads: a thread started during the test and still alive. Whitelisted (long-lived by design, and
  never compiling or parsing code of their own):
    * ``tritonml-slurm``: the kernel side's one background event loop (kernel/loop.py), started on
      first use and shared by every magic of the process, like in a real kernel;
    * ``IPythonHistorySavingThread``: the history writer of IPython's one InteractiveShell instance
      (the ``shell`` fixture's, a process-wide singleton, as in a kernel);
    * idle workers of an event loop's default executor (``asyncio_N`` blocked on their queue): the
      loop that owns them may be that long-lived one; a closed loop's workers end at once anyway.
- child processes: any live descendant of this process (killed, then reported);
- TCP sockets of this process opened during the test: listening ones (a Jupyter server, a kernel's
  ports) and connected ones (a WebSocket or HTTP connection left open);
- a Jupyter ServerApp instance still registered;
- Slurm jobs of its own: jobs still queued or running whose output or working directory is under
  the test's tmp_path (where jobs_root lives). They are cancelled, then reported.

Threads, processes and jobs get a short bounded grace (``GRACE`` seconds in all) to end by
themselves first: an executor shut down without waiting, or a job whose scancel is on its way, is
not a leak. ``TRITONML_LEAK_GUARD=warn`` reports without failing (to survey), ``off`` disables it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

GRACE = float(os.environ.get("TRITONML_LEAK_GRACE", "5"))
WHITELIST_THREAD_NAMES = ("tritonml-slurm", "IPythonHistorySavingThread")
ACTIVE_JOB_STATES = {"PENDING", "RUNNING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED",
                     "RESIZING", "SUSPENDED", "STOPPED", "SIGNALING"}


def _mode() -> str:
    return os.environ.get("TRITONML_LEAK_GUARD", "fail").lower()


# ------------------------------------------------------------------------------------- threads
def _idle_pool_worker(thread: threading.Thread) -> bool:
    """An asyncio default-executor worker blocked on its work queue (running nothing)."""
    if not thread.name.startswith("asyncio_"):
        return False
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code.co_name == "_worker" and frame.f_code.co_filename.endswith(
                os.path.join("concurrent", "futures", "thread.py")):
            return frame.f_lineno is not None and "get" in _line(frame)
        frame = frame.f_back
    return False


def _line(frame) -> str:
    import linecache

    return linecache.getline(frame.f_code.co_filename, frame.f_lineno)


def _allowed(thread: threading.Thread) -> bool:
    # asyncio-waitpid-N: asyncio's watcher of one child process; it ends with that child, which the
    # process check below reports (and kills) if it is still there.
    return (thread.name.startswith(WHITELIST_THREAD_NAMES) or thread.name.startswith("asyncio-waitpid-")
            or _idle_pool_worker(thread))


def _new_threads(before: set[int]) -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and t is not threading.current_thread() and not _allowed(t)]


def _where(thread: threading.Thread) -> str:
    """Where the thread is now: its innermost frames, to tell what it waits for."""
    import traceback

    frame = sys._current_frames().get(thread.ident)
    if frame is None:
        return ""
    lines = traceback.format_stack(frame)[-3:]
    return "\n      " + "      ".join(lines).rstrip().replace("\n", "\n      ")


def other_threads() -> list[threading.Thread]:
    """Threads other than the calling one that could run Python code now (the whitelist aside)."""
    return [t for t in threading.enumerate() if t is not threading.current_thread() and t.is_alive()
            and not _allowed(t)]


# ----------------------------------------------------------------------------------- processes
def _children() -> list:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with jupyter_client/ipykernel
        return []
    try:
        return [p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    except psutil.Error:
        return []


def _describe(proc) -> str:
    try:
        return f"pid {proc.pid}: {' '.join(proc.cmdline())[:160]}"
    except Exception:  # noqa: BLE001 - it may have ended meanwhile
        return f"pid {proc.pid}"


def _kill(procs) -> None:
    import psutil

    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _gone, alive = psutil.wait_procs(procs, timeout=3)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=3)


# ------------------------------------------------------------------------------------- sockets
def _tcp_sockets() -> dict[str, str]:
    """This process's TCP sockets: inode -> 'LISTEN <addr>' or 'CONNECTED <local> -> <remote>'."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/self/fd"):
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return {}
    found = {}
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10 or parts[9] not in inodes:
                continue
            state = "LISTEN" if parts[3] == "0A" else "CONNECTED" if parts[3] == "01" else None
            if state:
                local, remote = _addr(parts[1]), _addr(parts[2])
                found[parts[9]] = f"LISTEN {local}" if state == "LISTEN" else f"CONNECTED {local} -> {remote}"
    return found


def _addr(hex_addr: str) -> str:
    host, _, port = hex_addr.partition(":")
    return f":{int(port, 16)}" if host.strip("0") in ("", "1") or len(host) != 8 else \
        ".".join(str(int(host[i:i + 2], 16)) for i in (6, 4, 2, 0)) + f":{int(port, 16)}"


# ---------------------------------------------------------------------------------------- jobs
def _own_jobs(base: Path) -> list[tuple[str, str, str]]:
    """(id, state, dir) of queued or running jobs whose output or working dir is under ``base``."""
    squeue = shutil.which("squeue", path=os.environ.get("PATH"))
    if not squeue or not os.environ.get("SLURM_CONF"):
        return []
    try:
        out = subprocess.run(
            [squeue, "--me", "--noheader", "--array", "--Format=JobID:|,State:|,STDOUT:|,WorkDir:"],
            capture_output=True, text=True, timeout=30, env=os.environ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    prefix = str(base.resolve()) + os.sep
    jobs = []
    for line in out.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) < 4 or fields[1] not in ACTIVE_JOB_STATES:
            continue
        where = next((f for f in fields[2:] if (f + os.sep).startswith(prefix)), None)
        if where:
            jobs.append((fields[0], fields[1], where))
    return jobs


def cancel_own_jobs(base: Path) -> list[tuple[str, str, str]]:
    """Cancel this test's queued or running jobs (see _own_jobs); returns those it found."""
    jobs = _own_jobs(base)
    if jobs:
        subprocess.run(["scancel", *sorted({j[0].split("_")[0] for j in jobs})], capture_output=True,
                       timeout=30, env=os.environ)
    return jobs


# ---------------------------------------------------------------------------------------- guard
def _server_app_left() -> bool:
    server = sys.modules.get("jupyter_server.serverapp")
    try:
        return bool(server and server.ServerApp.initialized())
    except Exception:  # noqa: BLE001
        return False


def find_leaks(before: "Snapshot", tmp_base: Path | None, grace: float = GRACE) -> list[str]:
    """What the test left behind, after waiting up to ``grace`` s for threads, processes and jobs."""
    before_threads, before_sockets = before.threads, before.sockets
    deadline = time.monotonic() + grace
    while True:
        threads = _new_threads(before_threads)
        procs = [p for p in _children() if p.pid not in before.pids]
        jobs = _own_jobs(tmp_base) if tmp_base is not None else []
        if not (threads or procs or jobs) or time.monotonic() >= deadline:
            break
        time.sleep(0.1 if not jobs else 0.5)
    leaks = [f"thread {t.name!r} (daemon={t.daemon}, target={getattr(t, '_target', None)!r}){_where(t)}"
             for t in threads]
    if procs:
        leaks += [f"child process {_describe(p)} (killed)" for p in procs]
        _kill(procs)
    sockets = {inode: what for inode, what in _tcp_sockets().items() if inode not in before_sockets}
    leaks += [f"TCP socket {what} (a server, kernel port or WebSocket left open)" for what in sockets.values()]
    if _server_app_left():
        leaks.append("a Jupyter ServerApp instance still registered")
    if jobs:
        cancel_own_jobs(tmp_base)
        leaks += [f"Slurm job {j} {state} under {where} (cancelled)" for j, state, where in jobs]
    return leaks


class Snapshot:
    """What this process has now: thread idents, TCP socket inodes, descendant pids."""

    def __init__(self) -> None:
        self.threads = {t.ident for t in threading.enumerate()}
        self.sockets = set(_tcp_sockets())
        self.pids = {p.pid for p in _children()}

    def since(self, before: "Snapshot") -> "Snapshot":
        born = Snapshot.__new__(Snapshot)
        born.threads, born.sockets, born.pids = (self.threads - before.threads, self.sockets - before.sockets,
                                                 self.pids - before.pids)
        return born

    def add(self, other: "Snapshot") -> "Snapshot":
        both = Snapshot.__new__(Snapshot)
        both.threads, both.sockets, both.pids = (self.threads | other.threads, self.sockets | other.sockets,
                                                 self.pids | other.pids)
        return both


_BEFORE = pytest.StashKey[Snapshot]()
_TMP = pytest.StashKey[Path]()
# What a module- (or class-) scoped fixture made while a test set it up belongs to the module: it is
# excused until the module's last test, whose teardown tears that fixture down and checks it too.
# (Session-scoped fixtures' own threads stay excused: they live as long as the run.)
_carried: dict[str, Snapshot] = {}
_session_owned: list[Snapshot] = []


def _guarded(item) -> bool:
    return _mode() != "off" and not item.get_closest_marker("leaks_allowed")


def _module_of(item) -> str:
    return str(getattr(item, "fspath", item.nodeid))


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """What a module-, class- or session-scoped fixture makes while it is set up is its own."""
    if fixturedef.scope == "function" or _mode() == "off":
        return (yield)
    before = Snapshot()
    try:
        return (yield)
    finally:
        born = Snapshot().since(before)
        if fixturedef.scope in ("session", "package"):
            _session_owned.append(born)
        else:
            key = _module_of(request.node)
            _carried[key] = _carried[key].add(born) if key in _carried else born


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item):
    """Note what there is before any fixture of this test is set up (pytest-jupyter's included)."""
    if _guarded(item):
        item.stash[_BEFORE] = Snapshot()
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    tmp = getattr(item, "funcargs", {}).get("tmp_path")
    if tmp is not None and "slurm_cluster" in getattr(item, "fixturenames", ()):
        item.stash[_TMP] = Path(tmp)
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """After every fixture of the test is torn down (a server's cleanup included): what is left?"""
    result = yield
    if not _guarded(item) or _BEFORE not in item.stash:
        return result
    before = item.stash[_BEFORE]
    for owned in _session_owned:
        before = before.add(owned)
    key = _module_of(item)
    module_ends = nextitem is None or _module_of(nextitem) != key
    carried = _carried.pop(key, None) if module_ends else _carried.get(key)
    if carried is not None and not module_ends:
        before = before.add(carried)
    leaks = find_leaks(before, item.stash.get(_TMP, None))
    if leaks:
        message = f"{item.nodeid} left behind:\n  " + "\n  ".join(leaks)
        log = os.environ.get("TRITONML_LEAK_LOG")
        if log:
            with open(log, "a") as handle:
                handle.write(message + "\n")
        if _mode() == "warn":
            item.warn(pytest.PytestWarning(message))
        else:
            pytest.fail(message, pytrace=False)
    return result


def pytest_configure(config):
    config.addinivalue_line("markers", "leaks_allowed: the leak guard does not check this test")
    config.addinivalue_line("markers", "source_parsing: parses or compiles source with ast; runs only "
                                       "when no other thread of this process could be compiling")


@pytest.fixture(autouse=True)
def _alone_for_ast(request):
    """CPython 3.11's ast is not thread-safe (python/cpython#106905): a source_parsing test first waits
    (bounded) until no other thread could compile, and fails clearly if one stays."""
    if not request.node.get_closest_marker("source_parsing"):
        yield
        return
    deadline = time.monotonic() + GRACE
    while other_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    others = other_threads()
    if others:
        pytest.fail(f"a source-parsing test needs no other threads; still running: {[t.name for t in others]}",
                    pytrace=False)
    yield
