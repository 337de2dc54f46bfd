"""The function library of the condition language.

A function is a :class:`FunctionSpec`: a name and one or more typed
:class:`Overload` s, each with the Python implementation the compiled code
calls.  The checker picks the overload from the argument types (``dyn``
matches anything; the implementation then checks at run time).  The standard
library here is registered through the same ``register_functions`` hook as a
plugin's functions.

Domain functions (dates, ages, working days on the official calendar) follow
CONTRACT: "N years after D" is the same month and day N years later, with
29 Feb becoming 28 Feb in a common year; full years from A to B is the
largest N with ``years_after(A, N) <= B``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from engine.calendars import CalendarRangeError
from engine.errors import EvalError
from engine.lang import types as T
from engine.lang.types import Type
from engine.lang.values import INT_MAX, INT_MIN, UInt, cel_cmp, fail_no_overload, to_date, type_name

__all__ = ["FunctionSpec", "Overload", "STANDARD_FUNCTIONS", "FunctionTable"]


@dataclass(frozen=True)
class Overload:
    """One typed signature. ``member`` allows ``x.f(...)`` with ``x`` as the first argument;
    ``variadic`` allows one or more arguments of the first parameter's type."""

    params: tuple[Type, ...]
    result: Type
    impl: Callable[..., Any] = field(compare=False)
    member: bool = False
    function: bool = True
    variadic: bool = False

    def accepts(self, args: list[Type]) -> bool:
        if self.variadic:
            return len(args) >= 1 and all(T.assignable(self.params[0], a) for a in args)
        return len(args) == len(self.params) and all(T.assignable(p, a) for p, a in zip(self.params, args))


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    overloads: tuple[Overload, ...]
    doc: str = ""

    def arities(self, member: bool) -> set[int]:
        out: set[int] = set()
        for o in self.overloads:
            if (o.member if member else o.function):
                out.add(len(o.params) - (1 if member else 0))
        return out

    def any_variadic(self) -> bool:
        return any(o.variadic for o in self.overloads)


class FunctionTable:
    """Functions by name (the standard library plus plugins')."""

    def __init__(self, specs: Iterable[FunctionSpec] = ()) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        for s in specs:
            self.add(s)

    def add(self, spec: FunctionSpec) -> None:
        self._specs[spec.name] = spec

    def get(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)


# -- implementations ---------------------------------------------------------------


def _size(v: Any) -> int:
    if isinstance(v, (str, bytes, list, tuple, dict)):
        return len(v)
    fail_no_overload("size", v)


def years_after(d: _dt.date, n: int) -> _dt.date:
    """Same month and day ``n`` years later; 29 Feb -> 28 Feb in a common year."""
    d = to_date(d)
    y = d.year + n
    if not 1 <= y <= 9999:
        raise EvalError("eval.date-range", f"year {y} is out of range")
    try:
        return d.replace(year=y)
    except ValueError:
        return d.replace(year=y, day=28)


def months_after(d: _dt.date, n: int) -> _dt.date:
    """Same day ``n`` months later; a day past the month's end becomes its last day."""
    d = to_date(d)
    m0 = d.year * 12 + d.month - 1 + n
    y, m = divmod(m0, 12)
    if not 1 <= y <= 9999:
        raise EvalError("eval.date-range", f"year {y} is out of range")
    for day in (d.day, 30, 29, 28):
        try:
            return _dt.date(y, m + 1, min(d.day, day))
        except ValueError:
            continue
    raise EvalError("eval.date-range", "no such date")


def days_after(d: _dt.date, n: int) -> _dt.date:
    try:
        return to_date(d) + _dt.timedelta(days=n)
    except OverflowError:
        raise EvalError("eval.date-range", "date out of range") from None


def full_years(start: _dt.date, end: _dt.date) -> int:
    """Full years from ``start`` to ``end`` (an age on ``end`` for a birth date ``start``)."""
    start, end = to_date(start), to_date(end)
    n = end.year - start.year
    if n > 0 and years_after(start, n) > end:
        n -= 1
    elif n < 0 and years_after(start, n) < end:
        n += 1
    return n


def _date(s: Any) -> _dt.date:
    return to_date(s)


def _working_days_after(d: _dt.date, n: int, calendar: str = "CN") -> _dt.date:
    from engine.calendars import get_calendar

    try:
        cal = get_calendar(calendar)
    except KeyError:
        raise EvalError("eval.unknown-calendar", f"no calendar named `{calendar}`") from None
    try:
        return cal.working_days_after(to_date(d), n)
    except CalendarRangeError as e:
        raise EvalError("eval.calendar-range", str(e)) from None
    except ValueError as e:
        raise EvalError("eval.bad-argument", str(e)) from None


def _is_working_day(d: _dt.date, calendar: str = "CN") -> bool:
    from engine.calendars import get_calendar

    try:
        return get_calendar(calendar).is_working_day(to_date(d))
    except KeyError:
        raise EvalError("eval.unknown-calendar", f"no calendar named `{calendar}`") from None
    except CalendarRangeError as e:
        raise EvalError("eval.calendar-range", str(e)) from None


