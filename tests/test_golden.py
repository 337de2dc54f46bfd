"""Golden decision files: records in, CONTRACT decision objects out, compared as parsed JSON.

``tests/golden/<rulebook id>/<decision>/<case>.jsonl`` holds the records and
``<case>.expected.<lang>.jsonl`` what `rulebook check --format json` prints for
them.  ``pytest --update-golden`` rewrites the expected files; read the diff.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from engine.cli import main
from engine.schemas import load_schema

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p for p in GOLDEN.rglob("*.jsonl") if ".expected." not in p.name)


def _parse(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", CASES, ids=[str(c.relative_to(GOLDEN)) for c in CASES])
def test_golden(case: Path, lang: str, root: Path, monkeypatch: pytest.MonkeyPatch, update_golden: bool) -> None:
    monkeypatch.chdir(root)
    decision = case.parent.name
    rulebook = case.parent.parent.relative_to(GOLDEN).as_posix()
    out = io.StringIO()
    main(
        [
            "check",
            rulebook,
            case.relative_to(root).as_posix(),
            "--decision",
            decision,
            "--format",
            "json",
            "--lang",
            lang,
        ],
        stdout=out,
        stderr=io.StringIO(),
    )
    expected_file = case.with_name(f"{case.stem}.expected.{lang}.jsonl")
    if update_golden or not expected_file.exists():
        expected_file.write_text(out.getvalue(), encoding="utf-8")
    got = _parse(out.getvalue())
    assert got == _parse(expected_file.read_text(encoding="utf-8"))
    schema = load_schema("decision-output.schema.json")
    for obj in got:
        jsonschema.validate(obj, schema)
    records = [line for line in case.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(got) == len(records)  # every input record gets exactly one result
