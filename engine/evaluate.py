"""Evaluate a compiled decision on one record: rules, waivers, outcome, outputs.

For every rule, in order: ``when`` false makes it ``not_applicable``;
``require`` true makes it ``pass``; false makes it ``fail`` unless the
record carries an approved waiver for it (``waived``); a run-time error in
either (a missing field, a wrong type) makes it ``error`` and names the path.
The decision's outcome is ``fail`` when an error-severity rule failed,
``indeterminate`` when none failed but one errored, else ``pass``.  Outputs
are computed last.  Nothing a record contains can make ``evaluate`` raise.

What each rule saw (its values, the named values and record fields it read)
and its message are computed only when asked for, from the same record, so
that deciding stays cheap when only the outcome is wanted.

A decision whose expressions compiled into one function
(``lang.compile_decision.compile_decision``) is evaluated by that function: it returns
the statuses as a tuple, and the :class:`Decision` builds its
:class:`RuleResult` objects only when ``rules`` is read (``statuses``,
``status_of`` and ``outcome`` do not need them).  Anything else (a record
that is not a dict, an evaluation date that cannot be determined, a rulebook
built with another expression compiler) takes the general loop, with the same
results.
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from json import dumps as _dumps
from json import encoder as json_encoder
from typing import Any, NamedTuple

from engine.errors import EvalError
from engine.lang.calendar import DateRange
from engine.lang.compile_decision import DATA_ERROR, UNSET, CompiledDecisionFns, compile_trace
from engine.lang.runtime import MISSING
from engine.lang.types import Type
from engine.lang.values import to_date, wrap_error
from engine.memo import BoundedMemo
from engine.messages import Text, msg
from engine.model import DecisionSpec, Outcome, OutputSpec, Rulebook, RuleSpec, Severity, Status
from engine.recordcheck import ENFORCEMENT_LEVELS, Violation, compile_schema
from engine.source import Source

__all__ = ["CompiledDecision", "CompiledRulebook", "Decision", "InputRef", "RuleResult"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


class InputRef(NamedTuple):
    """Where a record came from: file name and line (JSON Lines, JSON) or row (CSV,
    XLSX); ``sheet`` names the worksheet of a spreadsheet.  Immutable; one is made per
    record, so a named tuple (cheaper to make than a frozen dataclass)."""

    file: str | None
    line: int | None
    sheet: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line}
        if self.sheet is not None:
            out["sheet"] = self.sheet
        return out


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    when: Any
    require: Any
    seen: tuple[tuple[str, Any], ...]
    extra: tuple[tuple[str, Any], ...]
    checked: Any = field(default=None, compare=False, repr=False)  # (locals, when, require) as checked
    # derived once, for reports: the getters as (name, cache key, function), the JSON object's
    # fixed keys, the message split into text and placeholders (by language, made when first used)
    seen_plan: Any = field(init=False, compare=False, repr=False)
    extra_plan: Any = field(init=False, compare=False, repr=False)
    json_head: dict[str, Any] = field(init=False, compare=False, repr=False)
    severity_text: str = field(init=False, compare=False, repr=False)
    templates: Any = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        spec = self.spec
        set_ = object.__setattr__
        set_(self, "seen_plan", _trace_plan(self.seen))
        set_(self, "extra_plan", _trace_plan(self.extra))
        set_(self, "json_head", {"id": spec.id, "article": spec.article, "item": spec.item, "cite": spec.cite})
        set_(self, "severity_text", str(spec.severity))
        set_(self, "templates", {})


@dataclass(frozen=True)
class CompiledOutput:
    spec: OutputSpec
    value: Any
    when: Any
    checked: Any = field(default=None, compare=False, repr=False)  # (value, when) as checked


def format_value(v: Any, lang: str) -> str:
    c = v.__class__
    if c is str:
        return v  # type: ignore[no-any-return]  # its class is str
    if c is int:
        return int.__repr__(v)
    if v is True or v is False:
        return ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")
    if v is None:
        return "无" if lang == "zh" else "none"
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        if not v:
            return "无" if lang == "zh" else "none"
        return ("、" if lang == "zh" else ", ").join(format_value(x, lang) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {format_value(x, lang)}" for k, x in v.items())
    if isinstance(v, DateRange):
        return v.text(lang)
    return str(v)


_PLAIN_JSON = frozenset({str, int, bool, type(None)})


def to_json_value(v: Any) -> Any:
    if v.__class__ in _PLAIN_JSON:
        return v
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [to_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): to_json_value(x) for k, x in v.items()}
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        return str(v)
    if isinstance(v, DateRange):
        return v.to_json()
    if v is None or isinstance(v, (str, int, float)):
        return v
    return str(v)  # timestamps, durations, type values: their CEL text


_MISSING: Any = object()


def _trace_plan(getters: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any, Any], ...]:
    """``(name, cache key or None, function)`` for each getter: a getter made by ``cached_value``
    is read through the per-record cache directly (no call when already computed)."""
    out = []
    for name, getter in getters:
        key = getattr(getter, "cache_key", None)
        out.append((name, key, getter.compute if key is not None else getter))
    return tuple(out)


def _template(text: str) -> tuple[Any, ...]:
    """A message split into literal text and ``(name,)`` placeholders (``{{``/``}}`` are braces)."""
    parts: list[Any] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        found = m.group(0)
        if found == "{{":
            parts.append("{")
        elif found == "}}":
            parts.append("}")
        else:
            parts.append((m.group(1).strip(),))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return tuple(parts)


def _trace(
    plan: tuple[tuple[str, Any, Any], ...], rec: Any, as_of: Any, ctx: dict[Any, Any], out: dict[str, Any]
) -> dict[str, Any]:
    """Add to ``out`` the values of ``plan`` that can be computed (and are not there yet)."""
    for name, key, fn in plan:
        if name in out:
            continue
        if key is None:
            try:
                out[name] = fn(rec, as_of, ctx)
            except Exception:  # noqa: BLE001, S112 - a value that cannot be computed is left out
                continue
            continue
        v = ctx.get(key, _MISSING)
        if v is _MISSING:
            try:
                v = fn(rec, as_of, ctx)
            except Exception as e:  # noqa: BLE001 - cached as the error, as ``cached_value`` does
                v = wrap_error(e)
            ctx[key] = v
        if v.__class__ is not EvalError:
            out[name] = v
    return out


def _is_record(rec: Any) -> bool:
    return rec.__class__ is dict or isinstance(rec, Mapping)


def _fill(
    compiled: CompiledRule, values: dict[str, Any], env: tuple[Any, _dt.date | None, dict[Any, Any]], lang: str
) -> str:
    """The rule's message with ``values`` (and the placeholders' own getters) filled in."""
    rec, as_of, ctx = env
    if compiled.extra_plan and as_of is not None and _is_record(rec):
        values = _trace(compiled.extra_plan, rec, as_of, ctx, dict(values))
    return _fill_values(compiled, values, lang)


def _fill_values(compiled: CompiledRule, values: dict[str, Any], lang: str) -> str:
    """The rule's message with ``values`` filled in (placeholders without a value show ``?``)."""
    template = compiled.templates.get(lang)
    if template is None:
        template = compiled.templates[lang] = _template(compiled.spec.message.get(lang))
    return "".join(
        [
            part if part.__class__ is str else format_value(values[part[0]], lang) if part[0] in values else "?"
            for part in template
        ]
    )


