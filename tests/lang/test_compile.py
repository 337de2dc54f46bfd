"""Compiled expressions: CEL error semantics, record reads through the schema, arithmetic, dates, safety."""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import pytest

from engine.errors import EvalError
from engine.lang.check import Scope, check_condition
from engine.lang.compile import cached_value, compile_condition
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.parser import parse_condition
from engine.lang.types import schema_type, type_of_value
from engine.lang.values import UInt
from engine.pluginmanager import get_calendar

D = dt.date
AS_OF = D(2024, 1, 1)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "born": {"type": "string", "format": "date"},
        "n": {"type": "integer"},
        "x": {"type": "number"},
        "flag": {"type": "boolean"},
        "opt": {"type": ["string", "null"]},
        "cnt": {"type": "integer", "default": 0},
        "extra": {"type": "array", "items": {"type": "string"}, "default": ["x"]},
        "rec": {"type": ["object", "null"], "default": None, "properties": {"kind": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "people": {
            "type": "array",
            "items": {"type": "object", "properties": {"ok": {"type": "boolean"}, "age": {"type": "integer"}}},
        },
        "addr": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
        "any": {},
    },
}
PARAMS: dict[str, Any] = {"lim": 3, "names": ["Ann", "Bo"], "nums": [1, 2], "kinds": ["a", "c"]}
# the working-day functions read the calendars they are bound to: here the process's `CN`
FUNCTIONS = FunctionTable(STANDARD_FUNCTIONS).with_calendars({"CN": get_calendar("CN")})


def compiled(text: str) -> Any:
    scope = Scope(schema_type(SCHEMA), FUNCTIONS, "thing", {k: (v, type_of_value(v)) for k, v in PARAMS.items()})
    c = check_condition(parse_condition(text), scope)
    assert c.ok, [(d.code, d.message) for d in c.diagnostics]
    return compile_condition(c, {}, PARAMS)


def run(text: str, rec: Any, as_of: dt.date = AS_OF) -> Any:
    """The value, or the exception (an EvalError is expected; anything else is a failure to report)."""
    fn = compiled(text)
    try:
        return fn(rec, as_of, {})
    except Exception as e:  # noqa: BLE001 - any exception is returned for the caller to assert on
        return e


def assert_error(result: Any, code: str, path: str | None = None) -> EvalError:
    assert isinstance(result, EvalError), f"expected an error {code}, got {result!r}"
    assert result.code == code, result
    if path is not None:
        assert result.path == path
        assert f"`{path}`" in result.message
    return result


R = {
    "name": "Ann",
    "born": "2000-02-29",
    "n": 5,
    "x": 1.5,
    "flag": True,
    "opt": None,
    "tags": ["a", "b"],
    "people": [{"ok": True, "age": 3}, {"ok": False, "age": 4}],
    "addr": {"city": "Harbin", "zip": "150000"},
    "any": 1,
}
ZERO = {**R, "n": 0}
E = "1 / record.n == 1"  # an error (division by zero) when n == 0


