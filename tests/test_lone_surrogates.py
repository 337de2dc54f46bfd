"""A record's JSON may escape a lone surrogate (``"\\ud800"``): Python reads it as a character that
UTF-8 cannot encode. Every report still writes (the character as its escape again), never an
internal error, and JSON reports read back to the same text."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from engine.cli import main

RECORD = (
    '{"id": "S\\ud800", "name": "x\\udfff", "citizenship": "CN", "province": "\\ud800", "birth_date": "1980-01-01", '
    '"application_date": "2026-03-01", "occupations": ["\\ud800"], "accepts_charter": true, "self_applied": true}\n'
)
FORMATS = ["json", "text", "junit", "sarif", "github", "html", "parquet"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_report_writes_a_lone_surrogate_as_its_escape(tmp_path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    feed = tmp_path / "surrogates.jsonl"
    feed.write_text(RECORD, encoding="utf-8")
    target = tmp_path / f"out.{fmt}"
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["check", "hlj-musicians/membership", str(feed), "--format", fmt, "--output", str(target), "--lang", "en"],
        stdout=out,
        stderr=err,
    )
    assert code == 1, err.getvalue()
    assert "internal error" not in err.getvalue()
    data = target.read_bytes()
    assert data
    if fmt == "json":
        decision = json.loads(data)
        assert decision["record"] == "S\ud800"
        assert decision["outcome"] == "fail"
    elif fmt == "junit":
        assert b"<testcase" in data and b"\xed\xa0\x80" not in data  # XML has no such character: left out
    elif fmt != "parquet":
        assert b"\\ud800" in data  # the escape, in UTF-8


def test_standard_output_and_explain_write_it_too(tmp_path: Path) -> None:
    feed = tmp_path / "surrogates.jsonl"
    feed.write_text(RECORD, encoding="utf-8")
    for argv in (["check", "hlj-musicians/membership", str(feed)], ["explain", "hlj-musicians/membership", str(feed)]):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace")
        err = io.StringIO()
        code = main([*argv, "--lang", "en"], stdout=out, stderr=err)
        out.flush()
        assert code in (0, 1), err.getvalue()
        assert b"\\ud800" in raw.getvalue()
