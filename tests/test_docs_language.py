"""docs/language.md is checked against the engine.

The document marks the examples that are checked, in three ways:

* in a fenced block tagged ``cel-examples``, every line ``EXPR  →  RESULT``
  (blank lines and lines starting with ``//`` are skipped; ``  // ...`` after
  the result is a comment);
* anywhere outside fenced blocks (prose and table rows), every
  ```EXPR` → `RESULT``` written with code spans (``\\|`` in a table cell is ``|``);
* in the ``## Errors`` section, every table row whose first cell is a
  ``syntax.*`` or ``check.*`` code and whose last cell is a single code span:
  that expression must be refused with that code.

RESULT is a value written as a literal (``18``, ``3u``, ``0.5``, ``"text"``,
``b"..."``, ``true``, ``null``, ``date("2026-03-01")``,
``timestamp("2026-03-01T00:30:00Z")``, ``duration("5400s")``, a type name
such as ``int``, ``[1, 2]``, ``{"a": 1}``), ``error eval.CODE`` or ``error eval.CODE (PATH)`` for a run-time
error, or a ``syntax.*`` / ``check.*`` code for an expression the engine
refuses before evaluating it.

Every expression is evaluated as a rule of the bundled rulebook
``hlj-musicians/membership``, decision ``admission``, would evaluate it: the
record is the JSON block tagged ``doc-record`` in the document (an
``applicant``), ``as_of`` is its ``application_date``, and the parameters are
the rulebook's.

The quoted ``$ rulebook lint ...`` console blocks are run again and compared,
and the document must name every function of ``STANDARD_FUNCTIONS`` and every
``syntax.*`` / ``check.*`` code that the parser, the checker and the builder
can emit.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from engine.build import load_rulebook
from engine.cli import main
from engine.errors import ConditionSyntaxError, EvalError
from engine.lang.check import Scope, check_condition
from engine.lang.compile import compile_condition
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.parser import MAX_DEPTH, MAX_LENGTH, RESERVED_WORDS, parse_condition
from engine.lang.types import schema_type, type_of_value
from engine.lang.values import MAX_COST, CelType, Duration, Timestamp, UInt
from engine.pluginmanager import get_plugin_manager
from engine.schemas import record_schema

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "language.md"
RULEBOOK = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
ARROW = " → "
CODE_SOURCES = [
    ROOT / "engine" / "lang" / "parser.py",
    ROOT / "engine" / "lang" / "check.py",
    ROOT / "engine" / "build.py",
]


# -- reading the document ----------------------------------------------------------------------------


class Block(NamedTuple):
    info: str  # the fence's info string
    line: int  # line number of the first content line
    lines: list[str]


class Example(NamedTuple):
    line: int
    expr: str
    result: str


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def split_fences(text: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """The fenced blocks, and the numbered lines outside them."""
    blocks: list[Block] = []
    outside: list[tuple[int, str]] = []
    current: Block | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if current is None and stripped.startswith("```"):
            current = Block(stripped[3:].strip(), number + 1, [])
        elif current is not None and stripped == "```":
            blocks.append(current)
            current = None
        elif current is not None:
            current.lines.append(line)
        else:
            outside.append((number, line))
    assert current is None, f"unclosed code fence starting before line {current.line}"
    return blocks, outside


def section_lines(text: str, title: str) -> list[tuple[int, str]]:
    """The numbered lines of the level-2 section ``## title``, up to the next level-2 heading."""
    lines: list[tuple[int, str]] = []
    inside = found = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            inside = line.rstrip() == f"## {title}"
            found = found or inside
        elif inside:
            lines.append((number, line))
    assert found, f"no `## {title}` section"
    return lines


def section(text: str, title: str) -> str:
    return "\n".join(line for _number, line in section_lines(text, title))


