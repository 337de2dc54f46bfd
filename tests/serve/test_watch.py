"""``rulebook serve --watch``: a rulebook edited while it is being asked is swapped whole, or not at all.

GIVEN a server watching a copy of a bundled rulebook (its id changed, so that it does not
clash with the installed one), and a thread that keeps asking it for a decision,
WHEN the file is edited three ways: a valid change (every rule's citation marked), YAML
that does not parse, and a change whose own examples fail (every citation marked again),
THEN every answer comes from one whole version (every rule's citation marked, or none),
the valid change is served, the two bad ones never are, and ``/readyz`` reports each
failed reload with its diagnostic while the last good version keeps serving.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from engine.serve.config import ServeConfig
from engine.serve.rulebooks import RulebookSet
from engine.serve.watch import RulebookWatcher
from tests.serve.test_process import Server, _environ

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "rulebooks" / "hcm-student-union" / "reform-checklist.yaml"
OLD_ID = "hcm-student-union/reform-checklist"
NEW_ID = "watch-test/checklist"
DECISION = f"/rulebooks/{NEW_ID}/decisions/school-union"
MAX_REQUESTS = 4000  # the asking thread stops after this many, or when told
WAIT = 60.0


def _original() -> str:
    text = BUNDLED.read_text(encoding="utf-8")
    assert text.count(f"id: {OLD_ID}\n") == 1
    return text.replace(f"id: {OLD_ID}\n", f"id: {NEW_ID}\n")


def _marked(text: str, mark: str) -> str:
    """Every rule's citation (``cite: 校级第N项``, ``cite: 二级第N项``) with ``mark`` after it."""
    lines = []
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\n")
        marks = stripped.lstrip().startswith("cite: ") and "项" in stripped
        lines.append(stripped + mark + "\n" if marks else line)
    marked = "".join(lines)
    assert marked.count(mark) >= 20
    return marked


