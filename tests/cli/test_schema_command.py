"""`rulebook schema`: the published schemas by their stable $id, and editor settings.

Each schema the package ships has an ``$id`` under ``https://rulebook-engine.example/``
and is found in the installed package by it, offline; no rulebook or scaffold points
editors at a schema by a relative path (which breaks when the file is copied);
``rulebook schema --install`` maps rulebook files to the installed schema in
``.vscode/settings.json``, merging into what is there.
"""

from __future__ import annotations

import io
import json
import re
import socket
from pathlib import Path

import pytest

from engine.cli import main
from engine.cli.schema import SCHEMA_ID, installed_schemas

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the schemas are resolved without the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_every_published_schema_is_found_by_its_id_offline(offline: None) -> None:
    schemas = installed_schemas()
    shipped = sorted((ROOT / "schemas").rglob("*.schema.json"))
    assert len(schemas) == len(shipped) >= 5
    for schema_id, path in schemas.items():
        assert re.fullmatch(r"https://rulebook-engine\.example/schemas/[\w/.-]+\.schema\.json", schema_id)
        assert path.is_file() and json.loads(path.read_text(encoding="utf-8"))["$id"] == schema_id
    assert schemas[SCHEMA_ID].name == "rulebook.schema.json"


def test_schema_prints_the_id_and_the_installed_file(offline: None) -> None:
    code, out, _ = run("schema")
    assert code == 0 and out == f"{SCHEMA_ID}\n  {installed_schemas()[SCHEMA_ID]}\n"
    other = "https://rulebook-engine.example/schemas/records/applicant.schema.json"
    code, out, _ = run("schema", other)
    assert code == 0 and out.splitlines()[1].strip().endswith("applicant.schema.json")
    code, _, err = run("schema", "https://rulebook-engine.example/schemas/nope.json", "--lang", "en")
    assert code == 2 and "error[usage.unknown-schema]: no published schema has the id" in err


def test_install_writes_the_editor_settings(tmp_path: Path) -> None:
    code, out, _ = run("schema", "--install", "--directory", str(tmp_path), "--lang", "en")
    schema = str(installed_schemas()[SCHEMA_ID])
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert code == 0 and settings == {"yaml.schemas": {schema: ["**/rulebooks/**/*.yaml"]}}
    assert out == (
        f"wrote `{tmp_path / '.vscode' / 'settings.json'}`: editors with the YAML language server check "
        f"`**/rulebooks/**/*.yaml` against `{schema}`\n"
    )
    code, out, _ = run("schema", "--install", "--directory", str(tmp_path), "--lang", "zh")
    assert code == 0 and out.startswith("已写入 `") and "检查 `**/rulebooks/**/*.yaml`" in out


def test_install_merges_and_keeps_what_is_there(tmp_path: Path) -> None:
    settings = tmp_path / ".vscode" / "settings.json"
    settings.parent.mkdir()
    schema = str(installed_schemas()[SCHEMA_ID])
    settings.write_text(
        json.dumps(
            {
                "editor.tabSize": 2,
                "yaml.schemas": {
                    "/old/site-packages/engine/data/schemas/rulebook.schema.json": ["**/rulebooks/**/*.yaml"],
                    "https://json.schemastore.org/github-workflow.json": ".github/workflows/*.yml",
                    schema: ["policies/*.yaml"],
                },
            }
        ),
        encoding="utf-8",
    )
    code, _, _ = run(
        "schema",
        "--install",
        "--directory",
        str(tmp_path),
        "--pattern",
        "policies/*.yaml",
        "--pattern",
        "**/rulebooks/**/*.yaml",
    )
    assert code == 0
    assert json.loads(settings.read_text(encoding="utf-8")) == {
        "editor.tabSize": 2,
        "yaml.schemas": {
            "https://json.schemastore.org/github-workflow.json": ".github/workflows/*.yml",
            schema: ["policies/*.yaml", "**/rulebooks/**/*.yaml"],
        },
    }


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{\n  // my settings\n  "editor.tabSize": 2,\n}\n', "it has comments, which rewriting it would lose"),
        ('{"editor.tabSize": 2,,}', "it is not valid JSON"),
        ("[]", "it does not hold a JSON object"),
    ],
)
def test_install_never_loses_settings_it_cannot_rewrite(tmp_path: Path, text: str, why: str) -> None:
    settings = tmp_path / ".vscode" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(text, encoding="utf-8")
    code, _, err = run("schema", "--install", "--directory", str(tmp_path), "--lang", "en")
    assert code == 2 and settings.read_text(encoding="utf-8") == text
    assert "error[usage.editor-settings]" in err and why in err and "add this entry to it by hand" in err
    assert "Traceback" not in err


def test_no_rulebook_points_at_a_schema_by_a_relative_path() -> None:
    files = [
        *ROOT.glob("rulebooks/**/*.yaml"),
        *ROOT.glob("plugins/*/*/rulebooks/*.yaml"),
        *ROOT.glob("docs/**/*.md"),
        ROOT / "engine" / "tools" / "skeleton.py",
    ]
    relative = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in files
        for line in p.read_text(encoding="utf-8").splitlines()
        if re.search(r"\$schema=(?!https?://)", line)
    ]
    assert relative == []
