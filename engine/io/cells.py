"""Spreadsheet rows (CSV, XLSX) to records, typed through the record JSON Schema.

A header row names the fields.  A column may name a nested field with dots:
``recommender.kind``; a number in the path is a position in a list, counted
from 1: ``introducers.1.is_member`` is the first introducer's ``is_member``.

Each cell is converted to the type the schema gives its field:

* integer / number: ``42``, ``3.5`` (a spreadsheet's numeric cells as they are);
* boolean: ``true``/``false``, ``yes``/``no``, ``y``/``n``, ``1``/``0``,
  ``是``/``否``, ``对``/``错``, ``√``/``×`` (case does not matter);
* date (``format: date``): ``2026-03-01``, ``2026/3/1``, ``2026.3.1``,
  ``2026年3月1日``, or a spreadsheet date cell;
* list of simple values: items separated by ``;``, ``；`` or ``、`` (``作曲;音乐教育``),
  or a JSON array;
* object or list of objects: a JSON value in the cell (``{"kind": "group_member_unit"}``),
  or dotted columns;
* ``null`` in a nullable field is null.

An empty cell leaves the field out, so the schema's default applies (or the
rule that needs it reports it missing).  A cell that does not fit its type is
an error naming the row, the column and what was expected; the record is then
reported unreadable and the feed goes on.  Columns the schema does not know
are kept as text; :func:`unknown_columns` finds them in a header (with the
nearest field name), so that a reader can say so once per file.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from typing import Any

from engine.messages import Text, msg

__all__ = ["CellError", "column_parts", "field_names", "row_to_record", "unknown_columns"]

_TRUE = {"true", "yes", "y", "1", "是", "对", "√", "✓", "t"}
_FALSE = {"false", "no", "n", "0", "否", "错", "×", "✗", "f"}
_DATE_FORMS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
]
_LIST_SPLIT = re.compile(r"[;；、\n]")


class CellError(ValueError):
    """A cell that does not fit the type of its field (``text``: the message in both languages)."""

    def __init__(self, column: str, text: Text) -> None:
        super().__init__(text.en)
        self.column = column
        self.text = text

    @property
    def message(self) -> str:
        return self.text.en

    @property
    def message_zh(self) -> str:
        return self.text.zh


def _resolve(schema: Any, root: Mapping[str, Any]) -> Any:
    for _ in range(20):
        if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
            target: Any = root
            for part in schema["$ref"][2:].split("/"):
                target = target.get(part, {}) if isinstance(target, Mapping) else {}
            schema = target
        else:
            break
    return schema


def _types(schema: Any) -> list[str]:
    t = schema.get("type") if isinstance(schema, Mapping) else None
    return [t] if isinstance(t, str) else list(t) if isinstance(t, list) else []


def _shown(cell: Any) -> str:
    text = str(cell)
    return text if len(text) <= 40 else text[:37] + "..."


def _to_date(cell: Any, column: str) -> str:
    if isinstance(cell, _dt.datetime):
        return cell.date().isoformat()
    if isinstance(cell, _dt.date):
        return cell.isoformat()
    text = str(cell).strip()
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            try:
                return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
            except ValueError:
                break
    raise CellError(column, msg("cell.date", cell=_shown(cell)))


def _to_int(cell: Any, column: str) -> int:
    if isinstance(cell, bool):
        raise CellError(column, msg("cell.int", cell=cell))
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    text = str(cell).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?\d+\.0+", text):
        return int(float(text))
    raise CellError(column, msg("cell.int", cell=_shown(cell)))


def _to_number(cell: Any, column: str) -> float | int:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return cell
    try:
        return float(str(cell).strip())
    except ValueError:
        raise CellError(column, msg("cell.number", cell=_shown(cell))) from None


def _to_bool(cell: Any, column: str) -> bool:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, (int, float)) and cell in (0, 1):
        return bool(cell)
    text = str(cell).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(column, msg("cell.bool", cell=_shown(cell)))


def _json(cell: Any, column: str, want: str) -> Any:
    try:
        value = json.loads(str(cell))
    except ValueError:
        raise CellError(column, msg("cell.json", cell=_shown(cell), want=msg(f"cell.want:{want}"))) from None
    return value


def convert(cell: Any, schema: Any, root: Mapping[str, Any], column: str) -> Any:
    """One cell as the value its schema describes."""
    schema = _resolve(schema, root)
    types = _types(schema)
    if isinstance(cell, str):
        cell = cell.strip()
        if cell.lower() == "null" and "null" in types:
            return None
    kinds = [t for t in types if t != "null"]
    kind = kinds[0] if len(kinds) == 1 else None
    if kind == "string":
        if isinstance(schema, Mapping) and schema.get("format") == "date":
            return _to_date(cell, column)
        if isinstance(cell, float) and cell.is_integer():
            return str(int(cell))
        return cell if isinstance(cell, str) else str(cell)
    if kind == "integer":
        return _to_int(cell, column)
    if kind == "number":
        return _to_number(cell, column)
    if kind == "boolean":
        return _to_bool(cell, column)
    if kind == "array":
        if isinstance(cell, str) and cell.startswith("["):
            value = _json(cell, column, "list")
            if not isinstance(value, list):
                raise CellError(column, msg("cell.list"))
            return value
        items = schema.get("items", {}) if isinstance(schema, Mapping) else {}
        if "object" in _types(_resolve(items, root)):
            raise CellError(column, msg("cell.object-list", column=column))
        parts = [p.strip() for p in _LIST_SPLIT.split(str(cell))] if not isinstance(cell, list) else cell
        return [convert(p, items, root, column) for p in parts if p != ""]
    if kind == "object":
        if isinstance(cell, str) and cell.startswith("{"):
            value = _json(cell, column, "object")
            if not isinstance(value, dict):
                raise CellError(column, msg("cell.object"))
            return value
        raise CellError(column, msg("cell.object-columns", column=column))
    return cell


def _sub_schema(schema: Any, root: Mapping[str, Any], part: str) -> Any:
    schema = _resolve(schema, root)
    if not isinstance(schema, Mapping):
        return {}
    if part.isdigit():
        return schema.get("items", {})
    return schema.get("properties", {}).get(part, {})


def _place(record: dict[str, Any], parts: list[str], value: Any, column: str) -> None:
    target: Any = record
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = parts[i + 1] if not last else None
        if isinstance(target, list):
            index = int(part) - 1
            if index < 0:
                raise CellError(column, msg("cell.position"))
            while len(target) <= index:
                target.append(None)
            if last:
                target[index] = value
            else:
                if target[index] is None:
                    target[index] = [] if nxt is not None and nxt.isdigit() else {}
                target = target[index]
        else:
            if last:
                target[part] = value
            else:
                if part not in target or not isinstance(target[part], (dict, list)):
                    target[part] = [] if nxt is not None and nxt.isdigit() else {}
                target = target[part]


# Fields every record may carry whether or not its schema lists them (read by the engine itself).
ALWAYS_KNOWN = ("waivers",)


def column_parts(name: str) -> list[str]:
    """The path a column names: ``introducers[2].is_member`` -> ``["introducers", "2", "is_member"]``."""
    return [p for p in str(name).strip().replace("[", ".").replace("]", "").split(".") if p]


def _fields(schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The named fields of an object schema, or None when it names none (any key fits)."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    return props if isinstance(props, Mapping) and props else None


def _paths(schema: Any, root: Mapping[str, Any], prefix: str, depth: int = 0) -> list[str]:
    """Every column name that maps to a field below ``schema`` (list positions written ``.1``)."""
    schema = _resolve(schema, root)
    if depth > 4 or not isinstance(schema, Mapping):
        return []
    out: list[str] = []
    fields = _fields(schema, root)
    if fields is not None:
        for name, sub in fields.items():
            out.append(prefix + name)
            out.extend(_paths(sub, root, prefix + name + ".", depth + 1))
    elif "array" in _types(schema) and isinstance(schema.get("items"), Mapping):
        out.extend(_paths(schema["items"], root, prefix + "1.", depth + 1))
    return out


def _nearest(wrong: str, choices: list[str]) -> str | None:
    import difflib

    lower = {c.lower(): c for c in reversed(choices)}
    close = difflib.get_close_matches(wrong.lower(), list(lower), n=1, cutoff=0.7)
    return lower[close[0]] if close else None


def _suggestion(parts: list[str], at: int, fitting: list[str], list_field: bool, everything: Any) -> str | None:
    """The column name most likely meant by ``parts``, whose part ``at`` no field has: the same
    name in another case; a list field given its first position; a nested field of that very
    name (``kind`` -> ``recommender.kind``); a name spelt nearly alike, beside it or anywhere."""

    def with_part(name: str) -> str:
        return ".".join([*parts[:at], name, *parts[at + 1 :]])

    wrong = parts[at].lower()
    same = [f for f in fitting if f.lower() == wrong]
    if same:
        return with_part(same[0])
    if list_field:
        return ".".join([*parts[:at], "1", *parts[at:]])
    if not fitting and at > 0:  # below a text, number or date field: the field itself
        return ".".join(parts[:at])
    paths: list[str] = everything()
    written = ".".join(parts).lower()
    below = [p for p in paths if p.lower().endswith("." + written)]
    if len(below) == 1:
        return below[0]
    close = _nearest(parts[at], fitting)
    if close is not None:
        return with_part(close)
    return _nearest(".".join(parts), paths)


def _unknown_part(parts: list[str], root: Mapping[str, Any]) -> tuple[int, list[str]] | None:
    """Where the path ``parts`` leaves the schema: (index of the first part no field has, the names
    that would fit there); None when every part maps to a field."""
    schema: Any = root
    for i, part in enumerate(parts):
        schema = _resolve(schema, root)
        if not isinstance(schema, Mapping):
            return None
        fields = _fields(schema, root)
        if fields is not None:
            if part not in fields:
                return i, list(fields)
            schema = fields[part]
        elif "array" in _types(schema):
            if not (part.isdigit() and int(part) >= 1):
                return i, ["1"]
            schema = schema.get("items", {})
        elif _types(schema) and not ({"object", "array"} & set(_types(schema))):
            return i, []  # a text, number, date or true/false field has no parts below it
        else:
            return None  # a schema that does not say: anything fits
    return None


def field_names(schema: Mapping[str, Any] | None) -> list[str]:
    """The names of the record's own fields (the columns a header may start with)."""
    fields = _fields(_resolve(schema, schema), schema) if schema is not None else None
    return list(fields) if fields is not None else []


