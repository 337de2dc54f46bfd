"""The output formats of `check`: JUnit XML, SARIF 2.1.0, GitHub annotations, HTML.

Each is fed the same edge-case feed (a passing record, broken lines, waivers,
wrong types, failures) and checked for what its consumers require.
"""

from __future__ import annotations

import html.parser
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from engine.io.records import BadRecord, read_records
from engine.io.report import BUILTIN_FORMATS, FORMATS
from engine.io.report.github import escape_data, escape_property
from engine.registry import Registry

ROOT = Path(__file__).resolve().parent.parent.parent
FEED = "tests/golden/hlj-musicians/membership/admission/edge-cases.jsonl"


def produce(fmt: str, lang: str = "en", feed: str = FEED) -> tuple[str, Any]:
    rid, version, decision = Registry.default().decision("hlj-musicians/membership", "admission")
    out = io.StringIO()
    report = BUILTIN_FORMATS[fmt](out, lang=lang)
    report.begin()
    for read_ref, record in read_records(str(ROOT / feed) if not Path(feed).is_absolute() else feed):
        ref = type(read_ref)(feed, read_ref.line)
        if isinstance(record, BadRecord):
            report.write_error(rid, version, decision.name, ref, record.message)
        else:
            report.write(decision.evaluate(record, None, ref))
    summary = report.end()
    return out.getvalue(), summary


def test_every_contract_format_is_built_in() -> None:
    assert set(FORMATS) == set(BUILTIN_FORMATS) == {"text", "json", "junit", "sarif", "github", "html", "parquet"}


# -- JUnit ------------------------------------------------------------------------------------------


def test_junit_structure_and_counts() -> None:
    text, summary = produce("junit")
    root = ET.fromstring(text.encode("utf-8"))  # noqa: S314 - the engine's own report, not outside input
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == summary.total == 14
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    assert int(suite.get("tests", "")) == len(cases)
    assert int(suite.get("failures", "")) == len(failures) == summary.outcomes["fail"]
    assert int(suite.get("errors", "")) == len(errors) == summary.outcomes["indeterminate"] + summary.outcomes["error"]
    for attr in ("name", "tests", "failures", "errors", "skipped", "time"):
        assert suite.get(attr) is not None
    for case in cases:
        assert case.get("name") and case.get("classname") and case.get("time") is not None
        assert case.get("file") == FEED and int(case.get("line", "0")) >= 1
        for child in case:
            assert child.tag in ("failure", "error", "system-out")  # system-out: schema violations
            if child.tag != "system-out":
                assert child.get("message") and child.get("type")
    citizen = next(c for c in cases if c.get("name", "").startswith("G-13"))
    failure = citizen.find("failure")
    assert failure is not None and "第十二条 citizen [fail]" in (failure.text or "")


# -- SARIF ------------------------------------------------------------------------------------------


def test_sarif_has_what_code_scanning_requires() -> None:
    text, summary = produce("sarif")
    doc = json.loads(text)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    [run] = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "rulebook" and driver["version"]
    rules = driver["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for rule in rules:
        assert rule["id"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    results = run["results"]
    assert results
    for res in results:
        assert res["message"]["text"]
        assert res["level"] in ("error", "warning", "note", "none")
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        [loc] = res["locations"]
        phys = loc["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == FEED
        assert isinstance(phys["region"]["startLine"], int) and phys["region"]["startLine"] >= 1
        assert res["partialFingerprints"]
    cited = next(r for r in rules if r["id"] == "admission/citizen")
    assert cited["properties"]["cite"] == "第十二条" and cited["properties"]["article"] == 12
    unreadable = [r for r in results if r["ruleId"] == "record.unreadable"]
    assert len(unreadable) == summary.outcomes["error"] == 2


def test_sarif_fingerprints_are_stable_and_distinct() -> None:
    first = json.loads(produce("sarif")[0])["runs"][0]["results"]
    second = json.loads(produce("sarif")[0])["runs"][0]["results"]
    prints = [r["partialFingerprints"]["recordRule/v1"] for r in first]
    assert prints == [r["partialFingerprints"]["recordRule/v1"] for r in second]
    assert len(set(prints)) == len(prints)


# -- GitHub -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [("a%b", "a%25b", "a%25b"), ("x\ny\r", "x%0Ay%0D", "x%0Ay%0D"), ("a:b,c", "a:b,c", "a%3Ab%2Cc")],
)
def test_github_escaping(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_github_annotations_point_at_the_line() -> None:
    text, _ = produce("github")
    lines = text.splitlines()
    assert lines[-1].startswith("::notice title=rulebook::14 records")
    annotations = [line for line in lines if line.startswith(("::error", "::warning"))]
    assert f"::error file={FEED},line=2,title=unreadable record::" in annotations[0]
    citizen = next(a for a in annotations if "title=第十二条 citizen" in a and "G-13" in a)
    assert f"file={FEED},line=14," in citizen and citizen.split("::", 2)[2].startswith("G-13: ")
    assert all("\n" not in a for a in annotations)


# -- HTML -------------------------------------------------------------------------------------------


class _Parser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_page_has_counts_chart_and_explanations(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    records = (ROOT / FEED).read_text(encoding="utf-8").splitlines()
    hostile = json.loads(records[0])
    hostile.update(id="H-1", name="<script>alert(1)</script>", citizenship="<b>US</b>")
    feed.write_text("\n".join([*records, json.dumps(hostile, ensure_ascii=False)]) + "\n", encoding="utf-8")
    text, summary = produce("html", "zh", str(feed))
    parser = _Parser()
    parser.feed(text)
    assert text.startswith("<!DOCTYPE html>") and "script" not in parser.tags
    body = "".join(parser.text)
    assert "<script>alert(1)</script>" in body and "<b>US</b>" in body
    assert f"{summary.total} 条记录" in body and f"不通过 {summary.outcomes['fail']}" in body
    assert "各条款未通过的记录数" in body and 'class="bar"' in text
    # a section for every record that did not pass, and for a passing one that breaks its schema
    assert summary.schema_records and f"不符合记录结构 {summary.schema_records}" in body
    assert "`citizenship` 的格式不对" in body
    assert text.count('<section class="record">') >= summary.total - summary.outcomes["pass"]
    assert "http" not in text.replace("https://", "")  # self-contained: no external resources


def test_junit_text_is_xml_safe() -> None:
    from engine.io.report.junit import _clean

    assert _clean("plain 中文 \U0001f600\t\n\r") == "plain 中文 \U0001f600\t\n\r"
    assert _clean("a\x00b\x07c\x1fd\ufffee\uffff\ud800f") == "abcdef"
    from xml.sax.saxutils import escape

    every = "".join(map(chr, range(0x3000))) + "\ud800\udfff\ufffe\uffff"
    ET.fromstring(f"<a>{escape(_clean(every))}</a>".encode())  # noqa: S314 - well-formed, and encodes: text made here
