"""The function library of the condition language.

A function is a :class:`FunctionSpec`: a name and one or more typed
:class:`Overload` s, each with the Python implementation the compiled code
calls.  The checker picks the overload from the argument types (``dyn``
matches anything; the implementation then checks at run time).  The standard
library here is registered through the same ``register_functions`` hook as a
plugin's functions.

CEL's standard functions: ``size``; the conversions ``int``, ``uint``,
``double``, ``string`` (a double in ``%g`` style with the shortest digits,
as CEL's C++ and Go implementations write it), ``bytes``, ``bool``, ``dyn``,
``type``, ``timestamp`` and ``duration``; ``contains``, ``startsWith``,
``endsWith`` and ``matches`` (RE2 syntax, matched by the ``google-re2``
package in time linear in the text, so a pattern cannot hang an
evaluation); the timestamp and duration accessors ``getFullYear`` ...
``getMilliseconds``, with an optional time zone.  A function whose cost
grows with its arguments is marked ``scans`` (see the cost rules in
``engine.lang.values``).

Domain functions (dates, ages, working days on the official calendar) follow
CONTRACT: "N years after D" is the same month and day N years later, with
29 Feb becoming 28 Feb in a common year; full years from A to B is the
largest N with ``years_after(A, N) <= B``.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from engine.errors import EvalError
from engine.lang import ext_math, ext_strings, times
from engine.lang import types as T
from engine.lang import values as V
from engine.lang.calendar import Calendar, CalendarRangeError, CalendarUnknownError, DateRange
from engine.lang.ext_strings import format_double
from engine.lang.types import Type
from engine.lang.values import (
    INT_MAX,
    INT_MIN,
    UINT_MAX,
    Duration,
    Timestamp,
    UInt,
    cel_cmp,
    cel_eq,
    cel_type,
    fail_no_overload,
    to_date,
    type_name,
)
from engine.messages import Text, msg

__all__ = ["STANDARD_FUNCTIONS", "FunctionSpec", "FunctionTable", "Overload"]


@dataclass(frozen=True)
class Overload:
    """One typed signature. ``member`` allows ``x.f(...)`` with ``x`` as the first argument;
    ``variadic`` allows one or more arguments of the first parameter's type.  ``accept``, when
    given, is a further test of the argument types (e.g. "numbers or dates"), and ``shown`` then
    describes in words what the signature accepts."""

    params: tuple[Type, ...]
    result: Type
    impl: Callable[..., Any] = field(compare=False)
    member: bool = False
    function: bool = True
    variadic: bool = False
    accept: Callable[[list[Type]], bool] | None = field(default=None, compare=False)
    shown: str = ""

    def accepts(self, args: list[Type]) -> bool:
        if self.variadic:
            ok = len(args) >= 1 and all(T.assignable(self.params[0], a) for a in args)
        else:
            ok = len(args) == len(self.params) and all(
                T.assignable(p, a) for p, a in zip(self.params, args, strict=True)
            )
        return ok and (self.accept is None or self.accept(args))

    def describe(self, method: str | None = None) -> str:
        """The signature as a message shows it: ``(string, int)``, or what ``shown`` says; for a
        call written as the method ``method``, ``string.charAt(int)``."""
        if method is not None and self.params and not self.shown:
            return f"{self.params[0]}.{method}({describe_types(list(self.params[1:]))})"
        return "(" + (self.shown or describe_types(list(self.params))) + ")"


@dataclass(frozen=True)
class FunctionSpec:
    """A function: its name, its overloads and a line of documentation.

    ``scans`` says that a call takes time proportional to the size of its
    arguments (a text search, a conversion of text); inside a macro such a
    call is charged to the evaluation's cost budget.  ``scans_deep`` charges
    a list argument with everything it holds (``join`` and ``format`` read
    every string of their list), not only its length.

    ``bind``, for a function that reads working-day calendars, gives the
    function bound to a rulebook's calendars (name -> calendar):
    ``build`` calls it with the calendars the rulebook is built with, so a
    compiled rulebook's answers never depend on what else the process has
    loaded.  Unbound, such a function knows no calendar at all.
    """

    name: str
    overloads: tuple[Overload, ...]
    doc: str = ""
    scans: bool = False
    bind: Callable[[Mapping[str, Any]], FunctionSpec] | None = field(default=None, compare=False)
    scans_deep: bool = False

    def arities(self, member: bool) -> set[int]:
        out: set[int] = set()
        for o in self.overloads:
            if o.member if member else o.function:
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

    def with_calendars(self, calendars: Mapping[str, Any]) -> FunctionTable:
        """This table with every function that reads calendars (``FunctionSpec.bind``) bound to
        ``calendars`` (name -> calendar)."""
        cals = dict(calendars)
        return FunctionTable(s.bind(cals) if s.bind is not None else s for s in self._specs.values())


# -- implementations ---------------------------------------------------------------


def size(v: Any) -> int:
    if isinstance(v, (str, bytes, list, tuple, dict)):
        return len(v)
    fail_no_overload("size", v)


def years_after(d: _dt.date, n: int) -> _dt.date:
    """Same month and day ``n`` years later; 29 Feb -> 28 Feb in a common year."""
    d = to_date(d)
    y = d.year + n
    if not 1 <= y <= 9999:
        raise EvalError("eval.date-range", msg("eval.date-range", year=y))
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
        raise EvalError("eval.date-range", msg("eval.date-range", year=y))
    for day in (d.day, 30, 29, 28):
        try:
            return _dt.date(y, m + 1, min(d.day, day))
        except ValueError:
            continue
    raise EvalError("eval.date-range", msg("eval.date-range:day"))


def days_after(d: _dt.date, n: int) -> _dt.date:
    try:
        return to_date(d) + _dt.timedelta(days=n)
    except OverflowError:
        raise EvalError("eval.date-range", msg("eval.date-range:date")) from None


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


def _calendar_impls(lookup: Callable[[str], Calendar]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``working_days_after`` and ``is_working_day`` on the calendars ``lookup(name)`` gives
    (``KeyError`` for a name it does not know)."""

    def working_days_after(d: _dt.date, n: int, calendar: str = "CN") -> _dt.date | DateRange:
        try:
            cal = lookup(calendar)
        except KeyError:
            raise EvalError("eval.unknown-calendar", msg("eval.unknown-calendar", name=calendar)) from None
        try:
            return cal.working_days_after(to_date(d), n)
        except CalendarUnknownError as e:
            raise EvalError("eval.calendar-unknown", Text(str(e), e.message_zh)) from None
        except CalendarRangeError as e:
            raise EvalError("eval.calendar-range", Text(str(e), getattr(e, "message_zh", None) or str(e))) from None
        except ValueError as e:
            from engine.lang.calendar import MAX_WORKING_DAYS

            if not 0 <= n <= MAX_WORKING_DAYS:
                raise EvalError(
                    "eval.bad-argument", msg("eval.bad-argument:working-days", limit=MAX_WORKING_DAYS)
                ) from None
            raise EvalError("eval.bad-argument", Text(str(e), f"`{e}`")) from None  # a plugin calendar's own words

    def is_working_day(d: _dt.date, calendar: str = "CN") -> bool:
        try:
            cal = lookup(calendar)
        except KeyError:
            raise EvalError("eval.unknown-calendar", msg("eval.unknown-calendar", name=calendar)) from None
        try:
            return cal.is_working_day(to_date(d))
        except CalendarUnknownError as e:
            raise EvalError("eval.calendar-unknown", Text(str(e), e.message_zh)) from None
        except CalendarRangeError as e:
            raise EvalError("eval.calendar-range", Text(str(e), getattr(e, "message_zh", None) or str(e))) from None

    return working_days_after, is_working_day


