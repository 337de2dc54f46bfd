"""Layers of the engine that can be checked by reading the source.

What counts as reaching into another module (docs/architecture.md, "Layers"):

* ``from engine.x import _name``, or ``engine.x._name`` / ``alias._name`` where
  ``alias`` is bound to an engine module by an import: a name with a leading
  underscore belongs to its module, and another module that needs it shows
  that the helper belongs in a shared module with a public name;
* a module's own private names, dunder names (``__version__``) and the
  standard library's (``sys._getframe``) are not concerned, nor are private
  attributes of objects (not decidable from the source).

The same rule holds for the example plugin, which uses the engine as any
plugin would.  The language package is built in layers without an import
cycle, and
``engine.source`` (the ground layer) imports no module of the engine, so that
``errors`` builds on ``source`` and not the other way round.  Every import
counts here, also one inside a function or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
PLUGIN = ROOT / "plugins" / "rulebook-dancers" / "rulebook_dancers"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT if ENGINE in path.parents else PLUGIN.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


ENGINE_MODULES = {_module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}


def _imports(path: Path, name: str) -> list[tuple[int, str, str | None, str | None]]:
    """(line, module, imported name or None, bound alias) for every import in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[int, str, str | None, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            out.extend((node.lineno, module, a.name, a.asname or a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                out.append((node.lineno, a.name, None, a.asname or a.name.split(".")[0]))
    return out


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def private_reaches(path: Path, name: str) -> list[str]:
    """Where the module at ``path`` reads another engine module's private names."""
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> the engine module it is bound to
    where = path.relative_to(ROOT) if ROOT in path.parents else path.name
    for line, module, imported, alias in _imports(path, name):
        if not module.startswith("engine"):
            continue
        if imported is None:  # ``import engine.x`` binds ``engine``; ``import engine.x as y`` binds y to engine.x
            aliases[alias or module] = module if alias != module.split(".")[0] else alias
            continue
        if f"{module}.{imported}" in ENGINE_MODULES:
            aliases[alias or imported] = f"{module}.{imported}"
        elif _is_private(imported) and module != name:
            found.append(f"{where}:{line}: from {module} import {imported}")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
            continue
        written = _dotted(node.value)
        if written is None or written.split(".")[0] not in aliases:
            continue
        root, _, rest = written.partition(".")
        module = aliases[root] + ("." + rest if rest else "")
        if module in ENGINE_MODULES and module != name:
            found.append(f"{where}:{node.lineno}: {written}.{node.attr} ({module})")
    return found


def test_the_checker_finds_each_kind_of_reach(tmp_path: Path) -> None:
    # GIVEN a module that reaches into others in every way the rule names, and in ways it allows
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sys\n"
        "import engine.lang.values as V\n"
        "from engine.lang import functions as F\n"
        "from engine.lang.compile import _Gen, compile_condition\n"
        "from engine import __version__\n"
        "from . import _own\n"
        "import engine.lang.interp\n"
        "x = F._size, V.cel_eq, sys._getframe, V.__name__, F.size._cache\n"
        "y = V._private, engine.lang.interp._Walker\n",
        encoding="utf-8",
    )
    found = private_reaches(sample, "engine.sample")
    # THEN the four reaches are reported, and nothing else
    assert [f.split(": ", 1)[1] for f in found] == [
        "from engine.lang.compile import _Gen",
        "from engine import _own",
        "F._size (engine.lang.functions)",
        "V._private (engine.lang.values)",
        "engine.lang.interp._Walker (engine.lang.interp)",
    ]


@pytest.mark.parametrize("name", sorted(ENGINE_MODULES))
def test_no_module_reads_another_modules_private_names(name: str) -> None:
    assert private_reaches(ENGINE_MODULES[name], name) == []


@pytest.mark.parametrize("path", sorted(PLUGIN.rglob("*.py")), ids=lambda p: p.name)
def test_the_example_plugin_uses_only_public_engine_names(path: Path) -> None:
    assert private_reaches(path, _module_name(path)) == []


def _engine_imports(name: str) -> set[str]:
    """The engine modules ``name`` imports, anywhere in the file."""
    out: set[str] = set()
    for _line, module, imported, _alias in _imports(ENGINE_MODULES[name], name):
        for candidate in (module, f"{module}.{imported}" if imported else module):
            if candidate in ENGINE_MODULES and candidate != name:
                out.add(candidate)
    return out


def _import_graph(modules: list[str]) -> dict[str, list[str]]:
    return {m: sorted(_engine_imports(m) & set(modules)) for m in modules}


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle of ``graph`` (module -> modules it imports), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in graph[m]:
            if state.get(n) == 1:
                return [*path[path.index(n) :], n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        path.pop()
        state[m] = 2
        return None

    for m in graph:
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


# The language package's layers (docs/architecture.md): each module imports only modules before it.
LANG_LAYERS = (
    "ast",
    "times",
    "values",
    "calendar",
    "types",
    "ext_strings",
    "ext_math",
    "functions",
    "check",
    "parser",
    "printer",
    "runtime",
    "pyast",
    "interp",
    "compile",
    "compile_decision",
    "compile_columnar",
)


def test_the_language_layers_list_every_module() -> None:
    assert sorted(m for m in ENGINE_MODULES if m.startswith("engine.lang.")) == sorted(
        f"engine.lang.{m}" for m in LANG_LAYERS
    )


@pytest.mark.parametrize("layer", LANG_LAYERS)
def test_a_language_module_imports_only_the_layers_below_it(layer: str) -> None:
    below = {f"engine.lang.{m}" for m in LANG_LAYERS[: LANG_LAYERS.index(layer)]}
    imported = {m for m in _engine_imports(f"engine.lang.{layer}") if m.startswith("engine.lang.")}
    assert imported - below == set()


def test_the_language_package_has_no_import_cycle() -> None:
    lang = [m for m in ENGINE_MODULES if m.startswith("engine.lang.")]
    assert _cycle(_import_graph(lang)) is None


def test_the_interpreter_does_not_import_the_compilers() -> None:
    # the oracle stays independent of what it checks; the compiler falls back on it, not the other way round
    assert not _engine_imports("engine.lang.interp") & {"engine.lang.compile", "engine.lang.compile_decision"}
    assert "engine.lang.compile_decision" not in _engine_imports("engine.lang.compile")


def test_source_is_the_ground_layer() -> None:
    assert _engine_imports("engine.source") == set()
    assert _cycle(_import_graph(["engine.errors", "engine.source", "engine.messages"])) is None


def test_a_cycle_is_found() -> None:
    assert _cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert _cycle({"a": ["b", "c"], "b": ["c"], "c": []}) is None
