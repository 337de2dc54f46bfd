"""Every code block of README.md, docs/ and examples/ is checked, so that none can drift.

The fenced block's info string says what is done with it:

* ``sh``: every command is run (in a temporary folder that links the repository's
  ``examples/``, ``rulebooks/``, ``tests/``, ``schemas/``, ``plugins/``, ``docs/`` and
  ``.venv``, so files the commands write land there); a command must exit 0 or 1 (a
  check whose records do not all pass), or the status its comment names (``# exits 2``),
  and never print a traceback.  ``rulebook ...`` lines run in-process, others under bash;
* ``console``: each ``$ command`` is run as above and what it prints must be exactly
  the lines that follow it (trailing spaces aside);
* ``python``: the blocks of one file are executed in order in one namespace (from the
  temporary folder), and every name a function in them reads must exist; an excerpt
  that ``tests/plugins/test_docs_plugins.py`` keeps equal to tested code (a block after
  ``<!-- include: FILE#REGION -->``) and a one-line hook signature are only compiled;
* ``yaml``, ``json`` (or JSON lines), ``toml``: parsed; ``cel``: parsed as a condition;
* ``text``: illustrative; but a diagnostic line in it (``error[CODE]: message``) must
  name a code the engine emits and, where the code's texts are catalogued, read as one
  of them;
* ``cel-examples`` and ``json doc-record``: run by ``tests/test_docs_language.py``.

A block that cannot run is marked in its info string with the reason:
````` ```sh no-run (installs into .venv) `````.  A block with no info string fails.
Commands on a decision that is taken as of "today" must give ``--as-of``, so that what a
page shows does not change with the calendar.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import symtable
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "examples").rglob("*.md"))]
FENCE = re.compile(
    r"^(?P<indent>[ ]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S
)
INCLUDE = re.compile(r"<!-- include: [^\s#]+#[\w-]+ -->\n$")
KINDS = {"sh", "console", "python", "text", "yaml", "json", "toml", "cel", "cel-examples"}
LINKED = ("examples", "rulebooks", "tests", "schemas", "plugins", "docs")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence
    info: str
    body: str
    after_include: bool

    @property
    def kind(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def no_run(self) -> bool:
        return re.match(r"\S+\s+no-run\b", self.info) is not None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks() -> list[Block]:
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            body = "\n".join(x[len(m["indent"]) :] for x in m["body"].splitlines()) + "\n"
            out.append(Block(page, line, m["info"].strip(), body, INCLUDE.search(text[: m.start()]) is not None))
    return out


BLOCKS = blocks()


def of_kind(*kinds: str, runnable: bool = True) -> list[Any]:
    return [pytest.param(b, id=b.where) for b in BLOCKS if b.kind in kinds and not (runnable and b.no_run)]


# -- running commands ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that sees the repository's data, where commands may write."""
    here = tmp_path_factory.mktemp("docs-code")
    for name in LINKED:
        (here / name).symlink_to(ROOT / name, target_is_directory=True)
    if sys.prefix != sys.base_prefix:  # `source .venv/bin/activate` finds the running environment
        (here / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return here


def commands(body: str) -> Iterator[str]:
    """The command lines of a shell block (continuation lines joined, blank lines and comments out)."""
    text = re.sub(r"\\\n\s*", " ", body)
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()


def expected_status(line: str) -> set[int]:
    m = re.search(r"#.*\bexits? (\d)\b", line)
    return {int(m.group(1))} if m else {0, 1}


def run(line: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run one command line; (exit status, what it printed on stdout and stderr)."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = []
    simple = (
        words
        and words[0] == "rulebook"
        and not any(w in ("|", "||", "&&", ";", ">", "<", "2>&1") for w in words)
        and "$" not in line
    )
    if simple:
        out, err = io.StringIO(), io.StringIO()
        with monkeypatch.context() as m:
            m.chdir(cwd)
            m.setenv("COLUMNS", "120")
            m.delenv("RULEBOOK_LANG", raising=False)
            code = main(words[1:], stdout=out, stderr=err)
        return code, out.getvalue() + err.getvalue()
    # pip finds nothing to install from, should a command that installs slip through the check above
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "120",
        "PIP_NO_INDEX": "1",
        "PIP_CONFIG_FILE": os.devnull,
    }
    env.pop("RULEBOOK_LANG", None)
    done = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout + done.stderr


# Commands that change the environment the tests run in (or run the tests themselves): a block
# with one of them must be marked `no-run (why)`, and is never run here.
CHANGES_THE_ENVIRONMENT = re.compile(r"(^|[\s/&|;])(pip3?|pytest)\s|-m (pip|pytest|venv)\b|\bapt(-get)?\s")


@pytest.mark.parametrize("block", of_kind("sh"))
def test_shell_block_runs(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = list(commands(block.body))
    assert lines, f"{block.where}: an empty shell block"
    installs = [line for line in lines if CHANGES_THE_ENVIRONMENT.search(line)]
    assert installs == [], f"{block.where}: mark the block `sh no-run (why)`: it would change the environment"
    for line in lines:
        code, output = run(line, workdir, monkeypatch)
        assert code in expected_status(line), f"{block.where}: `{line}` exited {code}:\n{output[-2000:]}"
        assert "Traceback" not in output and "internal error" not in output, f"{block.where}: `{line}`:\n{output}"


def console_steps(body: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before the first `$ ` command: {line!r}"
            steps[-1][1].append(line)
    return [(cmd, "\n".join(out)) for cmd, out in steps]


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


@pytest.mark.parametrize("block", of_kind("console"))
def test_console_block_prints_what_it_shows(block: Block, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = console_steps(block.body)
    assert steps, f"{block.where}: a console block needs `$ command` lines"
    for command, shown in steps:
        code, output = run(command, workdir, monkeypatch)
        assert code in expected_status(command) | {2}, f"{block.where}: `{command}` exited {code}:\n{output}"
        assert _normal(output) == _normal(shown), (
            f"{block.where}: `{command}` now prints:\n{output}\n(the page shows:\n{shown})"
        )


# -- python --------------------------------------------------------------------------------------------

SIGNATURE = re.compile(r"def \w+\(.*\) -> .+\n")


def _unbound_globals(code: str, namespace: dict[str, Any]) -> list[str]:
    """Names that functions or classes in ``code`` read as globals and that the namespace lacks."""
    missing = []

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            if (
                table.get_type() != "module"
                and sym.is_referenced()
                and sym.is_global()
                and sym.get_name() not in namespace
                and not hasattr(builtins, sym.get_name())
            ):
                missing.append(f"`{sym.get_name()}` in `{table.get_name()}`")
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(code, "<doc>", "exec"))
    return missing


@pytest.mark.parametrize(
    "page", sorted({b.page for b in BLOCKS if b.kind == "python"}), ids=lambda p: str(p.relative_to(ROOT))
)
def test_python_blocks_execute(page: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    namespace: dict[str, Any] = {"__name__": "__doc_example__", "__file__": str(workdir / "example.py")}
    monkeypatch.chdir(workdir)
    ran = 0
    for block in (b for b in BLOCKS if b.page == page and b.kind == "python"):
        if block.after_include:  # kept equal to tested code by tests/plugins/test_docs_plugins.py
            compile(block.body, block.where, "exec")
            continue
        if SIGNATURE.fullmatch(block.body):  # a hook's signature, checked by test_docs_plugins.py
            compile(block.body.rstrip("\n") + ": ...\n", block.where, "exec")
            continue
        if block.no_run:
            compile(block.body, block.where, "exec")
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block.body, block.where, "exec"), namespace)  # noqa: S102 - the page's own example
        assert _unbound_globals(block.body, namespace) == [], f"{block.where}: names used but never defined"
        ran += 1
    assert ran or page.name == "plugins.md"


# -- parsed blocks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", of_kind("yaml", "json", "toml", "cel"))
def test_data_block_parses(block: Block) -> None:
    if block.kind == "yaml":
        list(yaml.safe_load_all(block.body))
    elif block.kind == "json":
        try:
            json.loads(block.body)
        except json.JSONDecodeError:
            for line in block.body.splitlines():  # JSON lines
                if line.strip():
                    json.loads(line)
    elif block.kind == "toml":
        tomllib.loads(block.body)
    else:
        from engine.lang.parser import parse_condition

        parse_condition(block.body.strip())


# -- every block is marked; text blocks hold current diagnostics --------------------------------------


def test_every_block_says_what_it_is() -> None:
    unmarked = [f"{b.where}: ```{b.info}" for b in BLOCKS if b.kind not in KINDS and b.info != "json doc-record"]
    assert unmarked == [], (
        "code blocks without a known info string (sh, console, python, text, yaml, json, toml, "
        "cel; `sh no-run (why)` for one that cannot run):\n" + "\n".join(unmarked)
    )
    for b in BLOCKS:
        if b.no_run:
            assert re.match(r"\S+\s+no-run\s+\(.+\)$", b.info), f"{b.where}: say why it cannot run: no-run (reason)"


DIAGNOSTIC = re.compile(r"^(?:\S+:\d+:\d+: )?(?:error|warning)\[(?P<code>[\w.-]+)\]: (?P<message>.*)$")


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^{}]*\}", template.replace("{{", "\0").replace("}}", "\1"))
    body = ".+?".join(re.escape(p).replace("\0", "{").replace("\1", "}") for p in parts)
    return re.compile(body + "$")


