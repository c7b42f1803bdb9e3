"""Discovery of a root's entries from names alone: what the first listing costs.

One ``scandir`` of the root gives the names and, through ``d_type``, which are directories; one
``lstat`` per entry gives the ``[mtime, ctime]`` key the cache is looked up by.  Nothing inside an
entry is touched.  Hugging Face hub dirs are the exception that pays for itself: one ``scandir`` of
a hub lists all of its repos.  A hub is looked for only where the root is a hub or an HF home
itself, where the cache already knows a folder holds one, or where a folder's name suggests it
(``huggingface-hub-cache``, ``hf``, ``hub``); background detection finds the others
(:func:`.detect._container`) and the next discovery expands them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from . import fsio
from .cache import EntryCache, stat_key
from .hf_cache import find_hub_dir, parse_repo_dirname

HF_HOME_CHILDREN = {"hub", "datasets", "modules", "xet", "accelerate", "assets", "stored_tokens"}
HUB_HINT = re.compile(r"hugging|(^|[-_.])(hf|hub)([-_.]|$)", re.I)
MODEL_HINT = re.compile(r"llama|mistral|gpt|bert|whisper|qwen|gemma|falcon|model|checkpoint|ckpt|weights", re.I)


@dataclass
class Candidate:
    path: str
    source: str                      # huggingface | folder
    key: List[int]                   # [st_mtime_ns, st_ctime_ns] of the entry directory
    hub_dir: Optional[str] = None
    hf_home: Optional[str] = None

    def guess(self) -> Tuple[str, str]:
        """Kind and name from the name alone (detection replaces them)."""
        parsed = parse_repo_dirname(os.path.basename(self.path)) if self.source == "huggingface" else None
        if parsed:
            return parsed
        name = os.path.basename(self.path)
        return ("model" if MODEL_HINT.search(name) else "dataset"), name


@dataclass
class RootScan:
    candidates: List[Candidate] = field(default_factory=list)
    hubs: List[str] = field(default_factory=list)


def _dirs(path: str) -> List[Tuple[str, str]]:
    """(name, path) of the directories in ``path`` that are not links, from ``d_type``."""
    try:
        with fsio.scandir(path) as it:
            return [(e.name, e.path) for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _repos(hub: str, home: Optional[str], children: Optional[List[Tuple[str, str]]] = None) -> List[Candidate]:
    out = []
    for name, path in (children if children is not None else _dirs(hub)):
        if parse_repo_dirname(name):
            key = stat_key(path)
            if key is not None:
                out.append(Candidate(path=path, source="huggingface", key=key, hub_dir=hub, hf_home=home))
    return out


def discover_root(real: str, cache: EntryCache) -> RootScan:
    """The entries under ``real`` (a resolved root path) with their keys."""
    scan = RootScan()
    children = [(n, p) for n, p in _dirs(real) if not n.startswith(".")]
    if any(parse_repo_dirname(n) for n, _ in children):          # the root is a hub dir
        scan.hubs.append(real)
        scan.candidates = _repos(real, os.path.dirname(real) if os.path.basename(real) == "hub" else None, children)
        return scan
    hub = os.path.join(real, "hub")
    home_repos = _repos(hub, real) if any(n == "hub" for n, _ in children) else []
    if home_repos:                                                # the root is an HF_HOME
        scan.hubs.append(hub)
        scan.candidates.extend(home_repos)
    for name, path in sorted(children):
        if home_repos and name in HF_HOME_CHILDREN:
            continue
        key = stat_key(path)
        if key is None:
            continue
        known = cache.container(path, key)
        found: Optional[Tuple[str, Optional[str]]] = (known["hub"], known["home"]) if known else None
        if found is None and HUB_HINT.search(name):
            found = find_hub_dir(path)
        repos = _repos(*found) if found else []
        if repos:
            scan.hubs.append(found[0])  # type: ignore[index]
            scan.candidates.extend(repos)
        else:
            scan.candidates.append(Candidate(path=path, source="folder", key=key))
    return scan
