"""The size walk of one catalog entry: stdlib only, also run as a script (the scan worker process).

:func:`scan_tree` lists each directory once through a directory file descriptor (``openat`` +
``getdents64``) and makes at most one ``fstatat`` per name, relative to that descriptor, like
``du``.  ``scandir``'s ``d_type`` saves the rest: symlinks are counted without a ``stat`` (on
Lustre every ``stat`` is a metadata round trip, and HF ``snapshots/`` are all links) and never
followed, so they are not counted twice against ``blobs/``.  Hard-linked files count once.

The result also says what it was computed under, so the caller can tell later, with a few
``lstat`` calls and no walk, whether it still holds: ``key`` (the entry directory's mtime and
ctime) and ``dirs`` / ``dir_mtimes`` (the first :data:`SIG_DIRS` directories at depth 1 and 2).

Run as ``python walk.py --worker``: reads one JSON path per line, answers one JSON result per line.
No package import, so the process starts in milliseconds and never imports the server.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Dict, List, Optional

_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_S_IFMT, _S_IFDIR, _S_IFREG = 0o170000, 0o040000, 0o100000
MAX_FORMATS = 30
SIG_DIRS = 32      # directories whose mtimes make a result's signature (depth 1 and 2)
_COMPRESSED = frozenset((".gz", ".zst", ".bz2", ".xz"))
_COMPRESSED_RAW = _COMPRESSED | {x.upper() for x in _COMPRESSED}


def _ext(name: str) -> str:
    i = name.rfind(".")
    if i <= 0:
        return ""
    x = name[i:].lower()
    if x in _COMPRESSED and name[:i].lower().endswith(".tar"):
        return ".tar" + x
    return x


def scan_tree(path: str, stop: Optional[threading.Event] = None) -> Dict[str, object]:
    """Walk ``path`` (not following symlinks); return sizes, counts, extension histogram and the
    signature the result holds under.

    The loop is the hot path (one pass per name): mode bits are compared inline and extensions
    are tallied raw, then normalised once per distinct extension at the end."""
    t0 = time.monotonic()
    size = blocks = files = dirs = links = errors = 0
    raw: Dict[str, int] = {}
    seen_inodes = set()
    try:
        st0 = os.lstat(path)
    except OSError:
        return {"error": "unreadable", "seconds": 0.0}
    blocks += st0.st_blocks
    sig_dirs: List[str] = []
    sig_mtimes: List[int] = []
    base = len(path) + 1
    stack: List[tuple] = [(path, 0)]
    pop, push = stack.pop, stack.append
    scandir, open_, close = os.scandir, os.open, os.close
    tally = raw.get
    n_dirs_done = 0
    while stack:
        d, depth = pop()
        try:
            fd = open_(d, _DIR_FLAGS)
        except OSError:
            errors += 1
            continue
        try:
            with scandir(fd) as it:
                for e in it:
                    if e.is_symlink():          # d_type: no stat
                        links += 1
                        continue
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError:
                        errors += 1
                        continue
                    kind = st.st_mode & _S_IFMT
                    if kind == _S_IFDIR:
                        dirs += 1
                        blocks += st.st_blocks
                        sub = d + "/" + e.name
                        if depth < 2 and len(sig_dirs) < SIG_DIRS:
                            sig_dirs.append(sub[base:])
                            sig_mtimes.append(st.st_mtime_ns)
                        push((sub, depth + 1))
                        continue
                    if st.st_nlink > 1 and kind == _S_IFREG:
                        if st.st_ino in seen_inodes:
                            continue
                        seen_inodes.add(st.st_ino)
                    blocks += st.st_blocks
                    size += st.st_size
                    files += 1
                    name = e.name
                    i = name.rfind(".")
                    x = name[i:] if i > 0 else ""
                    if x in _COMPRESSED_RAW:  # ".tar.gz" needs the part before the last dot too
                        x = "\0" + name
                    raw[x] = tally(x, 0) + 1
        except OSError:
            errors += 1
        finally:
            close(fd)
        n_dirs_done += 1
        if stop is not None and not (n_dirs_done & 255) and stop.is_set():
            return {"error": "stopped", "seconds": time.monotonic() - t0}
    exts: Dict[str, int] = {}
    for x, n in raw.items():
        key = _ext(x[1:]) if x[:1] == "\0" else x.lower()
        exts[key] = exts.get(key, 0) + n
    top = sorted(((k, v) for k, v in exts.items() if k), key=lambda kv: (-kv[1], kv[0]))[:MAX_FORMATS]
    return {
        "size_bytes": size,
        "disk_bytes": blocks * 512,
        "file_count": files,
        "dir_count": dirs,
        "symlink_count": links,
        "formats": dict(top),
        "errors": errors,
        "seconds": round(time.monotonic() - t0, 6),
        "key": [st0.st_mtime_ns, st0.st_ctime_ns],
        "dirs": sig_dirs,
        "dir_mtimes": sig_mtimes,
    }


def _worker_main() -> None:
    try:
        os.nice(10)  # background work: never compete with the server or the user's kernels
    except OSError:
        pass
    for line in sys.stdin:
        sys.stdout.write(json.dumps(scan_tree(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        _worker_main()
