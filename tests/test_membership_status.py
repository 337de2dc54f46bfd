"""Decisions `termination` (第十三条第1至4项) and `member-status` (第十四条, 第十五条, 第十八条)
of the bundled rulebook ``hlj-musicians/membership``, through the public API.

Expected working-day deadlines are computed here from the ``holidays`` package
directly (``holidays.China`` and its make-up working weekends), not with the
engine's calendar, so that a mistake in the engine's counting shows up as a
difference.  A few published dates of the State Council's holiday notices pin
the package itself.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import holidays
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import Registry
from engine.cli import main
from engine.schemas import load_schema, record_schema

ROOT = Path(__file__).resolve().parent.parent
TERMINATIONS = ROOT / "examples" / "terminations.jsonl"
MEMBERS = ROOT / "examples" / "members.jsonl"

BOOK = Registry.default().load("hlj-musicians/membership")
TERMINATION = BOOK.decision("termination")
MEMBER_STATUS = BOOK.decision("member-status")

# -- an independent official calendar ---------------------------------------------------------------

_CN = holidays.China(years=range(2015, 2031))
_MAKE_UP = frozenset(_CN.weekend_workdays)


def _working(day: dt.date) -> bool:
    if day in _MAKE_UP:
        return True
    return day.weekday() < 5 and day not in _CN


def working_days_after(day: str | dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (``day`` itself not counted)."""
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    while n:
        d += dt.timedelta(days=1)
        if _working(d):
            n -= 1
    return d


def years_after(day: str, n: int) -> dt.date:
    d = dt.date.fromisoformat(day)
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February in a common year
        return d.replace(year=d.year + n, day=28)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-01-26", True),  # Sunday, make-up working day before the Spring Festival
        ("2025-01-28", False),  # 除夕, first day off
        ("2025-02-04", False),  # last day off
        ("2025-02-08", True),  # Saturday, make-up working day
        ("2025-09-28", True),  # Sunday, make-up working day before National Day
        ("2025-10-08", False),  # last day of the National Day and Mid-Autumn holiday
        ("2025-10-11", True),  # Saturday, make-up working day
        ("2025-04-04", False),  # 清明节
        ("2025-04-27", True),  # Sunday, make-up working day before Labour Day
    ],
)
def test_reference_calendar_matches_the_published_notices(day: str, working: bool) -> None:
    assert _working(dt.date.fromisoformat(day)) is working


def test_reference_calendar_pins_the_boundary_dates() -> None:
    assert working_days_after("2025-01-20", 20) == dt.date(2025, 2, 21)
    assert working_days_after("2025-09-19", 20) == dt.date(2025, 10, 23)
    assert working_days_after("2025-09-30", 5) == dt.date(2025, 10, 14)


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _statuses(decision: Any) -> dict[str, str]:
    return {r.id: str(r.status) for r in decision.rules}


# -- termination: outputs --------------------------------------------------------------------------

TERMINATION_OUTPUTS = [
    # kind, date: the expected outputs follow from 第十三条
    ("withdrawal", "2025-01-20"),  # 20 working days across the Spring Festival 2025
    ("withdrawal", "2025-03-10"),  # across 清明节 2025-04-04
    ("withdrawal", "2024-02-29"),  # three-year ban from 29 February
    ("withdrawal", "2026-02-24"),  # after the Spring Festival 2026, make-up Saturday 2026-02-28
    ("expulsion", "2025-06-16"),
    ("expulsion", "2024-02-29"),  # five-year ban ends on 2029-02-28
    ("dues_lapse", "2025-09-19"),  # across National Day 2025 with make-up days 09-28 and 10-11
    ("dues_lapse", "2025-09-30"),
    ("deceased", "2025-11-03"),
    ("deceased", "2024-02-29"),  # paper file until 2039-02-28
    ("transferred", "2025-04-07"),  # across Labour Day 2025, make-up Sunday 04-27
    ("transferred", "2023-06-12"),  # across the Dragon Boat Festival 2023
]


