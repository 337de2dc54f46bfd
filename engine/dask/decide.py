"""What a worker does with a partition: decide its records with the decision built from the spec.

Three shapes of result, for three users: decision objects (the CONTRACT JSON
shape, for :func:`engine.dask.check_bag`), a JSON Lines block with the summary's
counts (``check --dask --format json``: the client writes the text as it is, or,
when the worker could write it into a part beside the output, appends that part:
``engine.dask.spool``), and one row per record for the other reports (the JSON
line, the outcome and the rules that did not pass, read back by
``engine.io.parallel.DecisionView``).
"""

from __future__ import annotations

import datetime as _dt
import json
from collections import Counter
from typing import Any

from engine.dask.rulebook import RulebookSpec, decision_for
from engine.evaluate import InputRef

__all__ = ["decide_objects", "decide_part", "diff_part"]


def _located(item: Any) -> tuple[InputRef | None, Any]:
    """A bag element as (where it came from, record): a pair from ``read_records``, or a record alone."""
    if isinstance(item, tuple) and len(item) == 2 and (item[0] is None or isinstance(item[0], tuple)):
        ref = item[0]
        return (ref if ref is None or isinstance(ref, InputRef) else InputRef(*ref)), item[1]
    return None, item


def _record(item: Any) -> Any:
    from engine.io.records import parse_json_line

    return parse_json_line(item) if item.__class__ is bytes or item.__class__ is str else item


def _error_object(spec: RulebookSpec, ref: InputRef | None, bad: Any, lang: str) -> dict[str, Any]:
    from engine.io.report import error_object

    message = bad.message_zh if lang == "zh" else bad.message
    return error_object(spec.rulebook, spec.version, spec.decision, ref or InputRef(None, None), message)


def decide_objects(items: Any, spec: RulebookSpec, as_of: _dt.date | None, lang: str) -> list[dict[str, Any]]:
    """Each record's decision as its CONTRACT JSON object (a record that could not be read: its
    error object); blank-line notes are skipped."""
    from engine.io.records import BadRecord, InputNote

    decision = decision_for(spec, lang)
    out: list[dict[str, Any]] = []
    for item in items:
        ref, raw = _located(item)
        if raw.__class__ is InputNote:
            continue
        record = _record(raw)
        if isinstance(record, BadRecord):
            out.append(_error_object(spec, ref, record, lang))
            continue
        out.append(json.loads(decision.evaluate(record, as_of, ref).to_json_text(lang)))
    return out


class PartResult:
    """What a partition gives the command line: its file, records read, blank lines skipped,
    the notes about the input (``(ref, InputNote)`` with a problem), ``payload``: a block of
    JSON lines with its counts (``engine.io.parallel.Block``) or one row per record, and
    ``spooled``: the (name, size) of the part holding the block's lines when the worker wrote
    them beside the output (the block then has no text)."""

    __slots__ = ("blank", "count", "file", "notes", "payload", "spooled")

    def __init__(
        self,
        file: str,
        count: int,
        blank: int,
        notes: list[Any],
        payload: Any,
        spooled: tuple[str, int] | None = None,
    ) -> None:
        self.file = file
        self.count = count
        self.blank = blank
        self.notes = notes
        self.payload = payload
        self.spooled = spooled

    def __reduce__(self) -> tuple[Any, ...]:
        return (PartResult, (self.file, self.count, self.blank, self.notes, self.payload, self.spooled))


