"""Options that would do nothing are refused (``usage.option-unused``, exit 2).

GIVEN an option written on the command line whose effect depends on another option, on
the inputs or on the configuration (``engine.cli.unused.DEPENDENT``),
WHEN it would do nothing there,
THEN the command does not run: exit 2, ``error[usage.option-unused]`` naming the option,
why it does nothing and what to do, in the run's language only;
AND where it does apply, the same option still works.

One refusal and one control per entry of the table; the table itself is kept complete:
every option of every command is in it, or listed as always taking effect, or as accepted
on purpose where it changes nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine import hookimpl
from engine.cli import main
from engine.cli import unused as unused_module
from engine.cli.args import build_parser, given_options, parse_args
from engine.cli.schema import SCHEMA_ID
from engine.cli.unused import ACCEPTED, ALWAYS, DEPENDENT, Situation, unused_options
from engine.evaluate import InputRef
from engine.hookspecs import RecordOptions
from engine.pluginmanager import PluginManager, get_plugin_manager, reset_plugin_manager
from tests.test_messages import chinese_in, english_in

ROOT = Path(__file__).resolve().parent.parent.parent
MINI = str(ROOT / "tests" / "data" / "rulebooks" / "mini.yaml")
OTHER_SCHEMA = "https://rulebook-engine.example/schemas/decision-output.schema.json"
RECORD = {"id": "A-1", "birth_date": "1990-05-01", "application_date": "2024-06-01"}
PRIZE = [{"level": "national", "grade": 1}]


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


@dataclass
class Inputs:
    jsonl: str
    xlsx: str
    folder: Path


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    from openpyxl import Workbook

    jsonl = tmp_path / "records.jsonl"
    jsonl.write_text(json.dumps({**RECORD, "awards": PRIZE}) + "\n", encoding="utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "First"
    book.create_sheet("Applicants").append(["id", "birth_date", "application_date", "awards"])
    book["Applicants"].append(["X-7", "1990-05-01", "2024-06-01", json.dumps(PRIZE)])
    xlsx = tmp_path / "records.xlsx"
    book.save(xlsx)
    return Inputs(str(jsonl), str(xlsx), tmp_path)


@pytest.fixture(autouse=True)
def serve_stub(monkeypatch: pytest.MonkeyPatch) -> list[argparse.Namespace]:
    """``rulebook serve`` does not start a server here: the stub records that the command ran
    (a refusal never reaches it), and the service's variables of the environment are cleared."""
    import engine.serve.cli

    started: list[argparse.Namespace] = []

    def stub(args: argparse.Namespace, *_: Any) -> int:
        started.append(args)
        return 0

    monkeypatch.setattr(engine.serve.cli, "cmd_serve", stub)
    for name in [n for n in os.environ if n.startswith("RULEBOOK_SERVE_")]:
        monkeypatch.delenv(name)
    return started


def refused(err: str, lang: str, *options: str) -> None:
    """``err`` is one refusal naming ``options``, with its help, in ``lang`` alone."""
    assert "error[usage.option-unused]" in err, err
    for option in options:
        assert f"`{option}`" in err, (option, err)
    if lang == "en":
        assert "does nothing here" in err or "do nothing here" in err, err
        assert "= help: " in err and chinese_in(err) == [], err
    else:
        assert "在这里不起作用" in err and "= 帮助: " in err, err
        assert english_in(err) == [], err


# -- one refusal per entry of the table, in both languages -----------------------------------------

