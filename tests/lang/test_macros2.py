"""The two-variable macros (CEL's two-variable comprehensions): ``all``, ``exists``, ``existsOne``
(also spelled ``exists_one``) with an index (key) and an element (value), ``transformList``,
``transformMap`` and ``transformMapEntry``, with and without a filter.

Parsing and printing, the checker's types and errors, the results (the compiler and the reference
interpreter agreeing on each), CEL's error rules inside the macros, and the cost limit."""

from __future__ import annotations

from typing import Any

import pytest

from engine.errors import ConditionSyntaxError
from engine.lang import ast as A
from engine.lang.parser import parse_condition
from engine.lang.printer import format_expr
from engine.lang.types import INT, STRING, Type
from engine.lang.values import MAX_COST
from tests.lang._ext_helpers import checked, diagnostics, error_code, run

REC: dict[str, Any] = {
    "name": "张三",
    "scores": [60, 75, 75, 90],
    "tags": ["黑龙江", "哈尔滨", "黑龙江省"],
    "roles": {"张三": "主席", "李四": "委员", "王五": "委员"},
    "people": [{"name": "张三", "age": 30}, {"name": "李四", "age": 17}],
}


# -- syntax ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "record.scores.all(i, s, i == 0 || s >= record.scores[i - 1])",
        'record.roles.exists(name, role, role == "主席")',
        'record.roles.exists_one(name, role, role == "主席")',
        "record.scores.transformList(i, s, s * i)",
        "record.scores.transformList(i, s, i > 0, s * i)",
        'record.roles.transformMap(name, role, role + "（" + name + "）")',
        'record.roles.transformMap(name, role, role != "委员", name)',
        "record.roles.transformMapEntry(name, role, {role: name})",
        'record.roles.transformMapEntry(name, role, role == "主席", {role: name})',
    ],
)
def test_round_trip(text: str) -> None:
    node = parse_condition(text)
    assert isinstance(node, A.Comprehension) and node.var2 is not None
    assert parse_condition(format_expr(node)) == node


def test_the_forms_are_read_as_written() -> None:
    node = parse_condition("xs.transformList(i, x, i > 0, x + i)")
    assert isinstance(node, A.Comprehension)
    assert (node.macro, node.var, node.var2) == ("transformList", "i", "x")
    assert format_expr(node.filter) == "i > 0" and format_expr(node.body) == "x + i"  # type: ignore[arg-type]
    # existsOne and exists_one are one macro
    assert parse_condition("xs.existsOne(i, x, x > i)") == parse_condition("xs.exists_one(i, x, x > i)")
    assert parse_condition("xs.existsOne(x, x > 0)") == parse_condition("xs.exists_one(x, x > 0)")
    # map keeps its one-variable filter form: `map(x, p, f)`
    one = parse_condition("xs.map(x, x > 0, x * 2)")
    assert isinstance(one, A.Comprehension) and one.var2 is None and one.filter is not None


@pytest.mark.parametrize(
    ("text", "start", "en", "zh"),
    [
        ("xs.all(x, x, x > 0)", 10, "the two variables of `all()` are both named `x`", "`all()` 的两个变量都叫 `x`"),
        ("xs.transformList(x)", 0, "`transformList()` takes 3 or 4 arguments, not 1", "需要 3 或 4 个参数"),
        ("xs.transformMap(1, v, v)", 16, "the first argument of `transformMap()` must be a variable name", "变量名"),
        ("xs.exists(i, v + 1, v > 0)", 13, "the first argument of `exists()` must be a variable name", "变量名"),
        ("xs.existsOne(a, b, c, d)", 0, "`existsOne()` takes 2 or 3 arguments, not 4", "需要 2 或 3 个参数"),
    ],
)
def test_syntax_errors(text: str, start: int, en: str, zh: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    d = info.value.diagnostics[0]
    assert d.code == "syntax.bad-macro"
    assert d.span is not None and d.span.start == start
    assert d.message == en
    assert zh in d.message_text.zh and d.help_text is not None and d.help_text.zh


# -- types -----------------------------------------------------------------------------------------------------


def test_types() -> None:
    c = checked("record.scores.transformList(i, s, s * i)")
    assert c.ok and c.type_of(c.node) == Type("list", INT)
    c = checked("record.roles.transformMap(name, role, size(role))")
    assert c.ok and c.type_of(c.node) == Type("map", INT, STRING)
    c = checked("record.scores.transformMap(i, s, s > 60)")
    assert c.ok and str(c.type_of(c.node)) == "map(int, bool)"
    c = checked("record.roles.transformMapEntry(name, role, {role: name})")
    assert c.ok and str(c.type_of(c.node)) == "map(string, string)"
    c = checked("record.people.all(i, p, p.age > i)")  # the element's fields are checked against the schema
    assert c.ok


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("record.scores.all(i, s, s)", "check.not-bool", "predicate"),
        ('record.scores.all(i, s, i == "0")', "check.type", "never"),
        ("record.people.exists(i, p, p.agee > 18)", "check.unknown-field", "agee"),
        ("record.name.all(i, c, c == 'x')", "check.type", "needs a list or map"),
        ("record.roles.transformMapEntry(k, v, v)", "check.type", "needs a map as its result"),
        ("record.scores.transformList(i, s, s > 0 ? 1 : 0, s)", "check.not-bool", "filter"),
        ("record.scores.all(record, s, s > 0)", "check.shadow", "record"),
        ("record.scores.all(i, lim, lim > 0)", "check.shadow", "lim"),
    ],
)
def test_check_errors(text: str, code: str, words: str) -> None:
    found = diagnostics(text)
    assert any(c == code and words in m for c, m in found), found


