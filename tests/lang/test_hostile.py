"""Hostile expressions and records: refused, or stopped by a limit, never a hang or a leak.

Each expression here must end in one of: a syntax error, a check error, the
error value of a rule (``EvalError``, e.g. ``eval.cost-limit``), or a plain
CEL value.  Never another exception, a ``MemoryError``, a Python object of
the engine's internals in the result, or a long wait: every case runs under
a time bound.

* attribute escapes: ``__class__``, ``__globals__``, ``__import__``,
  ``getattr``, ``().__class__``, ``record.__dict__``, spelled as fields,
  methods, index strings, backtick-quoted fields and with Unicode
  look-alikes;
* very deep nesting of every construct (parser limits);
* nested macros over large lists, chained macros that grow their values,
  string and list doubling, references repeated in literals (the cost limit);
* big integers (64-bit checks, conversions of long digit strings, literals);
* Python's own limits: expressions nested deeper than Python can compile run
  in the interpreter instead.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from engine.build import build_rulebook
from engine.conformance import evaluate
from engine.errors import CheckError, ConditionSyntaxError, EvalError
from engine.lang import values as V
from engine.lang.check import Scope, check_condition
from engine.lang.compile import compile_condition
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.interp import interpret_condition
from engine.lang.parser import MAX_DEPTH, MAX_LENGTH, parse_condition
from engine.lang.types import schema_type
from engine.pluginmanager import get_calendar
from engine.source import Source

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "n": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "nums": {"type": "array", "items": {"type": "integer"}},
        "any": {},
        "addr": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
RECORD = {
    "name": "Ann",
    "n": 5,
    "tags": ["a", "b"],
    "nums": list(range(2000)),
    "any": {"k": "v"},
    "addr": {"city": "Harbin"},
}
FUNCTIONS = FunctionTable(STANDARD_FUNCTIONS).with_calendars({"CN": get_calendar("CN")})
TIME_LIMIT = 20.0  # seconds; a real hang would run for hours

_PLAIN = (bool, int, float, str, bytes, type(None), dt.date, V.UInt, V.Timestamp, V.Duration, V.CelType)


def assert_plain(value: Any, depth: int = 0) -> None:
    """The value is made of CEL values only."""
    assert depth < 200
    if isinstance(value, (list, tuple)):
        for v in value:
            assert_plain(v, depth + 1)
    elif isinstance(value, dict):
        for k, v in value.items():
            assert_plain(k, depth + 1)
            assert_plain(v, depth + 1)
    else:
        assert type(value) in _PLAIN, f"a {type(value).__name__} reached the result"


def run(text: str, rec: Any = RECORD, engine: str = "compiled") -> tuple[str, Any]:
    """Parse, check against SCHEMA, compile (or interpret) and evaluate: the stage that stopped it and why."""
    start = time.monotonic()
    try:
        node = parse_condition(text)
    except ConditionSyntaxError as e:
        return "syntax", e.diagnostics[0].code
    checked = check_condition(
        node, Scope(schema_type(SCHEMA), FUNCTIONS, "thing", {"limit": (3, schema_type({"type": "integer"}))})
    )
    if not checked.ok:
        return "check", checked.diagnostics[0].code
    build = interpret_condition if engine == "interpreter" else compile_condition
    fn = build(checked, {}, {"limit": 3})
    try:
        value = fn(rec, dt.date(2024, 1, 1), {})
    except EvalError as e:
        outcome: tuple[str, Any] = ("error", e.code)
    else:
        assert_plain(value)
        outcome = ("value", value)
    assert time.monotonic() - start < TIME_LIMIT, f"{text[:80]} took too long"
    return outcome


def run_cel(text: str, **bindings: Any) -> tuple[str, Any]:
    """The same in a plain CEL environment (no record), through the conformance adapter."""
    start = time.monotonic()
    try:
        value = evaluate(text, bindings)
    except ConditionSyntaxError as e:
        return "syntax", e.diagnostics[0].code
    except CheckError as e:
        return "check", e.diagnostics[0].code
    except EvalError as e:
        return "error", e.code
    finally:
        assert time.monotonic() - start < TIME_LIMIT, f"{text[:80]} took too long"
    return "value", value


# -- attribute escapes ------------------------------------------------------------------------------------

ESCAPES = [
    "record.__class__",
    "record.__dict__",
    "record.__class__.__bases__",
    "record.addr.__class__",
    "record.__globals__",
    "record.name.__class__",
    "record.tags.__len__()",
    "record.name.format()",
    "record.name.upper()",
    "record.get('name')",
    "record.any.__class__",
    "record.any.keys",
    "record.any.items()",
    "record.any.get('k')",
    "record.any.__init__.__globals__",
    'record["__class__"]',
    'record["__dict__"]',
    'record.any["__class__"]',
    'record.any["__globals__"]["__builtins__"]',
    "record.any.`__class__`",
    "record.`__dict__`",
    'record["__cl" + "ass__"]',
    'record.any[string(b"__class__")]',
    "__import__('os')",
    "__import__('os').system('true')",
    "getattr(record, '__class__')",
    "eval('1')",
    "exec('1')",
    "open('/etc/passwd')",
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__",
    "[].__class__",
    "{}.__class__",
    "size.__globals__",
    "type(1).__class__",
    "type(1).name",
    "dyn(type(1))['__class__']",
    "type(type).__subclasses__()",
    "int.__subclasses__()",
    "record.__сlass__",  # Cyrillic с
    "record.ｎame",  # full-width n
    "record.__class\u200b__",  # zero-width space
    "__builtins__",
    "_E",
    "rec",
    "ctx",
    "_cost",
    "self",
    "globals()",
    "vars(record)",
    "[1].map(x, x.__class__)",
    "[record].map(r, r['__class__'])",
    "{'__class__': 1}.__class__",
    "has(record.__class__)",
    "has(record.any.__class__)",
]


@pytest.mark.parametrize("text", ESCAPES)
@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_attribute_escapes(text: str, engine: str) -> None:
    stage, detail = run(text, engine=engine)
    if stage == "value":
        # only a CEL value can come out (e.g. has() is false, a map built by the expression)
        assert_plain(detail)
    else:
        assert stage in ("syntax", "check", "error")
        assert detail.startswith(("syntax.", "check.", "eval."))


@pytest.mark.parametrize("text", [e for e in ESCAPES if "record" not in e])
def test_attribute_escapes_in_plain_cel(text: str) -> None:
    stage, detail = run_cel(text)
    assert stage in ("syntax", "check", "error", "value")
    if stage == "value":
        assert_plain(V.TYPES.get(detail.name) if type(detail).__name__ == "CelType" else detail)


def test_a_record_key_named_like_an_internal_is_just_data() -> None:
    rec = {**RECORD, "any": {"__class__": 5, "__dict__": "x"}}
    assert run('record.any["__class__"] + 1', rec) == ("value", 6)
    assert run("record.any.`__dict__`", rec) == ("value", "x")


def test_generated_code_has_no_builtins_and_no_attribute_by_name() -> None:
    checked = check_condition(parse_condition('record.any["__class__"]'), Scope(schema_type(SCHEMA), FUNCTIONS))
    fn = compile_condition(checked)
    assert fn.__globals__["__builtins__"] == {}
    from engine.lang.compile import python_source

    source = python_source(fn)
    assert "__class__" not in source.replace("'__class__'", "") or "_index" in source


# -- deep nesting -------------------------------------------------------------------------------------------

N = 5000


@pytest.mark.parametrize(
    "text",
    [
        "(" * N + "1" + ")" * N,
        "[" * N + "1" + "]" * N,
        "{1: " * N + "1" + "}" * N,
        "-" * N + "1",
        "!" * N + "true",
        "not " * N + "true",
        "record" + ".a" * N,
        "record.tags" + "[0]" * N,
        "size(" * N + "'a'" + ")" * N,
        " + ".join(["1"] * N),
        " && ".join(["true"] * N),
        " || ".join(["false"] * N),
        "true ? " * N + "1" + " : 2" * N,
        "".join(f"[1].all(a{i}, " for i in range(N // 10)) + "true" + ")" * (N // 10),
        "record.tags" + ".map(x, x)" * N,
        "1" * (MAX_LENGTH + 1),
        "[" + ", ".join(["1"] * (MAX_LENGTH // 3 + 1)) + "]",
    ],
    ids=[
        "parens",
        "lists",
        "maps",
        "neg",
        "bang",
        "not",
        "select",
        "index",
        "calls",
        "plus",
        "and",
        "or",
        "conditional",
        "macros",
        "chained-macros",
        "long-number",
        "long-list",
    ],
)
def test_deep_or_long_expressions_are_refused(text: str) -> None:
    stage, code = run(text)
    assert (stage, code) in (("syntax", "syntax.too-deep"), ("syntax", "syntax.too-long"))


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = MAX_DEPTH // 2
    assert run("(" * depth + "1" + ")" * depth) == ("value", 1)
    assert run(" + ".join(["1"] * 40)) == ("value", 40)


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_macros_nested_beyond_pythons_block_limit_still_run(engine: str) -> None:
    # Python refuses more than 20 nested blocks; such an expression is walked by the interpreter.
    text = "".join(f"[1, 2].exists(a{i}, " for i in range(30)) + "a29 == 2" + ")" * 30
    assert run(text, engine=engine) == ("value", True)
    text = "".join(f"[1].all(a{i}, " for i in range(40)) + "a39 == 1" + ")" * 40
    assert run(text, engine=engine) == ("value", True)


# -- the cost limit -------------------------------------------------------------------------------------------

BIG = "[" + ", ".join(str(i) for i in range(1000)) + "]"


@pytest.mark.parametrize(
    "text",
    [
        f"{BIG}.map(x, {BIG}.map(y, x + y))",
        f"{BIG}.all(x, {BIG}.all(y, true))",
        f"{BIG}.exists(x, {BIG}.exists(y, {BIG}.exists(z, false)))",
        f"{BIG}.filter(x, {BIG}.exists_one(y, y == x)).size() > 0",
        "record.nums.all(x, record.nums.all(y, x + y >= 0))",
        "record.nums.map(x, record.nums.filter(y, y < x)).size()",
        "".join(f"[1, 2, 3, 4].exists(a{i}, " for i in range(12)) + "false" + ")" * 12,
        "['abcdefghijklmnop'].map(x, x + x)" + ".map(x, x + x)" * 60,
        "[record.name].map(x, x + x + x + x)" + ".map(x, x + x + x + x)" * 40,
        "[b'abcdefgh'].map(x, x + x)" + ".map(x, x + x)" * 60,
        "[[1, 2]].map(x, x + x)" + ".map(x, x + x)" * 60,
        "[[1]].map(x, [x, x, x, x, x, x, x, x])" + ".map(y, [y, y, y, y, y, y, y, y])" * 30,
        "['ab'].map(x, {'a': x, 'b': x, 'c': x, 'd': x})" + ".map(y, {'a': y, 'b': y, 'c': y, 'd': y})" * 30,
        "[record.tags].map(t, [t, t, t, t, t, t, t, t, t, t])" + ".map(u, [u, u, u, u, u, u, u, u, u, u])" * 20,
        '["foo","bar"].map(x, [x+x,x+x]).map(x, [x+x,x+x])' + ".map(x, [x+x,x+x])" * 40,
        "record.nums.map(x, string(x)).map(s, s + s)" + ".map(s, s + s)" * 30,
    ],
    ids=[
        "map-in-map",
        "all-in-all",
        "exists-cubed",
        "filter-exists-one",
        "record-nested",
        "record-map-filter",
        "exists-12-deep",
        "string-doubling",
        "record-string-4x",
        "bytes-doubling",
        "list-doubling",
        "list-literal-fanout",
        "map-literal-fanout",
        "record-list-fanout",
        "spec-example",
        "strings-of-record",
    ],
)
@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_costly_expressions_stop_at_the_limit(text: str, engine: str) -> None:
    assert run(text, engine=engine) == ("error", "eval.cost-limit")


@pytest.mark.parametrize("engine", ["compiled", "interpreter"])
def test_scans_inside_macros_are_charged(engine: str) -> None:
    long_text = "x" * 400_000
    rec = {**RECORD, "name": long_text, "tags": ["y" * 400_000] * 2, "nums": list(range(3000))}
    for text in [
        "record.nums.all(i, record.name.contains('z') == false)",
        "record.nums.all(i, record.name != record.tags[0])",
        "record.nums.all(i, record.name.matches('z') == false)",
        "record.nums.all(i, !(record.name in record.tags))",
        "record.nums.exists(i, string(bytes(record.name)) == 'z')",
    ]:
        assert run(text, rec, engine) == ("error", "eval.cost-limit"), text
    # the same scans outside macros, or of constants, are cheap and fine
    assert run("record.name.contains('z')", rec, engine) == ("value", False)
    assert run("record.nums.all(i, 'abc'.contains('z') == false)", rec, engine) == ("value", True)


def test_cost_error_wins_over_absorbing_values() -> None:
    # `true || <too costly>`: the budget is spent anyway, so the result is the cost error
    text = f"true || {BIG}.all(x, {BIG}.all(y, true))"
    assert run(text) == ("value", True)  # the right side is never evaluated: || stops at true
    text = f"{BIG}.all(x, {BIG}.all(y, true)) || true"
    assert run(text) == ("error", "eval.cost-limit")
    assert run(text, engine="interpreter") == ("error", "eval.cost-limit")


def test_within_the_budget_is_fine() -> None:
    assert run(f"{BIG}.map(x, x * 2).size()") == ("value", 1000)
    assert run("record.nums.filter(x, x % 2 == 0).size()") == ("value", 1000)
    assert run(f"{BIG[:200]}].all(x, {BIG[:200]}].all(y, x + y >= 0))".replace(", ]", "]")) == ("value", True)


def test_a_costly_rule_is_an_error_of_that_rule_only() -> None:
    text = """
