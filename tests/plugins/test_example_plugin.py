"""The example plugin package `plugins/rulebook-dancers`, installed with pip and loaded
through its real entry point: its rulebook, function, calendar and output format.

Two installations: with ``pip install --target`` into a folder put on ``sys.path`` of
this process (the engine then reads the package's ``.dist-info`` exactly as it would in
site-packages), and into a throw-away virtual environment, where the plugin's own tests
run and ``pip uninstall`` removes it again."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import CheckError, EvalError
from engine.pluginmanager import PluginManager, get_plugin_manager, reset_plugin_manager
from engine.registry import Registry
from engine.testing import run_examples

from .conftest import ROOT, Venv, clean_env, copy_package, forget_modules

SOURCE = ROOT / "plugins" / "rulebook-dancers"
FEED = SOURCE / "examples" / "applicants.jsonl"
RB = "hlj-dancers/membership"


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --no-deps --no-build-isolation --target SITE plugins/rulebook-dancers``."""
    work = tmp_path_factory.mktemp("dancers")
    src = copy_package(SOURCE, work / "src")
    site = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(src),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    return site


@pytest.fixture
def dancers(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginManager]:
    """The engine with the installed example plugin loaded through its entry point (and no other)."""
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "rulebook-dancers")
    monkeypatch.delenv("RULEBOOK_DISABLE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield get_plugin_manager()
    reset_plugin_manager()
    forget_modules("rulebook_dancers")


def test_it_is_loaded_through_its_entry_point(dancers: PluginManager, installed: Path) -> None:
    info = dancers.info("dancers")
    assert (info.distribution, info.version, info.entry_point) == (
        "rulebook-dancers",
        "0.1.0",
        "dancers = rulebook_dancers",
    )
    import rulebook_dancers

    assert Path(rulebook_dancers.__file__).is_relative_to(installed)  # the installed copy, not the source
    hooks = {i.name: h for i, h in dancers.plugins()}["dancers"]
    assert hooks == ["register_calendars", "register_formats", "register_functions", "register_rulebooks"]
    assert dancers.origin("register_functions", "lead_roles") == info
    assert dancers.origin("register_calendars", "dance-college") == info
    assert dancers.origin("register_formats", "csv") == info


def test_its_rulebook_is_listed_with_the_plugin_and_its_examples_hold(dancers: PluginManager) -> None:
    [entry] = Registry.default().versions(RB)
    assert (entry.origin, entry.plugin, entry.status) == ("rulebook-dancers 0.1.0", "dancers", "in_force")
    code, out, _ = run("list", "--lang", "en")
    assert code == 0
    assert any(RB in line and "rulebook-dancers 0.1.0" in line and "2025-01-01" in line for line in out.splitlines())
    results = run_examples(Registry.default().load(RB))
    assert len(results) == 5 and all(r.ok for r in results), [r.mismatches for r in results if not r.ok]
    code, out, _ = run("test", RB, "--lang", "en")
    assert code == 0 and out.endswith("5 passed, 0 failed\n")


def test_check_records_with_its_rulebook_function_and_calendar(dancers: PluginManager) -> None:
    code, out, err = run("check", RB, str(FEED), "--format", "json", "--lang", "en")
    objs = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [(o["record"], o["outcome"]) for o in objs] == [
        ("D-0001", "pass"),
        ("D-0002", "fail"),
        ("D-0003", "pass"),
        ("D-0004", "fail"),
        ("D-0005", "fail"),
        ("D-0006", "indeterminate"),
        (None, "error"),
    ]
    # the plugin's calendar decides which semesters a student's ranking is read for
    assert objs[2]["outputs"]["semesters_considered"] == ["2024-2025-1", "2023-2024-2"]
    # the plugin's function, failing on bad data, makes the rule `error` and says why
    [rule] = [r for r in objs[5]["rules"] if r["status"] == "error"]
    assert rule["id"] == "qualification" and "performance 1" in rule["message"]
    # ... and the engine's CN calendar gives the review deadline (Qingming, 4 April 2025, is off)
    assert objs[0]["outputs"]["review_by"] == "2025-04-08"
    assert "7 records" in err


def test_the_checker_uses_the_plugins_signatures(dancers: PluginManager, tmp_path: Path) -> None:
    text = (SOURCE / "rulebook_dancers" / "rulebooks" / "membership.yaml").read_text(encoding="utf-8")
    (tmp_path / "dancer-applicant.schema.json").write_text(
        (SOURCE / "rulebook_dancers" / "rulebooks" / "dancer-applicant.schema.json").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace("semesters_before(as_of, student_semesters)", 'semesters_before(as_of, "two")').replace(
            'version: "2025-01-01"', 'version: "x"'
        ),
        encoding="utf-8",
    )
    with pytest.raises(CheckError) as info:
        Registry.default().load(str(bad))
    assert any("semesters_before" in d.message for d in info.value.diagnostics)


def test_its_calendar_and_functions(dancers: PluginManager) -> None:
    from engine.lang.functions import FunctionSpec
    from engine.pluginmanager import get_calendar

    cal = get_calendar("dance-college")
    assert cal.is_working_day(dt.date(2025, 3, 3)) and not cal.is_working_day(dt.date(2025, 2, 3))
    spec = dancers.functions().get("semesters_before")
    assert isinstance(spec, FunctionSpec) and spec.bind is not None
    # registered unbound: the function reads only the calendars a rulebook is built with
    with pytest.raises(EvalError):
        spec.overloads[0].impl(dt.date(2025, 1, 18), 2)
    bound = dancers.functions().with_calendars(dancers.calendars()).get("semesters_before")
    assert bound is not None
    assert bound.overloads[0].impl(dt.date(2025, 1, 18), 2) == ["2024-2025-1", "2023-2024-2"]


def test_its_csv_format(dancers: PluginManager) -> None:
    code, out, _ = run("check", RB, str(FEED), "--format", "csv", "--lang", "en")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 1 and len(rows) == 7
    assert rows[4]["failed"] == "in_province;introducers" and rows[6]["outcome"] == "error"


def test_disabled_it_is_gone(installed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    monkeypatch.setenv("RULEBOOK_DISABLE_PLUGINS", "dancers")
    reset_plugin_manager()
    try:
        assert RB not in Registry.default().ids()
        assert [i.name for i in get_plugin_manager().disabled] == ["dancers"]
        code, _, err = run("check", RB, str(FEED), "--lang", "en")
        assert code == 2 and f"no rulebook `{RB}` is installed" in err
    finally:
        reset_plugin_manager()


def test_pip_install_use_and_uninstall_in_a_fresh_venv(venv: Venv, tmp_path: Path) -> None:
    # GIVEN the example plugin installed with pip into a virtual environment
    venv.install(copy_package(SOURCE, tmp_path / "src"))
    # THEN the engine there loads it through its entry point
    listed = venv.rulebook("plugins", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    plugins = {o["name"]: o for o in map(json.loads, listed.stdout.splitlines())}
    assert plugins["dancers"]["distribution"] == "rulebook-dancers" and plugins["dancers"]["loaded"]
    listed = venv.rulebook("list", "--format", "json", cwd=tmp_path)
    books = {o["id"]: o for o in map(json.loads, listed.stdout.splitlines())}
    assert books[RB]["supplied_by"] == "rulebook-dancers 0.1.0"
    assert books["hlj-musicians/membership"]["supplied_by"].endswith("(bundled)")
    checked = venv.rulebook("check", RB, str(FEED), "--format", "csv", cwd=tmp_path)
    assert checked.returncode == 1 and len(checked.stdout.splitlines()) == 8, checked.stderr
    # AND the plugin's own test suite passes against the installed package
    # (run from outside the source folder, so that `rulebook_dancers` is the installed copy)
    tests = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "src" / "tests"), cwd=tmp_path)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "12 passed" in tests.stdout
    # WHEN it is uninstalled THEN it is gone
    venv.pip("uninstall", "--yes", "rulebook-dancers")
    listed = venv.rulebook("list", "--format", "json", cwd=tmp_path)
    assert listed.returncode == 0 and RB not in listed.stdout
    checked = venv.rulebook("check", RB, str(FEED), cwd=tmp_path)
    assert checked.returncode == 2 and "hlj-dancers/membership" in checked.stderr
