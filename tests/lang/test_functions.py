"""Domain functions: dates, ages in full years, adding years and months, min/max, conversions."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import EvalError
from engine.lang.functions import _to_int, full_years, maximum, minimum, months_after, years_after

D = dt.date


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2020, 5, 1), 3, D(2023, 5, 1)),
        (D(2008, 2, 29), 18, D(2026, 2, 28)),  # 29 Feb -> 28 Feb in a common year (CONTRACT)
        (D(2008, 2, 29), 16, D(2024, 2, 29)),  # stays 29 Feb in a leap year
        (D(2020, 2, 29), 5, D(2025, 2, 28)),
        (D(2023, 6, 30), -3, D(2020, 6, 30)),
    ],
)
def test_years_after(day: dt.date, n: int, expected: dt.date) -> None:
    assert years_after(day, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2008, 3, 1), D(2026, 3, 1), 18),  # on the 18th birthday
        (D(2008, 3, 2), D(2026, 3, 1), 17),  # the day before it
        (D(2008, 2, 29), D(2026, 2, 28), 18),  # born 29 Feb: 18 on 28 Feb of a common year
        (D(2008, 2, 29), D(2026, 2, 27), 17),
        (D(2008, 2, 29), D(2024, 2, 28), 15),  # in a leap year the birthday is 29 Feb
        (D(2019, 3, 1), D(2026, 3, 1), 7),  # exactly 7 years of work
        (D(2019, 3, 2), D(2026, 3, 1), 6),
        (D(2026, 3, 1), D(2026, 3, 1), 0),
    ],
)
def test_full_years(start: dt.date, end: dt.date, expected: int) -> None:
    assert full_years(start, end) == expected


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 1, 1)), st.integers(min_value=0, max_value=120))
def test_full_years_agrees_with_years_after(start: dt.date, n: int) -> None:
    # "Full years from A to B >= N" means years_after(A, N) <= B.
    day = years_after(start, n)
    assert full_years(start, day) == n
    assert full_years(start, day - dt.timedelta(days=1)) == n - 1 or n == 0


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 3, 15), 12, D(2026, 3, 15)),
        (D(2025, 3, 15), -3, D(2024, 12, 15)),
    ],
)
def test_months_after(day: dt.date, n: int, expected: dt.date) -> None:
    assert months_after(day, n) == expected


def test_max_and_min_of_lists_and_arguments() -> None:
    assert maximum([D(2025, 1, 1), D(2027, 1, 1), D(2026, 1, 1)]) == D(2027, 1, 1)
    assert minimum(3, 1, 2) == 1
    with pytest.raises(EvalError, match="empty"):
        maximum([])
    with pytest.raises(EvalError):
        maximum([1, "a"])


def test_int_conversion_range() -> None:
    assert _to_int("42") == 42
    with pytest.raises(EvalError):
        _to_int(2.0**64)
    with pytest.raises(EvalError):
        _to_int("4x")
