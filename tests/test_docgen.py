"""`rulebook doc`: the pages for policy editors, and docs/rulebooks/ kept in step with the YAML."""

from __future__ import annotations

import html.parser
import io
from pathlib import Path

import pytest

from engine.cli import main
from engine.registry import Registry
from engine.tools.docgen import render_doc

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "rulebooks"
_REGISTRY = Registry.default()
_BUNDLED = [e for e in _REGISTRY.entries if e.origin.endswith("(bundled)")]


@pytest.mark.parametrize("entry", _BUNDLED, ids=[f"{e.id}@{e.version}" for e in _BUNDLED])
def test_generated_page_is_in_step_with_the_rulebook(entry, update_golden: bool) -> None:  # type: ignore[no-untyped-def]
    page = render_doc(_REGISTRY.load_path(entry.path), "markdown", "zh")
    target = DOCS / f"{entry.id}.md"
    if update_golden or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    assert page == target.read_text(encoding="utf-8"), (
        f"{target.relative_to(ROOT)} is out of date: run `rulebook doc {entry.id} --output "
        f"{target.relative_to(ROOT)}` (or pytest --update-golden)"
    )


def test_page_lists_every_rule_with_its_citation_note_and_examples() -> None:
    book = _REGISTRY.load("hlj-musicians/membership@2022-04-15")
    page = render_doc(book, "markdown", "en")
    for decision in book.decisions.values():
        for rule in decision.rules:
            assert f"`{rule.spec.id}` · {rule.spec.cite}" in page
    assert "interpretation: 原文“超过3次以上”" not in page  # English page shows the English note
    assert "超过3次以上" in page  # ... which quotes the Chinese words it interprets
    assert "`min_age` | 18" in page
    assert "`feb29-birth-adult-on-feb28`" in page


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_rulebook_text(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "data" / "rulebooks" / "mini.yaml").read_text(encoding="utf-8")
    text = text.replace("申请人未满{min_age}周岁", "<script>alert(1)</script>{min_age}")
    (tmp_path / "mini.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "mini.schema.json").write_text(
        (ROOT / "tests" / "data" / "rulebooks" / "mini.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    out = io.StringIO()
    code = main(["doc", str(tmp_path / "mini.yaml"), "--format", "html"], stdout=out, stderr=io.StringIO())
    assert code == 0
    page = out.getvalue()
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags
    assert "<script>alert(1)</script>" in "".join(parser.text)
    assert page.startswith("<!DOCTYPE html>")


def test_doc_command_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "page.md"
    code = main(
        ["doc", "hlj-musicians/membership", "--output", str(target)], stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert code == 0
    assert target.read_text(encoding="utf-8").startswith("# 黑龙江省音乐家协会个人会员服务管理办法")
