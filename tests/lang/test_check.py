"""Static checking: names, field paths against a record schema, functions, types, diagnostics and spans."""

from __future__ import annotations

from typing import Any

import pytest

from engine.lang.check import Checked, Scope, check_condition
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.parser import parse_condition
from engine.lang.types import Type, schema_type, type_of_value
from engine.source import Span

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "born": {"type": "string", "format": "date"},
        "left": {"type": ["string", "null"], "format": "date"},
        "n": {"type": "integer"},
        "x": {"type": "number"},
        "flag": {"type": "boolean"},
        "maybe": {"type": ["boolean", "null"]},
        "opt": {"type": ["string", "null"]},
        "cnt": {"type": "integer", "default": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
        "people": {
            "type": "array",
            "items": {"type": "object", "properties": {"ok": {"type": "boolean"}, "age": {"type": "integer"}}},
        },
        "addr": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
        "home": {"$ref": "#/$defs/place"},
        "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
        "any": {},
    },
    "$defs": {"place": {"type": ["object", "null"], "properties": {"street": {"type": "string"}}}},
}

FUNCTIONS = FunctionTable(STANDARD_FUNCTIONS)
PARAMS = {"min_age": 18, "kinds": ["a", "b"], "lim": 3}


def scope(values: dict[str, Type] | None = None) -> Scope:
    return Scope(
        schema_type(SCHEMA),
        FUNCTIONS,
        "thing",
        {k: (v, type_of_value(v)) for k, v in PARAMS.items()},
        dict(values or {}),
    )


def check(text: str, want_bool: str | None = None, values: dict[str, Type] | None = None) -> Checked:
    return check_condition(parse_condition(text), scope(values), want_bool=want_bool)


def span_of(text: str, token: str, nth: int = 0) -> Span:
    i = -1
    for _ in range(nth + 1):
        i = text.index(token, i + 1)
    return Span(i, i + len(token))


def only(c: Checked) -> Any:
    assert len(c.diagnostics) == 1, [(d.code, d.message) for d in c.diagnostics]
    return c.diagnostics[0]


# -- check.unknown-name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token", "help"),
    [
        ("reccord.n > 1", "reccord", "did you mean `record`?"),
        ("min_agee <= record.n", "min_agee", "did you mean `min_age`?"),
        ("as_off > record.born", "as_off", "did you mean `as_of`?"),
        ('record.tags.exists(tag, tga == "a")', "tga", "did you mean `tag`?"),
        ('name == "x"', "name", "record fields are written `record.name`"),
        ("qqqqq", "qqqqq", None),
    ],
    ids=["record", "parameter", "as_of", "macro-variable", "bare-field", "no-suggestion"],
)
def test_unknown_name(text: str, token: str, help: str | None) -> None:
    d = only(check(text))
    assert d.code == "check.unknown-name"
    assert d.span == span_of(text, token)
    assert f"`{token}`" in d.message
    assert d.help == help


def test_unknown_name_has_chinese_text() -> None:
    d = only(check("reccord.n > 1"))
    assert d.message_zh is not None and "reccord" in d.message_zh
    assert d.help_zh == "是否想写 `record`？"


def test_value_names_are_in_scope() -> None:
    c = check("age >= min_age", values={"age": Type("int")})
    assert c.ok
    assert ("value", "age") in c.refs and ("param", "min_age") in c.refs


# -- check.unknown-field -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token", "help", "owner"),
    [
        ('record.nam == "x"', "nam", "did you mean `name`?", "`thing`"),
        ('record.addr.cty == "x"', "cty", "did you mean `city`?", "`addr`"),
        ("record.people.all(p, p.okk)", "okk", "did you mean `ok`?", "`people[]`"),
        ("record.people[0].agee > 1", "agee", "did you mean `age`?", None),
        ("has(record.nme)", "nme", "did you mean `name`?", "`thing`"),
        ('record.home.stret == "x"', "stret", "did you mean `street`?", "`home`"),
    ],
    ids=["top-level", "nested-object", "array-items-macro", "array-items-index", "has", "ref"],
)
def test_unknown_field(text: str, token: str, help: str, owner: str | None) -> None:
    d = only(check(text))
    assert d.code == "check.unknown-field"
    assert d.span == span_of(text, token)
    assert f"`{token}`" in d.message
    assert d.help == help
    if owner is not None:
        assert d.message.endswith(f"in {owner}")


