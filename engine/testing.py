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
from engine.model import Example, Outcome, Severity, Status

__all__ = ["Coverage", "ExampleResult", "Mismatch", "check_example", "rule_coverage", "run_examples"]


class Mismatch(str):
    """One way an example does not hold: the English sentence (the string itself) and its Chinese.

    A ``str`` so that callers that join or print mismatches keep working; ``text(lang)``
    picks the reader's language.
    """

    zh: str

    def __new__(cls, en: str, zh: str) -> Mismatch:
        self = super().__new__(cls, en)
        self.zh = zh
        return self

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else str(self)


@dataclass
class ExampleResult:
    example: Example
    line: int | None
    decision: Decision | None
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _because(decision: Decision, rule_id: str, lang: str) -> str:
    r = decision.rule(rule_id)
    msg = r.message(lang) if r is not None else None
    if not msg:
        return ""
    return f"（{msg}）" if lang == "zh" else f" ({msg})"


def _deciding_rules(decision: Decision, skip: set[str]) -> list[str]:
    """The rules that made the outcome what it is: for ``fail`` the error-severity rules that
    failed, for ``indeterminate`` those that could not be decided (rules of lower severity,
    rules that do not apply and waived rules never decide it); minus ``skip``."""
    if decision.outcome == Outcome.FAIL:
        wanted = Status.FAIL
    elif decision.outcome == Outcome.INDETERMINATE:
        wanted = Status.ERROR
    else:
        return []
    return [
        f"{r.id}={r.status}"
        for r in decision.rules
        if r.status == wanted and r.severity == Severity.ERROR and r.id not in skip
    ]


def check_example(book: CompiledRulebook, example: Example) -> tuple[Decision | None, list[Mismatch]]:
    """Evaluate one example and say how it differs from what it expects (nothing when it holds).

    Each difference is listed once: a rule whose status differs from what the example says
    is reported on its own line and is not repeated among the rules that decided an
    unexpected outcome.
    """
    try:
        decision_spec = book.decision(example.decision)
    except KeyError:
        known = ", ".join(book.decisions)
        return None, [
            Mismatch(
                f"the rulebook has no decision `{example.decision}`; it has: {known}",
                f"规则集没有决定 `{example.decision}`；已有：{known}",
            )
        ]
    decision = decision_spec.evaluate(example.record, example.as_of)
    problems: list[Mismatch] = []
    wrong_rules: list[Mismatch] = []
    wrong_ids: set[str] = set()
    for rule_id, expected in example.expect_rules.items():
        r = decision.rule(rule_id)
        got = str(r.status) if r is not None else "missing"
        if got != expected:
            wrong_ids.add(rule_id)
            wrong_rules.append(
                Mismatch(
                    f"rule {rule_id}: expected {expected}, got {got}{_because(decision, rule_id, 'en')}",
                    f"规则 {rule_id}：应为 {expected}，实为 {got}{_because(decision, rule_id, 'zh')}",
                )
            )
    if example.expect_outcome is not None and str(decision.outcome) != example.expect_outcome:
        deciding = _deciding_rules(decision, wrong_ids)
        problems.append(
            Mismatch(
                f"outcome: expected {example.expect_outcome}, got {decision.outcome}"
                + (f", decided by {', '.join(deciding)}" if deciding else ""),
                f"结论：应为 {example.expect_outcome}，实为 {decision.outcome}"
                + (f"，由 {'、'.join(deciding)} 决定" if deciding else ""),
            )
        )
    problems.extend(wrong_rules)
    for name, expected in example.expect_outputs.items():
        if expected is None:
            if name in decision.outputs:
                got_text = repr(to_json_value(decision.outputs[name]))
                problems.append(
                    Mismatch(f"output {name}: expected none, got {got_text}", f"输出 {name}：应为无，实为 {got_text}")
                )
            continue
        if name not in decision.outputs:
            why = decision.output_errors.get(name)
            problems.append(
                Mismatch(
                    f"output {name}: expected {expected!r}, got none" + (f" ({why.text.en})" if why else ""),
                    f"输出 {name}：应为 {expected!r}，实为无" + (f"（{why.text.zh}）" if why else ""),
                )
            )
            continue
        got_value: Any = to_json_value(decision.outputs[name])
        if got_value != to_json_value(expected):
            problems.append(
                Mismatch(
                    f"output {name}: expected {expected!r}, got {got_value!r}",
                    f"输出 {name}：应为 {expected!r}，实为 {got_value!r}",
                )
            )
    return decision, problems


def run_examples(book: CompiledRulebook) -> list[ExampleResult]:
    """The result of every example in the rulebook, in file order."""
    from engine.cache import cached_example_lines

    def example_lines() -> list[int | None]:
        from engine.build import load_yaml_cached

        positions = load_yaml_cached(book.source).positions
        found = (positions.get(ex.path) for ex in book.book.examples)
        return [book.source.line_col(pos.value.start)[0] if pos is not None else None for pos in found]

    lines = cached_example_lines(book.source.text, example_lines)  # not the YAML loaded again
    out = []
    for ex, line in zip(book.book.examples, lines, strict=True):
        decision, problems = check_example(book, ex)
        out.append(ExampleResult(ex, line, decision, problems))
    return out


@dataclass
class Coverage:
    """Which statuses the examples make each rule reach.

    ``needed`` gives, for a rule of kind ``data``, the statuses that cover it (``pass`` and
    ``error``: its check holds, and it catches a record that contradicts itself); every
    other rule needs ``pass`` and ``fail``.
    """

    statuses: dict[tuple[str, str], set[str]]
    needed: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def covered(self, key: tuple[str, str]) -> bool:
        """A rule is covered when some example makes it pass and some example makes it fail
        (a data rule: some example makes it error)."""
        return self.needed.get(key, _PASS_FAIL) <= self.statuses[key]

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
                out.append((decision, rule, sorted(self.needed.get((decision, rule), _PASS_FAIL) - seen)))
        return out


_PASS_FAIL = frozenset({"pass", "fail"})
_PASS_ERROR = frozenset({"pass", "error"})


def rule_coverage(book: CompiledRulebook, results: list[ExampleResult] | None = None) -> Coverage:
    """For each rule of each decision, the statuses its examples reach (pass, fail, not_applicable, ...)."""
    results = results if results is not None else run_examples(book)
    statuses: dict[tuple[str, str], set[str]] = {
        (name, r.spec.id): set() for name, d in book.decisions.items() for r in d.rules
    }
    needed = {(name, r.spec.id): _PASS_ERROR for name, d in book.decisions.items() for r in d.rules if r.spec.is_data}
    for res in results:
        if res.decision is None:
            continue
        for r in res.decision.rules:
            statuses.setdefault((res.example.decision, r.id), set()).add(str(r.status))
    return Coverage(statuses, needed)
