"""The workbench in Firefox: its JavaScript modules and its editor, as a secretary uses them.

The issue asks for a page that works with JavaScript modules in current Chromium and Firefox;
``test_browser.py`` covers Chromium.  Debian has no ``geckodriver``, so this test drives Debian's
``firefox-esr`` directly over Firefox's own remote protocol, Marionette, with Mozilla's Python
client ``marionette-driver`` (the ``test`` extra).

A real ``rulebook serve --edit`` runs on a free loopback port.  Headless Firefox starts with a
fresh profile whose preferences turn off its own connections (updates, telemetry, studies,
remote settings, safe browsing, captive portal and connectivity checks, push, prefetching),
behind a proxy on a closed loopback port so that anything left over cannot leave the machine
(the loopback address never goes through a proxy).  Then, with a Chinese browser: the page loads
its modules and lists the installed rulebooks; the membership rulebook opens article by article;
an applicant tried through the form gets its outcome; a new draft opens in the CodeMirror
editor, ``birth_dat`` typed into an expression gets the diagnostic marker on its line with the
suggestion ``birth_date``, and the suggestion fixes it.  Every request the page made went to
127.0.0.1: Firefox reports each HTTP request it starts (``http-on-modify-request``, observed from
its privileged side), and the page's own resource timings and navigations are read too.

The screenshot of the editor goes to ``docs/workbench/firefox-edit-diagnostic.png``
(docs/workbench.md shows it).  `.ci/run` installs ``firefox-esr`` when it is missing; where
Firefox or ``marionette-driver`` cannot be found the test is skipped and says why.  Every wait is
bounded, the whole test stops within two minutes, and Firefox (with its content processes, one
process group) is always ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.workbench.served import EDITOR_TEXT, MARKER_ON_LINE, SELECT, TRY_APPLICANT, Deadline, serve_edit, stop_group

ROOT = Path(__file__).resolve().parent.parent.parent
SHOTS = ROOT / "docs" / "workbench"
SHOT = "firefox-edit-diagnostic.png"
RB = "hlj-musicians/membership"
TOTAL_SECONDS = 120  # the whole test, server and Firefox start included
WAIT_SECONDS = 25  # any one thing the page is waited for
WIDTH, HEIGHT = 1280, 800  # the page's viewport, as in the Chromium test

FIREFOX = ("firefox-esr", "firefox")
# -remote-allow-system-access opens Marionette's privileged side, where the requests are observed
FLAGS = ("--marionette", "-remote-allow-system-access", "--headless", "--no-remote")
FIREFOX_ENV = {
    # the headless screen, large enough for a 1280x800 viewport with the window's tool bars
    "MOZ_HEADLESS_WIDTH": "1920",
    "MOZ_HEADLESS_HEIGHT": "1200",
    # a release build takes `services.settings.server` (remote settings, below) only with this
    "MOZ_REMOTE_SETTINGS_DEVTOOLS": "1",
}

# Firefox's own connections, turned off; the proxy at the end catches whatever is left.
PREFS: dict[str, Any] = {
    # updates of Firefox, its add-ons, search engines and plugins
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "extensions.update.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "browser.search.update": False,
    "media.gmp-manager.updateEnabled": False,
    "media.gmp-gmpopenh264.enabled": False,
    # telemetry, health reports, studies and experiments, remote settings
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.server": "",
    "telemetry.fog.test.localhost_port": -1,
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.usage.uploadEnabled": False,
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "services.settings.server": "data:,#remote-settings-off/v1",
    "browser.ml.enable": False,
    "browser.translations.enable": False,
    # safe browsing and tracking protection lists
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "privacy.trackingprotection.enabled": False,
    # captive portals, connectivity, DNS over HTTPS, push, certificates
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.trr.mode": 5,
    "dom.push.connection.enabled": False,
    "security.OCSP.enabled": 0,
    "security.remote_settings.crlite_filters.enabled": False,
    "security.remote_settings.intermediates.enabled": False,
    "security.certerrors.mitm.priming.enabled": False,
    # prefetching and speculative connections
    "network.prefetch-next": False,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    "browser.urlbar.speculativeConnect.enabled": False,
    "browser.places.speculativeConnect.enabled": False,
    # the new tab page, location, accounts, start pages
    "browser.newtabpage.enabled": False,
    "browser.newtabpage.activity-stream.testing.shouldInitializeFeeds": False,
    "browser.topsites.contile.enabled": False,
    "browser.discovery.enabled": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "geo.provider.network.url": "",
    "identity.fxaccounts.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "about:blank",
    "browser.aboutwelcome.enabled": False,
    "toolkit.startup.max_resumed_crashes": -1,
    # everything but the loopback through a proxy on a closed loopback port (its port is set at start)
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "network.proxy.ssl": "127.0.0.1",
    "network.proxy.share_proxy_settings": True,
    "network.proxy.no_proxies_on": "127.0.0.1",
    "network.proxy.allow_hijacking_localhost": False,
    # a Chinese browser; Marionette on any free port, written to MarionetteActivePort in the profile
    "intl.accept_languages": "zh-CN,zh",
    "marionette.port": 0,
}

# Every HTTP request Firefox starts, with what started it (the system, or a page's origin).
OBSERVE = """
const seen = [];
const observer = {observe(subject) {
  const channel = subject.QueryInterface(Ci.nsIHttpChannel);
  const by = channel.loadInfo && channel.loadInfo.triggeringPrincipal;
  seen.push({url: channel.URI.spec, by: !by ? null : by.isSystemPrincipal ? 'system' : by.origin});
}};
Services.obs.addObserver(observer, 'http-on-modify-request');
globalThis.rbRequests = {seen, observer};
"""
OBSERVED = """
const {seen, observer} = globalThis.rbRequests;
Services.obs.removeObserver(observer, 'http-on-modify-request');
return seen;
"""

# The errors Firefox reported from the page's scripts (uncaught exceptions, rejected promises,
# modules that failed to load); warnings left out.
PAGE_ERRORS = """
const origin = arguments[0];
return Services.console.getMessageArray()
  .filter((e) => e instanceof Ci.nsIScriptError && !(e.flags & Ci.nsIScriptError.warningFlag))
  .filter((e) => (e.sourceName || '').startsWith(origin))
  .map((e) => `${e.sourceName}:${e.lineNumber}: ${e.errorMessage}`);
