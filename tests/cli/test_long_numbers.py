"""A number of more digits than Python converts (4,300 by default) is the record's own error, in
every way records are read: one JSON Lines line, a .json object, an element of a .json array, with
and without --jobs. It never stops the feed with an internal error."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
RB = "hlj-musicians/membership"
LONG = "9" * (sys.get_int_max_str_digits() + 700)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def first_applicant() -> str:
    return (ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.parametrize("jobs", [[], ["--jobs", "2"]])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_jsonl_line_with_a_huge_number_is_that_lines_error(tmp_path: Path, jobs: list[str], lang: str) -> None:
    feed = tmp_path / "feed.jsonl"
    good = first_applicant()
    feed.write_text(f'{good}\n{{"id": "X", "n": {LONG}}}\n{good}\n', encoding="utf-8")
    code, out, err = run("check", RB, str(feed), "--format", "json", "--lang", lang, *jobs)
    lines = [json.loads(line) for line in out.splitlines()]
    assert "internal error" not in err and "内部错误" not in err
    assert [d["input"]["line"] for d in lines] == [1, 2, 3]
    assert [d["outcome"] for d in lines][1] == "error"
    message = lines[1]["message"]
    assert str(sys.get_int_max_str_digits()) in message
    assert ("string" in message) if lang == "en" else ("字符串" in message)
    assert lines[0]["outcome"] == lines[2]["outcome"] != "error"
    assert code in (1, 2)


def test_a_json_object_or_array_element_with_a_huge_number(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(f'{{"id": "X", "n": {LONG}}}', encoding="utf-8")
    _, out, err = run("check", RB, str(one), "--format", "json", "--lang", "en")
    (decision,) = [json.loads(line) for line in out.splitlines()]
    assert decision["outcome"] == "error" and "digits" in decision["message"] and not err.strip().startswith("Trace")
    many = tmp_path / "many.json"
    many.write_text(f'[{first_applicant()},\n{{"id": "X", "n": {LONG}}}]', encoding="utf-8")
    _, out, err = run("check", RB, str(many), "--format", "json", "--lang", "en")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [d["input"]["line"] for d in lines] == [1, 2]
    assert lines[0]["outcome"] != "error" and lines[1]["outcome"] == "error"
    assert "internal error" not in err
