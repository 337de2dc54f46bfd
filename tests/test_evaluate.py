"""Building rulebooks from YAML text and evaluating decisions: statuses, waivers, outcome, outputs,
messages, values, the JSON shape of CONTRACT, and positioned build errors."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine.build import build_rulebook
from engine.errors import CheckError, ConditionSyntaxError, Diagnostic, RulebookError, SchemaError
from engine.evaluate import CompiledDecision, CompiledRulebook, Decision, InputRef
from engine.lang import types as T
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionSpec, FunctionTable, Overload
from engine.model import Outcome, Status
from engine.pluginmanager import get_calendar
from engine.schemas import load_schema
from engine.source import Source

D = dt.date

THING_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "day": {"type": "string", "format": "date"},
        "due": {"type": "string", "format": "date"},
        "n": {"type": "integer"},
        "flag": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "opt": {"type": ["string", "null"], "default": None},
        "addr": {"type": "object", "properties": {"city": {"type": "string"}}},
        "waivers": {"type": "array"},
    },
}

HEADER = """\
rulebook: 1
id: t/x
version: "1"
status: in_force
effective_from: "2020-01-01"
title: {zh: 测试, en: test}
source: {title: T}
parameters:
  lim: {value: 3}
  kinds: {value: [a, b]}
decisions:
  d:
    record: %(record)s
"""


def rulebook(
    rules: str,
    *,
    values: str = "",
    outputs: str = "",
    as_of: str | None = "record.day",
    record: str = "thing.json",
    extra: str = "",
) -> str:
    text = HEADER % {"record": record}
    if as_of is not None:
        text += f"    as_of: {as_of}\n"
    if values:
        text += "    values:\n" + textwrap.indent(textwrap.dedent(values), " " * 6)
    text += "    rules:\n" + textwrap.indent(textwrap.dedent(rules), " " * 6)
    if outputs:
        text += "    outputs:\n" + textwrap.indent(textwrap.dedent(outputs), " " * 6)
    return text + extra


def build(text: str, base: Path, functions: FunctionTable | None = None) -> CompiledRulebook:
    (base / "thing.json").write_text(json.dumps(THING_SCHEMA), encoding="utf-8")
    return build_rulebook(Source("t.yaml", text), base_dir=base, functions=functions)


def position(text: str, token: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of ``token`` in ``text``."""
    i = -1
    for _ in range(nth + 1):
        i = text.index(token, i + 1)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


# -- the main test rulebook ------------------------------------------------------------------------

RULES = """\
- id: positive
  article: 1
  cite: 第一条
  require: record.n > 0
  message: {zh: "n 为 {n}，须大于 0", en: "n is {n}, must be above 0"}
- id: flagged
  article: 2
  item: 1
  cite: 第二条第1项
  when: record.flag
  require: '"a" in record.tags'
  severity: warning
  message: {zh: "标签{tags}中没有 a", en: "no a in {tags}"}
- id: due
  article: 3
  cite: 第三条
  require: record.due <= as_of
  message: {zh: "到期日{due}晚于{as_of}", en: "due {due} is after {as_of}"}
- id: big_enough
  article: 4
  item: 2
  cite: 第四条第2项
  waivable: true
  values:
    twice: record.n * 2
  require: big
  message:
    zh: "n={n}（两倍{twice}）不大于{lim}；标记{flag}；标签{tags}；可选{opt}；{{n}}"
    en: "n={n} (twice {twice}) is not above {lim}; flag {flag}; tags {tags}; opt {opt}; {{n}}"
- id: info_tags
  article: 5
  cite: 第五条
  require: size(record.tags) > 1
  severity: info
  message: {zh: "标签太少：{tags}", en: "too few tags: {tags}"}
- id: city
  article: 6
  cite: 第六条
  when: has(record.addr)
  require: record.addr.city != "X"
  message: {zh: "城市为{addr.city}", en: "the city is {addr.city}"}
"""
VALUES = """\
big: record.n > lim
"""
OUTPUTS = """\
double: record.n * 2
excess:
  when: big
  value: record.n - lim
ratio:
  value: 10 / record.n
"""
TEXT = rulebook(RULES, values=VALUES, outputs=OUTPUTS)

