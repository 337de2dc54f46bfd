"""Fixtures for the plugin tests: a fresh plugin manager, fake installed distributions,
and a throw-away virtual environment to install real plugin packages into."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.pluginmanager import PluginManager, get_plugin_manager, reset_plugin_manager

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def pm(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginManager]:
    """The process's plugin manager, fresh, with the built-ins only (whatever else is
    installed in the test environment is not loaded); forgotten again afterwards."""
    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "")
    monkeypatch.delenv("RULEBOOK_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("RULEBOOK_TRACE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield get_plugin_manager()
    reset_plugin_manager()


@pytest.fixture
def dancers_source(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example plugin's source folder on ``sys.path`` (not installed: no entry point)."""
    folder = ROOT / "plugins" / "rulebook-dancers"
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    forget_modules("rulebook_dancers")


def forget_modules(package: str) -> None:
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


FakeDist = Callable[..., Path]


@pytest.fixture
def fake_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDist]:
    """Installs a distribution the way pip would leave it (a module and a ``.dist-info``
    with ``entry_points.txt``) into a folder on ``sys.path``, so that the plugin is found
    through a real ``rulebook`` entry point; everything is removed afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(dist: str, version: str, entry_point: str, module: str, source: str) -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
        (info / "entry_points.txt").write_text(f"[rulebook]\n{entry_point} = {module}\n", encoding="utf-8")
        modules.append(module)
        return info

    yield install
    for module in modules:
        sys.modules.pop(module, None)
    reset_plugin_manager()


def clean_env() -> dict[str, str]:
    """The environment for a subprocess in the throw-away venv: no PYTHONPATH, no plugin switches."""
    return {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("RULEBOOK_")
    }


class Venv:
    """A virtual environment whose python sees the engine (this source tree) and the
    test environment's libraries, but no other distribution installed into it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = path / "bin" / "python"

    def pip(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=clean_env(),
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def install(self, source: Path, *, editable: bool = False) -> None:
        self.pip(
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            *(["-e"] if editable else []),
            str(source),
        )

    def run(self, *args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=clean_env(),
            timeout=timeout,
            check=False,
        )

    def rulebook(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run("-m", "engine", *args, cwd=cwd)


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    work = tmp_path_factory.mktemp("plugin-venv")
    path = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    env = Venv(path)
    site = Path(env.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work).stdout.strip())
    # the engine from this source tree, and nothing else of it (not its tests or plugins/)
    engine_only = work / "engine-src"
    engine_only.mkdir()
    (engine_only / "engine").symlink_to(ROOT / "engine", target_is_directory=True)
    (site / "_engine.pth").write_text(f"{engine_only}\n", encoding="utf-8")
    # the libraries (lark, jsonschema, pluggy, setuptools, pytest, ...) from this environment
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return env


def copy_package(source: Path, dest: Path) -> Path:
    """A copy of a package folder to build from, so that a build never writes into the repository."""
    return Path(
        shutil.copytree(
            source, dest, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")
        )
    )