def test_unknown_field_without_close_match_lists_known_fields() -> None:
    d = only(check("record.zzzzzz == 1"))
    assert d.code == "check.unknown-field"
    assert d.help is not None and d.help.startswith("known fields: ")
    assert "`born`" in d.help and "`name`" in d.help


def test_unknown_field_of_indexed_array_item_does_not_blame_the_record() -> None:
    # `agee` is missing from the items of `people`, not from the record itself: the message
    # must not say the field is unknown "in `thing`" (the record kind), as it does for
    # `record.people.all(p, p.agee)` ("in `people[]`").
    d = only(check("record.people[0].agee > 1"))
    assert d.code == "check.unknown-field"
    assert "`thing`" not in d.message


def test_map_fields_are_not_checked() -> None:
    c = check("record.extra.anything > 1")
    assert c.ok
    assert str(c.type_of(c.node.left)) == "int"  # type: ignore[union-attr]


# -- check.unknown-function ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token", "help"),
    [
        ("sise(record.tags) > 1", "sise", "did you mean `size`?"),
        ("record.tags.sizee() > 1", "sizee", "did you mean `size`?"),
        ("full_year(record.born, as_of) > 1", "full_year", "did you mean `full_years`?"),
        ('__import__("os")', "__import__", None),
    ],
    ids=["global", "method", "domain-function", "python-builtin"],
)
def test_unknown_function(text: str, token: str, help: str | None) -> None:
    d = only(check(text))
    assert d.code == "check.unknown-function"
    assert d.span == span_of(text, token)
    assert d.help == help


# -- check.arity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token", "message"),
    [
        ("full_years(record.born) > 1", "full_years", "`full_years` takes 2 arguments, not 1"),
        ("size(record.tags, 1) > 1", "size", "`size` takes 1 argument, not 2"),
        (
            "working_days_after(record.born) == as_of",
            "working_days_after",
            "`working_days_after` takes 2 or 3 arguments, not 1",
        ),
        ('contains("ab", "a")', "contains", "`contains` cannot be called on its own"),
        ("record.born.full_years(as_of) > 1", "full_years", "`full_years` cannot be called as a method"),
    ],
    ids=["too-few", "too-many", "two-overloads", "method-only", "function-only"],
)
def test_arity(text: str, token: str, message: str) -> None:
    d = only(check(text))
    assert d.code == "check.arity"
    assert d.span == span_of(text, token)
    assert d.message == message


# -- check.type ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "fragment", "help"),
    [
        (
            'record.born < "2020-01-01"',
            None,
            "cannot order a date and a string",
            'write the date as `date("YYYY-MM-DD")`',
        ),
        ('record.born == "2020-01-01"', None, "never equal", 'write the date as `date("YYYY-MM-DD")`'),
        (
            "record.born + 1",
            None,
            "cannot apply `+` to a date and an int",
            "dates: use years_after(), months_after(), days_after() or full_years()",
        ),
        (
            "record.born + record.born",
            None,
            "cannot apply `+` to a date",
            "dates: use years_after(), months_after(), days_after() or full_years()",
        ),
        ("record.tags < record.tags", None, "cannot order a list(string) and a list(string)", None),
        (
            'record.opt < "a"',
            None,
            "cannot order a string or null",
            "the value may be null: test `x != null && ...` first",
        ),
        ('record.n == "5"', None, "`==` compares an int with a string", None),
        ("record.n + record.x", None, "cannot apply `+` to an int and a double", None),
        ("-record.name", None, "cannot negate a string", None),
        ("record.n.foo", None, "an int has no fields", None),
        ("record.n[0]", None, "cannot index an int", None),
        ('record.tags["a"]', '"a"', "a list index must be a number", None),
        ('"a" in record.n', "record.n", "`in` needs a list or map on the right", None),
        ("1 in record.tags", None, "an int is never in a list of string", None),
        ("record.n.all(v, true)", "record.n", "`all` needs a list or map", None),
        ("date(1)", None, "`date` cannot take (int)", "it takes (string); (date)"),
        ("years_after(record.born, 1.5)", None, "`years_after` cannot take (date, double)", "it takes (date, int)"),
    ],
    ids=[
        "date-lt-string",
        "date-eq-string",
        "date-plus-int",
        "date-plus-date",
        "order-lists",
        "order-nullable",
        "int-eq-string",
        "int-plus-double",
        "negate-string",
        "field-of-int",
        "index-int",
        "list-index-string",
        "in-int",
        "int-in-string-list",
        "macro-on-int",
        "date-of-int",
        "years-after-double",
    ],
)
def test_type(text: str, where: str | None, fragment: str, help: str | None) -> None:
    d = only(check(text))
    assert d.code == "check.type"
    assert d.span == (span_of(text, where) if where else Span(0, len(text)))
    assert fragment in d.message
    assert d.help == help


