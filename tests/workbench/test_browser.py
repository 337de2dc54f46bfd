"""The workbench in a real browser, used as a secretary would use it.

A real ``rulebook serve --edit`` runs on a free loopback port over a copy of the membership
rulebook and a sample feed made from ``examples/applicants.jsonl``.  Headless Chromium, driven
by Selenium through Debian's ``chromedriver``, then: opens the membership rulebook's article
page; tries an applicant through the form generated from the record schema and reads the
outcome; opens a new draft, types ``birth_dat`` into an expression and finds the diagnostic
marker on that line with the suggestion ``birth_date``; takes the suggestion; changes the
minimum age to 20 and sees the examples that now disagree and the count of sample records
whose admission changes (the count ``rulebook diff --data`` gives for the same two texts);
restores it, saves, and finds the new draft in the list.  All of it once with a Chinese
browser and once with an English one (the page follows the browser's language), then the
language switch.  Every request the page made went to 127.0.0.1 (Chrome's performance log).

Screenshots of each step go to ``docs/workbench/`` (docs/workbench.md shows them).  `.ci/run`
installs Debian's ``chromium`` and ``chromium-driver`` when they are missing; where they cannot
be found the test is skipped and says why.  Every wait is bounded, and the whole test stops
within two minutes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.workbench.served import EDITOR_TEXT, MARKER_ON_LINE, SELECT, TRY_APPLICANT, Deadline, serve_edit

ROOT = Path(__file__).resolve().parent.parent.parent
MEMBERSHIP = ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml"
APPLICANTS = ROOT / "examples" / "applicants.jsonl"
SHOTS = ROOT / "docs" / "workbench"
RB = "hlj-musicians/membership"
TOTAL_SECONDS = 120  # the whole test, server start included
WAIT_SECONDS = 25  # any one thing the page is waited for
ENGLISH_SHOTS = {"read-doc", "try", "edit-diagnostic"}  # the English run's steps kept for the docs

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)

WORDS = {
    "zh": {"title": "规则集工作台", "fail": "不通过", "ok": "没有发现问题", "html_lang": "zh-CN"},
    "en": {"title": "Rulebook workbench", "fail": "fail", "ok": "no problems found", "html_lang": "en"},
}


def _tools() -> tuple[str, str]:
    browser = next((shutil.which(n) for n in CHROMIUM if shutil.which(n)), None)
    driver = next((shutil.which(n) for n in DRIVERS if shutil.which(n)), None)
    if browser is None or driver is None:
        pytest.skip(
            "headless Chromium and its driver are needed (looked for "
            + ", ".join(CHROMIUM + DRIVERS)
            + "); `.ci/run` installs Debian's `chromium` and `chromium-driver` with apt-get where it runs as root"
        )
    pytest.importorskip("selenium", reason="the browser test drives Chromium with Selenium (the `test` extra)")
    return browser, driver


def _sample_feed(folder: Path) -> Path:
    """The example applicants, each also born one to four years earlier: some turn 18 or 19."""
    lines = []
    for line in APPLICANTS.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        for shift in range(5):
            r = dict(record, id=f"{record['id']}-{shift}")
            if shift and isinstance(r.get("birth_date"), str):
                year, rest = r["birth_date"].split("-", 1)
                r["birth_date"] = f"{int(year) - shift}-{rest}".replace("-02-29", "-02-28")
            lines.append(json.dumps(r, ensure_ascii=False))
    feed = folder / "applicants-sample.jsonl"
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return feed


@pytest.fixture(scope="module")
def deadline() -> Deadline:
    return Deadline(TOTAL_SECONDS, "the browser test", WAIT_SECONDS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, deadline: Deadline) -> Iterator[dict[str, Any]]:
    _tools()
    base = tmp_path_factory.mktemp("workbench")
    books = base / "rulebooks"
    samples = base / "samples"
    books.mkdir()
    samples.mkdir()
    # The watched folder starts empty: a copy of the bundled membership rulebook beside it would
    # offer the same id and version twice (refused).  A draft of the bundled rulebook is saved here.
    feed = _sample_feed(samples)
    with serve_edit(base, deadline, "--rulebooks", str(books), "--samples", str(samples)) as (url, proc):
        yield {"url": url, "books": books, "feed": feed, "proc": proc}
    assert proc.returncode == 0, "rulebook serve did not stop cleanly on SIGTERM"


def _browser(language: str) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = _tools()
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        opts.add_argument(arg)
    opts.add_argument("--window-size=1280,800")
    opts.add_argument("--lang=" + ("zh-CN" if language == "zh" else "en-US"))
    opts.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh" if language == "zh" else "en-US,en"})
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    d.set_page_load_timeout(WAIT_SECONDS)
    d.set_script_timeout(WAIT_SECONDS)
    d.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
    )
    return d


class Page:
    """The browser on the workbench, with bounded waits and the screenshots of the steps."""

    def __init__(self, driver: Any, deadline: Deadline, language: str, scratch: Path) -> None:
        self.d = driver
        self.scratch = scratch
        self.deadline = deadline
        self.lang = language
        self.requests: list[str] = []

    def wait(self, what: Callable[[Any], Any], message: str) -> Any:
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        try:
            # the page re-renders what it shows as answers arrive: an element found a moment ago may be
            # gone when it is read, and is then looked up again on the next poll
            return WebDriverWait(
                self.d, self.deadline.left(), poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
            ).until(what)
        except TimeoutException:
            self.d.save_screenshot(str(self.scratch / f"failed-{self.lang}.png"))
            raise AssertionError(f"waited in vain ({self.lang}): {message}") from None

    def read(self, selector: str, how: Callable[[Any], Any]) -> Any:
        """``how(element)`` of the element ``selector`` finds, looked up again if the page re-rendered it
        in between (None counts as a value here: an attribute may be absent)."""
        from selenium.webdriver.common.by import By

        return self.wait(lambda d: [how(d.find_element(By.CSS_SELECTOR, selector))], selector)[0]

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.wait(lambda d: d.find_element(By.CSS_SELECTOR, selector), selector)

    def text_of(self, selector: str) -> str:
        return str(self.css(selector).text)

    def shot(self, name: str) -> None:
        """A screenshot of the step: into docs/workbench/ for the steps the docs show (every step in
        Chinese, three in English), else beside the test's temporary files."""
        print(f"{time.monotonic() - self.deadline.end + TOTAL_SECONDS:6.1f} s: {name}")  # shown with -s
        step = name.rsplit("-", 1)[0]
        folder = SHOTS if self.lang == "zh" or step in ENGLISH_SHOTS else self.scratch
        folder.mkdir(parents=True, exist_ok=True)
        self.d.save_screenshot(str(folder / f"{name}.png"))

    def type_over(self, needle: str, offset: int, length: int, text: str) -> int:
        from selenium.webdriver.common.keys import Keys

        line = self.d.execute_async_script(SELECT, needle, offset, length)
        assert line, f"`{needle}` is not in the editor"
        self.d.switch_to.active_element.send_keys(text)
        self.d.switch_to.active_element.send_keys(Keys.ESCAPE)  # close a completion list, if any
        return int(line)

    def editor_text(self) -> str:
        return str(self.d.execute_async_script(EDITOR_TEXT))

    def collect_requests(self) -> None:
        for entry in self.d.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])


