"""``rulebook serve`` as a real process: a free port on 127.0.0.1, requests over TCP, SIGTERM.

GIVEN a ``rulebook serve --port 0`` subprocess (the port it picked is read from its log line),
WHEN it is asked over TCP and then sent SIGTERM while a request is in progress,
THEN the request is answered in full and the process exits 0.  Also: ``--workers 2`` starts
two worker processes that answer on one port and all stop on SIGTERM; without the serve
extra the command says what to install, in the reader's language, and exits 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORD = json.loads((ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0])
DECISION = "/rulebooks/hlj-musicians/membership/decisions/admission"
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
START_TIMEOUT = 60.0


def serve_command() -> list[str]:
    """``rulebook serve`` as this interpreter runs it."""
    return [sys.executable, "-m", "engine", "serve"]


def _environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RULEBOOK_SERVE_")}
    env.update(extra)
    return env


class Server:
    """A ``rulebook serve`` subprocess; its standard error is collected by a thread."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [*serve_command(), "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env or _environ(),
            cwd=ROOT,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._found = threading.Event()
        self.url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            m = SERVING.search(line)
            if m and not self.url:
                self.url = m.group(1)
                self._found.set()
        self.proc.stderr.close()
        self._found.set()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def wait_ready(self) -> None:
        assert self._found.wait(START_TIMEOUT) and self.url, f"the server did not start:\n{self.log}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server stopped:\n{self.log}"
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server never became ready:\n{self.log}")

    def stop(self, *, signalled: bool = False) -> int:
        """SIGTERM (unless it was ``signalled`` already); its exit status."""
        if not signalled and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the server did not stop on SIGTERM:\n{self.log}") from None
        finally:
            self._reader.join(10)

    def kill(self) -> None:
        """Kill it and its worker processes (the whole process group), if anything is left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join(10)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        s.wait_ready()
        yield s
    finally:
        s.kill()


def test_a_real_server_answers_over_tcp_on_loopback(server: Server) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        ids = json.dumps(client.get("/rulebooks").json(), ensure_ascii=False)
        assert "hlj-musicians/membership" in ids and "hcm-student-union/charter" in ids
        answer = client.post(DECISION, json=RECORD, params={"lang": "en"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["outcome"] in ("pass", "fail", "indeterminate") and body["rules"]
        assert answer.headers["x-decision-id"]
        missing = client.post("/rulebooks/no-such/decisions/admission", json=RECORD)
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert server.stop() == 0
    assert "Traceback" not in server.log


@pytest.mark.parametrize("path", [DECISION, DECISION + "/batch"], ids=["decision", "batch"])
def test_a_client_that_expects_100_continue_is_told_to_send_its_body(server: Server, path: str) -> None:
    """``Expect: 100-continue`` (curl sends it for a body of more than 1 MB): the server's first
    answer is ``100 Continue``, not the final status, so the client sends the body at once instead
    of waiting (a second, with curl) for a go-ahead that never comes; then the answer is whole."""
    import socket
    from urllib.parse import urlsplit

    where = urlsplit(server.url)
    line = json.dumps(RECORD, ensure_ascii=False).encode() + (b"\n" if path.endswith("batch") else b"")
    body = line * (3 if path.endswith("batch") else 1)
    head = (
        f"POST {path}?lang=en HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(head)
        first = b""
        while b"\r\n\r\n" not in first:  # the server's first answer, before any byte of the body
            got = sock.recv(4096)
            assert got, first
            first += got
        assert first.startswith(b"HTTP/1.1 100 "), first
        sock.sendall(body)
        rest = first.split(b"\r\n\r\n", 1)[1]
        while got := sock.recv(1 << 16):
            rest += got
    assert rest.startswith(b"HTTP/1.1 200 "), rest[:200]
    answer = rest.split(b"\r\n\r\n", 1)[1]
    if path.endswith("batch"):  # chunked: each answered line is there, in order
        assert answer.count(b'"outcome"') == 3 and answer.count(b'"decision_id"') == 3
    else:
        assert json.loads(answer)["outcome"] in ("pass", "fail", "indeterminate")
    assert server.stop() == 0
    assert "Traceback" not in server.log


def _slow_body(data: bytes, pieces: int, pause: float, sent: threading.Event) -> Iterator[bytes]:
    step = max(1, len(data) // pieces)
    for i in range(0, len(data), step):
        yield data[i : i + step]
        sent.set()
        time.sleep(pause)


def test_sigterm_lets_the_request_in_progress_finish_and_exits_0(server: Server) -> None:
    # GIVEN a request whose body is still being sent
    data = json.dumps(RECORD).encode()
    started = threading.Event()
    result: dict[str, httpx.Response | BaseException] = {}

    def ask() -> None:
        try:
            result["answer"] = httpx.post(
                server.url + DECISION,
                content=_slow_body(data, 10, 0.2, started),
                headers={"content-type": "application/json", "content-length": str(len(data))},
                timeout=60,
            )
        except BaseException as e:  # noqa: BLE001 - reported below
            result["answer"] = e

    asker = threading.Thread(target=ask)
    asker.start()
    assert started.wait(30)
    time.sleep(0.5)  # the request has reached the application; its body is still coming (2 s in all)
    # WHEN the server is told to stop in the middle of it
    server.proc.send_signal(signal.SIGTERM)
    asker.join(60)
    code = server.stop(signalled=True)
    # THEN the request is answered whole and the process exits 0
    answer = result["answer"]
    assert isinstance(answer, httpx.Response), f"{answer!r}\n{server.log}"
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] in ("pass", "fail", "indeterminate")
    assert code == 0, server.log
    assert "Traceback" not in server.log
    # and it no longer takes connections
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/healthz", timeout=5)


def test_sigterm_during_a_batch_ends_it_at_a_line_boundary(server: Server) -> None:
    # GIVEN a batch whose lines are still arriving
    lines = [json.dumps(RECORD | {"id": f"A-{i:04d}"}).encode() + b"\n" for i in range(40)]
    sent = threading.Event()
    result: dict[str, httpx.Response | BaseException] = {}

    def body() -> Iterator[bytes]:
        for line in lines:
            yield line
            sent.set()
            time.sleep(0.05)

    def ask() -> None:
        try:
            result["answer"] = httpx.post(
                server.url + DECISION + "/batch",
                content=body(),
                headers={"content-type": "application/x-ndjson"},
                timeout=60,
            )
        except BaseException as e:  # noqa: BLE001 - reported below
            result["answer"] = e

    asker = threading.Thread(target=ask)
    asker.start()
    assert sent.wait(30)
    time.sleep(0.3)
    # WHEN the server is told to stop
    server.proc.send_signal(signal.SIGTERM)
    asker.join(60)
    code = server.stop(signalled=True)
    # THEN every answered line is a whole decision, in input order; a batch cut short ends with
    # one error line naming the first line not answered
    answer = result["answer"]
    assert isinstance(answer, httpx.Response), f"{answer!r}\n{server.log}"
    assert answer.status_code == 200
    assert answer.text.endswith("\n")
    objects = [json.loads(line) for line in answer.text.splitlines()]
    decided = objects
    if objects and "type" in objects[-1]:
        *decided, final = objects
        assert final["type"].endswith("serve.shutting-down"), final
        assert final["line"] == len(decided) + 1
        assert len(decided) < len(lines)
    else:
        assert len(decided) == len(lines)
    assert [o["record"] for o in decided] == [f"A-{i:04d}" for i in range(len(decided))]
    assert code == 0, server.log


def _children(pid: int) -> list[int]:
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        m = re.search(r"^PPid:\s+(\d+)$", text, re.M)
        if m and int(m.group(1)) == pid:
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline:  # a worker, not multiprocessing's resource tracker
                out.append(int(status.parent.name))
    return out


def _decisions_counted(metrics: str) -> int:
    return round(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("rulebook_decisions_total{")
        )
    )


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="worker processes are counted through /proc")
def test_two_workers_answer_on_one_port_and_stop_together() -> None:
    s = Server("--workers", "2")
    try:
        s.wait_ready()
        workers = _children(s.proc.pid)
        assert len(workers) == 2, (workers, s.log)
        with httpx.Client(base_url=s.url, timeout=30) as client:
            answers = [client.post(DECISION, json=RECORD) for _ in range(20)]
        assert {a.status_code for a in answers} == {200}
        assert len({a.headers["x-decision-id"] for a in answers}) == 20
        # the connections are spread over both workers: 16 connections each ask one decision, then
        # each reads the decisions its own worker counted (each worker keeps its own metrics; the 20
        # above went to one of them)
        clients = [httpx.Client(base_url=s.url, timeout=30) for _ in range(16)]
        try:
            for client in clients:
                assert client.post(DECISION, json=RECORD).status_code == 200
            counted = [_decisions_counted(client.get("/metrics").text) for client in clients]
        finally:
            for client in clients:
                client.close()
        assert len(set(counted)) == 2, counted  # one worker's count, the other's (one worker: one count)
        assert s.stop() == 0, s.log
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
        assert "Traceback" not in s.log
    finally:
        s.kill()


BLOCK_SERVE_EXTRA = """
import sys
for name in ("starlette", "uvicorn", "prometheus_client"):
    sys.modules[name] = None  # an import of it fails as if it were not installed
