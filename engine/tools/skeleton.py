"""`rulebook init-plugin`: the skeleton of a plugin package another association starts from.

``write_plugin(name, directory)`` writes a package with its ``pyproject.toml``
and entry point, one rulebook with a record schema and examples, and a test;
it passes its own tests right after ``pip install -e``.  The command adds the
editor settings that check its rulebooks against the installed rulebook schema
(``.vscode/settings.json``, as ``rulebook schema --install`` writes them).
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

from engine.errors import Diagnostic, UsageError
from engine.messages import msg

__all__ = ["write_plugin"]

# -- init-plugin: the skeleton of a plugin package --------------------------------------------------------

_SKELETON_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "Rulebooks of {owner}, a plugin for rulebook-engine"
requires-python = ">=3.11"
dependencies = ["rulebook-engine>={engine_version}"]

[project.optional-dependencies]
test = ["pytest>=8.0"]

# rulebook-engine finds the plugin through this entry point.
[project.entry-points.rulebook]
{owner} = "{module}"

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools.package-data]
{module} = ["rulebooks/*.yaml", "rulebooks/*.json"]

[tool.pytest.ini_options]
testpaths = ["tests"]
filterwarnings = ["error"]
"""

_SKELETON_README = """\
# {dist}

Rulebooks of {owner} for [rulebook-engine](https://pypi.org/project/rulebook-engine/).

```sh
pip install -e .            # the engine finds the plugin through its entry point
rulebook plugins            # {owner}  {dist}  0.1.0  register_rulebooks
rulebook test {rulebook_id}
rulebook check {rulebook_id} applicants.jsonl
pytest                      # the plugin's own tests
```

Edit `{module}/rulebooks/membership.yaml` (the format: docs/rulebook-format.md
of rulebook-engine), describe your records in `applicant.schema.json`, and add
functions, calendars or output formats with the other hooks (docs/plugins.md).
`.vscode/settings.json` makes editors with the YAML language server check the
rulebooks against the installed rulebook schema; run `rulebook schema --install`
again after reinstalling rulebook-engine elsewhere.
"""

_SKELETON_INIT = '''\
"""{dist}: rulebooks of {owner} for rulebook-engine."""

from __future__ import annotations

from pathlib import Path

from engine import hookimpl
from engine.hookspecs import RegisterRulebook

RULEBOOKS = Path(__file__).resolve().parent / "rulebooks"


@hookimpl
def register_rulebooks(register: RegisterRulebook) -> None:
    register(RULEBOOKS)
'''

_SKELETON_SCHEMA = """\
{{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Applicant",
  "description": "An application for membership, decided by `{rulebook_id}` decision `admission`.",
  "type": "object",
  "required": ["id", "name", "birth_date", "application_date", "accepts_charter"],
  "properties": {{
    "id": {{"description": "Identifier of the application.", "type": "string", "minLength": 1}},
    "name": {{"description": "Applicant's name.", "type": "string", "minLength": 1}},
    "birth_date": {{"description": "Date of birth.", "type": "string", "format": "date"}},
    "application_date": {{"description": "Date of the application.", "type": "string", "format": "date"}},
    "accepts_charter": {{"description": "Accepts the charter.", "type": "boolean"}}
  }}
}}
"""

_SKELETON_RULEBOOK = """\
# A rulebook of {owner}: edit it to encode your own regulation.
rulebook: 1
id: {rulebook_id}
version: "{today}"
status: in_force
effective_from: "{today}"
title:
  zh: 会员入会条件
  en: admission of members
source:
  title: 会员管理办法
parameters:
  min_age:
    value: 18
    cite: 第一条
    description: {{zh: 入会最低年龄（周岁）, en: minimum age in full years}}
decisions:
  admission:
    record: applicant.schema.json
    title: {{zh: 入会审核, en: admission}}
    as_of: record.application_date
    rules:
      - id: adult
        article: 1
        cite: 第一条
        values:
          age: full_years(record.birth_date, as_of)
        require: age >= min_age
        message:
          zh: 申请人未满{{min_age}}周岁（{{age}}周岁）
          en: the applicant is under {{min_age}} ({{age}})
      - id: accepts_charter
        article: 1
        cite: 第一条
        require: record.accepts_charter
        message:
          zh: 申请人须赞成章程
          en: the applicant must accept the charter
examples:
  - name: adult-accepts-charter
    decision: admission
    record: {{id: A-1, name: 张三, birth_date: "1990-01-01", application_date: "{today}", accepts_charter: true}}
    expect: {{outcome: pass, rules: {{adult: pass, accepts_charter: pass}}}}
  - name: under-age
    decision: admission
    record: {{id: A-2, name: 李四, birth_date: "{young}", application_date: "{today}", accepts_charter: true}}
    expect: {{outcome: fail, rules: {{adult: fail}}}}
"""

_SKELETON_TEST = '''\
"""The plugin's own tests: installed, found by the engine, its examples hold."""

from __future__ import annotations

import importlib.metadata

from engine import Registry
from engine.testing import run_examples

RULEBOOK = "{rulebook_id}"


def test_the_engine_finds_the_plugin_through_its_entry_point() -> None:
    names = {{ep.name: ep.value for ep in importlib.metadata.entry_points(group="rulebook")}}
    assert names.get("{owner}") == "{module}"


def test_the_rulebook_is_installed_and_its_examples_hold() -> None:
    registry = Registry.default()
    [entry] = registry.versions(RULEBOOK)
    assert entry.origin.startswith("{dist} ")
    results = run_examples(registry.load_path(entry.path))
    assert results
    assert all(r.ok for r in results), [(r.example.name, r.mismatches) for r in results if not r.ok]


def test_a_record_is_decided() -> None:
    decision = Registry.default().load(RULEBOOK).decision("admission")
    record = {{"id": "X", "name": "王五", "birth_date": "2000-01-01", "application_date": "2024-01-01",
              "accepts_charter": False}}
    d = decision.evaluate(record)
    assert str(d.outcome) == "fail"
    assert [r.id for r in d.rules if r.status == "fail"] == ["accepts_charter"]
'''

_DIST_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")


def write_plugin(name: str, directory: Path) -> Path:
    """Write the skeleton of a plugin package ``name`` into ``directory/name``.

    Raises:
        UsageError: ``name`` is not a distribution name, or the folder exists.
    """
    from engine.version import __version__

    if not _DIST_NAME.match(name):
        raise UsageError(
            Diagnostic("usage.arguments", msg("usage.plugin-name", name=name), help=msg("usage.plugin-name/help"))
        )
    owner = name.removeprefix("rulebook-") or name
    module = name.replace("-", "_")
    folder = directory / name
    if folder.exists():
        raise UsageError(Diagnostic.of("usage.exists", path=folder))
    today = _dt.date.today()
    fields = {
        "dist": name,
        "owner": owner,
        "module": module,
        "rulebook_id": f"{owner}/membership",
        "engine_version": __version__,
        "today": today.replace(month=1, day=1).isoformat(),
        "young": today.replace(year=today.year - 10, month=1, day=1).isoformat(),
    }
    files = {
        "pyproject.toml": _SKELETON_PYPROJECT,
        "README.md": _SKELETON_README,
        f"{module}/__init__.py": _SKELETON_INIT,
        f"{module}/rulebooks/membership.yaml": _SKELETON_RULEBOOK,
        f"{module}/rulebooks/applicant.schema.json": _SKELETON_SCHEMA,
        f"tests/test_{module}.py": _SKELETON_TEST,
    }
    for rel, template in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**fields), encoding="utf-8")
    return folder
