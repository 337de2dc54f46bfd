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

With ``--dask local:N``, or a scheduler listening on loopback (workers on this machine, see
``engine.dask.cli.on_this_machine``), the parts do not wait for the client either:
each task appends its partition's lines to the output itself when its turn has come, that is
when every partition before it is in the output.  The run's folder holds the turn (the next
partition to append and the output's size once it is in) in a file changed only under an
exclusive lock (``flock``) on another file there.  A task whose turn has not come writes its
part (under a temporary name, renamed to ``part-<index>`` when complete) and whoever then
appends the partition before it appends that part too, and every waiting part after it; the
client appends only what is left when it comes to a partition in order (a partition whose
lines came back to it, or parts after one of those).  So the output is written once for a
partition decided in order, and once more only for a part that finished early, and the client,
which also runs the scheduler, has little to do.  A task killed while appending leaves the turn
where it was: the next one to append cuts the output back to the size the turn records, so
Dask's retry of the partition loses and duplicates nothing; a task run twice finds its turn
passed and appends nothing.  With the address of a scheduler elsewhere (other machines, a
shared file system whose locks may not reach every host) the client appends every part as above.
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
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

from engine.errors import Diagnostic, UsageError
from engine.messages import Text

__all__ = ["APPENDED", "ENV", "Place", "Spool", "append_file", "deliver", "shared_output", "write_part"]

ENV = "RULEBOOK_DASK_SHARED_OUTPUT"
PREFIX = ".rulebook-dask-"
PART = "part-"
# copy_file_range cannot copy between these two files here (another file system on an old kernel,
# an output opened for appending, a file system without it): the bytes are read and written instead
_NOT_HERE = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EBADF, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}
_CHUNK = 1 << 20
TURN = "turn"
LOCK = "turn.lock"
#: the name in a task's ``(name, size)`` when it appended its lines to the output itself
APPENDED = ""

try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - no flock here (Windows): the client appends every part
    _fcntl = None  # type: ignore[assignment]


class Place(NamedTuple):
    """What a task is told about the run's folder: the folder and its token and, when workers
    append at their turn, the output's path, its (device, inode) and the partition's index."""

    folder: str
    token: str
    output: str | None = None
    ident: tuple[int, int] | None = None
    partition: int = -1


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

    def __init__(
        self, folder: str, token: str, output: str | None = None, ident: tuple[int, int] | None = None
    ) -> None:
        self.folder = folder
        self.token = token
        self.output = output
        self.ident = ident

    @property
    def where(self) -> tuple[str, str]:
        return (self.folder, self.token)

    @property
    def chained(self) -> bool:
        """Whether the workers append at their turn (else the client appends every part)."""
        return self.output is not None

    def place(self, index: int) -> Place:
        """What the task of partition ``index`` is sent."""
        return Place(self.folder, self.token, self.output, self.ident, index)

    @classmethod
    def beside(cls, fd: int, chain: bool = False) -> Spool | None:
        """A new folder beside the regular file open at ``fd``, or None: ``fd`` is not a regular
        file, is standard output, its path cannot be told, or no folder can be made there.

        ``chain``: the workers append at their turn, from the output's current offset on (workers
        on this machine; not where ``flock`` is missing)."""
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
        if not chain or _fcntl is None:
            return cls(folder, token)
        try:
            _save(folder, 0, os.lseek(fd, 0, os.SEEK_CUR))
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        try:
            with _locked(folder):  # a file system without flock (some network ones): the client appends
                pass
        except OSError:
            return cls(folder, token)
        return cls(folder, token, path, (st.st_dev, st.st_ino))

    def settle(self, index: int, fd: int, part: tuple[str, int] | None, write: Callable[[], None]) -> None:
        """The client's turn at partition ``index`` (every partition before it is in the output):
        unless a worker appended it, append its part (``part``, as the worker sent it) or, for
        lines that came back, call ``write`` to write them at ``fd``; then append the parts that
        wait after it and leave ``fd`` at the output's end so far.

        Raises:
            RuntimeError: a partition before it is not in the output, or its part is missing.
            OSError: the output cannot be written (a full disk).
        """
        with _locked(self.folder):
            turn, offset = _state(self.folder)
            if turn < index:
                raise RuntimeError(f"partition {turn} is not in the output before partition {index}")
            if turn == index:
                path = os.path.join(self.folder, f"{PART}{index}")
                if not os.path.exists(path):
                    if part is not None:
                        raise RuntimeError(f"a worker's part is missing: {path}")
                    os.ftruncate(fd, offset)
                    os.lseek(fd, offset, os.SEEK_SET)
                    write()
                    offset = os.lseek(fd, 0, os.SEEK_CUR)
                    turn += 1
                    _save(self.folder, turn, offset)
                turn, offset = _follow(self.folder, fd, turn, offset)
            os.lseek(fd, offset, os.SEEK_SET)

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