rulebook: 1
id: test/hostile
version: "2024-01-01"
status: in_force
effective_from: 2024-01-01
title: {zh: 测试, en: test}
source: {title: 测试}
decisions:
  d:
    record: hostile.schema.json
    rules:
      - id: costly
        article: 1
        cite: 第一条
        require: 'record.nums.all(x, record.nums.all(y, x + y >= 0))'
        message: {zh: 太贵, en: too costly}
      - id: cheap
        article: 2
        cite: 第二条
        require: 'record.nums.exists(x, x == 7)'
        message: {zh: 没有 7, en: no 7}
"""
    import json
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hostile.schema.json").write_text(
            json.dumps({"type": "object", "properties": {"nums": {"type": "array", "items": {"type": "integer"}}}}),
            encoding="utf-8",
        )
        book = build_rulebook(Source("hostile.yaml", text), base_dir=Path(tmp))
    decision = book.decision("d").evaluate({"nums": list(range(3000))}, "2024-06-01")
    statuses = {r.id: (str(r.status), r.error.code if r.error else None) for r in decision.rules}
    assert statuses == {"costly": ("error", "eval.cost-limit"), "cheap": ("pass", None)}
    assert str(decision.outcome) == "indeterminate"
    assert "too costly" in (decision.rule("costly").message("en") or "")


# -- big numbers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9223372036854775807 * 9223372036854775807", ("error", "eval.overflow")),
        ("-9223372036854775808 * -1", ("error", "eval.overflow")),
        ("9223372036854775807 + 1", ("error", "eval.overflow")),
        ("18446744073709551615u * 18446744073709551615u", ("error", "eval.overflow")),
        ("record.n * 9223372036854775807", ("error", "eval.overflow")),
        ("9223372036854775808", ("syntax", "syntax.int-range")),
        ("18446744073709551616u", ("syntax", "syntax.int-range")),
        ("9" * 10_000, ("syntax", "syntax.int-range")),
        ("0x" + "f" * 10_000, ("syntax", "syntax.int-range")),
        ("1e99999", ("syntax", "syntax.double-range")),
        ("int('" + "9" * 10_000 + "')", ("error", "eval.bad-conversion")),
        ("uint('" + "9" * 10_000 + "')", ("error", "eval.bad-conversion")),
        ("double('" + "9" * 10_000 + "')", ("error", "eval.bad-conversion")),
        ("int('99999999999999999999')", ("error", "eval.overflow")),
        ("int(1e300)", ("error", "eval.overflow")),
        ("uint(-1)", ("error", "eval.overflow")),
        ("1e308 * 10.0 > 0.0", ("value", True)),
        ("duration('99999999999999999999999999h')", ("error", "eval.overflow")),
        ("timestamp(9223372036854775807)", ("error", "eval.overflow")),
        ("[1, 2, 3][9223372036854775807]", ("error", "eval.index-out-of-range")),
    ],
)
def test_big_numbers(text: str, expected: tuple[str, str]) -> None:
    got = run(text)
    assert got[0] == expected[0] and (got[1] == expected[1] or expected[0] == "value")


def test_huge_numbers_in_the_record() -> None:
    rec = {**RECORD, "n": 10**400, "any": 10**400}
    assert run("record.n + 1 > 0", rec) == ("error", "eval.overflow")
    assert run("record.any == 1.0", rec) == ("value", False)
    assert run("record.any > 1.0", rec) == ("value", True)
    assert run("string(record.any) != ''", rec)[0] in ("value", "error")
