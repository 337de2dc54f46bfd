"""What `check` and `diff` say about their input, so that a run never stays silent about it.

Each group of tests covers one point of the newcomer's report: every `diff --data` is read
and counted; a spreadsheet column that names no field is reported at its header cell; an
input without records is not a pass; a closed output pipe ends the run quietly with 141;
`--progress always` prints plain lines where standard error is no terminal; control
characters from the data never reach the terminal raw.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data" / "feed-silence"
RB = str(DATA / "people.yaml")
SCHEMA = json.loads((DATA / "people.schema.json").read_text(encoding="utf-8"))


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


def person(i: int | str = 1, **changes: Any) -> dict[str, Any]:
    record = {"id": f"P-{i}", "name": "王芳", "birth_date": "1990-05-01", "application_date": "2024-03-01"}
    record.update(changes)
    return record


def jsonl(path: Path, records: list[dict[str, Any]], blank_after: tuple[int, ...] = ()) -> Path:
    lines = []
    for i, r in enumerate(records):
        lines.append(json.dumps(r, ensure_ascii=False))
        lines.extend("" for _ in range(blank_after.count(i)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- 2. diff --data A --data B --------------------------------------------------------------------


@pytest.fixture
def older(tmp_path: Path) -> Path:
    """The same rulebook with the age limit at 16: a 17-year-old passes there, not in people.yaml."""
    text = (DATA / "people.yaml").read_text(encoding="utf-8").replace("value: 18", "value: 16")
    text = text.replace('version: "2024-01-01"', 'version: "2023-01-01"').replace(
        'effective_from: "2024-01-01"', 'effective_from: "2023-01-01"'
    )
    path = tmp_path / "people-2023.yaml"
    path.write_text(
        text.replace("a-day-short-of-eighteen", "x").replace('birth_date: "2006-03-02"', 'birth_date: "2008-03-02"'),
        encoding="utf-8",
    )
    (tmp_path / "people.schema.json").write_text(
        (DATA / "people.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("spelling", [["--data", "A", "--data", "B"], ["--data", "A", "B"]], ids=["repeated", "listed"])
def test_diff_reads_every_data_file_and_counts_them(tmp_path: Path, older: Path, spelling: list[str]) -> None:
    # GIVEN a record that decides differently in the first file, two records in the second
    first = jsonl(tmp_path / "a.jsonl", [person(1, birth_date="2007-01-01")])
    second = jsonl(tmp_path / "b.jsonl", [person(2), person(3)], blank_after=(0,))
    argv = [str(first) if a == "A" else str(second) if a == "B" else a for a in spelling]
    # WHEN both are given to diff
    code, out, _ = run("diff", str(older), RB, *argv, "--lang", "en")
    # THEN the first file was read too (its record changed), and the summary names both files
    assert code == 1
    assert "P-1" in out and "pass → fail" in out
    assert f"3 records compared (`admission`): `{first}` 1, `{second}` 2; blank lines skipped: 1" in out
    code, out, _ = run("diff", str(older), RB, *argv, "--format", "json")
    compared = json.loads(out)["compared"]
    assert compared == {
        "records": 3,
        "decisions": ["admission"],
        "blank_lines": 1,
        "files": [
            {"file": str(first), "records": 1, "unreadable": 0},
            {"file": str(second), "records": 2, "unreadable": 0},
        ],
    }
    assert [c["record"] for c in json.loads(out)["records"]] == ["P-1"]


def test_diff_counts_unreadable_records_apart_and_speaks_chinese(tmp_path: Path, older: Path) -> None:
    feed = tmp_path / "a.jsonl"
    feed.write_text(json.dumps(person(1)) + "\n{broken\n", encoding="utf-8")
    code, out, _ = run("diff", str(older), RB, "--data", str(feed))
    assert code == 0
    assert f"比较了 1 条记录（`admission`）：`{feed}` 1 条（1 条无法读取）" in out


def test_diff_of_no_records_compared_nothing(tmp_path: Path, older: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    code, out, err = run("diff", str(older), RB, "--data", str(empty), "--lang", "en")
    assert code == 2 and out == ""
    assert f"error[input.empty]: `{empty}` holds no records" in err
    code, out, _ = run("diff", str(older), RB, "--data", str(empty), "--lang", "en", "--allow-empty")
    assert code == 0 and "0 records compared" in out


# -- 3. columns that name no field ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "unknown"),
    [
        (["id", "nmae", "birthdate"], [(1, "nmae", "name"), (2, "birthdate", "birth_date")]),
        (["id", "Birth_Date"], [(1, "Birth_Date", "birth_date")]),
        (["recommender.kind", "recommender.knid"], [(1, "recommender.knid", "recommender.kind")]),
        (
            ["introducers.1.member_id", "introducers[2].is_member", "introducers.member_id"],
            [(2, "introducers.member_id", "introducers.1.member_id")],
        ),
        (["kind", "is_member"], [(0, "kind", "recommender.kind"), (1, "is_member", "introducers.1.is_member")]),
        (["name.first", "occupations", "occupations.2"], [(0, "name.first", "name")]),
        (["id", "waivers", None, "姓名"], [(3, "姓名", None)]),
    ],
    ids=["misspelt", "case", "dotted", "list-position", "nested-name", "below-a-text", "unlike-anything"],
)
def test_unknown_columns_and_the_field_meant(header: list[str | None], unknown: list[Any]) -> None:
    from engine.io.cells import unknown_columns

    found, known = unknown_columns(header, SCHEMA)
    assert found == unknown
    assert known == sum(1 for h in header if h) - len(unknown)


CSV_HEADER = "id,nmae,birth_date,application_date,recommender.kind,introducers.1.member_id,occupations\n"


@pytest.fixture
def csv_feed(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    # the column `nmae` is empty: no record holds a key the schema lacks, only the header names it
    path.write_text(
        CSV_HEADER + "P-1,,1990-05-01,2024-03-01,group_member_unit,M-1,作曲;指挥\nP-2,,1991-05-01,2024-03-01,,,\n",
        encoding="utf-8",
    )
    return path


def test_an_unknown_csv_column_is_a_warning_once_at_its_header_cell(csv_feed: Path) -> None:
    code, out, err = run("check", RB, str(csv_feed), "--lang", "en")
    assert code == 0  # the records pass: a warning does not fail them
    assert err.count("input.unknown-column") == 1  # once per file, not once per row
    assert err.startswith(
        textwrap.dedent(f"""\
        {csv_feed}:1:4: warning[input.unknown-column]: column `nmae` names no field of the record: no rule reads it
           | {CSV_HEADER.rstrip()}
           |    ^~~~
           = help: did you mean `name`?
        """)
    )
    assert "2 records: pass 2" in out
    code, out, err = run("check", RB, str(csv_feed), "--fail-on", "warning", "--lang", "en", "--format", "json")
    assert code == 1
    assert "warnings about the input: 1" in err
    assert [json.loads(line)["outcome"] for line in out.splitlines()] == ["pass", "pass"]


def test_the_warning_in_chinese(csv_feed: Path) -> None:
    _, _, err = run("check", RB, str(csv_feed))
    assert f"{csv_feed}:1:4: warning[input.unknown-column]: 列 `nmae` 不对应记录的任何字段：没有规则会读取它" in err
    assert "= 帮助: 是否想写 `name`？" in err


def test_the_warning_in_sarif_github_and_junit(csv_feed: Path) -> None:
    _, out, _ = run("check", RB, str(csv_feed), "--lang", "en", "--format", "sarif")
    [result] = [r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "input.unknown-column"]
    assert result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 4}
    assert "did you mean `name`?" in result["message"]["text"]
    _, out, _ = run("check", RB, str(csv_feed), "--lang", "en", "--format", "github")
    assert out.splitlines()[0] == (
        f"::warning file={csv_feed},line=1,col=4,title=input.unknown-column::column "
        "`nmae` names no field of the record: no rule reads it (did you mean `name`?)"
    )
    _, out, _ = run("check", RB, str(csv_feed), "--lang", "en", "--format", "junit")
    suite = ET.fromstring(out).find("testsuite")  # noqa: S314 - the engine's own report, not outside input
    assert suite is not None
    err = suite.findtext("system-err") or ""
    assert f"{csv_feed}:1:4: warning[input.unknown-column]" in err and "^~~~" in err


def test_a_csv_header_that_names_no_field_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("\n姓名,出生日期\n王芳,1990-05-01\n", encoding="utf-8")
    code, out, err = run("check", RB, str(path), "--lang", "en")
    assert code == 2 and out == ""
    assert err.startswith(
        f"{path}:2:1: error[input.no-known-column]: no column of the header row names a field "
        "of the record: `姓名`, `出生日期`\n"
    )
    assert "= help: the first row names the fields, e.g. `id`, `name`, `birth_date`" in err


def _workbook(path: Path, *sheets: tuple[str, list[list[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def test_an_unknown_xlsx_column_is_named_by_its_cell(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "people.xlsx",
        ("申请人", [["id", "birthdate", "birth_date", "application_date"], ["P-1", None, "1990-05-01", "2024-03-01"]]),
    )
    code, _, err = run("check", RB, str(path), "--lang", "en", "--fail-on", "warning")
    assert code == 1
    assert (
        f"{path}: warning[input.unknown-column]: column `birthdate` (cell B1 of sheet `申请人`) names no field "
        "of the record: no rule reads it\n   = help: did you mean `birth_date`?"
    ) in err
    _, out, _ = run("check", RB, str(path), "--lang", "en", "--format", "github")
    assert out.startswith(f"::warning file={path},line=1,col=2,title=input.unknown-column::")


def test_a_sheet_whose_header_names_no_field_points_at_the_other_sheets(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "book.xlsx",
        ("说明", [["填表说明"], ["请在第二页填写"]]),
        ("申请人", [["id", "birth_date", "application_date"], ["P-1", "1990-05-01", "2024-03-01"]]),
    )
    code, out, err = run("check", RB, str(path), "--lang", "en")
    assert code == 2 and out == ""
    assert "error[input.no-known-column]: no column of the header row of sheet `说明` names a field" in err
    assert "give --sheet (sheets: `说明`, `申请人`)" in err
    code, out, err = run("check", RB, str(path), "--sheet", "申请人", "--lang", "en")
    assert code == 0 and err == ""


# -- 4. inputs without records --------------------------------------------------------------------


def _xlsx_header_only(path: Path) -> None:
    _workbook(path, ("Sheet", [["id", "birth_date", "application_date"]]))


@pytest.mark.parametrize(
    ("name", "content", "detail"),
    [
        ("empty.jsonl", "", "holds no records"),
        ("blank.jsonl", "\n  \n\n", "holds no records, only blank lines (3)"),
        ("empty.json", "[]", "holds no records"),
        ("header.csv", "id,birth_date,application_date\n", "holds no records"),
        ("blank.csv", "id,birth_date,application_date\n,,\n\n", "holds no records, only blank lines (2)"),
        ("header.xlsx", _xlsx_header_only, "holds no records"),
    ],
    ids=["empty", "blank-lines", "empty-array", "csv-header-only", "csv-blank-rows", "xlsx-header-only"],
)
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_input_without_records_is_not_a_pass(
    tmp_path: Path, name: str, content: Any, detail: str, jobs: str
) -> None:
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = run("check", RB, str(path), "--lang", "en", "--format", "json", "--jobs", jobs)
    assert code == 2 and out == ""
    assert f"error[input.empty]: `{path}` {detail}\n" in err
    assert "give --allow-empty where an empty input is expected" in err
    code, out, err = run("check", RB, str(path), "--lang", "en", "--allow-empty", "--jobs", jobs)
    assert code == 0 and "0 records" in out


def test_empty_standard_input_is_named(tmp_path: Path) -> None:
    code, _, err = run("check", RB, "-", "--input-format", "jsonl", stdin="\n\n")
    assert code == 2
    assert "error[input.empty]: `-` 中没有记录，只有 2 个空行" in err
    assert "没有作出任何决定的检查不算通过" in err


def test_an_empty_input_beside_others_is_a_warning(tmp_path: Path) -> None:
    feed = jsonl(tmp_path / "a.jsonl", [person(1)])
    empty = tmp_path / "b.jsonl"
    empty.write_text("", encoding="utf-8")
    code, out, err = run("check", RB, str(feed), str(empty), "--lang", "en")
    assert code == 0 and "1 record: pass 1" in out
    assert f"warning[input.empty]: `{empty}` holds no records" in err
    code, _, _ = run("check", RB, str(feed), str(empty), "--fail-on", "warning")
    assert code == 1
    code, _, err = run("check", RB, str(feed), str(empty), "--fail-on", "warning", "--allow-empty")
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["--format", "json", "--jobs", "1"],
        ["--format", "json", "--jobs", "2"],
        ["--format", "junit", "--jobs", "2"],
        ["--format", "junit"],
    ],
    ids=["blocks", "blocks-2-jobs", "records-2-jobs", "records"],
)
def test_blank_lines_are_counted_in_the_summary(tmp_path: Path, argv: list[str]) -> None:
    feed = jsonl(tmp_path / "a.jsonl", [person(1), person(2), person(3)], blank_after=(0, 0, 2))
    code, _, err = run("check", RB, str(feed), "--lang", "en", *argv)
    assert code == 0
    assert err == "3 records: pass 3, fail 0, indeterminate 0, error 0; blank lines skipped: 3\n"
    _, _, err = run("check", RB, str(feed), *argv)
    assert err == "3 条记录：通过 3，不通过 0，无法判断 0，出错 0；跳过空行 3 行\n"


def test_blank_lines_in_the_text_and_github_summaries(tmp_path: Path) -> None:
    feed = jsonl(tmp_path / "a.jsonl", [person(1)], blank_after=(0,))
    _, out, _ = run("check", RB, str(feed), "--lang", "en")
    assert "1 record: pass 1; blank lines skipped: 1" in out
    _, out, _ = run("check", RB, str(feed))
    assert "共 1 条记录：通过 1；跳过空行 1 行" in out
    _, out, _ = run("check", RB, str(feed), "--lang", "en", "--format", "github")
    assert out.splitlines()[-1].endswith("; blank lines skipped: 1")


# -- 5. a closed output pipe ---------------------------------------------------------------------


LINES_FORMAT = """
from engine import hookimpl
from engine.io.report import Summary


