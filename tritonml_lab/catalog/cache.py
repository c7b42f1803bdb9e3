"""What the catalog knows about each entry, persisted so that a restart lists from memory.

One JSON file (written atomically: temp file + ``os.replace``) maps an entry's absolute path to

* ``detected``: the listing fields detection found (kind, name, description, parameters ...) and
  the signature they hold under;
* ``size``: the result of the size walk (:func:`.walk.scan_tree`), which carries its own signature;

and keeps ``containers``: folders under a root that turned out to be Hugging Face homes or hub
dirs, so that discovery expands them without looking inside first.

Each record is valid while its ``key`` -- the entry directory's ``[st_mtime_ns, st_ctime_ns]``,
one ``lstat`` at listing time -- is unchanged.  Changes deeper down (a file added under
``train/n01440764``) leave the key alone; the background revalidation sees them with a few
``lstat`` calls of the recorded directories (:func:`mtimes`), never at listing time.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence

from . import fsio

log = logging.getLogger(__name__)

CACHE_VERSION = 2


def stat_key(path: str) -> Optional[List[int]]:
    """``[st_mtime_ns, st_ctime_ns]`` of a directory that is not a link (one ``lstat``), or None."""
    try:
        st = fsio.lstat(path)
    except OSError:
        return None
    if (st.st_mode & 0o170000) != 0o040000:
        return None
    return [st.st_mtime_ns, st.st_ctime_ns]


def mtimes(paths: Sequence[str]) -> List[int]:
    """``st_mtime_ns`` of each path (``-1`` if missing); one ``lstat`` each."""
    out = []
    for p in paths:
        try:
            out.append(fsio.lstat(p).st_mtime_ns)
        except OSError:
            out.append(-1)
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Thousands of small objects made at once (the cache, the entries of a root): a collection in
    the middle would scan them all again and double the time of a restart's first listing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def default_cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tritonml-lab", "catalog-cache.json")


class EntryCache:
    """Thread-safe; loaded on first use (so making one does no I/O), saved by the scanner thread."""

    def __init__(self, path: Optional[str]):
        self.path = path
        self._lock = threading.Lock()
        self._entries: Dict[str, dict] = {}
        self._containers: Dict[str, dict] = {}
        self._loaded = not path
        self._dirty = False

    def ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            try:
                with open(self.path, "rb") as f, gc_paused():  # type: ignore[arg-type]
                    doc = json.load(f)
            except FileNotFoundError:
                return
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable catalog cache %s: %s", self.path, exc)
                return
            if isinstance(doc, dict) and doc.get("version") == CACHE_VERSION:
                entries, containers = doc.get("entries"), doc.get("containers")
                if isinstance(entries, dict):
                    self._entries = {k: v for k, v in entries.items() if isinstance(v, dict)}
                if isinstance(containers, dict):
                    self._containers = {k: v for k, v in containers.items() if isinstance(v, dict)}

    # -- records -------------------------------------------------------------------------------
    def _get(self, path: str, part: str, key: Optional[List[int]]) -> Optional[dict]:
        rec = self._entries.get(path)
        value = rec.get(part) if rec else None
        if not isinstance(value, dict) or (key is not None and value.get("key") != key):
            return None
        return value

    def detected(self, path: str, key: Optional[List[int]]) -> Optional[dict]:
        """The detection record of ``path`` if it was made under ``key`` (any key: ``None``)."""
        return self._get(path, "detected", key)

    def size(self, path: str, key: Optional[List[int]]) -> Optional[dict]:
        """The size walk's result for ``path`` if the entry directory still has ``key``."""
        return self._get(path, "size", key)

    def _put(self, path: str, part: str, value: dict) -> None:
        with self._lock:
            rec = dict(self._entries.get(path) or {})
            rec[part] = value
            self._entries[path] = rec
            self._dirty = True

    def put_detected(self, path: str, value: dict) -> None:
        self._put(path, "detected", value)

    def put_size(self, path: str, result: dict) -> None:
        self._put(path, "size", dict(result, scanned_at=time.time()))

    def container(self, path: str, key: Optional[Sequence[int]]) -> Optional[dict]:
        value = self._containers.get(path)
        return value if value and value.get("key") == list(key or ()) else None

    def put_container(self, path: str, key: Sequence[int], hub: str, home: Optional[str]) -> None:
        with self._lock:
            self._containers[path] = {"key": list(key), "hub": hub, "home": home}
            self._dirty = True

    def forget_under(self, directory: str, keep: set) -> None:
        """Drop the records of entries below ``directory`` that are not in ``keep`` (gone ones)."""
        prefix = directory.rstrip("/") + "/"
        with self._lock:
            for k in [k for k in self._entries if k.startswith(prefix) and k not in keep]:
                del self._entries[k]
                self._dirty = True

    def __len__(self) -> int:
        return len(self._entries)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, force: bool = False) -> None:
        if not self.path or not self._loaded:
            return
        with self._lock:
            if not (self._dirty or force):
                return
            doc = {"version": CACHE_VERSION, "entries": dict(self._entries), "containers": dict(self._containers)}
            self._dirty = False
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".catalog-cache.", suffix=".tmp", dir=directory)
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
            log.warning("could not write catalog cache %s: %s", self.path, exc)
            with self._lock:
                self._dirty = True