# -- appending at one's turn (``local:N``) -------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(folder: str) -> Iterator[None]:
    """The run's turn held by this process alone (released when the process dies, too)."""
    fd = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _fcntl.flock(fd, _fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _state(folder: str) -> tuple[int, int]:
    """(the next partition to append, the output's size with every partition before it)."""
    with open(os.path.join(folder, TURN), "rb") as f:
        turn, offset = f.read().split()
    return int(turn), int(offset)


def _save(folder: str, turn: int, offset: int) -> None:
    new = os.path.join(folder, TURN + ".new")
    with open(new, "wb") as f:
        f.write(b"%d %d\n" % (turn, offset))
    os.replace(new, os.path.join(folder, TURN))


def _put(fd: int, offset: int, data: bytes) -> int:
    """``data`` written at ``offset`` (whatever a task killed while appending left there cut off)."""
    os.ftruncate(fd, offset)
    view = memoryview(data)
    at = offset
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n
    return at


def _follow(folder: str, fd: int, turn: int, offset: int) -> tuple[int, int]:
    """Append the parts waiting from partition ``turn`` on, each deleted once the turn records it."""
    while True:
        path = os.path.join(folder, f"{PART}{turn}")
        try:
            src = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return turn, offset
        try:
            size = os.fstat(src).st_size
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            append_file(src, fd, size)
        finally:
            os.close(src)
        turn, offset = turn + 1, offset + size
        _save(folder, turn, offset)
        os.unlink(path)


def _open_output(place: Place) -> int | None:
    """The output open for writing, or None when its path no longer names the run's output."""
    if place.output is None:
        return None
    try:
        fd = os.open(place.output, os.O_WRONLY)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        return None
    if (st.st_dev, st.st_ino) != place.ident:
        os.close(fd)
        return None
    return fd


def _append_at_turn(place: Place, data: bytes | None) -> bool:
    """Under the lock: when partition ``place.partition``'s turn has come, append ``data`` (or its part,
    for None) and the parts waiting after it.  Whether the partition is in the output."""
    with _locked(place.folder):
        turn, offset = _state(place.folder)
        if turn != place.partition:
            return turn > place.partition  # passed: a run of this task before this one appended it
        fd = _open_output(place)
        if fd is None:
            return False
        try:
            if data is not None:
                try:
                    offset = _put(fd, offset, data)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, offset)
                    return False
                turn += 1
                _save(place.folder, turn, offset)
            with contextlib.suppress(OSError):  # a part not appended here waits for the client
                _follow(place.folder, fd, turn, offset)
        finally:
            os.close(fd)
        return True


def deliver(where: tuple[str, ...], data: bytes) -> tuple[str, int] | None:
    """On a worker: the partition's lines into the run's folder, appended to the output when its
    turn has come (``(APPENDED, size)``), else as a part (its (name, size)), or None when this
    worker cannot (the folder or its token not seen here, the output not the run's, a write
    that fails): the lines then go to the client as they are."""
    if len(where) < 5 or where[2] is None or _fcntl is None:
        return write_part((where[0], where[1]), data)
    place = Place(*where)  # type: ignore[arg-type]
    if not os.path.isfile(os.path.join(place.folder, place.token)):
        return None
    try:
        if _append_at_turn(place, data):
            return APPENDED, len(data)
        fd, path = tempfile.mkstemp(prefix=PART, suffix=".new", dir=place.folder)
        try:
            with open(fd, "wb") as f:
                f.write(data)
            with _locked(place.folder):
                turn, _offset = _state(place.folder)
                if turn > place.partition:
                    os.unlink(path)
                    return APPENDED, len(data)
                os.replace(path, os.path.join(place.folder, f"{PART}{place.partition}"))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        _append_at_turn(place, None)  # its turn may have come while it wrote
        return f"{PART}{place.partition}", len(data)
    except OSError:
        return None