BASE: dict[str, Any] = {"id": "A", "day": "2024-05-01", "due": "2024-04-01", "n": 5, "flag": True, "tags": ["a", "b"]}
WAIVER = {"rule": "big_enough", "reason": "特批", "approved_by": "主席团", "date": "2024-04-20"}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> CompiledRulebook:
    return build(TEXT, tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def decision(book: CompiledRulebook) -> CompiledDecision:
    return book.decision("d")


def rec(**changes: Any) -> dict[str, Any]:
    r = dict(BASE)
    for k, v in changes.items():
        if v is ...:
            r.pop(k, None)
        else:
            r[k] = v
    return r


def statuses(d: Decision) -> dict[str, str]:
    return {r.id: str(r.status) for r in d.rules}


# -- statuses and outcome ------------------------------------------------------------------------


def test_all_pass(decision: CompiledDecision) -> None:
    d = decision.evaluate(BASE)
    assert statuses(d) == {
        "positive": "pass",
        "flagged": "pass",
        "due": "pass",
        "big_enough": "pass",
        "info_tags": "pass",
        "city": "not_applicable",
    }
    assert d.outcome == Outcome.PASS
    assert d.record_id == "A"


@pytest.mark.parametrize(
    ("changes", "rule", "status"),
    [
        ({"n": -1}, "positive", "fail"),
        ({"flag": False}, "flagged", "not_applicable"),
        ({"tags": ["b", "c"]}, "flagged", "fail"),
        ({"flag": ...}, "flagged", "error"),
        ({"due": ...}, "due", "error"),
        ({"due": "2024-05-01"}, "due", "pass"),  # on the day itself
        ({"due": "2024-05-02"}, "due", "fail"),
        ({"due": "2024-5-2"}, "due", "error"),
        ({"n": 3}, "big_enough", "fail"),
        ({"n": 3, "waivers": [WAIVER]}, "big_enough", "waived"),
        ({"n": "5"}, "positive", "error"),
        ({"addr": {"city": "Y"}}, "city", "pass"),
        ({"addr": {"city": "X"}}, "city", "fail"),
        ({"addr": {}}, "city", "error"),
    ],
)
def test_status(decision: CompiledDecision, changes: dict[str, Any], rule: str, status: str) -> None:
    r = decision.evaluate(rec(**changes)).rule(rule)
    assert r is not None
    assert str(r.status) == status
    assert (r.error is not None) == (status == "error")


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, "pass"),
        ({"n": -1}, "fail"),
        ({"due": ...}, "indeterminate"),
        ({"n": -1, "due": ...}, "fail"),  # a failure beats an error
        ({"n": 3, "due": ...}, "fail"),
        ({"tags": ["b"]}, "pass"),  # warning and info rules failing do not decide
        ({"flag": ...}, "pass"),  # a warning rule in error does not decide
        ({"tags": 5}, "pass"),  # only the warning and info rules read `tags`: their errors do not decide
        ({"n": 3}, "fail"),
        ({"n": 3, "waivers": [WAIVER]}, "pass"),
        ({"waivers": [{**WAIVER, "rule": "positive"}]}, "indeterminate"),  # not waivable
    ],
)
def test_outcome(decision: CompiledDecision, changes: dict[str, Any], outcome: str) -> None:
    assert str(decision.evaluate(rec(**changes)).outcome) == outcome


def test_error_names_the_path(decision: CompiledDecision) -> None:
    d = decision.evaluate(rec(due=...))
    r = d.rule("due")
    assert r is not None and r.error is not None
    assert (r.error.code, r.error.path) == ("eval.missing-field", "due")
    assert r.message("zh") == "记录缺少字段 `due`，无法判断"
    assert r.message("en") == "cannot decide: the record has no `due`"
    r = decision.evaluate(rec(due=20240401)).rule("due")
    assert r is not None and r.error is not None
    assert (r.error.code, r.error.path) == ("eval.wrong-type", "due")
    assert r.message("zh") is not None and r.message("zh").startswith("字段 `due` 的类型不对")  # type: ignore[union-attr]


def test_evaluate_never_raises_for_record_content(decision: CompiledDecision) -> None:
    weird: list[Any] = [
        {},
        {"id": 5},
        {"n": 2**70},
        {"n": float("nan")},
        {"tags": [None, {}]},
        {"day": None},
        {"waivers": "all"},
        {"waivers": [None, 1, {"rule": None}]},
        {"addr": []},
        {"due": "９９９９-01-01"},
    ]
    for r in weird:
        d = decision.evaluate(r)
        assert len(d.rules) == 6
        json.dumps(d.to_json("en"))


# -- waivers -------------------------------------------------------------------------------------


def test_waiver_turns_a_failure_into_waived(decision: CompiledDecision) -> None:
    d = decision.evaluate(rec(n=3, waivers=[WAIVER]))
    r = d.rule("big_enough")
    assert r is not None and r.status == Status.WAIVED and r.error is None
    assert r.waiver == WAIVER
    j = r.to_json("en")
    assert j["waiver"] == {"reason": "特批", "approved_by": "主席团", "date": "2024-04-20"}
    assert j["message"] is not None and j["message"].startswith("n=3")
    assert "error" not in j