class LinesReport:
    def __init__(self, out, *, lang="zh", **_):
        self.out = out
        self.summary = Summary()

    def begin(self):
        pass

    def write(self, decision):
        self.summary.add(decision)
        self.out.write(f"{decision.record_id} {decision.outcome}\\n")

    def write_error(self, rulebook, version, decision, ref, message):
        self.summary.add_error()
        self.out.write(f"{ref.line} error\\n")

    def end(self):
        self.out.flush()
        return self.summary


@hookimpl
def register_formats(register):
    register("lines", LinesReport)
"""


@pytest.fixture(scope="module")
def big_feed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4,000 records, every other one failing: far more output than a pipe holds."""
    folder = tmp_path_factory.mktemp("pipe")
    return jsonl(
        folder / "feed.jsonl", [person(i, birth_date="2010-01-01" if i % 2 else "1990-01-01") for i in range(4000)]
    )


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a subprocess that loads a plugin format (`lines`) through a real entry point."""
    site = tmp_path_factory.mktemp("site")
    (site / "silence_lines.py").write_text(LINES_FORMAT, encoding="utf-8")
    info = site / "silence_lines-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: silence-lines\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[rulebook]\nlines = silence_lines\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RULEBOOK_") and k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(site)])
    return env


def _read_one_line_and_close(argv: list[str], env: dict[str, str]) -> tuple[int, bytes, str]:
    """Run the command with its output on a pipe, read its first line and close the pipe, as
    `rulebook check ... | head -1` does; its exit code, that line and its standard error."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    proc.stdout = None  # closed: communicate() reads standard error only
    try:
        _, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # the command and any worker it left
        proc.communicate()
        pytest.fail("the command did not end after its output was closed")
    return proc.returncode, first, err.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "argv",
    [
        ["--format", "json"],
        ["--format", "json", "--jobs", "2"],
        ["--format", "junit"],
        ["--format", "github"],
        ["--format", "text"],
        ["--format", "text", "--jobs", "2"],
        ["--format", "sarif"],
        ["--format", "lines"],
    ],
    ids=["json", "json-2-jobs", "junit", "github", "text", "text-2-jobs", "sarif", "plugin"],
)
def test_a_closed_output_pipe_ends_the_run_quietly_with_141(
    big_feed: Path, plugin_env: dict[str, str], argv: list[str]
) -> None:
    code, first, err = _read_one_line_and_close(["check", RB, str(big_feed), "--lang", "en", *argv], plugin_env)
    assert first  # the reader did get its line
    assert code == 141, err
    assert "internal error" not in err and "Traceback" not in err and "Exception ignored" not in err


