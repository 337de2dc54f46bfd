"""Run-time value semantics of the condition language (CEL core).

Values are plain Python: ``bool``, ``int`` (CEL int, 64-bit), :class:`UInt`
(CEL uint), ``float`` (double), ``str``, ``bytes``, ``None`` (null),
``list`` or ``tuple`` (list), ``dict`` (map), :class:`~engine.lang.times.Timestamp`,
:class:`~engine.lang.times.Duration`, :class:`CelType` (a type value such as
``int`` or ``google.protobuf.Timestamp``), and ``datetime.date`` (the
rulebook's date).  Functions here are the slow, general paths the compiler
calls when the checker could not prove the operand types (``dyn``); for
proven types it emits plain Python operators.  The reference interpreter
(``engine.lang.interp``) calls them always.

Semantics, as CEL defines them:

* int, uint and double are distinct types, but ``==`` and the orderings
  compare them by numeric value: an int or uint against a double as the
  double nearest to it (so ``9007199254740993 == 9007199254740992.0``), an
  int against a uint exactly; NaN equals nothing and orders with nothing;
* ``==`` between different kinds is ``false``, never an error; ordering
  different kinds (or lists, maps, null) is the error ``eval.no-overload``;
* int and uint arithmetic is checked (``eval.overflow``), division truncates
  toward zero and ``%`` takes the sign of the dividend;
* map keys are bool, int, uint or string; ``1`` and ``1u`` (and ``1.0`` in a
  lookup) are the same key, ``true`` and ``1`` are different keys.  A Python
  dict cannot hold both ``true`` and ``1``, so a map literal with both is
  refused (``eval.bad-key``) instead of silently losing an entry.

Every failure raises :class:`engine.errors.EvalError`: compiled code and the
interpreter catch it where CEL absorbs errors (``false && error``) and the
evaluator turns it into a rule status ``error``.

**Cost.**  One evaluation of an expression may spend at most
:data:`MAX_COST` units: one per macro iteration, and for values that grow or
are scanned the size of what is built or scanned (list elements, or 16
characters of text or bytes per unit).  :func:`cost_limit` is the error when
the budget is spent.  The charges are made by the generated code and by the
interpreter in the same places, with :func:`weight` and :func:`size_cost`.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, NoReturn

from engine.errors import EvalError
from engine.lang.times import Duration, Timestamp
from engine.messages import Text, msg

__all__ = [
    "MAX_COST",
    "CelType",
    "Duration",
    "EvalError",
    "Timestamp",
    "UInt",
    "cel_eq",
    "cel_lt",
    "type_name",
]

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
UINT_MAX = 2**64 - 1

MAX_COST = 1_000_000


class UInt(int):
    """A CEL ``uint``: an int that is not equal in type to CEL ``int``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class CelType:
    """A CEL type value: what ``type(x)`` returns and what ``int``, ``list``, … denote."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return other.__class__ is CelType and other.name == self.name

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("type", self.name))

    def __repr__(self) -> str:
        return self.name


# The type names an expression can write, and what `type(x)` gives for each kind of value.
TYPE_NAMES = (
    "bool",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "optional_type",
)
TYPES: dict[str, CelType] = {n: CelType(n) for n in (*TYPE_NAMES, "date")}
_CEL_TYPE_OF_KIND = {
    "null": "null_type",
    "optional": "optional_type",
    "timestamp": "google.protobuf.Timestamp",
    "duration": "google.protobuf.Duration",
}


class DateRange:
    """A day known only to lie between ``earliest`` and ``latest`` (inclusive).

    ``working_days_after`` gives one when the answer depends on a year's arrangement
    that is not known (``years``).  Comparing it with a date gives a plain bool when
    every day of the range gives the same answer, and raises ``EvalError``
    (``eval.calendar-unknown``) otherwise: a rule then gets status ``error`` naming the
    year, and ``||``/``&&`` absorb it where the other side decides.
    """

    __slots__ = ("earliest", "latest", "years")

    def __init__(self, earliest: _dt.date, latest: _dt.date, years: tuple[int, ...]) -> None:
        self.earliest, self.latest, self.years = earliest, latest, years

    def _years(self, lang: str) -> str:
        return ("、" if lang == "zh" else ", ").join(str(y) for y in self.years)

    def text(self, lang: str) -> str:
        """The range in words, for messages."""
        if lang == "zh":
            return (
                f"{self.earliest.isoformat()}至{self.latest.isoformat()}之间的某日"
                f"（视{self._years('zh')}年放假安排而定）"
            )
        return (
            f"a day from {self.earliest.isoformat()} to {self.latest.isoformat()} "
            f"(depending on the {self._years('en')} holiday arrangement)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "earliest": self.earliest.isoformat(),
            "latest": self.latest.isoformat(),
            "depends_on": list(self.years),
        }

    def undecided(self, other: object = None) -> EvalError:
        """The error of a comparison (with ``other``) that the range does not decide."""
        years_en, years_zh = self._years("en"), self._years("zh")
        if isinstance(other, _dt.date):
            what = f"{other.isoformat()} against {self.text('en')}: the answer"
            what_zh = f"{other.isoformat()} 与{self.text('zh')}相比，结果"
        else:
            what, what_zh = f"{self.text('en')}: the day", f"{self.text('zh')}：具体日期"
        return EvalError(
            "eval.calendar-unknown",
            Text(
                f"{what} depends on the official holiday arrangement for {years_en}, which the calendar does not "
                f"have yet; add the year's arrangement file (`rulebook calendar show {self.years[0]}` shows what is "
                "known)",
                f"{what_zh}取决于{years_zh}年的放假安排，日历尚无该年安排；请添加该年的放假安排文件"
                f"（`rulebook calendar show {self.years[0]}` 显示已知情况）",
            ),
        )

    def _cmp(self, other: object, op: str) -> bool:
        if isinstance(other, DateRange):
            if op in ("==", "!=") and (self.earliest, self.latest, self.years) == (
                other.earliest,
                other.latest,
                other.years,
            ):
                return op == "=="  # the same range (a decision compared with itself, a memo's key)
            lo, hi = other.earliest, other.latest
        elif isinstance(other, _dt.date) and not isinstance(other, _dt.datetime):
            lo = hi = other
        else:
            fail_no_overload(op, self, other)
        # every day d of the range against every o of [lo, hi]
        if op == "<":
            sure, never = self.latest < lo, self.earliest >= hi
        elif op == "<=":
            sure, never = self.latest <= lo, self.earliest > hi
        elif op == ">":
            sure, never = self.earliest > hi, self.latest <= lo
        elif op == ">=":
            sure, never = self.earliest >= hi, self.latest < lo
        else:  # == and !=
            disjoint = self.latest < lo or self.earliest > hi
            sure, never = (False, disjoint) if op == "==" else (disjoint, False)
        if sure:
            return True
        if never:
            return False
        raise self.undecided(other)

    def __lt__(self, other: object) -> bool:
        return self._cmp(other, "<")

    def __le__(self, other: object) -> bool:
        return self._cmp(other, "<=")

    def __gt__(self, other: object) -> bool:
        return self._cmp(other, ">")

    def __ge__(self, other: object) -> bool:
        return self._cmp(other, ">=")

    def __eq__(self, other: object) -> bool:
        return self._cmp(other, "==")

    def __ne__(self, other: object) -> bool:
        return self._cmp(other, "!=")

    def __hash__(self) -> int:
        return hash((DateRange, self.earliest, self.latest, self.years))

    def __repr__(self) -> str:
        return f"DateRange({self.earliest.isoformat()}, {self.latest.isoformat()}, years={self.years})"


class OptionalValue:
    """A value of CEL's optional type: ``optional.of(x)`` (``value`` is x) or ``optional.none()``
    (``value`` is :data:`NO_VALUE`).  Use :func:`optional_of` and :data:`OPTIONAL_NONE`."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def has_value(self) -> bool:
        return self.value is not NO_VALUE

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not OptionalValue:
            return False
        mine, theirs = self.value, other.value
        if mine is NO_VALUE or theirs is NO_VALUE:
            return mine is theirs
        return cel_eq(mine, theirs)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # not a map key

    def __repr__(self) -> str:
        return "optional.none()" if self.value is NO_VALUE else f"optional.of({self.value!r})"


