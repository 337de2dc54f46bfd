"""The pytest plugin (installed through the `pytest11` entry point): rulebook examples collected
as test items, failures shown rule by rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "rulebooks"
ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _rulebook(tmp_path: Path, wrong: bool) -> Path:
    text = (DATA / "mini.yaml").read_text(encoding="utf-8")
    text += """examples:
  - name: grown-up
    decision: admission
    record: {id: A, birth_date: "1990-01-01", application_date: "2024-06-01"}
    expect: {outcome: pass, rules: {adult: pass}}
  - name: child
    decision: admission
    record: {id: B, birth_date: "2015-01-01", application_date: "2024-06-01"}
    expect: {outcome: %s, rules: {adult: %s}}
""" % (("pass", "pass") if wrong else ("fail", "fail"))
    (tmp_path / "mini.schema.json").write_text(
        (DATA / "mini.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = tmp_path / "mini.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_examples_become_items(tmp_path: Path) -> None:
    _rulebook(tmp_path, wrong=False)
    result = _run(tmp_path, "--rulebook-examples", "mini.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    listed = _run(tmp_path, "--rulebook-examples", "mini.yaml", "--collect-only")
    assert "mini.yaml::grown-up" in listed.stdout and "mini.yaml::child" in listed.stdout
    selected = _run(tmp_path, "--rulebook-examples", "mini.yaml", "-k", "child")
    assert "1 passed, 1 deselected" in selected.stdout


def test_a_wrong_example_fails_rule_by_rule_with_its_line(tmp_path: Path) -> None:
    _rulebook(tmp_path, wrong=True)
    result = _run(tmp_path, "--rulebook-examples", "mini.yaml")
    assert result.returncode == 1
    assert "1 failed, 1 passed" in result.stdout
    assert "example `child` (mini.yaml:" in result.stdout
    assert "rule adult: expected pass, got fail" in result.stdout


def test_nothing_is_collected_without_the_option(tmp_path: Path) -> None:
    _rulebook(tmp_path, wrong=True)
    result = _run(tmp_path, "mini.yaml")
    assert result.returncode in (4, 5)  # no tests collected / usage: not a test file


def test_a_broken_rulebook_is_one_failing_item(tmp_path: Path) -> None:
    path = _rulebook(tmp_path, wrong=False)
    path.write_text(path.read_text(encoding="utf-8").replace("record.birth_date", "record.birth_dat"), encoding="utf-8")
    result = _run(tmp_path, "--rulebook-examples", "mini.yaml")
    assert result.returncode == 1
    assert "error[check.unknown-field]" in result.stdout