# (command, dest) -> (the command line, given the inputs; the option as the message names it)
REFUSALS: dict[tuple[str, str], tuple[Callable[[Inputs], list[str]], str]] = {
    ("", "version"): (lambda f: ["--version", "list"], "--version"),
    ("check", "sheet"): (lambda f: ["check", MINI, f.jsonl, "--sheet", "Applicants"], "--sheet"),
    ("check", "verbose"): (lambda f: ["check", MINI, f.jsonl, "-v", "--format", "json"], "--verbose"),
    ("check", "progress"): (
        lambda f: ["check", MINI, f.jsonl, "--progress", "always", "--dask", "local:1"],
        "--progress",
    ),
    ("explain", "sheet"): (lambda f: ["explain", MINI, f.jsonl, "--sheet", "Applicants"], "--sheet"),
    ("diff", "decision"): (lambda f: ["diff", MINI, MINI, "--decision", "admission"], "--decision"),
    ("diff", "as_of"): (lambda f: ["diff", MINI, MINI, "--as-of", "2024-06-01"], "--as-of"),
    ("diff", "input_format"): (lambda f: ["diff", MINI, MINI, "--input-format", "csv"], "--input-format"),
    ("diff", "sheet"): (lambda f: ["diff", MINI, MINI, "--data", f.jsonl, "--sheet", "Applicants"], "--sheet"),
    ("diff", "allow_empty"): (lambda f: ["diff", MINI, MINI, "--allow-empty"], "--allow-empty"),
    ("diff", "dask"): (lambda f: ["diff", MINI, MINI, "--dask", "local:1"], "--dask"),
    # `.` is the default of --directory: written on the command line, it is given all the same
    ("schema", "directory"): (lambda f: ["schema", "--directory", "."], "--directory"),
    ("schema", "pattern"): (lambda f: ["schema", "--pattern", "**/*.yaml"], "--pattern"),
    ("schema", "schema_id"): (
        lambda f: ["schema", OTHER_SCHEMA, "--install", "--directory", str(f.folder)],
        OTHER_SCHEMA,
    ),
    ("serve", "watch_interval"): (lambda f: ["serve", "--watch-interval", "2"], "--watch-interval"),
    ("serve", "metrics_open"): (lambda f: ["serve", "--metrics-open"], "--metrics-open"),
    ("serve", "masked_fields"): (
        lambda f: ["serve", "--mask-field", "phone", "--no-decision-log"],
        "--mask-field",
    ),
    ("serve", "edit"): (lambda f: ["serve", "--edit"], "--edit"),
}


def test_every_entry_of_the_table_has_a_refusal_here() -> None:
    assert {(d.command, d.dest) for d in DEPENDENT} == set(REFUSALS)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("entry", sorted(REFUSALS), ids=lambda e: f"{e[0] or 'rulebook'}-{e[1]}")
def test_an_option_that_would_do_nothing_is_refused(
    entry: tuple[str, str], lang: str, inputs: Inputs, serve_stub: list[argparse.Namespace]
) -> None:
    argv, option = REFUSALS[entry]
    code, out, err = run(*argv(inputs), "--lang", lang)
    assert code == 2 and out == "", (out, err)
    refused(err, lang, option)
    assert serve_stub == []  # nothing ran
    assert not (inputs.folder / ".vscode").exists()


def test_the_options_that_do_nothing_are_named_together_with_one_reason() -> None:
    code, _, err = run("diff", MINI, MINI, "--as-of", "2024-06-01", "--sheet", "S", "--lang", "en")
    assert code == 2 and err.count("error[") == 1
    assert "`--as-of`, `--sheet` do nothing here: without `--data` no record is read" in err
    assert "give `--data FILE`, or remove `--as-of`, `--sheet`" in err


def test_the_first_example_exits_2_instead_of_checking_as_usual(root: Path) -> None:
    # the feed is JSON Lines: --sheet picked nothing, and the run went on as if it were not there
    code, out, err = run(
        "check", "hlj-musicians/membership", str(root / "examples" / "applicants.jsonl"), "--sheet", "Foo"
    )
    assert code == 2 and out == ""
    assert err.startswith("error[usage.option-unused]: `--sheet` 在这里不起作用：没有一个输入是 .xlsx 工作簿")


# -- the controls: where the option applies, it works ----------------------------------------------


def test_version_alone_prints_the_version() -> None:
    code, out, _ = run("--version", "--lang", "en")
    assert code == 0 and out.startswith("rulebook ")


def test_sheet_picks_the_worksheet_of_a_workbook(inputs: Inputs) -> None:
    code, out, err = run("check", MINI, inputs.xlsx, "--sheet", "Applicants", "--format", "json", "--lang", "en")
    assert code == 0, err
    assert [json.loads(line)["record"] for line in out.splitlines()] == ["X-7"]
    code, out, _ = run("explain", MINI, inputs.xlsx, "--sheet", "Applicants", "--lang", "en")
    assert code == 0 and "X-7" in out
    # the sheet given is the one read: another name is an error of its own
    code, _, err = run("check", MINI, inputs.xlsx, "--sheet", "Nope", "--lang", "en")
    assert code == 2 and "error[usage.unknown-sheet]" in err
    # a workbook among other inputs: --sheet applies to it
    code, out, err = run(
        "check", MINI, inputs.jsonl, inputs.xlsx, "--sheet", "Applicants", "--format", "json", "--lang", "en"
    )
    assert code == 0 and [json.loads(line)["record"] for line in out.splitlines()] == ["A-1", "X-7"], err