_encode_string = json_encoder.encode_basestring


def _json_text(v: Any) -> str:
    """``json.dumps(to_json_value(v), ensure_ascii=False)``, common cases first."""
    c = v.__class__
    if c is str:
        return _encode_string(v)
    if c is bool:
        return "true" if v else "false"
    if c is int:
        return int.__repr__(v)
    if v is None:
        return "null"
    if c is _dt.date:
        return f'"{v.isoformat()}"'
    if c is list or c is tuple:
        return "[" + ", ".join([_json_text(x) for x in v]) + "]"
    if c is dict:
        return "{" + ", ".join([_encode_string(str(k)) + ": " + _json_text(x) for k, x in v.items()]) + "}"
    return _dumps(to_json_value(v), ensure_ascii=False)


def _values_dict(*pairs: tuple[str, Any]) -> dict[str, Any]:
    return {name: to_json_value(x) for name, x in pairs if x is not MISSING}


def _values_text(*pairs: tuple[str, Any]) -> str:
    return "{" + ", ".join(_encode_string(name) + ": " + _json_text(x) for name, x in pairs if x is not MISSING) + "}"


def _rule_json(
    compiled: CompiledRule,
    status: Status,
    error: EvalError | None,
    waiver: Mapping[str, Any] | None,
    values: dict[str, Any],
    env: tuple[Any, _dt.date | None, dict[Any, Any]],
    lang: str,
) -> dict[str, Any]:
    out = compiled.json_head.copy()
    out["status"] = str(status)  # a Status, or its text given to RuleResult
    out["severity"] = compiled.severity_text
    data_text = None
    if error is DATA_ERROR:  # a data check that does not hold: its message says what contradicts what
        out["message"] = data_text = _fill(compiled, values, env, lang)
    elif status == _ERROR and error is not None:
        out["message"] = error_message(error, lang)
    elif status in (_FAIL, _WAIVED):
        out["message"] = _fill(compiled, values, env, lang)
    else:
        out["message"] = None
    out["values"] = {k: (x if x.__class__ in _PLAIN_JSON else to_json_value(x)) for k, x in values.items()}
    if error is not None:
        out["error"] = {
            "code": error.code,
            "message": data_text if data_text is not None else error.text.get(lang),
            "path": error.path,
        }
    if waiver is not None:
        out["waiver"] = {k: to_json_value(waiver.get(k)) for k in ("reason", "approved_by", "date")}
        if status != Status.WAIVED:
            out["waiver"]["unused"] = True
    return out


class RuleResult:
    """The result of one rule on one record."""

    __slots__ = ("_env", "_values", "compiled", "error", "status", "waiver")

    def __init__(
        self,
        compiled: CompiledRule,
        status: Status,
        env: tuple[Any, _dt.date | None, dict[Any, Any]],
        error: EvalError | None = None,
        waiver: Mapping[str, Any] | None = None,
    ) -> None:
        self.compiled = compiled
        self.status = status
        self._env = env  # (record, as_of, ctx): shared by every rule of one evaluation
        self.error = error
        self.waiver = waiver
        self._values: dict[str, Any] | None = None

    @property
    def record(self) -> Any:
        return self._env[0]

    @property
    def as_of(self) -> _dt.date | None:
        return self._env[1]

    @property
    def spec(self) -> RuleSpec:
        return self.compiled.spec

    @property
    def id(self) -> str:
        return self.compiled.spec.id

    @property
    def waiver_unused(self) -> bool:
        """The record carries an approved waiver for this rule, but the rule did not fail."""
        return self.waiver is not None and self.status != Status.WAIVED

    @property
    def severity(self) -> Severity:
        return self.compiled.spec.severity

    @property
    def values(self) -> dict[str, Any]:
        """The values the rule saw (those that could be computed)."""
        if self._values is None:
            rec, as_of, ctx = self._env
            if as_of is not None and _is_record(rec):
                self._values = _trace(self.compiled.seen_plan, rec, as_of, ctx, {})
            else:
                self._values = {}
        return self._values

    def message(self, lang: str = "zh") -> str | None:
        """The rule's message with its values filled in (fail and waived, and a data check that
        does not hold), or the error."""
        status = self.status
        if self.error is DATA_ERROR:
            return _fill(self.compiled, self.values, self._env, lang)
        if status == Status.ERROR and self.error is not None:
            return error_message(self.error, lang)
        if status != Status.FAIL and status != Status.WAIVED:
            return None
        return _fill(self.compiled, self.values, self._env, lang)

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return _rule_json(self.compiled, self.status, self.error, self.waiver, self.values, self._env, lang)

    def __repr__(self) -> str:
        return f"RuleResult({self.id!r}, {str(self.status)!r})"


