"""Tests of engine.lang.printer: canonical text and parse/print round trips."""

from __future__ import annotations

import math

import pytest

from engine.lang.ast import Binary, Call, Ident, Literal, Node, Select, Unary
from engine.lang.parser import parse_condition
from engine.lang.printer import format_expr

CANONICAL = [
    # spelling and spacing
    ("words", "a and b or not c", "a && b || !c"),
    ("spacing", "a+b*c", "a + b * c"),
    ("comment-and-lines", "a // x\n &&\n b", "a && b"),
    ("trailing-commas", "f(a, [1, 2,], {1: 2,},)", "f(a, [1, 2], {1: 2})"),
    # parentheses only where needed
    ("redundant-parens", "((a)) && (b)", "a && b"),
    ("or-in-and", "(a || b) && c", "(a || b) && c"),
    ("and-in-or", "a || (b && c)", "a || b && c"),
    ("left-assoc", "(a - b) - c", "a - b - c"),
    ("right-group", "a - (b - c)", "a - (b - c)"),
    ("mul-in-add", "a + (b * c)", "a + b * c"),
    ("add-in-mul", "(a + b) * c", "(a + b) * c"),
    ("relations", "(a < b) == (c < d)", "a < b == (c < d)"),
    ("not-of-relation", "!(a == b)", "!(a == b)"),
    ("not-of-member", "!(a.b)", "!a.b"),
    ("neg-of-neg", "-(-a)", "--a"),
    ("member-of-sum", "(a + b).c", "(a + b).c"),
    ("member-of-neg", "(-a).b", "(-a).b"),
    ("index-of-cond", "(a ? b : c)[0]", "(a ? b : c)[0]"),
    ("cond-right", "a ? b : (c ? d : e)", "a ? b : c ? d : e"),
    ("cond-in-cond", "(a ? b : c) ? (d ? e : f) : g", "(a ? b : c) ? (d ? e : f) : g"),
    ("cond-in-call", "f(a ? b : c)", "f(a ? b : c)"),
    ("cond-in-binary", "(a ? b : c) + 1", "(a ? b : c) + 1"),
    # literals
    ("int", "42", "42"),
    ("hex", "0x1F", "31"),
    ("uint", "0x1Fu", "31u"),
    ("double", "1.0", "1.0"),
    ("double-short", ".5", "0.5"),
    ("double-exp", "1e100", "1e+100"),
    ("double-small", "1.5e-7", "1.5e-07"),
    ("double-from-exp", "1e3", "1000.0"),
    ("min-int", "-9223372036854775808", "-9223372036854775808"),
    ("min-int-member", "(-9223372036854775808).f()", "(-9223372036854775808).f()"),
    ("min-int-sub", "1 - -9223372036854775808", "1 - -9223372036854775808"),
    ("neg-int", "-5", "-5"),
    ("single-quoted", "'it\"s'", '"it\\"s"'),
    ("escapes", r'"a\tb\nc\\d"', r'"a\tb\nc\\d"'),
    ("control", r'"\x00\a\v\x7f"', r'"\x00\a\v\x7f"'),
    ("invisible", r'"\u200b\u2028"', r'"\u200b\u2028"'),
    ("cjk", '"中文 ok"', '"中文 ok"'),
    ("astral", r'"\U0001F600"', '"\U0001f600"'),
    ("raw", r"r'\d+'", r'"\\d+"'),
    ("triple", '"""a\n"b"\n"""', '"a\\n\\"b\\"\\n"'),
    ("bytes", "b'abc'", 'b"abc"'),
    ("bytes-utf8", 'b"中"', r'b"\xe4\xb8\xad"'),
    ("bytes-escapes", r'b"\377\x00\n\"\\"', r'b"\xff\x00\n\"\\"'),
    ("bool-null", "[true, false, null]", "[true, false, null]"),
    # names, calls, macros
    ("root-ident", ".a.b", ".a.b"),
    ("root-call", ".f(x)", ".f(x)"),
    ("has", "has(a.b.c)", "has(a.b.c)"),
    ("has-of-index", "has(a[0].b)", "has(a[0].b)"),
    ("all", "xs.all(x, x > 0)", "xs.all(x, x > 0)"),
    ("map-3", "xs.map(x, x > 0, x * 2)", "xs.map(x, x > 0, x * 2)"),
    ("macro-chain", "xs.filter(i, i.ok).size() >= 2", "xs.filter(i, i.ok).size() >= 2"),
    ("map-literal", '{"a": 1, "b": [2]}', '{"a": 1, "b": [2]}'),
    ("in", "x in [1, 2]", "x in [1, 2]"),
    ("int-member", "1.f", "1.f"),
    (
        "example",
        "!record.history.exists(h, h.event in short_ban_events && h.date <= as_of && as_of < years_after(h.date, 3))",
        "!record.history.exists(h, h.event in short_ban_events && h.date <= as_of && as_of < years_after(h.date, 3))",
    ),
]


@pytest.mark.parametrize(("text", "canonical"), [c[1:] for c in CANONICAL], ids=[c[0] for c in CANONICAL])
def test_canonical_form_and_round_trip(text: str, canonical: str) -> None:
    node = parse_condition(text)
    printed = format_expr(node)
    assert printed == canonical
    assert parse_condition(printed) == node
    assert format_expr(parse_condition(printed)) == printed


def test_doubles_read_back_as_doubles() -> None:
    for value in (0.0, 1.0, 2.5, 1e16, 1e-300, 5e-324, 1.7976931348623157e308, 123456789.0):
        node = parse_condition(format_expr(Literal(value, "double")))
        assert node == Literal(value, "double") and type(node.value) is float  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_double_cannot_be_printed(value: float) -> None:
    with pytest.raises(ValueError):
        format_expr(Literal(value, "double"))


BUILT = [
    ("neg-literal-operand", Select(Literal(-3, "int"), "f"), "(-3).f"),
    ("neg-literal-in-mul", Binary("*", Literal(-3, "int"), Ident("a")), "-3 * a"),
    ("unary-of-binary", Unary("-", Binary("+", Ident("a"), Ident("b"))), "-(a + b)"),
    ("uint", Literal(7, "uint"), "7u"),
    ("bytes", Literal(b"\x01a", "bytes"), 'b"\\x01a"'),
    ("call-target", Call("size", (), Binary("+", Ident("a"), Ident("b"))), "(a + b).size()"),
    ("double-int-value", Literal(2, "double"), "2.0"),
]


@pytest.mark.parametrize(("node", "text"), [b[1:] for b in BUILT], ids=[b[0] for b in BUILT])
def test_printing_built_trees(node: Node, text: str) -> None:
    assert format_expr(node) == text


def test_bad_literal_kind() -> None:
    with pytest.raises(ValueError):
        format_expr(Literal(1, "decimal"))
