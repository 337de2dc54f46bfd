"""Edges where the columnar engine's column forms must mean what the per-record engine's functions
mean: the white space `trim` takes off (the engine's own set, not Python's `str.isspace`), long
lists that could reach the cost budget, and records given with a lone surrogate escaped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.build import load_rulebook
from engine.columnar import decide_bytes, reference_table

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def admission() -> object:
    book = load_rulebook(ROOT / "engine" / "data" / "rulebooks" / "hlj-musicians" / "membership.yaml")
    return book.decisions["admission"]


def _feed(records: list[dict[str, object]]) -> bytes:
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n").encode("utf-8")


def _base() -> dict[str, object]:
    line = (ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0]
    return dict(json.loads(line))


def test_trim_takes_off_what_the_engine_takes_off(admission: object) -> None:
    # \x1c-\x1f are white space to Python's str.isspace, not to the engine's trim; U+200B to neither
    provinces = ["黑龙江\x1c", "\u3000黑龙江省 ", "\x1f黑龙江", "黑龙江\u200b", " 黑龙江\x85", "黑龙江"]
    records = [{**_base(), "id": f"P{i}", "province": p} for i, p in enumerate(provinces)]
    data = _feed(records)
    table, fell_back = decide_bytes(admission, data)  # type: ignore[arg-type]
    assert table.equals(reference_table(admission, data))  # type: ignore[arg-type]
    assert not fell_back
    assert table.column("rule.in_province").to_pylist() == ["fail", "pass", "fail", "fail", "pass", "pass"]


def test_lists_long_enough_for_the_cost_budget_go_to_the_per_record_engine(admission: object) -> None:
    records = []
    for n in (3, 300, 30_000):
        r = _base()
        r["id"] = f"H{n}"
        r["history"] = [{"event": "withdrawal", "date": "2010-01-01"}] * n
        r["introducers"] = [{"member_id": f"M-{i}", "is_member": True} for i in range(n)]
        records.append(r)
    data = _feed(records)
    table, fell_back = decide_bytes(admission, data)  # type: ignore[arg-type]
    assert table.equals(reference_table(admission, data))  # type: ignore[arg-type]
    assert 1 <= sum(fell_back.values()) <= 2  # the long ones, not the short one


def test_a_lone_surrogate_goes_to_the_per_record_engine(admission: object) -> None:
    line = json.dumps({**_base(), "id": "S"}, ensure_ascii=False).replace('"S"', '"S\\ud800"')
    data = (line + "\n" + json.dumps(_base(), ensure_ascii=False) + "\n").encode("utf-8")
    table, fell_back = decide_bytes(admission, data)  # type: ignore[arg-type]
    assert table.equals(reference_table(admission, data))  # type: ignore[arg-type]
    assert sum(fell_back.values()) == 1
    assert table.column("record").to_pylist()[0] == "S\\ud800"  # written back as its escape