def calendar_functions(calendars: Mapping[str, Any]) -> list[FunctionSpec]:
    """``working_days_after`` and ``is_working_day`` bound to ``calendars`` (name -> calendar): what a
    compiled rulebook calls, so that its answers depend on the calendars it was built with only."""
    working_days_after, is_working_day = _calendar_impls(dict(calendars).__getitem__)
    return [_calendar_spec("working_days_after", working_days_after), _calendar_spec("is_working_day", is_working_day)]


def _bind_working_days_after(calendars: Mapping[str, Any]) -> FunctionSpec:
    return calendar_functions(calendars)[0]


def _bind_is_working_day(calendars: Mapping[str, Any]) -> FunctionSpec:
    return calendar_functions(calendars)[1]


def _calendar_spec(name: str, impl: Callable[..., Any]) -> FunctionSpec:
    if name == "working_days_after":
        return _spec(
            "working_days_after",
            "the n-th working day after the date on a calendar (default `CN`, the official Chinese calendar)",
            Overload((D, INT), D, impl),
            Overload((D, INT, S), D, impl),
            bind=_bind_working_days_after,
        )
    return _spec(
        "is_working_day",
        "whether the date is a working day on a calendar (default `CN`)",
        Overload((D,), B, impl),
        Overload((D, S), B, impl),
        bind=_bind_is_working_day,
    )


