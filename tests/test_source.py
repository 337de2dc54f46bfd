"""Tests for engine.source: positions, diagnostic rendering, scalar offset maps."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.errors import Diagnostic, render_diagnostic
from engine.source import (
    MAX_LINE_WIDTH,
    Source,
    Span,
    display_width,
    scalar_offset_map,
)

# ---------------------------------------------------------------------------
# display_width
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("abc", 3),
        ("中文", 4),
        ("ａｂ", 4),  # full-width Latin
        ("e\u0301", 1),  # e + combining acute
        ("\t", 4),
        ("a\t", 4),
        ("abcd\t", 8),
        ("中\tx", 5),  # 中 takes 2 columns, the tab advances to 4
        ("年满18周岁", 10),
        ("\u200b", 0),  # zero-width space
    ],
)
def test_display_width(text: str, width: int) -> None:
    assert display_width(text) == width


# ---------------------------------------------------------------------------
# render_diagnostic
# ---------------------------------------------------------------------------


def _source_with_line(line_no: int, line: str, name: str = "f.yaml") -> Source:
    return Source(name, "x: 1\n" * (line_no - 1) + line + "\nlast: 2\n")


def _span_of(source: Source, needle: str, line_no: int) -> Span:
    start = source.offset(line_no, 1) + source.line_text(line_no).index(needle)
    return Span(start, start + len(needle))


def test_render_spec_example() -> None:
    src = _source_with_line(42, "  when: age(record.birth_dat, as_of) >= 18", "rulebooks/hlj-musicians/membership.yaml")
    diag = Diagnostic(
        "check.unknown-field",
        "unknown field `birth_dat` in `applicant`",
        src,
        _span_of(src, "birth_dat", 42),
        help="did you mean `birth_date`?",
    )
    assert diag.render() == (
        "rulebooks/hlj-musicians/membership.yaml:42:20: error[check.unknown-field]: "
        "unknown field `birth_dat` in `applicant`\n"
        "   |   when: age(record.birth_dat, as_of) >= 18\n"
        "   |                    ^~~~~~~~~\n"
        "   = help: did you mean `birth_date`?"
    )
    assert render_diagnostic(diag) == diag.render()


def test_render_cjk_before_span() -> None:
    src = _source_with_line(3, "  message: 申请人未满{min_ag}周岁")
    diag = Diagnostic("check.unknown-placeholder", "unknown placeholder `min_ag`", src, _span_of(src, "min_ag", 3))
    # column counts characters; the caret counts display columns (each CJK char is 2)
    assert diag.render() == (
        "f.yaml:3:18: error[check.unknown-placeholder]: unknown placeholder `min_ag`\n"
        "   |   message: 申请人未满{min_ag}周岁\n"
        "   |                       ^~~~~~"
    )


def test_render_cjk_span_is_double_width() -> None:
    src = Source("f.yaml", "title: 中文\n")
    diag = Diagnostic("x.y", "m", src, Span(7, 9))
    assert diag.render().splitlines()[2] == "   |        ^~~~"  # two wide characters: 4 columns


def test_render_tab_before_span() -> None:
    src = Source("f.yaml", "a:\tb\tbad\n")
    diag = Diagnostic("x.tab", "m", src, Span(5, 8))
    lines = diag.render().splitlines()
    assert lines[0] == "f.yaml:1:6: error[x.tab]: m"
    # "a:" + tab -> column 4, "b" + tab -> column 8
    assert lines[1] == "   | a:  b   bad"
    assert lines[2] == "   |         ^~~"
    assert lines[1].index("bad") == lines[2].index("^")


def test_render_tab_and_cjk_mixed() -> None:
    src = Source("f.yaml", "中\t文\tx\n")
    diag = Diagnostic("x", "m", src, Span(4, 5))
    lines = diag.render().splitlines()
    assert lines[1] == "   | 中  文  x"
    assert lines[2] == "   |         ^"


def test_render_multiline_span_stops_at_line_end() -> None:
    src = Source("f.yaml", "require: |\n  a &&\n  b\n")
    diag = Diagnostic("x", "m", src, Span(9, len(src.text)))
    lines = diag.render().splitlines()
    assert lines[1:] == ["   | require: |", "   |          ^"]
    diag = Diagnostic("x", "m", src, Span(13, 22))  # from `a &&` into the next line
    assert diag.render().splitlines()[1:] == ["   |   a &&", "   |   ^~~~"]


def test_render_zero_width_span() -> None:
    src = Source("f.yaml", "a: [1, 2\n")
    diag = Diagnostic("x", "m", src, Span(8, 8))
    assert diag.render().splitlines()[1:] == ["   | a: [1, 2", "   |         ^"]


def test_render_span_at_end_of_text() -> None:
    src = Source("f.yaml", "a: 'x\n")
    diag = Diagnostic("yaml.syntax", "m", src, Span(6, 6))
    assert diag.render() == "f.yaml:2:1: error[yaml.syntax]: m\n   |\n   | ^"


def test_render_without_span_or_source() -> None:
    src = Source("f.yaml", "a: 1\n")
    assert Diagnostic("yaml.too-large", "too big", src, help="split it").render() == (
        "f.yaml: error[yaml.too-large]: too big\n   = help: split it"
    )
    assert Diagnostic("usage.error", "no file given").render() == "error[usage.error]: no file given"


def test_render_warning_and_note() -> None:
    src = Source("f.yaml", "a: 1\n")
    diag = Diagnostic(
        "lint.x", "odd value", src, Span(3, 4), help="check it", severity="warning", note="column is approximate"
    )
    assert diag.render() == (
        "f.yaml:1:4: warning[lint.x]: odd value\n"
        "   | a: 1\n"
        "   |    ^\n"
        "   = help: check it\n"
        "   = note: column is approximate"
    )


def test_render_zh() -> None:
    src = Source("f.yaml", "name: a\nname: b\n")
    diag = Diagnostic(
        "yaml.duplicate-key",
        "duplicate key `name` (first defined on line 1)",
        src,
        Span(8, 12),
        help="remove one of them or rename it",
        note="n",
        message_zh="键 `name` 重复（第 1 行已定义）",
        help_zh="删除其中一个或给它改名",
    )
    assert diag.render("zh") == (
        "f.yaml:2:1: error[yaml.duplicate-key]: 键 `name` 重复（第 1 行已定义）\n"
        "   | name: b\n"
        "   | ^~~~\n"
        "   = 帮助: 删除其中一个或给它改名\n"
        "   = 注: n"
    )


def test_render_zh_falls_back_to_english() -> None:
    diag = Diagnostic("x.y", "english only", help="help only")
    assert diag.render("zh") == "error[x.y]: english only\n   = 帮助: help only"


def test_render_control_character_is_not_printed() -> None:
    src = Source("f.yaml", "a: \x07b\n")
    lines = Diagnostic("x", "m", src, Span(4, 5)).render().splitlines()
    assert "\x07" not in lines[1]
    assert lines[1] == "   | a: \ufffdb"
    assert lines[2] == "   |     ^"


def test_render_long_line_window() -> None:
    line = "k: " + "x" * 200 + " target " + "y" * 200
    src = Source("f.yaml", line + "\n")
    start = line.index("target")
    lines = Diagnostic("x", "m", src, Span(start, start + 6)).render().splitlines()
    shown, caret = lines[1], lines[2]
    assert shown.startswith("   | …") and shown.endswith("…")
    assert display_width(shown) <= len("   | ") + MAX_LINE_WIDTH + 2
    col = caret.index("^")
    assert shown[col : col + 6] == "target"
    assert caret[col:] == "^~~~~~"


def test_render_long_line_window_cjk() -> None:
    line = "k: " + "中" * 100 + "目标" + "文" * 100
    src = Source("f.yaml", line + "\n")
    start = line.index("目标")
    lines = Diagnostic("x", "m", src, Span(start, start + 2)).render().splitlines()
    shown, caret = lines[1], lines[2]
    pad = caret.index("^")
    prefix = re.match("[ |…中]*", shown)[0]  # the gutter, the ellipsis and the characters before 目标
    assert display_width(prefix) == pad
    assert shown[len(prefix) :].startswith("目标")
    assert caret.endswith("^~~~")


def test_render_long_line_span_near_end_and_long_span() -> None:
    line = "a" * 300
    src = Source("f.yaml", line + "\n")
    lines = Diagnostic("x", "m", src, Span(299, 300)).render().splitlines()
    assert lines[1].startswith("   | …") and not lines[1].endswith("…")
    assert lines[2].index("^") == len(lines[1]) - 1
    lines = Diagnostic("x", "m", src, Span(10, 290)).render().splitlines()
    assert len(lines[2]) <= len(lines[1])  # the caret line is clipped to the window


_LINE_CHARS = st.sampled_from([*"ab :#-\t", "中", "文", "ａ", "e\u0301", "é"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_LINE_CHARS, min_size=1, max_size=40), st.data())
def test_render_caret_alignment_property(parts: list[str], data: st.DataObject) -> None:
    line = "".join(parts)
    src = Source("f.yaml", "first: 1\n" + line + "\n")
    start = data.draw(st.integers(0, len(line)))
    end = data.draw(st.integers(start, len(line)))
    diag = Diagnostic("x", "m", src, Span(9 + start, 9 + end))
    out = diag.render().splitlines()
    assert out[0].startswith(f"f.yaml:2:{start + 1}: ")
    caret = out[2][len("   | ") :]
    assert caret.index("^") == display_width(line[:start])
    width = display_width(line[:end]) - display_width(line[:start])
    assert len(caret.strip()) == max(1, width)


# ---------------------------------------------------------------------------
# scalar_offset_map
# ---------------------------------------------------------------------------


def _scalars(text: str) -> list[yaml.ScalarNode]:
    """Every scalar node of ``text`` composed with PyYAML's safe loader."""
    out: list[yaml.ScalarNode] = []
    stack = [yaml.compose(text, Loader=yaml.SafeLoader)]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            out.append(node)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += [key, value]
        elif node is not None:
            stack += node.value
    return out


