"""A dance college's academic calendar: two semesters a year.

The academic year ``Y-(Y+1)`` has an autumn semester (``Y-(Y+1)-1``) from the
first Monday on or after 1 September to the Friday of its 20th week, and a
spring semester (``Y-(Y+1)-2``) from the first Monday on or after 25 February
of ``Y+1`` to the Friday of its 18th week.  Teaching days are the days inside
a semester that are working days on the official Chinese calendar (``CN``),
so national holidays and make-up working weekends (调休) count as they do
for everybody else.

It is registered as the working-day calendar ``dance-college``: the engine's
``is_working_day(d, "dance-college")`` and ``working_days_after(d, n,
"dance-college")`` count teaching days; the plugin's ``semester_of`` and
``semesters_before`` use the semesters themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.calendars import CalendarRangeError

__all__ = ["AcademicCalendar", "Semester"]

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Semester:
    """One semester: ``id`` like ``2024-2025-1``, first and last teaching day."""

    id: str
    start: dt.date
    end: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


class AcademicCalendar:
    """The semesters of academic years ``first_year``-... to ``last_year``-...; teaching days on top of ``CN``."""

    def __init__(
        self,
        name: str = "dance-college",
        first_year: int = 2010,
        last_year: int = 2035,
        autumn_weeks: int = 20,
        spring_weeks: int = 18,
        official: str = "CN",
    ) -> None:
        self.name = name
        self.first_year, self.last_year = first_year, last_year
        self.autumn_weeks, self.spring_weeks = autumn_weeks, spring_weeks
        self.official = official
        self._official_calendar: Any = None  # set by with_calendars

    def with_calendars(self, calendars: Mapping[str, Any]) -> AcademicCalendar:
        """This calendar reading the official working days from ``calendars[self.official]``: the
        engine binds every calendar of a rulebook to the rulebook's other calendars this way."""
        bound = AcademicCalendar(
            self.name, self.first_year, self.last_year, self.autumn_weeks, self.spring_weeks, self.official
        )
        bound._official_calendar = calendars.get(self.official)
        return bound

    # -- semesters

    def semester(self, year: int, term: int) -> Semester:
        """Semester ``term`` (1 autumn, 2 spring) of the academic year starting in ``year``."""
        if not self.first_year <= year <= self.last_year:
            raise CalendarRangeError(self.name, year, self.first_year, self.last_year)
        if term == 1:
            start, weeks = _monday_on_or_after(dt.date(year, 9, 1)), self.autumn_weeks
        elif term == 2:
            start, weeks = _monday_on_or_after(dt.date(year + 1, 2, 25)), self.spring_weeks
        else:
            raise ValueError("a term is 1 (autumn) or 2 (spring)")
        return Semester(f"{year}-{year + 1}-{term}", start, start + dt.timedelta(weeks=weeks - 1, days=4))

    def _around(self, day: dt.date) -> list[Semester]:
        """The semesters of the academic years around ``day``, in time order."""
        return [
            self.semester(y, t)
            for y in (day.year - 2, day.year - 1, day.year)
            for t in (1, 2)
            if self.first_year <= y <= self.last_year
        ]

    def semester_of(self, day: dt.date) -> Semester:
        """The semester ``day`` falls in; a day in a break belongs to the semester just ended."""
        ended = [s for s in self._around(day) if s.start <= day]
        if not ended:
            raise CalendarRangeError(self.name, day.year, self.first_year, self.last_year)
        return ended[-1]

    def semesters_before(self, day: dt.date, n: int) -> list[Semester]:
        """The ``n`` semesters completed before ``day``, the latest first (a semester in
        progress on ``day`` is not complete)."""
        if not 0 <= n <= 20:
            raise ValueError("the number of semesters must be between 0 and 20")
        done: list[Semester] = []
        year = day.year
        while len(done) < n:
            if year < self.first_year:
                raise CalendarRangeError(self.name, year, self.first_year, self.last_year)
            for term in (2, 1):
                if year <= self.last_year:
                    s = self.semester(year, term)
                    if s.end < day and len(done) < n:
                        done.append(s)
            year -= 1
        return done

    # -- the engine's Calendar protocol: teaching days

    def is_working_day(self, day: dt.date) -> bool:
        if not any(day in s for s in self._around(day)):
            if not self.first_year <= day.year <= self.last_year + 1:
                raise CalendarRangeError(self.name, day.year, self.first_year, self.last_year)
            return False
        if self._official_calendar is None:
            raise ValueError(f"the `{self.name}` calendar is not bound to an official calendar `{self.official}`")
        return bool(self._official_calendar.is_working_day(day))

    def working_days_after(self, day: dt.date, n: int) -> dt.date:
        if not 0 <= n <= 10_000:
            raise ValueError("the number of teaching days must be between 0 and 10000")
        while n > 0:
            day += ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day