def _extreme(name: str, pick: int, args: tuple[Any, ...]) -> Any:
    items: Any = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    if not items:
        raise EvalError("eval.empty", msg("eval.empty", name=name))
    best = items[0]
    for v in items[1:]:
        if cel_cmp(v, best, name) == pick:
            best = v
    return best


def maximum(*args: Any) -> Any:
    return _extreme("max", 1, args)


def minimum(*args: Any) -> Any:
    return _extreme("min", -1, args)


def _distinct_key(v: Any) -> Any:
    """A hashable key, equal for two values exactly when CEL's ``==`` holds; None for the others
    (lists, maps, NaN), which are compared one by one."""
    c = v.__class__
    if c is bool:
        return ("bool", v)
    if c is float:
        if v != v:  # NaN equals nothing, not even itself
            return None
        return ("num", int(v)) if v.is_integer() else ("num", v)
    if isinstance(v, int):  # int and uint: 1 == 1u == 1.0
        return ("num", int(v))
    if c in (str, bytes, type(None), _dt.date, Timestamp, Duration):
        try:
            hash(v)
        except TypeError:
            return None
        return (c.__name__, v)
    if c.__name__ == "CelType":
        return ("type", v)
    return None


def _distinct(items: Any) -> list[Any]:
    """The list without repeated elements (equal by ``==``), each kept where it first occurs."""
    if not isinstance(items, (list, tuple)):
        fail_no_overload("distinct", items)
    if all(v.__class__ is str for v in items):  # the common case: text, equal as Python strings
        return list(dict.fromkeys(items))
    seen: set[Any] = set()
    others: list[Any] = []
    out: list[Any] = []
    for v in items:
        key = _distinct_key(v)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        else:
            if any(cel_eq(v, o) for o in others):
                continue
            others.append(v)
        out.append(v)
    return out


def _normalize(s: Any) -> str:
    """Text typed by hand made comparable: Unicode NFKC (full-width letters, digits and signs
    become the ordinary ones), case folded, white space at either end removed."""
    if not isinstance(s, str):
        fail_no_overload("normalize", s)
    if s.isascii():  # NFKC leaves ASCII as it is, and folds its case as lower() does
        return s.lower().strip()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", s).casefold()).strip()


_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_UINT_TEXT = re.compile(r"\s*\+?[0-9]+\s*", re.ASCII)
_DOUBLE_TEXT = re.compile(
    r"\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)\s*", re.ASCII | re.IGNORECASE
)


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
        if len(v) > 64 or not _INT_TEXT.fullmatch(v):
            raise EvalError("eval.bad-conversion", msg("eval.bad-conversion", shown=_show(v), kind="int"))
        n = int(v, 10)
        if INT_MIN <= n <= INT_MAX:
            return n
    elif isinstance(v, Timestamp):
        return v.seconds
    else:
        fail_no_overload("int", v)
    raise EvalError("eval.overflow", msg("eval.overflow:range", shown=_show(v), kind="int"))


def _to_uint(v: Any) -> UInt:
    if isinstance(v, bool):
        fail_no_overload("uint", v)
    if isinstance(v, int):
        if 0 <= v <= UINT_MAX:
            return UInt(v)
    elif isinstance(v, float):
        if v == v and 0 <= v < 2.0**64:
            return UInt(int(v))
    elif isinstance(v, str):
        if len(v) > 64 or not _UINT_TEXT.fullmatch(v):
            raise EvalError("eval.bad-conversion", msg("eval.bad-conversion", shown=_show(v), kind="uint"))
        n = int(v, 10)
        if n <= UINT_MAX:
            return UInt(n)
    else:
        fail_no_overload("uint", v)
    raise EvalError("eval.overflow", msg("eval.overflow:range", shown=_show(v), kind="uint"))


def _to_double(v: Any) -> float:
    if isinstance(v, bool):
        fail_no_overload("double", v)
    if isinstance(v, float):
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, str):
        if len(v) > 1000 or not _DOUBLE_TEXT.fullmatch(v):
            raise EvalError("eval.bad-conversion", msg("eval.bad-conversion", shown=_show(v), kind="double"))
        return float(v)
    fail_no_overload("double", v)