def _check_map(text: str, node: yaml.ScalarNode) -> list[int] | None:
    src = Source("f.yaml", text)
    offsets = scalar_offset_map(src, node.start_mark.index, node.end_mark.index, node.style, node.value)
    if offsets is None:
        return None
    assert len(offsets) == len(node.value) + 1
    assert offsets == sorted(offsets), "offsets must not go backwards"
    for i, ch in enumerate(node.value):
        if not ch.isspace():
            assert text[offsets[i]] == ch, (i, ch, offsets)
    return offsets


SNIPPETS = [
    # plain
    "a: hello world\n",
    'a: record.age >= 18 && record.citizenship == "CN"\n',
    "a: 中文 标题\n",
    "a: b\n  c\n\n  d  \nk: 1",
    "a: size(bans) > 0 &&\n  max(bans) < as_of\n",
    "- one two\n- three\n",
    "a: [foo bar, baz  qux]\n",
    "{a: x y, b: 'z'}\n",
    "a: x:y\n",
    "a: &anchor plain text\n",
    "a: !!str 123\n",
    # single-quoted
    "a: 'it''s  here'\n",
    "a: 'x\n  y\n\n\n  z'\n",
    "a: ''\n",
    "a: 'record.name == \"张三\"'\n",
    "a: '  lead and trail  '\n",
    "a: 'x  \n  y'\n",
    # double-quoted
    'a: "q \\" \\\\ x"\n',
    'a: "x\\\n   y"\n',
    'a: "x\\\n\n   y"\n',
    'a: "a b\n  c"\n',
    'a: "x\\/y\\ z"\n',
    "a: \"record.name == '李四'\"\n",
    # literal
    "a: |\n  x\n  y\n\n\nb: 1\n",
    'a: |-\n  record.age >= 18 &&\n  record.x == "中文"\n',
    "a: |+\n  x\n    y\n\n\n",
    "- |2\n    x\n   y\n",
    "a: |\n",
    "a: |  # comment\n  text\n",
    "a: |\r\n  x\r\n  y\r\n",
    "a:\n  b: |\n    deep\n      deeper\n    back\n",
    "a: |1\n  leading space kept\n",
    # folded
    "a: >-\n  x\n  y\n\n  z\n",
    "a: >\n  x\n    indented\n  y\n\n  z\nb: 2",
    "a: >+\n\n  x\n\n",
    "a: >\n  \n  x\n",
    "a: >-\n  size(x) > 0\n  && y\n",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_scalar_offset_map_table(text: str) -> None:
    for node in _scalars(text):
        assert _check_map(text, node) is not None, (node.value, node.style)


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("a: hello world\n", "hello world", list(range(3, 15))),
        ("a: 'it''s'\n", "it's", [4, 5, 6, 8, 9]),
        ('a: "q\\"x"\n', 'q"x', [4, 6, 7, 8]),
        ("a: b\n  c\n\n  d\n", "b c\nd", [3, 4, 7, 9, 12, 13]),
        ("a: |\n  x\n  y\n", "x\ny\n", [7, 8, 11, 12, 13]),
        ("a: >-\n  x\n  y\n", "x y", [8, 9, 12, 13]),
        ('a: "x\\\n   y"\n', "xy", [4, 10, 11]),
        ("a: 中文\n", "中文", [3, 4, 5]),
    ],
)
def test_scalar_offset_map_exact(text: str, value: str, expected: list[int]) -> None:
    (node,) = [n for n in _scalars(text) if n.value == value]
    assert _check_map(text, node) == expected


