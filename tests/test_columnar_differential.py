"""The columnar engine against the per-record engine: the same results table, every row, every column.

``engine.columnar.decide_bytes`` decides a whole feed with Polars and hands the rows it cannot
decide exactly (data of other types than the record schema states, expressions the columnar
compiler cannot express, rules that would be ``error``) to the per-record engine;
``engine.columnar.reference_table`` makes the same table with the per-record engine alone.  For
every bundled decision the two must be equal, with no tolerance and no row left out, on

- ``examples``: the rulebook's own examples as a JSON Lines feed (as of each example's date, as
  of the decision's own date, and as of a fixed leap day);
- ``feeds``: the acceptance-style feeds of the suite (the demo records of ``examples/``, the
  benchmark's 300 admission records, the feed acceptance test's 10,000 lines with its broken
  ones), also as Parquet;
- ``generated``: Hypothesis feeds of ``tests/columnar_records.py`` (values on the rules' edges,
  spoiled records, duplicate keys, broken lines), with and without a fixed evaluation date, and
  Parquet files of generated records (suite ``parquet``);
- ``found``: the lines the generated feeds found the engine failing on, kept as a regression
  test, and lines that are JSON ``null`` (in a child process: PyArrow's reader has crashed on them).

How many rows of each suite fell back to the per-record engine, and why, is printed at the end
of the run (a table in pytest's terminal summary).  On the examples and the clean feeds most rows
must be decided by the columnar engine itself: :data:`MIN_COLUMNAR_SHARE` says how many.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.columnar import decide_bytes, reference_table
from engine.evaluate import CompiledDecision
from engine.io.records import BadRecord, parse_json_line, split_lines
from tests import columnar_records as cr

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2024, 2, 29)  # the fixed evaluation date: a leap day
DECISIONS = cr.bundled_decisions()
DECISION_IDS = [f"{book}:{name}" for book, name in DECISIONS]

# The share of rows the columnar engine must decide itself (the rest fall back to the per-record
# engine), for each suite with a floor.  The examples test edge cases and errors on purpose, so
# their floor is lower than that of the feeds of ordinary records.
MIN_COLUMNAR_SHARE = {"examples": 0.5, "feeds": 0.8}
MIN_ROWS_FOR_SHARE = 10  # a feed of fewer rows (one record of a demo file) has no floor of its own

# Hypothesis: enough feeds to meet every kind of line of ``columnar_records`` several times over,
# few enough for the whole file to run in about a minute on two cores; the same feeds every run.
# No shrinking (a feed of many lines shrinks for minutes): a failure names the lines that differ,
# and says which of them differ alone, in a feed of one line.
GENERATED = settings(
    max_examples=5,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# -- what the columnar engine does not do yet -------------------------------------------------------

# Cases that fail with the columnar engine as it is, each reported with its smallest input:
# "test_name[case id]" -> the reason.  Strict, so that a fix shows as XPASS (a failure) and its
# entry is removed.
KNOWN_FAILURES: dict[str, str] = {}


def cases(test: str, rows: list[tuple[Any, ...]], ids: list[str]) -> list[Any]:
    """The parameters of a test, those of a known failure marked as such."""
    out = []
    for row, case in zip(rows, ids, strict=True):
        reason = KNOWN_FAILURES.get(f"{test}[{case}]")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(*row, marks=marks, id=case))
    return out


# -- the fall-back report --------------------------------------------------------------------------


@dataclass
class SuiteTally:
    rows: int = 0
    feeds: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


TALLY: dict[str, SuiteTally] = {}


class FallbackReport:
    """Prints the rows of each suite that fell back to the per-record engine, by reason."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not TALLY:
            return
        tr = terminalreporter
        tr.section("columnar engine: rows decided by the per-record engine instead")
        tr.write_line(f"{'suite':<12} {'feeds':>6} {'rows':>8} {'fell back':>10} {'share':>7}  reasons")
        for suite in sorted(TALLY):
            t = TALLY[suite]
            back = sum(t.reasons.values())
            share = back / t.rows if t.rows else 0.0
            reasons = ", ".join(f"{r}: {n}" for r, n in t.reasons.most_common()) or "-"
            tr.write_line(f"{suite:<12} {t.feeds:>6} {t.rows:>8} {back:>10} {share:>7.1%}  {reasons}")


