"""A compiled rulebook carries the calendars it was built with: its answers do not depend on what
the process loads afterwards (``build_rulebook(..., calendars=...)``, ``CompiledRulebook.calendars``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import hookimpl
from engine.build import build_rulebook, load_rulebook
from engine.pluginmanager import get_plugin_manager, reset_plugin_manager
from engine.source import Source

ROOT = Path(__file__).resolve().parent.parent
MEMBERSHIP = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
WITH_2027 = ROOT / "tests" / "data" / "calendar-2027"
EVENT = {
    "id": "T",
    "member_id": "M-1",
    "kind": "withdrawal",
    "date": "2026-12-20",
    "written_notice": True,
    "card_returned": True,
    "platform_deleted_on": "2027-01-16",
}


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("RULEBOOK_PATH", raising=False)
    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "")
    reset_plugin_manager()
    yield
    reset_plugin_manager()


def _deleted_in_time(book: Any) -> str:
    d = book.decision("termination").evaluate(EVENT, as_of="2027-03-01")
    return str(d.status_of("withdrawal_deleted_in_time"))


def test_a_rulebook_keeps_its_calendar_when_the_process_loads_another(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_rulebook(MEMBERSHIP)  # 2027 not arranged: the deletion's day is inside the range
    assert _deleted_in_time(before) == "error"
    monkeypatch.setenv("RULEBOOK_PATH", str(WITH_2027))
    reset_plugin_manager()
    assert get_plugin_manager().calendars()["CN"].knows(2027)
    after = load_rulebook(MEMBERSHIP)  # built with the 2027 arrangement
    assert _deleted_in_time(after) == "pass"
    assert _deleted_in_time(before) == "error"  # unchanged: it carries the calendar it was built with
    assert not before.calendars["CN"].knows(2027) and after.calendars["CN"].knows(2027)


class _Weekday:
    """Working only on one weekday."""

    def __init__(self, weekday: int) -> None:
        self.name = "club"
        self.weekday = weekday

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() == self.weekday

    def working_days_after(self, day: dt.date, n: int) -> dt.date:
        while n > 0:
            day += dt.timedelta(days=1)
            n -= self.is_working_day(day)
        return day


def _club_rulebook(tmp_path: Path) -> Source:
    (tmp_path / "day.schema.json").write_text(
        '{"type": "object", "properties": {"id": {"type": "string"}, "day": {"type": "string", "format": "date"}}}',
        encoding="utf-8",
    )
    return Source(
        "club.yaml",
        """\
rulebook: 1
id: test/club
version: "1"
status: in_force
effective_from: "2020-01-01"
title: {zh: 俱乐部, en: club}
source: {title: 测试}
decisions:
  meeting:
    record: day.schema.json
    as_of: record.day
    rules:
      - id: working
        article: 1
        cite: 第一条
        require: is_working_day(record.day, "club")
        message: {zh: 不是工作日, en: not a working day}
""",
    )


def test_two_rulebooks_built_with_different_calendars_answer_each_by_its_own(fresh: None, tmp_path: Path) -> None:
    source = _club_rulebook(tmp_path)
    cn = get_plugin_manager().calendars()["CN"]
    fridays = build_rulebook(source, base_dir=tmp_path, calendars={"CN": cn, "club": _Weekday(4)})
    mondays = build_rulebook(source, base_dir=tmp_path, calendars={"CN": cn, "club": _Weekday(0)})
    friday = {"id": "a", "day": "2026-03-06"}
    assert str(fridays.decision("meeting").evaluate(friday).outcome) == "pass"
    assert str(mondays.decision("meeting").evaluate(friday).outcome) == "fail"


def test_a_plugin_loaded_later_does_not_change_a_built_rulebook(fresh: None, tmp_path: Path) -> None:
    class ClubPlugin:
        @hookimpl
        def register_calendars(self, register: Any) -> None:
            register(_Weekday(4))

    pm = get_plugin_manager()
    pm.register(ClubPlugin(), "club-fridays")
    built = build_rulebook(_club_rulebook(tmp_path), base_dir=tmp_path)
    assert built.calendars["club"].weekday == 4
    reset_plugin_manager()

    class Mondays:
        @hookimpl
        def register_calendars(self, register: Any) -> None:
            register(_Weekday(0))

    get_plugin_manager().register(Mondays(), "club-mondays")
    friday = {"id": "a", "day": "2026-03-06"}
    assert str(built.decision("meeting").evaluate(friday).outcome) == "pass"  # still the Fridays it was built with
    rebuilt = build_rulebook(_club_rulebook(tmp_path), base_dir=tmp_path)
    assert str(rebuilt.decision("meeting").evaluate(friday).outcome) == "fail"


class _OnDuty:
    """A calendar that reads another one (as a college calendar reads the official one): a day
    is on duty when it is a working day of the calendar named ``base``."""

    name = "duty"

    def __init__(self, base: str = "club", bound: Any = None) -> None:
        self.base, self.bound = base, bound

    def with_calendars(self, calendars: Any) -> _OnDuty:
        return _OnDuty(self.base, calendars[self.base])

    def is_working_day(self, day: dt.date) -> bool:
        assert self.bound is not None, "used unbound"
        return bool(self.bound.is_working_day(day))

    def working_days_after(self, day: dt.date, n: int) -> dt.date:
        return self.bound.working_days_after(day, n)  # type: ignore[no-any-return]


def test_a_calendar_and_a_plugin_function_that_read_other_calendars_are_bound_to_the_rulebooks(
    fresh: None, tmp_path: Path
) -> None:
    """``FunctionSpec.bind`` and a calendar's ``with_calendars``: a plugin's function and calendar that
    read calendars read the ones the rulebook was built with, so two rulebooks in one process differ."""
    from engine.lang import types as T
    from engine.lang.functions import FunctionSpec, FunctionTable, Overload, standard_table

    def duty_spec(calendars: Any) -> FunctionSpec:
        def on_duty(day: Any) -> bool:
            if "duty" not in calendars:
                raise KeyError("duty")
            return bool(calendars["duty"].is_working_day(dt.date.fromisoformat(str(day))))

        return FunctionSpec("on_duty", (Overload((T.DATE,), T.BOOL, on_duty),), bind=duty_spec)

    std = standard_table()
    table = FunctionTable([*(s for s in (std.get(n) for n in std.names()) if s is not None), duty_spec({})])
    text = _club_rulebook(tmp_path).text.replace(
        'is_working_day(record.day, "club")', 'on_duty(record.day) && is_working_day(record.day, "duty")'
    )
    source = Source("club.yaml", text)
    cn = get_plugin_manager().calendars()["CN"]
    fridays = build_rulebook(
        source, base_dir=tmp_path, functions=table, calendars={"CN": cn, "club": _Weekday(4), "duty": _OnDuty()}
    )
    mondays = build_rulebook(
        source, base_dir=tmp_path, functions=table, calendars={"CN": cn, "club": _Weekday(0), "duty": _OnDuty()}
    )
    friday, monday = {"id": "a", "day": "2026-03-06"}, {"id": "b", "day": "2026-03-09"}
    assert [str(fridays.decision("meeting").evaluate(r).outcome) for r in (friday, monday)] == ["pass", "fail"]
    assert [str(mondays.decision("meeting").evaluate(r).outcome) for r in (friday, monday)] == ["fail", "pass"]
