"""Generated and malformed bodies (wrong types, deep nesting, huge strings, invalid UTF-8, random
bytes, odd query parameters): the service answers each with a decision or a problem, never a
500, and keeps answering afterwards."""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from engine.registry import Registry
from engine.serve.app import create_app
from engine.serve.config import ServeConfig
from engine.serve.problems import PROBLEM_TYPE

ADMISSION = "/rulebooks/hlj-musicians/membership/decisions/admission"
SCHOOL = "/rulebooks/hcm-student-union/reform-checklist/decisions/school-union"


@lru_cache(maxsize=1)
def app() -> Starlette:
    return create_app(ServeConfig(max_body_bytes=64 * 1024, max_batch_bytes=256 * 1024, max_depth=32))


@lru_cache(maxsize=1)
def example_records() -> list[dict[str, Any]]:
    reg = Registry.default()
    return [
        e.record
        for rid in ("hlj-musicians/membership", "hcm-student-union/reform-checklist")
        for e in reg.load(rid).book.examples
        if isinstance(e.record, dict)
    ]


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["2024-02-30", "2024-01-01", "", "CN", "黑龙江", "\ud800", "0" * 40]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated_records(draw: st.DrawFn) -> Any:
    """An example record with some fields given values of any type (or removed)."""
    rec = dict(draw(st.sampled_from(example_records())))
    for key in draw(st.lists(st.sampled_from(sorted(rec)), max_size=4)):
        if draw(st.booleans()):
            rec[key] = draw(values)
        else:
            rec.pop(key, None)
    return rec


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=needs_escapes(value)).encode("utf-8", "surrogatepass")


def needs_escapes(value: Any) -> bool:
    return "\ud800" in json.dumps(value)  # a lone surrogate is sent escaped (UTF-8 cannot hold it)


def nested(depth: int, kind: str) -> bytes:
    return (b"[" * depth + b"]" * depth) if kind == "[" else (b'{"a":' * depth + b"1" + b"}" * depth)


bodies = st.one_of(
    mutated_records().map(encode),
    mutated_records().map(encode),
    values.map(encode),
    st.binary(max_size=300),
    st.builds(nested, st.integers(1, 3000), st.sampled_from(["[", "{"])),
    st.builds(
        lambda n, c: json.dumps({"id": "x", "name": c * n}).encode(),
        st.integers(0, 40_000),
        st.sampled_from(["a", "长", "\u0000"]),
    ),
    st.builds(
        lambda b, i, junk: b[:i] + junk + b[i:],
        mutated_records().map(encode),
        st.integers(0, 200),
        st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\n", b"}"]),
    ),
)
odd_queries = st.dictionaries(
    st.sampled_from(["as_of", "lang", "explain", "version", "x"]),
    st.sampled_from(["2024-01-01", "2022-04-15", "en", "zh", "false", "true", "", "?", "9" * 12, "2022-04-15T00:00"]),
    max_size=3,
)
no_query: dict[str, str] = {}
queries: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just(no_query), st.sampled_from([{"lang": "en"}, {"explain": "false"}, {"as_of": "2024-01-01"}]), odd_queries
)


async def post(path: str, body: bytes, params: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app()), base_url="http://fuzz") as c:
        return await c.post(path, content=body, params=params)


def check(r: httpx.Response, batch: bool) -> None:
    assert r.status_code < 500 or r.status_code == 503, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"] == PROBLEM_TYPE, r.text
        problem = r.json()
        assert problem["status"] == r.status_code and problem["code"] and problem["detail"]
        return
    assert r.status_code == 200
    if batch:
        for line in r.content.split(b"\n")[:-1]:  # JSON Lines end lines with \n only (a U+0085 is text)
            assert isinstance(json.loads(line), dict)
    else:
        assert json.loads(r.content)["decision_id"] == r.headers["x-decision-id"]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(path=st.sampled_from([ADMISSION, SCHOOL]), body=bodies, params=queries)
def test_single_records_never_make_a_server_error(path: str, body: bytes, params: dict[str, str]) -> None:
    r = asyncio.run(post(path, body, params))
    assert r.status_code != 503, r.text  # no limit of time or load is reached here
    check(r, batch=False)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(path=st.sampled_from([ADMISSION, SCHOOL]), lines=st.lists(bodies, max_size=6), params=queries)
def test_batches_never_make_a_server_error(path: str, lines: list[bytes], params: dict[str, str]) -> None:
    body = b"\n".join(lines)
    r = asyncio.run(post(path + "/batch", body, params))
    check(r, batch=True)
    if r.status_code == 200:  # one answer per non-blank line, in order (a limit's final line aside)
        answered = [json.loads(x) for x in r.content.split(b"\n")[:-1]]
        numbers = [a["input"]["line"] for a in answered if "input" in a]
        assert numbers == sorted(numbers)


def test_the_service_still_answers_after_the_fuzzing() -> None:
    record = next(r for r in example_records() if r.get("id", "").startswith("EX-"))
    r = asyncio.run(post(ADMISSION, json.dumps(record).encode(), {}))
    assert r.status_code == 200 and r.json()["outcome"] in ("pass", "fail", "indeterminate")

    async def health() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app()), base_url="http://fuzz") as c:
            return (await c.get("/healthz")).status_code

    assert asyncio.run(health()) == 200
