"""CEL core semantics beyond the rulebook's needs: timestamps, durations, conversions, type values,
heterogeneous numbers, map keys, regular expressions, qualified names, evaluation order and cost.

Expressions run in a plain CEL environment through ``engine.conformance.evaluate``
(the conformance adapter), with both the compiler and the interpreter.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from engine.conformance import evaluate
from engine.errors import CheckError, EvalError
from engine.lang import values as V
from engine.lang.functions import format_double
from engine.lang.times import NS, parse_duration, parse_timestamp
from engine.lang.types import parse_cel_type

ENGINES = ["compiled", "interpreter"]


def ev(text: str, engine: str = "compiled", **kw: Any) -> Any:
    bindings = kw.pop("bindings", {})
    return evaluate(text, bindings, engine=engine, **kw)


def err(text: str, engine: str = "compiled", **kw: Any) -> str:
    with pytest.raises(EvalError) as info:
        ev(text, engine, **kw)
    return info.value.code


# -- values that are true ----------------------------------------------------------------------------------

TRUE = [
    # heterogeneous numbers: an int or uint against a double compares as a double
    "dyn(1) == 1u && dyn(1) == 1.0 && dyn(1u) == 1.0",
    "dyn(9007199254740993) == 9007199254740992.0",
    "!(dyn(9223372036854775807) < 9223372036854775808.0)",
    "dyn(9223372036854775807) >= 9223372036854775808.0",
    "dyn(-1) < 0u && dyn(18446744073709551615u) > 9223372036854775807",
    "!(0.0/0.0 == 0.0/0.0) && 0.0/0.0 != 0.0/0.0 && !(0.0/0.0 < 1.0) && !(dyn(1) >= 0.0/0.0)",
    "[1, 2.0, 3u] == [1u, 2, 3.0] && {1: 'a'} == {1u: 'a'} && 2.0 in [1, 2, 3]",
    "7 == 7.0 && 7 < 7.5 && 7.5 > 7",
    # map keys: 1, 1u and 1.0 are one key; true is another
    "{1: 'a'}[1u] == 'a' && {1: 'a'}[1.0] == 'a' && !(true in {1: 'a'}) && !(1 in {true: 'a'})",
    "{true: 'a', 2: 'b'}[true] == 'a' && {0: 'z', true: 'a'}[0] == 'z'",
    "'k' in {'k': 1} && !('k' in {1: 2})",
    # types
    "type(1) == int && type(1u) == uint && type(1.0) == double && type('') == string && type(b'') == bytes",
    "type(null) == null_type && type([]) == list && type({}) == map && type(int) == type && type(type) == type",
    "type(timestamp(0)) == google.protobuf.Timestamp && type(duration('1s')) == google.protobuf.Duration",
    "type(true) == bool && type(1) != type(1u) && type(dyn([1])) == list",
    # conversions
    "int('-42') == -42 && int(' 7') == 7 && int(-1.9) == -1 && int(2.9) == 2 && int(42u) == 42",
    "uint('42') == 42u && uint(42) == 42u && uint(1.9) == 1u",
    "double('1e3') == 1000.0 && double('-.5') == -0.5 && double(3) == 3.0 && double(3u) == 3.0",
    (
        "string(1.0) == '1' && string(1e21) == '1e+21' && string(1234567.0) == '1.234567e+06'"
        " && string(0.0001) == '0.0001'"
    ),
    "string(-0.0) == '-0' && string(1e-7) == '1e-07' && string(123.456) == '123.456' && string(3u) == '3'",
    "string(b'abc') == 'abc' && bytes('ÿ') == b'\\303\\277' && string(true) == 'true'",
    "bool('t') && bool('TRUE') && bool('1') && !bool('False') && !bool('0')",
    "dyn([1, 'a']) == [1, 'a']",
    # strings
    "size('πέντε') == 5 && size(b'ab') == 2 && 'abc'.size() == 3",
    "'hello'.contains('ell') && 'hello'.startsWith('he') && 'hello'.endsWith('lo') && ''.contains('')",
    "'hubba'.matches('ubb') && matches('abc', '^a.c$') && !'abc'.matches('^b') && '🐱😀😀'.matches('(a|😀){2}')",
    # timestamps and durations
    "timestamp('2009-02-13T23:31:30Z') == timestamp(1234567890)",
    "timestamp('2009-02-13T23:31:30+01:00') == timestamp('2009-02-13T22:31:30Z')",
    "timestamp('2009-02-13t23:31:30.5z') > timestamp('2009-02-13T23:31:30Z')",
    "string(timestamp('2009-02-13T23:31:30.120Z')) == '2009-02-13T23:31:30.120Z'",
    "string(timestamp('2009-02-13T23:31:30.000001Z')) == '2009-02-13T23:31:30.000001Z'",
    "string(timestamp(-1)) == '1969-12-31T23:59:59Z' && int(timestamp('1969-12-31T23:59:59.5Z')) == -1",
    "timestamp('1969-12-31T23:59:59.5Z').getMilliseconds() == 500",
    "duration('1h30m') == duration('5400s') && duration('1.5h') == duration('90m')",
    "duration('100ms') + duration('900ms') == duration('1s') && duration('-1m30s') == duration('-90s')",
    "duration('1us') == duration('1000ns') && duration('1µs') == duration('1000ns') && duration('0') == duration('0s')",
    "string(duration('1.5s')) == '1.500s' && string(duration('-0.000000001s')) == '-0.000000001s'",
    "string(duration('1h')) == '3600s'",
    "duration('3730s').getMinutes() == 62 && duration('-3730.5s').getMinutes() == -62",
    "duration('-3730.5s').getMilliseconds() == -500 && duration('10000s').getHours() == 2",
    "timestamp('2009-02-13T23:31:30Z') - timestamp('2009-02-13T23:29:00Z') == duration('150s')",
    "duration('120s') + timestamp('2009-02-13T23:01:00Z') == timestamp('2009-02-13T23:03:00Z')",
    "timestamp('2009-02-13T23:31:30Z').getFullYear() == 2009 && timestamp('2009-02-13T23:31:30Z').getMonth() == 1",
    "timestamp('2009-02-13T23:31:30Z').getDate() == 13 && timestamp('2009-02-13T23:31:30Z').getDayOfMonth() == 12",
    "timestamp('2009-02-13T23:31:30Z').getDayOfWeek() == 5 && timestamp('2009-02-13T23:31:30Z').getDayOfYear() == 43",
    (
        "timestamp('2009-02-13T23:31:30Z').getHours('+02:00') == 1"
        " && timestamp('2009-02-13T23:31:30Z').getHours('02:00') == 1"
    ),
    "timestamp('2009-02-13T23:31:30Z').getDate('Australia/Sydney') == 14",
    "timestamp('2009-02-13T23:31:30Z').getHours('Asia/Shanghai') == 7",
    "timestamp('2009-02-13T23:31:30Z').getMinutes('Asia/Kathmandu') == 16",
    "timestamp('2009-02-13T02:00:00Z').getDayOfMonth('-02:30') == 11",
    "timestamp('2009-02-13T23:31:30Z').getHours('UTC') == 23",
    "[timestamp(2), timestamp(1)].exists(t, t < timestamp(2))",
]


@pytest.mark.parametrize("text", TRUE)
@pytest.mark.parametrize("engine", ENGINES)
def test_true(text: str, engine: str) -> None:
    assert ev(text, engine) is True


# -- errors ------------------------------------------------------------------------------------------------

ERRORS = [
    ("{1: 'a', true: 'b'}", "eval.bad-key"),
    ("{1: 'a', 1u: 'b'}", "eval.duplicate-key"),
    ("{1.5: 'a'}", "eval.bad-key"),
    ("{1: 'a'}[true]", "eval.missing-key"),
    ("{true: 'a'}[1]", "eval.missing-key"),
    ("{'a': 1}.b", "eval.missing-key"),
    ("int('1_000')", "eval.bad-conversion"),
    ("int('١٢')", "eval.bad-conversion"),
    ("int('0x10')", "eval.bad-conversion"),
    ("double('1_0')", "eval.bad-conversion"),
    ("double('')", "eval.bad-conversion"),
    ("uint('-1')", "eval.bad-conversion"),
    ("uint(-0.5)", "eval.overflow"),
    ("int(0.0 / 0.0)", "eval.overflow"),
    ("int(dyn(true))", "eval.no-overload"),
    ("bool('yes')", "eval.bad-conversion"),
    ("string(b'\\xff')", "eval.bad-conversion"),
    ("'abc'.matches('(')", "eval.bad-regex"),
    ("'abc'.matches('(a)\\\\1')", "eval.bad-regex"),
    ("timestamp('2009-02-30T00:00:00Z')", "eval.bad-conversion"),
    ("timestamp('2009-02-13 23:31:30Z')", "eval.bad-conversion"),
    ("timestamp('0000-01-01T00:00:00Z')", "eval.overflow"),
    ("timestamp(253402300800)", "eval.overflow"),
    ("timestamp('9999-12-31T23:59:59.999999999Z') + duration('1ns')", "eval.overflow"),
    ("timestamp('9999-12-31T23:59:59Z') - timestamp('0001-01-01T00:00:00Z')", "eval.overflow"),
    ("duration('1d')", "eval.bad-conversion"),
    ("duration('1h-5m')", "eval.bad-conversion"),
    ("duration('')", "eval.bad-conversion"),
    ("duration('320000000000s')", "eval.overflow"),
    ("duration('200000000000s') + duration('200000000000s')", "eval.overflow"),
    ("timestamp(0).getHours('Mars/Olympus')", "eval.bad-argument"),
    ("timestamp(0).getHours('+5')", "eval.bad-argument"),
    ("timestamp(0).getHours('../../etc/passwd')", "eval.bad-argument"),
    ("dyn(duration('1s')).getFullYear()", "eval.no-overload"),
    ("dyn(timestamp(0)) + dyn(timestamp(0))", "eval.no-overload"),
    ("dyn(1) + dyn(1u)", "eval.no-overload"),
    ("dyn(1) + dyn(1.0)", "eval.no-overload"),
    ("dyn([1]) < dyn([2])", "eval.no-overload"),
    ("dyn(null) < dyn(null)", "eval.no-overload"),
    ("dyn(type(1)) < dyn(type(1))", "eval.no-overload"),
    ("x", "eval.unknown-name"),
    ("f(1)", "eval.unknown-function"),
    ("'a'.nope()", "eval.unknown-function"),
]


@pytest.mark.parametrize(("text", "code"), ERRORS)
@pytest.mark.parametrize("engine", ENGINES)
def test_errors(text: str, code: str, engine: str) -> None:
    assert err(text, engine, disable_check=True) == code


def test_check_errors_for_wrong_types() -> None:
    for text in ["timestamp(1.5)", "1 + 1u", "'a' < 1", "duration('1s') * 2", "-(1u)", "x.getHours()"]:
        with pytest.raises(CheckError):
            ev(text, bindings={"x": 1}, type_env={"x": "int"})


# -- values ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0x7fffffffffffffff", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("7 / -2", -3),
        ("-7 % 2", -1),
        ("7u / 2u", V.UInt(3)),
        ("-(0.0)", -0.0),
        ("1.0 / 0.0", math.inf),
        ("[1, 2] + [3]", [1, 2, 3]),
        ("{'a': 1, 'b': 2}.map(k, k)", ["a", "b"]),
        ("{'a': 1, 'b': 2}.filter(k, k == 'b')", ["b"]),
        ("[1, 2, 3].map(x, x > 1, x * 10)", [20, 30]),
        ("b'\\x00ab' + b'c'", b"\x00abc"),
    ],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_values(text: str, expected: Any, engine: str) -> None:
    got = ev(text, engine)
    assert (got == expected and type(got) is type(expected)) or (isinstance(expected, V.UInt) and got == expected)
    if isinstance(expected, float):
        assert math.copysign(1, got) == math.copysign(1, expected)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.5, "0.5"),
        (100000.0, "100000"),
        (1000000.0, "1e+06"),
        (1e21, "1e+21"),
        (1e-5, "1e-05"),
        (0.0001, "0.0001"),
        (-0.0, "-0"),
        (0.0, "0"),
        (123456789012345678.0, "1.2345678901234568e+17"),
        (5e-324, "5e-324"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
        (2.5e-3, "0.0025"),
    ],
)
def test_format_double(value: float, text: str) -> None:
    assert format_double(value) == text


def test_timestamps_and_durations_keep_nanoseconds() -> None:
    t = parse_timestamp("9999-12-31T23:59:59.999999999Z")
    assert t.nanos == 999_999_999 and str(t) == "9999-12-31T23:59:59.999999999Z"
    assert parse_duration("1.000000001s").ns == NS + 1
    assert parse_duration("-1.5s").ns == -1_500_000_000
    assert repr(parse_duration("90s")) == "duration('90s')"
    assert V.type_name(t) == "timestamp" and V.type_name(parse_duration("1s")) == "duration"
    # ordering a timestamp against another kind is an error value, not a Python exception
    with pytest.raises(EvalError):
        V.cel_lt(t, parse_duration("1s"))


def test_parse_cel_type() -> None:
    assert str(parse_cel_type("list(int)")) == "list(int)"
    assert str(parse_cel_type("map(string, dyn)")) == "map(string, dyn)"
    assert parse_cel_type("google.protobuf.Timestamp").kind == "timestamp"
    assert parse_cel_type("google.protobuf.Int64Value").nullable
    with pytest.raises(ValueError):
        parse_cel_type("TestAllTypes")


def test_weight_and_size_cost() -> None:
    assert V.size_cost("x" * 160) == 10 and V.size_cost([1] * 5) == 5 and V.size_cost(7) == 0
    shared = ["y" * 16] * 4
    assert V.weight([shared, shared]) == 2 + 2 * (4 + 4)
    assert V.weight({"k": [1, 2]}) == 1 + 2
    assert V.weight(list(range(10**6)), limit=10) > 10  # stops early


# -- names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_qualified_names_and_containers(engine: str) -> None:
    assert ev("a.b.c", engine, bindings={"a.b.c": "yeah", "a.b": {"c": "oops"}}) == "yeah"
    assert ev("a.b.c", engine, bindings={"a.b": {"c": "yeah"}}) == "yeah"
    assert ev("y", engine, bindings={"x.y": 1, "y": 2}, container="x") == 1
    assert ev(".y", engine, bindings={"x.y": 1, "y": 2}, container="x") == 2
    assert ev("y", engine, bindings={"com.example.y": 1}, container="com.example.sub") == 1
    assert ev("[0].exists(y, y == 0)", engine, bindings={"y": 5}) is True
    assert ev("['z'].exists(y, .y == 5)", engine, bindings={"y": 5}) is True
    assert ev("[{'z': 0}].exists(y, y.z == 0)", engine, bindings={"y.z": 42}) is True


@pytest.mark.parametrize("engine", ENGINES)
def test_reserved_words_and_quoted_names_as_fields(engine: str) -> None:
    assert ev("{'for': 1, 'if': 2}.for + {'if': 2}.if", engine) == 3
    assert ev("{'content-type': 'json'}.`content-type`", engine) == "json"
    assert ev("has({'a.b': 1}.`a.b`) && !has({'a.b': 1}.`a`)", engine) is True


@pytest.mark.parametrize("engine", ENGINES)
def test_leftmost_error_wins(engine: str) -> None:
    # operands run left to right, so the first failing one gives the error
    bindings = {"m": {"k": 1}}
    assert err("[1 / 0, m.nope]", engine, bindings=bindings) == "eval.division-by-zero"
    assert err("[m.nope, 1 / 0]", engine, bindings=bindings) == "eval.missing-field"
    assert err("size(m.nope) + (1 / 0)", engine, bindings=bindings) == "eval.missing-field"
    assert err("{1 / 0: m.nope}", engine, bindings=bindings) == "eval.division-by-zero"
    assert err("(1 / 0) in [m.nope]", engine, bindings=bindings) == "eval.division-by-zero"
    assert err("dyn(1 / 0).contains(m.nope)", engine, bindings=bindings) == "eval.division-by-zero"


def test_regular_expressions_are_linear_time() -> None:
    import time

    start = time.monotonic()
    assert (
        ev(
            "('a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + "
            "'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'a' + 'b')"
            ".matches('^(a+)+$')"
        )
        is False
    )
    assert ev("s.matches('^(a|aa)*c$')", bindings={"s": "a" * 100_000}) is False
    assert time.monotonic() - start < 5