@pytest.fixture(scope="session", autouse=True)
def _fallback_report(request: pytest.FixtureRequest) -> Iterator[None]:
    manager = request.config.pluginmanager
    if not manager.has_plugin("columnar-fallback-report"):
        manager.register(FallbackReport(), "columnar-fallback-report")
    yield


# -- comparing the two tables ----------------------------------------------------------------------


def _input_line(data: bytes, fmt: str, line: int) -> str:
    if fmt != "jsonl":
        return f"(row {line} of the Parquet input)"
    lines = split_lines(data)
    raw = lines[line - 1] if 0 < line <= len(lines) else b"?"
    text = repr(raw)
    return text if len(text) <= 400 else text[:400] + "..."


def _alone(decision: CompiledDecision, line: bytes, as_of: dt.date | None) -> str:
    """Whether the two engines differ on the line alone (in a feed of that one line)."""
    try:
        want = reference_table(decision, line + b"\n", as_of=as_of).to_pylist()
        got = decide_bytes(decision, line + b"\n", as_of=as_of)[0].to_pylist()
    except Exception as e:  # noqa: BLE001 - said in the message of the failure being reported
        return f"alone: raises {e!r}"
    return "alone: the same" if got == want else "alone: differs as well"


def _differences(
    decision: CompiledDecision,
    got: pa.Table,
    want: pa.Table,
    data: bytes,
    fmt: str,
    as_of: dt.date | None,
    limit: int = 5,
) -> str:
    """The first rows where the tables differ, column by column, with the input line."""
    out: list[str] = []
    got_rows, want_rows = got.to_pylist(), want.to_pylist()
    for i, (g, w) in enumerate(zip(got_rows, want_rows, strict=False)):
        if g == w:
            continue
        cols = [f"    {c}: columnar {g.get(c)!r} != records {w.get(c)!r}" for c in w if g.get(c) != w.get(c)]
        cols += [f"    {c}: only in the columnar table" for c in g if c not in w]
        out.append(
            f"  row {i + 1} (line {w.get('line')}, record {w.get('record')!r}):\n"
            + "\n".join(cols)
            + f"\n    input: {_input_line(data, fmt, w.get('line') or 0)}"
        )
        if fmt == "jsonl" and w.get("line"):
            out[-1] += f"  ({_alone(decision, split_lines(data)[w['line'] - 1], as_of)})"
        if len(out) == limit:
            break
    if len(got_rows) != len(want_rows):
        out.append(f"  the columnar table has {len(got_rows)} rows, the reference {len(want_rows)}")
    return "\n".join(out)


def differential(
    decision: CompiledDecision,
    data: bytes,
    *,
    suite: str,
    as_of: dt.date | None = None,
    fmt: str = "jsonl",
    name: str = "<data>",
) -> tuple[pa.Table, Counter[str]]:
    """Both engines on one input: the tables must be equal (schema, then every row and column).
    Returns the reference table and the columnar engine's fall-backs."""
    want = reference_table(decision, data, name=name, as_of=as_of, fmt=fmt)
    got, fallbacks = decide_bytes(decision, data, name=name, as_of=as_of, fmt=fmt)
    tally = TALLY.setdefault(suite, SuiteTally())
    tally.rows += want.num_rows
    tally.feeds += 1
    tally.reasons.update(fallbacks)
    assert got.schema.equals(want.schema), (
        f"{decision.book.id}:{decision.name}: the columnar table's columns differ:\n"
        f"  columnar: {got.schema.names} {got.schema.types}\n  records:  {want.schema.names} {want.schema.types}"
    )
    assert got.num_rows == want.num_rows and got.to_pylist() == want.to_pylist(), (
        f"{decision.book.id}:{decision.name} as of {as_of} ({fmt}, {suite}): the columnar engine decides "
        f"differently:\n{_differences(decision, got, want, data, fmt, as_of)}"
    )
    assert all(n > 0 for n in fallbacks.values()) and sum(fallbacks.values()) <= want.num_rows, fallbacks
    return want, fallbacks


