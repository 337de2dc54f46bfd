"""The math extension: greatest/least (numbers, and dates as this engine's extension), rounding,
signs, bits; the spec's overflow and errors; typing at the call.

The cel-spec conformance cases of ``math_ext`` run in ``tests/test_conformance.py``
and through both engines in ``tests/lang/test_differential.py``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.conformance import evaluate
from engine.errors import EvalError
from engine.lang import ext_math as M
from engine.lang.check import Scope, check_condition
from engine.lang.compile import compile_condition
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.interp import interpret_condition
from engine.lang.parser import parse_condition
from engine.lang.types import schema_type
from engine.lang.values import UInt

ENGINES = ["compiled", "interpreter"]
FUNCTIONS = FunctionTable(STANDARD_FUNCTIONS)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "joined": {"type": "string", "format": "date"},
        "renewed": {"type": "string", "format": "date"},
        "dates": {"type": "array", "items": {"type": "string", "format": "date"}},
        "fees": {"type": "array", "items": {"type": "number"}},
        "name": {"type": "string"},
    },
}
REC = {
    "joined": "2019-03-01",
    "renewed": "2024-06-30",
    "dates": ["2021-01-05", "2025-02-28", "2020-12-31"],
    "fees": [120, 80.5, 300],
    "name": "张三",
}
AS_OF = dt.date(2026, 3, 1)


def run(text: str, engine: str = "compiled") -> Any:
    checked = check_condition(parse_condition(text), Scope(schema_type(SCHEMA), FUNCTIONS))
    assert checked.ok, [d.message for d in checked.diagnostics]
    build = interpret_condition if engine == "interpreter" else compile_condition
    return build(checked, {}, {})(REC, AS_OF, {})


def diagnostics(text: str) -> list[tuple[str, str, str]]:
    checked = check_condition(parse_condition(text), Scope(schema_type(SCHEMA), FUNCTIONS))
    return [(d.code, text[d.span.start : d.span.end] if d.span else "", d.help or "") for d in checked.diagnostics]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("math.greatest(record.joined, record.renewed)", dt.date(2024, 6, 30)),
        ("math.least(record.joined, record.renewed, as_of)", dt.date(2019, 3, 1)),
        ("math.greatest(record.dates)", dt.date(2025, 2, 28)),
        ("math.least(record.dates)", dt.date(2020, 12, 31)),
        ("math.greatest(record.dates) < as_of", True),
        ("full_years(math.least(record.dates), as_of)", 5),
        ("math.greatest(record.fees)", 300),
        ("math.least(record.fees)", 80.5),
        ("math.greatest(1, 2u, 2.5)", 2.5),
        ("math.greatest(1, 2) + 1", 3),
    ],
)
def test_greatest_and_least_of_dates_and_numbers(text: str, expected: Any, engine: str) -> None:
    got = run(text, engine)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("text", "code", "at", "help"),
    [
        ("math.greatest(record.joined, 1) == 1", "check.type", "math.greatest(record.joined, 1)", "numbers, or dates"),
        ("math.greatest(record.name, 'b') == 'b'", "check.type", "math.greatest(record.name, 'b')", "numbers"),
        ("math.ceil(1) == 1.0", "check.type", "math.ceil(1)", "(double)"),
        ("math.abs('x') == 1", "check.type", "math.abs('x')", "(int); (uint); (double)"),
        ("math.bitAnd(1, 1u) == 1", "check.type", "math.bitAnd(1, 1u)", "(int, int); (uint, uint)"),
        ("math.round(1.5, 2) == 2.0", "check.arity", "math.round", "(double)"),
        ("math.greatest() == 1", "check.arity", "math.greatest", ""),
        ("math.gretest(1, 2) == 2", "check.unknown-function", "math.gretest", "math.greatest"),
        ("math.pow(4.0) == 2.0", "check.unknown-function", "math.pow", "the functions of `math` are"),
    ],
)
def test_wrong_arguments_are_reported_at_the_call(text: str, code: str, at: str, help: str) -> None:
    found = diagnostics(text)
    assert found, text
    assert found[0][:2] == (code, at)
    assert help in found[0][2]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("math.abs(-9223372036854775807 - 1)", "eval.overflow"),
        ("math.bitShiftLeft(1, -1)", "eval.bad-argument"),
        ("math.greatest(dyn([]))", "eval.empty"),
        ("math.greatest(dyn(['a', 'b']))", "eval.no-overload"),
        ("math.least([1, dyn(timestamp(0))])", "eval.no-overload"),
        ("math.round(dyn(1))", "eval.no-overload"),
    ],
)
def test_errors(text: str, code: str, engine: str) -> None:
    with pytest.raises(EvalError) as e:
        evaluate(text, {}, engine=engine)
    assert e.value.code == code
    assert e.value.message and e.value.message_zh


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (0.5, 1.0),
        (-0.5, -1.0),
        (2.5, 3.0),
        (0.49999999999999994, 0.0),
        (4503599627370497.0, 4503599627370497.0),
        (1e300, 1e300),
        (-0.0, -0.0),
    ],
)
def test_round_halves_away_from_zero(x: float, expected: float) -> None:
    got = M.round_half_away(x)
    assert got == expected and math.copysign(1, got) == math.copysign(1, expected)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(min_value=0, max_value=70))
def test_shifts_stay_in_64_bits(n: int, k: int) -> None:
    left = M.bit_shift_left(n, k)
    right = M.bit_shift_right(n, k)
    assert -(2**63) <= left < 2**63 and -(2**63) <= right < 2**63
    if k < 64:
        assert left == ((n << k) + 2**63) % 2**64 - 2**63
        logical = (n % 2**64) >> k  # zeros shifted in, read back as a signed int
        assert right == (logical - 2**64 if logical >= 2**63 else logical)
    else:
        assert left == right == 0


@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=0, max_value=2**64 - 1))
def test_uint_bits(a: int, b: int) -> None:
    ua, ub = UInt(a), UInt(b)
    for got, want in [
        (M.bit_and(ua, ub), a & b),
        (M.bit_or(ua, ub), a | b),
        (M.bit_xor(ua, ub), a ^ b),
        (M.bit_not(ua), 2**64 - 1 - a),
    ]:
        assert isinstance(got, UInt) and got == want


def test_sign_keeps_the_type() -> None:
    assert M.sign(-7) == -1 and type(M.sign(-7)) is int
    assert isinstance(M.sign(UInt(9)), UInt)
    assert M.sign(-2.5) == -1.0 and math.isnan(M.sign(float("nan")))
