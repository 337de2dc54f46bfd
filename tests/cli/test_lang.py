"""The command line in the reader's language, and its global options in either position.

``--lang`` before or after the subcommand, ``RULEBOOK_LANG``, ``--color`` before the
subcommand, ``--help`` of every command (argparse's own words too) and ``--version``.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import io
import platform
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import __version__
from engine.cli import main
from engine.cli.args import ARGPARSE_ZH, LANG_ENV, NOT_SHOWN_TO_USERS, choose_lang
from engine.pluginmanager import reset_plugin_manager
from tests.test_messages import chinese_in, english_in

MINI = "tests/data/rulebooks/mini.yaml"
COMMANDS = ("list", "check", "explain", "test", "doc", "lint", "diff", "plugins", "init-plugin", "calendar")


@pytest.fixture(autouse=True)
def _no_language_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LANG_ENV, raising=False)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# -- --lang and RULEBOOK_LANG ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("--lang", "en", "check", "no/such-rulebook", "x.json"),
        ("check", "no/such-rulebook", "x.json", "--lang", "en"),
        ("check", "--lang=en", "no/such-rulebook", "x.json"),
    ],
    ids=["before", "after", "equals"],
)
def test_lang_works_before_and_after_the_subcommand(argv: tuple[str, ...]) -> None:
    code, out, err = run(*argv)
    assert code == 2 and out == ""
    assert err.startswith("error[usage.unknown-rulebook]: no rulebook `no/such-rulebook` is installed")
    assert "= help: " in err and chinese_in(err) == []


def test_chinese_is_the_default() -> None:
    code, _, err = run("check", "no/such-rulebook", "x.json")
    assert code == 2 and err.startswith("error[usage.unknown-rulebook]: 没有安装规则集 `no/such-rulebook`")
    assert "= 帮助: " in err and english_in(err) == []


def test_rulebook_lang_sets_the_language_and_lang_overrides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LANG_ENV, "en")
    assert "no rulebook" in run("check", "no/such-rulebook", "x.json")[2]
    assert "没有安装规则集" in run("check", "no/such-rulebook", "x.json", "--lang", "zh")[2]
    monkeypatch.setenv(LANG_ENV, "en_US.UTF-8")  # as locale variables are written
    assert "no rulebook" in run("check", "no/such-rulebook", "x.json")[2]
    monkeypatch.setenv(LANG_ENV, "zh_CN")
    assert "没有安装规则集" in run("check", "no/such-rulebook", "x.json")[2]


@pytest.mark.parametrize(
    ("argv", "env", "lang"),
    [
        ([], None, "zh"),
        ([], "en", "en"),
        (["--lang", "en"], "zh", "en"),
        (["x", "--lang", "zh"], "en", "zh"),
        (["--lang", "fr"], "en", "en"),
        (["--", "--lang", "en"], None, "zh"),
        (["--lang=en"], None, "en"),
    ],
)
def test_choose_lang(argv: list[str], env: str | None, lang: str) -> None:
    assert choose_lang(argv, {LANG_ENV: env} if env else {}) == lang


def test_usage_errors_are_in_the_language_argparse_words_included() -> None:
    code, _, err = run("check")
    assert code == 2 and "缺少必需的参数：rulebook, FILE" in err and "参见 `rulebook check --help`" in err
    assert english_in(err) == []
    code, _, err = run("check", "--lang", "en")
    assert code == 2 and "the following arguments are required: rulebook, FILE" in err
    code, _, err = run("check", "x", "y", "--fail-on", "never")
    assert code == 2 and "参数 --fail-on：无效的取值 'never'（可选：'fail', 'indeterminate', 'warning'）" in err
    code, _, err = run("check", "x", "y", "--as-of", "2026-13-01")
    assert code == 2 and "参数 --as-of：`2026-13-01` 不是 YYYY-MM-DD 格式的日期" in err
    code, _, err = run("check", "x", "y", "--as-of", "2026-13-01", "--lang", "en")
    assert code == 2 and "argument --as-of: `2026-13-01` is not a date in YYYY-MM-DD form" in err
    code, _, err = run("nosuchcommand")
    assert code == 2 and "无效的取值 'nosuchcommand'" in err and english_in(err) == []


def test_argparse_words_are_restored_after_a_run() -> None:
    run("check")
    assert argparse._("usage: ") == "usage: "  # type: ignore[attr-defined]


def test_every_word_argparse_can_say_to_a_user_has_a_chinese_translation() -> None:
    # GIVEN every message argparse passes through gettext
    said: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(argparse))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext"):
            said |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    # THEN each is translated, or only ever shown to the author of a broken parser
    assert said - NOT_SHOWN_TO_USERS == set(ARGPARSE_ZH)
    for en, zh in ARGPARSE_ZH.items():
        assert re.findall(r"%(?:\(\w+\))?[sr]", en) == re.findall(r"%(?:\(\w+\))?[sr]", zh), en
        assert _CJK_OR_PUNCT.search(zh), zh


_CJK_OR_PUNCT = re.compile(r"[\u4e00-\u9fff：]")


# -- --help ----------------------------------------------------------------------------------------------


def _help_body(text: str) -> list[str]:
    """The help lines after the usage block (which shows the command's own names)."""
    return text.split("\n\n", 1)[1].splitlines()


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_in_the_language(command: str | None) -> None:
    argv = [command] if command else []
    code, zh, _ = run(*argv, "--help")
    assert code == 0 and zh.startswith("用法：rulebook")
    assert "选项" in zh and "显示此帮助信息并退出" in zh
    assert [line for line in _help_body(zh) if english_in(line)] == []
    code, en, _ = run(*argv, "--help", "--lang", "en")
    assert code == 0 and en.startswith("usage: rulebook") and "options:" in en
    assert [line for line in _help_body(en) if chinese_in(line)] == []


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("explain", "--decision"),
        ("explain", "--as-of"),
        ("diff", "--as-of"),
        ("diff", "--format"),
        ("lint", "--format"),
        ("list", "--format"),
        ("explain", "--format"),
        ("explain", "--input-format"),
        ("diff", "--sheet"),
        ("plugins", "--format"),
        ("test", "RULEBOOK_OR_PATH"),
        ("explain", "rulebook"),
    ],
)
def test_every_option_has_a_help_text(command: str, option: str) -> None:
    _, out, _ = run(command, "--help", "--lang", "en")
    lines = _help_body(out)
    index = next(i for i, line in enumerate(lines) if re.match(rf"\s+(-\w, )?{re.escape(option)}\b", line))
    # the help text follows the option (and its metavar or choices), or is on the next line
    same_line = re.match(rf"\s+(-\w, )?{re.escape(option)}( [A-Z_]+| \{{[^}}]*\}})?\s{{2,}}(\S.*)", lines[index])
    next_line = lines[index + 1] if index + 1 < len(lines) else ""
    assert same_line or re.match(r"\s{20,}\S", next_line), lines[index]


