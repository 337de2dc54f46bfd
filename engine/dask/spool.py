"""Partitions' JSON lines written by the workers beside the output, and appended to it by the client.

``rulebook check ... --dask ... --format json --output FILE``: when the workers see the output's
folder (always with ``--dask local:N``, whose workers run on this machine; with a scheduler's
address only when ``RULEBOOK_DASK_SHARED_OUTPUT=1`` says they share the client's file system), a
worker writes its partition's JSON lines into a file of its own, in a hidden folder made for the
run beside the output, and sends back only that file's name and size with the partition's
counts.  The client appends the files to the output in input order (in the kernel with
``os.copy_file_range`` where it can, else by reading and writing a MiB at a time) and deletes
each one once appended; the folder goes when the run ends, however it ends.  The client then
never holds a partition's lines, and no line travels over the network.

Nothing is taken on trust.  The folder holds a file named by a random token: a worker that does
not find it (another machine, the same path on another disk, a user who may not enter the
folder) sends its lines to the client as before, as does a worker that cannot write its file
(a full disk).  The client checks each file's size against the one the worker sent before
appending it.  Standard output (no ``--output``, or ``--output -``, which the command line
makes standard output before any of this: no part is ever written beside a file named ``-``),
and an output that is not a regular file, keep the lines travelling to the client.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Mapping

from engine.errors import Diagnostic, UsageError
from engine.messages import Text

__all__ = ["ENV", "Spool", "append_file", "shared_output", "write_part"]

ENV = "RULEBOOK_DASK_SHARED_OUTPUT"
PREFIX = ".rulebook-dask-"
PART = "part-"
# copy_file_range cannot copy between these two files here (another file system on an old kernel,
# an output opened for appending, a file system without it): the bytes are read and written instead
_NOT_HERE = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EBADF, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}
_CHUNK = 1 << 20


def shared_output(address: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the workers are asked to write the output's parts themselves: with ``local:N``
    unless ``RULEBOOK_DASK_SHARED_OUTPUT=0``; with a scheduler's address only when it is ``1``.

    Raises:
        UsageError: the variable set to something other than 1/0 (true/false, yes/no, on/off).
    """
    raw = environ.get(ENV, "").strip()
    if not raw:
        return address.startswith("local:")
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise UsageError(
        Diagnostic(
            "dask.shared-output",
            Text(f"`{ENV}={raw}`: expected `1` or `0`", f"`{ENV}={raw}`：应为 `1` 或 `0`"),
            help=Text(
                f"`{ENV}=1`: the workers see the output's folder at the same path and write their "
                "partitions there; `0`: the results travel to this machine",
                f"`{ENV}=1`：工作进程能在同一路径看到输出文件所在的文件夹，并把各分区的结果写在那里；`0`：结果传回本机",
            ),
        )
    )


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _standard_output(st: os.stat_result) -> bool:
    """Whether ``st`` is this process's standard output (redirected to a file, it is one too)."""
    fds = {1}
    with contextlib.suppress(AttributeError, OSError, ValueError):
        fds.add(sys.stdout.fileno())
    for fd in fds:
        with contextlib.suppress(OSError):
            if _same_file(os.fstat(fd), st):
                return True
    return False


def _path_of(fd: int) -> str | None:
    """The path of the regular file open at ``fd`` (checked: the path names that very file), or None."""
    candidates = [f"/proc/self/fd/{fd}", f"/dev/fd/{fd}"]
    found: list[str] = []
    for link in candidates:
        with contextlib.suppress(OSError):
            found.append(os.readlink(link))
            break
    if not found and sys.platform == "darwin":  # no /dev/fd links to follow: ask the kernel
        import fcntl

        get_path = getattr(fcntl, "F_GETPATH", None)
        if get_path is not None:
            with contextlib.suppress(OSError):
                found.append(os.fsdecode(fcntl.fcntl(fd, get_path, bytes(1024)).rstrip(b"\0")))
    try:
        st = os.fstat(fd)
        for path in found:
            if os.path.isabs(path) and _same_file(os.stat(path), st):
                return path
    except OSError:
        pass
    return None


