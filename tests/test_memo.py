"""engine.memo.BoundedMemo, and the four memos that use it.

Each memo starts again when full: it never holds more than its limit, and
what it gives is what would have been computed without it.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import pytest

import engine.evaluate
import engine.lang.compile_decision
from engine.evaluate import InputRef
from engine.memo import BoundedMemo
from engine.registry import DAYS_REMEMBERED, Registry, VersionedDecision

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "tests" / "data" / "feed" / "admission-300.jsonl"


def test_a_memo_starts_again_when_full() -> None:
    memo: BoundedMemo[int, str] = BoundedMemo(3)
    assert [memo.remember(k, str(k)) for k in (1, 2, 3)] == ["1", "2", "3"]
    assert dict(memo) == {1: "1", 2: "2", 3: "3"} and memo.get(2) == "2"
    assert memo.remember(4, "4") == "4"
    assert dict(memo) == {4: "4"}
    memo.remember(4, "four")  # a key again is one more entry only when it is new
    assert dict(memo) == {4: "four"}


def test_a_memo_holds_at_least_one_entry_and_copies_start_empty() -> None:
    with pytest.raises(ValueError, match="at least one"):
        BoundedMemo(0)
    memo: BoundedMemo[str, int] = BoundedMemo(2)
    memo.remember("a", 1)
    again = pickle.loads(pickle.dumps(memo))  # noqa: S301 - the bytes this test just made
    assert isinstance(again, BoundedMemo) and again.limit == 2 and len(again) == 0


def test_the_json_line_parts_are_bounded_memos() -> None:
    assert isinstance(engine.evaluate._FILE_HEADS, BoundedMemo)
    assert isinstance(engine.evaluate._AS_OF_OUTCOME, BoundedMemo)


def test_the_version_per_day_is_a_bounded_memo() -> None:
    _rid, _version, decision = Registry.default().decision("hlj-musicians/membership", "admission")
    assert isinstance(decision, VersionedDecision)
    first = decision.version_on(dt.date(2025, 6, 30))
    assert first is not None and decision.version_on(dt.date(2025, 6, 30)) is first
    assert isinstance(decision._on, BoundedMemo) and decision._on.limit == DAYS_REMEMBERED
    other = decision.with_schema_enforcement("none")
    assert isinstance(other._on, BoundedMemo) and len(other._on) == 0


def test_the_trace_remembers_rule_objects_in_bounded_memos(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN memos of two entries per rule (the trace is generated after the limit is set)
    monkeypatch.setattr(engine.lang.compile_decision, "MEMO_SIZE", 2)
    rid = "hlj-musicians/membership"
    book = Registry.default().load(rid, dt.date(2025, 6, 30))
    path = book.source.name
    fresh = engine.load_rulebook(path).decision("admission").with_schema_enforcement("none")
    # WHEN many records are written as JSON lines
    records = [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines()[:80]]
    for n, record in enumerate(records, 1):
        for lang in ("zh", "en"):
            line = fresh.evaluate(record, "2025-06-30", InputRef("f.jsonl", n)).to_json_bytes(lang)
            general = fresh._evaluate(record, "2025-06-30", InputRef("f.jsonl", n))
            # THEN each line is what the general evaluation writes
            assert line == json.dumps(general.to_json(lang), ensure_ascii=False).encode("utf-8")
    trace = fresh._trace_function("bytes")
    memos = [v for k, v in trace.__globals__.items() if k.startswith("_memo")]
    # AND every rule's memo is a BoundedMemo that never held more than two objects
    assert memos and all(isinstance(m, BoundedMemo) and m.limit == 2 and len(m) <= 2 for m in memos)
    assert any(memos), "rule objects are remembered"
