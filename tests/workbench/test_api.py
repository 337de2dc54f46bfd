"""The workbench's endpoints, in process (httpx's ASGI transport): reading, checking, completing,
examples, impact, saving drafts and their refusals."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.serve.app import create_app
from engine.serve.config import ServeConfig
from engine.tools.lint import lint_file

RID = "hlj-musicians/membership"
API = "/workbench/api"
REPO = Path(__file__).resolve().parents[2]
MEMBERSHIP = REPO / "rulebooks" / "hlj-musicians" / "membership.yaml"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    books = tmp_path / "books"
    books.mkdir()
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "applicants.jsonl").write_text(
        (REPO / "examples" / "applicants.jsonl").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return books, samples


def make(folders: tuple[Path, Path], **settings: Any) -> httpx.AsyncClient:
    books, samples = folders
    settings.setdefault("decision_log", False)
    config = ServeConfig(rulebook_paths=(books,), samples=(samples,), **settings)
    app = create_app(config)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://serve.test")


@pytest.fixture
async def client(folders: tuple[Path, Path]) -> AsyncIterator[httpx.AsyncClient]:
    async with make(folders, edit=True) as c:
        yield c


def text() -> str:
    return MEMBERSHIP.read_text(encoding="utf-8")


def draft(version: str = "2099-01-01-draft", min_age: int = 18) -> str:
    t = text()
    head, _, rest = t.partition("\nstatus:")
    head = head.replace(head[head.index("\nversion:") :], f'\nversion: "{version}"')
    rest = "\nstatus: draft" + rest[rest.index("\n") :]
    out = head + rest
    return out.replace("  min_age:\n    value: 18", f"  min_age:\n    value: {min_age}")


pytestmark = pytest.mark.anyio


async def test_config_and_samples(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{API}/config")
    assert r.status_code == 200
    body = r.json()
    assert body["edit"] is True and body["auth"] is False and body["user"] is None
    assert body["samples"] == [{"name": "applicants.jsonl", "records": 20}]
    r = await client.get(f"{API}/samples")
    assert r.json()["samples"][0]["format"] == "jsonl"


async def test_doc_source_and_page(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{API}/rulebooks/{RID}/doc?lang=en")
    assert r.status_code == 200
    doc = r.json()
    admission = next(d for d in doc["decisions"] if d["name"] == "admission")
    rule = next(r for r in admission["rules"] if r["require"].strip() == "age >= min_age")
    assert rule["cite"].startswith("第十二条") and "min_age" in rule["parameters"]
    assert "<html" in doc["html"] and doc["id"] == RID
    r = await client.get(f"{API}/rulebooks/{RID}/source")
    assert r.json()["text"] == text()
    r = await client.get(f"{API}/rulebooks/hlj-musicians/nope/source")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_static_page_and_files(client: httpx.AsyncClient) -> None:
    from engine.serve.workbench import STATIC_DIR

    js = sorted(STATIC_DIR.glob("*.js"))
    if js:
        r = await client.get(f"/static/{js[0].name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    r = await client.get("/static/")
    assert r.status_code == 404  # no listing
    r = await client.get("/static/../app.py")
    assert r.status_code == 404


async def test_diagnostics_positions_equal_lint(client: httpx.AsyncClient, tmp_path: Path) -> None:
    bad = text().replace("record.birth_date", "record.birth_dat", 1)
    r = await client.post(f"{API}/diagnostics", json={"text": bad})
    body = r.json()
    assert body["ok"] is False
    path = tmp_path / "membership.yaml"
    path.write_text(bad, encoding="utf-8")
    expected = [(d.code, *d.line_col) for d in lint_file(path) if d.line_col]
    got = [(d["code"], d["line"], d["column"]) for d in body["diagnostics"]]
    assert got == expected
    first = body["diagnostics"][0]
    assert "birth_date" in first["suggestions"]
    assert first["end_line"] >= first["line"]
    r = await client.post(f"{API}/diagnostics", json={"text": text()})
    assert r.json()["ok"] is True


async def test_diagnostics_of_broken_yaml_and_bad_bodies(client: httpx.AsyncClient) -> None:
    r = await client.post(f"{API}/diagnostics", json={"text": "rulebook: 1\nid: [\n"})
    d = r.json()["diagnostics"][0]
    assert d["code"].startswith("yaml.") and d["line"] >= 2
    r = await client.post(f"{API}/diagnostics", json={"nope": 1})
    assert r.status_code == 400
    r = await client.post(f"{API}/diagnostics", content=b"not json")
    assert r.status_code == 400


async def test_completion_inside_record_paths(client: httpx.AsyncClient) -> None:
    t = text()
    lines = t.split("\n")
    n = next(i for i, line in enumerate(lines) if line.strip() == "require: age >= min_age")
    lines[n] = lines[n].replace("age >= min_age", "record.bi")
    edited = "\n".join(lines)
    column = len(lines[n]) + 1
    r = await client.post(f"{API}/completions", json={"text": edited, "line": n + 1, "column": column})
    body = r.json()
    labels = [i["label"] for i in body["items"]]
    assert "birth_date" in labels and all(lbl.startswith("bi") for lbl in labels)
    assert body["from"] == column - 2
    birth = next(i for i in body["items"] if i["label"] == "birth_date")
    assert birth["kind"] == "field"
    assert birth["doc"].startswith("出生日期")  # the field's label of the record schema, in the page's language
    lines[n] = lines[n].replace("record.bi", "min")
    r = await client.post(
        f"{API}/completions", json={"text": "\n".join(lines), "line": n + 1, "column": len(lines[n]) + 1}
    )
    kinds = {i["label"]: i["kind"] for i in r.json()["items"]}
    assert kinds.get("min_age") == "parameter" and kinds.get("min") == "function"


async def test_hover_shows_the_article(client: httpx.AsyncClient) -> None:
    lines = text().split("\n")
    n = next(i for i, line in enumerate(lines) if line.strip() == "require: age >= min_age")
    r = await client.post(f"{API}/hover", json={"text": text(), "line": n + 1, "column": 12})
    body = r.json()
    assert body["rule"] and body["cite"].startswith("第十二条") and isinstance(body["article"], int)
    r = await client.post(f"{API}/hover", json={"text": text(), "line": 1, "column": 1})
    assert r.json()["rule"] is None


async def test_examples_pass_and_fail(client: httpx.AsyncClient) -> None:
    r = await client.post(f"{API}/examples", json={"text": text()})
    body = r.json()
    assert body["ok"] and body["failed"] == [] and body["passed"] > 100
    assert body["coverage"]["rules"] >= body["coverage"]["covered"] > 0
    r = await client.post(f"{API}/examples", json={"text": draft(min_age=20)})
    body = r.json()
    assert body["failed"]
    assert any(rule["cite"].startswith("第十二条") for f in body["failed"] for rule in f["rules"])
    # an applicant of 18 or 19 now fails on `adult` alone: the info rules that fail for the same
    # applicant (no work years, no title...) decide nothing and are not named as responsible
    birthday = next(f for f in body["failed"] if f["example"] == "adult-on-18th-birthday")
    assert (birthday["expected"], birthday["got"]) == ("pass", "fail")
    assert [rule["id"] for rule in birthday["rules"]] == ["adult"]


async def test_impact_counts_equal_diff_data(client: httpx.AsyncClient, tmp_path: Path) -> None:
    import subprocess
    import sys

    r = await client.post(
        f"{API}/impact", json={"text": draft(min_age=40), "sample": "applicants.jsonl", "decision": "admission"}
    )
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert lines[0] == {"progress": 0, "total": 20}
    final = lines[-1]
    assert final["total"] == 20
    new = tmp_path / "new.yaml"
    new.write_text(draft(min_age=40), encoding="utf-8")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "diff",
            str(MEMBERSHIP),
            str(new),
            "--data",
            str(REPO / "examples" / "applicants.jsonl"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    changed = json.loads(out.stdout)["records"]
    assert final["changed"] == len(changed) > 0
    assert sorted(x["id"] for x in final["records"]) == sorted(x["record"] for x in changed)
    assert sum(final["by_article"].values()) >= final["changed"]
    records = (REPO / "examples" / "applicants.jsonl").read_text(encoding="utf-8")
    r = await client.post(f"{API}/impact", json={"text": draft(min_age=40), "records": records})
    assert json.loads(r.text.splitlines()[-1])["changed"] == final["changed"]


async def test_save_draft_then_served(client: httpx.AsyncClient, folders: tuple[Path, Path]) -> None:
    books, _ = folders
    r = await client.post(f"{API}/drafts", json={"text": draft(), "based_on": "2022-04-15"})
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["version"] == "2099-01-01-draft" and (books / saved["path"]).is_file()
    assert f"{RID}@2022-04-15" in (books / saved["path"]).read_text(encoding="utf-8")
    listed = (await client.get("/rulebooks")).json()["rulebooks"]
    versions = next(b for b in listed if b["id"] == RID)["versions"]
    assert any(v["version"] == "2099-01-01-draft" and v["status"] == "draft" for v in versions)
    record = json.loads((REPO / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0])
    r = await client.post(f"/rulebooks/{RID}/decisions/admission?version=2099-01-01-draft", json=record)
    assert r.status_code == 200 and r.json()["version"] == "2099-01-01-draft"
    log = (await client.get(f"{API}/drafts")).json()["drafts"]
    assert log[0]["version"] == "2099-01-01-draft" and log[0]["based_on"] == "2022-04-15"
    # the same version again: refused, nothing overwritten
    before = (books / saved["path"]).read_bytes()
    r = await client.post(f"{API}/drafts", json={"text": draft(), "based_on": "2022-04-15"})
    assert r.status_code == 422 and (books / saved["path"]).read_bytes() == before


async def test_save_refusals(client: httpx.AsyncClient, folders: tuple[Path, Path]) -> None:
    books, _ = folders
    base = {"based_on": "2022-04-15"}
    cases = [
        draft().replace("record.birth_date", "record.birth_dat", 1),  # does not load
        draft(min_age=20),  # examples fail
        text(),  # in force, and its version exists
        draft().replace(f"id: {RID}", "id: hlj-musicians/other", 1),  # another id
    ]
    for case in cases:
        r = await client.post(f"{API}/drafts", json={"text": case, **base})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "workbench.refused"
    assert list(books.glob("*.yaml")) == []


async def test_path_escape_is_impossible(client: httpx.AsyncClient, folders: tuple[Path, Path]) -> None:
    books, _ = folders
    r = await client.post(f"{API}/drafts", json={"text": draft("../../escape"), "based_on": "2022-04-15"})
    assert r.status_code == 201, r.text
    name = r.json()["path"]
    assert "/" not in name and ".." not in name and (books / name).is_file()
    assert not (books.parent.parent / "escape.yaml").exists()
    # a symlink in place of the target file is not followed nor overwritten
    outside = books.parent / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    (books / "membership-2099-02-01.yaml").symlink_to(outside)
    r = await client.post(f"{API}/drafts", json={"text": draft("2099-02-01"), "based_on": "2022-04-15"})
    assert r.status_code in (400, 422) and outside.read_text(encoding="utf-8") == "keep"


async def test_read_only_unauthenticated_and_too_large(folders: tuple[Path, Path], tmp_path: Path) -> None:
    async with make(folders) as c:
        r = await c.post(f"{API}/drafts", json={"text": draft(), "based_on": "2022-04-15"})
        assert r.status_code == 403 and r.json()["code"] == "serve.read-only"
    async with make(folders, edit=True, tokens=frozenset({"s3cret"}), token_names=(("s3cret", "王秘书"),)) as c:
        r = await c.post(f"{API}/drafts", json={"text": draft(), "based_on": "2022-04-15"})
        assert r.status_code == 401
        auth = {"Authorization": "Bearer s3cret"}
        assert (await c.get(f"{API}/config", headers=auth)).json()["user"] == "王秘书"
        r = await c.post(f"{API}/drafts", json={"text": draft(), "based_on": "2022-04-15"}, headers=auth)
        assert r.status_code == 201 and r.json()["saved_by"] == "王秘书"
    async with make(folders, edit=True, max_text_bytes=1000) as c:
        r = await c.post(f"{API}/diagnostics", json={"text": "x" * 5000})
        assert r.status_code == 413
        r = await c.post(f"{API}/drafts", json={"text": "x" * 5000, "based_on": "2022-04-15"})
        assert r.status_code == 413


async def test_hostile_text_is_bounded(client: httpx.AsyncClient) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    r = await client.post(f"{API}/diagnostics", json={"text": bomb})
    assert r.status_code == 200 and r.json()["ok"] is False
    evil = text().replace("require: age >= min_age", 'require: "".__class__ == ""', 1)
    r = await client.post(f"{API}/diagnostics", json={"text": evil})
    assert r.json()["ok"] is False
