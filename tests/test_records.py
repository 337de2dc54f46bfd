"""Reading input records: JSON object or array, JSON Lines, standard input; bad records do not stop a feed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from engine.errors import UsageError
from engine.evaluate import InputRef
from engine.io.records import BadRecord, read_records


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return str(p)


def summary(path: str, **kw: Any) -> list[tuple[int | None, Any]]:
    """(line, record id or "BAD") for every record read."""
    out: list[tuple[int | None, Any]] = []
    for ref, rec in read_records(path, **kw):
        assert isinstance(ref, InputRef)
        out.append((ref.line, "BAD" if isinstance(rec, BadRecord) else rec.get("id")))
    return out


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("one.json", '{"id": "a", "n": 1}\n', [(1, "a")]),
        ("lead.json", '\n\n  {"id": "a"}\n', [(3, "a")]),
        ("multi.json", '{"id": "a",\n "n": 1}', [(1, "a")]),
        (
            "array.json",
            '[\n  {"id": "a"},\n  {"id": "b",\n   "x": 1},\n\n  {"id": "c"}\n]\n',
            [(2, "a"), (3, "b"), (6, "c")],
        ),
        ("inline.json", '[{"id": "a"}, {"id": "b"}]', [(1, "a"), (1, "b")]),
        ("empty-array.json", "[]", []),
        ("empty.json", "  \n", []),
        ("bom.json", '\ufeff{"id": "a"}', [(1, "a")]),
    ],
    ids=[
        "object",
        "object-after-blank-lines",
        "object-over-lines",
        "array",
        "array-one-line",
        "empty-array",
        "empty-file",
        "bom",
    ],
)
def test_json(tmp_path: Path, name: str, text: str, expected: list[tuple[int, Any]]) -> None:
    assert summary(write(tmp_path, name, text)) == expected


def test_json_records_keep_their_content(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", '[{"id": "a", "tags": ["x"], "n": {"m": null}}]')
    [(ref, rec)] = list(read_records(path))
    assert ref == InputRef(path, 1)
    assert rec == {"id": "a", "tags": ["x"], "n": {"m": None}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"id": "a"} {"id": "b"}', [(1, "BAD")]),
        ('{"id": "a",\n "n": }', [(2, "BAD")]),
        ('[\n {"id": "a"},\n {"id": \n]', [(2, "a"), (4, "BAD")]),
        ('[\n {"id": "a"}\n {"id": "b"}\n]', [(2, "a"), (3, "BAD")]),
        ('[\n {"id": "a"},\n', [(2, "a"), (3, "BAD")]),
    ],
    ids=["extra-data", "broken-object", "broken-element", "missing-comma", "unclosed-array"],
)
def test_broken_json(tmp_path: Path, text: str, expected: list[tuple[int, Any]]) -> None:
    assert summary(write(tmp_path, "r.json", text)) == expected


def test_jsonl_broken_line_in_the_middle_goes_on(tmp_path: Path) -> None:
    path = write(tmp_path, "r.jsonl", '{"id": "a"}\n\n{"id": broken\n   \n{"id": "c"}\n')
    got = list(read_records(path))
    assert [ref.line for ref, _ in got] == [1, 3, 5]
    assert got[0][1] == {"id": "a"} and got[2][1] == {"id": "c"}
    bad = got[1][1]
    assert isinstance(bad, BadRecord)
    assert got[1][0] == InputRef(path, 3)
    assert bad.message.startswith("not valid JSON") and "column" in bad.message
    assert bad.message_zh.startswith("不是有效的 JSON")


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("r.jsonl", '{"id": "a"}\n{"id": "b"}\n', [(1, "a"), (2, "b")]),
        ("r.jsonl", '{"id": "a"}\r\n\r\n{"id": "b"}', [(1, "a"), (3, "b")]),
        ("r.ndjson", '{"id": "a"}\n', [(1, "a")]),
        ("R.JSONL", '{"id": "a"}\n', [(1, "a")]),
        ("r.jsonl", '\ufeff{"id": "a"}\n', [(1, "a")]),
        ("r.jsonl", "", []),
        ("r.jsonl", '{"id": "a"}\n[1, 2]\n"s"\n{"id": "b"}\n', [(1, "a"), (2, "BAD"), (3, "BAD"), (4, "b")]),
    ],
    ids=["plain", "crlf-and-blank", "ndjson", "upper-case-extension", "bom", "empty", "non-objects"],
)
def test_jsonl(tmp_path: Path, name: str, text: str, expected: list[tuple[int, Any]]) -> None:
    assert summary(write(tmp_path, name, text)) == expected


def test_not_utf8_is_a_bad_record(tmp_path: Path) -> None:
    path = write(tmp_path, "r.jsonl", b'{"id": "\xff"}\n')
    [(ref, rec)] = list(read_records(path))
    assert isinstance(rec, BadRecord) and "UTF-8" in rec.message
    assert ref.file == path


def test_a_line_that_is_not_utf8_stops_only_itself(tmp_path: Path) -> None:
    gbk = '{"id": "b", "name": "张三"}'.encode("gb18030")
    path = write(tmp_path, "r.jsonl", b'\xef\xbb\xbf{"id": "a"}\n' + gbk + b'\n{"id": "c", "name": "\xe6\x9d\x8e"}\n')
    [(r1, a), (r2, bad), (r3, c)] = list(read_records(path))
    assert (r1.line, a) == (1, {"id": "a"})
    assert r2.line == 2 and isinstance(bad, BadRecord)
    assert bad.message == "the line is not UTF-8 text (byte 0xd5 at byte 22 of the line)"
    assert "第 22 个字节 0xd5" in bad.message_zh
    assert (r3.line, c) == (3, {"id": "c", "name": "李"})


def test_explicit_format_overrides_the_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "records.txt", '{"id": "a"}\n{"id": "b"}\n')
    assert summary(path, input_format="jsonl") == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ('{"id": "a"}\n{"id": "b"}\n', None, [(1, "a"), (2, "b")]),
        ('[{"id": "a"},\n {"id": "b"}]', None, [(1, "a"), (2, "b")]),
        ('{"id": "a"}\nnope\n{"id": "c"}\n', None, [(1, "a"), (2, "BAD"), (3, "c")]),
        ('{"id": "a"}\n', "jsonl", [(1, "a")]),
        ('{"id": "a",\n "n": 1}', "json", [(1, "a")]),
        ("", None, []),
    ],
    ids=["jsonl", "json-array", "jsonl-broken-line", "explicit-jsonl", "explicit-json", "empty"],
)
def test_stdin(text: str, fmt: str | None, expected: list[tuple[int, Any]]) -> None:
    got = list(read_records("-", fmt, io.StringIO(text)))
    assert [(ref.line, "BAD" if isinstance(r, BadRecord) else r.get("id")) for ref, r in got] == expected


def test_stdin_is_named_dash() -> None:
    # CONTRACT / decision-output.schema.json: `input.file` is "the input file as given on the
    # command line (`-` for standard input)".
    [(ref, _)] = list(read_records("-", None, io.StringIO('{"id": "a"}\n')))
    assert ref.file == "-"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("records.txt", "usage.unknown-input-format"),
        ("records", "usage.unknown-input-format"),
        ("records.xls", "usage.unsupported-input"),
    ],
)
def test_unknown_extension_is_a_usage_error(tmp_path: Path, name: str, code: str) -> None:
    path = write(tmp_path, name, '{"id": "a"}\n')
    with pytest.raises(UsageError) as info:
        list(read_records(path))
    d = info.value.diagnostics[0]
    assert d.code == code
    assert name in d.message


@pytest.mark.parametrize("name", ["missing.jsonl", "missing.json"])
def test_missing_file_is_a_usage_error(tmp_path: Path, name: str) -> None:
    path = str(tmp_path / name)
    with pytest.raises(UsageError) as info:
        list(read_records(path))
    d = info.value.diagnostics[0]
    assert d.code == "usage.no-such-file"
    assert path in d.message
    assert d.message_zh is not None


def test_jsonl_is_streamed(tmp_path: Path) -> None:
    # The first record is available before the rest of the file is parsed.
    path = write(tmp_path, "r.jsonl", '{"id": "a"}\n' + '{"id": "x"}\n' * 1000)
    it = read_records(path)
    ref, rec = next(it)
    assert (ref.line, rec) == (1, {"id": "a"})
    assert sum(1 for _ in it) == 1000
