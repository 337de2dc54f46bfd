"""The rulebook as frozen data, built from a validated YAML document.

``rulebook_from_data`` turns the plain data that ``yamlload`` produced (and
``schemas`` validated against ``rulebook.schema.json``) into ``Rulebook``,
``DecisionSpec``, ``RuleSpec``, ``OutputSpec``, ``Parameter`` and
``Example`` objects.  Expressions are still text here; ``build`` parses,
checks and compiles them.  Each object keeps its ``path`` (the key path in the
YAML document) so that later errors point back into the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "DecisionSpec",
    "Example",
    "Outcome",
    "OutputSpec",
    "Parameter",
    "RuleKind",
    "RuleSpec",
    "Rulebook",
    "Severity",
    "Status",
    "Text",
]

Path = tuple[str | int, ...]


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"
    WAIVED = "waived"


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    INDETERMINATE = "indeterminate"
    ERROR = "error"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class RuleKind(StrEnum):
    """What a rule's ``require`` checks: the regulation (``rule``: false is ``fail``) or the
    record's own consistency (``data``: false is ``error``, the record contradicts itself)."""

    RULE = "rule"
    DATA = "data"


@dataclass(frozen=True)
class Text:
    """Text in Chinese and English."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @classmethod
    def of(cls, data: Any) -> Text | None:
        if data is None:
            return None
        if isinstance(data, str):
            return cls(data, data)
        return cls(str(data.get("zh", data.get("en", ""))), str(data.get("en", data.get("zh", ""))))


@dataclass(frozen=True)
class Expr:
    """Expression text and where it sits in the YAML document."""

    text: str
    path: Path


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Any
    cite: str | None
    description: Text | None
    path: Path


@dataclass(frozen=True)
class RuleSpec:
    id: str
    article: int
    item: int | None
    cite: str
    title: Text | None
    when: Expr | None
    require: Expr
    severity: Severity
    waivable: bool
    values: tuple[tuple[str, Expr], ...]
    message: Text
    note: Text | None
    path: Path
    kind: RuleKind = RuleKind.RULE

    @property
    def is_data(self) -> bool:
        """A data-consistency check: ``require`` false makes the rule ``error``, never ``fail``."""
        return self.kind is RuleKind.DATA


@dataclass(frozen=True)
class OutputSpec:
    name: str
    value: Expr
    when: Expr | None
    description: Text | None
    path: Path


@dataclass(frozen=True)
class DecisionSpec:
    name: str
    record_kind: str
    title: Text | None
    as_of: Expr | None
    values: tuple[tuple[str, Expr], ...]
    rules: tuple[RuleSpec, ...]
    outputs: tuple[OutputSpec, ...]
    path: Path
    schema_enforcement: str | None = None  # none | warn | reject; None: the rulebook's (default warn)


@dataclass(frozen=True)
class Example:
    name: str
    decision: str
    description: str | None
    as_of: str | None
    record: Any
    expect_outcome: str | None
    expect_rules: dict[str, str]
    expect_outputs: dict[str, Any]
    path: Path


@dataclass(frozen=True)
class Rulebook:
    id: str
    version: str
    status: str
    effective_from: str
    effective_until: str | None
    supersedes: tuple[str, ...]
    title: Text
    description: Text | None
    source: dict[str, Any]
    parameters: tuple[Parameter, ...]
    decisions: tuple[DecisionSpec, ...]
    examples: tuple[Example, ...]
    schema_enforcement: str = "warn"  # the decisions' default: none | warn | reject

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def decision(self, name: str) -> DecisionSpec | None:
        for d in self.decisions:
            if d.name == name:
                return d
        return None


def _expr(data: Any, path: Path) -> Expr | None:
    if data is None:
        return None
    return Expr(str(data), path)


def _named(data: Any, path: Path) -> tuple[tuple[str, Expr], ...]:
    return tuple((str(k), Expr(str(v), (*path, k))) for k, v in (data or {}).items())


def _rule(data: dict[str, Any], path: Path) -> RuleSpec:
    kind = RuleKind(data.get("kind", "rule"))
    return RuleSpec(
        id=data["id"],
        article=int(data["article"]),
        item=data.get("item"),
        cite=str(data["cite"]),
        title=Text.of(data.get("title")),
        when=_expr(data.get("when"), (*path, "when")),
        require=Expr(str(data["require"]), (*path, "require")),
        severity=Severity(data.get("severity", "error")),
        # a record that contradicts itself is corrected, not waived (the schema refuses `waivable: true`)
        waivable=bool(data.get("waivable", False)) and kind is RuleKind.RULE,
        values=_named(data.get("values"), (*path, "values")),
        message=Text.of(data["message"]) or Text("", ""),
        note=Text.of(data.get("note")),
        path=path,
        kind=kind,
    )


def _output(name: str, data: Any, path: Path) -> OutputSpec:
    if isinstance(data, dict):
        return OutputSpec(
            name,
            Expr(str(data["value"]), (*path, "value")),
            _expr(data.get("when"), (*path, "when")),
            Text.of(data.get("description")),
            path,
        )
    return OutputSpec(name, Expr(str(data), path), None, None, path)


def _decision(name: str, data: dict[str, Any], path: Path) -> DecisionSpec:
    return DecisionSpec(
        name=name,
        record_kind=str(data["record"]),
        title=Text.of(data.get("title")),
        as_of=_expr(data.get("as_of"), (*path, "as_of")),
        values=_named(data.get("values"), (*path, "values")),
        rules=tuple(_rule(r, (*path, "rules", i)) for i, r in enumerate(data.get("rules", []))),
        outputs=tuple(_output(k, v, (*path, "outputs", k)) for k, v in (data.get("outputs") or {}).items()),
        path=path,
        schema_enforcement=data.get("schema_enforcement"),
    )


def _example(data: dict[str, Any], path: Path) -> Example:
    expect = data.get("expect") or {}
    return Example(
        name=str(data["name"]),
        decision=str(data["decision"]),
        description=data.get("description"),
        as_of=data.get("as_of"),
        record=data.get("record"),
        expect_outcome=expect.get("outcome"),
        expect_rules=dict(expect.get("rules") or {}),
        expect_outputs=dict(expect.get("outputs") or {}),
        path=path,
    )


def _param_value(data: Any) -> Any:
    return data["value"] if isinstance(data, dict) and "value" in data else data


def rulebook_from_data(data: dict[str, Any]) -> Rulebook:
    """Build the model from data already validated against rulebook.schema.json."""
    params = tuple(
        Parameter(
            str(k),
            _param_value(v),
            v.get("cite") if isinstance(v, dict) else None,
            Text.of(v.get("description")) if isinstance(v, dict) else None,
            ("parameters", k),
        )
        for k, v in (data.get("parameters") or {}).items()
    )
    return Rulebook(
        id=data["id"],
        version=str(data["version"]),
        status=data["status"],
        effective_from=str(data["effective_from"]),
        effective_until=data.get("effective_until"),
        supersedes=tuple(data.get("supersedes") or ()),
        title=Text.of(data["title"]) or Text("", ""),
        description=Text.of(data.get("description")),
        source=dict(data["source"]),
        parameters=params,
        decisions=tuple(_decision(k, v, ("decisions", k)) for k, v in data["decisions"].items()),
        examples=tuple(_example(e, ("examples", i)) for i, e in enumerate(data.get("examples") or [])),
        schema_enforcement=str(data.get("schema_enforcement") or "warn"),
    )