def decide_part(
    part: Any,
    base: int,
    spec: RulebookSpec,
    as_of: _dt.date | None,
    lang: str,
    mode: str,
    schema: Any,
    sheet: Any,
    spool: tuple[Any, ...] | None = None,
) -> PartResult:
    """Read and decide one partition for ``check --dask``: ``mode`` ``block`` (JSON lines and
    counts) or ``rows`` (per record: ``("bad", ref, BadRecord)`` or ``("ok", ref, JSON line,
    outcome, rules not passing, name)``).

    ``spool``: the run's folder beside the output and its token, and with ``local:N`` the
    output and the partition's place in it (``engine.dask.spool.Place``); a block's lines in
    UTF-8 are appended to the output at the partition's turn, or written into a part there, when
    this worker can, and only their size (and the part's name) go back."""
    from engine.dask.inputs import read_part
    from engine.io.parallel import Block
    from engine.io.records import BadRecord, InputNote
    from engine.io.report import Summary

    decision = decision_for(spec, lang)
    items = read_part(part, base, schema, sheet, lang)
    summary = Summary()
    lines: list[Any] = []  # UTF-8 bytes (sent to the client as they are), text once a line has no UTF-8
    text = False
    alike: dict[Any, list[Any]] = {}  # decisions alike for the summary: one of them and how many
    rows: list[tuple[Any, ...]] = []
    notes: list[Any] = []
    count = blank = 0
    for ref, raw in items:
        if raw.__class__ is InputNote:
            blank += raw.blank
            if raw.problem is not None:
                notes.append((ref, raw))
            continue
        count += 1
        record = _record(raw)
        if isinstance(record, BadRecord):
            if mode == "block":
                summary.add_error()
                line = json.dumps(_error_object(spec, ref, record, lang), ensure_ascii=False)
                if not text:
                    try:
                        lines.append(line.encode("utf-8"))
                        continue
                    except UnicodeEncodeError:
                        text, lines = True, [b.decode("utf-8") for b in lines]
                lines.append(line)
            else:
                rows.append(("bad", ref, record))
            continue
        d = decision.evaluate(record, as_of, ref)
        if mode == "block":
            compiled = getattr(d, "_cd", None)
            if compiled is not None and not d.schema:  # counted once per kind, as ``check --jobs`` counts
                key = (compiled, d.status_tuple, d.outcome)
                seen = alike.get(key)
                if seen is None:
                    alike[key] = [d, 1]
                else:
                    seen[1] += 1
            else:
                summary.add(d)
            if not text:
                try:
                    lines.append(d.to_json_bytes(lang))
                    continue
                except UnicodeEncodeError:  # a lone surrogate read from a record: the block goes as text
                    text, lines = True, [b.decode("utf-8") for b in lines]
            lines.append(d.to_json_text(lang))
        else:
            name = record.get("name")
            rows.append(
                ("ok", ref, d.to_json_text(lang), str(d.outcome), d.failing, name if isinstance(name, str) else None)
            )
    if mode != "block":
        return PartResult(part.name, count, blank, notes, rows)
    for d, n in alike.values():
        one = Summary()
        one.add(d)
        for outcome, v in one.outcomes.items():
            summary.outcomes[outcome] += v * n
        for failure, v in one.failures.items():
            summary.failures[failure] += v * n
        summary.warnings += one.warnings * n
    if lines:  # one join, the last line's newline included
        lines.append("" if text else b"")
    block = Block(
        ("\n" if text else b"\n").join(lines),
        count,
        dict(summary.outcomes),
        dict(summary.failures),
        summary.warnings,
        summary.schema_records,
        dict(summary.schema_problems),
    )
    block.file = part.name
    block.blank = blank
    spooled = None
    if spool is not None and block.text and block.text.__class__ is bytes:  # text: a lone surrogate, sent
        from engine.dask.spool import deliver

        spooled = deliver(spool, block.text)
        if spooled is not None:
            block.text = None
    return PartResult(part.name, count, blank, notes, block, spooled)


def diff_part(
    part: Any,
    base: int,
    old: RulebookSpec,
    new: RulebookSpec,
    as_of: _dt.date | None,
    schema: Any,
    sheet: Any,
    lang: str = "en",
) -> tuple[int, int, int, list[dict[str, Any]], Counter[tuple[str, str, str]]]:
    """One partition of ``diff --data --dask``: (records read, unreadable, blank lines, the changes
    as ``RecordChange.to_json()``, the changes counted per (rule, old status, new status))."""
    from engine.dask.inputs import read_part
    from engine.io.records import InputNote
    from engine.tools.diff import diff_records

    old_d, new_d = decision_for(old, lang), decision_for(new, lang)
    read = bad = blank = 0
    records: list[tuple[InputRef, Any]] = []
    for ref, raw in read_part(part, base, schema, sheet, lang):
        if raw.__class__ is InputNote:
            blank += raw.blank
            continue
        record = _record(raw)
        read += 1
        bad += not isinstance(record, dict)
        records.append((ref, record))
    changes = []
    per_rule: Counter[tuple[str, str, str]] = Counter()
    for change in diff_records(old_d, new_d, records, as_of):
        changes.append(change.to_json())
        for rule in change.rules:
            per_rule[rule] += 1
    return read, bad, blank, changes, per_rule
