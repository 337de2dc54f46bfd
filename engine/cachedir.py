"""Where the engine keeps its caches, and what says which engine wrote an entry.

The ground layer of the disk cache (``engine.cache`` stores built rulebooks in it,
``engine.lang.parser`` Lark's parser tables): it imports no other module of the
engine, so any layer may use it.

``cache_dir()`` is ``RULEBOOK_CACHE_DIR`` or ``platformdirs.user_cache_dir("rulebook-engine")``
(``RULEBOOK_NO_CACHE=1`` turns every cache off), created with mode 0700 and used only
when it is owned by the user and not writable by group or others; ``write_atomic``
writes an entry through a temporary file renamed into place; ``engine_fingerprint``
changes whenever the engine's files or the Python running it do.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["FORMAT", "cache_dir", "engine_fingerprint", "forget_dirs", "lark_cache_file", "write_atomic"]

FORMAT = 1  # the layout of the entries: another number, other keys


def _disabled() -> bool:
    return os.environ.get("RULEBOOK_NO_CACHE", "").strip() not in ("", "0")


def _private_dir(path: Path) -> bool:
    """Whether ``path`` is a directory this user owns and nobody else can write to (a symbolic
    link is judged by the directory it leads to).  Windows has no such mode bits: there the
    user's profile folder, which ``platformdirs`` names, is private by its access rules."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    import stat

    if not stat.S_ISDIR(st.st_mode):
        return False
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return True
    return st.st_uid == getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


_DIR: dict[str, Path | None] = {}


def cache_dir(sub: str = "") -> Path | None:
    """The cache directory (created with mode 0700), or None when the cache is off or unusable.

    ``RULEBOOK_CACHE_DIR`` names it; else ``platformdirs.user_cache_dir("rulebook-engine")``.
    ``sub`` names a folder inside it.
    """
    if _disabled():
        return None
    root = os.environ.get("RULEBOOK_CACHE_DIR", "").strip()
    if not root:
        try:
            import platformdirs
        except ImportError:  # an environment installed before the dependency was: no cache, no failure
            return None
        root = platformdirs.user_cache_dir("rulebook-engine")
    where = os.path.join(root, sub) if sub else root
    if where in _DIR:
        return _DIR[where]
    path = Path(where)
    usable = False
    try:
        Path(root).mkdir(mode=0o700, parents=True, exist_ok=True)
        if _private_dir(Path(root)):  # never a folder someone else could have put entries into
            if sub:
                path.mkdir(mode=0o700, exist_ok=True)
            usable = _private_dir(path)
    except OSError:
        pass
    _DIR[where] = path if usable else None
    return _DIR[where]


def write_atomic(folder: Path, name: str, data: bytes) -> None:
    """Write ``folder/name`` through a temporary file in the same folder renamed into place."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / name)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@functools.cache
def engine_fingerprint() -> str:
    """The engine's own files (name, size, modification time) and the Python running it: an
    edited or reinstalled engine, or another Python, is another key (worked out once a process)."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    h.update(f"{FORMAT}\0{sys.version}\0{sys.implementation.cache_tag}\0".encode())
    from importlib.util import MAGIC_NUMBER

    h.update(MAGIC_NUMBER)
    stack = [str(root)]
    rows: list[str] = []
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if e.name == "__pycache__" or e.name.startswith("."):
                continue
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            else:
                try:
                    st = e.stat()
                except OSError:
                    continue
                rows.append(f"{os.path.relpath(e.path, root)}\0{st.st_size}\0{st.st_mtime_ns}")
    h.update("\n".join(sorted(rows)).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def lark_cache_file() -> str | None:
    """Where Lark keeps the condition grammar's parser tables (None: the cache is off)."""
    folder = cache_dir()
    return None if folder is None else str(folder / f"lark-grammar-{engine_fingerprint()[:24]}.cache")


def forget_dirs() -> None:
    """Forget which cache directories were found usable (after ``RULEBOOK_CACHE_DIR`` changes)."""
    _DIR.clear()
