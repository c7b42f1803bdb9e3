"""Background size / file-count scanner with a persistent JSON cache.

* :func:`scan_tree` walks one entry iteratively with ``os.scandir`` on directory file descriptors
  (so each file costs one ``fstatat`` relative to its directory, like ``du``), never follows
  symlinks (a link counts as itself, so HF ``snapshots/`` links are not double counted against
  ``blobs/``), counts hard-linked files once, and tallies file extensions.
* :class:`SizeCache` maps an entry's absolute path to its result plus the *signature* it was computed
  under: the ``st_mtime_ns`` of the entry directory and of a few chosen subdirectories (HF:
  ``blobs``, ``refs``, ``snapshots``, ``snapshots/<rev>``; folders: immediate subdirectories).  A
  result is valid only while the signature matches.  The cache is a JSON file written atomically
  (temp file + ``os.replace``), so it survives server restarts.
* :class:`SizeScanner` is one daemon thread that saves the cache and revalidates when idle, and
  either scans queued entries itself (``workers=0``) or feeds them to a few worker *processes*
  (default): this very file run as a script, answering one JSON line per path.

Only the stdlib is used here, so a worker process starts in milliseconds and never imports the
server (a ``multiprocessing`` spawn would re-import the server's ``__main__``).
"""
from __future__ import annotations

import json
import logging
import os
import stat as _stat
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from typing import Callable, Dict, List, Optional, Sequence

log = logging.getLogger(__name__)

CACHE_VERSION = 1
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
MAX_FORMATS = 30


_COMPRESSED = frozenset((".gz", ".zst", ".bz2", ".xz"))
_COMPRESSED_RAW = _COMPRESSED | {x.upper() for x in _COMPRESSED}


def _ext(name: str) -> str:
    i = name.rfind(".")
    if i <= 0:
        return ""
    x = name[i:].lower()
    if x in _COMPRESSED and name[:i].lower().endswith(".tar"):
        return ".tar" + x
    return x


_S_IFMT, _S_IFDIR, _S_IFREG, _S_IFLNK = 0o170000, _stat.S_IFDIR, _stat.S_IFREG, _stat.S_IFLNK


def scan_tree(path: str, stop: Optional[threading.Event] = None) -> Dict[str, object]:
    """Walk ``path`` (not following symlinks); return sizes, counts and extension histogram.

    The loop is the hot path of the scan (one pass per file): mode bits are compared inline and
    extensions are tallied raw, then normalised once per distinct extension at the end."""
    t0 = time.monotonic()
    size = blocks = files = dirs = links = errors = 0
    raw: Dict[str, int] = {}
    seen_inodes = set()
    try:
        st0 = os.lstat(path)
        blocks += st0.st_blocks
    except OSError:
        return {"error": "unreadable", "seconds": 0.0}
    stack: List[str] = [path]
    pop = stack.pop
    push = stack.append
    scandir = os.scandir
    open_ = os.open
    close = os.close
    tally = raw.get
    n_dirs_done = 0
    while stack:
        d = pop()
        try:
            fd = open_(d, _DIR_FLAGS)
        except OSError:
            errors += 1
            continue
        try:
            with scandir(fd) as it:
                for e in it:
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        errors += 1
                        continue
                    kind = st.st_mode & _S_IFMT
                    if kind == _S_IFDIR:
                        dirs += 1
                        blocks += st.st_blocks
                        push(d + "/" + e.name)
                        continue
                    if st.st_nlink > 1 and kind == _S_IFREG:
                        if st.st_ino in seen_inodes:
                            continue
                        seen_inodes.add(st.st_ino)
                    blocks += st.st_blocks
                    if kind == _S_IFLNK:
                        links += 1
                        continue
                    size += st.st_size
                    files += 1
                    name = e.name
                    i = name.rfind(".")
                    x = name[i:] if i > 0 else ""
                    if x in _COMPRESSED_RAW:  # ".tar.gz" needs the part before the last dot too
                        x = "\0" + name
                    raw[x] = tally(x, 0) + 1
        except OSError:
            errors += 1
        finally:
            close(fd)
        n_dirs_done += 1
        if stop is not None and not (n_dirs_done & 255) and stop.is_set():
            return {"error": "stopped", "seconds": time.monotonic() - t0}
    exts: Dict[str, int] = {}
    for x, n in raw.items():
        key = _ext(x[1:]) if x[:1] == "\0" else x.lower()
        exts[key] = exts.get(key, 0) + n
    top = sorted(((k, v) for k, v in exts.items() if k), key=lambda kv: (-kv[1], kv[0]))[:MAX_FORMATS]
    return {
        "size_bytes": size,
        "disk_bytes": blocks * 512,
        "file_count": files,
        "dir_count": dirs,
        "symlink_count": links,
        "formats": dict(top),
        "errors": errors,
        "seconds": round(time.monotonic() - t0, 6),
    }


