"""Working-day calendars.

A calendar answers "is this day a working day?" and "which day is the N-th
working day after D?".  The official Chinese calendar (``CN``) comes from the
``holidays`` package: weekends off, statutory holidays off, and the make-up
working weekends (调休) on.  Every calendar, ``CN`` included (``engine.builtin``),
is registered by name through the ``register_calendars`` plugin hook; the
plugin manager collects them (``PluginManager.calendars()``), ``build`` hands
them to the rulebooks it builds, and a compiled rulebook evaluates with the
calendars it carries.  What the condition language itself needs of a calendar
(the protocol, ``DateRange``, the range errors) is in ``engine.lang.calendar``
and re-exported here.

"Within N working days of D" (CONTRACT) means on or before the N-th working
day after D, D itself not counted: ``working_days_after(D, N)``.

A year's arrangement (which weekdays are off and which weekends are worked) is
published by the State Council late in the year before, and ``holidays``
carries a year only once a release has it.  For a year nobody has told the
engine about, ``CN`` does not guess and does not give up either:

- the statutory holidays themselves (元旦, 除夕 and 春节, 清明节, 劳动节, 端午节,
  中秋节, 国庆节, by the 2025 revision of the national measures) are certainly off;
- around each cluster of them, a weekday *may* become a day off (the holiday
  block, bridged or substituted: at most the longest block the State Council
  has used for that kind of holiday) and a weekend day *may* become a make-up
  working day (at most two per cluster, within 14 days of it);
- every other day is a plain weekday (working) or weekend day (off).

``is_working_day`` of a day that may go either way raises
:class:`CalendarUnknownError`; ``working_days_after`` returns a plain date when
every possible arrangement gives the same day, and a :class:`DateRange` of the
earliest and latest possible days when they differ, so that a comparison with
a date far enough before or after the range is still decided.

A year's arrangement can be added, or a year of the package corrected, as data:
an arrangement file (``calendars/*.yaml`` in a rulebook folder or a
``RULEBOOK_PATH`` folder, or a file or :class:`Arrangement` registered through
``register_calendars``), validated by ``schemas/calendar-arrangement.schema.json``.
A file for a year replaces what the package has for that year.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from engine.errors import Diagnostic, EngineError
from engine.lang.calendar import (
    MAX_WORKING_DAYS,
    Calendar,
    CalendarRangeError,
    CalendarUnknownError,
    DateRange,
    bind_calendars,
)

__all__ = [
    "Arrangement",
    "Calendar",
    "CalendarError",
    "CalendarRangeError",
    "CalendarUnknownError",
    "ChineseCalendar",
    "DateRange",
    "bind_calendars",
    "load_arrangement_file",
]

ONE_DAY = _dt.timedelta(days=1)


class CalendarError(EngineError):
    """An arrangement file (or a registered arrangement) is wrong: exit code 2, with its diagnostics."""


# ---------------------------------------------------------------------------------------------
# Arrangements: a year's days off and make-up working days, as data
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrangement:
    """One year's official arrangement for a calendar.

    Args:
        calendar: the calendar it belongs to (``CN``).
        year: the year it is for; it may also name days of December of the year before
            (a New Year holiday that starts there).
        off: every day off by the arrangement (weekdays and weekends of the holiday blocks)
            with the holiday's name.
        work: the make-up working days (weekend days worked) with the holiday's name.
        source: what it comes from (the notice's title and number).
        origin: where it was read (a file, a plugin) for ``rulebook calendar show``.
    """

    calendar: str
    year: int
    off: dict[_dt.date, str] = field(default_factory=dict)
    work: dict[_dt.date, str] = field(default_factory=dict)
    source: str = ""
    origin: str = ""

    def days(self) -> Iterable[_dt.date]:
        return [*self.off, *self.work]


def _cal_diag(
    code: str, en: str, zh: str, source: Any, span: Any, help_en: str | None = None, help_zh: str | None = None
) -> Diagnostic:
    from engine.messages import Text

    return Diagnostic(
        code,
        Text(en, zh),
        source=source,
        span=span,
        help=Text(help_en, help_zh or help_en) if help_en is not None else None,
    )


def load_arrangement_file(path: str | Path, origin: str | None = None) -> Arrangement:
    """Read and check one arrangement file.

    Raises:
        CalendarError: the file cannot be read, is not valid YAML, breaks the schema or names
            impossible days; every problem is a diagnostic positioned in the file.
    """
    from engine.schemas import validate_document
    from engine.source import Source
    from engine.yamlload import load_yaml

    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        from engine.messages import os_reason

        reason = os_reason(e) if isinstance(e, OSError) else None
        raise CalendarError(
            _cal_diag(
                "calendar.unreadable",
                f"cannot read the arrangement file `{name}`: {reason.en if reason else 'not UTF-8 text'}",
                f"无法读取放假安排文件 `{name}`：{reason.zh if reason else '不是 UTF-8 文本'}",
                None,
                None,
            )
        ) from None
    source = Source(name, text)
    loaded = load_yaml(source)  # raises YamlError with its own diagnostics
    problems = validate_document(loaded.data, source, loaded.span, "calendar-arrangement.schema.json")
    if problems:
        raise CalendarError(*problems)
    data = cast(dict[str, Any], loaded.data)  # valid under the schema: a mapping
    year = int(data["year"])
    off: dict[_dt.date, str] = {}
    work: dict[_dt.date, str] = {}
    first_allowed, last_allowed = _dt.date(year - 1, 12, 1), _dt.date(year, 12, 31)
    seen: dict[_dt.date, tuple[Any, ...]] = {}

    def day_at(text: str, where: tuple[Any, ...]) -> _dt.date | None:
        try:
            day = _dt.date.fromisoformat(text)
        except ValueError:
            problems.append(
                _cal_diag(
                    "calendar.bad-date",
                    f"`{text}` is not a date of the calendar",
                    f"`{text}` 不是有效的日期",
                    source,
                    loaded.span(where),
                )
            )
            return None
        if not first_allowed <= day <= last_allowed:
            problems.append(
                _cal_diag(
                    "calendar.outside-year",
                    f"{text} is outside the arrangement for {year}",
                    f"{text} 不在 {year} 年放假安排的范围内",
                    source,
                    loaded.span(where),
                    f"an arrangement for {year} names days of {year} (and of December {year - 1} for a New Year "
                    "holiday that starts there); put other years in their own file",
                    f"{year} 年的放假安排只能写 {year} 年的日期"
                    f"（元旦假期从上一年12月开始的，可写 {year - 1} 年12月的日期）；其他年份请另建文件",
                )
            )
            return None
        if day in seen:
            first = loaded.span(seen[day])
            at = f" (first at line {source.line_col(first.start)[0]})" if first is not None else ""
            at_zh = f"（首次出现在第 {source.line_col(first.start)[0]} 行）" if first is not None else ""
            problems.append(
                _cal_diag(
                    "calendar.duplicate-day",
                    f"{text} is listed twice{at}",
                    f"{text} 重复列出{at_zh}",
                    source,
                    loaded.span(where),
                    "a day is either off or a make-up working day, listed once",
                    "每一天只能列一次：要么放假，要么调休上班",
                )
            )
            return None
        seen[day] = where
        return day

    for i, holiday in enumerate(data["holidays"]):
        hname = str(holiday["name"])
        spec = holiday["off"]
        base: tuple[Any, ...] = ("holidays", i, "off")
        if isinstance(spec, str):
            d = day_at(spec, base)
            if d is not None:
                off[d] = hname
        elif isinstance(spec, list):
            for j, text in enumerate(spec):
                d = day_at(text, (*base, j))
                if d is not None:
                    off[d] = hname
        else:
            start, end = day_at(spec["from"], (*base, "from")), day_at(spec["to"], (*base, "to"))
            if start is not None and end is not None:
                if end < start or (end - start).days > 31:
                    problems.append(
                        _cal_diag(
                            "calendar.bad-range",
                            f"the days off from {start} to {end} are not a holiday block",
                            f"从 {start} 到 {end} 不是一个假期",
                            source,
                            loaded.span(base),
                            "`from` is the first day off and `to` the last (at most a month later)",
                            "`from` 写第一天，`to` 写最后一天（不超过一个月）",
                        )
                    )
                else:
                    day = start + ONE_DAY
                    while day <= end:
                        off[day] = hname
                        day += ONE_DAY
                    off[start] = hname
        for j, text in enumerate(holiday.get("work") or []):
            where = ("holidays", i, "work", j)
            d = day_at(text, where)
            if d is None:
                continue
            if d.weekday() < 5:
                problems.append(
                    _cal_diag(
                        "calendar.workday-not-weekend",
                        f"{text} is a {d.strftime('%A')}: a make-up working day is a weekend day",
                        f"{text} 是星期{'一二三四五'[d.weekday()]}：调休上班日应是周六或周日",
                        source,
                        loaded.span(where),
                        "list under `work` only the Saturdays and Sundays that are worked",
                        "`work` 只列调休上班的周六、周日",
                    )
                )
                continue
            work[d] = hname
    if problems:
        raise CalendarError(*problems)
    return Arrangement(str(data["calendar"]), year, off, work, str(data["source"]), origin or name)


def is_arrangement_path(path: Path) -> bool:
    """Whether a YAML file is an arrangement file (under a ``calendars`` folder), not a rulebook."""
    return "calendars" in path.parts[:-1]


# ---------------------------------------------------------------------------------------------
# The official Chinese calendar
# ---------------------------------------------------------------------------------------------

# The holiday names of the `holidays` package, in Chinese, for `rulebook calendar show`.
_NAMES_ZH = {
    "new year's day": "元旦",
    "chinese new year's eve": "除夕",
    "chinese new year (spring festival)": "春节",
    "tomb-sweeping day": "清明节",
    "labor day": "劳动节",
    "dragon boat festival": "端午节",
    "mid-autumn festival": "中秋节",
    "national day": "国庆节",
}

# The longest holiday block (days off in a row, weekends included) the State Council has set around
# each festival (2008-2026): 元旦 3, 春节 (with 除夕) 9, 清明节 3, 劳动节 5, 端午节 3, 中秋节 3, 国庆节 8
# (国庆 with 中秋 in it included).  A weekday farther from the festival than the block allows
# cannot be one of its days off.
_MAX_BLOCK = {
    "new year's day": 3,
    "chinese new year's eve": 9,
    "chinese new year (spring festival)": 9,
    "tomb-sweeping day": 3,
    "labor day": 5,
    "dragon boat festival": 3,
    "mid-autumn festival": 3,
    "national day": 8,
}
_MAX_BLOCK_OTHER = 9
_FESTIVAL = {"chinese new year's eve": "chinese new year (spring festival)"}  # one block: 除夕 with 春节
LAST_YEAR = 2099  # the statutory holidays are computed up to here
MAKEUP_WINDOW_DAYS = 14  # make-up working days fall within two weeks of the holiday
MAX_MAKEUP_DAYS = 2  # per cluster of holidays

_WORK, _OFF = 1, 0


@dataclass(frozen=True)
class _Cluster:
    statutory: tuple[_dt.date, ...]
    maybe_off: frozenset[_dt.date]  # weekdays the holiday block may take
    maybe_work: frozenset[_dt.date]  # weekend days that may be make-up working days
    name: str
    year: int  # the year whose arrangement decides them


class ChineseCalendar:
    """The official calendar of the People's Republic of China (mainland)."""

    name = "CN"

    def __init__(self, arrangements: Iterable[Arrangement] = (), *, package_until: int | None = None) -> None:
        """``package_until``: use the package's arrangements only up to this year (tests measure
        the guesses for unknown years against years that have since been published)."""
        self._package_until = package_until
        # The tables are built on first use (a third of a second): the calendar is
        # registered at start-up by every command, and most never need it.
        self._loaded = False
        self._arrangements: dict[int, Arrangement] = {}
        self._cache: dict[_dt.date, Any] = {}
        self._after_cache: dict[tuple[_dt.date, int], _dt.date | DateRange] = {}
        for a in arrangements:
            self.add(a)

    # -- what the calendar knows ------------------------------------------------------------

    def add(self, arrangement: Arrangement) -> None:
        """Add (or replace) a year's arrangement."""
        if arrangement.calendar != self.name:
            raise ValueError(f"an arrangement for `{arrangement.calendar}` given to the `{self.name}` calendar")
        self._arrangements[arrangement.year] = arrangement
        self._loaded = False  # rebuilt on next use

    def _load(self) -> None:
        import holidays

        self._package_version = getattr(holidays, "__version__", "?")
        pkg = holidays.China(years=range(1990, 2041))
        workdays = frozenset(pkg.weekend_workdays)
        # The years whose arrangement (调休) the package knows: those with make-up working
        # days or substituted days off.  Outside them a weekends-only guess would be wrong.
        arranged = {d.year for d in workdays} | {
            d.year for d, name in pkg.items() if "substitut" in name.lower() or "day off" in name.lower()
        }
        if self._package_until is not None:
            arranged = {y for y in arranged if y <= self._package_until}
        self._pkg_first, self._pkg_last = min(arranged), max(arranged)
        status: dict[_dt.date, int] = {}
        names: dict[_dt.date, tuple[str, str]] = {}  # day -> (holiday name, where from)
        pkg_origin = f"holidays {self._package_version}"
        for d, hname in pkg.items():
            if self._pkg_first <= d.year <= self._pkg_last:
                status[d] = _OFF
                names[d] = (hname, pkg_origin)
        for d in workdays:
            if d.year > self._pkg_last:
                continue
            status[d] = _WORK
            names[d] = (pkg.get(d) or "make-up working day", pkg_origin)
        known = set(range(self._pkg_first, self._pkg_last + 1))
        for year in sorted(self._arrangements):
            a = self._arrangements[year]
            known.add(year)
            for d in [d for d in status if d.year == year]:
                del status[d]
                names.pop(d, None)
            for d, hname in a.off.items():
                status[d] = _OFF
                names[d] = (hname, a.origin)
            for d, hname in a.work.items():
                status[d] = _WORK
                names[d] = (hname, a.origin)
        self._status, self._names, self._known = status, names, frozenset(known)
        self._first_year = min(known)
        self._last_year = max(y for y in known if all(x in known for x in range(self._first_year, y + 1)))
        # statutory days of the years nobody has arranged (the package computes the lunar dates)
        self._clusters: dict[int, list[_Cluster]] = {}
        self._cluster_of: dict[_dt.date, _Cluster] = {}
        self._statutory: dict[_dt.date, str] = {}
        self._statutory_years: set[int] = set()
        self._cache = {}
        self._after_cache = {}
        self._loaded = True

    @property
    def first_year(self) -> int:
        if not self._loaded:
            self._load()
        return self._first_year

    @property
    def last_year(self) -> int:
        """The last year of the run of known years that starts at ``first_year``."""
        if not self._loaded:
            self._load()
        return self._last_year

    def knows(self, year: int) -> bool:
        """Whether the calendar has the year's arrangement (from the package or a file)."""
        if not self._loaded:
            self._load()
        return year in self._known

    def _year_clusters(self, year: int) -> list[_Cluster]:
        """The holidays of a year nobody has arranged: festivals less than a week apart form one
        cluster, whose days off and make-up working days one arrangement decides together."""
        clusters = self._clusters.get(year)
        if clusters is not None:
            return clusters
        festivals: dict[str, list[_dt.date]] = {}
        self._statutory_of(year)
        self._statutory_of(year - 1)  # December's days are checked against it
        for d in sorted(d for d in self._statutory if d.year == year):
            low = self._statutory[d].lower()
            festivals.setdefault(_FESTIVAL.get(low, low), []).append(d)
        groups: list[list[list[_dt.date]]] = []  # clusters of festivals
        for days in sorted(festivals.values()):
            if groups and (days[0] - groups[-1][-1][-1]).days <= 7:
                groups[-1].append(days)
            else:
                groups.append([days])
        clusters = []
        for group in groups:
            statutory = [d for days in group for d in days]
            maybe_off: set[_dt.date] = set()
            for days in group:
                block = _MAX_BLOCK.get(self._statutory[days[0]].lower(), _MAX_BLOCK_OTHER)
                day = days[-1] - _dt.timedelta(days=block - 1)
                while day <= days[0] + _dt.timedelta(days=block - 1):
                    if day not in self._statutory and day.weekday() < 5:
                        maybe_off.add(day)
                    day += ONE_DAY
            maybe_work: set[_dt.date] = set()
            day = statutory[0] - _dt.timedelta(days=MAKEUP_WINDOW_DAYS)
            while day <= statutory[-1] + _dt.timedelta(days=MAKEUP_WINDOW_DAYS):
                if day not in self._statutory and day.weekday() >= 5:
                    maybe_work.add(day)
                day += ONE_DAY
            # the year's own days, and for 元旦 the end of December before it (a New Year block or
            # make-up day may fall there, as in 2001, 2005, 2006, 2011 and 2018)
            keep = [d for d in (*maybe_off, *maybe_work) if d.year == year or (d.year == year - 1 and d.month == 12)]
            name = " / ".join(dict.fromkeys(self._statutory[d] for d in statutory))
            clusters.append(
                _Cluster(
                    tuple(statutory),
                    frozenset(d for d in maybe_off if d in keep),
                    frozenset(d for d in maybe_work if d in keep),
                    name,
                    year,
                )
            )
        self._clusters[year] = clusters
        for c in clusters:
            for d in (*c.maybe_off, *c.maybe_work):
                # two clusters' windows may overlap: a day belongs to the nearer one
                other = self._cluster_of.get(d)
                if other is None or _distance(d, c) < _distance(d, other):
                    self._cluster_of[d] = c
        return clusters

    def _statutory_of(self, year: int) -> None:
        """The statutory holidays of ``year`` by the national measures (the package computes the lunar
        dates); the days off and make-up days around them are what a year's arrangement adds."""
        if year in self._statutory_years:
            return
        import holidays

        for d, hname in holidays.China(years=year).items():
            low = hname.lower()
            if "observed" not in low and "substitut" not in low and "day off" not in low:
                self._statutory[d] = hname
        self._statutory_years.add(year)

    def _unsure(self, day: _dt.date) -> Any:
        """The cluster of an unarranged year whose arrangement may change ``day``, or None."""
        self._year_clusters(day.year)
        if day.month == 12:
            self._year_clusters(day.year + 1)
        return self._cluster_of.get(day)

    def _day(self, day: _dt.date) -> Any:
        """_WORK, _OFF, or the cluster whose arrangement decides the day."""
        if not self._loaded:
            self._load()
        got = self._cache.get(day)
        if got is not None:
            return got
        year = day.year
        if year < self._first_year or year > LAST_YEAR:
            raise CalendarRangeError(self.name, year, self._first_year, self._last_year)
        if year in self._known:
            got = self._status.get(day)
            if got is None:
                # a plain day of December may still take part in next year's New Year block
                got = (self._unsure(day) if day.month == 12 and year + 1 not in self._known else None) or (
                    _WORK if day.weekday() < 5 else _OFF
                )
        else:
            self._statutory_of(year)  # the year's statutory holidays, worked out once
            got = _OFF if day in self._statutory else self._unsure(day) or (_WORK if day.weekday() < 5 else _OFF)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[day] = got
        return got

    def is_working_day(self, day: _dt.date) -> bool:
        got = self._day(day)
        if got.__class__ is int:
            return got == _WORK
        raise CalendarUnknownError(self.name, day, self._first_year, self._last_year, got.year)

    def working_days_after(self, day: _dt.date, n: int) -> _dt.date | DateRange:
        if n < 0 or n > MAX_WORKING_DAYS:
            raise ValueError(f"the number of working days must be between 0 and {MAX_WORKING_DAYS}")
        if not self._loaded:
            self._load()
        key = (day, n)
        got = self._after_cache.get(key)
        if got is not None:
            return got
        # The latest possible day: every day that may be off is off, no make-up day is worked.
        latest, left, unsure = day, n, False
        while left > 0:
            latest += ONE_DAY
            s = self._day(latest)
            if s.__class__ is int:
                if s == _WORK:
                    left -= 1
            else:
                unsure = True
        if not unsure:
            result: _dt.date | DateRange = latest
        else:
            # The earliest: every day that may be off is worked, and each cluster's make-up days
            # are worked as early as possible (at most MAX_MAKEUP_DAYS of them).
            earliest, left = day, n
            used: dict[int, int] = {}
            years: set[int] = set()
            while left > 0:
                earliest += ONE_DAY
                s = self._day(earliest)
                if s.__class__ is int:
                    if s == _WORK:
                        left -= 1
                    continue
                years.add(s.year)
                if earliest in s.maybe_off:
                    left -= 1
                elif used.get(id(s), 0) < MAX_MAKEUP_DAYS:
                    used[id(s)] = used.get(id(s), 0) + 1
                    left -= 1
            d = latest
            while d > earliest:  # the years the latest day's count depended on
                s = self._day(d)
                if s.__class__ is not int:
                    years.add(s.year)
                d -= ONE_DAY
            result = latest if earliest == latest else DateRange(earliest, latest, tuple(sorted(years)))
        if len(self._after_cache) > 65536:
            self._after_cache.clear()
        self._after_cache[key] = result
        return result

    # -- what `rulebook calendar show` prints -------------------------------------------------

    def describe_year(self, year: int) -> dict[str, Any]:
        """What the calendar believes about ``year``: where it comes from and every day that is not
        a plain weekday (working) or weekend day (off), with its holiday's name and origin."""
        if not self._loaded:
            self._load()
        days: list[dict[str, Any]] = []
        if year < self._first_year or year > LAST_YEAR:
            return {
                "calendar": self.name,
                "year": year,
                "known": False,
                "source": None,
                "days": [],
                "first_year": self._first_year,
            }
        if year in self._known:
            a = self._arrangements.get(year)
            source = f"{a.source} ({a.origin})" if a is not None else f"holidays {self._package_version}"
            for d in sorted(
                x
                for x in self._status
                if x.year == year or (a is not None and x in a.off) or (a is not None and x in a.work)
            ):
                plain = _WORK if d.weekday() < 5 else _OFF
                state = self._status[d]
                if state == plain and not (a is not None and d in a.off):
                    continue
                hname, origin = self._names.get(d, ("", ""))
                days.append(
                    {
                        "date": d.isoformat(),
                        "status": "working" if state == _WORK else "off",
                        "holiday": hname,
                        "origin": origin,
                    }
                )
            if year + 1 not in self._known:  # December may still take part in next year's New Year block
                for c in self._year_clusters(year + 1):
                    for d in sorted((*c.maybe_off, *c.maybe_work)):
                        if d.year == year and d not in self._status:
                            days.append(
                                {
                                    "date": d.isoformat(),
                                    "status": "may be off" if d in c.maybe_off else "may be worked",
                                    "holiday": c.name,
                                    "origin": f"{year + 1}: not published",
                                }
                            )
                days.sort(key=lambda x: x["date"])
            return {"calendar": self.name, "year": year, "known": True, "source": source, "days": days}
        for c in self._year_clusters(year):
            for d in c.statutory:
                days.append(
                    {
                        "date": d.isoformat(),
                        "status": "off",
                        "holiday": self._statutory[d],
                        "origin": f"statutory (holidays {self._package_version})",
                    }
                )
            for d in sorted(c.maybe_off):
                days.append(
                    {"date": d.isoformat(), "status": "may be off", "holiday": c.name, "origin": "not published"}
                )
            for d in sorted(c.maybe_work):
                days.append(
                    {"date": d.isoformat(), "status": "may be worked", "holiday": c.name, "origin": "not published"}
                )
        days.sort(key=lambda x: x["date"])
        return {
            "calendar": self.name,
            "year": year,
            "known": False,
            "source": None,
            "days": days,
            "package": f"holidays {self._package_version}",
        }


def _distance(day: _dt.date, c: _Cluster) -> int:
    return min(abs((day - c.statutory[0]).days), abs((day - c.statutory[-1]).days))


def holiday_name_zh(name: str) -> str:
    """A holiday name of the package in Chinese (names typed in an arrangement file are kept)."""
    parts = []
    for part in name.split(" / "):
        low = part.lower()
        base = low.replace(" (observed)", "")
        if base in _NAMES_ZH:
            parts.append(_NAMES_ZH[base] + ("（补休）" if "observed" in low else ""))
        elif "substitut" in low or "day off" in low:
            parts.append("调休")
        elif low == "make-up working day":
            parts.append("调休上班")
        else:
            parts.append(part)
    return " / ".join(parts)
