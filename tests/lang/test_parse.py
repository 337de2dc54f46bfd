"""Tests of engine.lang.parser: literals, precedence, macros, spans, errors, limits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import LarkStrategy, from_lark
from lark import Lark
from lark.grammar import NonTerminal

from engine.errors import ConditionSyntaxError, Diagnostic
from engine.lang.ast import (
    Binary,
    Call,
    Comprehension,
    Conditional,
    Has,
    Ident,
    Index,
    ListLit,
    Literal,
    MapLit,
    Node,
    Select,
    Unary,
    walk,
)
from engine.lang.parser import MAX_DEPTH, MAX_LENGTH, RESERVED_WORDS, grammar_path, parse_condition
from engine.lang.printer import format_expr
from engine.source import Span

a, b, c, d, x, xs = (Ident(n) for n in ("a", "b", "c", "d", "x", "xs"))


def lit(value: object, kind: str | None = None) -> Literal:
    if kind is None:
        kind = {bool: "bool", int: "int", float: "double", str: "string", bytes: "bytes", type(None): "null"}[
            type(value)
        ]
    return Literal(value, kind)


def first_error(text: str) -> Diagnostic:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    return info.value.diagnostics[0]


# ---- literals -------------------------------------------------------------------

LITERALS = [
    ("0", lit(0)),
    ("42", lit(42)),
    ("007", lit(7)),
    ("0x1F", lit(31)),
    ("0xff", lit(255)),
    ("9223372036854775807", lit(2**63 - 1)),
    ("42u", lit(42, "uint")),
    ("42U", lit(42, "uint")),
    ("0x1Fu", lit(31, "uint")),
    ("18446744073709551615u", lit(2**64 - 1, "uint")),
    ("1.5", lit(1.5)),
    ("1e3", lit(1000.0)),
    ("1E3", lit(1000.0)),
    (".5", lit(0.5)),
    ("1.5e-3", lit(0.0015)),
    ("2.5E+2", lit(250.0)),
    ("0.0", lit(0.0)),
    ('"abc"', lit("abc")),
    ("'abc'", lit("abc")),
    ('""', lit("")),
    ("'\"\"'", lit('""')),
    ('"""a\n"b"\n"""', lit('a\n"b"\n')),
    ("'''x''x'''", lit("x''x")),
    ('"中文"', lit("中文")),
    ('r"\\d+\\."', lit("\\d+\\.")),
    ('R"\\n"', lit("\\n")),
    ('r"\\"', lit("\\")),
    ("r'''\\a\n'''", lit("\\a\n")),
    ('b"abc"', lit(b"abc")),
    ('B"abc"', lit(b"abc")),
    ('b"ÿ"', lit(b"\xc3\xbf")),
    ('b"中"', lit("中".encode())),
    ('b"\\303\\277"', lit(b"\xc3\xbf")),
    ('b"\\377"', lit(b"\xff")),
    ('b"\\xFF"', lit(b"\xff")),
    ('rb"\\x"', lit(b"\\x")),
    ('bR"\\x"', lit(b"\\x")),
    ("Rb'\\n'", lit(b"\\n")),
    ("BR'a'", lit(b"a")),
    ("b'''a\nb'''", lit(b"a\nb")),
    ("true", lit(True)),
    ("false", lit(False)),
    ("null", lit(None)),
]


@pytest.mark.parametrize(("text", "expected"), LITERALS, ids=[t for t, _ in LITERALS])
def test_literal(text: str, expected: Literal) -> None:
    node = parse_condition(text)
    assert node == expected
    assert type(node.value) is type(expected.value)  # 1.0 == 1 in Python, but not here


ESCAPES = [
    ("backslash", r'"\\"', "\\"),
    ("double-quote", r'"\""', '"'),
    ("single-quote", r"'\''", "'"),
    ("backtick", r'"\`"', "`"),
    ("question", r'"\?"', "?"),
    ("bell", r'"\a"', "\a"),
    ("backspace", r'"\b"', "\b"),
    ("form-feed", r'"\f"', "\f"),
    ("newline", r'"\n"', "\n"),
    ("return", r'"\r"', "\r"),
    ("tab", r'"\t"', "\t"),
    ("vtab", r'"\v"', "\v"),
    ("hex", r'"\x41\X42"', "AB"),
    ("hex-high", r'"\xFF"', "\xff"),
    ("u4", r'"\u4e2d"', "中"),
    ("U8", r'"\U0001F600"', "\U0001f600"),
    ("surrogate-pair", r'"\ud83d\ude00"', "\U0001f600"),
    ("octal", r'"\101\303\277"', "A\xc3\xbf"),
    ("octal-max", r'"\377"', "\xff"),
    ("mixed", r'"a\tb\\c"', "a\tb\\c"),
    ("triple-escaped-quote", r'"""a\""""', 'a"'),
    ("quote-in-other-quotes", "'say \"hi\"'", 'say "hi"'),
]


@pytest.mark.parametrize(("text", "value"), [e[1:] for e in ESCAPES], ids=[e[0] for e in ESCAPES])
def test_escape(text: str, value: str) -> None:
    assert parse_condition(text) == lit(value)


# ---- structure and precedence -----------------------------------------------------------

STRUCTURE = [
    ("or-and", "a || b && c", Binary("||", a, Binary("&&", b, c))),
    ("and-or-words", "a and b or c", Binary("||", Binary("&&", a, b), c)),
    ("or-left-assoc", "a || b || c", Binary("||", Binary("||", a, b), c)),
    ("and-left-assoc", "a && b && c", Binary("&&", Binary("&&", a, b), c)),
    ("and-over-relation", "a == b && c", Binary("&&", Binary("==", a, b), c)),
    ("relation-over-add", "a + b < c", Binary("<", Binary("+", a, b), c)),
    ("relations-left-assoc", "a == b != c", Binary("!=", Binary("==", a, b), c)),
    ("in", "x in xs", Binary("in", x, xs)),
    ("in-over-and", "x in xs && a", Binary("&&", Binary("in", x, xs), a)),
    ("add-mul", "a + b * c", Binary("+", a, Binary("*", b, c))),
    ("sub-left-assoc", "a - b - c", Binary("-", Binary("-", a, b), c)),
    ("div-mod", "a / b % c", Binary("%", Binary("/", a, b), c)),
    ("parens", "(a + b) * c", Binary("*", Binary("+", a, b), c)),
    ("unary-over-mul", "-a * b", Binary("*", Unary("-", a), b)),
    ("not-over-and", "!a && b", Binary("&&", Unary("!", a), b)),
    ("not-word", "not a", Unary("!", a)),
    ("not-word-binds-like-python", "not a == b", Unary("!", Binary("==", a, b))),
    ("not-word-in", "not a in b", Unary("!", Binary("in", a, b))),
    ("not-word-under-and", "not a && b", Binary("&&", Unary("!", a), b)),
    ("bang-binds-tight", "!a == b", Binary("==", Unary("!", a), b)),
    ("repeated-unary", "!!a", Unary("!", Unary("!", a))),
    ("repeated-neg", "--a", Unary("-", Unary("-", a))),
    ("mixed-unary", "!-a", Unary("!", Unary("-", a))),
    ("member-over-unary", "-a.b", Unary("-", Select(a, "b"))),
    ("neg-literal-stays-unary", "-5", Unary("-", lit(5))),
    ("min-int-folded", "-9223372036854775808", lit(-(2**63))),
    ("min-int-hex-folded", "-0x8000000000000000", lit(-(2**63))),
    ("min-int-in-expr", "x - -9223372036854775808", Binary("-", x, lit(-(2**63)))),
    ("double-neg-min-int", "--9223372036854775808", Unary("-", lit(-(2**63)))),
    ("conditional", "a ? b : c", Conditional(a, b, c)),
    ("conditional-right-assoc", "a ? b : c ? d : x", Conditional(a, b, Conditional(c, d, x))),
    ("conditional-lowest", "a || b ? c : d", Conditional(Binary("||", a, b), c, d)),
    ("select-chain", "a.b.c", Select(Select(a, "b"), "c")),
    ("reserved-word-field", "a.for", Select(a, "for")),
    ("reserved-word-method", "a.if(b)", Call("if", (b,), a)),
    ("quoted-field", "a.`content-type`", Select(a, "content-type")),
    ("quoted-field-slash-dot", "a.`/api/v1.json`.b", Select(Select(a, "/api/v1.json"), "b")),
    ("quoted-field-comment-like", "a.`x//y` || b", Binary("||", Select(a, "x//y"), b)),
    ("quoted-field-has", "has(a.`b c`)", Has(a, "b c")),
    ("index", "xs[0]", Index(xs, lit(0))),
    ("index-map", 'a["k"].b', Select(Index(a, lit("k")), "b")),
    ("method", "xs.size()", Call("size", (), xs)),
    ("method-args", "a.f(b, c,)", Call("f", (b, c), a)),
    ("global-call", "f(a, b)", Call("f", (a, b))),
    ("global-call-empty", "f()", Call("f", ())),
    ("root-ident", ".a", Ident(".a")),
    ("root-ident-select", ".a.b", Select(Ident(".a"), "b")),
    ("root-call", ".f(a)", Call(".f", (a,))),
    ("list", "[1, a]", ListLit((lit(1), a))),
    ("list-trailing-comma", "[1, 2,]", ListLit((lit(1), lit(2)))),
    ("list-empty", "[]", ListLit(())),
    ("map", '{"a": 1, b: c}', MapLit(((lit("a"), lit(1)), (b, c)))),
    ("map-trailing-comma", "{1: 2,}", MapLit(((lit(1), lit(2)),))),
    ("map-empty", "{}", MapLit(())),
    ("keyword-prefix-names", "order || andy || notable || index || nullable", None),
    ("comment", "a // first\n  && b // second", Binary("&&", a, b)),
    ("multi-line", "a\n&&\r\n\tb", Binary("&&", a, b)),
    (
        "example-age",
        'full_years(record.birth_date, as_of) >= min_age and record.citizenship == "CN"',
        Binary(
            "&&",
            Binary(">=", Call("full_years", (Select(Ident("record"), "birth_date"), Ident("as_of"))), Ident("min_age")),
            Binary("==", Select(Ident("record"), "citizenship"), lit("CN")),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), [s[1:] for s in STRUCTURE], ids=[s[0] for s in STRUCTURE])
def test_structure(text: str, expected: Node | None) -> None:
    node = parse_condition(text)
    if expected is None:  # only names: check that no keyword was split off
        assert all(isinstance(n, (Binary, Ident)) for n in walk(node))
        assert [n.name for n in walk(node) if isinstance(n, Ident)] == ["order", "andy", "notable", "index", "nullable"]
    else:
        assert node == expected


def test_words_and_symbols_give_same_tree() -> None:
    assert parse_condition("not a and b or c") == parse_condition("!a && b || c")


# ---- macros ---------------------------------------------------------------------

i = Ident("i")
MACROS = [
    ("has", "has(a.b)", Has(a, "b")),
    ("has-nested", "has(a.b.c)", Has(Select(a, "b"), "c")),
    ("all", "xs.all(i, i > 0)", Comprehension("all", xs, "i", Binary(">", i, lit(0)))),
    ("exists", "xs.exists(i, i)", Comprehension("exists", xs, "i", i)),
    ("exists_one", "xs.exists_one(i, i)", Comprehension("exists_one", xs, "i", i)),
    ("filter", "xs.filter(i, i.ok)", Comprehension("filter", xs, "i", Select(i, "ok"))),
    ("map", "xs.map(i, i * 2)", Comprehension("map", xs, "i", Binary("*", i, lit(2)))),
    ("map-3", "xs.map(i, i > 0, i * 2)", Comprehension("map", xs, "i", Binary("*", i, lit(2)), Binary(">", i, lit(0)))),
    (
        "filter-size",
        "record.introducers.filter(i, i.is_member).size() >= 2",
        Binary(
            ">=",
            Call(
                "size", (), Comprehension("filter", Select(Ident("record"), "introducers"), "i", Select(i, "is_member"))
            ),
            lit(2),
        ),
    ),
    ("global-all-is-a-call", "all(xs, i)", Call("all", (xs, i))),
    ("receiver-has-is-a-call", "a.has(b)", Call("has", (b,), a)),
    ("other-method", "xs.contains(i, i)", Call("contains", (i, i), xs)),
]


@pytest.mark.parametrize(("text", "expected"), [m[1:] for m in MACROS], ids=[m[0] for m in MACROS])
def test_macro(text: str, expected: Node) -> None:
    assert parse_condition(text) == expected


def test_example_with_negated_exists() -> None:
    text = "!record.history.exists(h, h.event in short_ban_events && h.date <= as_of && as_of < years_after(h.date, 3))"
    node = parse_condition(text)
    assert isinstance(node, Unary) and isinstance(node.operand, Comprehension)
    assert node.operand.var == "h" and node.operand.macro == "exists"


# ---- spans ----------------------------------------------------------------------


def spans_of(text: str) -> dict[str, Span]:
    """Node kind + covered text -> span, for every node."""
    return {f"{type(n).__name__}:{text[n.span.start : n.span.end]}": n.span for n in walk(parse_condition(text))}


def test_spans_of_binary_and_literals() -> None:
    spans = spans_of('  a.b == "名字" ')
    assert spans == {
        'Binary:a.b == "名字"': Span(2, 13),
        "Select:a.b": Span(2, 5),
        "Ident:a": Span(2, 3),
        'Literal:"名字"': Span(9, 13),
    }


def test_spans_count_characters_not_bytes() -> None:
    node = parse_condition('"中文字符" + x')
    assert isinstance(node, Binary)
    assert node.left.span == Span(0, 6)
    assert node.right.span == Span(9, 10)


def test_field_name_var_spans() -> None:
    node = parse_condition("xs.all(v, has(v.f)) && f(x)")
    assert isinstance(node, Binary)
    comp, call = node.left, node.right
    assert isinstance(comp, Comprehension) and isinstance(call, Call)
    assert comp.span == Span(0, 19)
    assert comp.var_span == Span(7, 8)
    assert isinstance(comp.body, Has)
    assert comp.body.span == Span(10, 18)
    assert comp.body.field_span == Span(16, 17)
    assert call.span == Span(23, 27)
    assert call.name_span == Span(23, 24)


def test_method_and_select_spans() -> None:
    node = parse_condition("a.bb.size()")
    assert isinstance(node, Call) and isinstance(node.target, Select)
    assert node.span == Span(0, 11)
    assert node.name_span == Span(5, 9)
    assert node.target.field_span == Span(2, 4)


def test_spans_of_unary_and_folded_literal() -> None:
    node = parse_condition("not  x")
    assert node.span == Span(0, 6)
    assert parse_condition(" -9223372036854775808").span == Span(1, 21)


def test_multiline_span() -> None:
    text = "a &&\n  // note\n  b.c"
    node = parse_condition(text)
    assert isinstance(node, Binary)
    assert node.right.span == Span(17, 20)
    assert text[17:20] == "b.c"


# ---- errors ---------------------------------------------------------------------------

ERRORS = [
    ("empty", "", "syntax.empty", 0, "expression is empty"),
    ("blank", "  \n ", "syntax.empty", 0, "expression is empty"),
    ("only-comment", "// nothing", "syntax.empty", 0, "expression is empty"),
    ("assignment", 'record.citizenship = "CN"', "syntax.assignment", 19, "`=` cannot be used to compare values"),
    ("full-width-paren", "f（x）", "syntax.full-width", 1, "full-width character `（` cannot be used here"),
    ("full-width-comma", "f(a，b)", "syntax.full-width", 3, "full-width character `，` cannot be used here"),
    ("curly-quote", "a == “CN”", "syntax.full-width", 5, "curly quote `“` cannot be used here"),
    ("curly-single", "a == ‘CN’", "syntax.full-width", 5, "curly quote `‘` cannot be used here"),
    ("full-width-colon", "a ? b ： c", "syntax.full-width", 6, "full-width character `：` cannot be used here"),
    ("full-width-bang", "！a", "syntax.full-width", 0, "full-width character `！` cannot be used here"),
    ("full-width-eq", "a ＝＝ b", "syntax.full-width", 2, "full-width character `＝` cannot be used here"),
    ("full-width-lt", "a ＜ b", "syntax.full-width", 2, "full-width character `＜` cannot be used here"),
    ("full-width-gt", "a ＞ b", "syntax.full-width", 2, "full-width character `＞` cannot be used here"),
    ("full-width-brackets", "［1］", "syntax.full-width", 0, "full-width character `［` cannot be used here"),
    ("full-width-braces", "｛1: 2｝", "syntax.full-width", 0, "full-width character `｛` cannot be used here"),
    ("full-width-space", "a\u3000&& b", "syntax.full-width", 1, "full-width space cannot be used here"),
    ("chinese-and", "a 且 b", "syntax.chinese-operator", 2, "`且` is not an operator"),
    ("chinese-and-2", "a 并且 b", "syntax.chinese-operator", 2, "`并且` is not an operator"),
    ("chinese-or", "a 或 b", "syntax.chinese-operator", 2, "`或` is not an operator"),
    ("chinese-or-2", "a或者b", "syntax.chinese-operator", 1, "`或者` is not an operator"),
    ("chinese-not", "非 a", "syntax.chinese-operator", 0, "`非` is not an operator"),
    ("unterminated", 'a == "CN', "syntax.unterminated-string", 5, 'unterminated string: the closing `"` is missing'),
    (
        "unterminated-single",
        "a == 'CN",
        "syntax.unterminated-string",
        5,
        "unterminated string: the closing `'` is missing",
    ),
    (
        "string-across-lines",
        '"a\nb"',
        "syntax.unterminated-string",
        0,
        'unterminated string: the closing `"` is missing',
    ),
    (
        "unterminated-triple",
        "'''abc",
        "syntax.unterminated-string",
        0,
        "unterminated string: the closing `'''` is missing",
    ),
    (
        "escaped-final-quote",
        'f("a\\")',
        "syntax.unterminated-string",
        2,
        'unterminated string: the closing `"` is missing',
    ),
    ("unterminated-raw", 'r"abc', "syntax.unterminated-string", 1, 'unterminated string: the closing `"` is missing'),
    ("unclosed-paren", "f(a, (b)", "syntax.unclosed-bracket", 1, "`(` is never closed"),
    ("unclosed-bracket", "[1, 2", "syntax.unclosed-bracket", 0, "`[` is never closed"),
    ("unclosed-brace", "{1: 2", "syntax.unclosed-bracket", 0, "`{` is never closed"),
    ("unmatched-paren", "a)", "syntax.unmatched-bracket", 1, "`)` has no matching `(`"),
    ("mismatched", "f(a]", "syntax.unmatched-bracket", 3, "`]` does not match the `(` at column 2"),
    ("invalid-escape", '"a\\qb"', "syntax.invalid-escape", 2, "invalid escape `\\q`"),
    ("invalid-escape-cjk", '"名字\\d"', "syntax.invalid-escape", 3, "invalid escape `\\d`"),
    ("short-hex", '"\\x4g"', "syntax.invalid-escape", 1, "invalid escape `\\x4g`"),
    ("short-u", '"\\u12"', "syntax.invalid-escape", 1, "invalid escape `\\u12`"),
    ("lone-surrogate", '"\\ud800"', "syntax.invalid-escape", 1, "invalid escape `\\ud800`"),
    ("too-big-U", '"\\U00110000"', "syntax.invalid-escape", 1, "invalid escape `\\U00110000`"),
    ("octal-too-big", '"\\400"', "syntax.invalid-escape", 1, "invalid escape `\\400`"),
    ("u-in-bytes", 'b"\\u0041"', "syntax.invalid-escape", 2, "invalid escape `\\u0041`"),
    ("reserved-if", "if(a, b, c)", "syntax.reserved-word", 0, "`if` is a reserved word and cannot be used as a name"),
    ("reserved-let", "let + 1", "syntax.reserved-word", 0, "`let` is a reserved word and cannot be used as a name"),
    ("reserved-root", ".for", "syntax.reserved-word", 1, "`for` is a reserved word and cannot be used as a name"),
    ("keyword-field", "record.in", "syntax.reserved-word", 7, "`in` is a reserved word and cannot be used as a name"),
    ("literal-field", "a.null", "syntax.reserved-word", 2, "`null` is a reserved word and cannot be used as a name"),
    ("single-amp", "a & b", "syntax.single-and-or", 2, "`&` is not an operator"),
    ("single-bar", "a | b", "syntax.single-and-or", 2, "`|` is not an operator"),
    ("two-values", "a b", "syntax.unexpected-token", 2, "unexpected `b`"),
    ("double-comma", "[1,,2]", "syntax.unexpected-token", 3, "unexpected `,`"),
    ("leading-op", "&& a", "syntax.unexpected-token", 0, "unexpected `&&`"),
    ("leading-and", "and a", "syntax.unexpected-token", 0, "unexpected `and`"),
    ("missing-colon", "{1 2}", "syntax.unexpected-token", 3, "unexpected `2`"),
    ("string-after-value", 'a "b"', "syntax.unexpected-token", 2, 'unexpected `"b"`'),
    ("dollar", "$a", "syntax.unexpected-character", 0, "unexpected character `$`"),
    ("hash", "a # b", "syntax.unexpected-character", 2, "unexpected character `#`"),
    ("cjk-name", "record.姓名", "syntax.unexpected-character", 7, "unexpected character `姓`"),
    ("zero-width-space", "a\u200b", "syntax.unexpected-character", 1, "unexpected character U+200B"),
    ("trailing-op", "a +", "syntax.unexpected-end", 3, "expected a value; got end of expression"),
    ("trailing-dot", "a.", "syntax.unexpected-end", 2, "expected a name; got end of expression"),
    ("one-dot", "1.", "syntax.unexpected-end", 2, "expected a name; got end of expression"),
    ("conditional-no-colon", "a ? b", "syntax.unexpected-end", 5, "expected `:` or an operator; got end of expression"),
    ("trailing-comment", "a &&  // more\n", "syntax.unexpected-end", 4, "expected a value; got end of expression"),
    ("int-range", "9223372036854775808", "syntax.int-range", 0, "integer `9223372036854775808` is out of range"),
    ("int-range-hex", "0x8000000000000000", "syntax.int-range", 0, "integer `0x8000000000000000` is out of range"),
    (
        "int-range-in-parens",
        "-(1 + 9223372036854775808)",
        "syntax.int-range",
        6,
        "integer `9223372036854775808` is out of range",
    ),
    (
        "uint-range",
        "18446744073709551616u",
        "syntax.int-range",
        0,
        "unsigned integer `18446744073709551616u` is out of range",
    ),
    ("double-range", "1e400", "syntax.double-range", 0, "number `1e400` is too large"),
    ("has-no-field", "has(a)", "syntax.bad-macro", 0, "has() needs a field selection such as `has(record.awards)`"),
    (
        "has-two-args",
        "has(a.b, c)",
        "syntax.bad-macro",
        0,
        "has() needs a field selection such as `has(record.awards)`",
    ),
    ("all-one-arg", "xs.all(x)", "syntax.bad-macro", 0, "`all()` takes 2 or 3 arguments, not 1"),
    ("map-four-args", "xs.map(a, b, c, d)", "syntax.bad-macro", 0, "`map()` takes 2 or 3 arguments, not 4"),
    (
        "exists-not-a-name",
        "xs.exists(x.y, true)",
        "syntax.bad-macro",
        10,
        "the first argument of `exists()` must be a variable name",
    ),
    (
        "filter-root-name",
        "xs.filter(.x, true)",
        "syntax.bad-macro",
        10,
        "the first argument of `filter()` must be a variable name",
    ),
]


@pytest.mark.parametrize(("text", "code", "start", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_error(text: str, code: str, start: int, message: str) -> None:
    diag = first_error(text)
    assert (diag.code, diag.span.start if diag.span else None) == (code, start)
    assert diag.message == message
    # Every diagnostic is bilingual and follows the house style.
    assert diag.message_zh and diag.help and diag.help_zh
    assert diag.message[0].islower() or not diag.message[0].isalpha()
    assert not diag.message.endswith(".")
    assert diag.source is not None and diag.source.text == text


ERROR_HELP = [
    ("assignment", "a = 1", "use `==`"),
    ("full-width", "f（x）", "`(`"),
    ("curly-quote", "a == “CN”", 'the straight quote `"`'),
    ("chinese-and", "a 且 b", "`&&` (or `and`)"),
    ("chinese-or", "a 或者 b", "`||` (or `or`)"),
    ("chinese-not", "非 a", "`!` (or `not`)"),
    ("single-amp", "a & b", "`&&`"),
    ("single-bar", "a | b", "`||`"),
    ("if-function", "if(a, b, c)", "condition ? value_if_true : value_if_false"),
    ("reserved-field", "record.in", '`record["in"]`'),
    ("one-dot", "1.", "write `1.0`"),
    ("expected-list", "f(a b", "expected `)`, `,` or an operator here"),
    ("curly-close", '"CN” and x', "curly quote"),
    ("unclosed", "(a", "add the matching `)`"),
]


@pytest.mark.parametrize(("text", "needle"), [e[1:] for e in ERROR_HELP], ids=[e[0] for e in ERROR_HELP])
def test_error_help(text: str, needle: str) -> None:
    assert needle in (first_error(text).help or "")


def test_chinese_texts() -> None:
    diag = first_error("a = 1")
    assert diag.message_zh == "`=` 不能用来比较"
    assert "`==`" in (diag.help_zh or "")
    assert first_error("f（x）").help_zh == "请改用半角字符 `(`（把输入法切换到英文标点）"


def test_full_width_reports_every_character() -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition("f（a，b）")
    assert [(d.code, d.span) for d in info.value.diagnostics] == [
        ("syntax.full-width", Span(1, 2)),
        ("syntax.full-width", Span(3, 4)),
        ("syntax.full-width", Span(5, 6)),
    ]


@pytest.mark.parametrize(
    "text",
    ['"（中文，标点）" == x', "'且 或 非' != x", "x // 注释（可以）且\n && y", '"""“多行”\n"""'],
    ids=["in-string", "operators-in-string", "in-comment", "in-triple"],
)
def test_chinese_characters_inside_strings_and_comments_are_fine(text: str) -> None:
    parse_condition(text)


def test_error_names_the_source() -> None:
    diag = first_error("a +")
    assert diag.source is not None and diag.source.name == "<expression>"
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition("a +", name="rules.yaml#age")
    assert info.value.diagnostics[0].file == "rules.yaml#age"


# ---- limits ---------------------------------------------------------------------------

LIMITS = [
    ("too-long", "a" * (MAX_LENGTH + 1), "syntax.too-long"),
    ("too-long-spaces", " " * MAX_LENGTH + "a", "syntax.too-long"),
    ("deep-parens", "(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "syntax.too-deep"),
    ("deep-lists", "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "syntax.too-deep"),
    ("deep-unclosed", "f(" * 5000, "syntax.too-deep"),
    ("deep-not", "!" * (MAX_DEPTH + 1) + "a", "syntax.too-deep"),
    ("deep-not-huge", "!" * (MAX_LENGTH - 1) + "a", "syntax.too-deep"),
    ("deep-neg-huge", "-" * (MAX_LENGTH - 1) + "1", "syntax.too-deep"),
    ("deep-not-words", "not " * 4000 + "a", "syntax.too-deep"),
    ("deep-member", "a" + ".b" * (MAX_DEPTH + 1), "syntax.too-deep"),
    ("deep-member-huge", "a" + ".b" * 9000, "syntax.too-deep"),
    ("deep-index", "a" + "[0]" * 2000, "syntax.too-deep"),
    ("long-chain", " + ".join(["a"] * 3000), "syntax.too-deep"),
]


@pytest.mark.parametrize(("text", "code"), [e[1:] for e in LIMITS], ids=[e[0] for e in LIMITS])
def test_limit(text: str, code: str) -> None:
    assert first_error(text).code == code


def test_within_limits() -> None:
    parse_condition("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    parse_condition("!" * MAX_DEPTH + "a")
    parse_condition("a" + ".b" * MAX_DEPTH)
    parse_condition(" && ".join(["a"] * 50))
    parse_condition("[" + ", ".join(["1"] * 3000) + "]")  # wide is fine, only depth is limited
    parse_condition("a" * MAX_LENGTH)


# ---- properties -----------------------------------------------------------------------


class _BoundedLarkStrategy(LarkStrategy):
    """``from_lark``'s strategy with a size budget.

    Plain ``from_lark`` picks each rule's alternatives uniformly; on an
    expression grammar most picks recurse, so nearly every draw overruns and
    a test takes minutes.  Here, after ``budget`` rule expansions every rule
    takes its shortest alternative, which always leads to a terminal quickly.
    """

    def __init__(self, grammar: Lark, budget: int, explicit: dict[str, st.SearchStrategy[str]]) -> None:
        super().__init__(grammar, "start", explicit, st.characters(codec="utf-8"))
        _, rules, _ = grammar.grammar.compile(["start"], ())
        self.shortest: dict[str, tuple[object, ...]] = {}
        for rule in sorted(rules, key=lambda r: len(r.expansion)):
            self.shortest.setdefault(rule.origin.name, tuple(rule.expansion))
        self.budget = budget
        self.left = budget

    def do_draw(self, data: Any) -> str:
        self.left = self.budget
        return super().do_draw(data)

    def draw_symbol(self, data: Any, symbol: Any, draw_state: list[str]) -> None:
        if isinstance(symbol, NonTerminal):
            if self.left <= 0:
                for sub in self.shortest[symbol.name]:
                    self.draw_symbol(data, sub, draw_state)
                return
            self.left -= 1
        super().draw_symbol(data, symbol, draw_state)


_GENERATOR = Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual")
_SENTENCES = _BoundedLarkStrategy(
    _GENERATOR,
    budget=40,
    explicit={
        # A comment must end its line, or it swallows the rest of the sentence.
        "COMMENT": st.from_regex(r"//[^\n]{0,8}\n", fullmatch=True),
        # Words need spaces around them, or `a in b` is drawn as the name `ainb`.
        **{f"_{w.upper()}": st.just(f" {w} ") for w in ("in", "and", "or", "not", "true", "false", "null")},
        # Reserved words are names only after a dot (`x.for`); the lexer makes them RESERVED.
        "RESERVED": st.sampled_from(sorted(RESERVED_WORDS)),
    },
).filter(lambda s: len(s) <= 400)
_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def _parse_or_none(text: str) -> Node | None:
    try:
        return parse_condition(text)
    except ConditionSyntaxError as exc:
        assert exc.diagnostics, text
        assert all(d.code.startswith("syntax.") and d.code != "syntax.internal-error" for d in exc.diagnostics), text
        return None


def _check_round_trip(node: Node) -> None:
    printed = format_expr(node)
    again = parse_condition(printed)
    assert again == node, printed
    assert format_expr(again) == printed


def test_sentence_strategy_comes_from_from_lark() -> None:
    # The bounded strategy is from_lark's own class, fed the same grammar.
    strategy = from_lark(_GENERATOR, start="start", explicit={"RESERVED": st.sampled_from(sorted(RESERVED_WORDS))})
    assert isinstance(strategy.wrapped_strategy, LarkStrategy)


@_SETTINGS
@given(_SENTENCES)
def test_grammar_sentences_parse_or_fail_cleanly_and_round_trip(text: str) -> None:
    node = _parse_or_none(text)
    if node is not None:
        _check_round_trip(node)


_PIECES = st.sampled_from(
    [
        *"()[]{}.,:?!-+*/%<>=&|\"'\\ \n",
        *["a", "b.c", "1", "0x1", "2u", "1.5", "'s'", '"\\n"', "r'\\'", "b'x'", "in", "and", "or", "not", "if", "true"],
        *["==", "!=", "&&", "||", "has(", "xs.all(", "xs.map(", "//", "且", "（", "“", "中", "\u200b", "\ud800"],
    ]
)


@_SETTINGS
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_token_soup_parses_or_fails_cleanly(text: str) -> None:
    node = _parse_or_none(text)
    if node is not None:
        _check_round_trip(node)


@_SETTINGS
@given(st.text(max_size=60))
def test_any_text_parses_or_fails_cleanly(text: str) -> None:
    node = _parse_or_none(text)
    if node is not None:
        _check_round_trip(node)