def test_waiver_of_a_passing_rule_is_reported_unused(decision: CompiledDecision) -> None:
    d = decision.evaluate(rec(waivers=[WAIVER]))
    r = d.rule("big_enough")
    assert r is not None and r.status == Status.PASS and r.waiver_unused
    assert r.to_json()["waiver"] == {"reason": "特批", "approved_by": "主席团", "date": "2024-04-20", "unused": True}
    assert d.outcome == Outcome.PASS


def test_waiver_for_another_rule_does_not_apply(decision: CompiledDecision) -> None:
    d = decision.evaluate(rec(n=3, waivers=[{**WAIVER, "rule": "info_tags"}]))
    assert statuses(d)["big_enough"] == "fail"


def test_waiver_does_not_hide_an_error(decision: CompiledDecision) -> None:
    r = decision.evaluate(rec(n=..., waivers=[WAIVER])).rule("big_enough")
    assert r is not None and r.status == Status.ERROR
    assert r.error is not None and r.error.code == "eval.missing-field"


@pytest.mark.parametrize("n", [-1, 5], ids=["failing", "passing"])
def test_waiver_for_a_non_waivable_rule_is_an_error(decision: CompiledDecision, n: int) -> None:
    d = decision.evaluate(rec(n=n, waivers=[{**WAIVER, "rule": "positive"}]))
    r = d.rule("positive")
    assert r is not None and r.status == Status.ERROR
    assert r.error is not None and r.error.code == "eval.not-waivable"
    assert "`positive`" in r.error.message
    # with n = -1 `big_enough` fails too, and a failure beats the error
    assert d.outcome == (Outcome.FAIL if n < 0 else Outcome.INDETERMINATE)


@pytest.mark.parametrize(
    ("waiver", "missing"),
    [
        ({k: v for k, v in WAIVER.items() if k != "reason"}, "reason"),
        ({**WAIVER, "reason": ""}, "reason"),
        ({**WAIVER, "approved_by": None}, "approved_by"),
        ({k: v for k, v in WAIVER.items() if k != "date"}, "date"),
    ],
    ids=["no-reason", "empty-reason", "null-approver", "no-date"],
)
def test_incomplete_waiver_is_an_error(decision: CompiledDecision, waiver: dict[str, Any], missing: str) -> None:
    d = decision.evaluate(rec(n=3, waivers=[waiver]))
    r = d.rule("big_enough")
    assert r is not None and r.status == Status.ERROR
    assert r.error is not None and r.error.code == "eval.bad-waiver"
    assert f"`{missing}`" in r.error.message
    assert d.outcome == Outcome.INDETERMINATE


# -- outputs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "outputs", "errors"),
    [
        ({}, {"double": 10, "excess": 2, "ratio": 2}, set()),
        ({"n": 2}, {"double": 4, "ratio": 5}, set()),  # `when` false: absent
        ({"n": 0}, {"double": 0}, {"ratio"}),  # cannot be computed: absent, with the error kept
        ({"n": ...}, {}, {"double", "excess", "ratio"}),
    ],
)
def test_outputs(
    decision: CompiledDecision, changes: dict[str, Any], outputs: dict[str, Any], errors: set[str]
) -> None:
    d = decision.evaluate(rec(**changes))
    assert d.outputs == outputs
    assert set(d.output_errors) == errors
    assert d.to_json()["outputs"] == outputs


def test_output_error_says_why(decision: CompiledDecision) -> None:
    d = decision.evaluate(rec(n=0))
    assert d.output_errors["ratio"].code == "eval.division-by-zero"


# -- the evaluation date -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected", "due_status"),
    [
        (None, D(2024, 5, 1), "pass"),  # from the decision's `as_of` expression
        (D(2024, 3, 1), D(2024, 3, 1), "fail"),
        ("2024-03-01", D(2024, 3, 1), "fail"),
        ("2024-04-01", D(2024, 4, 1), "pass"),
    ],
)
def test_as_of(decision: CompiledDecision, given: Any, expected: dt.date, due_status: str) -> None:
    d = decision.evaluate(BASE, given)
    assert d.as_of == expected
    assert statuses(d)["due"] == due_status
    assert d.to_json()["as_of"] == expected.isoformat()


def test_given_as_of_does_not_need_the_record_date(decision: CompiledDecision) -> None:
    d = decision.evaluate(rec(day=...), "2024-05-01")
    assert d.outcome == Outcome.PASS


@pytest.mark.parametrize(("day", "code"), [(..., "eval.missing-field"), ("2024-13-01", "eval.bad-date")])
def test_as_of_that_cannot_be_determined_makes_every_rule_error(
    decision: CompiledDecision, day: Any, code: str
) -> None:
    d = decision.evaluate(rec(day=day))
    assert d.as_of is None
    assert d.outcome == Outcome.INDETERMINATE
    assert {str(r.status) for r in d.rules} == {"error"}
    for r in d.rules:
        assert r.error is not None and r.error.code == code and r.error.path == "day"
        assert "evaluation date" in r.error.message


