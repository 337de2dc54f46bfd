"""The batch endpoint: JSON Lines in and out, in order, a broken line answered by its own error object
as ``rulebook check --format json`` answers it, and every limit ending the answer with a final line."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.cli import main
from engine.registry import Registry
from engine.serve.problems import PROBLEM_BASE
from tests.serve.conftest import MINI, ClientFactory, record

pytestmark = pytest.mark.anyio

BATCH = MINI + "/batch"


def lines(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson", r.text
    return [json.loads(x) for x in r.content.split(b"\n")[:-1]]


def jsonl(*records: Any) -> bytes:
    return b"".join(
        (r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode()) + b"\n" for r in records
    )


async def chunks(data: bytes, size: int, pause: float = 0.0) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        if pause:
            await asyncio.sleep(pause)
        yield data[i : i + size]


async def test_answers_in_input_order_across_any_chunking(client: httpx.AsyncClient) -> None:
    records = [record(id=f"R-{i:03d}", birth_date="2010-01-01" if i % 3 == 0 else "2000-01-01") for i in range(300)]
    body = jsonl(*records)
    for size in (len(body), 4096, 7):
        out = lines(await client.post(BATCH, content=chunks(body, size)))
        assert [o["record"] for o in out] == [r["id"] for r in records]
        assert [o["input"]["line"] for o in out] == list(range(1, 301))
        assert [o["outcome"] for o in out] == ["fail" if i % 3 == 0 else "pass" for i in range(300)]
        assert len({o["decision_id"] for o in out}) == 300


async def test_broken_and_blank_lines(client: httpx.AsyncClient) -> None:
    body = (
        jsonl(
            record(id="A"),
            b"{not json",
            b"",
            b"[1]",
            b"\xff\xfe",
            b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}",
            record(id="B"),
        )
        + b'{"id": "C", "birth_date": "2000-01-01", "application_date": "2024-07-01"}'
    )
    out = lines(await client.post(BATCH, content=body, params={"lang": "en"}))
    assert [o["input"]["line"] for o in out] == [1, 2, 4, 5, 6, 7, 8]  # the blank line 3 is skipped
    assert [o["record"] for o in out] == ["A", None, None, None, None, "B", "C"]
    errors = out[1:5]
    assert all(o["outcome"] == "error" and o["rules"] == [] and o["as_of"] is None for o in errors)
    assert "not valid JSON" in errors[0]["message"] and "JSON object" in errors[1]["message"]
    assert "UTF-8" in errors[2]["message"] and "nested too deeply" in errors[3]["message"]


async def test_explain_false_in_a_batch(client: httpx.AsyncClient) -> None:
    out = lines(await client.post(BATCH, params={"explain": "false"}, content=jsonl(record(), record(id="X"))))
    assert [o["statuses"] for o in out] == [{"adult": "pass", "award": "fail"}] * 2


async def test_too_many_lines_end_with_a_final_error_line(client_for: ClientFactory) -> None:
    async with client_for(max_batch_lines=3) as c:
        out = lines(await c.post(BATCH, content=jsonl(*[record(id=str(i)) for i in range(5)])))
        assert [o.get("record") for o in out[:3]] == ["0", "1", "2"]
        final = out[3]
        assert final["type"] == PROBLEM_BASE + "serve.batch-too-long" and final["line"] == 4
        assert final["status"] == 413 and final["limit"] == 3 and len(out) == 4
        assert len(lines(await c.post(BATCH, content=jsonl(*[record()] * 3)))) == 3


async def test_batch_bytes(client_for: ClientFactory) -> None:
    body = jsonl(*[record(id=str(i)) for i in range(20)])
    async with client_for(max_batch_bytes=len(body) - 1) as c:
        r = await c.post(BATCH, content=body)  # the length is announced: refused before anything
        assert r.status_code == 413 and r.json()["code"] == "serve.body-too-large"
        out = lines(await c.post(BATCH, content=chunks(body, 200)))  # streamed: cut where it grows too long
        assert out[-1]["code"] == "serve.body-too-large" and 1 <= len(out) - 1 < 20
        assert [o["record"] for o in out[:-1]] == [str(i) for i in range(len(out) - 1)]
        assert out[-1]["line"] == len(out)


async def test_a_line_longer_than_the_body_limit_is_its_own_error(client_for: ClientFactory) -> None:
    long = json.dumps(record(id="L", name="长" * 5000)).encode()
    body = jsonl(record(id="A"), long, record(id="B"))
    async with client_for(max_body_bytes=2000) as c:
        for size in (len(body), 512, 3):
            out = lines(await c.post(BATCH, params={"lang": "en"}, content=chunks(body, size)))
            assert [o["record"] for o in out] == ["A", None, "B"]
            assert out[1]["input"]["line"] == 2 and "longer than 2000 bytes" in out[1]["message"]


async def test_draining_cuts_a_batch_at_a_line_boundary(client: httpx.AsyncClient) -> None:
    draining = client.app.state.draining  # type: ignore[attr-defined]

    async def body() -> AsyncIterator[bytes]:
        yield jsonl(record(id="1"), record(id="2"))
        await asyncio.sleep(0.05)
        draining.set()
        yield jsonl(record(id="3"), record(id="4"))

    out = lines(await client.post(BATCH, content=body()))
    assert [o.get("record") for o in out[:2]] == ["1", "2"]
    assert out[2]["code"] == "serve.shutting-down" and out[2]["line"] == 3 and len(out) == 3


async def test_the_request_time_limit(client_for: ClientFactory) -> None:
    async with client_for(request_timeout_s=0.3) as c:

        async def slow() -> AsyncIterator[bytes]:
            yield jsonl(record(id="1"))
            await asyncio.sleep(1.0)
            yield jsonl(record(id="2"))

        out = lines(await c.post(BATCH, content=slow()))
        assert out[0]["record"] == "1" and out[1]["code"] == "serve.timeout" and out[1]["line"] == 2
        r = await c.post(MINI, content=chunks(json.dumps(record()).encode(), 10, pause=0.2))
        assert r.status_code == 503 and r.json()["code"] == "serve.timeout" and r.headers["retry-after"]


# -- the same answers as `rulebook check --format json` ------------------------------------------------


def _bundled_cases() -> list[tuple[str, str]]:
    reg = Registry.default()
    out: list[tuple[str, str]] = []
    for rid in ("hlj-musicians/membership", "hcm-student-union/reform-checklist"):
        book = reg.load(rid)
        out.extend((rid, name) for name in book.decisions)
    return out


@pytest.mark.parametrize(("rid", "name"), _bundled_cases(), ids=str)
async def test_the_same_decisions_as_check(client: httpx.AsyncClient, tmp_path: Path, rid: str, name: str) -> None:
    # GIVEN the examples of the decision (and a broken line and a blank one) as JSON Lines
    book = Registry.default().load(rid)
    records = [e.record for e in book.book.examples if e.decision == name]
    assert records
    body = jsonl(*records[:2], b'{"id": broken', b"", *records[2:])
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(body)
    for lang in ("zh", "en"):
        # WHEN `rulebook check --format json` and the service decide them
        out = io.StringIO()
        code = main(
            ["check", rid, str(feed), "--decision", name, "--format", "json", "--jobs", "1", "--lang", lang],
            stdout=out,
            stderr=io.StringIO(),
        )
        assert code in (0, 1)
        expected = [json.loads(x) for x in out.getvalue().splitlines()]
        served = lines(
            await client.post(f"/rulebooks/{rid}/decisions/{name}/batch", params={"lang": lang}, content=body)
        )
        # THEN the objects are the same but for the input's file name and the decision id
        assert len(served) == len(expected) == len(records) + 1
        for got, want in zip(served, expected, strict=True):
            assert got.pop("decision_id", "x")
            assert got["input"] == {"file": None, "line": want["input"]["line"]}
            got.pop("input"), want.pop("input")
            assert got == want
        # and one record at a time, the same again
        singles = [x for x in expected if x["record"] is not None]
        for rec, want in zip(records, singles, strict=True):
            r = await client.post(f"/rulebooks/{rid}/decisions/{name}", params={"lang": lang}, json=rec)
            if r.status_code == 422:  # refused by its schema: the check's object says so too
                assert want["outcome"] == "error" and r.json()["schema"] == want["schema"]
                continue
            got = r.json()
            assert got.pop("decision_id") == r.headers["x-decision-id"] and got.pop("input") is None
            assert got == want
