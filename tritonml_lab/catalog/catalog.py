"""The catalog facade: discovery over labelled roots, listing from memory, details, background work.

What each thing costs (what makes it usable on Lustre, where every metadata call is a round trip):

* **First listing**: per root one ``scandir`` and one ``lstat`` per entry, nothing inside entries
  (:mod:`.discovery`).  Entries show a guessed kind and their name; details are "pending".
* **Details** (architecture, parameters, README, layouts) come from background detection
  (:mod:`.detector`, :mod:`.detect`), a few threads, opened entries first.
* **Sizes and file counts** come from the size scanner's worker processes (:mod:`.sizes`).
* **Restart**: both are persisted (:mod:`.cache`) under each entry directory's mtime/ctime, so a
  restart lists everything from the cache after the same ``scandir`` + ``lstat`` per entry, and
  looks again only at entries whose directory changed.  Changes deeper down are seen by the
  periodic background revalidation (a few ``lstat`` per entry) and when an entry is opened.
* **Later listings** read memory; every ``refresh_interval`` a background check (one ``lstat``
  per root, root metadata file and hub dir) rediscovers a root whose directory changed.

Requests from the server go through the ``*_async`` methods: their blocking work runs in the
catalog's own bounded pool with a time-out (:mod:`.isolation`), so a hung folder makes only the
catalog -- and where it can, only that entry -- answer "not responding".

Safety: only directories found by scanning the configured roots become entries; client ids are
validated and looked up in that index, never joined onto a path; symlinked entries and symlinks
leaving a root (or an HF repo dir) are never followed.

Over 400 lines as one class on purpose: every method takes the same lock over the same entry table,
and the costs above hold only while one place decides what runs where; the work itself lives in the
modules it names.
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from dataclasses import replace
from typing import Dict, Iterable, List, Optional, Tuple

from . import fsio
from . import metadata as md
from .cache import EntryCache, default_cache_path, gc_paused, mtimes, stat_key
from .detect import Detected, detect
from .detector import Detector
from .discovery import RootScan, discover_root
from .isolation import BoundedIO, CatalogTimeout
from .models import CatalogListing, EntryDetail, EntrySummary
from .roots import RootSpec, RootState, normalise_roots
from .safety import EntryNotFound, InvalidQuery, image_type, make_id, read_bounded, validate_id
from .sizes import SizeScanner
from .views import Entry, Fields, detail, effective, summary

log = logging.getLogger(__name__)

IMAGE_LIMIT = 5 << 20


def _size_holds(path: str, rec: dict) -> bool:
    dirs = rec.get("dirs") or []
    return mtimes([os.path.join(path, d) for d in dirs]) == (rec.get("dir_mtimes") or [])


class Catalog:
    """Catalog of shared models and datasets under labelled roots.  Thread-safe; making one does no I/O.

    ``roots``: ``[(label, path), ...]`` (or :class:`CatalogRoot`); default ``/scratch/shareddata/dldata``
    labelled ``dldata``.  ``cache_path``: the persistent cache (``None`` -> default under
    ``~/.cache/tritonml-lab``; ``""`` -> memory only).  ``workers``: size scanner processes (0 = walk
    in the scanner thread).  ``threads``: detection threads, and as many for requests' reads.
    ``timeout``: seconds a request waits for the filesystem.
    """

    def __init__(self, roots: Optional[Iterable[RootSpec]] = None, cache_path: Optional[str] = None,
                 *, refresh_interval: float = 10.0, revalidate_interval: float = 300.0,
                 workers: Optional[int] = None, threads: int = 4, timeout: float = 10.0):
        self.roots = normalise_roots(roots)
        self._roots = {r.label: RootState(r.label, r.path) for r in self.roots}
        self.refresh_interval = refresh_interval
        self.revalidate_interval = revalidate_interval
        self.cache = EntryCache(default_cache_path() if cache_path is None else (cache_path or None))
        self.scanner = SizeScanner(self.cache, workers=workers, idle_callback=self._background_revalidate,
                                   idle_interval=revalidate_interval)
        self.detector = Detector(self._entry_work, threads)
        self.io = BoundedIO(threads, timeout)
        self._lock = threading.RLock()          # guards _index
        self._index: Dict[str, Entry] = {}
        self._last_check = time.monotonic()

    # ------------------------------------------------------------------ listing
    def list(self, kind: Optional[str] = None, q: Optional[str] = None, tag: Optional[str] = None,
             min_size: Optional[int] = None, max_size: Optional[int] = None) -> List[EntrySummary]:
        self._check_filters(kind, min_size, max_size)
        for label in self._roots:
            self._discover(label)
        if time.monotonic() - self._last_check >= self.refresh_interval:
            self._check_roots()
        return self._list(kind, q, tag, min_size, max_size)

    def listing(self, **filters) -> CatalogListing:
        """``{"entries": [...], "scanning": bool, "pending": n, "detecting": n}`` for the HTTP handler."""
        return self._listing(self.list(**filters))

    async def listing_async(self, **filters) -> CatalogListing:
        """:meth:`listing` for the server: roots not yet discovered are discovered in the catalog's
        pool; a root that does not answer in time becomes a warning, not an error."""
        self._check_filters(filters.get("kind"), filters.get("min_size"), filters.get("max_size"))
        todo = [r for r in self._roots.values() if not r.discovered]
        results = await asyncio.gather(*(self._discover_async(r) for r in todo), return_exceptions=True)
        warnings = [str(x) for x in results if isinstance(x, CatalogTimeout)]
        for x in results:
            if isinstance(x, BaseException) and not isinstance(x, CatalogTimeout):
                raise x
        if time.monotonic() - self._last_check >= self.refresh_interval:
            self._last_check = time.monotonic()
            self.io.submit("check-roots", self._check_roots)
        if self.io.running_for("check-roots") > self.io.timeout:
            warnings.append("The shared data folders are not answering; the catalog shows what it listed before.")
        listing = self._listing(self._list(**filters))
        listing.warnings = warnings
        return listing

    def _listing(self, entries: List[EntrySummary]) -> CatalogListing:
        self.detector.keep_up(self.io.timeout)   # folders that hang hold their threads; others go on
        pending, detecting = self.scanner.pending(), self.detector.pending()
        busy = (self.scanner.running and pending > 0) or (self.detector.running and detecting > 0)
        return CatalogListing(entries=entries, scanning=busy, pending=pending, detecting=detecting)

    @staticmethod
    def _check_filters(kind, min_size, max_size) -> None:
        if kind is not None and kind not in ("model", "dataset"):
            raise InvalidQuery("kind must be 'model' or 'dataset'")
        for v in (min_size, max_size):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise InvalidQuery("min_size/max_size must be non-negative integers (bytes)")

    def _list(self, kind=None, q=None, tag=None, min_size=None, max_size=None) -> List[EntrySummary]:
        """Memory only: never touches the filesystem."""
        with self._lock:
            entries = list(self._index.values())
        with gc_paused():
            return self._filter(entries, kind, q, tag, min_size, max_size)

    def _filter(self, entries: List[Entry], kind, q, tag, min_size, max_size) -> List[EntrySummary]:
        ql = q.strip().lower() if q else None
        tl = tag.strip().lower() if tag else None
        out = []
        for e in entries:
            s = self._summary(e)
            if s is None or (kind and s.kind != kind) or (tl and tl not in (t.lower() for t in s.tags)):
                continue
            if ql and not any(ql in x.lower() for x in (s.name, s.id, s.repo_id or "", s.description or "", *s.tags)):
                continue
            if min_size is not None and (s.size_bytes is None or s.size_bytes < min_size):
                continue
            if max_size is not None and (s.size_bytes is None or s.size_bytes > max_size):
                continue
            out.append(s)
        out.sort(key=lambda s: (s.kind, s.name.lower(), s.id))
        return out

    def _root_meta(self, e: Entry):
        return self._roots[e.label].meta.get(e.id[len(e.label) + 1:])

    def _fields(self, e: Entry) -> Fields:
        return effective(e, self._root_meta(e))

    def _summary(self, e: Entry) -> Optional[EntrySummary]:
        """The entry's row (None when hidden), remade only when something it shows changed."""
        rec = self.cache.size(e.path, e.key)
        since = self.detector.queue.running_since(e.id) if e.state == "pending" else None
        stalled = since is not None and time.monotonic() - since > self.io.timeout
        root_meta = self._root_meta(e)
        stamp = (e.state, stalled, id(rec), id(root_meta))
        if e.summary_stamp != stamp:
            f = effective(e, root_meta)
            status = "stalled" if stalled else e.state
            e.summary = None if f.hidden else summary(e, f, rec, status)
            e.summary_stamp = stamp
        return e.summary

    # ------------------------------------------------------------------ one entry
    def get(self, entry_id: str) -> EntryDetail:
        e, f = self._opened(entry_id)
        rec = self.cache.size(e.path, e.key)
        if rec is None:
            self.scanner.submit(e.path, e.key, priority=True)
        return detail(e, f, summary(e, f, rec, e.state), rec)

    def readme_image(self, entry_id: str, relative: str) -> Tuple[bytes, str]:
        """An image a README links to by a relative path (``images/arch.png``): its bytes and type.

        Only image files below the README's own directory, inside the entry (symlinks resolved), of
        at most ``IMAGE_LIMIT`` bytes; anything else is refused without touching other files."""
        validate_id(entry_id)
        mime = image_type(relative)
        e, _ = self._opened(entry_id)
        if not e.readme_path:
            raise EntryNotFound(f"catalog entry {entry_id!r} has no README")
        within = e.root_real if e.source == "folder" else fsio.realpath(e.path)
        data = read_bounded(os.path.join(os.path.dirname(e.readme_path), relative), within, IMAGE_LIMIT + 1)
        if data is None:
            raise EntryNotFound(f"no image {relative!r} next to the README of {entry_id!r}")
        if len(data) > IMAGE_LIMIT:
            raise InvalidQuery(f"the image is larger than {IMAGE_LIMIT >> 20} MB; open it from the path instead")
        return data, mime

    async def get_async(self, entry_id: str) -> EntryDetail:
        return await self._entry_async(entry_id, self.get, entry_id)

    async def readme_image_async(self, entry_id: str, relative: str) -> Tuple[bytes, str]:
        return await self._entry_async(entry_id, self.readme_image, entry_id, relative)

    async def _entry_async(self, entry_id: str, fn, *args):
        label, _ = validate_id(entry_id)
        root = self._roots.get(label)
        if root is None:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        if not root.discovered:
            await self._discover_async(root)
        message = (f"The folder of {entry_id} is not responding: the shared filesystem did not answer in "
                   f"{self.io.timeout:.0f} s. Other entries and jobs are not affected; try again later.")
        return await self.io.run("entry:" + entry_id, message, fn, *args)

    def _opened(self, entry_id: str) -> Tuple[Entry, Fields]:
        """The entry, looked at now: checked for changes, or detected if only its name is known."""
        label, _ = validate_id(entry_id)
        if label in self._roots:
            self._discover(label)
        with self._lock:
            e = self._index.get(entry_id)
        if e is None or self._summary(e) is None:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        # Known from the cache only: detect now, the detail needs the probe itself.
        fresh = self._look(e, validate=e.probe is not None)
        if fresh is None or fresh.probe is None:
            raise EntryNotFound(f"catalog entry {entry_id!r} is gone or could not be read")
        f = self._fields(fresh)
        if f.hidden:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        return fresh, f

    # ------------------------------------------------------------------ background work
    def start_background_scan(self, details: bool = True, sizes: bool = True) -> None:
        """Start detection and/or the size scan (the server starts both when it makes the catalog),
        and discover the roots in the catalog's pool, so the first request may find them listed."""
        for root in self._roots.values():
            if not root.discovered:
                self.io.submit("root:" + root.label, self._discover, root.label)
        if details:
            self.detector.start()
        if sizes:
            self.scanner.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.detector.stop(min(timeout, 5.0))
        self.scanner.stop(timeout)
        self.io.shutdown()

    def wait_for_details(self, timeout: Optional[float] = None) -> bool:
        """Block until every queued detection is done (True) or ``timeout`` passes (False)."""
        return self.detector.wait_idle(timeout)

    def wait_for_scan(self, timeout: Optional[float] = None) -> bool:
        """Block until queued detection (when running) and size scans are done, or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for label in self._roots:
            self._discover(label)
        if self.detector.running and not self.detector.wait_idle(timeout):
            return False
        return self.scanner.wait_idle(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def refresh(self, deep: bool = True) -> None:
        """Check the roots now; ``deep`` also looks at every entry here and now (detecting the
        pending ones, re-detecting changed ones) -- what background revalidation does."""
        for label in self._roots:
            self._discover(label)
        self._check_roots()
        if deep:
            with self._lock:
                entries = list(self._index.values())
            for e in entries:
                self._look(e, validate=True)
            self._check_roots()   # folders that turned out to hold a hub

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _background_revalidate(self) -> None:
        # From the scanner's thread, which must not hang in a root that does not answer.
        self.io.submit("check-roots", self._check_roots)
        with self._lock:
            ids = list(self._index)
        for eid in ids:
            self.detector.submit(eid, "validate")

    def _entry_work(self, eid: str, token: str) -> None:
        with self._lock:
            e = self._index.get(eid)
        if e is not None:   # detected meanwhile (opened, or a refresh): only check it
            self._look(e, validate=token == "validate" or e.state == "ready")

    # ------------------------------------------------------------------ discovery
    async def _discover_async(self, root: RootState) -> None:
        message = (f"The catalog folder {root.path} (root '{root.label}') is not responding: the shared "
                   f"filesystem did not answer in {self.io.timeout:.0f} s. Jobs are not affected; try again later.")
        await self.io.run("root:" + root.label, message, self._discover, root.label)

    def _check_roots(self) -> None:
        self._last_check = time.monotonic()
        for label, root in self._roots.items():
            if root.discovered:
                self._discover(label, check=True)

    def _root_sig(self, root: RootState) -> List[int]:
        real = root.real or root.path
        return mtimes([real] + [os.path.join(real, n) for n in md.ROOT_FILES] + root.hubs)

    def _discover(self, label: str, check: bool = False) -> None:
        """List a root from names (first time), or again if its signature changed (``check``)."""
        root = self._roots[label]
        if root.discovered and not check:
            return
        with root.lock:
            if root.discovered and not check:
                return
            self.cache.ensure_loaded()
            if root.real is None:
                root.real = fsio.realpath(root.path)
            if root.discovered and root.sig is not None and self._root_sig(root) == root.sig:
                return
            with gc_paused():   # a thousand entries made at once
                root.meta = md.load_root_file(root.real)
                scan = discover_root(root.real, self.cache)
                root.hubs = scan.hubs
                root.sig = self._root_sig(root)
                self._merge(root, scan)
            root.discovered = True

    def _merge(self, root: RootState, scan: RootScan) -> None:
        """Entries of a fresh discovery: unchanged ones kept, the others from the cache or queued."""
        with self._lock:
            old = {k: v for k, v in self._index.items() if v.label == root.label}
        new: Dict[str, Entry] = {}
        to_detect = []
        for c in scan.candidates:
            eid = make_id(root.label, root.real, c.path)  # type: ignore[arg-type]
            prev = old.get(eid)
            if prev is not None and prev.key == c.key and prev.source == c.source:
                new[eid] = prev
                continue
            e = Entry(id=eid, label=root.label, root_real=root.real or "", path=c.path, source=c.source,
                      key=c.key, hub_dir=c.hub_dir, hf_home=c.hf_home)
            rec = self.cache.detected(c.path, c.key)
            e.detected = Detected.from_json(rec) if rec else None
            if e.detected is not None:
                e.state = "ready"
            else:   # an older look, if any, is shown (and hides a hidden entry) until the new one is done
                stale = self.cache.detected(c.path, None)
                e.detected = prev.detected if prev is not None else Detected.from_json(stale) if stale else None
                to_detect.append(eid)
            if e.detected is None:
                e.guess_kind, e.guess_name = c.guess()
            new[eid] = e
        with self._lock:
            for k in old:
                self._index.pop(k, None)
            self._index.update(new)
            everything = {e.path for e in self._index.values()}
        if all(r.discovered or r is root for r in self._roots.values()):   # roots may nest
            self.cache.forget_under(root.real, everything)  # type: ignore[arg-type]
        for eid in to_detect:
            self.detector.submit(eid)
        for e in new.values():   # the rows now, while collection is paused; sizes of the visible ones
            if self._summary(e) is not None and self.cache.size(e.path, e.key) is None:
                self.scanner.submit(e.path, e.key)

    def _look(self, e: Entry, validate: bool) -> Optional[Entry]:
        """Detect ``e`` now -- or, with ``validate``, only if it changed -- and store the result;
        the entry as it is now, or None if its directory is gone."""
        key = stat_key(e.path)
        if key is None:
            with self._lock:
                if self._index.get(e.id) is e:
                    del self._index[e.id]
            self._roots[e.label].sig = None   # the next check lists the root again
            return None
        d = e.detected
        if validate and e.state == "ready" and d is not None and key == e.key == d.key and d.still_holds(e.path):
            rec = self.cache.size(e.path, key)
            if rec is not None and not _size_holds(e.path, rec):
                self.scanner.submit(e.path, key)
            return e
        try:
            found = detect(e.path, e.source, key, e.root_real, e.hub_dir, e.hf_home)
        except Exception:  # a weird entry must not break the catalog
            log.exception("catalog: could not inspect %s", e.path)
            found = None
        fresh = replace(e, key=key, summary=None, summary_stamp=())
        if found is None:
            fresh.state = "error"
        else:
            fresh.detected, fresh.probe = found
            fresh.state = "ready"
            self.cache.put_detected(e.path, fresh.detected.to_json())  # type: ignore[union-attr]
        with self._lock:
            current = self._index.get(e.id)
            if current is e or (current is not None and current.key == key):
                self._index[e.id] = fresh
        if found is not None and found[0].container:
            self.cache.put_container(e.path, key, *found[0].container)  # type: ignore[arg-type]
            with self._lock:
                self._index.pop(e.id, None)
            self._roots[e.label].sig = None
            self.io.submit("check-roots", self._check_roots)
            return None
        rec = self.cache.size(e.path, key)
        if rec is None or not _size_holds(e.path, rec):
            self.scanner.submit(e.path, key)
        return fresh