def table_cells(line: str) -> list[str]:
    """The cells of a markdown table row, with ``\\|`` turned back into ``|``."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [c.strip().replace("\\|", "|") for c in cells]


_INLINE = re.compile(r"`([^`]+)` → `([^`]+)`")


def examples(text: str) -> list[Example]:
    blocks, outside = split_fences(text)
    found: list[Example] = []
    for block in blocks:
        if block.info.split()[:1] != ["cel-examples"]:
            continue
        for offset, raw in enumerate(block.lines):
            line = raw.strip()
            if not line or line.startswith("//"):
                continue
            assert ARROW in line, f"line {block.line + offset}: a cel-examples line needs `EXPR → RESULT`"
            expr, result = line.rsplit(ARROW, 1)
            result = result.split("  //", 1)[0]
            found.append(Example(block.line + offset, expr.strip(), result.strip()))
    for number, line in outside:
        source = line.replace("\\|", "|") if line.lstrip().startswith("|") else line
        found.extend(Example(number, m.group(1), m.group(2)) for m in _INLINE.finditer(source))
    return found


def doc_record(text: str) -> dict[str, Any]:
    blocks, _ = split_fences(text)
    tagged = [b for b in blocks if b.info.split()[1:2] == ["doc-record"]]
    assert len(tagged) == 1, "the document needs exactly one ```json doc-record block"
    record = json.loads("\n".join(tagged[0].lines))
    assert isinstance(record, dict)
    return record


# -- evaluating like the bundled decision ---------------------------------------------------------------


class Env(NamedTuple):
    scope: Scope
    params: dict[str, Any]
    record: dict[str, Any]
    as_of: dt.date


@pytest.fixture(scope="module")
def env() -> Env:
    book = load_rulebook(RULEBOOK).book
    params = {p.name: p.value for p in book.parameters}
    decision = book.decision("admission")
    assert decision is not None and decision.record_kind == "applicant"
    schema = record_schema("applicant")
    assert schema is not None
    functions = FunctionTable(STANDARD_FUNCTIONS).with_calendars(get_plugin_manager().calendars())
    scope = Scope(schema_type(schema), functions, "applicant", {k: (v, type_of_value(v)) for k, v in params.items()})
    record = doc_record(doc_text())
    return Env(scope, params, record, dt.date.fromisoformat(record["application_date"]))


TO_STRING = next(f for f in STANDARD_FUNCTIONS if f.name == "string").overloads[0].impl


def show(v: Any) -> str:
    """A value written as the document writes results."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, UInt):
        return f"{int(v)}u"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bytes):
        return 'b"' + "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else f"\\x{c:02x}" for c in v) + '"'
    if isinstance(v, dt.date):
        return f'date("{v.isoformat()}")'
    if isinstance(v, (Timestamp, Duration)):
        kind = "timestamp" if isinstance(v, Timestamp) else "duration"
        return f"{kind}({json.dumps(TO_STRING(v))})"
    if isinstance(v, CelType):
        return v.name
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{show(k)}: {show(x)}" for k, x in v.items()) + "}"
    raise AssertionError(f"unexpected value {v!r}")


def outcome(env: Env, expr: str, want_bool: str | None = None) -> tuple[str, set[str]]:
    """(what the document would write, the diagnostic codes if the expression is refused)."""
    try:
        node = parse_condition(expr)
    except ConditionSyntaxError as e:
        codes = {d.code for d in e.diagnostics}
        return " ".join(sorted(codes)), codes
    checked = check_condition(node, env.scope, want_bool=want_bool)
    if not checked.ok:
        codes = {d.code for d in checked.diagnostics}
        return " ".join(sorted(codes)), codes
    fn = compile_condition(checked, {}, env.params)
    try:
        value = fn(env.record, env.as_of, {})
    except EvalError as e:
        return f"error {e.code}" + (f" ({e.path})" if e.path else ""), set()
    return show(value), set()


# -- the tests --------------------------------------------------------------------------------------------

EXAMPLES = examples(doc_text())


def test_the_document_has_many_checked_examples() -> None:
    assert len(EXAMPLES) >= 150
    assert {e.result for e in EXAMPLES} >= {"true", "false"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"L{e.line}:{e.expr[:40]}" for e in EXAMPLES])
def test_example(example: Example, env: Env) -> None:
    got, codes = outcome(env, example.expr)
    if re.fullmatch(r"(syntax|check)\.[a-z-]+", example.result):
        assert example.result in codes, f"line {example.line}: `{example.expr}` gave {got}"
    else:
        assert got == example.result, f"line {example.line}: `{example.expr}`"


