"""Options that would do nothing are refused: ``usage.option-unused``, exit 2.

Nothing the user gives is silently ignored.  Most options of ``rulebook`` take effect
whenever they are given; some only with another option (``diff --as-of`` reads the
records of ``--data``), with some inputs (``--sheet`` picks the worksheet of a
workbook), with some output formats (``check -v`` changes the text report only) or in
some configurations (``serve --metrics-open`` matters only where tokens are set).
:data:`DEPENDENT` lists those, each with the test that tells when it does nothing.
:func:`refuse_unused` runs the tests once, after the command line is parsed and before
the command starts: every option given (written on the command line, whatever its
value: see :func:`engine.cli.args.given_options`) that would do nothing is an error,
all of them at once, each saying why and what to do instead.

Every option of every command is in one of three places, which a test keeps complete:

* :data:`DEPENDENT`: its effect depends on the rest; refused where it has none;
* :data:`ALWAYS`: it takes effect whenever it is given;
* :data:`ACCEPTED`: accepted where it changes nothing, on purpose.  These state what
  the user wants rather than ask for something to happen: a permission
  (``--allow-empty``: an empty input would be no error, and none is empty), a
  prohibition or a choice that is also what would happen anyway (``--progress never``
  off a terminal, ``--engine records`` where ``auto`` picks records,
  ``serve --no-access-log --log-level warning``), and the global options, settings of
  the whole run that scripts and aliases pass to every command.

A test whose facts cannot be established (an unknown output format, a variable of
``serve`` that cannot be read) lets the option be: the command then reports what is
really wrong.
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.errors import Diagnostic, EngineError, UsageError
from engine.messages import listing, msg

__all__ = ["ACCEPTED", "ALWAYS", "DEPENDENT", "Dependent", "Situation", "refuse_unused", "unused_options"]

# The files the engine's own reader reads, by their names: never a workbook (unless a plugin claims them)
_NOT_WORKBOOKS = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".pq")


class Situation:
    """What the tests of :data:`DEPENDENT` look at: the parsed command line, which options were
    written on it, standard error and the environment.  Facts that cost something (the
    plugins, the configuration of ``serve``) are found only when a test asks."""

    def __init__(
        self,
        args: argparse.Namespace,
        given: Iterable[str],
        *,
        stderr: IO[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.args = args
        self.given = frozenset(given)
        self.stderr = stderr
        self.environ = os.environ if environ is None else environ

    @functools.cached_property
    def plugins(self) -> Any:
        from engine.pluginmanager import get_plugin_manager

        return get_plugin_manager()

    def may_be_workbook(self, path: str) -> bool:
        """Whether ``path`` may be read as a workbook, whose worksheet ``--sheet`` picks: an .xlsx
        file (by ``--input-format`` or its name), one a plugin's reader reads (``RecordOptions.sheet``
        is handed to it), or one whose reader is not known here (the reader then says what is wrong)."""
        fmt = self.args.input_format
        if fmt is not None:
            from engine.io.records import FORMATS

            if fmt == "xlsx" or fmt not in FORMATS:
                return True
        elif path != "-" and not path.lower().endswith(_NOT_WORKBOOKS):
            return True  # .xlsx, a plugin's kind of file, or one no reader takes (which the reader says)
        if not self.plugins.has_custom_readers():
            return False
        if path == "-":
            return True  # asking a plugin's reader would read standard input
        from engine.hookspecs import RecordOptions

        return self.plugins.reader_of(path, RecordOptions(fmt, None, None, self.args.sheet)) is not None

    @functools.cached_property
    def serve_config(self) -> Any:
        """The configuration ``serve`` would run with (None where it cannot be made: ``serve`` says why)."""
        from engine.serve.cli import configuration

        try:
            return configuration(self.args, self.environ)
        except EngineError:
            return None

    def stderr_is_terminal(self) -> bool:
        return bool(self.stderr is not None and hasattr(self.stderr, "isatty") and self.stderr.isatty())


@dataclass(frozen=True)
class Dependent:
    """An option whose effect depends on the rest of the command line, its inputs or its setting.

    Attributes:
        command: the command it belongs to (``""``: ``rulebook`` itself, before any command).
        dest: its name in the parsed arguments.
        option: how it is written (``--sheet``); ``None`` for a positional argument, shown by its value.
        unused: why it does nothing in a situation, as the key of its reason (``option-unused.why:KEY``
            and ``usage.option-unused/help:KEY`` in ``engine.messages``), or None where it takes effect.
    """

    command: str
    dest: str
    option: str | None
    unused: Callable[[Situation], str | None]


def _without_data(s: Situation) -> str | None:
    return None if s.args.data else "data"


def _sheet_of(files: Callable[[argparse.Namespace], list[str]]) -> Callable[[Situation], str | None]:
    def unused(s: Situation) -> str | None:
        return None if any(s.may_be_workbook(p) for p in files(s.args)) else "sheet"

    return unused


def _diff_sheet(s: Situation) -> str | None:
    return _without_data(s) or _sheet_of(lambda a: a.data)(s)


def _verbose(s: Situation) -> str | None:
    """``-v`` reaches every report as ``verbose=``; of the engine's own, only those that take that
    argument by name read it.  A plugin's report may read it whatever its signature."""
    try:
        report = s.plugins.formats().get(s.args.format)
        origin = s.plugins.origin("register_formats", s.args.format)
    except EngineError:
        return None  # the plugins cannot be loaded: the command says why
    if report is None or origin is None or not origin.builtin:
        return None  # an unknown format (the command says so), or a plugin's
    import inspect

    try:
        parameters = inspect.signature(report).parameters
    except (TypeError, ValueError):
        return None
    return None if "verbose" in parameters else "verbose"


