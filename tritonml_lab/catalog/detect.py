"""Detection of one entry: what the listing shows about it, from a bounded look inside.

:func:`detect` runs in the background (or for the one entry a user opens): a Hugging Face repo's
refs, snapshot, ``config.json`` and safetensors headers (:mod:`.hf_cache`), or a folder's top levels
and README (:mod:`.datasets`), and the entry's own metadata file (:mod:`.metadata`).  It returns a
:class:`Detected`, small and JSON-able so the cache can keep it, and the probe itself, which the
detail view needs (README path, files, shards) and which is not persisted.

A folder that turns out to hold a Hugging Face home or hub dir is reported as a *container*: its
repos become the entries, not the folder.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import List, Optional, Tuple, Union

from . import metadata as md
from .cache import mtimes
from .datasets import FolderProbe, probe_folder
from .hf_cache import HFProbe, looks_like_hub_dir, parse_repo_dirname, probe_hf_repo, strip_front_matter
from .models import Metadata
from .safety import read_bounded

DESCRIPTION_HEAD = 4 << 10
Probe = Union[HFProbe, FolderProbe]


@dataclass
class Detected:
    """The listing fields of an entry before admin metadata, and what they were found under."""

    kind: str
    name: str
    key: List[int]                     # the entry directory's [mtime_ns, ctime_ns] when detected
    description: Optional[str] = None
    license: Optional[str] = None
    tags: List[str] = field(default_factory=list)
    formats: List[str] = field(default_factory=list)
    repo_id: Optional[str] = None
    num_parameters: Optional[int] = None
    sig_dirs: List[str] = field(default_factory=list)     # relative to the entry
    sig: List[int] = field(default_factory=list)
    meta_files: List[str] = field(default_factory=list)   # the entry's own metadata files
    meta_sig: List[int] = field(default_factory=list)
    meta: Optional[Metadata] = None                       # what those files say
    container: Optional[List[Optional[str]]] = None       # [hub dir, HF home] of a folder that holds one

    def to_json(self) -> dict:
        """Without empty fields: a restart parses a thousand of these before its first listing."""
        doc = {k: v for k, v in asdict(self).items() if v not in (None, [])}
        if self.meta:
            doc["meta"] = self.meta.model_dump(exclude_none=True)
        return doc

    @classmethod
    def from_json(cls, doc: dict) -> Optional["Detected"]:
        try:
            meta = doc.get("meta")
            return cls(**{**doc, "meta": Metadata(**meta) if meta else None})
        except (TypeError, ValueError):
            return None

    def still_holds(self, path: str) -> bool:
        """The recorded directories and metadata files are unchanged (a few ``lstat``)."""
        return (mtimes([os.path.join(path, d) for d in self.sig_dirs]) == self.sig
                and mtimes([os.path.join(path, f) for f in self.meta_files]) == self.meta_sig)


def readme_description(path: Optional[str], within: str) -> Optional[str]:
    """The first paragraph of prose of a README (headings, badges and tables skipped)."""
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


def unique_tags(tags: List[str]) -> List[str]:
    """Tags without case-insensitive repeats, the first 30."""
    seen: set = set()
    return [t for t in tags if not (t.lower() in seen or seen.add(t.lower()))][:30]  # type: ignore[func-returns-value]


def fmt_params(n: int) -> str:
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)


def _hf(path: str, key: List[int], hub_dir: str, hf_home: Optional[str]) -> Optional[Tuple[Detected, HFProbe]]:
    hp = probe_hf_repo(path, hub_dir, hf_home)
    if hp is None:
        return None
    info = hp.info
    bits = []
    if info.architectures:
        bits.append(info.architectures[0])
    if info.num_parameters:
        bits.append(f"{fmt_params(info.num_parameters)} parameters")
    if info.torch_dtype:
        bits.append(info.torch_dtype)
    if info.context_length:
        bits.append(f"context {info.context_length}")
    d = Detected(
        kind=info.repo_type, name=info.repo_id, key=key, repo_id=info.repo_id, license=hp.license,
        num_parameters=info.num_parameters,
        description=" · ".join(bits) or f"Hugging Face {info.repo_type} {info.repo_id}",
        tags=unique_tags(["huggingface"] + [t for t in (info.model_type, hp.pipeline_tag) if t] + hp.tags),
        formats=sorted(hp.formats, key=lambda x: -hp.formats[x])[:8],
        sig_dirs=[os.path.relpath(s, path) for s in hp.signature_dirs])
    return d, hp


def _container(path: str, fp: FolderProbe) -> Optional[List[Optional[str]]]:
    """``[hub dir, HF home]`` if the folder is a hub dir or an HF home, from its top-level look."""
    dirs = [f.name for f in fp.top_level if f.is_dir]
    if any(parse_repo_dirname(n) for n in dirs):
        return [path, os.path.dirname(path) if os.path.basename(path) == "hub" else None]
    hub = os.path.join(path, "hub")
    if "hub" in dirs and looks_like_hub_dir(hub):
        return [hub, path]
    return None


def _folder(path: str, key: List[int], root_real: str) -> Tuple[Detected, FolderProbe]:
    fp = probe_folder(path)
    d = Detected(
        kind=fp.kind, name=os.path.basename(path), key=key,
        description=readme_description(fp.readme_path, root_real),
        tags=unique_tags(list(fp.info.layouts) + (["checkpoint"] if fp.kind == "model" else [])),
        formats=list(fp.info.formats)[:8],
        sig_dirs=[os.path.relpath(s, path) for s in fp.signature_dirs if s != path],
        container=_container(path, fp))
    return d, fp


def detect(path: str, source: str, key: List[int], root_real: str, hub_dir: Optional[str] = None,
           hf_home: Optional[str] = None) -> Optional[Tuple[Detected, Probe]]:
    """Detect the entry at ``path`` (``source``: ``huggingface`` or ``folder``); None if it is
    not one (a repo dir without a parsable name)."""
    if source == "huggingface":
        found = _hf(path, key, hub_dir or os.path.dirname(path), hf_home)
        if found is None:
            return None
        d, probe = found
        top_names = {f.name for f in probe.top_level}
    else:
        d, probe = _folder(path, key, root_real)
        top_names = {f.name for f in probe.top_level}
    d.sig = mtimes([os.path.join(path, s) for s in d.sig_dirs])
    d.meta_files = [n for n in md.ENTRY_FILES if n in top_names]
    d.meta_sig = mtimes([os.path.join(path, n) for n in d.meta_files])
    for name in d.meta_files:
        d.meta = md.merge(d.meta, md.load_file(os.path.join(path, name), root_real))
    return d, probe
