"""Line ends are taken off input lines in one place: ``engine.io.records.split_lines``.

A JSON Lines file read line by line (``read_raw_jsonl``, ``read_records``) and the
same file read in runs of whole lines by a ``--jobs`` feed give the same lines:
``\\n`` and ``\\r\\n`` ends removed, a ``\\r`` elsewhere kept, a last line without an
end kept, text and bytes alike.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.io import parallel
from engine.io.records import BLANK, _read_jsonl, read_raw_jsonl, read_records, split_lines

CASES = [
    ("", []),
    ("\n", [""]),
    ("a", ["a"]),
    ("a\n", ["a"]),
    ("a\r\n", ["a"]),
    ("a\r\r\n", ["a\r"]),
    ("a\rb\n", ["a\rb"]),
    ("a\n\nb\r\nc", ["a", "", "b", "c"]),
    ("\r\n\r\n", ["", ""]),
]


@pytest.mark.parametrize(("text", "lines"), CASES, ids=[repr(t) for t, _ in CASES])
def test_split_lines_text_and_bytes(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines
    assert split_lines(text.encode("utf-8")) == [line.encode("utf-8") for line in lines]


def test_the_line_reader_and_the_run_reader_agree(tmp_path: Path) -> None:
    body = '{"id": "a"}\r\n\n{"id": "b"}\n  \r\n{"id":\r"c"}\r\n{"id": "中"}'
    path = tmp_path / "f.jsonl"
    path.write_bytes(body.encode("utf-8"))
    by_line = [(ref.line, line) for ref, line in read_raw_jsonl(str(path)) if line is not BLANK]
    by_run = [
        (number + i, line)
        for size in (1, 5, 1 << 16)
        for _name, number, lines in parallel._chunks(str(path), size)
        for i, line in enumerate(lines)
        if line.strip()
    ]
    assert by_line == [(1, b'{"id": "a"}'), (3, b'{"id": "b"}'), (5, b'{"id":\r"c"}'), (6, '{"id": "中"}'.encode())]
    assert by_run == by_line * 3
    # a text stream (standard input) reads the same records
    records = [r for _ref, r in read_records("-", stdin=io.StringIO(body)) if r is not BLANK]
    assert [r["id"] for r in records] == ["a", "b", "c", "中"]


class Pipe:
    """A binary stream whose ``read1`` gives what has been written so far, one piece a call."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.calls = 0

    def read1(self, size: int) -> bytes:
        self.calls += 1
        return self.pieces.pop(0) if self.pieces else b""


def test_a_pipe_s_records_come_as_their_lines_end() -> None:
    pipe = Pipe([b'{"id": "a"}\n{"id"', b': "b"}\r\n', b"\n", b'{"id": "c"}'])
    reader = _read_jsonl(pipe, "-")
    ref, record = next(reader)
    assert (ref.line, record["id"], pipe.calls) == (1, "a", 1)  # not waiting for more than the first line
    ref, record = next(reader)
    assert (ref.line, record["id"], pipe.calls) == (2, "b", 2)
    assert [(ref.line, r if r is BLANK else r["id"]) for ref, r in reader] == [(3, BLANK), (4, "c")]
