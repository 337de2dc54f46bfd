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