def error_message(err: EvalError, lang: str) -> str:
    """What a rule that could not be decided says, in ``lang``."""
    if err.code == "eval.missing-field" and err.path:
        text = msg("eval.missing-field:rule", path=err.path)
    elif err.code == "eval.wrong-type" and err.path:
        text = msg("eval.wrong-type:rule", path=err.path, reason=err.text)
    else:
        text = msg("eval.cannot-decide", reason=err.text)
    return text.get(lang)


_FIELDS = (
    "rulebook",
    "version",
    "decision",
    "record_id",
    "input",
    "as_of",
    "outcome",
    "rules",
    "outputs",
    "output_errors",
    "message",
)


class Decision:
    """What a decision says about one record, with the result of every rule.

    ``rules`` holds one :class:`RuleResult` per rule, in the decision's order;
    ``statuses`` and ``status_of`` give the rules' statuses without them (for a
    decision just evaluated, without building them at all).
    """

    __slots__ = (*_FIELDS, "_schema")
    _schema: tuple[Violation, ...]  # set by CompiledDecision.evaluate when the record breaks its schema

    def __init__(
        self,
        rulebook: str,
        version: str,
        decision: str,
        record_id: str | None,
        input: InputRef | None,
        as_of: _dt.date | None,
        outcome: Outcome,
        rules: list[RuleResult],
        outputs: dict[str, Any] | None = None,
        output_errors: dict[str, EvalError] | None = None,
        message: str | None = None,
    ) -> None:
        self.rulebook = rulebook
        self.version = version
        self.decision = decision
        self.record_id = record_id
        self.input = input
        self.as_of = as_of
        self.outcome = outcome
        self.rules = rules
        self.outputs = outputs if outputs is not None else {}
        self.output_errors = output_errors if output_errors is not None else {}
        self.message = message

    def rule(self, rule_id: str) -> RuleResult | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    @property
    def schema(self) -> tuple[Violation, ...]:
        """How the record breaks its record schema (schema enforcement ``warn`` or ``reject``)."""
        try:
            return self._schema
        except AttributeError:
            return ()

    def _schema_json(self, out: dict[str, Any], lang: str) -> dict[str, Any]:
        """``out`` with the schema violations (and under ``reject``, the outcome ``error``)."""
        violations = self.schema
        if violations:
            out["outcome"] = str(self.outcome)
            out["schema"] = [v.to_json(lang) for v in violations]
            if self.outcome == Outcome.ERROR and "message" not in out:
                n = sum(1 for v in violations if v.severity == "error")
                out["message"] = (
                    f"记录不符合其记录结构（{n} 处），按 reject 不作决定"
                    if lang == "zh"
                    else f"the record breaks its record schema ({n} problem{'s' if n != 1 else ''}); "
                    "under `reject` it gets no decision"
                )
        return out

    @property
    def statuses(self) -> dict[str, Status]:
        """Each rule's status by rule id, in the decision's order."""
        return {r.id: r.status for r in self.rules}

    @property
    def status_tuple(self) -> tuple[Status, ...]:
        """Each rule's status, in the decision's order (``CompiledDecision.rule_ids``)."""
        return tuple(r.status for r in self.rules)

    def status_of(self, rule_id: str) -> Status | None:
        """The status of one rule (``None`` for an unknown id)."""
        r = self.rule(rule_id)
        return r.status if r is not None else None

    @property
    def failing(self) -> tuple[tuple[str, str, str, str], ...]:
        """``(rule id, status, severity, cite)`` of the rules that failed or could not be decided."""
        return tuple(
            (r.id, str(r.status), str(r.severity), r.spec.cite) for r in self.rules if r.status in ("fail", "error")
        )

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        out: dict[str, Any] = {
            "rulebook": self.rulebook,
            "version": self.version,
            "decision": self.decision,
            "record": self.record_id,
            "input": self.input.to_json() if self.input else None,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "outcome": str(self.outcome),
            "rules": [r.to_json(lang) for r in self.rules],
            "outputs": to_json_value(self.outputs),
        }
        if self.message is not None:
            out["message"] = self.message
        return self._schema_json(out, lang)

    def to_json_text(self, lang: str = "zh") -> str:
        """``to_json(lang)`` as one line of JSON text (``json.dumps(..., ensure_ascii=False)``).

        The one serialisation is :meth:`to_json_bytes`; this is it decoded.  Text that UTF-8
        cannot hold (a lone surrogate read from a JSON record) has no bytes: then the text is
        made from ``to_json`` directly, as ``json.dumps`` writes it.
        """
        try:
            return self._json_bytes(lang).decode("utf-8")
        except UnicodeEncodeError:
            return _dumps(self.to_json(lang), ensure_ascii=False)

    def to_json_bytes(self, lang: str = "zh") -> bytes:
        """``to_json_text(lang)`` in UTF-8; a lone surrogate (which UTF-8 cannot hold) written as its
        escape, the same JSON."""
        try:
            return self._json_bytes(lang)
        except UnicodeEncodeError:  # a lone surrogate (a JSON escape such as \ud800) in the record's text
            return utf8_json(_dumps(self.to_json(lang), ensure_ascii=False))

    def _json_bytes(self, lang: str) -> bytes:
        """The JSON text in UTF-8, or ``UnicodeEncodeError`` for a lone surrogate."""
        return _dumps(self.to_json(lang), ensure_ascii=False).encode("utf-8")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: not hashable

    def __repr__(self) -> str:
        return (
            f"Decision(rulebook={self.rulebook!r}, version={self.version!r}, decision={self.decision!r}, "
            f"record_id={self.record_id!r}, outcome={str(self.outcome)!r}, outputs={self.outputs!r})"
        )


