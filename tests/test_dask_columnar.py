"""The columnar engine on Dask partitions gives the results table a local run gives, row for row.

On a ``LocalCluster`` of two worker processes on 127.0.0.1 (``tests/dask/conftest.py``), started
and stopped here: ``check --dask --engine columnar --format parquet`` against the local
``--engine columnar`` and ``--engine records`` on a generated feed (JSON Lines with broken lines,
and Parquet), and ``engine.dask.check_dataframe`` on ``dd.read_parquet`` against
``engine.columnar.decide_table``."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("polars")  # the extras [columnar] and [dask]; CI installs both
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import engine.dask.columnar as dask_columnar  # noqa: E402
from engine import columnar  # noqa: E402
from engine.dask import check_dataframe, rulebook_spec, summarize_table  # noqa: E402
from tests.dask.conftest import run, start_cluster  # noqa: E402
from tests.dask.test_dask import write_feed  # noqa: E402
from tests.test_feed_every_format import applicant  # noqa: E402

RB = "hlj-musicians/membership"
RECORDS = 20_000
FILES = 3


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    with start_cluster() as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20,000 applicants over 3 JSON Lines files (each with a line that is not JSON, one not UTF-8,
    an array, blank lines, a CRLF line; a byte-order mark in the first), and the readable ones
    again as 3 Parquet files in row groups of 1,000 rows."""
    root = tmp_path_factory.mktemp("columnar-feed")
    write_feed(root / "feed", RECORDS, FILES)
    rng = random.Random(19)
    per = RECORDS // FILES
    records = [applicant(rng, i + 1) for i in range(per * FILES)]
    table = pa.Table.from_pylist([r for r in records if not isinstance(r.get("event_participations", 0), str)])
    cut = table.num_rows // FILES
    for f in range(FILES):  # one schema for the three files, so that dd.read_parquet reads them together
        part = table.slice(f * cut, cut if f < FILES - 1 else None)
        pq.write_table(part, root / "feed" / f"part-{f}.parquet", row_group_size=1000)
    return root


def table_of(path: Path) -> Any:
    return pq.read_table(path)


def check_parquet(folder: Path, files: list[str], out: str, *options: str) -> tuple[int, str, Any]:
    code, _out, err = run("check", RB, *files, "--format", "parquet", "--output", out, "--lang", "en", *options)
    assert code in (0, 1), err
    return code, err, table_of(folder / out)


