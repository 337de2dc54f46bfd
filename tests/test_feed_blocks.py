"""`check --format json` over JSON Lines files in blocks (``engine.io.parallel.evaluate_blocks``):
the same bytes, summary and exit code as record by record, with one job or two, to a file
(where the workers write their blocks themselves) or to a stream."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from engine.io import parallel
from engine.io.records import split_lines
from engine.io.report.json import JsonReport

RB = "hlj-musicians/membership"
ROOT = Path(__file__).resolve().parents[1]


def record(i: int, **changes: Any) -> dict[str, Any]:
    examples = json.loads((ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0])
    return {**examples, "id": f"B-{i:05d}", **changes}


def feed_lines() -> list[str]:
    lines = []
    for i in range(1300):
        if i in (7, 640):
            lines.append("{broken line")
        elif i == 300:
            lines.append("[1, 2]")
        elif i in (301, 999):
            lines.append("   ")
        elif i % 11 == 0:
            lines.append(json.dumps(record(i, birth_date="2015-01-01"), ensure_ascii=False))
        elif i % 13 == 0:
            r = record(i)
            del r["citizenship"]
            lines.append(json.dumps(r, ensure_ascii=False))
        elif i % 17 == 0:
            lines.append(
                json.dumps(
                    record(
                        i,
                        occupations=["杂技"],
                        waivers=[{"rule": "occupation", "reason": "r", "approved_by": "a", "date": "2024-01-01"}],
                    ),
                    ensure_ascii=False,
                )
            )
        else:
            lines.append(json.dumps(record(i), ensure_ascii=False))
    return lines


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def record_by_record(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str, str]:
    with monkeypatch.context() as m:
        m.delattr(JsonReport, "write_block")  # the report then takes each decision in turn
        return run(*argv)


@pytest.mark.parametrize(("lang", "block"), [("zh", parallel.BLOCK_BYTES), ("en", parallel.BLOCK_BYTES), ("en", 500)])
def test_blocks_write_what_the_records_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, block: int
) -> None:
    monkeypatch.setattr(parallel, "BLOCK_BYTES", block)  # 500: many a record longer than a block
    a, b = tmp_path / "a.jsonl", tmp_path / "b.ndjson"
    lines = feed_lines()
    a.write_text("\n".join(lines[:700]) + "\n", encoding="utf-8")
    # a BOM, Windows line ends, no final line end
    b.write_bytes(("\ufeff" + "\r\n".join(lines[700:])).encode("utf-8"))
    files = [str(a), str(b)]
    common = ["--format", "json", "--lang", lang, "--progress", "never"]
    ref = record_by_record(monkeypatch, "check", RB, *files, *common, "--jobs", "1")
    assert ref[0] == 1 and ref[1].count("\n") == 1298
    for jobs in ("1", "2"):
        assert run("check", RB, *files, *common, "--jobs", jobs) == ref
        target = tmp_path / f"out-{jobs}.jsonl"
        code, out, err = run("check", RB, *files, *common, "--jobs", jobs, "--output", str(target))
        assert (code, out, err) == (ref[0], "", ref[2])
        assert target.read_bytes() == ref[1].encode("utf-8")


def test_a_file_that_is_not_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.jsonl"
    good = "\n".join(json.dumps(record(i), ensure_ascii=False) for i in range(3000)) + "\n"
    bad.write_bytes(good.encode("utf-8") + b'{"id": "\xff"}\n' + good.encode("utf-8"))
    common = ["--format", "json", "--lang", "en", "--progress", "never"]
    ref = record_by_record(monkeypatch, "check", RB, str(bad), *common, "--jobs", "1")
    assert "not UTF-8" in ref[1]
    lines = [json.loads(x) for x in ref[1].splitlines()]  # the lines after the bad one are decided too
    assert len(lines) == 6001 and [x["input"]["line"] for x in lines if x["outcome"] == "error"] == [3001]
    for jobs in ("1", "2"):
        assert run("check", RB, str(bad), *common, "--jobs", jobs) == ref


def test_a_missing_file(tmp_path: Path) -> None:
    code, _, err = run("check", RB, str(tmp_path / "none.jsonl"), "--format", "json", "--jobs", "2", "--lang", "en")
    assert code == 2 and "no such file" in err


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 18])
def test_runs_of_whole_lines(tmp_path: Path, size: int) -> None:
    """What the parent hands out: runs of whole lines with their first line's number and their
    offset, whatever the run size (a line longer than a run is one run)."""
    text = b"\xef\xbb\xbf" + b'{"a": 1}\n\n  \r\n{"b": "\xe4\xb8\xad"}\r\n' + b"x" * 100 + b"\n\xff\xfe\nlast"
    path = tmp_path / "f.jsonl"
    path.write_bytes(text)
    expected = path.read_bytes()[3:].split(b"\n")
    got: list[tuple[int, bytes]] = []
    for chunk in parallel._chunks(str(path), size, spans=True):
        name, number, offset, length = chunk
        assert name == str(path)
        run_lines = split_lines(text[offset : offset + length])
        got += [(number + i, line) for i, line in enumerate(run_lines)]
    assert got == [(i, line.removesuffix(b"\r")) for i, line in enumerate(expected, start=1)]
    plain = [
        (number + i, line) for _name, number, lines in parallel._chunks(str(path), size) for i, line in enumerate(lines)
    ]
    assert plain == got


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_worker_that_fails_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """A fault in a forked worker (a bug, never a record) stops the run with what went wrong,
    and no worker process is left behind."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("forked workers only where processes fork")
    feed = tmp_path / "f.jsonl"
    feed.write_text("\n".join(json.dumps(record(i), ensure_ascii=False) for i in range(600)) + "\n", encoding="utf-8")
    monkeypatch.setattr(parallel, "BLOCK_BYTES", 4096)

    def broken(task: Any) -> Any:
        if task[0] == 5:
            if how == "dies":
                import os

                os._exit(3)
            raise ValueError("broken on purpose")
        return work(task)

    work = parallel._work_block
    monkeypatch.setattr(parallel, "_work_block", broken)
    from engine.registry import Registry

    rid, version, decision = Registry.default().decision(RB, None)
    blocks = parallel.evaluate_blocks(
        [str(feed)], decision, rulebook=RB, decision_name=None, as_of=None, lang="en", label=(rid, version), jobs=2
    )
    got = 0
    with pytest.raises(RuntimeError, match="broken on purpose" if how == "raises" else "ended unexpectedly"):
        for block in blocks:
            got += block.count
    assert got < 600
    assert not multiprocessing.active_children()


