"""``-`` as an output is standard output: ``--output -`` writes what no ``--output`` writes.

Every option naming a file a command writes (``engine.cli.args.OUTPUT_FILES``) is run with ``-`` and
without the option, from an empty working folder: the same bytes (time stamps aside), the same exit
code, the same summary, and no file named ``-`` left behind.  A format refused on standard output
(``--format parquet``) is refused with ``-`` too; an option naming a folder to write into
(``OUTPUT_FOLDERS``) refuses ``-``; ``./-`` still writes a file (or folder) named ``-``.  On a Dask
cluster, ``--output -`` keeps the lines travelling to the client, as standard output does.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import args as cli_args
from engine.cli import main
from tests.dask.conftest import SPY

RB = "hlj-musicians/membership"
ROOT = Path(__file__).resolve().parent.parent.parent
APPLICANTS = str(ROOT / "examples" / "applicants.jsonl")
# the only thing that differs between two runs: how long a JUnit suite took
DURATION = re.compile(r'\btime="[0-9.]+"')


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder: a file named ``-`` would be written here."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("RULEBOOK_LANG", raising=False)
    return folder


def test_every_output_option_is_known() -> None:
    """Each option of a command that names a file or folder it writes is in OUTPUT_FILES or
    OUTPUT_FOLDERS, so that ``-`` means the same there as everywhere (and is tested below)."""
    parser = cli_args.build_parser("en")
    found: dict[str, set[tuple[str, str]]] = {"file": set(), "folder": set()}
    for command, sub in _subcommands(parser):
        for action in sub._actions:  # argparse lists a parser's actions nowhere public
            for option in action.option_strings:
                if option in ("--output", "-o"):
                    found["file"].add((command, option))
                elif option == "--directory":
                    found["folder"].add((command, option))
    assert found["file"] == {(c, o) for c, (o, _d) in cli_args.OUTPUT_FILES.items()}
    assert found["folder"] == {(c, o) for c, (o, _d) in cli_args.OUTPUT_FOLDERS.items()}
    assert set(cli_args.OUTPUT_FILES) == {command for command, _argv in OUTPUTS}


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every subcommand's parser, by name, at any depth (``calendar show`` as ``show``)."""
    out: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((name, sub))
                out.extend(_subcommands(sub))
    return out


CHECK_FORMATS = ("text", "json", "junit", "sarif", "github", "html")
OUTPUTS = [
    *(("check", ["check", RB, APPLICANTS, "--format", f]) for f in CHECK_FORMATS),
    ("check", ["check", RB, APPLICANTS, "--format", "json", "--lang", "en", "--fail-on", "fail"]),
    ("doc", ["doc", RB]),
    ("doc", ["doc", RB, "--format", "html", "--lang", "en"]),
]
OUTPUT_IDS = [*(f"check-{f}" for f in CHECK_FORMATS), "check-json-en", "doc-markdown", "doc-html-en"]


@pytest.mark.parametrize(("command", "argv"), OUTPUTS, ids=OUTPUT_IDS)
def test_dash_writes_what_no_output_writes(command: str, argv: list[str], here: Path) -> None:
    code, out, err = run(*argv)
    assert out, "the command wrote nothing to compare"
    for given in (["--output", "-"], ["--output=-"]):
        dash_code, dash_out, dash_err = run(*argv, *given)
        assert dash_code == code
        assert DURATION.sub("", dash_out) == DURATION.sub("", out)
        assert dash_err == err  # the summary on standard error too, as without --output
    assert list(here.iterdir()) == []


