"""Metrics, the OpenAPI document and the decision log."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from engine.hookspecs import DecisionContext, hookimpl
from engine.pluginmanager import get_plugin_manager
from tests.serve.conftest import MINI, ClientFactory, record

pytestmark = pytest.mark.anyio


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of Prometheus text (None when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return None


async def test_metrics_count_decisions_rejections_and_latency(client_for: ClientFactory) -> None:
    async with client_for() as c, client_for() as other:
        await c.post(MINI, json=record())
        await c.post(MINI, json=record(birth_date="2010-01-01"))
        await c.post(
            MINI + "/batch",
            content=b'{"id": "b", "birth_date": "2000-01-01", "application_date": "2024-07-01"}\n{broken\n',
        )
        await c.post("/rulebooks/nope/decisions/x", json={})
        await c.post(MINI, content=b"{")
        r = await c.get("/metrics")
        assert r.headers["content-type"].startswith("text/plain")
        text = r.text
        assert (
            sample(text, "rulebook_decisions_total", rulebook="serve-test/mini", decision="admission", outcome="pass")
            == 2
        )
        assert sample(text, "rulebook_decisions_total", outcome="fail") == 1
        assert sample(text, "rulebook_rejected_requests_total", reason="usage.unknown-rulebook") == 1
        assert sample(text, "rulebook_rejected_requests_total", reason="record.json") == 1
        assert sample(text, "rulebook_decision_seconds_count", endpoint="single") == 2
        assert sample(text, "rulebook_decision_seconds_count", endpoint="batch") == 1
        # another application in the same process counts its own
        assert sample((await other.get("/metrics")).text, "rulebook_decisions_total", outcome="pass") is None


async def test_openapi_document_is_valid_and_made_of_the_record_schemas(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    validate(doc)  # raises on an invalid OpenAPI document
    assert doc["openapi"].startswith("3.1")
    post = doc["paths"][MINI]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["required"] == ["id", "birth_date", "application_date"]
    assert {p["name"] for p in post["parameters"]} == {"as_of", "version", "lang", "explain"}
    assert "/rulebooks/hlj-musicians/membership/decisions/admission/batch" in doc["paths"]
    applicant = doc["components"]["schemas"]["hlj-musicians-membership.admission.record"]
    assert "birth_date" in applicant["properties"]
    # what the service answers is what the document says
    answer = post["responses"]["200"]["content"]["application/json"]["schema"]
    decision_schema = {**answer, "components": doc["components"]}
    for query in ("", "?explain=false", "?lang=en"):
        jsonschema.validate((await client.post(MINI + query, json=record())).json(), decision_schema)
    problem_schema = {"$ref": "#/components/schemas/Problem", "components": doc["components"]}
    jsonschema.validate((await client.post(MINI, content=b"{")).json(), problem_schema)
    jsonschema.validate((await client.post(MINI, json={"oops": 1})).json(), decision_schema)  # schema warnings
    with pytest.raises(jsonschema.ValidationError):  # the check itself can fail
        jsonschema.validate({"outcome": "pass"}, decision_schema)


async def test_every_decision_is_logged_with_personal_data_masked(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rulebook.serve.decisions")
    r = await client.post(
        MINI,
        json=record(
            id_number="230102200506010011",
            birth_date="2010-01-01",
            awards=[{"level": "national", "grade": 1, "name": "金钟奖"}],
        ),
    )
    await client.post(MINI + "/batch", content=json.dumps(record(id="B-1")).encode() + b"\n")
    logged = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "rulebook.serve.decisions"]
    assert len(logged) == 2
    line = logged[0]
    assert line["decision_id"] == r.headers["x-decision-id"]
    assert line["rulebook"] == "serve-test/mini" and line["version"] == "2024-01-01" and line["decision"] == "admission"
    assert line["outcome"] == "fail" and line["failed_rules"] == ["adult"] and line["undecided_rules"] == []
    assert line["record_id"] == "R-1" and line["latency_ms"] >= 0 and line["time"].endswith("+00:00")
    rec = line["record"]
    assert rec["name"] == rec["birth_date"] == rec["id_number"] == "***" and rec["awards"][0]["name"] == "***"
    assert rec["application_date"] == "2024-07-01"
    assert "230102200506010011" not in caplog.text and "张三" not in caplog.text
    assert logged[1]["record_id"] == "B-1" and logged[1]["decision_id"].endswith("-1")


async def test_the_decision_log_goes_to_observers(client_for: ClientFactory) -> None:
    seen: list[tuple[Any, DecisionContext]] = []

    class Observer:
        @hookimpl
        def decision_made(self, decision: Any, context: DecisionContext) -> None:
            seen.append((decision, context))

    class Broken:
        @hookimpl
        def decision_made(self, decision: Any, context: DecisionContext) -> None:
            raise RuntimeError("the observer fails")

    pm = get_plugin_manager()
    pm.register(Observer(), "serve-observer")
    pm.register(Broken(), "serve-broken-observer")
    try:
        async with client_for() as c:
            r = await c.post(MINI, json=record())
            assert r.status_code == 200  # a failing observer loses nothing
        async with client_for(decision_log=False) as c:
            await c.post(MINI, json=record())
    finally:
        pm.unregister("serve-observer")
        pm.unregister("serve-broken-observer")
    assert len(seen) == 1
    decision, context = seen[0]
    assert context.command == "serve" and context.rulebook == "serve-test/mini"
    assert context.options["decision_id"] == r.headers["x-decision-id"] == context.run_id
    assert context.options["log"]["record"]["name"] == "***" and decision.to_json()["outcome"] == "pass"
