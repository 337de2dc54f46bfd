"""Tests for engine.yamlload: data, positions, limits and YAML errors."""

from __future__ import annotations

import math
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import EngineError, YamlError
from engine.source import Source, Span, scalar_offset_map
from engine.yamlload import MAX_ALIAS_NODES, MAX_DEPTH, Loaded, NodePos, load_yaml


def load(text: str, name: str = "f.yaml") -> Loaded:
    return load_yaml(Source(name, text))


def error(text: str, name: str = "f.yaml") -> YamlError:
    with pytest.raises(YamlError) as info:
        load(text, name)
    return info.value


def codes(exc: YamlError) -> list[str]:
    return [d.code for d in exc.diagnostics]


def at(text: str, loaded: Loaded, path: tuple[object, ...]) -> str:
    span = loaded.positions[path].value
    return text[span.start : span.end]


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def test_plain_data() -> None:
    text = "rulebook: 1\nid: a/b\nlist: [1, 2.5, x]\nmap: {k: v}\nempty:\nnull2: ~\n"
    assert load(text).data == {
        "rulebook": 1,
        "id": "a/b",
        "list": [1, 2.5, "x"],
        "map": {"k": "v"},
        "empty": None,
        "null2": None,
    }


def test_empty_document() -> None:
    for text in ("", "# only a comment\n"):
        loaded = load(text)
        assert loaded.data is None
        assert loaded.span(("anything",)) == Span(0, 0)
    loaded = load("---\n")
    assert loaded.data is None
    assert loaded.span(()) == Span(4, 4)  # the empty scalar after `---`


@pytest.mark.parametrize("text", ["2022-04-15", "2022-04-15T10:00:00Z", "2001-12-14 21:59:43.10 -5"])
def test_timestamps_stay_strings(text: str) -> None:
    assert load(f"d: {text}\n").data == {"d": text}
    assert load(f"d: !!timestamp {text}\n").data == {"d": text}


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF"])
def test_yaml11_booleans_stay_strings(word: str) -> None:
    assert load(f"v: {word}\n").data == {"v": word}


@pytest.mark.parametrize(
    ("word", "value"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False)],
)
def test_booleans(word: str, value: bool) -> None:
    assert load(f"v: {word}\n").data["v"] is value


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("12", 12),
        ("-3", -3),
        ("+7", 7),
        ("0", 0),
        ("0x1F", 31),
        ("0o17", 15),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("-2.5E-1", -0.25),
        ("0.5", 0.5),
        # YAML 1.1 surprises and codes stay strings
        ("0755", "0755"),
        ("010", "010"),
        ("1:30", "1:30"),
        ("0b101", "0b101"),
        ("1_000", "1_000"),
        ("007.5", "007.5"),
        ("=", "="),
        ("<<x", "<<x"),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("~", None),
        ("nil", "nil"),
    ],
)
def test_scalar_resolution(word: str, value: object) -> None:
    loaded = load(f"v: {word}\n").data["v"]
    assert loaded == value and type(loaded) is type(value)


def test_special_floats() -> None:
    data = load("a: .inf\nb: -.Inf\nc: .NaN\n").data
    assert data["a"] == math.inf and data["b"] == -math.inf and math.isnan(data["c"])


def test_quoted_and_tagged_scalars_are_strings() -> None:
    data = load("a: '1'\nb: \"true\"\nc: !!str 12\nd: ! 12\ne: |\n  12\n").data
    assert data == {"a": "1", "b": "true", "c": "12", "d": "12", "e": "12\n"}


def test_explicit_tags() -> None:
    data = load("a: !!int '12'\nb: !!float 1\nc: !!bool 'true'\nd: !!null ''\ne: !!seq [1]\nf: !!map {x: 1}\n").data
    assert data == {"a": 12, "b": 1.0, "c": True, "d": None, "e": [1], "f": {"x": 1}}


@pytest.mark.parametrize("text", ["a: !!int abc\n", "a: !!bool yes\n", "a: !!float x\n", "a: !!null x\n"])
def test_explicit_tag_with_bad_value(text: str) -> None:
    exc = error(text)
    assert codes(exc) == ["yaml.bad-value"]
    assert exc.diagnostics[0].line_col == (1, 4)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo hi']\n",
        "a: !!python/name:os.system\n",
        "a: !!binary aGVsbG8=\n",
        "a: !!set {x, y}\n",
        "a: !!omap [x: 1]\n",
        "a: !custom value\n",
    ],
)
def test_unsupported_tags(text: str) -> None:
    exc = error(text)
    assert codes(exc) == ["yaml.unsupported-tag"]
    assert "is not supported" in exc.diagnostics[0].message
    assert exc.diagnostics[0].line_col == (1, 4)


