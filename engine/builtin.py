"""The engine's own plugin: what the engine ships, registered through the public hooks.

The bundled rulebooks (``rulebooks/``, shipped as ``engine/data/rulebooks``),
the standard function library, the official Chinese working-day calendar
(``CN``), the output formats of ``engine.io.report`` and the JSON / JSON Lines
reader all arrive here exactly as a plugin's would; the plugin manager loads
this module first (``engine.pluginmanager.DEFAULT_PLUGINS``), so a plugin that
claims one of these names is told which built-in name it collides with.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.hookspecs import (
    RecordOptions,
    RegisterCalendar,
    RegisterFormat,
    RegisterFunction,
    RegisterRulebook,
    hookimpl,
)

__all__ = ["open_records", "register_calendars", "register_formats", "register_functions", "register_rulebooks"]


@hookimpl
def register_rulebooks(register: RegisterRulebook) -> None:
    from engine.schemas import data_dir

    register(data_dir() / "rulebooks")


@hookimpl
def register_functions(register: RegisterFunction) -> None:
    from engine.lang.functions import STANDARD_FUNCTIONS

    for spec in STANDARD_FUNCTIONS:
        register(spec)


@hookimpl
def register_calendars(register: RegisterCalendar) -> None:
    from engine.calendars import ChineseCalendar

    register(ChineseCalendar())  # its tables are built on first use


@hookimpl
def register_formats(register: RegisterFormat) -> None:
    import engine.io.report

    builtin = getattr(engine.io.report, "BUILTIN_FORMATS", None) or engine.io.report.formats()
    for name, cls in builtin.items():
        register(name, cls)


@hookimpl(trylast=True)
def open_records(path: str, options: RecordOptions) -> Iterator[tuple[Any, Any]] | None:
    """JSON, JSON Lines, CSV and XLSX (``engine.io.records``): tried after every plugin.  Its notes
    (blank lines, unknown columns) come along for the command line, which keeps them aside."""
    from engine.io import records

    if options.input_format is not None and options.input_format not in records.FORMATS:
        return None  # another plugin's format; if none claims it, the manager says so
    return records.read_records(
        path, options.input_format, options.stdin, schema=options.schema, sheet=options.sheet, notes=True
    )