@pytest.mark.parametrize(("kind", "date"), TERMINATION_OUTPUTS)
def test_termination_outputs(kind: str, date: str) -> None:
    record = {
        "id": "T",
        "member_id": "M-1",
        "kind": kind,
        "date": date,
        "written_notice": True,
        "card_returned": True,
        "decided_by": "presidium",
        "secretary_general_approved": True,
    }
    outputs = {k: _iso(v) for k, v in TERMINATION.evaluate(record, "2026-03-01").outputs.items()}
    expected: dict[str, str] = {"delete_by": working_days_after(date, 20).isoformat()}
    if kind in ("withdrawal", "dues_lapse"):
        expected["reapply_not_before"] = years_after(date, 3).isoformat()
    if kind == "expulsion":
        expected["reapply_not_before"] = years_after(date, 5).isoformat()
    # No paper_archive_until: its 15 years run from the deletion, not made in these records.
    assert outputs == expected


@pytest.mark.parametrize(
    ("kind", "date", "outputs", "deleted"),
    [
        ("withdrawal", "2025-01-20", {"delete_by": "2025-02-21", "reapply_not_before": "2028-01-20"}, None),
        ("expulsion", "2024-02-29", {"delete_by": "2024-03-28", "reapply_not_before": "2029-02-28"}, None),
        # before the measures took effect (2022-04-15): no deadline under them, the ban still given
        ("expulsion", "2020-02-29", {"reapply_not_before": "2025-02-28"}, None),
        ("dues_lapse", "2025-09-19", {"delete_by": "2025-10-23", "reapply_not_before": "2028-09-19"}, None),
        ("deceased", "2024-02-29", {"delete_by": "2024-03-28"}, None),
        # the paper file is kept 15 years from the deletion
        ("deceased", "2024-02-26", {"delete_by": "2024-03-25", "paper_archive_until": "2039-02-28"}, "2024-02-29"),
        ("transferred", "2025-04-07", {"delete_by": "2025-05-07", "paper_archive_until": "2040-05-06"}, "2025-05-06"),
    ],
)
def test_termination_outputs_literal(kind: str, date: str, outputs: dict[str, str], deleted: str | None) -> None:
    record = {"id": "T", "member_id": "M-1", "kind": kind, "date": date, "platform_deleted_on": deleted}
    got = TERMINATION.evaluate(record, "2026-03-01").outputs
    assert {k: _iso(v) for k, v in got.items()} == outputs


def test_the_make_up_saturday_counts() -> None:
    """2025-10-11 (a Saturday) is a working day: without it the deadline would be a day later."""
    without = "2025-09-19"
    d, n = dt.date.fromisoformat(without), 20
    while n:
        d += dt.timedelta(days=1)
        if _working(d) and d != dt.date(2025, 10, 11):
            n -= 1
    assert d == dt.date(2025, 10, 24)
    got = TERMINATION.evaluate({"id": "T", "member_id": "M", "kind": "dues_lapse", "date": without}, "2026-03-01")
    assert got.outputs["delete_by"] == dt.date(2025, 10, 23)


def test_unknown_kind_fails_and_has_no_outputs() -> None:
    d = TERMINATION.evaluate({"id": "T", "member_id": "M", "kind": "suspended", "date": "2025-09-01"}, "2026-03-01")
    statuses = _statuses(d)
    assert statuses.pop("known_kind") == "fail"
    assert set(statuses.values()) == {"not_applicable"}
    assert d.outputs == {}
    assert str(d.outcome) == "fail"


# -- termination: the deletion deadline ------------------------------------------------------------

RULE_OF_KIND = {
    "withdrawal": "withdrawal_deleted_in_time",
    "expulsion": "expulsion_deleted_in_time",
    "dues_lapse": "dues_lapse_deleted_in_time",
    "deceased": "departed_deleted_in_time",
    "transferred": "departed_deleted_in_time",
}


def _event(kind: str, date: str, deleted: str | None) -> dict[str, Any]:
    return {
        "id": "T-1",
        "member_id": "M-1",
        "kind": kind,
        "date": date,
        "written_notice": True,
        "card_returned": True,
        "decided_by": "presidium",
        "secretary_general_approved": True,
        "platform_deleted_on": deleted,
    }


def _shift(day: dt.date, days: int) -> str:
    return (day + dt.timedelta(days=days)).isoformat()