def test_non_string_keys_kept() -> None:
    assert load("7: a\n2.5: b\ntrue: c\nnull: d\n").data == {7: "a", 2.5: "b", True: "c", None: "d"}
    loaded = load("1: a\n")
    assert loaded.positions[(1,)].key == Span(0, 1)
    # keys equal in Python are the same key: 1 and true would silently collapse
    assert codes(error("1: a\ntrue: b\n")) == ["yaml.duplicate-key"]


def test_unhashable_key() -> None:
    exc = error("? [a, b]\n: 1\nok: 2\n")
    assert codes(exc) == ["yaml.unhashable-key"]
    assert exc.diagnostics[0].line_col == (1, 3)
    assert codes(error("? {a: 1}\n: 1\n")) == ["yaml.unhashable-key"]


def test_bad_character() -> None:
    exc = error("a: b\nc: \x07\n")
    assert codes(exc) == ["yaml.bad-character"]
    assert exc.diagnostics[0].line_col == (2, 4)
    assert "U+0007" in exc.diagnostics[0].message


# ---------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------

NESTED = """\
decisions:
  admission:
    record: applicant
    rules:
      - id: adult
        require: age >= 18
      - id: citizen   # a comment
        when: record.x == "CN"
    flow: {a: [1, 2], b: {c: d}}
# trailing comment
"""


def test_positions_nested() -> None:
    loaded = load(NESTED)
    assert at(NESTED, loaded, ("decisions", "admission", "record")) == "applicant"
    assert at(NESTED, loaded, ("decisions", "admission", "rules", 0, "require")) == "age >= 18"
    assert at(NESTED, loaded, ("decisions", "admission", "rules", 1, "when")) == 'record.x == "CN"'
    assert at(NESTED, loaded, ("decisions", "admission", "flow")) == "{a: [1, 2], b: {c: d}}"
    assert at(NESTED, loaded, ("decisions", "admission", "flow", "a")) == "[1, 2]"
    assert at(NESTED, loaded, ("decisions", "admission", "flow", "a", 1)) == "2"
    assert at(NESTED, loaded, ("decisions", "admission", "flow", "b", "c")) == "d"
    rule = at(NESTED, loaded, ("decisions", "admission", "rules", 0))
    assert rule == "id: adult\n        require: age >= 18"
    # a block collection ends with its last value, not at the comment after it
    assert at(NESTED, loaded, ()).endswith("{c: d}}")
    pos = loaded.positions[("decisions", "admission", "rules", 0, "require")]
    assert NESTED[pos.key.start : pos.key.end] == "require"
    assert Source("f", NESTED).line_col(pos.value.start) == (6, 18)
    assert loaded.positions[("decisions", "admission", "rules", 0)].key is None


def test_every_node_has_a_position() -> None:
    loaded = load(NESTED)

    def walk(value: object, path: tuple[object, ...]) -> None:
        assert path in loaded.positions
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(loaded.data, ())


def test_span_fallback_to_ancestor_and_key() -> None:
    loaded = load(NESTED)
    rule = loaded.positions[("decisions", "admission", "rules", 0)].value
    assert loaded.span(("decisions", "admission", "rules", 0, "message")) == rule
    assert loaded.span(("decisions", "admission", "rules", 0, "message", "zh")) == rule
    record = loaded.positions[("decisions", "admission", "record")]
    assert loaded.span(("decisions", "admission", "record"), key=True) == record.key
    assert loaded.span(("decisions", "admission", "record")) == record.value
    # a sequence item has no key: its value span is used
    assert loaded.span(("decisions", "admission", "rules", 0), key=True) == rule
    assert loaded.span(("nope", "deeper")) == loaded.positions[()].value