# -- CEL error semantics -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"false && {E}", False),
        (f"{E} && false", False),
        (f"true && {E}", "eval.division-by-zero"),
        (f"{E} && true", "eval.division-by-zero"),
        (f"{E} && {E}", "eval.division-by-zero"),
        (f"true || {E}", True),
        (f"{E} || true", True),
        (f"false || {E}", "eval.division-by-zero"),
        (f"{E} || false", "eval.division-by-zero"),
        (f"!({E})", "eval.division-by-zero"),
        (f"({E} || true) && ({E} && false || true)", True),
        ("[0, 1].exists(v, 1 / v == 1)", True),
        ("[0, 2].exists(v, 1 / v == 1)", "eval.division-by-zero"),
        ("[0, 2].all(v, 1 / v == 1)", False),
        ("[0, 1].all(v, 1 / v == 1)", "eval.division-by-zero"),
        ("[1, 2].all(v, 1 / v >= 0)", True),
        ("[].all(v, 1 / v == 1)", True),
        ("[].exists(v, 1 / v == 1)", False),
        ("[1, 2, 3].exists_one(v, v > 2)", True),
        ("[1, 2, 3].exists_one(v, v > 1)", False),
        ("[1, 2, 3].exists_one(v, v > 5)", False),
        ("[0, 1].exists_one(v, 1 / v == 1)", "eval.division-by-zero"),
        ("[1, 2, 3].filter(v, v > 1)", [2, 3]),
        ("[1, 2, 3].filter(v, v > 5)", []),
        ("[1, 0].filter(v, 1 / v == 1)", "eval.division-by-zero"),
        ("[1, 2, 3].map(v, v * 2)", [2, 4, 6]),
        ("[1, 2, 3].map(v, v > 1, v * 10)", [20, 30]),
        ("[0, 1].map(v, v > 0, 10 / v)", [10]),
        ("[0, 1].map(v, 10 / v)", "eval.division-by-zero"),
        ('{"a": 1, "b": 2}.all(k, k in ["a", "b"])', True),
        ("true ? 1 : (1 / record.n)", 1),
        ("false ? (1 / record.n) : 2", 2),
        ("record.n == 0 ? 0 : 10 / record.n", 0),
        (f"({E}) ? 1 : 2", "eval.division-by-zero"),
    ],
)
def test_error_semantics(text: str, expected: Any) -> None:
    got = run(text, ZERO)
    if isinstance(expected, str):
        assert_error(got, expected)
    else:
        assert got == expected and type(got) is type(expected)


# -- reading the record through its schema --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rec", "path"),
    [
        ('record.name == "x"', {}, "name"),
        ('record.addr.city == "x"', {"addr": {}}, "addr.city"),
        ('record.addr.city == "x"', {}, "addr"),
        ("record.people.all(p, p.ok)", {"people": [{"ok": True}, {}]}, "people[].ok"),
        ("record.people.map(p, p.age)", {"people": [{"ok": True}]}, "people[].age"),
        ("record.born < as_of", {"n": 1}, "born"),
    ],
    ids=["top", "nested", "parent", "macro-all", "macro-map", "date"],
)
def test_missing_field(text: str, rec: dict[str, Any], path: str) -> None:
    assert_error(run(text, rec), "eval.missing-field", path)


def test_missing_field_in_the_untaken_branch_is_no_error() -> None:
    assert run('record.flag || record.name == "x"', {"flag": True}) is True


@pytest.mark.parametrize(
    ("text", "rec", "code", "path"),
    [
        ("record.people.all(p, p.ok)", {"people": [{"ok": "yes"}]}, "eval.wrong-type", "people[].ok"),
        ("record.people.exists(p, p.age > 1)", {"people": [{"age": "3"}]}, "eval.wrong-type", "people[].age"),
        ("record.n > 1", {"n": True}, "eval.wrong-type", "n"),
        ("record.n > 1", {"n": 5.5}, "eval.wrong-type", "n"),
        ("record.n > 1", {"n": "5"}, "eval.wrong-type", "n"),
        ("record.n > 1", {"n": None}, "eval.wrong-type", "n"),
        ("record.flag", {"flag": 1}, "eval.wrong-type", "flag"),
        ('record.name == "x"', {"name": 1}, "eval.wrong-type", "name"),
        ('record.opt == "x"', {"opt": 5}, "eval.wrong-type", "opt"),
        ("size(record.tags) > 0", {"tags": "a"}, "eval.wrong-type", "tags"),
        ('record.addr.city == "x"', {"addr": "Harbin"}, "eval.wrong-type", "addr"),
        ('record.addr.city == "x"', {"addr": {"city": 3}}, "eval.wrong-type", "addr.city"),
        ("record.born < as_of", {"born": 20000101}, "eval.wrong-type", "born"),
        ("record.born < as_of", {"born": "2000-13-01"}, "eval.bad-date", "born"),
        ("record.born < as_of", {"born": "2000-1-1"}, "eval.bad-date", "born"),
        ('record.rec.kind == "a"', {"rec": None}, "eval.null-field", "rec.kind"),
        ("record.any.foo == 1", {"any": 1}, "eval.no-such-field", "any.foo"),
    ],
)
def test_wrong_type(text: str, rec: dict[str, Any], code: str, path: str | None) -> None:
    err = assert_error(run(text, rec), code)
    assert err.path == path
    if code in ("eval.wrong-type", "eval.bad-date"):
        assert f"`{path}`" in err.message