def test_without_as_of_expression_today_is_used(tmp_path: Path) -> None:
    b = build(rulebook(RULES, values=VALUES, as_of=None), tmp_path)
    assert b.decision().evaluate(BASE).as_of == dt.date.today()


# -- records that are not objects ------------------------------------------------------------------


@pytest.mark.parametrize("record", [[1, 2], "A", None, 5, True, 1.5], ids=repr)
def test_record_that_is_not_an_object(decision: CompiledDecision, record: Any) -> None:
    d = decision.evaluate(record)
    assert d.record_id is None
    assert d.outcome == Outcome.INDETERMINATE
    assert len(d.rules) == 6
    for r in d.rules:
        assert r.status == Status.ERROR
        assert r.error is not None and r.error.code == "eval.not-an-object"
        assert r.values == {}
        assert r.message("en") == "cannot decide: the record is not a JSON object"
    assert d.outputs == {}


def test_record_that_is_not_an_object_keeps_the_given_as_of(decision: CompiledDecision) -> None:
    # The evaluation date was given: it is known whatever the record is, and the decision
    # output requires it on every line that is not an `error` line.
    d = decision.evaluate([1, 2], "2024-05-01")
    assert d.as_of == D(2024, 5, 1)


# -- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "rule", "zh", "en"),
    [
        ({"n": -1}, "positive", "n 为 -1，须大于 0", "n is -1, must be above 0"),
        ({"due": "2024-06-01"}, "due", "到期日2024-06-01晚于2024-05-01", "due 2024-06-01 is after 2024-05-01"),
        (
            {"n": 3},
            "big_enough",
            "n=3（两倍6）不大于3；标记是；标签a、b；可选无；{n}",
            "n=3 (twice 6) is not above 3; flag yes; tags a, b; opt none; {n}",
        ),
        (
            {"n": 1, "flag": False, "tags": ["x", "y", "z"], "opt": "o"},
            "big_enough",
            "n=1（两倍2）不大于3；标记否；标签x、y、z；可选o；{n}",
            "n=1 (twice 2) is not above 3; flag no; tags x, y, z; opt o; {n}",
        ),
        (
            {"n": 3, "tags": []},
            "big_enough",
            "n=3（两倍6）不大于3；标记是；标签无；可选无；{n}",
            "n=3 (twice 6) is not above 3; flag yes; tags none; opt none; {n}",
        ),
        ({"tags": ["a"]}, "info_tags", "标签太少：a", "too few tags: a"),
        ({"addr": {"city": "X"}}, "city", "城市为X", "the city is X"),
    ],
)
def test_messages(decision: CompiledDecision, changes: dict[str, Any], rule: str, zh: str, en: str) -> None:
    r = decision.evaluate(rec(**changes)).rule(rule)
    assert r is not None
    assert (r.message("zh"), r.message("en")) == (zh, en)
    assert r.to_json("zh")["message"] == zh and r.to_json("en")["message"] == en


def test_passing_and_not_applicable_rules_have_no_message(decision: CompiledDecision) -> None:
    d = decision.evaluate(rec(flag=False))
    for r in d.rules:
        assert r.message("zh") is None and r.message("en") is None


def test_message_placeholder_that_cannot_be_computed_is_a_question_mark(decision: CompiledDecision) -> None:
    # `positive` fails on n = -1; its message needs nothing else. `big_enough` fails when n is
    # small and `opt` has a wrong type: the rest of the message is still filled in.
    r = decision.evaluate(rec(n=1, opt=5)).rule("big_enough")
    assert r is not None and r.status == Status.FAIL
    assert r.message("en") == "n=1 (twice 2) is not above 3; flag yes; tags a, b; opt ?; {n}"


# -- what a rule saw ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "rule", "values"),
    [
        ({"n": -1}, "positive", {"n": -1}),
        ({}, "flagged", {"flag": True, "tags": ["a", "b"]}),
        ({"n": 3}, "big_enough", {"twice": 6, "big": False}),
        ({}, "due", {"due": D(2024, 4, 1)}),
        ({"due": ...}, "due", {}),  # what cannot be computed is left out
        ({"addr": {"city": "X"}}, "city", {"addr.city": "X"}),
    ],
)
def test_values(decision: CompiledDecision, changes: dict[str, Any], rule: str, values: dict[str, Any]) -> None:
    r = decision.evaluate(rec(**changes)).rule(rule)
    assert r is not None
    assert r.values == values
    assert r.to_json()["values"] == json.loads(json.dumps(values, default=str))


