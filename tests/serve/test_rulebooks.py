"""The rulebooks served: built once, replaced whole, and an edit that does not load or whose examples
fail keeps the old version serving and is reported."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from engine.serve.app import create_app
from engine.serve.config import ServeConfig
from engine.serve.rulebooks import RulebookSet
from tests.serve.conftest import MINI, mini_rulebook, record

pytestmark = pytest.mark.anyio


def loaded(books: Path) -> RulebookSet:
    rs = RulebookSet(ServeConfig(rulebook_paths=(books,)))
    rs.load_all()
    return rs


def test_files_and_status(books: Path) -> None:
    rs = loaded(books)
    files = {p.name for p in rs.files()}
    assert {"mini-2024.yaml", "mini-2025.yaml", "strict.yaml", "membership.yaml"} <= files
    assert "mini.schema.json" not in files
    status = rs.status()
    assert status["ready"] is True
    assert all(b["status"] == "loaded" for b in status["rulebooks"])


def test_a_valid_change_replaces_the_old_version_and_old_snapshots_stay_whole(books: Path) -> None:
    rs = loaded(books)
    before = rs.snapshot()
    path = books / "mini-2024.yaml"
    path.write_text(mini_rulebook(min_age=16), encoding="utf-8")
    result = rs.reload_file(path)
    assert result.replaced and result.failure is None
    after = rs.snapshot()
    assert after is not before
    min_age = {p.name: p.value for p in after.version("serve-test/mini", "2024-01-01").book.book.parameters}
    assert min_age == {"min_age": 16}
    old = {p.name: p.value for p in before.version("serve-test/mini", "2024-01-01").book.book.parameters}
    assert old == {"min_age": 18}  # a request holding the old snapshot still sees the whole old version


@pytest.mark.parametrize("edit", ["broken-yaml", "failing-example", "duplicate"])
def test_a_bad_edit_keeps_the_old_version_and_is_reported(books: Path, edit: str) -> None:
    rs = loaded(books)
    before = rs.snapshot()
    path = books / "mini-2024.yaml"
    if edit == "broken-yaml":
        path.write_text(mini_rulebook().replace("decisions:", "decisions: [", 1), encoding="utf-8")
    elif edit == "failing-example":
        path.write_text(mini_rulebook(min_age=21), encoding="utf-8")  # the example's 19-year-old now fails
    else:
        path.write_text(mini_rulebook("2025-01-01", 20, expect_adult="fail"), encoding="utf-8")
    result = rs.reload_file(path)
    assert not result.replaced and result.failure is not None
    assert rs.snapshot() is before  # nothing swapped
    item = next(b for b in rs.status()["rulebooks"] if b["path"] == str(path.resolve()))
    assert item["status"] == "loaded" and item["version"] == "2024-01-01"  # the old one serves
    assert (
        item["diagnostic"]["en"] and item["diagnostic"]["zh"] and item["diagnostic"]["en"] != item["diagnostic"]["zh"]
    )
    if edit == "failing-example":
        assert "nineteen" in item["diagnostic"]["en"]
    # a good edit afterwards clears the report
    path.write_text(mini_rulebook(min_age=17), encoding="utf-8")
    assert rs.reload_file(path).replaced
    item = next(b for b in rs.status()["rulebooks"] if b["path"] == str(path.resolve()))
    assert "diagnostic" not in item


def test_a_removed_file_stops_serving(books: Path) -> None:
    rs = loaded(books)
    path = books / "mini-2025.yaml"
    path.unlink()
    assert rs.reload_file(path).removed
    assert [v.version for v in rs.snapshot().versions("serve-test/mini")] == ["2024-01-01"]
    assert path.resolve() not in rs.files()


async def test_every_answer_comes_from_a_whole_version_while_rulebooks_change(books: Path) -> None:
    # GIVEN a server answering from the test rulebooks
    rs = loaded(books)
    app = create_app(ServeConfig(rulebook_paths=(books,)), rs)
    path = books / "mini-2024.yaml"
    edits = [
        mini_rulebook(min_age=16),
        mini_rulebook().replace("rules:", "rules: [", 1),
        mini_rulebook(min_age=30),
        mini_rulebook(min_age=18),
    ]
    seen: list[tuple[str, str]] = []
    stop = asyncio.Event()

    async def ask(c: httpx.AsyncClient) -> None:
        while not stop.is_set():
            r = await c.post(
                MINI, params={"lang": "en", "version": "2024-01-01"}, json=record(birth_date="2007-01-01")
            )  # 17 on the application date
            body = r.json()
            adult = next(x for x in body["rules"] if x["id"] == "adult")
            seen.append((adult["status"], adult["message"] or ""))
            await asyncio.sleep(0)

    # WHEN the file is edited (valid, broken, examples failing, valid) while requests are made
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        tasks = [asyncio.create_task(ask(c)) for _ in range(3)]
        for text in edits:
            await asyncio.sleep(0.05)
            path.write_text(text, encoding="utf-8")
            await asyncio.to_thread(rs.reload_file, path)
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*tasks)
    # THEN every answer is that of one whole version: 16 (pass) or 18 (fail, saying 18), never 30 or half
    assert seen
    assert set(seen) <= {("pass", ""), ("fail", "the applicant is under 18")}
    assert ("pass", "") in seen and ("fail", "the applicant is under 18") in seen
    assert json.dumps(rs.status()).count("diagnostic") == 0  # the last edit was good


def test_the_same_id_and_version_twice_is_a_failure_of_the_second_file(books: Path) -> None:
    (books / "zz-copy.yaml").write_text(mini_rulebook(), encoding="utf-8")
    rs = loaded(books)
    status = {Path(b["path"]).name: b for b in rs.status()["rulebooks"]}
    assert status["mini-2024.yaml"]["status"] == "loaded"
    assert (
        status["zz-copy.yaml"]["status"] == "failed" and "mini-2024.yaml" in status["zz-copy.yaml"]["diagnostic"]["en"]
    )
    assert rs.status()["ready"] is False
