"""Working days in a year whose official arrangement is not known yet, and arrangements added as data.

The State Council publishes a year's holidays late in the year before; until then the ``CN``
calendar knows the statutory holidays and how far an arrangement can move days around them, and
decides every deadline that does not depend on the rest (``engine.calendars``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.calendars import (
    Arrangement,
    CalendarError,
    CalendarRangeError,
    CalendarUnknownError,
    ChineseCalendar,
    DateRange,
    load_arrangement_file,
)
from engine.cli import main
from engine.errors import EvalError
from engine.pluginmanager import get_calendar, get_plugin_manager, reset_plugin_manager

D = dt.date
ROOT = Path(__file__).resolve().parent.parent
WITH_2027 = ROOT / "tests" / "data" / "calendar-2027"


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A plugin manager (and so a CN calendar) loaded again after the test changes RULEBOOK_PATH."""
    monkeypatch.delenv("RULEBOOK_PATH", raising=False)
    reset_plugin_manager()
    yield
    reset_plugin_manager()


# -- the guesses hold for every year that has since been published ------------------------------


@pytest.mark.parametrize("year", range(2008, 2027))
def test_a_year_not_yet_known_never_contradicts_its_published_arrangement(year: int) -> None:
    """Cut the package's knowledge before ``year``: every day the calendar then calls certain is what
    the published arrangement says, and every range holds the real N-th working day."""
    full = ChineseCalendar()
    cut = ChineseCalendar(package_until=year - 1)
    day, decided, total = D(year - 1, 12, 1), 0, 0
    while day <= D(year, 12, 31):
        with contextlib.suppress(CalendarUnknownError):  # a day the cut calendar does not know is not a claim
            assert cut.is_working_day(day) == full.is_working_day(day), day
        for n in (1, 5, 20):
            real = full.working_days_after(day, n)
            got = cut.working_days_after(day, n)
            total += 1
            if isinstance(got, DateRange):
                assert got.earliest <= real <= got.latest, (day, n, real, got)
                assert got.years and all(y >= year for y in got.years)  # only years not known
            else:
                decided += 1
                assert got == real, (day, n)
        day += dt.timedelta(days=1)
    assert decided > total // 3  # not everything is left open


def test_december_counts_into_an_unknown_january() -> None:
    cal = get_calendar("CN")
    assert not cal.knows(2027)  # type: ignore[attr-defined]
    got = cal.working_days_after(D(2026, 12, 20), 20)
    assert isinstance(got, DateRange)
    assert D(2027, 1, 1) < got.earliest <= got.latest < D(2027, 1, 29)
    assert got.years == (2027,)
    # decided whatever 2027's arrangement turns out to be
    assert (D(2026, 12, 21) <= got) is True
    assert (D(2027, 1, 29) <= got) is False
    assert (got < D(2027, 2, 1)) is True
    assert (got != D(2026, 12, 31)) is True
    # depends on it
    for op in ("<=", "<", ">", ">=", "=="):
        with pytest.raises(EvalError) as info:
            eval(f"got {op} d", {"got": got, "d": got.earliest + (got.latest - got.earliest) / 2})  # noqa: S307 - the operators themselves
        assert info.value.code == "eval.calendar-unknown"
        assert "2027" in info.value.message and "2027" in (info.value.message_zh or "")


def test_a_statutory_holiday_of_an_unknown_year_is_certain() -> None:
    cal = get_calendar("CN")
    assert cal.is_working_day(D(2027, 2, 6)) is False  # 春节
    assert cal.is_working_day(D(2027, 3, 16)) is True  # a Tuesday far from any holiday
    assert cal.is_working_day(D(2027, 3, 13)) is False  # a Saturday far from any holiday
    with pytest.raises(CalendarUnknownError, match="2027"):
        cal.is_working_day(D(2027, 2, 10))  # a weekday the Spring Festival block may take
    with pytest.raises(CalendarUnknownError, match="arrangement for 2027"):
        cal.is_working_day(D(2026, 12, 31))  # December may join next year's New Year block
    with pytest.raises(CalendarRangeError):
        cal.is_working_day(D(1980, 3, 3))  # before anything the calendar knows


def test_the_language_decides_what_the_range_decides() -> None:
    from engine.lang.functions import calendar_functions

    _working_days_after = calendar_functions({"CN": get_calendar("CN")})[0].overloads[0].impl

    rng = _working_days_after(D(2026, 12, 20), 20)
    assert isinstance(rng, DateRange)
    with pytest.raises(EvalError) as info:
        from engine.lang.values import to_date

        to_date(rng)  # a function that needs the day itself
    assert info.value.code == "eval.calendar-unknown"


TERMINATION = {
    "member_id": "M-1",
    "kind": "withdrawal",
    "date": "2026-12-20",
    "written_notice": True,
    "card_returned": True,
}


def _termination(deleted_on: str | None, as_of: str = "2027-03-01") -> dict[str, Any]:
    from engine.registry import Registry

    book = Registry.default().load("hlj-musicians/membership")
    d = book.decision("termination").evaluate(
        {"id": "T", **TERMINATION, "platform_deleted_on": deleted_on}, as_of=as_of
    )
    j = d.to_json("en")
    assert json.loads(d.to_json_text("en")) == j == json.loads(d.to_json_bytes("en"))
    return j