@pytest.mark.parametrize(
    ("text", "raw", "style"),
    [
        ("v: plain text  # c\n", "plain text", None),
        ("v: 'single ''q'''\n", "'single ''q'''", "'"),
        ('v: "double \\" q"\n', '"double \\" q"', '"'),
        ("v: |\n  lit\n  eral\nw: 1\n", "|\n  lit\n  eral\n", "|"),
        ("v: >-\n  fol\n  ded\n", ">-\n  fol\n  ded\n", ">"),
        ("v: multi\n  line\nw: 1\n", "multi\n  line", None),
        ("v: &a anchored\n", "&a anchored", None),
    ],
)
def test_scalar_styles_and_spans(text: str, raw: str, style: str | None) -> None:
    loaded = load(text)
    pos = loaded.positions[("v",)]
    assert pos.style == style
    assert text[pos.value.start : pos.value.end] == raw
    assert pos.key == Span(0, 1)
    offsets = scalar_offset_map(Source("f", text), pos.value.start, pos.value.end, pos.style, loaded.data["v"])
    assert offsets is not None


def test_expression_offsets_through_positions() -> None:
    text = "rules:\n  - require: >-\n      size(record.awards) > 0\n      && record.agee >= 18\n"
    loaded = load(text)
    pos = loaded.positions[("rules", 0, "require")]
    expr = loaded.data["rules"][0]["require"]
    assert expr == "size(record.awards) > 0 && record.agee >= 18"
    offsets = scalar_offset_map(Source("f", text), pos.value.start, pos.value.end, pos.style, expr)
    assert offsets is not None
    i = expr.index("agee")
    assert text[offsets[i] : offsets[i + 4]] == "agee"
    assert Source("f", text).line_col(offsets[i]) == (4, 17)


def test_nodepos_is_frozen() -> None:
    pos = NodePos(Span(0, 1))
    with pytest.raises(AttributeError):
        pos.style = "'"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Duplicate keys
# ---------------------------------------------------------------------------


def test_duplicate_key_render() -> None:
    exc = error("name: a\ntitle: t\nname: b\n", "rb.yaml")
    assert codes(exc) == ["yaml.duplicate-key"]
    d = exc.diagnostics[0]
    assert d.message == "duplicate key `name` (first defined on line 1)"
    assert d.message_zh == "键 `name` 重复（第 1 行已定义）"
    assert d.render() == (
        "rb.yaml:3:1: error[yaml.duplicate-key]: duplicate key `name` (first defined on line 1)\n"
        "   | name: b\n"
        "   | ^~~~\n"
        "   = help: remove one of them or rename it"
    )
    assert d.render("zh").splitlines()[0] == "rb.yaml:3:1: error[yaml.duplicate-key]: 键 `name` 重复（第 1 行已定义）"
    assert d.render("zh").splitlines()[-1] == "   = 帮助: 删除其中一个或给它改名"


def test_duplicate_keys_nested_and_in_sequences() -> None:
    text = "a:\n  b:\n    c: 1\n    c: 2\nlist:\n  - id: x\n    id: y\n  - {k: 1, k: 2}\n"
    exc = error(text)
    assert codes(exc) == ["yaml.duplicate-key"] * 3
    assert [d.line_col for d in exc.diagnostics] == [(4, 5), (7, 5), (8, 12)]
    assert "first defined on line 3" in exc.diagnostics[0].message
    assert "first defined on line 6" in exc.diagnostics[1].message
    assert "first defined on line 8" in exc.diagnostics[2].message


def test_two_duplicates_at_once_both_reported() -> None:
    exc = error("a: 1\nb: 2\na: 3\nb: 4\nb: 5\n")
    assert [(d.line_col, d.message) for d in exc.diagnostics] == [
        ((3, 1), "duplicate key `a` (first defined on line 1)"),
        ((4, 1), "duplicate key `b` (first defined on line 2)"),
        ((5, 1), "duplicate key `b` (first defined on line 2)"),
    ]
    assert str(exc).count("error[yaml.duplicate-key]") == 3


def test_duplicate_quoted_and_plain_key() -> None:
    exc = error("name: a\n'name': b\n")
    assert exc.diagnostics[0].span == Span(8, 14)


# ---------------------------------------------------------------------------
# Anchors, aliases, merge keys
# ---------------------------------------------------------------------------


