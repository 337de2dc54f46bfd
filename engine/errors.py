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

Messages in the reader's language (zh or en): every text a diagnostic or an
``EvalError`` carries is an :class:`engine.messages.Text`, which holds both
languages and cannot be made with one missing.  Write new messages into the
catalogue of ``engine/messages.py`` and build them by key, with named values::

    # engine/messages.py
    "usage.no-such-file": ("no such file `{path}`", "找不到文件 `{path}`"),

    raise UsageError(Diagnostic.of("usage.no-such-file", path=p))       # help from "usage.no-such-file/help"
    raise EvalError("eval.calendar-range", msg("eval.calendar-range", calendar=..., year=...))

``Text(en, zh)`` is for paired texts kept in a module's own table.  Renderers
pick the language with ``diagnostic.text(lang)`` / ``error.text.get(lang)``.
``tests/test_messages.py`` renders every catalogue entry in both languages,
checks every ``Text(...)`` call, and refuses a diagnostic or error built
from a plain string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.messages import CATALOGUE, Text, msg
from engine.source import Source, Span, snippet

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
    "render_diagnostic",
]

MAX_DIAGNOSTICS = 50


class Diagnostic:
    """One problem found in user input (frozen: diagnostics are data).

    Args:
        code: stable dotted code, e.g. ``check.unknown-field``.
        message: a :class:`~engine.messages.Text` (both languages): one line, lowercase
            start, no final period; user text in backticks.
        source: the text the problem is in (a YAML file, a record file), if any.
        span: where in ``source`` (character offsets), if known.
        help: advice for fixing it (a ``Text``), if any.
        severity: ``error`` or ``warning``.
        note: extra context (a ``Text``), e.g. "the column is approximate".

    ``message``, ``help`` and ``note`` read as English strings (for tests and
    logs); ``text(lang)`` and ``note_text(lang)`` give them in the reader's
    language.  ``Diagnostic.of(code, **values)`` takes the message from the
    catalogue entry ``code`` and the help from ``code/help`` when there is one.
    """

    __slots__ = ("code", "help_text", "message_text", "note_text_", "severity", "source", "span")

    code: str
    message_text: Text
    source: Source | None
    span: Span | None
    help_text: Text | None
    severity: str
    note_text_: Text | None

    def __init__(
        self,
        code: str,
        message: Text | str,
        source: Source | None = None,
        span: Span | None = None,
        help: Text | str | None = None,
        severity: str = "error",
        note: Text | str | None = None,
        message_zh: str | None = None,
        help_zh: str | None = None,
    ) -> None:
        # INVARIANT: every text is a Text.  A plain English string (the older form, with
        # ``message_zh``/``help_zh``) is still accepted so that a plugin's diagnostic does not
        # crash, but tests/test_messages.py refuses it anywhere in the engine.
        set_ = object.__setattr__
        set_(self, "code", code)
        set_(self, "message_text", _as_text(message, message_zh))
        set_(self, "source", source)
        set_(self, "span", span)
        set_(self, "help_text", None if help is None else _as_text(help, help_zh))
        set_(self, "severity", severity)
        set_(self, "note_text_", None if note is None else _as_text(note, None))

    @classmethod
    def of(
        cls,
        code: str,
        /,
        *,
        source: Source | None = None,
        span: Span | None = None,
        severity: str = "error",
        note: Text | None = None,
        **values: Any,
    ) -> Diagnostic:
        """The diagnostic ``code`` with its catalogued message (and help, if catalogued)."""
        help_key = f"{code}/help"
        return cls(
            code,
            msg(code, **values),
            source,
            span,
            msg(help_key, **values) if help_key in CATALOGUE else None,
            severity,
            note,
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Diagnostic is frozen: cannot set {name}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            Diagnostic,
            (self.code, self.message_text, self.source, self.span, self.help_text, self.severity, self.note_text_),
        )

    def _key(self) -> tuple[object, ...]:
        return (self.code, self.message_text, self.span, self.help_text, self.severity, self.note_text_)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Diagnostic) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Diagnostic({self.code!r}, {self.message!r}, span={self.span!r}, help={self.help!r})"

    def replace(self, **changes: Any) -> Diagnostic:
        """A copy with some fields changed (``source``, ``span``, ``note``, ``severity``...)."""
        fields: dict[str, Any] = {
            "code": self.code,
            "message": self.message_text,
            "source": self.source,
            "span": self.span,
            "help": self.help_text,
            "severity": self.severity,
            "note": self.note_text_,
        }
        fields.update(changes)
        return Diagnostic(**fields)

    @property
    def message(self) -> str:
        return self.message_text.en

    @property
    def help(self) -> str | None:
        return self.help_text.en if self.help_text is not None else None

    @property
    def note(self) -> str | None:
        return self.note_text_.en if self.note_text_ is not None else None

    @property
    def message_zh(self) -> str:
        return self.message_text.zh

    @property
    def help_zh(self) -> str | None:
        return self.help_text.zh if self.help_text is not None else None

    def text(self, lang: str = "en") -> tuple[str, str | None]:
        """(message, help) in ``lang``."""
        return self.message_text.get(lang), self.help_text.get(lang) if self.help_text is not None else None

    def note_text(self, lang: str = "en") -> str | None:
        return self.note_text_.get(lang) if self.note_text_ is not None else None

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
        """The one text rendering (see :func:`render_diagnostic`)."""
        return render_diagnostic(self, lang)

    def to_json(self, lang: str = "en") -> dict[str, object]:
        pos = self.line_col
        message, help = self.text(lang)
        return {
            "code": self.code,
            "severity": self.severity,
            "message": message,
            "file": self.file,
            "line": pos[0] if pos else None,
            "column": pos[1] if pos else None,
            "help": help,
        }


