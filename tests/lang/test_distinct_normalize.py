"""`distinct(list)` and `normalize(string)`: counting different things typed by hand.

Both are checked as functions and through the compiler and the interpreter,
which must agree (the rulebook's introducer count relies on them).
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from engine.conformance import evaluate
from engine.errors import EvalError
from engine.lang.functions import _distinct, _normalize
from engine.lang.values import UInt


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["M-1", "M-2", "M-1"], ["M-1", "M-2"]),  # first occurrences, in order
        ([2, 1, 2, 1], [2, 1]),
        ([1, UInt(1), 1.0, 1.5], [1, 1.5]),  # CEL equality across int, uint, double
        ([True, 1, False, 0], [True, 1, False, 0]),  # bool is not a number
        ([None, None, "null"], [None, "null"]),
        ([dt.date(2026, 3, 1), dt.date(2026, 3, 1)], [dt.date(2026, 3, 1)]),
        ([[1], [1.0], [1, 2]], [[1], [1, 2]]),  # lists compare by value
        ([{"a": 1}, {"a": 1}, {"a": 2}], [{"a": 1}, {"a": 2}]),
        ([], []),
    ],
)
def test_distinct(items: list[object], expected: list[object]) -> None:
    got = _distinct(items)
    assert got == expected
    assert [type(v) for v in got] == [type(v) for v in expected]


def test_distinct_keeps_every_nan() -> None:
    got = _distinct([math.nan, math.nan, 1.0])
    assert len(got) == 3 and math.isnan(got[0]) and math.isnan(got[1])


def test_distinct_of_a_non_list_is_an_error() -> None:
    with pytest.raises(EvalError) as e:
        _distinct("M-1")
    assert e.value.code == "eval.no-overload"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M-0312", "m-0312"),
        (" Ｍ－０３１２\u3000", "m-0312"),  # full-width letters, digits, sign and space
        ("\tm-0312 ", "m-0312"),
        ("李 老师", "李 老师"),  # inner white space is kept
        ("Straße", "strasse"),  # case folding, not only lower case
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert _normalize(text) == expected


def test_normalize_of_a_non_string_is_an_error() -> None:
    with pytest.raises(EvalError) as e:
        _normalize(312)
    assert e.value.code == "eval.no-overload"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('size(distinct(["M-1", "M-2", "M-1"]))', 2),
        ('["M-1", " m-1", "Ｍ－１"].map(m, normalize(m)).distinct()', ["m-1"]),
        ("size(distinct([]))", 0),
        ("distinct([1, 2]).map(x, x * 2)", [2, 4]),
    ],
)
def test_compiled_and_interpreted_agree(expr: str, expected: object) -> None:
    assert evaluate(expr, {}) == expected
    assert evaluate(expr, {}, engine="interpreter") == expected