@pytest.mark.parametrize(
    "text",
    [
        'record.born < date("2020-01-01")',
        "record.born < as_of",
        "record.n < record.x",
        "1 == 1.0",
        "record.any == 1",
        "record.opt == null",
        "record.name in kinds",
        "years_after(record.born, 18) <= as_of",
        "record.born.years_after(18) <= as_of",
        "max(record.people.map(p, p.age)) > 1",
    ],
)
def test_well_typed(text: str) -> None:
    c = check(text)
    assert c.ok, [(d.code, d.message) for d in c.diagnostics]
    assert c.diagnostics == []


def test_null_test_suggested_by_the_help_is_accepted() -> None:
    # Ordering a nullable date is refused with the help "test `x != null && ...` first";
    # doing exactly that must then be accepted.
    d = only(check("record.left < as_of"))
    assert d.help == "the value may be null: test `x != null && ...` first"
    c = check("record.left != null && record.left < as_of")
    assert c.ok, [(d.code, d.message) for d in c.diagnostics]


# -- check.not-bool ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want", "where", "fragment"),
    [
        ("record.n", "`require`", "record.n", "`require` must be true or false, but this is an int"),
        ("record.opt", "`require`", "record.opt", "`require` must be true or false, but this is a string or null"),
        ("record.maybe", "`when`", "record.maybe", "`when` must be true or false"),
        ("!record.n", None, "record.n", "`!` (not) needs true or false"),
        ("record.n && true", None, "record.n", "`&&` (and) needs true or false"),
        ("record.flag || record.name", None, "record.name", "`||` (or) needs true or false"),
        ("record.tags.all(t, t)", None, "t)", "the predicate of `all` needs true or false"),
        ("record.n ? 1 : 2", None, "record.n", "the condition of `?:` needs true or false"),
    ],
    ids=["require-int", "require-nullable", "when-nullable-bool", "not", "and", "or", "macro", "conditional"],
)
def test_not_bool(text: str, want: str | None, where: str, fragment: str) -> None:
    d = only(check(text, want_bool=want))
    assert d.code == "check.not-bool"
    sp = span_of(text, where)
    if where.endswith(")"):
        sp = Span(sp.start, sp.end - 1)
    assert d.span == sp
    assert fragment in d.message


@pytest.mark.parametrize("text", ["record.flag", "record.any", "record.n > 1", 'record.tags.exists(t, t == "a")'])
def test_bool_requirements_are_accepted(text: str) -> None:
    assert check(text, want_bool="`require`").ok


# -- check.shadow --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "var"),
    [
        ("record.tags.all(record, true)", "record"),
        ("record.tags.exists(as_of, true)", "as_of"),
        ('record.tags.exists(lim, lim == "a")', "lim"),
        ('record.tags.exists(age, age == "a")', "age"),
    ],
    ids=["record", "as_of", "parameter", "named-value"],
)
def test_shadow(text: str, var: str) -> None:
    c = check(text, values={"age": Type("int")})
    codes = [d.code for d in c.diagnostics]
    assert "check.shadow" in codes
    d = c.diagnostics[codes.index("check.shadow")]
    start = text.index("(" + var) + 1
    assert d.span == Span(start, start + len(var))
    assert f"`{var}`" in d.message


