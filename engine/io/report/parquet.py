"""`--format parquet`: the results table, one row per input record, written as a Parquet file.

The table is the one shape both engines produce (the per-record engine here, the columnar
engine from its own batches), in input order:

==================  ==========  ==================================================================
column              type        value
==================  ==========  ==================================================================
``file``            string      the input's name (``InputRef.file``)
``line``            int64       the record's line (JSON Lines, JSON), row (CSV, XLSX, Parquet)
``record``          string      the record's id (null for a line that could not be read)
``as_of``           date32      the evaluation date (null for a line that could not be read)
``outcome``         string      ``pass``, ``fail``, ``indeterminate`` or ``error``
``rule.<id>``       string      one per rule, in the decision's order: its status
``output.<name>``   string      one per output: the JSON text of its value, null when absent
``message``         string      why a line could not be read, else null
``schema``          string      the JSON text of the record's schema violations, else null
==================  ==========  ==================================================================

JSON texts are ``json.dumps(value, ensure_ascii=False, sort_keys=True)`` of what
``--format json`` shows.  For a rulebook with versions in force on different days the
rule and output columns are those of every version (newest first); a rule the version
that decided a record lacks is null there.

``results_schema``, ``decision_row``, ``error_row`` and ``results_table`` make the table;
:class:`ParquetReport` writes it in row groups of ``ROW_GROUP`` rows, so memory does not
grow with the input (the rows held are Arrow arrays but for the last few thousand).  ``pyarrow``
is imported only when a table is made.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import IO, Any

from engine.errors import Diagnostic, UsageError
from engine.evaluate import Decision, InputRef, to_json_value
from engine.io.report import Summary, schema_items

__all__ = [
    "ROW_GROUP",
    "ParquetReport",
    "column_names",
    "decision_row",
    "error_row",
    "results_schema",
    "results_table",
]

#: rows per row group of the file written (and rows held before they are written)
ROW_GROUP = 65_536
_BATCH = 4096  # rows held as Python values before they become Arrow arrays

_HEAD = ("file", "line", "record", "as_of", "outcome")
# the one text of each status and outcome, shared by every row held (``str()`` of an enum makes a new one)
_WORDS = {w: w for w in ("pass", "fail", "not_applicable", "error", "waived", "indeterminate")}
_TAIL = ("message", "schema")


def _pyarrow(code: str = "usage.missing-package:parquet-output") -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(Diagnostic.of(code)) from None
    return pyarrow


def _versions(decision: Any) -> list[Any]:
    """The compiled decisions a decision stands for, newest first (one unless it has versions)."""
    versions = getattr(decision, "versions", None)
    if versions is None:
        return [decision]
    return [d for _entry, d in reversed(versions)]


def _union(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def rule_ids(decision: Any) -> list[str]:
    """The rule ids of ``decision`` (a ``CompiledDecision`` or a ``VersionedDecision``), in order."""
    return _union(rid for d in _versions(decision) for rid in d.rule_ids)


def output_names(decision: Any) -> list[str]:
    """The output names of ``decision``, in order."""
    return _union(o.spec.name for d in _versions(decision) for o in d.outputs)


def column_names(decision: Any) -> list[str]:
    """The results table's column names for ``decision``, in order."""
    return [
        *_HEAD,
        *(f"rule.{rid}" for rid in rule_ids(decision)),
        *(f"output.{name}" for name in output_names(decision)),
        *_TAIL,
    ]


def results_schema(decision: Any) -> Any:
    """The Arrow schema (``pyarrow.Schema``) of the results table of ``decision``; its metadata
    names the rulebook and the decision."""
    pa = _pyarrow()
    newest = _versions(decision)[0]
    types = {"line": pa.int64(), "as_of": pa.date32()}
    return pa.schema(
        [pa.field(name, types.get(name, pa.string())) for name in column_names(decision)],
        metadata={"rulebook": str(newest.book.id), "decision": str(newest.name)},
    )


def _statuses(d: Any) -> Iterable[tuple[str, Any]]:
    try:
        statuses = d.statuses  # a decision made here: from its tuple of statuses
    except AttributeError:  # read back from a worker's JSON line
        return [(r.id, r.status) for r in d.rules]
    return statuses.items()  # type: ignore[no-any-return]  # a dict of statuses


def _json(value: Any) -> str:
    return str(_text(json.dumps(value, ensure_ascii=False, sort_keys=True)))


def _text(text: Any) -> Any:
    """Text as Parquet can hold it: a lone surrogate (from a JSON escape such as ``\\ud800``, which
    UTF-8 cannot encode) written back as that escape; inside a JSON text it stays the same JSON."""
    if text.__class__ is str and not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def decision_row(d: Decision, lang: str = "zh") -> dict[str, Any]:
    """The results table's row of a decision (one made here, or read back from a worker), with
    the texts of its schema violations in ``lang``."""
    ref = d.input
    row: dict[str, Any] = {
        "file": _text(ref.file) if ref is not None else None,
        "line": ref.line if ref is not None else None,
        "record": _text(d.record_id),
        "as_of": d.as_of,
        "outcome": _WORDS.get(d.outcome) or str(d.outcome),
    }
    words = _WORDS
    for rid, status in _statuses(d):
        row[f"rule.{rid}"] = words.get(status) or str(status)
    outputs = to_json_value(d.outputs)
    for name, value in outputs.items():
        row[f"output.{name}"] = _json(value)
    row["message"] = _text(d.message)
    items = schema_items(d, lang)
    row["schema"] = _json(items) if items else None
    return row


