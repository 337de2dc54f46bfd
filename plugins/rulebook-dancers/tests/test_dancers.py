"""The plugin's own tests, run once it is installed (``pip install -e .`` then ``pytest``)."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.metadata
import io
import subprocess
import sys
from pathlib import Path

import pytest
from rulebook_dancers.functions import lead_roles
from rulebook_dancers.semesters import AcademicCalendar

from engine import Registry
from engine.errors import EvalError
from engine.pluginmanager import get_calendar
from engine.testing import run_examples

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "applicants.jsonl"
D = dt.date


def test_the_engine_finds_the_plugin_through_its_entry_point() -> None:
    [ep] = [ep for ep in importlib.metadata.entry_points(group="rulebook") if ep.name == "dancers"]
    assert ep.value == "rulebook_dancers"


def test_the_rulebook_is_installed_and_its_examples_hold() -> None:
    registry = Registry.default()
    [entry] = registry.versions("hlj-dancers/membership")
    assert entry.origin == "rulebook-dancers 0.1.0"
    results = run_examples(registry.load_path(entry.path))
    assert len(results) == 5
    assert all(r.ok for r in results), [(r.example.name, r.mismatches) for r in results if not r.ok]


@pytest.mark.parametrize(
    ("year", "term", "start", "end"),
    [
        (2024, 1, D(2024, 9, 2), D(2025, 1, 17)),  # 1 Sep 2024 is a Sunday: Monday 2 Sep, 20 weeks
        (2023, 2, D(2024, 2, 26), D(2024, 6, 28)),  # the first Monday on or after 25 Feb, 18 weeks
        (2024, 2, D(2025, 3, 3), D(2025, 7, 4)),
    ],
)
def test_semester_dates(year: int, term: int, start: dt.date, end: dt.date) -> None:
    s = AcademicCalendar().semester(year, term)
    assert (s.start, s.end) == (start, end)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2025, 3, 20), ["2024-2025-1", "2023-2024-2"]),  # spring in progress: not counted
        (D(2025, 1, 17), ["2023-2024-2", "2023-2024-1"]),  # the last day of autumn: still in progress
        (D(2025, 1, 18), ["2024-2025-1", "2023-2024-2"]),  # winter break: autumn just ended
        (D(2025, 8, 1), ["2024-2025-2", "2024-2025-1"]),  # summer break
    ],
)
def test_the_two_semesters_before(day: dt.date, expected: list[str]) -> None:
    assert [s.id for s in AcademicCalendar().semesters_before(day, 2)] == expected


def test_the_calendar_is_registered_and_counts_teaching_days() -> None:
    cal = get_calendar("dance-college")
    assert cal.is_working_day(D(2025, 3, 3))  # the first Monday of spring
    assert not cal.is_working_day(D(2025, 2, 3))  # winter break, a weekday
    assert not cal.is_working_day(D(2025, 4, 4))  # Qingming, inside the semester
    assert cal.working_days_after(D(2025, 2, 28), 1) == D(2025, 3, 3)


def test_lead_roles_counts_leading_roles_since_a_date() -> None:
    shows = [
        {"date": "2020-01-01", "role": "lead"},
        {"date": "2024-05-01", "role": "lead"},
        {"date": "2024-06-01", "role": "solo"},
    ]
    assert lead_roles(shows, D(2021, 1, 1)) == 1
    with pytest.raises(EvalError, match="performance 0"):
        lead_roles([{"date": "spring", "role": "lead"}], D(2021, 1, 1))


def test_check_writes_a_csv_summary() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "check",
            "hlj-dancers/membership",
            str(EXAMPLES),
            "--format",
            "csv",
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["record"], r["outcome"]) for r in rows] == [
        ("D-0001", "pass"),
        ("D-0002", "fail"),
        ("D-0003", "pass"),
        ("D-0004", "fail"),
        ("D-0005", "fail"),
        ("D-0006", "indeterminate"),
        ("", "error"),
    ]
    assert rows[4]["failed"] == "in_province;introducers"