@pytest.mark.parametrize(
    ("text", "rec", "expected"),
    [
        ("record.n", {"n": 5.0}, 5),
        ("record.x", {"x": 5}, 5.0),
        ("record.opt", {"opt": None}, None),
        ("record.born", {"born": "2000-02-29"}, D(2000, 2, 29)),
    ],
    ids=["whole-double-as-int", "int-as-double", "null-allowed", "date-parsed"],
)
def test_values_read_are_converted(text: str, rec: dict[str, Any], expected: Any) -> None:
    got = run(text, rec)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("text", "rec"),
    [
        ("record.people.exists(p, p.ok)", {"people": [5]}),
        ("record.people.all(p, p.ok)", {"people": ["xoky"]}),
        ("record.people.all(p, p.ok)", {"people": ["ab"]}),
        ("record.people.map(p, p.age)", {"people": [None]}),
        ("record.people[0].age > 1", {"people": [["age"]]}),
        ('record.tags.exists(t, t == "a")', {"tags": ["b", 1]}),
    ],
    ids=[
        "int-item",
        "string-item-containing-field-name",
        "string-item",
        "null-item-map",
        "list-item-index",
        "int-in-string-list",
    ],
)
def test_list_items_of_the_wrong_type_are_a_wrong_type_error(text: str, rec: dict[str, Any]) -> None:
    # The schema says the items are objects (strings); an item that is not is wrong data,
    # which must be the error `eval.wrong-type` naming the list, never a Python exception,
    # a substring test on a string, or a silent false.
    err = assert_error(run(text, rec), "eval.wrong-type")
    assert err.path is not None and err.path.startswith(("people[]", "tags[]"))


@pytest.mark.parametrize(
    ("text", "rec", "expected"),
    [
        ("record.cnt == 0", {}, True),
        ("record.cnt == 0", {"cnt": 4}, False),
        ("record.extra", {}, ["x"]),
        ('size(record.extra + ["y"])', {}, 2),
        ("record.rec == null", {}, True),
        ('record.rec != null && record.rec.kind == "a"', {}, False),
        ('record.rec != null && record.rec.kind == "a"', {"rec": {"kind": "a"}}, True),
    ],
)
def test_schema_defaults_for_absent_fields(text: str, rec: dict[str, Any], expected: Any) -> None:
    result = run(text, rec)
    assert (list(result) if isinstance(result, tuple) else result) == expected


def test_default_list_is_not_shared_between_records() -> None:
    # A compiled expression is shared by every evaluation; the default it returns for an
    # absent field must not be one list object that a caller (e.g. of `decision.outputs`)
    # can change for all later records.
    fn = compiled("record.extra")
    first = fn({}, AS_OF, {})
    assert list(first) == ["x"]
    # either immutable (CEL lists are) or a fresh copy for every record
    assert isinstance(first, tuple) or fn({}, AS_OF, {}) is not first


