"""The `rulebook` command line: list, check, explain, test, lint, doc, plugins, init-plugin.

Exit codes (CONTRACT): 0 every record passed at the ``--fail-on`` level (for
``test``: every example matched; for ``lint``: no errors); 1 some record did
not (some example did not match); 2 the command could not run (usage, an
unreadable or invalid rulebook, lint errors).

A user's own mistake (bad YAML, a typo in an expression, an unknown rulebook,
a missing file) is printed as positioned diagnostics and exits 2; it never
shows a traceback.  Anything else is an internal error: a short request to
report it, with the traceback only under ``--debug``.

The output formats of ``check``, the readers of its input, and the observers
told of every decision come from the plugin manager (``engine.pluginmanager``):
the engine's own through the same hooks as a plugin's.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import sys
import traceback
from pathlib import Path
from typing import IO, Any, Sequence

from rich.table import Table
from rich.text import Text

from engine.errors import Diagnostic, EngineError, UsageError
from engine.messages import msg

__all__ = ["main"]

FAIL_ON = ("fail", "indeterminate", "warning")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(Diagnostic("usage.arguments", message, help=f"see `{self.prog} --help`"))


def _date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a date in YYYY-MM-DD form") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of messages (default zh)")
    common.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    common.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colored text output")

    parser = _Parser(prog="rulebook", description="Evaluate records against versioned YAML rulebooks.",
                     parents=[common])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", parents=[common], help="list the installed rulebooks and who supplied them")
    p.add_argument("--all-versions", action="store_true", help="every version, not only the one in force today")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("check", parents=[common], help="evaluate records and report every decision")
    p.add_argument("rulebook", help="rulebook id, id@version, or path to a YAML file")
    p.add_argument("files", nargs="+", metavar="FILE", help=".json, .jsonl, .csv, .xlsx, or - for standard input")
    p.add_argument("--decision", help="the decision to make (default: the rulebook's first)")
    p.add_argument("--as-of", type=_date, help="evaluation date YYYY-MM-DD (default: the decision's own)")
    p.add_argument("--format", default="text", metavar="FORMAT",
                   help="text (default), json, junit, sarif, github, html, or a plugin's (`rulebook plugins`)")
    p.add_argument("--output", help="write the report to this file instead of standard output")
    p.add_argument("--fail-on", choices=FAIL_ON, default="indeterminate",
                   help="exit 1 when some record fails (fail), is not a clear pass (indeterminate, the default), "
                        "or also fails a warning rule (warning)")
    p.add_argument("--input-format", metavar="FORMAT",
                   help="format of the input: json, jsonl, csv, xlsx, or a plugin's (default: from the file name)")
    p.add_argument("--sheet", help="the worksheet of an .xlsx file to read (default: the first)")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="worker processes (default: every core for inputs of 1 MB or more, else 1)")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="progress on standard error: a live line on a terminal, plain lines elsewhere "
                        "(auto: only on a terminal)")
    p.add_argument("--allow-empty", action="store_true",
                   help="an input without records is not an error (exit 0 when nothing was decided)")
    p.add_argument("-v", "--verbose", action="store_true", help="also show info rules")

    p = sub.add_parser("explain", parents=[common], help="explain the decision on records, rule by rule")
    p.add_argument("rulebook")
    p.add_argument("record_file", metavar="RECORD_FILE")
    p.add_argument("--decision")
    p.add_argument("--as-of", type=_date)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--input-format", metavar="FORMAT")
    p.add_argument("--sheet")

    p = sub.add_parser("test", parents=[common], help="run rulebooks' embedded examples")
    p.add_argument("rulebooks", nargs="*", metavar="RULEBOOK_OR_PATH")
    p.add_argument("-v", "--verbose", action="store_true", help="list every example")
    p.add_argument("--min-coverage", type=float, metavar="PERCENT",
                   help="fail when fewer rules than this share are made both to pass and to fail by the examples")

    p = sub.add_parser("doc", parents=[common], help="write a rulebook's page for policy editors")
    p.add_argument("rulebook", help="rulebook id, id@version, or path to a YAML file")
    p.add_argument("--format", choices=("markdown", "html"), default="markdown")
    p.add_argument("--output", help="write the page to this file instead of standard output")

    p = sub.add_parser("lint", parents=[common], help="check rulebooks without evaluating anything")
    p.add_argument("paths", nargs="*", metavar="PATH", help="YAML files or folders (default: the bundled rulebooks)")
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")

    p = sub.add_parser("diff", parents=[common], help="what changed between two rulebook versions, and for whom")
    p.add_argument("old", metavar="OLD", help="rulebook id@version or path")
    p.add_argument("new", metavar="NEW", help="rulebook id@version or path")
    p.add_argument("--data", nargs="+", action="extend", metavar="FILE",
                   help="records to decide with both versions (may be given more than once)")
    p.add_argument("--decision", help="the decision for --data (default: each decision both versions share)")
    p.add_argument("--as-of", type=_date)
    p.add_argument("--input-format", metavar="FORMAT")
    p.add_argument("--sheet")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--allow-empty", action="store_true",
                   help="data without records is not an error (exit 0 when nothing was compared)")

    p = sub.add_parser("plugins", parents=[common], help="list the plugins and the hooks each implements")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("init-plugin", parents=[common], help="write a new plugin package to start from")
    p.add_argument("name", metavar="NAME", help="distribution name, e.g. rulebook-acme-club")
    p.add_argument("--directory", default=".", help="where to create the folder NAME (default: here)")
    return parser


class _Io:
    def __init__(self, stdout: IO[str], stderr: IO[str], stdin: IO[str] | None, args: argparse.Namespace) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self.args = args
        self.lang: str = getattr(args, "lang", "zh")
        self.color = {"always": True, "never": False}.get(getattr(args, "color", "auto"))
        if self.color is None and not (hasattr(stdout, "isatty") and stdout.isatty()):
            self.color = False

    def console(self, out: IO[str] | None = None) -> Any:
        from engine.report.text import make_console

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
    rows = []
    for rid in reg.ids():
        versions = reg.versions(rid)
        shown = versions
        if not io.args.all_versions:
            in_force = [e for e in versions if e.in_force_on(today)]
            shown = [max(in_force or versions, key=lambda e: (e.effective_from, e.version))]
        rows.extend((e, [v.version for v in versions if v is not e]) for e in shown)
    if io.args.format == "json":
        for e, others in rows:
            io.stdout.write(json.dumps({
                "id": e.id, "version": e.version, "status": e.status, "effective_from": e.effective_from,
                "effective_until": e.effective_until, "title": e.title, "other_versions": others,
                "supplied_by": e.origin, "plugin": e.plugin, "path": str(e.path)}, ensure_ascii=False) + "\n")
        return 0
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
            io.stdout.write(json.dumps({"name": info.name, "distribution": info.distribution, "version": info.version,
                                        "builtin": info.builtin, "entry_point": info.entry_point, "loaded": loaded,
                                        "hooks": hooks}, ensure_ascii=False) + "\n")
        return 0
    zh = io.lang == "zh"
    table = Table(show_edge=False)
    table.add_column("插件" if zh else "plugin", no_wrap=True)
    table.add_column("发行包" if zh else "distribution", no_wrap=True)
    table.add_column("版本" if zh else "version", no_wrap=True)
    table.add_column("钩子" if zh else "hooks")
    for info, hooks, loaded in rows:
        where = info.distribution or "–"
        if info.builtin:
            where += " (内置)" if zh else " (built-in)"
        table.add_row(Text(info.name), Text(where), Text(info.version or "–"),
                      Text(", ".join(hooks) if loaded else ("未加载（已禁用）" if zh else "not loaded (disabled)")))
    io.wide_console().print(table)
    return 0


def _context(io: _Io, command: str) -> Any:
    import uuid

    from engine.hookspecs import DecisionContext

    args = io.args
    options = {"as_of": args.as_of.isoformat() if args.as_of else None, "decision": args.decision,
               "lang": io.lang, "files": list(getattr(args, "files", None) or [args.record_file])}
    if command == "check":
        options |= {"format": args.format, "fail_on": args.fail_on}
    return DecisionContext(command, args.rulebook, uuid.uuid4().hex,
                           _dt.datetime.now(_dt.timezone.utc), options)


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
            zh = self.io.lang == "zh"
            self.io.stderr.write(f"rulebook: 观察者插件出错 {self.failed} 次；所有决定均已输出\n" if zh else
                                 f"rulebook: observer plugins failed {self.failed} times; every decision was "
                                 "still reported\n")


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
    """What this run's inputs held besides records (``engine.records.InputTally``); a warning
    about an input is shown on standard error as soon as it is read."""
    tally = getattr(io, "inputs", None)
    if tally is None:
        from engine.records import InputTally

        tally = io.inputs = InputTally(lambda _ref, note: _show_problem(io, note))  # type: ignore[attr-defined]
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
            from rich.progress import (BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

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
            text = msg("cli.progress:total", count=self.count, total=self.total, seconds=seconds,
                       percent=min(100, self.count * 100 // self.total))
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


def _evaluate_files(io: _Io, label: tuple[str, str], decision: Any, files: list[str], report: Any,
                    observe: _Observers) -> None:
    from engine.parallel import default_jobs, evaluate_parallel
    from engine.records import BadRecord

    blocks = hasattr(report, "write_block") and not observe.active and not io.args.input_format \
        and all(p != "-" and p.lower().endswith((".jsonl", ".ndjson")) for p in files) \
        and not _plugins().has_custom_readers()
    # By default more than one process only where the workers also write the report (JSON Lines to
    # JSON lines): for other reports this process formats every decision itself, and the workers'
    # decisions cost more to send and read back than to make here.
    jobs = io.args.jobs if getattr(io.args, "jobs", None) is not None else default_jobs(files) if blocks else 1
    if jobs < 1:
        raise UsageError(Diagnostic("usage.arguments", "`--jobs` must be at least 1"))
    if blocks:
        # JSON Lines to JSON lines, nobody watching each decision: records go in blocks (to the
        # workers as raw lines), each decided, written and counted where it is parsed
        from engine.parallel import evaluate_blocks

        progress = _Progress(io, files)
        inputs = _inputs(io)
        direct = report.direct_fd() if hasattr(report, "direct_fd") else None
        made = evaluate_blocks(files, decision, rulebook=io.args.rulebook, decision_name=decision.name,
                               as_of=io.args.as_of, lang=io.lang, label=label, jobs=jobs, out_fd=direct)
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
        from engine.records import read_raw_jsonl

        records = (item for path in files for item in (
            _inputs(io).read(path, read_raw_jsonl(path)) if path.lower().endswith((".jsonl", ".ndjson"))
            else _read(io, path, decision)))
    else:
        records = (item for path in files for item in _read(io, path, decision))
    if jobs > 1:
        evaluated: Any = evaluate_parallel(records, decision, rulebook=io.args.rulebook,
                                           decision_name=decision.name, as_of=io.args.as_of, lang=io.lang,
                                           jobs=jobs)
    else:
        evaluated = ((ref, rec, None if isinstance(rec, BadRecord) else decision.evaluate(rec, io.args.as_of, ref))
                     for ref, rec in records)
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


def _exit_code(summary: Any, fail_on: str) -> int:
    o = summary.outcomes
    if o.get("fail") or o.get("error"):
        return 1
    if fail_on in ("indeterminate", "warning") and o.get("indeterminate"):
        return 1
    if fail_on == "warning" and summary.warnings:
        return 1
    return 0


def _format(name: str) -> Any:
    import difflib

    formats = _plugins().formats()
    if name not in formats:
        close = difflib.get_close_matches(name, formats, n=1)
        raise UsageError(Diagnostic(
            "usage.unknown-format", f"no output format `{name}`",
            help=(f"did you mean `{close[0]}`? " if close else "") + "formats: "
            + ", ".join(f"`{n}`" for n in sorted(formats)),
            message_zh=f"没有输出格式 `{name}`"))
    return formats[name]


class _Output:
    """The report file of ``--output``, written whole or not at all: into a new file beside it,
    which takes its name only when the report is complete (a run that cannot finish leaves an
    earlier report as it was, and no empty or half-written one).  A path that is not a regular
    file (``/dev/stdout``, a named pipe) is written directly."""

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
                self.file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115
                return
            folder = os.path.dirname(os.path.abspath(path))
            fd, self.temp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".part")
            if mode is not None:
                os.chmod(self.temp, stat.S_IMODE(mode))  # the report's own permissions, kept
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self.temp, 0o666 & ~umask)  # as a file opened for writing would have
            self.file = open(fd, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as e:
            if self.temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(self.temp)
            raise self.unwritable(e) from None

    def unwritable(self, e: OSError) -> UsageError:
        return UsageError(Diagnostic("usage.unwritable", f"cannot write `{self.path}`: {e.strerror}",
                                     message_zh=f"无法写入 `{self.path}`"))

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
    observe = _Observers(io, "check")
    out: IO[str]
    target = _Output(args.output) if args.output else None
    out = target.file if target is not None else io.stdout
    inputs = _inputs(io)
    inputs.expect(args.files)
    try:
        report = report_class(out, lang=io.lang, color=io.color if not args.output else False, verbose=args.verbose)
        if hasattr(report, "write_input_problem"):  # the formats that can show it at its place
            inputs.on_problem = lambda ref, note: (_show_problem(io, note), report.write_input_problem(ref, note))
        report.begin()
        _evaluate_files(io, (rid, version), decision, args.files, report, observe)
        inputs.check_empty(args.allow_empty)  # nothing decided: not a pass (exit 2, no report)
        if hasattr(getattr(report, "summary", None), "blank_lines"):
            report.summary.blank_lines = inputs.blank
        summary = report.end()
    except BaseException:
        if target is not None:
            target.discard()
        raise
    if target is not None:
        target.commit()
    observe.end()
    if args.format != "text" or args.output:
        o = summary.outcomes
        io.stderr.write(msg("cli.summary", total=summary.total, passed=o.get("pass", 0), failed=o.get("fail", 0),
                            indeterminate=o.get("indeterminate", 0), errors=o.get("error", 0)).get(io.lang)
                        + "".join(("；" if io.lang == "zh" else "; ") + m.get(io.lang) for m in _input_counts(inputs))
                        + "\n")
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

    from engine.records import BadRecord
    from engine.report import error_object
    from engine.report.text import explain

    args = io.args
    rid, version, decision = _registry().decision(args.rulebook, args.decision, args.as_of)
    observe = _Observers(io, "explain")
    worst = 0
    for ref, record in _read(io, args.record_file, decision):
        if isinstance(record, BadRecord):
            msg = record.message_zh if io.lang == "zh" else record.message
            observe.error((rid, version), decision.name, ref, msg)
            if args.format == "json":
                io.stdout.write(json.dumps(error_object(rid, version, decision.name, ref, msg),
                                           ensure_ascii=False) + "\n")
            else:
                from engine.terminal import escape_controls

                io.stdout.write(escape_controls(f"! {ref.file}:{ref.line}: {msg}") + "\n")
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
    observe.end()
    return worst


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
            raise UsageError(Diagnostic("usage.no-such-file", f"no such file or folder `{p}`",
                                        message_zh=f"找不到文件或文件夹 `{p}`"))
    return out


def cmd_lint(io: _Io) -> int:
    from engine.build import display_name
    from engine.lint import lint_file, render_lint

    results = [(display_name(path), lint_file(path)) for path in _rulebook_files(io.args.paths)]
    render_lint(results, io.args.format, io.lang, io.stdout)
    errors = any(d.severity == "error" for _name, diags in results for d in diags)
    return 2 if errors else 0


def cmd_test(io: _Io) -> int:
    from engine.testing import rule_coverage, run_examples

    reg = _registry()
    books = []
    if io.args.rulebooks:
        for name in io.args.rulebooks:
            if Path(name).is_dir():
                books.extend(reg.load_path(p) for p in _rulebook_files([name]))
            else:
                books.append(reg.load(name))
    else:
        books = [reg.load_path(e.path) for e in reg.entries]
    console = io.console()
    zh = io.lang == "zh"
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
        head.append(f"  {len(results) - len(bad)}/{len(results)} " + ("个示例通过" if zh else "examples passed"))
        head.append(f"  {'规则覆盖' if zh else 'rule coverage'} {coverage.percent:.0f}%", style="dim")
        console.print(head)
        for decision, rule, missing in coverage.missing():
            console.print(Text(f"    {'未覆盖' if zh else 'not covered'}: {decision}/{rule} "
                               f"({'缺少' if zh else 'never'} {', '.join(missing)})", style="yellow"))
        if io.args.min_coverage is not None and coverage.percent < io.args.min_coverage:
            low_coverage.append(f"{book.id}@{book.version}: {coverage.percent:.1f}% < {io.args.min_coverage:g}%")
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
    for line in low_coverage:
        io.stdout.write(("规则覆盖率不足：" if zh else "rule coverage too low: ") + line + "\n")
    io.stdout.write(f"{total - failed} passed, {failed} failed\n")
    return 1 if failed or low_coverage else 0


def cmd_diff(io: _Io) -> int:
    import json

    from engine.diff import Compared, diff_records, diff_rulebooks
    from engine.records import InputTally
    from engine.terminal import escape_controls

    args = io.args
    reg = _registry()
    old, new = reg.load(args.old), reg.load(args.new)
    structure = diff_rulebooks(old, new)
    names = [args.decision] if args.decision else [n for n in old.decisions if n in new.decisions]
    changed: list[Any] = []
    compared = Compared(names if args.data else [])
    for name in names if args.data else []:
        old_d, new_d = old.decision(name), new.decision(name)
        # every file is read once for each decision; its warnings are shown the first time
        inputs = _inputs(io) if name == names[0] else InputTally()
        inputs.expect(args.data)
        for path in args.data:
            changed.extend(diff_records(old_d, new_d, compared.count(name, path, _read(io, path, new_d, inputs)),
                                        args.as_of))
        if name == names[0]:
            inputs.check_empty(args.allow_empty)  # nothing compared: not "no difference" (exit 2)
            compared.blank = inputs.blank
    if args.format == "json":
        io.stdout.write(json.dumps({**structure.to_json(), "records": [c.to_json() for c in changed],
                                    **({"compared": compared.to_json()} if args.data else {})},
                                   ensure_ascii=False, indent=2) + "\n")
    else:
        zh = io.lang == "zh"
        io.stdout.write(f"{structure.old} → {structure.new}\n")
        if not structure:
            io.stdout.write("  （结构无变化）\n" if zh else "  (no structural change)\n")
        for c in structure.changes:
            sign = {"added": "+", "removed": "-", "changed": "~"}[c.kind]
            detail = "" if c.kind != "changed" else f": {json.dumps(c.old, ensure_ascii=False)} → " \
                f"{json.dumps(c.new, ensure_ascii=False)}"
            if c.kind == "added" and c.new is not None:
                detail = f": {json.dumps(c.new, ensure_ascii=False)}"
            io.stdout.write(f"  {sign} {c.where}{detail}\n")
        if args.data:
            io.stdout.write("\n" + compared.text().get(io.lang) + "\n")
            io.stdout.write(f"{len(changed)} " + ("条记录的决定有变化\n" if zh else "records decide differently\n"))
            for c in changed:
                where = escape_controls(f"{c.input.file}:{c.input.line}") if c.input else ""
                rules = ", ".join(f"{r} {a}→{b}" for r, a, b in c.rules)
                record = escape_controls(c.record) if c.record else "(no id)"
                io.stdout.write(f"  {record} {where}: {c.old.outcome} → {c.new.outcome}"
                                + (f" ({rules})" if rules else "") + "\n")
    return 1 if changed else 0


def cmd_doc(io: _Io) -> int:
    from engine.docgen import render_doc

    args = io.args
    reg = _registry()
    book = reg.load(args.rulebook) if "@" in args.rulebook or args.rulebook.endswith((".yaml", ".yml")) \
        else reg.load_path(reg.find(args.rulebook).path)
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
    from engine.skeleton import write_plugin

    folder = write_plugin(io.args.name, Path(io.args.directory))
    zh = io.lang == "zh"
    io.stdout.write((f"已创建 {folder}\n" if zh else f"created {folder}\n")
                    + (f"  pip install -e {folder}\n  pytest {folder}\n"))
    return 0


COMMANDS = {"diff": cmd_diff, "doc": cmd_doc, "list": cmd_list, "check": cmd_check, "explain": cmd_explain, "test": cmd_test,
            "lint": cmd_lint, "plugins": cmd_plugins, "init-plugin": cmd_init_plugin}
COMMANDS["schema"] = lambda io: __import__("engine.cli_schema").cli_schema.cmd_schema(io)


def main(argv: Sequence[str] | None = None, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None,
         stdin: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    lang = "en" if "--lang=en" in argv or ("--lang" in argv and argv[argv.index("--lang") + 1:][:1] == ["en"]) \
        else "zh"
    try:
        parser = build_parser()
        try:
            with contextlib.redirect_stdout(stdout):
                args = parser.parse_args(argv)
        except SystemExit as e:  # --help
            return int(e.code or 0)
        if args.command is None:
            parser.print_help(stdout)
            return 2
        code = COMMANDS[args.command](_Io(stdout, stderr, stdin, args))
        stdout.flush()  # here, where a reader that went away is seen, not at exit
        return code
    except EngineError as e:
        stderr.write(e.render(lang) + "\n")
        return 2
    except KeyboardInterrupt:
        stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return _closed_output(stdout)
    except Exception:  # noqa: BLE001 - the last line of defence
        stderr.write("rulebook: internal error, please report it (run again with --debug for details)\n")
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


def run() -> None:
    sys.exit(main())
