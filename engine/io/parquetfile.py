"""Records from a Parquet file: one per row, in batches, with the row number as the line.

``read_parquet(source, name)`` is what ``engine.io.records`` uses for ``.parquet``
and ``.pq`` files (and ``--input-format parquet``).  The file is read a batch of
rows at a time (``pyarrow.parquet.ParquetFile.iter_batches``), so memory does not
grow with the file.  Each row becomes the dict a JSON feed would carry for it:

* every column is a key; a null value is the key with ``None`` (Parquet has no
  "absent": a record written with a field missing and one with it null read the same);
* integers are ``int``, floats ``float``, booleans ``bool``, strings ``str``;
* dates (``date32``, ``date64``) are ISO text ``YYYY-MM-DD``, so a record schema's
  ``format: date`` reads them as it reads a JSON feed's; timestamps are ISO 8601
  text (``2026-03-01T08:30:00+08:00``), times of day ``HH:MM:SS[.ffffff]``;
* lists and structs are lists and dicts, converted the same way all the way down.

A column of a type records cannot hold (decimal, binary, map, duration, ...) is a
usage error naming the file and the column and saying how to store it instead,
raised before any row is read.  ``pyarrow`` is imported only here, when a Parquet
file is read; without it the error says which extra to install.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from engine.errors import Diagnostic, UsageError
from engine.evaluate import InputRef
from engine.io.terminal import escape_controls
from engine.messages import msg

__all__ = ["BATCH_ROWS", "allows_null", "read_parquet"]

#: rows converted to records at a time (a few MB of Python objects for typical records)
BATCH_ROWS = 4096

Fix = Callable[[Any], Any]


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(Diagnostic.of("usage.missing-package:parquet")) from None
    return pyarrow


def read_parquet(
    source: Any, name: str, record_schema: Mapping[str, Any] | None = None
) -> Iterator[tuple[InputRef, dict[str, Any]]]:
    """Every row of the Parquet file ``source`` (a path, a binary file or the bytes) as a record, with
    ``InputRef(name, row number)`` (1-based).

    With the decision's ``record_schema``, a null where the schema does not allow null (at any
    depth) is the field's absence: the key is left out, so that its default applies, as for a
    JSON record that does not give it; where the schema allows null, null is a null given.

    Raises:
        UsageError: pyarrow is not installed, the file is not Parquet, a column has a type
            records cannot hold, or the file cannot be read part way through.
    """
    pa = _pyarrow()
    schema_of_records = record_schema
    shown = escape_controls(name)
    if isinstance(source, bytes):
        source = pa.BufferReader(source)
    try:
        pf = pa.parquet.ParquetFile(source)
    except (pa.ArrowException, OSError) as e:  # Arrow's errors of a damaged file are OSErrors too
        raise UsageError(Diagnostic.of("usage.not-parquet", path=shown, reason=str(e))) from None
    schema = pf.schema_arrow
    target = pa.schema([pa.field(f.name, _target_type(pa, f.type, shown, f.name)) for f in schema])
    fixes = [(f.name, fix) for f in schema if (fix := _fixer(pa, f.type)) is not None]
    absent = _absent_nulls(schema_of_records, schema_of_records) if schema_of_records is not None else None
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=BATCH_ROWS):
            records = pa.Table.from_batches([batch]).cast(target).to_pylist()
            for key, fix in fixes:
                for record in records:
                    record[key] = fix(record[key])
            if absent is not None:
                for record in records:
                    absent(record)
            for record in records:
                row += 1
                yield InputRef(name, row), record
    except (pa.ArrowException, OSError) as e:  # Arrow's errors of a damaged file are OSErrors too
        raise UsageError(
            Diagnostic(
                "usage.unreadable",
                msg("usage.unreadable:parquet", path=shown, row=row + 1, reason=str(e)),
                help=msg("usage.unreadable:parquet/help"),
            )
        ) from None


def _target_type(pa: Any, t: Any, file: str, column: str) -> Any:
    """The type column ``column`` is read as: temporal values as text, everything else as it
    is; a type records cannot hold raises the usage error naming it."""
    types = pa.types
    if types.is_date(t) or types.is_timestamp(t) or types.is_time(t):
        return pa.string()
    if (
        types.is_null(t)
        or types.is_boolean(t)
        or types.is_integer(t)
        or types.is_float32(t)
        or types.is_float64(t)
        or types.is_string(t)
        or types.is_large_string(t)
        or _is(types, "is_string_view", t)
    ):
        return t
    if types.is_float16(t):
        return pa.float64()
    if types.is_dictionary(t):
        return _target_type(pa, t.value_type, file, column)
    if types.is_list(t) or types.is_large_list(t) or types.is_fixed_size_list(t) or _is(types, "is_list_view", t):
        return pa.list_(_target_type(pa, t.value_type, file, column))
    if types.is_struct(t):
        return pa.struct([pa.field(f.name, _target_type(pa, f.type, file, f"{column}.{f.name}")) for f in _fields(t)])
    variant = "decimal" if types.is_decimal(t) else "binary" if _binary(types, t) else "other"
    raise UsageError(
        Diagnostic(
            "usage.parquet-column-type",
            msg("usage.parquet-column-type", path=file, column=escape_controls(column), type=str(t)),
            help=msg(f"usage.parquet-column-type/help:{variant}"),
        )
    )


def _is(types: Any, name: str, t: Any) -> bool:
    test = getattr(types, name, None)  # newer pyarrow only
    return bool(test(t)) if test is not None else False


def _binary(types: Any, t: Any) -> bool:
    return bool(
        types.is_binary(t)
        or types.is_large_binary(t)
        or types.is_fixed_size_binary(t)
        or _is(types, "is_binary_view", t)
    )


def _fields(t: Any) -> list[Any]:
    return [t.field(i) for i in range(t.num_fields)]


def _fixer(pa: Any, t: Any) -> Fix | None:
    """What turns a value of type ``t`` (read through :func:`_target_type`) into its record
    value, when text Arrow wrote needs a touch (timestamps); None when nothing does."""
    types = pa.types
    if types.is_dictionary(t):
        return _fixer(pa, t.value_type)
    if types.is_timestamp(t):
        return _iso_timestamp
    if types.is_list(t) or types.is_large_list(t) or types.is_fixed_size_list(t) or _is(types, "is_list_view", t):
        inner = _fixer(pa, t.value_type)
        if inner is None:
            return None
        return lambda v: v if v is None else [inner(x) for x in v]
    if types.is_struct(t):
        parts = [(f.name, fix) for f in _fields(t) if (fix := _fixer(pa, f.type)) is not None]
        if not parts:
            return None

        def fix_struct(v: Any) -> Any:
            if v is not None:
                for key, fix in parts:
                    v[key] = fix(v[key])
            return v

        return fix_struct
    return None


def allows_null(schema: Any, root: Mapping[str, Any] | None = None) -> bool:
    """Whether a value of ``schema`` may be null (an untyped one may)."""
    if isinstance(schema, Mapping) and "$ref" in schema and root is not None:
        from engine.lang.types import resolve_ref as _resolve

        schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return True
    kinds = schema.get("type")
    if kinds is not None:
        return kinds == "null" or (isinstance(kinds, list) and "null" in kinds)
    if "enum" in schema:
        return None in (schema.get("enum") or ())
    if "const" in schema:
        return schema["const"] is None
    return True


def _absent_nulls(schema: Any, root: Mapping[str, Any]) -> Callable[[Any], None] | None:
    """What takes out of a record (in place) the keys whose null the schema does not allow, at every depth."""
    from engine.lang.types import resolve_ref as _resolve

    if isinstance(schema, Mapping):
        schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return None
    props = schema.get("properties")
    if isinstance(props, Mapping) and props:
        plain = [k for k, sub in props.items() if not allows_null(sub, root)]
        inner = [(k, f) for k, sub in props.items() if (f := _absent_nulls(sub, root)) is not None]

        def on_object(v: Any) -> None:
            if not isinstance(v, dict):
                return
            for k in plain:
                if k in v and v[k] is None:
                    del v[k]
            for k, f in inner:
                x = v.get(k)
                if x is not None:
                    f(x)

        return on_object
    items = schema.get("items")
    if isinstance(items, Mapping):
        each = _absent_nulls(items, root)
        if each is not None:

            def on_list(v: Any) -> None:
                if isinstance(v, list):
                    for x in v:
                        each(x)

            return on_list
    return None


def _iso_timestamp(text: str | None) -> str | None:
    """Arrow's text of a timestamp (``2026-03-01 08:30:00+0800``) in ISO 8601's extended form
    (``2026-03-01T08:30:00+08:00``)."""
    if text is None:
        return None
    text = text.replace(" ", "T", 1)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return text
