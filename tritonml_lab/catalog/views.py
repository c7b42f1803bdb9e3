"""An entry as the catalog holds it in memory, and the two views the API returns of it.

An entry starts from its name (:class:`.discovery.Candidate`): a guessed kind, a name, no details.
Detection (:class:`.detect.Detected`) fills the details in; admin metadata -- the root's file first,
then the entry's own -- overrides them field by field when a view is made, so editing the root's
file needs no new detection.  Sizes come from the cache (:mod:`.cache`) whenever they are known.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from . import fsio
from . import metadata as md
from .datasets import FolderProbe, full_shard_info
from .detect import Detected, Probe, unique_tags
from .hf_cache import HFProbe
from .models import EntryDetail, EntrySummary, FileItem, FilesSummary, Metadata
from .safety import read_bounded
from .snippets import folder_snippets, hf_snippets

README_LIMIT = 64 << 10


@dataclass
class Entry:
    id: str
    label: str
    root_real: str
    path: str
    source: str                               # huggingface | folder
    key: List[int]                            # [mtime_ns, ctime_ns] of the directory when listed
    guess_kind: str = "dataset"
    guess_name: str = ""
    hub_dir: Optional[str] = None
    hf_home: Optional[str] = None
    detected: Optional[Detected] = None       # may be from an older key while state is pending
    probe: Optional[Probe] = None             # in memory only, for the detail view
    state: str = "pending"                    # pending | ready | error
    summary: Optional[EntrySummary] = None
    summary_stamp: tuple = ()

    @property
    def readme_path(self) -> Optional[str]:
        return self.probe.readme_path if self.probe is not None else None


@dataclass
class Fields:
    kind: str
    name: str
    description: Optional[str] = None
    license: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    hidden: bool = False
    metadata: Optional[Metadata] = None


def effective(e: Entry, root_meta: Optional[Metadata]) -> Fields:
    """Detected (or guessed) fields with the admin overrides applied."""
    d = e.detected
    f = Fields(kind=d.kind if d else e.guess_kind, name=d.name if d else e.guess_name,
               description=d.description if d else None, license=d.license if d else None,
               tags=d.tags if d else [])
    meta = md.merge(root_meta, d.meta if d else None)
    if meta is None:    # most entries: detected tags are unique already
        return f
    f.metadata = meta
    f.name = meta.name or f.name
    f.kind = meta.kind or f.kind
    f.description = meta.description or f.description
    f.license = meta.license or f.license
    if meta.tags is not None:
        f.tags = unique_tags(list(meta.tags) + f.tags)
    f.hidden = bool(meta.hidden)
    return f


def _size_fields(rec: Optional[dict]) -> dict:
    ok = rec is not None and "error" not in rec
    return {
        "size_bytes": rec.get("size_bytes") if ok else None,  # type: ignore[union-attr]
        "disk_bytes": rec.get("disk_bytes") if ok else None,  # type: ignore[union-attr]
        "file_count": rec.get("file_count") if ok else None,  # type: ignore[union-attr]
        "size_status": "ready" if ok else ("error" if rec is not None else "pending"),
    }


def summary(e: Entry, f: Fields, size_rec: Optional[dict], details_status: str) -> EntrySummary:
    d = e.detected
    # model_construct: the values are the catalog's own, and a listing makes a thousand of these.
    return EntrySummary.model_construct(
        id=e.id, kind=f.kind, name=f.name, root=e.label, path=e.path, source=e.source,
        **_size_fields(size_rec), details_status=details_status,
        description=f.description, license=f.license, tags=f.tags, formats=list(d.formats) if d else [],
        repo_id=(d.repo_id if d else None) or (e.guess_name if e.source == "huggingface" else None),
        num_parameters=d.num_parameters if d else None)


def _top_level_with_sizes(path: str, items: List[FileItem], limit: int = 200) -> List[FileItem]:
    out = []
    for it in items[:limit]:
        size = None
        if not it.is_dir:
            try:
                size = fsio.lstat(path + "/" + it.name).st_size
            except OSError:
                pass
        out.append(FileItem(name=it.name, is_dir=it.is_dir, size_bytes=size))
    return out


def detail(e: Entry, f: Fields, s: EntrySummary, size_rec: Optional[dict]) -> EntryDetail:
    """The full view of a detected entry (``e.probe`` set): README, files, dataset layout, snippets."""
    probe = e.probe
    assert probe is not None
    ok = size_rec is not None and "error" not in size_rec
    res = size_rec if ok else {}
    within = e.root_real if isinstance(probe, FolderProbe) else fsio.realpath(e.path)
    readme, truncated = None, False
    if probe.readme_path:
        data = read_bounded(probe.readme_path, within, README_LIMIT + 1)
        if data is not None:
            truncated = len(data) > README_LIMIT
            readme = data[:README_LIMIT].decode("utf-8", "replace")
    sampled = probe.info.formats if isinstance(probe, FolderProbe) else probe.formats
    files = FilesSummary(
        formats=dict(res.get("formats") or {}) if ok else dict(sampled), formats_exact=ok,  # type: ignore[union-attr]
        file_count=res.get("file_count"), dir_count=res.get("dir_count"),  # type: ignore[union-attr]
        size_bytes=res.get("size_bytes"), disk_bytes=res.get("disk_bytes"))  # type: ignore[union-attr]
    dataset = None
    if isinstance(probe, FolderProbe):
        files.top_level = _top_level_with_sizes(e.path, probe.top_level)
        files.top_level_truncated = probe.top_level_truncated
        dataset = probe.info.model_copy(deep=True)
        if dataset.shards:   # complete the shard pattern with one full scandir of the shard dir
            dirs = sorted({sh.directory for sh in dataset.shards})[:4]
            full = [si for d in dirs for si in full_shard_info(e.path, d)]
            if full:
                dataset.shards = full[:20]
        snips = folder_snippets(e.path, f.name, f.kind, dataset, s.size_bytes, probe.model_files)
    else:
        assert isinstance(probe, HFProbe)
        files.top_level = [FileItem(name=n, is_dir=False) for n in probe.info.files[:200]]
        files.top_level_truncated = len(probe.info.files) > 200
        snips = hf_snippets(probe.info, e.path)
    meta = f.metadata
    return EntryDetail(
        **s.model_dump(), metadata=meta, citation=meta.citation if meta else None,
        url=meta.url if meta else None, hf=probe.info if isinstance(probe, HFProbe) else None,
        dataset=dataset, files=files, readme=readme, readme_path=probe.readme_path, readme_truncated=truncated,
        license_path=probe.license_path if isinstance(probe, FolderProbe) else None, snippets=snips,
        scanned_at=(size_rec or {}).get("scanned_at"))
