"""The decision log: every decision the service makes, as one JSON object, with personal data masked.

Each decision becomes a line (decision id, time, rulebook id and version, decision, record id,
outcome, failed and undecided rule ids, latency in milliseconds, and the record with the
configured fields replaced by ``***`` wherever they occur in it).  The line goes to the Python
logger ``rulebook.serve.decisions`` at level INFO (so a deployment gets it without a plugin) and,
with the decision itself, to every plugin's ``decision_made`` observer: the context's
``command`` is ``serve``, its ``run_id`` the request's id and its ``options`` hold
``decision_id`` and ``log`` (the line as a dict).  An observer that fails is logged (logger
``rulebook.serve``) and never loses the decision or the answer.

When only the logger reads the lines (no observer), the line is never built as a dict: the
record is written as JSON once and its masked fields are replaced in that text (see
:class:`TextMask`); the result is the very text ``json.dumps`` gives for the dict.  The line is
handed to the logger's handlers as a record made directly (``Logger.makeRecord`` and
``Logger.handle``), which skips ``Logger.info``'s search of the stack for the caller but keeps
everything a deployment configures on the logger: its level, filters, handlers and propagation.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

__all__ = ["LOGGER", "DecisionLog", "LineHandler", "TextMask", "mask"]

LOGGER = logging.getLogger("rulebook.serve.decisions")
_SERVE_LOGGER = logging.getLogger("rulebook.serve")
MASK = "***"
_INFO = logging.INFO


def _encoder() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False, default=str)`` as one call of the C encoder, made once
    (``json.dumps`` builds a ``JSONEncoder`` and a C encoder for every value it writes)."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has the C encoder
        return json.JSONEncoder(ensure_ascii=False, default=str).encode
    # the arguments JSONEncoder.iterencode gives it for those options, but no markers (the check
    # for circular references): a value parsed from JSON, or built here, never refers to itself
    encode = make(None, str, encoder.encode_basestring, None, ": ", ", ", False, False, True)
    join = "".join

    def dumps(value: Any) -> str:
        return join(encode(value, 0))

    return dumps


dumps = _encoder()
"""The line's JSON text of a value: ``json.dumps(value, ensure_ascii=False, default=str)``."""
_string = json.encoder.encode_basestring  # a str's JSON text, as ``dumps`` writes it


def _json(value: Any) -> str:
    return _string(value) if value.__class__ is str else dumps(value)


def _now() -> str:
    """The line's time: now, in UTC, ISO 8601."""
    return _dt.datetime.now(_dt.UTC).isoformat()


def mask(value: Any, fields: frozenset[str]) -> Any:
    """``value`` with the values of the keys in ``fields`` (at any depth) masked: a copy of each object
    and list that holds something masked, the very same object where nothing is (the record itself
    is never changed, and a record without personal data is not copied at all)."""
    cls = value.__class__
    if cls is dict:
        out: dict[str, Any] | None = None
        for k, v in value.items():
            if k in fields:
                new: Any = MASK
            elif v.__class__ is dict or v.__class__ is list:
                new = mask(v, fields)
                if new is v:
                    continue
            else:
                continue
            if out is None:
                out = dict(value)
            out[k] = new
        return value if out is None else out
    if cls is list:
        items: list[Any] | None = None
        for i, v in enumerate(value):
            if v.__class__ is dict or v.__class__ is list:
                new = mask(v, fields)
                if new is not v:
                    if items is None:
                        items = list(value)
                    items[i] = new
        return value if items is None else items
    return value


class _Compound(Exception):
    """A masked key holds an object or an array: the text mask gives way to :func:`mask`."""


def _masked(match: re.Match[str]) -> str:
    if match[2] is not None:
        raise _Compound
    return match[1] + '"***"'


