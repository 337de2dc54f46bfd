"""A key out of line is reported where it is, with advice about indentation (not quoting).

PyYAML stops one line after a dedented first key (the next key reads as part of its
value: "mapping values are not allowed here") or after an over-indented one; the loader
names the key that is out of line, its column and the column its neighbours use
(``yaml.indentation``), in English and in Chinese.  Every single-line shift of every key
of a small rulebook that breaks the YAML is reported on the shifted line (or, where either
of two lines could be the mistaken one, on the first of them, naming both).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import YamlError
from engine.source import Source
from engine.yamlload import load_yaml

DATA = Path(__file__).resolve().parent / "data"
BASE = (
    (DATA / "rulebooks" / "mini.yaml").read_text(encoding="utf-8")
    + """examples:
  - name: grown-up
    decision: admission
    record: {id: A, birth_date: "1990-01-01", application_date: "2024-06-01"}
    expect:
      outcome: pass
      rules: {adult: pass}
"""
)


def first_diagnostic(text: str):  # type: ignore[no-untyped-def]
    with pytest.raises(YamlError) as info:
        load_yaml(Source("book.yaml", text))
    return info.value.diagnostics[0]


def shifted(line: int, by: int) -> str:
    lines = BASE.splitlines()
    lines[line - 1] = " " * (len(lines[line - 1]) - len(lines[line - 1].lstrip(" ")) + by) + lines[line - 1].lstrip(" ")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line", "by", "key", "col", "want"),
    [
        (13, -1, "record", 4, 5),  # the first key of a decision, dedented: PyYAML stops on line 14
        (13, +1, "record", 6, 5),  # ... indented too deep: PyYAML stops on line 14 too
        (21, -1, "zh", 10, 11),  # the first key of a message
        (21, +1, "zh", 12, 11),
        (36, -1, "outcome", 6, 7),  # the first key of an example's `expect`, nothing after it but one key
        (1, +1, "rulebook", 2, 1),  # the first line of the file
        (18, +1, "cite", 10, 9),  # a key indented into the value of the key above it
        (14, +2, "as_of", 7, 5),
    ],
    ids=str,
)
def test_the_key_out_of_line_is_named_on_its_own_line(line: int, by: int, key: str, col: int, want: int) -> None:
    d = first_diagnostic(shifted(line, by))
    assert d.code == "yaml.indentation"
    assert d.line_col == (line, col)
    assert d.message == (
        f"`{key}` is out of line with the entries beside it: it starts in column {col}, they start in column {want}"
    )
    assert d.help == f"indent line {line} to column {want}: the entries of one mapping start in the same column"
    message_zh, help_zh = d.text("zh")
    assert message_zh == f"`{key}` 与相邻各项没有对齐：它从第 {col} 列开始，相邻各项从第 {want} 列开始"
    assert help_zh == f"请把第 {line} 行缩进到第 {want} 列：同一映射中的各项须从同一列开始"


def test_two_lines_that_could_each_be_wrong_are_both_named() -> None:
    # `as_of` dedented to the column of `admission`: a key of its own there, or the next key
    # `rules` indented into its value; the first of the two lines is shown, naming the other
    d = first_diagnostic(shifted(14, -2))
    assert d.code == "yaml.indentation" and d.line_col == (14, 3)
    assert d.message == (
        "`as_of` (column 3) and `rules` on line 15 (column 5) are out of line, so YAML cannot "
        "tell which mapping `rules` belongs to"
    )
    assert (
        d.text("zh")[0]
        == "`as_of`（第 3 列）与第 15 行的 `rules`（第 5 列）没有对齐，YAML 无法判断 `rules` 属于哪个映射"
    )


def test_a_value_with_a_colon_still_gets_the_quoting_advice() -> None:
    d = first_diagnostic(BASE.replace("source: {title: 测试}", "source:\n  title: 测试: 第二版"))
    assert d.code == "yaml.syntax" and "quoted" in (d.help or "")


KEY_LINES = [i for i, line in enumerate(BASE.splitlines(), 1) if re.match(r"\s*(- )?[a-z_]+:", line)]


@pytest.mark.parametrize("line", KEY_LINES)
def test_no_shifted_key_is_reported_late(line: int) -> None:
    for by in (-2, -1, 1, 2):
        text = shifted(line, by) if by > 0 or BASE.splitlines()[line - 1].startswith(" " * -by) else None
        if text is None:
            continue
        try:
            load_yaml(Source("book.yaml", text))
        except YamlError as e:
            d = e.diagnostics[0]
            assert d.line_col is not None
            named = d.line_col[0] == line or (d.line_col[0] < line and f"on line {line} " in d.message)
            assert named, f"line {line} shifted by {by}: reported on line {d.line_col[0]}: {d.message}"
            assert "quote" not in (d.help or ""), f"line {line} shifted by {by}: {d.help}"
