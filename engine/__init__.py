"""rulebook-engine: versioned YAML rulebooks, a CEL-based condition language, explained decisions.

The public Python API::

    import engine
    book = engine.load_rulebook("rulebooks/hlj-musicians/membership.yaml")
    decision = book.decision("admission").evaluate(record)
    decision.outcome            # Outcome.PASS / FAIL / INDETERMINATE
    [(r.id, r.status, r.message("en")) for r in decision.rules]

``Registry.default().load("hlj-musicians/membership")`` finds an installed
rulebook by id.  Errors a user can cause derive from ``EngineError``.

Plugins mark their hook implementations with ``hookimpl`` (the hooks are
specified in ``engine.hookspecs``; see ``docs/plugins.md``)::

    from engine import hookimpl

    @hookimpl
    def register_rulebooks(register):
        register(Path(__file__).parent / "rulebooks")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import (
    CheckError,
    ConditionSyntaxError,
    Diagnostic,
    DuplicateNameError,
    EngineError,
    EvalError,
    PluginError,
    RecordError,
    RulebookError,
    SchemaError,
    UsageError,
    YamlError,
)
from engine.evaluate import CompiledDecision, CompiledRulebook, Decision, InputRef, RuleResult
from engine.hookspecs import hookimpl
from engine.model import Outcome, Severity, Status
from engine.registry import Registry
from engine.version import __version__

if TYPE_CHECKING:
    from engine.build import build_rulebook, load_rulebook

__all__ = [
    "CheckError",
    "CompiledDecision",
    "CompiledRulebook",
    "ConditionSyntaxError",
    "Decision",
    "Diagnostic",
    "DuplicateNameError",
    "EngineError",
    "EvalError",
    "InputRef",
    "Outcome",
    "PluginError",
    "RecordError",
    "Registry",
    "RuleResult",
    "RulebookError",
    "SchemaError",
    "Severity",
    "Status",
    "UsageError",
    "YamlError",
    "__version__",
    "build_rulebook",
    "hookimpl",
    "load_rulebook",
]


def __getattr__(name: str) -> Any:
    """``build_rulebook`` and ``load_rulebook`` import the builder (YAML, schemas, the parser) on
    first use: a run that finds its rulebooks in the disk cache never needs it."""
    if name in ("build_rulebook", "load_rulebook"):
        from engine import build

        return getattr(build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