class _Evaluated(Decision):
    """A decision made by a whole-decision function: statuses in a tuple, the rest on demand."""

    __slots__ = ("_cd", "_ctx", "_record", "_res", "_rules", "status_tuple")

    def __init__(
        self, cd: CompiledDecision, record: dict[str, Any], input: InputRef | None, res: tuple[Any, ...]
    ) -> None:
        # res: (statuses, errors or None, values computed, outcome, outputs, output errors or None,
        #       evaluation date, waivers by rule or None)
        self._cd = cd
        self._record = record
        self.input = input
        self._res = res
        self.status_tuple = res[0]  # type: ignore[misc]  # plain attributes: read for every record
        self.outcome = res[3]
        self._rules: list[RuleResult] | None = None
        self._ctx: dict[Any, Any] | None = None

    @property
    def as_of(self) -> _dt.date:  # type: ignore[override]  # read-only: made from the result tuple
        return self._res[6]  # type: ignore[no-any-return]  # the evaluation date's slot

    rulebook = property(lambda self: self._cd.book.id)
    version = property(lambda self: self._cd.book.version)
    decision = property(lambda self: self._cd.name)
    message = property(lambda self: None)

    @property
    def outputs(self) -> dict[str, Any]:  # type: ignore[override]  # read-only: made from the result tuple
        return self._res[4]  # type: ignore[no-any-return]  # the outputs' slot

    @property
    def output_errors(self) -> dict[str, EvalError]:  # type: ignore[override]  # read-only: made from the result tuple
        oe = self._res[5]
        return oe if oe is not None else {}

    @property
    def record_id(self) -> str | None:  # type: ignore[override]  # read-only: made from the result tuple
        rid = self._record.get("id")
        return rid if rid.__class__ is str else _record_id(self._record)

    def _env(self) -> tuple[Any, _dt.date, dict[Any, Any]]:
        ctx = self._ctx
        if ctx is None:
            # the values computed while deciding, where the getters of the rules' values look first
            values = zip(self._cd._value_keys, self._res[2])  # noqa: SLF001, B905 - same module; one per value, and strict= costs
            ctx = self._ctx = {k: v for k, v in values if v is not UNSET}
        return (self._record, self.as_of, ctx)

    @property
    def rules(self) -> list[RuleResult]:  # type: ignore[override]  # read-only: made from the result tuple
        rules = self._rules
        if rules is None:
            env = self._env()
            statuses, errors = self._res[0], self._res[1]
            waivers = self._res[7]
            rules = self._rules = [
                RuleResult(rule, statuses[i], env, errors.get(i) if errors else None, waivers[i] if waivers else None)
                for i, rule in enumerate(self._cd.rules)
            ]
        return rules

    @property
    def statuses(self) -> dict[str, Status]:
        return dict(zip(self._cd.rule_ids, self._res[0]))  # noqa: B905 - one per rule; strict= costs a slower call

    def status_of(self, rule_id: str) -> Status | None:
        i = self._cd._rule_index.get(rule_id)  # noqa: SLF001 - its CompiledDecision's data, same module
        return self._res[0][i] if i is not None else None

    def rule(self, rule_id: str) -> RuleResult | None:
        i = self._cd._rule_index.get(rule_id)  # noqa: SLF001 - its CompiledDecision's data, same module
        return self.rules[i] if i is not None else None

    @property
    def failing(self) -> tuple[tuple[str, str, str, str], ...]:
        statuses = self._res[0]
        if _FAIL not in statuses and _ERROR not in statuses:
            return ()
        return tuple(
            [
                (fail if s is _FAIL else error)
                for (fail, error), s in zip(self._cd._failing_info, statuses)  # noqa: SLF001, B905 - same module; one per rule
                if s is _FAIL or s is _ERROR
            ]
        )

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        res = self._res
        cd = self._cd
        plain = self._rules is None and res[1] is None and res[7] is None
        trace = cd._trace_function("dict") if plain else None  # noqa: SLF001 - its CompiledDecision's data, same module
        if trace is not None:  # no error, no waiver: the decision's generated trace
            rules = trace(self._record, res[6], res[2], res[0], lang)
        elif self._rules is not None:
            rules = [r.to_json(lang) for r in self._rules]
        else:
            env = self._env()
            rec, day, ctx = env
            statuses, errors = self._res[0], self._res[1]
            waivers = self._res[7]
            rules = []
            for i, rule in enumerate(self._cd.rules):
                values = _trace(rule.seen_plan, rec, day, ctx, {})
                rules.append(
                    _rule_json(
                        rule,
                        statuses[i],
                        errors.get(i) if errors else None,
                        waivers[i] if waivers else None,
                        values,
                        env,
                        lang,
                    )
                )
        out = {
            "rulebook": cd.book.id,
            "version": cd.book.version,
            "decision": cd.name,
            "record": self.record_id,
            "input": self.input.to_json() if self.input else None,
            "as_of": self.as_of.isoformat(),
            "outcome": self._res[3].value,
            "rules": rules,
            "outputs": to_json_value(self._res[4]),
        }
        return self._schema_json(out, lang) if self.schema else out

    def _json_bytes(self, lang: str) -> bytes:
        res = self._res
        cd = self._cd
        trace = (
            (cd._traces.get("bytes") or cd._trace_function("bytes"))  # noqa: SLF001 - its CompiledDecision's data, same module
            if self._rules is None and res[1] is None and res[7] is None and not self.schema
            else None
        )
        if trace is None:
            return _dumps(self.to_json(lang), ensure_ascii=False).encode("utf-8")
        inp = self.input
        if inp is None:
            input_text = b"null"
        elif inp.sheet is None and inp.line.__class__ is int:
            head = _file_head_of(inp.file)
            if head is None:
                head = _file_head(inp.file)
            input_text = b"%s%d}" % (head, inp.line)
        else:
            input_text = _dumps(inp.to_json(), ensure_ascii=False).encode("utf-8")
        rid = self.record_id
        outputs = res[4]
        return b"".join(
            (
                cd._json_prefix_bytes,  # noqa: SLF001 - its CompiledDecision's data, same module
                (
                    _encode_string(rid) if rid.__class__ is str else _json_text(rid) if rid is not None else "null"
                ).encode("utf-8"),
                b', "input": ',
                input_text,
                _as_of_outcome_of((res[6], res[3])) or _as_of_outcome(res[6], res[3]),
                trace(self._record, res[6], res[2], res[0], lang),
                b', "outputs": ',
                _json_text(outputs).encode("utf-8") if outputs else b"{}",
                b"}",
            )
        )