"""

# CodeMirror's view of the editor, found from its DOM: selects `length` characters at `offset`
# after the first occurrence of `needle` and answers the line, as a person would click there.
# What the page itself knows it loaded: its navigations and every resource it fetched.
PAGE_URLS = """
return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map((e) => e.name);
"""


def _firefox() -> str:
    binary = next((shutil.which(n) for n in FIREFOX if shutil.which(n)), None)
    if binary is None:
        pytest.skip(
            "Firefox is needed (looked for "
            + ", ".join(FIREFOX)
            + "); `.ci/run` installs Debian's `firefox-esr` with apt-get where it runs as root"
        )
    pytest.importorskip(
        "marionette_driver", reason="the Firefox test drives Firefox with marionette-driver (the `test` extra)"
    )
    return binary


@pytest.fixture(scope="module")
def deadline() -> Deadline:
    return Deadline(TOTAL_SECONDS, "the Firefox test", WAIT_SECONDS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, deadline: Deadline) -> Iterator[str]:
    _firefox()
    base = tmp_path_factory.mktemp("workbench-firefox")
    books = base / "rulebooks"
    books.mkdir()
    with serve_edit(base, deadline, "--rulebooks", str(books)) as (url, _proc):
        yield url


class Firefox:
    """Headless Firefox ESR with a fresh profile, driven over Marionette; a context manager that
    always ends the browser's whole process group."""

    def __init__(self, binary: str, profile: Path, deadline: Deadline) -> None:
        self.binary = binary
        self.profile = profile
        self.deadline = deadline
        self.proc: subprocess.Popen[bytes] | None = None
        self.closed_port: socket.socket | None = None
        self.m: Any = None

    def __enter__(self) -> Firefox:
        from marionette_driver.marionette import Marionette

        # A bound loopback port nobody listens on: the proxy for everything but the loopback.
        self.closed_port = socket.socket()
        self.closed_port.bind(("127.0.0.1", 0))
        dead = int(self.closed_port.getsockname()[1])
        prefs = dict(PREFS)
        prefs["network.proxy.http_port"] = prefs["network.proxy.ssl_port"] = dead
        self.profile.mkdir(parents=True)
        (self.profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()), encoding="utf-8"
        )
        log = (self.profile.parent / "firefox.log").open("wb")
        self.proc = subprocess.Popen(
            [self.binary, *FLAGS, "-profile", str(self.profile)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=dict(os.environ, **FIREFOX_ENV),
        )
        log.close()
        try:
            active = self.profile / "MarionetteActivePort"
            while not (active.exists() and active.read_text().strip()):
                if self.proc.poll() is not None:
                    pytest.fail("Firefox stopped: " + self.log())
                if self.deadline.left(60) < 1:
                    pytest.fail("Firefox's Marionette did not start: " + self.log())
                time.sleep(0.1)
            port = int(active.read_text().strip())
            self.m = Marionette(host="127.0.0.1", port=port, socket_timeout=WAIT_SECONDS + 15)
            self.m.raise_for_port(timeout=self.deadline.left())
            self.m.start_session(timeout=self.deadline.left())
            self.m.timeout.script = WAIT_SECONDS
            self.m.timeout.page_load = WAIT_SECONDS
            with self.m.using_context("chrome"):
                self.m.execute_script(OBSERVE, sandbox="system", new_sandbox=False)
            self._viewport()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _viewport(self) -> None:
        """The window made as large as a 1280x800 viewport needs (headless, its tool bars included)."""
        inner = self.m.execute_script("return [window.innerWidth, window.innerHeight]")
        rect = self.m.window_rect
        self.m.set_window_rect(width=WIDTH + rect["width"] - inner[0], height=HEIGHT + rect["height"] - inner[1])
        inner = self.m.execute_script("return [window.innerWidth, window.innerHeight]")
        assert inner == [WIDTH, HEIGHT], f"Firefox's viewport is {inner}, not {WIDTH}x{HEIGHT}"

    def requests(self) -> list[dict[str, Any]]:
        with self.m.using_context("chrome"):
            return list(self.m.execute_script(OBSERVED, sandbox="system", new_sandbox=False))

    def page_errors(self, origin: str) -> list[str]:
        with self.m.using_context("chrome"):
            return list(self.m.execute_script(PAGE_ERRORS, script_args=(origin + "/",), sandbox="system"))

    def log(self) -> str:
        path = self.profile.parent / "firefox.log"
        return path.read_text("utf-8", "replace")[-4000:] if path.exists() else ""

    def __exit__(self, *exc: object) -> None:
        try:
            if self.m is not None and self.m.session is not None:
                with contextlib.suppress(Exception):  # Firefox is ended below whatever the session says
                    self.m.delete_session()
        finally:
            if self.proc is not None:
                stop_group(self.proc, 10)
            if self.closed_port is not None:
                self.closed_port.close()


class Page:
    """The page in Firefox, with bounded waits."""

    def __init__(self, firefox: Firefox, scratch: Path) -> None:
        self.ff = firefox
        self.m = firefox.m
        self.deadline = firefox.deadline
        self.scratch = scratch

    def wait(self, what: Callable[[Any], Any], message: str) -> Any:
        from marionette_driver import errors
        from marionette_driver.wait import Wait

        try:
            # the page re-renders what it shows as answers arrive: an element found a moment ago may be
            # gone when it is read, and is then looked up again on the next poll
            return Wait(
                self.m,
                timeout=self.deadline.left(),
                interval=0.1,
                ignored_exceptions=(errors.NoSuchElementException, errors.StaleElementException),
            ).until(what)
        except errors.TimeoutException:
            with (self.scratch / "failed-firefox.png").open("wb") as f:
                self.m.save_screenshot(f, full=False)
            raise AssertionError(f"waited in vain (Firefox): {message}") from None

    def css(self, selector: str) -> Any:
        return self.wait(lambda m: m.find_element("css selector", selector), selector)

    def read(self, selector: str, how: Callable[[Any], Any]) -> Any:
        """``how(element)`` of the element ``selector`` finds, looked up again if the page re-rendered it."""
        return self.wait(lambda m: [how(m.find_element("css selector", selector))], selector)[0]

    def choose(self, select: str, value: str) -> None:
        """An option of a <select> clicked, as a person picks it."""
        self.css(f'{select} option[value="{value}"]').click()
        self.wait(lambda m: m.find_element("css selector", select).get_property("value") == value, select)

    def type_over(self, needle: str, offset: int, length: int, text: str) -> int:
        from marionette_driver.keys import Keys

        line = self.m.execute_async_script(SELECT, script_args=(needle, offset, length), sandbox=None)
        assert isinstance(line, int), f"`{needle}` is not in the editor ({line})"
        self.m.get_active_element().send_keys(text)
        self.m.get_active_element().send_keys(Keys.ESCAPE)  # close a completion list, if any
        return line

    def editor_text(self) -> str:
        text = self.m.execute_async_script(EDITOR_TEXT, sandbox=None)
        assert isinstance(text, str) and not text.startswith("error: "), text
        return text

    def shot(self, path: Path) -> None:
        print(f"{time.monotonic() - self.deadline.end + TOTAL_SECONDS:6.1f} s: {path.name}")  # shown with -s
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            self.m.save_screenshot(f, full=False)


def _secretary(page: Page, url: str) -> None:
    m = page.m
    m.navigate(url + "/")
    page.css("body[data-ready=true]")
    assert m.find_element("tag name", "html").get_attribute("lang") == "zh-CN"
    assert "规则集工作台" in m.title

    # The page's modules ran (it is ready only once app.js has run) and were fetched as modules.
    loaded = {urlsplit(u).path for u in m.execute_script(PAGE_URLS)}
    assert {"/static/app.js", "/static/api.js", "/static/i18n.js"} <= loaded, loaded
    assert m.execute_script("return document.querySelector('script[src=\"/static/app.js\"]').type") == "module"

    # Read: every installed rulebook listed, then the membership rulebook article by article.
    installed = httpx.get(url + "/rulebooks", timeout=10, trust_env=False).json()["rulebooks"]
    assert RB in {rb["id"] for rb in installed}
    for rb in installed:
        page.css(f'tr[data-rulebook="{rb["id"]}"]')
    row = page.css(f'tr[data-rulebook="{RB}"]')
    assert row.find_element("css selector", '.rb-version[data-status="in_force"]')
    row.find_element("css selector", '.rb-version[data-version="2022-04-15"] button.open-doc').click()
    adult = page.css('.doc-rule[data-rule="adult"]')
    page.wait(lambda m: "第十二条" in adult.text, "the article of the adult rule")
    assert "age >= min_age" in adult.text
    assert "年满18周岁按公历计算" in adult.text

    # Try: an applicant through the form; 17 years old on the application date.
    page.css("#tab-try").click()
    for name, value in TRY_APPLICANT.items():
        el = page.css(f'#record-form [name="{name}"]')
        if el.get_attribute("type") == "date":  # a date picker: set as the picker sets it
            m.execute_script(
                "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))",
                script_args=(el, value),
            )
        else:
            el.clear()
            el.send_keys(value)
    page.css('fieldset[data-path="occupations"] button.add').click()
    page.css('[name="occupations.1"]').send_keys("作曲")
    page.css('#record-form [name="accepts_charter"]').click()
    page.css('#record-form [name="self_applied"]').click()
    page.css("#decide").click()
    page.wait(lambda m: m.find_element("id", "outcome").get_attribute("data-outcome"), "the outcome")
    assert page.read("#outcome", lambda e: e.get_attribute("data-outcome")) == "fail"
    assert page.read("#outcome", lambda e: e.text) == "不通过"
    assert page.read('tr.rule-row[data-rule="adult"]', lambda e: e.get_attribute("data-status")) == "fail"
    assert "17" in page.read('tr.rule-row[data-rule="adult"]', lambda e: e.text)
    assert page.read('tr.rule-row[data-rule="citizen"]', lambda e: e.get_attribute("data-status")) == "pass"

    # Edit: a new draft of the version in force, in the CodeMirror editor.
    page.css("#tab-edit").click()
    page.choose("#edit-rulebook", RB)
    page.choose("#edit-version", "2022-04-15")
    page.css("#open-draft").click()
    page.css("#editor .cm-editor .cm-content")
    page.wait(lambda m: m.find_element("id", "diag-status").text == "没有发现问题", "a clean draft")
    text = page.editor_text()
    assert "\nstatus: draft\n" in text
    assert '\nversion: "2022-04-15"' not in text

    # A misspelt field in an expression: the marker on its line, the suggestion beside it.
    line = page.type_over("age: full_years(record.birth_date, as_of)", len("age: full_years(record."), 10, "birth_dat")
    diag = page.css(f'#diagnostics .diag[data-line="{line}"][data-code="check.unknown-field"]')
    assert diag.find_element("css selector", 'button.suggest[data-suggestion="birth_date"]')
    assert "birth_dat" in diag.text
    page.wait(lambda m: m.execute_script(MARKER_ON_LINE, script_args=(line,)), f"the lint marker on line {line}")
    underlined = page.css(".cm-line .cm-lintRange-error")
    assert underlined.text == "birth_dat" or "birth_dat" in underlined.find_element("xpath", "./..").text
    page.shot(SHOTS / SHOT)
    diag.find_element("css selector", 'button.suggest[data-suggestion="birth_date"]').click()
    page.wait(lambda m: m.find_element("id", "diag-status").text == "没有发现问题", "the fix accepted")
    assert "age: full_years(record.birth_date, as_of)" in page.editor_text()


def test_a_secretary_uses_the_workbench_in_firefox(server: str, deadline: Deadline, tmp_path: Path) -> None:
    with Firefox(_firefox(), tmp_path / "profile", deadline) as ff:
        page = Page(ff, tmp_path)
        _secretary(page, server)
        page_urls = list(ff.m.execute_script(PAGE_URLS))
        requests = ff.requests()
        errors = ff.page_errors(server)
    # The page's scripts ran without an error Firefox reported.
    assert not errors, "\n".join(errors)
    own = [r["url"] for r in requests if r["by"] == "system" and urlsplit(r["url"]).hostname != "127.0.0.1"]
    if own:
        print("Firefox's own requests, refused by the closed proxy:", own)  # shown with -s
    # No request left the machine: the page's, as Firefox saw them start and as the page timed them.
    origin = urlsplit(server)
    from_page = [r["url"] for r in requests if r["by"] not in ("system", None)]
    assert any(urlsplit(u).path == "/static/app.js" for u in from_page), requests
    assert any(urlsplit(u).path == "/workbench/api/diagnostics" for u in from_page), requests
    navigated = [r["url"] for r in requests if r["by"] == "system" and urlsplit(r["url"]).port == origin.port]
    assert navigated == [server + "/"], requests
    outside = [u for u in from_page + page_urls if urlsplit(u).hostname != "127.0.0.1"]
    assert not outside, f"requests outside 127.0.0.1: {outside}"
    assert all(urlsplit(u).scheme == "http" for u in from_page + page_urls), from_page + page_urls