def test_aliases_are_copies_with_positions() -> None:
    text = "base: &b {x: 1, y: [1, 2]}\nother: *b\n"
    loaded = load(text)
    assert loaded.data["other"] == {"x": 1, "y": [1, 2]}
    assert loaded.data["other"] is not loaded.data["base"]
    loaded.data["other"]["y"].append(3)
    assert loaded.data["base"]["y"] == [1, 2]
    # the inner values' positions are where the text is written (the anchor)
    assert at(text, loaded, ("other", "y", 1)) == "2"
    assert loaded.positions[("other", "x")].value == loaded.positions[("base", "x")].value
    assert text[slice(*_pair(loaded.positions[("other",)].key))] == "other"


def _pair(span: Span | None) -> tuple[int, int]:
    assert span is not None
    return span.start, span.end


def test_merge_keys() -> None:
    text = (
        "base: &base {a: 1, b: 2}\n"
        "more: &more {b: 20, c: 30}\n"
        "one:\n  <<: *base\n  b: 3\n"
        "two:\n  <<: [*more, *base]\n  d: 4\n"
        "quoted: {'<<': x}\n"
    )
    data = load(text).data
    assert data["one"] == {"a": 1, "b": 3}
    assert data["two"] == {"b": 20, "c": 30, "a": 1, "d": 4}
    assert data["quoted"] == {"<<": "x"}
    loaded = load(text)
    assert at(text, loaded, ("one", "a")) == "1"
    assert at(text, loaded, ("one", "b")) == "3"


def test_bad_merge() -> None:
    exc = error("a: &x [1]\nb:\n  <<: *x\n")
    assert codes(exc) == ["yaml.bad-merge"]
    assert codes(error("<<: 1\n")) == ["yaml.bad-merge"]


def test_undefined_and_recursive_alias_and_duplicate_anchor() -> None:
    exc = error("a: *nope\n")
    assert codes(exc) == ["yaml.undefined-alias"]
    assert exc.diagnostics[0].span == Span(3, 8)
    assert codes(error("a: &a [1, *a]\n")) == ["yaml.recursive-alias"]
    exc = error("a: &x 1\nb: &x 2\n")
    assert codes(exc) == ["yaml.duplicate-anchor"]
    assert "first on line 1" in exc.diagnostics[0].message


BILLION_LAUGHS = (
    "\n".join(
        ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    )
    + "\n"
)


def test_alias_bomb_refused_quickly() -> None:
    start = time.perf_counter()
    exc = error(BILLION_LAUGHS)
    assert time.perf_counter() - start < 2
    assert codes(exc) == ["yaml.alias-limit"]
    assert f"{MAX_ALIAS_NODES:,}" in exc.diagnostics[0].message
    assert exc.diagnostics[0].span is not None


def test_merge_bomb_refused() -> None:
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(50)) + "}"]
    lines += [f"m{n}: &m{n} {{<<: [*m{n - 1}, *m{n - 1}], own{n}: 1}}" for n in range(1, 400)]
    exc = error("\n".join(lines) + "\n")
    assert codes(exc) == ["yaml.alias-limit"]


def test_aliases_below_the_limit_are_fine() -> None:
    text = "a: &a [" + ", ".join(["x"] * 100) + "]\nb: [" + ", ".join(["*a"] * 90) + "]\n"
    assert len(load(text).data["b"]) == 90


# ---------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------


def test_deep_nesting_refused() -> None:
    for text in ("[" * 10_000 + "]" * 10_000, "{a: " * 5000 + "}" * 5000):
        exc = error(text)
        assert codes(exc) == ["yaml.too-deep"]
    block = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 1)) + "  " * (MAX_DEPTH + 1) + "v\n"
    exc = error(block)
    assert codes(exc) == ["yaml.too-deep"]
    assert exc.diagnostics[0].line_col == (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)


def test_nesting_at_the_limit_is_fine() -> None:
    assert load("[" * MAX_DEPTH + "]" * MAX_DEPTH).data is not None


def test_deep_nesting_through_aliases_refused() -> None:
    half = 150
    text = "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    assert codes(error(text)) == ["yaml.too-deep"]


def test_no_recursion_error_on_a_deep_stack() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH

    def descend(n: int) -> object:
        return load(text).data if n == 0 else descend(n - 1)

    depth = sys.getrecursionlimit() - 200
    frame, used = sys._getframe(), 0
    while frame is not None:
        frame, used = frame.f_back, used + 1
    assert descend(max(0, depth - used)) is not None