def utf8_json(text: str) -> bytes:
    """JSON text in UTF-8; a lone surrogate (which a record's JSON may hold as an escape, and UTF-8
    cannot encode) written back as its escape, which inside a JSON string is the same JSON."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


def _no_violations(record: Any) -> tuple[Violation, ...]:
    return ()


# parts of JSON lines, remembered (a feed has few files, days and outcomes)
_FILE_HEADS: BoundedMemo[str | None, bytes] = BoundedMemo(64)  # a file's ``{"file": ..., "line": ``
_AS_OF_OUTCOME: BoundedMemo[tuple[_dt.date, Outcome], bytes] = BoundedMemo(4096)  # ``, "as_of": ..., "rules": ``
_file_head_of, _as_of_outcome_of = _FILE_HEADS.get, _AS_OF_OUTCOME.get  # lookups bound once (the memos clear in place)


def _file_head(file: str | None) -> bytes:
    return _FILE_HEADS.remember(file, f'{{"file": {_json_text(file)}, "line": '.encode())


def constant_getter(value: Any) -> Any:
    """What a rule's trace shows for a parameter: its value (compilers inline it)."""

    def get(rec: Any, as_of: Any, ctx: Any) -> Any:
        return value

    get.constant = value  # type: ignore[attr-defined]  # a function's attribute: the compilers inline the value
    return get


def as_of_getter(rec: Any, as_of: Any, ctx: Any) -> Any:
    """What a rule's trace shows for the name ``as_of``: the evaluation date (here, not in the builder,
    so that a rulebook read from the disk cache needs nothing of the builder)."""
    return as_of


as_of_getter.is_as_of = True  # type: ignore[attr-defined]  # a function's attribute: the compilers read as_of directly


def _as_of_outcome(day: _dt.date, outcome: Outcome) -> bytes:
    return _AS_OF_OUTCOME.remember(
        (day, outcome), (f', "as_of": "{day.isoformat()}", "outcome": "{outcome.value}", "rules": ').encode()
    )


def _record_id(record: Any) -> str | None:
    if isinstance(record, Mapping):
        rid = record.get("id")
        if isinstance(rid, str):
            return rid
        if isinstance(rid, (int, float)) and not isinstance(rid, bool):
            return str(rid)
    return None


def _waiver_for(record: Mapping[str, Any], rule_id: str) -> Mapping[str, Any] | None:
    waivers = record.get("waivers")
    if not isinstance(waivers, list):
        return None
    for w in waivers:
        if isinstance(w, Mapping) and w.get("rule") == rule_id:
            return w
    return None


_PASS, _FAIL, _ERROR, _WAIVED, _NOT_APPLICABLE = (
    Status.PASS,
    Status.FAIL,
    Status.ERROR,
    Status.WAIVED,
    Status.NOT_APPLICABLE,
)
_DATE = _dt.date