# -- results ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("record.scores.all(i, s, i == 0 || s >= record.scores[i - 1])", True),
        ("record.scores.exists(i, s, i > 0 && s == record.scores[i - 1])", True),
        ("record.scores.existsOne(i, s, s == 90 && i == 3)", True),
        ("record.scores.exists_one(i, s, s == 75)", False),
        ('record.roles.all(name, role, role == "委员" || name == "张三")', True),
        ('record.roles.existsOne(name, role, role == "主席")', True),
        ('record.roles.exists(name, role, name.startsWith("李") && role == "主席")', False),
        ("record.tags.transformList(i, t, t + string(i))", ["黑龙江0", "哈尔滨1", "黑龙江省2"]),
        ('record.tags.transformList(i, t, t.endsWith("省"), i)', [2]),
        ("record.scores.transformMap(i, s, s >= 75)", {0: False, 1: True, 2: True, 3: True}),
        (
            'record.roles.transformMap(name, role, role == "委员", name + "（委员）")',
            {"李四": "李四（委员）", "王五": "王五（委员）"},
        ),
        ('record.roles.transformMapEntry(name, role, role == "主席", {role: name})', {"主席": "张三"}),
        ("record.people.transformMapEntry(i, p, {p.name: p.age >= 18})", {"张三": True, "李四": False}),
        ("[].all(i, v, false) && !{}.exists(k, v, true)", True),
        # one variable and two variables nest, and the inner ones hide the outer ones
        ("record.scores.all(i, s, record.scores.all(j, t, j <= i || t >= s))", True),
        ("[[1, 2], [3]].transformList(i, xs, xs.transformList(i, x, x * 10 + i))", [[10, 21], [30]]),
    ],
)
def test_results(text: str, expected: Any) -> None:
    assert run(text, REC) == expected


def test_errors_follow_cel() -> None:
    # all/exists: an error is absorbed when another element decides the result ...
    assert run("[0, 1].exists(i, v, 10 / v == 10)") is True
    assert run("[0, 2].all(i, v, 10 / v == 10)") is False
    # ... and is the result when none does
    assert error_code("[0, 1].all(i, v, 10 / v == 10)") == "eval.division-by-zero"
    # existsOne and the transforms stop at the first error
    assert error_code("[1, 0, 1].existsOne(i, v, 10 / v == 10)") == "eval.division-by-zero"
    assert error_code("[1, 0].transformList(i, v, 10 / v)") == "eval.division-by-zero"
    # a key made twice by transformMapEntry is an error, never a lost entry
    assert error_code("['a', 'b'].transformMapEntry(i, v, {'k': v})") == "eval.duplicate-key"
    # a predicate that is not a bool
    assert error_code("[1].existsOne(i, v, dyn(v))") == "eval.no-overload"


def test_a_record_field_of_the_wrong_type_is_an_error_with_its_path() -> None:
    e = run("record.scores.all(i, s, s > 0)", {"scores": [1, "2"]})
    assert getattr(e, "code", None) == "eval.wrong-type" and e.path == "scores[]"


def test_each_iteration_is_charged() -> None:
    big = {"scores": list(range(MAX_COST + 10))}
    assert error_code("record.scores.all(i, s, s >= 0)", big) == "eval.cost-limit"
    # nested: the inner macro's iterations count too
    n = {"scores": list(range(1100))}
    assert error_code("record.scores.all(i, s, record.scores.all(j, t, i + j >= 0))", n) == "eval.cost-limit"
    assert error_code("size(record.scores.transformList(i, s, record.scores.transformMap(j, t, t))) > 0", n) == (
        "eval.cost-limit"
    )
