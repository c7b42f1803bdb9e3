"""The configured roots of a catalog, and what the catalog knows about each."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple, Union

from .models import CatalogRoot, Metadata
from .safety import validate_label

DEFAULT_ROOTS: Tuple[Tuple[str, str], ...] = (("dldata", "/scratch/shareddata/dldata"),)

RootSpec = Union[Tuple[str, str], CatalogRoot, str]


def normalise_roots(roots: Optional[Iterable[RootSpec]]) -> List[CatalogRoot]:
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


@dataclass
class RootState:
    """A root as last discovered: resolved path, signature for the cheap check, admin metadata."""

    label: str
    path: str
    real: Optional[str] = None
    sig: Optional[List[int]] = None         # mtimes of the root, its metadata files and hub dirs
    meta: Dict[str, Metadata] = field(default_factory=dict)
    hubs: List[str] = field(default_factory=list)
    discovered: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