def check_reference(decision: CompiledDecision, data: bytes, want: pa.Table, as_of: dt.date | None) -> None:
    """The reference table itself against ``CompiledDecision.evaluate`` line by line (so that two
    tables equal by being both wrong, or both empty, cannot pass): one row per non-blank line, in
    order, with its line number, outcome and statuses."""
    rows = want.to_pylist()
    expected: list[tuple[int, str, list[str | None]]] = []
    for number, line in enumerate(split_lines(data), start=1):
        if not line.strip():
            continue
        record = parse_json_line(line)
        if isinstance(record, BadRecord):
            expected.append((number, "error", [None] * len(decision.rule_ids)))
        else:
            d = decision.evaluate(record, as_of)
            expected.append((number, str(d.outcome), [str(s) for s in d.status_tuple]))
    seen = [(r["line"], r["outcome"], [r[f"rule.{rid}"] for rid in decision.rule_ids]) for r in rows]
    assert seen == expected


def _share_decided(want: pa.Table, fallbacks: Counter[str]) -> float:
    return 1 - sum(fallbacks.values()) / want.num_rows if want.num_rows else 1.0


# -- (a) the rulebooks' own examples ---------------------------------------------------------------


def _examples(book_id: str, name: str) -> list[Any]:
    decision = cr.bundled(book_id, name)
    return [ex for ex in decision.book.examples if ex.decision == name]


@pytest.mark.parametrize(("book_id", "name"), cases("test_examples", DECISIONS, DECISION_IDS))
def test_examples(book_id: str, name: str) -> None:
    decision = cr.bundled(book_id, name)
    examples = _examples(book_id, name)
    assert examples, f"{book_id}:{name} has no examples"
    everything = cr.jsonl([ex.record for ex in examples])
    # each example as of its own date (as the rulebook's test runs them), grouped by that date
    by_date: dict[str | None, list[Any]] = {}
    for ex in examples:
        by_date.setdefault(ex.as_of, []).append(ex.record)
    runs: list[tuple[bytes, dt.date | None]] = [
        (cr.jsonl(records), dt.date.fromisoformat(day) if day else None) for day, records in by_date.items()
    ]
    runs += [(everything, None), (everything, AS_OF)]
    rows = 0
    decided = 0.0
    for data, as_of in runs:
        want, fallbacks = differential(
            decision, data, suite="examples", as_of=as_of, name=f"{book_id}/{name}.examples.jsonl"
        )
        check_reference(decision, data, want, as_of)
        rows += want.num_rows
        decided += _share_decided(want, fallbacks) * want.num_rows
    assert rows >= 3 * len(examples)
    assert decided / rows >= MIN_COLUMNAR_SHARE["examples"], (
        f"{book_id}:{name}: only {decided / rows:.0%} of the examples' rows were decided columnar"
    )


# -- (b) the acceptance-style feeds of the suite ---------------------------------------------------


def _json_file_as_line(path: Path) -> bytes:
    return cr.jsonl([json.loads(path.read_text(encoding="utf-8"))])


def _acceptance_feed() -> bytes:
    """The feed acceptance test's 10,000 lines (three of them broken), made as that test makes them."""
    from tests.test_feed_every_format import jsonl_bytes

    data, _, _ = jsonl_bytes(random.Random(20260301))
    return data