def _diff_count(old: Path, new_text: str, feed: Path, tmp: Path) -> int:
    """How many records of the feed change their decision or outputs, by `rulebook diff --data`."""
    new = tmp / "edited.yaml"
    new.write_text(new_text, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "engine", "diff", str(old), str(new), "--data", str(feed), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert out.returncode in (0, 1), out.stderr.decode("utf-8", "replace")
    return len(json.loads(out.stdout)["records"])


def _secretary(page: Page, server: dict[str, Any], tmp: Path) -> str:
    from selenium.webdriver.support.ui import Select

    d, lang, w = page.d, page.lang, WORDS[page.lang]
    d.get(server["url"] + "/")
    page.css("body[data-ready=true]")
    assert d.find_element("tag name", "html").get_attribute("lang") == w["html_lang"]
    assert w["title"] in d.title

    # Read: the installed rulebooks, then the membership rulebook article by article.
    row = page.css(f'tr[data-rulebook="{RB}"]')
    assert row.find_element("css selector", '.rb-version[data-status="in_force"]')
    page.shot(f"read-list-{lang}")
    row.find_element("css selector", '.rb-version[data-version="2022-04-15"] button.open-doc').click()
    adult = page.css('.doc-rule[data-rule="adult"]')
    assert "第十二条" in adult.text
    assert "age >= min_age" in adult.text
    note = "年满18周岁按公历计算" if lang == "zh" else "18 full years is counted on the Gregorian calendar"
    assert note in adult.text
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", adult)
    page.shot(f"read-doc-{lang}")

    # Try: an applicant through the form; 17 years old on the application date.
    page.css("#tab-try").click()
    for name, value in TRY_APPLICANT.items():
        el = page.css(f'#record-form [name="{name}"]')
        if el.get_attribute("type") == "date":  # a date picker: set as the picker sets it
            d.execute_script(
                "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", el, value
            )
        else:
            el.clear()
            el.send_keys(value)
    page.css('fieldset[data-path="occupations"] button.add').click()
    page.css('[name="occupations.1"]').send_keys("作曲")
    page.css('#record-form [name="accepts_charter"]').click()
    page.css('#record-form [name="self_applied"]').click()
    page.css("#decide").click()
    outcome = page.css("#outcome")
    assert outcome.get_attribute("data-outcome") == "fail"
    assert outcome.text == w["fail"]
    adult_row = page.css('tr.rule-row[data-rule="adult"]')
    assert adult_row.get_attribute("data-status") == "fail"
    assert "17" in adult_row.text
    assert page.read('tr.rule-row[data-rule="citizen"]', lambda e: e.get_attribute("data-status")) == "pass"
    page.wait(lambda d: d.find_elements("css selector", 'tr.rule-note[data-rule="adult"] .note'), "the rule's note")
    page.shot(f"try-{lang}")

    # A spreadsheet of applicants, read by the engine (是/否 and 2026年3月1日 cells, a bad date).
    sheet = tmp / f"applicants-{lang}.csv"
    sheet.write_text(
        "id,name,citizenship,province,birth_date,application_date,occupations,accepts_charter,self_applied\n"
        "S-1,甲,CN,黑龙江,1990年1月2日,2026年3月1日,作曲,是,是\n"
        "S-2,乙,CN,黑龙江,2010-05-06,2026-03-01,演奏,是,否\n"
        "S-3,丙,CN,黑龙江,1990-13-40,2026-03-01,演奏,是,是\n",
        encoding="utf-8",
    )
    page.css('.modes button[data-mode="file"]').click()
    page.css("#try-file").send_keys(str(sheet))
    page.css("#decide-file").click()
    outcomes = page.css("#batch-outcomes")
    page.wait(lambda d: d.find_elements("css selector", "#batch-records tr:nth-child(4)"), "the file's three rows")
    rows = page.css("#batch-records").find_elements("css selector", "tr")[1:]
    assert [r.find_elements("css selector", "td")[1].text for r in rows[:2]] == ["S-1", "S-2"]
    bad_date = "第 4 行，列 `birth_date`" if lang == "zh" else "row 4, column `birth_date`"
    assert rows[2].find_elements("css selector", "td")[0].text == "4"
    assert bad_date in rows[2].text
    assert outcomes.text
    page.css('.modes button[data-mode="form"]').click()

    # Edit: a new draft of the version in force.
    page.css("#tab-edit").click()
    Select(page.css("#edit-rulebook")).select_by_value(RB)
    Select(page.css("#edit-version")).select_by_value("2022-04-15")
    page.css("#open-draft").click()
    page.wait(lambda d: d.find_element("id", "diag-status").text == w["ok"], "a clean draft")
    page.wait(lambda d: d.find_elements("css selector", "#examples-summary[data-failed='0']"), "its examples pass")
    text = page.editor_text()
    assert "\nstatus: draft\n" in text
    assert '\nversion: "2022-04-15"' not in text

    # A misspelt field in an expression: the marker on its line, the suggestion beside it.
    line = page.type_over("age: full_years(record.birth_date, as_of)", len("age: full_years(record."), 10, "birth_dat")
    diag = page.css(f'#diagnostics .diag[data-line="{line}"][data-code="check.unknown-field"]')
    assert diag.find_element("css selector", 'button.suggest[data-suggestion="birth_date"]')
    assert "birth_dat" in diag.text
    page.wait(lambda d: d.execute_script(MARKER_ON_LINE, line), f"the lint marker on line {line}")
    underlined = page.css(".cm-line .cm-lintRange-error")
    assert underlined.text == "birth_dat" or "birth_dat" in underlined.find_element("xpath", "./..").text
    page.shot(f"edit-diagnostic-{lang}")
    diag.find_element("css selector", 'button.suggest[data-suggestion="birth_date"]').click()
    page.wait(lambda d: d.find_element("id", "diag-status").text == w["ok"], "the fix accepted")
    assert "age: full_years(record.birth_date, as_of)" in page.editor_text()

    # The minimum age to 20: examples that disagree, sample records whose admission changes.
    Select(page.css("#impact-sample")).select_by_value("applicants-sample.jsonl")
    page.wait(lambda d: d.find_elements("css selector", "#impact-summary[data-changed='0']"), "no change yet")
    page.type_over("  min_age:\n    value: 18", len("  min_age:\n    value: "), 2, "20")

    def examples_failed(d: Any) -> tuple[int, set[str]] | None:
        found = [
            e for e in d.find_elements("css selector", "#examples-summary") if e.get_attribute("data-failed") != "0"
        ]
        if not found:
            return None
        rows = {e.get_attribute("data-example") for e in d.find_elements("css selector", "tr.example-failed")}
        return int(found[0].get_attribute("data-failed")), rows

    failed, disagree = page.wait(examples_failed, "examples that disagree")
    assert "adult-on-18th-birthday" in disagree
    assert failed == len(disagree)

    def impact_counts(d: Any) -> tuple[int, int] | None:
        found = [
            e for e in d.find_elements("css selector", "#impact-summary") if e.get_attribute("data-changed") != "0"
        ]
        if not found:
            return None
        return int(found[0].get_attribute("data-changed")), int(found[0].get_attribute("data-total"))

    changed, total = page.wait(impact_counts, "records whose admission changes")
    assert changed == _diff_count(MEMBERSHIP, page.editor_text(), server["feed"], tmp)
    assert total == 100
    assert page.read("#impact-articles .badge", lambda e: e.text).startswith("第十二条")
    assert page.read("#save-draft", lambda e: e.get_attribute("disabled")) is not None
    d.execute_script("arguments[0].scrollIntoView({block: 'end'})", page.css("#impact"))
    page.shot(f"edit-check-{lang}")

    # Back to 18, saved as the new draft, which the list then shows.
    page.type_over("  min_age:\n    value: 20", len("  min_age:\n    value: "), 2, "18")
    page.wait(lambda d: d.find_elements("css selector", "#examples-summary[data-failed='0']"), "examples pass again")
    page.wait(lambda d: d.find_elements("css selector", "#impact-summary[data-changed='0']"), "no record changes")
    save = page.wait(
        lambda d: d.find_element("id", "save-draft").is_enabled() and d.find_element("id", "save-draft"), "save"
    )
    save.click()
    version = page.read("#saved", lambda e: e.get_attribute("data-version"))
    assert version
    page.shot(f"edit-saved-{lang}")
    page.css("#tab-read").click()
    page.css(f'tr[data-rulebook="{RB}"] .rb-version[data-version="{version}"][data-status="draft"]')
    page.shot(f"read-saved-{lang}")
    page.css("#tab-drafts").click()
    page.css(f'#drafts-list tr[data-version="{version}"]')
    return version


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_secretary_reads_tries_edits_and_saves(
    language: str, server: dict[str, Any], deadline: Deadline, tmp_path: Path
) -> None:
    page = Page(_browser(language), deadline, language, tmp_path)
    try:
        version = _secretary(page, server, tmp_path)
        page.collect_requests()
    finally:
        page.d.quit()
    # The saved draft is served: GET /rulebooks lists it, and its file is in the watched folder.
    listed = httpx.get(server["url"] + "/rulebooks", timeout=10, trust_env=False).json()
    versions = {v["version"]: v["status"] for rb in listed["rulebooks"] if rb["id"] == RB for v in rb["versions"]}
    assert versions.get(version) == "draft"
    assert any(f'version: "{version}"' in p.read_text("utf-8") for p in server["books"].rglob("*.yaml"))
    # No request left the machine: every one went to the server on 127.0.0.1.
    assert page.requests, "the performance log recorded no request"
    outside = [
        u
        for u in page.requests
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).hostname != "127.0.0.1"
    ]
    assert not outside, f"requests outside 127.0.0.1: {outside}"
    assert all(urlsplit(u).scheme in ("http", "data", "blob") for u in page.requests), page.requests


def test_the_language_switch_is_remembered(server: dict[str, Any], deadline: Deadline, tmp_path: Path) -> None:
    page = Page(_browser("en"), deadline, "en", tmp_path)
    try:
        d = page.d
        d.get(server["url"] + "/")
        page.css("body[data-ready=true]")
        assert page.text_of("#tab-read") == "Read"
        page.css("#lang-switch").click()
        page.wait(lambda d: d.find_element("id", "tab-read").text == "阅读", "the page in Chinese")
        assert d.find_element("tag name", "html").get_attribute("lang") == "zh-CN"
        page.css(f'tr[data-rulebook="{RB}"] .badge[data-status="in_force"]')
        assert page.text_of(f'tr[data-rulebook="{RB}"] .badge[data-status="in_force"]') == "现行"
        d.refresh()
        page.css("body[data-ready=true]")
        assert page.text_of("#tab-read") == "阅读"  # remembered over the browser's English
    finally:
        page.d.quit()