NO_VALUE: Any = object()
OPTIONAL_NONE = OptionalValue(NO_VALUE)


def optional_of(value: object) -> OptionalValue:
    return OptionalValue(value)


_KIND_OF_CLASS: dict[type, str] = {
    bool: "bool",
    int: "int",
    UInt: "uint",
    float: "double",
    str: "string",
    bytes: "bytes",
    list: "list",
    tuple: "list",
    dict: "map",
    type(None): "null",
    _dt.date: "date",
    Timestamp: "timestamp",
    Duration: "duration",
    CelType: "type",
    DateRange: "date",
    OptionalValue: "optional",
}


def type_name(v: object) -> str:
    """The kind of a value: null bool int uint double string bytes list map date timestamp duration type."""
    kind = _KIND_OF_CLASS.get(v.__class__)
    if kind is not None:
        return kind
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, UInt):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "bytes"
    if isinstance(v, _dt.date):
        return "date"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, dict):
        return "map"
    return type(v).__name__


def cel_type(v: object) -> CelType:
    """``type(v)``."""
    kind = type_name(v)
    name = _CEL_TYPE_OF_KIND.get(kind, kind)
    t = TYPES.get(name)
    if t is None:
        fail_no_overload("type", v)
    return t


# -- errors -----------------------------------------------------------------