def _extreme(name: str, pick: int, args: tuple[Any, ...]) -> Any:
    items: Any = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    if not items:
        raise EvalError("eval.empty", f"{name}() of an empty list")
    best = items[0]
    for v in items[1:]:
        if cel_cmp(v, best, name) == pick:
            best = v
    return best


def _max(*args: Any) -> Any:
    return _extreme("max", 1, args)


def _min(*args: Any) -> Any:
    return _extreme("min", -1, args)


def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        fail_no_overload("int", v)
    if isinstance(v, int):
        if INT_MIN <= v <= INT_MAX:
            return int(v)
    elif isinstance(v, float):
        if v == v and -(2.0**63) < v < 2.0**63:
            return int(v)
    elif isinstance(v, str):
        try:
            n = int(v, 10)
        except ValueError:
            raise EvalError("eval.bad-conversion", f"cannot convert {v!r} to int") from None
        if INT_MIN <= n <= INT_MAX:
            return n
    else:
        fail_no_overload("int", v)
    raise EvalError("eval.overflow", f"{v!r} is out of the int range")


def _to_double(v: Any) -> float:
    if isinstance(v, bool):
        fail_no_overload("double", v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise EvalError("eval.bad-conversion", f"cannot convert {v!r} to double") from None
    fail_no_overload("double", v)


def _to_string(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if isinstance(v, float) else str(int(v))
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise EvalError("eval.bad-conversion", "bytes are not valid UTF-8") from None
    fail_no_overload("string", v)


def _str_method(name: str, op: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def impl(s: Any, t: Any) -> bool:
        if isinstance(s, str) and isinstance(t, str):
            return op(s, t)
        fail_no_overload(name, s, t)

    return impl


def _date_part(name: str, get: Callable[[_dt.date], int]) -> Callable[[Any], int]:
    def impl(d: Any) -> int:
        return get(to_date(d))

    impl.__name__ = name
    return impl


D, I, S, B, DYN = T.DATE, T.INT, T.STRING, T.BOOL, T.DYN


def _spec(name: str, doc: str, *overloads: Overload) -> FunctionSpec:
    return FunctionSpec(name, tuple(overloads), doc)


STANDARD_FUNCTIONS: tuple[FunctionSpec, ...] = (
    _spec("size", "number of elements of a list or map, characters of a string, bytes of bytes",
          Overload((DYN,), I, _size, member=True)),
    _spec("date", "the date written as an ISO string `YYYY-MM-DD`",
          Overload((S,), D, _date), Overload((D,), D, _date)),
    _spec("years_after", "same month and day n years later (29 Feb -> 28 Feb in a common year)",
          Overload((D, I), D, years_after, member=True)),
    _spec("months_after", "same day n months later (clamped to the month's last day)",
          Overload((D, I), D, months_after, member=True)),
    _spec("days_after", "the date n days later", Overload((D, I), D, days_after, member=True)),
    _spec("full_years", "full years from the first date to the second (an age)",
          Overload((D, D), I, full_years)),
    _spec("working_days_after",
          "the n-th working day after the date on a calendar (default `CN`, the official Chinese calendar)",
          Overload((D, I), D, _working_days_after), Overload((D, I, S), D, _working_days_after)),
    _spec("is_working_day", "whether the date is a working day on a calendar (default `CN`)",
          Overload((D,), B, _is_working_day), Overload((D, S), B, _is_working_day)),
    _spec("year", "the year of a date", Overload((D,), I, _date_part("year", lambda d: d.year), member=True)),
    _spec("month", "the month (1-12) of a date",
          Overload((D,), I, _date_part("month", lambda d: d.month), member=True)),
    _spec("day", "the day of the month of a date",
          Overload((D,), I, _date_part("day", lambda d: d.day), member=True)),
    _spec("max", "the largest of a list, or of the arguments", Overload((DYN,), DYN, _max, variadic=True)),
    _spec("min", "the smallest of a list, or of the arguments", Overload((DYN,), DYN, _min, variadic=True)),
    _spec("int", "conversion to int", Overload((DYN,), I, _to_int)),
    _spec("double", "conversion to double", Overload((DYN,), T.DOUBLE, _to_double)),
    _spec("string", "conversion to string", Overload((DYN,), S, _to_string)),
    _spec("contains", "whether the string contains the other",
          Overload((S, S), B, _str_method("contains", lambda s, t: t in s), member=True, function=False)),
    _spec("startsWith", "whether the string starts with the other",
          Overload((S, S), B, _str_method("startsWith", str.startswith), member=True, function=False)),
    _spec("endsWith", "whether the string ends with the other",
          Overload((S, S), B, _str_method("endsWith", str.endswith), member=True, function=False)),
)


def result_type(spec: FunctionSpec, overload: Overload, args: list[Type]) -> Type:
    """The result type, refined for max/min over a typed list or typed arguments."""
    if spec.name in ("max", "min"):
        if len(args) == 1 and args[0].kind == "list" and args[0].elem is not None:
            return args[0].elem
        kinds = {a.kind for a in args}
        if len(kinds) == 1 and len(args) > 1:
            return args[0].non_null()
    return overload.result


def describe_types(args: list[Type]) -> str:
    return ", ".join(str(a) for a in args)


_ = (UInt, type_name)