def test_a_run_whose_output_is_read_to_the_end_keeps_its_exit_code(big_feed: Path, plugin_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "check", RB, str(big_feed), "--format", "lines"],
        capture_output=True,
        env=plugin_env,
        cwd=ROOT,
        timeout=180,
    )
    assert proc.returncode == 1  # half the records fail
    assert len(proc.stdout.splitlines()) == 4000


# -- 6. progress where standard error is not a terminal --------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "text"], ids=["blocks", "records"])
def test_progress_always_prints_plain_lines_off_a_terminal(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine import cli

    feed = jsonl(tmp_path / "a.jsonl", [person(i) for i in range(600)])
    output = ["--output", str(tmp_path / "report")]
    code, _, err = run("check", RB, str(feed), "--format", fmt, "--progress", "always", "--lang", "en", *output)
    assert code == 0
    assert re.fullmatch(r"progress: done, 600 records in \d+\.\d s\n600 records: .*\n", err), err
    # lines along the way, as often as asked (here: at every 250th record)
    monkeypatch.setattr(cli._Progress, "PLAIN_EVERY", 0.0)
    _, _, err = run("check", RB, str(feed), "--format", fmt, "--progress", "always", *output)
    lines = err.splitlines()
    assert re.fullmatch(r"进度：250/600 条记录（41%），\d+\.\d 秒", lines[0]), lines
    assert re.fullmatch(r"进度：500/600 条记录（83%），\d+\.\d 秒", lines[1]), lines
    assert re.fullmatch(r"进度：完成，600 条记录，用时 \d+\.\d 秒", lines[2]), lines
    assert "\x1b" not in err and "\r" not in err  # plain lines for a log, nothing drawn


@pytest.mark.parametrize("mode", ["never", "auto"])
def test_no_progress_off_a_terminal_unless_asked(tmp_path: Path, mode: str) -> None:
    feed = jsonl(tmp_path / "a.jsonl", [person(i) for i in range(600)])
    code, _, err = run("check", RB, str(feed), "--format", "json", "--progress", mode, "--lang", "en")
    assert code == 0 and "progress" not in err


def test_progress_counts_standard_input_without_a_total(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import cli

    monkeypatch.setattr(cli._Progress, "PLAIN_EVERY", 0.0)
    stdin = "\n".join(json.dumps(person(i)) for i in range(300)) + "\n"
    _, _, err = run(
        "check",
        RB,
        "-",
        "--input-format",
        "jsonl",
        "--format",
        "json",
        "--progress",
        "always",
        "--lang",
        "en",
        stdin=stdin,
    )
    assert re.match(r"progress: 250 records, \d+\.\d s\nprogress: done, 300 records in", err), err


# -- 7. control characters from the data --------------------------------------------------------


HOSTILE_ID = "P-\x1b[31m1"
HOSTILE_NAME = "\x1b]52;c;aGk=\x07\x1b[2J\u202eabc\u2066\x9b31m\x7f\nX-0 pass"
# every character a terminal (or a browser) would act on rather than show
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return jsonl(tmp_path / "hostile.jsonl", [person(1, id=HOSTILE_ID, name=HOSTILE_NAME)])


def _no_raw_controls(text: str) -> None:
    found = RAW.findall(text)
    assert not found, f"raw control characters in the output: {found!r}"


def test_text_shows_control_characters_escaped(hostile: Path) -> None:
    code, out, _ = run("check", RB, str(hostile), "--lang", "en", "--color", "always")
    assert code == 1
    # rich's own colours are escape sequences too: look at what is left without them
    _no_raw_controls(re.sub(r"\x1b\[[0-9;]*m", "", out))
    assert "P-\\x1b[31m1" in out
    assert "\\x1b]52;c;aGk=\\x07\\x1b[2J\\u202eabc\\u2066\\x9b31m\\x7f\\nX-0 pass" in out
    code, out, _ = run("check", RB, str(hostile), "--lang", "en", "--color", "never")
    _no_raw_controls(out)
    assert not [line for line in out.splitlines() if line.startswith("X-0")]  # no line forged by `\n`


def test_explain_and_diff_show_control_characters_escaped(hostile: Path, older: Path, tmp_path: Path) -> None:
    _, out, _ = run("explain", RB, str(hostile), "--lang", "en")
    _no_raw_controls(out)
    assert "\\x1b]52;c;aGk=" in out
    young = jsonl(tmp_path / "young.jsonl", [person(1, id=HOSTILE_ID, birth_date="2007-01-01")])
    code, out, _ = run("diff", str(older), RB, "--data", str(young), "--lang", "en")
    assert code == 1 and "P-\\x1b[31m1" in out
    _no_raw_controls(out)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,birth_date,application_date\nP-1,\x1b[2J1990,2024-03-01\n", encoding="utf-8")
    _, out, _ = run("explain", RB, str(bad), "--lang", "en")
    _no_raw_controls(out)
    assert "\\x1b[2J1990" in out


def test_a_column_name_is_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,na\x1bme,birth_date,application_date\nP-1,x,1990-05-01,2024-03-01\n", encoding="utf-8")
    _, _, err = run("check", RB, str(path), "--lang", "en")
    assert "column `na\\x1bme` names no field" in err
    _no_raw_controls(err)


def test_json_and_sarif_escape_control_characters(hostile: Path) -> None:
    _, out, _ = run("check", RB, str(hostile), "--format", "json")
    assert "\x1b" not in out and "\x07" not in out and "\\u001b" in out
    decision = json.loads(out)
    assert decision["record"] == HOSTILE_ID and HOSTILE_NAME in decision["rules"][1]["message"]
    _, out, _ = run("check", RB, str(hostile), "--format", "sarif")
    assert "\x1b" not in out and "\x07" not in out
    [result] = json.loads(out)["runs"][0]["results"]
    assert HOSTILE_NAME in result["message"]["text"]


def test_junit_keeps_to_xml(hostile: Path) -> None:
    _, out, _ = run("check", RB, str(hostile), "--format", "junit", "--lang", "en")
    assert "\x1b" not in out and "\x07" not in out
    case = ET.fromstring(out).find("testsuite/testcase")  # noqa: S314 - the engine's own report, checked for safety
    assert case is not None and case.get("name", "").startswith("P-[31m1")
    assert "]52;c;aGk=" in (case.findtext("failure") or "")


def test_html_and_github_show_control_characters_escaped(hostile: Path) -> None:
    _, out, _ = run("check", RB, str(hostile), "--format", "html", "--lang", "en")
    _no_raw_controls(out)
    assert "P-\\x1b[31m1" in out and "\\x1b]52;c;aGk=\\x07" in out and "\\u202eabc" in out
    _, out, _ = run("check", RB, str(hostile), "--format", "github", "--lang", "en")
    _no_raw_controls(out)
    assert "P-\\x1b[31m1: the name “\\x1b]52;c;aGk=\\x07\\x1b[2J\\u202eabc\\u2066\\x9b31m\\x7f%0AX-0 pass”" in out
