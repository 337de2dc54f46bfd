"""The disk cache of built rulebooks (``engine/cache.py``): a pure speed-up.

Every bundled rulebook built through the cache, read back from it (before and after its
decisions were compiled) and built without it decides every embedded example alike; entries
that are corrupt, foreign or stale are ignored and rebuilt; a rulebook with errors is never
stored; the directory is private and a shared one is not used.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import cache, cachedir
from engine.build import load_rulebook
from engine.errors import EngineError
from engine.registry import bundled_rulebook_paths

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache directory for this test (nothing stored by earlier tests)."""
    where = tmp_path / "cache"
    monkeypatch.setenv("RULEBOOK_CACHE_DIR", str(where))
    monkeypatch.delenv("RULEBOOK_NO_CACHE", raising=False)
    cache._PENDING.clear()
    yield where
    cache._PENDING.clear()


class Counting:
    """``load_rulebook`` counting its calls: a build, as opposed to a read from the cache."""

    def __init__(self) -> None:
        self.builds = 0

    def __call__(self, path: Path, text: bytes) -> Any:
        self.builds += 1
        return load_rulebook(path, text)


def through_cache(path: Path, build: Callable[[Path, bytes], Any] | None = None) -> Any:
    return cache.load_or_build(path, path.read_bytes(), build or load_rulebook)


def entries(where: Path) -> list[Path]:
    folder = where / "rulebooks"
    return sorted(folder.glob("*.rbc")) if folder.is_dir() else []


def decide_examples(book: Any) -> list[tuple[Any, ...]]:
    """Every embedded example decided, as everything a report shows of it."""
    out = []
    for ex in book.book.examples:
        d = book.decision(ex.decision).evaluate(ex.record, ex.as_of)
        out.append(
            (ex.name, str(d.outcome), d.to_json("en"), d.to_json("zh"), d.to_json_text("en"), d.to_json_bytes("zh"))
        )
    return out


def warnings_of(book: Any) -> list[str]:
    return [w.render("en") if hasattr(w, "render") else str(w) for w in book.warnings]


