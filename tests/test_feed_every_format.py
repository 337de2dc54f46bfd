"""Acceptance: a JSON Lines feed of 10,000 lines, three of them broken, gives 10,000 results,
three of them `error` at the right lines, in every output format; the same records as CSV and
XLSX get the same decisions; the JUnit report is read back by `junitparser`.

The feed is 10,000 non-blank lines: 9,997 applicant records and 3 broken lines (a truncated
object on line 1, a line in GB18030 rather than UTF-8 on line 4,567, a JSON array on the last
line, 10,000). One result per non-blank line, so 10,000 results. Each format is run once
through ``engine.cli.main`` with ``--output``; the JSON run (``--jobs 1`` and ``--jobs 2``, the
same bytes) is the reference the other formats are compared with, record by record where the
format says something per record (JUnit test cases, SARIF results, GitHub annotations, the
text report's heads, the HTML sections) and by the counts elsewhere.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import functools
import html.parser
import io
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from jsonschema import Draft202012Validator
from junitparser import Attr, Error, Failure, IntAttr, JUnitXml, TestCase, TestSuite

from engine.cli import main
from engine.io.report.github import escape_property

RB = "hlj-musicians/membership"
ROOT = Path(__file__).resolve().parents[1]
LINES = 10_000
TRUNCATED, NOT_UTF8, ARRAY = 1, 4_567, 10_000
BROKEN = (TRUNCATED, NOT_UTF8, ARRAY)
SHEET = "申请人"
COMMON = ["--lang", "en", "--progress", "never"]

OCCUPATIONS = [
    "作词",
    "作曲",
    "歌唱",
    "演奏",
    "指挥",
    "音乐理论",
    "音乐教育",
    "音乐编辑",
    "音乐翻译",
    "音乐组织管理",
    "视听音响研究",
    "乐器制造",
    "音像",
    "书籍",
    "乐器销售",
]
NOT_LISTED = ["舞蹈", "网络音乐制作", "杂技"]  # occupations 第十二条 does not list
AWARDS = ["黑龙江省文艺大奖", "全国群众文艺作品奖", "哈尔滨之夏音乐会奖", "国际钢琴比赛奖"]
LEVELS = ["municipal", "provincial", "national", "international"]


# -- the feed --------------------------------------------------------------------------------------


EXAMPLES = [json.loads(x) for x in (ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()]


def applicant(rng: random.Random, line: int) -> dict[str, Any]:
    """An applicant made from one of the examples, its id naming its line in the feed; dates,
    citizenship, occupations, awards, introducers and participations varied."""
    r = copy.deepcopy(rng.choice(EXAMPLES))
    r["id"] = f"F-{line:05d}"
    applied = dt.date(2024, 1, 2) + dt.timedelta(days=rng.randrange(800))
    r["application_date"] = applied.isoformat()
    if "birth_date" in r:  # A-0020 has none: its age cannot be evaluated (indeterminate)
        r["birth_date"] = (applied - dt.timedelta(days=rng.randrange(16 * 365, 70 * 365))).isoformat()
    if rng.random() < 0.06:
        r["citizenship"] = rng.choice(["KR", "RU", "US"])
    if rng.random() < 0.5:
        r["occupations"] = rng.sample(OCCUPATIONS + NOT_LISTED, rng.randint(1, 3))
    if rng.random() < 0.3:
        r["awards"] = [
            {
                "name": rng.choice(AWARDS),
                "level": rng.choice(LEVELS),
                "grade": rng.randint(1, 3),
                "government": rng.random() < 0.7,
                "year": applied.year - rng.randint(0, 6),
            }
            for _ in range(rng.randint(1, 2))
        ]
    if rng.random() < 0.25:
        r["introducers"] = [
            {"member_id": f"M-{rng.randrange(2000):04d}", "is_member": rng.random() < 0.8}
            for _ in range(rng.randint(1, 3))
        ]
    if rng.random() < 0.3:
        r["music_work_start_date"] = (applied - dt.timedelta(days=rng.randrange(365, 20 * 365))).isoformat()
    if rng.random() < 0.3:
        r["event_participations"] = rng.randint(0, 6)
    return r


@dataclass
class Feed:
    jsonl: Path
    csv: Path
    xlsx: Path
    good: list[dict[str, Any]]  # the 9,997 records, in feed order
    bad_bytes: bytes  # the line that is not UTF-8

    @functools.cached_property
    def lines(self) -> dict[int, str]:
        """The id of the good record on each line (the id names the line)."""
        return {int(r["id"][2:]): r["id"] for r in self.good}


def jsonl_bytes(rng: random.Random) -> tuple[bytes, list[dict[str, Any]], bytes]:
    good: list[dict[str, Any]] = []
    lines: list[bytes] = []
    bad = b""
    for line in range(1, LINES + 1):
        r = applicant(rng, line)
        text = json.dumps(r, ensure_ascii=False)
        if line == TRUNCATED:
            lines.append(text[:57].encode("utf-8"))
        elif line == NOT_UTF8:  # as a Chinese Excel export would write it
            bad = json.dumps({**r, "name": "李婉清"}, ensure_ascii=False).encode("gb18030")
            lines.append(bad)
        elif line == ARRAY:
            lines.append(json.dumps([r], ensure_ascii=False).encode("utf-8"))
        else:
            good.append(r)
            lines.append(text.encode("utf-8"))
    return b"\n".join(lines) + b"\n", good, bad


# Spreadsheet columns: introducers and (in the CSV) the recommender as dotted columns, the other
# objects and lists of objects as JSON cells. Every field of every record has a column (checked).
INTRODUCER_COLUMNS = [f"introducers.{i}.{k}" for i in (1, 2, 3) for k in ("member_id", "name", "is_member")]
CSV_COLUMNS = [
    "id",
    "name",
    "citizenship",
    "province",
    "birth_date",
    "application_date",
    "unit",
    "occupations",
    "new_music_influence",
    "accepts_charter",
    "self_applied",
    *INTRODUCER_COLUMNS,
    "recommender",
    "recommender.kind",
    "recommender.name",
    "music_work_start_date",
    "professional_title",
    "awards",
    "degrees",
    "event_participations",
    "history",
]
XLSX_COLUMNS = [c for c in CSV_COLUMNS if not c.startswith(("introducers.", "recommender."))] + ["introducers"]
DATES = ("birth_date", "application_date", "music_work_start_date")
YES_NO = {"accepts_charter": ("是", "否"), "self_applied": ("true", "false"), "new_music_influence": ("√", "×")}


def _csv_date(iso: str, row: int) -> str:
    """The date in one of the forms a cell may hold, changing with the row."""
    d = dt.date.fromisoformat(iso)
    forms = [iso, f"{d.year}/{d.month}/{d.day}", f"{d.year}.{d.month}.{d.day}", f"{d.year}年{d.month}月{d.day}日"]
    return forms[row % 4]


def csv_row(r: dict[str, Any], row: int) -> list[str]:
    flat: dict[str, str] = {}
    for key, value in r.items():
        if key == "introducers":
            for i, who in enumerate(value, start=1):
                for k, v in who.items():
                    flat[f"introducers.{i}.{k}"] = (
                        ("是" if v else "否") if isinstance(v, bool) else ("null" if v is None else v)
                    )
        elif key == "recommender" and value is not None:
            for k, v in value.items():
                flat[f"recommender.{k}"] = v
        elif value is None:
            flat[key] = "null"
        elif key in DATES:
            flat[key] = _csv_date(value, row)
        elif key in YES_NO:
            flat[key] = YES_NO[key][0 if value else 1]
        elif key == "occupations":
            flat[key] = "、".join(value)
        elif isinstance(value, (dict, list)):
            flat[key] = json.dumps(value, ensure_ascii=False)
        else:
            flat[key] = str(value)
    assert set(flat) <= set(CSV_COLUMNS), set(flat) - set(CSV_COLUMNS)
    return [flat.get(c, "") for c in CSV_COLUMNS]


def xlsx_row(r: dict[str, Any]) -> list[Any]:
    cells: dict[str, Any] = {}
    for key, value in r.items():
        if value is None:
            cells[key] = "null"
        elif key in DATES:
            cells[key] = dt.date.fromisoformat(value)  # a date cell
        elif key == "occupations":
            cells[key] = ";".join(value)
        elif isinstance(value, (dict, list)):
            cells[key] = json.dumps(value, ensure_ascii=False)
        else:
            cells[key] = value  # text, booleans and numbers as the cells' own types
    assert set(cells) <= set(XLSX_COLUMNS), set(cells) - set(XLSX_COLUMNS)
    return [cells.get(c) for c in XLSX_COLUMNS]


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> Feed:
    folder = tmp_path_factory.mktemp("feed")
    data, good, bad = jsonl_bytes(random.Random(20260301))
    jsonl = folder / "applicants.jsonl"
    jsonl.write_bytes(data)
    sheet = folder / "applicants.csv"
    with sheet.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for row, r in enumerate(good, start=2):
            writer.writerow(csv_row(r, row))
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(SHEET)
    ws.append(XLSX_COLUMNS)
    for r in good:
        ws.append(xlsx_row(r))
    workbook = folder / "applicants.xlsx"
    book.save(workbook)
    return Feed(jsonl, sheet, workbook, good, bad)


# -- running the command line ---------------------------------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    output: Path

    @property
    def text(self) -> str:
        return self.output.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def check(feed: Feed) -> Callable[..., Run]:
    """``rulebook check`` on one of the feed's files into a report file; each run made once."""
    done: dict[tuple[str, str, int], Run] = {}

    def run(fmt: str, jobs: int = 1, source: str = "jsonl") -> Run:
        key = (fmt, source, jobs)
        if key not in done:
            path = getattr(feed, source)
            target = path.parent / f"out-{source}-{jobs}.{fmt}"
            out, err = io.StringIO(), io.StringIO()
            code = main(
                ["check", RB, str(path), "--format", fmt, "--jobs", str(jobs), "--output", str(target), *COMMON],
                stdout=out,
                stderr=err,
            )
            done[key] = Run(code, out.getvalue(), err.getvalue(), target)
        return done[key]

    return run


