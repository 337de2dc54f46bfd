"""docs/plugins.md is tested: one heading per hook with its exact signature, an example
taken from tested code, and a `test_hook_<name>` test of its own for every hook
(datasette's test_docs_plugins.py).  ``pytest --update-golden`` rewrites the examples
in the page from the code they are taken from."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from engine import hookspecs

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "plugins.md"
TESTS = Path(__file__).resolve().parent

INCLUDE = re.compile(r"<!-- include: (?P<path>[^#\s]+)#(?P<region>[\w-]+) -->\n```python\n(?P<code>.*?)```\n", re.S)
HEADING = re.compile(r"^### (.+)$", re.M)


def hooks() -> list[tuple[str, Any]]:
    return sorted(
        (name, fn) for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_spec")
    )


HOOKS = hooks()
NAMES = [name for name, _ in HOOKS]


def signature(name: str, fn: Any) -> str:
    """``def open_records(path: str, options: RecordOptions) -> Iterator[...] | None``, as written."""
    ann = fn.__annotations__
    params = ", ".join(f"{p}: {ann[p]}" for p in inspect.signature(fn).parameters)
    return f"def {name}({params}) -> {ann['return']}"


def section(text: str, name: str) -> str:
    params = ", ".join(inspect.signature(dict(HOOKS)[name]).parameters)
    head = f"### {name}({params})\n"
    assert head in text, f"docs/plugins.md has no heading `{head.strip()}`"
    rest = text.split(head, 1)[1]
    return re.split(r"^##+ ", rest, maxsplit=1, flags=re.M)[0]


def region(path: str, name: str) -> str:
    text = (ROOT / path).read_text(encoding="utf-8")
    m = re.search(rf"^# \[docs:{re.escape(name)}\]\n(.*?)^# \[/docs\]\n", text, re.S | re.M)
    assert m is not None, f"`{path}` has no region `# [docs:{name}]` ... `# [/docs]`"
    return m.group(1)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_hooks_are_the_ones_documented_here() -> None:
    assert NAMES == [
        "decision_made",
        "open_records",
        "register_calendars",
        "register_formats",
        "register_functions",
        "register_rulebooks",
    ]


@pytest.mark.parametrize("name", NAMES)
def test_every_hook_has_a_heading_with_its_exact_signature(doc: str, name: str) -> None:
    body = section(doc, name)
    assert f"```python\n{signature(name, dict(HOOKS)[name])}\n```" in body, (
        f"the section of `{name}` must show `{signature(name, dict(HOOKS)[name])}`"
    )
    assert "versionadded: 0.1.0" in body


@pytest.mark.parametrize("name", NAMES)
def test_every_hook_has_a_runnable_example_from_tested_code(doc: str, name: str) -> None:
    assert INCLUDE.search(section(doc, name)), f"the section of `{name}` has no `<!-- include: FILE#REGION -->` example"


@pytest.mark.parametrize("name", NAMES)
def test_every_hook_has_a_test_of_its_own(name: str) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py"))
    assert re.search(rf"^def test_hook_{name}\(", sources, re.M), f"no `test_hook_{name}` in tests/plugins/"


def test_no_heading_names_a_hook_that_does_not_exist(doc: str) -> None:
    hooks_part = doc.split("\n## Hooks\n", 1)[1].split("\n## ", 1)[0]
    named = [h.split("(", 1)[0] for h in HEADING.findall(hooks_part)]
    assert sorted(named) == NAMES


def test_the_examples_are_the_tested_code(doc: str, update_golden: bool) -> None:
    includes = list(INCLUDE.finditer(doc))
    assert len(includes) >= len(NAMES)
    if update_golden:
        new = INCLUDE.sub(
            lambda m: f"<!-- include: {m['path']}#{m['region']} -->\n```python\n{region(m['path'], m['region'])}```\n",
            doc,
        )
        DOC.write_text(new, encoding="utf-8")
        doc = new
    for m in INCLUDE.finditer(doc):
        assert m.group("code") == region(m.group("path"), m.group("region")), (
            f"the example from {m.group('path')}#{m.group('region')} in docs/plugins.md is out of date "
            "(pytest tests/plugins/test_docs_plugins.py --update-golden rewrites it)"
        )
