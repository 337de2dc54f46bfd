"""Output formats for `rulebook check`: each turns a stream of decisions into text.

A format is a class with ``begin()``, ``write(decision)``, ``write_error(...)``
and ``end() -> Summary``; ``FORMATS`` maps the ``--format`` names to them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.evaluate import Decision, InputRef

__all__ = ["BUILTIN_FORMATS", "FORMATS", "Summary", "error_object", "failed_rules", "schema_items"]


@dataclass
class Summary:
    """Counts over a run of `check`, by outcome and by failing rule."""

    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (decision, rule id, cite)
    warnings: int = 0
    schema_records: int = 0  # records that break their record schema (schema enforcement)
    schema_problems: Counter[str] = field(default_factory=Counter)  # violations by path
    blank_lines: int = 0  # blank lines (or empty rows) of the input skipped, set by the command at the end

    def add(self, decision: Decision) -> None:
        self.outcomes[str(decision.outcome)] += 1
        violations = getattr(decision, "schema", None)
        if violations:
            self.add_schema(violations)
        failing = getattr(decision, "failing", None)  # a decision made in a worker process (--jobs)
        if failing is not None:
            for rule_id, status, severity, cite in failing:
                if severity != "info":
                    self.failures[(decision.decision, rule_id, cite)] += 1
                    if status == "fail" and severity == "warning":
                        self.warnings += 1
            return
        for r in decision.rules:
            if r.status in ("fail", "error") and r.severity != "info":
                self.failures[(decision.decision, r.id, r.spec.cite)] += 1
                if r.status == "fail" and r.severity == "warning":
                    self.warnings += 1

    def add_schema(self, violations: Any) -> None:
        self.schema_records += 1
        for v in violations:
            self.schema_problems[v.path if hasattr(v, "path") else v["path"]] += 1

    def merge(self, block: Any) -> None:
        """Add the counts of a block of records decided elsewhere (``engine.io.parallel.Block``)."""
        self.outcomes.update(block.outcomes)
        self.failures.update(block.failures)
        self.warnings += block.warnings
        self.schema_records += block.schema_records
        self.schema_problems.update(block.schema_problems)

    def add_error(self) -> None:
        self.outcomes["error"] += 1

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def error_object(rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> dict[str, Any]:
    """The JSON object for a record that could not be read (CONTRACT: outcome `error`)."""
    return {
        "rulebook": rulebook,
        "version": version,
        "decision": decision,
        "record": None,
        "input": ref.to_json(),
        "as_of": None,
        "outcome": "error",
        "rules": [],
        "outputs": {},
        "message": message,
    }


class Spool:
    """Lines kept in a temporary file until the end of a run, so that a report whose
    header needs the totals (JUnit, SARIF, HTML) still uses constant memory."""

    def __init__(self) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115 - closed in replay()

    def add(self, text: str) -> None:
        self._file.write(text)

    def replay(self, out: Any) -> None:
        import shutil

        self._file.seek(0)
        shutil.copyfileobj(self._file, out)
        self._file.close()


def formats() -> dict[str, Any]:
    """The built-in output formats by ``--format`` name."""
    from engine.io.report.github import GithubReport
    from engine.io.report.html import HtmlReport
    from engine.io.report.json import JsonReport
    from engine.io.report.junit import JunitReport
    from engine.io.report.parquet import ParquetReport
    from engine.io.report.sarif import SarifReport
    from engine.io.report.text import TextReport

    return {
        "text": TextReport,
        "json": JsonReport,
        "junit": JunitReport,
        "sarif": SarifReport,
        "github": GithubReport,
        "html": HtmlReport,
        "parquet": ParquetReport,
    }


FORMATS = ("text", "json", "junit", "sarif", "github", "html", "parquet")


def schema_items(decision: Any, lang: str) -> list[dict[str, Any]]:
    """The record's schema violations as JSON objects (``path``, ``expected``, ``value``,
    ``message``, ``code``, ``severity``) in ``lang``: from a decision made here or read back from a
    worker's JSON line."""
    violations = getattr(decision, "schema", None) or ()
    return [v if isinstance(v, dict) else v.to_json(lang) for v in violations]


def failed_rules(decision: Decision, include_info: bool = False) -> list[Any]:
    """The rules worth reporting for a record: failed, errored (and info ones if asked)."""
    return [r for r in decision.rules if r.status in ("fail", "error") and (include_info or r.severity != "info")]


# The built-in formats by name (imported here, at the end, because each module
# uses the helpers above).
BUILTIN_FORMATS: dict[str, Any] = formats()