def test_the_help_of_check_and_the_docs_agree_on_the_jobs_default(root: Path) -> None:
    _, out, _ = run("check", "--help", "--lang", "en")
    help_text = " ".join(out.split())
    assert "every core when JSON Lines files of 1 MB or more go to --format json, else 1" in help_text
    docs = (root / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "every core when JSON Lines files of 1 MB or more go to `--format json`" in docs


def test_the_help_of_lint_says_it_lints_every_installed_rulebook() -> None:
    _, out, _ = run("lint", "--help", "--lang", "en")
    assert "every installed rulebook" in " ".join(out.split())
    assert "bundled rulebooks)" not in out


# -- --color ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv", [("--color", "always", "test", MINI), ("test", MINI, "--color", "always")], ids=["before", "after"]
)
def test_color_works_before_and_after_the_subcommand(argv: tuple[str, ...]) -> None:
    code, out, _ = run(*argv)
    assert code == 0 and "\x1b[" in out


def test_no_color_unless_asked_off_a_terminal() -> None:
    code, out, _ = run("test", MINI)
    assert code == 0 and "\x1b[" not in out
    code, out, _ = run("--color", "always", "test", MINI, "--color", "never")
    assert "\x1b[" not in out


def test_test_speaks_the_language_to_its_last_line() -> None:
    _, zh, _ = run("test", MINI, "-v")
    assert zh.splitlines()[-1].endswith("个示例通过，0 个不通过") and english_in(zh) == []
    _, en, _ = run("test", MINI, "-v", "--lang", "en")
    assert en.splitlines()[-1].endswith("passed, 0 failed") and chinese_in(en.replace("测试规则集", "")) == []


