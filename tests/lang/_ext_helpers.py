"""Shared by the tests of the two-variable macros, optional values and ``cel.bind``: an expression
checked against a small record schema, then run by the compiler and by the reference interpreter,
which must agree."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.errors import EvalError
from engine.lang.check import Checked, Scope, check_condition
from engine.lang.compile import compile_condition
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.interp import interpret_condition
from engine.lang.parser import parse_condition
from engine.lang.types import schema_type, type_of_value

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "nickname": {"type": "string"},
        "born": {"type": "string", "format": "date"},
        "scores": {"type": "array", "items": {"type": "integer"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "roles": {"type": "object", "additionalProperties": {"type": "string"}},
        "recommender": {
            "type": ["object", "null"],
            "default": None,
            "properties": {"kind": {"type": "string"}, "name": {"type": "string"}},
        },
        "people": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}},
        },
        "any": {},
    },
}
PARAMS: dict[str, Any] = {"kinds": ["group_member_unit", "recognized_institution"], "lim": 3}
FUNCTIONS = FunctionTable(STANDARD_FUNCTIONS)
AS_OF = dt.date(2024, 1, 1)


def checked(text: str, rulebook: bool = True) -> Checked:
    params = {k: (v, type_of_value(v)) for k, v in PARAMS.items()}
    scope = Scope(schema_type(SCHEMA), FUNCTIONS, "applicant", params, rulebook=rulebook)
    return check_condition(parse_condition(text), scope)


def diagnostics(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in checked(text).diagnostics]


def _outcome(fn: Any, rec: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "value", fn(rec, AS_OF, {})
    except EvalError as e:
        return "error", e


def run(text: str, rec: dict[str, Any] | None = None) -> Any:
    """The value of ``text`` on ``rec``, or the ``EvalError``; compiler and interpreter must agree."""
    c = checked(text)
    assert c.ok, [(d.code, d.message) for d in c.diagnostics]
    rec = rec if rec is not None else {}
    compiled = _outcome(compile_condition(c, {}, PARAMS), rec)
    interpreted = _outcome(interpret_condition(c, {}, PARAMS), rec)
    assert compiled[0] == interpreted[0], (text, compiled, interpreted)
    if compiled[0] == "error":
        assert compiled[1].code == interpreted[1].code, (text, compiled, interpreted)
        assert compiled[1].path == interpreted[1].path, (text, compiled, interpreted)
    else:
        assert compiled[1] == interpreted[1] and type(compiled[1]) is type(interpreted[1]), (text, compiled)
    return compiled[1]


def error_code(text: str, rec: dict[str, Any] | None = None) -> str:
    result = run(text, rec)
    assert isinstance(result, EvalError), f"{text}: expected an error, got {result!r}"
    return result.code
