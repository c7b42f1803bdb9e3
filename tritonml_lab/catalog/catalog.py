"""The catalog facade: discovery over labelled roots, cached listing, details, background sizes.

Request cost model (what makes it usable on Lustre):

* **Listing** reads only memory.  The first call (or a call after ``refresh_interval`` seconds
  whose cheap check -- one ``stat`` per root, hub dir and root metadata file -- saw a change)
  discovers entries with a ``scandir`` of each root and hub dir, and probes *new or changed*
  entries with a bounded look (:mod:`.hf_cache`, :mod:`.datasets`), in a few threads.
* **Per-entry revalidation** (a few ``stat`` calls per entry: the signature dirs and metadata files)
  runs in the background scanner thread every ``revalidate_interval`` seconds, and for one entry
  on :meth:`Catalog.get`.
* **Sizes and file counts** come only from the background scanner (:mod:`.sizes`), persisted in a
  JSON cache; until known they are ``None`` with ``size_status == "pending"``.

Safety: only directories found by scanning the configured roots become entries; client ids are
validated and looked up in that index, never joined onto a path; symlinked entries and symlinks
leaving a root (or an HF repo dir) are never followed.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import metadata as md
from .datasets import FolderProbe, full_shard_info, probe_folder
from .hf_cache import HFProbe, find_hub_dir, looks_like_hub_dir, parse_repo_dirname, probe_hf_repo, strip_front_matter
from .models import (CatalogListing, CatalogRoot, EntryDetail, EntrySummary, FileItem, FilesSummary,
                     Metadata)
from .safety import (BadEntryId, EntryNotFound, InvalidQuery, make_id, read_bounded, validate_id,
                     validate_label)
from .sizes import SizeCache, SizeScanner, compute_signature, default_cache_path
from .snippets import folder_snippets, hf_snippets

log = logging.getLogger(__name__)

DEFAULT_ROOTS: Tuple[Tuple[str, str], ...] = (("dldata", "/scratch/shareddata/dldata"),)
README_LIMIT = 64 << 10
IMAGE_LIMIT = 5 << 20
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                ".webp": "image/webp", ".svg": "image/svg+xml"}
DESCRIPTION_HEAD = 4 << 10
PROBE_THREADS = 8
HF_HOME_CHILDREN = {"hub", "datasets", "modules", "xet", "accelerate", "assets", "stored_tokens"}

RootSpec = Union[Tuple[str, str], CatalogRoot, str]


@dataclass
class _Entry:
    id: str
    label: str
    root_real: str
    path: str
    source: str                       # huggingface | folder
    within: str                       # reads must stay inside this dir
    kind: str = "dataset"
    name: str = ""
    description: Optional[str] = None
    license: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    formats: List[str] = field(default_factory=list)
    repo_id: Optional[str] = None
    num_parameters: Optional[int] = None
    hidden: bool = False
    metadata: Optional[Metadata] = None
    hf: Optional[HFProbe] = None
    folder: Optional[FolderProbe] = None
    signature_dirs: List[str] = field(default_factory=list)
    signature: List[int] = field(default_factory=list)
    meta_files: List[str] = field(default_factory=list)
    meta_sig: List[int] = field(default_factory=list)
    root_meta: Optional[Metadata] = None
    summary: Optional[EntrySummary] = None
    summary_rec: object = None


@dataclass
class _Candidate:
    path: str
    source: str
    hub_dir: Optional[str] = None
    hf_home: Optional[str] = None


def _normalise_roots(roots: Optional[Iterable[RootSpec]]) -> List[CatalogRoot]:
    out: List[CatalogRoot] = []
    for spec in (DEFAULT_ROOTS if roots is None else roots):
        if isinstance(spec, CatalogRoot):
            r = spec
        elif isinstance(spec, str):
            r = CatalogRoot(label=os.path.basename(spec.rstrip("/")) or "root", path=spec)
        else:
            label, path = spec
            r = CatalogRoot(label=label, path=str(path))
        validate_label(r.label)
        if not os.path.isabs(r.path):
            raise ValueError(f"catalog root {r.path!r} must be an absolute path")
        if any(o.label == r.label for o in out):
            raise ValueError(f"duplicate catalog root label {r.label!r}")
        out.append(r)
    return out


def _readme_description(path: Optional[str], within: str) -> Optional[str]:
    if not path:
        return None
    head = read_bounded(path, within, DESCRIPTION_HEAD)
    if not head:
        return None
    text = strip_front_matter(head.decode("utf-8", "replace"))
    for para in text.split("\n\n"):
        p = " ".join(line.strip() for line in para.strip().splitlines())
        if p and not p.startswith(("#", "<", "!", "[!", "---", "```", "|", "=")):
            return p[:297] + "..." if len(p) > 300 else p
    return None


def _fmt_params(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)


class Catalog:
    """Catalog of shared models and datasets under labelled roots.  Thread-safe.

    ``roots``: ``[(label, path), ...]`` (or :class:`CatalogRoot`); default ``/scratch/shareddata/dldata``
    labelled ``dldata``.  ``cache_path``: the persistent size cache (``None`` -> default under
    ``~/.cache/tritonml-lab``; ``""`` -> memory only).  ``workers``: scanner processes
    (0 = scan in the scanner thread).
    """

    def __init__(self, roots: Optional[Iterable[RootSpec]] = None, cache_path: Optional[str] = None,
                 *, refresh_interval: float = 10.0, revalidate_interval: float = 300.0,
                 workers: Optional[int] = None):
        self.roots = _normalise_roots(roots)
        self._real = {r.label: os.path.realpath(r.path) for r in self.roots}
        self.refresh_interval = refresh_interval
        self.revalidate_interval = revalidate_interval
        self.cache = SizeCache(default_cache_path() if cache_path is None else (cache_path or None))
        self.scanner = SizeScanner(self.cache, workers=workers, idle_callback=self._background_revalidate,
                                   idle_interval=revalidate_interval)
        self._lock = threading.RLock()          # guards _index
        self._refresh_lock = threading.Lock()   # serialises discovery / probing
        self._index: Dict[str, _Entry] = {}
        self._root_sig: Dict[str, list] = {}
        self._root_meta: Dict[str, Dict[str, Metadata]] = {}
        self._hub_dirs: Dict[str, List[_Candidate]] = {}   # root real path -> hub dirs found there
        self._last_check = 0.0
        self._discovered = False

    # ------------------------------------------------------------------ public API
    def list(self, kind: Optional[str] = None, q: Optional[str] = None, tag: Optional[str] = None,
             min_size: Optional[int] = None, max_size: Optional[int] = None) -> List[EntrySummary]:
        if kind is not None and kind not in ("model", "dataset"):
            raise InvalidQuery("kind must be 'model' or 'dataset'")
        for v in (min_size, max_size):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise InvalidQuery("min_size/max_size must be non-negative integers (bytes)")
        self._maybe_refresh()
        with self._lock:
            entries = [e for e in self._index.values() if not e.hidden]
        ql = q.strip().lower() if q else None
        tl = tag.strip().lower() if tag else None
        out = []
        for e in entries:
            if kind and e.kind != kind:
                continue
            if tl and tl not in (t.lower() for t in e.tags):
                continue
            if ql and not any(ql in s.lower() for s in (e.name, e.id, e.repo_id or "", e.description or "", *e.tags)):
                continue
            s = self._summary(e)
            if min_size is not None and (s.size_bytes is None or s.size_bytes < min_size):
                continue
            if max_size is not None and (s.size_bytes is None or s.size_bytes > max_size):
                continue
            out.append(s)
        out.sort(key=lambda s: (s.kind, s.name.lower(), s.id))
        return out

    def listing(self, **filters) -> CatalogListing:
        """``{"entries": [...], "scanning": bool, "pending": n}`` for the HTTP handler."""
        entries = self.list(**filters)
        pending = self.scanner.pending()
        return CatalogListing(entries=entries, scanning=self.scanner.running and pending > 0, pending=pending)

    def get(self, entry_id: str) -> EntryDetail:
        validate_id(entry_id)
        self._maybe_refresh()
        with self._lock:
            e = self._index.get(entry_id)
        if e is None or e.hidden:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        e = self._revalidate_entry(e)
        if e is None or e.hidden:
            raise EntryNotFound(f"catalog entry {entry_id!r} is gone")
        rec = self.cache.get(e.path, e.signature)
        if rec is None:
            self.scanner.submit(e.path, e.signature, priority=True)
        return self._detail(e, rec)

    def readme_image(self, entry_id: str, relative: str) -> Tuple[bytes, str]:
        """An image a README links to by a relative path (``images/arch.png``): its bytes and type.

        Only image files below the README's own directory, inside the entry (symlinks resolved), of
        at most ``IMAGE_LIMIT`` bytes; anything else is refused without touching other files."""
        validate_id(entry_id)
        mime = _IMAGE_TYPES.get(os.path.splitext(relative)[1].lower()) if isinstance(relative, str) else None
        if mime is None:
            raise InvalidQuery("path must name a .png, .jpg, .jpeg, .gif, .webp or .svg file")
        if (len(relative) > 512 or relative.startswith(("/", "~")) or "\\" in relative
                or any(part in ("", ".", "..") for part in relative.split("/"))
                or any(ord(c) < 32 or ord(c) == 127 for c in relative)):
            raise InvalidQuery("path must be a plain relative path below the README's folder")
        self._maybe_refresh()
        with self._lock:
            e = self._index.get(entry_id)
        if e is None or e.hidden:
            raise EntryNotFound(f"no catalog entry {entry_id!r}")
        readme_path = e.hf.readme_path if e.hf else (e.folder.readme_path if e.folder else None)
        if not readme_path:
            raise EntryNotFound(f"catalog entry {entry_id!r} has no README")
        data = read_bounded(os.path.join(os.path.dirname(readme_path), relative), e.within, IMAGE_LIMIT + 1)
        if data is None:
            raise EntryNotFound(f"no image {relative!r} next to the README of {entry_id!r}")
        if len(data) > IMAGE_LIMIT:
            raise InvalidQuery(f"the image is larger than {IMAGE_LIMIT >> 20} MB; open it from the path instead")
        return data, mime

    def start_background_scan(self) -> None:
        self._maybe_refresh()
        self.scanner.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.scanner.stop(timeout)

    def wait_for_scan(self, timeout: Optional[float] = None) -> bool:
        """Block until every queued size scan is done (True) or ``timeout`` passes (False)."""
        return self.scanner.wait_idle(timeout)

    def refresh(self, deep: bool = True) -> None:
        """Re-discover now; ``deep`` also re-stats every entry's signature (what the background
        revalidation does)."""
        self._refresh(force=True, deep=deep)

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ discovery
    def _maybe_refresh(self) -> None:
        if not self._discovered:
            self._refresh(force=True, deep=False)
        elif time.monotonic() - self._last_check >= self.refresh_interval:
            self._refresh(force=False, deep=False)

    def _background_revalidate(self) -> None:
        self._refresh(force=True, deep=True)

    def _candidates(self, real: str) -> List[_Candidate]:
        out: List[_Candidate] = []
        hubs: List[_Candidate] = []

        def add_hub(hub: str, home: Optional[str]) -> None:
            hubs.append(_Candidate(path=hub, source="hub", hub_dir=hub, hf_home=home))
            try:
                with os.scandir(hub) as it:
                    for e in it:
                        if parse_repo_dirname(e.name) and e.is_dir(follow_symlinks=False):
                            out.append(_Candidate(path=e.path, source="huggingface", hub_dir=hub, hf_home=home))
            except OSError:
                pass

        if not os.path.isdir(real):
            return out
        if looks_like_hub_dir(real):   # the root itself is a hub dir: its children are repos
            add_hub(real, os.path.dirname(real) if os.path.basename(real) == "hub" else None)
        else:
            try:
                with os.scandir(real) as it:
                    children = [(e.name, e.path) for e in it
                                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
            except OSError:
                children = []
            is_home = any(n == "hub" and looks_like_hub_dir(p) for n, p in children)
            for name, path in sorted(children):
                if is_home and name == "hub":          # the root is an HF_HOME
                    add_hub(path, real)
                    continue
                if is_home and name in HF_HOME_CHILDREN:
                    continue
                found = find_hub_dir(path)
                if found:
                    add_hub(*found)
                else:
                    out.append(_Candidate(path=path, source="folder"))
        self._hub_dirs[real] = hubs
        return out

    def _refresh(self, force: bool, deep: bool) -> None:
        with self._refresh_lock:
            now = time.monotonic()
            if not force and self._discovered and now - self._last_check < self.refresh_interval:
                return
            with self._lock:
                old = dict(self._index)
            new_index: Dict[str, _Entry] = {}
            to_probe: List[Tuple[str, str, _Candidate]] = []
            for r in self.roots:
                label, real = r.label, self._real[r.label]
                sig = compute_signature([real] + [os.path.join(real, n) for n in md.ROOT_FILES]
                                        + [h.hub_dir for h in self._hub_dirs.get(real, [])])  # type: ignore[misc]
                root_changed = self._root_sig.get(label) != sig or not self._discovered
                if root_changed:
                    self._root_meta[label] = md.load_root_file(real)
                    cands = self._candidates(real)
                    self._root_sig[label] = compute_signature(
                        [real] + [os.path.join(real, n) for n in md.ROOT_FILES]
                        + [h.hub_dir for h in self._hub_dirs.get(real, [])])  # type: ignore[misc]
                    for c in cands:
                        eid = make_id(label, real, c.path)
                        prev = old.get(eid)
                        if prev is not None and self._probe_still_valid(prev, label):
                            new_index[eid] = prev
                        else:
                            to_probe.append((eid, label, c))
                else:
                    for eid, prev in old.items():
                        if prev.label != label:
                            continue
                        if deep and not self._probe_still_valid(prev, label):
                            to_probe.append((eid, label, _Candidate(
                                path=prev.path, source=prev.source,
                                hub_dir=prev.hf.info.hub_dir if prev.hf else None,
                                hf_home=prev.hf.info.hf_home if prev.hf else None)))
                        else:
                            new_index[eid] = prev
            if to_probe:
                if len(to_probe) > 16:
                    with ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="catalog-probe") as ex:
                        probed = list(ex.map(lambda t: self._probe(*t), to_probe))
                else:
                    probed = [self._probe(*t) for t in to_probe]
                for p in probed:
                    if p is not None:
                        new_index[p.id] = p
            with self._lock:
                self._index = new_index
            self._last_check = time.monotonic()
            self._discovered = True
            for e in new_index.values():
                if not e.hidden and self.cache.get(e.path, e.signature) is None:
                    self.scanner.submit(e.path, e.signature)

    def _probe_still_valid(self, e: _Entry, label: str) -> bool:
        return (e.root_meta == self._root_meta.get(label, {}).get(e.id.split("/", 1)[1])
                and e.signature == compute_signature(e.signature_dirs)
                and e.meta_sig == compute_signature(e.meta_files))

    def _revalidate_entry(self, e: _Entry) -> Optional[_Entry]:
        if self._probe_still_valid(e, e.label):
            return e
        with self._refresh_lock:
            cand = _Candidate(path=e.path, source=e.source,
                              hub_dir=e.hf.info.hub_dir if e.hf else None,
                              hf_home=e.hf.info.hf_home if e.hf else None)
            fresh = self._probe(e.id, e.label, cand) if os.path.isdir(e.path) and not os.path.islink(e.path) else None
            with self._lock:
                if fresh is None:
                    self._index.pop(e.id, None)
                else:
                    self._index[e.id] = fresh
        if fresh is not None and self.cache.get(fresh.path, fresh.signature) is None:
            self.scanner.submit(fresh.path, fresh.signature, priority=True)
        return fresh

    def _probe(self, eid: str, label: str, c: _Candidate) -> Optional[_Entry]:
        real = self._real[label]
        try:
            return self._probe_inner(eid, label, real, c)
        except Exception:  # a weird entry must not break the catalog
            log.exception("catalog: could not inspect %s", c.path)
            return None

    def _probe_inner(self, eid: str, label: str, real: str, c: _Candidate) -> Optional[_Entry]:
        rel = eid.split("/", 1)[1]
        root_meta_map = self._root_meta.get(label, {})
        if c.source == "huggingface":
            hp = probe_hf_repo(c.path, c.hub_dir or os.path.dirname(c.path), c.hf_home)
            if hp is None:
                return None
            info = hp.info
            e = _Entry(id=eid, label=label, root_real=real, path=c.path, source="huggingface",
                       within=os.path.realpath(c.path), hf=hp, kind=info.repo_type, name=info.repo_id,
                       repo_id=info.repo_id, num_parameters=info.num_parameters, license=hp.license)
            bits = []
            if info.architectures:
                bits.append(info.architectures[0])
            if info.num_parameters:
                bits.append(f"{_fmt_params(info.num_parameters)} parameters")
            if info.torch_dtype:
                bits.append(info.torch_dtype)
            if info.context_length:
                bits.append(f"context {info.context_length}")
            e.description = " · ".join(bits) or f"Hugging Face {info.repo_type} {info.repo_id}"
            tags = ["huggingface"] + [t for t in (info.model_type, hp.pipeline_tag) if t] + hp.tags
            e.formats = sorted(hp.formats, key=lambda x: -hp.formats[x])[:8]
            e.signature_dirs = [c.path] + hp.signature_dirs
            top_names = {f.name for f in hp.top_level}
        else:
            fp = probe_folder(c.path)
            e = _Entry(id=eid, label=label, root_real=real, path=c.path, source="folder", within=real,
                       folder=fp, kind=fp.kind, name=os.path.basename(c.path))
            e.description = _readme_description(fp.readme_path, real)
            tags = list(fp.info.layouts) + (["checkpoint"] if fp.kind == "model" else [])
            e.formats = list(fp.info.formats)[:8]
            e.signature_dirs = fp.signature_dirs
            top_names = {f.name for f in fp.top_level}
        e.signature = compute_signature(e.signature_dirs)
        e.meta_files = [os.path.join(c.path, n) for n in md.ENTRY_FILES if n in top_names]
        e.meta_sig = compute_signature(e.meta_files)
        meta = root_meta_map.get(rel)
        for mf in e.meta_files:
            meta = md.merge(meta, md.load_file(mf, real))
        e.root_meta = root_meta_map.get(rel)
        e.metadata = meta
        if meta is not None:
            if meta.name:
                e.name = meta.name
            if meta.kind:
                e.kind = meta.kind
            if meta.description:
                e.description = meta.description
            if meta.license:
                e.license = meta.license
            if meta.tags is not None:
                tags = list(meta.tags) + [t for t in tags if t not in meta.tags]
            e.hidden = bool(meta.hidden)
        seen = set()
        e.tags = [t for t in tags if not (t.lower() in seen or seen.add(t.lower()))][:30]
        return e

    # ------------------------------------------------------------------ views
    def _summary(self, e: _Entry) -> EntrySummary:
        rec = self.cache.get(e.path, e.signature)
        s = e.summary
        if s is not None and e.summary_rec is rec:
            return s
        res = (rec or {}).get("result") or {}
        ok = rec is not None and "error" not in res
        s = EntrySummary(
            id=e.id, kind=e.kind, name=e.name, root=e.label, path=e.path, source=e.source,  # type: ignore[arg-type]
            size_bytes=res.get("size_bytes") if ok else None,
            disk_bytes=res.get("disk_bytes") if ok else None,
            file_count=res.get("file_count") if ok else None,
            size_status="ready" if ok else ("error" if rec is not None else "pending"),
            description=e.description, license=e.license, tags=e.tags, formats=e.formats,
            repo_id=e.repo_id, num_parameters=e.num_parameters)
        e.summary, e.summary_rec = s, rec
        return s

    def _detail(self, e: _Entry, rec: Optional[dict]) -> EntryDetail:
        s = self._summary(e)
        res = (rec or {}).get("result") or {}
        ok = rec is not None and "error" not in res
        readme_path = e.hf.readme_path if e.hf else (e.folder.readme_path if e.folder else None)
        readme = None
        truncated = False
        if readme_path:
            data = read_bounded(readme_path, e.within, README_LIMIT + 1)
            if data is not None:
                truncated = len(data) > README_LIMIT
                readme = data[:README_LIMIT].decode("utf-8", "replace")
        files = FilesSummary(
            formats=dict(res.get("formats") or {}) if ok else dict((e.folder.info.formats if e.folder else e.hf.formats)),  # type: ignore[union-attr]
            formats_exact=ok, file_count=res.get("file_count") if ok else None,
            dir_count=res.get("dir_count") if ok else None,
            size_bytes=res.get("size_bytes") if ok else None, disk_bytes=res.get("disk_bytes") if ok else None)
        dataset = None
        if e.folder is not None:
            files.top_level = self._top_level_with_sizes(e.path, e.folder.top_level)
            files.top_level_truncated = e.folder.top_level_truncated
            dataset = e.folder.info.model_copy(deep=True)
            if dataset.shards:   # complete the shard pattern with one full scandir of the shard dir
                dirs = sorted({sh.directory for sh in dataset.shards})[:4]
                full = [si for d in dirs for si in full_shard_info(e.path, d)]
                if full:
                    dataset.shards = full[:20]
            snips = folder_snippets(e.path, e.name, e.kind, dataset, s.size_bytes, e.folder.model_files)
        else:
            assert e.hf is not None
            files.top_level = [FileItem(name=f, is_dir=False) for f in e.hf.info.files[:200]]
            files.top_level_truncated = len(e.hf.info.files) > 200
            snips = hf_snippets(e.hf.info, e.path)
        meta = e.metadata
        return EntryDetail(
            **s.model_dump(), metadata=meta, citation=meta.citation if meta else None,
            url=meta.url if meta else None, hf=e.hf.info if e.hf else None, dataset=dataset, files=files,
            readme=readme, readme_path=readme_path, readme_truncated=truncated,
            license_path=e.folder.license_path if e.folder else None, snippets=snips,
            scanned_at=(rec or {}).get("scanned_at"))

    @staticmethod
    def _top_level_with_sizes(path: str, items: List[FileItem], limit: int = 200) -> List[FileItem]:
        out = []
        for it in items[:limit]:
            size = None
            if not it.is_dir:
                try:
                    st = os.lstat(os.path.join(path, it.name))
                    size = st.st_size
                except OSError:
                    pass
            out.append(FileItem(name=it.name, is_dir=it.is_dir, size_bytes=size))
        return out
