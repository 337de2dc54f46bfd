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
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from engine.errors import EvalError
from engine.lang.types import Type
from engine.lang.values import to_date, wrap_error
from engine.model import DecisionSpec, Outcome, OutputSpec, Rulebook, RuleSpec, Severity, Status
from engine.source import Source

__all__ = ["CompiledDecision", "CompiledRulebook", "Decision", "InputRef", "RuleResult"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True)
class InputRef:
    """Where a record came from: file name and line (JSON Lines, JSON) or row (CSV,
    XLSX); ``sheet`` names the worksheet of a spreadsheet."""

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


@dataclass(frozen=True)
class CompiledOutput:
    spec: OutputSpec
    value: Any
    when: Any


def format_value(v: Any, lang: str) -> str:
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
    return str(v)


def to_json_value(v: Any) -> Any:
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
    if v is None or isinstance(v, (str, int, float)):
        return v
    return str(v)  # timestamps, durations, type values: their CEL text


class RuleResult:
    """The result of one rule on one record."""

    __slots__ = ("_env", "_values", "compiled", "error", "status", "waiver")

    def __init__(self, compiled: CompiledRule, status: Status, env: tuple[Any, _dt.date | None, dict[Any, Any]],
                 error: EvalError | None = None, waiver: Mapping[str, Any] | None = None) -> None:
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

    def _get(self, getter: Any) -> Any:
        return getter(*self._env)

    @property
    def values(self) -> dict[str, Any]:
        """The values the rule saw (those that could be computed)."""
        if self._values is None:
            out: dict[str, Any] = {}
            if self.as_of is not None and isinstance(self.record, Mapping):
                for name, getter in self.compiled.seen:
                    try:
                        out[name] = self._get(getter)
                    except Exception:  # noqa: BLE001, S112 - a value that cannot be computed is left out
                        continue
            self._values = out
        return self._values

    def message(self, lang: str = "zh") -> str | None:
        """The rule's message with its values filled in (fail and waived), or the error."""
        if self.status == Status.ERROR and self.error is not None:
            return error_message(self.error, lang)
        if self.status not in (Status.FAIL, Status.WAIVED):
            return None
        values = dict(self.values)
        if self.as_of is not None and isinstance(self.record, Mapping):
            for name, getter in self.compiled.extra:
                if name not in values:
                    try:
                        values[name] = self._get(getter)
                    except Exception:  # noqa: BLE001, S112
                        continue
        text = self.spec.message.get(lang)

        def fill(m: re.Match[str]) -> str:
            if m.group(0) == "{{":
                return "{"
            if m.group(0) == "}}":
                return "}"
            name = m.group(1).strip()
            return format_value(values[name], lang) if name in values else "?"

        return _PLACEHOLDER.sub(fill, text)

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        spec = self.spec
        out: dict[str, Any] = {
            "id": spec.id, "article": spec.article, "item": spec.item, "cite": spec.cite,
            "status": str(self.status), "severity": str(spec.severity), "message": self.message(lang),
            "values": to_json_value(self.values),
        }
        if self.error is not None:
            out["error"] = {"code": self.error.code, "message": self.error.message, "path": self.error.path}
        if self.waiver is not None:
            out["waiver"] = {k: to_json_value(self.waiver.get(k)) for k in ("reason", "approved_by", "date")}
            if self.status != Status.WAIVED:
                out["waiver"]["unused"] = True
        return out

    def __repr__(self) -> str:
        return f"RuleResult({self.id!r}, {str(self.status)!r})"


def error_message(err: EvalError, lang: str) -> str:
    if lang == "zh":
        if err.code == "eval.missing-field" and err.path:
            return f"记录缺少字段 `{err.path}`，无法判断"
        if err.code == "eval.wrong-type" and err.path:
            return f"字段 `{err.path}` 的类型不对：{err.message}"
        return f"无法判断：{err.message}"
    return f"cannot decide: {err.message}"


@dataclass
class Decision:
    """What a decision says about one record, with the result of every rule."""

    rulebook: str
    version: str
    decision: str
    record_id: str | None
    input: InputRef | None
    as_of: _dt.date | None
    outcome: Outcome
    rules: list[RuleResult]
    outputs: dict[str, Any] = field(default_factory=dict)
    output_errors: dict[str, EvalError] = field(default_factory=dict)
    message: str | None = None

    def rule(self, rule_id: str) -> RuleResult | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        out: dict[str, Any] = {
            "rulebook": self.rulebook, "version": self.version, "decision": self.decision,
            "record": self.record_id,
            "input": self.input.to_json() if self.input else None,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "outcome": str(self.outcome),
            "rules": [r.to_json(lang) for r in self.rules],
            "outputs": to_json_value(self.outputs),
        }
        if self.message is not None:
            out["message"] = self.message
        return out


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
    Status.PASS, Status.FAIL, Status.ERROR, Status.WAIVED, Status.NOT_APPLICABLE)