def test_too_large() -> None:
    exc = error("a" * 5_000_001)
    assert codes(exc) == ["yaml.too-large"]
    assert exc.diagnostics[0].render() == (
        "f.yaml: error[yaml.too-large]: the file has 5,000,001 characters; the limit is 5,000,000\n"
        "   = help: split the rulebook or its examples into smaller files"
    )


def test_multiple_documents() -> None:
    exc = error("a: 1\n---\nb: 2\n")
    assert codes(exc) == ["yaml.multiple-documents"]
    assert exc.diagnostics[0].line_col == (2, 1)
    assert load("---\na: 1\n...\n").data == {"a": 1}


# ---------------------------------------------------------------------------
# Syntax errors and tabs
# ---------------------------------------------------------------------------


def test_syntax_error_colon_in_value_render() -> None:
    exc = error("id: a/b\ntitle: note: this\n")
    assert codes(exc) == ["yaml.syntax"]
    assert exc.render() == (
        "f.yaml:2:12: error[yaml.syntax]: unexpected `:` here\n"
        "   | title: note: this\n"
        "   |            ^\n"
        '   = help: a value that contains `: ` must be quoted (e.g. `title: "a: b"`); otherwise check the indentation'
    )


def test_syntax_error_cjk_line_shifts_the_caret() -> None:
    exc = error("title:\n  zh: 入会审核: 初审\n")
    d = exc.diagnostics[0]
    assert d.line_col == (2, 11)
    assert d.render() == (
        "f.yaml:2:11: error[yaml.syntax]: unexpected `:` here\n"
        "   |   zh: 入会审核: 初审\n"
        "   |               ^\n"
        '   = help: a value that contains `: ` must be quoted (e.g. `title: "a: b"`); otherwise check the indentation'
    )
    assert d.render("zh") == (
        "f.yaml:2:11: error[yaml.syntax]: 此处不应出现 `:`\n"
        "   |   zh: 入会审核: 初审\n"
        "   |               ^\n"
        '   = 帮助: 含有 `: ` 的值必须加引号（如 `title: "a: b"`）；否则请检查缩进'
    )


def test_syntax_error_bad_indentation() -> None:
    exc = error("a:\n  b: 1\n c: 2\n")
    d = exc.diagnostics[0]
    assert (d.code, d.line_col) == ("yaml.syntax", (3, 2))
    assert d.message == (
        "unexpected `key: value` entry: the indentation does not match (in the mapping that starts on line 1)"
    )
    assert "indentation" in (d.help or "")
    assert d.message_zh and d.help_zh


def test_syntax_error_unclosed_flow_sequence() -> None:
    d = error("a: [1, 2\nb: 3\n").diagnostics[0]
    assert d.line_col == (2, 2)
    assert d.message == "expected `,` or `]`, found `:` (in the `[...]` list that starts on line 1)"


def test_syntax_error_unclosed_quote_points_at_the_quote() -> None:
    d = error("a: 1\nb: 'open\nc: 2\n").diagnostics[0]
    assert (d.code, d.line_col) == ("yaml.syntax", (2, 4))
    assert d.message == "this quoted text is not closed"
    assert d.note == "the YAML reader gave up at line 4, column 1"
    assert d.render() == (
        "f.yaml:2:4: error[yaml.syntax]: this quoted text is not closed\n"
        "   | b: 'open\n"
        "   |    ^\n"
        "   = help: add the closing quote; inside '...' write '' for a quote, inside \"...\" write \\\"\n"
        "   = note: the YAML reader gave up at line 4, column 1"
    )


def test_syntax_error_missing_colon_points_at_the_key() -> None:
    d = error("a: b\nkey without colon\nc: d\n").diagnostics[0]
    assert d.line_col == (2, 1)
    assert d.message == "expected `:` after this key"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: @x\n", (1, 4)),
        ("a: `x`\n", (1, 4)),
        ('a: "\\q"\n', (1, 6)),
        ("a: - b\n", (1, 4)),
        ("- a\nb: 1\n", (2, 1)),
        ("a: {x: 1\n", (2, 1)),
        ("a: |0\n  x\n", (1, 5)),
        ("%YAML 2.0\n---\na: 1\n", (1, 1)),
        ("a: !e!x y\n", (1, 4)),
    ],
)
def test_syntax_errors_have_positions_and_translations(text: str, where: tuple[int, int]) -> None:
    d = error(text).diagnostics[0]
    assert d.code == "yaml.syntax"
    assert d.line_col == where
    assert d.help and d.message_zh and d.help_zh