def no_overload(op: str, *args: object) -> EvalError:
    kinds = ", ".join(type_name(a) for a in args)
    return EvalError("eval.no-overload", msg("eval.no-overload", op=op, kinds=kinds))


def fail_no_overload(op: str, *args: object) -> NoReturn:
    raise no_overload(op, *args)


def missing_field(path: str) -> NoReturn:
    raise EvalError("eval.missing-field", msg("eval.missing-field", path=path), path)


def unknown_name(name: str) -> NoReturn:
    raise EvalError("eval.unknown-name", msg("eval.unknown-name", name=name))


def unknown_function(name: str) -> NoReturn:
    raise EvalError("eval.unknown-function", msg("eval.unknown-function", name=name))


def cost_limit() -> EvalError:
    return EvalError("eval.cost-limit", msg("eval.cost-limit", limit=MAX_COST))


def wrap_error(e: BaseException) -> EvalError:
    """Any exception escaping an operation, as a CEL error value."""
    if isinstance(e, EvalError):
        return e
    if isinstance(e, RecursionError):
        return EvalError("eval.too-deep", msg("eval.too-deep"))
    if isinstance(e, MemoryError):
        return EvalError("eval.too-large", msg("eval.too-large"))
    if isinstance(e, ZeroDivisionError):
        return EvalError("eval.division-by-zero", msg("eval.division-by-zero"))
    return EvalError("eval.internal", msg("eval.internal", error=e))


# -- type guards for record fields ---------------------------------------------


def want(v: object, kind: str, path: str, nullable: bool = False) -> Any:
    """Check a record field read from JSON against its schema type; convert dates."""
    if v is None and nullable:
        return None
    if kind == "date":
        return to_date(v, path)
    ok = (
        (kind == "string" and isinstance(v, str))
        or (kind == "int" and isinstance(v, int) and not isinstance(v, bool))
        or (kind == "bool" and isinstance(v, bool))
        or (kind == "list" and isinstance(v, (list, tuple)))
        or (kind in ("object", "map") and isinstance(v, dict))
    )
    if ok:
        return v
    if kind == "double" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return _to_float(v) if not isinstance(v, float) else v
    if kind == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    word = "object" if kind == "map" else kind
    expected = msg(f"expected:{word}") if word in _EXPECTED else msg("expected:other", kind=kind)
    shown = "null" if v is None else type_name(v) if not isinstance(v, (str, int, float)) else _short_repr(v)
    raise EvalError("eval.wrong-type", msg("eval.wrong-type", path=path, expected=expected, shown=shown), path)