MEMBERSHIP, CHECKLIST, CHARTER = (
    "hlj-musicians/membership",
    "hcm-student-union/reform-checklist",
    "hcm-student-union/charter",
)
EXAMPLES = ROOT / "examples"
FEEDS: list[tuple[str, str, str, Any, dt.date | None]] = [
    # (id, rulebook, decision, the bytes (or a function making them), as of)
    ("applicants", MEMBERSHIP, "admission", EXAMPLES / "applicants.jsonl", None),
    ("applicants-as-of", MEMBERSHIP, "admission", EXAMPLES / "applicants.jsonl", AS_OF),
    ("applicant", MEMBERSHIP, "admission", lambda: _json_file_as_line(EXAMPLES / "applicant.json"), None),
    ("terminations", MEMBERSHIP, "termination", EXAMPLES / "terminations.jsonl", dt.date(2026, 3, 1)),
    ("terminations-today", MEMBERSHIP, "termination", EXAMPLES / "terminations.jsonl", None),
    ("members", MEMBERSHIP, "member-status", EXAMPLES / "members.jsonl", dt.date(2025, 12, 15)),
    ("members-as-of", MEMBERSHIP, "member-status", EXAMPLES / "members.jsonl", AS_OF),
    ("department-unions", CHECKLIST, "department-union", EXAMPLES / "hcm-2021" / "department-unions.jsonl", None),
    (
        "school-union",
        CHECKLIST,
        "school-union",
        lambda: _json_file_as_line(EXAMPLES / "hcm-2021" / "school-union.json"),
        None,
    ),
    (
        "presidium-election",
        CHARTER,
        "election",
        lambda: _json_file_as_line(EXAMPLES / "hcm-2021" / "presidium-election.json"),
        None,
    ),
    ("admission-300", MEMBERSHIP, "admission", ROOT / "tests" / "data" / "feed" / "admission-300.jsonl", None),
    ("admission-300-as-of", MEMBERSHIP, "admission", ROOT / "tests" / "data" / "feed" / "admission-300.jsonl", AS_OF),
    ("acceptance-10000", MEMBERSHIP, "admission", _acceptance_feed, None),
]


def _feed_bytes(source: Any) -> bytes:
    return source.read_bytes() if isinstance(source, Path) else source()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("book_id", "name", "source", "as_of"), cases("test_feeds", [f[1:] for f in FEEDS], [f[0] for f in FEEDS])
)
def test_feeds(book_id: str, name: str, source: Any, as_of: dt.date | None) -> None:
    decision = cr.bundled(book_id, name)
    data = _feed_bytes(source)
    label = source.name if isinstance(source, Path) else "feed.jsonl"
    want, fallbacks = differential(decision, data, suite="feeds", as_of=as_of, name=label)
    check_reference(decision, data, want, as_of)
    share = _share_decided(want, fallbacks)
    assert want.num_rows < MIN_ROWS_FOR_SHARE or share >= MIN_COLUMNAR_SHARE["feeds"], (
        f"{book_id}:{name}: only {share:.0%} of the feed's rows were decided columnar ({dict(fallbacks)})"
    )


# -- Parquet ---------------------------------------------------------------------------------------


def arrow_type(schema: dict[str, Any], dates_as_date32: bool) -> pa.DataType:
    """The Arrow type that holds the values of a record schema's node."""
    types = [t for t in cr.json_types(schema) if t != "null"]
    kind = types[0] if types else "string"
    if kind == "boolean":
        return pa.bool_()
    if kind == "integer":
        return pa.int64()
    if kind == "number":
        return pa.float64()
    if kind == "array":
        return pa.list_(arrow_type(schema.get("items", {}), dates_as_date32))
    if kind == "object":
        props = schema.get("properties", {})
        return pa.struct([(k, arrow_type(v, dates_as_date32)) for k, v in props.items()])
    if schema.get("format") == "date" and dates_as_date32:
        return pa.date32()
    return pa.string()