@pytest.fixture(scope="module")
def decided(feed: Feed, check: Callable[..., Run]) -> list[dict[str, Any]]:
    """The reference: the JSON decision objects of the feed, one per line."""
    return [json.loads(x) for x in check("json").text.splitlines()]


def outcome_by_line(decided: list[dict[str, Any]]) -> dict[int, str]:
    return {d["input"]["line"]: d["outcome"] for d in decided}


def counts_line(decided: list[dict[str, Any]]) -> str:
    o = Counter(d["outcome"] for d in decided)
    schema = sum(1 for d in decided if d.get("schema"))  # the copies of A-0020 lack birth_date: a warning
    return (
        f"{len(decided)} records: pass {o['pass']}, fail {o['fail']}, indeterminate {o['indeterminate']}, "
        f"error {o['error']}" + (f"; {schema} breaking their record schema" if schema else "")
    )


def reported_rules(decided: list[dict[str, Any]]) -> Counter[tuple[int, str, str, str]]:
    """(line, level, cite, rule) of every rule a report lists: failed or errored, not info."""
    return Counter(
        (d["input"]["line"], "warning" if r["severity"] == "warning" else "error", r["cite"], r["id"])
        for d in decided
        for r in d["rules"]
        if r["status"] in ("fail", "error") and r["severity"] != "info"
    )


