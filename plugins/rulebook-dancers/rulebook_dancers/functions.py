"""The plugin's condition-language functions, with the typed signatures the checker uses.

``lead_roles(performances, since) -> int``
    how many of the performances (a list of ``{date, role}``) since a date
    were in a leading role (``role == "lead"``);
``semester_of(date[, calendar]) -> string``
    the id of the semester a date falls in (``2024-2025-1``);
``semesters_before(date, n[, calendar]) -> list(string)``
    the ids of the ``n`` semesters completed before a date, the latest first.

``calendar`` names a registered calendar that knows semesters; the default is
this plugin's ``dance-college``.  A problem with the data (a performance
without a valid date) raises ``EvalError``, which makes the calling rule
``error`` and names what is wrong, as the engine's own functions do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from engine.calendars import CalendarRangeError
from engine.errors import EvalError
from engine.lang import types as T
from engine.lang.functions import FunctionSpec, Overload

__all__ = ["LEAD_ROLES", "SEMESTERS_BEFORE", "SEMESTER_OF", "lead_roles"]

DEFAULT_CALENDAR = "dance-college"


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise EvalError("eval.bad-date", f"{what} is not a date YYYY-MM-DD: {value!r}")


def lead_roles(performances: Any, since: Any) -> int:
    """Leading roles (``role == "lead"``) performed on or after ``since``."""
    if not isinstance(performances, (list, tuple)):
        raise EvalError("eval.no-overload", "lead_roles() needs a list of performances")
    since = _date(since, "the start date")
    count = 0
    for i, p in enumerate(performances):
        if not isinstance(p, dict):
            raise EvalError("eval.wrong-type", f"performance {i} is not an object")
        if p.get("role") == "lead" and _date(p.get("date"), f"the date of performance {i}") >= since:
            count += 1
    return count


def _semesters(calendars: Mapping[str, Any], calendar: str) -> Any:
    try:
        cal = calendars[calendar]
    except KeyError:
        raise EvalError("eval.unknown-calendar", f"no calendar named `{calendar}`") from None
    if not hasattr(cal, "semesters_before"):
        raise EvalError("eval.bad-argument", f"the calendar `{calendar}` has no semesters")
    return cal


def _semester_functions(calendars: Mapping[str, Any]) -> tuple[Callable[..., str], Callable[..., list[str]]]:
    """``semester_of`` and ``semesters_before`` on ``calendars`` (the rulebook's, by name)."""

    def semester_of(day: Any, calendar: str = DEFAULT_CALENDAR) -> str:
        try:
            return str(_semesters(calendars, calendar).semester_of(_date(day, "the date")).id)
        except CalendarRangeError as e:
            raise EvalError("eval.calendar-range", str(e)) from None

    def semesters_before(day: Any, n: int, calendar: str = DEFAULT_CALENDAR) -> list[str]:
        try:
            return [s.id for s in _semesters(calendars, calendar).semesters_before(_date(day, "the date"), n)]
        except CalendarRangeError as e:
            raise EvalError("eval.calendar-range", str(e)) from None
        except ValueError as e:
            raise EvalError("eval.bad-argument", str(e)) from None

    return semester_of, semesters_before


# [docs:function_spec]
LEAD_ROLES = FunctionSpec(
    "lead_roles",
    (Overload((T.list_of(T.DYN), T.DATE), T.INT, lead_roles),),
    doc='how many performances since the date were in a leading role (role == "lead")',
)
# [/docs]


def _semester_of_spec(calendars: Mapping[str, Any]) -> FunctionSpec:
    impl = _semester_functions(calendars)[0]
    return FunctionSpec(
        "semester_of",
        (Overload((T.DATE,), T.STRING, impl), Overload((T.DATE, T.STRING), T.STRING, impl)),
        doc="the id of the semester the date falls in, e.g. 2024-2025-1 (calendar default `dance-college`)",
        bind=_semester_of_spec,
    )


def _semesters_before_spec(calendars: Mapping[str, Any]) -> FunctionSpec:
    impl = _semester_functions(calendars)[1]
    return FunctionSpec(
        "semesters_before",
        (
            Overload((T.DATE, T.INT), T.list_of(T.STRING), impl),
            Overload((T.DATE, T.INT, T.STRING), T.list_of(T.STRING), impl),
        ),
        doc="the ids of the n semesters completed before the date, the latest first",
        bind=_semesters_before_spec,
    )


# Functions that read calendars are registered unbound (they know no calendar) with a ``bind``:
# the engine binds them to the calendars of each rulebook it builds.
SEMESTER_OF = _semester_of_spec({})
SEMESTERS_BEFORE = _semesters_before_spec({})
