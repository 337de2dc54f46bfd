"""The decision log: every decision the service makes, as one JSON object, with personal data masked.

Each decision becomes a line (decision id, time, rulebook id and version, decision, record id,
outcome, failed and undecided rule ids, latency in milliseconds, and the record with the
configured fields replaced by ``***`` wherever they occur in it).  The line goes to the Python
logger ``rulebook.serve.decisions`` at level INFO (so a deployment gets it without a plugin) and,
with the decision itself, to every plugin's ``decision_made`` observer: the context's
``command`` is ``serve``, its ``run_id`` the request's id and its ``options`` hold
``decision_id`` and ``log`` (the line as a dict).  An observer that fails is logged (logger
``rulebook.serve``) and never loses the decision or the answer.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["LOGGER", "DecisionLog", "mask"]

LOGGER = logging.getLogger("rulebook.serve.decisions")
_SERVE_LOGGER = logging.getLogger("rulebook.serve")
MASK = "***"


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


class DecisionLog:
    """Writes decision lines to the logger and tells the observers (when either wants them)."""

    def __init__(self, masked_fields: Iterable[str], enabled: bool = True) -> None:
        self.fields = frozenset(masked_fields)
        self.enabled = enabled
        from engine.pluginmanager import get_plugin_manager

        self.pm = get_plugin_manager()
        self._reported: set[str] = set()

    def wanted(self) -> bool:
        """Whether anyone reads the lines (checked before any work is done for them)."""
        return self.enabled and (LOGGER.isEnabledFor(logging.INFO) or self.pm.has_observers())

    def line(self, decision: Any, record: Any, decision_id: str, latency_ms: float) -> dict[str, Any]:
        failing = getattr(decision, "failing", ())
        return {
            "decision_id": decision_id,
            "time": _dt.datetime.now(_dt.UTC).isoformat(),
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

    def write(self, decision: Any, record: Any, decision_id: str, latency_ms: float, context: dict[str, Any]) -> None:
        """Log one decision and tell the observers; ``context`` holds the request's options."""
        line = self.line(decision, record, decision_id, latency_ms)
        if LOGGER.isEnabledFor(logging.INFO):
            LOGGER.info(json.dumps(line, ensure_ascii=False, default=str))
        if self.pm.has_observers():
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
