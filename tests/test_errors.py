"""Malformed rulebooks under tests/data/errors/ and the exact text `rulebook lint` prints for each.

Each ``<case>.yaml`` has a ``<case>.expected.txt`` beside it: file, line,
column, code, the source line, the caret and the help, exactly as a user sees
them.  ``pytest --update-golden`` rewrites the expected files; read the diff.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.cli import main

ERRORS = Path(__file__).resolve().parent / "data" / "errors"
CASES = sorted(ERRORS.glob("*.yaml"))


def lint_output(path: Path, root: Path, lang: str = "en") -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["lint", str(path.relative_to(root)), "--lang", lang], stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_error_rendering(case: Path, root: Path, monkeypatch: pytest.MonkeyPatch, update_golden: bool) -> None:
    monkeypatch.chdir(root)
    code, text = lint_output(case, root)
    expected_file = case.with_suffix(".expected.txt")
    if update_golden or not expected_file.exists():
        expected_file.write_text(text, encoding="utf-8")
    assert code == 2
    assert "Traceback" not in text
    assert text == expected_file.read_text(encoding="utf-8")


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40


def test_messages_in_chinese(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    code, text = lint_output(ERRORS / "assignment.yaml", root, lang="zh")
    assert code == 2
    assert "error[syntax.assignment]" in text
    assert "`=` 不能用来比较" in text
    assert "= 帮助:" in text
