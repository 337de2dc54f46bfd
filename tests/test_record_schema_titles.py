"""Labels of record fields for the workbench's form: ``x-title-zh`` and ``x-title-en``.

The Try page builds its form from the decision's record schema and labels each field with
``x-title-zh`` or ``x-title-en`` (``engine/serve/workbench/static/form.js``, ``labelOf``). Every
field of every bundled record schema has both: without them the Chinese page showed raw field names
(``citizenship``, ``kind``) or a term lifted from the description that named the rule rather than
the field (``省内`` for ``province``). The record check must take them, like every ``x-`` keyword,
for what they are: descriptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.recordcheck import compile_schema

ROOT = Path(__file__).resolve().parent.parent
DANCERS = ROOT / "plugins" / "rulebook-dancers" / "rulebook_dancers" / "rulebooks"
SCHEMAS = [*sorted((ROOT / "schemas" / "records").glob("*.schema.json")), DANCERS / "dancer-applicant.schema.json"]
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def fields(schema: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, schema) of every property at every depth: nested objects, list items, ``$defs``, and
    the parts of ``allOf``/``anyOf``/``oneOf`` and the ``then``/``else`` branches (an ``if`` and a
    ``not`` only test a value: their properties are not fields of the form)."""
    if not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        where = f"{path}.{name}" if path else name
        yield where, sub
        yield from fields(sub, where)
    for key in ("items", "additionalProperties", "then", "else"):
        yield from fields(schema.get(key), path)
    for key in ("prefixItems", "allOf", "anyOf", "oneOf"):
        for part in schema.get(key) or ():
            yield from fields(part, path)
    for key in ("$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            yield from fields(sub, f"{path}#{name}" if path else f"#{name}")


def test_every_bundled_schema_is_found() -> None:
    assert len(SCHEMAS) >= 11 and all(p.is_file() for p in SCHEMAS)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name.removesuffix(".schema.json"))
def test_every_field_has_a_label_in_each_language(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    found = list(fields(schema))
    assert found, f"{path.name}: no properties found"
    wrong = []
    for where, sub in found:
        zh = sub.get("x-title-zh") if isinstance(sub, dict) else None
        en = sub.get("x-title-en") if isinstance(sub, dict) else None
        if not (isinstance(zh, str) and zh.strip() and HAN.search(zh)):
            wrong.append(f"{where}: x-title-zh {zh!r} (a Chinese label is needed)")
        if not (isinstance(en, str) and en.strip() and not HAN.search(en)):
            wrong.append(f"{where}: x-title-en {en!r} (an English label without Chinese is needed)")
    assert not wrong, f"{path.name}:\n" + "\n".join(wrong)


def test_the_walk_reaches_nested_fields() -> None:
    """The walk itself: a field inside a list's items, an object, ``$defs`` and a ``then`` branch."""
    schema = {
        "properties": {
            "a": {"type": "array", "items": {"properties": {"b": {"properties": {"c": {}}}}}},
        },
        "$defs": {"d": {"properties": {"e": {}}}},
        "allOf": [{"if": {"properties": {"a": {"const": 1}}}, "then": {"properties": {"f": {}}}}],
    }
    assert [w for w, _ in fields(schema)] == ["a", "a.b", "a.b.c", "f", "#d.e"]


def test_extension_keywords_only_describe() -> None:
    """``x-`` keywords (the form's labels, or anyone's own) are annotations to the record check: they
    make no record wrong, even one that looks like a constraint, and keep the fast generated test."""
    from engine.recordcheck import _Fast

    plain: dict[str, Any] = {
        "type": "object",
        "required": ["a"],
        "properties": {
            "a": {"type": "integer", "minimum": 1},
            "b": {"type": "array", "items": {"type": "object", "properties": {"c": {"type": "string"}}}},
        },
    }
    labelled = json.loads(json.dumps(plain))
    labelled["x-note"] = {"type": "string"}
    for name in ("a", "b"):
        sub = labelled["properties"][name]
        sub.update({"x-title-zh": f"字段{name}", "x-title-en": f"Field {name}", "x-cell": {"maxLength": 0}})
    labelled["properties"]["b"]["items"]["properties"]["c"]["x-title-zh"] = "丙"
    assert _Fast(plain).build() is not None
    assert _Fast(labelled).build() is not None
    for schema in (plain, labelled):
        check = compile_schema(schema)
        assert check({"a": 2, "b": [{"c": "text"}]}) == ()
        assert [(v.code, v.path) for v in check({"a": 0, "b": [{"c": 3}]})] == [
            ("schema.minimum", "a"),
            ("schema.type", "b[0].c"),
        ]