@pytest.mark.parametrize("path", bundled_rulebook_paths(), ids=lambda p: p.name)
def test_a_cached_build_decides_every_example_as_an_uncached_one(
    path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the rulebook built without the cache
    monkeypatch.setenv("RULEBOOK_NO_CACHE", "1")
    plain = load_rulebook(path)
    expected = decide_examples(plain)
    monkeypatch.delenv("RULEBOOK_NO_CACHE")
    # WHEN it is built through the cache and stored with its decisions not yet compiled
    counting = Counting()
    built = through_cache(path, counting)
    cache.flush()
    assert counting.builds == 1 and len(entries(cache_dir)) == 1
    # THEN the stored one decides alike (its decisions compiled on first use) ...
    lazy = through_cache(path, counting)
    assert counting.builds == 1 and lazy is not built
    assert decide_examples(lazy) == expected
    # ... and, stored again with its decisions compiled, the next read decides alike too
    cache.flush()
    compiled = through_cache(path, counting)
    assert counting.builds == 1
    assert all(d._lazy is None for d in compiled.decisions.values())
    assert decide_examples(compiled) == expected
    assert decide_examples(built) == expected
    assert warnings_of(compiled) == warnings_of(plain)
    assert compiled.source == plain.source and compiled.book == plain.book


def test_entries_hold_no_record_data(cache_dir: Path) -> None:
    path = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
    book = through_cache(path)
    name = "王小明-不应出现在缓存里"
    for ex in book.book.examples:
        if isinstance(ex.record, dict) and "name" in ex.record:
            record = dict(ex.record, name=name)
            d = book.decision(ex.decision).evaluate(record, ex.as_of)
            d.to_json_text("zh"), d.to_json("en"), d.to_json_bytes("zh")  # traces compiled and used
            break
    else:
        pytest.fail("no example with a name")
    cache.flush()
    (entry,) = entries(cache_dir)
    assert name.encode("utf-8") not in entry.read_bytes()


def test_the_directory_is_private(cache_dir: Path) -> None:
    through_cache(ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml")
    cache.flush()
    for folder in (cache_dir, cache_dir / "rulebooks"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not [p for p in (cache_dir / "rulebooks").iterdir() if p.name.startswith(".tmp-")]


def test_a_directory_others_can_write_to_is_not_used(cache_dir: Path) -> None:
    cache_dir.mkdir(mode=0o700)
    os.chmod(cache_dir, 0o777)  # noqa: S103 - the point of the test
    cachedir.forget_dirs()
    counting = Counting()
    path = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
    through_cache(path, counting)
    cache.flush()
    through_cache(path, counting)
    assert counting.builds == 2
    assert not (cache_dir / "rulebooks").exists()
    cachedir.forget_dirs()


def test_rulebook_no_cache_turns_it_off(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEBOOK_NO_CACHE", "1")
    counting = Counting()
    path = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
    through_cache(path, counting)
    cache.flush()
    through_cache(path, counting)
    assert counting.builds == 2
    assert not cache_dir.exists()


@pytest.mark.parametrize("damage", ["flip a payload byte", "truncate", "garbage", "another engine", "empty"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rebuilt(damage: str, cache_dir: Path) -> None:
    path = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
    through_cache(path)
    cache.flush()
    (entry,) = entries(cache_dir)
    data = entry.read_bytes()
    if damage == "flip a payload byte":
        data = data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = os.urandom(4096)
    elif damage == "another engine":
        data = data.replace(cache.engine_fingerprint().encode(), b"0" * 64, 1)
    else:
        data = b""
    entry.write_bytes(data)
    counting = Counting()
    book = through_cache(path, counting)
    assert counting.builds == 1
    assert book.id == "hlj-musicians/membership"
    cache.flush()  # the rebuilt one replaces the damaged entry
    assert through_cache(path, counting) is not book and counting.builds == 1


def test_a_rulebook_with_errors_is_never_stored(cache_dir: Path) -> None:
    bad = cache_dir.parent / "bad.yaml"
    text = (ROOT / "examples" / "mistake.yaml").read_text(encoding="utf-8")
    bad.write_text(text, encoding="utf-8")
    for _ in range(2):
        with pytest.raises(EngineError):
            through_cache(bad)
        cache.flush()
        assert entries(cache_dir) == []


def test_an_edited_rulebook_or_record_schema_is_built_again(cache_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "books"
    folder.mkdir()
    schema = folder / "thing.schema.json"
    schema.write_text(
        '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}', encoding="utf-8"
    )
    book_path = folder / "thing.yaml"
    text = """rulebook: 1
id: demo/thing
version: "1"
status: in_force
effective_from: "2024-01-01"
title: {zh: 测试, en: test}
source: {title: test}
decisions:
  ok:
    record: thing.schema.json
    rules:
      - id: big
        article: 1
        cite: "1"
        require: record.n > 1
        message: {zh: 太小, en: too small}
"""
    book_path.write_text(text, encoding="utf-8")
    counting = Counting()
    try:
        first = through_cache(book_path, counting)
    except EngineError as e:  # the test's own rulebook must build
        pytest.fail("\n".join(d.render("en") for d in e.diagnostics))
    assert str(first.decision("ok").evaluate({"n": 2}, "2025-01-01").outcome) == "pass"
    cache.flush()
    through_cache(book_path, counting)
    assert counting.builds == 1
    # the record schema beside it changes: n becomes a string, the rule no longer checks
    schema.write_text(
        '{"type": "object", "properties": {"n": {"type": "string"}}, "required": ["n"]}', encoding="utf-8"
    )
    with pytest.raises(EngineError):
        through_cache(book_path, counting)
    assert counting.builds == 2
    schema.write_text(
        '{"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}', encoding="utf-8"
    )
    # the rulebook changes
    book_path.write_text(text.replace("record.n > 1", "record.n > 5"), encoding="utf-8")
    second = through_cache(book_path, counting)
    assert counting.builds == 3
    assert str(second.decision("ok").evaluate({"n": 2}, "2025-01-01").outcome) == "fail"


def test_a_plugin_registered_in_process_is_not_cached(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.pluginmanager import get_plugin_manager, reset_plugin_manager

    class Nothing:
        pass

    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "")
    reset_plugin_manager()
    try:
        get_plugin_manager().register(Nothing(), "nothing")
        counting = Counting()
        path = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
        through_cache(path, counting)
        cache.flush()
        through_cache(path, counting)
        assert counting.builds == 2
        assert entries(cache_dir) == []
    finally:
        reset_plugin_manager()


def _run(args: list[str], where: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RULEBOOK_CACHE_DIR=str(where), PYTHONPATH=str(ROOT))
    env.pop("RULEBOOK_NO_CACHE", None)
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_command_line_says_the_same_from_the_cache(tmp_path: Path) -> None:
    where = tmp_path / "cache"
    args = ["check", "hlj-musicians/membership", "examples/applicant.json", "--as-of", "2026-03-01", "--format", "json"]
    cold = _run(args, where)
    assert entries(where), cold.stderr
    assert list((where / "plain").glob("*.rbp"))  # the rulebook headers
    assert list(where.glob("lark-grammar-*.cache"))
    warm = _run(args, where)
    assert (warm.returncode, warm.stdout, warm.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    explain = ["explain", "hlj-musicians/membership", "examples/applicant.json", "--as-of", "2026-03-01"]
    assert _run(explain, where).stdout == _run(explain, tmp_path / "other").stdout
    listed = _run(["list"], where)
    assert listed.stdout == _run(["list"], tmp_path / "third").stdout
    # rulebook test names each example's line: from the cache, the same lines
    test = ["test", "-v", "hlj-musicians/membership"]
    first = _run(test, where)
    assert first.returncode == 0, first.stderr
    assert _run(test, where).stdout == first.stdout == _run(test, tmp_path / "fourth").stdout


def test_the_condition_parser_reads_its_tables_from_the_cache(tmp_path: Path) -> None:
    where = tmp_path / "cache"
    code = (
        "from engine.lang.parser import parse_condition\n"
        "print(repr(parse_condition('record.age >= 18 && size(record.items.filter(i, i.ok)) > 0')))\n"
        "try:\n    parse_condition('record.age = 18')\nexcept Exception as e:\n    print(e)\n"
    )
    env = dict(os.environ, RULEBOOK_CACHE_DIR=str(where), PYTHONPATH=str(ROOT))
    env.pop("RULEBOOK_NO_CACHE", None)
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=120)
        for _ in range(2)
    ]
    (table,) = where.glob("lark-grammar-*.cache")
    assert stat.S_IMODE(table.stat().st_mode) == 0o600
    assert runs[0].stdout == runs[1].stdout
    assert "==" in runs[0].stdout  # the "did you mean" of the syntax error, from the cached parser too


def test_lint_reports_the_same_warnings_from_the_cache(cache_dir: Path, tmp_path: Path) -> None:
    from engine.tools.lint import lint_file

    folder = tmp_path / "people"
    shutil.copytree(ROOT / "tests" / "data" / "feed-silence", folder)
    path = folder / "people.yaml"
    text = path.read_text(encoding="utf-8")
    # a rule that reads neither the record nor the date: a lint.constant-condition warning
    path.write_text(
        text.replace(
            "        require: size(record.name) <= max_name",
            "        when: max_name > 1\n        require: size(record.name) <= max_name",
        ),
        encoding="utf-8",
    )

    def rendered(diags: list[Any]) -> list[tuple[str, str, str, str]]:
        return [(d.code, d.severity, d.render("en"), d.render("zh")) for d in diags]

    first = rendered(lint_file(path))
    assert "lint.constant-condition" in {code for code, *_ in first}
    assert len(list((cache_dir / "lint").glob("*.rbl"))) == 1
    assert rendered(lint_file(path)) == first
    # an error is never stored: linted anew each time
    path.write_text(text.replace("record.birth_date, as_of", "record.birth_dat, as_of"), encoding="utf-8")
    broken = rendered(lint_file(path))
    assert "check.unknown-field" in {code for code, *_ in broken}
    assert rendered(lint_file(path)) == broken
    assert len(list((cache_dir / "lint").glob("*.rbl"))) == 1


def test_a_rulebook_from_the_cache_needs_nothing_of_the_builder(tmp_path: Path) -> None:
    """A warm one-record check imports neither the builder nor YAML: what a compiled rulebook refers to
    (getters, lazy compilation, classes) is named by the module that defines it, below ``build``."""
    where = tmp_path / "cache"
    args = ["check", "hlj-musicians/membership", "examples/applicant.json", "--as-of", "2026-03-01"]
    assert _run(args, where).returncode in (0, 1)
    env = dict(os.environ, RULEBOOK_CACHE_DIR=str(where), PYTHONPATH=str(ROOT))
    env.pop("RULEBOOK_NO_CACHE", None)
    probe = (
        "import sys, contextlib, io\n"
        "from engine.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main({args!r})\n"
        "print(sorted(m for m in ('engine.build', 'engine.yamlload', 'yaml') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