def test_sheet_with_input_format_xlsx_applies(inputs: Inputs) -> None:
    named = inputs.folder / "records.xltx"  # a name the engine does not read as a workbook by itself
    named.write_bytes(Path(inputs.xlsx).read_bytes())
    code, out, err = run("check", MINI, str(named), "--input-format", "xlsx", "--sheet", "Applicants", "--lang", "en")
    assert code == 0 and "X-7" in out, err


def test_verbose_changes_the_text_report(inputs: Inputs) -> None:
    _, plain, _ = run("check", MINI, inputs.jsonl, "--lang", "en")
    code, verbose, _ = run("check", MINI, inputs.jsonl, "-v", "--lang", "en")
    assert code == 0 and "[admission]" in verbose and "[admission]" not in plain


def test_progress_always_prints_its_lines_without_dask(inputs: Inputs) -> None:
    code, _, err = run("check", MINI, inputs.jsonl, "--progress", "always", "--format", "json", "--lang", "en")
    assert code == 0 and re.match(r"progress: done, 1 records? in \d+\.\d s\n", err), err


def test_progress_always_prints_its_lines_by_columns_too(inputs: Inputs) -> None:
    # the columnar engine reports its batches' records: --progress is not left without effect there
    out = str(inputs.folder / "results.parquet")
    code, _, err = run(
        "check", MINI, inputs.jsonl, "--engine", "columnar", "--format", "parquet", "--output", out,
        "--progress", "always", "--lang", "en",
    )  # fmt: skip
    assert code == 0 and re.match(r"progress: done, 1 records? in \d+\.\d s\nengine: columnar", err), err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def situation(argv: list[str], **kwargs: Any) -> Situation:
    parser = build_parser("en")
    args = parse_args(parser, argv, "en")
    return Situation(args, given_options(parser, argv, "en"), **kwargs)


def test_progress_always_with_dask_applies_on_a_terminal(inputs: Inputs) -> None:
    argv = ["check", MINI, inputs.jsonl, "--progress", "always", "--dask", "local:1"]
    assert unused_options(situation(argv, stderr=Terminal())) == []
    assert [d.code for d in unused_options(situation(argv, stderr=io.StringIO()))] == ["usage.option-unused"]
    # asking for nothing (never) or for the default (auto) is accepted anywhere
    for mode in ("never", "auto"):
        assert unused_options(situation([*argv[:4], mode, *argv[5:]], stderr=io.StringIO())) == []


@pytest.mark.parametrize(
    "option",
    [
        ["--decision", "admission"],
        ["--as-of", "2024-06-01"],
        ["--input-format", "jsonl"],
        ["--allow-empty"],
    ],
    ids=lambda o: o[0],
)
def test_the_options_of_diff_data_apply_with_data(option: list[str], inputs: Inputs) -> None:
    code, out, err = run("diff", MINI, MINI, "--data", inputs.jsonl, *option, "--lang", "en")
    assert code == 0, err
    assert "1 record compared (`admission`)" in out


def test_diff_dask_and_sheet_apply_to_the_records_of_data(inputs: Inputs) -> None:
    assert unused_options(situation(["diff", MINI, MINI, "--data", inputs.jsonl, "--dask", "local:1"])) == []
    code, out, err = run("diff", MINI, MINI, "--data", inputs.xlsx, "--sheet", "Applicants", "--lang", "en")
    assert code == 0 and "1 record compared" in out, err