# -- equality, arithmetic ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "any_value", "expected"),
    [
        ("1 == 1.0", None, True),
        ("1u == 1", None, True),
        ("1 != 1.0", None, False),
        ("[1, 2] == [1.0, 2.0]", None, True),
        ('{"a": 1} == {"a": 1.0}', None, True),
        ("record.any == true", 1, False),
        ("record.any == 1", True, False),
        ("record.any != 1", True, True),
        ("record.any == 1.0", 1, True),
        ('record.any == "1"', 1, False),
        ("record.any == null", None, True),
        ("record.any == null", 0, False),
        ("record.any in [1.0, 2.0]", 1, True),
        ("record.any in [1, 2]", True, False),
        ("record.any == [1]", [True], False),
    ],
)
def test_heterogeneous_equality(text: str, any_value: Any, expected: bool) -> None:
    assert run(text, {**R, "any": any_value}) is expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("9223372036854775807 + 1 > 0", "eval.overflow"),
        ("-9223372036854775808 - 1 < 0", "eval.overflow"),
        ("9223372036854775807 * 2 > 0", "eval.overflow"),
        ("-(-9223372036854775808) > 0", "eval.overflow"),
        ("-9223372036854775808 / -1 > 0", "eval.overflow"),
        ("record.n * 9223372036854775807 > 0", "eval.overflow"),
        ("0u - 1u > 0u", "eval.overflow"),
        ("18446744073709551615u + 1u > 0u", "eval.overflow"),
        ("1 / 0 == 0", "eval.division-by-zero"),
        ("1 % 0 == 0", "eval.division-by-zero"),
        ("record.n / (record.n - 5) == 0", "eval.division-by-zero"),
        ("1u / 0u == 0u", "eval.division-by-zero"),
        ("[1, 2][2] == 1", "eval.index-out-of-range"),
        ("[1, 2][-1] == 1", "eval.index-out-of-range"),
        ('{"a": 1}["b"] == 1', "eval.missing-key"),
        ('{"a": 1, "a": 2}.size() == 1', "eval.duplicate-key"),
        ('max(record.tags.filter(t, t == "z")) == "z"', "eval.empty"),
        ('int("x") == 1', "eval.bad-conversion"),
        ('date("2024-02-30") == as_of', "eval.bad-date"),
    ],
)
def test_arithmetic_errors(text: str, code: str) -> None:
    assert_error(run(text, R), code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9223372036854775807 + 0", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("-7 / 2", -3),
        ("-7 % 2", -1),
        ("7 % -2", 1),
        ("7u / 2u", UInt(3)),
        ("1.0 / 0.0", float("inf")),
        ("0.1 + 0.2 == 0.3", False),
        ('"ab" + "cd"', "abcd"),
        ("[1] + [2]", [1, 2]),
    ],
)
def test_arithmetic(text: str, expected: Any) -> None:
    got = run(text, R)
    assert got == expected and type(got) is type(expected)


# -- in, dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rec", "expected"),
    [
        ("record.name in names", R, True),
        ("record.name in names", {**R, "name": "Cy"}, False),
        ('"a" in kinds', R, True),
        ("2 in nums", R, True),
        ("2.0 in nums", R, True),
        ("3 in nums", R, False),
        ("record.any in nums", {**R, "any": 1}, True),
        ("record.any in kinds", {**R, "any": 1}, False),
        ('"b" in record.tags', R, True),
        ('"c" in record.tags', R, False),
        ('"a" in {"a": 1}', R, True),
        ('"b" in {"a": 1}', R, False),
        ('record.born in [date("2000-02-29")]', R, True),
    ],
)
def test_in(text: str, rec: dict[str, Any], expected: bool) -> None:
    assert run(text, rec) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('record.born < date("2000-03-01")', True),
        ('record.born == date("2000-02-29")', True),
        ("as_of > record.born", True),
        ("years_after(record.born, 1)", D(2001, 2, 28)),
        ("years_after(record.born, 4)", D(2004, 2, 29)),
        ("record.born.years_after(18)", D(2018, 2, 28)),
        ('full_years(record.born, date("2018-02-28"))', 18),
        ('full_years(record.born, date("2018-02-27"))', 17),
        ("full_years(record.born, as_of)", 23),
        ('months_after(date("2024-01-31"), 1)', D(2024, 2, 29)),
        ('days_after(date("2024-02-28"), 2)', D(2024, 3, 1)),
        ('working_days_after(date("2024-09-27"), 1)', D(2024, 9, 29)),  # Sunday 29 Sep 2024 was a working day
        ('working_days_after(date("2024-09-27"), 3)', D(2024, 10, 8)),  # 1-7 Oct: National Day holiday
        ('working_days_after(date("2024-09-27"), 3) <= as_of', False),
        ('is_working_day(date("2024-10-01"))', False),
        ("record.born.year() == 2000 && record.born.month() == 2 && record.born.day() == 29", True),
        ("string(record.born)", "2000-02-29"),
    ],
)
def test_dates(text: str, expected: Any) -> None:
    got = run(text, R, as_of=D(2024, 1, 1))
    assert got == expected and type(got) is type(expected)