class Spool:
    """The folder of one run's parts, beside the output (made by :meth:`beside`).

    ``where`` is what the workers are sent: the folder and the token whose file proves it is
    this one.  :meth:`append` adds a part to the output and deletes it; :meth:`close` removes
    the folder and whatever is left in it (parts of tasks that were stopped or run twice).
    """

    def __init__(self, folder: str, token: str) -> None:
        self.folder = folder
        self.token = token

    @property
    def where(self) -> tuple[str, str]:
        return (self.folder, self.token)

    @classmethod
    def beside(cls, fd: int) -> Spool | None:
        """A new folder beside the regular file open at ``fd``, or None: ``fd`` is not a regular
        file, is standard output, its path cannot be told, or no folder can be made there."""
        try:
            st = os.fstat(fd)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or _standard_output(st):
            return None
        path = _path_of(fd)
        if path is None:
            return None
        try:
            folder = tempfile.mkdtemp(prefix=PREFIX, dir=os.path.dirname(path))
        except OSError:
            return None
        token = secrets.token_hex(16)
        try:
            with open(os.path.join(folder, token), "xb"):
                pass
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return cls(folder, token)

    def append(self, part: tuple[str, int], fd: int) -> None:
        """Append the part ``(name, size)`` a worker wrote to the output at ``fd``, then delete it.

        Raises:
            RuntimeError: the part is missing or not the size the worker wrote (it never is,
                unless something else wrote into the folder).
        """
        name, size = part
        if os.path.basename(name) != name or not name.startswith(PART):
            raise RuntimeError(f"not a part of this run: {name!r}")
        path = os.path.join(self.folder, name)
        try:
            src = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise RuntimeError(f"a worker's part is missing: {path}") from None
        try:
            found = os.fstat(src).st_size
            if found != size:
                raise RuntimeError(f"a worker's part has {found} bytes, not {size}: {path}")
            append_file(src, fd, size)
        finally:
            os.close(src)
        os.unlink(path)

    def close(self) -> None:
        """Remove the folder and everything in it (its token first, so that no worker starts a part)."""
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(self.folder, self.token))
        for _ in range(3):  # a worker may still be finishing a part of a stopped task as it goes
            shutil.rmtree(self.folder, ignore_errors=True)
            if not os.path.lexists(self.folder):
                return


def append_file(src: int, dst: int, size: int) -> None:
    """Copy the first ``size`` bytes of the file open at ``src`` to ``dst`` at its offset (which
    moves on): in the kernel with ``os.copy_file_range`` where it can, else read and written
    a MiB at a time.

    Raises:
        RuntimeError: ``src`` has fewer than ``size`` bytes.
        OSError: ``dst`` cannot be written (a full disk).
    """
    done = 0
    copy = getattr(os, "copy_file_range", None)
    while copy is not None and done < size:
        try:
            n = copy(src, dst, size - done, done)
        except OSError as e:
            if e.errno not in _NOT_HERE:
                raise
            break
        if n == 0:
            break
        done += n
    while done < size:
        os.lseek(src, done, os.SEEK_SET)
        data = os.read(src, min(_CHUNK, size - done))
        if not data:
            raise RuntimeError(f"a part ended after {done} bytes of {size}")
        view = memoryview(data)
        while view:
            view = view[os.write(dst, view) :]
        done += len(data)


def write_part(where: tuple[str, str], data: bytes) -> tuple[str, int] | None:
    """On a worker: write ``data`` into a new part in the run's folder and give its (name, size),
    or None when this worker cannot (the folder or its token not seen here, a write that fails):
    the lines then go to the client as they are."""
    folder, token = where
    if not os.path.isfile(os.path.join(folder, token)):
        return None
    try:
        fd, path = tempfile.mkstemp(prefix=PART, suffix=".jsonl", dir=folder)
    except OSError:
        return None
    try:
        with open(fd, "wb") as f:
            f.write(data)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return None
    return os.path.basename(path), len(data)
