"""What the workbench knows of a rulebook's text: its diagnostics, examples, completions, hovers, page.

A text is built with a :class:`~engine.build.BuildMemo` kept per file name, so that the
build after an edit parses, checks and compiles only the expressions that changed.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Diagnostic, EngineError
from engine.memo import BoundedMemo
from engine.source import Source

if TYPE_CHECKING:
    from engine.build import BuildMemo
    from engine.evaluate import CompiledRulebook
    from engine.serve.rulebooks import LoadedBook

__all__ = ["Built", "Memos", "doc_json", "examples_json", "hover"]


@dataclass(frozen=True)
class Built:
    """A text built: the rulebook (None when it has errors) and every diagnostic ``lint`` gives."""

    book: CompiledRulebook | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


class Memos:
    """One build memo per file name (a few files are edited at once), each used by one build at a time."""

    def __init__(self, files: int = 8) -> None:
        self.memos: BoundedMemo[str, tuple[BuildMemo, threading.Lock]] = BoundedMemo(files)
        self.lock = threading.Lock()
        self.last: BoundedMemo[tuple[str, str, str, bool], Built] = BoundedMemo(16)
        self.good: BoundedMemo[str, CompiledRulebook] = BoundedMemo(files)  # the last text that built

    def memo(self, name: str) -> tuple[BuildMemo, threading.Lock]:
        from engine.build import BuildMemo

        with self.lock:
            found = self.memos.get(name)
            if found is None:
                found = self.memos.remember(name, (BuildMemo(), threading.Lock()))
            return found

    def build(self, text: str, name: str, base_dir: Path | None, whole: bool = False) -> Built:
        """Build ``text`` (errors as diagnostics, never raised)."""
        from engine.build import build_rulebook

        text = text.replace("\r\n", "\n").replace("\r", "\n")
        key = (name, str(base_dir), text, whole)
        found = self.last.get(key)
        if found is not None:
            return found
        memo, lock = self.memo(name)
        with lock:
            try:
                book = build_rulebook(Source(name, text), base_dir=base_dir, memo=memo, whole=whole)
            except EngineError as e:
                return self.last.remember(key, Built(None, list(e.diagnostics)))
        self.good.remember(name, book)
        return self.last.remember(key, Built(book, list(book.warnings)))

    def diagnose(self, text: str, name: str, base_dir: Path | None) -> Built:
        """Everything ``rulebook lint`` says of the text."""
        from engine.errors import sort_diagnostics
        from engine.tools.lint import lint_book

        built = self.build(text, name, base_dir)
        if built.book is None:
            return built
        memo, _lock = self.memo(name)
        return Built(built.book, sort_diagnostics(lint_book(built.book, parse=memo.parse), limit=1000))

    def complete(self, text: str, line: int, column: int, lang: str, base_dir: Path | None) -> dict[str, Any]:
        from engine.serve.workbench.complete import completions

        built = self.build(text, "rulebook.yaml", base_dir)
        book = built.book or self.good.get("rulebook.yaml")  # while an edit is half typed: the last good one
        return completions(text, line, column, lang, book, self.memo("rulebook.yaml")[0])


# -- the page of ``rulebook doc``, as data --------------------------------------------------------


def _t(text: Any, lang: str) -> str | None:
    return text.get(lang) if text is not None else None


def doc_json(loaded: LoadedBook, lang: str) -> dict[str, Any]:
    from engine.evaluate import to_json_value
    from engine.lang import ast as A
    from engine.lang.parser import parse_condition
    from engine.testing import check_example
    from engine.tools.docgen import render_doc

    compiled = loaded.book
    rb = compiled.book
    params = {p.name for p in rb.parameters}
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    examples = []
    for ex in rb.examples:
        _decision, problems = check_example(compiled, ex)
        examples.append(
            {
                "name": ex.name,
                "decision": ex.decision,
                "description": ex.description,
                "outcome": ex.expect_outcome,
                "ok": not problems,
            }
        )
        for rule_id, status in ex.expect_rules.items():
            seen.setdefault((ex.decision, rule_id), {}).setdefault(status, []).append(ex.name)

    def used(*exprs: Any) -> list[str]:
        names: set[str] = set()
        for e in exprs:
            if e is None:
                continue
            try:
                node = parse_condition(e.text)
            except EngineError:
                continue
            names |= {n.name for n in A.walk(node) if isinstance(n, A.Ident) and n.name in params}
        return sorted(names)

    decisions = []
    for spec in rb.decisions:
        decisions.append(
            {
                "name": spec.name,
                "title": _t(spec.title, lang),
                "record_kind": spec.record_kind,
                "as_of": spec.as_of.text if spec.as_of else None,
                "values": [{"name": n, "expression": e.text} for n, e in spec.values],
                "rules": [
                    {
                        "id": r.id,
                        "article": r.article,
                        "item": r.item,
                        "cite": r.cite,
                        "title": _t(r.title, lang),
                        "kind": str(r.kind),
                        "severity": str(r.severity),
                        "waivable": r.waivable,
                        "when": r.when.text if r.when else None,
                        "require": r.require.text,
                        "values": [{"name": n, "expression": e.text} for n, e in r.values],
                        "message": r.message.get(lang),
                        "note": _t(r.note, lang),
                        "parameters": used(r.when, r.require, *(e for _n, e in r.values)),
                        "examples": seen.get((spec.name, r.id), {}),
                    }
                    for r in spec.rules
                ],
                "outputs": [
                    {
                        "name": o.name,
                        "value": o.value.text,
                        "when": o.when.text if o.when else None,
                        "description": _t(o.description, lang),
                    }
                    for o in spec.outputs
                ],
            }
        )
    return {
        "id": rb.id,
        "version": rb.version,
        "status": rb.status,
        "effective_from": rb.effective_from,
        "effective_until": rb.effective_until,
        "supersedes": list(rb.supersedes),
        "title": rb.title.get(lang),
        "description": _t(rb.description, lang),
        "source": rb.source,
        "parameters": [
            {"name": p.name, "value": to_json_value(p.value), "cite": p.cite, "description": _t(p.description, lang)}
            for p in rb.parameters
        ],
        "decisions": decisions,
        "examples": examples,
        "html": render_doc(compiled, "html", lang),
    }


# -- examples -------------------------------------------------------------------------------------


def examples_json(book: CompiledRulebook, lang: str) -> dict[str, Any]:
    """What ``rulebook test`` reports: passes, failures with the rules responsible, rule coverage."""
    from engine.model import Outcome, Severity, Status
    from engine.testing import rule_coverage, run_examples

    results = run_examples(book)
    rules = {(d.name, r.id): r for d in book.book.decisions for r in d.rules}
    failed = []
    for res in results:
        if res.ok:
            continue
        d = res.decision
        responsible: list[str] = list(res.example.expect_rules)
        if d is not None:
            responsible = [
                rid
                for rid, want in res.example.expect_rules.items()
                if (r := d.rule(rid)) is None or str(r.status) != want
            ]
            wanted = Status.FAIL if d.outcome == Outcome.FAIL else Status.ERROR
            if str(d.outcome) != res.example.expect_outcome:
                # the rules that made the outcome: decisive ones (an info or warning rule that fails
                # says something about the record but decides nothing)
                responsible += [
                    r.id
                    for r in d.rules
                    if r.status == wanted
                    and (r.severity == Severity.ERROR or r.spec.is_data)
                    and r.id not in responsible
                ]
                if res.example.expect_outcome in ("fail", "indeterminate"):
                    responsible += [
                        rid
                        for rid, want in res.example.expect_rules.items()
                        if want != "pass" and rid not in responsible
                    ]
        failed.append(
            {
                "example": res.example.name,
                "decision": res.example.decision,
                "line": res.line,
                "expected": res.example.expect_outcome,
                "got": str(d.outcome) if d is not None else None,
                "problems": [m.text(lang) for m in res.mismatches],
                "rules": [
                    {
                        "id": rid,
                        "article": rules[(res.example.decision, rid)].article,
                        "cite": rules[(res.example.decision, rid)].cite,
                    }
                    for rid in responsible
                    if (res.example.decision, rid) in rules
                ],
            }
        )
    coverage = rule_coverage(book, results)
    missing = coverage.missing()
    return {
        "passed": sum(1 for r in results if r.ok),
        "failed": failed,
        "coverage": {
            "rules": len(coverage.statuses),
            "covered": len(coverage.statuses) - len(missing),
            "uncovered": [{"decision": d, "rule": r, "missing": m} for d, r, m in missing],
        },
    }


# -- hover ----------------------------------------------------------------------------------------

_RULE_ID = re.compile(r"^(\s*)(?:-\s+)?id:\s*['\"]?([^'\"#\s]+)")


def hover(text: str, line: int, column: int, lang: str) -> dict[str, Any]:
    """The rule a position is inside (its article, citation and note), read from the loaded text."""
    from engine.yamlload import load_yaml

    source = Source("rulebook.yaml", text.replace("\r\n", "\n"))
    try:
        loaded = load_yaml(source)
    except EngineError:
        return {"rule": None}
    try:
        offset = source.offset(line, column)
    except IndexError:
        return {"rule": None}
    best: tuple[int, Any] | None = None
    for path, pos in loaded.positions.items():
        if len(path) == 4 and path[0] == "decisions" and path[2] == "rules":
            span = pos.value
            if span.start <= offset <= span.end and (best is None or span.start >= best[0]):
                best = (span.start, path)
    if best is None:
        return {"rule": None}
    path = best[1]
    data: Any = loaded.data
    try:
        decision = data["decisions"][path[1]]
        rule = decision["rules"][path[3]]
        name = path[1] if isinstance(path[1], str) else decision.get("name")
    except (KeyError, IndexError, TypeError):
        return {"rule": None}
    if not isinstance(rule, dict):
        return {"rule": None}

    def text_of(value: Any) -> str | None:
        if isinstance(value, dict):
            got = value.get(lang)
            return got if isinstance(got, str) else None
        return value if isinstance(value, str) else None

    return {
        "rule": rule.get("id"),
        "decision": name,
        "article": rule.get("article"),
        "item": rule.get("item"),
        "cite": rule.get("cite"),
        "title": text_of(rule.get("title")),
        "note": text_of(rule.get("note")),
    }


def today() -> str:
    return _dt.date.today().isoformat()