def test_as_of_is_the_argument() -> None:
    fn = compiled("as_of >= years_after(record.born, 18)")
    assert fn(R, D(2018, 2, 28), {}) is True
    assert fn(R, D(2018, 2, 27), {}) is False


# -- named values -------------------------------------------------------------------------------


def test_cached_value_computes_once_per_context() -> None:
    calls: list[int] = []

    def fn(rec: Any, as_of: Any, ctx: Any) -> int:
        calls.append(1)
        return 7

    get = cached_value(("value", "v"), fn)
    ctx: dict[Any, Any] = {}
    assert get({}, AS_OF, ctx) == 7 and get({}, AS_OF, ctx) == 7
    assert len(calls) == 1
    assert get({}, AS_OF, {}) == 7
    assert len(calls) == 2


def test_cached_value_caches_errors_too() -> None:
    calls: list[int] = []

    def fn(rec: Any, as_of: Any, ctx: Any) -> int:
        calls.append(1)
        raise ZeroDivisionError

    get = cached_value(("value", "v"), fn)
    ctx: dict[Any, Any] = {}
    for _ in range(2):
        with pytest.raises(EvalError) as info:
            get({}, AS_OF, ctx)
        assert info.value.code == "eval.division-by-zero"
    assert len(calls) == 1


# -- safety -----------------------------------------------------------------------------------


def test_compiled_function_has_no_builtins() -> None:
    fn = compiled("record.n > 1")
    assert fn.__globals__["__builtins__"] == {}
    assert not any(isinstance(v, types.ModuleType) for v in fn.__globals__.values())


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("record.__class__", "check.unknown-field"),
        ("record.addr.__class__.__bases__", "check.unknown-field"),
        ('__import__("os")', "check.unknown-function"),
        ('eval("1")', "check.unknown-function"),
        ("record.tags.__len__()", "check.unknown-function"),
        ("size.__globals__", "check.unknown-name"),
        ("__builtins__", "check.unknown-name"),
        ("_E", "check.unknown-name"),
        ("rec", "check.unknown-name"),
        ("ctx", "check.unknown-name"),
    ],
)
def test_python_internals_are_rejected_at_check_time(text: str, code: str) -> None:
    scope = Scope(schema_type(SCHEMA), FUNCTIONS, "thing", {})
    c = check_condition(parse_condition(text), scope)
    assert code in [d.code for d in c.diagnostics]


@pytest.mark.parametrize(
    ("text", "rec"),
    [
        ('record["__class__"]', R),
        ('record["__class__"]', {**R, "__class__": 5}),
        ('record.any["__class__"]', {**R, "any": "s"}),
        ('record.any["__class__"]', {**R, "any": {}}),
        ("record.any.__class__", {**R, "any": {}}),
        ("record.any.__class__", {**R, "any": "s"}),
        ("record.any.__dict__", {**R, "any": 1}),
        ('{"a": record}["a"]["__init__"]', R),
        ('record["get"]', R),
        ('record.any["keys"]', {**R, "any": {"a": 1}}),
        ("record.any.items", {**R, "any": {"a": 1}}),
    ],
)
def test_python_internals_give_a_plain_error_value(text: str, rec: dict[str, Any]) -> None:
    got = run(text, rec)
    if isinstance(got, BaseException):
        assert isinstance(got, EvalError)
        assert got.code.startswith("eval.")
    else:
        assert got is None or type(got) in (bool, int, float, str, list, dict)


# -- differential: compiled results against values computed by hand ------------------------------

R1 = {
    "name": "Ann",
    "born": "2000-02-29",
    "n": 5,
    "x": 1.5,
    "flag": True,
    "opt": None,
    "tags": ["a", "b"],
    "people": [{"ok": True, "age": 3}, {"ok": False, "age": 4}],
    "addr": {"city": "Harbin", "zip": "150000"},
    "any": 1,
}
R2 = {
    "name": "Bo",
    "born": "1990-12-31",
    "n": -3,
    "x": 0.0,
    "flag": False,
    "opt": "z",
    "tags": [],
    "people": [],
    "addr": {"city": "Qiqihar", "zip": "161000"},
    "any": "s",
    "cnt": 7,
}
R3 = {
    "name": "",
    "born": "2024-01-01",
    "n": 0,
    "x": -2.5,
    "flag": True,
    "opt": "a",
    "tags": ["c"],
    "people": [{"ok": True, "age": 30}],
    "addr": {"city": "", "zip": ""},
    "any": None,
}
RECORDS = (R1, R2, R3)

