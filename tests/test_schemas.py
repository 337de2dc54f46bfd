"""The published JSON Schemas, and the bundled data that must conform to them.

Covers ``schemas/rulebook.schema.json``, ``schemas/decision-output.schema.json``
and ``schemas/records/applicant.schema.json``:

* each is a valid draft 2020-12 schema;
* the bundled rulebook ``rulebooks/hlj-musicians/membership.yaml`` validates,
  and a table of broken fragments of it is rejected at the right place;
* every example record of the rulebook and every line of
  ``examples/applicants.jsonl`` validates as an applicant, except the ones
  deliberately missing a field, which fail for exactly that reason;
* decision output lines as CONTRACT.md describes them validate, and broken
  ones do not.

A last section checks what a schema cannot express about the bundled rulebook
(every rule both passes and fails in some example, placeholders and names refer
to something), without the engine.

YAML is read here with ``yaml.safe_load``, which turns unquoted dates into
``datetime.date``; the engine's loader keeps them as text, so they are turned
back into ISO strings before validating.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
RULEBOOK_FILE = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
APPLICANTS_FILE = ROOT / "examples" / "applicants.jsonl"

SCHEMA_FILES = (
    "rulebook.schema.json",
    "decision-output.schema.json",
    "records/applicant.schema.json",
)

# Records that deliberately lack a required field (so that a rule becomes
# `error` and the decision `indeterminate`): name or id -> the missing field.
MISSING_FIELD_EXAMPLES = {"missing-birth-date-is-error": "birth_date"}
MISSING_FIELD_APPLICANTS = {"A-0020": "birth_date"}


def _iso(value: Any) -> Any:
    """``value`` with every date turned into its ISO string, recursively."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _iso(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_iso(item) for item in value]
    return value


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(name: str, instance: Any) -> list[Any]:
    return sorted(_validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))


def _describe(errors: list[Any]) -> str:
    return "\n".join(f"{list(e.absolute_path)} [{e.validator}] {e.message}" for e in errors)