def test_named_value_is_computed_once_per_record(tmp_path: Path) -> None:
    calls: list[int] = []

    def tick(n: int) -> int:
        calls.append(n)
        return n + 1

    functions = FunctionTable(
        [*STANDARD_FUNCTIONS, FunctionSpec("tick", (Overload((T.INT,), T.INT, tick),))]
    ).with_calendars({"CN": get_calendar("CN")})
    text = rulebook(
        """\
        - id: one
          article: 1
          cite: c
          require: v > 100
          message: {zh: "v={v}", en: "v={v}"}
        - id: two
          article: 2
          cite: c
          require: v > 1 && w > 0
          message: {zh: "v={v}", en: "v={v}"}
        """,
        values="v: tick(record.n)\nw: v * 2\n",
        outputs="out: v + w\n",
    )
    dec = build(text, tmp_path, functions).decision()
    d = dec.evaluate(BASE)
    assert calls == [5]
    assert d.outputs == {"out": 18}
    for r in d.rules:
        assert r.values["v"] == 6
        r.message("zh")
        r.to_json("en")
    assert calls == [5]  # traces and messages reuse the record's value
    dec.evaluate(rec(n=7))
    assert calls == [5, 7]  # ... but every record gets its own


# -- decision output shape (CONTRACT) ---------------------------------------------------------------

CONTRACT_BOOK = """\
rulebook: 1
id: hlj-musicians/membership
version: "2022-04-15"
status: in_force
effective_from: "2022-04-15"
title: {zh: 测试, en: test}
source: {title: T}
parameters:
  min_age: {value: 18}
decisions:
  admission:
    record: applicant
    as_of: record.application_date
    rules:
      - id: adult
        article: 12
        item: null
        cite: 第十二条
        values:
          age: full_years(record.birth_date, as_of)
        require: age >= min_age
        message: {zh: "申请人未满18周岁（{age}岁）", en: "the applicant is under 18 ({age})"}
"""

CONTRACT_EXAMPLE = {
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


def test_to_json_is_the_contract_example(tmp_path: Path) -> None:
    b = build_rulebook(Source("c.yaml", CONTRACT_BOOK), base_dir=tmp_path)
    record = {"id": "A-0001", "birth_date": "2008-03-02", "application_date": "2026-03-01"}
    # the contract's example record is partial: its record schema is not checked here
    d = b.decision("admission").with_schema_enforcement("none").evaluate(record, input=InputRef("applicants.jsonl", 7))
    assert d.to_json("zh") == CONTRACT_EXAMPLE
    assert json.loads(json.dumps(d.to_json("zh"), ensure_ascii=False)) == CONTRACT_EXAMPLE


@pytest.fixture(scope="module")
def output_validator() -> Any:
    schema = load_schema("decision-output.schema.json")
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"n": -1},
        {"due": ...},
        {"n": 3, "waivers": [WAIVER]},
        {"flag": False},
        {"n": 0},
        {"waivers": [{**WAIVER, "rule": "positive"}]},
        {"day": ...},
    ],
    ids=["pass", "fail", "error", "waived", "not-applicable", "output-error", "not-waivable", "no-date"],
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_to_json_validates_against_the_published_schema(
    decision: CompiledDecision, output_validator: Any, changes: dict[str, Any], lang: str
) -> None:
    d = decision.evaluate(rec(**changes), input=InputRef("r.jsonl", 3))
    out = d.to_json(lang)
    errors = [e.message for e in output_validator.iter_errors(out)]
    assert errors == []
    assert list(out)[:9] == [
        "rulebook",
        "version",
        "decision",
        "record",
        "input",
        "as_of",
        "outcome",
        "rules",
        "outputs",
    ]
    assert out["input"] == {"file": "r.jsonl", "line": 3}


def test_decision_and_rule_lookup(book: CompiledRulebook) -> None:
    assert book.decision() is book.decision("d")
    assert (book.id, book.version) == ("t/x", "1")
    with pytest.raises(KeyError):
        book.decision("nope")
    d = book.decision("d").evaluate(BASE)
    assert d.rule("nope") is None
    assert [r.id for r in d.rules] == ["positive", "flagged", "due", "big_enough", "info_tags", "city"]
    assert d.rules[0].to_json()["article"] == 1 and d.rules[1].to_json()["item"] == 1