def _progress(s: Situation) -> str | None:
    """``--progress always`` asks for progress where standard error is not a terminal; on a Dask
    cluster progress is shown on a terminal only (``auto`` and ``never`` ask for nothing)."""
    if s.args.progress == "always" and s.args.dask and not s.stderr_is_terminal():
        return "progress-dask"
    return None


def _install(s: Situation) -> str | None:
    return None if s.args.install else "install"


def _schema_id(s: Situation) -> str | None:
    from engine.cli.schema import SCHEMA_ID

    return "install-id" if s.args.install and s.args.schema_id != SCHEMA_ID else None


def _watch(s: Situation) -> str | None:
    return None if s.args.watch else "watch"


def _tokens(s: Situation) -> str | None:
    config = s.serve_config
    return None if config is None or config.tokens else "tokens"


def _decision_log(s: Situation) -> str | None:
    config = s.serve_config
    return None if config is None or config.decision_log else "decision-log"


def _rulebook_folder(s: Situation) -> str | None:
    """Drafts are saved into a folder of the rulebooks served; a path that is not there is let be
    (``serve`` says it is missing)."""
    config = s.serve_config
    if config is None:
        return None
    paths = [Path(p) for p in config.rulebook_paths]
    return None if any(p.is_dir() or not p.exists() for p in paths) else "folder"


def _command(s: Situation) -> str | None:
    return "version" if s.args.command is not None else None


DEPENDENT: tuple[Dependent, ...] = (
    Dependent("", "version", "--version", _command),
    Dependent("check", "sheet", "--sheet", _sheet_of(lambda a: a.files)),
    Dependent("check", "verbose", "--verbose", _verbose),
    Dependent("check", "progress", "--progress", _progress),
    Dependent("explain", "sheet", "--sheet", _sheet_of(lambda a: [a.record_file])),
    Dependent("diff", "decision", "--decision", _without_data),
    Dependent("diff", "as_of", "--as-of", _without_data),
    Dependent("diff", "input_format", "--input-format", _without_data),
    Dependent("diff", "sheet", "--sheet", _diff_sheet),
    Dependent("diff", "allow_empty", "--allow-empty", _without_data),
    Dependent("diff", "dask", "--dask", _without_data),
    Dependent("schema", "directory", "--directory", _install),
    Dependent("schema", "pattern", "--pattern", _install),
    Dependent("schema", "schema_id", None, _schema_id),
    Dependent("serve", "watch_interval", "--watch-interval", _watch),
    Dependent("serve", "metrics_open", "--metrics-open", _tokens),
    Dependent("serve", "masked_fields", "--mask-field", _decision_log),
    Dependent("serve", "edit", "--edit", _rulebook_folder),
)