def _as_text(text: Text | str, zh: str | None) -> Text:
    if isinstance(text, Text):
        return text
    return Text(text, zh if zh is not None else text)


_LABELS = {
    "en": {"help": "help", "note": "note"},
    "zh": {"help": "帮助", "note": "注"},
}


def render_diagnostic(diag: Diagnostic, lang: str = "en") -> str:
    """Render a diagnostic as text, in ``lang`` (``en`` or ``zh``).

    The head ``severity[code]`` stays in English in every language so that
    tools can grep it; the message, help and labels are translated::

        rulebooks/x.yaml:42:20: error[check.unknown-field]: unknown field `birth_dat`
           |   when: age(record.birth_dat, as_of) >= 18
           |                    ^~~~~~~~~
           = help: did you mean `birth_date`?
    """
    message, help_text = diag.text(lang)
    labels = _LABELS.get(lang, _LABELS["en"])
    head = f"{diag.severity}[{diag.code}]: {message}"
    source, span = diag.source, diag.span
    if source is None:
        lines = [head]
    elif span is None:
        lines = [f"{source.name}: {head}"]
    else:
        line, col = source.line_col(span.start)
        lines = [f"{source.name}:{line}:{col}: {head}"]
        lines.extend(snippet(source, span))
    if help_text:
        lines.append(f"   = {labels['help']}: {help_text}")
    note = diag.note_text(lang)
    if note:
        lines.append(f"   = {labels['note']}: {note}")
    return "\n".join(lines)


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

    def __init__(
        self, diagnostics: Diagnostic | Text | str | Iterable[Diagnostic], *, help: Text | str | None = None
    ) -> None:
        if isinstance(diagnostics, (str, Text)):
            diagnostics = [Diagnostic(self.code, diagnostics, help=help)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = sort_diagnostics(diagnostics)
        super().__init__(self.render())

    def render(self, lang: str = "en") -> str:
        return "\n".join(d.render(lang) for d in self.diagnostics)

    def __reduce__(self) -> tuple[Any, ...]:
        # the diagnostics themselves (both languages), not the English rendering
        return (type(self), (self.diagnostics,))


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
    rule status ``error``.  ``text`` is the message in both languages (a
    :class:`~engine.messages.Text`, filled in only when read); ``path`` names the
    record field involved, if any.  ``message`` is the English text.
    """

    __slots__ = ("code", "path", "text")

    def __init__(self, code: str, message: Text | str, path: str | None = None, message_zh: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.text = _as_text(message, message_zh)
        self.path = path

    @property
    def message(self) -> str:
        return self.text.en

    @property
    def message_zh(self) -> str:
        return self.text.zh

    def __str__(self) -> str:
        return self.text.en

    def __reduce__(self) -> tuple[Any, ...]:
        return (EvalError, (self.code, self.text, self.path))

    def __repr__(self) -> str:
        return f"EvalError({self.code!r}, {self.message!r}, path={self.path!r})"