from engine.cli import main
sys.exit(main({argv!r}))
"""


@pytest.mark.parametrize(("lang", "words"), [("en", "needs the `"), ("zh", "需要 `")])
def test_without_the_serve_extra_the_command_says_what_to_install(lang: str, words: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", BLOCK_SERVE_EXTRA.format(argv=["serve", "--lang", lang])],
        capture_output=True,
        text=True,
        env=_environ(),
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert words in run.stderr
    assert "pip install 'rulebook-engine[serve]'" in run.stderr
    assert "Traceback" not in run.stderr


def test_without_the_serve_extra_other_commands_work() -> None:
    run = subprocess.run(
        [sys.executable, "-c", BLOCK_SERVE_EXTRA.format(argv=["list", "--lang", "en"])],
        capture_output=True,
        text=True,
        env=_environ(),
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "hlj-musicians/membership" in run.stdout


def _serve_args(*argv: str) -> argparse.Namespace:
    from engine.serve.cli import add_serve_parser

    parser = argparse.ArgumentParser(prog="rulebook")
    sub = parser.add_subparsers(dest="command")
    add_serve_parser(sub, "en")
    args = parser.parse_args(["serve", *argv])
    args.lang = "en"
    return args


def test_edit_and_samples_reach_the_configuration(tmp_path: Path) -> None:
    from engine.serve.cli import _overrides, cmd_serve

    args = _serve_args("--edit", "--samples", str(tmp_path))
    overrides = _overrides(args)
    assert overrides["edit"] is True and overrides["samples"] == (tmp_path,)
    err = io.StringIO()
    missing = _serve_args("--samples", str(tmp_path / "nope"))
    assert cmd_serve(missing, io.StringIO(), err, "en") == 2
    assert "nope" in err.getvalue()


def test_a_port_in_use_is_a_usage_error_not_a_traceback() -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        run = subprocess.run(
            [*serve_command(), "--port", str(port), "--lang", "en"],
            capture_output=True,
            text=True,
            env=_environ(),
            cwd=ROOT,
            timeout=120,
            check=False,
        )
    finally:
        taken.close()
    assert run.returncode == 2, run.stderr
    assert f"cannot listen on `127.0.0.1:{port}`" in run.stderr
    assert "Traceback" not in run.stderr


# -- the curl commands of docs/serve.md, against a real server -------------------------------------------------

NEEDS_SERVER = "sh no-run (needs a running server: rulebook serve)"
ANSWERS = re.compile(r"\s+#\s*answers (\d{3})\s*$")


def doc_curl_lines() -> list[str]:
    from tests.test_docs_code import blocks, commands

    page = ROOT / "docs" / "serve.md"
    return [line for b in blocks() if b.page == page and b.info == NEEDS_SERVER for line in commands(b.body)]


def test_the_curl_commands_of_the_serve_page_get_the_answers_it_says(server: Server) -> None:
    lines = doc_curl_lines()
    assert len(lines) >= 10 and all(line.startswith("curl ") for line in lines)
    for line in lines:
        m = ANSWERS.search(line)
        expected = m.group(1) if m else "200"
        command = ANSWERS.sub("", line).replace("http://127.0.0.1:8000", server.url)
        run = subprocess.run(
            ["bash", "-c", command + " -o /dev/null -w '%{http_code}'"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert run.returncode == 0 and run.stdout == expected, f"`{line}`: {run.stdout} {run.stderr}"
    assert server.stop() == 0
