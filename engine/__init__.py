"""rulebook-engine: versioned YAML rulebooks, a CEL-based condition language, explained decisions.

The public Python API::

    import engine
    book = engine.load_rulebook("rulebooks/hlj-musicians/membership.yaml")
    decision = book.decision("admission").evaluate(record)
    decision.outcome            # Outcome.PASS / FAIL / INDETERMINATE
    [(r.id, r.status, r.message("en")) for r in decision.rules]

``Registry.default().load("hlj-musicians/membership")`` finds an installed
rulebook by id.  Errors a user can cause derive from ``EngineError``.
"""

from __future__ import annotations

from engine.build import build_rulebook, load_rulebook
from engine.errors import (
    CheckError,
    ConditionSyntaxError,
    Diagnostic,
    EngineError,
    EvalError,
    RecordError,
    RulebookError,
    SchemaError,
    UsageError,
    YamlError,
)
from engine.evaluate import CompiledDecision, CompiledRulebook, Decision, InputRef, RuleResult
from engine.model import Outcome, Severity, Status
from engine.registry import Registry

__all__ = [
    "CheckError",
    "CompiledDecision",
    "CompiledRulebook",
    "ConditionSyntaxError",
    "Decision",
    "Diagnostic",
    "EngineError",
    "EvalError",
    "InputRef",
    "Outcome",
    "RecordError",
    "Registry",
    "RuleResult",
    "RulebookError",
    "SchemaError",
    "Severity",
    "Status",
    "UsageError",
    "YamlError",
    "build_rulebook",
    "load_rulebook",
]

__version__ = "0.1.0"
