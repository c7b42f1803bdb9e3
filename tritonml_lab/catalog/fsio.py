"""The filesystem calls the catalog makes in the server process, with one hook for tests.

Discovery, detection and request reads call these rather than ``os`` directly, so a test or the
benchmark can make chosen paths hang or answer slowly -- what a Lustre OST or metadata server that
stops answering does -- without FUSE or root.  With no hook set each function is ``os``'s own plus
one global check.  The size walk (:mod:`.walk`) runs in worker processes and is not hooked; the
benchmark measures it with strace instead.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator, Optional

Hook = Callable[[str, str], None]
_hook: Optional[Hook] = None


def set_hook(hook: Optional[Hook]) -> Optional[Hook]:
    """Call ``hook(operation, path)`` before every call below (it may sleep, block or count);
    ``None`` removes it.  Returns the previous hook.  For tests and the benchmark only."""
    global _hook
    previous, _hook = _hook, hook
    return previous


def _before(op: str, path: str) -> None:
    hook = _hook
    if hook is not None:
        hook(op, path)


def scandir(path: str) -> "Iterator[os.DirEntry[str]]":
    _before("scandir", path)
    return os.scandir(path)


def lstat(path: str) -> os.stat_result:
    _before("lstat", path)
    return os.lstat(path)


def realpath(path: str) -> str:
    _before("realpath", path)
    return os.path.realpath(path)


def open_fd(path: str, flags: int) -> int:
    _before("open", path)
    return os.open(path, flags)


def is_real_dir(path: str) -> bool:
    """A directory and not a link to one (one ``lstat``)."""
    try:
        return (lstat(path).st_mode & 0o170000) == 0o040000
    except OSError:
        return False
