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
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from engine.errors import Diagnostic, EngineError
from engine.evaluate import CompiledRulebook
from engine.messages import Text, msg

__all__ = ["lint_book", "lint_file", "render_lint"]


def _constant_conditions(book: CompiledRulebook, parse: Callable[[str], Any] | None = None) -> list[Diagnostic]:
    from engine.build import load_yaml_cached
    from engine.lang import ast as A
    from engine.lang.parser import parse_condition

    parse = parse or parse_condition

    positions = load_yaml_cached(book.source)
    params = {p.name for p in book.book.parameters}
    out = []
    for decision in book.book.decisions:
        for rule in decision.rules:
            for role, expr in (("when", rule.when), ("require", rule.require)):
                if expr is None:
                    continue
                try:
                    node = parse(expr.text)
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
                    what = msg(
                        "lint.constant-condition:never-applies"
                        if value is False
                        else "lint.constant-condition:always-applies"
                    )
                else:
                    what = msg(
                        "lint.constant-condition:never-fails"
                        if value is True
                        else "lint.constant-condition:always-fails"
                    )
                out.append(
                    Diagnostic.of(
                        "lint.constant-condition",
                        source=book.source,
                        span=positions.span(expr.path),
                        severity="warning",
                        role=role,
                        rule=rule.id,
                        what=what,
                    )
                )
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
        problems = Text(
            "; ".join(m.text("en") for m in res.mismatches), "；".join(m.text("zh") for m in res.mismatches)
        )
        out.append(
            Diagnostic.of(
                "lint.example-mismatch",
                source=book.source,
                span=positions.span(res.example.path),
                example=res.example.name,
                problem=problems,
            )
        )
    coverage = rule_coverage(book, results)
    rule_paths = {(d.name, r.id): r.path for d in book.book.decisions for r in d.rules}
    for decision, rule, missing in coverage.missing():
        statuses = [msg(f"status:{m}") for m in missing]
        out.append(
            Diagnostic(
                "lint.uncovered-rule",
                msg(
                    "lint.uncovered-rule",
                    rule=rule,
                    decision=decision,
                    missing=Text(" or ".join(t.en for t in statuses), "或".join(t.zh for t in statuses)),
                ),
                source=book.source,
                span=positions.span(rule_paths[(decision, rule)]),
                severity="warning",
                help=msg(
                    "lint.uncovered-rule/help",
                    missing=Text(
                        " and one that makes it ".join(t.en for t in statuses), "、".join(t.zh for t in statuses)
                    ),
                ),
            )
        )
    return out


def lint_book(book: CompiledRulebook, parse: Callable[[str], Any] | None = None) -> list[Diagnostic]:
    """What lint finds in a rulebook that builds, beside the build's errors: its warnings, the
    constant conditions, the examples that do not hold and the rules they leave uncovered
    (``parse``: how to parse an expression, e.g. remembered by ``BuildMemo.parse``)."""
    return [*book.warnings, *_constant_conditions(book, parse), *_examples(book)]


def lint_file(path: Path) -> list[Diagnostic]:
    """Every diagnostic for one rulebook file (errors and warnings), sorted by position; an
    arrangement file of a working-day calendar (under a ``calendars`` folder) is checked as one."""
    from engine.build import load_rulebook
    from engine.calendars import is_arrangement_path, load_arrangement_file
    from engine.errors import sort_diagnostics

    if is_arrangement_path(path):
        try:
            load_arrangement_file(path)
        except EngineError as e:
            return list(e.diagnostics)
        return []
    from engine.cache import cached_lint

    def lint() -> tuple[list[Diagnostic], CompiledRulebook | None]:
        try:
            book = load_rulebook(path)
        except EngineError as e:
            return list(e.diagnostics), None
        diagnostics = lint_book(book)
        return sort_diagnostics(diagnostics, limit=1000), book

    return cached_lint(path, lint)  # a rulebook without errors is linted once a day


def _github(d: Diagnostic, lang: str) -> str:
    from engine.io.report.github import escape_data, escape_property

    props = []
    if d.file:
        props.append(f"file={escape_property(d.file)}")
    pos = d.line_col
    if pos:
        props.append(f"line={pos[0]},col={pos[1]}")
    props.append(f"title={escape_property(d.code)}")
    level = "warning" if d.severity == "warning" else "error"
    message, help = d.text(lang)
    return f"::{level} {','.join(props)}::{escape_data(message + (f' ({help})' if help else ''))}\n"


def _sarif(results: list[tuple[str, list[Diagnostic]]], lang: str) -> dict[str, Any]:
    from engine.io.report.sarif import SARIF_SCHEMA
    from engine.version import __version__

    rules: dict[str, int] = {}
    out = []
    for _name, diags in results:
        for d in diags:
            index = rules.setdefault(d.code, len(rules))
            message, help = d.text(lang)
            result: dict[str, Any] = {
                "ruleId": d.code,
                "ruleIndex": index,
                "level": "warning" if d.severity == "warning" else "error",
                "message": {"text": message + (f" ({help})" if help else "")},
            }
            if d.file:
                phys: dict[str, Any] = {"artifactLocation": {"uri": d.file}}
                pos = d.line_col
                if pos:
                    phys["region"] = {"startLine": pos[0], "startColumn": pos[1]}
                result["locations"] = [{"physicalLocation": phys}]
            out.append(result)
    driver = {
        "name": "rulebook-lint",
        "version": __version__,
        "informationUri": "https://pypi.org/project/rulebook-engine/",
        "rules": [{"id": code, "shortDescription": {"text": code}} for code in rules],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": out}]}


def render_lint(results: list[tuple[str, list[Diagnostic]]], fmt: str, lang: str, out: IO[str]) -> None:
    """Write the diagnostics of each file (name, diagnostics) in ``fmt``: text, json, sarif or github."""
    if fmt == "json":
        for name, diags in results:
            out.write(
                json.dumps({"file": name, "diagnostics": [d.to_json(lang) for d in diags]}, ensure_ascii=False) + "\n"
            )
    elif fmt == "sarif":
        out.write(json.dumps(_sarif(results, lang), ensure_ascii=False, indent=2) + "\n")
    elif fmt == "github":
        for _name, diags in results:
            for d in diags:
                out.write(_github(d, lang))
    else:
        for name, diags in results:
            if diags:
                for d in diags:
                    out.write(d.render(lang) + "\n")
            else:
                out.write(msg("cli.lint-ok", name=name).get(lang) + "\n")
