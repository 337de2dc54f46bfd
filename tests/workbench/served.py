"""What the browser tests share: a time budget, and a real ``rulebook serve --edit`` on a free
loopback port, started in its own process group and always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


# The applicant the Try step fills in: 17 years old on the application date, so `adult` fails.
TRY_APPLICANT = {
    "id": "A-9001",
    "name": "王小明",
    "citizenship": "CN",
    "province": "黑龙江",
    "birth_date": "2008-06-01",
    "application_date": "2025-09-01",
}

# Scripts run in the page.  The first two import the page's own module, so the Firefox test runs
# them in the page's scope (in Marionette's default sandbox a dynamic import() never settles).
# CodeMirror's view of the editor, found from its DOM: selects `length` characters at `offset`
# after the first occurrence of `needle` and answers the line, as a person would click there.
SELECT = """
const [needle, offset, length] = arguments; const done = arguments[arguments.length - 1];
import('/static/vendor/codemirror.js').then((m) => {
  const view = m.EditorView.findFromDOM(document.querySelector('#editor .cm-editor'));
  const at = view.state.doc.toString().indexOf(needle);
  if (at < 0) { done(null); return; }
  view.dispatch({selection: {anchor: at + offset, head: at + offset + length}, scrollIntoView: true});
  view.focus();
  done(view.state.doc.lineAt(at + offset).number);
}, (e) => done('error: ' + e));
"""
EDITOR_TEXT = """
const done = arguments[arguments.length - 1];
import('/static/vendor/codemirror.js').then((m) => {
  done(m.EditorView.findFromDOM(document.querySelector('#editor .cm-editor')).state.doc.toString());
}, (e) => done('error: ' + e));
"""
# The lint gutter's marker level with a given line number (the two gutters share their rows).
MARKER_ON_LINE = """
const line = String(arguments[0]);
const number = [...document.querySelectorAll('.cm-lineNumbers .cm-gutterElement')].find((e) => e.textContent === line);
if (!number) return false;
const top = number.getBoundingClientRect().top;
return [...document.querySelectorAll('.cm-gutter-lint .cm-gutterElement')].some(
  (e) => Math.abs(e.getBoundingClientRect().top - top) < 2 && e.querySelector('.cm-lint-marker-error'));
"""


class Deadline:
    """The whole test's time: each wait takes at most ``most`` seconds of what is left."""

    def __init__(self, seconds: float, what: str, most: float) -> None:
        self.seconds, self.what, self.most = seconds, what, most
        self.end = time.monotonic() + seconds

    def left(self, most: float | None = None) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            pytest.fail(f"{self.what} ran longer than {self.seconds} s")
        return min(self.most if most is None else most, left)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM to the process group ``proc`` leads, SIGKILL to what is left after ``grace`` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@contextlib.contextmanager
def serve_edit(base: Path, deadline: Deadline, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``rulebook serve --edit`` with ``args``, its log in ``base``: (its URL, the process) once
    ``/readyz`` answers 200.  On leaving, SIGTERM (the graceful stop), then SIGKILL after 15 s;
    the process's exit code tells the caller whether the stop was clean."""
    port = free_port()
    cmd = [sys.executable, "-m", "engine", "serve", "--edit", "--host", "127.0.0.1", "--port", str(port)]
    cmd += [*args, "--no-decision-log", "--no-access-log"]
    log_path = base / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                if proc.poll() is not None:
                    pytest.fail("rulebook serve --edit stopped: " + log_path.read_text("utf-8", "replace"))
                try:
                    if httpx.get(url + "/readyz", timeout=2, trust_env=False).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if deadline.left(60) < 1:
                    pytest.fail("rulebook serve did not become ready")
                time.sleep(0.2)
            yield url, proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                stop_group(proc, 0)