def compute_signature(paths: Sequence[str]) -> List[int]:
    """``st_mtime_ns`` of each path (``-1`` if missing); a cheap stat each."""
    out = []
    for p in paths:
        try:
            out.append(os.lstat(p).st_mtime_ns)
        except OSError:
            out.append(-1)
    return out


def default_cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tritonml-lab", "catalog-sizes.json")


class SizeCache:
    """Thread-safe persistent ``{entry path: {"signature": [...], "result": {...}, "scanned_at": t}}``."""

    def __init__(self, path: Optional[str]):
        self.path = path
        self._lock = threading.Lock()
        self._data: Dict[str, dict] = {}
        self._dirty = False
        self.load()

    def load(self) -> None:
        if not self.path:
            return
        try:
            with open(self.path, "rb") as f:
                doc = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable catalog size cache %s: %s", self.path, exc)
            return
        if isinstance(doc, dict) and doc.get("version") == CACHE_VERSION and isinstance(doc.get("entries"), dict):
            with self._lock:
                self._data = {k: v for k, v in doc["entries"].items() if isinstance(v, dict)}

    def get(self, path: str, signature: Sequence[int]) -> Optional[dict]:
        with self._lock:
            rec = self._data.get(path)
        if rec and rec.get("signature") == list(signature):
            return rec
        return None

    def put(self, path: str, signature: Sequence[int], result: dict) -> None:
        with self._lock:
            self._data[path] = {"signature": list(signature), "result": result, "scanned_at": time.time()}
            self._dirty = True

    def forget_except(self, keep: set) -> None:
        with self._lock:
            for k in [k for k in self._data if k not in keep]:
                del self._data[k]
                self._dirty = True

    def __len__(self) -> int:
        return len(self._data)

    def save(self, force: bool = False) -> None:
        if not self.path:
            return
        with self._lock:
            if not (self._dirty or force):
                return
            doc = {"version": CACHE_VERSION, "entries": dict(self._data)}
            self._dirty = False
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".catalog-sizes.", suffix=".tmp", dir=directory)
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump(doc, f, separators=(",", ":"))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            log.warning("could not write catalog size cache %s: %s", self.path, exc)
            with self._lock:
                self._dirty = True


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class SizeScanner:
    """One daemon thread scanning queued entries; results go into a :class:`SizeCache`."""

    def __init__(self, cache: SizeCache, workers: Optional[int] = None, save_interval: float = 5.0,
                 idle_callback: Optional[Callable[[], None]] = None, idle_interval: float = 60.0,
                 on_result: Optional[Callable[[str], None]] = None):
        self.cache = cache
        self.workers = default_workers() if workers is None else max(0, int(workers))
        self.save_interval = save_interval
        self.idle_callback = idle_callback
        self.idle_interval = idle_interval
        self.on_result = on_result
        self._queue: deque = deque()
        self._queued: Dict[str, List[int]] = {}
        self._in_flight: Dict[str, List[int]] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._workers: List[_Worker] = []
        self._worker_threads: List[threading.Thread] = []

    # -- queue ---------------------------------------------------------------------------------
    def submit(self, path: str, signature: Sequence[int], priority: bool = False) -> None:
        sig = list(signature)
        with self._cond:
            if self._in_flight.get(path) == sig:
                return
            if path in self._queued:
                self._queued[path] = sig
                if priority:
                    try:
                        self._queue.remove(path)
                    except ValueError:
                        pass
                    self._queue.appendleft(path)
                return
            self._queued[path] = sig
            (self._queue.appendleft if priority else self._queue.append)(path)
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queued) + len(self._in_flight)

    def is_pending(self, path: str) -> bool:
        with self._cond:
            return path in self._queued or path in self._in_flight

    def wait_idle(self, timeout: Optional[float] = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queued or self._in_flight:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 1.0)
        return True

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tritonml-catalog-scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for worker in list(self._workers):
            worker.kill()
        for thread in [self._thread, *self._worker_threads]:
            if thread is not None:
                thread.join(timeout)
        self._thread = None
        self._worker_threads = []
        with self._cond:
            self._queued.update(self._in_flight)
            for p in self._in_flight:
                if p not in self._queue:
                    self._queue.appendleft(p)
            self._in_flight.clear()
            self._cond.notify_all()
        self.cache.save()

    # -- scanning ------------------------------------------------------------------------------
    def _take(self, block_for: float) -> Optional[tuple]:
        with self._cond:
            if not self._queue and not self._stop.is_set():
                self._cond.wait(block_for)
            if self._stop.is_set() or not self._queue:
                return None
            path = self._queue.popleft()
            sig = self._queued.pop(path)
            self._in_flight[path] = sig
            return path, sig

    def _finish(self, path: str, sig: List[int], result: Optional[dict]) -> None:
        if result is not None and result.get("error") != "stopped":
            self.cache.put(path, sig, result)
        with self._cond:
            if self._in_flight.get(path) == sig:
                del self._in_flight[path]
            self._cond.notify_all()
        if self.on_result is not None:
            try:
                self.on_result(path)
            except Exception:  # pragma: no cover
                log.exception("catalog scanner callback failed")

    def _feed(self, worker: "_Worker") -> None:
        """One thread per worker process: it pulls the next entry as soon as its worker is free,
        so the processes stay busy whatever the sizes of the entries."""
        while not self._stop.is_set():
            item = self._take(block_for=1.0)
            if item is None:
                continue
            path, sig = item
            try:
                result = worker.scan(path)
            except (OSError, ValueError) as exc:
                if self._stop.is_set():
                    return
                log.warning("catalog size scan of %s failed (%s); restarting the worker", path, exc)
                result = {"error": "scan worker failed"}
                worker.kill()
            self._finish(path, sig, result)

    def _run(self) -> None:
        """Scan in this thread (workers=0) or start the worker processes; save and revalidate."""
        last_save = last_idle = time.monotonic()
        if self.workers > 0:
            self._workers = [_Worker() for _ in range(self.workers)]
            self._worker_threads = [
                threading.Thread(target=self._feed, args=(w,), name=f"tritonml-catalog-scan-{i}", daemon=True)
                for i, w in enumerate(self._workers)]
            for thread in self._worker_threads:
                thread.start()
        try:
            while not self._stop.is_set():
                if self.workers == 0:
                    item = self._take(block_for=min(1.0, self.idle_interval))
                    if item is not None:
                        self._finish(item[0], item[1], scan_tree(item[0], self._stop))
                else:
                    with self._cond:
                        self._cond.wait(min(1.0, self.save_interval))
                now = time.monotonic()
                idle = not self.pending()
                if now - last_save >= self.save_interval or idle:
                    self.cache.save()
                    last_save = now
                if self.idle_callback is not None and idle and now - last_idle >= self.idle_interval:
                    last_idle = now
                    try:
                        self.idle_callback()
                    except Exception:  # pragma: no cover
                        log.exception("catalog revalidation failed")
        finally:
            for worker in self._workers:
                worker.kill()
            self._workers = []
            self.cache.save()


class _Worker:
    """A scan worker: this file run as a script by the same Python (stdlib only, so it starts in
    milliseconds and never imports the server), at low priority, answering one JSON line per path.
    Processes rather than threads: the walk neither holds the server's GIL nor grows its memory,
    and the ``stat`` calls run in parallel (what helps most on Lustre)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None

    def _process(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), "--worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, bufsize=1, close_fds=True)
        return self._proc

    def scan(self, path: str) -> dict:
        with self._lock:
            proc = self._process()
            proc.stdin.write(json.dumps(path) + "\n")  # type: ignore[union-attr]
            line = proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise OSError("the scan worker exited")
        return json.loads(line)

    def kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def _worker_main() -> None:
    try:
        os.nice(10)  # background work: never compete with the server or the user's kernels
    except OSError:
        pass
    for line in sys.stdin:
        sys.stdout.write(json.dumps(scan_tree(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        _worker_main()
