"""`--format github`: GitHub Actions workflow commands, one annotation per failed rule.

``::error file=applicants.jsonl,line=8,title=第十二条 citizen::message`` shows on
the pull request at the failing record's line.  Warning rules become
``::warning``, unreadable records ``::error`` with the reason; a record that breaks its
record schema gets a ``::warning`` per violation (``::error`` when it is rejected).  Values are
escaped as the workflow-command syntax requires (``%``, CR and LF in the
message; also ``:`` and ``,`` in properties).
"""

from __future__ import annotations

from typing import IO, Any

from engine.evaluate import Decision, InputRef
from engine.io.report import Summary, failed_rules, schema_items
from engine.io.terminal import escape_controls
from engine.messages import msg

__all__ = ["GithubReport", "escape_data", "escape_property"]


def escape_data(text: str) -> str:
    """A message for a workflow command; a control character from the data (other than a line
    break) is shown escaped, ``\\x1b``: the log viewer would act on it."""
    return escape_controls(text, spacing=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReport:
    # a record that passed is only counted and named here: the columnar engine need not explain it
    shows_passes = False

    def __init__(self, out: IO[str], *, lang: str = "zh", **_: Any) -> None:
        self.out = out
        self.lang = lang
        self.summary = Summary()

    def begin(self) -> None:
        return None

    def _command(self, level: str, ref: InputRef | None, title: str, message: str) -> None:
        props = []
        if ref is not None and ref.file is not None:
            props.append(f"file={escape_property(ref.file)}")
            if ref.line is not None:
                props.append(f"line={ref.line}")
        props.append(f"title={escape_property(title)}")
        self.out.write(f"::{level} {','.join(props)}::{escape_data(message)}\n")

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        record = decision.record_id or msg("cli.no-id").get(self.lang)
        for r in failed_rules(decision):
            level = "warning" if r.severity == "warning" else "error"
            title = f"{r.spec.cite} {r.id}"
            self._command(level, decision.input, title, f"{record}: {r.message(self.lang) or r.status}")
        rejected = str(decision.outcome) == "error"
        for v in schema_items(decision, self.lang):
            level = "error" if rejected and v["severity"] == "error" else "warning"
            self._command(level, decision.input, f"schema {v['path']}", f"{record}: {v['message']}")

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.add_error()
        self._command("error", ref, msg("report.unreadable-record").get(self.lang), message)

    def write_input_problem(self, ref: InputRef, note: Any) -> None:
        """A problem with an input as a whole (``engine.io.records.InputNote``: a column that names no
        field, an empty input), at its header cell where it has one."""
        d = note.problem
        message, advice = d.text(self.lang)
        props = [f"file={escape_property(ref.file or '-')}"]
        if ref.line is not None:
            props.append(f"line={ref.line}")
        if note.column is not None:
            props.append(f"col={note.column}")
        props.append(f"title={escape_property(d.code)}")
        text = f"{message} ({advice})" if advice else message
        self.out.write(f"::{'error' if d.severity == 'error' else 'warning'} {','.join(props)}::{escape_data(text)}\n")

    def end(self) -> Summary:
        o = self.summary.outcomes
        from engine.messages import msg

        schema = (
            msg("cli.summary:schema", count=self.summary.schema_records).get(self.lang)
            if self.summary.schema_records
            else ""
        )
        counts = msg(
            "cli.summary",
            total=self.summary.total,
            passed=o.get("pass", 0),
            failed=o.get("fail", 0),
            indeterminate=o.get("indeterminate", 0),
            errors=o.get("error", 0),
        ).get(self.lang)
        blank = (
            msg("cli.summary-blank", count=self.summary.blank_lines).get(self.lang) if self.summary.blank_lines else ""
        )
        blank = f"{'；' if self.lang == 'zh' else '; '}{blank}" if blank else ""
        self.out.write(f"::notice title=rulebook::{escape_data(counts)}{schema}{escape_data(blank)}\n")
        self.out.flush()
        return self.summary