def test_schema_install_takes_its_directory_and_patterns(inputs: Inputs) -> None:
    folder = inputs.folder / "project"
    folder.mkdir()
    code, _, err = run("schema", "--install", "--directory", str(folder), "--pattern", "rules/*.yaml", "--lang", "en")
    assert code == 0, err
    settings = json.loads((folder / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert list(settings["yaml.schemas"].values()) == [["rules/*.yaml"]]


def test_schema_id_is_shown_alone_and_installed_when_it_is_the_rulebook_schema(inputs: Inputs) -> None:
    code, out, _ = run("schema", OTHER_SCHEMA, "--lang", "en")
    assert code == 0 and out.startswith(OTHER_SCHEMA) and "decision-output.schema.json" in out
    code, out, err = run("schema", SCHEMA_ID, "--install", "--directory", str(inputs.folder), "--lang", "en")
    assert code == 0 and "rulebook.schema.json" in out, err


def test_serve_watch_interval_applies_with_watch(serve_stub: list[argparse.Namespace]) -> None:
    assert run("serve", "--watch", "--watch-interval", "2", "--lang", "en")[0] == 0
    assert serve_stub[0].watch_interval == 2.0


def test_serve_metrics_open_applies_where_tokens_are_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_stub: list[argparse.Namespace]
) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret\n", encoding="utf-8")
    assert run("serve", "--metrics-open", "--tokens-file", str(tokens), "--lang", "en")[0] == 0
    monkeypatch.setenv("RULEBOOK_SERVE_TOKENS", "s3cret")
    assert run("serve", "--metrics-open", "--lang", "en")[0] == 0
    assert len(serve_stub) == 2


def test_serve_mask_field_applies_while_the_decision_log_is_on(
    monkeypatch: pytest.MonkeyPatch, serve_stub: list[argparse.Namespace]
) -> None:
    assert run("serve", "--mask-field", "phone", "--lang", "en")[0] == 0
    assert serve_stub[0].masked_fields == ["phone"]
    # the log turned off by the environment: the option does nothing either
    monkeypatch.setenv("RULEBOOK_SERVE_DECISION_LOG", "0")
    code, _, err = run("serve", "--mask-field", "phone", "--lang", "en")
    assert code == 2
    refused(err, "en", "--mask-field")


def test_serve_edit_applies_with_a_rulebook_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_stub: list[argparse.Namespace]
) -> None:
    assert run("serve", "--edit", "--rulebooks", str(tmp_path), "--lang", "en")[0] == 0
    monkeypatch.setenv("RULEBOOK_SERVE_RULEBOOKS", str(tmp_path))
    assert run("serve", "--edit", "--lang", "en")[0] == 0
    assert len(serve_stub) == 2
    # a rulebook file is no folder to save drafts into
    monkeypatch.delenv("RULEBOOK_SERVE_RULEBOOKS")
    code, _, err = run("serve", "--edit", "--rulebooks", MINI, "--lang", "en")
    assert code == 2
    refused(err, "en", "--edit")


def test_serve_options_accepted_on_purpose_do_not_stop_it(serve_stub: list[argparse.Namespace]) -> None:
    # turning off what the log level hides anyway, or what is off already: a statement, accepted
    assert run("serve", "--no-access-log", "--log-level", "warning", "--lang", "en")[0] == 0
    assert run("serve", "--no-decision-log", "--lang", "en")[0] == 0
    assert len(serve_stub) == 2


def test_allow_empty_on_an_input_with_records_is_accepted(inputs: Inputs) -> None:
    # a permission: nothing was empty, so nothing needed it
    assert run("check", MINI, inputs.jsonl, "--allow-empty", "--lang", "en")[0] == 0


# -- plugins: their readers may read --sheet, their reports -v --------------------------------------


