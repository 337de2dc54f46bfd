"""Read input records: JSON (an object or an array), JSON Lines, CSV, XLSX, Parquet, standard input.

``read_records(path)`` yields ``(InputRef, record)`` pairs, one per input
record, streaming where the format allows (JSON Lines is read line by line).
A record that cannot be read yields ``(InputRef, BadRecord)`` instead, naming
the file, the line and the reason, and reading goes on: one broken line never
stops a feed and never loses the records after it.

Asked for them (``notes=True``, as the command line does), the readers also
yield ``(InputRef, InputNote)`` for what the input holds besides records: each
blank line (or empty spreadsheet row) skipped, and each column of a CSV or
XLSX header that names no field of the record schema (a warning at its header
cell, with the nearest field's name).  A header none of whose columns names a
field is an error (``input.no-known-column``): no row of that file could be
read as a record.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from engine.errors import Diagnostic, UsageError
from engine.evaluate import InputRef
from engine.io.cells import CellError, field_names, row_to_record, unknown_columns
from engine.io.terminal import escape_controls
from engine.messages import CATALOGUE, Text, listing, msg, os_reason
from engine.source import Source, Span

__all__ = ["BadRecord", "InputNote", "read_records"]

FORMATS = ("json", "jsonl", "csv", "xlsx", "parquet")


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


@dataclass(frozen=True)
class InputNote:
    """What a reader says about its input besides the records (``read_records(..., notes=True)``).

    Attributes:
        blank: blank lines (or empty spreadsheet rows) skipped here.
        problem: a warning about the file as a whole (a column that names no field), if any.
        column: where in the header row the problem is: the character column of a CSV line,
            or the number of a worksheet's column (1-based).
    """

    blank: int = 0
    problem: Diagnostic | None = None
    column: int | None = None


BLANK = InputNote(blank=1)


class InputTally:
    """What the inputs of one run held: per file the records read (unreadable ones included)
    and the blank lines skipped, and the warnings about them.

    ``read(path, items)`` passes a reader's records on and keeps its notes; each warning is
    handed to ``on_problem(ref, note)`` as soon as it is read (the header comes first), so
    that it is shown before the records it concerns.
    """

    def __init__(self, on_problem: Any = None) -> None:
        self.files: dict[str, list[int]] = {}  # path -> [records, blank lines], in the order given
        self.problems: list[tuple[InputRef, InputNote]] = []
        self.on_problem = on_problem

    def expect(self, paths: Iterable[str]) -> None:
        """Name the inputs beforehand, so that one that yields nothing at all is still counted."""
        for path in paths:
            self.files.setdefault(path, [0, 0])

    def read(self, path: str, items: Iterable[tuple[InputRef, Any]]) -> Iterator[tuple[InputRef, Any]]:
        counts = self.files.setdefault(path, [0, 0])
        for ref, record in items:
            if record.__class__ is InputNote:
                counts[1] += record.blank
                if record.problem is not None:
                    self.problem(ref, record)
                continue
            counts[0] += 1
            yield ref, record

    def problem(self, ref: InputRef, note: InputNote) -> None:
        self.problems.append((ref, note))
        if self.on_problem is not None:
            self.on_problem(ref, note)

    def add(self, path: str, records: int, blank: int) -> None:
        """Records and blank lines read elsewhere (the JSON Lines blocks of ``--jobs``)."""
        counts = self.files.setdefault(path, [0, 0])
        counts[0] += records
        counts[1] += blank

    @property
    def records(self) -> int:
        return sum(c[0] for c in self.files.values())

    @property
    def blank(self) -> int:
        return sum(c[1] for c in self.files.values())

    @property
    def warnings(self) -> int:
        return sum(1 for _ref, note in self.problems if note.problem is not None and note.problem.severity == "warning")

    def check_empty(self, allow_empty: bool = False) -> None:
        """Say which inputs held no record.  When none held one (nothing can have been decided)
        that is an error: raises ``UsageError`` naming each input, unless ``allow_empty``.
        An empty input beside others that held records is a warning (``on_problem``)."""
        if allow_empty:
            return
        empty = [(path, counts[1]) for path, counts in self.files.items() if not counts[0]]
        if not empty:
            return
        nothing = len(empty) == len(self.files)
        found = [
            Diagnostic(
                "input.empty",
                msg("input.empty:blank", file=escape_controls(path), count=blank)
                if blank
                else msg("input.empty", file=escape_controls(path)),
                help=msg("input.empty/help" if nothing else "input.empty:some/help"),
                severity="error" if nothing else "warning",
            )
            for path, blank in empty
        ]
        if nothing:
            raise UsageError(found)
        for (path, _blank), diagnostic in zip(empty, found, strict=True):
            self.problem(InputRef(path, None), InputNote(problem=diagnostic))


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
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith(".xls"):
        raise UsageError(
            Diagnostic(
                "usage.unsupported-input",
                msg("usage.unsupported-input:xls", name=name),
                help=msg("usage.unsupported-input:xls/help"),
            )
        )
    raise UsageError(Diagnostic.of("usage.unknown-input-format", name=name))


def _checked(value: Any) -> Any:
    """A record must be a JSON object; anything else cannot be read as one."""
    if isinstance(value, dict):
        return value
    kind = {list: "array", str: "string", bool: "bool", type(None): "null"}.get(type(value), "number")
    return BadRecord.of(msg("record.not-an-object", kind=msg(f"record.kind:{kind}")))


def _json_error(e: json.JSONDecodeError) -> BadRecord:
    """Why a line is not JSON, in words of both languages (the ``json`` module's are English)."""
    problem = msg(f"json.{e.msg}") if f"json.{e.msg}" in CATALOGUE else msg("json.other", problem=e.msg)
    # "Unterminated string starting at": the column completes the sentence
    return BadRecord.of(
        msg("record.json:at" if e.msg.endswith(" at") else "record.json", problem=problem, column=e.colno)
    )


def not_utf8(raw: bytes, e: UnicodeDecodeError) -> BadRecord:
    """The error of a line that is not UTF-8 text: the first bad byte and where it is."""
    return BadRecord.of(msg("record.not-utf8-line", byte=raw[e.start], at=e.start + 1))


def parse_json_line(line: str | bytes) -> Any:
    """One JSON Lines record (a line as text, or as the file's bytes), or the BadRecord saying
    why it cannot be read."""
    if line.__class__ is bytes:
        raw = line
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            return not_utf8(raw, e)
    try:
        return _checked(json.loads(line))
    except json.JSONDecodeError as e:
        return _json_error(e)
    except RecursionError:
        return BadRecord.of(msg("record.json-too-deep"))
    except ValueError:  # an integer of more digits than Python converts
        return number_too_long()


def number_too_long() -> BadRecord:
    """The record holds an integer of more digits than Python converts (``sys.get_int_max_str_digits``)."""
    return BadRecord.of(msg("record.number-too-long", limit=sys.get_int_max_str_digits()))


def _read_jsonl(stream: Any, name: str, raw: bool = False) -> Iterator[tuple[InputRef, Any]]:
    """The records of a JSON Lines stream, text or bytes (``raw``: the lines unparsed), and a
    note for each blank line."""
    number = 0
    for run in line_runs(stream):
        for line in split_lines(run):
            number += 1
            if not line.strip():
                yield InputRef(name, number), BLANK
            else:
                yield InputRef(name, number), (line if raw else parse_json_line(line))


def read_jsonl(stream: Any, name: str) -> Iterator[tuple[InputRef, Any]]:
    """The records of a JSON Lines stream (text or bytes) with their places, and a note for each blank line."""
    return _read_jsonl(stream, name)


def line_runs(stream: Any, size: int = 1 << 16) -> Iterator[Any]:
    """A stream (text or bytes) in runs of whole lines: what it holds up to a line end, as soon
    as it is there (``read1`` where the stream has it, so a pipe's lines come as they are
    written).  A last line without an end is the last run."""
    read = getattr(stream, "read1", None) or stream.read
    held: list[Any] = []  # the start of a line that did not end in what was read
    while True:
        data = read(size)
        if not data:
            if held:
                yield held[0][:0].join(held)
            return
        cut = data.rfind(b"\n" if data.__class__ is bytes else "\n") + 1
        if not cut:
            held.append(data)
            continue
        if held:
            held.append(data[:cut])
            yield held[0][:0].join(held)
            held = []
        else:
            yield data[:cut] if cut < len(data) else data
        if cut < len(data):
            held.append(data[cut:])


def split_lines(data: Any) -> Any:
    """The lines of a text or of bytes, each without its line end (``\\n``, or ``\\r\\n``).

    The one place line ends are taken off input lines: the runs of whole lines a stream is
    read in (:func:`line_runs`) and those a ``--jobs`` feed reads at once.  A last
    line without an end is a line; a ``\\r`` elsewhere stays (JSON reads it as white space).
    Without line ends, an error's column is counted in the line itself.
    """
    nl: str | bytes
    cr: str | bytes
    if data.__class__ is bytes:
        nl, cr = b"\n", b"\r"
    else:
        nl, cr = "\n", "\r"
    lines = data.split(nl)
    if not lines[-1]:
        lines.pop()
    if cr in data:
        lines = [line[:-1] if line.endswith(cr) else line for line in lines]
    return lines


def open_jsonl(path: str) -> Any:
    """A JSON Lines file opened for reading its lines as bytes, a UTF-8 byte-order mark skipped.

    Bytes, not text: a line that is not UTF-8 is then that line's error, and the lines
    after it are still read.
    """
    f = Path(path).open("rb")  # noqa: SIM115 - the open file is what this returns, for the caller to close
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


def read_raw_jsonl(path: str) -> Iterator[tuple[InputRef, bytes | InputNote]]:
    """The non-blank lines of a JSON Lines file, unparsed (``--jobs`` parses them in the workers),
    and a note for each blank line."""
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
        except ValueError:
            yield ref, number_too_long()
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
        except ValueError:  # where the element ends is not known: the rest cannot be read
            yield InputRef(name, line), number_too_long()
            return
        yield InputRef(name, line), _checked(value)
        expect_value = False


def _cell_error(e: CellError, where: Text) -> BadRecord:
    return BadRecord.of(msg("record.cell", where=where, column=e.column, problem=e.text))


def _read_csv(
    stream: TextIO, name: str, schema: Mapping[str, Any] | None, tab: bool = False
) -> Iterator[tuple[InputRef, Any]]:
    head = stream.read(8192)
    rest = stream
    first = head.lstrip("\r\n").split("\n", 1)[0]
    delimiter = "\t" if tab else max(",\t;", key=first.count)  # the header's separator; quoting as Excel writes it
    reader = csv.reader(_joined(head, rest), "excel", delimiter=delimiter)
    header: list[str | None] | None = None
    start = 1
    for row in reader:
        line = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):  # blank lines, above the header too
            yield InputRef(name, line), BLANK
            continue
        if header is None:
            header = [h.strip().lstrip("\ufeff") or None for h in row]
            yield from _csv_header_notes(header, schema, name, head, line, delimiter)
            header = _known_header(header, schema)
            continue
        ref = InputRef(name, line)
        try:
            yield ref, row_to_record(header, row, schema)
        except CellError as e:
            yield ref, _cell_error(e, msg("record.where:row", row=line))


