"""Path and id safety for the catalog.

Id scheme
---------
An entry id is ``<root-label>/<path relative to that root>`` with ``/`` separators, e.g.
``dldata/imagenet`` or ``dldata/huggingface-hub-cache/hub/models--meta-llama--Meta-Llama-3-8B``.
Ids are readable, stable across restarts and map 1:1 to an entry directory.  The catalog never
builds a filesystem path from a client-supplied id: ids are validated (:func:`validate_id`) and
then looked up in the in-memory index of discovered entries, so a syntactically valid id that
names nothing is :class:`EntryNotFound` and anything malformed (``..``, ``.``, empty segments,
absolute paths, backslashes, NUL / control characters, over-long) is :class:`BadEntryId`.

Root labels match ``[A-Za-z0-9][A-Za-z0-9_.-]*``.  URL users should percent-encode the id as a
path (``/`` may stay literal).

Reading files
-------------
:func:`resolve_inside` resolves symlinks and checks the result stays inside a given directory;
HF snapshot links (``../../blobs/<hash>``) resolve inside their repo directory and are therefore
allowed, links that leave it are refused.  :func:`read_bounded` reads at most ``limit`` bytes of a
regular file that passed that check.
"""
from __future__ import annotations

import os
import re
import stat

from . import fsio

__all__ = [
    "CatalogError",
    "BadEntryId",
    "EntryNotFound",
    "LABEL_RE",
    "MAX_ID_LENGTH",
    "validate_label",
    "validate_id",
    "make_id",
    "is_within",
    "resolve_inside",
    "read_bounded",
]

LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_ID_LENGTH = 1024
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class CatalogError(Exception):
    """Base class of catalog errors (map to HTTP 4xx/5xx in the handler)."""


class BadEntryId(CatalogError, ValueError):
    """The id is malformed (HTTP 400)."""


class EntryNotFound(CatalogError, LookupError):
    """The id is well formed but names no catalog entry (HTTP 404)."""


def validate_label(label: str) -> str:
    if not isinstance(label, str) or not LABEL_RE.match(label) or label in (".", ".."):
        raise ValueError(f"invalid root label {label!r}: use letters, digits, '_', '.', '-'")
    return label


def validate_id(entry_id: object) -> tuple[str, str]:
    """Check ``entry_id`` syntactically; return ``(label, relative_path)``.

    Raises :class:`BadEntryId` for anything that is not a clean relative id.
    """
    if not isinstance(entry_id, str) or not entry_id:
        raise BadEntryId("empty entry id")
    if len(entry_id) > MAX_ID_LENGTH:
        raise BadEntryId("entry id too long")
    if _CONTROL_RE.search(entry_id):
        raise BadEntryId("entry id contains control characters")
    if "\\" in entry_id:
        raise BadEntryId("entry id contains a backslash")
    if entry_id.startswith("/") or entry_id.startswith("~"):
        raise BadEntryId("entry id must be relative (<root-label>/<path>)")
    parts = entry_id.split("/")
    if len(parts) < 2:
        raise BadEntryId("entry id must look like <root-label>/<path>")
    for part in parts:
        if part in ("", ".", ".."):
            raise BadEntryId("entry id contains an empty, '.' or '..' segment")
    if not LABEL_RE.match(parts[0]):
        raise BadEntryId(f"unknown root label syntax {parts[0]!r}")
    return parts[0], "/".join(parts[1:])


def make_id(label: str, root: str, path: str) -> str:
    if path.startswith(root + os.sep) and ".." not in path.split(os.sep):   # the common case, quickly
        return label + "/" + path[len(root) + 1:].replace(os.sep, "/")
    rel = os.path.relpath(path, root)
    if rel == "." or rel.startswith(".." + os.sep) or rel == ".." or os.path.isabs(rel):
        raise ValueError(f"{path!r} is not below root {root!r}")
    return label + "/" + rel.replace(os.sep, "/")


def is_within(path: str, directory: str) -> bool:
    """True if (already resolved) ``path`` is ``directory`` or below it (both absolute)."""
    directory = directory.rstrip(os.sep) or os.sep
    if path == directory:
        return True
    prefix = directory if directory.endswith(os.sep) else directory + os.sep
    return path.startswith(prefix)


def resolve_inside(path: str, directory: str) -> str | None:
    """Resolve symlinks in ``path``; return the real path if it stays inside ``directory``
    (itself a real path), else None.  Missing files also give None."""
    try:
        real = fsio.realpath(path)
    except (OSError, ValueError):
        return None
    if not is_within(real, directory):
        return None
    return real


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def open_regular(path: str, within: str) -> int | None:
    """A descriptor of ``path`` if it resolves inside ``within`` and is a regular file, else None.

    Opened non-blocking and checked with ``fstat`` before any read: a FIFO or a device placed in a
    shared folder must not hang the thread that reads it."""
    real = resolve_inside(path, within)
    if real is None:
        return None
    try:
        fd = fsio.open_fd(real, _READ_FLAGS)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def read_bounded(path: str, within: str, limit: int) -> bytes | None:
    """Read at most ``limit`` bytes of the regular file ``path`` if it resolves inside ``within``."""
    fd = open_regular(path, within)
    if fd is None:
        return None
    try:
        chunks = []
        remaining = limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


class InvalidQuery(CatalogError, ValueError):
    """A list filter has a bad value (HTTP 400)."""


IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml"}


def image_type(relative: object) -> str:
    """The type of an image a README links to by ``relative``, a plain relative path; else
    :class:`InvalidQuery`."""
    mime = IMAGE_TYPES.get(os.path.splitext(relative)[1].lower()) if isinstance(relative, str) else None
    if mime is None:
        raise InvalidQuery("path must name a .png, .jpg, .jpeg, .gif, .webp or .svg file")
    assert isinstance(relative, str)
    if (len(relative) > 512 or relative.startswith(("/", "~")) or "\\" in relative
            or any(part in ("", ".", "..") for part in relative.split("/"))
            or any(ord(c) < 32 or ord(c) == 127 for c in relative)):
        raise InvalidQuery("path must be a plain relative path below the README's folder")
    return mime


__all__ += ["InvalidQuery", "image_type", "open_regular"]