@pytest.fixture
def pm(monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginManager]:
    monkeypatch.setenv("RULEBOOK_LOAD_PLUGINS", "")
    monkeypatch.delenv("RULEBOOK_DISABLE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield get_plugin_manager()
    reset_plugin_manager()


class BookReader:
    """A plugin's reader of ``.book`` files (or ``--input-format book``): a JSON object of sheets,
    each a list of records; ``--sheet`` picks one."""

    def __init__(self) -> None:
        self.sheets: list[str | None] = []

    @hookimpl
    def open_records(self, path: str, options: RecordOptions) -> Iterator[tuple[InputRef, Any]] | None:
        if not path.endswith(".book") and options.input_format != "book":
            return None
        self.sheets.append(options.sheet)
        return self.read(path, options)

    def read(self, path: str, options: RecordOptions) -> Iterator[tuple[InputRef, Any]]:
        text = options.stdin.read() if path == "-" and options.stdin is not None else Path(path).read_text("utf-8")
        for i, record in enumerate(json.loads(text)[options.sheet or "main"], start=1):
            yield InputRef(path, i), record


def test_sheet_reaches_a_plugins_reader(pm: PluginManager, tmp_path: Path) -> None:
    reader = BookReader()
    pm.register(reader, "books")
    book = tmp_path / "feed.book"
    book.write_text(json.dumps({"main": [], "late": [{**RECORD, "id": "L-1", "awards": PRIZE}]}), encoding="utf-8")
    code, out, err = run("check", MINI, str(book), "--sheet", "late", "--format", "json", "--lang", "en")
    assert code == 0 and json.loads(out)["record"] == "L-1", err
    code, out, err = run(
        "check", MINI, "-", "--input-format", "book", "--sheet", "late", "--lang", "en", stdin=book.read_text("utf-8")
    )
    assert code == 0 and "L-1" in out, err
    assert reader.sheets[-1] == "late"
    # a file the plugin does not read is read by the engine's own reader, which has no sheets
    jsonl = tmp_path / "plain.jsonl"
    jsonl.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    code, _, err = run("check", MINI, str(jsonl), "--sheet", "late", "--lang", "en")
    assert code == 2
    refused(err, "en", "--sheet")


class VerboseTally:
    """A plugin's report that reads ``verbose`` from its keyword arguments."""

    def __init__(self, out: Any, **options: Any) -> None:
        from engine.io.report import Summary

        self.out, self.verbose, self.summary = out, options.get("verbose", False), Summary()

    def begin(self) -> None:
        return None

    def write(self, decision: Any) -> None:
        self.summary.add(decision)

    def write_error(self, *_: Any) -> None:
        self.summary.outcomes["error"] += 1

    def end(self) -> Any:
        self.out.write(f"{self.summary.total} {'verbose' if self.verbose else 'brief'}\n")
        return self.summary


class Formats:
    @hookimpl
    def register_formats(self, register: Any) -> None:
        register("tally", VerboseTally)


def test_verbose_reaches_a_plugins_report(pm: PluginManager, inputs: Inputs) -> None:
    pm.register(Formats(), "tally")
    code, out, err = run("check", MINI, inputs.jsonl, "--format", "tally", "-v", "--lang", "en")
    assert code == 0 and out == "1 verbose\n", err


def test_an_unknown_format_is_reported_as_such_not_as_verbose_unused(inputs: Inputs) -> None:
    code, _, err = run("check", MINI, inputs.jsonl, "--format", "jsno", "-v", "--lang", "en")
    assert code == 2 and "error[usage.unknown-format]" in err and "option-unused" not in err


# -- the table is complete and documented -----------------------------------------------------------


def _commands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    parser = build_parser("en")
    yield "", parser
    stack = [parser]
    while stack:
        current = stack.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield name, sub
                    stack.append(sub)


def test_every_option_of_every_command_is_classified() -> None:
    dependent = {(d.command, d.dest) for d in DEPENDENT}
    missing = []
    for command, parser in _commands():
        name = command if command != "show" else "calendar"  # `calendar show` is the calendar's command
        for action in parser._actions:
            if action.dest in ("help", argparse.SUPPRESS):
                continue
            places = [
                (name, action.dest) in dependent or (command == "" and ("", action.dest) in dependent),
                action.dest in ALWAYS.get(name, frozenset()) | ALWAYS["*"],
                action.dest in ACCEPTED.get(name, frozenset()) | ACCEPTED["*"],
            ]
            if not any(places):
                missing.append((command, action.dest))
            assert not (places[1] and (places[0] or places[2])), (command, action.dest)
    assert missing == [], "classify these in engine/cli/unused.py (and docs/cli.md)"


def test_docs_list_every_refusal_and_every_option_accepted_on_purpose(root: Path) -> None:
    text = (root / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("## Options that would do nothing are refused", 1)[1].split("\n## ", 1)[0]
    for entry in DEPENDENT:
        shown = entry.option or "ID"
        assert f"`{shown}" in section, entry
    for option in ("--allow-empty", "--engine", "--progress never", "--no-access-log", "--no-decision-log", "--color"):
        assert f"`{option}" in section, option
    assert "`usage.option-unused`" in text


def test_given_options_counts_an_explicit_default_and_leaves_the_defaults_in_place() -> None:
    parser = build_parser("en")
    argv = ["schema", "--directory", "."]
    args = parse_args(parser, argv, "en")
    assert given_options(parser, argv, "en") == {"command", "directory"}
    again = parse_args(parser, ["schema"], "en")
    assert again.directory == "." and again.install is False and args.directory == "."
    assert "directory" not in given_options(parser, ["schema"], "en")


def test_the_module_documents_the_three_places() -> None:
    doc = unused_module.__doc__ or ""
    assert "DEPENDENT" in doc and "ALWAYS" in doc and "ACCEPTED" in doc