_EXPECTED = frozenset(("object", "list", "int", "double", "bool", "string"))


def _short_repr(v: object) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:59] + "…"


def to_date(v: object, path: str | None = None) -> _dt.date:
    if isinstance(v, str):
        if len(v) == 10 and v[4] == "-" and v[7] == "-":
            try:
                return _dt.date.fromisoformat(v)
            except ValueError:
                pass
        where = f"`{path}` " if path else ""
        raise EvalError("eval.bad-date", msg("eval.bad-date", where=where, shown=_short_repr(v)), path)
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return v
    if v.__class__ is DateRange:  # a working-day count into a year whose arrangement is not known
        raise v.undecided()
    where = f"`{path}` " if path else ""
    raise EvalError("eval.wrong-type", msg("eval.wrong-type:date", where=where, kind=type_name(v)), path)


def select(obj: object, name: str, path: str) -> Any:
    """``obj.name`` for a map/object whose schema is not known."""
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        if path.startswith("(value)"):  # a map the expression built, not a record
            raise EvalError("eval.missing-key", msg("eval.missing-key", key=_short_repr(name)))
        missing_field(path)
    if obj is None:
        raise EvalError("eval.null-field", msg("eval.null-field", name=name, parent=path.rsplit(".", 1)[0]), path)
    if obj.__class__ is OptionalValue:  # a field of an optional value is optional
        return optional_select(obj, name, path)
    raise EvalError("eval.no-such-field", msg("eval.no-such-field", name=name, kind=type_name(obj)), path)


def has(obj: object, name: str) -> bool:
    if isinstance(obj, dict):
        return name in obj
    if obj.__class__ is OptionalValue:
        inner = obj.value
        return inner is not NO_VALUE and has(inner, name)
    raise EvalError("eval.no-such-field", msg("eval.no-such-field:has", kind=type_name(obj)))


