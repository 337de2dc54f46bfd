"""Every endpoint of the application, in process: what it answers, and every error as a problem."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from engine.serve.problems import PROBLEM_BASE, PROBLEM_TYPE
from tests.serve.conftest import MINI, ClientFactory, record

pytestmark = pytest.mark.anyio


def problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem details of an answer, checked to be one of ``status`` and ``code``."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_TYPE
    body = r.json()
    assert body["type"] == PROBLEM_BASE + code and body["code"] == code and body["status"] == status
    assert body["title"] and body["detail"] and body["instance"] == r.request.url.path
    return body  # type: ignore[no-any-return]


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    ready = r.json()
    assert ready["ready"] is True
    ids = {b.get("id") for b in ready["rulebooks"]}
    assert {"serve-test/mini", "serve-test/strict", "hlj-musicians/membership"} <= ids
    assert all(b["status"] == "loaded" for b in ready["rulebooks"])


async def test_readyz_is_503_while_draining(client: httpx.AsyncClient) -> None:
    client.app.state.draining.set()  # type: ignore[attr-defined]
    r = await client.get("/readyz")
    assert r.status_code == 503 and r.json()["ready"] is False and r.json()["draining"] is True
    problem(await client.post(MINI, json=record()), 503, "serve.shutting-down")
    assert (await client.get("/healthz")).status_code == 200


async def test_readyz_is_503_when_a_rulebook_never_loaded(client_for: ClientFactory, books: Any) -> None:
    (books / "broken.yaml").write_text("rulebook: 1\nid: [\n", encoding="utf-8")
    async with client_for() as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    failed = [b for b in r.json()["rulebooks"] if b["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["path"].endswith("broken.yaml")
    assert failed[0]["diagnostic"]["en"] and failed[0]["diagnostic"]["zh"] != failed[0]["diagnostic"]["en"]


async def test_list_rulebooks(client: httpx.AsyncClient) -> None:
    listed = {b["id"]: b for b in (await client.get("/rulebooks")).json()["rulebooks"]}
    mini = listed["serve-test/mini"]
    assert [v["version"] for v in mini["versions"]] == ["2024-01-01", "2025-01-01"]
    assert mini["in_force"] == "2025-01-01"
    v = mini["versions"][0]
    assert v["status"] == "in_force" and v["effective_from"] == "2024-01-01" and v["effective_until"] is None
    assert v["supplied_by"].startswith("--rulebooks") and v["decisions"] == ["admission"]
    assert listed["hlj-musicians/membership"]["versions"][0]["plugin"] == "builtin"
    assert listed["hcm-student-union/charter"]["in_force"] is None  # a draft


async def test_describe_a_rulebook(client: httpx.AsyncClient) -> None:
    body = (await client.get("/rulebooks/serve-test/mini?lang=en")).json()
    assert body["id"] == "serve-test/mini" and len(body["versions"]) == 2
    admission = body["versions"][0]["decisions"]["admission"]
    assert admission["record_schema"]["required"] == ["id", "birth_date", "application_date"]
    assert admission["rules"][0] == {
        "id": "adult",
        "article": 12,
        "item": None,
        "cite": "第十二条",
        "title": None,
        "severity": "error",
        "kind": "rule",
        "waivable": False,
    }
    assert body["versions"][0]["title"] == "service test rulebook"
    one = (await client.get("/rulebooks/serve-test/mini", params={"version": "2025-01-01"})).json()
    assert [v["version"] for v in one["versions"]] == ["2025-01-01"]
    bad = problem(
        await client.get("/rulebooks/serve-test/mini", params={"version": "1999"}), 404, "usage.unknown-version"
    )
    assert bad["candidates"] == ["2024-01-01", "2025-01-01"]


async def test_a_decision(client: httpx.AsyncClient) -> None:
    r = await client.post(MINI, json=record())
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["decision_id"] == r.headers["x-decision-id"] and len(body["decision_id"]) == 32
    assert body["version"] == "2024-01-01" and body["as_of"] == "2024-07-01"  # in force on the record's date
    assert body["outcome"] == "pass" and body["record"] == "R-1" and body["input"] is None
    rules = {x["id"]: x for x in body["rules"]}
    assert rules["adult"]["status"] == "pass" and rules["award"]["status"] == "fail"
    assert rules["award"]["message"] == "没有国家级一等奖"  # zh: the server's default
    second = await client.post(MINI, json=record())
    assert second.headers["x-decision-id"] != r.headers["x-decision-id"]


async def test_the_version_follows_the_date_and_can_be_named(client: httpx.AsyncClient) -> None:
    later = (await client.post(MINI, json=record(application_date="2025-03-01"))).json()
    assert later["version"] == "2025-01-01" and later["outcome"] == "fail"  # 19 < 20
    as_of = (await client.post(MINI, params={"as_of": "2024-12-31"}, json=record(application_date="2025-03-01"))).json()
    assert as_of["version"] == "2024-01-01" and as_of["as_of"] == "2024-12-31"
    named = (await client.post(MINI, params={"version": "2025-01-01"}, json=record())).json()
    assert named["version"] == "2025-01-01" and named["outcome"] == "fail"
    early = problem(
        await client.post(MINI, params={"as_of": "2020-01-01"}, json=record()), 404, "usage.no-version-in-force"
    )
    assert early["candidates"] == ["2024-01-01", "2025-01-01"]


async def test_language_from_query_then_accept_language(client: httpx.AsyncClient) -> None:
    def award(r: httpx.Response) -> str:
        return next(x["message"] for x in r.json()["rules"] if x["id"] == "award")  # type: ignore[no-any-return]

    assert award(await client.post(MINI, params={"lang": "en"}, json=record())) == "no national first prize"
    assert (
        award(await client.post(MINI, headers={"Accept-Language": "en-GB,en;q=0.9"}, json=record()))
        == "no national first prize"
    )
    assert (
        award(await client.post(MINI, headers={"Accept-Language": "fr, zh-CN;q=0.8, en;q=0.5"}, json=record()))
        == "没有国家级一等奖"
    )
    assert (
        award(await client.post(MINI, params={"lang": "zh"}, headers={"Accept-Language": "en"}, json=record()))
        == "没有国家级一等奖"
    )
    en = problem(
        await client.post("/rulebooks/nope/decisions/x", params={"lang": "en"}, json={}), 404, "usage.unknown-rulebook"
    )
    assert en["detail"] == "no rulebook `nope` is installed" and en["title"] == "not found"
    zh = problem(await client.post("/rulebooks/nope/decisions/x", json={}), 404, "usage.unknown-rulebook")
    assert zh["detail"] == "没有安装规则集 `nope`" and zh["title"] == "找不到"


async def test_explain_false_gives_outcome_and_statuses(client: httpx.AsyncClient) -> None:
    r = await client.post(MINI, params={"explain": "false"}, json=record())
    body = r.json()
    assert body["statuses"] == {"adult": "pass", "award": "fail"} and body["outcome"] == "pass"
    assert "rules" not in body and body["decision_id"] == r.headers["x-decision-id"]
    assert (await client.post(MINI, params={"explain": "true"}, json=record())).json()["rules"]


@pytest.mark.parametrize(
    ("path", "code", "candidates"),
    [
        ("/rulebooks/nope/decisions/admission", "usage.unknown-rulebook", "ids"),
        ("/rulebooks/serve-test/mini/decisions/nope", "usage.unknown-decision", ["admission"]),
        (
            "/rulebooks/serve-test/mini/decisions/admission?version=3",
            "usage.unknown-version",
            ["2024-01-01", "2025-01-01"],
        ),
        ("/rulebooks/hcm-student-union/charter/decisions/cadre", "usage.draft-only", ["2021-11"]),
    ],
    ids=["rulebook", "decision", "version", "draft"],
)
async def test_unknown_names_are_404_with_candidates(
    client: httpx.AsyncClient, path: str, code: str, candidates: Any
) -> None:
    for suffix in ("", "/batch"):
        where, _, query = path.partition("?")
        body = problem(await client.post(where + suffix + ("?" + query if query else ""), json={}), 404, code)
        if candidates == "ids":
            assert "serve-test/mini" in body["candidates"] and "hlj-musicians/membership" in body["candidates"]
        else:
            assert body["candidates"] == candidates
        assert "--" not in body.get("help", ""), "a command-line option named in an HTTP answer"


async def test_the_did_you_mean_of_an_unknown_rulebook(client: httpx.AsyncClient) -> None:
    body = problem(
        await client.post("/rulebooks/serve-test/mimi/decisions/admission", params={"lang": "en"}, json={}),
        404,
        "usage.unknown-rulebook",
    )
    assert "serve-test/mini" in body["help"]


@pytest.mark.parametrize(
    ("query", "code", "parameter"),
    [
        ("colour=red", "serve.unknown-parameter", "colour"),
        ("as_of=2024-02-30", "usage.bad-date", "as_of"),
        ("as_of=yesterday", "usage.bad-date", "as_of"),
        ("as_of=20240101", "usage.bad-date", "as_of"),
        ("lang=fr", "serve.bad-parameter", "lang"),
        ("explain=maybe", "serve.bad-parameter", "explain"),
        ("lang=en&lang=zh", "serve.bad-parameter", "lang"),
    ],
    ids=["unknown", "no-such-day", "word", "no-dashes", "lang", "explain", "twice"],
)
async def test_query_parameters_are_never_ignored(
    client: httpx.AsyncClient, query: str, code: str, parameter: str
) -> None:
    for path in (MINI, MINI + "/batch"):
        body = problem(await client.post(f"{path}?{query}", json=record()), 400, code)
        assert body["parameter"] == parameter
    assert (await client.get(f"/rulebooks?{query}")).status_code == 400


@pytest.mark.parametrize(
    ("body", "code", "extra"),
    [
        (b'{"id": "R-1",\n  "birth_date": }', "record.json", {"line": 2, "column": 17}),
        (b'{"id": "R-1"', "record.json", {"line": 1, "column": 13}),
        (b"", "record.json", {"line": 1, "column": 1}),
        (b'{"id": "x"} {}', "record.json", {"line": 1, "column": 13}),
        (b"[1, 2]", "record.not-an-object", {}),
        (b'"text"', "record.not-an-object", {}),
        (b'{"name": "\xff"}', "record.not-utf8", {"byte": 11}),
        (b'{"n": ' + b"9" * 5000 + b"}", "record.json", {}),
    ],
    ids=["line-and-column", "unclosed", "empty", "extra", "array", "string", "not-utf8", "huge-integer"],
)
async def test_a_body_that_is_not_a_record_is_400(
    client: httpx.AsyncClient, body: bytes, code: str, extra: dict[str, Any]
) -> None:
    p = problem(await client.post(MINI, content=body), 400, code)
    for key, value in extra.items():
        assert p[key] == value
    if extra.get("line"):
        en = problem(await client.post(MINI, params={"lang": "en"}, content=body), 400, code)
        assert f"line {extra['line']}, column {extra['column']}" in en["detail"]
        assert f"第 {extra['line']} 行第 {extra['column']} 列" in p["detail"]


async def test_a_byte_order_mark_is_skipped(client: httpx.AsyncClient) -> None:
    r = await client.post(MINI, content=b"\xef\xbb\xbf" + json.dumps(record()).encode())
    assert r.status_code == 200 and r.json()["outcome"] == "pass"


async def test_schema_enforcement_warn_and_reject(client: httpx.AsyncClient) -> None:
    warned = (await client.post(MINI, json=record(awards="none"))).json()
    assert warned["schema"][0]["path"] == "awards" and warned["outcome"] in ("pass", "indeterminate")
    strict = "/rulebooks/serve-test/strict/decisions/admission"
    refused = problem(await client.post(strict, json=record(awards="none")), 422, "record.schema")
    assert refused["schema"][0]["path"] == "awards" and refused["decision_id"]
    assert (await client.post(strict, json=record())).json()["outcome"] == "pass"


async def test_unknown_paths_and_methods(client: httpx.AsyncClient) -> None:
    problem(await client.get("/nowhere"), 404, "serve.not-found")
    r = await client.get(MINI)
    problem(r, 405, "serve.method-not-allowed")
    assert r.headers["allow"] == "POST"
    problem(await client.delete("/rulebooks"), 405, "serve.method-not-allowed")
