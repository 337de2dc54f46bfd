"""`--format json`: one JSON object per line, per record and decision (CONTRACT)."""

from __future__ import annotations

import json
from typing import IO, Any

from engine.evaluate import Decision, InputRef
from engine.report import Summary, error_object

__all__ = ["JsonReport"]


class JsonReport:
    def __init__(self, out: IO[str], *, lang: str = "zh", **_: Any) -> None:
        self.out = out
        self.lang = lang
        self.summary = Summary()

    def begin(self) -> None:
        return None

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        line = getattr(decision, "json_line", None)  # already serialized by a worker process (--jobs)
        self.out.write((line if line is not None else json.dumps(decision.to_json(self.lang), ensure_ascii=False))
                       + "\n")

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.outcomes["error"] += 1
        self.out.write(json.dumps(error_object(rulebook, version, decision, ref, message), ensure_ascii=False) + "\n")

    def end(self) -> Summary:
        self.out.flush()
        return self.summary
