"""Working-day calendars.

A calendar answers "is this day a working day?" and "which day is the N-th
working day after D?".  The official Chinese calendar (``CN``) comes from the
``holidays`` package: weekends off, statutory holidays off, and the make-up
working weekends (调休) on.  Every calendar, ``CN`` included (``engine.builtin``),
is registered by name through the ``register_calendars`` plugin hook;
``get_calendar(name)`` looks it up in the plugin manager.

"Within N working days of D" (CONTRACT) means on or before the N-th working
day after D, D itself not counted: ``working_days_after(D, N)``.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from typing import Protocol

__all__ = ["Calendar", "CalendarRangeError", "ChineseCalendar", "calendar_names", "get_calendar"]

MAX_WORKING_DAYS = 100_000


class CalendarRangeError(ValueError):
    """A date in a year the calendar does not know (its holidays are not published yet)."""

    def __init__(self, calendar: str, year: int, first: int, last: int) -> None:
        self.calendar, self.year, self.first, self.last = calendar, year, first, last
        super().__init__(f"the `{calendar}` calendar is known for {first}-{last}; {year} is not known "
                         "(the official holidays and make-up working days of a year are announced late in the "
                         "year before)")


class Calendar(Protocol):
    """A working-day calendar, as the ``register_calendars`` hook registers it.

    ``is_working_day(day)`` says whether ``day`` is a working day;
    ``working_days_after(day, n)`` is the ``n``-th working day after ``day``
    (``day`` itself not counted; ``n == 0`` gives ``day``).  Raise
    :class:`CalendarRangeError` for a year the calendar does not know and
    ``ValueError`` for a bad ``n``: rules then get status ``error``.
    """

    name: str

    def is_working_day(self, day: _dt.date) -> bool: ...

    def working_days_after(self, day: _dt.date, n: int) -> _dt.date: ...


class ChineseCalendar:
    """The official calendar of the People's Republic of China (mainland)."""

    name = "CN"

    def __init__(self) -> None:
        # The tables are built on first use (a third of a second): the calendar is
        # registered at start-up by every command, and most never need it.
        self._loaded = False

    def _load(self) -> None:
        import holidays

        self._holidays = holidays.China(years=range(1990, 2041))
        self._workdays = frozenset(self._holidays.weekend_workdays)
        # The years whose arrangement (调休) the package knows: those with make-up working
        # days or substituted days off.  Outside them a weekends-only guess would be wrong.
        arranged = {d.year for d in self._workdays} | {
            d.year for d, name in self._holidays.items() if "substitut" in name.lower() or "day off" in name.lower()}
        self._first_year, self._last_year = min(arranged), max(arranged)
        self._loaded = True

    @property
    def first_year(self) -> int:
        if not self._loaded:
            self._load()
        return self._first_year

    @property
    def last_year(self) -> int:
        if not self._loaded:
            self._load()
        return self._last_year

    @lru_cache(maxsize=65536)  # noqa: B019 - one instance per process
    def is_working_day(self, day: _dt.date) -> bool:
        if not self.first_year <= day.year <= self.last_year:
            raise CalendarRangeError(self.name, day.year, self.first_year, self.last_year)
        if day in self._workdays:
            return True
        if day.weekday() >= 5:
            return False
        return day not in self._holidays

    def working_days_after(self, day: _dt.date, n: int) -> _dt.date:
        if n < 0 or n > MAX_WORKING_DAYS:
            raise ValueError(f"the number of working days must be between 0 and {MAX_WORKING_DAYS}")
        one = _dt.timedelta(days=1)
        while n > 0:
            day += one
            if self.is_working_day(day):
                n -= 1
        return day


def calendar_names() -> list[str]:
    """The names of every registered calendar."""
    from engine.pluginmanager import get_plugin_manager

    return sorted(get_plugin_manager().calendars())


def get_calendar(name: str = "CN") -> Calendar:
    """The calendar registered under ``name`` by a plugin (``CN``: the built-in one).

    Raises:
        KeyError: no plugin registered a calendar of that name.
    """
    from engine.pluginmanager import get_plugin_manager

    return get_plugin_manager().calendars()[name]
