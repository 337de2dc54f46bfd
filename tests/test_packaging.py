"""The bundled rulebooks and schemas are package data: a wheel installed into a fresh
virtual environment (not editable, away from the source tree) still lists and checks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import engine


def _copy_sources(root: Path, dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "tests"
    )
    return Path(shutil.copytree(root, dest / "src", symlinks=True, ignore=ignore))


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = Path(__file__).resolve().parent.parent
    work = tmp_path_factory.mktemp("wheel")
    src = _copy_sources(root, work)
    out = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
        check=True,
        capture_output=True,
        text=True,
    )
    wheels = list(out.glob("rulebook_engine-*.whl"))
    assert len(wheels) == 1
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # (without PYTHONPATH: a source tree on it would look like the engine already installed)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheels[0]),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=clean,
    )
    # The dependencies (lark, jsonschema, ...) come from this environment; the engine itself does not.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(venv / "bin" / "rulebook"), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def test_the_wheel_carries_rulebooks_and_schemas(wheel_venv: Path, tmp_path: Path) -> None:
    python = wheel_venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run(
        [str(python), "-c", "import engine; print(engine.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert str(wheel_venv) in where  # the installed copy, not the source tree
    listed = _run(wheel_venv, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "hlj-musicians/membership" in listed.stdout


def test_the_installed_wheel_checks_records(wheel_venv: Path, tmp_path: Path) -> None:
    src = Path(engine.__file__).resolve().parent.parent / "examples" / "applicants.jsonl"
    feed = tmp_path / "applicants.jsonl"
    shutil.copy(src, feed)
    result = _run(wheel_venv, "check", "hlj-musicians/membership", "applicants.jsonl", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 20
    assert {o["outcome"] for o in lines} == {"pass", "fail", "indeterminate"}
    tested = _run(wheel_venv, "test", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
