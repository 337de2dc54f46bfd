"""Several versions of one rulebook: each record is judged by the version in force on its date.

The made-up rulebook ``test/fees`` (tests/data/versioned) has a repealed 2022
version, a 2024 version in force for 2024 only, and a 2025 version in force
from 2025 on, raising the minimum fee from 100 to 150.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.registry import Registry

VERSIONED = Path(__file__).resolve().parent / "data" / "versioned"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("RULEBOOK_PATH", str(VERSIONED))
    return Registry.default()


def run(*argv: str, stdin: str) -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    code = main(list(argv), stdout=out, stderr=io.StringIO(), stdin=io.StringIO(stdin))
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def payment(pid: str, paid_on: str, amount: int) -> str:
    return json.dumps({"id": pid, "paid_on": paid_on, "amount": amount})


def test_rulebook_path_adds_the_versions(registry: Registry) -> None:
    assert [e.version for e in registry.versions("test/fees")] == ["2022", "2024", "2025"]
    assert all(e.origin.startswith("RULEBOOK_PATH") for e in registry.versions("test/fees"))


@pytest.mark.parametrize(
    ("paid_on", "amount", "version", "outcome"),
    [
        ("2024-12-31", 120, "2024", "pass"),  # the last day of the 2024 version
        ("2025-01-01", 120, "2025", "fail"),  # the switch: 150 from its effective date
        ("2025-01-01", 150, "2025", "pass"),
        ("2023-05-01", 500, "2025", "indeterminate"),  # no version in force then
        ("2022-06-01", 500, "2025", "indeterminate"),  # the repealed 2022 version is not used by id
    ],
)
def test_each_record_gets_the_version_in_force_on_its_date(
    registry: Registry, paid_on: str, amount: int, version: str, outcome: str
) -> None:
    _, _, decision = registry.decision("test/fees", "fee")
    d = decision.evaluate(json.loads(payment("P", paid_on, amount)))
    assert (d.version, str(d.outcome)) == (version, outcome)
    if outcome == "indeterminate":
        err = d.rules[0].error
        assert err is not None and err.code == "eval.no-version" and paid_on in err.message


def test_one_feed_across_the_change(registry: Registry) -> None:
    feed = "\n".join([payment("A", "2024-06-01", 120), payment("B", "2025-06-01", 120)]) + "\n"
    code, objs = run("check", "test/fees", "-", "--format", "json", stdin=feed)
    assert [(o["record"], o["version"], o["outcome"]) for o in objs] == [("A", "2024", "pass"), ("B", "2025", "fail")]
    assert code == 1


def test_a_named_version_is_used_for_every_record(registry: Registry) -> None:
    feed = payment("A", "2025-06-01", 120) + "\n"
    _, objs = run("check", "test/fees@2024", "-", "--format", "json", stdin=feed)
    assert (objs[0]["version"], objs[0]["outcome"]) == ("2024", "pass")
    _, objs = run("check", "test/fees@2022", "-", "--format", "json", stdin=feed)  # repealed, but named
    assert (objs[0]["version"], objs[0]["outcome"]) == ("2022", "pass")


def test_as_of_fixes_the_version(registry: Registry) -> None:
    _, objs = run(
        "check",
        "test/fees",
        "-",
        "--format",
        "json",
        "--as-of",
        "2024-03-01",
        stdin=payment("A", "2025-06-01", 120) + "\n",
    )
    assert (objs[0]["version"], objs[0]["as_of"]) == ("2024", "2024-03-01")


def test_the_same_version_twice_is_an_error_naming_both(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "fees-2024.yaml").write_text((VERSIONED / "fees-2024.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("RULEBOOK_PATH", f"{VERSIONED}:{copy}")
    err = io.StringIO()
    code = main(["list", "--lang", "en"], stdout=io.StringIO(), stderr=err)
    assert code == 2
    assert "test/fees@2024" in err.getvalue() and "fees-2024.yaml" in err.getvalue()
    assert str(copy) in err.getvalue()


def test_examples_of_every_version_pass(registry: Registry) -> None:
    code = main(["test", str(VERSIONED)], stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
