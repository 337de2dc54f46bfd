"""The rulebook model: frozen objects built from validated data, with defaults and document paths."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine.model import (
    Expr,
    Outcome,
    Severity,
    Status,
    Text,
    rulebook_from_data,
)


def data(**overrides: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "rulebook": 1,
        "id": "acme/rules",
        "version": "2024-01-01",
        "status": "in_force",
        "effective_from": "2024-01-01",
        "title": {"zh": "规则", "en": "rules"},
        "source": {"title": "规则原文", "file": "x.txt"},
        "parameters": {
            "min_age": {"value": 18, "cite": "第一条", "description": {"zh": "最低年龄", "en": "minimum age"}},
            "kinds": {"value": ["a", "b"]},
        },
        "decisions": {
            "admission": {
                "record": "applicant",
                "title": {"zh": "入会", "en": "admission"},
                "as_of": "record.application_date",
                "values": {"age": "full_years(record.birth_date, as_of)"},
                "rules": [
                    {
                        "id": "adult",
                        "article": 12,
                        "cite": "第十二条",
                        "require": "age >= min_age",
                        "message": {"zh": "未满{min_age}周岁", "en": "under {min_age}"},
                    },
                    {
                        "id": "item",
                        "article": 12,
                        "item": 3,
                        "cite": "第十二条第3项",
                        "when": "record.x",
                        "require": "true",
                        "severity": "warning",
                        "waivable": True,
                        "values": {"v": "1", "w": "2"},
                        "title": {"zh": "标题", "en": "title"},
                        "message": {"zh": "中", "en": "en"},
                        "note": {"zh": "注", "en": "note"},
                    },
                ],
                "outputs": {
                    "plain": "age + 1",
                    "full": {"value": "age", "when": "age > 1", "description": {"zh": "年龄", "en": "age"}},
                },
            },
            "other": {
                "record": "thing.json",
                "rules": [{"id": "r", "article": 1, "cite": "c", "require": "true", "message": {"zh": "z", "en": "e"}}],
            },
        },
        "examples": [
            {
                "name": "ex",
                "decision": "admission",
                "as_of": "2024-05-01",
                "record": {"id": "A"},
                "expect": {"outcome": "pass", "rules": {"adult": "pass"}, "outputs": {"plain": None}},
            },
            {"name": "bare", "decision": "other", "record": {}, "expect": {"outcome": "fail"}},
        ],
    }
    d.update(overrides)
    return d


BOOK = rulebook_from_data(data())


def test_header() -> None:
    assert (BOOK.id, BOOK.version, BOOK.status, BOOK.effective_from) == (
        "acme/rules",
        "2024-01-01",
        "in_force",
        "2024-01-01",
    )
    assert BOOK.effective_until is None
    assert BOOK.supersedes == ()
    assert BOOK.title == Text("规则", "rules")
    assert BOOK.source == {"title": "规则原文", "file": "x.txt"}
    assert BOOK.ref == "acme/rules@2024-01-01"


def test_header_optional_keys() -> None:
    book = rulebook_from_data(data(effective_until="2025-12-31", supersedes=["acme/rules@2020"], version=2020))
    assert book.effective_until == "2025-12-31"
    assert book.supersedes == ("acme/rules@2020",)
    assert book.version == "2020"  # always text


def test_parameters() -> None:
    by_name = {p.name: p for p in BOOK.parameters}
    assert list(by_name) == ["min_age", "kinds"]
    age = by_name["min_age"]
    assert (age.value, age.cite, age.path) == (18, "第一条", ("parameters", "min_age"))
    assert age.description == Text("最低年龄", "minimum age")
    kinds = by_name["kinds"]
    assert (kinds.value, kinds.cite, kinds.description) == (["a", "b"], None, None)


def test_decisions() -> None:
    assert [d.name for d in BOOK.decisions] == ["admission", "other"]
    d = BOOK.decision("admission")
    assert d is not None
    assert d.record_kind == "applicant"
    assert d.title == Text("入会", "admission")
    assert d.as_of == Expr("record.application_date", ("decisions", "admission", "as_of"))
    assert d.values == (
        ("age", Expr("full_years(record.birth_date, as_of)", ("decisions", "admission", "values", "age"))),
    )
    assert d.path == ("decisions", "admission")
    other = BOOK.decision("other")
    assert other is not None and other.as_of is None and other.values == () and other.outputs == ()
    assert other.title is None
    assert BOOK.decision("nope") is None


@pytest.mark.parametrize(
    ("index", "field", "expected"),
    [
        (0, "id", "adult"),
        (0, "article", 12),
        (0, "item", None),
        (0, "cite", "第十二条"),
        (0, "when", None),
        (0, "require", Expr("age >= min_age", ("decisions", "admission", "rules", 0, "require"))),
        (0, "severity", Severity.ERROR),
        (0, "waivable", False),
        (0, "values", ()),
        (0, "message", Text("未满{min_age}周岁", "under {min_age}")),
        (0, "note", None),
        (0, "title", None),
        (0, "path", ("decisions", "admission", "rules", 0)),
        (1, "item", 3),
        (1, "when", Expr("record.x", ("decisions", "admission", "rules", 1, "when"))),
        (1, "severity", Severity.WARNING),
        (1, "waivable", True),
        (
            1,
            "values",
            (
                ("v", Expr("1", ("decisions", "admission", "rules", 1, "values", "v"))),
                ("w", Expr("2", ("decisions", "admission", "rules", 1, "values", "w"))),
            ),
        ),
        (1, "note", Text("注", "note")),
        (1, "title", Text("标题", "title")),
    ],
)
def test_rules(index: int, field: str, expected: Any) -> None:
    d = BOOK.decision("admission")
    assert d is not None
    assert getattr(d.rules[index], field) == expected


def test_outputs_in_both_forms() -> None:
    d = BOOK.decision("admission")
    assert d is not None
    plain, full = d.outputs
    assert plain.name == "plain"
    assert plain.value == Expr("age + 1", ("decisions", "admission", "outputs", "plain"))
    assert plain.when is None and plain.description is None
    assert full.value == Expr("age", ("decisions", "admission", "outputs", "full", "value"))
    assert full.when == Expr("age > 1", ("decisions", "admission", "outputs", "full", "when"))
    assert full.description == Text("年龄", "age")
    assert full.path == ("decisions", "admission", "outputs", "full")


def test_examples() -> None:
    ex, bare = BOOK.examples
    assert (ex.name, ex.decision, ex.as_of, ex.record) == ("ex", "admission", "2024-05-01", {"id": "A"})
    assert ex.expect_outcome == "pass"
    assert ex.expect_rules == {"adult": "pass"}
    assert ex.expect_outputs == {"plain": None}
    assert ex.path == ("examples", 0)
    assert (bare.as_of, bare.expect_rules, bare.expect_outputs, bare.path) == (None, {}, {}, ("examples", 1))


def test_no_parameters_or_examples() -> None:
    d = data()
    del d["parameters"], d["examples"]
    book = rulebook_from_data(d)
    assert book.parameters == () and book.examples == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("同一", Text("同一", "同一")),
        ({"zh": "中", "en": "en"}, Text("中", "en")),
        ({"zh": "中"}, Text("中", "中")),
        ({"en": "en"}, Text("en", "en")),
    ],
)
def test_text_of(raw: Any, expected: Text | None) -> None:
    assert Text.of(raw) == expected


def test_text_get() -> None:
    t = Text("中", "en")
    assert (t.get("zh"), t.get("en")) == ("中", "en")


def test_model_is_frozen() -> None:
    rule = BOOK.decisions[0].rules[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.id = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        BOOK.id = "x/y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (Status, ["pass", "fail", "not_applicable", "error", "waived"]),
        (Outcome, ["pass", "fail", "indeterminate", "error"]),
        (Severity, ["error", "warning", "info"]),
    ],
    ids=["status", "outcome", "severity"],
)
def test_enum_values_match_the_contract(enum: Any, values: list[str]) -> None:
    assert [str(m) for m in enum] == values
    assert all(enum(v) == v for v in values)
