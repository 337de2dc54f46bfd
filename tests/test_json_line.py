"""One JSON-line serialisation: ``Decision.to_json_bytes``; ``to_json_text`` is it decoded.

The generated trace of a decision (``compile_trace``) has two forms only, the
rules as dicts (``to_json``) and as JSON text in UTF-8 (``to_json_bytes``);
there is no separate text form to drift from the bytes.  A string that UTF-8
cannot hold (a lone surrogate, which a JSON record may carry as ``\\ud800``)
has no bytes: ``to_json_bytes`` raises and ``to_json_text`` writes what
``json.dumps`` writes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from engine.evaluate import Decision, InputRef
from engine.model import Outcome
from engine.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "tests" / "data" / "feed" / "admission-300.jsonl"


@pytest.fixture(scope="module")
def admission() -> object:
    # one version (a day fixes it): a CompiledDecision, whose trace is generated
    _rid, _version, decision = Registry.default().decision(
        "hlj-musicians/membership", "admission", dt.date(2025, 6, 30)
    )
    return decision


def test_text_is_the_bytes_decoded(admission: object) -> None:
    lines = RECORDS.read_text(encoding="utf-8").splitlines()[:60]
    for n, line in enumerate(lines, 1):
        record = json.loads(line)
        for lang in ("zh", "en"):
            d = admission.evaluate(record, "2025-06-30", InputRef("feed.jsonl", n))  # type: ignore[attr-defined]
            expected = json.dumps(d.to_json(lang), ensure_ascii=False)
            assert d.to_json_bytes(lang) == expected.encode("utf-8")
            assert d.to_json_text(lang) == expected


def test_a_lone_surrogate_is_text_and_escaped_bytes(admission: object) -> None:
    record = json.loads(RECORDS.read_text(encoding="utf-8").splitlines()[0])
    record["id"] = json.loads('"A-\\ud800"')  # valid JSON, not encodable as UTF-8
    d = admission.evaluate(record, "2025-06-30")  # type: ignore[attr-defined]
    assert d.to_json_text("en") == json.dumps(d.to_json("en"), ensure_ascii=False)
    assert "A-\ud800" in d.to_json_text("en")
    raw = d.to_json_bytes("en")  # the surrogate written as its escape: the same JSON, in UTF-8
    assert b'"A-\\ud800"' in raw
    assert json.loads(raw) == json.loads(d.to_json_text("en"))


def test_a_plain_decision_has_the_same_two_forms() -> None:
    d = Decision("b", "1", "d", "学生", None, None, Outcome.ERROR, [], message="无法读取")
    assert d.to_json_text() == json.dumps(d.to_json(), ensure_ascii=False)
    assert d.to_json_bytes() == d.to_json_text().encode("utf-8")


def test_the_trace_has_no_text_form(admission: object) -> None:
    assert admission._trace_function("bytes") is not None  # type: ignore[attr-defined]
    assert admission._trace_function("dict") is not None  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="'dict' or 'bytes'"):
        admission._trace_function("text")  # type: ignore[attr-defined]
