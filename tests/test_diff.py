"""`rulebook diff`: structural changes between versions, and the records whose decision changes."""

from __future__ import annotations

import json
from pathlib import Path

from engine.build import load_rulebook
from engine.evaluate import InputRef
from engine.tools.diff import diff_records, diff_rulebooks

VERSIONED = Path(__file__).resolve().parent / "data" / "versioned"


def test_parameter_and_status_changes_between_versions() -> None:
    old = load_rulebook(VERSIONED / "fees-2024.yaml")
    new = load_rulebook(VERSIONED / "fees-2025.yaml")
    diff = diff_rulebooks(old, new)
    found = {(c.kind, c.where): (c.old, c.new) for c in diff.changes}
    assert found[("changed", "parameter min_amount")] == (100, 150)
    assert found[("changed", "effective_from")] == ("2024-01-01", "2025-01-01")
    assert found[("changed", "effective_until")] == ("2024-12-31", None)
    assert not any(c.where.startswith("fee/enough.") for c in diff.changes)  # the rule text itself is unchanged
    assert json.loads(json.dumps(diff.to_json()))["old"] == "test/fees@2024"


def test_rule_level_changes(tmp_path: Path) -> None:
    text = (VERSIONED / "fees-2025.yaml").read_text(encoding="utf-8")
    changed = text.replace("require: record.amount >= min_amount", "require: record.amount > min_amount").replace(
        "      - id: enough", "      - id: enough\n        severity: warning", 1
    )
    changed = changed.replace(
        "examples:",
        """      - id: positive
        article: 2
        cite: 第二条
        require: record.amount > 0
        message: {zh: 金额须为正, en: the amount must be positive}
examples:""",
    )
    (tmp_path / "payment.schema.json").write_text(
        (VERSIONED / "payment.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "new.yaml").write_text(changed, encoding="utf-8")
    diff = diff_rulebooks(load_rulebook(VERSIONED / "fees-2025.yaml"), load_rulebook(tmp_path / "new.yaml"))
    found = {(c.kind, c.where): (c.old, c.new) for c in diff.changes}
    assert found[("changed", "fee/enough.require")] == ("record.amount >= min_amount", "record.amount > min_amount")
    assert found[("changed", "fee/enough.severity")] == ("error", "warning")
    assert ("added", "fee/positive") in found


def test_records_whose_decision_changes() -> None:
    old = load_rulebook(VERSIONED / "fees-2024.yaml").decision("fee")
    new = load_rulebook(VERSIONED / "fees-2025.yaml").decision("fee")
    records = [
        (InputRef("feed.jsonl", i + 1), {"id": f"P-{i}", "paid_on": "2024-06-01", "amount": amount})
        for i, amount in enumerate([90, 120, 200])
    ]
    changes = list(diff_records(old, new, records))
    assert [(c.record, str(c.old.outcome), str(c.new.outcome)) for c in changes] == [("P-1", "pass", "fail")]
    assert changes[0].rules == (("enough", "pass", "fail"),)
    assert changes[0].to_json()["input"] == {"file": "feed.jsonl", "line": 2}
