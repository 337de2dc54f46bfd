"""The layers of docs/architecture.md are the import-linter contract of pyproject.toml, and the
facade (``engine/__init__.py``) is imported only from above ``build``.

``lint-imports`` itself runs in the README's test command; this test keeps the written list and
the checked one the same, and checks what the contract cannot say (the facade is the container's
own ``__init__``, which a layers contract does not place)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"


def _contract_layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    assert contract["containers"] == ["engine"] and contract["exhaustive"] is True
    return [" ".join(layer.split()) for layer in contract["layers"]]


def _documented_layers() -> list[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    diagram = re.search(r"```text\n(.*?)```", section, re.S)
    assert diagram, "docs/architecture.md: the Layers section has no diagram"
    rows = [line for line in diagram.group(1).splitlines() if line.strip() and not line.startswith((" ", "▼"))]
    return [" ".join(re.split(r"\s{2,}", row)[0].split()) for row in rows]


def test_the_documented_layers_are_the_contract() -> None:
    assert _documented_layers() == _contract_layers()


def _layer_of(module: str, layers: list[str]) -> int:
    """Index in ``layers`` (0 = top) of ``engine.<module>``'s layer."""
    top = module.split(".")[1] if "." in module else module
    for i, layer in enumerate(layers):
        if top in [name.strip("()") for name in re.split(r"\s*[:|]\s*", layer)]:
            return i
    raise AssertionError(f"engine.{top} is in no layer")


def _imports_the_facade(path: Path) -> list[int]:
    """Lines of ``path`` that import the ``engine`` package itself (not one of its modules)."""
    submodules = {p.stem for p in ENGINE.glob("*.py")} | {p.name for p in ENGINE.iterdir() if p.is_dir()}
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        import_engine = isinstance(node, ast.Import) and any(a.name == "engine" for a in node.names)
        from_engine_not_a_module = (
            isinstance(node, ast.ImportFrom)
            and node.module == "engine"
            and not node.level
            and any(a.name not in submodules for a in node.names)
        )
        if import_engine or from_engine_not_a_module:
            lines.append(node.lineno)
    return lines


def test_only_the_layers_above_build_import_the_facade() -> None:
    layers = _contract_layers()
    build = _layer_of("engine.build", layers)
    offenders = []
    for path in sorted(ENGINE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        if len(parts) == 1:
            continue  # the facade itself
        if _layer_of(".".join(parts), layers) >= build:
            offenders += [f"{rel}.py:{line}" for line in _imports_the_facade(path)]
    assert offenders == []


def test_the_check_finds_a_low_module_importing_the_facade(tmp_path: Path) -> None:
    sample = tmp_path / "low.py"
    sample.write_text("from engine import Registry\nfrom engine import messages\nimport engine\n", encoding="utf-8")
    assert _imports_the_facade(sample) == [1, 3]