def error_row(decision: Any, ref: InputRef, message: str) -> dict[str, Any]:
    """The results table's row of an input line that could not be read: outcome ``error``, the
    reason in ``message``, every rule and output null."""
    row: dict[str, Any] = dict.fromkeys(column_names(decision))
    row.update(file=_text(ref.file), line=ref.line, outcome="error", message=_text(message))
    return row


def results_table(decision: Any, rows: Iterable[dict[str, Any]]) -> Any:
    """The results table (``pyarrow.Table``) of ``rows`` made by :func:`decision_row` and
    :func:`error_row` (a key the table has no column for is left out; a missing one is null)."""
    pa = _pyarrow()
    schema = results_schema(decision)
    rows = list(rows)
    return pa.Table.from_pydict({name: [r.get(name) for r in rows] for name in schema.names}, schema=schema)


class ParquetReport:
    """``check --format parquet --output FILE``: the results table, streamed to ``FILE``.

    The command hands it the decision first (``bind_decision``): the table's columns are the
    decision's rules and outputs.  Rows are held column by column until a row group is full.
    A columnar run hands it whole tables (``write_table``) instead of decisions.
    """

    def __init__(self, out: IO[str], *, lang: str = "zh", **_: Any) -> None:
        self.out = out
        self.lang = lang
        self.summary = Summary()
        self._decision: Any = None
        self._schema: Any = None
        self._columns: dict[str, list[Any]] = {}
        self._held = 0
        self._batches: list[Any] = []
        self._writer: Any = None
        self._specs: dict[str, Any] = {}

    def bind_decision(self, decision: Any, *, output: str | None) -> None:
        """The decision whose results are written, and the ``--output`` path (None: standard
        output, which is refused: a Parquet file is no text for a terminal or a pipe)."""
        if output is None or getattr(self.out, "buffer", None) is None:
            raise UsageError(Diagnostic.of("usage.parquet-output"))
        _pyarrow()
        self._decision = decision
        self._schema = results_schema(decision)
        self._columns = {name: [] for name in self._schema.names}
        for d in reversed(_versions(decision)):  # the newest version's spec of a rule wins
            self._specs.update({r.spec.id: r.spec for r in d.rules})

    def begin(self) -> None:
        if self._schema is None:  # nobody said which decision, nor that the output is a file
            raise UsageError(Diagnostic.of("usage.parquet-output"))
        pa = _pyarrow()
        self.out.flush()
        binary = getattr(self.out, "buffer", None)  # the text file's bytes underneath (checked when bound)
        self._writer = pa.parquet.ParquetWriter(binary, self._schema, compression="zstd")

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        self._hold(decision_row(decision, self.lang))

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.add_error()
        self._hold(error_row(self._decision, ref, message))

    def _hold(self, row: dict[str, Any]) -> None:
        get = row.get
        for name, values in self._columns.items():
            values.append(get(name))
        self._held += 1
        if self._held >= ROW_GROUP:
            self._flush()
        elif len(self._columns["file"]) >= _BATCH:
            self._pack()

    def _pack(self) -> None:
        """The rows held as Python values become an Arrow batch (a tenth of their memory)."""
        if not self._columns["file"]:
            return
        pa = _pyarrow()
        self._batches.append(pa.RecordBatch.from_pydict(self._columns, schema=self._schema))
        self._columns = {name: [] for name in self._schema.names}

    def _flush(self) -> None:
        """The rows held, written as one row group."""
        self._pack()
        if not self._batches:
            return
        pa = _pyarrow()
        table = pa.Table.from_batches(self._batches, schema=self._schema)
        self._batches = []
        self._held = 0
        self._writer.write_table(table, row_group_size=ROW_GROUP)

    def write_table(self, table: Any) -> None:
        """Rows decided elsewhere, as a results table of this decision (``results_schema``),
        counted for the summary as :meth:`write` counts decisions."""
        pa = _pyarrow()
        self._flush()
        if not table.schema.equals(self._schema):
            table = table.select(self._schema.names).cast(self._schema)
        self._count(pa, table)
        self._writer.write_table(table, row_group_size=ROW_GROUP)

    def _count(self, pa: Any, table: Any) -> None:
        summary = self.summary
        counts = pa.compute.value_counts(table.column("outcome"))
        for item in counts.to_pylist():
            if item["values"] is not None:
                summary.outcomes[item["values"]] += item["counts"]
        name = self._schema.metadata[b"decision"].decode("utf-8")
        for rid, spec in self._specs.items():
            severity = str(spec.severity)
            if severity == "info":
                continue
            for item in pa.compute.value_counts(table.column(f"rule.{rid}")).to_pylist():
                if item["values"] in ("fail", "error"):
                    summary.failures[(name, rid, spec.cite)] += item["counts"]
                    if item["values"] == "fail" and severity == "warning":
                        summary.warnings += item["counts"]
        for text in table.column("schema").drop_null().to_pylist():
            summary.add_schema(json.loads(text))

    def abort(self) -> None:
        """The run stopped before its end: the writer let go of the file (which the command discards)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):  # the file is discarded whatever the writer says now
                writer.close()

    def end(self) -> Summary:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        binary = getattr(self.out, "buffer", None)
        if binary is not None:
            binary.flush()
        return self.summary
