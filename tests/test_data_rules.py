"""Rules of kind ``data``: checks that a record does not contradict itself.

A rule with ``kind: data`` whose ``require`` is false is ``error`` (not
``fail``): its filled-in message is the error message, the decision is
``indeterminate`` unless another rule failed, and it cannot be waived.  The
small rulebook ``tests/data/rulebooks/data-rules.yaml`` (a vote whose counts
must be possible) is decided through every evaluation path: the compiled
whole-decision functions (optimistic and exact), the general loop, a build
with the reference interpreter, the JSON of ``to_json``/``to_json_text``/
``to_json_bytes``, ``explain``, ``rulebook test`` and its coverage, ``lint``,
``rulebook doc`` and ``rulebook diff``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import engine.build
from engine.build import build_rulebook, load_rulebook
from engine.cli import main
from engine.errors import SchemaError
from engine.evaluate import CompiledRulebook, InputRef
from engine.lang.compile_decision import DATA_ERROR
from engine.lang.interp import interpret_condition
from engine.model import Outcome, RuleKind, Status
from engine.source import Source
from engine.testing import rule_coverage, run_examples
from tests.test_evaluate_fast import check_decision

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "tests" / "data" / "rulebooks" / "data-rules.yaml"
OUTPUT_SCHEMA = json.loads((ROOT / "schemas" / "decision-output.schema.json").read_text(encoding="utf-8"))

GOOD = {"id": "V-1", "date": "2024-03-01", "members": 5, "present": 5, "votes_for": 3}
TOO_MANY_VOTES = {**GOOD, "id": "V-3", "present": 2, "votes_for": 3}  # 3 votes from 2 present
TOO_MANY_PRESENT = {**GOOD, "id": "V-4", "present": 6, "votes_for": 1}  # and the majority fails


@pytest.fixture(scope="module")
def book() -> CompiledRulebook:
    return load_rulebook(BOOK)


def test_the_model_knows_the_kind(book: CompiledRulebook) -> None:
    rules = {r.id: r for r in book.book.decisions[0].rules}
    assert rules["votes_within_present"].kind is RuleKind.DATA and rules["votes_within_present"].is_data
    assert rules["majority"].kind is RuleKind.RULE and not rules["majority"].is_data
    assert not rules["votes_within_present"].waivable


def test_a_check_that_does_not_hold_is_an_error_with_the_rules_message(book: CompiledRulebook) -> None:
    d = book.decision("vote").evaluate(TOO_MANY_VOTES)
    assert d.outcome is Outcome.INDETERMINATE  # majority passes; the counts cannot be
    r = d.rule("votes_within_present")
    assert r is not None and r.status is Status.ERROR and r.error is DATA_ERROR
    assert r.message("zh") == "赞成票（votes_for = 3）多于出席人数（present = 2）"
    assert r.message("en") == "more votes for (votes_for = 3) than members present (present = 2)"
    assert d.failing[0] == ("votes_within_present", "error", "error", "第一条")
    for lang in ("zh", "en"):
        js = d.to_json(lang)
        rule = next(x for x in js["rules"] if x["id"] == "votes_within_present")
        assert rule["status"] == "error"
        assert rule["message"] == r.message(lang) == rule["error"]["message"]
        assert rule["error"]["code"] == "eval.data-inconsistent"
        assert rule["values"] == {"votes_for": 3, "present": 2}
        assert list(Draft202012Validator(OUTPUT_SCHEMA).iter_errors(js)) == []
        assert d.to_json_text(lang) == json.dumps(js, ensure_ascii=False)
        assert d.to_json_bytes(lang) == json.dumps(js, ensure_ascii=False).encode("utf-8")


def test_a_failed_rule_still_makes_the_decision_fail(book: CompiledRulebook) -> None:
    d = book.decision("vote").evaluate(TOO_MANY_PRESENT)
    assert d.statuses == {
        "present_within_members": Status.ERROR,
        "votes_within_present": Status.PASS,
        "majority": Status.FAIL,
        "quorum": Status.PASS,
    }
    assert d.outcome is Outcome.FAIL


def test_a_check_that_holds_passes(book: CompiledRulebook) -> None:
    d = book.decision("vote").evaluate(GOOD)
    assert d.outcome is Outcome.PASS and set(d.statuses.values()) == {Status.PASS}
    assert d.rule("present_within_members").message("zh") is None  # type: ignore[union-attr]


def test_the_optimistic_function_leaves_a_contradiction_to_the_exact_one(book: CompiledRulebook) -> None:
    decision = book.decision("vote")
    decision.compile()
    assert decision._decide_fast is not None and decision._decide is not None
    decision._decide_fast(GOOD, None)  # the common case: no exception
    with pytest.raises(Exception):  # noqa: B017 - any exception makes the caller use the exact function
        decision._decide_fast(TOO_MANY_VOTES, None)
    statuses, errors = decision._decide(TOO_MANY_VOTES, decision.resolve_as_of(TOO_MANY_VOTES, None))[:2]
    index = decision.rule_ids.index("votes_within_present")
    assert statuses[index] is Status.ERROR and errors == {index: DATA_ERROR}


@pytest.mark.parametrize(
    "record",
    [GOOD, TOO_MANY_VOTES, TOO_MANY_PRESENT, {**TOO_MANY_VOTES, "present": "x"}, {**GOOD, "present": None}],
    ids=["good", "too-many-votes", "too-many-present", "wrong-type", "null"],
)
def test_compiled_and_general_loop_agree(book: CompiledRulebook, record: dict[str, Any]) -> None:
    decision = book.decision("vote")
    for as_of in (None, "2030-01-01"):
        check_decision(decision, record, as_of, InputRef("votes.jsonl", 3))


def test_the_interpreted_build_gives_the_same_decisions(
    book: CompiledRulebook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.build, "compile_condition", interpret_condition)
    interpreted = build_rulebook(Source(str(BOOK), BOOK.read_text(encoding="utf-8")), base_dir=BOOK.parent)
    decision = interpreted.decision("vote")
    decision.compile()
    assert decision._decide is None  # the general loop
    for record in (GOOD, TOO_MANY_VOTES, TOO_MANY_PRESENT):
        a, b = decision.evaluate(record), book.decision("vote").evaluate(record)
        assert a.to_json("zh") == b.to_json("zh") and a.to_json("en") == b.to_json("en")


def test_a_waiver_for_a_data_check_is_an_error(book: CompiledRulebook) -> None:
    waiver = {"rule": "votes_within_present", "reason": "r", "approved_by": "a", "date": "2024-03-01"}
    for record in (TOO_MANY_VOTES, GOOD):
        r = book.decision("vote").evaluate({**record, "waivers": [waiver]}).rule("votes_within_present")
        assert r is not None and r.status is Status.ERROR and r.error is not None
        assert r.error.code == "eval.not-waivable"


def test_examples_expect_error_and_cover_the_data_rules(book: CompiledRulebook) -> None:
    results = run_examples(book)
    assert [r.mismatches for r in results] == [[], [], [], []]
    coverage = rule_coverage(book, results)
    assert coverage.percent == 100.0
    # without the examples that make the checks error, the data rules are not covered
    coverage = rule_coverage(book, [r for r in results if r.example.expect_outcome in ("pass", "fail")][:2])
    missing = {rule: statuses for _d, rule, statuses in coverage.missing()}
    assert missing["votes_within_present"] == ["error"] and missing["present_within_members"] == ["error"]
    assert missing["quorum"] == ["fail"]


def test_example_expecting_fail_from_a_data_rule_is_reported(tmp_path: Path) -> None:
    text = BOOK.read_text(encoding="utf-8").replace(
        "rules: {votes_within_present: error, majority: pass, quorum: fail}",
        "rules: {votes_within_present: fail, majority: pass, quorum: fail}",
    )
    (tmp_path / "data-rules.schema.json").write_text((BOOK.parent / "data-rules.schema.json").read_text())
    book = build_rulebook(Source("data-rules.yaml", text), base_dir=tmp_path)
    bad = [r for r in run_examples(book) if not r.ok]
    assert len(bad) == 1
    assert bad[0].mismatches[0].startswith("rule votes_within_present: expected fail, got error (more votes for")


@pytest.mark.parametrize(
    ("extra", "code", "token"),
    [
        ("        waivable: true\n", "schema.const", "true"),
        ("        severity: warning\n", "schema.const", "warning"),
    ],
    ids=["waivable", "warning"],
)
def test_a_data_rule_is_never_waivable_nor_a_warning(tmp_path: Path, extra: str, code: str, token: str) -> None:
    text = BOOK.read_text(encoding="utf-8").replace("        kind: data\n", "        kind: data\n" + extra, 1)
    with pytest.raises(SchemaError) as info:
        build_rulebook(Source("data-rules.yaml", text), base_dir=BOOK.parent)
    diags = info.value.diagnostics
    assert [d.code for d in diags] == [code]
    line = text[: text.index(extra)].count("\n") + 1
    assert diags[0].line_col == (line, extra.index(token) + 1)


def test_an_unknown_kind_is_a_schema_error(tmp_path: Path) -> None:
    text = BOOK.read_text(encoding="utf-8").replace("        kind: data\n", "        kind: check\n", 1)
    with pytest.raises(SchemaError) as info:
        build_rulebook(Source("data-rules.yaml", text), base_dir=BOOK.parent)
    assert [d.code for d in info.value.diagnostics] == ["schema.enum"]
    assert "`rule`, `data`" in info.value.diagnostics[0].message


def test_cli_check_explain_and_test(tmp_path: Path) -> None:
    record = tmp_path / "votes.jsonl"
    record.write_text(json.dumps(TOO_MANY_VOTES) + "\n" + json.dumps(GOOD) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["check", str(BOOK), str(record), "--format", "json", "--fail-on", "indeterminate"], stdout=out, stderr=err
    )
    assert code == 1
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [x["outcome"] for x in lines] == ["indeterminate", "pass"]
    one = tmp_path / "one.json"
    one.write_text(json.dumps(TOO_MANY_VOTES), encoding="utf-8")
    out = io.StringIO()
    main(["explain", str(BOOK), str(one), "--lang", "en"], stdout=out, stderr=io.StringIO())
    assert (
        "votes_within_present  more votes for (votes_for = 3) than members present (present = 2)  [error]"
        in out.getvalue()
    )
    out = io.StringIO()
    assert main(["test", str(BOOK)], stdout=out, stderr=io.StringIO()) == 0
    assert "100%" in out.getvalue()


def test_doc_and_diff_show_the_kind(book: CompiledRulebook, tmp_path: Path) -> None:
    from engine.tools.diff import diff_rulebooks
    from engine.tools.docgen import doc_blocks, to_markdown

    page = to_markdown(doc_blocks(book, "en"))
    assert page.count("kind: data check") == 2
    assert "kind: data check" in page.split("`votes_within_present`")[1].split("####")[0]
    assert "数据核对" in to_markdown(doc_blocks(book, "zh"))
    text = BOOK.read_text(encoding="utf-8").replace("        kind: data\n", "", 1)
    old = build_rulebook(Source("data-rules.yaml", text), base_dir=BOOK.parent)
    changes = [(c.where, c.old, c.new) for c in diff_rulebooks(old, book).changes]
    assert ("vote/present_within_members.kind", "rule", "data") in changes
