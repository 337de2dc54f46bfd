"""Input files cut into partitions that workers read themselves, each record with its file and line.

A JSON Lines file larger than the block size is cut into byte ranges; a
partition reads the lines that *start* in its range (the first one finishes
past its end), so every line is read exactly once.  The number of a range's
first line is the count of line ends before it: one small task per range counts
them, and the line numbers of range *i* start after the sum of the counts of
ranges 0..i-1 (:func:`line_bases`).  Line ends, blank lines, a byte-order mark,
lines that are not UTF-8 or not JSON are handled by the same functions as a
local ``check`` (``engine.io.records``), so an error is reported at the same
file, line and column.

JSON, CSV and XLSX files are one partition each, read by the engine's own
readers (a remote one is copied to a temporary file first).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterable
from typing import Any, NamedTuple

from engine.errors import Diagnostic, UsageError
from engine.evaluate import InputRef

__all__ = ["Part", "count_lines", "find_parts", "range_data", "read_part"]

# about 8,000 applicants: a partition's decisions (as dicts, or JSON lines about eight times the
# input) stay some tens of MiB on a worker, and a partition still costs far more than its scheduling
DEFAULT_BLOCK = 4 << 20


class Part(NamedTuple):
    """A partition of the input: a file (``path`` on ``fs``, named ``name`` in the results), its
    format, and for JSON Lines the byte range ``[start, end)`` whose lines it reads."""

    fs: Any
    path: str
    name: str
    fmt: str
    start: int = 0
    end: int | None = None  # None: to the end of the file
    reader: tuple[str, str | None, str | None] | None = None  # the plugin that reads it (name, distribution, version)


def _local(fs: Any) -> bool:
    protocol = fs.protocol
    return "file" in (protocol if isinstance(protocol, tuple) else (protocol,))


def _files(urlpath: str) -> list[tuple[Any, str, str]]:
    """(file system, path, name shown) of each file a path, URL or glob names, in sorted order.

    A local path is named as it was given (a relative glob's matches relative, as a shell gives
    them), so that results name the file exactly as ``rulebook check FILE`` does."""
    from fsspec.core import url_to_fs  # type: ignore[import-untyped]  # fsspec publishes no types

    fs, path = url_to_fs(urlpath)
    if not glob.has_magic(urlpath):
        if not fs.exists(path):
            raise UsageError(Diagnostic.of("usage.no-such-file", path=urlpath))
        return [(fs, path, urlpath)]
    found = sorted(p for p in fs.glob(path) if fs.isfile(p))
    if not found:
        raise UsageError(Diagnostic.of("dask.no-match", pattern=urlpath))
    if _local(fs):
        if os.path.isabs(urlpath.removeprefix("file://")):
            return [(fs, p, p) for p in found]
        return [(fs, p, os.path.relpath(p)) for p in found]
    return [(fs, p, fs.unstrip_protocol(p)) for p in found]


def file_format(name: str, explicit: str | None) -> str:
    """The format of a file by its name (as ``check`` tells it), or the one given."""
    if explicit:
        return explicit
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".csv", ".tsv")):
        return "csv"
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    from engine.io.records import read_records

    next(iter(read_records(name, None)), None)  # raises the usage error ``check`` gives for the name
    raise UsageError(Diagnostic.of("usage.unknown-input-format", name=name))  # pragma: no cover - raised above


def find_parts(
    urlpaths: str | Iterable[str], blocksize: int | None = DEFAULT_BLOCK, input_format: str | None = None
) -> list[Part]:
    """The partitions of the files named (paths, fsspec URLs, globs), in order: file by file as
    given, each JSON Lines file in ranges of about ``blocksize`` bytes (None: whole files)."""
    names = [urlpaths] if isinstance(urlpaths, str) else list(urlpaths)
    parts: list[Part] = []
    for urlpath in names:
        if urlpath == "-":
            raise UsageError(Diagnostic.of("dask.stdin"))
        for fs, path, name in _files(urlpath):
            reader = plugin_reader(name, input_format)
            if reader is not None:  # a plugin reads it where ``check`` would: the same plugin on the worker
                parts.append(Part(fs, path, name, input_format or "plugin", reader=reader))
                continue
            fmt = file_format(name, input_format)
            size = fs.size(path) if fmt == "jsonl" and blocksize else None
            if size is None or blocksize is None or size <= blocksize:
                parts.append(Part(fs, path, name, fmt))
                continue
            starts = list(range(0, size, blocksize))
            for i, start in enumerate(starts):
                end = starts[i + 1] if i + 1 < len(starts) else None
                parts.append(Part(fs, path, name, fmt, start, end))
    return parts


def plugin_reader(name: str, input_format: str | None) -> tuple[str, str | None, str | None] | None:
    """The plugin (name, distribution, version) whose ``open_records`` reads the file as ``check``
    would read it, when it is not the engine's own reader."""
    from engine.hookspecs import RecordOptions
    from engine.pluginmanager import get_plugin_manager

    pm = get_plugin_manager()
    if not pm.has_custom_readers():
        return None
    info = pm.reader_of(name, RecordOptions(input_format))
    return None if info is None else (info.name, info.distribution, info.version)


