"""What the condition language knows of working-day calendars.

A calendar is any object with ``is_working_day(day)`` and ``working_days_after(day, n)``
(:class:`Calendar`); the language's working-day functions call the calendars a
rulebook was built with, by name, and never look one up anywhere else.  The
official Chinese calendar and the arrangement files are in ``engine.calendars``
(a layer above this one), which re-exports these names.

A calendar that reads another calendar has ``with_calendars(calendars)``, which
returns it bound to the calendars of the rulebook (:func:`bind_calendars`): a
plugin's college calendar, whose teaching days are the official working days
inside its semesters, reads the official calendar it was built with, not one
registered somewhere in the process.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Protocol

from engine.lang.values import DateRange

__all__ = [
    "MAX_WORKING_DAYS",
    "Calendar",
    "CalendarRangeError",
    "CalendarUnknownError",
    "DateRange",
    "bind_calendars",
]

MAX_WORKING_DAYS = 100_000


class CalendarRangeError(ValueError):
    """A date in a year the calendar does not know (its holidays are not published yet)."""

    def __init__(self, calendar: str, year: int, first: int, last: int) -> None:
        self.calendar, self.year, self.first, self.last = calendar, year, first, last
        super().__init__(
            f"the `{calendar}` calendar is known for {first}-{last}; {year} is not known "
            "(the official holidays and make-up working days of a year are announced late in the "
            "year before)"
        )
        self.message_zh = (
            f"`{calendar}` 日历只知道 {first}-{last} 年的放假安排，不知道 {year} 年的"
            "（每年的法定节假日和调休上班日由国务院在上一年年底公布）"
        )


class CalendarUnknownError(CalendarRangeError):
    """Whether ``day`` is a working day depends on an arrangement the calendar does not have."""

    def __init__(self, calendar: str, day: _dt.date, first: int, last: int, year: int | None = None) -> None:
        year = year or day.year
        super().__init__(calendar, year, first, last)
        self.day = day
        message_en = (
            f"whether {day.isoformat()} is a working day depends on the official arrangement for "
            f"{year}, which the `{calendar}` calendar does not have yet (it knows {first}-{last}); "
            f"add the year's arrangement file (`rulebook calendar show {year}`)"
        )
        self.args = (message_en,)
        self.message_zh = (
            f"{day.isoformat()} 是否为工作日取决于 {year} 年的放假安排，`{calendar}` 日历尚无该年安排"
            f"（已知 {first}-{last} 年）；请添加该年的放假安排文件（见 `rulebook calendar show {year}`）"
        )


class Calendar(Protocol):
    """A working-day calendar, as the ``register_calendars`` hook registers it.

    ``is_working_day(day)`` says whether ``day`` is a working day;
    ``working_days_after(day, n)`` is the ``n``-th working day after ``day``
    (``day`` itself not counted; ``n == 0`` gives ``day``), or a
    :class:`DateRange` when the answer depends on what the calendar does not
    know.  Raise :class:`CalendarRangeError` for a year the calendar does not
    know and ``ValueError`` for a bad ``n``: rules then get status ``error``.
    """

    name: str

    def is_working_day(self, day: _dt.date) -> bool: ...

    def working_days_after(self, day: _dt.date, n: int) -> _dt.date | DateRange: ...


def bind_calendars(calendars: Mapping[str, Any]) -> dict[str, Any]:
    """The calendars by name, each bound to the others: a calendar that reads another (a college
    calendar whose teaching days are the official working days within its semesters) has a
    ``with_calendars(calendars)`` method that returns it bound to ``calendars``; others are
    used as they are.  What a compiled rulebook carries."""
    everything = dict(calendars)
    return {
        name: (cal.with_calendars(everything) if hasattr(cal, "with_calendars") else cal)
        for name, cal in everything.items()
    }
