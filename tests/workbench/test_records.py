"""``POST /workbench/api/records``: spreadsheets read by the engine's own readers, as ``rulebook check`` reads them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.serve.app import create_app
from engine.serve.config import ServeConfig

API = "/workbench/api/records"
RID = "hlj-musicians/membership"
REPO = Path(__file__).resolve().parents[2]
MEMBERSHIP = REPO / "rulebooks" / "hlj-musicians" / "membership.yaml"

HEADER = ["id", "name", "citizenship", "province", "birth_date", "application_date", "occupations"]
HEADER += ["accepts_charter", "self_applied", "introducers.1.is_member", "shoe_size"]
ROWS = [
    ["A-1", "李婉清", "CN", "黑龙江", "1988年4月17日", "2026年3月1日", "作曲;音乐教育", "是", "否", "是", "42"],
    ["A-2", "王", "CN", "黑龙江", "1990/1/2", "2026-03-01", "演奏", "否", "是", "", ""],
    ["A-3", "赵", "CN", "黑龙江", "1990-13-40", "2026-03-01", "演奏", "也许", "是", "", ""],  # a bad row
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ServeConfig(decision_log=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://serve.test") as c:
        yield c


def csv_bytes(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode("utf-8") + b"\n"


def lines(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(x) for x in r.text.splitlines()]


def check_json(path: Path) -> list[dict[str, Any]]:
    """What `rulebook check --format json` writes for the file, one object per record."""
    command = [sys.executable, "-m", "engine", "check", str(MEMBERSHIP), str(path), "--decision", "admission"]
    out = subprocess.run(
        [*command, "--format", "json", "--lang", "en"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    decoder = json.JSONDecoder()
    text, found, at = out.stdout, [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        value, at = decoder.raw_decode(text, at)
        found.append(value)
    return found


@pytest.mark.anyio
async def test_a_csv_is_typed_through_the_record_schema(client: httpx.AsyncClient, tmp_path: Path) -> None:
    data = csv_bytes(ROWS)
    query = {"rulebook": RID, "decision": "admission", "format": "csv", "name": "people.csv", "lang": "en"}
    got = lines(await client.post(API, params=query, content=data))
    warning, first, second, bad = got
    assert warning["warning"]["code"] == "input.unknown-column"
    assert warning["warning"]["input"] == {"file": "people.csv", "line": 1}
    assert "shoe_size" in warning["warning"]["message"]
    assert first["input"] == {"file": "people.csv", "line": 2}
    assert second["input"] == {"file": "people.csv", "line": 3}
    first, second = first["record"], second["record"]
    assert first == {
        "id": "A-1",
        "name": "李婉清",
        "citizenship": "CN",
        "province": "黑龙江",
        "birth_date": "1988-04-17",
        "application_date": "2026-03-01",
        "occupations": ["作曲", "音乐教育"],
        "accepts_charter": True,
        "self_applied": False,
        "introducers": [{"is_member": True}],
    }
    assert second["accepts_charter"] is False and second["birth_date"] == "1990-01-02"
    assert "introducers" not in second  # an empty cell leaves the field out
    assert bad["outcome"] == "error" and bad["record"] is None
    assert bad["input"] == {"file": "people.csv", "line": 4}
    assert (bad["rulebook"], bad["decision"]) == (RID, "admission")
    # the same rows and messages as `rulebook check` reading the file
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    checked = check_json(path)
    assert [c["input"]["line"] for c in checked] == [2, 3, 4]
    assert checked[2]["message"] == bad["message"]
    assert checked[0]["record"] == "A-1"
    zh = lines(await client.post(API, params={**query, "lang": "zh"}, content=data))
    assert zh[3]["message"].startswith("第 4 行，列 `birth_date`")
    assert bad["message"].startswith("row 4, column `birth_date`")


@pytest.mark.anyio
async def test_an_xlsx_made_with_openpyxl(client: httpx.AsyncClient) -> None:
    import datetime as dt

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "申请"
    sheet.append(HEADER[:-1])
    sheet.append(["A-9", "周", "CN", "黑龙江", dt.date(1980, 5, 6), "2026年3月1日", "指挥、作曲", "是", "是", True])
    sheet.append(["A-10", "吴", "CN", "黑龙江", "not a date", "2026-03-01", "指挥", "是", "是", None])
    buffer = io.BytesIO()
    book.save(buffer)
    query = {"rulebook": RID, "decision": "admission", "format": "xlsx", "name": "people.xlsx", "lang": "en"}
    good, bad = lines(await client.post(API, params=query, content=buffer.getvalue()))
    assert good["input"] == {"file": "people.xlsx", "line": 2, "sheet": "申请"}
    good = good["record"]
    assert good["birth_date"] == "1980-05-06"
    assert good["application_date"] == "2026-03-01"
    assert good["occupations"] == ["指挥", "作曲"]
    assert good["accepts_charter"] is True and good["introducers"] == [{"is_member": True}]
    assert bad["outcome"] == "error"
    assert bad["input"] == {"file": "people.xlsx", "line": 3, "sheet": "申请"}
    assert "birth_date" in bad["message"]


@pytest.mark.anyio
async def test_refusals(client: httpx.AsyncClient) -> None:
    base = {"rulebook": RID, "decision": "admission", "format": "csv", "lang": "en"}
    r = await client.post(API, params={**base, "format": "ods"}, content=b"x")
    assert r.status_code == 400 and r.json()["code"] == "workbench.bad-format"
    r = await client.post(API, params={k: v for k, v in base.items() if k != "decision"}, content=b"x")
    assert r.status_code == 400 and r.json()["parameter"] == "decision"
    r = await client.post(API, params={**base, "decision": "nope"}, content=b"x")
    assert r.status_code == 404 and "admission" in r.json()["candidates"]
    r = await client.post(API, params={**base, "colour": "red"}, content=b"x")
    assert r.status_code == 400 and r.json()["code"] == "serve.unknown-parameter"
    r = await client.post(API, params=base, content=b"shoe,hat\n1,2\n")
    assert r.status_code == 422 and r.json()["code"] == "input.no-known-column"


@pytest.mark.anyio
async def test_the_body_is_size_limited() -> None:
    app = create_app(ServeConfig(decision_log=False, max_batch_bytes=100))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://serve.test") as c:
        query = {"rulebook": RID, "decision": "admission", "format": "csv"}
        r = await c.post(API, params=query, content=csv_bytes(ROWS))
        assert r.status_code == 413 and r.json()["code"] == "serve.body-too-large"


@pytest.mark.anyio
async def test_the_openapi_document_describes_it(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    post = doc["paths"][API]["post"]
    required = {p["name"] for p in post["parameters"] if p.get("required")}
    assert required == {"rulebook", "decision", "format"}
    assert "application/x-ndjson" in post["responses"]["200"]["content"]
