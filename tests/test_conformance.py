"""The cel-spec conformance cases, through ``engine.conformance`` (the runner's adapter).

The cases are vendored in ``tests/data/conformance/cel-simple-plain.jsonl``
(with their Apache-2.0 licence and provenance beside them), so every clone runs
them; the environment variable ``RULEBOOK_CONFORMANCE_FILE`` names another
file in the same format (e.g. a newer conversion) to run instead.  Every
plain core case runs (not an extension library's, not one marked
unsupported) and must give exactly the expected value (int, uint and double
are distinct), or an error where one is expected.

Cases the engine is known to get wrong are listed in ``KNOWN_FAILURES`` with
the reason; they run as strict xfails, so that a fix shows up as a failure
until the entry is removed: the list can only shrink.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from engine import conformance as C

ROOT = Path(__file__).resolve().parent.parent
CASES_FILE = Path(
    os.environ.get("RULEBOOK_CONFORMANCE_FILE") or ROOT / "tests" / "data" / "conformance" / "cel-simple-plain.jsonl"
)

# "file/section/name" -> why the engine does not pass it.  Empty: every plain core case passes.
KNOWN_FAILURES: dict[str, str] = {}


def _load() -> list[dict[str, Any]]:
    # A missing file is an error, never a skip: the cases ship with the tests.
    with CASES_FILE.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ALL_CASES = _load()
CORE = [c for c in ALL_CASES if "ext" not in c and "unsupported" not in c["expected"]]


def case_id(case: dict[str, Any]) -> str:
    return f"{case['file']}/{case['section']}/{case['name']}"


def _params() -> list[Any]:
    out = []
    for case in CORE:
        reason = KNOWN_FAILURES.get(case_id(case))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(case, id=case_id(case), marks=marks))
    return out


def run_case(case: dict[str, Any], engine: str = "compiled") -> tuple[str, Any]:
    """("value", v) or ("error", exception) for one case."""
    bindings = {k: C.decode(v) for k, v in case.get("bindings", {}).items()}
    try:
        value = C.evaluate(
            case["expr"],
            bindings,
            container=case.get("container"),
            disable_macros=bool(case.get("disable_macros")),
            disable_check=bool(case.get("disable_check")),
            type_env=case.get("type_env"),
            engine=engine,
        )
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - any error is an error result
        return "error", e
    return "value", value


def passes(case: dict[str, Any], outcome: tuple[str, Any]) -> bool:
    kind, got = outcome
    if "error" in case["expected"]:
        return kind == "error"
    return kind == "value" and C.values_equal(C.decode(case["expected"]["value"]), got)


@pytest.mark.parametrize("case", _params())
def test_core_case(case: dict[str, Any]) -> None:
    outcome = run_case(case)
    expected = case["expected"]
    assert passes(case, outcome), (
        f"{case['expr']!r}: expected {json.dumps(expected)[:200]}, got {outcome[0]} {outcome[1]!r}"[:600]
    )
    if outcome[0] == "error":
        # an expected error is a CEL error, never a crash of the engine
        from engine.errors import EngineError, EvalError

        assert isinstance(outcome[1], (EvalError, EngineError)), repr(outcome[1])


def test_known_failures_are_real_cases() -> None:
    ids = {case_id(c) for c in CORE}
    assert set(KNOWN_FAILURES) <= ids, sorted(set(KNOWN_FAILURES) - ids)


def test_the_core_suite_is_complete() -> None:
    # The count of plain core cases in tests/data/conformance/README.md; a different file is a different suite.
    assert len(CORE) >= 1115
    assert len(CORE) - len(KNOWN_FAILURES) >= 1115


def test_the_cases_ship_with_their_licence_and_provenance() -> None:
    here = ROOT / "tests" / "data" / "conformance"
    assert "Apache License" in (here / "LICENSE-Apache-2.0.txt").read_text(encoding="utf-8")
    provenance = (here / "README.md").read_text(encoding="utf-8")
    assert (
        "https://github.com/google/cel-spec" in provenance and "508bd98efda47d85bcf1b9930dd5f35fa37e9a18" in provenance
    )
    assert len(ALL_CASES) == 1746 and all("unsupported" not in c["expected"] for c in ALL_CASES)


def test_no_test_reads_outside_the_clone() -> None:
    # A fresh clone runs every test: none may look for files beside the checkout.
    outside = re.compile(r"ROOT\.parent\b|parents\[\d\]\s*/\s*[\"']shared|\.\./shared")
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sorted((ROOT / "tests").rglob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line) and p.name != "test_conformance.py"
    ]
    assert offenders == []