def unknown_columns(
    header: list[str | None], schema: Mapping[str, Any] | None
) -> tuple[list[tuple[int, str, str | None]], int]:
    """The columns of a header row that name no field of the record schema, as (index in the
    row, column name, the nearest field's column name or None), and how many columns do
    name a field.  Without a schema every column is taken as it is."""
    if schema is None or _fields(_resolve(schema, schema), schema) is None:
        return [], sum(1 for h in header if h)
    unknown: list[tuple[int, str, str | None]] = []
    known = 0
    for index, name in enumerate(header):
        if not name:
            continue
        parts = column_parts(name)
        where = _unknown_part(parts, schema) if parts and parts[0] not in ALWAYS_KNOWN else None
        if where is None:
            known += 1
            continue
        at, fitting = where
        unknown.append(
            (
                index,
                str(name),
                _suggestion(
                    parts, at, [f for f in fitting if f != "1"], fitting == ["1"], lambda: _paths(schema, schema, "")
                ),
            )
        )
    return unknown, known


def row_to_record(header: list[str | None], row: list[Any], schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The record one spreadsheet row stands for. Raises CellError naming the column."""
    record: dict[str, Any] = {}
    root = schema or {}
    for name, cell in zip(header, row, strict=False):  # a row may be shorter or longer than the header
        if not name or cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        parts = column_parts(name)
        sub: Any = root
        for part in parts:
            sub = _sub_schema(sub, root, part)
        value = (
            convert(cell, sub, root, str(name))
            if schema is not None
            else (cell.strip() if isinstance(cell, str) else cell)
        )
        if isinstance(value, (_dt.date, _dt.datetime)):
            value = value.isoformat()[:10]
        _place(record, parts, value, str(name))
    # lists filled by position may have holes (e.g. only the 2nd introducer given)
    return record
