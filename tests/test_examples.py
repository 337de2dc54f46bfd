"""Every embedded example of every bundled rulebook, one test each (selectable with -k)."""

from __future__ import annotations

import pytest

from engine.registry import Registry
from engine.testing import check_example

_REGISTRY = Registry.default()
_CASES = [
    pytest.param(entry, i, id=f"{entry.id}@{entry.version}/{ex.name}")
    for entry in _REGISTRY.entries
    for i, ex in enumerate(_REGISTRY.load_path(entry.path).book.examples)
]


@pytest.mark.parametrize(("entry", "index"), _CASES)
def test_example(entry, index) -> None:  # type: ignore[no-untyped-def]
    book = _REGISTRY.load_path(entry.path)
    example = book.book.examples[index]
    _decision, problems = check_example(book, example)
    assert not problems, f"{book.source.name}: example {example.name}:\n  " + "\n  ".join(problems)


def test_every_rule_passes_and_fails_in_some_example() -> None:
    for entry in _REGISTRY.entries:
        book = _REGISTRY.load_path(entry.path)
        seen: dict[tuple[str, str], set[str]] = {}
        for ex in book.book.examples:
            decision, _ = check_example(book, ex)
            assert decision is not None
            for r in decision.rules:
                seen.setdefault((ex.decision, r.id), set()).add(str(r.status))
        for name, decision_spec in book.decisions.items():
            for rule in decision_spec.rules:
                statuses = seen.get((name, rule.spec.id), set())
                # a data check (kind: data) catches a record that contradicts itself as `error`
                needed = {"pass", "error"} if rule.spec.is_data else {"pass", "fail"}
                assert needed <= statuses, f"{entry.id} {name}/{rule.spec.id} only reaches {statuses}"


def test_every_rule_cites_its_article_and_has_both_messages() -> None:
    for entry in _REGISTRY.entries:
        book = _REGISTRY.load_path(entry.path)
        for decision_spec in book.decisions.values():
            for rule in decision_spec.rules:
                spec = rule.spec
                assert spec.article > 0 and spec.cite, spec.id
                assert spec.message.zh.strip() and spec.message.en.strip(), spec.id