DELETION_CASES = [
    # (kind, date, deleted: offset in days from the deadline or None, as_of offset from the deadline, status)
    (kind, date, deleted, as_of, status)
    for kind, date in TERMINATION_OUTPUTS
    for deleted, as_of, status in [
        (0, 30, "pass"),  # on the deadline itself
        (-5, 30, "pass"),
        (1, 30, "fail"),  # the day after (a calendar day; late either way)
        (None, 0, "not_applicable"),  # not deleted, deadline day: nothing to judge yet
        (None, -3, "not_applicable"),
        (None, 1, "fail"),  # not deleted, deadline passed
        (0, -1, "not_applicable"),  # deleted later than as_of: not yet on as_of
    ]
]


@pytest.mark.parametrize(("kind", "date", "deleted", "as_of", "status"), DELETION_CASES)
def test_deletion_status(kind: str, date: str, deleted: int | None, as_of: int, status: str) -> None:
    deadline = working_days_after(date, 20)
    record = _event(kind, date, None if deleted is None else _shift(deadline, deleted))
    d = TERMINATION.evaluate(record, _shift(deadline, as_of))
    statuses = _statuses(d)
    assert statuses[RULE_OF_KIND[kind]] == status
    others = {r for r in set(RULE_OF_KIND.values()) if r != RULE_OF_KIND[kind]}
    assert all(statuses[r] == "not_applicable" for r in others)
    assert str(d.outcome) == ("fail" if status == "fail" else "pass")


def test_first_working_day_after_the_deadline_is_late() -> None:
    d = TERMINATION.evaluate(_event("withdrawal", "2025-01-20", "2025-02-24"), "2026-03-01")
    assert _statuses(d)["withdrawal_deleted_in_time"] == "fail"
    d = TERMINATION.evaluate(_event("withdrawal", "2025-01-20", "2025-02-21"), "2026-03-01")
    assert _statuses(d)["withdrawal_deleted_in_time"] == "pass"


@pytest.mark.parametrize("kind", sorted(RULE_OF_KIND))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_late_deletion_message_shows_both_dates(kind: str, lang: str) -> None:
    date = "2025-09-19"
    deadline = working_days_after(date, 20)
    deleted = _shift(deadline, 3)
    d = TERMINATION.evaluate(_event(kind, date, deleted), "2026-03-01")
    rule = d.rule(RULE_OF_KIND[kind])
    assert rule is not None and str(rule.status) == "fail"
    message = rule.message(lang)
    assert message is not None
    assert deadline.isoformat() in message and deleted in message and date in message


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_missing_deletion_message_shows_deadline_and_evaluation_date(lang: str) -> None:
    d = TERMINATION.evaluate(_event("transferred", "2025-04-07", None), "2025-06-30")
    rule = d.rule("departed_deleted_in_time")
    assert rule is not None and str(rule.status) == "fail"
    message = rule.message(lang)
    assert message is not None
    assert "2025-05-07" in message and "2025-06-30" in message
    assert ("仍未删除" if lang == "zh" else "not deleted") in message


# -- termination: procedure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "rule", "status"),
    [
        ({}, "withdrawal_written_notice", "pass"),
        ({"written_notice": False}, "withdrawal_written_notice", "fail"),
        ({"card_returned": False}, "withdrawal_card_returned", "fail"),
        ({"kind": "expulsion", "decided_by": "secretariat"}, "expulsion_by_presidium", "fail"),
        ({"kind": "expulsion"}, "expulsion_by_presidium", "pass"),
        ({"kind": "dues_lapse", "secretary_general_approved": False}, "dues_lapse_approved", "fail"),
        ({"kind": "dues_lapse"}, "dues_lapse_approved", "pass"),
        ({"kind": "deceased"}, "withdrawal_written_notice", "not_applicable"),
        ({"kind": "transferred"}, "expulsion_by_presidium", "not_applicable"),
    ],
)
def test_procedure_rules(change: dict[str, Any], rule: str, status: str) -> None:
    record = {**_event("withdrawal", "2025-03-10", "2025-03-20"), **change}
    d = TERMINATION.evaluate(record, "2026-03-01")
    assert _statuses(d)[rule] == status
    assert str(d.outcome) == ("fail" if status == "fail" else "pass")


def test_missing_procedural_field_is_an_error_naming_it() -> None:
    record = _event("withdrawal", "2025-03-10", "2025-03-20")
    del record["written_notice"]
    d = TERMINATION.evaluate(record, "2026-03-01")
    rule = d.rule("withdrawal_written_notice")
    assert rule is not None and str(rule.status) == "error"
    assert rule.error is not None and rule.error.path == "written_notice"
    assert str(d.outcome) == "indeterminate"


