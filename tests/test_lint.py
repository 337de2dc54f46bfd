"""`rulebook lint` beyond the build: constant conditions, examples that contradict their rules,
uncovered rules; its JSON, SARIF and GitHub outputs; `test --min-coverage`; `diff` on the command line."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from engine.cli import main
from engine.tools.lint import lint_file

DATA = Path(__file__).resolve().parent / "data"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def rulebook(tmp_path: Path) -> Path:
    shutil.copy(DATA / "rulebooks" / "mini.schema.json", tmp_path / "mini.schema.json")
    text = (DATA / "rulebooks" / "mini.yaml").read_text(encoding="utf-8")
    text += """examples:
  - name: grown-up
    decision: admission
    record: {id: A, birth_date: "1990-01-01", application_date: "2024-06-01", awards: [{level: national, grade: 1}]}
    expect: {outcome: pass, rules: {adult: pass, award: pass}}
  - name: child
    decision: admission
    record: {id: B, birth_date: "2015-01-01", application_date: "2024-06-01"}
    expect: {outcome: fail, rules: {adult: fail, award: fail}}
"""
    path = tmp_path / "mini.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def codes(path: Path) -> list[tuple[str, str]]:
    return [(d.code, d.severity) for d in lint_file(path)]


def test_a_clean_rulebook_has_no_diagnostics(rulebook: Path) -> None:
    assert codes(rulebook) == []


def test_constant_conditions_are_warned(rulebook: Path) -> None:
    text = rulebook.read_text(encoding="utf-8")
    rulebook.write_text(
        text.replace(
            "        require: record.awards.exists",
            "        when: min_age > 100\n        require: record.awards.exists",
        ),
        encoding="utf-8",
    )
    diags = lint_file(rulebook)
    [const] = [d for d in diags if d.code == "lint.constant-condition"]
    assert "never applies" in const.message and const.severity == "warning"
    assert (
        const.line_col is not None
        and rulebook.read_text(encoding="utf-8").splitlines()[const.line_col[0] - 1].strip() == "when: min_age > 100"
    )


def test_an_example_that_contradicts_its_rule_is_an_error(rulebook: Path) -> None:
    text = rulebook.read_text(encoding="utf-8").replace(
        "expect: {outcome: fail, rules: {adult: fail", "expect: {outcome: fail, rules: {adult: pass"
    )
    rulebook.write_text(text, encoding="utf-8")
    assert ("lint.example-mismatch", "error") in codes(rulebook)
    code, out, _ = run("lint", str(rulebook), "--lang", "en")
    assert code == 2 and "example `child` does not hold: rule adult: expected pass, got fail" in out


def test_uncovered_rules_are_warned(rulebook: Path) -> None:
    text = rulebook.read_text(encoding="utf-8")
    rulebook.write_text(text[: text.index("  - name: child")], encoding="utf-8")
    found = codes(rulebook)
    assert ("lint.uncovered-rule", "warning") in found
    code, _, _ = run("lint", str(rulebook))
    assert code == 0  # warnings alone do not fail lint


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_lint_formats(fmt: str) -> None:
    path = DATA / "errors" / "unknown-field.yaml"
    code, out, _ = run("lint", str(path), "--format", fmt, "--lang", "en")
    assert code == 2
    if fmt == "json":
        diag = json.loads(out)["diagnostics"][0]
        assert (diag["line"], diag["column"], diag["code"]) == (19, 36, "check.unknown-field")
    elif fmt == "sarif":
        doc = json.loads(out)
        [result] = doc["runs"][0]["results"]
        assert doc["version"] == "2.1.0" and result["ruleId"] == "check.unknown-field"
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (19, 36)
    else:
        assert out.startswith("::error file=") and ",line=19,col=36,title=check.unknown-field::" in out


def test_min_coverage(rulebook: Path) -> None:
    text = rulebook.read_text(encoding="utf-8")
    rulebook.write_text(text[: text.index("  - name: child")], encoding="utf-8")
    code, out, _ = run("test", str(rulebook), "--min-coverage", "100", "--lang", "en")
    assert code == 1 and "rule coverage too low" in out and "0.0% < 100%" in out
    code, _, _ = run("test", str(rulebook), "--min-coverage", "0")
    assert code == 0


def test_diff_command_with_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEBOOK_PATH", str(DATA / "versioned"))
    feed = tmp_path / "pay.jsonl"
    feed.write_text(
        '{"id": "P1", "paid_on": "2024-05-01", "amount": 120}\n{"id": "P2", "paid_on": "2024-05-01", "amount": 170}\n',
        encoding="utf-8",
    )
    code, out, _ = run("diff", "test/fees@2024", "test/fees@2025", "--data", str(feed), "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert {"kind": "changed", "where": "parameter min_amount", "old": 100, "new": 150} in doc["changes"]
    assert [(r["record"], r["outcome"]) for r in doc["records"]] == [("P1", {"old": "pass", "new": "fail"})]
    code, out, _ = run("diff", "test/fees@2024", "test/fees@2024", "--lang", "en")
    assert code == 0 and "no structural change" in out
