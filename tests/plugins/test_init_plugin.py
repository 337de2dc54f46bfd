"""`rulebook init-plugin NAME`: a plugin skeleton that passes its own tests right after
``pip install -e``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.testing import run_examples

from .conftest import Venv


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_init_plugin_writes_a_package(tmp_path: Path) -> None:
    code, out, _ = run("init-plugin", "rulebook-acme-club", "--directory", str(tmp_path), "--lang", "en")
    folder = tmp_path / "rulebook-acme-club"
    assert code == 0 and f"created {folder}" in out
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        ".vscode/settings.json",
        "README.md",
        "pyproject.toml",
        "rulebook_acme_club/__init__.py",
        "rulebook_acme_club/rulebooks/applicant.schema.json",
        "rulebook_acme_club/rulebooks/membership.yaml",
        "tests/test_rulebook_acme_club.py",
    ]
    # editors check the rulebooks against the installed schema, wherever the files are copied
    from engine.cli.schema import SCHEMA_ID, installed_schemas

    settings = json.loads((folder / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert settings == {"yaml.schemas": {str(installed_schemas()[SCHEMA_ID]): ["**/rulebooks/**/*.yaml"]}}
    assert "yaml-language-server" not in (folder / "rulebook_acme_club" / "rulebooks" / "membership.yaml").read_text(
        encoding="utf-8"
    )
    pyproject = (folder / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.rulebook]\nacme-club = "rulebook_acme_club"' in pyproject
    # its rulebook lints clean and its examples hold, before anything is installed
    rulebooks = folder / "rulebook_acme_club" / "rulebooks"
    assert run("lint", str(rulebooks))[0] == 0
    from engine.build import load_rulebook

    book = load_rulebook(rulebooks / "membership.yaml")
    assert book.id == "acme-club/membership"
    assert [r.ok for r in run_examples(book)] == [True, True]


@pytest.mark.parametrize(
    ("name", "needle"),
    [("Rulebook_Acme", "is not a plugin name"), ("rulebook-", "is not a plugin name"), ("exists", "exists already")],
)
def test_init_plugin_refuses(tmp_path: Path, name: str, needle: str) -> None:
    (tmp_path / "exists").mkdir()
    code, _, err = run("init-plugin", name, "--directory", str(tmp_path), "--lang", "en")
    assert code == 2 and needle in err


def test_the_skeleton_passes_its_own_tests_after_pip_install_e(venv: Venv, tmp_path: Path) -> None:
    # GIVEN a new plugin, installed in editable mode
    assert run("init-plugin", "rulebook-acme-club", "--directory", str(tmp_path))[0] == 0
    folder = tmp_path / "rulebook-acme-club"
    venv.install(folder, editable=True)
    try:
        # THEN its own tests pass
        tests = venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder), cwd=tmp_path)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert "3 passed" in tests.stdout
        # AND the engine lists its rulebook, supplied by it
        listed = venv.rulebook("list", "--format", "json", cwd=tmp_path)
        books = {o["id"]: o for o in map(json.loads, listed.stdout.splitlines())}
        assert books["acme-club/membership"]["supplied_by"] == "rulebook-acme-club 0.1.0"
        # AND an edit of the editable source is seen at once
        yaml = folder / "rulebook_acme_club" / "rulebooks" / "membership.yaml"
        yaml.write_text(yaml.read_text(encoding="utf-8").replace("value: 18", "value: 5"), encoding="utf-8")
        tested = venv.rulebook("test", "acme-club/membership", cwd=tmp_path)
        assert tested.returncode == 1 and "under-age" in tested.stdout
    finally:
        venv.pip("uninstall", "--yes", "rulebook-acme-club")
