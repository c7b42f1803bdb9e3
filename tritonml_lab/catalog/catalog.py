"""The catalog's API: listing from memory, one entry's detail, the server's ``*_async`` requests.

What each thing costs (what makes it usable on Lustre, where every metadata call is a round trip):

* **First listing**: per root one ``scandir`` and one ``lstat`` per entry, nothing inside entries
  (:mod:`.index`, :mod:`.discovery`).  Entries show a guessed kind and their name; details are "pending".
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

The entry table and the background work that keeps it current (discovery, detection, sizes, the
persisted cache, revalidation) are :class:`.index.EntryIndex`: one lock over one table, and one place
that decides what runs where, which is what keeps the costs above.  This module answers from that
table in memory, and has it look at the filesystem only where a request needs it: a root not listed
yet, an entry being opened, the periodic check of the roots.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Iterable, List, Optional, Tuple

from . import fsio
from .cache import EntryCache, default_cache_path, gc_paused
from .index import EntryIndex
from .isolation import BoundedIO, CatalogTimeout
from .models import CatalogListing, EntryDetail, EntrySummary
from .roots import RootSpec, normalise_roots
from .safety import EntryNotFound, InvalidQuery, image_type, read_bounded, validate_id
from .views import Entry, Fields, detail, effective, summary

IMAGE_LIMIT = 5 << 20


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
        self.refresh_interval = refresh_interval
        self.revalidate_interval = revalidate_interval
        self.cache = EntryCache(default_cache_path() if cache_path is None else (cache_path or None))
        self.io = BoundedIO(threads, timeout)
        self.index = EntryIndex(self.roots, self.cache, self.io, workers=workers, threads=threads,
                                revalidate_interval=revalidate_interval)
        self.scanner = self.index.scanner
        self.detector = self.index.detector

    # ------------------------------------------------------------------ listing
    def list(self, kind: Optional[str] = None, q: Optional[str] = None, tag: Optional[str] = None,
             min_size: Optional[int] = None, max_size: Optional[int] = None) -> List[EntrySummary]:
        self._check_filters(kind, min_size, max_size)
        for label in self.index.roots:
            self.index.discover(label)
        if time.monotonic() - self.index.last_check >= self.refresh_interval:
            self.index.check_roots()
        return self._list(kind, q, tag, min_size, max_size)

    def listing(self, **filters) -> CatalogListing:
        """``{"entries": [...], "scanning": bool, "pending": n, "detecting": n}`` for the HTTP handler."""
        return self._listing(self.list(**filters))

    async def listing_async(self, **filters) -> CatalogListing:
        """:meth:`listing` for the server: roots not yet discovered are discovered in the catalog's
        pool; a root that does not answer in time becomes a warning, not an error."""
        self._check_filters(filters.get("kind"), filters.get("min_size"), filters.get("max_size"))
        todo = [r for r in self.index.roots.values() if not r.discovered]
        results = await asyncio.gather(*(self.index.discover_async(r) for r in todo), return_exceptions=True)
        warnings = [str(x) for x in results if isinstance(x, CatalogTimeout)]
        for x in results:
            if isinstance(x, BaseException) and not isinstance(x, CatalogTimeout):
                raise x
        if time.monotonic() - self.index.last_check >= self.refresh_interval:
            self.index.last_check = time.monotonic()
            self.io.submit("check-roots", self.index.check_roots)
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
        entries = self.index.entries()
        with gc_paused():
            return self._filter(entries, kind, q, tag, min_size, max_size)

    def _filter(self, entries: List[Entry], kind, q, tag, min_size, max_size) -> List[EntrySummary]:
        ql = q.strip().lower() if q else None
        tl = tag.strip().lower() if tag else None
        out = []
        for e in entries:
            s = self.index.row(e)
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
        root = self.index.roots.get(label)
        if root is None:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        if not root.discovered:
            await self.index.discover_async(root)
        message = (f"The folder of {entry_id} is not responding: the shared filesystem did not answer in "
                   f"{self.io.timeout:.0f} s. Other entries and jobs are not affected; try again later.")
        return await self.io.run("entry:" + entry_id, message, fn, *args)

    def _opened(self, entry_id: str) -> Tuple[Entry, Fields]:
        """The entry, looked at now: checked for changes, or detected if only its name is known."""
        label, _ = validate_id(entry_id)
        if label in self.index.roots:
            self.index.discover(label)
        e = self.index.entry(entry_id)
        if e is None or self.index.row(e) is None:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        # Known from the cache only: detect now, the detail needs the probe itself.
        fresh = self.index.look(e, validate=e.probe is not None)
        if fresh is None or fresh.probe is None:
            raise EntryNotFound(f"catalog entry {entry_id!r} is gone or could not be read")
        f = effective(fresh, self.index.root_meta(fresh))
        if f.hidden:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        return fresh, f

    # ------------------------------------------------------------------ background work
    def start_background_scan(self, details: bool = True, sizes: bool = True) -> None:
        """Start detection and/or the size scan (the server starts both when it makes the catalog),
        and discover the roots in the catalog's pool, so the first request may find them listed."""
        self.index.start(details, sizes)

    def stop(self, timeout: float = 10.0) -> None:
        self.index.stop(timeout)
        self.io.shutdown()

    def wait_for_details(self, timeout: Optional[float] = None) -> bool:
        """Block until every queued detection is done (True) or ``timeout`` passes (False)."""
        return self.detector.wait_idle(timeout)

    def wait_for_scan(self, timeout: Optional[float] = None) -> bool:
        """Block until queued detection (when running) and size scans are done, or ``timeout`` passes."""
        return self.index.wait_for_scan(timeout)

    def refresh(self, deep: bool = True) -> None:
        """Check the roots now; ``deep`` also looks at every entry here and now (detecting the
        pending ones, re-detecting changed ones) -- what background revalidation does."""
        self.index.refresh(deep)

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