def same_rows(a: Any, b: Any) -> None:
    """Every column, every row (the first difference named)."""
    assert a.schema == b.schema
    assert a.num_rows == b.num_rows
    if not a.equals(b):
        for name in a.column_names:
            x, y = a.column(name).to_pylist(), b.column(name).to_pylist()
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                assert u == v, (name, i, u, v)
    assert a.equals(b)


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_the_cluster_writes_the_table_a_local_run_writes(
    address: str, feed: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--dask ... --engine columnar``: the same table as the local columnar and per-record engines,
    the same summary and exit code; JSON Lines files cut into several byte ranges (lines crossing
    their edges), Parquet files into runs of row groups (3,000 rows: several per file)."""
    monkeypatch.chdir(feed)
    monkeypatch.setattr(dask_columnar, "PARQUET_ROWS", 3000)
    files = [f"feed/part-{f}.{kind}" for f in range(FILES)]
    r_code, r_err, records = check_parquet(feed, files, "records.parquet", "--engine", "records")
    c_code, c_err, local = check_parquet(feed, files, "local.parquet", "--engine", "columnar")
    d_code, d_err, dask = check_parquet(feed, files, "dask.parquet", "--engine", "columnar", "--dask", address)
    same_rows(local, records)
    same_rows(dask, local)
    assert d_code == c_code == r_code == 1
    assert d_err == c_err  # "engine: columnar (N records, M of them decided one by one)" and the summary
    assert r_err.splitlines()[-1] == d_err.splitlines()[-1]
    per = RECORDS // FILES
    if kind == "jsonl":  # and 3 unreadable lines per file, error rows at their lines
        assert records.num_rows == per * FILES + 3 * FILES
    else:  # the applicants whose every field a Parquet column can hold
        assert per * FILES * 0.9 < records.num_rows <= per * FILES
    assert set(dask.column("file").to_pylist()) == set(files)
    if kind == "jsonl":
        broken = dask.filter(pa.compute.equal(dask.column("outcome"), "error"))
        assert broken.num_rows == 3 * FILES
        assert all(m for m in broken.column("message").to_pylist())
        sizes = [(feed / f).stat().st_size for f in files]
        assert all(s > dask_columnar.MIN_BLOCK for s in sizes)  # so each file is several ranges


def test_a_local_cluster_started_for_the_run(feed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--dask local:2`` with ``--engine columnar``: two worker processes started and stopped for the run."""
    monkeypatch.chdir(feed)
    files = [f"feed/part-{f}.jsonl" for f in range(FILES)]
    _code, _err, local = check_parquet(feed, files, "local2.parquet", "--engine", "columnar")
    _code, _err, dask = check_parquet(feed, files, "dask2.parquet", "--engine", "columnar", "--dask", "local:2")
    same_rows(dask, local)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    ("path", "options"),
    [("examples/applicants.jsonl", []), ("examples/applicant.json", ["--format", "parquet", "--output", "o.parquet"])],
    ids=["json-report", "json-input"],
)
def test_what_the_cluster_cannot_take_by_columns_is_refused(
    address: str, lang: str, path: str, options: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a cluster only the Parquet report takes results tables, and only JSON Lines and Parquet files
    are cut into partitions: anything else with ``--engine columnar`` is refused (exit 2, in the run's
    language) rather than decided some other way; ``--engine auto`` decides it per record there."""
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(tmp_path)
    source = str(root / path)
    options = [str(tmp_path / o) if o.endswith(".parquet") else o for o in options]
    code, out, err = run("check", RB, source, *options, "--engine", "columnar", "--dask", address, "--lang", lang)
    assert code == 2 and out == ""
    assert "--format parquet" in err and "Parquet" in err
    assert ("Dask" in err) if lang == "en" else ("集群" in err and "只读取" in err)
    assert "Traceback" not in err
    auto = run("check", RB, source, *options, "--engine", "auto", "--dask", address, "--lang", lang)
    records = run("check", RB, source, *options, "--engine", "records", "--dask", address, "--lang", lang)
    assert auto == records and auto[0] in (0, 1)


def decision() -> Any:
    """The decision as ``check`` builds it for the rulebook's id (the version in force on each record's date)."""
    return rulebook_spec(RB, "admission")[1]


def test_check_dataframe_equals_decide_table(address: str, feed: Path) -> None:
    """``check_dataframe`` on ``dd.read_parquet`` of three files (a partition each): lines over the
    whole frame equal ``decide_table`` on the three tables together, lines per partition equal it
    file by file; ``summarize_table`` counts what the table holds."""
    paths = [str(feed / "feed" / f"part-{f}.parquet") for f in range(FILES)]
    tables = [pq.read_table(p) for p in paths]
    d = decision()
    with distributed.Client(address):
        ddf = dd.read_parquet(paths, dtype_backend="pyarrow")
        assert ddf.npartitions == FILES
        results = check_dataframe(RB, ddf, "admission", lang="en", name="registry")
        got = pa.Table.from_pandas(results.compute(), preserve_index=False).replace_schema_metadata(None)
        whole = pa.concat_tables(tables)
        expected = pa.concat_tables(list(columnar.decide_table(d, whole, name="registry", lang="en")))
        same_rows(got, expected)
        assert got.column("line").to_pylist() == list(range(1, whole.num_rows + 1))

        per = check_dataframe(RB, ddf, "admission", lang="en", name="registry", lines="partition").compute()
        got = pa.Table.from_pandas(per, preserve_index=False).replace_schema_metadata(None)
        expected = pa.concat_tables(
            [t for table in tables for t in columnar.decide_table(d, table, name="registry", lang="en")]
        )
        same_rows(got, expected)

        counts = summarize_table(results, split_every=2).compute()
    outcomes = Counter(expected.column("outcome").to_pylist())
    assert counts.outcomes == dict(outcomes) and counts.total == whole.num_rows
    rule_ids = [c.removeprefix("rule.") for c in expected.column_names if c.startswith("rule.")]
    assert set(counts.rules) == set(rule_ids)
    for rule in rule_ids:
        statuses = Counter(s for s in expected.column(f"rule.{rule}").to_pylist() if s is not None)
        assert counts.rules[rule] == dict(statuses)
    assert json.loads(json.dumps(counts.to_json()))["total"] == whole.num_rows


def test_check_dataframe_refuses_an_unknown_line_numbering() -> None:
    with pytest.raises(ValueError, match="lines"):
        check_dataframe(RB, dd.from_dict({"id": ["a"]}, npartitions=1), "admission", lines="global")
