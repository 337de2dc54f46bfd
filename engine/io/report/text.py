"""`--format text`: a readable report with rich, and the `explain` view.

User text (names, messages, values) is always handed to rich as ``Text``
objects, never as markup, so a record containing ``[bold]`` prints as is.
The ``Text`` of this module also shows control characters and bidirectional
controls escaped (``\x1b``; see ``engine.io.terminal``), so a record cannot
recolour, rewrite or hide what the report shows: everything written here goes
through it.  The console ends a run whose reader went away with
``BrokenPipeError`` (rich's own answer would be to exit with 1).
"""

from __future__ import annotations

import errno
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from engine.evaluate import Decision, InputRef, RuleResult, format_value
from engine.io.report import Summary
from engine.io.terminal import escape_controls
from engine.messages import msg
from engine.model import Status


class Text(RichText):
    """rich's ``Text`` whose content is shown with control characters escaped."""

    def __init__(self, text: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(escape_controls(text), *args, **kwargs)

    def append(self, text: Any, style: Any = None) -> Text:
        super().append(escape_controls(text) if isinstance(text, str) else text, style)
        return self


class _Console(Console):
    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more to write: the command ends as a closed pipe does
        raise BrokenPipeError(errno.EPIPE, "the output was closed")


__all__ = ["TextReport", "explain"]

SYMBOL = {
    "pass": ("✓", "green"),
    "fail": ("✗", "red"),
    "not_applicable": ("–", "dim"),
    "error": ("!", "yellow"),
    "waived": ("≈", "cyan"),
    "indeterminate": ("?", "yellow"),
}
OUTCOME_WORDS = {
    "zh": {"pass": "通过", "fail": "不通过", "indeterminate": "无法判断", "error": "无法读取"},
    "en": {"pass": "pass", "fail": "fail", "indeterminate": "indeterminate", "error": "unreadable"},
}
REJECTED = {"zh": "拒绝（不符合记录结构）", "en": "rejected (breaks its record schema)"}


def _outcome_word(decision: Any, lang: str) -> str:
    outcome = str(decision.outcome)
    if outcome == "error" and getattr(decision, "schema", None):
        return REJECTED[lang]
    return OUTCOME_WORDS[lang][outcome]


STATUS_WORDS = {
    "zh": {"pass": "通过", "fail": "不符合", "not_applicable": "不适用", "error": "无法判断", "waived": "已豁免"},
    "en": {"pass": "pass", "fail": "fail", "not_applicable": "not applicable", "error": "error", "waived": "waived"},
}


def make_console(out: IO[str], color: bool | None = None) -> Console:
    return _Console(
        file=out,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        force_terminal=color if color else None,
        no_color=color is False,
        width=120,
    )


def _where(ref: InputRef | None) -> str:
    if ref is None or ref.file is None:
        return ""
    return f"{ref.file}:{ref.line}" if ref.line is not None else ref.file


def _record_name(decision: Decision, lang: str) -> str:
    rules = decision.rules
    record = rules[0].record if rules else None
    name = record.get("name") if isinstance(record, dict) else None
    rid = decision.record_id or msg("cli.no-id").get(lang)
    return f"{rid} {name}" if isinstance(name, str) else rid


def _schema_lines(decision: Any, lang: str, indent: str = "    ") -> list[Text]:
    """The record's schema violations (schema enforcement), one line each."""
    from engine.io.report import schema_items

    rejected = str(decision.outcome) == "error"
    lines = []
    for v in schema_items(decision, lang):
        line = Text(indent)
        line.append(
            "! " if rejected and v["severity"] == "error" else "⚠ ",
            style="yellow" if rejected and v["severity"] == "error" else "magenta",
        )
        line.append("记录结构 " if lang == "zh" else "schema ", style="bold")
        line.append(v["path"], style="dim")
        line.append("  ")
        line.append(v["message"])
        lines.append(line)
    return lines


def _rule_line(r: RuleResult, lang: str, indent: str = "    ") -> Text:
    sym, style = SYMBOL[str(r.status)]
    line = Text(indent)
    line.append(f"{sym} ", style=style)
    line.append(f"{r.spec.cite} ", style="bold")
    line.append(f"{r.id}", style="dim")
    msg = r.message(lang)
    if msg:
        line.append("  ")
        line.append(msg)
    if r.status == Status.WAIVED and r.waiver is not None:
        reason = r.waiver.get("reason")
        approved = r.waiver.get("approved_by")
        line.append(
            f"  [{'豁免' if lang == 'zh' else 'waived'}: {reason}; "
            f"{'批准' if lang == 'zh' else 'approved by'} {approved}]",
            style="cyan",
        )
    elif r.waiver_unused:
        line.append(
            "  [豁免未使用：规则已通过]" if lang == "zh" else "  [waiver unused: the rule did not fail]", style="dim"
        )
    if r.severity != "error":
        line.append(f" ({r.severity})", style="dim")
    return line


class TextReport:
    """Per record: the outcome and every rule that did not pass; then a summary."""

    def __init__(
        self, out: IO[str], *, lang: str = "zh", color: bool | None = None, verbose: bool = False, **_: Any
    ) -> None:
        self.console = make_console(out, color)
        self.lang = lang
        self.verbose = verbose
        self.summary = Summary()

    def begin(self) -> None:
        return None

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        outcome = str(decision.outcome)
        sym, style = SYMBOL[outcome]
        head = Text()
        head.append(f"{sym} ", style=style)
        head.append(_record_name(decision, self.lang), style="bold")
        head.append(f"  {_outcome_word(decision, self.lang)}", style=style)
        where = _where(decision.input)
        if where:
            head.append(f"  {where}", style="dim")
        if len({decision.decision}) and self.verbose:
            head.append(f"  [{decision.decision}]", style="dim")
        self.console.print(head)
        for r in decision.rules:
            if (r.status in (Status.FAIL, Status.ERROR, Status.WAIVED) or r.waiver_unused) and (
                r.severity != "info" or self.verbose
            ):
                self.console.print(_rule_line(r, self.lang))
        for line in _schema_lines(decision, self.lang):
            self.console.print(line)
        if decision.outputs:
            outs = Text("    → ", style="dim")
            outs.append(", ".join(f"{k} = {format_value(v, self.lang)}" for k, v in decision.outputs.items()))
            self.console.print(outs)

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.outcomes["error"] += 1
        line = Text()
        line.append("! ", style="yellow")
        line.append(_where(ref) or "(input)", style="bold")
        line.append(f"  {OUTCOME_WORDS[self.lang]['error']}: ", style="yellow")
        line.append(message)
        self.console.print(line)

    def end(self) -> Summary:
        s = self.summary
        zh = self.lang == "zh"
        self.console.print()
        parts = Text("共 " if zh else "")
        parts.append(f"{s.total}")
        parts.append(" 条记录：" if zh else " record: " if s.total == 1 else " records: ")
        words = OUTCOME_WORDS[self.lang]
        first = True
        for key in ("pass", "fail", "indeterminate", "error"):
            if s.outcomes.get(key):
                if not first:
                    parts.append("，" if zh else ", ")
                first = False
                parts.append(f"{words[key]} {s.outcomes[key]}", style=SYMBOL[key][1])
        if first:
            parts.append("无" if zh else "none")
        if s.schema_records:
            parts.append(
                f"；不符合记录结构 {s.schema_records} 条"
                if zh
                else f"; {s.schema_records} breaking {'its' if s.schema_records == 1 else 'their'} record schema",
                style="magenta",
            )
        if s.blank_lines:
            parts.append(
                ("；" if zh else "; ") + msg("cli.summary-blank", count=s.blank_lines).get(self.lang), style="dim"
            )
        self.console.print(parts)
        if s.failures:
            table = Table(title="未通过的规则" if zh else "Rules not passed", title_justify="left", show_edge=False)
            table.add_column("条款" if zh else "cite")
            table.add_column("规则" if zh else "rule")
            table.add_column("决定" if zh else "decision")
            table.add_column("记录数" if zh else "records", justify="right")
            for (dec, rule, cite), n in sorted(s.failures.items(), key=lambda kv: (-kv[1], kv[0])):
                table.add_row(Text(cite), Text(rule), Text(dec), Text(str(n)))
            self.console.print(table)
        return s


def explain(decision: Decision, out: IO[str], lang: str = "zh", color: bool | None = None) -> None:
    """Every rule of one decision on one record: status, citation, message, values, note."""
    console = make_console(out, color)
    zh = lang == "zh"
    outcome = str(decision.outcome)
    head = Text()
    head.append(f"{SYMBOL[outcome][0]} ", style=SYMBOL[outcome][1])
    head.append(_record_name(decision, lang), style="bold")
    head.append(f"  {decision.rulebook}@{decision.version} {decision.decision}", style="dim")
    console.print(head)
    info = Text("  ")
    info.append(("结论：" if zh else "outcome: ") + _outcome_word(decision, lang), style=SYMBOL[outcome][1])
    if decision.as_of:
        info.append(("    评估日期：" if zh else "    as of: ") + decision.as_of.isoformat())
    console.print(info)
    for r in decision.rules:
        line = _rule_line(r, lang, "  ")
        line.append(f"  [{STATUS_WORDS[lang][str(r.status)]}]", style=SYMBOL[str(r.status)][1])
        console.print(line)
        if r.values:
            vals = Text("      ", style="dim")
            vals.append(", ".join(f"{k} = {format_value(v, lang)}" for k, v in r.values.items()), style="dim")
            console.print(vals)
        if r.error is not None and r.error.path:
            console.print(Text(f"      {'字段' if zh else 'path'}: {r.error.path}", style="yellow"))
        if r.spec.note is not None:
            console.print(Text(f"      {'注' if zh else 'note'}: {r.spec.note.get(lang)}", style="italic dim"))
    for line in _schema_lines(decision, lang, "  "):
        console.print(line)
    for name, value in decision.outputs.items():
        console.print(Text(f"  → {name} = {format_value(value, lang)}"))
    for name, err in decision.output_errors.items():
        console.print(Text(f"  ! {name}: {err.text.get(lang)}", style="yellow"))
