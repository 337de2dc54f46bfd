"""Optional values (CEL's optional extension): ``optional.of``, ``optional.none``,
``optional.ofNonZeroValue``, ``x.?f`` and ``x[?i]``, ``hasValue``, ``value``, ``orValue``, ``or``,
``optMap``/``optFlatMap``, and optional elements and entries ``[?x]``, ``{?k: v}``; their types in
the checker, and a record field the schema leaves optional read with ``record.?f.?g.orValue(…)``."""

from __future__ import annotations

from typing import Any

import pytest

from engine.lang import ast as A
from engine.lang.parser import parse_condition
from engine.lang.printer import format_expr
from tests.lang._ext_helpers import checked, diagnostics, error_code, run


@pytest.mark.parametrize(
    "text",
    [
        'record.?recommender.?kind.orValue("")',
        'record.tags[?0].or(optional.of("黑龙江")).value()',
        "[?record.?nickname, record.name]",
        '{?"昵称": record.?nickname, "姓名": record.name}',
        "record.?recommender.optMap(r, r.name).hasValue()",
        "record.?recommender.optFlatMap(r, r.?name)",
        "optional.ofNonZeroValue(record.name).or(optional.none())",
        "record.`any`.?`content-type`",
    ],
)
def test_round_trip(text: str) -> None:
    node = parse_condition(text)
    assert parse_condition(format_expr(node)) == node


def test_nodes() -> None:
    node = parse_condition("a.?b[?0]")
    assert isinstance(node, A.OptIndex) and isinstance(node.operand, A.OptSelect)
    lit = parse_condition("[1, ?x, 2]")
    assert isinstance(lit, A.ListLit) and lit.optional == (1,)
    # `or` is a keyword, yet a method after a dot; `a or b` still means `a || b`
    assert isinstance(parse_condition("o.or(p)"), A.Call)
    assert parse_condition("a or b") == parse_condition("a || b")
    # `?` after an expression is still the conditional
    assert isinstance(parse_condition("[a ? b : c]"), A.ListLit)


REC: dict[str, Any] = {
    "name": "张三",
    "recommender": {"kind": "group_member_unit", "name": "哈尔滨市音乐家协会"},
    "tags": ["黑龙江"],
}


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (REC, "group_member_unit"),
        ({"name": "李四"}, ""),  # absent
        ({"name": "李四", "recommender": None}, ""),  # null, which the schema allows: none
        ({"name": "李四", "recommender": {"name": "某单位"}}, ""),  # without a kind
    ],
)
def test_an_optional_record_field(rec: dict[str, Any], expected: str) -> None:
    assert run('record.?recommender.?kind.orValue("")', rec) == expected
    assert run('record.?recommender.?kind.orValue("") in kinds', rec) == (expected in ("group_member_unit",))


def test_a_record_field_of_the_wrong_type_is_still_an_error() -> None:
    e = run('record.?recommender.?kind.orValue("")', {"recommender": {"kind": 5}})
    assert getattr(e, "code", None) == "eval.wrong-type" and e.path == "recommender.kind"
    assert error_code("record.?name.hasValue()", {"name": ["x"]}) == "eval.wrong-type"


def test_the_checker_knows_the_record_schema() -> None:
    c = checked('record.?recommender.?kind.orValue("")')
    assert c.ok and str(c.type_of(c.node)) == "string"
    inner = checked("record.?recommender.?kind")
    assert str(inner.type_of(inner.node)) == "optional(string)"
    found = diagnostics("record.?recommender.?kinds.orValue('')")
    assert found and found[0][0] == "check.unknown-field" and "kinds" in found[0][1]


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("record.name.hasValue()", "check.type", "`hasValue` cannot take (string)"),
        ("optional.of(1).orValue()", "check.arity", "orValue"),
        ("[?record.name]", "check.type", "needs an optional value"),
        ("{?'a': 1}", "check.type", "needs an optional value"),
        ("record.name.optMap(n, n)", "check.type", "needs an optional value"),
        ("optional.of(1).optFlatMap(n, n)", "check.type", "optional value as its result"),
        ("optional.of(1).value() == 'a'", "check.type", "never"),
    ],
)
def test_check_errors(text: str, code: str, words: str) -> None:
    found = diagnostics(text)
    assert any(c == code and words in m for c, m in found), found


def test_a_wrong_call_shows_the_signatures() -> None:
    d = checked("record.name.hasValue()").diagnostics[0]
    assert d.help_text is not None and "optional(dyn)" in d.help


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("optional.of(record.name).value()", "张三"),
        ("optional.none().orValue('无')", "无"),
        ("optional.ofNonZeroValue('').hasValue() || optional.ofNonZeroValue([]).hasValue()", False),
        ("optional.ofNonZeroValue(0.0).or(optional.of(2)).value()", 2),
        ("record.tags[?0].orValue('')", "黑龙江"),
        ("record.tags[?5].orValue('无')", "无"),
        ("{'省': '黑龙江'}[?'省'].value()", "黑龙江"),
        ("[?record.?nickname, record.name]", ["张三"]),
        ("{?'昵称': record.?nickname, '姓名': record.name}", {"姓名": "张三"}),
        ("record.?recommender.optMap(r, r.name).orValue('')", "哈尔滨市音乐家协会"),
        ("record.?nickname.optMap(n, n + '!').hasValue()", False),
        ("record.?recommender.optFlatMap(r, r.?name).value()", "哈尔滨市音乐家协会"),
        ("optional.of({'c': {}}).c.missing.orValue('默认')", "默认"),
        ("has(optional.of({'c': 1}).c) && !has(optional.none().c)", True),
        ("optional.of(1) == optional.of(1.0) && optional.none() != optional.of(null)", True),
        ("type(optional.none()) == optional_type", True),
    ],
)
def test_results(text: str, expected: Any) -> None:
    assert run(text, REC) == expected


def test_errors() -> None:
    assert error_code("optional.none().value()") == "eval.optional-none"
    assert "orValue" in str(run("optional.none().value()"))
    # `.?` on something that has no fields
    assert error_code("optional.of(dyn(1)).?a.hasValue()") == "eval.no-such-field"
    # an element written `?x` must be optional, found at run time when the type is dyn
    assert error_code("[?dyn(1)]") == "eval.no-overload"
