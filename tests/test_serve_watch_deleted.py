"""``rulebook serve --watch``: a watched rulebook file that is gone keeps its version serving, and says so.

GIVEN a service answering from a folder with one small rulebook (``serve-test/mini``), and a
watcher on its file,
WHEN the file is deleted or renamed away,
THEN the version loaded from it keeps answering (half a rulebook is never served, and an
editor that saves by renaming may make a file vanish for a moment), ``/readyz`` shows in
the file's entry the report ``serve.rulebook-gone`` in both languages with the version
still served, and the log says so once;
WHEN the file comes back, it is reloaded like an edit (its examples run first: a version
whose examples fail is not served) and the report clears.

The watcher is driven look by look (``scan()``) in process, with the application asked
through httpx's ASGI transport (no socket); one test runs a real ``rulebook serve --watch``
on 127.0.0.1.  Every wait is bounded.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.serve.app import create_app
from engine.serve.config import ServeConfig
from engine.serve.rulebooks import RulebookSet
from engine.serve.watch import RulebookWatcher
from tests.serve.conftest import SCHEMA, mini_rulebook
from tests.serve.test_process import Server, _environ

pytestmark = pytest.mark.anyio

RID = "serve-test/mini"
DECISION = f"/rulebooks/{RID}/decisions/admission"
RECORD = {"id": "R-1", "birth_date": "2005-06-01", "application_date": "2024-07-01"}  # 19 years old
WAIT = 60.0  # the longest any test waits for the watcher thread or the server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Served:
    folder: Path
    path: Path
    rulebooks: RulebookSet
    watcher: RulebookWatcher
    client: httpx.AsyncClient

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        """The status of ``/readyz`` and the watched file's entry."""
        r = await self.client.get("/readyz")
        entry = next(item for item in r.json()["rulebooks"] if Path(item["path"]) == self.path.resolve())
        return r.status_code, entry

    async def outcome(self) -> tuple[str, str]:
        """(version, outcome) of the decision on RECORD: 19 years old passes at 18, fails at 20."""
        r = await self.client.post(DECISION, json=RECORD, params={"lang": "en"})
        assert r.status_code == 200, r.text
        body = r.json()
        return body["version"], body["outcome"]


def _folder(tmp_path: Path, text: str) -> tuple[Path, Path]:
    folder = tmp_path / "books"
    folder.mkdir()
    (folder / "mini.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    path = folder / "mini.yaml"
    path.write_text(text, encoding="utf-8")
    return folder, path


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    folder, path = _folder(tmp_path, mini_rulebook())
    config = ServeConfig(rulebook_paths=(folder,))
    rulebooks = RulebookSet(config)
    rulebooks.load_all()
    watcher = RulebookWatcher(rulebooks, interval=3600, lang="en")  # looks only when a test calls scan()
    app = create_app(config, rulebooks)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://serve.test") as client:
        yield Served(folder, path, rulebooks, watcher, client)


def _gone_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "serve.rulebook-gone" in r.getMessage()]


# -- gone ---------------------------------------------------------------------------------------


