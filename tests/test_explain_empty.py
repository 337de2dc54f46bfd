"""`rulebook explain` of an input that holds no record is an error, never a silent success.

GIVEN an input that yields no record (whatever its format: an empty JSON or JSON Lines
file, blank lines only, an empty array, a CSV or XLSX header without rows, empty
standard input, a plugin's reader that yields nothing),
WHEN it is explained, in text or JSON, in English or Chinese,
THEN the run exits 2 with `error[input.empty]` naming the input on standard error,
nothing on standard output, and a help line that fits `explain` (which has no
`--allow-empty`, so the help does not offer it).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine import hookimpl
from engine.cli import main
from engine.evaluate import InputRef
from engine.hookspecs import RecordOptions
from engine.pluginmanager import PluginManager, get_plugin_manager, reset_plugin_manager

ROOT = Path(__file__).resolve().parent.parent
RB = str(ROOT / "tests" / "data" / "feed-silence" / "people.yaml")
HEADER = ["id", "name", "birth_date", "application_date"]
PERSON = {"id": "P-1", "name": "王芳", "birth_date": "1990-05-01", "application_date": "2024-03-01"}

HELP = {
    "en": "= help: there is nothing to explain: the input must hold at least one record",
    "zh": "= 帮助: 没有可解释的内容：输入中至少要有一条记录",
}


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


def _xlsx(path: Path, rows: list[list[Any]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)


def _what_it_holds(blank: int, lang: str) -> str:
    if lang == "zh":
        return f"中没有记录，只有 {blank} 个空行" if blank else "中没有记录"
    return f"holds no records, only blank lines ({blank})" if blank else "holds no records"


# name, content (text, or a function writing the file), blank lines the reader skips
EMPTY_INPUTS = [
    ("empty.jsonl", "", 0),
    ("blank.jsonl", "\n \n\n", 3),
    ("empty.json", "", 0),
    ("spaces.json", "  \n", 0),
    ("array.json", "[]", 0),
    ("header.csv", ",".join(HEADER) + "\n", 0),
    ("blank-rows.csv", ",".join(HEADER) + "\n,,,\n\n", 2),
    ("header.xlsx", lambda p: _xlsx(p, [HEADER]), 0),
]


@pytest.mark.parametrize(("name", "content", "blank"), EMPTY_INPUTS, ids=[e[0] for e in EMPTY_INPUTS])
@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_file_without_records_is_an_error(
    tmp_path: Path, name: str, content: Any, blank: int, fmt: str, lang: str
) -> None:
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = run("explain", RB, str(path), "--format", fmt, "--lang", lang)
    assert code == 2
    assert out == ""
    assert f"error[input.empty]: `{path}` {_what_it_holds(blank, lang)}\n" in err
    assert HELP[lang] in err
    assert "--allow-empty" not in err


@pytest.mark.parametrize(
    ("stdin", "input_format", "blank"),
    [("", "jsonl", 0), ("\n\n", "jsonl", 2), ("[]", "json", 0), (",".join(HEADER) + "\n", "csv", 0)],
    ids=["empty", "blank-lines", "empty-array", "csv-header"],
)
@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_empty_standard_input_is_an_error(stdin: str, input_format: str, blank: int, fmt: str, lang: str) -> None:
    code, out, err = run(
        "explain", RB, "-", "--input-format", input_format, "--format", fmt, "--lang", lang, stdin=stdin
    )
    assert code == 2
    assert out == ""
    assert f"error[input.empty]: `-` {_what_it_holds(blank, lang)}\n" in err
    assert HELP[lang] in err


def test_empty_standard_input_without_a_format_is_an_error() -> None:
    code, out, err = run("explain", RB, "-", stdin="")
    assert (code, out) == (2, "")
    assert "error[input.empty]: `-` 中没有记录\n" in err


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_one_record_is_explained_and_blank_lines_do_not_matter(tmp_path: Path, fmt: str) -> None:
    """The control: the same inputs with a record in them are explained as before."""
    path = tmp_path / "one.jsonl"
    path.write_text("\n" + json.dumps(PERSON, ensure_ascii=False) + "\n\n", encoding="utf-8")
    code, out, err = run("explain", RB, str(path), "--format", fmt, "--lang", "en")
    assert code == 0 and err == ""
    assert "P-1" in out
    csv = tmp_path / "one.csv"
    csv.write_text(",".join(HEADER) + "\n" + ",".join(PERSON.values()) + "\n", encoding="utf-8")
    code, out, err = run("explain", RB, str(csv), "--format", fmt, "--lang", "en")
    assert code == 0 and err == "" and "P-1" in out


def test_an_unreadable_record_is_not_an_empty_input(tmp_path: Path) -> None:
    """A record that cannot be read was still there: it is reported (exit 1), not `input.empty`."""
    path = tmp_path / "bad.jsonl"
    path.write_text("[1]\n", encoding="utf-8")
    code, out, err = run("explain", RB, str(path), "--lang", "en")
    assert code == 1
    assert "a record must be a JSON object" in out
    assert "input.empty" not in err


class _NothingReader:
    """A plugin's reader for `.nothing` files that yields no record."""

    @hookimpl
    def open_records(self, path: str, options: RecordOptions) -> Iterator[tuple[InputRef, Any]] | None:
        if not path.endswith(".nothing"):
            return None
        return iter(())


@pytest.fixture
def pm(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginManager]:
    """The process's plugin manager, fresh, with the built-ins only; forgotten again afterwards."""
    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "")
    monkeypatch.delenv("RULEBOOK_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("RULEBOOK_TRACE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield get_plugin_manager()
    reset_plugin_manager()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_plugin_reader_that_yields_nothing_is_an_error(pm: PluginManager, tmp_path: Path, lang: str) -> None:
    pm.register(_NothingReader(), "nothing")
    path = tmp_path / "feed.nothing"
    path.write_text("whatever the plugin makes of it", encoding="utf-8")
    code, out, err = run("explain", RB, str(path), "--format", "json", "--lang", lang)
    assert (code, out) == (2, "")
    assert f"error[input.empty]: `{path}` {_what_it_holds(0, lang)}\n" in err
    assert HELP[lang] in err
