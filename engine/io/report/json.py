"""`--format json`: one JSON object per line, per record and decision (CONTRACT)."""

from __future__ import annotations

import json
import os
from typing import IO, Any

from engine.evaluate import Decision, InputRef
from engine.io.report import Summary, error_object

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
        if line is None:
            to_text = getattr(decision, "to_json_text", None)  # a Decision writes its own line, fast
            line = (
                to_text(self.lang)
                if to_text is not None
                else json.dumps(decision.to_json(self.lang), ensure_ascii=False)
            )
        self.out.write(line + "\n")

    def direct_fd(self) -> int | None:
        """The output's file descriptor, everything written so far flushed, when UTF-8 bytes may be
        written to it directly (a file or stream in UTF-8 without newline translation); else None."""
        out = self.out
        encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" or os.linesep != "\n" or getattr(out, "buffer", None) is None:
            return None
        try:
            fd = out.fileno()
        except (AttributeError, OSError, ValueError):
            return None
        out.flush()
        return fd

    def write_block(self, block: Any) -> None:
        """The lines of a run of records decided together (``engine.io.parallel.Block``), with their counts
        (no text: a worker process wrote it to ``direct_fd()``)."""
        summary = self.summary
        summary.merge(block)
        text = block.text
        if text is None:
            return
        if text.__class__ is bytes:  # UTF-8 from a worker process: straight to the file when it is one
            buffer = getattr(self.out, "buffer", None)
            if buffer is not None and self.direct_fd() is not None:
                buffer.write(text)
                return
            text = text.decode("utf-8")
        self.out.write(text)

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.outcomes["error"] += 1
        self.out.write(json.dumps(error_object(rulebook, version, decision, ref, message), ensure_ascii=False) + "\n")

    def end(self) -> Summary:
        self.out.flush()
        return self.summary