async def test_a_deleted_file_keeps_its_version_serving_and_readyz_says_so(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rulebook.serve")
    before = served.rulebooks.snapshot()
    assert await served.outcome() == ("2024-01-01", "pass")
    _, entry = await served.readyz()
    assert "diagnostic" not in entry and "code" not in entry

    served.path.unlink()
    assert served.watcher.scan() == []  # nothing reloaded ...
    assert served.rulebooks.snapshot() is before  # ... and nothing taken away
    assert await served.outcome() == ("2024-01-01", "pass")

    status, entry = await served.readyz()
    assert status == 200  # every file has a version serving
    assert entry["status"] == "loaded" and entry["id"] == RID and entry["version"] == "2024-01-01"
    assert entry["code"] == "serve.rulebook-gone"
    where = str(served.path.resolve())
    assert entry["diagnostic"] == {
        "en": f"rulebook file `{where}` is gone; `{RID}@2024-01-01`, loaded from it, keeps serving",
        "zh": f"规则集文件 `{where}` 已不存在；从中加载的 `{RID}@2024-01-01` 继续提供服务",
    }
    assert entry["gone_since"] and "failed_at" not in entry

    [logged] = _gone_logs(caplog)
    assert logged.levelno == logging.WARNING
    text = logged.getMessage()
    assert text.startswith(f"warning[serve.rulebook-gone]: rulebook file `{where}` is gone;")
    assert "put the file back and it is reloaded like an edit" in text

    # later looks while it stays gone: the report stands, the log says nothing more
    assert served.watcher.scan() == [] and served.watcher.scan() == []
    assert len(_gone_logs(caplog)) == 1
    assert (await served.readyz())[1]["code"] == "serve.rulebook-gone"


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_log_is_in_the_servers_language(served: Served, caplog: pytest.LogCaptureFixture, lang: str) -> None:
    caplog.set_level(logging.INFO, logger="rulebook.serve")
    watcher = RulebookWatcher(served.rulebooks, interval=3600, lang=lang)
    served.path.unlink()
    watcher.scan()
    [logged] = _gone_logs(caplog)
    text = logged.getMessage()
    if lang == "zh":
        assert "已不存在" in text and "继续提供服务" in text and "把文件放回后会像修改一样重新加载" in text
        assert "is gone" not in text
    else:
        assert "is gone" in text and "keeps serving" in text and "已不存在" not in text


async def test_a_file_renamed_away_is_gone_too(served: Served) -> None:
    served.path.rename(served.folder / "mini.yaml~")
    served.watcher.scan()
    assert (await served.readyz())[1]["code"] == "serve.rulebook-gone"
    assert await served.outcome() == ("2024-01-01", "pass")


# -- back ---------------------------------------------------------------------------------------


async def test_a_file_back_is_reloaded_like_an_edit_and_the_report_clears(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rulebook.serve")
    served.path.unlink()
    served.watcher.scan()
    # back with a change: the age limit 20 (its example expects a fail at 19)
    served.path.write_text(mini_rulebook(min_age=20, expect_adult="fail"), encoding="utf-8")
    [(seen, result)] = served.watcher.scan()
    assert seen == served.path.resolve() and result is not None and result.replaced
    assert await served.outcome() == ("2024-01-01", "fail")
    status, entry = await served.readyz()
    assert status == 200 and entry["status"] == "loaded"
    assert "code" not in entry and "diagnostic" not in entry and "gone_since" not in entry
    assert f"rulebook file `{served.path.resolve()}` is back" in caplog.text

    # gone again later: reported again, once
    served.path.unlink()
    served.watcher.scan()
    assert len(_gone_logs(caplog)) == 2
    _, entry = await served.readyz()
    assert "`serve-test/mini@2024-01-01`, loaded from it, keeps serving" in entry["diagnostic"]["en"]


async def test_a_file_back_unchanged_is_reloaded_too(served: Served) -> None:
    """An editor that saves by renaming: the file vanishes and comes back with the same text."""
    text = served.path.read_text(encoding="utf-8")
    served.path.rename(served.folder / ".mini.yaml.swp")
    served.watcher.scan()
    (served.folder / ".mini.yaml.swp").unlink()
    served.path.write_text(text, encoding="utf-8")
    before = served.watcher.reloads
    [(_, result)] = served.watcher.scan()
    assert served.watcher.reloads == before + 1 and result is not None and result.replaced
    _, entry = await served.readyz()
    assert "code" not in entry and "diagnostic" not in entry
    assert await served.outcome() == ("2024-01-01", "pass")


async def test_a_file_back_whose_examples_fail_is_not_served(served: Served) -> None:
    served.path.unlink()
    served.watcher.scan()
    # the age limit 20, but its example still expects a pass at 19: the examples fail
    served.path.write_text(mini_rulebook(min_age=20, expect_adult="pass"), encoding="utf-8")
    [(_, result)] = served.watcher.scan()
    assert result is not None and not result.replaced and result.failure is not None
    assert await served.outcome() == ("2024-01-01", "pass")  # the last good version still
    status, entry = await served.readyz()
    assert status == 200 and entry["status"] == "loaded"
    assert "code" not in entry and "gone_since" not in entry  # the file is there: its failure shows
    assert "example `nineteen`" in entry["diagnostic"]["en"] and "示例 `nineteen`" in entry["diagnostic"]["zh"]
    assert entry["failed_at"]


async def test_a_save_by_rename_over_the_file_is_an_edit_not_a_disappearance(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rulebook.serve")
    new = served.folder / ".mini.yaml.new"
    new.write_text(mini_rulebook(min_age=20, expect_adult="fail"), encoding="utf-8")
    os.replace(new, served.path)
    [(_, result)] = served.watcher.scan()
    assert result is not None and result.replaced
    assert _gone_logs(caplog) == []
    assert await served.outcome() == ("2024-01-01", "fail")


# -- the edges ----------------------------------------------------------------------------------


async def test_a_file_gone_between_the_look_and_the_reload_is_reported_gone(served: Served) -> None:
    """The watcher saw the file changed, and it is gone by the time it is built."""
    before = served.rulebooks.snapshot()
    served.path.unlink()
    result = served.rulebooks.reload_file(served.path, keep_when_gone=True)
    assert result.gone and not result.replaced and not result.removed
    assert served.rulebooks.snapshot() is before
    assert (await served.readyz())[1]["code"] == "serve.rulebook-gone"
    assert await served.outcome() == ("2024-01-01", "pass")


async def test_a_watcher_that_finds_the_file_gone_while_reloading_keeps_the_version(
    served: Served, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="rulebook.serve")
    served.path.write_text(mini_rulebook(min_age=20, expect_adult="fail"), encoding="utf-8")
    reload_file = served.rulebooks.reload_file

    def vanishing(path: Path, **options: Any) -> Any:
        served.path.unlink()  # gone just as the reload begins
        return reload_file(path, **options)

    monkeypatch.setattr(served.rulebooks, "reload_file", vanishing)
    served.watcher.scan()
    assert await served.outcome() == ("2024-01-01", "pass")
    assert (await served.readyz())[1]["code"] == "serve.rulebook-gone"
    assert len(_gone_logs(caplog)) == 1
    monkeypatch.undo()
    served.path.write_text(mini_rulebook(min_age=20, expect_adult="fail"), encoding="utf-8")
    [(_, result)] = served.watcher.scan()  # back with the content it vanished with: reloaded
    assert result is not None and result.replaced
    assert await served.outcome() == ("2024-01-01", "fail")


async def test_without_keep_when_gone_a_reload_still_takes_the_file_away(served: Served) -> None:
    """The workbench's use of ``reload_file`` (a saved draft that did not load is unlinked and
    forgotten) is unchanged."""
    served.path.unlink()
    result = served.rulebooks.reload_file(served.path)
    assert result.removed
    assert RID not in served.rulebooks.snapshot().ids()
    assert served.path.resolve() not in served.rulebooks.files()


async def test_a_file_that_never_loaded_and_is_gone_says_no_version_served(tmp_path: Path) -> None:
    folder, path = _folder(tmp_path, "rulebook: 1\nid: [\n")
    rulebooks = RulebookSet(ServeConfig(rulebook_paths=(folder,)))
    rulebooks.load_all()
    watcher = RulebookWatcher(rulebooks, interval=3600, lang="en")
    path.unlink()
    watcher.scan()
    entry = next(i for i in rulebooks.status()["rulebooks"] if Path(i["path"]) == path.resolve())
    assert entry["status"] == "failed" and entry["code"] == "serve.rulebook-gone"
    assert entry["diagnostic"]["en"] == f"rulebook file `{path.resolve()}` is gone; no version of it was serving"
    assert entry["diagnostic"]["zh"] == f"规则集文件 `{path.resolve()}` 已不存在；它没有正在提供服务的版本"
    assert rulebooks.status()["ready"] is False


# -- the watcher's own thread, and a real server ------------------------------------------------


def _until(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


@pytest.fixture
def thread_watcher(tmp_path: Path) -> Iterator[tuple[RulebookSet, Path]]:
    folder, path = _folder(tmp_path, mini_rulebook())
    rulebooks = RulebookSet(ServeConfig(rulebook_paths=(folder,)))
    rulebooks.load_all()
    watcher = RulebookWatcher(rulebooks, interval=0.05, lang="en")
    watcher.start()
    try:
        yield rulebooks, path
    finally:
        watcher.stop()


def test_the_watcher_thread_reports_a_gone_file_and_clears_it_when_back(
    thread_watcher: tuple[RulebookSet, Path],
) -> None:
    rulebooks, path = thread_watcher

    def entry() -> dict[str, Any]:
        return next(i for i in rulebooks.status()["rulebooks"] if Path(i["path"]) == path.resolve())

    text = path.read_text(encoding="utf-8")
    path.unlink()
    _until(lambda: entry().get("code") == "serve.rulebook-gone", "the gone file reported")
    assert RID in rulebooks.snapshot().ids()
    path.write_text(text, encoding="utf-8")
    _until(lambda: "code" not in entry(), "the report cleared once the file is back")
    assert entry()["status"] == "loaded" and "diagnostic" not in entry()


def test_a_real_server_reports_a_gone_file_and_keeps_answering(tmp_path: Path) -> None:
    folder, path = _folder(tmp_path, mini_rulebook())
    server = Server("--rulebooks", str(folder), "--watch", "--watch-interval", "0.1", "--lang", "en", env=_environ())
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:

            def entry() -> dict[str, Any]:
                items = client.get("/readyz").json()["rulebooks"]
                return next(i for i in items if Path(i["path"]) == path.resolve())

            text = path.read_text(encoding="utf-8")
            path.unlink()
            gone = _until(lambda: (e := entry()).get("code") == "serve.rulebook-gone" and e, "/readyz reports it")
            assert gone["version"] == "2024-01-01" and "keeps serving" in gone["diagnostic"]["en"]
            assert client.get("/readyz").status_code == 200
            answer = client.post(DECISION, json=RECORD)
            assert answer.status_code == 200 and answer.json()["outcome"] == "pass"
            path.write_text(text, encoding="utf-8")
            _until(lambda: "code" not in entry(), "/readyz clears the report")
    finally:
        code = server.stop()
    assert code == 0
    assert server.log.count("warning[serve.rulebook-gone]") == 1
    assert "is back: it is reloaded like an edit" in server.log
    assert "Traceback" not in server.log
