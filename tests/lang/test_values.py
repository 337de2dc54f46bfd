"""Run-time value semantics: equality, ordering, uint, arithmetic, containers, record guards."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pytest

from engine.errors import EvalError
from engine.lang import values as V
from engine.lang.values import INT_MAX, INT_MIN, UINT_MAX, UInt

D = dt.date
NAN = float("nan")


def raises(code: str, fn: Callable[..., Any], *args: Any) -> EvalError:
    with pytest.raises(EvalError) as info:
        fn(*args)
    assert info.value.code == code, info.value
    return info.value


# -- equality ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (1, 1.0, True),
        (UInt(1), 1, True),
        (UInt(1), 1.0, True),
        (1, 2, False),
        (True, 1, False),
        (False, 0, False),
        (True, True, True),
        (None, None, True),
        (None, False, False),
        (None, 0, False),
        ("a", "a", True),
        ("1", 1, False),
        (b"a", "a", False),
        (D(2020, 1, 1), D(2020, 1, 1), True),
        (D(2020, 1, 1), "2020-01-01", False),
        (NAN, NAN, False),
        ([1, 2], [1.0, 2.0], True),
        ((1, 2), [1, 2], True),
        ([1], [1, 2], False),
        ([True], [1], False),
        ([[1]], [[1.0]], True),
        ({"a": 1}, {"a": 1.0}, True),
        ({"a": 1}, {"b": 1}, False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({1: "x"}, {1.0: "x"}, True),
        ({True: "x"}, {1: "x"}, False),
        ({}, [], False),
    ],
)
def test_cel_eq(a: Any, b: Any, expected: bool) -> None:
    assert V.cel_eq(a, b) is expected
    assert V.cel_eq(b, a) is expected
    assert V.cel_ne(a, b) is (not expected)


# -- ordering ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "lt"),
    [
        (1, 2, True),
        (2, 1.5, False),
        (1.5, 2, True),
        (UInt(1), 2, True),
        ("a", "b", True),
        ("b", "a", False),
        ("", "a", True),
        (b"a", b"b", True),
        (D(2020, 1, 1), D(2020, 1, 2), True),
        (False, True, True),
        (1, 1, False),
    ],
)
def test_ordering(a: Any, b: Any, lt: bool) -> None:
    assert V.cel_lt(a, b) is lt
    assert V.cel_ge(a, b) is (not lt)
    assert V.cel_gt(b, a) is lt
    assert V.cel_le(b, a) is (not lt)


@pytest.mark.parametrize("fn", [V.cel_lt, V.cel_le, V.cel_gt, V.cel_ge], ids=["lt", "le", "gt", "ge"])
def test_nan_is_unordered(fn: Callable[[Any, Any], bool]) -> None:
    assert fn(NAN, 1) is False
    assert fn(1, NAN) is False
    assert fn(NAN, NAN) is False


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, "a"),
        ("a", 1),
        (True, 1),
        (1, True),
        (None, None),
        (None, 1),
        ([1], [2]),
        ({}, {}),
        (D(2020, 1, 1), "2020-01-01"),
        ("a", b"a"),
    ],
    ids=[
        "int-string",
        "string-int",
        "bool-int",
        "int-bool",
        "null-null",
        "null-int",
        "lists",
        "maps",
        "date-string",
        "string-bytes",
    ],
)
@pytest.mark.parametrize("fn", [V.cel_lt, V.cel_le, V.cel_gt, V.cel_ge], ids=["lt", "le", "gt", "ge"])
def test_ordering_across_kinds_is_an_error(fn: Callable[[Any, Any], bool], a: Any, b: Any) -> None:
    err = raises("eval.no-overload", fn, a, b)
    assert V.type_name(a) in err.message and V.type_name(b) in err.message


# -- uint ----------------------------------------------------------------------------------------


def test_uint_is_a_distinct_kind() -> None:
    u = UInt(3)
    assert repr(u) == "3u"
    assert V.type_name(u) == "uint" and V.type_name(3) == "int"
    assert isinstance(V.cel_add(u, UInt(1)), UInt)
    assert V.cel_add(u, UInt(1)) == 4
    assert isinstance(V.cel_div(UInt(7), UInt(2)), UInt) and V.cel_div(UInt(7), UInt(2)) == 3
    assert isinstance(V.cel_mod(UInt(7), UInt(2)), UInt) and V.cel_mod(UInt(7), UInt(2)) == 1


@pytest.mark.parametrize(
    ("fn", "args", "code"),
    [
        (V.cel_add, (UInt(1), 1), "eval.no-overload"),
        (V.cel_mul, (2, UInt(1)), "eval.no-overload"),
        (V.cel_sub, (UInt(0), UInt(1)), "eval.overflow"),
        (V.cel_add, (UInt(UINT_MAX), UInt(1)), "eval.overflow"),
        (V.cel_mul, (UInt(2**63), UInt(2)), "eval.overflow"),
        (V.cel_neg, (UInt(1),), "eval.no-overload"),
        (V.cel_div, (UInt(1), UInt(0)), "eval.division-by-zero"),
    ],
)
def test_uint_errors(fn: Callable[..., Any], args: tuple[Any, ...], code: str) -> None:
    raises(code, fn, *args)


# -- arithmetic ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "a", "b", "expected"),
    [
        (V.cel_add, INT_MAX - 1, 1, INT_MAX),
        (V.cel_sub, INT_MIN + 1, 1, INT_MIN),
        (V.cel_div, -7, 2, -3),
        (V.cel_div, 7, -2, -3),
        (V.cel_mod, -7, 2, -1),
        (V.cel_mod, 7, -2, 1),
        (V.cel_mod, INT_MIN, -1, 0),
        (V.cel_add, 1.5, 2.0, 3.5),
        (V.cel_add, "a", "b", "ab"),
        (V.cel_add, b"a", b"b", b"ab"),
        (V.cel_add, [1], (2,), [1, 2]),
        (V.cel_div, 1.0, 0.0, math.inf),
        (V.cel_div, -1.0, 0.0, -math.inf),
        (V.cel_div, 1.0, -0.0, -math.inf),
    ],
)
def test_arithmetic(fn: Callable[[Any, Any], Any], a: Any, b: Any, expected: Any) -> None:
    got = fn(a, b)
    assert got == expected and type(got) is type(expected)


def test_zero_by_zero_double_is_nan() -> None:
    assert math.isnan(V.cel_div(0.0, 0.0))


@pytest.mark.parametrize(
    ("fn", "args", "code"),
    [
        (V.cel_add, (INT_MAX, 1), "eval.overflow"),
        (V.cel_sub, (INT_MIN, 1), "eval.overflow"),
        (V.cel_mul, (INT_MAX, 2), "eval.overflow"),
        (V.cel_div, (INT_MIN, -1), "eval.overflow"),
        (V.cel_neg, (INT_MIN,), "eval.overflow"),
        (V.cel_div, (1, 0), "eval.division-by-zero"),
        (V.cel_mod, (1, 0), "eval.division-by-zero"),
        (V.cel_add, (1, 1.0), "eval.no-overload"),
        (V.cel_add, (True, True), "eval.no-overload"),
        (V.cel_add, (None, None), "eval.no-overload"),
        (V.cel_sub, ("a", "a"), "eval.no-overload"),
        (V.cel_mod, (1.5, 1.0), "eval.no-overload"),
        (V.cel_add, (D(2020, 1, 1), D(2020, 1, 1)), "eval.no-overload"),
        (V.cel_neg, ("a",), "eval.no-overload"),
    ],
)
def test_arithmetic_errors(fn: Callable[..., Any], args: tuple[Any, ...], code: str) -> None:
    raises(code, fn, *args)


# -- containers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        (["a", "a"], "eval.duplicate-key"),
        ([1, 2, 1], "eval.duplicate-key"),
        ([1, UInt(1)], "eval.duplicate-key"),
        ([True, True], "eval.duplicate-key"),
        ([1.5], "eval.bad-key"),
        ([1.0], "eval.bad-key"),
        ([None], "eval.bad-key"),
        ([[1]], "eval.bad-key"),
        ([D(2020, 1, 1)], "eval.bad-key"),
    ],
)
def test_make_map_errors(keys: list[Any], code: str) -> None:
    raises(code, V.make_map, keys, list(range(len(keys))))


def test_make_map() -> None:
    m = V.make_map(["a", "b", 3], [1, 2, 3])
    assert m == {"a": 1, "b": 2, 3: 3}


def test_make_map_keeps_int_and_bool_keys_apart() -> None:
    # `{1: "a", true: "b"}`: 1 and true are different keys in CEL; the map must not silently
    # lose one of the entries (a Python dict conflates 1 and True).
    try:
        m = V.make_map([1, True], ["a", "b"])
    except EvalError:
        return  # refusing the literal is acceptable too
    assert V.cel_index(m, 1) == "a"
    assert V.cel_index(m, True) == "b"


@pytest.mark.parametrize(
    ("container", "index", "expected"),
    [
        ([10, 20], 0, 10),
        ([10, 20], 1, 20),
        ((10, 20), 1, 20),
        ([10, 20], 1.0, 20),
        ([10, 20], UInt(1), 20),
        ({"a": 1}, "a", 1),
        ({1: "x"}, 1.0, "x"),
        ({1: "x"}, UInt(1), "x"),
        ({True: "t"}, True, "t"),
    ],
)
def test_cel_index(container: Any, index: Any, expected: Any) -> None:
    assert V.cel_index(container, index) == expected


@pytest.mark.parametrize(
    ("container", "index", "code"),
    [
        ([10, 20], 2, "eval.index-out-of-range"),
        ([10, 20], -1, "eval.index-out-of-range"),
        ([], 0, "eval.index-out-of-range"),
        ([10, 20], 0.5, "eval.bad-index"),
        ([10, 20], "0", "eval.no-overload"),
        ([10, 20], True, "eval.no-overload"),
        ({"a": 1}, "b", "eval.missing-key"),
        ({1: "x"}, True, "eval.missing-key"),
        ({True: "t"}, 1, "eval.missing-key"),
        ("abc", 0, "eval.no-overload"),
        (None, 0, "eval.no-overload"),
    ],
)
def test_cel_index_errors(container: Any, index: Any, code: str) -> None:
    raises(code, V.cel_index, container, index)


@pytest.mark.parametrize(
    ("x", "container", "expected"),
    [
        (2, [1, 2.0], True),
        (True, [1], False),
        ("a", ("a", "b"), True),
        ("a", frozenset({"a"}), True),
        (1, frozenset({1.0}), True),
        ("a", {"a": 1}, True),
        (1.0, {1: "x"}, True),
        ("z", [], False),
    ],
)
def test_cel_in(x: Any, container: Any, expected: bool) -> None:
    assert V.cel_in(x, container) is expected


def test_cel_in_needs_a_container() -> None:
    raises("eval.no-overload", V.cel_in, "a", "abc")


# -- logic ---------------------------------------------------------------------------------------

ERR = EvalError("eval.x", "boom")


@pytest.mark.parametrize(
    ("op", "a", "b", "expected"),
    [
        ("&&", ERR, False, False),
        ("&&", False, ERR, False),
        ("||", ERR, True, True),
        ("||", True, ERR, True),
        ("&&", True, True, True),
        ("||", False, False, False),
        ("&&", ERR, True, "eval.x"),
        ("||", False, ERR, "eval.x"),
        ("&&", ZeroDivisionError(), True, "eval.division-by-zero"),
        ("&&", 1, True, "eval.no-overload"),
        ("||", "a", False, "eval.no-overload"),
    ],
)
def test_logic_fix(op: str, a: Any, b: Any, expected: Any) -> None:
    if isinstance(expected, str):
        raises(expected, V.logic_fix, op, a, b)
    else:
        assert V.logic_fix(op, a, b) is expected


def test_not() -> None:
    assert V.cel_not(True) is False and V.cel_not(False) is True
    raises("eval.no-overload", V.cel_not, 0)
    raises("eval.no-overload", V.cel_not, None)


# -- guards for record fields --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "nullable", "expected"),
    [
        ("a", "string", False, "a"),
        (3, "int", False, 3),
        (3.0, "int", False, 3),
        (3, "double", False, 3.0),
        (True, "bool", False, True),
        ([1], "list", False, [1]),
        ({}, "object", False, {}),
        ({}, "map", False, {}),
        (None, "string", True, None),
        ("2020-02-29", "date", False, D(2020, 2, 29)),
        (None, "date", True, None),
    ],
)
def test_want(value: Any, kind: str, nullable: bool, expected: Any) -> None:
    got = V.want(value, kind, "f.g", nullable)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "kind", "nullable", "code"),
    [
        (True, "int", False, "eval.wrong-type"),
        (3.5, "int", False, "eval.wrong-type"),
        ("3", "int", False, "eval.wrong-type"),
        (True, "double", False, "eval.wrong-type"),
        (1, "bool", False, "eval.wrong-type"),
        (None, "string", False, "eval.wrong-type"),
        ("a", "list", False, "eval.wrong-type"),
        ([], "object", False, "eval.wrong-type"),
        ("2020-02-30", "date", False, "eval.bad-date"),
        ("2020-2-3", "date", False, "eval.bad-date"),
        ("20200101", "date", False, "eval.bad-date"),
        (20200101, "date", False, "eval.wrong-type"),
        (None, "date", False, "eval.wrong-type"),
    ],
)
def test_want_errors(value: Any, kind: str, nullable: bool, code: str) -> None:
    err = raises(code, V.want, value, kind, "f.g", nullable)
    assert err.path == "f.g" and "`f.g`" in err.message


def test_to_date_refuses_datetimes() -> None:
    assert V.to_date(D(2020, 1, 1)) == D(2020, 1, 1)
    raises("eval.wrong-type", V.to_date, dt.datetime(2020, 1, 1))


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ZeroDivisionError(), "eval.division-by-zero"),
        (RecursionError(), "eval.too-deep"),
        (MemoryError(), "eval.too-large"),
        (ValueError("x"), "eval.internal"),
    ],
)
def test_wrap_error(exc: BaseException, code: str) -> None:
    assert V.wrap_error(exc).code == code


def test_wrap_error_keeps_eval_errors() -> None:
    assert V.wrap_error(ERR) is ERR


@pytest.mark.parametrize(
    ("obj", "code"),
    [({}, "eval.missing-field"), (None, "eval.null-field"), (1, "eval.no-such-field"), ("s", "eval.no-such-field")],
)
def test_select_errors(obj: Any, code: str) -> None:
    err = raises(code, V.select, obj, "b", "a.b")
    assert err.path == "a.b"


def test_select_and_has() -> None:
    assert V.select({"b": 1}, "b", "a.b") == 1
    assert V.has({"b": None}, "b") is True
    assert V.has({}, "b") is False
    raises("eval.no-such-field", V.has, [], "b")


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "bool"),
        (1, "int"),
        (UInt(1), "uint"),
        (1.0, "double"),
        ("", "string"),
        (b"", "bytes"),
        (D(2020, 1, 1), "date"),
        ([], "list"),
        ((), "list"),
        ({}, "map"),
    ],
)
def test_type_name(value: Any, name: str) -> None:
    assert V.type_name(value) == name