def test_tab_indentation() -> None:
    exc = error("a:\n\tb: 1\n")
    d = exc.diagnostics[0]
    assert (d.code, d.line_col) == ("yaml.tab", (2, 1))
    assert d.message == "tabs are not allowed for indentation in YAML; use spaces"
    assert d.message_zh == "YAML 不允许用制表符（Tab）缩进；请使用空格"
    assert d.render() == (
        "f.yaml:2:1: error[yaml.tab]: tabs are not allowed for indentation in YAML; use spaces\n"
        "   |     b: 1\n"
        "   | ^~~~\n"
        "   = help: replace the tab at the start of this line with spaces"
    )
    assert codes(error("a:\n  b:\n  \t  c: 1\n")) == ["yaml.tab"]


def test_tab_inside_a_line() -> None:
    d = error("a: x\ty\n").diagnostics[0]
    assert (d.code, d.line_col) == ("yaml.tab", (1, 5))
    assert "quote the value" in (d.help or "")
    assert load('a: "x\ty"\n').data == {"a": "x\ty"}  # a tab inside quotes is fine


def test_errors_are_engine_errors() -> None:
    assert issubclass(YamlError, EngineError)


_YAMLISH = st.sampled_from(
    [
        *" \n\t:-?[]{},#&*!|>'\"%@`<=\\abx01中\r.~",
        *["<<", "---", "...", "  ", "\n  ", "\n- ", ": ", "&a ", "*a", "!!str ", "|-\n", ">\n", "\x07", "\ufeff"],
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_YAMLISH, max_size=40))
def test_never_raises_anything_but_yaml_error(parts: list[str]) -> None:
    text = "".join(parts)
    try:
        loaded = load(text)
    except YamlError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.code.startswith("yaml.")
            d.render()
            d.render("zh")
        return
    assert () in loaded.positions
    for pos in loaded.positions.values():
        assert 0 <= pos.value.start <= pos.value.end <= len(text)


# -- libyaml and the pure-Python parser give the same result ---------------------------------------

_REPO = __import__("pathlib").Path(__file__).resolve().parent.parent
_YAML_FILES = sorted(
    p
    for pattern in ("rulebooks/**/*.yaml", "plugins/**/*.yaml", "tests/data/**/*.yaml", "examples/**/*.yaml")
    for p in _REPO.glob(pattern)
)
_TRICKY = [
    "a: 😀b\nc: [1, 2]\n",
    "a: b\r\nc: |\r\n  x\r\n  y\r\n",
    'k: "\\u00e9😀"\nz: >\n  folded\n  text\n',
    "base: &x {b: 1}\nc: *x\nd:\n  <<: *x\n  e: 2\n",
    "- 中文：值\n- '引号'\n- \"全角（括号）\"\n",
    "a: 1\na: 2\n",  # a problem: both report it the same way
    "a: [1, 2\n",  # a syntax error
    "\ufeffa: 1\n",
]


def _load_both(monkeypatch: pytest.MonkeyPatch, name: str, text: str) -> tuple[object, object]:
    import engine.yamlload as yl

    def run() -> object:
        try:
            loaded = load_yaml(Source(name, text))
        except YamlError as e:
            return [d.render() for d in e.diagnostics]
        return loaded.data, loaded.positions

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(yl, "_CParser", None)
        pure = run()
    return fast, pure


@pytest.mark.parametrize("path", _YAML_FILES, ids=[str(p.relative_to(_REPO)) for p in _YAML_FILES])
def test_libyaml_and_pure_python_load_files_alike(monkeypatch: pytest.MonkeyPatch, path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    fast, pure = _load_both(monkeypatch, str(path), text)
    assert fast == pure


@pytest.mark.parametrize("text", _TRICKY)
def test_libyaml_and_pure_python_load_tricky_texts_alike(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    fast, pure = _load_both(monkeypatch, "t.yaml", text)
    assert fast == pure


@settings(max_examples=1500, deadline=None)
@given(st.lists(_YAMLISH, max_size=40))
def test_libyaml_and_pure_python_load_generated_texts_alike(parts: list[str]) -> None:
    with pytest.MonkeyPatch.context() as m:
        fast, pure = _load_both(m, "g.yaml", "".join(parts))
    assert fast == pure
