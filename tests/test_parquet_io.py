"""Parquet in and out for the per-record engine: `check --format parquet --output FILE`
writes the results table (engine/io/report/parquet.py), and `.parquet` inputs are read a
batch of rows at a time (engine/io/parquetfile.py).

The table is compared field by field with `check --format json` of the same input; a
Parquet input must decide as the same records in JSON Lines do."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from engine.cli import main  # noqa: E402 - after the skip: the extra is needed
from engine.errors import UsageError  # noqa: E402
from engine.io.parquetfile import _absent_nulls  # noqa: E402
from engine.io.records import read_records  # noqa: E402
from engine.schemas import record_schema  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def assert_table_is_json(table: Any, objects: list[dict[str, Any]], rule_ids: list[str]) -> None:
    """Each row of the results table says what the JSON object of the same record says."""
    assert table.num_rows == len(objects)
    rows = table.to_pylist()
    for row, obj in zip(rows, objects, strict=True):
        where = obj["input"]
        assert (row["file"], row["line"]) == (where["file"], where["line"])
        assert row["record"] == obj["record"]
        assert row["as_of"] == (dt.date.fromisoformat(obj["as_of"]) if obj["as_of"] else None)
        assert row["outcome"] == obj["outcome"]
        statuses = {r["id"]: r["status"] for r in obj["rules"]}
        for rid in rule_ids:
            assert row[f"rule.{rid}"] == statuses.get(rid), (where, rid)
        outputs = {k[len("output.") :]: v for k, v in row.items() if k.startswith("output.")}
        assert {k: v for k, v in outputs.items() if v is not None} == {k: dumps(v) for k, v in obj["outputs"].items()}
        if obj["outcome"] == "error" and not obj["rules"]:  # a line that could not be read
            assert row["message"] == obj["message"] and row["message"]
        else:
            assert row["message"] is None
        assert row["schema"] == (dumps(obj["schema"]) if "schema" in obj else None)


def rules_of(table: Any) -> list[str]:
    return [n[len("rule.") :] for n in table.column_names if n.startswith("rule.")]


AS_OF_TERM = ("--as-of", "2026-03-01")
AS_OF_MEMBERS = ("--as-of", "2025-12-15")
CASES = [
    pytest.param(["hlj-musicians/membership", str(EXAMPLES / "applicants.jsonl")], id="admission"),
    pytest.param(
        ["hlj-musicians/membership", str(EXAMPLES / "terminations.jsonl"), "--decision", "termination", *AS_OF_TERM],
        id="termination",
    ),
    pytest.param(
        ["hlj-musicians/membership", str(EXAMPLES / "members.jsonl"), "--decision", "member-status", *AS_OF_MEMBERS],
        id="member-status",
    ),
    pytest.param(
        ["hcm-student-union/reform-checklist", str(EXAMPLES / "hcm-2021" / "department-unions.jsonl")],
        id="reform-checklist",
    ),
]


def broken_feed(tmp_path: Path) -> Path:
    lines = (EXAMPLES / "applicants.jsonl").read_bytes().splitlines()
    feed = tmp_path / "broken.jsonl"
    feed.write_bytes(
        b"\n".join([lines[0], b'{"id": "A-x", "name": ', lines[1], b"[1, 2]", b"", b'{"id": "\xff"}', lines[2], b"42"])
        + b"\n"
    )
    return feed


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("args", CASES)
def test_the_table_says_what_the_json_says(tmp_path: Path, args: list[str], lang: str) -> None:
    out = tmp_path / "results.parquet"
    code, text, err = run("check", *args, "--format", "json", "--lang", lang)
    code2, nothing, err2 = run("check", *args, "--format", "parquet", "--output", str(out), "--lang", lang)
    assert (code2, err2, nothing) == (code, err, "")  # the same summary on standard error, the same exit code
    table = pq.read_table(out)
    objects = [json.loads(line) for line in text.splitlines()]
    assert_table_is_json(table, objects, rules_of(table))
    assert any(r["rules"] for r in objects)


def test_a_feed_with_broken_lines(tmp_path: Path) -> None:
    feed = broken_feed(tmp_path)
    out = tmp_path / "results.parquet"
    code, text, err = run("check", "hlj-musicians/membership", str(feed), "--format", "json", "--lang", "en")
    code2, _, err2 = run(
        "check", "hlj-musicians/membership", str(feed), "--format", "parquet", "--output", str(out), "--lang", "en"
    )
    assert (code2, err2) == (code, err) and code == 1
    table = pq.read_table(out)
    objects = [json.loads(line) for line in text.splitlines()]
    assert_table_is_json(table, objects, rules_of(table))
    broken = [r for r in table.to_pylist() if r["message"] is not None]
    assert [r["line"] for r in broken] == [2, 4, 6, 8]  # the blank line 5 is skipped, as check skips it
    assert all(r["outcome"] == "error" and r["record"] is None and r["rule.adult"] is None for r in broken)


def test_worker_processes_write_the_same_table(tmp_path: Path) -> None:
    feed = broken_feed(tmp_path)
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    base = ["check", "hlj-musicians/membership", str(feed), str(EXAMPLES / "applicants.jsonl"), "--format", "parquet"]
    assert run(*base, "--output", str(one))[0] == 1
    assert run(*base, "--output", str(two), "--jobs", "2")[0] == 1
    assert pq.read_table(two).equals(pq.read_table(one))


def test_the_schema_and_its_row_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.io.report.parquet as report

    monkeypatch.setattr(report, "ROW_GROUP", 7)  # 20 records: groups of 7, 7 and 6
    monkeypatch.setattr(report, "_BATCH", 3)  # held as Arrow batches of 3 rows (and 1) until a group is full
    written: list[int] = []
    real = pq.ParquetWriter.write_table

    def write_table(self: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        written.append(table.num_rows)
        real(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", write_table)
    out = tmp_path / "results.parquet"
    run(
        "check",
        "hlj-musicians/membership",
        str(EXAMPLES / "applicants.jsonl"),
        "--format",
        "parquet",
        "--output",
        str(out),
    )
    f = pq.ParquetFile(out)
    assert [f.metadata.row_group(i).num_rows for i in range(f.num_row_groups)] == [7, 7, 6]
    assert written == [7, 7, 6]  # each group written when full, not the whole table at the end
    _, text, _ = run("check", "hlj-musicians/membership", str(EXAMPLES / "applicants.jsonl"), "--format", "json")
    table = f.read()
    assert_table_is_json(table, [json.loads(line) for line in text.splitlines()], rules_of(table))
    schema = f.schema_arrow
    assert schema.names[:5] == ["file", "line", "record", "as_of", "outcome"]
    assert schema.names[-2:] == ["message", "schema"]
    assert schema.field("line").type == pa.int64() and schema.field("as_of").type == pa.date32()
    assert schema.field("rule.adult").type == pa.string()
    assert schema.metadata[b"rulebook"] == b"hlj-musicians/membership"
    assert schema.metadata[b"decision"] == b"admission"


def test_the_functions_the_columnar_engine_uses() -> None:
    from engine.evaluate import InputRef
    from engine.io.report.parquet import decision_row, error_row, results_schema, results_table
    from engine.registry import Registry

    _rid, _version, decision = Registry.default().decision("hlj-musicians/membership", "admission", None)
    record = json.loads((EXAMPLES / "applicant.json").read_text(encoding="utf-8"))
    d = decision.evaluate(record, None, InputRef("a.json", 1))
    rows = [decision_row(d, "en"), error_row(decision, InputRef("a.json", 2), "not JSON")]
    table = results_table(decision, rows)
    assert table.schema.equals(results_schema(decision))
    first, second = table.to_pylist()
    assert first["outcome"] == str(d.outcome) and first["rule.adult"] == str(d.status_of("adult"))
    assert second == {**dict.fromkeys(table.column_names), "file": "a.json", "line": 2, "outcome": "error"} | {
        "message": "not JSON"
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_parquet_is_not_written_to_standard_output(lang: str) -> None:
    code, out, err = run(
        "check", "hlj-musicians/membership", str(EXAMPLES / "applicants.jsonl"), "--format", "parquet", "--lang", lang
    )
    assert code == 2 and out == ""
    assert "usage.parquet-output" in err and "--output" in err
    assert ("二进制文件" in err) == (lang == "zh") and ("binary file" in err) == (lang == "en")


# -- reading Parquet ---------------------------------------------------------------------------------------------


def readable_records() -> list[dict[str, Any]]:
    """The demo applicants a Parquet file can hold (the one whose field has the wrong type left out)."""
    records = [json.loads(line) for line in (EXAMPLES / "applicants.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for r in records if not isinstance(r.get("event_participations", 0), str)]


DATES = ("birth_date", "application_date", "music_work_start_date")


def as_table(records: list[dict[str, Any]], dates: bool) -> Any:
    """The records as an Arrow table; ``dates``: the date fields as date32, else as ISO strings."""
    table = pa.Table.from_pylist(records)
    if dates:
        for name in DATES:
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, table.column(name).cast(pa.date32()))
    return table


@pytest.mark.parametrize("dates", [True, False], ids=["date32", "strings"])
def test_a_parquet_input_decides_as_json_lines(tmp_path: Path, dates: bool) -> None:
    table = as_table(readable_records(), dates)
    if dates:
        assert table.schema.field("birth_date").type == pa.date32()
    pq.write_table(table, tmp_path / "applicants.parquet", row_group_size=5)
    # the same records as JSON Lines: a null where the record schema allows none is an absent field
    plain = as_table(readable_records(), dates=False).to_pylist()
    schema = record_schema("applicant")
    assert schema is not None
    drop = _absent_nulls(schema, schema)
    assert drop is not None
    for r in plain:
        drop(r)
    (tmp_path / "applicants.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in plain), encoding="utf-8"
    )
    code, text, err = run("check", "hlj-musicians/membership", str(tmp_path / "applicants.parquet"), "--format", "json")
    code2, text2, err2 = run(
        "check", "hlj-musicians/membership", str(tmp_path / "applicants.jsonl"), "--format", "json"
    )
    assert (code, err) == (code2, err2)
    got, want = [json.loads(x) for x in text.splitlines()], [json.loads(x) for x in text2.splitlines()]
    assert len(got) == len(plain) > 10
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a["input"] == {"file": str(tmp_path / "applicants.parquet"), "line": i + 1}
        assert {**a, "input": None} == {**b, "input": None}
    assert {o["outcome"] for o in got} >= {"pass", "fail"}
    assert err.startswith(f"{len(plain)} 条记录")  # the records counted


def test_parquet_values_become_what_json_would_carry(tmp_path: Path) -> None:
    table = pa.table(
        {
            "i": pa.array([1, None], pa.int32()),
            "u": pa.array([2**64 - 1, 0], pa.uint64()),
            "f": pa.array([1.5, None], pa.float32()),
            "h": pa.array([0.5, None], pa.float16()),
            "b": [True, None],
            "s": pa.array(["x", "y"]).dictionary_encode(),
            "d": pa.array([dt.date(2024, 2, 29), None], pa.date32()),
            "d64": pa.array([dt.date(2000, 1, 1), None], pa.date64()),
            "ts": pa.array([dt.datetime(2026, 3, 1, 8, 30), None], pa.timestamp("s")),
            "tz": pa.array([dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.UTC), None], pa.timestamp("ms", tz="+08:00")),
            "t": pa.array([dt.time(9, 5), None], pa.time32("s")),
            "l": pa.array([[dt.date(2021, 1, 2), None], None], pa.list_(pa.date32())),
            "st": pa.array(
                [{"when": dt.datetime(2020, 1, 1, 3, 4, 5), "n": 1}, {"when": None, "n": None}],
                pa.struct([("when", pa.timestamp("us")), ("n", pa.int64())]),
            ),
            "ls": pa.array([[{"d": dt.date(2022, 5, 6)}], []], pa.large_list(pa.struct([("d", pa.date32())]))),
            "nothing": pa.array([None, None], pa.null()),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    (first, r1), (second, r2) = list(read_records(str(tmp_path / "t.parquet")))
    assert (first.line, second.line) == (1, 2)
    assert r1 == {
        "i": 1,
        "u": 2**64 - 1,
        "f": 1.5,
        "h": 0.5,
        "b": True,
        "s": "x",
        "d": "2024-02-29",
        "d64": "2000-01-01",
        "ts": "2026-03-01T08:30:00.000",  # Parquet keeps seconds as milliseconds
        "tz": "2026-03-01T08:30:00.000+08:00",
        "t": "09:05:00.000",
        "l": ["2021-01-02", None],
        "st": {"when": "2020-01-01T03:04:05.000000", "n": 1},
        "ls": [{"d": "2022-05-06"}],
        "nothing": None,
    }
    assert r2 == dict.fromkeys(r1) | {"u": 0, "s": "y", "st": {"when": None, "n": None}, "ls": []}
    assert type(r1["i"]) is int and type(r1["f"]) is float and type(r1["h"]) is float
    dt.datetime.fromisoformat(r1["tz"])  # ISO 8601 that Python reads back


def test_records_are_read_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.io.parquetfile as parquetfile

    seen: list[int] = []
    real = pq.ParquetFile.iter_batches

    def iter_batches(self: Any, *args: Any, **kwargs: Any) -> Any:
        for batch in real(self, *args, **kwargs):
            seen.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(parquetfile, "BATCH_ROWS", 100)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", iter_batches)
    pq.write_table(pa.table({"n": list(range(250))}), tmp_path / "n.parquet")
    reader = read_records(str(tmp_path / "n.parquet"))
    assert next(reader)[1] == {"n": 0} and seen == [100]  # one batch read for the first record, not the file
    rest = list(reader)
    assert [ref.line for ref, _ in rest] == list(range(2, 251)) and seen == [100, 100, 50]


def test_standard_input_and_the_input_format_option(tmp_path: Path) -> None:
    pq.write_table(as_table(readable_records(), dates=True), tmp_path / "applicants.data")
    code, text, _ = run(
        "check",
        "hlj-musicians/membership",
        str(tmp_path / "applicants.data"),
        "--input-format",
        "parquet",
        "--format",
        "json",
    )
    assert code == 1 and len(text.splitlines()) == len(readable_records())

    class Stdin(io.StringIO):
        buffer = io.BytesIO((tmp_path / "applicants.data").read_bytes())

    out, err = io.StringIO(), io.StringIO()
    code2 = main(
        ["check", "hlj-musicians/membership", "-", "--input-format", "parquet", "--format", "json"],
        stdout=out,
        stderr=err,
        stdin=Stdin(),
    )
    assert code2 == 1
    assert [json.loads(x)["rules"] for x in out.getvalue().splitlines()] == [
        json.loads(x)["rules"] for x in text.splitlines()
    ]
    assert json.loads(out.getvalue().splitlines()[0])["input"] == {"file": "-", "line": 1}


@pytest.mark.parametrize(
    ("column", "variant"),
    [
        (pa.array([1], pa.decimal128(5, 2)), "decimal"),
        (pa.array([b"x"], pa.binary()), "binary"),
        (pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())), "other"),
        (pa.array([1], pa.duration("s")), "other"),
    ],
    ids=["decimal", "binary", "map", "duration"],
)
def test_a_column_records_cannot_hold_is_named(tmp_path: Path, column: Any, variant: str) -> None:
    path = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"id": ["a"], "amount": column}), path)
    with pytest.raises(UsageError) as caught:
        list(read_records(str(path)))
    d = caught.value.diagnostics[0]
    assert d.code == "usage.parquet-column-type"
    en, zh = caught.value.render("en"), caught.value.render("zh")
    assert "odd.parquet" in en and "`amount`" in en and "`amount`" in zh
    help_words = {"decimal": "float64", "binary": "UTF-8 string", "other": "a string, a number"}[variant]
    assert help_words in en
    nested = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"s": pa.array([{"v": column[0].as_py()}], pa.struct([("v", column.type)]))}), nested)
    with pytest.raises(UsageError, match=r"`s\.v`"):
        list(read_records(str(nested)))


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "feed.parquet"
    path.write_text('{"id": "A-1"}\n', encoding="utf-8")
    code, out, err = run("check", "hlj-musicians/membership", str(path), "--lang", "en")
    assert code == 2 and out == ""
    assert "usage.not-parquet" in err and "feed.parquet` is not a Parquet file" in err and "--input-format" in err
    assert "Traceback" not in err
    code, _, err = run("check", "hlj-musicians/membership", str(tmp_path / "none.pq"), "--lang", "en")
    assert code == 2 and "usage.no-such-file" in err


def test_a_damaged_file_names_the_row_it_stopped_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.io.parquetfile as parquetfile

    monkeypatch.setattr(parquetfile, "BATCH_ROWS", 100)  # a batch per row group
    path = tmp_path / "cut.parquet"
    pq.write_table(
        pa.table({"n": list(range(1000)), "s": [f"row {i}" * 20 for i in range(1000)]}), path, row_group_size=100
    )
    data = bytearray(path.read_bytes())
    meta = pq.ParquetFile(path).metadata
    start = meta.row_group(3).column(1).data_page_offset
    data[start : start + 64] = b"\xff" * 64  # the fourth row group's pages spoiled, the footer intact
    path.write_bytes(bytes(data))
    with pytest.raises(UsageError) as caught:
        list(read_records(str(path)))
    assert caught.value.diagnostics[0].code == "usage.unreadable"
    assert "from row 301 on" in caught.value.render("en") and "第 301 行" in caught.value.render("zh")


def test_without_pyarrow_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    pq.write_table(pa.table({"id": ["a"]}), tmp_path / "a.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # what an import of a package not installed meets
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, _, err = run("check", "hlj-musicians/membership", str(tmp_path / "a.parquet"), "--lang", "en")
    assert code == 2 and "usage.missing-package" in err and "rulebook-engine[columnar]" in err
    code, _, err = run(
        "check",
        "hlj-musicians/membership",
        str(EXAMPLES / "applicants.jsonl"),
        "--format",
        "parquet",
        "--output",
        str(tmp_path / "r.parquet"),
        "--lang",
        "zh",
    )
    assert code == 2 and "rulebook-engine[columnar]" in err and "需要安装 `pyarrow` 包" in err
    assert not (tmp_path / "r.parquet").exists()


def test_a_table_decided_elsewhere_is_written_and_counted_as_its_decisions(tmp_path: Path) -> None:
    from engine.io.records import BadRecord
    from engine.io.report.parquet import ParquetReport, decision_row, error_row, results_table
    from engine.registry import Registry

    _rid, _version, decision = Registry.default().decision("hlj-musicians/membership", "admission", None)
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(broken_feed(tmp_path).read_bytes() + (EXAMPLES / "applicants.jsonl").read_bytes())
    rows, summaries = [], []
    for name in ("one", "table"):
        with (tmp_path / f"{name}.parquet").open("w", encoding="utf-8") as out:
            report = ParquetReport(out, lang="en")
            report.bind_decision(decision, output=out.name)
            report.begin()
            for ref, record in read_records(str(feed)):
                if isinstance(record, BadRecord):
                    if name == "one":
                        report.write_error("r", "v", "admission", ref, record.message)
                    else:
                        rows.append(error_row(decision, ref, record.message))
                    continue
                d = decision.evaluate(record, None, ref)
                if name == "one":
                    report.write(d)
                else:
                    rows.append(decision_row(d, "en"))
            if name == "table":
                report.write_table(results_table(decision, rows[:10]))
                report.write_table(results_table(decision, rows[10:]))
            summaries.append(report.end())
    one, table = summaries
    assert one.outcomes == table.outcomes and one.total == 27
    assert one.failures == table.failures and one.failures
    assert (one.warnings, one.schema_records, one.schema_problems) == (
        table.warnings,
        table.schema_records,
        table.schema_problems,
    )
    assert pq.read_table(tmp_path / "table.parquet").equals(pq.read_table(tmp_path / "one.parquet"))
    assert pq.ParquetFile(tmp_path / "table.parquet").num_row_groups == 2