def test_bundled_record_kind(tmp_path: Path) -> None:
    text = rulebook(
        """\
        - id: influence
          article: 1
          cite: c
          require: record.new_music_influence || size(record.introducers.filter(i, i.is_member)) >= 2
          message: {zh: 否, en: no}
        """,
        record="applicant",
        as_of="record.application_date",
    )
    dec = build(text, tmp_path).decision()
    base = {"id": "A", "application_date": "2024-01-01"}
    assert str(dec.evaluate(base).outcome) == "fail"  # defaults: false, no introducers
    two = {**base, "introducers": [{"is_member": True}, {"is_member": True}, {"is_member": False}]}
    assert str(dec.evaluate(two).outcome) == "pass"
    bad = {**base, "introducers": [{"is_member": "yes"}]}
    r = dec.evaluate(bad).rules[0]
    assert r.error is not None and (r.error.code, r.error.path) == ("eval.wrong-type", "introducers[].is_member")


# -- build errors ------------------------------------------------------------------------------------


def build_error(text: str, tmp_path: Path, kind: type[RulebookError] = CheckError) -> list[Diagnostic]:
    with pytest.raises(RulebookError) as info:
        build(text, tmp_path)
    assert type(info.value) is kind, info.value.render()
    return info.value.diagnostics


def one_rule(require: str, extra: str = "") -> str:
    return rulebook(
        "- id: r1\n  article: 1\n  cite: c\n  require: " + require + "\n" + "  message: {zh: a, en: b}\n" + extra
    )


@pytest.mark.parametrize(
    "require",
    [
        "record.n > 1 && recrd.flag",
        '"record.n > 1 && recrd.flag"',
        "'record.n > 1 && recrd.flag'",
        '"record.tags.exists(t, t == \\"a\\") && recrd.flag"',
        "'record.tags.exists(t, t == ''a'') && recrd.flag'",
        "|\n    record.n > 1 &&\n      recrd.flag",
        ">-\n    record.n > 1 &&\n    recrd.flag",
        "record.n > 1 &&\n    recrd.flag",
        "|\n    // a comment\n    record.n > 1 && recrd.flag",
    ],
    ids=[
        "plain",
        "double-quoted",
        "single-quoted",
        "double-quoted-escaped-quote",
        "single-quoted-doubled-quote",
        "literal-block",
        "folded-block",
        "plain-multi-line",
        "block-with-comment",
    ],
)
def test_check_error_position(tmp_path: Path, require: str) -> None:
    text = one_rule(require)
    [d] = build_error(text, tmp_path)
    assert d.code == "check.unknown-name" and d.help == "did you mean `record`?"
    assert d.file == "t.yaml"
    assert d.line_col == position(text, "recrd")
    assert d.span is not None and text[d.span.start : d.span.end] == "recrd"
    assert d.note is None


def test_check_error_position_through_an_escape_is_approximate(tmp_path: Path) -> None:
    text = one_rule('"record.tags.exists(t, t == \\u0022a\\u0022) && recrd.flag"')
    [d] = build_error(text, tmp_path)
    assert d.code == "check.unknown-name"
    assert d.line_col is not None and d.line_col[0] == position(text, "recrd")[0]
    assert d.note is not None and "approximate" in d.note


@pytest.mark.parametrize(
    ("require", "token", "code"),
    [
        ("record.nn > 1", "nn", "check.unknown-field"),
        ("sise(record.tags) > 1", "sise", "check.unknown-function"),
        ("record.n", "record.n", "check.not-bool"),
        ('record.due < "2024-01-01"', 'record.due < "2024-01-01"', "check.type"),
        ("record.tags.all(lim, true)", "lim,", "check.shadow"),
    ],
)
def test_check_errors_in_a_file(tmp_path: Path, require: str, token: str, code: str) -> None:
    text = one_rule(f"'{require}'")
    [d] = build_error(text, tmp_path)
    assert d.code == code
    assert d.line_col == position(text, token)


def test_several_check_errors_at_once(tmp_path: Path) -> None:
    text = rulebook(
        """\
        - id: r1
          article: 1
          cite: c
          require: record.nn > 1
          message: {zh: a, en: b}
        - id: r2
          article: 1
          cite: c
          when: reccord.flag
          require: sise(record.tags) > 0
          message: {zh: a, en: b}
        """,
        values="v: record.dy\n",
    )
    diags = build_error(text, tmp_path)
    assert [(d.code, d.line_col) for d in diags] == [
        ("check.unknown-field", position(text, "dy")),
        ("check.unknown-field", position(text, "nn")),
        ("check.unknown-name", position(text, "reccord")),
        ("check.unknown-function", position(text, "sise")),
    ]


@pytest.mark.parametrize(
    ("require", "token"),
    [("record.n >", None), ("record.n = 1", "="), ("(record.n > 1", "(")],
    ids=["unexpected-end", "assignment", "unclosed"],
)
def test_syntax_error(tmp_path: Path, require: str, token: str | None) -> None:
    text = one_rule(require)
    diags = build_error(text, tmp_path, ConditionSyntaxError)
    assert diags and all(d.code.startswith("syntax.") for d in diags)
    line = position(text, "require: ")[0]
    assert diags[0].line_col is not None and diags[0].line_col[0] == line
    if token is not None:
        assert diags[0].line_col == position(text, token, nth=text[: text.index("require: ")].count(token))


