"""Read input records: JSON (an object or an array), JSON Lines, CSV, XLSX, standard input.

``read_records(path)`` yields ``(InputRef, record)`` pairs, one per input
record, streaming where the format allows (JSON Lines is read line by line).
A record that cannot be read yields ``(InputRef, BadRecord)`` instead, naming
the file, the line and the reason, and reading goes on: one broken line never
stops a feed and never loses the records after it.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, TextIO

from engine.cells import CellError, row_to_record

from engine.errors import Diagnostic, UsageError
from engine.messages import CATALOGUE, Text, listing, msg, os_reason
from engine.evaluate import InputRef

__all__ = ["BadRecord", "read_records"]

FORMATS = ("json", "jsonl", "csv", "xlsx")


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be read, and why."""

    message: str
    message_zh: str

    @classmethod
    def of(cls, text: Text) -> BadRecord:
        """The bad record saying ``text`` (a message of both languages)."""
        return cls(text.en, text.zh)

    def text(self, lang: str) -> str:
        return self.message_zh if lang == "zh" else self.message


def _format_for(name: str, explicit: str | None) -> str:
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
    if lower.endswith(".xls"):
        raise UsageError(Diagnostic("usage.unsupported-input", msg("usage.unsupported-input:xls", name=name),
                                    help=msg("usage.unsupported-input:xls/help")))
    raise UsageError(Diagnostic.of("usage.unknown-input-format", name=name))


def _checked(value: Any) -> Any:
    """A record must be a JSON object; anything else cannot be read as one."""
    if isinstance(value, dict):
        return value
    kind = {list: "array", str: "string", bool: "bool", type(None): "null"}.get(type(value), "number")
    return BadRecord.of(msg("record.not-an-object", kind=msg(f"record.kind:{kind}")))


def _json_error(e: json.JSONDecodeError) -> BadRecord:
    """Why a line is not JSON, in words of both languages (the ``json`` module's are English)."""
    key = f"json.{e.msg}"
    problem = msg(key) if key in CATALOGUE else msg("json.other", problem=e.msg)
    # "Unterminated string starting at": the column completes the sentence
    return BadRecord.of(msg("record.json:at" if e.msg.endswith(" at") else "record.json", problem=problem,
                            column=e.colno))


def not_utf8(raw: bytes, e: UnicodeDecodeError) -> BadRecord:
    """The error of a line that is not UTF-8 text: the first bad byte and where it is."""
    return BadRecord.of(msg("record.not-utf8-line", byte=raw[e.start], at=e.start + 1))


def parse_json_line(line: str | bytes) -> Any:
    """One JSON Lines record (a line as text, or as the file's bytes), or the BadRecord saying
    why it cannot be read."""
    if line.__class__ is bytes:
        try:
            line = line.decode("utf-8")  # type: ignore[union-attr]
        except UnicodeDecodeError as e:
            return not_utf8(line, e)  # type: ignore[arg-type]
    try:
        return _checked(json.loads(line))
    except json.JSONDecodeError as e:
        return _json_error(e)
    except RecursionError:
        return BadRecord.of(msg("record.json-too-deep"))