def _error_rows() -> list[tuple[int, str, str | None]]:
    """(line, code, example expression or None) for every code row of the Errors section."""
    rows = []
    for number, line in section_lines(doc_text(), "Errors"):
        if not line.lstrip().startswith("|"):
            continue
        cells = table_cells(line)
        m = re.fullmatch(r"`((?:syntax|check)\.[a-z-]+)`", cells[0]) if cells else None
        if m is None:
            continue
        example = re.fullmatch(r"`([^`]+)`", cells[-1]) if len(cells) > 1 else None
        rows.append((number, m.group(1), example.group(1) if example else None))
    return rows


ERROR_ROWS = _error_rows()


@pytest.mark.parametrize(
    ("line", "code", "expr"),
    [r for r in ERROR_ROWS if r[2] is not None],
    ids=[f"{r[1]}:{r[2]}" for r in ERROR_ROWS if r[2] is not None],
)
def test_error_table_example_gives_its_code(line: int, code: str, expr: str, env: Env) -> None:
    got, codes = outcome(env, expr, want_bool="`require`")
    assert code in codes, f"line {line}: `{expr}` should give {code}, gave {got}"


def emitted_codes() -> set[str]:
    codes: set[str] = set()
    for path in CODE_SOURCES:
        codes |= set(re.findall(r"""["']((?:syntax|check)\.[a-z][a-z-]*)["']""", path.read_text(encoding="utf-8")))
    return codes


def test_every_error_code_is_explained_in_the_errors_section() -> None:
    codes = emitted_codes()
    assert {"syntax.assignment", "syntax.internal-error", "check.unknown-field", "check.shadow"} <= codes
    documented = {code for _line, code, _expr in ERROR_ROWS}
    assert sorted(codes - documented) == []
    assert len([r for r in ERROR_ROWS if r[2] is not None]) >= 20


def test_headings_are_unique() -> None:
    _blocks, outside = split_fences(doc_text())
    headings = [line.lstrip("#").strip() for _n, line in outside if re.match(r"#+ ", line)]
    assert len(headings) > 20
    assert sorted(h for h in set(headings) if headings.count(h) > 1) == []


def test_errors_heading_is_the_anchor_cli_md_links_to() -> None:
    assert re.search(r"^## Errors$", doc_text(), re.M)
    assert "language.md#errors" in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")


def test_every_standard_function_has_a_row_or_heading() -> None:
    functions = section(doc_text(), "Functions")
    rows = {
        table_cells(line)[0] for line in functions.splitlines() if line.lstrip().startswith("|") and table_cells(line)
    }
    headings = set(re.findall(r"^#+ (.+)$", functions, re.M))
    for spec in STANDARD_FUNCTIONS:
        name = f"`{spec.name}`"
        assert name in rows or any(name in h for h in headings), f"{spec.name} is not documented"


def test_reserved_words_and_limits_are_stated() -> None:
    text = doc_text()
    names = section(text, "Names")
    for word in sorted(RESERVED_WORDS | {"in", "and", "or", "not", "true", "false", "null"}):
        assert f"`{word}`" in names, f"reserved word {word} missing from the Names section"
    limits = section(text, "Safety and limits")
    assert f"{MAX_LENGTH:,}" in limits and f"{MAX_DEPTH}" in limits and f"{MAX_COST:,}" in limits


def lint_blocks() -> list[Block]:
    blocks, _ = split_fences(doc_text())
    return [b for b in blocks if b.lines and b.lines[0].startswith("$ rulebook lint ")]


@pytest.mark.parametrize("block", lint_blocks(), ids=[b.lines[0][2:] for b in lint_blocks()])
def test_quoted_lint_output_is_what_the_engine_prints(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out, err = io.StringIO(), io.StringIO()
    code = main(block.lines[0].split()[2:], stdout=out, stderr=err)
    assert code == 2
    assert out.getvalue() + err.getvalue() == "\n".join(block.lines[1:]) + "\n"


def test_there_are_quoted_lint_outputs() -> None:
    assert len(lint_blocks()) >= 2