def _to_string(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_double(v)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, (Timestamp, Duration)):
        return str(v)
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise EvalError("eval.bad-conversion", msg("eval.bad-conversion:utf8")) from None
    fail_no_overload("string", v)


def _to_bytes(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        try:
            return v.encode("utf-8")
        except UnicodeEncodeError:
            raise EvalError("eval.bad-conversion", msg("eval.bad-conversion:unicode")) from None
    fail_no_overload("bytes", v)


_BOOL_TEXT = {
    "1": True,
    "t": True,
    "true": True,
    "TRUE": True,
    "True": True,
    "0": False,
    "f": False,
    "false": False,
    "FALSE": False,
    "False": False,
}


def _to_bool(v: Any) -> bool:
    if v is True or v is False:
        return v
    if isinstance(v, str):
        b = _BOOL_TEXT.get(v)
        if b is None:
            raise EvalError("eval.bad-conversion", msg("eval.bad-conversion", shown=_show(v), kind="bool"))
        return b
    fail_no_overload("bool", v)


def _dyn(v: Any) -> Any:
    return v


def _type(v: Any) -> Any:
    return cel_type(v)


def _to_timestamp(v: Any) -> Timestamp:
    if isinstance(v, Timestamp):
        return v
    if isinstance(v, str):
        return times.parse_timestamp(v)
    if isinstance(v, int) and not isinstance(v, (bool, UInt)):
        return times.timestamp_from_seconds(v)
    fail_no_overload("timestamp", v)


def _to_duration(v: Any) -> Duration:
    if isinstance(v, Duration):
        return v
    if isinstance(v, str):
        return times.parse_duration(v)
    fail_no_overload("duration", v)


def _accessor(name: str) -> Callable[..., int]:
    def impl(t: Any, tz: Any = None) -> int:
        if isinstance(t, Timestamp):
            if tz is not None and not isinstance(tz, str):
                fail_no_overload(name, t, tz)
            return times.timestamp_part(t, name, tz)
        if isinstance(t, Duration) and tz is None and name in _DURATION_PARTS:
            return times.duration_part(t, name)
        if tz is None:
            fail_no_overload(name, t)
        fail_no_overload(name, t, tz)

    impl.__name__ = name
    return impl


_DURATION_PARTS = ("getHours", "getMinutes", "getSeconds", "getMilliseconds")


@lru_cache(maxsize=1)
def _re2_options() -> Any:
    """re2's options, made once (re2 is imported by the first regular expression)."""
    import re2

    options = re2.Options()
    options.log_errors = False
    return options


@lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    import re2

    try:
        return re2.compile(pattern, options=_re2_options())
    except Exception as e:  # noqa: BLE001 - re2.error, or text that is not valid UTF-8
        detail = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        return EvalError("eval.bad-regex", msg("eval.bad-regex", pattern=_show(pattern), detail=detail))


def _matches(s: Any, pattern: Any) -> bool:
    if not (isinstance(s, str) and isinstance(pattern, str)):
        fail_no_overload("matches", s, pattern)
    rx = _regex(pattern)
    if isinstance(rx, EvalError):
        raise rx
    try:
        return rx.search(s) is not None
    except UnicodeEncodeError:
        raise EvalError("eval.bad-argument", msg("eval.bad-argument:unicode")) from None


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:39] + "…"


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


D, INT, S, B, DYN = T.DATE, T.INT, T.STRING, T.BOOL, T.DYN


def _spec(
    name: str,
    doc: str,
    *overloads: Overload,
    scans: bool = False,
    bind: Callable[[Mapping[str, Any]], FunctionSpec] | None = None,
) -> FunctionSpec:
    return FunctionSpec(name, tuple(overloads), doc, scans, bind)


# Unbound (no calendar at all) until ``FunctionTable.with_calendars`` binds them to a rulebook's calendars.
_UNBOUND_CALENDAR_FUNCTIONS = calendar_functions({})


U, DBL, BY, TS, DUR, TYP = T.UINT, T.DOUBLE, T.BYTES, T.TIMESTAMP, T.DURATION, T.TYPE