def test_lost_card_can_be_waived() -> None:
    record = {
        **_event("withdrawal", "2025-03-10", "2025-03-20"),
        "card_returned": False,
        "waivers": [
            {"rule": "withdrawal_card_returned", "reason": "会员证遗失", "approved_by": "秘书长", "date": "2025-03-12"}
        ],
    }
    d = TERMINATION.evaluate(record, "2026-03-01")
    assert _statuses(d)["withdrawal_card_returned"] == "waived"
    assert str(d.outcome) == "pass"


def test_termination_rules_cite_article_13_and_their_items() -> None:
    items = {r.spec.id: (r.spec.article, r.spec.item) for r in TERMINATION.rules}
    assert items == {
        "known_kind": (13, None),
        "withdrawal_written_notice": (13, 1),
        "withdrawal_card_returned": (13, 1),
        "withdrawal_deleted_in_time": (13, 1),
        "expulsion_by_presidium": (13, 2),
        "expulsion_deleted_in_time": (13, 2),
        "dues_lapse_approved": (13, 3),
        "dues_lapse_deleted_in_time": (13, 3),
        "departed_deleted_in_time": (13, 4),
        "event_under_measures": (22, None),
        "withdrawal_deleted_after_notice": (13, 1),
        "expulsion_deleted_after_decision": (13, 2),
        "dues_lapse_deleted_after_approval": (13, 3),
        "departed_deleted_after_information": (13, 4),
    }


# -- member-status ----------------------------------------------------------------------------------


