"""How `rulebook test` and `rulebook lint` report an embedded example that does not hold.

An unexpected outcome names only the rules that decided it (error-severity rules that
failed, or that could not be decided), never info or warning rules nor rules that do not
apply; a rule whose status differs from the example's expectation is named once, on its
own line, not again among the reasons for the outcome; lint gives one diagnostic per
example; every sentence is in the reader's language.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from engine.build import load_rulebook
from engine.cli import main
from engine.testing import check_example
from engine.tools.lint import lint_file

DATA = Path(__file__).resolve().parent / "data"

RULEBOOK = """\
rulebook: 1
id: test/mismatch
version: "2024-01-01"
status: in_force
effective_from: 2024-01-01
title: {zh: 测试规则集, en: test rulebook}
source: {title: 测试}
decisions:
  admission:
    record: mini.schema.json
    as_of: record.application_date
    rules:
      - id: adult
        article: 12
        cite: 第十二条
        require: full_years(record.birth_date, as_of) >= 18
        message: {zh: 申请人未满18周岁, en: the applicant is under 18}
      - id: named
        article: 12
        cite: 第十二条
        require: has(record.name)
        message: {zh: 没有姓名, en: no name}
      - id: prize
        article: 12
        item: 3
        cite: 第十二条第3项
        severity: info
        require: record.awards.exists(a, a.level == "national")
        message: {zh: 没有国家级奖项, en: no national award}
      - id: musician
        article: 12
        cite: 第十二条
        severity: warning
        when: size(record.occupations) > 0
        require: '"作曲" in record.occupations'
        message: {zh: 不是作曲者, en: not a composer}
examples:
  - name: minor-expected-to-pass
    decision: admission
    record: {id: M, name: 小明, birth_date: "2010-01-01", application_date: "2024-01-01", occupations: [歌唱]}
    expect: {outcome: pass}
  - name: outcome-and-rule-wrong
    decision: admission
    record: {id: N, birth_date: "2010-01-01", application_date: "2024-01-01"}
    expect: {outcome: pass, rules: {adult: pass}}
  - name: expected-failure-is-named
    decision: admission
    record: {id: O, birth_date: "2010-01-01", application_date: "2024-01-01", name: 甲}
    expect: {outcome: pass, rules: {adult: fail}}
  - name: holds
    decision: admission
    record: {id: P, name: 乙, birth_date: "2000-01-01", application_date: "2024-01-01",
             awards: [{level: national, grade: 1}], occupations: [作曲]}
    expect: {outcome: pass, rules: {adult: pass, named: pass, prize: pass, musician: pass}}
  - name: covers-the-rest
    decision: admission
    record: {id: Q, name: 丙, birth_date: "2000-01-01", application_date: "2024-01-01", occupations: [歌唱]}
    expect: {outcome: pass, rules: {prize: fail, musician: fail}}
  - name: nameless
    decision: admission
    record: {id: R, birth_date: "2000-01-01", application_date: "2024-01-01"}
    expect: {outcome: fail, rules: {named: fail}}
"""


@pytest.fixture
def rulebook(tmp_path: Path) -> Path:
    shutil.copy(DATA / "rulebooks" / "mini.schema.json", tmp_path / "mini.schema.json")
    path = tmp_path / "mismatch.yaml"
    path.write_text(RULEBOOK, encoding="utf-8")
    return path


def problems(path: Path, name: str, lang: str = "en") -> list[str]:
    book = load_rulebook(path)
    [example] = [e for e in book.book.examples if e.name == name]
    _decision, found = check_example(book, example)
    return [m.text(lang) for m in found]


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue()


def test_an_unexpected_outcome_names_only_the_rules_that_decided_it(rulebook: Path) -> None:
    # GIVEN a minor with a name, no national award (an info rule fails) and no composing
    # (a warning rule fails), expected to pass: only `adult` decided the failure
    assert problems(rulebook, "minor-expected-to-pass") == ["outcome: expected pass, got fail, decided by adult=fail"]
    assert problems(rulebook, "minor-expected-to-pass", "zh") == ["结论：应为 pass，实为 fail，由 adult=fail 决定"]


def test_a_wrong_rule_is_named_once(rulebook: Path) -> None:
    # `adult` is reported as a wrong rule, so the outcome line names only `named`
    assert problems(rulebook, "outcome-and-rule-wrong") == [
        "outcome: expected pass, got fail, decided by named=fail",
        "rule adult: expected pass, got fail (the applicant is under 18)",
    ]


def test_a_rule_expected_to_fail_still_explains_the_outcome(rulebook: Path) -> None:
    assert problems(rulebook, "expected-failure-is-named") == [
        "outcome: expected pass, got fail, decided by adult=fail"
    ]


def test_lint_reports_each_example_once_in_one_language(rulebook: Path) -> None:
    diags = [d for d in lint_file(rulebook) if d.code == "lint.example-mismatch"]
    assert [d.line_col[0] for d in diags if d.line_col] == [38, 42, 46]
    two = diags[1]
    assert two.message == (
        "example `outcome-and-rule-wrong` does not hold: outcome: expected pass, got fail, "
        "decided by named=fail; rule adult: expected pass, got fail (the applicant is under 18)"
    )
    message_zh, help_zh = two.text("zh")
    assert message_zh == (
        "示例 `outcome-and-rule-wrong` 与规则不符：结论：应为 pass，实为 fail，由 named=fail 决定；"
        "规则 adult：应为 pass，实为 fail（申请人未满18周岁）"
    )
    assert help_zh is not None and not re.search(r"[A-Za-z]{3,}", help_zh.replace("expect", ""))
    code, out = run("lint", str(rulebook), "--lang", "en")
    assert code == 2 and out.count("error[lint.example-mismatch]") == 3
    assert out.count("`outcome-and-rule-wrong` does not hold") == 1 and "prize" not in out and "musician" not in out


def test_rulebook_test_lists_the_differences_in_the_readers_language(rulebook: Path) -> None:
    code, out = run("test", str(rulebook), "--lang", "en")
    assert code == 1
    assert "        outcome: expected pass, got fail, decided by adult=fail\n" in out
    assert "prize" not in out and "rules not passing" not in out
    code, out = run("test", str(rulebook), "--lang", "zh")
    assert code == 1 and "        结论：应为 pass，实为 fail，由 adult=fail 决定\n" in out
    details = [line for line in out.splitlines() if line.startswith("        ")]
    assert len(details) == 4 and not any(re.search(r"expected|got|decided|outcome", line) for line in details)