_TIMESTAMP_PARTS = {
    "getFullYear": "the year of a timestamp, in UTC or the given time zone",
    "getMonth": "the month of a timestamp, 0 for January",
    "getDate": "the day of the month of a timestamp, from 1",
    "getDayOfMonth": "the day of the month of a timestamp, from 0",
    "getDayOfWeek": "the day of the week of a timestamp, 0 for Sunday",
    "getDayOfYear": "the day of the year of a timestamp, from 0",
    "getHours": "the hour of a timestamp; of a duration, its whole hours",
    "getMinutes": "the minute of a timestamp; of a duration, its whole minutes",
    "getSeconds": "the second of a timestamp; of a duration, its whole seconds",
    "getMilliseconds": "the milliseconds within the second of a timestamp or duration",
}


def _accessor_spec(name: str) -> FunctionSpec:
    impl = _accessor(name)
    overloads = [
        Overload((TS,), INT, impl, member=True, function=False),
        Overload((TS, S), INT, impl, member=True, function=False),
    ]
    if name in _DURATION_PARTS:
        overloads.append(Overload((DUR,), INT, impl, member=True, function=False))
    return FunctionSpec(name, tuple(overloads), _TIMESTAMP_PARTS[name])


# CEL's optional values (the optional extension); the checker refines the result types (``result_type``).
OPT = T.OPTIONAL_DYN

_OPTIONAL_FUNCTIONS = (
    _spec("optional.of", "an optional value holding the value", Overload((DYN,), OPT, V.optional_of)),
    _spec("optional.none", "the optional value holding no value", Overload((), OPT, V.optional_none)),
    _spec(
        "optional.ofNonZeroValue",
        "an optional value holding the value, or none for null, false, 0, empty text, lists and maps",
        Overload((DYN,), OPT, V.optional_of_non_zero),
    ),
    _spec(
        "hasValue",
        "whether the optional value holds a value",
        Overload((OPT,), B, V.optional_has_value, member=True, function=False),
    ),
    _spec(
        "value",
        "the value the optional value holds (an error for none)",
        Overload((OPT,), DYN, V.optional_value, member=True, function=False),
    ),
    _spec(
        "orValue",
        "the value the optional value holds, else the argument",
        Overload((OPT, DYN), DYN, V.optional_or_value, member=True, function=False),
    ),
    _spec(
        "or",
        "the optional value if it holds a value, else the other optional value",
        Overload((OPT, OPT), OPT, V.optional_or, member=True, function=False),
    ),
)


def _optional_result(name: str, args: list[Type]) -> Type | None:
    """The result type of an optional function for these argument types (None: the declared one)."""
    if name in ("optional.of", "optional.ofNonZeroValue") and len(args) == 1:
        return T.optional_of(args[0])
    inner = args[0].elem if args and args[0].kind == "optional" and args[0].elem is not None else T.DYN
    if name == "value":
        return inner
    if name == "orValue" and len(args) == 2:
        return inner if inner == args[1] else T.DYN
    if name == "or" and len(args) == 2:
        return args[0] if args[0] == args[1] else T.OPTIONAL_DYN
    return None


def _declared(d: ext_strings.Declared) -> FunctionSpec:
    """A function of an extension library (``engine.lang.ext_strings``, ``engine.lang.ext_math``)."""
    overloads = (
        Overload(s.params, s.result, s.impl, s.member, s.function, s.variadic, s.accept, s.shown) for s in d.sigs
    )
    return FunctionSpec(d.name, tuple(overloads), d.doc, d.scans, scans_deep=d.deep)


