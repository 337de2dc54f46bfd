"""Labels of record fields for the workbench's form: ``x-title-zh`` and ``x-title-en``.

The Try page builds its form from the decision's record schema and labels each field with
``x-title-zh`` or ``x-title-en`` (``engine/serve/workbench/static/form.js``, ``labelOf``). The
record check must take them, like every ``x-`` keyword, for what they are: descriptions.
"""

from __future__ import annotations

import json
from typing import Any

from engine.recordcheck import compile_schema


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