def conforms(schema: dict[str, Any], value: Any) -> bool:
    """Whether the value has the type the schema node states (what a typed Parquet column holds)."""
    if value is None:
        return True  # a null cell: Parquet cannot tell absent from null
    types = cr.json_types(schema)
    if "enum" in schema:
        return value in schema["enum"]
    ok = {
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63,
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "array": isinstance(value, list) and all(conforms(schema.get("items", {}), v) for v in value),
        "object": isinstance(value, dict)
        and all(conforms(s, value.get(k)) for k, s in schema.get("properties", {}).items()),
    }
    if not any(ok.get(t, False) for t in types):
        return False
    if isinstance(value, str) and schema.get("format") == "date":
        return cr.date_of(value) is not None
    return True


def parquet_bytes(records: list[dict[str, Any]], schema: dict[str, Any], dates_as_date32: bool) -> bytes:
    """The records as a Parquet file whose columns are the record schema's fields (dates as
    date32 or as strings)."""
    struct = arrow_type(schema, dates_as_date32)
    assert isinstance(struct, pa.StructType)
    arrow_schema = pa.schema([struct.field(i) for i in range(struct.num_fields)])

    def cell(node: dict[str, Any], value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and node.get("format") == "date" and dates_as_date32:
            return dt.date.fromisoformat(value)
        if isinstance(value, list):
            return [cell(node.get("items", {}), v) for v in value]
        if isinstance(value, dict):
            return {k: cell(s, value.get(k)) for k, s in node.get("properties", {}).items()}
        return value

    rows = [{k: cell(s, r.get(k)) for k, s in schema.get("properties", {}).items()} for r in records]
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=arrow_schema), sink, row_group_size=7)
    return sink.getvalue()


@pytest.mark.parametrize("dates_as_date32", [False, True], ids=["dates-as-text", "dates-as-date32"])
def test_feed_as_parquet(dates_as_date32: bool) -> None:
    """The benchmark's 300 admission records as a Parquet file: the same table from both engines.

    No floor on the rows decided columnar here: a Parquet column is in every row, so a field
    that a JSON record leaves out (and the schema's default fills) is null in the file, which
    the rules may treat otherwise."""
    decision = cr.bundled(MEMBERSHIP, "admission")
    schema = decision.record_schema or {}
    lines = (ROOT / "tests" / "data" / "feed" / "admission-300.jsonl").read_bytes().splitlines()
    records = [json.loads(x) for x in lines if x.strip()]
    assert all(conforms(schema, r) for r in records)
    data = parquet_bytes(records, schema, dates_as_date32)
    want, _ = differential(decision, data, suite="parquet", fmt="parquet", name="admission-300.parquet")
    assert want.num_rows == len(records) and want.column("line").to_pylist() == list(range(1, len(records) + 1))


# -- (c) generated records -------------------------------------------------------------------------

_NULL_LINES = """
import sys
from engine.columnar import decide_bytes, reference_table
from tests import columnar_records as cr
for case in sys.argv[1:]:
    print("start", case, flush=True)
    decision = cr.bundled(*case.split(":"))
    for data in (b"null\\n", b'{"id": "N-1"}\\nnull\\n', b"  null  \\r\\n[]\\nnull"):
        same = decide_bytes(decision, data)[0].to_pylist() == reference_table(decision, data).to_pylist()
        print("same" if same else f"different on {data!r}", flush=True)
"""


