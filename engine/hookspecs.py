"""The plugin hooks: what a plugin package can add to the engine.

A plugin is any object (usually a module) with functions marked
``@hookimpl``, found through the ``rulebook`` entry-point group of an
installed distribution::

    # pyproject.toml of the plugin package
    [project.entry-points.rulebook]
    dancers = "rulebook_dancers"

    # rulebook_dancers/__init__.py
    from engine import hookimpl

    @hookimpl
    def register_rulebooks(register):
        register(Path(__file__).parent / "rulebooks")

The engine's own rulebooks, functions, calendar and output formats arrive
through these same hooks (``engine.builtin``), so a plugin is never second
class.  The hooks, each documented with an example in ``docs/plugins.md``:

========================  =============  ==============================================
hook                      kind           what it does
========================  =============  ==============================================
``register_rulebooks``    collecting     rulebook YAML files or folders
``register_functions``    collecting     condition-language functions (``FunctionSpec``)
``register_calendars``    collecting     working-day calendars by name (``Calendar``)
``register_formats``      collecting     ``check --format`` output formats
``open_records``          first result   a reader for a kind of input the engine lacks
``decision_made``         observer       told of every decision ``check`` makes
========================  =============  ==============================================

The ``register_*`` hooks hand the plugin a ``register`` callback (as llm
does): the engine calls each plugin's implementation on its own, so that
every name is attributed to the plugin (and distribution) that supplied it,
and two plugins claiming one name is a ``DuplicateNameError`` naming both.
Hook implementations must not be wrappers.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO, Union

import pluggy

if TYPE_CHECKING:
    from engine.calendars import Calendar
    from engine.evaluate import Decision, InputRef
    from engine.lang.functions import FunctionSpec

__all__ = [
    "PROJECT",
    "DecisionContext",
    "RecordOptions",
    "RegisterCalendar",
    "RegisterFormat",
    "RegisterFunction",
    "RegisterRulebook",
    "decision_made",
    "hookimpl",
    "hookspec",
    "open_records",
    "register_calendars",
    "register_formats",
    "register_functions",
    "register_rulebooks",
]

#: The name of the hooks' project and of the entry-point group plugins are found in.
PROJECT = "rulebook"

hookspec = pluggy.HookspecMarker(PROJECT)
#: Marks a plugin's hook implementation: ``from engine import hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)

#: ``register(path)``: a rulebook YAML file, or a folder searched for ``*.yaml``/``*.yml``.
RegisterRulebook = Callable[[Union[str, "os.PathLike[str]"]], None]
#: ``register(spec)``: one condition-language function with its typed overloads.
RegisterFunction = Callable[["FunctionSpec"], None]
#: ``register(calendar)``: a working-day calendar, registered under ``calendar.name``.
RegisterCalendar = Callable[["Calendar"], None]
#: ``register(name, report_class)``: an output format for ``check --format NAME``.
RegisterFormat = Callable[[str, type], None]


@dataclass(frozen=True)
class RecordOptions:
    """How ``check`` and ``explain`` were asked to read their input (for ``open_records``).

    Attributes:
        input_format: the ``--input-format`` given, or None (guess from the file name).
        stdin: the stream to read when the path is ``-``.
        schema: the decision's record JSON Schema, to type untyped cells (CSV, XLSX) by.
        sheet: the ``--sheet`` given (a worksheet of a workbook), or None.
    """

    input_format: str | None = None
    stdin: TextIO | None = None
    schema: Mapping[str, Any] | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class DecisionContext:
    """What a ``decision_made`` observer is told besides the decision itself.

    Attributes:
        command: the command that made the decision (``check``, ``explain``).
        rulebook: the rulebook as the user named it (id, ``id@version`` or path).
        run_id: the same for every decision of one run, different between runs.
        started_at: when the run started (UTC).
        options: the command's options that shaped the decision (``as_of``, ``lang``, ...).
    """

    command: str
    rulebook: str
    run_id: str
    started_at: _dt.datetime
    options: Mapping[str, Any] = field(default_factory=dict)


@hookspec
def register_rulebooks(register: RegisterRulebook) -> None:
    """Register rulebook files: call ``register(path)`` for each file or folder.

    A folder is searched recursively for ``*.yaml`` and ``*.yml`` files.  The
    rulebook's id and version come from its header; a record schema named in
    it by a relative path (``record: dancer.schema.json``) is read next to the
    YAML file, so ship it in the same package folder.

    Args:
        register: call once per file or folder; accepts ``str`` or ``os.PathLike``.

    Raises (through ``register``):
        DuplicateNameError: when ``rulebook list`` (or any command) finds the
            same ``id@version`` supplied by two plugins.

    versionadded: 0.1.0
    """


@hookspec
def register_functions(register: RegisterFunction) -> None:
    """Register condition-language functions: call ``register(spec)`` for each.

    ``spec`` is an ``engine.lang.functions.FunctionSpec``: a name and typed
    ``Overload`` s.  The checker uses the types (wrong argument types or
    counts are lint errors, before any record is read); the implementation
    receives the evaluated arguments (dates as ``datetime.date``) and may
    raise ``engine.errors.EvalError`` to make the calling rule ``error``.

    Args:
        register: call once per function; the name must be new.

    versionadded: 0.1.0
    """


@hookspec
def register_calendars(register: RegisterCalendar) -> None:
    """Register working-day calendars: call ``register(calendar)`` for each.

    ``calendar`` follows the ``engine.calendars.Calendar`` protocol: a
    ``name`` and ``is_working_day(day)`` / ``working_days_after(day, n)``.
    Rules use it by name: ``working_days_after(record.date, 5, "NAME")``.
    Build expensive tables lazily: calendars are registered at start-up.

    Args:
        register: call once per calendar; ``calendar.name`` must be new.

    versionadded: 0.1.0
    """


@hookspec
def register_formats(register: RegisterFormat) -> None:
    """Register output formats for ``rulebook check --format NAME``.

    ``report_class(out, *, lang, color, verbose)`` is constructed once per run
    with the output stream; it must accept unknown keyword arguments, and have
    ``begin()``, ``write(decision)``, ``write_error(rulebook, version,
    decision, input_ref, message)`` (a record that could not be read) and
    ``end() -> engine.io.report.Summary``, like ``engine.io.report.json.JsonReport``.

    Args:
        register: call ``register(name, report_class)`` once per format.

    versionadded: 0.1.0
    """


@hookspec(firstresult=True)
def open_records(path: str, options: RecordOptions) -> Iterator[tuple[InputRef, Any]] | None:
    """Return a reader for ``path``, or None to let other plugins try.

    Stops at the first plugin that returns something other than None (the
    engine's own reader for JSON and JSON Lines is tried last).  The reader
    yields ``(InputRef(file, line), record)`` for every input record, where
    ``record`` is a ``dict`` or an ``engine.io.records.BadRecord`` saying why it
    could not be read, exactly like ``engine.io.records.read_records``: one bad
    record never ends the stream.

    Args:
        path: the file name as given on the command line (``-`` is standard input).
        options: the ``--input-format`` asked for and the standard input stream.

    versionadded: 0.1.0
    """


@hookspec
def decision_made(decision: Decision, context: DecisionContext) -> None:
    """Observe a decision ``check`` (or ``explain``) has made; return nothing.

    Called once per input record, after the decision is reported, including
    records that could not be read (``decision.outcome == "error"``,
    ``decision.message`` saying why).  An exception raised here is reported
    on standard error naming the plugin and never stops the run or loses a
    decision; the exit code still comes from the decisions alone.

    Args:
        decision: the ``engine.evaluate.Decision`` (``decision.to_json()`` is the CONTRACT object).
        context: the command, the rulebook as named, and the run's id and start time.

    versionadded: 0.1.0
    """
