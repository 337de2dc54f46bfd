"""Errors and diagnostics: what the engine tells a user about their mistakes.

Every problem a user can cause (a malformed YAML file, a rulebook that breaks
the schema, an expression with a typo, an unreadable record) is described by
one or more frozen :class:`Diagnostic` objects, each with a stable dotted
``code``, a position and a help line.  Diagnostics are data: the text, JSON,
SARIF and GitHub renderers all read the same fields.

The exception tree::

    EngineError                      anything the user caused; exit code 2 in the CLI
    ├── RulebookError                a rulebook cannot be built
    │   ├── YamlError                YAML syntax, duplicate keys, alias bombs
    │   ├── SchemaError              the rulebook breaks rulebook.schema.json
    │   ├── ConditionSyntaxError     an expression does not parse
    │   └── CheckError               unknown names, fields, functions, types
    ├── RecordError                  an input record cannot be read
    ├── PluginError                  a plugin misbehaves
    │   └── DuplicateNameError       two plugins claim the same name
    └── UsageError                   the command line is wrong

``EvalError`` is not in this tree: it is the runtime error *value* of the
condition language (a missing field, a division by zero), carried to a rule's
status ``error`` and never raised past the evaluator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from engine.source import Source, Span

__all__ = [
    "CheckError",
    "ConditionSyntaxError",
    "Diagnostic",
    "DuplicateNameError",
    "EngineError",
    "EvalError",
    "PluginError",
    "RecordError",
    "RulebookError",
    "SchemaError",
    "UsageError",
    "YamlError",
]

MAX_DIAGNOSTICS = 50


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in user input.

    Args:
        code: stable dotted code, e.g. ``check.unknown-field``.
        message: one line, lowercase start, no final period; user text in backticks.
        source: the text the problem is in (a YAML file, a record file), if any.
        span: where in ``source`` (character offsets), if known.
        help: advice for fixing it, if any.
        severity: ``error`` or ``warning``.
        note: extra context (e.g. "column is approximate: escapes in a quoted string").
    """

    code: str
    message: str
    source: Source | None = field(default=None, compare=False)
    span: Span | None = None
    help: str | None = None
    severity: str = "error"
    note: str | None = None
    message_zh: str | None = None
    help_zh: str | None = None

    def text(self, lang: str = "en") -> tuple[str, str | None]:
        """(message, help) in ``lang`` (``zh`` falls back to English where missing)."""
        if lang == "zh":
            return self.message_zh or self.message, self.help_zh or self.help
        return self.message, self.help

    @property
    def file(self) -> str | None:
        return self.source.name if self.source is not None else None

    @property
    def line_col(self) -> tuple[int, int] | None:
        """1-based (line, column) of the span's start, or None."""
        if self.source is None or self.span is None:
            return None
        return self.source.line_col(self.span.start)

    def sort_key(self) -> tuple[str, int, int, str]:
        pos = self.line_col or (0, 0)
        return (self.file or "", pos[0], pos[1], self.code)

    def render(self, lang: str = "en") -> str:
        """The one text rendering (see ``engine.source.render_diagnostic``)."""
        from engine.source import render_diagnostic

        return render_diagnostic(self, lang)

    def to_json(self) -> dict[str, object]:
        pos = self.line_col
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": pos[0] if pos else None,
            "column": pos[1] if pos else None,
            "help": self.help,
        }


def sort_diagnostics(diagnostics: Iterable[Diagnostic], limit: int = MAX_DIAGNOSTICS) -> list[Diagnostic]:
    """De-duplicate, sort by file and position, and cap the count."""
    seen: set[tuple[object, ...]] = set()
    out: list[Diagnostic] = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (d.file, d.line_col, d.code, d.message)
        if key in seen:
            continue
        seen.add(key)
        out.append(d)
    return out[:limit]


class EngineError(Exception):
    """A problem the user caused. Carries diagnostics; ``str()`` renders them."""

    code = "engine.error"

    def __init__(self, diagnostics: Diagnostic | str | Iterable[Diagnostic], *, help: str | None = None) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(self.code, diagnostics, help=help)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = sort_diagnostics(diagnostics)
        super().__init__(self.render())

    def render(self, lang: str = "en") -> str:
        return "\n".join(d.render(lang) for d in self.diagnostics)


class RulebookError(EngineError):
    code = "rulebook.error"


class YamlError(RulebookError):
    code = "yaml.error"


class SchemaError(RulebookError):
    code = "schema.error"


class ConditionSyntaxError(RulebookError):
    code = "syntax.error"


class CheckError(RulebookError):
    code = "check.error"


class RecordError(EngineError):
    code = "record.error"


class PluginError(EngineError):
    code = "plugin.error"


class DuplicateNameError(PluginError):
    code = "plugin.duplicate-name"


class UsageError(EngineError):
    code = "usage.error"


class EvalError(Exception):
    """A runtime error value of the condition language.

    Raised inside compiled code and caught by ``&&``/``||``/macros (CEL's
    commutative error semantics) and by the evaluator, which turns it into a
    rule status ``error``.  ``path`` names the record field involved, if any.
    """

    __slots__ = ("code", "message", "message_zh", "path")

    def __init__(self, code: str, message: str, path: str | None = None, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.path = path
        self.message_zh = message_zh  # the same in Chinese, where the record's data is at fault

    def __repr__(self) -> str:
        return f"EvalError({self.code!r}, {self.message!r}, path={self.path!r})"