@functools.cache
def null_line_runs() -> dict[str, str]:
    """Both engines on feeds with lines that are JSON ``null``, for every decision, in a child
    process (PyArrow 26's JSON reader dies of a segmentation fault on such a line, which would
    take the test run with it): decision id -> what the child printed of it, ending in ``crashed:
    exit status N`` where it did not survive.  One child for all, another after a crash."""
    out: dict[str, str] = {}
    left = list(DECISION_IDS)
    while left:
        run = subprocess.run(
            [sys.executable, "-c", _NULL_LINES, *left], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        current = None
        for line in run.stdout.splitlines():
            if line.startswith("start "):
                current = line[len("start ") :]
                out[current] = ""
            elif current is not None:
                out[current] += line + "\n"
        if run.returncode != 0:
            current = current or left[0]
            out[current] = out.get(current, "") + f"crashed: exit status {run.returncode}\n{run.stderr[-2000:]}"
        left = [d for d in left if d not in out]
    return out


def null_lines_safe(book_id: str, name: str) -> bool:
    """Whether the columnar engine survives a ``null`` line (the generated feeds have some then)."""
    return "crashed: exit status -" not in null_line_runs()[f"{book_id}:{name}"]


@pytest.mark.parametrize(("book_id", "name"), cases("test_null_line", DECISIONS, DECISION_IDS))
def test_null_line(book_id: str, name: str) -> None:
    """A line that is ``null`` is an error row, as in the per-record engine, and does not crash."""
    said = null_line_runs()[f"{book_id}:{name}"]
    assert said.split() == ["same"] * 3, f"the columnar engine on `null` lines:\n{said}"


# Lines the generated feeds found the columnar engine failing on, kept as they were found (each
# decision's examples written in GB18030 besides): a regression test that does not depend on
# what Hypothesis draws.
FOUND_LINES = [
    b'{"id": "U", "political_status": "\xd1\xa7\xcf\xb0\xbc\xcd\xc2\xc9\xb2\xbf"}',  # GB18030
    b'{"id": "\x80"}',
    b'{"id": "M-1", "name": "x", "birth_date": "1950-01-01", "approved_on": "2020-01-01", "s": "\\ud800"}',
    b'{"id": "A", "name": "\\ud800"}',
]


@pytest.mark.parametrize(("book_id", "name"), cases("test_found_lines", DECISIONS, DECISION_IDS))
def test_found_lines(book_id: str, name: str) -> None:
    decision = cr.bundled(book_id, name)
    gb = [json.dumps(ex.record, ensure_ascii=False).encode("gb18030") for ex in _examples(book_id, name)]
    data = b"\r\n".join([*FOUND_LINES, *gb]) + b"\r\n"
    differential(decision, data, suite="found", name="found.jsonl")
    differential(decision, data, suite="found", as_of=AS_OF, name="found.jsonl")


@pytest.mark.parametrize(
    ("book_id", "name", "as_of"),
    cases(
        "test_generated",
        [(*d, when) for d in DECISIONS for when in (None, AS_OF)],
        [f"{d}-{when}" for d in DECISION_IDS for when in ("own-date", "as-of-leap-day")],
    ),
)
@GENERATED
@given(data=st.data())
def test_generated(book_id: str, name: str, as_of: dt.date | None, data: st.DataObject) -> None:
    prof = cr.profile(book_id, name)
    feed = data.draw(cr.feeds(prof, as_of, null_lines=null_lines_safe(book_id, name)), label="feed")
    differential(cr.bundled(book_id, name), feed, suite="generated", as_of=as_of, name="generated.jsonl")


@pytest.mark.parametrize(("book_id", "name"), cases("test_generated_parquet", DECISIONS, DECISION_IDS))
@GENERATED
@given(data=st.data())
def test_generated_parquet(book_id: str, name: str, data: st.DataObject) -> None:
    prof = cr.profile(book_id, name)
    records = data.draw(
        st.lists(cr.valid_records(prof, AS_OF).filter(lambda r: conforms(prof.schema, r)), min_size=1, max_size=16),
        label="records",
    )
    dates_as_date32 = data.draw(st.booleans(), label="dates as date32")
    as_of = data.draw(st.sampled_from([None, AS_OF]), label="as of")
    feed = parquet_bytes(records, prof.schema, dates_as_date32)
    differential(cr.bundled(book_id, name), feed, suite="parquet", as_of=as_of, fmt="parquet", name="generated.parquet")