class CompiledDecision:
    """A decision ready to evaluate records; immutable and shareable."""

    def __init__(self, book: Rulebook, spec: DecisionSpec, record_type: Type, as_of: Any,
                 rules: tuple[CompiledRule, ...], outputs: tuple[CompiledOutput, ...], values: dict[str, Any]) -> None:
        self.book = book
        self.spec = spec
        self.name = spec.name
        self.record_type = record_type
        self._as_of = as_of
        self.rules = rules
        self.outputs = outputs
        self.values = values
        # what the evaluation loop needs of each rule, unpacked once
        self._plan = tuple((r, r.when, r.require, r.spec.severity == Severity.ERROR) for r in rules)

    def resolve_as_of(self, record: Mapping[str, Any], as_of: _dt.date | str | None) -> _dt.date:
        """The evaluation date: given, else the decision's ``as_of`` expression, else today."""
        if as_of is not None:
            return to_date(as_of, "as_of")
        if self._as_of is not None:
            return to_date(self._as_of(record, None, {}), "as_of")
        return _dt.date.today()

    def evaluate(self, record: Any, as_of: _dt.date | str | None = None, input: InputRef | None = None) -> Decision:
        """Evaluate ``record``; never raises for anything the record contains."""
        book = self.book
        rid = _record_id(record)
        ctx: dict[Any, Any] = {}
        if not isinstance(record, Mapping):
            err = EvalError("eval.not-an-object", "the record is not a JSON object")
            try:
                given = to_date(as_of, "as_of") if as_of is not None else None
            except EvalError:
                given = None
            return self._all_error(record, rid, input, given, err, ctx)
        try:
            day = self.resolve_as_of(record, as_of)
        except Exception as e:  # noqa: BLE001
            err = wrap_error(e)
            err = EvalError(err.code, f"cannot determine the evaluation date: {err.message}", err.path)
            return self._all_error(record, rid, input, None, err, ctx)
        results: list[RuleResult] = []
        append = results.append
        env = (record, day, ctx)
        failed = errored = False
        has_waivers = "waivers" in record
        for rule, when, require, decisive in self._plan:
            try:
                if when is not None and (applies := when(record, day, ctx)) is not True:
                    if applies is False:
                        append(RuleResult(rule, _NOT_APPLICABLE, env))
                        continue
                    raise EvalError("eval.not-bool", "`when` must be true or false")
                ok = require(record, day, ctx)
                if ok is True:
                    status = _PASS
                elif ok is False:
                    status = _FAIL
                else:
                    raise EvalError("eval.not-bool", "`require` must be true or false")
                error = None
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
            except Exception as e:  # noqa: BLE001
                output_errors[out.spec.name] = wrap_error(e)
        return Decision(book.id, book.version, self.name, rid, input, day, outcome, results, outputs, output_errors)

    @staticmethod
    def _apply_waiver(spec: RuleSpec, status: Status, error: EvalError | None, waiver: Mapping[str, Any]
                      ) -> tuple[Status, EvalError | None]:
        if not spec.waivable:
            return Status.ERROR, EvalError("eval.not-waivable",
                                           f"rule `{spec.id}` cannot be waived, but the record carries a waiver for it",
                                           "waivers")
        missing = [k for k in ("reason", "approved_by", "date") if not waiver.get(k)]
        if missing:
            return Status.ERROR, EvalError("eval.bad-waiver", f"the waiver for `{spec.id}` lacks "
                                           + " and ".join(f"`{m}`" for m in missing), "waivers")
        if status == Status.FAIL:
            return Status.WAIVED, None
        return status, error

    def evaluate_error(self, record: Any, day: _dt.date | None, err: EvalError, input: InputRef | None = None
                       ) -> Decision:
        """A decision whose every rule is the error ``err`` (e.g. no version in force)."""
        return self._all_error(record, _record_id(record), input, day, err, {})

    def _all_error(self, record: Any, rid: str | None, input: InputRef | None, day: _dt.date | None,
                   err: EvalError, ctx: dict[Any, Any]) -> Decision:
        env = (record if isinstance(record, Mapping) else {}, day, ctx)
        results = [RuleResult(r, Status.ERROR, env, err) for r in self.rules]
        failed = any(r.severity == Severity.ERROR for r in results)
        return Decision(self.book.id, self.book.version, self.name, rid, input, day,
                        Outcome.INDETERMINATE if failed else Outcome.PASS, results)


class CompiledRulebook:
    """A rulebook whose decisions are compiled; immutable and shareable across threads."""

    def __init__(self, book: Rulebook, source: Source, decisions: dict[str, CompiledDecision],
                 warnings: list[Any] | None = None) -> None:
        self.book = book
        self.source = source
        self.decisions = decisions
        self.warnings = warnings or []

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
            raise KeyError(f"rulebook `{self.id}` has no decision `{name}`; it has: {', '.join(self.decisions)}") from None