_SHOWN_NAMES = 8  # names listed in a message before "…"


def _known_header(header: list[str | None], schema: Mapping[str, Any] | None) -> list[str | None]:
    """The header without the columns that name no field: they were reported once, at their header
    cell, and no rule can read them (so schema enforcement does not report them again on every row)."""
    if schema is None:
        return header
    skip = {index for index, _name, _close in unknown_columns(header, schema)[0]}
    return [None if i in skip else h for i, h in enumerate(header)] if skip else header


def _names(names: list[str]) -> Text:
    shown = [escape_controls(n) for n in names[:_SHOWN_NAMES]]
    text = listing(shown)
    return Text(text.en + ", …", text.zh + "、…") if len(names) > _SHOWN_NAMES else text


def _header_problems(
    header: list[str | None],
    schema: Mapping[str, Any] | None,
    sheet: str | None,
    sheets: list[str] | None = None,
    row: int = 1,
) -> tuple[list[tuple[int, Text, Text | None]], Text | None, Text | None]:
    """The warnings about a header row, as (index of the column, message, help); and, when no
    column names a field, the error's message and help instead."""
    unknown, known = unknown_columns(header, schema)
    if not unknown:
        return [], None, None
    fields = field_names(schema)
    if not known:
        columns = _names([name for _i, name, _s in unknown])
        if sheet is None:
            return (
                [],
                msg("input.no-known-column", columns=columns),
                msg("input.no-known-column/help", fields=_names(fields)),
            )
        return (
            [],
            msg("input.no-known-column:sheet", sheet=escape_controls(sheet), columns=columns),
            msg("input.no-known-column:sheet/help", fields=_names(fields), sheets=_names(sheets or [])),
        )
    out: list[tuple[int, Text, Text | None]] = []
    for index, name, close in unknown:
        shown = escape_controls(name)
        if sheet is None:
            message = msg("input.unknown-column", column=shown)
        else:
            from openpyxl.utils import get_column_letter

            message = msg(
                "input.unknown-column:cell",
                column=shown,
                cell=f"{get_column_letter(index + 1)}{row}",
                sheet=escape_controls(sheet),
            )
        advice = msg("did-you-mean", name=close) if close else msg("input.unknown-column/help", fields=_names(fields))
        out.append((index, message, advice))
    return out, None, None