def test_diagnostics_shown_in_text_blocks_are_current() -> None:
    from engine.messages import CATALOGUE
    from tests.test_messages import emitted_codes

    codes = set(emitted_codes())
    stale = []
    for b in BLOCKS:
        if b.kind not in ("text", "console"):
            continue
        for line in b.body.splitlines():
            m = DIAGNOSTIC.match(line.strip())
            if m is None:
                continue
            code = m["code"]
            if code not in codes:
                stale.append(f"{b.where}: `{code}` is not a code the engine emits")
                continue
            templates = [
                t
                for key, texts in CATALOGUE.items()
                if key == code or (key.startswith(code + ":") and "/" not in key)
                for t in texts[:2]
            ]
            if templates and not any(_template_pattern(t).match(m["message"]) for t in templates):
                stale.append(f"{b.where}: `{m['message']}` is not how `{code}` reads now")
    assert stale == [], "\n".join(stale)


# -- what the commands of the pages decide -------------------------------------------------------------


def _rulebook_commands() -> Iterator[tuple[Block, list[str]]]:
    for b in BLOCKS:
        if b.kind == "sh":
            lines = list(commands(b.body))
        elif b.kind == "console":
            lines = [cmd for cmd, _ in console_steps(b.body)]
        else:
            continue
        for line in lines:
            for part in re.split(r"&&|\|", line):
                try:
                    words = shlex.split(part, comments=True)
                except ValueError:
                    continue
                if words and words[0].endswith("rulebook") and len(words) > 2 and words[1] in ("check", "explain"):
                    yield b, words