def _member(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": "M-1", "name": "测试", "birth_date": "1980-05-05", "approved_on": "2016-04-12"}
    return {**base, **fields}


@pytest.mark.parametrize(
    "approved", ["2025-01-20", "2025-09-19", "2025-09-26", "2024-02-29", "2022-06-01", "2023-03-01", "2025-12-01"]
)
def test_entry_due_is_the_20th_working_day(approved: str) -> None:
    d = MEMBER_STATUS.evaluate(_member(approved_on=approved), "2026-03-01")
    assert d.outputs["entry_due"] == working_days_after(approved, 20)
    assert d.outputs["evaluation_due"] == years_after(approved, 3)


@pytest.mark.parametrize("resumed", ["2025-09-30", "2025-09-26", "2025-01-24", "2025-06-09"])
def test_restore_by_is_the_5th_working_day(resumed: str) -> None:
    d = MEMBER_STATUS.evaluate(_member(contact_resumed_on=resumed), "2026-03-01")
    assert d.outputs["restore_by"] == working_days_after(resumed, 5)


def test_restore_by_absent_without_resumed_contact() -> None:
    assert "restore_by" not in MEMBER_STATUS.evaluate(_member(), "2026-03-01").outputs


@pytest.mark.parametrize(("as_of", "due"), [("2025-03-01", "2025-12-01"), ("2027-12-31", "2027-12-01")])
def test_confirmation_due_is_1_december_of_the_year(as_of: str, due: str) -> None:
    assert _iso(MEMBER_STATUS.evaluate(_member(), as_of).outputs["confirmation_due"]) == due


@pytest.mark.parametrize(
    ("record", "as_of", "category"),
    [
        (_member(birth_date="1950-03-01"), "2025-03-01", "senior"),  # the 75th birthday itself
        (
            _member(birth_date="1950-03-01", last_contact_on="2025-01-01", last_activity_on="2025-01-01"),
            "2025-02-28",
            "active",
        ),
        (
            _member(birth_date="1952-02-29", last_contact_on="2026-10-10", last_activity_on="2026-09-15"),
            "2027-02-28",
            "senior",
        ),  # born 29 February
        (
            _member(birth_date="1952-02-29", last_contact_on="2026-10-10", last_activity_on="2026-09-15"),
            "2027-02-27",
            "active",
        ),
        (_member(last_contact_on="2021-03-15", last_activity_on="2025-11-02"), "2026-03-15", "inactive"),
        (_member(last_contact_on="2021-03-15", last_activity_on="2025-11-02"), "2026-03-14", "active"),
        (_member(last_contact_on="2025-06-01", last_activity_on="2022-09-10"), "2025-09-10", "inactive"),
        (_member(last_contact_on="2025-06-01", last_activity_on="2022-09-10"), "2025-09-09", "active"),
        (_member(approved_on="2020-05-11"), "2023-05-11", "inactive"),  # no records: since approval
        (_member(approved_on="2020-05-11"), "2023-05-10", "active"),
        (
            _member(last_contact_on="2015-01-01", last_activity_on="2015-01-01", contact_resumed_on="2025-09-30"),
            "2025-10-20",
            "active",
        ),  # resumed contact restarts both
    ],
)
def test_category(record: dict[str, Any], as_of: str, category: str) -> None:
    d = MEMBER_STATUS.evaluate(record, as_of)
    assert d.outputs["category"] == category
    assert _statuses(d)["senior_member"] == ("fail" if category == "senior" else "pass")
    assert (
        _statuses(d)["inactive_member"] == {"senior": "not_applicable", "inactive": "fail", "active": "pass"}[category]
    )


@pytest.mark.parametrize(
    ("approved", "as_of", "meets", "eligible"),
    [
        ("2024-03-01", "2026-03-01", True, True),  # exactly 2 years: 2年以上 includes 2
        ("2024-03-01", "2026-02-28", True, False),
        ("2024-02-29", "2026-02-28", True, True),  # approved on 29 February
        ("2019-07-15", "2026-03-01", False, False),
    ],
)
def test_cma_recommendation(approved: str, as_of: str, meets: bool, eligible: bool) -> None:
    d = MEMBER_STATUS.evaluate(_member(approved_on=approved, meets_cma_conditions=meets), as_of)
    assert d.outputs["cma_recommendation_eligible"] is eligible
    assert _statuses(d)["cma_eligible"] == ("pass" if eligible else "fail")


@pytest.mark.parametrize(
    ("fields", "as_of", "status"),
    [
        ({"platform_entered_on": "2025-02-21"}, "2025-06-30", "pass"),
        ({"platform_entered_on": "2025-02-24"}, "2025-06-30", "fail"),
        ({}, "2025-02-21", "not_applicable"),
        ({}, "2025-02-24", "fail"),
        ({"approved_on": "2018-05-20"}, "2025-06-30", "not_applicable"),  # before the measures took effect
    ],
)
def test_entry_rule(fields: dict[str, Any], as_of: str, status: str) -> None:
    d = MEMBER_STATUS.evaluate(
        _member(approved_on="2025-01-20", **fields) if "approved_on" not in fields else _member(**fields), as_of
    )
    assert _statuses(d)["entered_in_time"] == status


@pytest.mark.parametrize(
    ("confirmed", "as_of", "status"),
    [
        ("2025-12-01", "2025-12-15", "pass"),
        ("2025-11-20", "2025-12-02", "pass"),
        ("2025-12-02", "2025-12-15", "fail"),
        ("2024-11-20", "2025-12-15", "fail"),
        (None, "2025-12-15", "fail"),
        ("2024-11-20", "2025-12-01", "not_applicable"),
    ],
)
def test_confirmation_rule(confirmed: str | None, as_of: str, status: str) -> None:
    d = MEMBER_STATUS.evaluate(_member(info_confirmed_on=confirmed), as_of)
    assert _statuses(d)["confirmed_by_december"] == status


def test_confirmation_due_in_the_year_of_approval() -> None:
    """第十四条 has no same-year exemption: a member registered before 1 December is confirmed that year."""
    d = MEMBER_STATUS.evaluate(_member(approved_on="2025-03-03", platform_entered_on="2025-03-25"), "2025-12-15")
    assert _statuses(d)["confirmed_by_december"] == "fail"


@pytest.mark.parametrize(
    ("fields", "as_of", "status", "due"),
    [
        ({"last_evaluation_on": "2023-03-01"}, "2026-03-01", "pass", "2026-03-01"),
        ({"last_evaluation_on": "2023-03-01"}, "2026-03-02", "fail", "2026-03-01"),
        ({"approved_on": "2022-06-01"}, "2025-06-01", "pass", "2025-06-01"),
        ({"approved_on": "2022-06-01"}, "2025-06-02", "fail", "2025-06-01"),
    ],
)
def test_evaluation_rule(fields: dict[str, Any], as_of: str, status: str, due: str) -> None:
    d = MEMBER_STATUS.evaluate(_member(**fields), as_of)
    assert _statuses(d)["evaluation_not_overdue"] == status
    assert _iso(d.outputs["evaluation_due"]) == due


@pytest.mark.parametrize(
    ("restored", "as_of", "status"),
    [
        ("2025-10-14", "2025-10-20", "pass"),
        ("2025-10-15", "2025-10-20", "fail"),
        (None, "2025-10-14", "not_applicable"),
        (None, "2025-10-15", "fail"),
    ],
)
def test_restoration_rule(restored: str | None, as_of: str, status: str) -> None:
    d = MEMBER_STATUS.evaluate(_member(contact_resumed_on="2025-09-30", restored_on=restored), as_of)
    assert _statuses(d)["restored_in_time"] == status
    assert d.outputs["restore_by"] == dt.date(2025, 10, 14)


@pytest.mark.parametrize(
    ("result", "status", "outcome"),
    [
        ("unqualified", "fail", "pass"),  # a warning: it does not change the outcome
        ("qualified", "pass", "pass"),
        ("excellent", "pass", "pass"),
        (None, "not_applicable", "pass"),
    ],
)
def test_unqualified_is_a_warning(result: str | None, status: str, outcome: str) -> None:
    d = MEMBER_STATUS.evaluate(
        _member(
            last_evaluation_on="2025-05-20",
            evaluation_result=result,
            last_contact_on="2025-09-01",
            last_activity_on="2025-09-01",
        ),
        "2025-10-01",
    )
    assert _statuses(d)["unqualified_followup"] == status
    assert str(d.outcome) == outcome


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("record", "as_of", "rule", "dates"),
    [
        (
            _member(approved_on="2025-01-20", platform_entered_on="2025-02-24"),
            "2025-06-30",
            "entered_in_time",
            ["2025-02-21", "2025-02-24"],
        ),
        (_member(approved_on="2025-01-20"), "2025-03-03", "entered_in_time", ["2025-02-21", "2025-03-03"]),
        (_member(info_confirmed_on="2025-12-02"), "2025-12-15", "confirmed_by_december", ["2025-12-01", "2025-12-02"]),
        (
            _member(last_evaluation_on="2022-11-07"),
            "2025-12-15",
            "evaluation_not_overdue",
            ["2025-11-07", "2022-11-07", "2025-12-15"],
        ),
        (
            _member(contact_resumed_on="2025-09-30", restored_on="2025-10-15"),
            "2025-10-20",
            "restored_in_time",
            ["2025-10-14", "2025-10-15"],
        ),
        (_member(contact_resumed_on="2025-09-30"), "2025-10-16", "restored_in_time", ["2025-10-14", "2025-10-16"]),
    ],
)
def test_member_messages_show_deadline_and_date(
    record: dict[str, Any], as_of: str, rule: str, dates: list[str], lang: str
) -> None:
    r = MEMBER_STATUS.evaluate(record, as_of).rule(rule)
    assert r is not None and str(r.status) == "fail"
    message = r.message(lang)
    assert message is not None
    for date in dates:
        assert date in message


