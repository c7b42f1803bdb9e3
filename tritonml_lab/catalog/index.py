"""The catalog's entry table and the background work that keeps it current.

:class:`EntryIndex` holds every root's entries under one lock and is the one place that decides
what is looked at and when: a root is listed from names (:mod:`.discovery`) and merged with the
persisted cache (:mod:`.cache`); entries whose directory changed, or that the cache does not know,
go to background detection (:mod:`.detector`) and sizes to the size scanner (:mod:`.sizes`); the
scanner's idle time revalidates every entry.  :class:`.catalog.Catalog` answers requests from this
table in memory and calls in here only for a root not yet listed, an entry being opened, or the
periodic cheap check of the roots.

What each step costs on a shared filesystem, and so why the work is split this way, is in
catalog.py's docstring.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from typing import Dict, List, Optional

from . import fsio
from . import metadata as md
from .cache import EntryCache, gc_paused, mtimes, stat_key
from .detect import Detected, detect
from .detector import Detector
from .discovery import RootScan, discover_root
from .isolation import BoundedIO
from .models import CatalogRoot, EntrySummary
from .roots import RootState
from .safety import make_id
from .sizes import SizeScanner
from .views import Entry, effective, summary

log = logging.getLogger(__name__)


def _size_holds(path: str, rec: dict) -> bool:
    dirs = rec.get("dirs") or []
    return mtimes([os.path.join(path, d) for d in dirs]) == (rec.get("dir_mtimes") or [])


class EntryIndex:
    """The entries of ``roots``, detected in ``threads`` threads and sized by ``workers`` processes
    (0 = in the scanner's thread); ``io`` is the catalog's bounded pool, where work that may hang in
    a root that does not answer (discovery, the roots' check) runs.  Thread-safe."""

    def __init__(self, roots: List[CatalogRoot], cache: EntryCache, io: BoundedIO, *,
                 workers: Optional[int] = None, threads: int = 4, revalidate_interval: float = 300.0):
        self.roots = {r.label: RootState(r.label, r.path) for r in roots}
        self.cache = cache
        self.io = io
        self.scanner = SizeScanner(cache, workers=workers, idle_callback=self._background_revalidate,
                                   idle_interval=revalidate_interval)
        self.detector = Detector(self._entry_work, threads)
        self.last_check = time.monotonic()   # of the roots' cheap check
        self._lock = threading.RLock()       # guards _entries
        self._entries: Dict[str, Entry] = {}

    def entries(self) -> List[Entry]:
        with self._lock:
            return list(self._entries.values())

    def entry(self, entry_id: str) -> Optional[Entry]:
        with self._lock:
            return self._entries.get(entry_id)

    def root_meta(self, e: Entry):
        """The admin metadata the root's own file gives this entry, if any."""
        return self.roots[e.label].meta.get(e.id[len(e.label) + 1:])

    def row(self, e: Entry) -> Optional[EntrySummary]:
        """The entry's row (None when hidden), remade only when something it shows changed."""
        rec = self.cache.size(e.path, e.key)
        since = self.detector.queue.running_since(e.id) if e.state == "pending" else None
        stalled = since is not None and time.monotonic() - since > self.io.timeout
        root_meta = self.root_meta(e)
        stamp = (e.state, stalled, id(rec), id(root_meta))
        if e.summary_stamp != stamp:
            f = effective(e, root_meta)
            status = "stalled" if stalled else e.state
            e.summary = None if f.hidden else summary(e, f, rec, status)
            e.summary_stamp = stamp
        return e.summary

    # ------------------------------------------------------------------ background work
    def start(self, details: bool = True, sizes: bool = True) -> None:
        for root in self.roots.values():
            if not root.discovered:
                self.io.submit("root:" + root.label, self.discover, root.label)
        if details:
            self.detector.start()
        if sizes:
            self.scanner.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.detector.stop(min(timeout, 5.0))
        self.scanner.stop(timeout)

    def wait_for_scan(self, timeout: Optional[float] = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        for label in self.roots:
            self.discover(label)
        if self.detector.running and not self.detector.wait_idle(timeout):
            return False
        return self.scanner.wait_idle(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def refresh(self, deep: bool = True) -> None:
        for label in self.roots:
            self.discover(label)
        self.check_roots()
        if deep:
            for e in self.entries():
                self.look(e, validate=True)
            self.check_roots()   # folders that turned out to hold a hub

    def _background_revalidate(self) -> None:
        # From the scanner's thread, which must not hang in a root that does not answer.
        self.io.submit("check-roots", self.check_roots)
        with self._lock:
            ids = list(self._entries)
        for eid in ids:
            self.detector.submit(eid, "validate")

    def _entry_work(self, eid: str, token: str) -> None:
        e = self.entry(eid)
        if e is not None:   # detected meanwhile (opened, or a refresh): only check it
            self.look(e, validate=token == "validate" or e.state == "ready")

    # ------------------------------------------------------------------ discovery
    async def discover_async(self, root: RootState) -> None:
        message = (f"The catalog folder {root.path} (root '{root.label}') is not responding: the shared "
                   f"filesystem did not answer in {self.io.timeout:.0f} s. Jobs are not affected; try again later.")
        await self.io.run("root:" + root.label, message, self.discover, root.label)

    def check_roots(self) -> None:
        self.last_check = time.monotonic()
        for label, root in self.roots.items():
            if root.discovered:
                self.discover(label, check=True)

    def _root_sig(self, root: RootState) -> List[int]:
        real = root.real or root.path
        return mtimes([real] + [os.path.join(real, n) for n in md.ROOT_FILES] + root.hubs)

    def discover(self, label: str, check: bool = False) -> None:
        """List a root from names (first time), or again if its signature changed (``check``)."""
        root = self.roots[label]
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
            old = {k: v for k, v in self._entries.items() if v.label == root.label}
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
                self._entries.pop(k, None)
            self._entries.update(new)
            everything = {e.path for e in self._entries.values()}
        if all(r.discovered or r is root for r in self.roots.values()):   # roots may nest
            self.cache.forget_under(root.real, everything)  # type: ignore[arg-type]
        for eid in to_detect:
            self.detector.submit(eid)
        for e in new.values():   # the rows now, while collection is paused; sizes of the visible ones
            if self.row(e) is not None and self.cache.size(e.path, e.key) is None:
                self.scanner.submit(e.path, e.key)

    # ------------------------------------------------------------------ one entry
    def look(self, e: Entry, validate: bool) -> Optional[Entry]:
        """Detect ``e`` now -- or, with ``validate``, only if it changed -- and store the result;
        the entry as it is now, or None if its directory is gone."""
        key = stat_key(e.path)
        if key is None:
            with self._lock:
                if self._entries.get(e.id) is e:
                    del self._entries[e.id]
            self.roots[e.label].sig = None   # the next check lists the root again
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
            current = self._entries.get(e.id)
            if current is e or (current is not None and current.key == key):
                self._entries[e.id] = fresh
        if found is not None and found[0].container:
            self.cache.put_container(e.path, key, *found[0].container)  # type: ignore[arg-type]
            with self._lock:
                self._entries.pop(e.id, None)
            self.roots[e.label].sig = None
            self.io.submit("check-roots", self.check_roots)
            return None
        rec = self.cache.size(e.path, key)
        if rec is None or not _size_holds(e.path, rec):
            self.scanner.submit(e.path, key)
        return fresh
