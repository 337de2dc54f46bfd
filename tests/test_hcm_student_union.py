"""The Harbin Conservatory of Music student-union rulebooks against the report they encode.

Source: 《哈尔滨音乐学院学生会改革情况》, published by the Harbin Conservatory of Music
and dated 截至2021年11月 (its self-assessment tables, the draft charter of part 二 and
the roster of part 四).

* ``hcm-student-union/reform-checklist`` run on ``examples/hcm-2021/school-union.json``
  reproduces the conservatory's own self-assessment item by item, including
  item 8 = 否, which it reaches from the raw rankings of section 四, and its
  message names the staff outside the top 30%;
* the four department-level unions meet all 13 items, as the report says;
* the freshman boundary is 1 September;
* the draft charter ``hcm-student-union/charter`` decides a few records of each
  of its five decisions, and is only reachable with its version (a draft);
* one CLI run; the record schemas are valid and every data file and embedded
  example record conforms to them.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

import engine
from engine.cli import main
from engine.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "hcm-2021"
SCHEMAS = ROOT / "schemas" / "records"
CHECKLIST = "hcm-student-union/reform-checklist"
CHARTER_VERSION = "2021-11"
CHARTER = f"hcm-student-union/charter@{CHARTER_VERSION}"

# 一、改革自评表, 校级: the conservatory's answer to each item (是 -> pass, 否 -> fail).
SCHOOL_REPORT = {
    1: "pass",
    2: "pass",
    3: "pass",
    4: "pass",
    5: "pass",
    6: "pass",
    7: "pass",
    8: "fail",
    9: "pass",
    10: "pass",
    11: "pass",
    12: "pass",
    13: "pass",
    14: "pass",
    15: "pass",
    16: "pass",
    17: "pass",
}
# 二级, 具体情况: every one of the four unions meets every item (是 in every cell).
DEPARTMENT_UNIONS = ["声歌系民声系学生会", "管弦系学生会", "民乐系钢琴系学生会", "音乐学系学生会"]

# Section 四: the staff outside the top 30% of their major, with their rank/cohort.
OUTSIDE_TOP_30 = {"佟若源": "16/33", "李安文": "19/33", "王一龙": "8/24", "史仟伊": "10/27"}
INSIDE_TOP_30 = ["马怡佳", "唐浩栋", "孟欣", "杨涵"]


def _school_record() -> dict[str, Any]:
    return json.loads((DATA / "school-union.json").read_text(encoding="utf-8"))


def _department_records() -> list[dict[str, Any]]:
    lines = (DATA / "department-unions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def checklist() -> engine.evaluate.CompiledRulebook:
    return Registry.default().load(CHECKLIST)


@pytest.fixture(scope="module")
def charter() -> engine.evaluate.CompiledRulebook:
    return Registry.default().load(CHARTER)


# ---------------------------------------------------------------------------
# The school-level union: the report's self-assessment, item by item
# ---------------------------------------------------------------------------


def test_school_union_reproduces_the_report_item_by_item(checklist) -> None:  # type: ignore[no-untyped-def]
    decision = checklist.decision("school-union").evaluate(_school_record())
    by_item: dict[int, list[str]] = {}
    for r in decision.rules:
        assert r.spec.cite == f"校级第{r.spec.article}项"
        if r.spec.is_data:  # the record's own consistency: the conservatory's record holds together
            assert str(r.status) == "pass", r.id
            continue
        by_item.setdefault(r.spec.article, []).append(str(r.status))
    assert sorted(by_item) == list(range(1, 18)), "one rule per checklist item 1-17"
    got = {item: statuses[0] for item, statuses in by_item.items() if len(statuses) == 1}
    assert got == SCHOOL_REPORT
    assert str(decision.outcome) == "fail"


def test_item_8_message_names_the_staff_outside_the_top_30_percent(checklist) -> None:  # type: ignore[no-untyped-def]
    decision = checklist.decision("school-union").evaluate(_school_record())
    item8 = decision.rule("academic_standard")
    assert item8 is not None and str(item8.status) == "fail"
    zh, en = item8.message("zh"), item8.message("en")
    assert zh is not None and en is not None
    assert zh.startswith("4名工作人员不符合学业要求")
    for name, rank in OUTSIDE_TOP_30.items():
        assert f"{name}（排名{rank}，不在本专业前30%以内）" in zh
        assert f"{name} (ranked {rank}, not in the top 30% of the major)" in en
    for name in INSIDE_TOP_30:
        assert name not in zh


def test_item_8_is_reached_from_the_ranks_not_copied(checklist) -> None:  # type: ignore[no-untyped-def]
    # Everyone moved into the top 30% (and nobody else changed): item 8 passes.
    record = _school_record()
    for s in record["staff"]:
        s["rank"] = min(s["rank"], s["cohort"] * 30 // 100)
    decision = checklist.decision("school-union").evaluate(record)
    assert str(decision.rule("academic_standard").status) == "pass"
    assert str(decision.outcome) == "pass"


def test_school_union_as_json_output(checklist) -> None:  # type: ignore[no-untyped-def]
    out = checklist.decision("school-union").evaluate(_school_record()).to_json("zh")
    assert out["rulebook"] == CHECKLIST and out["outcome"] == "fail"
    failed = [(r["id"], r["article"], r["cite"]) for r in out["rules"] if r["status"] != "pass"]
    assert failed == [("academic_standard", 8, "校级第8项")]


# ---------------------------------------------------------------------------
# The department-level unions
# ---------------------------------------------------------------------------


def test_department_unions_meet_all_13_items(checklist) -> None:  # type: ignore[no-untyped-def]
    records = _department_records()
    assert [r["name"] for r in records] == DEPARTMENT_UNIONS
    decision_spec = checklist.decision("department-union")
    for record in records:
        decision = decision_spec.evaluate(record)
        assert str(decision.outcome) == "pass", record["name"]
        items = sorted(r.spec.article for r in decision.rules if not r.spec.is_data)
        assert items == list(range(1, 14))
        assert {str(r.status) for r in decision.rules if not r.spec.is_data} == {"pass"}, record["name"]
        # no roster is published: the data checks on the roster do not apply
        assert {str(r.status) for r in decision.rules if r.spec.is_data} == {"not_applicable"}


def test_department_roster_decides_over_the_self_assessment(checklist) -> None:  # type: ignore[no-untyped-def]
    record = _department_records()[1]
    record["staff"] = [
        {
            "name": "甲",
            "role": "干事",
            "political_status": "共青团员",
            "level": "undergraduate",
            "enrollment_year": 2019,
            "rank": 16,
            "cohort": 33,
            "has_failed_course": False,
        },
    ]
    decision = checklist.decision("department-union").evaluate(record)
    item7 = decision.rule("academic_standard")
    assert str(item7.status) == "fail"
    assert "甲（排名16/33" in (item7.message("zh") or "")


# ---------------------------------------------------------------------------
# Freshmen: the academic year starts on 1 September
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report_date", "expected"),
    [
        ("2021-08-31", "pass"),  # 2020 academic year: a 2020 student is still a freshman
        ("2021-09-01", "fail"),  # 2021 academic year: no longer a freshman, 20/30 is outside the top 30%
        ("2022-08-31", "fail"),
        ("2020-09-01", "pass"),
    ],
)
def test_freshman_boundary_is_1_september(checklist, report_date: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    record = _school_record()
    record["report_date"] = report_date
    record["staff"] = [
        {
            "name": "何畅",
            "role": "干事",
            "political_status": "共青团员",
            "department": "管弦系",
            "level": "undergraduate",
            "enrollment_year": 2020,
            "rank": 20,
            "cohort": 30,
            "has_failed_course": False,
        }
    ]
    decision = checklist.decision("school-union").evaluate(record)
    assert str(decision.rule("academic_standard").status) == expected


def test_graduate_freshman_is_still_checked_for_failed_courses(checklist) -> None:  # type: ignore[no-untyped-def]
    record = _school_record()
    record["staff"] = [
        {
            "name": "研一",
            "role": "干事",
            "political_status": "共青团员",
            "level": "graduate",
            "enrollment_year": 2021,
            "has_failed_course": True,
        }
    ]
    item8 = checklist.decision("school-union").evaluate(record).rule("academic_standard")
    assert str(item8.status) == "fail"
    assert "研一（有课业不及格）" in (item8.message("zh") or "")


# ---------------------------------------------------------------------------
# The draft charter
# ---------------------------------------------------------------------------


def test_charter_is_a_draft_reachable_only_with_its_version(charter) -> None:  # type: ignore[no-untyped-def]
    reg = Registry.default()
    assert charter.book.status == "draft"
    with pytest.raises(engine.UsageError):
        reg.find("hcm-student-union/charter")
    assert reg.find(CHARTER).version == CHARTER_VERSION
    assert set(charter.decisions) == {"congress", "cadre", "organization", "election", "removal"}


CONGRESS = {
    "id": "T-CG",
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
    ("change", "rule", "expected"),
    [
        ({}, "quorum", "pass"),  # 100 of 150: exactly two thirds
        ({"attending_representatives": 99}, "quorum", "fail"),
        (
            {"elected_representatives": 20, "attending_representatives": 14, "non_cadre_representatives": 12},
            "representation_ratio",
            "pass",
        ),  # 20 of 2000: exactly 1%
        ({"elected_representatives": 19, "attending_representatives": 19}, "representation_ratio", "fail"),
        ({"non_cadre_representatives": 89}, "non_cadre_share", "fail"),  # 89 of 150 < 60%
        (
            {"electoral_units": [{"name": "民乐系", "students": 400, "grassroots_attendees": 79}]},
            "grassroots_congresses",
            "fail",
        ),  # 79 of 400 < 20%
        ({}, "held_yearly", "not_applicable"),  # first congress
        ({"previous_congress_date": "2020-11-24"}, "held_yearly", "pass"),
        ({"previous_congress_date": "2020-11-23"}, "held_yearly", "fail"),
    ],
)
def test_congress(charter, change: dict[str, Any], rule: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    decision = charter.decision("congress").evaluate({**CONGRESS, **change})
    assert str(decision.rule(rule).status) == expected


ELECTION = {
    "id": "T-EL",
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


@pytest.mark.parametrize(("candidates", "expected"), [(7, "pass"), (6, "pass"), (5, "fail")])
def test_presidium_margin_of_20_percent_is_inclusive(charter, candidates: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    decision = charter.decision("election").evaluate({**ELECTION, "candidates": candidates})
    assert str(decision.rule("margin").status) == expected


def test_first_presidium_election_of_section_5(charter) -> None:  # type: ignore[no-untyped-def]
    record = json.loads((DATA / "presidium-election.json").read_text(encoding="utf-8"))
    decision = charter.decision("election").evaluate(record)
    statuses = {r.id: str(r.status) for r in decision.rules}
    assert statuses["margin"] == "pass" and statuses["secret_ballot"] == "pass"
    assert statuses["presidium_seats"] == "pass"
    # Elected at the committee's plenary meeting, not by the congress (第十九条).
    assert statuses["elected_by_congress"] == "fail"
    assert statuses["results_announced"] == statuses["candidates_confirmed"] == "error"
    assert str(decision.outcome) == "fail"


@pytest.mark.parametrize(
    ("members", "votes", "expected"), [(5, 3, "pass"), (4, 2, "fail"), (4, 3, "pass"), (5, 2, "fail")]
)
def test_removal_needs_more_than_half_of_the_presidium(charter, members: int, votes: int, expected: str) -> None:  # type: ignore[no-untyped-def]
    record = {
        "id": "T-RM",
        "member": "甲",
        "date": "2022-03-15",
        "requested_by": "self",
        "written_request": True,
        "presidium_members": members,
        "present": members,
        "votes_for": votes,
    }
    assert str(charter.decision("removal").evaluate(record).rule("majority").status) == expected


CADRE = {
    "id": "T-CD",
    "name": "乙",
    "position": "presidium",
    "political_status": "共青团员",
    "office_start": "2021-11-24",
    "result_publicized": True,
    "semesters": [
        {"rank": 3, "cohort": 10, "has_failed_course": False},
        {"rank": 9, "cohort": 30, "has_failed_course": False},
    ],
}


def test_cadre_rankings_and_the_outstanding_contribution_waiver(charter) -> None:  # type: ignore[no-untyped-def]
    cadre = charter.decision("cadre")
    assert str(cadre.evaluate(CADRE).outcome) == "pass"  # exactly 30% twice
    low = copy.deepcopy(CADRE)
    low["semesters"][1]["rank"] = 12  # 12/30 = 40%
    assert str(cadre.evaluate(low).rule("ranking").status) == "fail"
    low["position"] = "department"  # within 50% for a department member
    assert str(cadre.evaluate(low).rule("ranking").status) == "pass"
    low["position"] = "presidium"
    low["waivers"] = [{"rule": "ranking", "reason": "有突出贡献", "approved_by": "学院团委", "date": "2021-11-20"}]
    decision = cadre.evaluate(low)
    assert str(decision.rule("ranking").status) == "waived"
    assert str(decision.outcome) == "pass"


def test_organization_department_union_of_20_to_30_staff(charter) -> None:  # type: ignore[no-untyped-def]
    base = {
        "id": "T-OR",
        "name": "管弦系学生会",
        "level": "department",
        "date": "2021-12-01",
        "presidium_count": 3,
        "last_congress_date": "2021-03-10",
        "presidium_elected_democratically": True,
        "party_branch_consented": True,
        "filed_with_school_union": True,
        "reports_each_semester": True,
    }
    org = charter.decision("organization")
    got = {
        n: str(org.evaluate({**base, "staff_count": n}).rule("department_staff_range").status) for n in (19, 20, 30, 31)
    }
    assert got == {19: "fail", 20: "pass", 30: "pass", 31: "fail"}
    assert str(org.evaluate({**base, "staff_count": 25, "presidium_count": 4}).outcome) == "fail"
    assert str(org.evaluate({**base, "staff_count": 25}).rule("four_departments").status) == "not_applicable"


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_cli_check_school_union_json() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "check",
            CHECKLIST,
            str(DATA / "school-union.json"),
            "--decision",
            "school-union",
            "--format",
            "json",
            "--lang",
            "en",
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 1  # the record does not pass (item 8)
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1
    line = lines[0]
    assert (line["rulebook"], line["decision"], line["record"], line["outcome"]) == (
        CHECKLIST,
        "school-union",
        "HCM-SU-2021-11",
        "fail",
    )
    assert line["as_of"] == "2021-11-01"
    data_checks = {
        r.spec.id for r in Registry.default().load(CHECKLIST).decision("school-union").rules if r.spec.is_data
    }
    assert data_checks == {"presidium_count_matches_roster", "ranks_possible"}
    statuses = {r["article"]: r["status"] for r in line["rules"] if r["id"] not in data_checks}
    assert statuses == SCHOOL_REPORT
    assert {r["status"] for r in line["rules"] if r["id"] in data_checks} == {"pass"}
    assert "1 record:" in err.getvalue()


def test_cli_check_department_unions_pass() -> None:
    code = main(
        [
            "check",
            CHECKLIST,
            str(DATA / "department-unions.jsonl"),
            "--decision",
            "department-union",
            "--format",
            "json",
        ],
        stdout=(out := io.StringIO()),
        stderr=io.StringIO(),
    )
    assert code == 0
    assert [json.loads(line)["outcome"] for line in out.getvalue().splitlines()] == ["pass"] * 4


# ---------------------------------------------------------------------------
# Record schemas, data files and embedded example records
# ---------------------------------------------------------------------------

KINDS = ("school-union", "department-union", "congress", "cadre", "organization", "election", "removal")


def _schema(kind: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))


def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(_schema(kind), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _iso(value: Any) -> Any:
    import datetime

    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def _properties(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found.extend((f"{path}/{p}", sub) for p, sub in value.items() if isinstance(sub, dict))
            found.extend(_properties(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_properties(value, f"{path}/{i}"))
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_record_schema_is_valid_and_described(kind: str) -> None:
    schema = _schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://rulebook-engine.example/schemas/records/{kind}.schema.json"
    Draft202012Validator.check_schema(schema)
    assert [where for where, sub in _properties(schema) if not sub.get("description")] == []
    for name, sub in schema["properties"].items():  # every default is a valid value of its property
        if "default" in sub:
            assert list(Draft202012Validator(sub).iter_errors(sub["default"])) == [], name


def test_data_files_conform_to_their_schemas() -> None:
    assert list(_validator("school-union").iter_errors(_school_record())) == []
    for record in _department_records():
        assert list(_validator("department-union").iter_errors(record)) == []
    election = json.loads((DATA / "presidium-election.json").read_text(encoding="utf-8"))
    assert list(_validator("election").iter_errors(election)) == []


@pytest.mark.parametrize("path", ["reform-checklist.yaml", "charter.yaml"])
def test_embedded_example_records_conform_to_their_schemas(path: str) -> None:
    book = _iso(yaml.safe_load((ROOT / "rulebooks" / "hcm-student-union" / path).read_text(encoding="utf-8")))
    kinds = {name: d["record"] for name, d in book["decisions"].items()}
    for example in book["examples"]:
        errors = list(_validator(kinds[example["decision"]]).iter_errors(example["record"]))
        assert errors == [], (example["name"], [e.message for e in errors])
