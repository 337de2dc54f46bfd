"""A pytest plugin: rulebooks' embedded examples as test items.

Enabled through the ``pytest11`` entry point of this package; it collects
nothing unless asked: ``pytest --rulebook-examples [PATH ...]`` turns every
rulebook YAML file among the collected paths into a file node and each of its
examples into a test item (selectable with ``-k``).  A failing item shows,
rule by rule, what was expected and what the engine decided, and points at the
example's line in the YAML.  A rulebook that does not build is one failing
item showing its diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from engine.errors import EngineError

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

__all__ = ["ExampleItem", "RulebookFile"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rulebook")
    group.addoption(
        "--rulebook-examples",
        action="store_true",
        default=False,
        help="collect the embedded examples of rulebook YAML files as tests",
    )


def _is_rulebook(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as f:
            head = f.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.startswith("rulebook:") for line in head.splitlines())


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if not parent.config.getoption("rulebook_examples", default=False):
        return None
    if file_path.suffix in (".yaml", ".yml") and _is_rulebook(file_path):
        return RulebookFile.from_parent(parent, path=file_path)
    return None


class RulebookError(Exception):
    """A rulebook that does not build (its diagnostics are the message)."""


class ExampleFailed(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class RulebookFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from engine.build import load_rulebook

        try:
            book = load_rulebook(self.path)
        except EngineError as e:
            yield BrokenRulebookItem.from_parent(self, name="(build)", error=e)
            return
        from engine.build import load_yaml_cached

        positions = load_yaml_cached(book.source).positions
        for index, example in enumerate(book.book.examples):
            pos = positions.get(example.path)
            line = book.source.line_col(pos.value.start)[0] if pos is not None else None
            yield ExampleItem.from_parent(self, name=example.name, book=book, index=index, line=line)


class BrokenRulebookItem(pytest.Item):
    def __init__(self, *, error: EngineError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise RulebookError(self.error.render("en"))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"rulebook {self.path.name}"


class ExampleItem(pytest.Item):
    def __init__(self, *, book: Any, index: int, line: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.book = book
        self.index = index
        self.line = line

    def runtest(self) -> None:
        from engine.testing import check_example

        _decision, problems = check_example(self.book, self.book.book.examples[self.index])
        if problems:
            raise ExampleFailed(problems)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ExampleFailed):
            where = f"{self.book.source.name}:{self.line}" if self.line else self.book.source.name
            return f"example `{self.name}` ({where}) does not match:\n  " + "\n  ".join(excinfo.value.problems)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.line - 1) if self.line else None, f"example {self.name}"