def _first_record(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    example = next(e for e in data["examples"] if e["decision"] == "school-union")
    record: dict[str, Any] = json.loads(json.dumps(example["record"], default=str))
    return record


def _state(answer: dict[str, Any]) -> str:
    """Which version answered: ``old``, ``v2`` or ``v3`` (by the mark of its citations), or
    ``mixed`` when the rules of one answer do not all come from one version."""
    cites = [rule["cite"] for rule in answer["rules"]]
    states = {"v3" if c.endswith("（三改）") else "v2" if c.endswith("（修订）") else "old" for c in cites}
    return states.pop() if len(states) == 1 else "mixed"


class Asker(threading.Thread):
    """Keeps asking for the decision until stopped (bounded by MAX_REQUESTS)."""

    def __init__(self, url: str, record: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.record = record
        self.states: list[str] = []
        self.bad: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            for _ in range(MAX_REQUESTS):
                if self.halt.is_set():
                    return
                answer = client.post(DECISION, json=self.record, params={"as_of": "2021-11-15"})
                if answer.status_code != 200:
                    self.bad.append(f"{answer.status_code}: {answer.text[:300]}")
                    continue
                self.states.append(_state(answer.json()))
                time.sleep(0.005)

    def wait_for(self, state: str) -> None:
        deadline = time.monotonic() + WAIT
        seen = len(self.states)
        while time.monotonic() < deadline and self.is_alive():
            if state in self.states[seen:]:
                return
            time.sleep(0.05)
        raise AssertionError(f"no answer from {state} (answers seen: {sorted(set(self.states))})")


def _readyz_entry(url: str, path: Path) -> dict[str, Any]:
    status = httpx.get(url + "/readyz", timeout=30).json()
    return next(item for item in status["rulebooks"] if Path(item["path"]) == path.resolve())


def _wait_for_failure(url: str, path: Path, words: str) -> dict[str, Any]:
    """The file's /readyz entry once it reports a failed reload whose English diagnostic has
    ``words`` (a look at a half-written file may fail for another reason first)."""
    deadline = time.monotonic() + WAIT
    entry: dict[str, Any] = {}
    while time.monotonic() < deadline:
        entry = _readyz_entry(url, path)
        if words in entry.get("diagnostic", {}).get("en", "").lower():
            return entry
        time.sleep(0.1)
    raise AssertionError(f"/readyz never reported the failed reload of {path} ({words}): {entry}")


def _write(path: Path, text: str) -> None:
    # in place, as many editors save: a look in the middle may see half a file, which must not serve
    path.write_text(text, encoding="utf-8")


def test_edits_while_asked_serve_whole_versions_only(tmp_path: Path) -> None:
    folder = tmp_path / "books"
    folder.mkdir()
    watched = folder / "checklist.yaml"
    original = _original()
    _write(watched, original)
    record = _first_record(original)

    server = Server("--rulebooks", str(folder), "--watch", "--watch-interval", "0.1", "--lang", "en", env=_environ())
    asker: Asker | None = None
    try:
        server.wait_ready()
        asker = Asker(server.url, record)
        asker.start()
        asker.wait_for("old")

        # a valid change: every citation marked; served once it has loaded
        _write(watched, _marked(original, "（修订）"))
        asker.wait_for("v2")
        assert "diagnostic" not in _readyz_entry(server.url, watched)

        # YAML that does not parse: the last good version keeps serving, /readyz says why
        _write(watched, _marked(original, "（修订）") + "\nexamples: [unclosed\n")
        broken = _wait_for_failure(server.url, watched, "yaml")
        assert broken["status"] == "loaded" and broken["version"] == "2021-11"
        asker.wait_for("v2")

        # a change whose own examples fail: never served
        failing = _marked(original, "（三改）").replace(
            "    expect:\n      outcome: pass\n", "    expect:\n      outcome: fail\n", 1
        )
        assert failing.count("outcome: fail") > _marked(original, "（三改）").count("outcome: fail")
        _write(watched, failing)
        examples = _wait_for_failure(server.url, watched, "example")
        assert examples["status"] == "loaded" and "示例" in examples["diagnostic"]["zh"]
        asker.wait_for("v2")
    finally:
        if asker is not None:
            asker.halt.set()
            asker.join(60)
        code = server.stop()

    assert asker.bad == []
    assert "mixed" not in asker.states
    assert "v3" not in asker.states
    first_v2 = asker.states.index("v2")
    assert set(asker.states[:first_v2]) == {"old"} and set(asker.states[first_v2:]) == {"v2"}
    assert code == 0
    assert "does not load or its examples fail" in server.log  # the log names the failed reloads
    assert "Traceback" not in server.log


# -- the watcher alone, in process ---------------------------------------------------------------


@pytest.fixture
def watched(tmp_path: Path) -> tuple[RulebookSet, RulebookWatcher, Path]:
    path = tmp_path / "checklist.yaml"
    path.write_text(_original(), encoding="utf-8")
    rulebooks = RulebookSet(ServeConfig(rulebook_paths=(tmp_path,)))
    rulebooks.load_all()
    return rulebooks, RulebookWatcher(rulebooks, interval=60, lang="en"), path


def test_saving_a_file_unchanged_reloads_nothing(watched: tuple[RulebookSet, RulebookWatcher, Path]) -> None:
    rulebooks, watcher, path = watched
    before = rulebooks.snapshot()
    path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert watcher.scan() == [] and watcher.reloads == 0
    assert rulebooks.snapshot() is before


def test_a_changed_file_is_reloaded_once(watched: tuple[RulebookSet, RulebookWatcher, Path]) -> None:
    rulebooks, watcher, path = watched
    path.write_text(_marked(_original(), "（修订）"), encoding="utf-8")
    [(seen, result)] = watcher.scan()
    assert seen == path.resolve() and result is not None and result.replaced
    assert watcher.scan() == []
    book = rulebooks.snapshot().version(NEW_ID, "2021-11")
    assert all(rule.cite.endswith("（修订）") for decision in book.book.book.decisions for rule in decision.rules)


def test_a_file_that_goes_away_keeps_its_version_serving(
    watched: tuple[RulebookSet, RulebookWatcher, Path], caplog: pytest.LogCaptureFixture
) -> None:
    rulebooks, watcher, path = watched
    path.unlink()
    assert watcher.scan() == []
    assert NEW_ID in rulebooks.snapshot().ids()
    assert "is gone" in caplog.text
