"""The `rulebook` command line: list, check, explain, test, lint, doc, plugins, init-plugin.

Exit codes (CONTRACT): 0 every record passed at the ``--fail-on`` level (for
``test``: every example matched; for ``lint``: no errors); 1 some record did
not (some example did not match); 2 the command could not run (usage, an
unreadable or invalid rulebook, lint errors).

A user's own mistake (bad YAML, a typo in an expression, an unknown rulebook,
a missing file) is printed as positioned diagnostics and exits 2; it never
shows a traceback.  Anything else is an internal error: a short request to
report it, with the traceback only under ``--debug``.  An option given where it would do
nothing (``--sheet`` without a workbook, ``diff --as-of`` without ``--data``) is refused before
the command runs (``usage.option-unused``, see ``engine.cli.unused``).  ``-`` is standard
input for every input and standard output for every output file (``--output -``, as with no
``--output``); see ``engine.cli.args``.

The output formats of ``check``, the readers of its input, and the observers
told of every decision come from the plugin manager (``engine.pluginmanager``):
the engine's own through the same hooks as a plugin's.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from rich.text import Text

from engine.cli import args as cli_args
from engine.errors import Diagnostic, EngineError, UsageError
from engine.messages import Text as Both
from engine.messages import listing, msg, os_reason

if TYPE_CHECKING:
    from engine.io.records import InputTally

__all__ = ["main"]

FAIL_ON = cli_args.FAIL_ON


def build_parser(lang: str = "zh") -> argparse.ArgumentParser:
    """The parser of the command line, its help in ``lang`` (see ``engine.cli.args``)."""
    return cli_args.build_parser(lang)


class _Io:
    def __init__(self, stdout: IO[str], stderr: IO[str], stdin: TextIO | None, args: argparse.Namespace) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self.args = args
        self.inputs: InputTally | None = None  # what the run's inputs held besides records, when first asked
        self.lang: str = getattr(args, "lang", "zh")
        self.color = {"always": True, "never": False}.get(getattr(args, "color", "auto"))
        if self.color is None and not (hasattr(stdout, "isatty") and stdout.isatty()):
            self.color = False

    def console(self, out: IO[str] | None = None) -> Any:
        from engine.io.report.text import make_console

        return make_console(out or self.stdout, self.color)

    def wide_console(self) -> Any:
        """For tables of names that must not be cut (``list``, ``plugins``): the terminal's
        width on a terminal, else wide enough for a line per row."""
        import shutil

        console = self.console()
        tty = hasattr(self.stdout, "isatty") and self.stdout.isatty()
        console.width = shutil.get_terminal_size().columns if tty else 200
        return console


def _registry() -> Any:
    from engine.registry import Registry

    return Registry.default()


def cmd_list(io: _Io) -> int:
    import json

    reg = _registry()
    today = _dt.date.today()
    zh = io.lang == "zh"
    rows: list[tuple[Any, list[str]]] = []
    for rid in reg.ids():
        versions = reg.versions(rid)
        shown = versions
        if not io.args.all_versions:
            in_force = [e for e in versions if e.in_force_on(today)]
            shown = [max(in_force or versions, key=lambda e: (e.effective_from, e.version))]
        rows.extend((e, [v.version for v in versions if v is not e]) for e in shown)
    if io.args.format == "json":
        for e, others in rows:
            io.stdout.write(
                json.dumps(
                    {
                        "id": e.id,
                        "version": e.version,
                        "status": e.status,
                        "effective_from": e.effective_from,
                        "effective_until": e.effective_until,
                        "title": e.title,
                        "other_versions": others,
                        "supplied_by": e.origin,
                        "plugin": e.plugin,
                        "path": str(e.path),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        return 0
    from rich.table import Table  # only for these listings: not imported at start-up

    table = Table(show_edge=False)
    table.add_column("规则集" if zh else "rulebook", no_wrap=True)
    table.add_column("版本" if zh else "version", no_wrap=True)
    table.add_column("状态" if zh else "status", no_wrap=True)
    table.add_column("生效" if zh else "effective", no_wrap=True)
    if not io.args.all_versions:
        table.add_column("其他版本" if zh else "other versions")
    table.add_column("来源" if zh else "supplied by", no_wrap=True)
    table.add_column("标题" if zh else "title", overflow="ellipsis", no_wrap=True, max_width=40)
    for e, others in rows:
        span = f"{e.effective_from} – {e.effective_until or ''}"
        cells = [Text(e.id), Text(e.version), Text(e.status), Text(span)]
        if not io.args.all_versions:
            cells.append(Text(", ".join(others) or "–"))
        cells += [Text(e.origin), Text(e.title)]
        table.add_row(*cells)
    io.wide_console().print(table)
    return 0


def _plugins() -> Any:
    from engine.pluginmanager import get_plugin_manager

    return get_plugin_manager()


def cmd_plugins(io: _Io) -> int:
    import json

    pm = _plugins()
    rows = [(info, hooks, True) for info, hooks in pm.plugins()] + [(info, [], False) for info in pm.disabled]
    if io.args.format == "json":
        for info, hooks, loaded in rows:
            io.stdout.write(
                json.dumps(
                    {
                        "name": info.name,
                        "distribution": info.distribution,
                        "version": info.version,
                        "builtin": info.builtin,
                        "entry_point": info.entry_point,
                        "loaded": loaded,
                        "hooks": hooks,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        return 0
    zh = io.lang == "zh"
    from rich.table import Table  # only for these listings: not imported at start-up

    table = Table(show_edge=False)
    table.add_column("插件" if zh else "plugin", no_wrap=True)
    table.add_column("发行包" if zh else "distribution", no_wrap=True)
    table.add_column("版本" if zh else "version", no_wrap=True)
    table.add_column("钩子" if zh else "hooks")
    for info, hooks, loaded in rows:
        where = info.distribution or "–"
        if info.builtin:
            where += f" ({msg('cli.built-in').get(io.lang)})" if not zh else f"（{msg('cli.built-in').get(io.lang)}）"
        table.add_row(
            Text(info.name),
            Text(where),
            Text(info.version or "–"),
            Text(", ".join(hooks) if loaded else msg("cli.not-loaded").get(io.lang)),
        )
    io.wide_console().print(table)
    return 0


def _context(io: _Io, command: str) -> Any:
    import uuid

    from engine.hookspecs import DecisionContext

    args = io.args
    options = {
        "as_of": args.as_of.isoformat() if args.as_of else None,
        "decision": args.decision,
        "lang": io.lang,
        "files": list(getattr(args, "files", None) or [args.record_file]),
    }
    if command == "check":
        options |= {"format": args.format, "fail_on": args.fail_on}
    return DecisionContext(command, args.rulebook, uuid.uuid4().hex, _dt.datetime.now(_dt.UTC), options)


class _Observers:
    """Tells the plugins' ``decision_made`` observers of each decision; reports (once
    per plugin) an observer that fails, and never lets it stop the run."""

    def __init__(self, io: _Io, command: str) -> None:
        self.pm = _plugins()
        self.active = self.pm.has_observers()
        self.context = _context(io, command) if self.active else None
        self.io = io
        self.reported: set[str] = set()
        self.failed = 0

    def __call__(self, decision: Any) -> None:
        if not self.active:
            return
        for failure in self.pm.decision_made(decision, self.context):
            self.failed += 1
            if failure.plugin.name not in self.reported:
                self.reported.add(failure.plugin.name)
                self.io.stderr.write(failure.diagnostic().render(self.io.lang) + "\n")

    def error(self, label: tuple[str, str], name: str, ref: Any, message: str) -> None:
        """A record that could not be read is a decision too (outcome ``error``)."""
        if not self.active:
            return
        from engine.evaluate import Decision
        from engine.model import Outcome

        self(Decision(label[0], label[1], name, None, ref, None, Outcome.ERROR, [], message=message))

    def end(self) -> None:
        if self.failed:
            self.io.stderr.write(msg("cli.observers-failed", count=self.failed).get(self.io.lang) + "\n")


def _read(io: _Io, path: str, decision: Any, inputs: Any = None) -> Any:
    """The records of ``path``, read by the first plugin that can (the built-in reader last);
    what the input holds besides records goes to ``inputs`` (default: the run's tally)."""
    from engine.hookspecs import RecordOptions

    compiled = getattr(decision, "newest", decision)  # a VersionedDecision reads by its newest version
    record_type = getattr(compiled, "record_type", None)
    schema = (record_type.root or record_type.schema) if record_type is not None else None
    reader = _plugins().open_records(path, RecordOptions(io.args.input_format, io.stdin, schema, io.args.sheet))
    return (inputs or _inputs(io)).read(path, reader)


def _inputs(io: _Io) -> Any:
    """What this run's inputs held besides records (``engine.io.records.InputTally``); a warning
    about an input is shown on standard error as soon as it is read."""
    tally = io.inputs
    if tally is None:
        from engine.io.records import InputTally

        tally = io.inputs = InputTally(lambda _ref, note: _show_problem(io, note))
    return tally


def _show_problem(io: _Io, note: Any) -> None:
    io.stderr.write(note.problem.render(io.lang) + "\n")


def _records_ahead(files: list[str], input_format: str | None, sheet: str | None) -> int | None:
    """About how many records the input files hold, for a progress bar: the lines of JSON Lines
    and CSV files (a CSV header not counted), the rows of a workbook's sheet; None when
    that cannot be told cheaply (standard input, pipes, JSON, plugins' formats)."""
    import os
    import stat

    total = 0
    for path in files:
        kind = (input_format or Path(path).suffix.lstrip(".")).lower()
        if path == "-" or kind not in ("jsonl", "ndjson", "csv", "xlsx"):
            return None
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe read twice would lose its records
                return None
            if kind == "xlsx":
                from openpyxl import load_workbook

                book = load_workbook(path, read_only=True)
                try:
                    rows = (book[sheet] if sheet in book.sheetnames else book.worksheets[0]).max_row
                    total += max(0, (rows or 1) - 1)
                finally:
                    book.close()
                continue
            lines, last = 0, b"\n"
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    lines += block.count(b"\n")
                    last = block[-1:]
            lines += last != b"\n"
            total += lines - (kind == "csv")
        except Exception:  # noqa: BLE001 - a file that cannot be read is reported by the reader
            return None
    return total


class _Progress:
    """Progress on standard error: a live line on a terminal (``auto``, ``always``); where standard
    error is not a terminal (a CI log), plain lines when asked (``always``): one every
    ``PLAIN_EVERY`` seconds and one at the end; nothing with ``never``."""

    PLAIN_EVERY = 10.0

    def __init__(self, io: _Io, files: list[str] | None = None) -> None:
        import time

        mode = getattr(io.args, "progress", "never")
        tty = hasattr(io.stderr, "isatty") and io.stderr.isatty()
        self.enabled = mode == "always" or (mode == "auto" and tty)
        self.count = 0
        self._progress: Any = None
        self._plain = self.enabled and not tty
        self.io = io
        if self._plain:
            self.total = _records_ahead(files or [], io.args.input_format, getattr(io.args, "sheet", None))
            self.started = time.monotonic()
            self._next = self.started + self.PLAIN_EVERY
        elif self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = Console(file=io.stderr, force_terminal=tty or None)
            label = "条记录" if io.lang == "zh" else "records"
            total = _records_ahead(files or [], io.args.input_format, getattr(io.args, "sheet", None))
            columns: list[Any] = [SpinnerColumn(), TextColumn("{task.completed:,} " + label)]
            if total is not None:  # a bar where the number of records can be told beforehand
                columns += [BarColumn(), TaskProgressColumn(), TimeRemainingColumn()]
            self._progress = Progress(*columns, TimeElapsedColumn(), console=console, transient=True)
            self._task = self._progress.add_task("check", total=total)
            self._progress.start()

    def step(self) -> None:
        self.count += 1
        if self.count % 250 == 0:
            self._show()

    def advance(self, count: int) -> None:
        """``count`` records at once (a batch decided by columns)."""
        self.count += count
        self._show()

    def _show(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.count)
        elif self._plain:
            import time

            now = time.monotonic()
            if now >= self._next:
                self._line(now)
                self._next = now + self.PLAIN_EVERY

    def _line(self, now: float, done: bool = False) -> None:
        seconds = f"{now - self.started:.1f}"
        if done:
            text = msg("cli.progress:done", count=self.count, seconds=seconds)
        elif self.total:
            text = msg(
                "cli.progress:total",
                count=self.count,
                total=self.total,
                seconds=seconds,
                percent=min(100, self.count * 100 // self.total),
            )
        else:
            text = msg("cli.progress", count=self.count, seconds=seconds)
        self.io.stderr.write(text.get(self.io.lang) + "\n")
        self.io.stderr.flush()

    def stop(self, done: bool = False) -> None:
        """The end of the run (``done``: every record was read), or of an interrupted one."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        elif self._plain and done:
            import time

            self._line(time.monotonic(), done=True)


def _evaluate_files(
    io: _Io, label: tuple[str, str], decision: Any, files: list[str], report: Any, observe: _Observers
) -> None:
    if _columnar_engine(io, decision, files, report, observe):
        _evaluate_columnar(io, decision, files, report, label)
        return
    if getattr(io.args, "dask", None):
        _evaluate_on_dask(io, decision, files, report, observe)
        return
    from engine.io.parallel import default_jobs, evaluate_parallel
    from engine.io.records import BadRecord

    blocks = (
        hasattr(report, "write_block")
        and not observe.active
        and not io.args.input_format
        and all(p != "-" and p.lower().endswith((".jsonl", ".ndjson")) for p in files)
        and not _plugins().has_custom_readers()
    )
    # By default more than one process only where the workers also write the report (JSON Lines to
    # JSON lines): for other reports this process formats every decision itself, and the workers'
    # decisions cost more to send and read back than to make here.
    jobs = io.args.jobs if getattr(io.args, "jobs", None) is not None else default_jobs(files) if blocks else 1
    if jobs < 1:
        raise UsageError(Diagnostic("usage.arguments", msg("usage.jobs")))
    if blocks:
        # JSON Lines to JSON lines, nobody watching each decision: records go in blocks (to the
        # workers as raw lines), each decided, written and counted where it is parsed
        from engine.io.parallel import evaluate_blocks

        progress = _Progress(io, files)
        inputs = _inputs(io)
        direct = report.direct_fd() if hasattr(report, "direct_fd") else None
        made = evaluate_blocks(
            files,
            decision,
            rulebook=io.args.rulebook,
            decision_name=decision.name,
            as_of=io.args.as_of,
            lang=io.lang,
            label=label,
            jobs=jobs,
            out_fd=direct,
        )
        try:
            for block in made:
                report.write_block(block)
                inputs.add(block.file, block.count, block.blank)
                for _ in range(block.count):
                    progress.step()
        finally:
            progress.stop()
            made.close()  # the workers stop now, not when the interpreter exits (a closed output)
        progress.stop(done=True)
        return
    if jobs > 1 and not _plugins().has_custom_readers() and not io.args.input_format:
        # JSON Lines go to the workers as raw lines: parsing is part of the work they share
        from engine.io.records import read_raw_jsonl

        records = (
            item
            for path in files
            for item in (
                _inputs(io).read(path, read_raw_jsonl(path))
                if path.lower().endswith((".jsonl", ".ndjson"))
                else _read(io, path, decision)
            )
        )
    else:
        records = (item for path in files for item in _read(io, path, decision))
    if jobs > 1:
        evaluated: Any = evaluate_parallel(
            records,
            decision,
            rulebook=io.args.rulebook,
            decision_name=decision.name,
            as_of=io.args.as_of,
            lang=io.lang,
            jobs=jobs,
        )
    else:
        evaluated = (
            (ref, rec, None if isinstance(rec, BadRecord) else decision.evaluate(rec, io.args.as_of, ref))
            for ref, rec in records
        )
    progress = _Progress(io, files)
    try:
        for ref, record, d in evaluated:
            progress.step()
            if isinstance(record, BadRecord):
                message = record.message_zh if io.lang == "zh" else record.message
                report.write_error(label[0], label[1], decision.name, ref, message)
                observe.error(label, decision.name, ref, message)
                continue
            report.write(d)
            observe(d)
    finally:
        progress.stop()
        if hasattr(evaluated, "close"):
            evaluated.close()  # the workers stop now, not when the interpreter exits (a closed output)
    progress.stop(done=True)


# `--engine auto` decides by columns from this much input on (JSON Lines bytes, or Parquet rows x 400)
COLUMNAR_FROM_BYTES = 32 << 20


def _columnar_engine(io: _Io, decision: Any, files: list[str], report: Any, observe: _Observers) -> bool:
    """Whether `--engine` (columnar, or auto on a large input) decides this run by columns; says which on
    standard error when it was asked or chosen, and why not when columnar was asked and cannot."""
    engine = getattr(io.args, "engine", "records") or "records"
    if engine == "records":
        return False
    why = None
    jobs = getattr(io.args, "jobs", None)
    if jobs is not None:
        if jobs < 1:
            raise UsageError(Diagnostic("usage.arguments", msg("usage.jobs")))
        if "polars" not in sys.modules:  # by columns, --jobs is the number of Polars' threads
            os.environ["POLARS_MAX_THREADS"] = str(jobs)
    from engine import columnar

    if not columnar.available():
        why = msg("columnar.why:package")
    elif engine == "auto" and not hasattr(report, "write_table") and getattr(report, "shows_passes", True):
        why = msg("columnar.why:format")  # every record explained one by one: nothing to gain
    elif getattr(io.args, "dask", None) and not (hasattr(report, "write_table") and _dask_reads(io, files)):
        why = msg("columnar.why:dask")
    elif observe.active:
        why = msg("columnar.why:observers")
    else:
        try:
            columnar.columnar_decision(decision)
        except columnar.NotColumnar as e:
            why = msg("columnar.why:decision", reason=str(e))
    if why is not None:
        if engine == "columnar":
            raise UsageError(
                Diagnostic("usage.columnar", msg("usage.columnar", reason=why), help=msg("usage.columnar/help"))
            )
        return False
    if engine == "auto":
        size = 0
        for p in files:
            try:
                size += os.path.getsize(p) * (8 if p.lower().endswith((".parquet", ".pq")) else 1)
            except OSError:
                return False  # the per-record readers say what is wrong with it
        if size < COLUMNAR_FROM_BYTES:
            return False
    return True


def _report_batch(io: _Io, decision: Any, batch: Any, report: Any, as_of: Any, label: tuple[str, str]) -> None:
    if hasattr(report, "write_table"):
        report.write_table(batch.table)
    else:
        _report_rows(io, decision, batch, report, as_of, label)


def _report_rows(io: _Io, decision: Any, batch: Any, report: Any, as_of: Any, label: tuple[str, str]) -> None:
    """A batch decided by columns, written by a report of decisions: a record the report shows in detail
    (any record for a report that shows passes, else one that did not simply pass) is decided again by
    the per-record engine, which explains it; a plain pass is handed over as its row."""
    from engine import columnar

    table = batch.table
    statuses = [c for c in table.column_names if c.startswith("rule.")]
    detail_passes = getattr(report, "shows_passes", True)
    outcomes = table.column("outcome").to_pylist()
    messages = table.column("message").to_pylist()
    schema = table.column("schema").to_pylist()
    plain = (
        [
            all(s in ("pass", "not_applicable", None) for s in row)
            for row in zip(*(table.column(c).to_pylist() for c in statuses), strict=True)
        ]
        if statuses
        else [True] * table.num_rows
    )
    records = table.column("record").to_pylist()
    days = table.column("as_of").to_pylist()
    for i, outcome in enumerate(outcomes):
        if outcome == "error" and messages[i] is not None:
            ref = batch.record_ref(i)
            report.write_error(label[0], label[1], decision.name, ref, messages[i])
            continue
        if detail_passes or outcome != "pass" or not plain[i] or schema[i] is not None:
            ref, record = batch.record(i)
            report.write(decision.evaluate(record, as_of, ref))
        else:
            ref = batch.record_ref(i)
            report.write(columnar.PassRow(label[0], label[1], decision.name, records[i], ref, days[i]))


def _evaluate_columnar(io: _Io, decision: Any, files: list[str], report: Any, label: tuple[str, str]) -> None:
    """`check --engine columnar`: each file decided by columns, the results table handed to the report
    (or its rows, each record the report shows in detail explained by the per-record engine)."""
    from engine import columnar

    as_of = _as_of_date(io.args.as_of)
    stats = columnar.ColumnarStats()
    inputs = _inputs(io)
    if getattr(io.args, "dask", None):
        _columnar_on_dask(io, files, report, as_of, stats, inputs)  # with the cluster's own progress
        files = []  # decided on the cluster
    progress = _Progress(io, files) if files else None
    try:
        _columnar_files(io, decision, files, report, label, as_of, stats, inputs, progress)
    finally:
        if progress is not None:
            progress.stop()
    if progress is not None:
        progress.stop(done=True)
    io.stderr.write(msg("columnar.used", total=stats.rows, fallback=sum(stats.fallback.values())).get(io.lang) + "\n")


def _columnar_files(
    io: _Io,
    decision: Any,
    files: list[str],
    report: Any,
    label: tuple[str, str],
    as_of: Any,
    stats: Any,
    inputs: Any,
    progress: _Progress | None,
) -> None:
    from engine import columnar
    from engine.io.records import open_jsonl

    for path in files:
        parquet = path.lower().endswith((".parquet", ".pq")) and not io.args.input_format
        if path == "-" or io.args.input_format or not (parquet or path.lower().endswith((".jsonl", ".ndjson"))):
            # other inputs (CSV, XLSX, JSON, standard input, a plugin's format) are read by their reader,
            # which types the cells through the record schema, then decided by columns
            for batch in columnar.decide_records(
                decision, _read(io, path, decision), as_of=as_of, lang=io.lang, stats=stats
            ):
                _report_batch(io, decision, batch, report, as_of, label)
                if progress is not None:
                    progress.advance(batch.table.num_rows)
            continue
        try:
            source: Any = open(path, "rb") if parquet else open_jsonl(path)  # noqa: SIM115 - closed below
        except OSError as e:
            from engine.io.records import input_error

            raise input_error(path, e) from None
        before, blank = stats.rows, stats.blank
        try:
            for batch in columnar.decide_input(
                decision,
                source,
                name=path,
                fmt="parquet" if parquet else "jsonl",
                as_of=as_of,
                lang=io.lang,
                stats=stats,
            ):
                _report_batch(io, decision, batch, report, as_of, label)
                if progress is not None:
                    progress.advance(batch.table.num_rows)
        finally:
            source.close()
        inputs.add(path, stats.rows - before, stats.blank - blank)


def _dask_reads(io: _Io, files: list[str]) -> bool:
    from engine.dask.columnar import reads

    return reads(files, io.args.input_format)


def _columnar_on_dask(io: _Io, files: list[str], report: Any, as_of: Any, stats: Any, inputs: Any) -> None:
    """``check --dask ... --engine columnar``: the files decided by columns on the cluster, partition by
    partition, each results table written in input order."""
    if getattr(io.args, "jobs", None) is not None:
        raise UsageError(Diagnostic("usage.arguments", msg("dask.jobs")))
    from engine.dask.columnar import run_check

    args = io.args
    run_check(
        args.dask,
        rulebook=args.rulebook,
        decision=args.decision,
        as_of=as_of,
        enforcement=args.schema_enforcement,
        lang=io.lang,
        files=files,
        input_format=args.input_format,
        report=report,
        inputs=inputs,
        stats=stats,
        stderr=io.stderr,
        progress=getattr(args, "progress", "auto"),
    )


def _as_of_date(value: Any) -> Any:
    if value is None or isinstance(value, _dt.date):
        return value
    from engine.lang.values import to_date

    return to_date(value, "as_of")


def _evaluate_on_dask(io: _Io, decision: Any, files: list[str], report: Any, observe: _Observers) -> None:
    """``check --dask``: the records decided on a Dask cluster, reported here in input order."""
    if getattr(io.args, "jobs", None) is not None:
        raise UsageError(Diagnostic("usage.arguments", msg("dask.jobs")))
    from engine.dask.cli import run_check

    compiled = getattr(decision, "newest", decision)  # a VersionedDecision reads by its newest version
    record_type = getattr(compiled, "record_type", None)
    args = io.args
    run_check(
        args.dask,
        rulebook=args.rulebook,
        decision=args.decision,
        as_of=args.as_of,
        enforcement=args.schema_enforcement,
        lang=io.lang,
        files=files,
        input_format=args.input_format,
        sheet=args.sheet,
        schema=(record_type.root or record_type.schema) if record_type is not None else None,
        report=report,
        inputs=_inputs(io),
        observe=observe,
        stderr=io.stderr,
        progress=getattr(args, "progress", "auto"),
    )


def _exit_code(summary: Any, fail_on: str) -> int:
    o = summary.outcomes
    if o.get("fail") or o.get("error"):
        return 1
    if fail_on in ("indeterminate", "warning") and o.get("indeterminate"):
        return 1
    if fail_on == "warning" and (summary.warnings or getattr(summary, "schema_records", 0)):
        return 1
    return 0


def _format(name: str) -> Any:
    import difflib

    formats = _plugins().formats()
    if name not in formats:
        close = difflib.get_close_matches(name, formats, n=1)
        names = listing(sorted(formats))
        raise UsageError(
            Diagnostic(
                "usage.unknown-format",
                msg("usage.unknown-format", name=name),
                help=msg("usage.unknown-format/help:close", close=close[0], formats=names)
                if close
                else msg("usage.unknown-format/help", formats=names),
            )
        )
    return formats[name]


class _Output:
    """The report file of ``--output``, written whole or not at all: into a new file beside it,
    which takes its name only when the report is complete (a run that cannot finish leaves an
    earlier report as it was, and no empty or half-written one).  A path that is not a regular
    file (``/dev/stdout``, a named pipe) is written directly.  ``--output -`` never gets here: it is
    standard output (``engine.cli.args.standard_output``); a file named ``-`` is ``./-``."""

    def __init__(self, path: str) -> None:
        import os
        import stat
        import tempfile

        self.path = path
        self.temp: str | None = None
        try:
            try:
                mode: int | None = os.stat(path).st_mode
            except FileNotFoundError:
                mode = None
            if mode is not None and not stat.S_ISREG(mode):
                self.file: IO[str] = open(  # noqa: SIM115 - closed by commit() or discard()
                    path, "w", encoding="utf-8", errors="backslashreplace"
                )
                return
            folder = os.path.dirname(os.path.abspath(path))
            fd, self.temp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".part")
            if mode is not None:
                os.chmod(self.temp, stat.S_IMODE(mode))  # the report's own permissions, kept
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self.temp, 0o666 & ~umask)  # as a file opened for writing would have
            self.file = open(  # noqa: SIM115 - closed by commit() or discard()
                fd, "w", encoding="utf-8", errors="backslashreplace"
            )
        except OSError as e:
            if self.temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.temp)
            raise self.unwritable(e) from None

    def unwritable(self, e: OSError) -> UsageError:
        return UsageError(Diagnostic.of("usage.unwritable", path=self.path, reason=os_reason(e)))

    def commit(self) -> None:
        import os

        try:
            self.file.close()
            if self.temp is not None:
                os.replace(self.temp, self.path)
        except OSError as e:
            self.discard()
            raise self.unwritable(e) from None

    def discard(self) -> None:
        import os

        with contextlib.suppress(OSError):
            self.file.close()
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)


def cmd_check(io: _Io) -> int:
    args = io.args
    report_class = _format(args.format)
    rid, version, decision = _registry().decision(args.rulebook, args.decision, args.as_of)
    decision = decision.with_schema_enforcement(args.schema_enforcement)
    observe = _Observers(io, "check")
    out: IO[str]
    target = _Output(args.output) if args.output else None
    out = target.file if target is not None else io.stdout
    inputs = _inputs(io)
    inputs.expect(args.files)
    try:
        report = report_class(out, lang=io.lang, color=io.color if not args.output else False, verbose=args.verbose)
        if hasattr(report, "bind_decision"):  # a table's columns are the decision's rules (--format parquet)
            report.bind_decision(decision, output=args.output)
        if hasattr(report, "write_input_problem"):  # the formats that can show it at its place

            def on_problem(ref: Any, note: Any) -> None:
                _show_problem(io, note)
                report.write_input_problem(ref, note)

            inputs.on_problem = on_problem
        report.begin()
        _evaluate_files(io, (rid, version), decision, args.files, report, observe)
        inputs.check_empty(args.allow_empty)  # nothing decided: not a pass (exit 2, no report)
        if hasattr(getattr(report, "summary", None), "blank_lines"):
            report.summary.blank_lines = inputs.blank
        summary = report.end()
    except BaseException:
        abort = getattr(locals().get("report"), "abort", None)
        if abort is not None:  # a report holding its output open (a Parquet writer) lets go of it first
            abort()
        if target is not None:
            target.discard()
        raise
    if target is not None:
        target.commit()
    observe.end()
    if args.format != "text" or args.output:
        o = summary.outcomes
        io.stderr.write(
            msg(
                "cli.summary",
                total=summary.total,
                passed=o.get("pass", 0),
                failed=o.get("fail", 0),
                indeterminate=o.get("indeterminate", 0),
                errors=o.get("error", 0),
            ).get(io.lang)
            + (msg("cli.summary:schema", count=summary.schema_records).get(io.lang) if summary.schema_records else "")
            + "".join(("；" if io.lang == "zh" else "; ") + m.get(io.lang) for m in _input_counts(inputs))
            + "\n"
        )
    code = _exit_code(summary, args.fail_on)
    return 1 if args.fail_on == "warning" and inputs.warnings else code


def _input_counts(inputs: Any) -> list[Any]:
    """The summary's words about the input itself: blank lines skipped, warnings about it."""
    out = []
    if inputs.blank:
        out.append(msg("cli.summary-blank", count=inputs.blank))
    if inputs.warnings:
        out.append(msg("cli.summary-warnings", count=inputs.warnings))
    return out


def cmd_explain(io: _Io) -> int:
    import json

    from engine.io.records import BadRecord
    from engine.io.report import error_object
    from engine.io.report.text import explain

    args = io.args
    rid, version, decision = _registry().decision(args.rulebook, args.decision, args.as_of)
    decision = decision.with_schema_enforcement(args.schema_enforcement)
    observe = _Observers(io, "explain")
    worst = 0
    for ref, record in _read(io, args.record_file, decision):
        if isinstance(record, BadRecord):
            message = record.message_zh if io.lang == "zh" else record.message
            observe.error((rid, version), decision.name, ref, message)
            if args.format == "json":
                io.stdout.write(
                    json.dumps(error_object(rid, version, decision.name, ref, message), ensure_ascii=False) + "\n"
                )
            else:
                from engine.io.terminal import escape_controls

                io.stdout.write(escape_controls(f"! {ref.file}:{ref.line}: {message}") + "\n")
            worst = 1
            continue
        d = decision.evaluate(record, args.as_of, ref)
        if args.format == "json":
            io.stdout.write(json.dumps(d.to_json(io.lang), ensure_ascii=False, indent=2) + "\n")
        else:
            explain(d, io.stdout, io.lang, io.color)
        observe(d)
        if d.outcome != "pass":
            worst = 1
    _explained_nothing(io, args.record_file)
    observe.end()
    return worst


def _explained_nothing(io: _Io, path: str) -> None:
    """``explain`` of an input that held no record (whatever its format or reader) has explained
    nothing: that is an error (``input.empty``, exit 2), never a silent success.  Unlike ``check``
    there is no ``--allow-empty``, so the help says what to give instead."""
    records, blank = _inputs(io).files.get(path, [0, 0])
    if records:
        return
    from engine.io.terminal import escape_controls

    name = escape_controls(path)
    raise UsageError(
        Diagnostic(
            "input.empty",
            msg("input.empty:blank", file=name, count=blank) if blank else msg("input.empty", file=name),
            help=msg("input.empty:explain/help"),
        )
    )


def _rulebook_files(paths: list[str]) -> list[Path]:
    """The YAML files of the paths given (folders searched), or with none every installed rulebook."""
    from engine.registry import installed_rulebook_paths

    if not paths:
        return installed_rulebook_paths()
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")]))
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(Diagnostic("usage.no-such-file", msg("usage.no-such-file:path", path=p)))
    return out


def cmd_lint(io: _Io) -> int:
    from engine.build import display_name
    from engine.tools.lint import lint_file, render_lint

    results = [(display_name(path), lint_file(path)) for path in _rulebook_files(io.args.paths)]
    render_lint(results, io.args.format, io.lang, io.stdout)
    errors = any(d.severity == "error" for _name, diags in results for d in diags)
    return 2 if errors else 0


def cmd_test(io: _Io) -> int:
    from engine.testing import rule_coverage, run_examples

    reg = _registry()
    books: list[Any] = []
    if io.args.rulebooks:
        for name in io.args.rulebooks:
            if Path(name).is_dir():
                books.extend(reg.load_path(p) for p in _rulebook_files([name]))
            elif name.endswith((".yaml", ".yml")) or Path(name).is_file():
                books.append(reg.load(name))
            else:  # an id: the version in force, else the latest draft
                books.append(reg.load_path(reg.find_for_testing(name).path))
    else:
        books = [reg.load_path(e.path) for e in reg.entries]
    console = io.console()
    failed = total = 0
    low_coverage = []
    for book in books:
        results = run_examples(book)
        bad = [r for r in results if not r.ok]
        total += len(results)
        failed += len(bad)
        coverage = rule_coverage(book, results)
        head = Text()
        head.append("✓ " if not bad else "✗ ", style="green" if not bad else "red")
        head.append(f"{book.id}@{book.version}", style="bold")
        head.append("  " + msg("cli.test-book", passed=len(results) - len(bad), total=len(results)).get(io.lang))
        head.append("  " + msg("cli.test-coverage", percent=f"{coverage.percent:.0f}").get(io.lang), style="dim")
        console.print(head)
        for decision, rule, missing in coverage.missing():
            statuses = [msg(f"status:{m}") for m in missing]
            never = Both(", ".join(t.en for t in statuses), "或".join(t.zh for t in statuses))
            console.print(
                Text(
                    "    " + msg("cli.test-not-covered", decision=decision, rule=rule, missing=never).get(io.lang),
                    style="yellow",
                )
            )
        if io.args.min_coverage is not None and coverage.percent < io.args.min_coverage:
            low_coverage.append(
                msg(
                    "cli.test-low-coverage",
                    book=f"{book.id}@{book.version}",
                    percent=f"{coverage.percent:.1f}",
                    minimum=f"{io.args.min_coverage:g}",
                )
            )
        for r in results:
            if r.ok and not io.args.verbose:
                continue
            line = Text("    ")
            line.append("✓ " if r.ok else "✗ ", style="green" if r.ok else "red")
            line.append(f"{r.example.name}")
            line.append(f"  {book.source.name}:{r.line}", style="dim")
            console.print(line)
            for m in r.mismatches:
                console.print(Text(f"        {m.text(io.lang)}", style="red"))
    for warning in low_coverage:
        io.stdout.write(warning.get(io.lang) + "\n")
    io.stdout.write(msg("cli.test-summary", passed=total - failed, failed=failed).get(io.lang) + "\n")
    return 1 if failed or low_coverage else 0


def cmd_diff(io: _Io) -> int:
    import json

    from engine.io.records import InputTally
    from engine.io.terminal import escape_controls
    from engine.tools.diff import Compared, diff_records, diff_rulebooks

    args = io.args
    reg = _registry()
    old, new = reg.load(args.old), reg.load(args.new)
    structure = diff_rulebooks(old, new)
    names = [args.decision] if args.decision else [n for n in old.decisions if n in new.decisions]
    changed: list[Any] = []
    compared = Compared(names if args.data else [])
    per_rule: dict[tuple[str, str, str, str], int] | None = None
    if getattr(args, "dask", None) and args.data:
        from engine.dask.cli import run_diff

        inputs = _inputs(io)
        inputs.expect(args.data)
        changed, per_rule = run_diff(
            args.dask,
            old=args.old,
            new=args.new,
            names=names,
            files=args.data,
            as_of=args.as_of,
            input_format=getattr(args, "input_format", None),
            sheet=getattr(args, "sheet", None),
            compared=compared,
            inputs=inputs,
            stderr=io.stderr,
            lang=io.lang,
        )
        inputs.check_empty(args.allow_empty)
        compared.blank = inputs.blank
    for name in names if args.data and per_rule is None else []:
        old_d, new_d = old.decision(name), new.decision(name)
        # every file is read once for each decision; its warnings are shown the first time
        inputs = _inputs(io) if name == names[0] else InputTally()
        inputs.expect(args.data)
        for path in args.data:
            changed.extend(
                diff_records(old_d, new_d, compared.count(name, path, _read(io, path, new_d, inputs)), args.as_of)
            )
        if name == names[0]:
            inputs.check_empty(args.allow_empty)  # nothing compared: not "no difference" (exit 2)
            compared.blank = inputs.blank
    if args.format == "json":
        io.stdout.write(
            json.dumps(
                {
                    **structure.to_json(),
                    "records": [c.to_json() for c in changed],
                    **({"compared": compared.to_json()} if args.data else {}),
                    **(
                        {
                            "rules_changed": [
                                {"decision": d, "rule": r, "old": a, "new": b, "records": n}
                                for (d, r, a, b), n in per_rule.items()
                            ]
                        }
                        if per_rule is not None
                        else {}
                    ),
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    else:
        io.stdout.write(f"{structure.old} → {structure.new}\n")
        if not structure:
            io.stdout.write("  " + msg("cli.diff-unchanged").get(io.lang) + "\n")
        for c in structure.changes:
            sign = {"added": "+", "removed": "-", "changed": "~"}[c.kind]
            detail = (
                ""
                if c.kind != "changed"
                else f": {json.dumps(c.old, ensure_ascii=False)} → {json.dumps(c.new, ensure_ascii=False)}"
            )
            if c.kind == "added" and c.new is not None:
                detail = f": {json.dumps(c.new, ensure_ascii=False)}"
            io.stdout.write(f"  {sign} {c.where}{detail}\n")
        if args.data:
            io.stdout.write("\n" + compared.text().get(io.lang) + "\n")
            io.stdout.write(msg("cli.diff-records", count=len(changed)).get(io.lang) + "\n")
            for (d, r, a, b), n in (per_rule or {}).items():
                io.stdout.write(f"  # {d}/{r} {a}→{b}: {n}\n")
            for c in changed:
                where = escape_controls(f"{c.input.file}:{c.input.line}") if c.input else ""
                rules = ", ".join(f"{r} {a}→{b}" for r, a, b in c.rules)
                record = escape_controls(c.record) if c.record else msg("cli.no-id").get(io.lang)
                io.stdout.write(
                    f"  {record} {where}: {c.old.outcome} → {c.new.outcome}" + (f" ({rules})" if rules else "") + "\n"
                )
    return 1 if changed else 0


def cmd_doc(io: _Io) -> int:
    from engine.tools.docgen import render_doc

    args = io.args
    reg = _registry()
    book = (
        reg.load(args.rulebook)
        if "@" in args.rulebook or args.rulebook.endswith((".yaml", ".yml"))
        else reg.load_path(reg.find(args.rulebook).path)
    )
    page = render_doc(book, args.format, io.lang)
    if args.output:
        target = _Output(args.output)
        try:
            target.file.write(page)
        except OSError as e:
            target.discard()
            raise target.unwritable(e) from None
        target.commit()
    else:
        io.stdout.write(page)
    return 0


def cmd_init_plugin(io: _Io) -> int:
    from engine.tools.skeleton import write_plugin

    folder = write_plugin(io.args.name, Path(io.args.directory))
    # editors check the rulebooks against the installed schema (no path that breaks when a file moves)
    from engine.cli.schema import install_editor_settings

    install_editor_settings(folder)
    io.stdout.write(
        msg("cli.created", folder=folder).get(io.lang) + f"\n  pip install -e {folder}\n  pytest {folder}\n"
    )
    return 0


COMMANDS: dict[str, Callable[[_Io], int]] = {
    "diff": cmd_diff,
    "doc": cmd_doc,
    "list": cmd_list,
    "check": cmd_check,
    "explain": cmd_explain,
    "test": cmd_test,
    "lint": cmd_lint,
    "plugins": cmd_plugins,
    "init-plugin": cmd_init_plugin,
    "calendar": lambda io: importlib.import_module("engine.cli.calendar").cmd_calendar(io),
    "schema": lambda io: importlib.import_module("engine.cli.schema").cmd_schema(io),
    "serve": lambda io: importlib.import_module("engine.serve.cli").cmd_serve(
        io.args, io.stdout, io.stderr, io.args.lang
    ),
}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    lang = cli_args.choose_lang(argv)  # before anything is said, argparse's own words included
    try:
        parser = build_parser(lang)
        try:
            with contextlib.redirect_stdout(stdout):
                args = cli_args.parse_args(parser, argv, lang)
        except SystemExit as e:  # --help
            return int(e.code or 0)
        lang = args.lang
        from engine.cli.unused import Situation, refuse_unused

        given = cli_args.given_options(parser, argv, lang)
        refuse_unused(Situation(args, given, stderr=stderr))
        cli_args.standard_output(args)  # `--output -` is standard output; `--directory -` is refused
        if args.version:
            return _version(stdout, lang)
        if args.command is None:
            cli_args.print_help(parser, stdout, lang)
            return 2
        code = COMMANDS[args.command](_Io(stdout, stderr, stdin, args))
        stdout.flush()  # here, where a reader that went away is seen, not at exit
        return code
    except EngineError as e:
        stderr.write(e.render(lang) + "\n")
        return 2
    except KeyboardInterrupt:
        stderr.write(msg("cli.interrupted").get(lang) + "\n")
        return 130
    except BrokenPipeError:
        return _closed_output(stdout)
    except Exception:  # noqa: BLE001 - the last line of defence
        stderr.write(msg("cli.internal-error").get(lang) + "\n")
        if debug:
            traceback.print_exc(file=stderr)
        return 2


CLOSED_OUTPUT = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader went away


def _closed_output(stdout: IO[str]) -> int:
    """A reader stopped reading the output (``rulebook check ... | head``): the run ends
    quietly with 141, as a command ended by SIGPIPE does.  Not 0: the records after the
    last one read were never reported, and one of them may have failed; not 1: none
    that was reported need have failed.  What is left in the output's buffer goes
    nowhere, so that the interpreter's exit does not try to write it again."""
    import os

    with contextlib.suppress(AttributeError, OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stdout.fileno())
        os.close(null)
    return CLOSED_OUTPUT


def _version(out: IO[str], lang: str) -> int:
    """``rulebook --version``: the engine's version, Python's, and the installed plugins with theirs."""
    import platform

    from engine.version import __version__

    lines = [
        msg("cli.version-engine", version=__version__).get(lang),
        msg(
            "cli.version-python", version=platform.python_version(), implementation=platform.python_implementation()
        ).get(lang),
    ]
    pm = _plugins()
    plugins = [(info, True) for info, _hooks in pm.plugins() if not info.builtin]
    plugins += [(info, False) for info in pm.disabled]
    if not plugins:
        lines.append(msg("cli.version-no-plugins").get(lang))
    else:
        lines.append(msg("cli.version-plugins").get(lang))
        for info, loaded in plugins:
            line = msg(
                "cli.version-plugin", name=info.name, distribution=info.distribution or "–", version=info.version or "–"
            ).get(lang)
            lines.append("  " + line + ("" if loaded else " " + msg("cli.version-disabled").get(lang)))
    out.write("\n".join(lines) + "\n")
    return 0


def run() -> None:
    for stream in (sys.stdout, sys.stderr):
        # a lone surrogate a record's JSON escaped (\ud800) cannot be UTF-8: written back as its escape
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")
    sys.exit(main())