class CompiledDecision:
    """A decision ready to evaluate records; immutable and shareable."""

    def __init__(
        self,
        book: Rulebook,
        spec: DecisionSpec,
        record_type: Type,
        as_of: Any,
        rules: tuple[CompiledRule, ...],
        outputs: tuple[CompiledOutput, ...],
        values: dict[str, Any],
        fast: CompiledDecisionFns | Callable[[], CompiledDecisionFns | None] | None = None,
        record_schema: dict[str, Any] | None = None,
    ) -> None:
        self.book = book
        self.spec = spec
        # schema enforcement: the record schema, checked by a function compiled on first use
        self.record_schema = record_schema
        self.schema_enforcement = spec.schema_enforcement or book.schema_enforcement
        self.enforcement_override: str | None = None  # set by ``with_schema_enforcement``
        self._schema_check: Any = None
        self.name = spec.name
        self.record_type = record_type
        self._as_of = as_of
        self.rules = rules
        self.outputs = outputs
        self.values = values
        # what the evaluation loop needs of each rule, unpacked once
        # (a rule of kind ``data`` decides the outcome whatever its severity: its error is the record's)
        self._plan = tuple(
            (r, r.when, r.require, r.spec.severity == Severity.ERROR or r.spec.is_data, r.spec.is_data) for r in rules
        )
        self.rule_ids = tuple(r.spec.id for r in rules)  # the order of ``Decision.status_tuple``
        self._rule_index = {rid: i for i, rid in reversed(list(enumerate(self.rule_ids)))}
        self._decisive = tuple(i for i, r in enumerate(rules) if r.spec.severity == Severity.ERROR or r.spec.is_data)
        # ``Decision.failing`` of each rule, when it failed and when it could not be decided
        self._failing_info = tuple(
            ((r.spec.id, "fail", r.severity_text, r.spec.cite), (r.spec.id, "error", r.severity_text, r.spec.cite))
            for r in rules
        )
        # the whole decision as one function (None: the general loop), and its optimistic twin
        # ``fast`` may be a function compiling them, called when the decision is first evaluated
        self._fns: CompiledDecisionFns | None = None
        self._decide: Any = None
        self._decide_fast: Any = None
        self._value_keys: tuple[Any, ...] = ()
        self._lazy = None
        if isinstance(fast, CompiledDecisionFns):
            self._use(fast)
        elif fast is not None:
            self._lazy = fast
            self._decide, self._decide_fast = self._first_exact, self._first_fast
        # the checked expressions the decision is compiled from and the rulebook's parameters (the
        # columnar backend compiles them again), when it is compiled as a whole
        args = getattr(fast, "args", None)
        self.whole: tuple[Any, dict[str, Any]] | None = (args[0], args[1]) if args and len(args) == 2 else None
        self._traces: dict[Any, Any] = {}  # "dict" or "bytes" -> generated trace (made when first used)
        self._json_prefix_bytes = "".join(
            (
                '{"rulebook": ',
                _dumps(book.id, ensure_ascii=False),
                ', "version": ',
                _dumps(book.version, ensure_ascii=False),
                ', "decision": ',
                _dumps(spec.name, ensure_ascii=False),
                ', "record": ',
            )
        ).encode("utf-8")

    def _use(self, fns: CompiledDecisionFns | None) -> None:
        self._fns = fns
        self._decide = fns.exact if fns is not None else None
        self._decide_fast = fns.fast if fns is not None else None
        self._value_keys = fns.value_keys if fns is not None else ()

    def compile(self) -> None:
        """Compile the decision's functions now (else done when it is first evaluated)."""
        lazy, self._lazy = self._lazy, None
        if lazy is not None:
            self._use(lazy())

    def _first_fast(self, record: Any, as_of: Any) -> Any:
        self.compile()
        if self._decide_fast is None:
            raise LookupError("no optimistic function")  # the exact one decides
        return self._decide_fast(record, as_of)

    def _first_exact(self, record: Any, as_of: Any) -> Any:
        self.compile()
        if self._decide is None:
            raise AssertionError("compiled as a whole but no function")  # not reached: checked first
        return self._decide(record, as_of)

    def compile_ahead(self) -> None:
        """Compile now what the first decision and the first JSON line would compile on first use
        (the decision function and its generated JSON trace): before forking workers, so that each
        inherits them instead of compiling its own."""
        self.compile()
        self._trace_function("bytes")

    def _trace_function(self, mode: Any) -> Any:
        """The generated trace of this decision (see ``compile_trace``; ``mode``: "dict" for dicts,
        "bytes" for JSON text in UTF-8), or None."""
        try:
            return self._traces[mode]
        except KeyError:
            pass
        fn = self._traces[mode] = self._compile_trace(mode)
        return fn

    def _compile_trace(self, mode: Any) -> Any:
        if self._lazy is not None:
            self.compile()
        if self._fns is None:
            return None
        rules: list[tuple[list[tuple[str, Any]], list[tuple[str, Any]]]] = []
        heads: list[tuple[str, dict[str, Any], str]] = []
        paths: dict[str, Any] = {}
        for rule in self.rules:
            parts: list[list[tuple[str, Any]]] = []
            for getters in (rule.seen, rule.extra):
                entries: list[tuple[str, Any]] = []
                for name, getter in getters:
                    key = getattr(getter, "cache_key", None)
                    if key is not None:
                        if key[0] == "path":
                            if getattr(getter, "checked", None) is None:
                                return None
                            paths[key[1]] = getter.checked
                        entries.append((name, ("key", key)))
                    elif hasattr(getter, "constant"):
                        entries.append((name, ("const", getter.constant)))
                    elif getattr(getter, "is_as_of", False):
                        entries.append((name, ("as_of", None)))
                    else:
                        return None  # a getter the generated code does not know
                parts.append(entries)
            rules.append((parts[0], parts[1]))
            prefix = "{" + ", ".join(f"{_dumps(k)}: {_dumps(v, ensure_ascii=False)}" for k, v in rule.json_head.items())
            heads.append((prefix + ', "status": ', rule.json_head, rule.severity_text))
        templates = [
            (_template(rule.spec.message.get("zh")), _template(rule.spec.message.get("en"))) for rule in self.rules
        ]
        helpers = {
            "_fv": format_value,
            "_tjv": to_json_value,
            "_jt": _json_text,
            "_vdict": _values_dict,
            "_vtext": _values_text,
        }
        return compile_trace(self._fns, paths, rules, heads, templates, helpers, mode)

    def resolve_as_of(self, record: Mapping[str, Any], as_of: _dt.date | str | None) -> _dt.date:
        """The evaluation date: given, else the decision's ``as_of`` expression, else today."""
        if as_of is not None:
            return as_of if as_of.__class__ is _DATE else to_date(as_of, "as_of")
        if self._as_of is not None:
            day = self._as_of(record, None, {})
            return day if day.__class__ is _DATE else to_date(day, "as_of")
        return _dt.date.today()

    def with_schema_enforcement(self, level: str | None) -> CompiledDecision:
        """This decision with another schema enforcement level (``none``, ``warn``, ``reject``); the
        compiled functions are shared."""
        if level is None or level == self.schema_enforcement:
            return self
        if level not in ENFORCEMENT_LEVELS:
            raise ValueError(f"schema enforcement is one of {', '.join(ENFORCEMENT_LEVELS)}, not {level!r}")
        if self._lazy is not None:
            self.compile()  # first: a copy of the lazy one would compile the original at every record
        other: CompiledDecision = copy.copy(self)
        other.schema_enforcement = level
        other.enforcement_override = level
        other._schema_check = None
        return other

    def check_schema(self, record: Any) -> tuple[Violation, ...]:
        """How ``record`` breaks the decision's record schema (an empty tuple when it does not, or when
        the enforcement level is ``none``)."""
        check = self._schema_check
        if check is None:
            if self.schema_enforcement == "none" or self.record_schema is None:
                check = self._schema_check = _no_violations
            else:
                check = self._schema_check = compile_schema(self.record_schema)
        return check(record)  # type: ignore[no-any-return]  # a compiled schema check gives violations

    def evaluate(self, record: Any, as_of: _dt.date | str | None = None, input: InputRef | None = None) -> Decision:
        """Evaluate ``record``; never raises for anything the record contains.

        With schema enforcement ``warn`` the decision carries the record's schema violations
        (``Decision.schema``); with ``reject`` a record with a violation of severity ``error`` is
        not decided: its outcome is ``error``, with the violations and no rule results.
        """
        check = self._schema_check
        if check is _no_violations:
            return self._evaluate_record(record, as_of, input)
        violations = self.check_schema(record) if check is None else check(record)
        if not violations:
            return self._evaluate_record(record, as_of, input)
        if self.schema_enforcement == "reject" and any(v.severity == "error" for v in violations):
            d = self._rejected(record, as_of, input)
        else:
            d = self._evaluate_record(record, as_of, input)
        d._schema = violations  # noqa: SLF001 - the decision's violations, set where it is made in this module
        return d

    def _rejected(self, record: Any, as_of: _dt.date | str | None, input: InputRef | None) -> Decision:
        try:
            day: _dt.date | None = self.resolve_as_of(record, as_of) if isinstance(record, Mapping) else None
        except Exception:  # noqa: BLE001 - a record too broken to give its date: none
            day = None
        return Decision(
            self.book.id,
            self.book.version,
            self.name,
            _record_id(record),
            input,
            day,
            Outcome.ERROR,
            [],
            {},
            None,
            None,
        )

    def _evaluate_record(
        self, record: Any, as_of: _dt.date | str | None = None, input: InputRef | None = None
    ) -> Decision:
        fast = self._decide_fast
        if fast is not None and record.__class__ is dict and (as_of is None or as_of.__class__ is _DATE):
            try:
                return _Evaluated(self, record, input, fast(record, as_of))
            except Exception:  # noqa: BLE001, S110 - not the common case: the exact function decides
                pass
        return self._evaluate_exact(record, as_of, input)

    def _evaluate_exact(self, record: Any, as_of: _dt.date | str | None, input: InputRef | None) -> Decision:
        if self._lazy is not None:
            self.compile()
        decide = self._decide
        if decide is None or record.__class__ is not dict:
            return self._evaluate(record, as_of, input)
        if as_of.__class__ is _DATE:
            day = as_of
        else:
            try:
                if as_of is not None:
                    day = to_date(as_of, "as_of")
                elif self._as_of is not None:
                    day = self._as_of(record, None, None)
                    if day.__class__ is not _DATE:
                        day = to_date(day, "as_of")
                else:
                    day = _dt.date.today()
            except Exception:  # noqa: BLE001 - the general loop says why
                return self._evaluate(record, as_of, input)
        res = decide(record, day)
        if "waivers" in record:
            return self._waive(record, day, input, res)
        return _Evaluated(self, record, input, (*res, day, None))

    def _waive(self, record: dict[str, Any], day: _dt.date, input: InputRef | None, res: tuple[Any, ...]) -> Decision:
        """Apply the record's waivers to the statuses the decision function gave."""
        statuses = list(res[0])
        errors = dict(res[1]) if res[1] else {}
        waivers: list[Any] = [None] * len(statuses)
        touched = False
        for i, rule in enumerate(self.rules):
            status = statuses[i]
            if status is _NOT_APPLICABLE:
                continue
            waiver = _waiver_for(record, rule.spec.id)
            if waiver is None:
                continue
            touched = True
            status, error = self._apply_waiver(rule.spec, status, errors.get(i), waiver)
            if status is _ERROR:
                waiver = None
            statuses[i] = status
            if error is None:
                errors.pop(i, None)
            else:
                errors[i] = error
            waivers[i] = waiver
        if not touched:  # no waiver names a rule that applied (an empty list too): as if none were given
            return _Evaluated(self, record, input, (*res, day, None))
        decisive = [statuses[i] for i in self._decisive]
        outcome = Outcome.FAIL if _FAIL in decisive else Outcome.INDETERMINATE if _ERROR in decisive else Outcome.PASS
        return _Evaluated(
            self, record, input, (tuple(statuses), errors or None, res[2], outcome, res[4], res[5], day, tuple(waivers))
        )

    def _evaluate(self, record: Any, as_of: _dt.date | str | None = None, input: InputRef | None = None) -> Decision:
        """The general loop: each rule's compiled expressions in turn, named values cached in ``ctx``."""
        book = self.book
        rid = _record_id(record)
        ctx: dict[Any, Any] = {}
        if not isinstance(record, Mapping):
            err = EvalError("eval.not-an-object", msg("eval.not-an-object"))
            try:
                given = to_date(as_of, "as_of") if as_of is not None else None
            except EvalError:
                given = None
            return self._all_error(record, rid, input, given, err, ctx)
        try:
            day = self.resolve_as_of(record, as_of)
        except Exception as e:  # noqa: BLE001 - any failure of the date is the record's error
            err = wrap_error(e)
            err = EvalError(err.code, msg("eval.as-of", reason=err.text), err.path)
            return self._all_error(record, rid, input, None, err, ctx)
        results: list[RuleResult] = []
        append = results.append
        env = (record, day, ctx)
        failed = errored = False
        has_waivers = "waivers" in record
        for rule, when, require, decisive, data in self._plan:
            try:
                if when is not None and (applies := when(record, day, ctx)) is not True:
                    if applies is False:
                        append(RuleResult(rule, _NOT_APPLICABLE, env))
                        continue
                    raise EvalError("eval.not-bool", msg("eval.not-bool:part", what="when"))
                ok = require(record, day, ctx)
                error = None
                if ok is True:
                    status = _PASS
                elif ok is False:
                    if data:  # the record contradicts itself: the rule's error, never a failure
                        status, error = _ERROR, DATA_ERROR
                    else:
                        status = _FAIL
                else:
                    raise EvalError("eval.not-bool", msg("eval.not-bool:part", what="require"))
            except Exception as e:  # noqa: BLE001 - every failure is the rule's error
                error = wrap_error(e)
                status = _ERROR
            waiver = None
            if has_waivers and (waiver := _waiver_for(record, rule.spec.id)) is not None:
                status, error = self._apply_waiver(rule.spec, status, error, waiver)
                if status is _ERROR:
                    waiver = None
            if decisive:
                if status is _FAIL:
                    failed = True
                elif status is _ERROR:
                    errored = True
            append(RuleResult(rule, status, env, error, waiver))
        outcome = Outcome.FAIL if failed else Outcome.INDETERMINATE if errored else Outcome.PASS
        outputs: dict[str, Any] = {}
        output_errors: dict[str, EvalError] = {}
        for out in self.outputs:
            try:
                if out.when is not None and out.when(record, day, ctx) is not True:
                    continue
                outputs[out.spec.name] = out.value(record, day, ctx)
            except Exception as e:  # noqa: BLE001 - an output that fails is reported as its error
                output_errors[out.spec.name] = wrap_error(e)
        return Decision(book.id, book.version, self.name, rid, input, day, outcome, results, outputs, output_errors)

    @staticmethod
    def _apply_waiver(
        spec: RuleSpec, status: Status, error: EvalError | None, waiver: Mapping[str, Any]
    ) -> tuple[Status, EvalError | None]:
        if not spec.waivable:
            return Status.ERROR, EvalError("eval.not-waivable", msg("eval.not-waivable", rule=spec.id), "waivers")
        missing = [k for k in ("reason", "approved_by", "date") if not waiver.get(k)]
        if missing:
            lacks = Text(" and ".join(f"`{m}`" for m in missing), "、".join(f"`{m}`" for m in missing))
            return Status.ERROR, EvalError(
                "eval.bad-waiver", msg("eval.bad-waiver", rule=spec.id, missing=lacks), "waivers"
            )
        if status == Status.FAIL:
            return Status.WAIVED, None
        return status, error

    def evaluate_error(
        self, record: Any, day: _dt.date | None, err: EvalError, input: InputRef | None = None
    ) -> Decision:
        """A decision whose every rule is the error ``err`` (e.g. no version in force)."""
        return self._all_error(record, _record_id(record), input, day, err, {})

    def _all_error(
        self,
        record: Any,
        rid: str | None,
        input: InputRef | None,
        day: _dt.date | None,
        err: EvalError,
        ctx: dict[Any, Any],
    ) -> Decision:
        env = (record if isinstance(record, Mapping) else {}, day, ctx)
        results = [RuleResult(r, Status.ERROR, env, err) for r in self.rules]
        failed = any(r.severity == Severity.ERROR for r in results)
        return Decision(
            self.book.id,
            self.book.version,
            self.name,
            rid,
            input,
            day,
            Outcome.INDETERMINATE if failed else Outcome.PASS,
            results,
        )


class CompiledRulebook:
    """A rulebook whose decisions are compiled; immutable and shareable across threads."""

    def __init__(
        self, book: Rulebook, source: Source, decisions: dict[str, CompiledDecision], warnings: list[Any] | None = None
    ) -> None:
        self.book = book
        self.source = source
        self.decisions = decisions
        self.warnings = warnings or []
        # what it was built with (set by ``build_rulebook``): its functions, its calendars by name
        self.functions: Any = None
        self.calendars: dict[str, Any] = {}

    @property
    def id(self) -> str:
        return self.book.id

    @property
    def version(self) -> str:
        return self.book.version

    def decision(self, name: str | None = None) -> CompiledDecision:
        """The named decision (or the only one). Raises KeyError naming the known ones."""
        if name is None:
            if len(self.decisions) == 1:
                return next(iter(self.decisions.values()))
            raise KeyError(f"rulebook `{self.id}` has several decisions: {', '.join(self.decisions)}; name one")
        try:
            return self.decisions[name]
        except KeyError:
            raise KeyError(
                f"rulebook `{self.id}` has no decision `{name}`; it has: {', '.join(self.decisions)}"
            ) from None