# -- --version -------------------------------------------------------------------------------------------


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A plugin installed as pip would leave it: a module and a .dist-info with its entry point."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "rulebook_tuba.py").write_text(
        textwrap.dedent("""\
        from engine import hookimpl

        @hookimpl
        def register_functions(register):
            pass
        """),
        encoding="utf-8",
    )
    info = site / "rulebook_tuba-2.3.4.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rulebook-tuba\nVersion: 2.3.4\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[rulebook]\ntuba = rulebook_tuba\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("RULEBOOK_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("RULEBOOK_DISABLE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield
    sys.modules.pop("rulebook_tuba", None)
    reset_plugin_manager()


def test_version_names_the_engine_python_and_the_plugins(installed_plugin: None) -> None:
    code, out, _ = run("--version", "--lang", "en")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"rulebook {__version__} (rulebook-engine)"
    assert lines[1] == f"Python {platform.python_version()} ({platform.python_implementation()})"
    assert "  tuba (rulebook-tuba 2.3.4)" in lines
    code, out, _ = run("--version")
    assert code == 0 and "  tuba（rulebook-tuba 2.3.4）" in out and "插件：" in out and english_in(out) == []


def test_version_without_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "")
    reset_plugin_manager()
    try:
        code, out, _ = run("--version", "--lang", "en")
    finally:
        reset_plugin_manager()
    assert code == 0 and out.splitlines()[-1] == "plugins: none besides the built-in ones"


# -- messages of the commands --------------------------------------------------------------------------


def test_the_stderr_summary_is_in_the_language(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text(
        '{"id": "a", "birth_date": "2000-01-01", "application_date": "2024-06-01"}\n{"id": \n', encoding="utf-8"
    )
    _, out, err = run("check", MINI, str(records), "--format", "json")
    assert "2 条记录：通过 1，不通过 0，无法判断 0，出错 1" in err
    assert "不是有效的 JSON：此处应为一个值（第 8 列）" in out
    _, out, err = run("check", MINI, str(records), "--format", "json", "--lang", "en")
    assert "2 records: pass 1, fail 0, indeterminate 0, error 1" in err
    assert "not valid JSON: Expecting value (column 8)" in out


def test_an_unknown_decision_names_the_decisions_in_both_languages(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text("{}\n", encoding="utf-8")
    _, _, zh = run("check", MINI, str(records), "--decision", "nope")
    _, _, en = run("check", MINI, str(records), "--decision", "nope", "--lang", "en")
    assert "没有决定 `nope`" in zh and "`admission`" in zh and "`--decision NAME`" in zh
    assert "has no decision `nope`" in en and "`admission`" in en


def test_an_unwritable_report_says_why_in_the_language(tmp_path: Path) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text("{}\n", encoding="utf-8")
    target = str(tmp_path / "no" / "such" / "folder" / "out.txt")
    _, _, zh = run("check", MINI, str(records), "--output", target)
    assert "无法写入" in zh and "文件或文件夹不存在" in zh and english_in(zh) == []
    _, _, en = run("check", MINI, str(records), "--output", target, "--lang", "en")
    assert "cannot write" in en and "no such file or folder" in en
