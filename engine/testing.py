"""Run a rulebook's embedded examples and compare them with what they expect.

``run_examples(book)`` evaluates every example record with its decision (as of
the example's ``as_of`` if it has one) and compares the outcome, the status of
every rule the example lists, and every output it lists (``null`` meaning the
output must be absent).  ``rulebook test`` and the test suite use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.evaluate import CompiledRulebook, Decision, to_json_value
from engine.model import Example

__all__ = ["Coverage", "ExampleResult", "rule_coverage", "run_examples"]


@dataclass
class ExampleResult:
    example: Example
    line: int | None
    decision: Decision | None
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _explain(decision: Decision, rule_id: str) -> str:
    r = decision.rule(rule_id)
    if r is None:
        return ""
    msg = r.message("en")
    return f" ({msg})" if msg else ""


def check_example(book: CompiledRulebook, example: Example) -> tuple[Decision | None, list[str]]:
    try:
        decision_spec = book.decision(example.decision)
    except KeyError as e:
        return None, [str(e.args[0])]
    decision = decision_spec.evaluate(example.record, example.as_of)
    problems: list[str] = []
    if example.expect_outcome is not None and str(decision.outcome) != example.expect_outcome:
        failing = [f"{r.id}={r.status}" for r in decision.rules if r.status != "pass"]
        problems.append(f"outcome: expected {example.expect_outcome}, got {decision.outcome}"
                        + (f" (rules not passing: {', '.join(failing)})" if failing else ""))
    for rule_id, expected in example.expect_rules.items():
        r = decision.rule(rule_id)
        got = str(r.status) if r is not None else "missing"
        if got != expected:
            problems.append(f"rule {rule_id}: expected {expected}, got {got}{_explain(decision, rule_id)}")
    for name, expected in example.expect_outputs.items():
        if expected is None:
            if name in decision.outputs:
                problems.append(f"output {name}: expected none, got {to_json_value(decision.outputs[name])!r}")
            continue
        if name not in decision.outputs:
            why = decision.output_errors.get(name)
            problems.append(f"output {name}: expected {expected!r}, got none" + (f" ({why.message})" if why else ""))
            continue
        got_value: Any = to_json_value(decision.outputs[name])
        if got_value != to_json_value(expected):
            problems.append(f"output {name}: expected {expected!r}, got {got_value!r}")
    return decision, problems


def run_examples(book: CompiledRulebook) -> list[ExampleResult]:
    """The result of every example in the rulebook, in file order."""
    from engine.build import load_yaml_cached

    positions = load_yaml_cached(book.source).positions
    out = []
    for ex in book.book.examples:
        pos = positions.get(ex.path)
        line = book.source.line_col(pos.value.start)[0] if pos is not None else None
        decision, problems = check_example(book, ex)
        out.append(ExampleResult(ex, line, decision, problems))
    return out


@dataclass
class Coverage:
    """Which statuses the examples make each rule reach."""

    statuses: dict[tuple[str, str], set[str]]

    def covered(self, key: tuple[str, str]) -> bool:
        """A rule is covered when some example makes it pass and some example makes it fail."""
        return {"pass", "fail"} <= self.statuses[key]

    @property
    def percent(self) -> float:
        if not self.statuses:
            return 100.0
        return 100.0 * sum(self.covered(k) for k in self.statuses) / len(self.statuses)

    def missing(self) -> list[tuple[str, str, list[str]]]:
        """(decision, rule, statuses never reached among pass/fail/not_applicable) for each rule not covered."""
        out = []
        for (decision, rule), seen in self.statuses.items():
            if not self.covered((decision, rule)):
                out.append((decision, rule, sorted({"pass", "fail"} - seen)))
        return out


def rule_coverage(book: CompiledRulebook, results: list[ExampleResult] | None = None) -> Coverage:
    """For each rule of each decision, the statuses its examples reach (pass, fail, not_applicable, ...)."""
    results = results if results is not None else run_examples(book)
    statuses: dict[tuple[str, str], set[str]] = {
        (name, r.spec.id): set() for name, d in book.decisions.items() for r in d.rules}
    for res in results:
        if res.decision is None:
            continue
        for r in res.decision.rules:
            statuses.setdefault((res.example.decision, r.id), set()).add(str(r.status))
    return Coverage(statuses)
