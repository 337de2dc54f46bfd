"""Output formats for `rulebook check`: each turns a stream of decisions into text.

A format is a class with ``begin()``, ``write(decision)``, ``write_error(...)``
and ``end() -> Summary``; ``FORMATS`` maps the ``--format`` names to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.evaluate import Decision, InputRef

__all__ = ["FORMATS", "Summary", "error_object"]


@dataclass
class Summary:
    """Counts over a run of `check`, by outcome and by failing rule."""

    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (decision, rule id, cite)
    warnings: int = 0

    def add(self, decision: Decision) -> None:
        self.outcomes[str(decision.outcome)] += 1
        for r in decision.rules:
            if r.status in ("fail", "error") and r.severity != "info":
                self.failures[(decision.decision, r.id, r.spec.cite)] += 1
                if r.status == "fail" and r.severity == "warning":
                    self.warnings += 1

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def error_object(rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> dict[str, Any]:
    """The JSON object for a record that could not be read (CONTRACT: outcome `error`)."""
    return {"rulebook": rulebook, "version": version, "decision": decision, "record": None,
            "input": ref.to_json(), "as_of": None, "outcome": "error", "rules": [], "outputs": {},
            "message": message}


def formats() -> dict[str, Any]:
    from engine.report.json import JsonReport
    from engine.report.text import TextReport

    return {"text": TextReport, "json": JsonReport}


FORMATS = ("text", "json")
