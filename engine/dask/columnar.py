"""The columnar engine (``engine.columnar``) on Dask partitions.

Two ways in:

* :func:`check_dataframe` decides a ``dask.dataframe`` of records (one record per row, as
  ``dd.read_parquet`` gives them) into a dataframe of the results table, lazily;
  :func:`summarize_table` counts it by outcome and by rule status as a tree reduction.
* :func:`run_check` is ``rulebook check ... --dask ADDRESS --engine columnar``: JSON Lines files
  cut into byte ranges of whole lines (as the per-record ``--dask`` path cuts them), Parquet
  files into runs of row groups; each partition is read and decided by columns on a worker,
  and its results table comes back and is written in input order, a few partitions in flight.

As for the per-record path, a worker is sent the rulebook's text (``RulebookSpec``) and builds
the decision itself, once per process; compiled code and Polars objects never travel, only
Arrow tables of results.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
from collections import Counter
from collections.abc import Iterable
from typing import IO, Any, NamedTuple

from engine.dask.inputs import Part, count_lines, find_parts, line_bases, range_data
from engine.dask.rulebook import RulebookSpec, decision_for, rulebook_spec
from engine.errors import Diagnostic, UsageError

__all__ = ["ColumnarPart", "check_dataframe", "decide_columnar_part", "reads", "run_check", "summarize_table"]

MIN_BLOCK = 1 << 20
# Results by columns are small (a status per rule and record, as shared texts): ranges of up to
# 32 MiB (about 60,000 applicants) keep the per-partition cost of scheduling and of starting a
# batch small, while a worker holds a range's bytes and its Arrow tables (a few hundred MiB at most).
MAX_BLOCK = 32 << 20
# consecutive row groups of a Parquet file are decided together up to this many rows
PARQUET_ROWS = 262_144


def reads(files: list[str], input_format: str | None) -> bool:
    """Whether ``check --dask --engine columnar`` reads these inputs: JSON Lines and Parquet files
    (by their names, or as ``--input-format`` says), not standard input."""
    if "-" in files:
        return False
    if input_format is not None:
        return input_format in ("jsonl", "parquet")
    return all(f.lower().endswith((".jsonl", ".ndjson", ".parquet", ".pq")) for f in files)


class ColumnarPart(NamedTuple):
    """What a worker gives back for a partition: the file, the rows decided, the blank lines skipped,
    the rows decided by the per-record engine by reason, and the results table
    (``engine.io.report.parquet.results_schema``)."""

    file: str
    rows: int
    blank: int
    fallback: Counter[str]
    table: Any


class _Job(NamedTuple):
    """A partition to decide: a JSON Lines range (``groups`` None), or the row groups
    ``[groups[0], groups[1])`` of a Parquet file whose first row is row ``first``."""

    part: Part
    groups: tuple[int, int] | None = None
    first: int = 1


def _concat(decision: Any, tables: list[Any]) -> Any:
    import pyarrow as pa

    from engine.io.report.parquet import results_schema

    if not tables:
        return results_schema(decision).empty_table()
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def decide_columnar_part(job: _Job, base: int, spec: RulebookSpec, as_of: _dt.date | None, lang: str) -> ColumnarPart:
    """Read and decide one partition by columns (on a worker): ``base`` the lines of the file
    before a JSON Lines range."""
    import io

    import pyarrow.compute as pc

    from engine import columnar

    decision = decision_for(spec, lang)
    stats = columnar.ColumnarStats()
    part = job.part
    if job.groups is None:
        data, before = range_data(part)
        tables = list(
            columnar.decide_batches(
                decision, io.BytesIO(data), name=part.name, fmt="jsonl", as_of=as_of, lang=lang, stats=stats
            )
        )
        table = _concat(decision, tables)
        offset = base + before  # decide_batches numbers the range's lines from 1
        if offset and table.num_rows:
            i = table.schema.get_field_index("line")
            table = table.set_column(i, table.schema.field(i), pc.add(table.column(i), offset))
    else:
        import pyarrow.parquet as pq

        with part.fs.open(part.path, "rb") as f:
            rows = pq.ParquetFile(f).read_row_groups(list(range(*job.groups)))
        tables = list(
            columnar.decide_table(
                decision, rows, name=part.name, first_line=job.first, as_of=as_of, lang=lang, stats=stats
            )
        )
        table = _concat(decision, tables)
    return ColumnarPart(part.name, stats.rows, stats.blank, stats.fallback, table)


# -- the command line ----------------------------------------------------------------------------------------


def _row_groups(part: Part) -> list[int]:
    """The rows of each row group of a Parquet file (read from its footer), or the usage error
    the per-record reader gives for a file that is not Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with part.fs.open(part.path, "rb") as f:
            meta = pq.ParquetFile(f).metadata
    except (pa.ArrowException, OSError) as e:
        raise UsageError(Diagnostic.of("usage.not-parquet", path=part.name, reason=str(e))) from None
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def _parquet_jobs(part: Part, rows_per_job: int) -> list[_Job]:
    """Consecutive row groups of up to ``rows_per_job`` rows (at least one group) per job."""
    sizes = _row_groups(part)
    jobs: list[_Job] = []
    start, first, held = 0, 1, 0
    for i, n in enumerate(sizes):
        if held and held + n > rows_per_job:
            jobs.append(_Job(part, (start, i), first))
            start, first, held = i, first + held, 0
        held += n
    if held or not jobs:
        jobs.append(_Job(part, (start, len(sizes)), first))
    return jobs