def test_dash_is_standard_output_of_the_process(here: Path) -> None:
    """The command run as a program: the bytes on its standard output are the same with ``--output -``
    as without, and ``-`` is written nowhere."""
    base = [sys.executable, "-m", "engine", "check", RB, APPLICANTS, "--format", "json", "--lang", "en"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    plain = subprocess.run(base, capture_output=True, cwd=here, env=env, check=False, timeout=120)
    dash = subprocess.run([*base, "--output", "-"], capture_output=True, cwd=here, env=env, check=False, timeout=120)
    assert plain.returncode == dash.returncode == 1, dash.stderr.decode()
    assert plain.stdout and dash.stdout == plain.stdout
    assert dash.stderr == plain.stderr
    assert list(here.iterdir()) == []


def test_parquet_refuses_dash_as_it_refuses_standard_output(here: Path) -> None:
    argv = ["check", RB, APPLICANTS, "--format", "parquet", "--lang", "en"]
    code, out, err = run(*argv)
    dash_code, dash_out, dash_err = run(*argv, "--output", "-")
    assert code == dash_code == 2
    assert out == dash_out == ""
    assert "error[usage.parquet-output]" in dash_err and dash_err == err
    assert list(here.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["check", RB, APPLICANTS, "--format", "json"],
        ["doc", RB],
    ],
    ids=["check", "doc"],
)
def test_dot_slash_dash_is_a_file_named_dash(argv: list[str], here: Path) -> None:
    code, out, _err = run(*argv)
    file_code, file_out, _ = run(*argv, "--output", "./-")
    assert file_code == code and file_out == ""
    assert [p.name for p in here.iterdir()] == ["-"]
    assert (here / "-").read_text(encoding="utf-8") == out


@pytest.mark.parametrize(
    ("argv", "written"),
    [
        (["init-plugin", "rulebook-acme-club", "--directory", "-"], "rulebook-acme-club/.vscode/settings.json"),
        (["schema", "--install", "--directory", "-"], ".vscode/settings.json"),
    ],
    ids=["init-plugin", "schema"],
)
def test_a_folder_is_never_standard_output(argv: list[str], written: str, here: Path) -> None:
    for lang, words in (("en", "means standard output"), ("zh", "表示标准输出")):
        code, out, err = run(*argv, "--lang", lang)
        assert code == 2 and out == ""
        assert "error[usage.dash-folder]" in err and words in err and "./-" in err
        assert "Traceback" not in err
    assert list(here.iterdir()) == []
    argv = [a if a != "-" else "./-" for a in argv]
    code, _out, err = run(*argv, "--lang", "en")
    assert code == 0, err
    assert [p.name for p in here.iterdir()] == ["-"]
    assert (here / "-" / written).is_file()


def test_help_says_what_dash_is() -> None:
    for lang, words in (("en", "- is standard output"), ("zh", "- 表示标准输出")):
        for command in cli_args.OUTPUT_FILES:
            out = io.StringIO()
            assert main([command, "--help", "--lang", lang], stdout=out, stderr=io.StringIO()) == 0
            assert words in " ".join(out.getvalue().split()), (command, lang)


def test_dask_dash_sends_the_lines_to_standard_output(here: Path, tmp_path: Path) -> None:
    """``check --dask local:1 --format json --output -`` with standard output redirected to a file:
    ``-`` is standard output, so the workers write no part beside a file named ``-`` (the lines travel
    to the client) and the bytes are the local run's without ``--output``."""
    expected_code, expected, _err = run("check", RB, APPLICANTS, "--format", "json", "--lang", "en")
    spy = tmp_path / "spy.py"
    spy.write_text(SPY, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RULEBOOK_DASK_SHARED_OUTPUT", None)  # local:N: the workers would write parts beside a file
    argv = [sys.executable, str(spy), "check", RB, APPLICANTS, "--dask", "local:1", "--format", "json"]
    redirected = tmp_path / "stdout.jsonl"
    with redirected.open("wb") as stdout:
        done = subprocess.run(
            [*argv, "--lang", "en", "--progress", "never", "--output", "-"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=here,
            env=env,
            check=False,
            timeout=300,
        )
    assert done.returncode == expected_code, done.stderr.decode()
    assert done.stderr.decode().splitlines()[-1] == "appended 0"
    assert redirected.read_bytes() == expected.encode("utf-8")
    assert list(here.iterdir()) == []  # no file named `-`, no folder of parts