@pytest.mark.parametrize(
    ("old", "new", "code", "help", "token"),
    [
        (
            "        require: record.n > 1",
            "        requir: record.n > 1",
            "schema.additionalProperties",
            "did you mean `require`?",
            "requir:",
        ),
        ("        cite: c\n", "        cite: c\n        severity: fatal\n", "schema.enum", None, "fatal"),
        ("        cite: c\n", "        cite: c\n        waivable: yes-please\n", "schema.type", None, "yes-please"),
        ("status: in_force", "status: active", "schema.enum", None, "active"),
        ("        article: 1\n", "        article: first\n", "schema.type", None, "first"),
        ("        message: {zh: a, en: b}\n", "        message: {zh: a}\n", "schema.required", "add `en:`", "{zh: a}"),
    ],
    ids=["misspelt-key", "bad-severity", "bad-waivable", "bad-status", "bad-article", "missing-en"],
)
def test_schema_errors(tmp_path: Path, old: str, new: str, code: str, help: str | None, token: str) -> None:
    text = one_rule("record.n > 1")
    assert old in text
    text = text.replace(old, new, 1)
    diags = build_error(text, tmp_path, SchemaError)
    match = [d for d in diags if d.code == code]
    assert match, [(d.code, d.message) for d in diags]
    d = match[0]
    if help is not None:
        assert d.help == help
    assert d.line_col == position(text, token)


def test_missing_require_is_a_schema_error(tmp_path: Path) -> None:
    text = one_rule("record.n > 1").replace("        require: record.n > 1\n", "")
    diags = build_error(text, tmp_path, SchemaError)
    assert [d.code for d in diags] == ["schema.required"]
    assert "`require`" in diags[0].message and diags[0].help == "add `require:`"


@pytest.mark.parametrize(
    "values",
    [
        "a: a + 1\n",
        "a: b + 1\nb: a + 1\n",
        'a: b + 1\nb: c + 1\nc: "a > 1 ? 1 : 2"\n',
    ],
    ids=["self", "two", "three"],
)
def test_value_cycle(tmp_path: Path, values: str) -> None:
    text = rulebook(
        "- id: r1\n  article: 1\n  cite: c\n  require: record.n > 1\n  message: {zh: a, en: b}\n", values=values
    )
    diags = build_error(text, tmp_path)
    cycles = [d for d in diags if d.code == "check.cycle"]
    assert cycles
    assert "a ->" in cycles[0].message or "-> a" in cycles[0].message


@pytest.mark.parametrize(
    ("values", "require", "rule_values", "kind", "code"),
    [
        ("bad: record.nn > 1\n", "bad", "", CheckError, "check.unknown-field"),
        ("bad: record.nn > 1\ngood: bad || true\n", "good", "", CheckError, "check.unknown-field"),
        ("bad: sise(record.tags)\n", "bad > 1", "", CheckError, "check.unknown-function"),
        ("", "b > 1", "  values:\n    a: record.nn\n    b: a + 1\n", CheckError, "check.unknown-field"),
        ("bad: record.n >\n", "bad", "", ConditionSyntaxError, "syntax."),
    ],
    ids=[
        "value-used-by-rule",
        "value-used-by-value",
        "unknown-function",
        "rule-value-used-by-rule-value",
        "syntax-error",
    ],
)
def test_broken_named_value_used_elsewhere_is_reported(
    tmp_path: Path, values: str, require: str, rule_values: str, kind: type[RulebookError], code: str
) -> None:
    # A named value that does not check must be reported as such (with its position), even
    # when a rule or another value refers to it -- the build must not crash.
    text = rulebook(
        f"- id: r1\n  article: 1\n  cite: c\n  require: {require}\n  message: {{zh: a, en: b}}\n" + rule_values,
        values=values,
    )
    diags = build_error(text, tmp_path, kind)
    assert any(d.code.startswith(code) for d in diags), [(d.code, d.message) for d in diags]


def test_duplicate_rule_id(tmp_path: Path) -> None:
    text = rulebook("""\
        - id: same
          article: 1
          cite: c
          require: record.n > 1
          message: {zh: a, en: b}
        - id: same
          article: 2
          cite: c
          require: record.n > 2
          message: {zh: a, en: b}
        """)
    [d] = build_error(text, tmp_path)
    assert d.code == "rulebook.duplicate-rule"
    assert "`same`" in d.message
    assert d.line_col == position(text, "same", nth=1)


