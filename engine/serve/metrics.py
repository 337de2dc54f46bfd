"""Prometheus metrics of one application, in a registry of its own (never the process-wide default,
so that several applications in one process, as in the tests, each count their own).

* ``rulebook_decisions_total{rulebook, decision, outcome}``: decisions made (batch lines included);
* ``rulebook_decision_seconds{endpoint}``: time to answer a decision request (``single``) or a batch
  (``batch``), body reading included;
* ``rulebook_rejected_requests_total{reason}``: requests answered with a problem, by its code.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The counters and histogram of one application."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.decisions = Counter(
            "rulebook_decisions",
            "Decisions made, by rulebook, decision and outcome",
            ("rulebook", "decision", "outcome"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "rulebook_decision_seconds",
            "Time to answer a decision request or a batch",
            ("endpoint",),
            registry=self.registry,
            buckets=_BUCKETS,
        )
        self.rejected = Counter(
            "rulebook_rejected_requests",
            "Requests answered with a problem, by its code",
            ("reason",),
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, str], Any] = {}
        self._single = self.latency.labels("single")
        self._batch = self.latency.labels("batch")

    def decided(self, rulebook: str, decision: str, outcome: str, count: int = 1) -> None:
        key = (rulebook, decision, outcome)
        child = self._children.get(key)
        if child is None:  # the labels' child looked up once (few rulebooks, decisions and outcomes)
            child = self._children[key] = self.decisions.labels(rulebook, decision, outcome)
        child.inc(count)

    def single(self, seconds: float) -> None:
        self._single.observe(seconds)

    def batch(self, seconds: float) -> None:
        self._batch.observe(seconds)

    def reject(self, reason: str) -> None:
        self.rejected.labels(reason).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)