def test_scalar_offset_map_points_into_expression() -> None:
    text = "rules:\n  - require: |\n      age >= 18 &&\n      record.birth_dat != null\n"
    src = Source("f.yaml", text)
    node = next(n for n in _scalars(text) if n.style == "|")
    offsets = scalar_offset_map(src, node.start_mark.index, node.end_mark.index, "|", node.value)
    assert offsets is not None
    i = node.value.index("birth_dat")
    assert src.line_col(offsets[i]) == (4, 14)
    assert text[offsets[i] : offsets[i + len("birth_dat")]] == "birth_dat"


@pytest.mark.parametrize(
    "text",
    [
        'a: "x\\u4e2d"\n',
        'a: "tab\\there"\n',
        'a: "line\\nbreak"\n',
        'a: "\\x41"\n',
    ],
)
def test_scalar_offset_map_escapes_give_none(text: str) -> None:
    (node,) = [n for n in _scalars(text) if n.style == '"']
    src = Source("f.yaml", text)
    assert scalar_offset_map(src, node.start_mark.index, node.end_mark.index, '"', node.value) is None


def test_scalar_offset_map_mismatch_gives_none() -> None:
    src = Source("f.yaml", "a: hello\n")
    assert scalar_offset_map(src, 3, 8, None, "hallo") is None
    assert scalar_offset_map(src, 3, 8, "'", "hello") is None  # not quoted
    assert scalar_offset_map(src, 3, 8, "|", "hello") is None
    assert scalar_offset_map(src, 3, 80, None, "hello") is None  # out of range
    assert scalar_offset_map(src, 3, 8, "?", "hello") is None
    assert scalar_offset_map(src, 3, 8, None, "hello") == [3, 4, 5, 6, 7, 8]


_VALUE_CHARS = st.sampled_from([*"abz09 .,:#-'\"()&|><=!", "中", "文", "\n", "  ", "\\"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_VALUE_CHARS, max_size=30),
    st.sampled_from([None, "'", '"', "|", ">"]),
    st.integers(0, 3),
    st.integers(10, 40),
)
def test_scalar_offset_map_roundtrip_property(parts: list[str], style: str | None, indent: int, width: int) -> None:
    """Whatever PyYAML's emitter writes, the map is exact or None (escapes only)."""
    value = "".join(parts)
    doc = {"k": {"nested": [value]}} if indent % 2 else {"k": value}
    text = yaml.safe_dump(doc, default_style=style, allow_unicode=True, width=width)
    nodes = [n for n in _scalars(text) if n.value == value]
    assume(nodes)  # PyYAML's emitter does not round-trip a few folded scalars
    for node in nodes:
        offsets = _check_map(text, node)
        raw = text[node.start_mark.index : node.end_mark.index]
        if offsets is None:
            assert node.style == '"' and "\\" in raw, (raw, value)
