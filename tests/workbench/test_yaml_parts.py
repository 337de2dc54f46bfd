"""The YAML load of a text from its top-level parts (``YamlMemo``) is the load of the whole text."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import YamlError
from engine.source import Source
from engine.yamlload import Loaded, YamlMemo, load_yaml

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in ("rulebooks", "tests/data", "examples") for p in (REPO / d).rglob("*.yaml"))
MEMBERSHIP = REPO / "rulebooks" / "hlj-musicians" / "membership.yaml"


def same(a: Loaded, b: Loaded) -> None:
    assert a.data == b.data
    assert list(a.positions.items()) == list(b.positions.items())
    assert isinstance(a.data, dict) and isinstance(b.data, dict)
    assert list(a.data) == list(b.data)  # the keys' order too


def load_both(text: str, memo: YamlMemo) -> tuple[Loaded | YamlError, Loaded | YamlError]:
    out: list[Loaded | YamlError] = []
    for m in (None, memo):
        try:
            out.append(load_yaml(Source("r.yaml", text), m))
        except YamlError as e:
            out.append(e)
    return out[0], out[1]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_file_loads_the_same_in_parts(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    memo = YamlMemo()
    for _round in range(2):  # the second time, every part comes from the memo
        whole, parts = load_both(text, memo)
        if isinstance(whole, YamlError):
            assert isinstance(parts, YamlError)
            assert [(d.code, d.span) for d in parts.diagnostics] == [(d.code, d.span) for d in whole.diagnostics]
        else:
            assert isinstance(parts, Loaded)
            if isinstance(whole.data, dict):
                same(parts, whole)
            else:
                assert parts.data == whole.data and parts.positions == whole.positions


def test_edits_reuse_unchanged_parts_and_shift_later_ones() -> None:
    text = MEMBERSHIP.read_text(encoding="utf-8")
    memo = YamlMemo()
    load_yaml(Source("m.yaml", text), memo)
    loaded_parts = len(memo.parts)
    assert loaded_parts > 5
    for i, edit in enumerate(
        [
            ("require: age >= min_age", "require: age + 12345 >= min_age"),  # longer: later parts move
            ("require: age >= min_age", "require: age>=min_age"),  # shorter
            ("id: hlj-musicians/membership", "id: hlj-musicians/membership2"),
        ]
    ):
        edited = text.replace(*edit, 1)
        whole, parts = load_both(edited, memo)
        assert isinstance(whole, Loaded) and isinstance(parts, Loaded)
        same(parts, whole)
        assert len(memo.parts) == loaded_parts + i + 1  # one part loaded again per edit


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: &x {c: 2}\nd: *x\n",  # an anchor used by another part
        "a: 1\na: 2\n",  # a repeated top-level key
        "a: 1\nb: [1,\n2]\n",
        "a: 1\n---\nb: 2\n",
        "a: 1\nb: 'x\nc: y'\n",  # a quoted scalar over a line that looks like a key
        "# only a comment\na: 1\nb:\n  - 1\n  - 2\nc: |\n  text\n",
        "a: 1\nb: {c: 1\n",
        "- 1\n- 2\n",
    ],
)
def test_texts_that_cannot_be_split_load_as_a_whole(text: str) -> None:
    memo = YamlMemo()
    whole, parts = load_both(text, memo)
    if isinstance(whole, YamlError):
        assert isinstance(parts, YamlError)
        assert [(d.code, d.span) for d in parts.diagnostics] == [(d.code, d.span) for d in whole.diagnostics]
    else:
        assert isinstance(parts, Loaded)
        assert parts.data == whole.data and parts.positions == whole.positions


def test_a_memo_build_leaves_the_remembered_parts_unchanged() -> None:
    from engine.build import BuildMemo, build_rulebook

    text = MEMBERSHIP.read_text(encoding="utf-8")
    memo = BuildMemo()
    for i in range(3):
        edited = text.replace("require: age >= min_age", f"require: age + {i} >= min_age + {i}", 1)
        build_rulebook(Source(f"m{i}.yaml", edited), base_dir=MEMBERSHIP.parent, memo=memo, whole=False)
        same(load_yaml(Source("m.yaml", edited), memo.yaml), load_yaml(Source("m.yaml", edited)))
