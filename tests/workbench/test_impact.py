"""The impact check skips only the decisions an edit cannot change."""

from __future__ import annotations

import json
from pathlib import Path

from engine.build import build_rulebook
from engine.evaluate import CompiledRulebook
from engine.serve.workbench.drafts import Impact, same_decision
from engine.source import Source
from engine.tools.diff import diff_records

REPO = Path(__file__).resolve().parents[2]
MEMBERSHIP = REPO / "rulebooks" / "hlj-musicians" / "membership.yaml"
TEXT = MEMBERSHIP.read_text(encoding="utf-8")


def book(text: str) -> CompiledRulebook:
    return build_rulebook(Source("m.yaml", text), base_dir=MEMBERSHIP.parent)


class Old:
    def __init__(self, book: CompiledRulebook) -> None:
        self.book, self.version = book, book.book.version


def test_same_decision_follows_the_parameters_and_the_text_it_reads() -> None:
    old = book(TEXT)
    older_age = book(TEXT.replace("  min_age:\n    value: 18", "  min_age:\n    value: 20", 1))
    assert not same_decision(old, older_age, "admission")  # reads min_age
    assert same_decision(old, older_age, "termination")
    longer = book(TEXT.replace("  deletion_working_days:\n    value: 20", "  deletion_working_days:\n    value: 30", 1))
    assert same_decision(old, longer, "admission")
    assert not same_decision(old, longer, "termination")
    rule = book(TEXT.replace("require: age >= min_age", "require: age > min_age", 1))
    assert not same_decision(old, rule, "admission")
    assert same_decision(old, rule, "termination")
    assert same_decision(old, book(TEXT), "admission")


def test_impact_over_every_decision_equals_diff_records_of_each() -> None:
    old = book(TEXT)
    for edited in (
        TEXT.replace("  min_age:\n    value: 18", "  min_age:\n    value: 30", 1),
        TEXT.replace("  deletion_working_days:\n    value: 20", "  deletion_working_days:\n    value: 1", 1),
    ):
        new = book(edited)
        lines = [
            json.loads(x)
            for f in ("applicants.jsonl", "members.jsonl", "terminations.jsonl")
            if (REPO / "examples" / f).exists()
            for x in (REPO / "examples" / f).read_text(encoding="utf-8").splitlines()
            if x.strip()
        ]
        records = [(None, r) for r in lines]
        job = Impact(Old(old), new, None)  # type: ignore[arg-type]
        job.compare(records)
        expected = sum(len(list(diff_records(old.decisions[n], new.decisions[n], records))) for n in new.decisions)
        assert job.changed == expected > 0
        assert len(job.compared) < len(job.pairs)


def test_a_sample_feed_is_read_again_when_it_changes(tmp_path: Path) -> None:
    from engine.serve.workbench.drafts import impact_records

    feed = tmp_path / "feed.jsonl"
    lines = (REPO / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()
    feed.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    new = book(TEXT)
    first = impact_records({"sample": "feed.jsonl"}, (tmp_path,), new, "admission", "en")
    assert first.load() == 5
    again = impact_records({"sample": "feed.jsonl"}, (tmp_path,), new, "admission", "en")
    assert again.load() == 5 and again.items is first.items  # remembered
    feed.write_text("\n".join(lines[:7]) + "\n[]\n", encoding="utf-8")
    changed = impact_records({"sample": "feed.jsonl"}, (tmp_path,), new, "admission", "en")
    assert changed.load() == 7 and changed.unreadable == 1
