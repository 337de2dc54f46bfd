"""`rulebook diff`: what changed between two versions of a rulebook, and for whom.

``diff_rulebooks(old, new)`` compares the structure: decisions, rules (added,
removed, and per rule every attribute that changed: its condition, severity,
messages, citation…), parameters with their old and new values, named values
and outputs.  ``diff_records(old, new, records)`` evaluates each record with
both versions and yields those whose outcome or outputs differ, naming the
rules whose status changed: the effect of the change on real data;
:class:`Compared` counts what was compared, file by file.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.evaluate import CompiledDecision, CompiledRulebook, Decision, InputRef, to_json_value
from engine.messages import Text as MessageText
from engine.messages import listing, msg
from engine.model import DecisionSpec, RuleSpec, Text

__all__ = ["Change", "Compared", "RecordChange", "RulebookDiff", "diff_records", "diff_rulebooks"]

_RULE_FIELDS = (
    "article",
    "item",
    "cite",
    "kind",
    "when",
    "require",
    "severity",
    "waivable",
    "values",
    "message",
    "note",
    "title",
)


@dataclass(frozen=True)
class Change:
    """One difference: ``kind`` is added, removed or changed; ``where`` names the thing."""

    kind: str
    where: str
    old: Any = None
    new: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "old": to_json_value(self.old), "new": to_json_value(self.new)}


@dataclass
class RulebookDiff:
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "changes": [c.to_json() for c in self.changes]}


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return {"zh": value.zh, "en": value.en}
    if hasattr(value, "text") and hasattr(value, "path"):  # an expression
        return value.text
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return {k: _plain(v) for k, v in value}
    if hasattr(value, "value") and type(value).__name__ == "Severity":
        return str(value)
    return value


def _rule_changes(decision: str, old: RuleSpec, new: RuleSpec) -> list[Change]:
    out = []
    for name in _RULE_FIELDS:
        a, b = _plain(getattr(old, name)), _plain(getattr(new, name))
        if a != b:
            out.append(Change("changed", f"{decision}/{old.id}.{name}", a, b))
    return out


def _named(kind: str, decision: str, old: Iterable[tuple[str, Any]], new: Iterable[tuple[str, Any]]) -> list[Change]:
    a, b = {k: _plain(v) for k, v in old}, {k: _plain(v) for k, v in new}
    out = [Change("removed", f"{decision}/{kind} {k}", a[k]) for k in a if k not in b]
    out += [Change("added", f"{decision}/{kind} {k}", None, b[k]) for k in b if k not in a]
    out += [Change("changed", f"{decision}/{kind} {k}", a[k], b[k]) for k in a if k in b and a[k] != b[k]]
    return out


def _decision_changes(old: DecisionSpec, new: DecisionSpec) -> list[Change]:
    name = old.name
    out: list[Change] = []
    for attr in ("record_kind", "as_of"):
        a, b = _plain(getattr(old, attr)), _plain(getattr(new, attr))
        if a != b:
            out.append(Change("changed", f"{name}.{attr}", a, b))
    out += _named("value", name, old.values, new.values)
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    out += [Change("removed", f"{name}/{rid}", old_rules[rid].cite) for rid in old_rules if rid not in new_rules]
    out += [Change("added", f"{name}/{rid}", None, new_rules[rid].cite) for rid in new_rules if rid not in old_rules]
    for rid in old_rules:
        if rid in new_rules:
            out += _rule_changes(name, old_rules[rid], new_rules[rid])
    out += _named(
        "output",
        name,
        ((o.name, (o.value, o.when)) for o in old.outputs),
        ((o.name, (o.value, o.when)) for o in new.outputs),
    )
    return out


def diff_rulebooks(old: CompiledRulebook, new: CompiledRulebook) -> RulebookDiff:
    """The structural difference between two rulebooks (usually two versions of one)."""
    a, b = old.book, new.book
    diff = RulebookDiff(f"{a.id}@{a.version}", f"{b.id}@{b.version}")
    for attr in ("id", "status", "effective_from", "effective_until", "supersedes"):
        x, y = getattr(a, attr), getattr(b, attr)
        if x != y:
            diff.changes.append(Change("changed", attr, x, y))
    old_params = {p.name: p.value for p in a.parameters}
    new_params = {p.name: p.value for p in b.parameters}
    for k in old_params:
        if k not in new_params:
            diff.changes.append(Change("removed", f"parameter {k}", old_params[k]))
        elif old_params[k] != new_params[k]:
            diff.changes.append(Change("changed", f"parameter {k}", old_params[k], new_params[k]))
    diff.changes += [Change("added", f"parameter {k}", None, new_params[k]) for k in new_params if k not in old_params]
    old_decisions = {d.name: d for d in a.decisions}
    new_decisions = {d.name: d for d in b.decisions}
    diff.changes += [Change("removed", f"decision {n}") for n in old_decisions if n not in new_decisions]
    diff.changes += [Change("added", f"decision {n}") for n in new_decisions if n not in old_decisions]
    for n in old_decisions:
        if n in new_decisions:
            diff.changes += _decision_changes(old_decisions[n], new_decisions[n])
    return diff


@dataclass(frozen=True)
class RecordChange:
    """A record whose decision differs between the two versions."""

    input: InputRef | None
    record: str | None
    old: Decision
    new: Decision
    rules: tuple[tuple[str, str, str], ...]  # (rule id, old status, new status)

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "input": self.input.to_json() if self.input else None,
            "outcome": {"old": str(self.old.outcome), "new": str(self.new.outcome)},
            "outputs": {"old": to_json_value(self.old.outputs), "new": to_json_value(self.new.outputs)},
            "rules": [{"id": r, "old": a, "new": b} for r, a, b in self.rules],
        }


def diff_records(
    old: CompiledDecision, new: CompiledDecision, records: Iterable[tuple[InputRef, Any]], as_of: _dt.date | None = None
) -> Iterator[RecordChange]:
    """Each record whose outcome or outputs change, with the rules whose status changed."""
    for ref, record in records:
        if not isinstance(record, dict):
            continue
        a = old.evaluate(record, as_of, ref)
        b = new.evaluate(record, as_of, ref)
        # the statuses by rule, not the rules' results: a decision's fast path gives them without
        # making a result object per rule, and most records change nothing
        old_status, new_status = a.statuses, b.statuses
        outputs_differ = to_json_value(a.outputs) != to_json_value(b.outputs)  # (a date range has no plain ==)
        if old_status == new_status and a.outcome == b.outcome and not outputs_differ:
            continue
        rules = tuple(
            (rid, _status_name(old_status.get(rid)), _status_name(new_status.get(rid)))
            for rid in dict.fromkeys([*old_status, *new_status])
            if old_status.get(rid) != new_status.get(rid)
        )
        if a.outcome != b.outcome or outputs_differ or rules:
            yield RecordChange(ref, b.record_id, a, b, rules)


def _status_name(status: Any) -> str:
    return "absent" if status is None else str(status)


class Compared:
    """How many records of which files were decided with both versions (``diff --data``).

    Every file is read once for each decision; the counts are those of the first decision's
    reading (the same records each time).  Records that could not be read are counted
    apart: they were not compared.
    """

    def __init__(self, decisions: Iterable[str]) -> None:
        self.decisions = list(decisions)
        self.files: dict[str, list[int]] = {}  # path -> [records read, unreadable]
        self.blank = 0  # blank lines skipped in the files

    def count(
        self, decision: str, path: str, records: Iterable[tuple[InputRef, Any]]
    ) -> Iterator[tuple[InputRef, Any]]:
        """``records`` passed on, counted when ``decision`` is the first."""
        counts = self.files.setdefault(path, [0, 0])
        first = bool(self.decisions) and decision == self.decisions[0]
        for ref, record in records:
            if first:
                counts[0] += 1
                counts[1] += not isinstance(record, dict)
            yield ref, record

    @property
    def records(self) -> int:
        return sum(read - bad for read, bad in self.files.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "decisions": self.decisions,
            "files": [
                {"file": path, "records": read - bad, "unreadable": bad} for path, (read, bad) in self.files.items()
            ],
            "blank_lines": self.blank,
        }

    def text(self) -> MessageText:
        """``3 records compared (admission): `a.jsonl` 1, `b.jsonl` 2``, in both languages."""
        from engine.io.terminal import escape_controls

        files = [
            msg("cli.diff-file:unreadable", file=escape_controls(path), count=read - bad, unreadable=bad)
            if bad
            else msg("cli.diff-file", file=escape_controls(path), count=read)
            for path, (read, bad) in self.files.items()
        ]
        text = msg(
            "cli.diff-compared",
            count=self.records,
            decisions=listing(self.decisions),
            files=MessageText(", ".join(f.en for f in files), "，".join(f.zh for f in files)),
        )
        if not self.blank:
            return text
        blank = msg("cli.summary-blank", count=self.blank)
        return MessageText(f"{text.en}; {blank.en}", f"{text.zh}；{blank.zh}")
