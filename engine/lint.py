"""`rulebook lint`: every problem of a rulebook, found without evaluating any record.

The build stages give the YAML, schema, syntax, name, field and type problems.
On a rulebook that builds, lint adds what the engine can find cheaply:

* ``lint.constant-condition`` (warning): a ``when`` or ``require`` that reads
  neither the record nor the date, so it is always true or always false (a rule
  that never applies, or that can never fail);
* ``lint.example-mismatch`` (error): an embedded example whose expected
  outcome, rule status or output the rules do not produce (one per example,
  naming every difference once);
* ``lint.uncovered-rule`` (warning): a rule that no example makes both pass and fail.

The diagnostics are rendered as text, JSON lines, SARIF 2.1.0 or GitHub
annotations, so rulebook repositories lint in CI too.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import IO, Any

from engine.errors import Diagnostic, EngineError
from engine.evaluate import CompiledRulebook

__all__ = ["lint_file", "render_lint"]


def _constant_conditions(book: CompiledRulebook) -> list[Diagnostic]:
    from engine.build import load_yaml_cached
    from engine.lang import ast as A
    from engine.lang.parser import parse_condition

    positions = load_yaml_cached(book.source)
    params = {p.name for p in book.book.parameters}
    out = []
    for decision in book.book.decisions:
        for rule in decision.rules:
            for role, expr in (("when", rule.when), ("require", rule.require)):
                if expr is None:
                    continue
                try:
                    node = parse_condition(expr.text)
                except EngineError:
                    continue
                names = {n.name.lstrip(".") for n in A.walk(node) if isinstance(n, A.Ident)}
                if names - params:
                    continue
                compiled = book.decisions[decision.name]
                fn = next((r.when if role == "when" else r.require) for r in compiled.rules if r.spec.id == rule.id)
                try:
                    value = fn({}, _dt.date.today(), {})
                except Exception:  # noqa: BLE001, S112 - an error is not a constant worth reporting here
                    continue
                if role == "when":
                    what = "the rule never applies" if value is False else "the `when` is always true; drop it"
                    what_zh = "该规则永远不适用" if value is False else "`when` 恒为真，可以删除"
                else:
                    what = "the rule can never fail" if value is True else "the rule always fails"
                    what_zh = "该规则永远不会不通过" if value is True else "该规则总是不通过"
                out.append(Diagnostic(
                    "lint.constant-condition", f"`{role}` of rule `{rule.id}` does not read the record: {what}",
                    source=book.source, span=positions.span(expr.path), severity="warning",
                    help="compare a field of `record` (or `as_of`) with the parameter",
                    message_zh=f"规则 `{rule.id}` 的 `{role}` 没有读取记录：{what_zh}"))
    return out


def _examples(book: CompiledRulebook) -> list[Diagnostic]:
    from engine.build import load_yaml_cached
    from engine.testing import rule_coverage, run_examples

    positions = load_yaml_cached(book.source)
    results = run_examples(book)
    out = []
    for res in results:
        if res.ok:
            continue
        # one diagnostic per example, however many ways it does not hold
        out.append(Diagnostic(
            "lint.example-mismatch",
            f"example `{res.example.name}` does not hold: " + "; ".join(m.text("en") for m in res.mismatches),
            source=book.source, span=positions.span(res.example.path),
            help="fix the rule, or the example's `expect` if the rule is right",
            message_zh=f"示例 `{res.example.name}` 与规则不符：" + "；".join(m.text("zh") for m in res.mismatches),
            help_zh="修改规则；若规则无误，则修改示例的 `expect`"))
    coverage = rule_coverage(book, results)
    rule_paths = {(d.name, r.id): r.path for d in book.book.decisions for r in d.rules}
    for decision, rule, missing in coverage.missing():
        out.append(Diagnostic(
            "lint.uncovered-rule", f"no example makes rule `{rule}` of `{decision}` "
            + " or ".join(missing), source=book.source, span=positions.span(rule_paths[(decision, rule)]),
            severity="warning", help="add an example that makes it " + " and one that makes it ".join(missing),
            message_zh=f"没有示例使规则 `{rule}` 得到 " + "、".join(missing)))
    return out


def lint_file(path: Path) -> list[Diagnostic]:
    """Every diagnostic for one rulebook file (errors and warnings), sorted by position."""
    from engine.build import load_rulebook
    from engine.errors import sort_diagnostics

    try:
        book = load_rulebook(path)
    except EngineError as e:
        return list(e.diagnostics)
    diagnostics = [*book.warnings, *_constant_conditions(book), *_examples(book)]
    return sort_diagnostics(diagnostics, limit=1000)


def _github(d: Diagnostic) -> str:
    from engine.report.github import escape_data, escape_property

    props = []
    if d.file:
        props.append(f"file={escape_property(d.file)}")
    pos = d.line_col
    if pos:
        props.append(f"line={pos[0]},col={pos[1]}")
    props.append(f"title={escape_property(d.code)}")
    level = "warning" if d.severity == "warning" else "error"
    return f"::{level} {','.join(props)}::{escape_data(d.message + (f' ({d.help})' if d.help else ''))}\n"


def _sarif(results: list[tuple[str, list[Diagnostic]]], lang: str) -> dict[str, Any]:
    from engine import __version__
    from engine.report.sarif import SARIF_SCHEMA

    rules: dict[str, int] = {}
    out = []
    for _name, diags in results:
        for d in diags:
            index = rules.setdefault(d.code, len(rules))
            message, help = d.text(lang)
            result: dict[str, Any] = {"ruleId": d.code, "ruleIndex": index,
                                      "level": "warning" if d.severity == "warning" else "error",
                                      "message": {"text": message + (f" ({help})" if help else "")}}
            if d.file:
                phys: dict[str, Any] = {"artifactLocation": {"uri": d.file}}
                pos = d.line_col
                if pos:
                    phys["region"] = {"startLine": pos[0], "startColumn": pos[1]}
                result["locations"] = [{"physicalLocation": phys}]
            out.append(result)
    driver = {"name": "rulebook-lint", "version": __version__, "informationUri": "https://pypi.org/project/rulebook-engine/",
              "rules": [{"id": code, "shortDescription": {"text": code}} for code in rules]}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": out}]}


def render_lint(results: list[tuple[str, list[Diagnostic]]], fmt: str, lang: str, out: IO[str]) -> None:
    """Write the diagnostics of each file (name, diagnostics) in ``fmt``: text, json, sarif or github."""
    if fmt == "json":
        for name, diags in results:
            out.write(json.dumps({"file": name, "diagnostics": [d.to_json() for d in diags]}, ensure_ascii=False)
                      + "\n")
    elif fmt == "sarif":
        out.write(json.dumps(_sarif(results, lang), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "github":
        for _name, diags in results:
            for d in diags:
                out.write(_github(d))
    else:
        for name, diags in results:
            if diags:
                for d in diags:
                    out.write(d.render(lang) + "\n")
            else:
                out.write(f"{name}: ok\n")
