"""Finding rulebooks by id, id@version or path, and the version in force on a date."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from engine.errors import CheckError, RulebookError, UsageError
from engine.evaluate import CompiledRulebook
from engine.registry import Registry, RulebookEntry

ROOT = Path(__file__).resolve().parents[1]

D = dt.date
BUNDLED = "hlj-musicians/membership"


def entry(rid: str, version: str, status: str, start: str, end: str | None = None) -> RulebookEntry:
    return RulebookEntry(rid, version, status, start, end, f"{rid} {version}", Path(f"/nowhere/{version}.yaml"))


REGISTRY = Registry(
    [
        entry("acme/rules", "2019", "repealed", "2019-01-01", "2020-06-30"),
        entry("acme/rules", "2021", "in_force", "2021-01-01"),
        entry("acme/rules", "2023", "in_force", "2023-07-01"),
        entry("acme/rules", "2030-draft", "draft", "2025-01-01"),
        entry("acme/other", "1", "draft", "2020-01-01"),
    ]
)


@pytest.fixture(scope="module")
def default() -> Registry:
    return Registry.default()


# -- the bundled rulebooks -------------------------------------------------------------------------


def test_default_lists_the_bundled_rulebook(default: Registry) -> None:
    assert BUNDLED in default.ids()
    [e] = [e for e in default.versions(BUNDLED) if e.version == "2022-04-15"]
    assert e.status == "in_force"
    assert e.effective_from == "2022-04-15"
    assert e.path.name == "membership.yaml" and e.path.is_file()
    assert e.title == "黑龙江省音乐家协会个人会员服务管理办法"


@pytest.mark.parametrize("name", [BUNDLED, f"{BUNDLED}@2022-04-15"], ids=["id", "id@version"])
def test_find_bundled(default: Registry, name: str) -> None:
    e = default.find(name, D(2026, 3, 1))
    assert (e.id, e.version) == (BUNDLED, "2022-04-15")


def test_find_uses_today_by_default(default: Registry) -> None:
    assert default.find(BUNDLED).version == "2022-04-15"


@pytest.mark.parametrize(
    ("name", "on", "code", "help"),
    [
        ("hlj-musicians/membershp", None, "usage.unknown-rulebook", f"did you mean `{BUNDLED}`?"),
        ("hlj-musician/membership@2022-04-15", None, "usage.unknown-rulebook", f"did you mean `{BUNDLED}`?"),
        ("nothing/like-it", None, "usage.unknown-rulebook", None),
        (f"{BUNDLED}@2099-01-01", None, "usage.unknown-version", "versions: `2022-04-15`"),
        (BUNDLED, D(2022, 4, 14), "usage.no-version-in-force", None),
    ],
    ids=["typo", "typo-with-version", "unknown", "unknown-version", "before-in-force"],
)
def test_find_errors(default: Registry, name: str, on: dt.date | None, code: str, help: str | None) -> None:
    with pytest.raises(UsageError) as info:
        default.find(name, on)
    d = info.value.diagnostics[0]
    assert d.code == code
    if help is not None:
        assert d.help == help
    if code == "usage.no-version-in-force":
        assert "2022-04-14" in d.message
        assert d.help is not None and "`2022-04-15`" in d.help


def test_load_bundled_by_id(default: Registry) -> None:
    book = default.load(BUNDLED, D(2026, 3, 1))
    assert isinstance(book, CompiledRulebook)
    assert (book.id, book.version) == (BUNDLED, "2022-04-15")
    assert "admission" in book.decisions
    assert default.load(f"{BUNDLED}@2022-04-15") is book  # built once


# -- choosing a version --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "version"),
    [
        (D(2021, 1, 1), "2021"),
        (D(2023, 6, 30), "2021"),
        (D(2023, 7, 1), "2023"),  # among several in force, the latest effective_from
        (D(2027, 1, 1), "2023"),  # a draft is never picked by id alone
    ],
)
def test_version_in_force(on: dt.date, version: str) -> None:
    assert REGISTRY.find("acme/rules", on).version == version


@pytest.mark.parametrize(
    ("name", "on", "code"),
    [
        ("acme/rules", D(2018, 12, 31), "usage.no-version-in-force"),
        ("acme/rules", D(2019, 6, 1), "usage.no-version-in-force"),  # the repealed 2019: only by name
        ("acme/rules", D(2020, 7, 1), "usage.no-version-in-force"),  # after 2019 ended, before 2021 began
        ("acme/other", D(2024, 1, 1), "usage.draft-only"),  # only a draft: says how to name it
    ],
    ids=["before-first", "repealed", "gap", "draft-only"],
)
def test_no_version_in_force(name: str, on: dt.date, code: str) -> None:
    with pytest.raises(UsageError) as info:
        REGISTRY.find(name, on)
    assert info.value.diagnostics[0].code == code


def test_drafts_are_found_by_version() -> None:
    assert REGISTRY.find("acme/rules@2030-draft").status == "draft"
    assert REGISTRY.find("acme/other@1").version == "1"


@pytest.mark.parametrize(
    ("e", "on", "expected"),
    [
        (entry("a/b", "1", "in_force", "2020-01-01"), D(2019, 12, 31), False),
        (entry("a/b", "1", "in_force", "2020-01-01"), D(2020, 1, 1), True),
        (entry("a/b", "1", "in_force", "2020-01-01", "2020-12-31"), D(2020, 12, 31), True),
        (entry("a/b", "1", "in_force", "2020-01-01", "2020-12-31"), D(2021, 1, 1), False),
        (entry("a/b", "1", "repealed", "2020-01-01", "2020-12-31"), D(2020, 6, 1), False),
        (entry("a/b", "1", "draft", "2020-01-01"), D(2021, 1, 1), False),
    ],
    ids=["before", "first-day", "last-day", "after", "repealed", "draft"],
)
def test_in_force_on(e: RulebookEntry, on: dt.date, expected: bool) -> None:
    assert e.in_force_on(on) is expected


def test_ids_and_versions_are_sorted() -> None:
    assert REGISTRY.ids() == ["acme/other", "acme/rules"]
    assert [e.version for e in REGISTRY.versions("acme/rules")] == ["2019", "2021", "2023", "2030-draft"]


# -- by path ------------------------------------------------------------------------------------

RULEBOOK = """\
rulebook: 1
id: local/test
version: "7"
status: draft
effective_from: "2020-01-01"
title: {zh: 测试, en: test}
source: {title: T}
decisions:
  d:
    record: thing.json
    rules:
      - id: positive
        article: 1
        cite: 第一条
        require: record.n > 0
        message: {zh: 不是正数, en: not positive}
