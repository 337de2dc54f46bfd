"""The columnar backend: whole feeds decided by columns, with the per-record engine's answers.

A feed is read in batches of lines (JSON Lines) or rows (Parquet) into Arrow with the types
the decision's record schema states, strictly: a line whose values do not have those types,
that is not UTF-8 or not JSON, that repeats a key, or (when the schema is enforced) holds a
key the schema does not list, does not decode, and the batch is halved until the lines that
do not decode are found.  Those lines, and every row the columnar decision
(``engine.lang.compile_columnar``) is not sure of, are decided by the per-record engine, the
reference, so that every row gets exactly its statuses, outcome and outputs.

``decide_batches`` gives the results table (``engine.io.report.parquet``) batch by batch with
the counts of rows decided per record, by reason; ``decide_bytes`` and ``reference_table``
are the same over bytes in memory (the differential tests use them).
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.evaluate import CompiledDecision, InputRef
from engine.io.records import BadRecord, parse_json_line, split_lines
from engine.io.report.parquet import decision_row, error_row, output_names, results_schema, rule_ids
from engine.lang.compile_columnar import ColumnarDecision, NotColumnar, compile_columnar, refine
from engine.lang.types import Type
from engine.model import Outcome

__all__ = [
    "BATCH_LINES",
    "Batch",
    "ColumnarStats",
    "NotColumnar",
    "PassRow",
    "available",
    "columnar_decision",
    "decide_batches",
    "decide_bytes",
    "decide_input",
    "decide_records",
    "decide_table",
    "reference_table",
]

#: lines (or rows) decided together
BATCH_LINES = 262_144

_STATUS = ("pass", "fail", "not_applicable")


def available() -> bool:
    """Whether the extra ``[columnar]`` (Polars and PyArrow) is installed."""
    try:
        import polars  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Batch:
    """A batch decided: its results table, and its input records by row (``record(i)``: the InputRef
    and the record, or the BadRecord of a line that could not be read), read again only when asked."""

    table: Any
    record: Any
    record_ref: Any = None  # i -> the InputRef of row i, without reading the record


class PassRow:
    """A record the columns decided that passed every rule it applies to, for a report that shows
    passes only as counted names (JUnit, SARIF, GitHub, HTML): what those reports read of a decision."""

    __slots__ = ("as_of", "decision", "input", "record_id", "rulebook", "version")

    failing: tuple[Any, ...] = ()
    rules: tuple[Any, ...] = ()
    schema: tuple[Any, ...] = ()
    message = None

    def __init__(
        self, rulebook: str, version: str, decision: str, record_id: str | None, input: InputRef, as_of: Any
    ) -> None:
        self.rulebook = rulebook
        self.version = version
        self.decision = decision
        self.record_id = record_id
        self.input = input
        self.as_of = as_of

    @property
    def outcome(self) -> Any:
        return Outcome.PASS

    @property
    def outputs(self) -> dict[str, Any]:
        return {}


@dataclass
class ColumnarStats:
    """How many rows were decided, and how many of them by the per-record engine, by reason."""

    rows: int = 0
    blank: int = 0  # blank lines skipped
    fallback: Counter[str] = field(default_factory=Counter)


class _Plan:
    """A decision ready for columns: the compiled expressions, and the Arrow type of its records."""

    def __init__(self, given: Any) -> None:
        # a decision with versions (``registry.VersionedDecision``): the newest is compiled for columns,
        # and a row whose date puts another version (or none) in force goes to the per-record engine
        self.given = given
        self.version_on = getattr(given, "version_on", None)
        decision = getattr(given, "newest", given)
        if not isinstance(decision, CompiledDecision):
            raise NotColumnar("a decision of an unknown kind")
        whole = decision.whole
        if whole is None:
            raise NotColumnar("a decision not compiled as a whole")
        plan, params = whole
        self.decision = decision
        self.record_type: Type = decision.record_type
        self.columnar: ColumnarDecision = compile_columnar(plan, params, decision.record_type)
        self.enforce = decision.schema_enforcement != "none" and decision.record_schema is not None
        self.schema = decision.record_schema or {}
        self.arrow = _arrow_schema(self.schema, self.record_type)
        self.presence = _presence_keys(plan)
        if any('"' in k or "\\" in k for k in self.presence):
            raise NotColumnar("a field name with a quote or a backslash")
        self.rule_ids = rule_ids(decision)
        self.outputs = output_names(decision)
        self.columns = results_schema(given)
        self.decisive = [i for i, r in enumerate(plan.rules) if r[4]]
        self.waivers = "waivers" in (self.schema.get("properties") or {})
        self._dry_run()

    def _dry_run(self) -> None:
        """Decide an empty batch: what the compiler cannot express shows now, not at the first batch."""
        import polars as pl

        table = self.arrow.empty_table()
        df = _frame(self, table, pl.Series("__line", [], dtype=pl.String), False)
        df = df.with_columns(
            pl.Series("__pos", [], dtype=pl.Int64),
            pl.Series("__lineno", [], dtype=pl.Int64),
            pl.lit("", pl.String).alias("__file"),
            pl.Series("__line", [], dtype=pl.String),
        )
        _decide_frame(self, df, None, "en")


_PLANS: dict[int, tuple[Any, _Plan | NotColumnar]] = {}


def columnar_decision(decision: Any) -> _Plan:
    """The decision prepared for columns (kept for the decision's life), or :class:`NotColumnar`."""
    held = _PLANS.get(id(decision))
    if held is None or held[0] is not decision:
        try:
            made: _Plan | NotColumnar = _Plan(decision)
        except NotColumnar as e:
            made = e
        held = _PLANS[id(decision)] = (decision, made)
    if isinstance(held[1], NotColumnar):
        raise held[1]
    return held[1]


# ---------------------------------------------------------------------- Arrow types from the schema


def _arrow_type(schema: Any, t: Type, root: Any) -> Any:
    import pyarrow as pa

    from engine.lang.types import resolve_ref as _resolve

    if isinstance(schema, dict):
        schema = _resolve(schema, root)
    t = refine(schema, t)
    kind = t.kind
    if kind in ("string", "date"):
        return pa.string()
    if kind == "int":
        return pa.int64()
    if kind == "bool":
        return pa.bool_()
    if kind == "list" and t.elem is not None:
        items = schema.get("items", {}) if isinstance(schema, dict) else {}
        return pa.list_(_arrow_type(items, t.elem, root))
    if kind == "object":
        props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
        fields = t.fields()
        return pa.struct([pa.field(name, _arrow_type(props.get(name, {}), ft, root)) for name, ft in fields.items()])
    if kind == "null":
        return pa.null()
    raise NotColumnar(f"a field of type {t}")


def _arrow_schema(schema: dict[str, Any], record_type: Type) -> Any:
    import pyarrow as pa

    props = schema.get("properties") or {}
    return pa.schema(
        [pa.field(name, _arrow_type(props.get(name, {}), ft, schema)) for name, ft in record_type.fields().items()]
    )


def _presence_keys(plan: Any) -> set[str]:
    """The keys whose presence in a record's text can change an answer (see ``ColumnarDecision.read``)."""
    from engine.lang import ast as A
    from engine.lang.compile_columnar import all_checked

    keys: set[str] = set()
    for c in all_checked(plan):
        for n in A.walk(c.node):
            if isinstance(n, A.Has):
                keys.add(n.field)
            elif isinstance(n, A.Select):
                ft = c.type_of(n)
                if (ft.has_default and ft.default is not None) or (not ft.has_default and ft.nullable):
                    keys.add(n.field)
    return keys


# ---------------------------------------------------------------------- reading


def _decode(pa: Any, pj: Any, lines: list[bytes], schema: Any, strict_keys: bool) -> Any:
    """The lines as an Arrow table of ``schema``, or None when some line does not decode."""
    data = b"\n".join(lines) + b"\n"
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error" if strict_keys else "ignore")
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=max(1 << 22, 2 * len(data) // 4 + 1)),
            parse_options=options,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_rows != len(lines):
        return None
    return table


def _decode_all(pa: Any, pj: Any, lines: list[bytes], schema: Any, strict_keys: bool) -> tuple[list[Any], list[int]]:
    """Tables of the lines that decode (in order), and the indices of those that do not."""
    tables: list[Any] = []
    bad: list[int] = []

    def go(lo: int, hi: int) -> None:
        if lo >= hi:
            return
        table = _decode(pa, pj, lines[lo:hi], schema, strict_keys)
        if table is not None:
            tables.append((lo, hi, table))
            return
        if hi - lo <= 8:
            for i in range(lo, hi):
                one = _decode(pa, pj, [lines[i]], schema, strict_keys)
                if one is None:
                    bad.append(i)
                else:
                    tables.append((i, i + 1, one))
            return
        mid = (lo + hi) // 2
        go(lo, mid)
        go(mid, hi)

    # Only a line that looks like one JSON object, in UTF-8, goes to Arrow's reader (which has crashed on
    # a line `null`, and keeps text that is not UTF-8, on which Polars fails); the others are the
    # reference's, which says what is wrong with them.
    try:
        b"\n".join(lines).decode("utf-8")
        not_text: set[int] = set()
    except UnicodeDecodeError:
        not_text = {i for i, line in enumerate(lines) if _utf8(line) is None}
    start = 0
    for i, line in enumerate(lines):
        if i in not_text or line.lstrip()[:1] != b"{" or line.rstrip()[-1:] != b"}":
            go(start, i)
            bad.append(i)
            start = i + 1
    go(start, len(lines))
    bad.sort()
    tables.sort(key=lambda t: t[0])
    return tables, bad


_ESCAPED_ASCII = r"\\u00[2-7][0-9a-fA-F]"

# patterns that RE2 (the per-record check) and Polars' regex read alike: ASCII classes, counts, anchors
_SIMPLE_PATTERN = re.compile(
    r"\^?(?:\[[A-Za-z0-9_\-]+\]|[A-Za-z0-9_\-])(?:[*+?]|\{[0-9]+(?:,[0-9]*)?\})?"
    r"(?:(?:\[[A-Za-z0-9_\-]+\]|[A-Za-z0-9_\-])(?:[*+?]|\{[0-9]+(?:,[0-9]*)?\})?)*\$?"
)


# ---------------------------------------------------------------------- deciding


def _given_null(arrow: Any, key: str) -> Any:
    """Rows where the key ``key`` may be given with the value null somewhere in the record.

    In JSON text a quoted key cannot occur inside a string (its quotes would be escaped), so
    the times ``"key"`` occurs in a line are at least the times the key is given; if they are
    no more than the values of that key the line decoded to that are not null, no ``key`` is
    null.  A line that writes a printable ASCII character as an escape is never sure.
    """
    import polars as pl
    import pyarrow as pa

    def count(t: Any, expr: Any) -> list[Any]:
        """The terms counting the non-null values of ``key`` within a value of Arrow type ``t``."""
        terms: list[Any] = []
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                f = t.field(i)
                sub = expr.struct.field(f.name)
                if f.name == key:
                    terms.append(sub.is_not_null().cast(pl.Int64))
                terms.extend(count(f.type, sub))
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            inner = count(t.value_type, pl.element())
            if inner:
                terms.append(expr.list.eval(pl.sum_horizontal(inner)).list.sum().fill_null(0))
        return terms

    terms: list[Any] = []
    for f in arrow:
        col = pl.col(f"rec.{f.name}")
        if f.name == key:
            terms.append(col.is_not_null().cast(pl.Int64))
        terms.extend(count(f.type, col))
    total = pl.sum_horizontal(terms) if terms else pl.lit(0, pl.Int64)
    line = pl.col("__line")
    return (line.str.count_matches(f'"{key}"', literal=True) > total) | line.str.contains(_ESCAPED_ASCII)


def _sizes(arrow: Any) -> tuple[Any, Any]:
    """Per row: the longest text (in characters) and the longest list anywhere in the record."""
    import polars as pl
    import pyarrow as pa

    zero = pl.lit(0, pl.Int64)

    def walk(t: Any, expr: Any) -> tuple[Any, Any]:
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return expr.str.len_chars().cast(pl.Int64).fill_null(0), zero
        if pa.types.is_struct(t):
            texts, lists = [zero], [zero]
            for i in range(t.num_fields):
                f = t.field(i)
                a, b = walk(f.type, expr.struct.field(f.name))
                texts.append(a)
                lists.append(b)
            return pl.max_horizontal(texts), pl.max_horizontal(lists)
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            a, b = walk(t.value_type, pl.element())
            length = expr.list.len().cast(pl.Int64).fill_null(0)
            inner_t = expr.list.eval(a).list.max().cast(pl.Int64).fill_null(0) if a is not zero else zero
            inner_l = expr.list.eval(b).list.max().cast(pl.Int64).fill_null(0) if b is not zero else zero
            return inner_t, pl.max_horizontal(length, inner_l)
        return zero, zero

    texts, lists = [zero], [zero]
    for f in arrow:
        a, b = walk(f.type, pl.col(f"rec.{f.name}"))
        texts.append(a)
        lists.append(b)
    return pl.max_horizontal(texts).alias("__tmax"), pl.max_horizontal(lists).alias("__nmax")


def _frame(plan: _Plan, table: Any, lines: Any, is_table: bool) -> Any:
    """The Polars frame a decision is evaluated over: ``rec.<field>`` columns, presence, ``__ok``."""
    import polars as pl

    df = pl.DataFrame(pl.from_arrow(table))
    df = df.rename({name: f"rec.{name}" for name in df.columns})
    cols = [pl.lit(is_table).alias("__table"), pl.lit(True).alias("__ok")]
    if is_table or lines is None:
        for key in plan.presence:
            cols.append(pl.lit(True).alias(f"__p:{key}"))
    else:
        # a line escaping a surrogate (\\ud800): Python keeps it as it is, Arrow cannot; the reference decides it
        surrogate = lines.str.contains(r"\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")
        df = df.with_columns(lines.alias("__line"))
        cols[1] = (~surrogate).alias("__ok")
        for key in plan.presence:
            cols.append(_given_null(plan.arrow, key).alias(f"__p:{key}"))
    return df.with_columns(cols).with_columns(*_sizes(table.schema))


def _schema_ok(plan: _Plan, df: Any, is_table: bool) -> Any:
    """Rows that surely keep the record schema (the per-record engine says how the others break it)."""
    import polars as pl

    from engine.lang.types import resolve_ref as _resolve

    root = plan.schema

    row_flags: list[Any] = []  # row-level conditions found inside lists (a list's items cannot see the row)

    def node(schema: Any, value: Any, t: Type, present_any: Any, in_list: bool = False, outer_list: Any = None) -> Any:
        try:
            return checks(schema, value, t, present_any, in_list, outer_list)
        except NotColumnar as e:  # a part of the schema not checked here: every record goes to the reference
            plan.columnar.unsupported.add(str(e))
            return pl.lit(False)

    def checks(
        schema: Any, value: Any, t: Type, present_any: Any, in_list: bool = False, outer_list: Any = None
    ) -> Any:
        schema = _resolve(schema, root) if isinstance(schema, dict) else schema
        if schema is True or schema == {}:
            return pl.lit(True)
        if not isinstance(schema, dict):
            raise NotColumnar("a record schema of `false`")
        allowed = {
            "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated",
            "readOnly", "writeOnly", "$defs", "definitions", "type", "format", "minLength",
            "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
            "minItems", "maxItems", "properties", "required", "additionalProperties", "items", "enum", "$ref",
            "allOf", "if", "then", "else",
        }  # fmt: skip
        extra = {k for k in schema if k not in allowed and not k.startswith("x-")}  # x-...: descriptions
        if extra:
            raise NotColumnar(f"the record schema's `{sorted(extra)[0]}`")
        ok = pl.lit(True)
        for part in schema.get("allOf") or ():
            ok = ok & node(part, value, t, present_any, in_list, outer_list)
        if "if" in schema:
            ok = ok & conditional(schema, value, t, present_any, in_list)
        t = refine(schema, t)
        kind = t.kind
        if kind == "date":
            # a table's date column holds dates (valid by construction); the text checks see their text
            if in_list:
                value = value.cast(pl.String)
            elif df.lazy().select(value.alias("x")).collect_schema()["x"] == pl.Date:
                if not any(k in schema for k in ("minLength", "maxLength", "pattern", "enum")):
                    return ok
                value = value.dt.to_string("%Y-%m-%d")
        if kind in ("string", "date"):
            if "minLength" in schema:
                ok = ok & (value.str.len_chars() >= int(schema["minLength"]))
            if "maxLength" in schema:
                ok = ok & (value.str.len_chars() <= int(schema["maxLength"]))
            if "pattern" in schema:
                pattern = schema["pattern"]
                if not isinstance(pattern, str) or not _SIMPLE_PATTERN.fullmatch(pattern):
                    raise NotColumnar("a record schema pattern")
                if pattern.endswith("$"):
                    ok = ok & ~value.str.contains(
                        "\n", literal=True
                    )  # `$` of a search also matches before a final line end
                ok = ok & value.str.contains(pattern)
            if schema.get("format") == "date":
                from engine.lang.compile_columnar import parse_date

                ok = ok & parse_date(value)[1]
            if "enum" in schema:
                options = schema["enum"]
                if not all(isinstance(o, str) for o in options if o is not None):
                    raise NotColumnar("a record schema enum of values that are not text")
                ok = ok & value.is_in([o for o in options if o is not None])
        elif kind == "int":
            for key, fn in (
                ("minimum", "ge"),
                ("maximum", "le"),
                ("exclusiveMinimum", "gt"),
                ("exclusiveMaximum", "lt"),
            ):
                if key in schema:
                    bound = schema[key]
                    if isinstance(bound, bool) or not isinstance(bound, int):
                        raise NotColumnar("a record schema bound that is not an integer")
                    ok = ok & getattr(value, fn)(bound)
            if "enum" in schema:
                raise NotColumnar("a record schema enum of numbers")
        elif kind == "bool":
            if "enum" in schema:
                raise NotColumnar("a record schema enum of booleans")
        elif kind == "list" and t.elem is not None:
            if "minItems" in schema:
                ok = ok & (value.list.len() >= int(schema["minItems"]))
            if "maxItems" in schema:
                ok = ok & (value.list.len() <= int(schema["maxItems"]))
            items = schema.get("items", {})
            inner = node(items, pl.element(), t.elem, present_any, True, None if in_list else value)
            elem_ok = inner if t.elem.nullable else (inner & pl.element().is_not_null())
            ok = ok & value.list.eval(elem_ok.fill_null(False)).list.all()
        elif kind == "object":
            props = schema.get("properties") or {}
            required = set(schema.get("required") or ())
            extra_props = schema.get("additionalProperties", True)
            if isinstance(extra_props, dict):
                raise NotColumnar("a record schema with additionalProperties as a schema")
            for name, ft in t.fields().items():
                sub = value.struct.field(name) if value is not None else pl.col(f"rec.{name}")
                nullable = ft.nullable
                if name in required:
                    # null: absent or null; in a table, null is given, which only a nullable type allows
                    null_ok = pl.lit(is_table and nullable)
                elif nullable:
                    null_ok = pl.lit(True)
                else:
                    # absent is fine, a given null is not: sure only when the key is nowhere in the text
                    if is_table:
                        null_ok = pl.lit(True)  # a null in a table where null is not allowed: the field is absent
                    elif not in_list:
                        null_ok = ~present_any(name)
                    else:
                        # inside a list the row cannot be seen: null is taken as absent there, and the
                        # row is sure only when no key of that name is given as null anywhere in it
                        null_ok = pl.lit(True)
                        row_flags.append(~present_any(name))
                inner = node(props.get(name, {}), sub, ft, present_any, in_list)
                ok = ok & pl.when(sub.is_null()).then(null_ok).otherwise(inner)
            for name in required - set(t.fields()):
                raise NotColumnar(f"the record schema requires `{name}`, which it does not describe")
        return ok.fill_null(False)

    def conditional(schema: dict[str, Any], value: Any, t: Type, present_any: Any, in_list: bool) -> Any:
        """``if``/``then``/``else`` whose ``if`` tests fields against texts (``const``, ``enum``) and
        ``required``: the branch taken where the test surely holds or surely fails, else not sure."""
        cond = _resolve(schema["if"], root) if isinstance(schema["if"], dict) else schema["if"]
        if t.kind != "object" or in_list or not isinstance(cond, dict):
            raise NotColumnar("a record schema `if` of this kind")
        if set(cond) - {"description", "properties", "required", "$comment", "title"}:
            raise NotColumnar("a record schema `if` of this kind")
        fields = t.fields()
        required = set(cond.get("required") or ())
        holds, fails = pl.lit(True), pl.lit(False)
        tests = dict(cond.get("properties") or {})
        for name in required - set(tests):
            tests[name] = {}
        for name, sub in tests.items():
            if name not in fields or not isinstance(sub, dict) or set(sub) - {"description", "const", "enum"}:
                raise NotColumnar("a record schema `if` of this kind")
            options = [sub["const"]] if "const" in sub else sub.get("enum")
            if options is not None and not all(isinstance(o, str) for o in options):
                raise NotColumnar("a record schema `if` of this kind")
            v = value.struct.field(name) if value is not None else pl.col(f"rec.{name}")
            nullable = fields[name].nullable
            if is_table:
                absent, given_null = v.is_null() & pl.lit(not nullable), v.is_null() & pl.lit(nullable)
            else:
                absent, given_null = v.is_null() & ~present_any(name), pl.lit(False)
            matches = v.is_in(options).fill_null(False) if options is not None else v.is_not_null()
            if name in required:
                holds = holds & matches
                fails = fails | (v.is_not_null() & ~matches) | absent | (given_null & pl.lit(options is not None))
            else:
                holds = holds & (matches | absent)
                fails = fails | (v.is_not_null() & ~matches) | (given_null & pl.lit(options is not None))
        then = node(schema.get("then", True), value, t, present_any, in_list)
        other = node(schema.get("else", True), value, t, present_any, in_list)
        return ((holds.fill_null(False) & then) | (fails.fill_null(False) & other)).fill_null(False)

    def present_any(name: str) -> Any:
        if "__line" in df.columns and not is_table:
            return _given_null(plan.arrow, name)
        return pl.lit(True)

    ok = node(root, None, plan.record_type, present_any)
    for flag in row_flags:
        ok = ok & flag
    return ok


def _decide_frame(plan: _Plan, df: Any, as_of: _dt.date | None, lang: str) -> tuple[Any, Any]:
    """The frame decided: (results frame of the exact rows with their positions, positions of the others)."""
    import polars as pl

    if plan.enforce:
        df = df.with_columns(
            (pl.col("__ok") & _schema_ok(plan, df, bool(df["__table"][0]) if df.height else True)).alias("__ok")
        )
    if plan.waivers and "rec.waivers" in df.columns:
        w = pl.col("rec.waivers")
        df = df.with_columns((pl.col("__ok") & (w.is_null() | (w.list.len() == 0))).alias("__ok"))
    table = bool(df["__table"][0]) if df.height else False
    out, statuses, outputs = plan.columnar.decide(df, as_of, table)
    if plan.version_on is not None:
        newest, version_on = plan.decision, plan.version_on

        def in_force(days: Any) -> Any:
            known = {d: version_on(d) is newest for d in days.unique().drop_nulls().to_list()}
            return days.replace_strict(list(known), list(known.values()), default=False, return_dtype=pl.Boolean)

        out = out.with_columns(
            (pl.col("__exact") & pl.col("__asof").map_batches(in_force, return_dtype=pl.Boolean)).alias("__exact")
        )
    status_names = pl.Series(_STATUS)
    decisive = [pl.col(statuses[i]) == 1 for i in plan.decisive]
    failed = pl.any_horizontal(decisive) if decisive else pl.lit(False)
    rid = pl.col("rec.id").cast(pl.String) if "rec.id" in df.columns else pl.lit(None, pl.String)
    cols = [
        pl.col("__file").alias("file"),
        pl.col("__lineno").alias("line"),
        rid.alias("record"),
        pl.col("__asof").alias("as_of"),
        pl.when(failed).then(pl.lit("fail")).otherwise(pl.lit("pass")).alias("outcome"),
        *(
            pl.col(s).replace_strict(list(range(3)), list(status_names), return_dtype=pl.String).alias(f"rule.{rid_}")
            for s, rid_ in zip(statuses, plan.rule_ids, strict=True)
        ),
        *(pl.col(o).alias(f"output.{name}") for o, name in zip(outputs, plan.outputs, strict=True)),
        pl.lit(None, pl.String).alias("message"),
        pl.lit(None, pl.String).alias("schema"),
        pl.col("__pos"),
    ]
    res = out.select([*cols, pl.col("__exact")]).collect()
    exact = res.filter(pl.col("__exact")).drop("__exact")
    others = res.filter(~pl.col("__exact")).get_column("__pos")
    _ = lang
    return exact, others


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _not_exact(plan: _Plan) -> str:
    if plan.columnar.unsupported:
        return "a row not surely exact here, or reaching what columns do not express: " + "; ".join(
            sorted(plan.columnar.unsupported)
        )
    return "a row not surely exact here (a missing or null field, a bad date, an error, a long list)"


def _failed(e: Exception) -> str:
    return f"a batch the columnar engine failed on ({type(e).__name__})"


def _polars_errors() -> tuple[type[Exception], ...]:
    try:
        import polars as pl
        import pyarrow as pa
    except ImportError:  # without the extra nothing is decided here
        return ()
    panic = getattr(pl.exceptions, "PanicException", None)  # Polars' own crash, raised as an exception
    return (pl.exceptions.PolarsError, pa.ArrowException, *((panic,) if panic is not None else ()))


_FAILURES = _polars_errors()


def _reference_rows(
    plan: _Plan, items: Iterable[tuple[int, InputRef, Any]], as_of: _dt.date | None, lang: str
) -> list[dict[str, Any]]:
    rows = []
    for pos, ref, rec in items:
        if isinstance(rec, BadRecord):
            row = error_row(plan.given, ref, rec.text(lang))
        else:
            row = decision_row(plan.given.evaluate(rec, as_of, ref), lang)
        row["__pos"] = pos
        rows.append(row)
    return rows


def _assemble(plan: _Plan, exact: Any, reference: list[dict[str, Any]]) -> Any:
    import polars as pl
    import pyarrow as pa

    schema = plan.columns
    missing = [f.name for f in schema if f.name not in exact.columns]
    if missing:
        exact = exact.with_columns([pl.lit(None, pl.String).alias(name) for name in missing])
    exact = exact.select([*schema.names, "__pos"])
    if not reference:  # every row decided here, already in input order
        return exact.drop("__pos").to_arrow().cast(schema)
    parts = [exact]
    if reference:
        ref = pl.from_arrow(pa.Table.from_pylist(reference, schema=schema.append(pa.field("__pos", pa.int64()))))
        parts.append(ref)
    frame = pl.concat(
        [p.with_columns(pl.col("__pos").cast(pl.Int64), pl.col("line").cast(pl.Int64)) for p in parts],
        how="vertical_relaxed",
    )
    frame = frame.sort("__pos").drop("__pos")
    return frame.to_arrow().cast(schema)


def _jsonl_batches(
    data_batches: Iterable[tuple[int, list[bytes]]], stats: ColumnarStats
) -> Iterator[tuple[list[int], list[bytes]]]:
    """(line numbers, lines) of the lines that are not blank, batch by batch (the blank ones counted)."""
    for first, lines in data_batches:
        numbers: list[int] = []
        kept: list[bytes] = []
        for i, line in enumerate(lines):
            if line.strip():
                numbers.append(first + i)
                kept.append(line)
        stats.blank += len(lines) - len(kept)
        yield numbers, kept


def _decide_lines(
    plan: _Plan,
    name: str,
    numbers: list[Any],
    lines: list[bytes],
    as_of: _dt.date | None,
    lang: str,
    stats: ColumnarStats,
    given: list[tuple[InputRef, Any]] | None = None,
) -> Batch:
    """Lines of JSON decided (``given``: the records they were written from, with their places, which
    the per-record engine then decides instead of the lines)."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.json as pj

    stats.rows += len(lines)
    tables, bad = _decode_all(pa, pj, lines, plan.arrow, plan.enforce)
    exact_parts = []
    others: list[int] = list(bad)
    if bad:
        stats.fallback["a line that does not decode with the record schema's types"] += len(bad)
    for lo, hi, table in tables:
        raw = lines[lo:hi]
        try:
            text = pl.Series("__line", raw, dtype=pl.Binary).cast(pl.String)
            not_text = None
        except pl.exceptions.PolarsError:  # a line that is not UTF-8 (and decoded all the same): the reference's
            not_text = [_utf8(x) is None for x in raw]
            text = pl.Series("__line", [_utf8(x) or "" for x in raw], dtype=pl.String)
        df = _frame(plan, table, text, False)
        df = df.with_columns(
            pl.int_range(lo, hi, dtype=pl.Int64).alias("__pos"),
            pl.Series("__lineno", numbers[lo:hi], dtype=pl.Int64),
            pl.lit(name, pl.String).alias("__file"),
            text,
        )
        if not_text is not None:
            df = df.with_columns((pl.col("__ok") & ~pl.Series(not_text, dtype=pl.Boolean)).alias("__ok"))
        try:
            exact, rest = _decide_frame(plan, df, as_of, lang)
        except _FAILURES as e:  # never a wrong answer: the per-record engine decides the batch
            stats.fallback[_failed(e)] += hi - lo
            others.extend(range(lo, hi))
            continue
        exact_parts.append(exact)
        if rest.len():
            stats.fallback[_not_exact(plan)] += rest.len()
        others.extend(rest.to_list())
    others.sort()

    def item(i: int) -> tuple[InputRef, Any]:
        return given[i] if given is not None else (InputRef(name, numbers[i]), parse_json_line(lines[i]))

    reference = _reference_rows(plan, ((i, *item(i)) for i in others), as_of, lang)
    exact_all = pl.concat(exact_parts) if exact_parts else _empty(plan)
    return Batch(
        _assemble(plan, exact_all, reference),
        item,
        lambda i: item(i)[0] if given is not None else InputRef(name, numbers[i]),
    )


def _read_lines(stream: Any, size: int) -> Iterator[tuple[int, list[bytes]]]:
    from engine.io.records import line_runs

    number = 1
    held: list[bytes] = []
    for run in line_runs(stream, 1 << 22):
        held.extend(split_lines(run))
        if len(held) >= size:
            yield number, held
            number += len(held)
            held = []
    if held:
        yield number, held


def decide_batches(
    decision: CompiledDecision,
    source: Any,
    *,
    name: str,
    fmt: str = "jsonl",
    as_of: _dt.date | None = None,
    lang: str = "zh",
    stats: ColumnarStats | None = None,
    batch: int = BATCH_LINES,
) -> Iterator[Any]:
    """The results table of ``source`` (a binary stream, a UTF-8 BOM already skipped), batch by batch."""
    for b in decide_input(decision, source, name=name, fmt=fmt, as_of=as_of, lang=lang, stats=stats, batch=batch):
        yield b.table


def decide_input(
    decision: Any,
    source: Any,
    *,
    name: str,
    fmt: str = "jsonl",
    as_of: _dt.date | None = None,
    lang: str = "zh",
    stats: ColumnarStats | None = None,
    batch: int = BATCH_LINES,
) -> Iterator[Batch]:
    """:func:`decide_batches` with each batch's input records at hand (see :class:`Batch`)."""
    plan = columnar_decision(decision)
    stats = stats if stats is not None else ColumnarStats()
    if fmt == "jsonl":
        for numbers, lines in _jsonl_batches(_read_lines(source, batch), stats):
            if lines:
                yield _decide_lines(plan, name, numbers, lines, as_of, lang, stats)
        return
    if fmt == "parquet":
        yield from _decide_parquet(plan, source, name, as_of, lang, stats, batch)
        return
    raise NotColumnar(f"input of format {fmt}")


def _decide_parquet(
    plan: _Plan, source: Any, name: str, as_of: _dt.date | None, lang: str, stats: ColumnarStats, batch: int
) -> Iterator[Batch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as e:  # not Parquet, or damaged: as the per-record reader says it
        from engine.errors import Diagnostic, UsageError
        from engine.io.terminal import escape_controls

        raise UsageError(Diagnostic.of("usage.not-parquet", path=escape_controls(name), reason=str(e))) from None
    first = 1
    for rb in pf.iter_batches(batch_size=batch):
        yield _decide_record_batch(plan, rb, name, first, as_of, lang, stats)
        first += rb.num_rows


def _decide_record_batch(
    plan: _Plan, rb: Any, name: str, first: int, as_of: _dt.date | None, lang: str, stats: ColumnarStats
) -> Batch:
    """One Arrow record batch of records (a table's rows; ``first`` the number of its first row) decided."""
    import polars as pl
    import pyarrow as pa

    from engine.io.parquetfile import read_parquet

    wanted = plan.arrow
    names = set(rb.schema.names)
    fields = plan.record_type.fields()
    props = plan.schema.get("properties") or {}
    n = rb.num_rows
    stats.rows += n
    table = pa.Table.from_batches([rb])
    cols = []
    usable = True
    for f in wanted:
        if f.name not in names:
            cols.append(pa.nulls(n, f.type))
            continue
        col = table.column(f.name)
        try:
            col = pa.chunked_array(
                [
                    _conform(pa, chunk, f.type, fields[f.name], plan.schema, props.get(f.name, {}), plan.enforce)
                    for chunk in col.chunks
                ],
                type=None
                if col.num_chunks
                else _target(pa, col.type, f.type, fields[f.name], plan.schema, props.get(f.name, {})),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, NotColumnar):
            usable = False
            break
        cols.append(col)
    extra = names - set(wanted.names)
    if extra and plan.enforce:
        usable = False  # keys the schema does not list: the per-record engine says so
    exact: Any = None
    if usable:
        t = pa.table(cols, names=wanted.names)
        df = _frame(plan, t, None, True)
        df = df.with_columns([pl.lit(f.name in names).alias(f"__top:{f.name}") for f in wanted])
        df = df.with_columns(
            pl.int_range(0, n, dtype=pl.Int64).alias("__pos"),
            pl.int_range(first, first + n, dtype=pl.Int64).alias("__lineno"),
            pl.lit(name, pl.String).alias("__file"),
        )
        try:
            exact, rest = _decide_frame(plan, df, as_of, lang)
            others = rest.to_list()
            if others:
                stats.fallback[_not_exact(plan)] += len(others)
        except _FAILURES as e:  # never a wrong answer: the per-record engine decides the batch
            stats.fallback[_failed(e)] += n
            exact, others = None, list(range(n))
    else:
        others = list(range(n))
        stats.fallback["a Parquet column whose type is not the record schema's"] += n
    held: list[Any] = []

    def records() -> list[tuple[InputRef, Any]]:
        if not held:
            held.append(_rows_of(read_parquet, rb, name, first, plan.schema or None))
        return held[0]  # type: ignore[no-any-return]  # the rows read once

    reference = _reference_rows(plan, ((i, *records()[i]) for i in others), as_of, lang) if others else []
    if exact is None:
        exact = _empty(plan)
    return Batch(_assemble(plan, exact, reference), lambda i: records()[i], lambda i: InputRef(name, first + i))


def _empty(plan: _Plan) -> Any:
    import polars as pl

    return (
        pl.DataFrame(pl.from_arrow(plan.columns.empty_table())).with_columns(pl.lit(0, pl.Int64).alias("__pos")).clear()
    )


def decide_records(
    decision: Any,
    items: Iterable[tuple[InputRef, Any]],
    *,
    as_of: _dt.date | None = None,
    lang: str = "zh",
    stats: ColumnarStats | None = None,
    batch: int = BATCH_LINES,
) -> Iterator[Batch]:
    """Records read by another reader (CSV and XLSX cells typed through the record schema, JSON
    arrays), each with its place, decided by columns: written as JSON text for the strict decoding of
    the JSON Lines path, while the per-record engine, where it decides, gets the records themselves
    (a record that could not be read, a BadRecord, is its error row).  The blank lines a reader
    notes (``InputNote``) are counted."""
    from engine.io.records import InputNote

    plan = columnar_decision(decision)
    stats = stats if stats is not None else ColumnarStats()
    held: list[tuple[InputRef, Any]] = []

    def flush() -> Batch:
        lines = [_as_line(record) for _ref, record in held]
        numbers = [ref.line for ref, _record in held]
        return _decide_lines(plan, held[0][0].file or "-", numbers, lines, as_of, lang, stats, list(held))

    for ref, record in items:
        if isinstance(record, InputNote):
            stats.blank += record.blank
            continue
        held.append((ref, record))
        if len(held) >= batch:
            yield flush()
            held = []
    if held:
        yield flush()


def _as_line(record: Any) -> bytes:
    """A record as one line of JSON text; one that JSON cannot hold as it is (a date a spreadsheet
    gave, a BadRecord) as a line that does not decode, so that the per-record engine decides it."""
    if not isinstance(record, dict):
        return b"-"
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError):
        return b"-"


def decide_table(
    decision: Any,
    table: Any,
    *,
    name: str,
    first_line: int = 1,
    as_of: _dt.date | None = None,
    lang: str = "zh",
    stats: ColumnarStats | None = None,
    batch: int = BATCH_LINES,
) -> Iterator[Any]:
    """The results tables of the records of an Arrow table (one record per row, read as a Parquet
    file's rows are: ``first_line`` the number of its first row), batch by batch."""
    plan = columnar_decision(decision)
    stats = stats if stats is not None else ColumnarStats()
    first = first_line
    for rb in table.to_batches(max_chunksize=batch):
        yield _decide_record_batch(plan, rb, name, first, as_of, lang, stats).table
        first += rb.num_rows


def _rows_of(read_parquet: Any, rb: Any, name: str, first: int, schema: Any) -> list[tuple[InputRef, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_batches([rb]), buf)
    buf.seek(0)
    return [(InputRef(name, first + ref.line - 1), rec) for ref, rec in read_parquet(buf, name, schema)]


def _conform(pa: Any, arr: Any, want: Any, kind: Type, root: Any, schema: Any, enforce: bool) -> Any:
    """A Parquet column's array in the layout the columns of a record type have: integers widened,
    text of any layout as text, dates kept as dates where the schema says date, a struct's fields
    in the schema's order, one the struct lacks (where the schema allows no null, which reads as
    absent) as nulls; NotColumnar for anything else (a field the schema does not list, with schema
    enforcement; one lacking where null would read as given)."""
    from engine.lang.types import resolve_ref as _resolve

    types = pa.types
    if isinstance(schema, dict):
        schema = _resolve(schema, root)
    kind = refine(schema, kind)
    t = arr.type
    if types.is_dictionary(t):
        arr = arr.dictionary_decode()
        t = arr.type
    if kind.kind == "object" and types.is_struct(t):
        fields = kind.fields()
        have = {t.field(i).name: i for i in range(t.num_fields)}
        if enforce and set(have) - set(fields):
            raise NotColumnar("a struct with a field the record schema does not list")
        props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
        wants = {want.field(i).name: want.field(i).type for i in range(want.num_fields)}
        children = []
        for name, ft in fields.items():
            if name in have:
                child = arr.field(have[name])
                children.append(_conform(pa, child, wants[name], ft, root, props.get(name, {}), enforce))
            elif not ft.nullable:
                children.append(pa.nulls(len(arr), _layout(pa, wants[name], ft)))
            else:
                raise NotColumnar("a struct lacking a field that may be null")
        mask = arr.is_null() if arr.null_count else None
        return pa.StructArray.from_arrays(children, names=list(fields), mask=mask)
    if kind.kind == "list" and kind.elem is not None and (types.is_list(t) or types.is_large_list(t)):
        items = schema.get("items", {}) if isinstance(schema, dict) else {}
        values = _conform(pa, arr.values, want.value_type, kind.elem, root, items, enforce)
        offsets = arr.offsets.cast(pa.int32()) if types.is_large_list(t) else arr.offsets
        return pa.ListArray.from_arrays(offsets, values, mask=arr.is_null() if arr.null_count else None)
    return arr.cast(_target(pa, t, want, kind, root, schema))


def _layout(pa: Any, want: Any, kind: Type) -> Any:
    """The Arrow type of a column of nulls standing for an absent field."""
    return pa.date32() if kind.kind == "date" else want


def _target(pa: Any, t: Any, want: Any, kind: Type, root: Any, schema: Any) -> Any:
    """The Arrow type a Parquet column of type ``t`` is read as, for a field of type ``kind``
    (``want`` its type from JSON): the same values, integers widened, text of any layout as
    text, dates kept as dates where the schema says date; NotColumnar for anything else."""
    from engine.lang.types import resolve_ref as _resolve

    types = pa.types
    if isinstance(schema, dict):
        schema = _resolve(schema, root)
    kind = refine(schema, kind)
    if types.is_dictionary(t):
        t = t.value_type
    k = kind.kind
    if k == "date" and types.is_date32(t):
        return pa.date32()
    if k in ("string", "date") and (types.is_string(t) or types.is_large_string(t) or types.is_string_view(t)):
        return pa.string()
    if k == "int" and types.is_integer(t) and not types.is_uint64(t):
        return pa.int64()
    if k == "bool" and types.is_boolean(t):
        return pa.bool_()
    if k == "list" and kind.elem is not None and (types.is_list(t) or types.is_large_list(t)):
        items = schema.get("items", {}) if isinstance(schema, dict) else {}
        return pa.list_(_target(pa, t.value_type, want.value_type, kind.elem, root, items))
    if k == "object" and types.is_struct(t):
        fields = kind.fields()
        have = {t.field(i).name: t.field(i).type for i in range(t.num_fields)}
        if set(have) != set(fields):
            raise NotColumnar("a struct column whose fields are not the record schema's")
        props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
        wants = {want.field(i).name: want.field(i).type for i in range(want.num_fields)}
        return pa.struct(
            [
                pa.field(name, _target(pa, have[name], wants[name], ft, root, props.get(name, {})))
                for name, ft in fields.items()
            ]
        )
    if types.is_null(t):
        return want
    raise NotColumnar("a column of another type than the record schema's")


def decide_bytes(
    decision: CompiledDecision,
    data: bytes,
    *,
    name: str = "<data>",
    as_of: _dt.date | None = None,
    fmt: str = "jsonl",
    lang: str = "zh",
    batch: int = BATCH_LINES,
) -> tuple[Any, Counter[str]]:
    """The results table of ``data`` (JSON Lines, or Parquet file bytes) and the rows decided per record, by reason."""
    import pyarrow as pa

    stats = ColumnarStats()
    stream = io.BytesIO(data[3:] if data.startswith(b"\xef\xbb\xbf") and fmt == "jsonl" else data)
    tables = list(
        decide_batches(decision, stream, name=name, fmt=fmt, as_of=as_of, lang=lang, stats=stats, batch=batch)
    )
    if not tables:
        return results_schema(decision).empty_table(), stats.fallback
    return pa.concat_tables(tables), stats.fallback


def reference_table(
    decision: CompiledDecision,
    data: bytes,
    *,
    name: str = "<data>",
    as_of: _dt.date | None = None,
    fmt: str = "jsonl",
    lang: str = "zh",
) -> Any:
    """The results table of ``data`` made by the per-record engine alone (what ``decide_bytes`` must equal)."""
    import pyarrow as pa

    from engine.io.report.parquet import results_table

    rows: list[dict[str, Any]] = []
    if fmt == "jsonl":
        from engine.io.records import read_jsonl

        items = read_jsonl(io.BytesIO(data[3:] if data.startswith(b"\xef\xbb\xbf") else data), name)
    else:
        from engine.io.parquetfile import read_parquet

        items = read_parquet(
            io.BytesIO(data), name, getattr(getattr(decision, "newest", decision), "record_schema", None)
        )
    for ref, rec in items:
        if not isinstance(rec, (dict, BadRecord)):
            continue  # a blank line
        if isinstance(rec, BadRecord):
            rows.append(error_row(decision, ref, rec.text(lang)))
        else:
            rows.append(decision_row(decision.evaluate(rec, as_of, ref), lang))
    _ = (pa, json)
    return results_table(decision, rows)