def _rule(j: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(r for r in j["rules"] if r["id"] == rule)


def test_a_deletion_the_day_after_a_december_notice_is_in_time(fresh: None) -> None:
    j = _termination("2026-12-21")
    assert _rule(j, "withdrawal_deleted_in_time")["status"] == "pass"
    # the deadline is not dropped: it is given as the earliest and latest possible days
    assert set(j["outputs"]["delete_by"]) == {"earliest", "latest", "depends_on"}
    assert j["outputs"]["delete_by"]["depends_on"] == [2027]


def test_a_deletion_forty_days_later_is_late_whatever_2027_brings(fresh: None) -> None:
    j = _termination("2027-01-29")
    rule = _rule(j, "withdrawal_deleted_in_time")
    assert rule["status"] == "fail"
    assert "depending on the 2027 holiday arrangement" in rule["message"]


def test_only_a_deletion_inside_the_range_waits_for_2027(fresh: None) -> None:
    j = _termination("2027-01-16")
    rule = _rule(j, "withdrawal_deleted_in_time")
    assert rule["status"] == "error"
    assert rule["error"]["code"] == "eval.calendar-unknown"
    assert "2027" in rule["message"] and "rulebook calendar show 2027" in rule["message"]
    assert j["outcome"] == "indeterminate"


def test_an_arrangement_file_on_rulebook_path_decides_the_rest(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEBOOK_PATH", str(WITH_2027))
    reset_plugin_manager()
    cal = get_calendar("CN")
    assert cal.knows(2027)  # type: ignore[attr-defined]
    # with 元旦 1-3 January and no make-up day, 20 working days from 20 December 2026 end on 18 January
    assert cal.working_days_after(D(2026, 12, 20), 20) == D(2027, 1, 18)
    assert cal.is_working_day(D(2027, 1, 30)) is True  # a make-up Saturday of the file
    assert cal.is_working_day(D(2027, 2, 12)) is False
    j = _termination("2027-01-16")
    assert _rule(j, "withdrawal_deleted_in_time")["status"] == "pass"
    assert j["outputs"]["delete_by"] == "2027-01-18"
    assert _termination("2027-01-19")["outcome"] == "fail"
    # the rulebook listing is not confused by the calendars folder
    code, out, err = run("list", "--format", "json")
    assert code == 0, err
    code, out, err = run("calendar", "show", "2027", "--lang", "en")
    assert code == 0, err
    assert "arrangement known" in out and "CN-2027.yaml" in out and "测试用放假安排" in out
    assert "2027-01-30  Sat  working" in out


def test_calendar_show_of_an_unknown_year_says_what_is_certain_and_what_is_not(fresh: None) -> None:
    code, out, err = run("calendar", "show", "2027")
    assert code == 0, err
    assert "尚无该年放假安排" in out
    assert "2027-02-06  周六  放假" in out  # 春节, statutory
    assert "可能放假" in out and "可能调休上班" in out
    assert "calendars/CN-2027.yaml" in out
    code, out, err = run("calendar", "show", "2027", "--format", "json")
    report = json.loads(out)
    assert report["known"] is False
    first = next(d for d in report["days"] if d["date"] == "2027-01-01")
    assert first["status"] == "off" and first["origin"].startswith("statutory")
    code, out, err = run("calendar", "show", "2026", "--lang", "en")
    assert "2026-02-14  Sat  working" in out and "holidays" in out
    assert "2026-12-31  Thu  may be off" in out  # next year's New Year block may reach it
    code, out, err = run("calendar", "show", "2027", "--calendar", "XX", "--lang", "en")
    assert code == 2 and "no calendar named `XX`" in err and "CN" in err


def test_a_file_corrects_a_year_the_package_has(fresh: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "books" / "calendars"
    folder.mkdir(parents=True)
    (folder / "CN-2026.yaml").write_text(
        """\
calendar: CN
year: 2026
source: 更正
holidays:
  - name: 国庆节
    off: {from: "2026-10-01", to: "2026-10-08"}
    work: ["2026-09-27"]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("RULEBOOK_PATH", str(tmp_path / "books"))
    reset_plugin_manager()
    cal = get_calendar("CN")
    assert cal.is_working_day(D(2026, 10, 8)) is False  # the file's
    assert cal.is_working_day(D(2026, 9, 20)) is False  # the package's make-up day is gone
    assert cal.is_working_day(D(2026, 2, 17)) is True  # the whole year is the file's: no 春节 listed


BAD_FILES = [
    (
        "workday-not-weekend",
        (
            'calendar: CN\nyear: 2027\nsource: x\nholidays:\n  - name: 春节\n    off: "2027-02-06"\n'
            '    work: ["2027-02-01"]\n'
        ),
        "calendar.workday-not-weekend",
        (7, 12),
    ),
    (
        "missing-source",
        'calendar: CN\nyear: 2027\nholidays:\n  - name: 春节\n    off: "2027-02-06"\n',
        "schema.required",
        (1, 1),
    ),
    (
        "bad-date",
        'calendar: CN\nyear: 2027\nsource: x\nholidays:\n  - name: 春节\n    off: "2027-02-30"\n',
        "calendar.bad-date",
        (6, 10),
    ),
    (
        "outside-year",
        'calendar: CN\nyear: 2027\nsource: x\nholidays:\n  - name: 春节\n    off: "2028-02-06"\n',
        "calendar.outside-year",
        (6, 10),
    ),
    (
        "twice",
        (
            'calendar: CN\nyear: 2027\nsource: x\nholidays:\n  - name: 春节\n    off: "2027-02-06"\n'
            '  - name: 春节\n    off: ["2027-02-06"]\n'
        ),
        "calendar.duplicate-day",
        (8, 11),
    ),
    (
        "reversed",
        (
            "calendar: CN\nyear: 2027\nsource: x\nholidays:\n  - name: 春节\n"
            '    off: {from: "2027-02-13", to: "2027-02-05"}\n'
        ),
        "calendar.bad-range",
        (6, 10),
    ),
]


@pytest.mark.parametrize(("name", "text", "code", "where"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_wrong_arrangement_file_is_an_error_at_its_place(
    tmp_path: Path, name: str, text: str, code: str, where: tuple[int, int]
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as info:
        load_arrangement_file(path)
    diag = info.value.diagnostics[0]
    assert diag.code == code
    assert diag.span is not None and diag.source is not None
    assert diag.source.line_col(diag.span.start) == where
    for lang in ("zh", "en"):
        assert f"{path}:{where[0]}:{where[1]}" in info.value.render(lang)


def test_a_broken_arrangement_file_stops_a_check_with_its_place(
    fresh: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "books" / "calendars"
    folder.mkdir(parents=True)
    (folder / "CN-2027.yaml").write_text(BAD_FILES[0][1], encoding="utf-8")
    monkeypatch.setenv("RULEBOOK_PATH", str(tmp_path / "books"))
    reset_plugin_manager()
    code, _, err = run(
        "check",
        "hlj-musicians/membership",
        "-",
        "--decision",
        "termination",
        "--lang",
        "en",
        stdin=json.dumps({"id": "T", **TERMINATION, "platform_deleted_on": None}),
    )
    assert code == 2
    assert "CN-2027.yaml:7:12" in err and "a make-up working day is a weekend day" in err
    assert "Traceback" not in err


def test_two_arrangements_for_one_year_are_refused(
    fresh: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sub in ("a", "b"):
        folder = tmp_path / sub / "calendars"
        folder.mkdir(parents=True)
        (folder / "CN-2027.yaml").write_text(
            (WITH_2027 / "calendars" / "CN-2027.yaml").read_text("utf-8"), encoding="utf-8"
        )
    monkeypatch.setenv("RULEBOOK_PATH", f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    reset_plugin_manager()
    with pytest.raises(CalendarError) as info:
        get_plugin_manager()
    text = info.value.render("en")
    assert "given twice" in text and str(tmp_path / "a") in text and str(tmp_path / "b") in text


def test_a_plugin_gives_an_arrangement_through_the_calendar_hook(fresh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import hookimpl

    class Notice2027:
        @hookimpl
        def register_calendars(self, register: Any) -> None:
            register(Arrangement("CN", 2027, off={D(2027, 1, 1): "元旦"}, work={}, source="plugin"))

    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "")
    reset_plugin_manager()
    pm = get_plugin_manager()
    pm.register(Notice2027(), "notice-2027")
    cal = get_calendar("CN")
    assert cal.knows(2027)  # type: ignore[attr-defined]
    assert cal.working_days_after(D(2026, 12, 31), 1) == D(2027, 1, 4)
    # and an arrangement file registered by path
    reset_plugin_manager()

    class NoticeFile:
        @hookimpl
        def register_calendars(self, register: Any) -> None:
            register(WITH_2027 / "calendars")

    pm = get_plugin_manager()
    pm.register(NoticeFile(), "notice-file")
    assert get_calendar("CN").is_working_day(D(2027, 1, 30)) is True


def test_lint_checks_an_arrangement_file_in_a_calendars_folder(tmp_path: Path) -> None:
    folder = tmp_path / "calendars"
    folder.mkdir()
    (folder / "CN-2027.yaml").write_text(
        (WITH_2027 / "calendars" / "CN-2027.yaml").read_text("utf-8"), encoding="utf-8"
    )
    (folder / "CN-2028.yaml").write_text(
        'calendar: CN\nyear: 2028\nsource: x\nholidays:\n  - name: 春节\n    off: "2028-02-31"\n', encoding="utf-8"
    )
    code, out, _ = run("lint", str(tmp_path), "--lang", "en")
    assert code == 2
    assert "CN-2027.yaml: ok" in out
    assert "CN-2028.yaml:6:10: error[calendar.bad-date]" in out
    assert "missing key" not in out  # not read as a rulebook