class TextMask:
    """Masks fields in the JSON text :data:`dumps` wrote, giving ``dumps(mask(value, fields))``.

    Why a pattern on the text is sound: in that text (separators ``", "`` and ``": "``) a ``"``
    is either escaped inside a string (``\\"``, so preceded by a backslash) or opens or closes a
    string.  The pattern wants a ``"`` preceded by ``{`` or a space, so not an escaped one,
    followed by a field's name as the encoder writes it and ``": "``.  A closing quote is
    followed by ``,``, ``:``, ``]`` or ``}``, so for names not beginning with one of those
    (:meth:`of` gives no mask otherwise) the ``"`` opens a string; the name's text is a sequence
    of whole characters and escapes without an unescaped quote, so that string is exactly the
    name, and as ``": "`` follows it, it is a key.  The key's value, when it is a string, a
    number, ``true``, ``false`` or ``null``, is replaced by ``"***"`` (a string ends at the
    first quote not escaped; any other scalar at the ``,`` or ``}`` after it).  When a masked
    key holds an object or an array, :meth:`apply` masks the value itself and writes it again
    (rare: masked fields hold names, dates and numbers).
    """

    __slots__ = ("_pattern",)

    def __init__(self, fields: frozenset[str]) -> None:
        names = "|".join(re.escape(dumps(name)[1:-1]) for name in sorted(fields))
        # the key (group 1), then its value: a string, an object or array (group 2), another scalar
        self._pattern = re.compile(
            rf'("(?<=[{{ ]")(?:{names})": )(?:"[^"\\]*(?:\\.[^"\\]*)*"|([{{\[])|[^"{{\[,}}][^,}}]*)'
        )

    @classmethod
    def of(cls, fields: frozenset[str]) -> TextMask | None:
        """The mask of ``fields``, or None when a name could be mistaken in the text (one beginning
        with ``,``, ``:``, ``]`` or ``}``) or there is nothing to mask."""
        if not fields or any(name[:1] in (",", ":", "]", "}") for name in fields):
            return None
        return cls(fields)

    def apply(self, text: str, value: Any, fields: frozenset[str]) -> str:
        """``text`` (``dumps(value)``) with the values of ``fields`` masked, as ``dumps(mask(value, fields))``."""
        try:
            return self._pattern.sub(_masked, text)
        except _Compound:
            return dumps(mask(value, fields))


class LineHandler(logging.StreamHandler):
    """The handler ``rulebook serve`` puts on the decision log: a ``StreamHandler`` (a line per
    decision, standard output by default).  While it is the logger's only handler, with nothing
    filtering and its formatter writing the message alone, a decision's line is written to its
    stream directly (:meth:`DecisionLog._log`): exactly what logging would write, without a
    ``LogRecord``.  Anything a deployment configures (another handler, a filter, a formatter,
    propagation) makes every line go through logging as usual."""


def _message_only(formatter: logging.Formatter | None) -> bool:
    """Whether ``formatter`` writes a record as its message and nothing else (``%(message)s``)."""
    return (
        formatter is not None
        and formatter.__class__ is logging.Formatter
        and formatter._style.__class__ is logging.PercentStyle  # noqa: SLF001 - the style logging reads
        and formatter._fmt == "%(message)s"  # noqa: SLF001
    )


def _direct_handler() -> LineHandler | None:
    """The handler a line may be written to directly (see :class:`LineHandler`), or None."""
    handlers = LOGGER.handlers
    if len(handlers) != 1 or LOGGER.filters or LOGGER.propagate or LOGGER.disabled:
        return None
    handler = handlers[0]
    if handler.__class__ is not LineHandler or handler.filters or handler.level > _INFO:
        return None
    return handler if _message_only(handler.formatter) else None


def _record(caller: FrameType, text: str) -> logging.LogRecord:
    """The record ``LOGGER.info(text)`` would make, called at ``caller``."""
    code = caller.f_code
    return LOGGER.makeRecord(LOGGER.name, _INFO, code.co_filename, caller.f_lineno, text, (), None, code.co_name)


