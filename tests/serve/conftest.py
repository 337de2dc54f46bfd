"""Fixtures of the service's tests: small rulebooks of their own, written into a temporary folder
(so that a test may edit them), and in-process clients of the application (httpx's ASGI
transport, no socket)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.serve.app import create_app
from engine.serve.config import ServeConfig

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["id", "birth_date", "application_date"],
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "id_number": {"type": "string"},
        "birth_date": {"type": "string", "format": "date"},
        "application_date": {"type": "string", "format": "date"},
        "awards": {
            "type": "array",
            "default": [],
            "items": {"type": "object", "properties": {"level": {"type": "string"}, "grade": {"type": "integer"}}},
        },
    },
}


def mini_rulebook(
    version: str = "2024-01-01",
    min_age: int = 18,
    *,
    rid: str = "serve-test/mini",
    effective_from: str | None = None,
    enforcement: str = "warn",
    expect_adult: str = "pass",
    status: str = "in_force",
) -> str:
    """The text of a small rulebook: an age rule (error) and an award rule (warning), one example."""
    return f"""rulebook: 1
id: {rid}
version: "{version}"
status: {status}
effective_from: "{effective_from or version}"
schema_enforcement: {enforcement}
title: {{zh: 服务测试规则集, en: service test rulebook}}
source: {{title: 测试}}
parameters:
  min_age:
    value: {min_age}
decisions:
  admission:
    record: mini.schema.json
    as_of: record.application_date
    rules:
      - id: adult
        article: 12
        cite: 第十二条
        require: full_years(record.birth_date, as_of) >= min_age
        message:
          zh: 申请人未满{{min_age}}周岁
          en: the applicant is under {{min_age}}
      - id: award
        article: 12
        item: 3
        cite: 第十二条第3项
        severity: warning
        require: record.awards.exists(a, a.level == "national" && a.grade == 1)
        message: {{zh: 没有国家级一等奖, en: no national first prize}}
examples:
  - name: nineteen
    decision: admission
    record: {{id: E-1, birth_date: "2005-06-01", application_date: "2024-07-01"}}
    expect:
      outcome: {"pass" if expect_adult == "pass" else "fail"}
      rules: {{adult: {expect_adult}}}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def books(tmp_path: Path) -> Path:
    """A folder with ``serve-test/mini`` in two versions (2024: 18 years, 2025: 20 years) and
    ``serve-test/strict`` (schema enforcement ``reject``)."""
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "mini.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    (folder / "mini-2024.yaml").write_text(mini_rulebook(), encoding="utf-8")
    (folder / "mini-2025.yaml").write_text(mini_rulebook("2025-01-01", 20, expect_adult="fail"), encoding="utf-8")
    (folder / "strict.yaml").write_text(mini_rulebook(rid="serve-test/strict", enforcement="reject"), encoding="utf-8")
    return folder


ClientFactory = Callable[..., Any]


@pytest.fixture
def client_for(books: Path) -> ClientFactory:
    """``client_for(**settings)``: an application with these settings (and the test rulebooks), and
    an httpx client talking to it in process."""

    def make(**settings: Any) -> httpx.AsyncClient:
        config = ServeConfig(rulebook_paths=(books,), **settings)
        app = create_app(config)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://serve.test")
        client.app = app  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
async def client(client_for: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for() as c:
        yield c


MINI = "/rulebooks/serve-test/mini/decisions/admission"


def record(**fields: Any) -> dict[str, Any]:
    return {"id": "R-1", "name": "张三", "birth_date": "2005-06-01", "application_date": "2024-07-01", **fields}