#: Options (and arguments) that take effect whenever they are given, by command (``*``: every command).
ALWAYS: dict[str, frozenset[str]] = {
    "*": frozenset({"lang", "command"}),
    "list": frozenset({"all_versions", "format"}),
    "check": frozenset(
        {
            "rulebook",
            "files",
            "decision",
            "as_of",
            "format",
            "output",
            "fail_on",
            "input_format",
            "jobs",  # with --dask it is an error of its own (dask.jobs)
            "schema_enforcement",  # every decision has a record schema
            "dask",
        }
    ),
    "explain": frozenset(
        {"rulebook", "record_file", "decision", "as_of", "format", "input_format", "schema_enforcement"}
    ),
    "test": frozenset({"rulebooks", "verbose", "min_coverage"}),
    "doc": frozenset({"rulebook", "format", "output"}),
    "lint": frozenset({"paths", "format"}),
    "diff": frozenset({"old", "new", "data", "format"}),
    "plugins": frozenset({"format"}),
    "calendar": frozenset({"calendar_command", "year", "calendar", "format"}),
    "schema": frozenset({"install"}),
    "serve": frozenset(
        {
            "host",
            "port",
            "workers",
            "rulebooks",
            "watch",
            "samples",  # the workbench's impact check reads them, with or without --edit
            "max_body_bytes",
            "max_batch_bytes",
            "max_batch_lines",
            "max_depth",
            "max_concurrency",
            "request_timeout",
            "tokens_file",
            "cors_origins",
            "graceful_timeout",
            "log_level",
        }
    ),
    "init-plugin": frozenset({"name", "directory"}),
}

#: Options accepted where they change nothing, on purpose (see the module's text and docs/cli.md).
ACCEPTED: dict[str, frozenset[str]] = {
    "*": frozenset({"color", "debug"}),  # settings of the whole run, for every command
    "check": frozenset({"allow_empty", "engine", "progress"}),  # a permission; choices that may be auto's
    "diff": frozenset({"allow_empty"}),  # with --data: a permission
    "serve": frozenset({"decision_log", "access_log"}),  # turning off what may be off already
}


def unused_options(situation: Situation) -> list[Diagnostic]:
    """The ``usage.option-unused`` diagnostics of the options given that would do nothing: one per
    reason, naming every option it applies to."""
    command = situation.args.command or ""
    reasons: dict[str, list[str]] = {}
    for entry in DEPENDENT:
        if entry.command not in ("", command) or entry.dest not in situation.given:
            continue
        why = entry.unused(situation)
        if why is not None:
            shown = entry.option or str(getattr(situation.args, entry.dest))
            reasons.setdefault(why, []).append(shown)
    values = {"command": command, "format": getattr(situation.args, "format", None)}
    found = []
    for why, options in reasons.items():
        names = listing(options)
        found.append(
            Diagnostic(
                "usage.option-unused",
                msg(
                    "usage.option-unused",
                    options=names,
                    count=len(options),
                    reason=msg(f"option-unused.why:{why}", **values),
                ),
                help=msg(f"usage.option-unused/help:{why}", options=names, **values),
            )
        )
    return found


def refuse_unused(situation: Situation) -> None:
    """Raise ``UsageError`` (``usage.option-unused``) when an option given would do nothing."""
    found = unused_options(situation)
    if found:
        raise UsageError(found)