def count_lines(part: Part) -> int:
    """The line ends (``\\n``) in a JSON Lines partition's byte range."""
    count = 0
    with part.fs.open(part.path, "rb") as f:
        f.seek(part.start)
        left = None if part.end is None else part.end - part.start
        while left is None or left > 0:
            data = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not data:
                break
            count += data.count(b"\n")
            if left is not None:
                left -= len(data)
    return count


def line_bases(parts: list[Part], counts: list[Any], add: Any) -> list[Any]:
    """The number of lines before each partition (0 for a file's first): ``add(a, b)`` sums two
    counts (plain ``+``, or a lazy task)."""
    bases: list[Any] = []
    running: Any = 0
    for i, part in enumerate(parts):
        if part.start == 0:
            running = 0
        bases.append(running)
        if part.end is not None:  # a later range of the same file follows
            running = add(running, counts[i])
    return bases


def range_data(part: Part) -> tuple[bytes, int]:
    """The bytes of the lines that start in a JSON Lines partition's range (a byte-order mark at
    the file's start left out), and the line ends before them in the range (what a line that
    started in the previous range, and the partition skips, holds)."""
    with part.fs.open(part.path, "rb") as f:
        if part.start > 0:
            f.seek(part.start - 1)
            previous = f.read(1)
        else:
            previous = b"\n"
        data = f.read() if part.end is None else f.read(part.end - part.start)
        if part.end is not None and data and not data.endswith(b"\n"):
            more = [data]
            while True:  # the last line that starts here ends past the range
                piece = f.read(1 << 16)
                if not piece:
                    break
                cut = piece.find(b"\n")
                if cut >= 0:
                    more.append(piece[: cut + 1])
                    break
                more.append(piece)
            data = b"".join(more)
    skip = 0
    if previous != b"\n":  # the range starts inside a line that the previous partition reads
        cut = data.find(b"\n")
        if cut < 0 or (part.end is not None and cut + 1 >= part.end - part.start):
            return b"", 0
        skip = cut + 1
    elif part.start == 0 and data.startswith(b"\xef\xbb\xbf"):
        skip = 3  # a byte-order mark, as ``check`` skips it
    return data[skip:], data.count(b"\n", 0, skip)


def _jsonl_range(part: Part, base: int) -> list[tuple[InputRef, Any]]:
    """The lines that start in the partition's range, unparsed, each with its file and line."""
    from engine.io.records import BLANK, split_lines

    data, before = range_data(part)
    number = base + before
    out: list[tuple[InputRef, Any]] = []
    for line in split_lines(data):
        number += 1
        out.append((InputRef(part.name, number), BLANK if not line.strip() else line))
    return out


def read_part(
    part: Part, base: int = 0, schema: Any = None, sheet: str | None = None, lang: str = "en"
) -> list[tuple[InputRef, Any]]:
    """The items of one partition in order: ``(ref, line as bytes)`` for JSON Lines (parsed by
    the decision step), ``(ref, record or BadRecord)`` for the other formats, and ``(ref,
    InputNote)`` for blank lines and notes about the input.

    A file that a plugin reads (``part.reader``) is read by that plugin's ``open_records`` here,
    on the worker; a worker without the plugin (or with another version) raises
    :class:`engine.dask.rulebook.WorkerSetupError` naming it and the file, in ``lang``."""
    if part.fmt == "jsonl" and part.reader is None:
        return _jsonl_range(part, base)
    from engine.io.records import read_records

    if part.reader is not None:
        from engine.dask.rulebook import check_plugin

        check_plugin(part.reader, "dask.missing-reader", {"file": part.name}, lang)

    with contextlib.ExitStack() as stack:
        if _local(part.fs):
            path = part.path
        else:  # the engine's readers read local files: a copy of the remote one
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="rulebook-dask-"))
            path = os.path.join(folder, "input" + os.path.splitext(part.path)[1])
            with part.fs.open(part.path, "rb") as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
        if part.reader is not None:
            from engine.hookspecs import RecordOptions
            from engine.pluginmanager import get_plugin_manager

            options = RecordOptions(part.fmt if part.fmt != "plugin" else None, None, schema, sheet)
            items = get_plugin_manager().open_records(path, options)
        else:
            items = read_records(path, part.fmt, None, schema, sheet, notes=True)
        return [(InputRef(part.name, ref.line, getattr(ref, "sheet", None)), item) for ref, item in items]
