"""The official Chinese working-day calendar (statutory holidays off, make-up weekends on)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.pluginmanager import get_calendar

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2025, 1, 24), True),  # an ordinary Friday
        (D(2025, 1, 25), False),  # an ordinary Saturday
        (D(2025, 1, 26), True),  # Sunday worked in exchange for the Spring Festival (调休)
        (D(2025, 1, 29), False),  # Spring Festival
        (D(2025, 2, 8), True),  # Saturday worked (调休)
        (D(2025, 10, 1), False),  # National Day
        (D(2025, 10, 11), True),  # Saturday worked (调休)
    ],
    ids=str,
)
def test_is_working_day(day: dt.date, working: bool) -> None:
    assert get_calendar("CN").is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 3, 3), 0, D(2025, 3, 3)),
        (D(2025, 3, 3), 1, D(2025, 3, 4)),  # the day itself is not counted
        (D(2025, 3, 7), 1, D(2025, 3, 10)),  # Friday -> Monday
        (D(2025, 9, 26), 3, D(2025, 9, 30)),  # the make-up Sunday 28 Sep counts
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # over the National Day week (10-11 is a make-up Saturday)
        (D(2025, 9, 30), 2, D(2025, 10, 10)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),
        (D(2025, 1, 20), 20, D(2025, 2, 21)),  # 20 working days across the Spring Festival
    ],
)
def test_working_days_after(start: dt.date, n: int, expected: dt.date) -> None:
    assert get_calendar("CN").working_days_after(start, n) == expected


def test_unknown_calendar_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        get_calendar("XX")


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0"):
        get_calendar("CN").working_days_after(D(2025, 1, 1), -1)


def test_years_the_calendar_does_not_know_are_refused() -> None:
    from engine.calendars import CalendarRangeError, CalendarUnknownError

    cal = get_calendar("CN")
    assert cal.first_year <= 2025 <= cal.last_year  # type: ignore[attr-defined]
    with pytest.raises(CalendarRangeError, match="not known"):
        cal.is_working_day(D(cal.first_year - 1, 3, 2))  # type: ignore[attr-defined]
    with pytest.raises(CalendarRangeError, match="not known"):
        cal.is_working_day(D(2100, 3, 2))
    # after the last known year, only the days an arrangement may still move are refused
    # (test_calendar_unknown_years.py has the rest)
    with pytest.raises(CalendarUnknownError):
        cal.is_working_day(D(cal.last_year + 1, 1, 2))  # type: ignore[attr-defined]


def test_a_rule_on_an_unknown_year_is_an_error_naming_the_calendar() -> None:
    from engine.errors import EvalError
    from engine.lang.functions import calendar_functions

    wda, iwd = calendar_functions({"CN": get_calendar("CN")})
    _working_days_after, _is_working_day = wda.overloads[0].impl, iwd.overloads[0].impl
    with pytest.raises(EvalError) as info:
        _working_days_after(D(2100, 1, 5), 3)
    assert info.value.code == "eval.calendar-range"
    assert "2100" in info.value.message and "2100" in (info.value.message_zh or "")
    with pytest.raises(EvalError) as info:
        _is_working_day(D(2027, 2, 10))
    assert info.value.code == "eval.calendar-unknown"
    assert "2027" in info.value.message and "2027" in (info.value.message_zh or "")


def test_unbound_working_day_functions_know_no_calendar() -> None:
    """The language's own working-day functions read only the calendars they are bound to: unbound,
    even the built-in `CN` is unknown to them (no lookup in the process's plugin manager)."""
    from engine.errors import EvalError
    from engine.lang.functions import STANDARD_FUNCTIONS

    spec = next(s for s in STANDARD_FUNCTIONS if s.name == "is_working_day")
    assert spec.bind is not None
    with pytest.raises(EvalError) as info:
        spec.overloads[0].impl(D(2025, 3, 3))
    assert info.value.code == "eval.unknown-calendar"
    bound = spec.bind({"CN": get_calendar("CN")})
    assert bound.overloads[0].impl(D(2025, 3, 3)) is True