DIFFERENTIAL: list[tuple[str, tuple[Any, Any, Any]]] = [
    ("record.n > 0", (True, False, False)),
    ("record.n + 1", (6, -2, 1)),
    ("record.n * record.n - 1", (24, 8, -1)),
    ("record.n / 2", (2, -1, 0)),
    ("record.n % 2", (1, -1, 0)),
    ("-record.n", (-5, 3, 0)),
    ("record.x * 2.0", (3.0, 0.0, -5.0)),
    ("record.x < 1.0", (False, True, True)),
    ("record.x > record.n", (False, True, False)),
    ('record.name == "Ann"', (True, False, False)),
    ('record.name + "!"', ("Ann!", "Bo!", "!")),
    ("size(record.name)", (3, 2, 0)),
    ('record.name.startsWith("A")', (True, False, False)),
    ("record.flag && record.n > 0", (True, False, False)),
    ("record.flag || record.n > 0", (True, False, True)),
    ("!record.flag", (False, True, False)),
    ('record.flag ? "y" : "n"', ("y", "n", "y")),
    ("record.opt == null", (True, False, False)),
    ('record.opt != null && record.opt.startsWith("a")', (False, False, True)),
    ("record.cnt", (0, 7, 0)),
    ("has(record.cnt)", (False, True, False)),
    ("size(record.tags)", (2, 0, 1)),
    ('"a" in record.tags', (True, False, False)),
    ('record.tags.exists(t, t == "c")', (False, False, True)),
    ('record.tags.all(t, t < "c")', (True, True, False)),
    ("record.tags.map(t, t + t)", (["aa", "bb"], [], ["cc"])),
    ('record.tags + ["z"]', (["a", "b", "z"], ["z"], ["c", "z"])),
    ("record.people.filter(p, p.ok).size()", (1, 0, 1)),
    ("record.people.map(p, p.age)", ([3, 4], [], [30])),
    ("record.people.map(p, p.ok, p.age * 10)", ([30], [], [300])),
    ("record.people.exists_one(p, p.age > 3)", (True, False, True)),
    ('record.born < date("2000-03-01")', (True, True, False)),
    ("full_years(record.born, as_of)", (23, 33, 0)),
    ("years_after(record.born, 1)", (D(2001, 2, 28), D(1991, 12, 31), D(2025, 1, 1))),
    ("record.born.year()", (2000, 1990, 2024)),
    ("as_of == record.born", (False, False, True)),
    ('record.addr.city == "Harbin"', (True, False, False)),
    ('record.addr.zip in ["150000", "161000"]', (True, True, False)),
    ("record.any == 1", (True, False, False)),
    ("record.any == null", (False, False, True)),
    ("lim > record.n", (False, True, True)),
    ("record.name in names", (True, True, False)),
    ("max(record.n, 0)", (5, 0, 0)),
    ("string(record.n)", ("5", "-3", "0")),
    ('{"a": record.n}["a"]', (5, -3, 0)),
    ("int(record.x)", (1, 0, -2)),
    ("record.n >= 0 ? 10 / (record.n + 1) : 0", (1, 0, 10)),
]


@pytest.mark.parametrize(("text", "expected"), DIFFERENTIAL, ids=[t for t, _ in DIFFERENTIAL])
@pytest.mark.parametrize("which", [0, 1, 2], ids=["R1", "R2", "R3"])
def test_differential(text: str, expected: tuple[Any, Any, Any], which: int) -> None:
    got = run(text, RECORDS[which], as_of=D(2024, 1, 1))
    want = expected[which]
    assert got == want, f"{text} on R{which + 1}"
    assert type(got) is type(want)