def _read_jsonl(stream: Any, name: str, raw: bool = False) -> Iterator[tuple[InputRef, Any]]:
    """The records of a JSON Lines stream, text or bytes (``raw``: the lines unparsed)."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        line = _without_line_end(line)
        yield InputRef(name, number), (line if raw else parse_json_line(line))


def _without_line_end(line: Any) -> Any:
    """A line (text or bytes) without its ``\\n`` or ``\\r\\n``: an error's column is then
    counted in the line itself."""
    if line.__class__ is bytes:
        return line[:-2] if line.endswith(b"\r\n") else line[:-1] if line.endswith(b"\n") else line
    return line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith("\n") else line


def open_jsonl(path: str) -> Any:
    """A JSON Lines file opened for reading its lines as bytes, a UTF-8 byte-order mark skipped.

    Bytes, not text: a line that is not UTF-8 is then that line's error, and the lines
    after it are still read.
    """
    f = Path(path).open("rb")
    try:
        if f.peek(3)[:3] == b"\xef\xbb\xbf":  # peeked, not read: a pipe cannot seek back
            f.read(3)
    except BaseException:
        f.close()
        raise
    return f


def input_error(path: str, e: OSError) -> UsageError:
    """The usage error of an input file that cannot be opened or read."""
    if isinstance(e, FileNotFoundError):
        return UsageError(Diagnostic.of("usage.no-such-file", path=path))
    return UsageError(Diagnostic.of("usage.unreadable", path=path, reason=os_reason(e)))


def read_raw_jsonl(path: str) -> Iterator[tuple[InputRef, bytes]]:
    """The non-blank lines of a JSON Lines file, unparsed (``--jobs`` parses them in the workers)."""
    try:
        with open_jsonl(path) as f:
            yield from _read_jsonl(f, path, raw=True)
    except OSError as e:
        raise input_error(path, e) from None


def _read_json(text: str, name: str) -> Iterator[tuple[InputRef, Any]]:
    """A JSON object, or an array of them, with the line where each element starts."""
    decoder = json.JSONDecoder()
    i = 0
    n = len(text)
    while i < n and text[i] in " \t\r\n\ufeff":
        i += 1
    if i >= n:
        return
    if text[i] != "[":
        ref = InputRef(name, text.count("\n", 0, i) + 1)
        try:
            value, end = decoder.raw_decode(text, i)
            if text[end:].strip():
                raise json.JSONDecodeError("extra data after the record", text, end)
            yield ref, _checked(value)
        except json.JSONDecodeError as e:
            yield InputRef(name, e.lineno), _json_error(e)
        except RecursionError:
            yield ref, BadRecord.of(msg("record.json-too-deep"))
        return
    i += 1
    expect_value = True
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            yield InputRef(name, text.count("\n", 0, i) + 1), BadRecord.of(msg("record.json-array-open"))
            return
        if text[i] == "]":
            return
        if not expect_value:
            if text[i] != ",":
                line = text.count("\n", 0, i) + 1
                yield InputRef(name, line), BadRecord.of(msg("record.json-array-separator"))
                return
            i += 1
            expect_value = True
            continue
        line = text.count("\n", 0, i) + 1
        try:
            value, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as e:
            yield InputRef(name, e.lineno), _json_error(e)
            return
        except RecursionError:
            yield InputRef(name, line), BadRecord.of(msg("record.json-too-deep"))
            return
        yield InputRef(name, line), _checked(value)
        expect_value = False


def _cell_error(e: CellError, where: Text) -> BadRecord:
    return BadRecord.of(msg("record.cell", where=where, column=e.column, problem=e.text))


def _read_csv(stream: TextIO, name: str, schema: Mapping[str, Any] | None, tab: bool = False
              ) -> Iterator[tuple[InputRef, Any]]:
    head = stream.read(8192)
    rest = stream
    first = head.split("\n", 1)[0]
    delimiter = "\t" if tab else max(",\t;", key=first.count)  # the header's separator; quoting as Excel writes it
    reader = csv.reader(_joined(head, rest), "excel", delimiter=delimiter)
    header: list[str | None] | None = None
    start = 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if header is None:
            header = [h.strip().lstrip("\ufeff") or None for h in row]
            continue
        if not any(cell.strip() for cell in row):
            continue
        ref = InputRef(name, line)
        try:
            yield ref, row_to_record(header, row, schema)
        except CellError as e:
            yield ref, _cell_error(e, msg("record.where:row", row=line))


def _joined(head: str, rest: TextIO) -> Iterator[str]:
    """Lines of ``head`` followed by the rest of the stream (csv needs an iterator of lines)."""
    buffer = head
    while True:
        *lines, buffer = buffer.split("\n")
        for line in lines:
            yield line + "\n"
        chunk = rest.read(65536)
        if not chunk:
            break
        buffer += chunk
    if buffer:
        yield buffer


def _open_text(path: Path) -> TextIO:
    """A text stream for a CSV file: UTF-8 (with or without BOM), else GB18030 (Chinese Excel exports)."""
    with path.open("rb") as f:
        sample = f.read(1 << 20)
    try:
        sample.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as e:
        encoding = "utf-8-sig" if e.start > len(sample) - 4 else "gb18030"
    return path.open(encoding=encoding, newline="")


def _read_xlsx(path: Path, name: str, schema: Mapping[str, Any] | None, sheet: str | None = None
               ) -> Iterator[tuple[InputRef, Any]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a declared dependency
        raise UsageError(Diagnostic.of("usage.missing-package", package="openpyxl")) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable workbook
        yield InputRef(name, None), BadRecord.of(msg("record.workbook", error=Text(str(e), f"`{e}`")))
        return
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise UsageError(Diagnostic.of("usage.unknown-sheet", name=name, sheet=sheet,
                                           sheets=listing(book.sheetnames)))
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        header: list[str | None] | None = None
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if header is None:
                header = [str(h).strip() if h is not None and str(h).strip() else None for h in row]
                continue
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
                continue
            ref = InputRef(name, number, ws.title)
            try:
                yield ref, row_to_record(header, list(row), schema)
            except CellError as e:
                yield ref, _cell_error(e, msg("record.where:sheet-row", sheet=ws.title, row=number))
    finally:
        book.close()


def read_records(path: str, input_format: str | None = None, stdin: TextIO | None = None,
                 schema: Mapping[str, Any] | None = None, sheet: str | None = None
                 ) -> Iterator[tuple[InputRef, Any]]:
    """Every record of a file (or ``-`` for standard input) with where it came from.

    ``schema`` (the decision's record JSON Schema) types the cells of CSV and
    XLSX files; ``sheet`` picks a worksheet (default: the first).
    """
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        if input_format == "jsonl":
            yield from _read_jsonl(stream, "-")
            return
        if input_format == "csv":
            yield from _read_csv(stream, "-", schema)
            return
        if input_format == "xlsx":
            raise UsageError(Diagnostic("usage.unsupported-input", msg("usage.unsupported-input:stdin"),
                                        help=msg("usage.unsupported-input:stdin/help")))
        text = stream.read()
        fmt = input_format or ("json" if text.lstrip()[:1] in ("[", "") else "jsonl")
        if fmt == "json":
            yield from _read_json(text, "-")
        else:
            yield from _read_jsonl(io.StringIO(text), "-")
        return
    fmt = _format_for(path, input_format)
    p = Path(path)
    try:
        if fmt == "xlsx":
            if not p.is_file():
                raise FileNotFoundError(path)
            yield from _read_xlsx(p, path, schema, sheet)
            return
        if fmt == "csv":
            with _open_text(p) as f:
                yield from _read_csv(f, path, schema, tab=path.lower().endswith(".tsv"))
            return
        if fmt == "jsonl":
            with open_jsonl(path) as f:
                yield from _read_jsonl(f, path)
        else:
            yield from _read_json(p.read_text(encoding="utf-8-sig"), path)
    except UnicodeDecodeError as e:
        yield InputRef(path, None), BadRecord.of(msg("record.not-utf8-file", reason=e.reason))
    except OSError as e:
        raise input_error(path, e) from None
