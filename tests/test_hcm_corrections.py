"""The student-union rulebooks' corrected decisions, one group of tests per correction.

Each test decides a record that the rulebooks got wrong before (a spelling of a
political status taken for a non-member, 部员 refused, item 4 read from
``presidium_count`` alone, the 20% margin applied to a by-election, impossible
counts passing, three semesters of ranks failing with "none" out of range,
missing charter articles) and checks the corrected decision, its message and,
for records that contradict themselves, the data check (``kind: data``) that
makes the decision ``indeterminate`` instead of ``pass`` or ``fail``.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine.cli import main
from engine.registry import Registry
from engine.testing import rule_coverage, run_examples

ROOT = Path(__file__).resolve().parent.parent
BOOKS = ROOT / "rulebooks" / "hcm-student-union"
CHECKLIST = "hcm-student-union/reform-checklist"
CHARTER = "hcm-student-union/charter@2021-11"

PARTY = [
    "中共党员",
    "中共预备党员",
    "中国共产党党员",
    "中国共产党预备党员",
    "共产党员",
    "中国共产党员",
    "正式党员",
    "中共正式党员",
    "预备党员",
    "党员",
    "中共 党员",
    "中共　预备党员",
    "党　员",
    "　中共党员 ",
    "中\u00a0共\u3000党员",
]
LEAGUE = [
    "共青团员",
    "共青团团员",
    "中国共产主义青年团团员",
    "中国共产主义青年团员",
    "团员",
    "团　员",
    " 共青团员",
    "共青团 团员",
]
NOT_MEMBERS = ["群众", "入党积极分子", "无党派人士", "中国民主同盟盟员", "共青团", "党员发展对象", ""]
LISTED_ROLES = ["主席", "副主席", "轮值执行主席", "部长", "副部长", "干事", "部员", "干　事", "主 席", "部　员"]
UNLISTED_ROLES = ["秘书长", "主任", "会长", "委员", "部员助理"]


@pytest.fixture(scope="module")
def checklist() -> engine.evaluate.CompiledRulebook:
    return Registry.default().load(CHECKLIST)


@pytest.fixture(scope="module")
def charter() -> engine.evaluate.CompiledRulebook:
    return Registry.default().load(CHARTER)


def person(name: str, role: str = "干事", status: str = "共青团员", **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        "political_status": status,
        "department": "管弦系",
        "level": "undergraduate",
        "enrollment_year": 2021,
        "has_failed_course": False,
        **more,
    }


def school(staff: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    record = json.loads((ROOT / "examples" / "hcm-2021" / "school-union.json").read_text(encoding="utf-8"))
    record.pop("presidium_count")
    return {**record, "staff": staff, **more}


def department(staff: list[dict[str, Any]] | None = None, **more: Any) -> dict[str, Any]:
    line = (ROOT / "examples" / "hcm-2021" / "department-unions.jsonl").read_text(encoding="utf-8").splitlines()[1]
    record = json.loads(line)
    if staff is not None:
        record["staff"] = staff
    return {**record, **more}


def status(decision: Any, rule: str) -> str:
    r = decision.rule(rule)
    assert r is not None, f"no rule `{rule}`"
    return str(r.status)


# ---------------------------------------------------------------------------
# Political status: every spelling of a Party or Youth League member, in one place
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", PARTY + LEAGUE)
def test_every_spelling_of_a_member_counts(checklist, charter, spelling: str) -> None:  # type: ignore[no-untyped-def]
    staff = [person("甲", "主席", spelling)]
    assert status(checklist.decision("school-union").evaluate(school(staff)), "party_or_league_members") == "pass"
    assert (
        status(checklist.decision("department-union").evaluate(department(staff)), "party_or_league_members") == "pass"
    )
    cadre = {
        "id": "C",
        "name": "甲",
        "position": "presidium",
        "political_status": spelling,
        "office_start": "2021-11-24",
        "result_publicized": True,
        "semesters": [{"rank": 1, "cohort": 10, "has_failed_course": False}] * 2,
    }
    assert status(charter.decision("cadre").evaluate(cadre), "party_or_league") == "pass"


@pytest.mark.parametrize("spelling", NOT_MEMBERS)
def test_other_statuses_do_not_count(checklist, charter, spelling: str) -> None:  # type: ignore[no-untyped-def]
    staff = [person("甲", "主席", spelling)]
    assert status(checklist.decision("school-union").evaluate(school(staff)), "party_or_league_members") == "fail"
    cadre = {
        "id": "C",
        "name": "甲",
        "position": "presidium",
        "political_status": spelling,
        "office_start": "2021-11-24",
        "result_publicized": True,
        "semesters": [{"rank": 1, "cohort": 10, "has_failed_course": False}] * 2,
    }
    assert status(charter.decision("cadre").evaluate(cadre), "party_or_league") == "fail"


def test_the_message_names_only_those_who_are_not_members(checklist) -> None:  # type: ignore[no-untyped-def]
    staff = [
        person("甲", "主席", "共产党员"),
        person("乙", "干事", "中国共产党党员"),
        person("丙", "干事", "群众"),
        person("丁", "部员", "团员"),
    ]
    for decision in (
        checklist.decision("school-union").evaluate(school(staff)),
        checklist.decision("department-union").evaluate(department(staff)),
    ):
        r = decision.rule("party_or_league_members")
        assert r is not None and str(r.status) == "fail"
        assert r.message("zh") == "以下工作人员不是共产党员或共青团员：丙（群众）"
        assert r.message("en") == "these staff are neither Party nor Youth League members: 丙 (群众)"


def test_spellings_live_in_one_named_place() -> None:
    # the patterns are parameters; no rule lists a spelling of its own
    for path in ("reform-checklist.yaml", "charter.yaml"):
        book = yaml.safe_load((BOOKS / path).read_text(encoding="utf-8"))
        assert {"party_member_pattern", "league_member_pattern"} <= set(book["parameters"])
        for decision in book["decisions"].values():
            for rule in decision["rules"]:
                for part in ("require", "when"):
                    text = str(rule.get(part, ""))
                    assert not re.search(r"党员|团员|干事|部员|主席", text), (path, rule["id"], text)


# ---------------------------------------------------------------------------
# 部员 is 干事 (第二十四条)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", LISTED_ROLES)
def test_listed_positions_include_buyuan(checklist, role: str) -> None:  # type: ignore[no-untyped-def]
    staff = [person("甲", "主席"), person("乙", role)]
    assert status(checklist.decision("school-union").evaluate(school(staff)), "listed_positions_only") == "pass"
    assert status(checklist.decision("department-union").evaluate(department(staff)), "listed_positions_only") == "pass"


@pytest.mark.parametrize("role", UNLISTED_ROLES)
def test_other_positions_are_named(checklist, role: str) -> None:  # type: ignore[no-untyped-def]
    r = (
        checklist.decision("school-union")
        .evaluate(school([person("甲", "主席"), person("乙", role)]))
        .rule("listed_positions_only")
    )
    assert r is not None and str(r.status) == "fail"
    assert r.message("zh") == f"设置了所列以外的职务：乙（{role}）"


# ---------------------------------------------------------------------------
# Item 4 from the roster's roles; a presidium_count that disagrees is a data error
# ---------------------------------------------------------------------------


def presidium(n: int) -> list[dict[str, Any]]:
    return (
        [person("主席甲", "主席")] + [person(f"副主席{i}", "副主席") for i in range(n - 1)] + [person("干事", "干事")]
    )


@pytest.mark.parametrize(("size", "expected"), [(5, "pass"), (6, "fail")])
def test_school_item_4_counts_the_roster(checklist, size: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    decision = checklist.decision("school-union").evaluate(school(presidium(size)))
    assert status(decision, "presidium_limit") == expected
    assert status(decision, "presidium_count_matches_roster") == "not_applicable"


@pytest.mark.parametrize(("size", "expected"), [(3, "pass"), (4, "fail")])
def test_department_item_4_counts_the_roster(checklist, size: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    decision = checklist.decision("department-union").evaluate(department(presidium(size)))
    assert status(decision, "presidium_limit") == expected
    if expected == "fail":  # the message names the presidium the roster lists
        assert decision.rule("presidium_limit").message("zh") == (  # type: ignore[union-attr]
            "主席团成员超过3人：主席甲（主席）、副主席0（副主席）、副主席1（副主席）、副主席2（副主席）"
        )


def test_presidium_count_that_disagrees_with_the_roster_is_a_data_error(checklist) -> None:  # type: ignore[no-untyped-def]
    # six on the roster, five stated: item 4 fails on the roster and the record contradicts itself
    decision = checklist.decision("school-union").evaluate(school(presidium(6), presidium_count=5))
    assert status(decision, "presidium_limit") == "fail"
    r = decision.rule("presidium_count_matches_roster")
    assert r is not None and str(r.status) == "error"
    zh, en = r.message("zh") or "", r.message("en") or ""
    assert "presidium_count 为5" in zh and "名单（staff）中任主席、副主席或轮值执行主席的有6人" in zh
    assert "presidium_count is 5" in en and "the roster (staff) has 6" in en
    out = decision.to_json("en")
    rule = next(x for x in out["rules"] if x["id"] == "presidium_count_matches_roster")
    assert rule["error"]["code"] == "eval.data-inconsistent" and rule["error"]["message"] == en
    # three on the roster, five stated: item 4 passes, the decision cannot be made
    decision = checklist.decision("school-union").evaluate(school(presidium(3), presidium_count=5))
    assert status(decision, "presidium_limit") == "pass"
    assert str(decision.outcome) == "indeterminate"
    # department level: the same, only when both are given
    decision = checklist.decision("department-union").evaluate(department(presidium(2), presidium_count=3))
    assert status(decision, "presidium_count_matches_roster") == "error"
    assert str(decision.outcome) == "indeterminate"
    decision = checklist.decision("department-union").evaluate(department(None, presidium_count=4))
    assert status(decision, "presidium_limit") == "fail"  # no roster: the count decides
    assert status(decision, "presidium_count_matches_roster") == "not_applicable"


def test_the_conservatorys_own_record_still_reproduces_its_answers(checklist) -> None:  # type: ignore[no-untyped-def]
    record = json.loads((ROOT / "examples" / "hcm-2021" / "school-union.json").read_text(encoding="utf-8"))
    decision = checklist.decision("school-union").evaluate(record)
    assert status(decision, "presidium_count_matches_roster") == "pass"  # 实有 4 人, 4 on the roster
    assert status(decision, "presidium_limit") == "pass"
    assert status(decision, "academic_standard") == "fail"  # item 8 answered 否
    assert str(decision.outcome) == "fail"


def test_a_rank_beyond_its_cohort_is_a_data_error(checklist) -> None:  # type: ignore[no-untyped-def]
    staff = [person("甲", "主席", enrollment_year=2019, rank=35, cohort=33), person("乙", "干事")]
    for name in ("school-union", "department-union"):
        d = checklist.decision(name).evaluate(school(staff) if name == "school-union" else department(staff))
        r = d.rule("ranks_possible")
        assert r is not None and str(r.status) == "error"
        assert "甲（排名35/33）" in (r.message("zh") or "")
        assert status(d, "academic_standard") == "pass"  # not counted as failing item 8 / 7
        assert str(d.outcome) == "indeterminate"


# ---------------------------------------------------------------------------
# The charter: elections
# ---------------------------------------------------------------------------

ELECTION = {
    "id": "E",
    "date": "2021-11-24",
    "body": "presidium",
    "term": 1,
    "seats": 5,
    "candidates": 7,
    "elected_by": "congress",
    "secret_ballot": True,
    "results_announced": True,
    "candidates_confirmed": True,
}


def test_margin_is_for_the_first_presidium_not_a_by_election(charter) -> None:  # type: ignore[no-untyped-def]
    election = charter.decision("election")
    by_election = {**ELECTION, "seats": 1, "candidates": 1, "supplementary": True, "elected_by": "standing_committee"}
    d = election.evaluate(by_election)
    assert status(d, "margin") == "not_applicable" and str(d.outcome) == "pass"
    d = election.evaluate({**ELECTION, "term": 2, "candidates": 5})
    assert status(d, "margin") == "not_applicable" and str(d.outcome) == "pass"
    assert status(election.evaluate({**ELECTION, "candidates": 5}), "margin") == "fail"  # the first presidium
    assert status(election.evaluate({**ELECTION, "candidates": 6}), "margin") == "pass"  # exactly 20%


@pytest.mark.parametrize(
    ("elected_by", "expected"),
    [("congress", "pass"), ("presidium", "fail"), ("committee", "fail"), ("standing_committee", "fail")],
)
def test_the_committee_is_elected_by_the_congress(charter, elected_by: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    d = charter.decision("election").evaluate(
        {**ELECTION, "body": "committee", "seats": 9, "candidates": 11, "elected_by": elected_by}
    )
    assert status(d, "committee_elected_by_congress") == expected
    assert str(d.outcome) == expected


@pytest.mark.parametrize(
    ("members", "consents", "expected"), [(10, 5, "pass"), (9, 5, "pass"), (9, 4, "fail"), (9, 10, "error")]
)
def test_representative_by_election_needs_half_of_the_committee(
    charter,
    members: int,
    consents: int,  # type: ignore[no-untyped-def]
    expected: str,
) -> None:
    record = {
        "id": "B",
        "date": "2022-03-01",
        "body": "representative",
        "term": 1,
        "seats": 1,
        "candidates": 1,
        "elected_by": "electoral_unit",
        "supplementary": True,
        "committee_members": members,
        "committee_consents": consents,
    }
    d = charter.decision("election").evaluate(record)
    got = "error" if status(d, "by_election_consent_possible") == "error" else status(d, "by_election_consent")
    assert got == expected
    assert str(d.outcome) == {"pass": "pass", "fail": "fail", "error": "indeterminate"}[expected]


# ---------------------------------------------------------------------------
# The charter: impossible counts are data errors, never a pass
# ---------------------------------------------------------------------------

REMOVAL = {
    "id": "R",
    "member": "甲",
    "date": "2022-03-15",
    "requested_by": "self",
    "written_request": True,
    "presidium_members": 5,
    "present": 5,
    "votes_for": 3,
}
CONGRESS = {
    "id": "G",
    "date": "2021-11-24",
    "representatives_elected_on": "2021-11-10",
    "representatives_recommended_by_class_branches": True,
    "representatives_elected_by_department_unions": True,
    "students_represented": 2000,
    "elected_representatives": 150,
    "attending_representatives": 100,
    "non_cadre_representatives": 90,
    "uncovered_groups": [],
    "electoral_units": [{"name": "管弦系", "students": 400, "grassroots_attendees": 80}],
}


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"present": 3, "votes_for": 4}, ["votes_for = 4", "present = 3"]),
        ({"present": 6, "votes_for": 4}, ["present = 6", "presidium_members = 5"]),
        ({"present": 6, "votes_for": 7}, ["present = 6", "votes_for = 7", "presidium_members = 5"]),
        ({"presidium_members": 0, "present": 0, "votes_for": 0}, ["presidium_members = 0"]),
    ],
    ids=["votes-over-present", "present-over-members", "both", "no-members"],
)
def test_impossible_vote_counts_are_errors(charter, change: dict[str, Any], fields: list[str]) -> None:  # type: ignore[no-untyped-def]
    d = charter.decision("removal").evaluate({**REMOVAL, **change})
    r = d.rule("vote_counts_possible")
    assert r is not None and str(r.status) == "error"
    for f in fields:
        assert f in (r.message("zh") or "") and f in (r.message("en") or "")
    # the majority "passes" on most of these counts, but they cannot be
    assert str(d.outcome) == ("fail" if change["votes_for"] == 0 else "indeterminate")


@pytest.mark.parametrize(
    ("change", "rule", "fields"),
    [
        (
            {"attending_representatives": 151},
            "counts_possible",
            ["attending_representatives = 151", "elected_representatives = 150"],
        ),
        ({"non_cadre_representatives": 151}, "counts_possible", ["non_cadre_representatives = 151"]),
        ({"students_represented": 149}, "counts_possible", ["students_represented = 149"]),
        (
            {"elected_representatives": 0, "attending_representatives": 0, "non_cadre_representatives": 0},
            "counts_possible",
            ["elected_representatives = 0"],
        ),
        (
            {"electoral_units": [{"name": "民乐系", "students": 300, "grassroots_attendees": 301}]},
            "units_possible",
            ["民乐系", "grassroots_attendees = 301", "students = 300"],
        ),
        (
            {"representatives_elected_on": "2021-11-25"},
            "representatives_elected_before_session",
            ["representatives_elected_on = 2021-11-25", "date = 2021-11-24"],
        ),
    ],
    ids=["attending", "non-cadre", "students", "no-representatives", "grassroots", "elected-after"],
)
def test_impossible_congress_counts_are_errors(
    charter,
    change: dict[str, Any],
    rule: str,  # type: ignore[no-untyped-def]
    fields: list[str],
) -> None:
    d = charter.decision("congress").evaluate({**CONGRESS, **change})
    r = d.rule(rule)
    assert r is not None and str(r.status) == "error"
    for f in fields:
        assert f in (r.message("zh") or "") and f in (r.message("en") or "")
    assert str(d.outcome) in ("indeterminate", "fail")
    assert str(charter.decision("congress").evaluate(CONGRESS).outcome) == "pass"


def test_impossible_counts_in_the_json_output(tmp_path: Path) -> None:
    path = tmp_path / "removals.jsonl"
    path.write_text(json.dumps({**REMOVAL, "present": 3, "votes_for": 4}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = io.StringIO()
    code = main(
        ["check", CHARTER, str(path), "--decision", "removal", "--format", "json", "--lang", "en"],
        stdout=out,
        stderr=io.StringIO(),
    )
    line = json.loads(out.getvalue())
    assert code == 1 and line["outcome"] == "indeterminate"
    rule = next(r for r in line["rules"] if r["id"] == "vote_counts_possible")
    assert rule["status"] == "error" and rule["error"]["code"] == "eval.data-inconsistent"
    assert rule["message"] == (
        "the record contradicts itself: more votes for (votes_for = 4) than members present "
        "(present = 3); correct the counts of the vote"
    )


# ---------------------------------------------------------------------------
# The charter: the two semesters before office
# ---------------------------------------------------------------------------

CADRE = {
    "id": "C",
    "name": "乙",
    "position": "presidium",
    "political_status": "共青团员",
    "office_start": "2021-11-24",
    "result_publicized": True,
    "semesters": [
        {"term": "2019-2020学年第二学期", "rank": 20, "cohort": 30, "has_failed_course": False},
        {"term": "2020-2021学年第一学期", "rank": 3, "cohort": 10, "has_failed_course": False},
        {"term": "2020-2021学年第二学期", "rank": 9, "cohort": 30, "has_failed_course": False},
    ],
}


def test_three_semesters_are_a_data_error_not_a_fail(charter) -> None:  # type: ignore[no-untyped-def]
    d = charter.decision("cadre").evaluate(CADRE)
    assert status(d, "ranking") == "not_applicable" and status(d, "no_failed_course") == "not_applicable"
    r = d.rule("semesters_before_office_only")
    assert r is not None and str(r.status) == "error"
    assert "却给出了3个学期（2019-2020学年第二学期、2020-2021学年第一学期、2020-2021学年第二学期）" in (
        r.message("zh") or ""
    )
    assert str(d.outcome) == "indeterminate"
    two = {**CADRE, "semesters": CADRE["semesters"][1:]}
    assert str(charter.decision("cadre").evaluate(two).outcome) == "pass"


def test_a_ranking_failure_always_says_why(charter) -> None:  # type: ignore[no-untyped-def]
    one = {**CADRE, "semesters": CADRE["semesters"][2:]}
    r = charter.decision("cadre").evaluate(one).rule("ranking")
    assert r is not None and str(r.status) == "fail"
    assert r.message("zh") == "任职前2个学期的排名须在前30%以内：只记录了1个学期的排名，不足任职前2个学期"
    low = copy.deepcopy({**CADRE, "semesters": CADRE["semesters"][1:]})
    low["semesters"][1]["rank"] = 10
    low["semesters"][1]["cohort"] = 33
    r = charter.decision("cadre").evaluate(low).rule("ranking")
    assert r is not None and str(r.status) == "fail"
    assert r.message("zh") == "任职前2个学期的排名须在前30%以内：2020-2021学年第二学期排名10/33，不在前30%以内"
    for message in (r.message("zh"), r.message("en")):
        assert message is not None and "无" not in message and "none" not in message


# ---------------------------------------------------------------------------
# The charter: articles that were missing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("elected_on", "expected"), [("2020-11-24", "pass"), ("2020-11-23", "fail")])
def test_article_12_1_representatives_term_of_one_year(charter, elected_on: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    d = charter.decision("congress").evaluate({**CONGRESS, "representatives_elected_on": elected_on})
    assert status(d, "representative_term") == expected


@pytest.mark.parametrize(
    "field", ["representatives_recommended_by_class_branches", "representatives_elected_by_department_unions"]
)
def test_article_12_1_recommended_by_class_branches_and_elected(charter, field: str) -> None:  # type: ignore[no-untyped-def]
    assert status(charter.decision("congress").evaluate(CONGRESS), "representatives_recommended_and_elected") == "pass"
    d = charter.decision("congress").evaluate({**CONGRESS, field: False})
    assert status(d, "representatives_recommended_and_elected") == "fail"


REVOCATION = {
    "id": "V",
    "member": "代表甲",
    "office": "representative",
    "date": "2022-04-01",
    "grounds": "unfit",
    "discussed_by_unit": True,
    "unit_students": 400,
    "votes_for": 201,
}


@pytest.mark.parametrize(
    ("change", "rule", "expected"),
    [
        ({}, "revocation_consent", "pass"),
        ({"votes_for": 200}, "revocation_consent", "fail"),  # exactly half is not more than half
        ({"votes_for": 401}, "revocation_counts_possible", "error"),
        ({"grounds": "absent_from_classes"}, "revocation_grounds_and_discussion", "fail"),
        ({"discussed_by_unit": False}, "revocation_grounds_and_discussion", "fail"),
        ({}, "majority", "not_applicable"),
    ],
)
def test_article_12_2_revocation_by_more_than_half_of_the_students(
    charter,
    change: dict[str, Any],
    rule: str,  # type: ignore[no-untyped-def]
    expected: str,
) -> None:
    assert status(charter.decision("removal").evaluate({**REVOCATION, **change}), rule) == expected


ORGANIZATION = {
    "id": "O",
    "name": "院学生会",
    "level": "school",
    "date": "2021-12-01",
    "presidium_count": 5,
    "departments": [
        {"name": n, "heads": 1, "members": 5} for n in ("综合事务部", "学习纪律部", "权益生活部", "文艺体育部")
    ],
    "secretaries_general": [{"name": "王胤然", "league_teacher": True}],
}


@pytest.mark.parametrize(
    ("secretaries", "one", "teacher"),
    [
        ([{"name": "甲", "league_teacher": True}], "pass", "pass"),
        ([], "fail", "pass"),
        ([{"name": "甲", "league_teacher": True}, {"name": "乙", "league_teacher": True}], "fail", "pass"),
        ([{"name": "学生", "league_teacher": False}], "pass", "fail"),
    ],
)
def test_article_18_one_secretary_general_in_principle_a_league_teacher(
    charter,
    secretaries: list[Any],
    one: str,  # type: ignore[no-untyped-def]
    teacher: str,
) -> None:
    d = charter.decision("organization").evaluate({**ORGANIZATION, "secretaries_general": secretaries})
    assert (status(d, "one_secretary_general"), status(d, "secretary_general_league_teacher")) == (one, teacher)
    waived = {
        **ORGANIZATION,
        "secretaries_general": secretaries,
        "waivers": [
            {
                "rule": "secretary_general_league_teacher",
                "reason": "暂代",
                "approved_by": "学院团委",
                "date": "2021-11-20",
            }
        ],
    }
    if teacher == "fail":  # 原则上: an approved exception
        assert status(charter.decision("organization").evaluate(waived), "secretary_general_league_teacher") == "waived"


DEPARTMENT_ORG = {
    "id": "D",
    "name": "管弦系学生会",
    "level": "department",
    "date": "2021-12-01",
    "presidium_count": 3,
    "staff_count": 20,
    "last_congress_date": "2021-03-10",
    "presidium_elected_democratically": True,
    "party_branch_consented": True,
    "filed_with_school_union": True,
    "reports_each_semester": True,
    "congress_approved_by_party_branch": True,
    "congress_approved_by_school_union": True,
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, "pass"),
        ({"congress_approved_by_party_branch": False}, "fail"),
        ({"congress_approved_by_school_union": False}, "fail"),
        ({"last_congress_date": None}, "not_applicable"),
    ],
)
def test_article_28_congress_approved_by_the_party_branch_and_the_school_union(
    charter,
    change: dict[str, Any],  # type: ignore[no-untyped-def]
    expected: str,
) -> None:
    d = charter.decision("organization").evaluate({**DEPARTMENT_ORG, **change})
    assert status(d, "department_congress_approved") == expected


# ---------------------------------------------------------------------------
# 第二十三条: 半数通过, one reading kept, both outcomes shown
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "present", "votes", "expected"),
    [
        (4, 4, 2, "fail"),  # exactly half: passes only under the reading not adopted (半数以上)
        (4, 4, 3, "pass"),
        (5, 3, 2, "fail"),  # a majority of those present only: passes only on the base not adopted
        (5, 3, 3, "pass"),
    ],
)
def test_removal_reading_of_half(charter, members: int, present: int, votes: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    d = charter.decision("removal").evaluate(
        {**REMOVAL, "presidium_members": members, "present": present, "votes_for": votes}
    )
    assert status(d, "majority") == expected


def test_removal_note_explains_the_reading_and_names_the_examples(charter) -> None:  # type: ignore[no-untyped-def]
    spec = next(r for r in charter.decision("removal").spec.rules if r.id == "majority")
    assert spec.note is not None
    names = {ex.name for ex in charter.book.examples}
    for lang in ("zh", "en"):
        note = spec.note.get(lang)
        for example in ("removal-exactly-half-fails", "removal-majority-of-those-present-only"):
            assert example in note and example in names
    assert "半数以上" in spec.note.zh and "出席" in spec.note.zh


# ---------------------------------------------------------------------------
# The rulebooks themselves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [CHECKLIST, CHARTER])
def test_examples_pass_and_cover_every_rule(name: str) -> None:
    book = Registry.default().load(name)
    results = run_examples(book)
    assert [(r.example.name, r.mismatches) for r in results if not r.ok] == []
    assert rule_coverage(book, results).percent == 100.0
    data_rules = [r for d in book.decisions.values() for r in d.rules if r.spec.is_data]
    assert data_rules, "the data checks are rules of kind data"
    for rule in data_rules:
        assert rule.spec.note is not None, rule.spec.id


@pytest.mark.parametrize("path", ["reform-checklist.yaml", "charter.yaml"])
def test_sources_are_cited_by_title_body_and_date(path: str) -> None:
    text = (BOOKS / path).read_text(encoding="utf-8")
    assert "seeds" not in text and "002_" not in text
    head = text.split("\nrulebook:")[0]
    assert "《哈尔滨音乐学院学生会改革情况》" in head and "哈尔滨音乐学院" in head and "截至2021年11月" in head
    book = yaml.safe_load(text)
    assert "file" not in book["source"]
    assert "截至2021年11月" in book["source"]["title"] and book["source"]["issued_by"]


def test_the_charter_stays_a_draft(charter) -> None:  # type: ignore[no-untyped-def]
    assert charter.book.status == "draft"


def test_the_doc_page_shows_the_patterns_as_written() -> None:
    from engine.tools.docgen import render_doc

    book = Registry.default().load(CHECKLIST)
    pattern = next(p.value for p in book.book.parameters if p.name == "party_member_pattern")
    page = render_doc(book, "markdown", "zh")
    assert "`" + pattern.replace("|", "\\|") + "`" in page  # a code span: no `*` read as emphasis
    assert "<code>" + pattern + "</code>" in render_doc(book, "html", "zh")