def test_commands_on_decisions_taken_today_give_the_date() -> None:
    from engine.registry import Registry

    registry = Registry.default()
    undated = []
    seen = 0
    for block, words in _rulebook_commands():
        if "--as-of" in words or words[2].endswith((".yaml", ".yml")):
            continue
        try:
            book = registry.load(words[2])
        except Exception:  # noqa: BLE001, S112 - a plugin's rulebook that is not installed here
            continue
        name = words[words.index("--decision") + 1] if "--decision" in words else None
        decisions = [book.decision(name)] if name else list(book.decisions.values())[:1]
        seen += 1
        if any(d.spec.as_of is None for d in decisions):
            undated.append(f"{block.where}: {' '.join(words)}")
    assert seen >= 5
    assert undated == [], "decided as of today, so the output changes with the date; add --as-of:\n" + "\n".join(
        undated
    )


def test_the_readme_demo_is_the_tour_first_check_and_the_test_command_is_ci() -> None:
    readme = [b for b in BLOCKS if b.page.name == "README.md" and b.page.parent == ROOT]
    demo, tests = readme[0], readme[1]
    assert demo.no_run and tests.no_run
    check = demo.body.strip().rsplit("&& .venv/bin/", 1)[1]
    assert check.startswith("rulebook check ")
    tour = next(b for b in readme if b.kind == "sh" and not b.no_run)
    assert check in list(commands(tour.body))[1:3] or any(line.startswith(check) for line in commands(tour.body))
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests.body.strip() in ci, ".ci/run must run the README's test command"


def test_the_demo_exits_1_as_the_readme_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code = main(
        ["check", "hlj-musicians/membership", "examples/applicants.jsonl"], stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert code == 1
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("```", 1)[0]
    assert "exit status 1" in readme and "do not qualify" in readme


def test_every_runnable_block_is_reached() -> None:
    # the page list covers README.md, docs/ and examples/, and most blocks run
    kinds = [b.kind for b in BLOCKS]
    assert kinds.count("sh") >= 6 and kinds.count("console") >= 4 and kinds.count("python") >= 10
    assert {str(p.relative_to(ROOT)) for p in PAGES} >= {
        "README.md",
        "docs/cli.md",
        "docs/plugins.md",
        "examples/README.md",
    }


def test_the_demo_records_are_checked_as_of_the_date_they_are_written_for(monkeypatch: pytest.MonkeyPatch) -> None:
    # examples/README.md states the date each file is written as of; every page's command on that
    # file passes that date, and on it the records show what the page says: some pass, some do not
    table = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    stated = {
        m["file"]: m["date"]
        for m in re.finditer(r"^\| `(?P<file>[\w.-]+)` \|[^|]*\| (?P<date>\d{4}-\d{2}-\d{2}) \|", table, re.M)
    }
    assert stated == {"terminations.jsonl": "2026-03-01", "members.jsonl": "2025-12-15"}
    used = set()
    for block, words in _rulebook_commands():
        for name, date in stated.items():
            if f"examples/{name}" in words:
                used.add(name)
                assert words[words.index("--as-of") + 1] == date if "--as-of" in words else False, (
                    f"{block.where}: {' '.join(words)} needs --as-of {date}"
                )
    assert used == set(stated)
    monkeypatch.chdir(ROOT)
    for name, decision in (("members.jsonl", "member-status"), ("terminations.jsonl", "termination")):
        out = io.StringIO()
        main(
            [
                "check",
                "hlj-musicians/membership",
                f"examples/{name}",
                "--decision",
                decision,
                "--as-of",
                stated[name],
                "--format",
                "json",
            ],
            stdout=out,
            stderr=io.StringIO(),
        )
        outcomes = {json.loads(line)["outcome"] for line in out.getvalue().splitlines()}
        assert {"pass", "fail"} <= outcomes, (name, outcomes)