"""


def write_rulebook(tmp_path: Path, text: str = RULEBOOK) -> Path:
    (tmp_path / "thing.json").write_text(
        json.dumps({"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer"}}}),
        encoding="utf-8",
    )
    path = tmp_path / "local.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_by_path(tmp_path: Path) -> None:
    path = write_rulebook(tmp_path)
    book = REGISTRY.load(str(path))
    assert (book.id, book.version) == ("local/test", "7")
    d = book.decision("d").evaluate({"id": "x", "n": 0}, "2024-01-01")
    assert str(d.outcome) == "fail"
    assert REGISTRY.load(str(path)) is book  # unchanged file: built once


def test_load_by_path_rebuilds_a_changed_file(tmp_path: Path) -> None:
    path = write_rulebook(tmp_path)
    first = REGISTRY.load(str(path))
    path.write_text(RULEBOOK.replace('version: "7"', 'version: "70"'), encoding="utf-8")
    assert REGISTRY.load(str(path)).version == "70"
    assert first.version == "7"


def test_load_missing_yaml_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        REGISTRY.load(str(tmp_path / "nope.yaml"))
    assert info.value.diagnostics[0].code == "usage.no-such-file"


def test_load_a_broken_rulebook_file_raises_its_diagnostics(tmp_path: Path) -> None:
    path = write_rulebook(tmp_path, RULEBOOK.replace("record.n > 0", "record.nn > 0"))
    with pytest.raises(CheckError) as info:
        REGISTRY.load(str(path))
    assert isinstance(info.value, RulebookError)
    assert info.value.diagnostics[0].code == "check.unknown-field"


def test_load_unknown_id_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        REGISTRY.load("nobody/nothing")


def test_a_rulebook_is_built_again_when_its_text_changes(tmp_path: Path) -> None:
    """Compiled rulebooks are remembered by content: an edit that keeps the file's size and
    modification time is still a new build."""
    import os

    src = (ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml").read_text(encoding="utf-8")
    path = tmp_path / "membership.yaml"
    path.write_text(src, encoding="utf-8")
    registry = Registry([])
    first = registry.load_path(path)
    assert registry.load_path(path) is first
    stat = path.stat()
    edited = src.replace("  min_age:\n    value: 18\n", "  min_age:\n    value: 17\n", 1)
    assert edited != src and len(edited) == len(src)
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = registry.load_path(path)
    assert second is not first
    record = json.loads((ROOT / "examples" / "applicant.json").read_text(encoding="utf-8"))
    record["birth_date"] = "2007-06-01"
    record["application_date"] = "2024-12-01"  # 17 then
    assert first.decision("admission").evaluate(record).status_of("adult") == "fail"
    assert second.decision("admission").evaluate(record).status_of("adult") == "pass"
