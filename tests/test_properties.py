"""Property tests: no record, however wrong, crashes an evaluation or loses a rule's status."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.registry import Registry
from engine.schemas import load_schema, record_schema

_BOOK = Registry.default().load("hlj-musicians/membership")
_DECISION = _BOOK.decision("admission")
_SCHEMA = record_schema("applicant")
assert _SCHEMA is not None
_OUTPUT = jsonschema.Draft202012Validator(load_schema("decision-output.schema.json"))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["2026-02-29", "2024-02-29", "1990-05-01", "2026-03-01", "0000-00-00", "CN", "黑龙江"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _valid_or_wild(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly a value of the declared shape, sometimes anything at all."""
    kind = prop.get("type")
    if prop.get("format") == "date":
        good: st.SearchStrategy[Any] = st.dates().map(lambda d: d.isoformat())
    elif kind == "boolean":
        good = st.booleans()
    elif kind == "integer":
        good = st.integers(0, 10)
    elif kind == "array" and isinstance(prop.get("items"), dict) and "properties" in prop["items"]:
        good = st.lists(_objects(prop["items"]), max_size=3)
    elif "enum" in prop:
        good = st.sampled_from(prop["enum"])
    else:
        good = json_values
    return st.one_of(good, good, json_values)


def _objects(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props = schema.get("properties", {})
    return st.fixed_dictionaries({}, optional={name: _valid_or_wild(sub) for name, sub in props.items()})


records = _objects(_SCHEMA).map(lambda r: {"id": "P-1", **r})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.one_of(st.none(), st.dates().map(lambda d: d.isoformat())))
def test_any_record_gets_a_status_for_every_rule(record: dict[str, Any], as_of: str | None) -> None:
    decision = _DECISION.evaluate(record, as_of)
    assert [r.id for r in decision.rules] == [r.spec.id for r in _DECISION.rules]
    assert {str(r.status) for r in decision.rules} <= {"pass", "fail", "not_applicable", "error", "waived"}
    assert str(decision.outcome) in ("pass", "fail", "indeterminate")
    for r in decision.rules:
        if r.status == "error":
            assert r.error is not None and r.error.message
    for lang in ("zh", "en"):
        obj = json.loads(json.dumps(decision.to_json(lang), ensure_ascii=False))
        _OUTPUT.validate(obj)
