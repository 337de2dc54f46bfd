"""A legal reading of ``hlj-musicians/membership`` against the measures it encodes.

Each group of tests pins one reading of 黑龙江省音乐家协会个人会员服务管理办法
(主席团审定稿, 2022-04-15) that the rulebook once got wrong:

* 第十二条 由两名省音协会员介绍: two *different* members; the same member listed
  twice (however the member number is typed) is one introducer.
* 第十三条: a deletion from the platform cannot come before the event that
  starts its 20 working days; events before the measures took effect are not
  judged by them.
* 第十三条第4项: the paper file is kept from the deletion on, for 15 years.
* 第十四条, 第十五条 and 第二十二条: nothing is overdue under the measures
  before they took effect, and a period that began earlier is counted from
  the day they did; an entry or a restoration cannot come before the event
  that starts its deadline; the yearly confirmation has no same-year
  exemption.
* Messages name the numbers they require; notes state one convention for
  every ban and cite only what an article says.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from engine import Registry

ROOT = Path(__file__).resolve().parent.parent
RULEBOOK = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"

BOOK = Registry.default().load("hlj-musicians/membership")
ADMISSION = BOOK.decision("admission")
TERMINATION = BOOK.decision("termination")
MEMBER_STATUS = BOOK.decision("member-status")

IN_FORCE = dt.date(2022, 4, 15)  # 第二十二条: the date of the approved text


def _statuses(decision: Any) -> dict[str, str]:
    return {r.id: str(r.status) for r in decision.rules}


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def _spec(decision: Any, rule_id: str) -> Any:
    return next(r.spec for r in decision.rules if r.spec.id == rule_id)


# -- 第十二条: two different members introduce the applicant -----------------------------------------


def _applicant(introducers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "A-1",
        "name": "测试",
        "citizenship": "CN",
        "province": "黑龙江",
        "birth_date": "1986-05-20",
        "application_date": "2026-03-01",
        "occupations": ["作曲"],
        "accepts_charter": True,
        "self_applied": True,
        "introducers": introducers,
        "recommender": {"kind": "group_member_unit", "name": "哈尔滨市音乐家协会"},
        "professional_title": "中级",
    }


def _m(member_id: str | None) -> dict[str, Any]:
    return {"member_id": member_id, "is_member": True}


@pytest.mark.parametrize(
    ("introducers", "status", "distinct"),
    [
        ([_m("M-0312"), _m("M-1187")], "pass", 2),
        ([_m("M-0312"), _m("M-0312")], "fail", 1),  # the same member twice
        ([_m("M-0312"), _m(" m-0312 ")], "fail", 1),  # ... typed with spaces, lower case
        ([_m("M-0312"), _m("Ｍ－０３１２")], "fail", 1),  # ... in full-width characters
        ([_m("M-0312"), _m("M-0312"), _m("M-1187")], "pass", 2),  # a repeat beside two members
        ([_m("M-0312"), _m(None)], "fail", 1),  # a member without a number: unknown
        (
            [_m("M-0312"), {"member_id": "M-0312", "is_member": False}, {"name": "马老师", "is_member": False}],
            "fail",
            1,
        ),
        ([], "fail", 0),
    ],
    ids=[
        "two-members",
        "same-twice",
        "spaces-and-case",
        "full-width",
        "repeat-plus-two",
        "no-number",
        "non-members-ignored",
        "none",
    ],
)
def test_introducers_are_counted_as_different_members(
    introducers: list[dict[str, Any]], status: str, distinct: int
) -> None:
    d = ADMISSION.evaluate(_applicant(introducers))
    rule = d.rule("introducers")
    assert rule is not None and str(rule.status) == status
    assert rule.values["member_introducers"] == distinct
    assert str(d.outcome) == status


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_repeated_introducer_message_says_how_many_different_members(lang: str) -> None:
    rule = ADMISSION.evaluate(_applicant([_m("M-0312"), _m("M-0312")])).rule("introducers")
    assert rule is not None
    message = rule.message(lang)
    assert message is not None
    assert "M-0312" in message
    assert ("不同" in message and "1名" in message) if lang == "zh" else ("different" in message and "1" in message)


def test_member_introducer_without_member_id_field_is_an_error_naming_it() -> None:
    d = ADMISSION.evaluate(_applicant([_m("M-0312"), {"is_member": True}]))
    rule = d.rule("introducers")
    assert rule is not None and str(rule.status) == "error"
    assert rule.error is not None and rule.error.path == "introducers[].member_id"
    assert str(d.outcome) == "indeterminate"


# -- 第十二条第1项、第5项: messages name the number required ------------------------------------------


@pytest.mark.parametrize(
    ("fields", "rule_id", "zh", "en"),
    [
        ({"event_participations": 3}, "event_participations", "超过3次", "more than 3"),
        ({"music_work_start_date": "2019-03-02"}, "work_years", "7年以上", "7 years or more"),
    ],
)
def test_item_message_names_the_number_required(fields: dict[str, Any], rule_id: str, zh: str, en: str) -> None:
    rule = ADMISSION.evaluate({**_applicant([_m("M-0312"), _m("M-1187")]), **fields}).rule(rule_id)
    assert rule is not None and str(rule.status) == "fail"
    assert zh in (rule.message("zh") or "")
    assert en in (rule.message("en") or "")


# -- 第十三条: the bans' notes state one convention ------------------------------------------------


@pytest.mark.parametrize("rule_id", ["withdrawal_ban", "expulsion_ban", "dues_lapse_ban"])
def test_every_ban_note_states_the_anniversary_and_the_civil_code_reading(rule_id: str) -> None:
    note = _spec(ADMISSION, rule_id).note
    assert note is not None
    assert "周年日当天起即可再次申请" in note.zh and "民法典" in note.zh and "第二百零一" in note.zh
    assert "anniversary itself" in note.en and "Civil Code" in note.en and "201" in note.en


# -- 第十三条: a deletion cannot come before the event that starts its 20 working days -------------

START_RULES = {
    "withdrawal": ("withdrawal_deleted_after_notice", "书面通知", "written notice"),
    "expulsion": ("expulsion_deleted_after_decision", "主席团", "presidium"),
    "dues_lapse": ("dues_lapse_deleted_after_approval", "秘书长", "secretary-general"),
    "deceased": ("departed_deleted_after_information", "获得", "obtained"),
    "transferred": ("departed_deleted_after_information", "获得", "obtained"),
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


@pytest.mark.parametrize("kind", sorted(START_RULES))
@pytest.mark.parametrize(
    ("deleted", "status"),
    [
        ("2025-09-18", "fail"),  # the day before the event
        ("2025-09-19", "pass"),  # the day of the event itself
        ("2025-09-22", "pass"),
        (None, "not_applicable"),
    ],
)
def test_deletion_cannot_come_before_the_event(kind: str, deleted: str | None, status: str) -> None:
    d = TERMINATION.evaluate(_event(kind, "2025-09-19", deleted), "2026-03-01")
    rule_id = START_RULES[kind][0]
    assert _statuses(d)[rule_id] == status
    if status == "fail":
        assert str(d.outcome) == "fail"


@pytest.mark.parametrize("kind", sorted(START_RULES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_early_deletion_message_says_it_came_before_the_event(kind: str, lang: str) -> None:
    rule_id, zh, en = START_RULES[kind]
    rule = TERMINATION.evaluate(_event(kind, "2025-09-19", "2025-09-18"), "2026-03-01").rule(rule_id)
    assert rule is not None and str(rule.status) == "fail"
    message = rule.message(lang) or ""
    assert "2025-09-18" in message and "2025-09-19" in message
    assert ("早于" in message and zh in message) if lang == "zh" else ("before" in message and en in message)


# -- 第十三条 and 第二十二条: events before the measures took effect ---------------------------------


@pytest.mark.parametrize("kind", sorted(START_RULES))
@pytest.mark.parametrize(("date", "under"), [("2022-04-14", False), ("2022-04-15", True)])
def test_events_before_the_measures_are_not_judged_by_them(kind: str, date: str, under: bool) -> None:
    late = (dt.date.fromisoformat(date) + dt.timedelta(days=90)).isoformat()
    record = {
        **_event(kind, date, late),
        "written_notice": False,
        "card_returned": False,
        "decided_by": "secretariat",
        "secretary_general_approved": False,
    }
    d = TERMINATION.evaluate(record, "2026-03-01")
    statuses = _statuses(d)
    assert statuses.pop("known_kind") == "pass"
    assert statuses.pop("event_under_measures") == ("pass" if under else "fail")
    if under:
        assert "fail" in statuses.values()
        assert "delete_by" in d.outputs
    else:
        assert set(statuses.values()) == {"not_applicable"}
        assert "delete_by" not in d.outputs
        assert str(d.outcome) == "pass"  # an info notice: it does not decide the outcome


def test_ban_after_an_event_before_the_measures_is_still_given() -> None:
    d = TERMINATION.evaluate(_event("expulsion", "2020-02-29", "2020-03-10"), "2026-03-01")
    assert _iso(d.outputs["reapply_not_before"]) == "2025-02-28"


# -- 第十三条第4项: the paper file is kept 15 years from the deletion ---------------------------------


@pytest.mark.parametrize(
    ("kind", "date", "deleted", "as_of", "until"),
    [
        ("deceased", "2025-11-03", "2025-11-20", "2026-03-01", "2040-11-20"),  # from the deletion, not the news
        ("transferred", "2025-04-07", "2025-05-07", "2026-03-01", "2040-05-07"),
        ("deceased", "2024-02-26", "2024-02-29", "2026-03-01", "2039-02-28"),  # deleted on 29 February
        ("deceased", "2025-04-07", "2025-06-30", "2026-03-01", "2040-06-30"),  # deleted late: still 15 years
        ("transferred", "2026-02-24", None, "2026-03-01", None),  # not deleted yet: no date
        ("deceased", "2025-11-03", "2025-11-20", "2025-11-10", None),  # deleted after as_of: not yet
        ("withdrawal", "2025-11-03", "2025-11-20", "2026-03-01", None),  # no paper file kept
    ],
)
def test_paper_archive_runs_15_years_from_the_deletion(
    kind: str, date: str, deleted: str | None, as_of: str, until: str | None
) -> None:
    d = TERMINATION.evaluate(_event(kind, date, deleted), as_of)
    assert _iso(d.outputs.get("paper_archive_until")) == until


# -- 第十五条 and 第二十二条: evaluation periods under the measures ----------------------------------


def _member(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "M-1",
        "name": "测试",
        "birth_date": "1980-05-05",
        "approved_on": "2016-04-12",
        "last_contact_on": "2025-01-01",
        "last_activity_on": "2025-01-01",
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "due"),
    [
        ({}, "2025-04-15"),  # approved 2016, never evaluated
        ({"approved_on": "2019-04-14"}, "2025-04-15"),  # first period ended before the measures
        ({"approved_on": "2019-04-16"}, "2025-04-15"),  # ... began before them
        ({"approved_on": "2022-04-14"}, "2025-04-15"),
        ({"approved_on": "2022-04-15"}, "2025-04-15"),  # approved on the day they took effect
        ({"approved_on": "2022-04-16"}, "2025-04-16"),
        ({"last_evaluation_on": "2021-06-01"}, "2025-04-15"),  # evaluated under the earlier rules
        ({"last_evaluation_on": "2023-03-01"}, "2026-03-01"),
        ({"approved_on": "2024-02-29"}, "2027-02-28"),
    ],
)
def test_evaluation_due_counts_periods_from_the_measures(fields: dict[str, Any], due: str) -> None:
    d = MEMBER_STATUS.evaluate(_member(**fields), "2025-01-01")
    assert _iso(d.outputs["evaluation_due"]) == due


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("2021-06-01", "pass"),  # before the measures: nothing can be overdue
        ("2022-04-14", "pass"),
        ("2022-04-16", "pass"),
        ("2025-04-15", "pass"),  # the first due date under the measures
        ("2025-04-16", "fail"),
    ],
)
def test_member_approved_before_the_measures_is_not_overdue_for_earlier_periods(as_of: str, status: str) -> None:
    d = MEMBER_STATUS.evaluate(_member(), as_of)
    assert _statuses(d)["evaluation_not_overdue"] == status


# -- 第十四条: yearly confirmation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "as_of", "status"),
    [
        # approved and entered this year, before 1 December: confirmed this year or late (no exemption)
        ({"approved_on": "2025-03-03", "platform_entered_on": "2025-03-25"}, "2025-12-15", "fail"),
        (
            {"approved_on": "2025-03-03", "platform_entered_on": "2025-03-25", "info_confirmed_on": "2025-11-30"},
            "2025-12-15",
            "pass",
        ),
        # registered on 1 December itself: a member on the deadline
        ({"approved_on": "2025-11-03", "platform_entered_on": "2025-12-01"}, "2025-12-15", "fail"),
        # registered after 1 December: not yet a member (第二条) when this year's confirmation was due
        ({"approved_on": "2025-11-03", "platform_entered_on": "2025-12-02"}, "2025-12-15", "not_applicable"),
        ({"approved_on": "2025-11-20"}, "2025-12-15", "not_applicable"),
        ({"approved_on": "2025-12-03"}, "2025-12-15", "not_applicable"),
        # approved before the measures: registered under the earlier rules
        ({}, "2025-12-15", "fail"),
        # before the measures took effect, no yearly confirmation was due under them
        ({}, "2021-12-15", "not_applicable"),
        ({"info_confirmed_on": "2022-11-30"}, "2022-12-15", "pass"),
    ],
)
def test_confirmation_applies_to_every_member_registered_by_the_deadline(
    fields: dict[str, Any], as_of: str, status: str
) -> None:
    d = MEMBER_STATUS.evaluate(_member(**fields), as_of)
    assert _statuses(d)["confirmed_by_december"] == status


def test_confirmation_note_has_no_same_year_exemption() -> None:
    note = _spec(MEMBER_STATUS, "confirmed_by_december").note
    assert note is not None
    assert "首次年度确认自次年起" not in note.zh and "第二条" in note.zh
    assert "next year" not in note.en and "article 2" in note.en


# -- 第十四条第2项、第4项: an entry or a restoration cannot come before its starting event -------------


@pytest.mark.parametrize(
    ("fields", "as_of", "rule_id", "status"),
    [
        (
            {"approved_on": "2025-01-20", "platform_entered_on": "2025-01-17"},
            "2025-06-30",
            "entered_after_approval",
            "fail",
        ),
        (
            {"approved_on": "2025-01-20", "platform_entered_on": "2025-01-20"},
            "2025-06-30",
            "entered_after_approval",
            "pass",
        ),
        ({"approved_on": "2025-01-20"}, "2025-06-30", "entered_after_approval", "not_applicable"),
        (
            {"approved_on": "2018-05-20", "platform_entered_on": "2018-05-01"},
            "2025-06-30",
            "entered_after_approval",
            "not_applicable",
        ),  # approved before the measures
        (
            {"contact_resumed_on": "2025-09-30", "restored_on": "2025-09-29"},
            "2025-10-20",
            "restored_after_contact",
            "fail",
        ),
        (
            {"contact_resumed_on": "2025-09-30", "restored_on": "2025-09-30"},
            "2025-10-20",
            "restored_after_contact",
            "pass",
        ),
        ({"contact_resumed_on": "2025-09-30"}, "2025-10-20", "restored_after_contact", "not_applicable"),
        # contact resumed before the measures took effect: not judged by them
        (
            {"contact_resumed_on": "2022-04-08", "restored_on": "2022-05-30"},
            "2025-10-20",
            "restored_in_time",
            "not_applicable",
        ),
        ({"contact_resumed_on": "2022-04-15", "restored_on": "2022-05-30"}, "2025-10-20", "restored_in_time", "fail"),
    ],
)
def test_act_cannot_come_before_the_event_that_starts_its_deadline(
    fields: dict[str, Any], as_of: str, rule_id: str, status: str
) -> None:
    d = MEMBER_STATUS.evaluate(_member(**fields), as_of)
    assert _statuses(d)[rule_id] == status


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_early_entry_message_says_so(lang: str) -> None:
    rule = MEMBER_STATUS.evaluate(
        _member(approved_on="2025-01-20", platform_entered_on="2025-01-17"), "2025-06-30"
    ).rule("entered_after_approval")
    assert rule is not None
    message = rule.message(lang) or ""
    assert "2025-01-17" in message and "2025-01-20" in message
    assert ("早于" in message) if lang == "zh" else ("before" in message)


# -- notes cite only what an article says -----------------------------------------------------------

# The articles the notes quote, as the measures word them.
ARTICLES = {
    "第十四条第3项": "高龄会员。 75周岁以上（含75周岁）会员定义为高龄会员，此类会员继续享受会员权利，"
    "但非必须按规定履行会员义务，协会将继续探索适合此类会员参与的活动与高龄会员分享。",
    "第十九条": "个人会员有遵守本会章程，执行本会决议,维护本会权益，参加本会活动，完成本会交付的工作，"
    "按规交纳会费，与协会保持联系的义务。",
    "第二条": "本办法所称个人会员，为协会主席团审核批准，履行入会手续，并已完成会员信息登记的个人会员。",
}
_QUOTED = re.compile(r"(第[一二三四五六七八九十]+条(?:第\d项)?)[^“”。；]{0,12}?“([^”]+)”")


def _notes() -> list[tuple[str, str]]:
    out = []
    for decision in (ADMISSION, TERMINATION, MEMBER_STATUS):
        for r in decision.rules:
            if r.spec.note is not None:
                out.append((r.spec.id, r.spec.note.zh))
    return out


def test_notes_quote_articles_faithfully() -> None:
    checked = 0
    for rule_id, note in _notes():
        for cite, quote in _QUOTED.findall(note):
            if cite in ARTICLES:
                checked += 1
                assert quote in ARTICLES[cite], f"{rule_id}: {cite} does not say “{quote}”"
    assert checked >= 3


def test_notes_have_no_placeholders() -> None:
    """Notes are shown as written (only messages fill `{name}`): a placeholder would reach the reader."""
    for decision in (ADMISSION, TERMINATION, MEMBER_STATUS):
        for r in decision.rules:
            if r.spec.note is not None:
                for text in (r.spec.note.zh, r.spec.note.en):
                    assert not re.search(r"\{[a-z_]+\}", text), r.spec.id


def test_senior_note_attributes_the_exemption_to_article_14_item_3() -> None:
    note = _spec(MEMBER_STATUS, "senior_member").note
    assert note is not None
    assert "第十四条第3项规定高龄会员“非必须按规定履行会员义务”" in note.zh
    assert "义务（第十九条）" not in note.zh  # article 19 lists duties; it exempts nobody
    assert "article 14 item 3" in note.en and "the duties of article 19)" not in note.en


# -- the rulebook names its source for a user -----------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        RULEBOOK,
        ROOT / "docs" / "rulebooks" / "hlj-musicians" / "membership.md",
        ROOT / "README.md",
        ROOT / "engine" / "tools" / "skeleton.py",
        ROOT / "examples" / "hcm-2021" / "README.md",
    ],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_no_path_a_user_does_not_have(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "shared/seeds" not in text
    assert not re.search(r"\b00\d_[0-9a-f]{16}\.txt\b", text)


def test_header_cites_title_issuing_body_and_date() -> None:
    header = "".join(
        line for line in RULEBOOK.read_text(encoding="utf-8").splitlines(keepends=True)[:12] if line.startswith("#")
    )
    assert "黑龙江省音乐家协会个人会员服务管理办法" in header
    assert "黑龙江省音乐家协会主席团" in header
    assert "2022年4月15日" in header