class DecisionLog:
    """Writes decision lines to the logger and tells the observers (when either wants them)."""

    def __init__(self, masked_fields: Iterable[str], enabled: bool = True) -> None:
        self.fields = frozenset(masked_fields)
        self.enabled = enabled
        self._text_mask = TextMask.of(self.fields)
        from engine.pluginmanager import get_plugin_manager

        self.pm = get_plugin_manager()
        self._reported: set[str] = set()

    def wanted(self) -> bool:
        """Whether anyone reads the lines (checked before any work is done for them)."""
        return self.enabled and (LOGGER.isEnabledFor(_INFO) or self.pm.has_observers())

    def line(self, decision: Any, record: Any, decision_id: str, latency_ms: float) -> dict[str, Any]:
        """The line as a dict (what the observers get)."""
        failing = getattr(decision, "failing", ())
        return {
            "decision_id": decision_id,
            "time": _now(),
            "rulebook": decision.rulebook,
            "version": decision.version,
            "decision": decision.decision,
            "record_id": decision.record_id,
            "outcome": str(decision.outcome),
            "failed_rules": [f[0] for f in failing if f[1] == "fail"],
            "undecided_rules": [f[0] for f in failing if f[1] == "error"],
            "latency_ms": round(latency_ms, 3),
            "record": mask(record, self.fields),
        }

    def text(self, decision: Any, record: Any, decision_id: str, latency_ms: float) -> str:
        """The line's JSON text, ``dumps(self.line(...))``, written without building the line (nor a
        masked copy of the record) as a value: what the logger gets."""
        failing = getattr(decision, "failing", ())
        if failing:
            failed = _json([f[0] for f in failing if f[1] == "fail"])
            undecided = _json([f[0] for f in failing if f[1] == "error"])
        else:
            failed = undecided = "[]"
        if not self.fields:
            data = dumps(record)
        elif self._text_mask is not None:
            data = self._text_mask.apply(dumps(record), record, self.fields)
        else:
            data = dumps(mask(record, self.fields))
        return (
            f'{{"decision_id": {_json(decision_id)}, "time": {_json(_now())}, "rulebook": {_json(decision.rulebook)}, '
            f'"version": {_json(decision.version)}, "decision": {_json(decision.decision)}, '
            f'"record_id": {_json(decision.record_id)}, "outcome": {_json(str(decision.outcome))}, '
            f'"failed_rules": {failed}, "undecided_rules": {undecided}, "latency_ms": {dumps(round(latency_ms, 3))}, '
            f'"record": {data}}}'
        )

    def write(self, decision: Any, record: Any, decision_id: str, latency_ms: float, context: dict[str, Any]) -> None:
        """Log one decision and tell the observers; ``context`` holds the request's options."""
        logged = LOGGER.isEnabledFor(_INFO)
        if not self.pm.has_observers():
            if logged:
                self._log(self.text(decision, record, decision_id, latency_ms))
            return
        line = self.line(decision, record, decision_id, latency_ms)
        if logged:
            self._log(dumps(line))
        from engine.hookspecs import DecisionContext

        ctx = DecisionContext(
            "serve",
            context.get("rulebook", decision.rulebook),
            context.get("run_id", decision_id),
            context.get("started_at") or _dt.datetime.now(_dt.UTC),
            {**context.get("options", {}), "decision_id": decision_id, "log": line},
        )
        for failure in self.pm.decision_made(decision, ctx):
            if failure.plugin.name not in self._reported:
                self._reported.add(failure.plugin.name)
                _SERVE_LOGGER.warning(failure.diagnostic().render("en"))

    @staticmethod
    def _log(text: str) -> None:
        """``LOGGER.info(text)`` without its search of the stack: the record names this function's
        caller as ``Logger.info`` would have, and goes through the logger's filters and handlers;
        with ``rulebook serve``'s own handler alone, the line is written as that handler writes it,
        without a record (:class:`LineHandler`)."""
        caller = sys._getframe(1)  # noqa: SLF001 - what logging itself reads for the caller
        handler = _direct_handler()
        if handler is not None:
            try:
                with handler.lock:  # type: ignore[union-attr]
                    handler.stream.write(text + handler.terminator)
                    handler.flush()
            except Exception:  # noqa: BLE001 - reported as logging reports a handler's failure
                handler.handleError(_record(caller, text))
            return
        LOGGER.handle(_record(caller, text))
