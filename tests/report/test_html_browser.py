"""The HTML report in a real browser: headless Chromium opens the page `check --format html`
wrote, the test reads the summary numbers from the DOM the browser built, and the browser
saves a screenshot and prints the page to PDF (the page is for a secretary to read and print).

`.ci/run` installs Debian's `chromium` with apt-get when it is missing; where no browser can be
found the test is skipped and says why.  Set ``RULEBOOK_SCREENSHOT_DIR`` to keep the screenshot.
"""

from __future__ import annotations

import html.parser
import io
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
FEED = ROOT / "tests" / "golden" / "hlj-musicians" / "membership" / "admission" / "edge-cases.jsonl"
RB = "hlj-musicians/membership"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no headless Chromium here (looked for " + ", ".join(BROWSERS) + "); `.ci/run` installs Debian's "
        "`chromium` with apt-get where it runs as root with apt-get, and this test needs it"
    )


def run_browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, timeout=180, check=False)


class Counts(html.parser.HTMLParser):
    """The spans of ``<p class="counts">`` in the DOM: the text of each, by class."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.current: str | None = None
        self.spans: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag == "p" and cls == "counts":
            self.depth = 1
        elif self.depth and tag == "span":
            self.current = cls
            self.spans.append((cls, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.depth = 0
        if tag == "span":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.depth and self.current is not None:
            cls, text = self.spans[-1]
            self.spans[-1] = (cls, text + data)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chromium_shows_the_summary_and_prints_the_page(tmp_path: Path) -> None:
    exe = browser()
    feed = tmp_path / "feed.jsonl"
    lines = FEED.read_text(encoding="utf-8").splitlines()
    good = json.loads(lines[0])
    more = [
        json.dumps(
            {**good, "id": f"P-{i:03d}", "birth_date": "2012-01-01" if i % 3 == 0 else good["birth_date"]},
            ensure_ascii=False,
        )
        for i in range(30)
    ]
    feed.write_text("\n".join([*lines, *more]) + "\n", encoding="utf-8")
    page = tmp_path / "report.html"
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["check", RB, str(feed), "--format", "html", "--output", str(page), "--lang", "zh", "--progress", "never"],
        stdout=out,
        stderr=err,
    )
    assert code == 1
    # what the page must say: the counts of the JSON report of the same feed
    json_out = io.StringIO()
    main(
        ["check", RB, str(feed), "--format", "json", "--lang", "zh", "--progress", "never"],
        stdout=json_out,
        stderr=io.StringIO(),
    )
    outcomes = [json.loads(x)["outcome"] for x in json_out.getvalue().splitlines()]
    expected = {k: outcomes.count(k) for k in ("pass", "fail", "indeterminate", "error")}
    assert len(outcomes) == sum(1 for x in lines if x.strip()) + 30 and expected["fail"] and expected["error"]

    dom = run_browser(exe, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr.decode("utf-8", "replace")[-2000:]
    counts = Counts()
    counts.feed(dom.stdout.decode("utf-8"))
    shown = dict(counts.spans)
    assert counts.spans, "the browser's DOM has the summary counts"
    total_text = counts.spans[0][1]
    assert int(re.match(r"\s*(\d+)", total_text).group(1)) == len(outcomes)  # type: ignore[union-attr]
    for outcome, n in expected.items():
        assert int(re.findall(r"\d+", shown[outcome])[-1]) == n, (outcome, shown)

    shot = tmp_path / "report.png"
    result = run_browser(exe, tmp_path / "profile", "--window-size=1000,1400", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr.decode("utf-8", "replace")[-2000:]
    data = shot.read_bytes()
    assert png_size(data) == (1000, 1400)
    assert len(data) > 20_000, "the screenshot shows a page, not a blank window"
    keep = os.environ.get("RULEBOOK_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "html-report.png")

    pdf = tmp_path / "report.pdf"
    printed = run_browser(exe, tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert printed.returncode == 0 and pdf.is_file(), printed.stderr.decode("utf-8", "replace")[-2000:]
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 5_000