def _cell_spans(text: str, start: int, delimiter: str) -> list[tuple[int, int]]:
    """Where each cell of the CSV row that starts at offset ``start`` of ``text`` is (the cell's
    text, inside its quotes, without surrounding blanks).  Cells past the end of ``text`` are
    left out."""
    spans: list[tuple[int, int]] = []
    i, n = start, len(text)
    ends = (delimiter, "\n", "\r")
    while True:
        if i < n and text[i] == '"':
            j = i + 1
            while True:
                k = text.find('"', j)
                if k < 0:
                    return spans
                if text.startswith('""', k):
                    j = k + 2
                    continue
                break
            a, b = i + 1, k
            i = k + 1
            while i < n and text[i] not in ends:
                i += 1
        else:
            j = i
            while j < n and text[j] not in ends:
                j += 1
            if j >= n:
                return spans  # the line may go on beyond what was read
            a, b = i, j
            i = j
        while a < b and (text[a].isspace() or text[a] == "\ufeff"):
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        spans.append((a, b))
        if i >= n or text[i] != delimiter:
            return spans
        i += 1


def _csv_header_notes(
    header: list[str | None], schema: Mapping[str, Any] | None, name: str, head: str, line: int, delimiter: str
) -> Iterator[tuple[InputRef, InputNote]]:
    """A warning at each header cell that names no field; an error when none does."""
    problems, error, advice = _header_problems(header, schema, None)
    if not problems and error is None:
        return
    source = Source(name, head)
    spans = _cell_spans(head, source.offset(line, 1), delimiter) if line <= source.line_count else []
    if error is not None:
        first = next((i for i, h in enumerate(header) if h), 0)
        span = Span(*spans[first]) if first < len(spans) else None
        raise UsageError(Diagnostic("input.no-known-column", error, source, span, advice))
    for index, message, help_text in problems:
        span = Span(*spans[index]) if index < len(spans) else None
        column = source.line_col(span.start)[1] if span is not None else None
        yield (
            InputRef(name, line),
            InputNote(
                problem=Diagnostic("input.unknown-column", message, source, span, help_text, severity="warning"),
                column=column,
            ),
        )


