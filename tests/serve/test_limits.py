"""Limits and safety, each configured small and reached: body size, nesting depth, requests in
flight, bearer tokens, CORS."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest

from tests.serve.conftest import MINI, ClientFactory, record

pytestmark = pytest.mark.anyio


async def test_body_size_announced_and_streamed(client_for: ClientFactory) -> None:
    body = json.dumps(record(name="x" * 500)).encode()
    async with client_for(max_body_bytes=len(body) - 1) as c:
        r = await c.post(MINI, content=body)
        assert (
            r.status_code == 413 and r.json()["code"] == "serve.body-too-large" and r.json()["limit"] == len(body) - 1
        )

        async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: the bytes are counted
            for i in range(0, len(body), 100):
                yield body[i : i + 100]

        r = await c.post(MINI, content=streamed())
        assert "content-length" not in r.request.headers
        assert r.status_code == 413 and r.json()["code"] == "serve.body-too-large"
        r = await c.post(MINI, content=body, headers={"Content-Length": "many"})
        assert r.status_code == 400 and r.json()["code"] == "serve.bad-length"
    async with client_for(max_body_bytes=len(body)) as c:
        assert (await c.post(MINI, content=body)).status_code == 200


def nested(depth: int) -> bytes:
    """A record whose ``x`` field nests arrays so that the whole body is ``depth`` deep."""
    inner = "[" * (depth - 1) + "]" * (depth - 1)
    return json.dumps(record()).encode()[:-1] + b', "x": ' + inner.encode() + b"}"


async def test_nesting_depth(client_for: ClientFactory) -> None:
    async with client_for(max_depth=6) as c:
        assert (await c.post(MINI, content=nested(6))).status_code == 200
        r = await c.post(MINI, content=nested(7))
        assert r.status_code == 400 and r.json()["code"] == "record.json-too-deep" and r.json()["limit"] == 6
        r = await c.post(MINI, content=b"[" * 200_000 + b"]" * 200_000)  # beyond what the parser recurses into
        assert r.status_code == 400 and r.json()["code"] == "record.json-too-deep"
        strings = json.dumps(record(name="[[[[[[[[[[[[{{{{{{{{")).encode()  # brackets in text are not nesting
        assert (await c.post(MINI, content=strings)).status_code == 200


async def test_requests_beyond_the_concurrency_limit_are_refused_not_queued(client_for: ClientFactory) -> None:
    release = asyncio.Event()
    body = json.dumps(record()).encode()

    async def held() -> AsyncIterator[bytes]:
        yield body[:10]
        await release.wait()
        yield body[10:]

    async with client_for(max_concurrency=2) as c:
        first = [asyncio.create_task(c.post(MINI, content=held())) for _ in range(2)]
        await asyncio.sleep(0.2)
        r = await c.post(MINI, json=record())
        assert r.status_code == 503 and r.json()["code"] == "serve.overloaded" and r.headers["retry-after"] == "1"
        assert (await c.get("/healthz")).status_code == 200  # probes are never refused
        assert (await c.get("/metrics")).status_code == 200
        release.set()
        assert [t.status_code for t in await asyncio.gather(*first)] == [200, 200]
        assert (await c.post(MINI, json=record())).status_code == 200  # free again
        assert 'rulebook_rejected_requests_total{reason="serve.overloaded"} 1.0' in (await c.get("/metrics")).text


async def test_bearer_tokens(client_for: ClientFactory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with client_for(tokens=frozenset({"s3cret-token", "other-token"})) as c:
        r = await c.post(MINI, json=record())
        assert r.status_code == 401 and r.json()["code"] == "serve.unauthorized"
        assert r.headers["www-authenticate"].startswith("Bearer")
        for header in ("Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer", "s3cret-token", "Bearer s3cret-token2"):
            assert (await c.post(MINI, json=record(), headers={"Authorization": header})).status_code == 401
        for token in ("s3cret-token", "other-token"):
            ok = await c.post(MINI, json=record(), headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200
        assert (await c.get("/rulebooks")).status_code == 401
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "bearer s3cret-token"})).status_code == 200
        assert (await c.get("/healthz")).status_code == 200 and (await c.get("/readyz")).status_code == 200
    async with client_for(tokens=frozenset({"s3cret-token"}), metrics_open=True) as c:
        assert (await c.get("/metrics")).status_code == 200
        assert (await c.get("/openapi.json")).status_code == 401
    assert "s3cret" not in caplog.text and "other-token" not in caplog.text


async def test_cors_is_off_unless_configured(client_for: ClientFactory) -> None:
    origin = {"Origin": "https://platform.example"}
    async with client_for() as c:
        r = await c.post(MINI, json=record(), headers=origin)
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
        pre = await c.options(MINI, headers={**origin, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in pre.headers
    async with client_for(cors_origins=("https://platform.example",), tokens=frozenset({"t"})) as c:
        pre = await c.options(
            MINI,
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://platform.example"
        r = await c.post(MINI, json=record(), headers={**origin, "Authorization": "Bearer t"})
        assert r.headers["access-control-allow-origin"] == "https://platform.example"
        assert "X-Decision-Id" in r.headers["access-control-expose-headers"]
        other = await c.post(
            MINI, json=record(), headers={"Origin": "https://elsewhere.example", "Authorization": "Bearer t"}
        )
        assert "access-control-allow-origin" not in other.headers
