"""Reading a decision's body straight from the ASGI messages, and its answer: a body already there
is read without a timer, one that has to be waited for is read under the request's deadline, and
limits, disconnects, cancellation and the answer's headers are what they always were."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.responses import Response

from engine.serve.app import DecisionAnswer, _new_id, create_app
from engine.serve.config import ServeConfig
from tests.serve.conftest import MINI, record

pytestmark = pytest.mark.anyio

Receive = Callable[[], Awaitable[dict[str, Any]]]


def messages(*chunks: bytes) -> Receive:
    """A receive channel with these body chunks already there (the last one ends the body), then
    the client's going away."""
    queue = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


async def call(app: Any, receive: Receive, *, length: int | None = None) -> list[dict[str, Any]]:
    headers = [(b"host", b"serve.test"), (b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": MINI,
        "raw_path": MINI.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("serve.test", 80),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def answer(sent: list[dict[str, Any]]) -> tuple[int, dict[str, str], Any]:
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, json.loads(sent[1]["body"])


@pytest.fixture
def make_app(books: Any) -> Callable[..., Any]:
    def make(**settings: Any) -> Any:
        return create_app(ServeConfig(rulebook_paths=(books,), **settings))

    return make


async def test_a_body_in_several_messages_already_there(make_app: Callable[..., Any]) -> None:
    app = make_app()
    body = json.dumps(record()).encode()
    for pieces in ([body], [body[:5], body[5:20], b"", body[20:]], [b"", body]):
        status, headers, out = answer(await call(app, messages(*pieces)))
        assert status == 200 and out["record"] == "R-1" and out["decision_id"] == headers["x-decision-id"]
    status, _, out = answer(await call(app, messages(b"")))  # no body at all
    assert status == 400 and out["code"] == "record.json"


async def test_a_body_that_has_to_be_waited_for(make_app: Callable[..., Any]) -> None:
    """Messages that come later (the receive channel waits, or gives way to the loop first)."""
    app = make_app()
    body = json.dumps(record(id="W-1")).encode()
    later = asyncio.Queue[dict[str, Any]]()

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(0)  # a bare yield to the loop before each message
        return await later.get()

    task = asyncio.create_task(call(app, receive))
    for i in range(0, len(body), 7):
        await asyncio.sleep(0.01)
        later.put_nowait({"type": "http.request", "body": body[i : i + 7], "more_body": i + 7 < len(body)})
    status, _, out = answer(await task)
    assert status == 200 and out["record"] == "W-1"


async def test_the_size_limit_counts_messages_already_there(make_app: Callable[..., Any]) -> None:
    body = json.dumps(record()).encode()
    app = make_app(max_body_bytes=len(body) - 1)
    status, _, out = answer(await call(app, messages(body[:10], body[10:])))  # no Content-Length
    assert status == 413 and out["code"] == "serve.body-too-large" and out["limit"] == len(body) - 1
    status, _, out = answer(await call(app, messages(body), length=len(body)))  # announced
    assert status == 413 and out["code"] == "serve.body-too-large"


async def test_a_body_whose_first_message_is_late_times_out(make_app: Callable[..., Any]) -> None:
    app = make_app(request_timeout_s=0.2)

    async def late() -> dict[str, Any]:
        await asyncio.sleep(5)
        raise AssertionError("not reached")  # pragma: no cover

    sent = await asyncio.wait_for(call(app, late), 3)
    status, headers, out = answer(sent)
    assert status == 503 and out["code"] == "serve.timeout" and headers["retry-after"] == "1"


async def test_a_client_gone_before_its_body_gets_no_answer(make_app: Callable[..., Any]) -> None:
    app = make_app()
    body = json.dumps(record()).encode()

    async def gone() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    assert await call(app, gone) == []
    first = messages(body[:10], body[10:])
    sent_first = False

    async def gone_midway() -> dict[str, Any]:
        nonlocal sent_first
        if not sent_first:
            sent_first = True
            return await first()
        await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    assert await call(app, gone_midway) == []


async def test_cancelling_a_request_waiting_for_its_body_cancels_it(make_app: Callable[..., Any]) -> None:
    app = make_app()
    entered = asyncio.Event()
    cleaned = asyncio.Event()

    async def waiting() -> dict[str, Any]:
        entered.set()
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.set()
        raise AssertionError("not reached")  # pragma: no cover

    task = asyncio.create_task(call(app, waiting))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned.is_set()  # the cancellation reached the receive channel itself


async def test_the_answer_has_the_headers_a_response_would() -> None:
    body = json.dumps({"outcome": "pass", "名": "值"}, ensure_ascii=False).encode()
    decision_id = _new_id()
    assert (
        DecisionAnswer(body, decision_id).headers
        == Response(body, headers={"X-Decision-Id": decision_id}, media_type="application/json").raw_headers
    )


def test_new_ids_are_uuid4_hex() -> None:
    ids = [_new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for i in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", i)
        u = uuid.UUID(hex=i)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and u.hex == i