@pytest.mark.parametrize(
    ("message", "help"),
    [
        ('{zh: "n 为 {nn}", en: "n is {n}"}', "did you mean `{n}`?"),
        ('{zh: "n 为 {n}", en: "limit {limm}"}', "did you mean `{lim}`?"),
        (
            '{zh: "{zzzzzz}", en: "x"}',
            "placeholders: the rule's values, named values, parameters, as_of and record fields",
        ),
    ],
    ids=["zh", "en", "no-suggestion"],
)
def test_unknown_placeholder(tmp_path: Path, message: str, help: str) -> None:
    text = rulebook(f"- id: r1\n  article: 1\n  cite: c\n  require: record.n > lim\n  message: {message}\n")
    [d] = build_error(text, tmp_path)
    assert d.code == "check.unknown-placeholder"
    assert d.help == help
    assert d.line_col is not None and d.line_col[0] == position(text, "message:")[0]


@pytest.mark.parametrize(
    "message",
    ['{zh: "{{字面}} {n}", en: "{{literal}}"}', '{zh: "{ n }", en: "{as_of} {lim} {addr.city} {opt}"}'],
    ids=["literal-braces", "paths-params-as_of"],
)
def test_known_placeholders(tmp_path: Path, message: str) -> None:
    build(rulebook(f"- id: r1\n  article: 1\n  cite: c\n  require: record.n > lim\n  message: {message}\n"), tmp_path)


def test_unknown_record_kind(tmp_path: Path) -> None:
    text = one_rule("record.n > 1").replace("record: thing.json", "record: aplicant")
    diags = build_error(text, tmp_path)
    d = next(d for d in diags if d.code == "rulebook.unknown-record-kind")
    assert "`aplicant`" in d.message
    assert d.help is not None and "`applicant`" in d.help
    assert d.line_col == position(text, "aplicant")


def test_missing_record_schema_file(tmp_path: Path) -> None:
    text = one_rule("record.n > 1").replace("record: thing.json", "record: nothing.json")
    diags = build_error(text, tmp_path)
    assert [d.code for d in diags] == ["rulebook.record-schema"]
    assert diags[0].line_col == position(text, "nothing.json")


def test_value_named_like_a_parameter(tmp_path: Path) -> None:
    text = rulebook(
        "- id: r1\n  article: 1\n  cite: c\n  require: record.n > 1\n  message: {zh: a, en: b}\n",
        values="lim: record.n\n",
    )
    diags = build_error(text, tmp_path)
    assert "check.name-clash" in [d.code for d in diags]


def test_as_of_must_be_a_date(tmp_path: Path) -> None:
    text = rulebook(
        "- id: r1\n  article: 1\n  cite: c\n  require: record.n > 1\n  message: {zh: a, en: b}\n", as_of="record.n"
    )
    [d] = build_error(text, tmp_path)
    assert d.code == "check.type" and "`as_of`" in d.message
    assert d.line_col == position(text, "record.n")


def test_example_naming_an_unknown_rule(tmp_path: Path) -> None:
    extra = (
        "examples:\n  - name: ex\n    decision: d\n    record: {id: A}\n"
        "    expect: {outcome: pass, rules: {r2: pass}}\n"
    )
    text = rulebook(
        "- id: r1\n  article: 1\n  cite: c\n  require: record.n > 1\n  message: {zh: a, en: b}\n", extra=extra
    )
    [d] = build_error(text, tmp_path)
    assert d.code == "rulebook.unknown-rule"
    assert d.line_col == position(text, "r2")


def test_data_errors_speak_chinese_in_chinese_reports() -> None:
    """Errors caused by the record's data (wrong types, bad dates, bad waivers, no version in
    force) read in Chinese in a Chinese report, and in English in an English one."""
    from engine.registry import Registry

    _rid, _version, decision = Registry.default().decision("hlj-musicians/membership", "admission")
    examples = Path(__file__).resolve().parents[1] / "examples"
    record = json.loads((examples / "applicant.json").read_text(encoding="utf-8"))
    cases = [
        ({"occupations": "作曲"}, "occupation", "应为列表", "should be a list"),
        ({"birth_date": "1990-02-30"}, "adult", "不是 YYYY-MM-DD 格式的日期", "is not a date in YYYY-MM-DD form"),
        (
            {"waivers": [{"rule": "recommended", "reason": "r"}], "recommender": None},
            "recommended",
            "不可豁免",
            "cannot be waived",
        ),
        ({"application_date": "2001-01-01"}, "citizen", "没有生效的版本", "no version of"),
    ]
    for changes, rule, zh, en in cases:
        d = decision.evaluate({**record, **changes})
        assert d.status_of(rule) == "error", (changes, d.status_of(rule))
        assert zh in (d.rule(rule).message("zh") or ""), d.rule(rule).message("zh")
        assert en in (d.rule(rule).message("en") or ""), d.rule(rule).message("en")