def test_nested_macro_variables_may_differ() -> None:
    assert check('record.people.all(p, record.tags.exists(t, t == "a") || p.ok)').ok


# -- several at once -----------------------------------------------------------------------------


def test_several_diagnostics_at_once() -> None:
    text = 'reccord.n > 1 && sise(record.tags) > 1 && record.nam == "x" && record.born < "2020-01-01"'
    c = check(text)
    assert not c.ok
    got = [(d.code, d.span) for d in c.diagnostics]
    assert got == [
        ("check.unknown-name", span_of(text, "reccord")),
        ("check.unknown-function", span_of(text, "sise")),
        ("check.unknown-field", span_of(text, "nam")),
        ("check.type", span_of(text, 'record.born < "2020-01-01"')),
    ]


def test_errors_inside_an_unknown_call_are_still_reported() -> None:
    text = "sise(reccord.tags)"
    codes = sorted(d.code for d in check(text).diagnostics)
    assert codes == ["check.unknown-function", "check.unknown-name"]


# -- types of fields and expressions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("record.born", "date"),
        ("record.left", "date or null"),
        ("record.opt", "string or null"),
        ("record.n", "int"),
        ("record.x", "double"),
        ("record.flag", "bool"),
        ("record.maybe", "bool or null"),
        ("record.cnt", "int"),
        ("record.tags", "list(string)"),
        ("record.people.map(p, p.age)", "list(int)"),
        ("record.people.map(p, p.ok, p.age > 1)", "list(bool)"),
        ('record.tags.filter(t, t != "a")', "list(string)"),
        ("record.people.exists_one(p, p.ok)", "bool"),
        ("record.extra", "map(string, int)"),
        ("record.any", "dyn"),
        ("record.addr.city", "string"),
        ("record.home.street", "string"),
        ("size(record.tags)", "int"),
        ("years_after(record.born, 1)", "date"),
        ("max(record.people.map(p, p.age))", "int"),
        ("record.flag ? 1 : null", "int or null"),
        ('record.flag ? 1 : "a"', "dyn"),
        ("kinds", "list(string)"),
        ("lim", "int"),
        ('[1, "a"]', "list"),
        ("1u", "uint"),
        ("as_of", "date"),
    ],
)
def test_types_inferred(text: str, expected: str) -> None:
    c = check(text)
    assert c.ok, [(d.code, d.message) for d in c.diagnostics]
    assert str(c.type_of(c.node)) == expected


def test_field_defaults_are_part_of_the_type() -> None:
    c = check("record.cnt")
    t = c.type_of(c.node)
    assert t.has_default and t.default == 0
    c = check("record.n")
    assert not c.type_of(c.node).has_default


@pytest.mark.parametrize(
    ("schema", "kind", "nullable", "has_default", "default"),
    [
        ({"type": "string", "format": "date"}, "date", False, False, None),
        ({"type": ["string", "null"], "format": "date", "default": None}, "date", True, True, None),
        ({"type": "integer", "default": 0}, "int", False, True, 0),
        ({"type": "array", "items": {"type": "string"}, "default": []}, "list", False, True, []),
        ({"type": ["object", "null"], "properties": {}, "default": None}, "object", True, True, None),
        ({"type": "null"}, "null", False, False, None),
        ({"enum": ["a", "b"]}, "dyn", False, False, None),
        ({"type": ["string", "integer"]}, "dyn", False, False, None),
        (True, "dyn", False, False, None),
    ],
    ids=[
        "date",
        "nullable-date-default",
        "int-default",
        "list-default",
        "nullable-object",
        "null",
        "enum",
        "union",
        "true-schema",
    ],
)
def test_schema_type(schema: Any, kind: str, nullable: bool, has_default: bool, default: Any) -> None:
    t = schema_type(schema)
    assert (t.kind, t.nullable, t.has_default, t.default) == (kind, nullable, has_default, default)


def test_record_paths_and_refs() -> None:
    c = check('record.addr.city == "x" && lim > 1 && record.tags.exists(t, t in kinds)')
    assert c.ok
    assert c.record_paths == ["addr", "addr.city", "tags"]
    assert {("record", "record"), ("param", "lim"), ("param", "kinds")} <= c.refs