@pytest.fixture(scope="module")
def rulebook() -> dict[str, Any]:
    return _iso(yaml.safe_load(RULEBOOK_FILE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def admission(rulebook: dict[str, Any]) -> dict[str, Any]:
    return rulebook["decisions"]["admission"]


def _applicants() -> list[dict[str, Any]]:
    lines = APPLICANTS_FILE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _examples() -> list[dict[str, Any]]:
    return _iso(yaml.safe_load(RULEBOOK_FILE.read_text(encoding="utf-8")))["examples"]


# ---------------------------------------------------------------------------
# The schemas themselves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = _schema(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://rulebook-engine.example/schemas/{name}"
    assert schema["title"]
    Draft202012Validator.check_schema(schema)


def _property_schemas(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema found under a ``properties`` keyword, with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "if":
                continue  # conditions of if/then/else, not properties a user sees
            if key == "properties" and isinstance(value, dict):
                found.extend((f"{path}/properties/{prop}", sub) for prop, sub in value.items() if isinstance(sub, dict))
            found.extend(_property_schemas(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_property_schemas(value, f"{path}/{i}"))
    return found


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_property_has_a_description(name: str) -> None:
    # Editors show `description` as hover text (YAML language server).
    missing = [where for where, sub in _property_schemas(_schema(name)) if not sub.get("description")]
    assert missing == []


def test_rulebook_schema_refuses_unknown_keys_everywhere() -> None:
    """Every object schema of the rulebook format closes its key set."""
    open_objects = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "additionalProperties" not in node:
                open_objects.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(_schema("rulebook.schema.json"), "")
    assert open_objects == []


# ---------------------------------------------------------------------------
# The bundled rulebook against rulebook.schema.json
# ---------------------------------------------------------------------------


def test_bundled_rulebook_validates(rulebook: dict[str, Any]) -> None:
    errors = _errors("rulebook.schema.json", rulebook)
    assert errors == [], _describe(errors)


def test_bundled_rulebook_names_its_schema_on_the_first_line() -> None:
    # by its stable id, not by a path that breaks when the file is copied (editors get the
    # installed file from `rulebook schema --install`)
    first = RULEBOOK_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# Format: https://rulebook-engine.example/schemas/rulebook.schema.json ")
    assert json.loads((SCHEMAS / "rulebook.schema.json").read_text(encoding="utf-8"))["$id"] in first


def _rule(book: dict[str, Any], rule_id: str = "adult") -> dict[str, Any]:
    rules = book["decisions"]["admission"]["rules"]
    return next(r for r in rules if r["id"] == rule_id)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(book: dict[str, Any]) -> None:
        node = book
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _rename(path: tuple[Any, ...], old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(book: dict[str, Any]) -> None:
        node = book
        for key in path:
            node = node[key]
        node[new] = node.pop(old)

    return mutate


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(book: dict[str, Any]) -> None:
        node = book
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


RULES = ("decisions", "admission", "rules")
ADULT = (*RULES, 2)  # `adult` is the third rule
FIRST_EXAMPLE = ("examples", 0)

# (case id, mutation, (instance path of the expected error, validator keyword))
BROKEN = [
    ("misspelt-top-level-key", _rename((), "effective_from", "efective_from"), ((), "additionalProperties")),
    ("misspelt-rule-key", _rename(ADULT, "require", "requires"), (ADULT, "additionalProperties")),
    (
        "misspelt-parameter-key",
        _rename(("parameters", "min_age"), "value", "vaule"),
        (("parameters", "min_age"), "additionalProperties"),
    ),
    (
        "misspelt-decision-key",
        _rename(("decisions", "admission"), "values", "value"),
        (("decisions", "admission"), "additionalProperties"),
    ),
    ("misspelt-source-key", _rename(("source",), "issued_by", "issuer"), (("source",), "additionalProperties")),
    (
        "misspelt-expect-key",
        _rename((*FIRST_EXAMPLE, "expect"), "rules", "rule"),
        ((*FIRST_EXAMPLE, "expect"), "additionalProperties"),
    ),
    ("bad-status", _set(("status",), "in-force"), (("status",), "enum")),
    ("bad-format-version", _set(("rulebook",), 2), (("rulebook",), "const")),
    ("bad-rulebook-id", _set(("id",), "HLJ/membership"), (("id",), "pattern")),
    ("rulebook-id-without-owner", _set(("id",), "membership"), (("id",), "pattern")),
    ("version-not-a-string", _set(("version",), 2022), (("version",), "type")),
    ("bad-date", _set(("effective_from",), "2022/04/15"), (("effective_from",), "pattern")),
    ("full-width-digits-in-date", _set(("effective_from",), "２０２２-04-15"), (("effective_from",), "pattern")),
    ("bad-supersedes", _set(("supersedes",), ["hlj-musicians/membership"]), (("supersedes", 0), "pattern")),
    ("bad-rule-id-uppercase", _set((*ADULT, "id"), "Adult"), ((*ADULT, "id"), "pattern")),
    ("bad-rule-id-dash", _set((*ADULT, "id"), "adult-age"), ((*ADULT, "id"), "pattern")),
    ("bad-rule-id-digit-first", _set((*ADULT, "id"), "18plus"), ((*ADULT, "id"), "pattern")),
    ("article-as-string", _set((*ADULT, "article"), "12"), ((*ADULT, "article"), "type")),
    ("item-as-string", _set((*ADULT, "item"), "1"), ((*ADULT, "item"), "anyOf")),
    ("bad-severity", _set((*ADULT, "severity"), "fatal"), ((*ADULT, "severity"), "enum")),
    ("waivable-not-boolean", _set((*ADULT, "waivable"), "no"), ((*ADULT, "waivable"), "type")),
    ("missing-require", _delete((*ADULT, "require")), (ADULT, "required")),
    ("missing-message-en", _delete((*ADULT, "message", "en")), ((*ADULT, "message"), "required")),
    ("missing-note-zh", _delete((*ADULT, "note", "zh")), ((*ADULT, "note"), "required")),
    ("extra-language", _set((*ADULT, "message", "fr"), "…"), ((*ADULT, "message"), "additionalProperties")),
    ("message-as-string", _set((*ADULT, "message"), "未满18周岁"), ((*ADULT, "message"), "type")),
    ("empty-require", _set((*ADULT, "require"), ""), ((*ADULT, "require"), "minLength")),
    ("require-not-an-expression", _set((*ADULT, "require"), True), ((*ADULT, "require"), "type")),
    ("bad-rule-value-name", _set((*ADULT, "values"), {"Age": "1"}), ((*ADULT, "values"), "pattern")),
    ("bad-parameter-name", _set(("parameters", "MinAge"), {"value": 18}), (("parameters",), "pattern")),
    (
        "parameter-value-object",
        _set(("parameters", "min_age", "value"), {"years": 18}),
        (("parameters", "min_age", "value"), "anyOf"),
    ),
    (
        "bad-decision-name",
        _set(("decisions", "member_status"), {"record": "member", "rules": []}),
        (("decisions",), "pattern"),
    ),
    ("no-rules", _set((*RULES,), []), (RULES, "minItems")),
    (
        "bad-output-key",
        _set(("decisions", "admission", "outputs", "reapply_not_before", "if"), "true"),
        (("decisions", "admission", "outputs", "reapply_not_before"), "anyOf"),
    ),
    (
        "output-without-value",
        _delete(("decisions", "admission", "outputs", "reapply_not_before", "value")),
        (("decisions", "admission", "outputs", "reapply_not_before"), "anyOf"),
    ),
    ("missing-decisions", _delete(("decisions",)), ((), "required")),
    (
        "bad-expected-status",
        _set((*FIRST_EXAMPLE, "expect", "rules", "adult"), "passed"),
        ((*FIRST_EXAMPLE, "expect", "rules", "adult"), "enum"),
    ),
    (
        "bad-expected-outcome",
        _set((*FIRST_EXAMPLE, "expect", "outcome"), "error"),
        ((*FIRST_EXAMPLE, "expect", "outcome"), "enum"),
    ),
    ("bad-example-as-of", _set((*FIRST_EXAMPLE, "as_of"), "2026-3-1"), ((*FIRST_EXAMPLE, "as_of"), "pattern")),
    ("example-without-record", _delete((*FIRST_EXAMPLE, "record")), (FIRST_EXAMPLE, "required")),
]


@pytest.mark.parametrize(("mutate", "expected"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_rulebook_is_rejected(
    rulebook: dict[str, Any],
    mutate: Callable[[dict[str, Any]], None],
    expected: tuple[tuple[Any, ...], str],
) -> None:
    # GIVEN the bundled rulebook with one mistake in it
    book = copy.deepcopy(rulebook)
    mutate(book)
    # WHEN it is validated
    errors = _errors("rulebook.schema.json", book)
    # THEN it is rejected, at the place of the mistake, for the right reason
    path, keyword = expected
    assert (path, keyword) in {(tuple(e.absolute_path), e.validator) for e in errors}, _describe(errors)


def test_rule_item_and_effective_until_may_be_null(rulebook: dict[str, Any]) -> None:
    book = copy.deepcopy(rulebook)
    book["effective_until"] = None
    assert _rule(book)["item"] is None
    assert _errors("rulebook.schema.json", book) == []


def test_output_may_be_a_bare_expression(rulebook: dict[str, Any]) -> None:
    book = copy.deepcopy(rulebook)
    book["decisions"]["admission"]["outputs"]["eligible"] = "size(reapply_dates) == 0"
    assert _errors("rulebook.schema.json", book) == []


# ---------------------------------------------------------------------------
# Applicant records
# ---------------------------------------------------------------------------


def test_applicant_defaults_say_absent_means_none() -> None:
    props = _schema("records/applicant.schema.json")["properties"]
    defaults = {name: sub["default"] for name, sub in props.items() if "default" in sub}
    assert defaults == {
        "new_music_influence": False,
        "introducers": [],
        "recommender": None,
        "music_work_start_date": None,
        "professional_title": None,
        "awards": [],
        "degrees": [],
        "event_participations": 0,
        "history": [],
        "waivers": [],
    }
    # Each default is itself a valid value of its property.
    for name, value in defaults.items():
        errors = list(Draft202012Validator(props[name]).iter_errors(value))
        assert errors == [], (name, _describe(errors))


def test_applicant_required_fields() -> None:
    schema = _schema("records/applicant.schema.json")
    assert set(schema["required"]) == {
        "id",
        "name",
        "citizenship",
        "province",
        "birth_date",
        "application_date",
        "occupations",
        "accepts_charter",
        "self_applied",
    }
    assert schema["additionalProperties"] is True


def test_applicant_dates_are_format_date() -> None:
    props = _schema("records/applicant.schema.json")["properties"]
    for name in ("birth_date", "application_date", "music_work_start_date"):
        assert props[name]["format"] == "date"
    assert props["history"]["items"]["properties"]["date"]["format"] == "date"
    assert props["waivers"]["items"]["properties"]["date"]["format"] == "date"


def _example_cases() -> list[Any]:
    return [pytest.param(e["name"], e["record"], id=e["name"]) for e in _examples() if e["decision"] == "admission"]


@pytest.mark.parametrize(("name", "record"), _example_cases())
def test_example_record_is_an_applicant(name: str, record: dict[str, Any]) -> None:
    errors = _errors("records/applicant.schema.json", record)
    if name in MISSING_FIELD_EXAMPLES:
        missing = MISSING_FIELD_EXAMPLES[name]
        assert [(e.validator, list(e.absolute_path)) for e in errors] == [("required", [])]
        assert f"'{missing}' is a required property" in errors[0].message
    else:
        assert errors == [], _describe(errors)


def _applicant_cases() -> list[Any]:
    return [pytest.param(r["id"], r, id=r["id"]) for r in _applicants()]


@pytest.mark.parametrize(("record_id", "record"), _applicant_cases())
def test_sample_applicant_is_an_applicant(record_id: str, record: dict[str, Any]) -> None:
    errors = _errors("records/applicant.schema.json", record)
    if record_id in MISSING_FIELD_APPLICANTS:
        missing = MISSING_FIELD_APPLICANTS[record_id]
        assert [(e.validator, list(e.absolute_path)) for e in errors] == [("required", [])]
        assert f"'{missing}' is a required property" in errors[0].message
    else:
        assert errors == [], _describe(errors)


def test_sample_applicants_have_unique_ids() -> None:
    ids = [r["id"] for r in _applicants()]
    assert len(ids) == len(set(ids)) >= 20
    assert all(re.fullmatch(r"A-\d{4}", i) for i in ids)


BASE_APPLICANT = {
    "id": "T-1",
    "name": "测试",
    "citizenship": "CN",
    "province": "黑龙江",
    "birth_date": "1990-01-01",
    "application_date": "2026-03-01",
    "occupations": ["作曲"],
    "accepts_charter": True,
    "self_applied": True,
}

BAD_APPLICANTS = [
    ("bad-birth-date", {"birth_date": "1990-02-30"}, (("birth_date",), "format")),
    ("birth-date-not-iso", {"birth_date": "1990/01/01"}, (("birth_date",), "format")),
    ("lowercase-citizenship", {"citizenship": "cn"}, (("citizenship",), "pattern")),
    ("occupations-as-string", {"occupations": "作曲"}, (("occupations",), "type")),
    ("charter-as-string", {"accepts_charter": "yes"}, (("accepts_charter",), "type")),
    ("recommender-without-kind", {"recommender": {"name": "某单位"}}, (("recommender",), "required")),
    (
        "bad-award-level",
        {"awards": [{"level": "city", "grade": 1, "government": True}]},
        (("awards", 0, "level"), "enum"),
    ),
    ("award-without-government", {"awards": [{"level": "provincial", "grade": 1}]}, (("awards", 0), "required")),
    ("bad-degree-level", {"degrees": [{"level": "phd", "field": "music"}]}, (("degrees", 0, "level"), "enum")),
    ("negative-participations", {"event_participations": -1}, (("event_participations",), "minimum")),
    (
        "history-bad-date",
        {"history": [{"event": "withdrawal", "date": "2024-13-01"}]},
        (("history", 0, "date"), "format"),
    ),
    ("introducer-without-flag", {"introducers": [{"member_id": "M-1"}]}, (("introducers", 0), "required")),
    (
        "waiver-without-reason",
        {"waivers": [{"rule": "qualification", "approved_by": "主席团", "date": "2026-01-01"}]},
        (("waivers", 0), "required"),
    ),
]


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in BAD_APPLICANTS], ids=[c[0] for c in BAD_APPLICANTS])
def test_bad_applicant_is_rejected(change: dict[str, Any], expected: tuple[tuple[Any, ...], str]) -> None:
    errors = _errors("records/applicant.schema.json", {**BASE_APPLICANT, **change})
    path, keyword = expected
    assert (path, keyword) in {(tuple(e.absolute_path), e.validator) for e in errors}, _describe(errors)


def test_applicant_accepts_nulls_unknown_fields_and_unknown_kinds() -> None:
    record = {
        **BASE_APPLICANT,
        "recommender": None,
        "music_work_start_date": None,
        "professional_title": "无",
        "unit": "哈尔滨音乐学院",
        "history": [{"event": "name_change", "date": "2020-01-01"}, {"event": "reinstated", "date": "2021-01-01"}],
    }
    assert _errors("records/applicant.schema.json", record) == []
    record["recommender"] = {"kind": "individual", "name": "张教授"}
    assert _errors("records/applicant.schema.json", record) == []


# ---------------------------------------------------------------------------
# Decision output lines
# ---------------------------------------------------------------------------

CONTRACT_LINE = {
    "rulebook": "hlj-musicians/membership",
    "version": "2022-04-15",
    "decision": "admission",
    "record": "A-0001",
    "input": {"file": "applicants.jsonl", "line": 7},
    "as_of": "2026-03-01",
    "outcome": "fail",
    "rules": [
        {
            "id": "adult",
            "article": 12,
            "item": None,
            "cite": "第十二条",
            "status": "fail",
            "severity": "error",
            "message": "申请人未满18周岁（17岁）",
            "values": {"age": 17},
        },
    ],
    "outputs": {},
}

ERROR_RULE = {
    "id": "adult",
    "article": 12,
    "item": None,
    "cite": "第十二条",
    "status": "error",
    "severity": "error",
    "message": None,
    "values": {},
    "error": {"code": "eval.missing-field", "message": "the record has no `birth_date`", "path": "birth_date"},
}

WAIVED_RULE = {
    "id": "qualification",
    "article": 12,
    "item": None,
    "cite": "第十二条第1-5项",
    "status": "waived",
    "severity": "error",
    "message": "不符合第十二条第1至5项入会条件中的任何一项",
    "values": {},
    "waiver": {"reason": "有突出贡献", "approved_by": "主席团", "date": "2026-02-01"},
}

UNREADABLE_LINE = {
    "rulebook": "hlj-musicians/membership",
    "version": "2022-04-15",
    "decision": "admission",
    "record": None,
    "input": {"file": "applicants.jsonl", "line": 3},
    "as_of": None,
    "outcome": "error",
    "message": "line 3 is not valid JSON: expecting ',' delimiter at column 41",
    "rules": [],
    "outputs": {},
}


def _line(**changes: Any) -> dict[str, Any]:
    line = copy.deepcopy(CONTRACT_LINE)
    line.update(changes)
    return line


GOOD_LINES = [
    ("contract-example", CONTRACT_LINE),
    ("rule-error", _line(outcome="indeterminate", rules=[ERROR_RULE])),
    ("rule-waived", _line(outcome="pass", rules=[WAIVED_RULE])),
    ("output-date", _line(outputs={"reapply_not_before": "2027-06-30"})),
    (
        "passing-rule-without-message",
        _line(outcome="pass", rules=[{**CONTRACT_LINE["rules"][0], "status": "pass", "message": None}]),
    ),
    ("unreadable-record", UNREADABLE_LINE),
    ("unreadable-record-minimal", {k: v for k, v in UNREADABLE_LINE.items() if k not in ("rules", "outputs", "as_of")}),
]


@pytest.mark.parametrize("line", [c[1] for c in GOOD_LINES], ids=[c[0] for c in GOOD_LINES])
def test_decision_output_line_validates(line: dict[str, Any]) -> None:
    errors = _errors("decision-output.schema.json", line)
    assert errors == [], _describe(errors)


def _rule_result(**changes: Any) -> dict[str, Any]:
    rule = {**CONTRACT_LINE["rules"][0], **changes}
    return _line(rules=[rule])


BAD_LINES = [
    ("bad-outcome", _line(outcome="failed"), (("outcome",), "enum")),
    ("article-as-string", _rule_result(article="12"), (("rules", 0, "article"), "type")),
    ("bad-rule-status", _rule_result(status="passed"), (("rules", 0, "status"), "enum")),
    (
        "missing-cite",
        {**CONTRACT_LINE, "rules": [{k: v for k, v in CONTRACT_LINE["rules"][0].items() if k != "cite"}]},
        (("rules", 0), "required"),
    ),
    ("error-status-without-error", _rule_result(status="error"), (("rules", 0), "required")),
    ("error-object-on-fail", _rule_result(error=ERROR_RULE["error"]), (("rules", 0, "error"), "not")),
    ("waived-without-waiver", _rule_result(status="waived"), (("rules", 0), "required")),
    ("failed-rule-without-message", _rule_result(message=None), (("rules", 0, "message"), "type")),
    ("unknown-top-level-key", _line(trace=[]), ((), "additionalProperties")),
    ("missing-input", {k: v for k, v in CONTRACT_LINE.items() if k != "input"}, ((), "required")),
    ("line-zero", _line(input={"file": "a.jsonl", "line": 0}), (("input",), "anyOf")),
    ("bad-as-of", _line(as_of="2026/03/01"), (("as_of",), "anyOf")),
    ("decided-line-without-rules", {k: v for k, v in CONTRACT_LINE.items() if k != "rules"}, ((), "required")),
    ("unreadable-with-record-id", {**UNREADABLE_LINE, "record": "A-0003"}, (("record",), "type")),
    ("unreadable-without-message", {k: v for k, v in UNREADABLE_LINE.items() if k != "message"}, ((), "required")),
    ("unreadable-with-rules", {**UNREADABLE_LINE, "rules": CONTRACT_LINE["rules"]}, (("rules",), "maxItems")),
]


@pytest.mark.parametrize(("line", "expected"), [c[1:] for c in BAD_LINES], ids=[c[0] for c in BAD_LINES])
def test_broken_decision_output_line_is_rejected(line: dict[str, Any], expected: tuple[tuple[Any, ...], Any]) -> None:
    errors = _errors("decision-output.schema.json", line)
    path, keyword = expected
    assert (path, keyword) in {(tuple(e.absolute_path), e.validator) for e in errors}, _describe(errors)


# ---------------------------------------------------------------------------
# What the schema cannot say about the bundled rulebook
# ---------------------------------------------------------------------------

FUNCTIONS = {
    "size",
    "date",
    "years_after",
    "months_after",
    "days_after",
    "full_years",
    "working_days_after",
    "max",
    "min",
    "int",
    "string",
    "has",
    "all",
    "exists",
    "exists_one",
    "filter",
    "map",
    "distinct",
    "normalize",
}
WORDS = {"true", "false", "null", "in", "and", "or", "not", "record", "as_of"}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_NAME = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*)")
_RECORD_PATH = re.compile(r"\brecord((?:\.[a-z_][a-z0-9_]*(?![a-z0-9_(]))+)")
_MACRO_VAR = re.compile(r"\.(?:all|exists|exists_one|filter|map)\(\s*([a-z_][a-z0-9_]*)\s*,")
_PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})")


def _names(expression: str) -> set[str]:
    """Bare names used by an expression (not fields after a dot, not inside strings)."""
    return set(_NAME.findall(_STRING.sub('""', expression)))


def _rule_expressions(rule: dict[str, Any]) -> list[str]:
    return [rule[k] for k in ("when", "require") if k in rule] + list(rule.get("values", {}).values())


def test_rule_ids_and_example_names_are_unique(admission: dict[str, Any], rulebook: dict[str, Any]) -> None:
    ids = [r["id"] for r in admission["rules"]]
    assert len(ids) == len(set(ids))
    names = [e["name"] for e in rulebook["examples"]]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", n) for n in names)
    record_ids = [e["record"].get("id") for e in rulebook["examples"]]
    assert len(record_ids) == len(set(record_ids))


def test_every_rule_passes_and_fails_in_some_example(admission: dict[str, Any], rulebook: dict[str, Any]) -> None:
    seen: dict[str, set[str]] = {r["id"]: set() for r in admission["rules"]}
    for example in (e for e in rulebook["examples"] if e["decision"] == "admission"):
        for rule_id, status in example["expect"].get("rules", {}).items():
            seen[rule_id].add(status)  # KeyError: an example names an unknown rule
    missing = {
        rule_id: sorted({"pass", "fail"} - statuses)
        for rule_id, statuses in seen.items()
        if {"pass", "fail"} - statuses
    }
    assert missing == {}


def test_examples_name_only_declared_outputs(admission: dict[str, Any], rulebook: dict[str, Any]) -> None:
    for example in rulebook["examples"]:
        assert example["decision"] in rulebook["decisions"]
        declared = rulebook["decisions"][example["decision"]].get("outputs", {})
        assert set(example["expect"].get("outputs", {})) <= set(declared)


def test_expressions_use_only_known_names(admission: dict[str, Any], rulebook: dict[str, Any]) -> None:
    known = WORDS | FUNCTIONS | set(rulebook["parameters"]) | set(admission["values"])
    expressions = [admission["as_of"], *admission["values"].values()]
    for output in admission["outputs"].values():
        expressions += [output] if isinstance(output, str) else [output["value"], output.get("when", "true")]
    unknown = {}
    for rule in admission["rules"]:
        for expression in _rule_expressions(rule):
            local = known | set(rule.get("values", {})) | set(_MACRO_VAR.findall(expression))
            if _names(expression) - local:
                unknown[(rule["id"], expression)] = _names(expression) - local
    for expression in expressions:
        if _names(expression) - known - set(_MACRO_VAR.findall(expression)):
            unknown[("decision", expression)] = _names(expression) - known - set(_MACRO_VAR.findall(expression))
    assert unknown == {}


def test_record_fields_used_exist_in_the_applicant_schema(admission: dict[str, Any]) -> None:
    props = _schema("records/applicant.schema.json")["properties"]
    texts = [admission["as_of"], *admission["values"].values()]
    for rule in admission["rules"]:
        texts += _rule_expressions(rule)
    for text in texts:
        for path in _RECORD_PATH.findall(text):
            node: dict[str, Any] = {"properties": props}
            for field in path.lstrip(".").split("."):
                assert field in node.get("properties", {}), f"`record{path}` in {text!r}"
                node = node["properties"][field]


def test_message_placeholders_are_values_the_rule_saw(admission: dict[str, Any], rulebook: dict[str, Any]) -> None:
    """Each `{name}` names something the rule itself refers to.

    That is: its own values; a parameter, a decision value or `as_of` named in
    its expressions; or a record field it reads (path without `record.`).
    Stricter than the engine needs (it does not follow decision values to what
    they use), so it holds whatever the engine does.
    """
    bad = {}
    for rule in admission["rules"]:
        expressions = _rule_expressions(rule)
        seen = set(rule.get("values", {}))
        for expression in expressions:
            seen |= _names(expression) & (set(rulebook["parameters"]) | set(admission["values"]) | {"as_of"})
            seen |= {path.lstrip(".") for path in _RECORD_PATH.findall(expression)}
        for lang in ("zh", "en"):
            unknown = set(_PLACEHOLDER.findall(rule["message"][lang])) - seen
            if unknown:
                bad[(rule["id"], lang)] = unknown
    assert bad == {}


def test_every_parameter_has_a_cite_and_a_description(rulebook: dict[str, Any]) -> None:
    for name, parameter in rulebook["parameters"].items():
        assert parameter.get("cite"), name
        assert parameter.get("description", {}).get("zh"), name
        assert parameter.get("description", {}).get("en"), name