def _plan(client: Any, files: list[str], input_format: str | None) -> tuple[list[_Job], list[Any]]:
    """The jobs of the inputs in order and, for each JSON Lines range, the lines before it (futures)."""
    from engine.dask.cli import add_ints

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    whole = find_parts(files, None, input_format)
    size = 0
    for p in whole:
        if p.fmt not in ("jsonl", "parquet"):
            from engine.messages import msg

            reason = msg("columnar.why:input", name=p.name)
            raise UsageError(
                Diagnostic("usage.columnar", msg("usage.columnar", reason=reason), help=msg("usage.columnar/help"))
            )
        with contextlib.suppress(OSError):
            size += p.fs.size(p.path) if p.fmt == "jsonl" else 0
    block = max(MIN_BLOCK, min(MAX_BLOCK, size // max(1, 4 * workers) + 1))
    parts = find_parts(files, block, input_format)
    jobs: list[_Job] = []
    ranges: list[Part] = []
    for p in parts:
        if p.fmt == "parquet":
            jobs.extend(_parquet_jobs(p, PARQUET_ROWS))
        else:
            jobs.append(_Job(p))
            ranges.append(p)
    counts = [client.submit(count_lines, p, pure=True) if p.end is not None else 0 for p in ranges]
    range_bases = iter(line_bases(ranges, counts, lambda a, b: client.submit(add_ints, a, b, pure=True)))
    bases = [next(range_bases) if j.groups is None else 0 for j in jobs]
    return jobs, bases


def run_check(
    address: str,
    *,
    rulebook: str,
    decision: str | None,
    as_of: _dt.date | None,
    enforcement: str | None,
    lang: str,
    files: list[str],
    input_format: str | None,
    report: Any,
    inputs: Any,
    stats: Any,
    stderr: IO[str],
    progress: str,
) -> None:
    """``check --dask ADDRESS --engine columnar``: decide ``files`` by columns on the cluster, each
    partition's results table written to ``report`` (``write_table``) in input order; the rows and
    the fallbacks counted into ``stats`` (``engine.columnar.ColumnarStats``)."""
    from engine.dask.cli import TaskProgress, connect, in_order

    spec, _built = rulebook_spec(rulebook, decision, as_of, enforcement)
    with connect(address) as client:
        jobs, bases = _plan(client, files, input_format)
        bar = TaskProgress(stderr, len(jobs), lang, progress)

        def submit(i: int) -> Any:
            return client.submit(decide_columnar_part, jobs[i], bases[i], spec, as_of, lang, pure=False, retries=2)

        try:
            for result in in_order(client, submit, len(jobs), bar):
                stats.rows += result.rows
                stats.blank += result.blank
                stats.fallback.update(result.fallback)
                inputs.add(result.file, result.rows, result.blank)
                if result.table.num_rows:
                    report.write_table(result.table)
        finally:
            bar.stop()


# -- dataframes ----------------------------------------------------------------------------------------------


def _pandas(table: Any) -> Any:
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _decide_frame(frame: Any, spec: RulebookSpec, as_of: _dt.date | None, lang: str, name: str, first: int) -> Any:
    """One partition of records (pandas) decided: its results table as pandas with Arrow types."""
    import pyarrow as pa

    from engine import columnar

    decision = decision_for(spec, lang)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    tables = list(columnar.decide_table(decision, table, name=name, first_line=first, as_of=as_of, lang=lang))
    return _pandas(_concat(decision, tables))


def _decide_first(frame: Any, spec: RulebookSpec, as_of: _dt.date | None, lang: str, name: str) -> Any:
    return _decide_frame(frame, spec, as_of, lang, name, 1)


def check_dataframe(
    rulebook: str | RulebookSpec,
    ddf: Any,
    decision: str | None = None,
    as_of: _dt.date | None = None,
    lang: str = "zh",
    *,
    schema_enforcement: str | None = None,
    name: str = "<dataframe>",
    lines: str = "frame",
) -> Any:
    """The results table of the records of ``ddf`` (a ``dask.dataframe``, one record per row), as a
    dask dataframe, lazily: each partition decided by columns on a worker (``engine.columnar``).

    The rows' ``file`` is ``name``.  ``line``: with ``lines="frame"`` (the default), the row's number
    in the whole dataframe, 1-based, as a local check numbers the rows of one Parquet file; the
    partitions' lengths are counted first by small tasks (each partition is read once, and kept
    until the partitions before it are counted).  With ``lines="partition"``, the row's number
    within its partition, with no counting.  The columns have Arrow types (``pd.ArrowDtype``).

    Read Parquet with ``dtype_backend="pyarrow"``: pandas' own types turn an integer column with
    nulls into floats, which the per-record engine then sees as ``3.0``, not ``3``.

    Raises:
        EngineError: an unknown rulebook or decision, a rulebook with errors.
        NotColumnar: a decision that cannot be decided by columns at all.
        ValueError: ``lines`` neither ``frame`` nor ``partition``.
    """
    import dask
    import dask.dataframe as dd

    from engine import columnar
    from engine.io.report.parquet import results_schema

    if lines not in ("frame", "partition"):
        raise ValueError(f"lines must be 'frame' or 'partition', not {lines!r}")
    if isinstance(rulebook, RulebookSpec):
        spec, built = rulebook, decision_for(rulebook, lang)
    else:
        spec, built = rulebook_spec(rulebook, decision, as_of, schema_enforcement)
    columnar.columnar_decision(built)  # NotColumnar here, not on a worker
    meta = _pandas(results_schema(built).empty_table())
    if lines == "partition":
        return ddf.map_partitions(_decide_first, spec, as_of, lang, name, meta=meta, enforce_metadata=False)
    frames = ddf.to_delayed()
    size = dask.delayed(len, pure=True)
    add = dask.delayed(_plus, pure=True)
    decide = dask.delayed(_decide_frame, pure=True)
    out = []
    first: Any = 1
    for frame in frames:
        out.append(decide(frame, spec, as_of, lang, name, first))
        first = add(first, size(frame))
    return dd.from_delayed(out, meta=meta, verify_meta=False)


def _plus(a: int, b: int) -> int:
    return a + b


def _count_frame(frame: Any) -> Any:
    """One partition of a results table counted: by outcome, and by rule and status."""
    from engine.dask import DecisionCounts

    counts = DecisionCounts()
    for outcome, n in frame["outcome"].value_counts().items():
        counts.outcomes[str(outcome)] = int(n)
    for column in frame.columns:
        if str(column).startswith("rule."):
            statuses = frame[column].value_counts()  # nulls (lines that could not be read) left out
            counts.rules[str(column)[5:]] = {str(s): int(n) for s, n in statuses.items()}
    return counts


def _merge_counts(parts: Iterable[Any]) -> Any:
    from engine.dask import DecisionCounts

    total = DecisionCounts()
    for part in parts:
        total.add(part)
    return total


def summarize_table(results: Any, split_every: int = 16) -> Any:
    """The counts of a results table (a dask dataframe from :func:`check_dataframe`) as a lazy
    object whose ``compute()`` is a ``DecisionCounts``: ``outcomes``, and ``rules`` keyed by rule id
    (``articles`` stays empty: the table names no articles).  A tree reduction: each partition is
    counted where it is, ``split_every`` counts merged at a time, and only counts travel."""
    import dask

    count = dask.delayed(_count_frame, pure=True)
    merge = dask.delayed(_merge_counts, pure=True)
    step = max(2, split_every)
    level = [count(frame) for frame in results.to_delayed()]
    while len(level) > 1:
        level = [merge(level[i : i + step]) for i in range(0, len(level), step)]
    return level[0] if level else merge([])