# -- JSON: the reference --------------------------------------------------------------------------


def test_json_has_one_result_per_line_and_the_broken_lines_are_errors(
    feed: Feed, check: Callable[..., Run], decided: list[dict[str, Any]]
) -> None:
    one, two = check("json", 1), check("json", 2)
    assert (one.code, one.stdout) == (two.code, two.stdout) == (1, "")
    assert one.output.read_bytes() == two.output.read_bytes()  # two workers write what one does
    assert one.stderr == two.stderr == counts_line(decided) + "\n"

    assert len(decided) == LINES == len(one.text.splitlines())
    assert [d["input"] for d in decided] == [{"file": str(feed.jsonl), "line": n} for n in range(1, LINES + 1)]
    errors = {d["input"]["line"]: d for d in decided if d["outcome"] == "error"}
    assert sorted(errors) == list(BROKEN)
    for d in errors.values():
        assert d["record"] is None and d["rules"] == [] and d["as_of"] is None
    assert errors[TRUNCATED]["message"].startswith("not valid JSON: ")
    first = next(i for i, b in enumerate(feed.bad_bytes) if b >= 0x80)  # the lead byte of 李 in GB18030
    assert errors[NOT_UTF8]["message"] == (
        f"the line is not UTF-8 text (byte 0x{feed.bad_bytes[first]:02x} at byte {first + 1} of the line)"
    )
    assert errors[ARRAY]["message"] == "a record must be a JSON object, not an array"

    lines = feed.lines
    for d in decided:
        if d["outcome"] != "error":
            assert d["record"] == lines[d["input"]["line"]] and d["rules"]
    outcomes = Counter(d["outcome"] for d in decided)
    assert outcomes["error"] == 3 and min(outcomes["pass"], outcomes["fail"], outcomes["indeterminate"]) >= 100

    schema = json.loads((ROOT / "engine" / "data" / "schemas" / "decision-output.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for d in decided[::97] + list(errors.values()):
        assert not list(validator.iter_errors(d)), d


def test_each_record_is_decided_as_of_its_application_date(feed: Feed, decided: list[dict[str, Any]]) -> None:
    by_id = {r["id"]: r for r in feed.good}
    assert all(d["as_of"] == by_id[d["record"]]["application_date"] for d in decided if d["record"])


# -- JUnit, read back by junitparser --------------------------------------------------------------


class LocatedCase(TestCase):
    """A test case with the ``file`` and ``line`` attributes the JUnit report writes."""

    file = Attr()
    line = IntAttr()


class LocatedSuite(TestSuite):
    testcase = LocatedCase


class LocatedXml(JUnitXml):
    testsuite = LocatedSuite


def test_junit_is_read_back_by_junitparser(
    feed: Feed, check: Callable[..., Run], decided: list[dict[str, Any]]
) -> None:
    run = check("junit", 2)
    assert (run.code, run.stdout, run.stderr) == (1, "", counts_line(decided) + "\n")
    xml = LocatedXml.fromfile(str(run.output))
    [suite] = list(xml)
    cases = list(suite)
    assert len(cases) == LINES
    assert suite.name == f"{RB}@{decided[1]['version']} admission"

    expected = outcome_by_line(decided)
    got: dict[int, str] = {}
    for case in cases:
        assert case.file == str(feed.jsonl) and case.classname == f"{RB}.admission"
        results = case.result
        if not results:
            got[case.line] = "pass"
        else:
            [result] = results
            assert result.message
            got[case.line] = (
                "fail"
                if isinstance(result, Failure)
                else {"indeterminate": "indeterminate", "unreadable": "error"}[result.type]
            )
            assert isinstance(result, (Failure, Error))
        if expected[case.line] == "error":
            assert case.name == f"(unreadable) ({feed.jsonl}:{case.line})"
            assert case.is_error and case.result[0].type == "unreadable"
        else:
            assert case.name == f"{feed.lines[case.line]} ({feed.jsonl}:{case.line})"
    assert got == expected
    assert [c.line for c in cases] == list(range(1, LINES + 1))

    by_line = {d["input"]["line"]: d for d in decided}
    unreadable = {c.line: c.result[0] for c in cases if c.is_error and c.result[0].type == "unreadable"}
    assert sorted(unreadable) == list(BROKEN)
    assert all(e.message == by_line[n]["message"] == e.text for n, e in unreadable.items())

    outcomes = Counter(expected.values())
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (
        LINES,
        outcomes["fail"],
        outcomes["indeterminate"] + outcomes["error"],
        0,
    )
    assert (xml.tests, xml.failures, xml.errors) == (suite.tests, suite.failures, suite.errors)

    def untimed(text: str) -> str:
        return re.sub(r' time="[0-9.]+"', "", text)

    assert untimed(check("junit", 1).text) == untimed(run.text)  # one process writes what two do


# -- SARIF ----------------------------------------------------------------------------------------


def test_sarif_points_at_the_broken_lines_and_the_failing_records(
    feed: Feed, check: Callable[..., Run], decided: list[dict[str, Any]]
) -> None:
    run = check("sarif")
    assert (run.code, run.stdout, run.stderr) == (1, "", counts_line(decided) + "\n")
    doc = json.loads(run.text)
    assert doc["version"] == "2.1.0"
    [sarif_run] = doc["runs"]
    results = sarif_run["results"]

    def where(result: dict[str, Any]) -> int:
        [location] = result["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == str(feed.jsonl)
        return location["physicalLocation"]["region"]["startLine"]

    unreadable = [r for r in results if r["ruleId"] == "record.unreadable"]
    assert sorted(where(r) for r in unreadable) == list(BROKEN)
    assert all(r["level"] == "error" for r in unreadable)

    rules = Counter(
        (where(r), r["ruleId"]) for r in results if r["ruleId"] not in ("record.unreadable", "record.schema")
    )
    schema = Counter(where(r) for r in results if r["ruleId"] == "record.schema")
    assert schema == Counter({d["input"]["line"]: len(d["schema"]) for d in decided if d.get("schema")})
    expected = reported_rules(decided)
    assert rules == Counter({(line, f"admission/{rule}"): n for (line, _, _, rule), n in expected.items()})
    not_passed = {n for n, o in outcome_by_line(decided).items() if o != "pass"}
    assert not_passed <= {where(r) for r in results}  # every record that did not pass has a result


# -- GitHub annotations ---------------------------------------------------------------------------


ANNOTATION = re.compile(r"^::(error|warning) file=([^,]*),line=(\d+),title=([^:]*)::(.*)$")


def test_github_annotates_the_broken_lines(
    feed: Feed, check: Callable[..., Run], decided: list[dict[str, Any]]
) -> None:
    run = check("github")
    assert (run.code, run.stdout, run.stderr) == (1, "", counts_line(decided) + "\n")
    *lines, notice = run.text.splitlines()
    assert notice == "::notice title=rulebook::" + counts_line(decided)
    annotations = [ANNOTATION.match(x) for x in lines]
    assert all(annotations), [x for x, m in zip(lines, annotations, strict=True) if m is None][:3]
    file = escape_property(str(feed.jsonl))
    assert {m.group(2) for m in annotations if m} == {file}
    unreadable = {int(m.group(3)): m.group(5) for m in annotations if m and m.group(4) == "unreadable record"}
    by_line = {d["input"]["line"]: d for d in decided}
    assert unreadable == {n: by_line[n]["message"] for n in BROKEN}
    rules = Counter(
        (int(m.group(3)), m.group(1), m.group(4))
        for m in annotations
        if m and m.group(4) != "unreadable record" and not m.group(4).startswith("schema ")
    )
    schema = Counter(int(m.group(3)) for m in annotations if m and m.group(4).startswith("schema "))
    assert schema == Counter({d["input"]["line"]: len(d["schema"]) for d in decided if d.get("schema")})
    assert rules == Counter(
        {
            (line, level, escape_property(f"{cite} {rule}")): n
            for (line, level, cite, rule), n in reported_rules(decided).items()
        }
    )
    for m in annotations:
        if m and m.group(4) != "unreadable record":
            assert m.group(5).startswith(by_line[int(m.group(3))]["record"] + ": ")


# -- HTML -----------------------------------------------------------------------------------------


class Page(html.parser.HTMLParser):
    """The counts paragraph and, per record section, its outcome word and its place."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: list[str] = []
        self.sections: list[dict[str, str]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class")
        if tag == "p" and cls == "counts":
            self._in = "counts"
        elif tag == "section" and cls == "record":
            self.sections.append({})
        elif tag == "span" and self._in == "counts":
            self.counts.append("")
        elif tag == "span" and self.sections and "outcome" not in self.sections[-1] and cls:
            self.sections[-1]["class"] = cls
            self._in = "outcome"
        elif tag == "span" and self.sections and cls == "where":
            self._in = "where"

    def handle_endtag(self, tag: str) -> None:
        if (tag == "p" and self._in == "counts") or (tag == "span" and self._in in ("outcome", "where")):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "counts" and self.counts:
            self.counts[-1] += data
        elif self._in in ("outcome", "where"):
            self.sections[-1][self._in] = self.sections[-1].get(self._in, "") + data


def test_html_counts_and_sections(feed: Feed, check: Callable[..., Run], decided: list[dict[str, Any]]) -> None:
    run = check("html")
    assert (run.code, run.stdout, run.stderr) == (1, "", counts_line(decided) + "\n")
    page = Page()
    page.feed(run.text)
    page.close()
    o = Counter(d["outcome"] for d in decided)
    schema = sum(1 for d in decided if d.get("schema"))
    assert page.counts == [
        f"{LINES} records",
        f"pass {o['pass']}",
        f"fail {o['fail']}",
        f"indeterminate {o['indeterminate']}",
        "unreadable 3",
        f"breaks its record schema {schema}",
    ]
    shown = {int(s["where"].rsplit(":", 1)[1]): s["class"] for s in page.sections}
    assert len(page.sections) == LINES - o["pass"] == len(shown)
    assert shown == {n: outcome for n, outcome in outcome_by_line(decided).items() if outcome != "pass"}
    assert {s["where"] for s in page.sections if s["class"] == "error"} == {f"{feed.jsonl}:{n}" for n in BROKEN}


# -- text -----------------------------------------------------------------------------------------


HEAD = re.compile(r"^([✓✗?]) (\S+)(?: \S+)?  (pass|fail|indeterminate)  (.+):(\d+)$")
UNREADABLE = re.compile(r"^! (.+):(\d+)  unreadable: (.+)$")


def test_text_report_and_counts(feed: Feed, check: Callable[..., Run], decided: list[dict[str, Any]]) -> None:
    run = check("text")
    assert (run.code, run.stdout, run.stderr) == (1, "", counts_line(decided) + "\n")
    o = Counter(d["outcome"] for d in decided)
    lines = run.text.splitlines()
    schema = sum(1 for d in decided if d.get("schema"))
    assert (
        f"{LINES} records: pass {o['pass']}, fail {o['fail']}, indeterminate {o['indeterminate']}, "
        f"unreadable 3; {schema} breaking their record schema" in lines
    )
    heads = {int(m.group(5)): (m.group(2), m.group(3)) for m in map(HEAD.match, lines) if m}
    errors = {int(m.group(2)): m.group(3) for m in map(UNREADABLE.match, lines) if m}
    by_line = {d["input"]["line"]: d for d in decided}
    assert errors == {n: by_line[n]["message"] for n in BROKEN}
    assert heads == {n: (d["record"], d["outcome"]) for n, d in by_line.items() if d["outcome"] != "error"}


# -- the same records as CSV and XLSX -------------------------------------------------------------


@pytest.mark.parametrize("source", ["csv", "xlsx"])
def test_spreadsheets_decide_as_the_json_lines(
    feed: Feed, check: Callable[..., Run], decided: list[dict[str, Any]], source: str
) -> None:
    run = check("json", 1, source)
    rows = [json.loads(x) for x in run.text.splitlines()]
    assert run.code == 1 and run.stdout == ""
    assert len(rows) == len(feed.good) == LINES - len(BROKEN)
    path = str(getattr(feed, source))
    sheet = {"sheet": SHEET} if source == "xlsx" else {}
    assert [d["input"] for d in rows] == [{"file": path, "line": n, **sheet} for n in range(2, len(rows) + 2)]
    reference = [d for d in decided if d["outcome"] != "error"]
    assert [d["record"] for d in rows] == [d["record"] for d in reference] == [r["id"] for r in feed.good]
    for got, want in zip(rows, reference, strict=True):
        assert got["outcome"] == want["outcome"], got["record"]
        assert [(r["id"], r["status"]) for r in got["rules"]] == [(r["id"], r["status"]) for r in want["rules"]]
        # and nothing else differs either: the values the rules saw, the messages, the outputs
        assert {**got, "input": None} == {**want, "input": None}
    assert run.stderr == counts_line(reference) + "\n"
    if source == "csv":  # rows handed to two workers are decided alike
        assert check("json", 2, source).output.read_bytes() == run.output.read_bytes()


# -- the columnar engine (engine/columnar, extra [columnar]) ---------------------------------------

ENGINE_FORMATS = ["json", "text", "junit", "sarif", "github", "html", "parquet"]


def _normalised(fmt: str, path: Path) -> Any:
    """A report as what it says: JSON Lines with sorted keys, a Parquet file as its table, JUnit
    without the times it measured, HTML without the minute it was written, the others as they are."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    text = path.read_text(encoding="utf-8")
    if fmt == "json":
        return "\n".join(json.dumps(json.loads(x), sort_keys=True, ensure_ascii=False) for x in text.splitlines())
    if fmt == "junit":
        return re.sub(r' time="[0-9.]+"', "", text)
    if fmt == "html":  # the minute it was written
        return re.sub(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b", "(time)", text)
    return text


@pytest.mark.parametrize(
    ("fmt", "source"), [*((fmt, "jsonl") for fmt in ENGINE_FORMATS), ("json", "csv"), ("parquet", "xlsx")]
)
def test_the_columnar_engine_gives_each_format_what_the_per_record_engine_gives(
    feed: Feed, fmt: str, source: str
) -> None:
    """`--engine columnar` and `--engine records` write the same report of the feed (broken lines, a
    line that is not UTF-8, schema warnings and all), with the same exit code and summary; the
    columnar run says which engine decided and how many records it left to the per-record engine.
    CSV and XLSX cells are typed by their reader, then decided by columns."""
    pytest.importorskip("polars")
    runs = {}
    path = getattr(feed, source)
    for engine in ("records", "columnar"):
        target = path.parent / f"engine-{engine}-{source}.{fmt}"
        out, err = io.StringIO(), io.StringIO()
        argv = ["check", RB, str(path), "--format", fmt, "--engine", engine, "--output", str(target)]
        code = main([*argv, *COMMON], stdout=out, stderr=err)
        runs[engine] = (code, err.getvalue(), _normalised(fmt, target))
    (code_r, err_r, report_r), (code_c, err_c, report_c) = runs["records"], runs["columnar"]
    assert code_c == code_r
    said = [line for line in err_c.splitlines() if line.startswith("engine: columnar")]
    assert len(said) == 1
    total = LINES if source == "jsonl" else len(feed.good)
    fell_back = re.fullmatch(rf"engine: columnar \({total} records, (\d+) of them decided one by one\)", said[0])
    assert fell_back is not None
    assert int(fell_back[1]) < LINES // 10  # the broken lines, and the records the columns are not sure of
    assert [line for line in err_c.splitlines() if not line.startswith("engine:")] == err_r.splitlines()
    if fmt == "parquet":
        assert report_c.equals(report_r)
    else:
        assert report_c == report_r
