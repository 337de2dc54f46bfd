"""``rulebook check --format csv``: one summary row per record, for a spreadsheet.

Columns: rulebook, version, decision, record, file, line, as_of, outcome, the
ids of the rules that failed, the ids of the rules that could not be
evaluated, and a message (the first failing rule's, or why the record could
not be read).  The interface is the engine's report interface:
``begin()``, ``write(decision)``, ``write_error(...)``, ``end() -> Summary``.
"""

from __future__ import annotations

import csv
from typing import IO, Any

from engine.evaluate import Decision, InputRef
from engine.io.report import Summary

__all__ = ["COLUMNS", "CsvReport"]

COLUMNS = (
    "rulebook",
    "version",
    "decision",
    "record",
    "file",
    "line",
    "as_of",
    "outcome",
    "failed",
    "errors",
    "message",
)


# [docs:format_class]
class CsvReport:
    def __init__(self, out: IO[str], *, lang: str = "zh", **_: Any) -> None:
        self.lang = lang
        self.writer = csv.writer(out, lineterminator="\n")
        self.out = out
        self.summary = Summary()

    def begin(self) -> None:
        self.writer.writerow(COLUMNS)

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        failed = [r for r in decision.rules if r.status == "fail"]
        errors = [r for r in decision.rules if r.status == "error"]
        first = failed[0] if failed else (errors[0] if errors else None)
        ref = decision.input
        self.writer.writerow(
            [
                decision.rulebook,
                decision.version,
                decision.decision,
                decision.record_id or "",
                ref.file if ref else "",
                ref.line if ref and ref.line is not None else "",
                decision.as_of.isoformat() if decision.as_of else "",
                str(decision.outcome),
                ";".join(r.id for r in failed),
                ";".join(r.id for r in errors),
                (first.message(self.lang) or "") if first else "",
            ]
        )

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.outcomes["error"] += 1
        self.writer.writerow(
            [rulebook, version, decision, "", ref.file or "", ref.line or "", "", "error", "", "", message]
        )

    def end(self) -> Summary:
        self.out.flush()
        return self.summary


# [/docs]