STANDARD_FUNCTIONS: tuple[FunctionSpec, ...] = (
    _spec(
        "size",
        "number of elements of a list or map, characters of a string, bytes of bytes",
        Overload((DYN,), INT, size, member=True),
    ),
    _spec("date", "the date written as an ISO string `YYYY-MM-DD`", Overload((S,), D, _date), Overload((D,), D, _date)),
    _spec(
        "years_after",
        "same month and day n years later (29 Feb -> 28 Feb in a common year)",
        Overload((D, INT), D, years_after, member=True),
    ),
    _spec(
        "months_after",
        "same day n months later (clamped to the month's last day)",
        Overload((D, INT), D, months_after, member=True),
    ),
    _spec("days_after", "the date n days later", Overload((D, INT), D, days_after, member=True)),
    _spec("full_years", "full years from the first date to the second (an age)", Overload((D, D), INT, full_years)),
    *_UNBOUND_CALENDAR_FUNCTIONS,
    _spec("year", "the year of a date", Overload((D,), INT, _date_part("year", lambda d: d.year), member=True)),
    _spec(
        "month", "the month (1-12) of a date", Overload((D,), INT, _date_part("month", lambda d: d.month), member=True)
    ),
    _spec(
        "day", "the day of the month of a date", Overload((D,), INT, _date_part("day", lambda d: d.day), member=True)
    ),
    _spec(
        "max", "the largest of a list, or of the arguments", Overload((DYN,), DYN, maximum, variadic=True), scans=True
    ),
    _spec(
        "min", "the smallest of a list, or of the arguments", Overload((DYN,), DYN, minimum, variadic=True), scans=True
    ),
    _spec(
        "distinct",
        "the list without repeated elements (equal by `==`), in the order they first occur",
        Overload((T.LIST_DYN,), T.LIST_DYN, _distinct, member=True),
        scans=True,
    ),
    _spec(
        "normalize",
        "the text in a comparable form: NFKC (full-width to ordinary characters), case folded, "
        "without white space at either end",
        Overload((S,), S, _normalize, member=True),
        scans=True,
    ),
    _spec("int", "conversion to int", Overload((DYN,), INT, _to_int), scans=True),
    _spec("uint", "conversion to uint", Overload((DYN,), U, _to_uint), scans=True),
    _spec("double", "conversion to double", Overload((DYN,), DBL, _to_double), scans=True),
    _spec("string", "conversion to string", Overload((DYN,), S, _to_string), scans=True),
    _spec("bytes", "conversion to bytes (a string as UTF-8)", Overload((DYN,), BY, _to_bytes), scans=True),
    _spec("bool", "conversion to bool (a string: true, false, t, f, 1, 0, ...)", Overload((DYN,), B, _to_bool)),
    _spec("dyn", "the value itself, with its type checked only at run time", Overload((DYN,), DYN, _dyn)),
    _spec("type", "the type of a value, e.g. `type(1) == int`", Overload((DYN,), TYP, _type)),
    _spec(
        "timestamp",
        "a timestamp from an RFC 3339 string, or from seconds since 1970-01-01T00:00:00Z",
        Overload((S,), TS, _to_timestamp),
        Overload((TS,), TS, _to_timestamp),
        Overload((INT,), TS, _to_timestamp),
        scans=True,
    ),
    _spec(
        "duration",
        'a duration from a string such as "1h30m" or "2.5s"',
        Overload((S,), DUR, _to_duration),
        Overload((DUR,), DUR, _to_duration),
        scans=True,
    ),
    _spec(
        "contains",
        "whether the string contains the other",
        Overload((S, S), B, _str_method("contains", lambda s, t: t in s), member=True, function=False),
        scans=True,
    ),
    _spec(
        "startsWith",
        "whether the string starts with the other",
        Overload((S, S), B, _str_method("startsWith", str.startswith), member=True, function=False),
        scans=True,
    ),
    _spec(
        "endsWith",
        "whether the string ends with the other",
        Overload((S, S), B, _str_method("endsWith", str.endswith), member=True, function=False),
        scans=True,
    ),
    _spec(
        "matches",
        "whether a part of the string matches the RE2 regular expression",
        Overload((S, S), B, _matches, member=True),
        scans=True,
    ),
    *(_accessor_spec(name) for name in _TIMESTAMP_PARTS),
    *(_declared(d) for d in (*ext_strings.DECLARED, *ext_math.DECLARED)),
    *_OPTIONAL_FUNCTIONS,
)


def result_type(spec: FunctionSpec, overload: Overload, args: list[Type]) -> Type:
    """The result type, refined for max/min over a typed list or typed arguments, and for distinct
    (a list of the same elements)."""
    if spec in _OPTIONAL_FUNCTIONS:
        refined = _optional_result(spec.name, args)
        if refined is not None:
            return refined
    if spec.name == "distinct" and len(args) == 1 and args[0].kind == "list":
        return args[0].non_null()
    if spec.name in ("max", "min", "math.greatest", "math.least"):
        if len(args) == 1 and args[0].kind == "list" and args[0].elem is not None:
            return args[0].elem
        kinds = {a.kind for a in args}
        if len(kinds) == 1 and len(args) > 1:
            return args[0].non_null()
    return overload.result


def describe_types(args: list[Type]) -> str:
    return ", ".join(str(a) for a in args)


_ = (UInt, type_name)


def standard_table() -> FunctionTable:
    return FunctionTable(STANDARD_FUNCTIONS)
