"""The `rulebook` command line, run in-process: exit codes, text and JSON output."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from engine import cli
from engine.cli import main
from engine.schemas import load_schema

RB = "hlj-musicians/membership"


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def applicants(root: Path) -> Path:
    return root / "examples" / "applicants.jsonl"


def lines_of(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def good_record(**changes: Any) -> dict[str, Any]:
    record = {
        "id": "T-1",
        "name": "测试",
        "citizenship": "CN",
        "province": "黑龙江",
        "birth_date": "1990-05-01",
        "application_date": "2026-03-01",
        "occupations": ["作曲"],
        "accepts_charter": True,
        "self_applied": True,
        "introducers": [{"member_id": "M-1", "is_member": True}, {"member_id": "M-2", "is_member": True}],
        "recommender": {"kind": "group_member_unit", "name": "哈尔滨市音乐家协会"},
        "professional_title": "中级",
    }
    record.update(changes)
    return record


def test_list_shows_the_bundled_rulebook() -> None:
    code, out, _ = run("list")
    assert code == 0
    assert RB in out and "2022-04-15" in out and "in_force" in out


def test_check_demo_explains_each_applicant(applicants: Path) -> None:
    code, out, _ = run("check", RB, str(applicants))
    assert code == 1  # some applicants do not qualify
    assert "A-0001" in out and "A-0020" in out
    assert "第十二条" in out and "未满18周岁" in out
    assert "共 20 条记录" in out


def test_check_json_matches_the_contract(applicants: Path) -> None:
    code, out, err = run("check", RB, str(applicants), "--format", "json", "--lang", "en")
    assert code == 1
    schema = load_schema("decision-output.schema.json")
    objs = lines_of(out)
    assert len(objs) == 20
    for obj in objs:
        jsonschema.validate(obj, schema)
        assert obj["rulebook"] == RB and obj["version"] == "2022-04-15" and obj["decision"] == "admission"
        assert obj["input"]["file"] == str(applicants)
    assert [o["input"]["line"] for o in objs] == list(range(1, 21))
    assert "20 records: pass" in err  # the summary on standard error, in the language asked for
    adult = next(r for o in objs if o["record"] == "A-0010" for r in o["rules"] if r["id"] == "adult")
    assert adult["status"] == "fail" and adult["article"] == 12 and adult["cite"] == "第十二条"
    assert adult["values"]["age"] == 17 and "17" in adult["message"]
    missing = next(o for o in objs if o["record"] == "A-0020")
    assert missing["outcome"] == "indeterminate"
    err_rule = next(r for r in missing["rules"] if r["status"] == "error")
    assert err_rule["error"]["path"] == "birth_date"


def test_check_english_messages(applicants: Path) -> None:
    _, out, _ = run("check", RB, str(applicants), "--format", "json", "--lang", "en")
    adult = next(r for o in lines_of(out) if o["record"] == "A-0010" for r in o["rules"] if r["id"] == "adult")
    assert adult["message"].startswith("the applicant")


def test_a_broken_line_yields_an_error_object_and_the_rest_go_on(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps(good_record(id="T-1")) + "\n{not json\n\n" + json.dumps(good_record(id="T-3")) + "\n" + "[1, 2]\n",
        encoding="utf-8",
    )
    code, out, _ = run("check", RB, str(feed), "--format", "json")
    objs = lines_of(out)
    assert [o["record"] for o in objs] == ["T-1", None, "T-3", None]
    assert objs[1]["outcome"] == "error" and objs[1]["input"] == {"file": str(feed), "line": 2}
    assert "JSON" in objs[1]["message"]
    assert objs[0]["outcome"] == "pass" and objs[2]["outcome"] == "pass"
    assert objs[3]["outcome"] == "error" and "JSON 对象" in objs[3]["message"]
    assert code == 1
    schema = load_schema("decision-output.schema.json")
    for obj in objs:
        jsonschema.validate(obj, schema)


@pytest.mark.parametrize(
    ("records", "fail_on", "expected"),
    [
        ([good_record()], "indeterminate", 0),
        ([good_record(citizenship="US")], "fail", 1),
        ([{k: v for k, v in good_record().items() if k != "birth_date"}], "fail", 0),
        ([{k: v for k, v in good_record().items() if k != "birth_date"}], "indeterminate", 1),
        ([good_record(event_participations=0)], "warning", 0),
    ],
    ids=["all-pass", "fail", "indeterminate-tolerated", "indeterminate-fails", "info-rules-never-fail"],
)
def test_exit_codes(tmp_path: Path, records: list[dict[str, Any]], fail_on: str, expected: int) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    code, _, _ = run("check", RB, str(feed), "--fail-on", fail_on)
    assert code == expected


def test_json_array_input_keeps_element_lines(tmp_path: Path) -> None:
    feed = tmp_path / "feed.json"
    feed.write_text(
        "[\n" + json.dumps(good_record(id="X-1")) + ",\n" + json.dumps(good_record(id="X-2")) + "\n]\n",
        encoding="utf-8",
    )
    _, out, _ = run("check", RB, str(feed), "--format", "json")
    assert [(o["record"], o["input"]["line"]) for o in lines_of(out)] == [("X-1", 2), ("X-2", 3)]


def test_stdin(tmp_path: Path) -> None:
    code, out, _ = run("check", RB, "-", "--format", "json", stdin=json.dumps(good_record()) + "\n")
    assert code == 0
    assert lines_of(out)[0]["input"]["file"] == "-"


def test_as_of_overrides_the_application_date() -> None:
    young = good_record(birth_date="2008-06-01", application_date="2026-03-01")
    _, out, _ = run("check", RB, "-", "--format", "json", "--as-of", "2026-06-01", stdin=json.dumps(young))
    obj = lines_of(out)[0]
    assert obj["as_of"] == "2026-06-01"
    assert next(r for r in obj["rules"] if r["id"] == "adult")["status"] == "pass"


def test_output_file(tmp_path: Path, applicants: Path) -> None:
    target = tmp_path / "report.jsonl"
    code, out, err = run("check", RB, str(applicants), "--format", "json", "--output", str(target))
    assert code == 1 and out == ""
    assert len(lines_of(target.read_text(encoding="utf-8"))) == 20
    assert "20 条记录：通过" in err


def test_text_output_does_not_interpret_markup(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(good_record(name="[bold red]X[/]", citizenship="[link]")) + "\n", encoding="utf-8")
    _, out, _ = run("check", RB, str(feed), "--color", "never")
    assert "[bold red]X[/]" in out
    assert "[link]" in out


def test_explain_lists_every_rule_with_values_and_notes(tmp_path: Path) -> None:
    feed = tmp_path / "one.json"
    feed.write_text(json.dumps(good_record(birth_date="2008-03-02")), encoding="utf-8")
    code, out, _ = run("explain", RB, str(feed))
    assert code == 1
    for rule in ("citizen", "in_province", "adult", "occupation", "qualification", "withdrawal_ban"):
        assert rule in out
    assert "age = 17" in out
    assert "注:" in out  # interpretation notes are shown


def test_explain_json(tmp_path: Path) -> None:
    feed = tmp_path / "one.json"
    feed.write_text(json.dumps(good_record()), encoding="utf-8")
    code, out, _ = run("explain", RB, str(feed), "--format", "json")
    assert code == 0
    jsonschema.validate(json.loads(out), load_schema("decision-output.schema.json"))


def test_test_command_runs_embedded_examples() -> None:
    code, out, _ = run("test")
    assert code == 0
    assert out.splitlines()[-1].endswith(" 个示例通过，0 个不通过")
    code, out, _ = run("test", "--lang", "en")
    assert code == 0 and out.splitlines()[-1].endswith(" passed, 0 failed")


def test_test_command_reports_a_wrong_example(tmp_path: Path, root: Path) -> None:
    text = (root / "rulebooks" / "hlj-musicians" / "membership.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "membership.yaml"
    (tmp_path / "x").mkdir()
    broken.write_text(text.replace("outcome: pass", "outcome: fail", 1), encoding="utf-8")
    code, out, _ = run("test", str(broken), "--lang", "en")
    assert code == 1
    assert "expected fail, got pass" in out
    code, out, _ = run("test", str(broken))
    assert code == 1 and "结论：应为 fail，实为 pass" in out


def test_lint_bundled_rulebooks_is_clean() -> None:
    code, out, _ = run("lint")
    assert code == 0
    assert "ok" in out


def test_lint_json(root: Path) -> None:
    code, out, _ = run("lint", str(root / "tests" / "data" / "errors" / "unknown-field.yaml"), "--format", "json")
    assert code == 2
    diag = lines_of(out)[0]["diagnostics"][0]
    assert (diag["line"], diag["column"], diag["code"]) == (19, 36, "check.unknown-field")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["check", "hlj-musicians/membrship", "x.jsonl"], "did you mean `hlj-musicians/membership`?"),
        (["check", RB + "@1999-01-01", "x.jsonl"], "has no version `1999-01-01`"),
        (["check", RB, "missing.jsonl"], "no such file `missing.jsonl`"),
        (["check", RB, "x.jsonl", "--as-of", "2026-13-01"], "not a date"),
        (["check", RB, "x.xls"], "(.xls) is not read"),
        (["check", RB, "x.jsonl", "--decision", "nope"], "no decision `nope`"),
        (["check", RB, "-", "--as-of", "2020-01-01"], "no version of `hlj-musicians/membership` is in force"),
        (["frobnicate"], "invalid choice"),
        (["lint", "no/such/dir"], "no such file or folder"),
    ],
    ids=[
        "unknown-rulebook",
        "unknown-version",
        "missing-file",
        "bad-date",
        "csv",
        "unknown-decision",
        "not-in-force",
        "unknown-command",
        "lint-missing",
    ],
)
def test_usage_errors_exit_2_without_traceback(
    argv: list[str], needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text("{}\n", encoding="utf-8")
    code, out, err = run(*argv, "--lang", "en", stdin="")
    assert code == 2
    assert needle in out + err
    assert "Traceback" not in out + err


def test_internal_errors_are_reported_without_traceback_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(io: Any) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setitem(cli.COMMANDS, "list", boom)
    code, _, err = run("list")
    assert code == 2 and "内部错误" in err and "Traceback" not in err
    code, _, err = run("list", "--lang", "en")
    assert code == 2 and "internal error" in err and "Traceback" not in err
    code, _, err = run("list", "--debug")
    assert code == 2 and "Traceback" in err and "kaboom" in err


def test_help_exits_0() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "check" in out


def test_a_record_without_its_decision_date_is_indeterminate_and_valid_json() -> None:
    record = {k: v for k, v in good_record().items() if k != "application_date"}
    code, out, _ = run("check", RB, "-", "--format", "json", stdin=json.dumps(record))
    obj = lines_of(out)[0]
    assert code == 1
    assert obj["outcome"] == "indeterminate" and obj["as_of"] is None
    assert all(r["status"] == "error" for r in obj["rules"])
    assert "application_date" in obj["rules"][0]["message"]
    jsonschema.validate(obj, load_schema("decision-output.schema.json"))


@pytest.mark.parametrize("fmt", ["json", "text", "junit", "sarif", "github", "html"])
def test_jobs_give_the_same_report_in_input_order(tmp_path: Path, fmt: str) -> None:
    lines = []
    for i in range(700):
        if i in (5, 400):
            lines.append("{broken line")
        elif i == 300:
            lines.append("[1, 2]")
        else:
            lines.append(
                json.dumps(
                    good_record(id=f"J-{i:04d}", birth_date="2010-01-01" if i % 7 == 0 else "1990-05-01"),
                    ensure_ascii=False,
                )
            )
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    serial = run("check", RB, str(feed), "--format", fmt, "--jobs", "1", "--color", "never")
    parallel = run("check", RB, str(feed), "--format", fmt, "--jobs", "2", "--color", "never")
    assert parallel[0] == serial[0] == 1

    def stable(text: str) -> str:  # timings and timestamps differ between runs
        import re

        return re.sub(r'time="[0-9.]+"|生成时间: [0-9: -]+|generated: [0-9: -]+', "", text)

    assert stable(parallel[1]) == stable(serial[1])
    if fmt == "json":
        objs = lines_of(parallel[1])
        assert len(objs) == 700
        assert [o["input"]["line"] for o in objs] == list(range(1, 701))
        assert objs[5]["outcome"] == "error" and objs[300]["outcome"] == "error"


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(good_record()) + "\n", encoding="utf-8")
    code, _, err = run("check", RB, str(feed), "--jobs", "0", "--lang", "en")
    assert code == 2 and "--jobs" in err


def test_progress_line_when_asked(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(good_record(id=f"P-{i}")) for i in range(600)) + "\n", encoding="utf-8")
    code, out, err = run("check", RB, str(feed), "--progress", "always", "--format", "json")
    assert code == 0 and len(lines_of(out)) == 600
    assert "Traceback" not in err


def test_lint_without_paths_covers_rulebook_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "ours" / "broken.yaml"
    broken.parent.mkdir()
    broken.write_text("rulebook: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("RULEBOOK_PATH", str(tmp_path / "ours"))
    code, out, _ = run("lint", "--lang", "en")
    assert code == 2
    assert "broken.yaml:2:1: error[yaml.syntax]" in out
    assert "membership.yaml" in out  # the bundled rulebooks are still linted


def test_progress_bar_knows_how_many_records_are_ahead(tmp_path: Path) -> None:
    """On a terminal the progress line is a bar when the number of records can be told
    beforehand (JSON Lines and CSV lines, workbook rows), a counter otherwise."""
    import argparse
    import io
    import os

    import openpyxl

    from engine.cli import _Io, _Progress, _records_ahead

    jsonl = tmp_path / "a.jsonl"
    jsonl.write_bytes(b'{"id": "1"}\n{"id": "2"}\n\n{"id": "3"}')  # a blank line, no final newline
    csv_file = tmp_path / "b.csv"
    csv_file.write_text("id,name\n1,a\n2,b\n", encoding="utf-8")
    book = openpyxl.Workbook()
    book.active.append(["id"])
    for i in range(5):
        book.active.append([str(i)])
    other = book.create_sheet("other")
    other.append(["id"])
    other.append(["x"])
    book.save(tmp_path / "c.xlsx")
    assert _records_ahead([str(jsonl)], None, None) == 4
    assert _records_ahead([str(jsonl), str(csv_file)], None, None) == 6
    assert _records_ahead([str(tmp_path / "c.xlsx")], None, None) == 5
    assert _records_ahead([str(tmp_path / "c.xlsx")], None, "other") == 1
    assert _records_ahead(["-"], "jsonl", None) is None
    assert _records_ahead([str(tmp_path / "d.json")], None, None) is None
    assert _records_ahead([str(tmp_path / "missing.jsonl")], None, None) is None
    if hasattr(os, "mkfifo"):  # a pipe is not read ahead: its records would be lost
        os.mkfifo(tmp_path / "pipe.jsonl")
        assert _records_ahead([str(tmp_path / "pipe.jsonl")], None, None) is None

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    args = argparse.Namespace(progress="always", input_format=None, sheet=None, lang="en")
    io_ = _Io(io.StringIO(), Terminal(), None, args)
    progress = _Progress(io_, [str(jsonl)])
    try:
        assert progress._progress.tasks[0].total == 4
    finally:
        progress.stop()
    progress = _Progress(io_, ["-"])
    try:
        assert progress._progress.tasks[0].total is None
    finally:
        progress.stop()


def test_output_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    """`--output` takes the report only when it is complete: a run that cannot finish leaves an
    earlier report as it was (and no half-written or temporary file); the report keeps the
    earlier file's permissions; a path that is not a regular file is written directly."""
    import os
    import stat

    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(good_record()) + "\n", encoding="utf-8")
    report = tmp_path / "report.jsonl"
    report.write_text("the earlier report\n", encoding="utf-8")
    os.chmod(report, 0o640)
    code, _, err = run(
        "check",
        RB,
        str(feed),
        str(tmp_path / "missing.jsonl"),
        "--format",
        "json",
        "--output",
        str(report),
        "--lang",
        "en",
    )
    assert code == 2 and "no such file" in err
    assert report.read_text(encoding="utf-8") == "the earlier report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.jsonl", "report.jsonl"]
    code, out, _ = run("check", RB, str(feed), "--format", "json", "--output", str(report), "--lang", "en")
    assert code == 0 and out == ""
    assert [x["outcome"] for x in lines_of(report.read_text(encoding="utf-8"))] == ["pass"]
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.jsonl", "report.jsonl"]
    code, _, _ = run("check", RB, str(feed), "--format", "junit", "--output", os.devnull, "--lang", "en")
    assert code == 0 and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    code, _, err = run("check", RB, str(feed), "--output", str(tmp_path / "no" / "such" / "dir.txt"), "--lang", "en")
    assert code == 2 and "cannot write" in err


def test_default_jobs_only_where_workers_write_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --jobs, a large feed goes to worker processes only for JSON Lines to --format json
    (the workers write the report); any other format is decided and written in one process."""
    from engine.io import parallel

    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(json.dumps(good_record(id=f"J-{i}"), ensure_ascii=False) for i in range(2500)) + "\n",
        encoding="utf-8",
    )
    assert feed.stat().st_size >= 1 << 20
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    jobs_seen: list[int] = []
    blocks = parallel.evaluate_blocks

    def spy(*args: Any, **kwargs: Any) -> Any:
        jobs_seen.append(kwargs["jobs"])
        return blocks(*args, **kwargs)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no worker processes for this report by default")

    monkeypatch.setattr(parallel, "evaluate_blocks", spy)
    monkeypatch.setattr(parallel, "evaluate_parallel", refuse)
    code, out, _ = run("check", RB, str(feed), "--format", "json", "--lang", "en")
    assert code == 0 and len(lines_of(out)) == 2500 and jobs_seen == [2]
    code, out, _ = run("check", RB, str(feed), "--format", "junit", "--lang", "en")
    assert code == 0 and out.count("<testcase ") == 2500