def test_member_rules_cite_their_articles_and_items() -> None:
    items = {r.spec.id: (r.spec.article, r.spec.item, str(r.spec.severity)) for r in MEMBER_STATUS.rules}
    assert items == {
        "entered_in_time": (14, 2, "error"),
        "entered_after_approval": (14, 2, "error"),
        "confirmed_by_december": (14, None, "error"),
        "evaluation_not_overdue": (15, None, "error"),
        "unqualified_followup": (15, None, "warning"),
        "senior_member": (14, 3, "info"),
        "inactive_member": (14, 4, "info"),
        "restored_in_time": (14, 4, "error"),
        "restored_after_contact": (14, 4, "error"),
        "cma_eligible": (18, None, "info"),
    }


# -- sample files and the command line --------------------------------------------------------------


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("path", "schema"),
    [(TERMINATIONS, "records/termination-event.schema.json"), (MEMBERS, "records/member.schema.json")],
)
def test_sample_records_validate(path: Path, schema: str) -> None:
    validator = jsonschema.Draft202012Validator(
        load_schema(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    records = _lines(path)
    assert len(records) >= 10
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        assert list(validator.iter_errors(record)) == [], record["id"]


@pytest.mark.parametrize(
    ("path", "decision", "as_of"),
    [
        (TERMINATIONS, "termination", None),
        (TERMINATIONS, "termination", "2026-03-01"),
        (MEMBERS, "member-status", "2025-12-15"),
    ],
)
def test_check_json_gives_one_line_per_record(path: Path, decision: str, as_of: str | None) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["check", "hlj-musicians/membership", str(path), "--decision", decision, "--format", "json"]
    if as_of:
        argv += ["--as-of", as_of]
    code = main(argv, stdout=out, stderr=err)
    assert code in (0, 1), err.getvalue()
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    records = _lines(path)
    assert len(lines) == len(records)
    schema = load_schema("decision-output.schema.json")
    for line, record in zip(lines, records, strict=True):
        obj = json.loads(line)
        jsonschema.validate(obj, schema)
        assert obj["rulebook"] == "hlj-musicians/membership" and obj["decision"] == decision
        assert obj["record"] == record["id"]
        assert obj["outcome"] in ("pass", "fail")
        if as_of:
            assert obj["as_of"] == as_of


def test_sample_terminations_results() -> None:
    out = io.StringIO()
    code = main(
        [
            "check",
            "hlj-musicians/membership",
            str(TERMINATIONS),
            "--decision",
            "termination",
            "--format",
            "json",
            "--as-of",
            "2026-03-01",
        ],
        stdout=out,
        stderr=io.StringIO(),
    )
    assert code == 1
    outcomes = {o["record"]: o["outcome"] for o in map(json.loads, out.getvalue().splitlines())}
    assert outcomes == {
        "T-0001": "pass",
        "T-0002": "pass",
        "T-0003": "fail",
        "T-0004": "pass",
        "T-0005": "pass",
        "T-0006": "fail",
        "T-0007": "pass",
        "T-0008": "fail",
        "T-0009": "pass",
        "T-0010": "fail",
        "T-0011": "pass",
        "T-0012": "fail",
    }
    by_id = {o["record"]: o for o in map(json.loads, out.getvalue().splitlines())}
    for record in _lines(TERMINATIONS):
        assert by_id[record["id"]]["outputs"]["delete_by"] == working_days_after(record["date"], 20).isoformat()


# -- robustness: any record, however wrong --------------------------------------------------------

_WILD = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=8)
    | st.sampled_from(["2024-02-29", "2025-02-29", "2025-10-11", "withdrawal", "presidium", "unqualified"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


def _field(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    if prop.get("format") == "date":
        good: st.SearchStrategy[Any] = st.dates(dt.date(1940, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
        if "null" in prop.get("type", []):
            good = st.none() | good
    elif prop.get("type") == "boolean":
        good = st.booleans()
    elif "examples" in prop:
        good = st.sampled_from(prop["examples"])
    else:
        good = _WILD
    return st.one_of(good, good, good, _WILD)


def _records(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    schema = record_schema(kind)
    assert schema is not None
    props = {k: v for k, v in schema["properties"].items() if k not in ("id", "waivers")}
    return st.fixed_dictionaries({}, optional={k: _field(v) for k, v in props.items()}).map(
        lambda r: {"id": "P-1", **r}
    )


_OUTPUT = jsonschema.Draft202012Validator(load_schema("decision-output.schema.json"))


@pytest.mark.parametrize(
    ("decision", "kind"),
    [(TERMINATION, "termination-event"), (MEMBER_STATUS, "member")],
    ids=["termination", "member-status"],
)
def test_any_record_gets_a_status_for_every_rule(decision: Any, kind: str) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        _records(kind),
        st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2035, 12, 31)).map(dt.date.isoformat)),
    )
    def run(record: dict[str, Any], as_of: str | None) -> None:
        d = decision.evaluate(record, as_of)
        assert [r.id for r in d.rules] == [r.spec.id for r in decision.rules]
        assert {str(r.status) for r in d.rules} <= {"pass", "fail", "not_applicable", "error"}
        for r in d.rules:
            if str(r.status) == "error":
                assert r.error is not None and r.error.message
        for lang in ("zh", "en"):
            _OUTPUT.validate(json.loads(json.dumps(d.to_json(lang), ensure_ascii=False)))

    run()
