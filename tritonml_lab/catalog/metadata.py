"""Admin-written metadata that overrides detected fields.

Format choice: **TOML** (read with the stdlib ``tomllib`` on Python >= 3.11, or ``tomli`` if
installed) or **JSON** (always available) -- no YAML dependency.  Two places are read:

1. per entry, in the entry directory: ``.tritonml.toml`` or ``.tritonml.json``::

       name = "ImageNet ILSVRC-2012"
       description = "1.28 M training images in 1000 classes ..."
       license = "ImageNet terms of access (non-commercial research)"
       citation = "Russakovsky et al., IJCV 2015"
       url = "https://image-net.org"
       tags = ["vision", "classification"]
       # kind = "dataset"     # or "model"
       # hidden = true        # leave the entry out of the catalog

2. per root, for entries whose directory admins prefer not to touch (e.g. HF cache repos):
   ``<root>/.tritonml-catalog.toml`` (or ``.json``) with one table per entry, keyed by the path
   relative to the root::

       [entries."huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B"]
       tags = ["llm", "gated"]
       license = "Llama 3 Community License"

The per-entry file wins field by field over the root file.  ``licence`` is accepted as an alias of
``license``; ``tags`` may be a list or a comma-separated string; unknown keys are ignored.  Files
are read with a size bound and only if they resolve inside the root.
"""
from __future__ import annotations

import json
import logging
import os
import re
from typing import Any, Dict, Optional

from .models import Metadata
from .safety import read_bounded

try:  # Python >= 3.11
    import tomllib as _toml  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python < 3.11
    try:
        import tomli as _toml  # type: ignore[import-not-found,no-redef]
    except ImportError:
        _toml = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

ENTRY_FILES = (".tritonml.toml", ".tritonml.json")
ROOT_FILES = (".tritonml-catalog.toml", ".tritonml-catalog.json")
METADATA_LIMIT = 256 << 10
_STR_FIELDS = ("name", "description", "license", "citation", "url")
_WEB_URL = re.compile(r"^https?://[^\s\x00-\x1f]+$", re.IGNORECASE)


def parse_document(data: bytes, filename: str) -> Optional[Dict[str, Any]]:
    try:
        if filename.endswith(".json"):
            doc = json.loads(data)
        else:
            if _toml is None:
                log.warning("cannot read %s: no TOML parser (Python < 3.11 without tomli)", filename)
                return None
            doc = _toml.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        log.warning("ignoring malformed catalog metadata %s: %s", filename, exc)
        return None
    return doc if isinstance(doc, dict) else None


def to_metadata(doc: Dict[str, Any], source: str) -> Metadata:
    fields: Dict[str, Any] = {"source": source}
    if "licence" in doc and "license" not in doc:
        doc = dict(doc, license=doc["licence"])
    for key in _STR_FIELDS:
        value = doc.get(key)
        if isinstance(value, str) and value.strip():
            fields[key] = value.strip()
    if "url" in fields and not _WEB_URL.match(fields["url"]):
        # It becomes a link in the sidebar: a javascript: or data: URL would run in JupyterLab's page.
        log.warning("ignoring the url of %s: only http(s) addresses are shown (%r)", source, fields.pop("url")[:80])
    kind = doc.get("kind")
    if kind in ("model", "dataset"):
        fields["kind"] = kind
    tags = doc.get("tags")
    if isinstance(tags, str):
        tags = [t for t in (s.strip() for s in tags.split(",")) if t]
    if isinstance(tags, list):
        fields["tags"] = [str(t).strip() for t in tags if str(t).strip()][:50]
    if isinstance(doc.get("hidden"), bool):
        fields["hidden"] = doc["hidden"]
    return Metadata(**fields)


def load_file(path: str, within: str) -> Optional[Metadata]:
    data = read_bounded(path, within, METADATA_LIMIT)
    if data is None:
        return None
    doc = parse_document(data, path)
    return to_metadata(doc, path) if doc is not None else None


def load_root_file(root: str) -> Dict[str, Metadata]:
    """``{relative path: Metadata}`` from the root-level file (empty if none)."""
    for name in ROOT_FILES:
        path = os.path.join(root, name)
        data = read_bounded(path, root, METADATA_LIMIT * 16)
        if data is None:
            continue
        doc = parse_document(data, path)
        entries = (doc or {}).get("entries")
        out: Dict[str, Metadata] = {}
        if isinstance(entries, dict):
            for rel, sub in entries.items():
                if isinstance(sub, dict) and isinstance(rel, str):
                    out[rel.strip("/")] = to_metadata(sub, path)
        return out
    return {}


def merge(base: Optional[Metadata], override: Optional[Metadata]) -> Optional[Metadata]:
    if base is None:
        return override
    if override is None:
        return base
    data = base.model_dump(exclude_none=True)
    data.update(override.model_dump(exclude_none=True))
    return Metadata(**data)
