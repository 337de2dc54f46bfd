"""The cel-spec conformance cases, through ``engine.conformance`` (the runner's adapter).

The cases are vendored in ``tests/data/conformance/cel-simple-plain.jsonl``
(with their Apache-2.0 licence and provenance beside them), so every clone runs
them; the environment variable ``RULEBOOK_CONFORMANCE_FILE`` names another
file in the same format (e.g. a newer conversion) to run instead.  Every
plain core case runs (not one marked unsupported), and so does every case of
the extension libraries the engine implements (``EXT_FILES``: strings, math,
two-variable macros, optional values, bindings, encoders); each must give
exactly the expected value (int, uint and double are distinct), or an error
where one is expected.

Cases the engine is known to get wrong are listed in ``KNOWN_FAILURES`` (core)
and ``EXT_KNOWN_FAILURES`` (extensions, one line per case with its reason);
they run as strict xfails, so that a fix shows up as a failure until its line
is removed: the lists can only shrink.
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

# The extension libraries the engine implements (issue 18).  `network_ext` and `block_ext` are not among them.
EXT_FILES = ("string_ext", "math_ext", "macros2", "optionals", "bindings_ext", "encoders_ext")

# Reasons shared by several cases below.
_MIXED_KEYS = (
    "a map cannot hold both `1` and `true` as keys: the engine's maps are Python dicts, where 1 == True, so a map "
    "literal with both is refused (eval.bad-key) rather than silently losing an entry"
)

# The cases of EXT_FILES the engine does not pass: ("file/section/name", reason), one line per case, so that
# a fix removes exactly its line.
EXT_KNOWN_FAILURES: tuple[tuple[str, str], ...] = (("string_ext/format/map support (all key types)", _MIXED_KEYS),)


def _load() -> list[dict[str, Any]]:
    # A missing file is an error, never a skip: the cases ship with the tests.
    with CASES_FILE.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ALL_CASES = _load()
CORE = [c for c in ALL_CASES if "ext" not in c and "unsupported" not in c["expected"]]
EXT = [c for c in ALL_CASES if c["file"] in EXT_FILES and "unsupported" not in c["expected"]]


def case_id(case: dict[str, Any]) -> str:
    return f"{case['file']}/{case['section']}/{case['name']}"


def _params(cases: list[dict[str, Any]], known: dict[str, str]) -> list[Any]:
    out = []
    for case in cases:
        reason = known.get(case_id(case))
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


@pytest.mark.parametrize("case", _params(CORE, KNOWN_FAILURES))
def test_core_case(case: dict[str, Any]) -> None:
    check_case(case)


@pytest.mark.parametrize("case", _params(EXT, dict(EXT_KNOWN_FAILURES)))
def test_extension_case(case: dict[str, Any]) -> None:
    check_case(case)


def check_case(case: dict[str, Any]) -> None:
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
    ext_ids = [i for i, _reason in EXT_KNOWN_FAILURES]
    assert len(ext_ids) == len(set(ext_ids)), "a case listed twice"
    assert set(ext_ids) <= {case_id(c) for c in EXT}, sorted(set(ext_ids) - {case_id(c) for c in EXT})


def test_the_extension_suite_is_complete_and_passes_at_least_95_percent() -> None:
    # issue 18: at least 95% of the plain cases of these six files together, strictly
    assert {c["file"] for c in EXT} == set(EXT_FILES)
    assert len(EXT) >= 529
    assert (len(EXT) - len(EXT_KNOWN_FAILURES)) / len(EXT) >= 0.95


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