# -- equality and ordering -------------------------------------------------------


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _to_float(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _num_eq(a: Any, b: Any) -> bool:
    if a.__class__ is float:
        return bool(a == b) if b.__class__ is float else a == _to_float(b)
    if b.__class__ is float:
        return _to_float(a) == b
    return bool(a == b)


_SIMPLE_EQ = frozenset({str, int, bool, bytes, type(None), UInt, _dt.date, Timestamp, Duration, CelType})


def cel_eq(a: object, b: object) -> bool:
    """CEL equality: numbers compare by value across int, uint and double; other kinds must match."""
    ca = a.__class__
    if ca is b.__class__ and ca in _SIMPLE_EQ:
        return bool(a == b)
    if _num(a) and _num(b):
        return _num_eq(a, b)
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        return False
    # type_name says "list" only of lists and tuples and "map" only of dicts: the isinstance tests narrow the types
    if ta == "list" and isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return False
        return all(map(cel_eq, a, b))  # the lengths are equal
    if ta == "map" and isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        for k, v in a.items():
            match = map_get(b, k)
            if match is _ABSENT or not cel_eq(v, match):
                return False
        return True
    return bool(a == b)


def cel_ne(a: object, b: object) -> bool:
    return not cel_eq(a, b)


_ABSENT: Any = object()


def map_get(m: dict[Any, Any], key: object) -> Any:
    """The value for ``key`` in the CEL map ``m``, or ``_ABSENT``."""
    k = key.__class__
    if k is str:
        return m.get(key, _ABSENT)
    if key.__class__ is float:
        if not key.is_integer():
            return _ABSENT
        key, k = int(key), int
    if k is bool or k is int or k is UInt or (isinstance(key, int)):
        v = m.get(key, _ABSENT)
        if v is _ABSENT or key not in (0, 1):
            return v
        # 0/1 and false/true are different CEL keys that hash alike: look at the stored key.
        want_bool = k is bool
        for stored in m:
            if stored.__class__ is not str and stored == key:
                return v if (stored.__class__ is bool) == want_bool else _ABSENT
        return _ABSENT
    return _ABSENT


def _map_lookup(m: dict[Any, Any], key: object) -> Any:  # the old name
    return map_get(m, key)


def cel_cmp(a: object, b: object, op: str) -> int:
    """-1, 0, 1 for ordered operands of comparable kinds, 2 when a NaN makes them unordered; error otherwise."""
    if _num(a) and _num(b):
        if a.__class__ is float or b.__class__ is float:
            fa, fb = _to_float(a), _to_float(b)
            if fa != fa or fb != fb:
                return 2
            return -1 if fa < fb else (1 if fa > fb else 0)
        return -1 if a < b else (1 if a > b else 0)  # type: ignore[operator]  # _num: both are ints
    ta, tb = type_name(a), type_name(b)
    if ta != tb or ta not in _ORDERED_KINDS:
        fail_no_overload(op, a, b)
    return -1 if a < b else (1 if a > b else 0)  # type: ignore[operator]  # two values of one ordered kind


_ORDERED_KINDS = frozenset({"string", "bytes", "bool", "date", "timestamp", "duration"})


def cel_lt(a: object, b: object) -> bool:
    return cel_cmp(a, b, "<") == -1


def cel_le(a: object, b: object) -> bool:
    return cel_cmp(a, b, "<=") in (-1, 0)


def cel_gt(a: object, b: object) -> bool:
    return cel_cmp(a, b, ">") == 1


def cel_ge(a: object, b: object) -> bool:
    return cel_cmp(a, b, ">=") in (1, 0)


def cel_in(x: object, container: object) -> bool:
    if isinstance(container, (list, tuple)):
        cx = x.__class__
        if cx is str or cx is bytes:
            for y in container:  # noqa: SIM110 - the plain loop is faster than any() over a generator
                if y.__class__ is cx and y == x:
                    return True
            return False
        return any(cel_eq(x, y) for y in container)
    if isinstance(container, (frozenset, set)):
        if x.__class__ in (str, bytes):
            return x in container
        return any(cel_eq(x, y) for y in container)
    if isinstance(container, dict):
        return map_get(container, x) is not _ABSENT
    fail_no_overload("in", x, container)


# -- logic --------------------------------------------------------------------


def logic_fix(op: str, a: object, b: object) -> bool:
    """Slow path of ``a && b`` / ``a || b`` once either side is an error or not a bool.

    CEL's commutative rule: for ``&&`` a false on either side wins over an
    error; for ``||`` a true does.  Otherwise the first error is raised.
    """
    absorbing = op == "||"
    if a is absorbing or b is absorbing:
        return absorbing
    for v in (a, b):
        if isinstance(v, BaseException):
            raise wrap_error(v)
    for v in (a, b):
        if v is not True and v is not False:
            fail_no_overload(op, a, b)
    return not absorbing


def cel_not(a: object) -> bool:
    if a is True:
        return False
    if a is False:
        return True
    fail_no_overload("!", a)


def want_bool(v: object, what: str) -> bool:
    if v is True or v is False:
        return v
    raise EvalError("eval.not-bool", msg("eval.not-bool", what=what, kind=type_name(v)))


# -- arithmetic -----------------------------------------------------------------


def _check_int(v: int, op: str) -> int:
    if INT_MIN <= v <= INT_MAX:
        return v
    raise EvalError("eval.overflow", msg("eval.overflow:int", op=op))


def _check_uint(v: int, op: str) -> UInt:
    if 0 <= v <= UINT_MAX:
        return UInt(v)
    raise EvalError("eval.overflow", msg("eval.overflow:uint", op=op))


def _arith_kind(op: str, a: object, b: object) -> str:
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        fail_no_overload(op, a, b)
    return ta


def cel_add(a: Any, b: Any) -> Any:
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        from engine.lang import times

        if ta == "timestamp" and tb == "duration":
            return times.ts_add(a, b)
        if ta == "duration" and tb == "timestamp":
            return times.ts_add(b, a)
        fail_no_overload("+", a, b)
    if ta == "int":
        return _check_int(a + b, "+")
    if ta == "uint":
        return _check_uint(a + b, "+")
    if ta in ("double", "string", "bytes"):
        return a + b
    if ta == "list":
        return list(a) + list(b)
    if ta == "duration":
        from engine.lang import times

        return times.dur_add(a, b)
    fail_no_overload("+", a, b)


def cel_sub(a: Any, b: Any) -> Any:
    ta, tb = type_name(a), type_name(b)
    if ta == "timestamp" and tb == "duration":
        from engine.lang import times

        return times.ts_sub(a, b)
    if ta != tb:
        fail_no_overload("-", a, b)
    if ta == "int":
        return _check_int(a - b, "-")
    if ta == "uint":
        return _check_uint(a - b, "-")
    if ta == "double":
        return a - b
    if ta in ("timestamp", "duration"):
        from engine.lang import times

        return times.ts_diff(a, b) if ta == "timestamp" else times.dur_sub(a, b)
    fail_no_overload("-", a, b)


def cel_mul(a: Any, b: Any) -> Any:
    t = _arith_kind("*", a, b)
    if t == "int":
        return _check_int(a * b, "*")
    if t == "uint":
        return _check_uint(a * b, "*")
    if t == "double":
        return a * b
    fail_no_overload("*", a, b)


def cel_div(a: Any, b: Any) -> Any:
    t = _arith_kind("/", a, b)
    if t in ("int", "uint"):
        if b == 0:
            raise EvalError("eval.division-by-zero", msg("eval.division-by-zero"))
        q = abs(a) // abs(b)
        q = q if (a >= 0) == (b >= 0) else -q
        return _check_int(q, "/") if t == "int" else UInt(q)
    if t == "double":
        try:
            return a / b
        except ZeroDivisionError:
            if math.isnan(a) or a == 0:
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
    fail_no_overload("/", a, b)


def cel_mod(a: Any, b: Any) -> Any:
    t = _arith_kind("%", a, b)
    if t in ("int", "uint"):
        if b == 0:
            raise EvalError("eval.division-by-zero", msg("eval.division-by-zero:modulus"))
        r = abs(a) % abs(b)
        return (r if a >= 0 else -r) if t == "int" else UInt(r)
    fail_no_overload("%", a, b)


def cel_neg(a: Any) -> Any:
    t = type_name(a)
    if t == "int":
        return _check_int(-a, "-")
    if t == "double":
        return -a
    fail_no_overload("-", a)


# -- containers ---------------------------------------------------------------


def cel_index(c: Any, i: Any) -> Any:
    if isinstance(c, (list, tuple)):
        if _num(i):
            if isinstance(i, float) and not i.is_integer():
                raise EvalError("eval.bad-index", msg("eval.bad-index", index=i))
            n = int(i)
            if 0 <= n < len(c):
                return c[n]
            raise EvalError("eval.index-out-of-range", msg("eval.index-out-of-range", index=n, size=len(c)))
        fail_no_overload("[]", c, i)
    if isinstance(c, dict):
        v = map_get(c, i)
        if v is _ABSENT:
            raise EvalError("eval.missing-key", msg("eval.missing-key", key=_short_repr(i)))
        return v
    if c.__class__ is OptionalValue:  # an element of an optional value is optional
        return optional_index(c, i)
    fail_no_overload("[]", c, i)


def make_map(keys: list[Any], values: list[Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for k, v in zip(keys, values):  # noqa: B905 - halves of one list; strict= slows every map literal
        c = k.__class__
        if not (c is str or c is bool or c is int or c is UInt or isinstance(k, (str, int))):
            raise EvalError("eval.bad-key", msg("eval.bad-key", kind=type_name(k)))
        if k in out:
            stored = k if isinstance(k, str) else next(x for x in out if not isinstance(x, str) and x == k)
            if isinstance(stored, bool) == isinstance(k, bool):
                raise EvalError("eval.duplicate-key", msg("eval.duplicate-key", key=_short_repr(k)))
            # e.g. 1 and true: different CEL keys that one Python dict cannot keep apart
            raise EvalError("eval.bad-key", msg("eval.bad-key:mixed", first=repr(stored), second=repr(k)))
        out[k] = v
    return out


def pairs(c: Any, macro: str) -> Any:
    """What a two-variable macro iterates: (index, element) of a list, (key, value) of a map."""
    if isinstance(c, (list, tuple)):
        return enumerate(c)
    if isinstance(c, dict):
        return c.items()
    fail_no_overload(macro, c)


def iterate(c: Any, macro: str) -> Any:
    if isinstance(c, (list, tuple, dict)):
        return c
    fail_no_overload(macro, c)


# -- cost -----------------------------------------------------------------------


def size_cost(v: Any) -> int:
    """The cost of scanning ``v`` once: its length (text and bytes: per 16 characters)."""
    c = v.__class__
    if c is str or c is bytes:
        return len(v) >> 4
    if c is list or c is tuple or c is dict:
        return len(v)
    return 0


_SCALARS = frozenset({bool, int, UInt, float, type(None), _dt.date, Timestamp, Duration, CelType})


def weight(v: Any, limit: int = MAX_COST) -> int:
    """The size of ``v`` with everything it contains (an element counts 1; text and bytes
    1 per 16 characters), counted until it exceeds ``limit``."""
    c = v.__class__
    if c in _SCALARS:
        return 0
    if c is str or c is bytes:
        return len(v) >> 4
    total = 0
    stack = [v]
    while stack:
        x = stack.pop()
        c = x.__class__
        if c is str or c is bytes:
            total += len(x) >> 4
        elif c is list or c is tuple:
            total += len(x)
            stack.extend(y for y in x if y.__class__ not in _SCALARS)
        elif c is OptionalValue:
            if x.value.__class__ not in _SCALARS:
                stack.append(x.value)
        elif c is dict:
            total += len(x)
            for k, y in x.items():
                if k.__class__ is str:
                    total += len(k) >> 4
                if y.__class__ not in _SCALARS:
                    stack.append(y)
        if total > limit:
            return total
    return total


# -- optional values ---------------------------------------------------------------


def optional_select(obj: object, name: str, path: str) -> OptionalValue:
    """``obj.?name``: the field as an optional value, none when the map has no such key.

    Of an optional value, the field of the value it holds (none of none)."""
    if obj.__class__ is OptionalValue:
        obj = obj.value
        if obj is NO_VALUE:
            return OPTIONAL_NONE
    if isinstance(obj, dict):
        v = obj.get(name, NO_VALUE)
        return OPTIONAL_NONE if v is NO_VALUE else OptionalValue(v)
    return OptionalValue(select(obj, name, path))  # not a map: select's error


def optional_index(c: Any, i: Any) -> OptionalValue:
    """``c[?i]``: the element or entry as an optional value, none when there is none.

    Of an optional value, the element of the value it holds (none of none)."""
    if c.__class__ is OptionalValue:
        c = c.value
        if c is NO_VALUE:
            return OPTIONAL_NONE
    if isinstance(c, (list, tuple)):
        if _num(i):
            if isinstance(i, float) and not i.is_integer():
                raise EvalError("eval.bad-index", msg("eval.bad-index", index=i))
            n = int(i)
            return OptionalValue(c[n]) if 0 <= n < len(c) else OPTIONAL_NONE
        fail_no_overload("[?]", c, i)
    if isinstance(c, dict):
        v = map_get(c, i)
        return OPTIONAL_NONE if v is _ABSENT else OptionalValue(v)
    fail_no_overload("[?]", c, i)


def optional_guard(o: Any, kind: str, path: str, nullable: bool) -> Any:
    """An optional record field read with ``.?``: the value it holds checked against the schema
    type (as :func:`want`), dates parsed.  A null where the schema allows one is none: JSON's way of
    leaving a field out."""
    if o.__class__ is OptionalValue and o.value is not NO_VALUE:
        v = o.value
        if v is None and nullable:
            return OPTIONAL_NONE
        if kind == "date" or v.__class__ is not _GUARD_CLASSES.get(kind):
            return OptionalValue(want(v, kind, path, nullable))
    return o


_GUARD_CLASSES: dict[str, type] = {
    "string": str,
    "int": int,
    "bool": bool,
    "list": list,
    "object": dict,
    "map": dict,
    "double": float,
}


def optional_inner(v: Any, what: str) -> Any:
    """What the optional value ``v`` holds, or :data:`NO_VALUE` (an error if ``v`` is not optional)."""
    return want_optional(v, what).value


def want_optional(v: Any, what: str) -> OptionalValue:
    """``v`` where an optional value is required (``?x`` in a literal, ``or``, ``optFlatMap``)."""
    if v.__class__ is OptionalValue:
        return v
    fail_no_overload(what, v)


def optional_list(values: list[Any], optional: tuple[int, ...]) -> list[Any]:
    """A list literal with elements written ``?x``: those kept only when they hold a value."""
    out = []
    for i, v in enumerate(values):
        if i in optional:
            held = want_optional(v, "[?]").value
            if held is not NO_VALUE:
                out.append(held)
        else:
            out.append(v)
    return out


def optional_map(keys: list[Any], values: list[Any], optional: tuple[int, ...]) -> dict[Any, Any]:
    """A map literal with entries written ``?k: v``: those kept only when ``v`` holds a value."""
    ks, vs = [], []
    for i, (k, v) in enumerate(zip(keys, values)):  # noqa: B905 - halves of one list
        held = want_optional(v, "{?}").value if i in optional else v
        if held is not NO_VALUE:
            ks.append(k)
            vs.append(held)
    return make_map(ks, vs)


def merge_entry(acc: dict[Any, Any], entry: Any, macro: str) -> None:
    """``transformMapEntry``: add the entries of the map ``entry`` to ``acc``; a key already there is an error."""
    if not isinstance(entry, dict):
        fail_no_overload(macro, entry)
    for k, v in entry.items():
        if map_get(acc, k) is not _ABSENT:
            raise EvalError("eval.duplicate-key", msg("eval.duplicate-key", key=_short_repr(k)))
        acc[k] = v


def optional_none() -> OptionalValue:
    return OPTIONAL_NONE


def _is_zero(v: object) -> bool:
    c = v.__class__
    if v is None or v is False:
        return True
    if c in (int, UInt, float):
        return v == 0
    if c in (str, bytes, list, tuple, dict):
        return len(v) == 0  # type: ignore[arg-type]  # a sized value
    if isinstance(v, (Timestamp, Duration)):
        return v.ns == 0
    return False


def optional_of_non_zero(v: object) -> OptionalValue:
    """``optional.ofNonZeroValue(v)``: none for null, false, 0, empty text, bytes, lists and maps."""
    return OPTIONAL_NONE if _is_zero(v) else OptionalValue(v)


def optional_has_value(o: object) -> bool:
    return want_optional(o, "hasValue").value is not NO_VALUE


def optional_value(o: object) -> Any:
    v = want_optional(o, "value").value
    if v is NO_VALUE:
        raise EvalError("eval.optional-none", msg("eval.optional-none"))
    return v


def optional_or_value(o: object, default: object) -> Any:
    v = want_optional(o, "orValue").value
    return default if v is NO_VALUE else v


def optional_or(o: object, other: object) -> OptionalValue:
    first = want_optional(o, "or")
    return first if first.value is not NO_VALUE else want_optional(other, "or")