def _xlsx_header_notes(
    header: list[str | None], schema: Mapping[str, Any] | None, name: str, sheet: str, row: int, sheets: list[str]
) -> Iterator[tuple[InputRef, InputNote]]:
    problems, error, advice = _header_problems(header, schema, sheet, sheets, row)
    source = Source(name, "")
    if error is not None:
        raise UsageError(Diagnostic("input.no-known-column", error, source, None, advice))
    for index, message, help_text in problems:
        yield (
            InputRef(name, row, sheet),
            InputNote(
                problem=Diagnostic("input.unknown-column", message, source, None, help_text, severity="warning"),
                column=index + 1,
            ),
        )


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


def _read_xlsx(
    path: Path, name: str, schema: Mapping[str, Any] | None, sheet: str | None = None
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
            raise UsageError(
                Diagnostic.of("usage.unknown-sheet", name=name, sheet=sheet, sheets=listing(book.sheetnames))
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        header: list[str | None] | None = None
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):  # above the header too
                yield InputRef(name, number, ws.title), BLANK
                continue
            if header is None:
                header = [str(h).strip() if h is not None and str(h).strip() else None for h in row]
                yield from _xlsx_header_notes(header, schema, name, ws.title, number, book.sheetnames)
                header = _known_header(header, schema)
                continue
            ref = InputRef(name, number, ws.title)
            try:
                yield ref, row_to_record(header, list(row), schema)
            except CellError as e:
                yield ref, _cell_error(e, msg("record.where:sheet-row", sheet=ws.title, row=number))
    finally:
        book.close()


def read_records(
    path: str,
    input_format: str | None = None,
    stdin: TextIO | None = None,
    schema: Mapping[str, Any] | None = None,
    sheet: str | None = None,
    *,
    notes: bool = False,
) -> Iterator[tuple[InputRef, Any]]:
    """Every record of a file (or ``-`` for standard input) with where it came from.

    ``schema`` (the decision's record JSON Schema) types the cells of CSV and
    XLSX files; ``sheet`` picks a worksheet (default: the first).  ``notes``: also
    yield the :class:`InputNote` items (blank lines, unknown columns) at their places.

    Raises:
        UsageError: the file cannot be opened, its format cannot be told, or the header
            of a spreadsheet names no field of the record (``input.no-known-column``).
    """
    items = _read_any(path, input_format, stdin, schema, sheet)
    if notes:
        return items
    return ((ref, record) for ref, record in items if record.__class__ is not InputNote)


def _read_any(
    path: str, input_format: str | None, stdin: TextIO | None, schema: Mapping[str, Any] | None, sheet: str | None
) -> Iterator[tuple[InputRef, Any]]:
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        if input_format == "jsonl":
            yield from _read_jsonl(stream, "-")
            return
        if input_format == "csv":
            yield from _read_csv(stream, "-", schema)
            return
        if input_format == "xlsx":
            raise UsageError(
                Diagnostic(
                    "usage.unsupported-input",
                    msg("usage.unsupported-input:stdin"),
                    help=msg("usage.unsupported-input:stdin/help"),
                )
            )
        if input_format == "parquet":  # a Parquet file is read from its end: the whole of it, held
            from engine.io.parquetfile import read_parquet

            yield from read_parquet(_stdin_bytes(stream), "-", schema)
            return
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
        if fmt == "parquet":  # rows in batches, each row's number as its line (engine/io/parquetfile.py)
            from engine.io.parquetfile import read_parquet

            with p.open("rb") as f:
                yield from read_parquet(f, path, schema)
            return
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


def _stdin_bytes(stream: Any) -> bytes:
    """What standard input holds, as bytes (a Parquet file cannot be read as it streams in)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        raise UsageError(
            Diagnostic(
                "usage.unsupported-input",
                msg("usage.unsupported-input:stdin-parquet"),
                help=msg("usage.unsupported-input:stdin-parquet/help"),
            )
        )
    data: bytes = buffer.read()
    return data