def test_spawned_workers_write_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where processes cannot fork, spawned workers rebuild the rulebook by name and send their
    blocks back: the same bytes and counts."""
    feed = tmp_path / "f.jsonl"
    feed.write_text("\n".join(feed_lines()[:400]) + "\n", encoding="utf-8")
    common = ["check", RB, str(feed), "--format", "json", "--lang", "en", "--progress", "never"]
    ref = run(*common, "--jobs", "1")
    monkeypatch.setattr(parallel.mp, "get_all_start_methods", lambda: ["spawn"])
    assert run(*common, "--jobs", "2") == ref
    target = tmp_path / "out.jsonl"
    code, out, err = run(*common, "--jobs", "2", "--output", str(target))
    assert (code, out, err) == (ref[0], "", ref[2]) and target.read_text(encoding="utf-8") == ref[1]


def test_ctrl_c_stops_every_worker_quietly(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) during `--jobs 2`: the
    command says `interrupted` and exits 130, no worker prints a traceback, and no report file,
    complete or partial, is left."""
    import os
    import signal
    import subprocess
    import sys
    import time

    if not hasattr(os, "killpg") or "fork" not in parallel.mp.get_all_start_methods():
        pytest.skip("process groups and forked workers only where processes fork")
    line = json.dumps(record(0), ensure_ascii=False)
    feed = tmp_path / "feed.jsonl"
    feed.write_text((line + "\n") * 40_000, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "check",
            RB,
            str(feed),
            "--format",
            "json",
            "--output",
            str(out),
            "--jobs",
            "2",
            "--progress",
            "never",
            "--lang",
            "en",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        # a shell's background job ignores SIGINT and a child inherits that; a terminal's would not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 - this test starts no thread
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # until the workers are writing
        parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part") and p.stat().st_size > 0]
        if parts:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    text = err.decode("utf-8", "replace")
    assert proc.returncode == 130 and "interrupted" in text and "Traceback" not in text, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.jsonl"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_named_pipe_is_read_like_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """A JSON Lines feed from a named pipe (it cannot seek, and has no offsets to hand out) gives
    the same report as the same lines in a file, byte-order mark included; with two jobs its
    lines travel to the workers, who send big blocks back, without the two waiting on each other."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    text = ("\ufeff" + "\n".join(feed_lines() * 6) + "\n").encode("utf-8")  # runs bigger than a pipe holds
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(text)
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)

    def feed() -> None:
        with open(pipe, "wb") as f:
            f.write(text)

    common = ["--format", "json", "--lang", "en", "--progress", "never", "--jobs", jobs]
    ref = run("check", RB, str(plain), *common, "--output", str(tmp_path / "ref.jsonl"))
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    # in a process of its own, so that a deadlock fails the test instead of hanging the suite
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "check", RB, str(pipe), *common, "--output", str(tmp_path / "got.jsonl")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    writer.join(timeout=30)
    assert (proc.returncode, out.decode(), err.decode()) == ref and ref[0] == 1
    expected = (tmp_path / "ref.jsonl").read_text(encoding="utf-8").replace(str(plain), str(pipe))
    assert (tmp_path / "got.jsonl").read_text(encoding="utf-8") == expected
