"""``cel.bind(name, value, expression)``: a local name for a value computed once (CEL's bindings
extension), typed by the checker, shadowing as CEL says, and refused where it would hide a name
of the rulebook."""

from __future__ import annotations

import pytest

from engine.errors import ConditionSyntaxError
from engine.lang import ast as A
from engine.lang.parser import parse_condition
from engine.lang.printer import format_expr
from tests.lang._ext_helpers import checked, diagnostics, error_code, run

REC = {"name": "  黑龙江省 ", "scores": [60, 75, 90], "tags": ["黑龙江", "哈尔滨"]}


def test_round_trip() -> None:
    text = "cel.bind(n, size(record.scores), n >= 1 && n <= 5)"
    node = parse_condition(text)
    assert isinstance(node, A.Bind) and node.var == "n"
    assert format_expr(node) == text
    assert parse_condition(format_expr(node)) == node


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cel.bind(n, 1)", "`cel.bind()` takes 3 arguments, not 2"),
        ("cel.bind(1, 2, 3)", "the first argument of `cel.bind()` must be a variable name"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    d = info.value.diagnostics[0]
    assert d.code == "syntax.bad-macro" and d.message == message
    assert "cel.bind()" in d.message_text.zh and d.help_text is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cel.bind(n, size(record.scores), n >= 1 && n <= 5)", True),
        ("cel.bind(s, record.scores, s.all(x, x >= 60) && s[0] < s[2])", True),
        ("cel.bind(a, 1, cel.bind(b, a + 1, a + b))", 3),
        ("cel.bind(x, 1, cel.bind(x, x + 1, x))", 2),  # the inner name hides the outer
        ("cel.bind(t, record.tags, t.exists(x, x == '黑龙江'))", True),
        ("record.scores.map(x, cel.bind(y, x * 2, y + 1))", [121, 151, 181]),
    ],
)
def test_results(text: str, expected: object) -> None:
    assert run(text, REC) == expected


def test_types() -> None:
    c = checked("cel.bind(n, size(record.scores), n)")
    assert c.ok and str(c.type_of(c.node)) == "int"
    found = diagnostics("cel.bind(n, record.name, n > 1)")
    assert found and found[0][0] == "check.type"


def test_a_binding_may_not_hide_a_rulebook_name() -> None:
    found = diagnostics("cel.bind(lim, 1, lim > 0)")
    assert found and found[0][0] == "check.shadow"
    assert diagnostics("cel.bind(record, 1, record > 0)")[0][0] == "check.shadow"


def test_outside_rulebooks_a_binding_hides_a_variable_as_in_cel() -> None:
    from engine.conformance import evaluate

    assert evaluate("cel.bind(x, 0, x == 0)", {"x": 1}, type_env={"x": "int"}) is True


def test_the_value_is_computed_even_if_unused_and_its_error_shows() -> None:
    assert error_code("cel.bind(x, 1 / 0, true)") == "eval.division-by-zero"
