"""JSON lines that do not travel: ``check --dask ... --format json --output FILE`` on workers that share
the output's folder (``engine.dask.spool``).

Each worker writes its partition's lines into a part beside the output and the client appends the
parts in input order.  The output must be the local run's, byte for byte, whatever happens: the parts
are gone after the run (including one that fails, is interrupted or loses a worker), standard output
and workers that cannot see the folder keep the old path, where the lines travel to the client."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from engine.dask.decide import decide_part
from engine.dask.inputs import find_parts
from engine.dask.rulebook import rulebook_spec
from engine.dask.spool import APPENDED, ENV, PREFIX, Place, Spool, append_file, deliver, shared_output, write_part
from tests.dask.conftest import SPY

from .conftest import check_killing_a_worker, run, start_cluster
from .test_dask import RB, ROOT, write_feed

RECORDS = 10_000


@pytest.fixture(scope="module")
def feed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """10,000 generated applicants over five files with broken, blank, CRLF and BOM lines (about
    1.2 MB each: two byte ranges per file on the command line's 1 MiB blocks)."""
    root = tmp_path_factory.mktemp("shared")
    files = write_feed(root / "feed", RECORDS)
    return root, files


@pytest.fixture
def in_feed(feed: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The feed's files by absolute path, the current folder an empty one for the outputs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV, raising=False)
    return [str(feed[0] / f) for f in feed[1]]


@pytest.fixture
def appended(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The partitions whose lines the workers wrote beside the output, in order, (name, size) each:
    the parts the client appends (with a scheduler's address) or, where workers append at their turn
    (``local:N``), what each partition's task says it did (``APPENDED`` or its part)."""
    calls: list[tuple[str, int]] = []
    original = Spool.append
    settle = Spool.settle

    def append(self: Spool, part: tuple[str, int], fd: int) -> None:
        calls.append(part)
        original(self, part, fd)

    def settled(self: Spool, index: int, fd: int, part: tuple[str, int] | None, write: Any) -> None:
        if part is not None:
            calls.append(part)
        settle(self, index, fd, part, write)

    monkeypatch.setattr(Spool, "append", append)
    monkeypatch.setattr(Spool, "settle", settled)
    return calls


@pytest.fixture(scope="module")
def local_bytes(feed: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str]:
    """The local run's output and summary (``--jobs 1``, English)."""
    out = tmp_path_factory.mktemp("local") / "local.jsonl"
    files = [str(feed[0] / f) for f in feed[1]]
    code, stdout, stderr = run(
        "check", RB, *files, "--format", "json", "--lang", "en", "--jobs", "1", "--output", str(out)
    )
    assert code == 1 and stdout == ""
    return out.read_bytes(), stderr


def leftovers(folder: Path) -> list[str]:
    """What a run left in ``folder`` besides its outputs: parts, their folders, half-written reports."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith((PREFIX, ".")) or "part-" in p.name)


def test_local_workers_append_their_lines_at_their_turn(
    in_feed: list[str], tmp_path: Path, appended: list[tuple[str, int]], local_bytes: tuple[bytes, str]
) -> None:
    """``--dask local:N`` to a file: every partition's lines are written by its worker (none travels),
    appended at their turn or as a part, in input order into exactly the local output; the summary
    and exit code are the local run's, and nothing is left beside the output."""
    expected, summary = local_bytes
    code, out, err = run(
        "check", RB, *in_feed, "--format", "json", "--lang", "en", "--output", "d.jsonl", "--dask", "local:2"
    )
    assert (code, out, err) == (1, "", summary)
    got = (tmp_path / "d.jsonl").read_bytes()
    assert got == expected
    assert len(appended) >= 10  # two byte ranges per file at least
    assert sum(size for _name, size in appended) == len(got)
    parts = [name for name, _size in appended if name != APPENDED]
    assert len(set(parts)) == len(parts)
    assert leftovers(tmp_path) == []


def test_an_address_has_parts_only_when_asked(
    client: Client,
    in_feed: list[str],
    tmp_path: Path,
    appended: list[tuple[str, int]],
    local_bytes: tuple[bytes, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A scheduler's address may name workers on other machines: their lines travel unless
    ``RULEBOOK_DASK_SHARED_OUTPUT=1``; either way the output is the local one."""
    expected, summary = local_bytes
    argv = ("check", RB, *in_feed, "--format", "json", "--lang", "en", "--dask", client.scheduler.address)
    assert run(*argv, "--output", "sent.jsonl") == (1, "", summary)
    assert appended == []
    assert (tmp_path / "sent.jsonl").read_bytes() == expected
    monkeypatch.setenv(ENV, "1")
    assert run(*argv, "--output", "shared.jsonl") == (1, "", summary)
    assert len(appended) >= 10  # a scheduler on loopback: the workers append at their turn
    assert (tmp_path / "shared.jsonl").read_bytes() == expected
    assert leftovers(tmp_path) == []
    # a scheduler elsewhere (as the command sees it): the client appends every part, none at a turn
    monkeypatch.setattr("engine.dask.cli.on_this_machine", lambda _address: False)
    before = len(appended)
    assert run(*argv, "--output", "remote.jsonl") == (1, "", summary)
    assert len(appended) - before >= 10 and all(name.startswith("part-") for name, _ in appended[before:])
    assert (tmp_path / "remote.jsonl").read_bytes() == expected
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("local:2", True),
        ("tcp://127.0.0.1:8786", True),
        ("127.0.0.1:8786", True),
        ("tls://127.0.0.5:8786", True),
        ("tcp://[::1]:8786", True),
        ("tcp://localhost:8786", True),
        ("tcp://10.0.0.1:8786", False),
        ("tcp://scheduler.example.org:8786", False),
        ("tcp://[::1", False),
    ],
)
def test_workers_append_at_their_turn_only_on_this_machine(address: str, expected: bool) -> None:
    from engine.dask.cli import on_this_machine

    assert on_this_machine(address) is expected


def test_local_workers_send_their_lines_when_told_to(
    tmp_path: Path, appended: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``RULEBOOK_DASK_SHARED_OUTPUT=0`` keeps the lines travelling with ``local:N`` too."""
    monkeypatch.setenv(ENV, "0")
    monkeypatch.chdir(ROOT)
    out = tmp_path / "d.jsonl"
    code, _out, err = run(
        "check", RB, "examples/applicants.jsonl", "--format", "json", "--output", str(out), "--dask", "local:2"
    )
    assert code == 1, err
    local = run("check", RB, "examples/applicants.jsonl", "--format", "json")
    assert out.read_text(encoding="utf-8") == local[1]
    assert appended == []
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("lang", "words"), [("en", "expected `1` or `0`"), ("zh", "应为 `1` 或 `0`")])
def test_a_setting_that_is_not_1_or_0_is_a_usage_error(
    lang: str, words: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV, "sometimes")
    monkeypatch.chdir(ROOT)
    out = tmp_path / "d.jsonl"
    code, stdout, err = run(
        "check", RB, "examples/applicants.jsonl", "--output", str(out), "--dask", "local:2", "--lang", lang
    )
    assert code == 2 and stdout == ""
    assert f"`{ENV}=sometimes`" in err and words in err and "error[dask.shared-output]" in err
    assert "Traceback" not in err
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("where", "stop", "code"),
    [
        ("local:2", KeyboardInterrupt(), 130),
        ("address", OSError(errno.ENOSPC, "No space left on device"), 2),
    ],
    ids=["interrupted-local", "disk-full-address"],
)
def test_parts_are_removed_when_the_run_stops(
    where: str,
    stop: BaseException,
    code: int,
    client: Client,
    in_feed: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run stops while appending its second part (Ctrl-C; a full disk): no output, no part and
    no folder of parts is left, including the parts that workers had written ahead."""
    monkeypatch.setenv(ENV, "1")
    folders: list[str] = []
    original = Spool.append
    settle = Spool.settle

    def append(self: Spool, part: tuple[str, int], fd: int) -> None:
        folders.append(self.folder)
        if len(folders) == 2:
            assert len([n for n in os.listdir(self.folder) if n.startswith("part-")]) >= 1
            raise stop
        original(self, part, fd)

    def settled(self: Spool, index: int, fd: int, part: tuple[str, int] | None, write: Any) -> None:
        folders.append(self.folder)
        if len(folders) == 2:  # at their turn, the workers appended what they could (or wrote parts)
            assert part is not None and os.path.getsize(self.output or "") > 0
            raise stop
        settle(self, index, fd, part, write)

    monkeypatch.setattr(Spool, "append", append)
    monkeypatch.setattr(Spool, "settle", settled)
    address = "local:2" if where == "local:2" else client.scheduler.address
    got, out, err = run("check", RB, *in_feed, "--format", "json", "--output", "d.jsonl", "--dask", address)
    assert (got, out) == (code, ""), err
    assert len(folders) == 2 and not os.path.exists(folders[0])
    assert os.path.dirname(folders[0]) == str(tmp_path)
    assert not (tmp_path / "d.jsonl").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("chain", [False, True], ids=["client-appends", "at-their-turn"])
def test_a_worker_killed_mid_run_loses_and_duplicates_no_part(
    chain: bool,
    in_feed: list[str],
    tmp_path: Path,
    appended: list[tuple[str, int]],
    local_bytes: tuple[bytes, str],
) -> None:
    """SIGKILL to a worker once the first part is appended: Dask runs its partitions again (a part
    it was writing is left in the folder, never appended; lines it was appending at its turn are
    cut off by the next task to append), and the output is the local one, byte for byte; the
    folder of parts goes with the run."""

    def appended_by_then(block: Any) -> None:
        assert block.text is None  # its lines were appended by a worker or from a part

    target = tmp_path / "out.jsonl"
    with start_cluster() as cluster, Client(cluster) as client, target.open("w", encoding="utf-8") as out:
        killed = check_killing_a_worker(
            client, out, RB, in_feed, "en", on_block=appended_by_then, shared=True, chain=chain
        )
    assert killed
    assert target.read_bytes() == local_bytes[0]
    assert len(appended) >= 10 and sum(size for _n, size in appended) == target.stat().st_size
    assert leftovers(tmp_path) == []


def test_standard_output_keeps_the_lines_travelling(
    client: Client, in_feed: list[str], tmp_path: Path, local_bytes: tuple[bytes, str]
) -> None:
    """``rulebook check ... --dask ADDRESS > FILE`` with ``RULEBOOK_DASK_SHARED_OUTPUT=1``: standard
    output is a regular file here, but the command's own output, so the lines travel to the client
    as before (no part), and the bytes are the local ones; with ``--output`` the same command
    appends parts."""
    expected, _summary = local_bytes
    spy = tmp_path / "spy.py"
    spy.write_text(SPY, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), ENV: "1"}
    address = client.scheduler.address
    argv = [sys.executable, str(spy), "check", RB, *in_feed, "--format", "json", "--lang", "en", "--dask", address]
    redirected = tmp_path / "stdout.jsonl"
    with redirected.open("wb") as stdout:
        done = subprocess.run(argv, stdout=stdout, stderr=subprocess.PIPE, env=env, check=False, timeout=300)
    assert done.returncode == 1, done.stderr.decode()
    assert done.stderr.decode().splitlines()[-1] == "appended 0"
    assert redirected.read_bytes() == expected
    done = subprocess.run(
        [*argv, "--output", "out.jsonl"], capture_output=True, env=env, check=False, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr.decode()
    last = done.stderr.decode().splitlines()[-1]
    assert last.startswith("appended ") and int(last.split()[1]) >= 10
    assert (tmp_path / "out.jsonl").read_bytes() == expected
    assert leftovers(tmp_path) == []


# -- the parts, without a cluster --------------------------------------------------------------------------------


@pytest.fixture
def spool(tmp_path: Path) -> Any:
    with (tmp_path / "out.jsonl").open("wb") as out:
        made = Spool.beside(out.fileno())
        assert made is not None
        yield made, out
        made.close()


def test_a_worker_writes_a_part_only_where_it_finds_the_token(spool: Any, tmp_path: Path) -> None:
    made, _out = spool
    assert os.path.dirname(made.folder) == str(tmp_path)
    name, size = write_part(made.where, "一行\n".encode())
    assert size == len("一行\n".encode()) and Path(made.folder, name).read_bytes() == "一行\n".encode()
    before = sorted(os.listdir(made.folder))
    assert write_part((made.folder, "0" * 32), b"x\n") is None  # another folder that happens to have this path
    assert write_part((str(tmp_path / "elsewhere"), made.token), b"x\n") is None  # not seen here
    assert sorted(os.listdir(made.folder)) == before
    made.close()
    assert not os.path.exists(made.folder)
    assert write_part(made.where, b"x\n") is None  # a task still running once the run has ended


def test_only_a_regular_file_that_is_not_standard_output_has_parts(tmp_path: Path) -> None:
    read, write = os.pipe()
    try:
        assert Spool.beside(write) is None
    finally:
        os.close(read)
        os.close(write)
    with (tmp_path / "out.jsonl").open("wb") as out:
        saved = os.dup(1)
        try:
            os.dup2(out.fileno(), 1)  # the command's standard output redirected to this file
            assert Spool.beside(out.fileno()) is None
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        made = Spool.beside(out.fileno())
        assert made is not None
        made.close()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("how", ["copy_file_range", "read-write", "append-mode"])
def test_parts_are_appended_at_the_end_and_deleted(how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In the kernel, without ``os.copy_file_range``, and into an output opened for appending (which
    ``copy_file_range`` refuses): the same bytes after what the output held, the part deleted."""
    if how == "read-write":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"before\n")
    data = [bytes(range(256)) * 9000, "第二部分\n".encode() * 3]  # more than the MiB read at a time
    with target.open("ab" if how == "append-mode" else "r+b") as out:
        out.seek(0, os.SEEK_END)
        made = Spool.beside(out.fileno())
        assert made is not None
        try:
            for chunk in data:
                part = write_part(made.where, chunk)
                assert part is not None
                made.append(part, out.fileno())
                assert not Path(made.folder, part[0]).exists()
        finally:
            made.close()
    assert target.read_bytes() == b"before\n" + b"".join(data)


def test_a_part_of_another_size_is_never_appended(spool: Any) -> None:
    made, out = spool
    name, size = write_part(made.where, b"0123456789\n")
    with pytest.raises(RuntimeError, match="11"):
        made.append((name, size + 1), out.fileno())
    with pytest.raises(RuntimeError, match="not a part"):
        made.append(("../out.jsonl", 0), out.fileno())
    src = os.open(os.path.join(made.folder, name), os.O_RDONLY)
    try:
        with pytest.raises(RuntimeError, match="ended after 11 bytes"):
            append_file(src, out.fileno(), 20)
    finally:
        os.close(src)


def test_a_partition_goes_into_a_part_or_comes_back_as_bytes(spool: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's side: the part holds the very bytes the partition's block would carry; a worker
    that does not find the token sends them."""
    made, _out = spool
    monkeypatch.chdir(ROOT)
    part = find_parts(["examples/applicants.jsonl"], None)[0]
    spec, _built = rulebook_spec(RB)
    sent = decide_part(part, 0, spec, None, "en", "block", None, None)
    assert isinstance(sent.payload.text, bytes) and sent.spooled is None
    written = decide_part(part, 0, spec, None, "en", "block", None, None, made.where)
    assert written.payload.text is None and written.spooled is not None
    name, size = written.spooled
    assert Path(made.folder, name).read_bytes() == sent.payload.text and size == len(sent.payload.text)
    assert written.payload.outcomes == sent.payload.outcomes and written.count == sent.count == 20
    elsewhere = decide_part(part, 0, spec, None, "en", "block", None, None, (made.folder, "f" * 32))
    assert elsewhere.payload.text == sent.payload.text and elsewhere.spooled is None


@pytest.mark.parametrize(
    ("address", "value", "expected"),
    [
        ("local:2", None, True),
        ("local:2", "0", False),
        ("local:2", "off", False),
        ("tcp://10.0.0.1:8786", None, False),
        ("tcp://10.0.0.1:8786", "1", True),
        ("tcp://10.0.0.1:8786", " yes ", True),
        ("tcp://10.0.0.1:8786", "", False),
    ],
)
def test_which_runs_have_parts(address: str, value: str | None, expected: bool) -> None:
    assert shared_output(address, {} if value is None else {ENV: value}) is expected


# -- appending at one's turn, without a cluster ------------------------------------------------------------------


@pytest.fixture
def chained(tmp_path: Path) -> Any:
    """A run's folder whose workers append at their turn, after what the output already held."""
    with (tmp_path / "out.jsonl").open("wb") as out:
        out.write(b"before\n")
        out.flush()
        made = Spool.beside(out.fileno(), chain=True)
        assert made is not None and made.chained
        yield made, out
        made.close()


def settle(made: Spool, out: Any, index: int, part: tuple[str, int] | None, lines: bytes = b"") -> None:
    made.settle(index, out.fileno(), part, lambda: os.write(out.fileno(), lines))


def test_partitions_in_order_append_at_their_turn_and_leave_no_part(chained: Any, tmp_path: Path) -> None:
    made, out = chained
    data = [b"zero\n", "一\n".encode(), b"", b"three\n"]
    for i, chunk in enumerate(data):
        assert deliver(made.place(i), chunk) == (APPENDED, len(chunk))
    assert [n for n in os.listdir(made.folder) if n.startswith("part-")] == []
    for i, chunk in enumerate(data):
        settle(made, out, i, (APPENDED, len(chunk)))
    assert os.lseek(out.fileno(), 0, os.SEEK_CUR) == (tmp_path / "out.jsonl").stat().st_size
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\n" + b"".join(data)


def test_partitions_out_of_order_wait_as_parts_for_the_one_before(chained: Any, tmp_path: Path) -> None:
    """Partitions 2 and 1 finish before 0: they wait as parts; 0 appends itself and both after it."""
    made, out = chained
    assert deliver(made.place(2), b"two\n") == ("part-2", 4)
    assert deliver(made.place(1), b"one\n") == ("part-1", 4)
    assert sorted(n for n in os.listdir(made.folder) if n.startswith("part-")) == ["part-1", "part-2"]
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\n"
    assert deliver(made.place(0), b"zero\n") == (APPENDED, 5)
    assert [n for n in os.listdir(made.folder) if n.startswith("part-")] == []
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\none\ntwo\n"
    assert deliver(made.place(4), b"four\n") == ("part-4", 5)  # 3's lines come back to the client
    for i, part in enumerate([(APPENDED, 5), ("part-1", 4), ("part-2", 4)]):
        settle(made, out, i, part)
    settle(made, out, 3, None, b"three\n")  # and the client appends 4 after them
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\none\ntwo\nthree\nfour\n"
    assert os.lseek(out.fileno(), 0, os.SEEK_CUR) == len(b"before\nzero\none\ntwo\nthree\nfour\n")
    settle(made, out, 4, ("part-4", 5))
    assert [n for n in os.listdir(made.folder) if n.startswith("part-")] == []


def test_a_task_killed_while_appending_is_cut_off_and_a_task_run_twice_appends_nothing(
    chained: Any, tmp_path: Path
) -> None:
    made, _out = chained
    assert deliver(made.place(0), b"zero\n") == (APPENDED, 5)
    with (tmp_path / "out.jsonl").open("ab") as half:  # a task killed halfway through partition 1
        half.write(b"on")
    assert deliver(made.place(0), b"zero\n") == (APPENDED, 5)  # partition 0 again: its turn has passed
    assert deliver(made.place(1), b"one\n") == (APPENDED, 4)
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\none\n"
    assert deliver(made.place(3), b"three\n") == ("part-3", 6)
    assert deliver(made.place(3), b"three\n") == ("part-3", 6)  # run twice before its turn: one part
    with (tmp_path / "out.jsonl").open("ab") as half:
        half.write(b"tw")
    assert deliver(made.place(2), b"two\n") == (APPENDED, 4)
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\none\ntwo\nthree\n"


def test_the_client_refuses_a_missing_part_or_a_gap(chained: Any) -> None:
    made, out = chained
    with pytest.raises(RuntimeError, match="partition 0 is not in the output before partition 1"):
        settle(made, out, 1, (APPENDED, 4))
    with pytest.raises(RuntimeError, match="a worker's part is missing"):
        settle(made, out, 0, ("part-0", 4))


def test_a_worker_that_does_not_find_the_run_or_its_output_sends_its_lines(chained: Any, tmp_path: Path) -> None:
    made, out = chained
    place = made.place(0)
    assert deliver(place._replace(token="0" * 32), b"x\n") is None  # another folder that happens to have this path
    assert deliver(place._replace(folder=str(tmp_path / "elsewhere")), b"x\n") is None  # not seen here
    (tmp_path / "other.jsonl").write_bytes(b"")
    moved = place._replace(output=str(tmp_path / "other.jsonl"))  # the path names another file now
    assert deliver(moved, b"zero\n") == ("part-0", 5)  # waits for the client, who has the output
    assert (tmp_path / "other.jsonl").read_bytes() == b""
    settle(made, out, 0, ("part-0", 5))
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\n"
    made.close()
    assert deliver(made.place(1), b"one\n") is None  # a task still running once the run has ended


def test_a_place_is_what_a_task_is_sent(chained: Any, tmp_path: Path) -> None:
    made, _out = chained
    place = made.place(7)
    assert isinstance(place, Place) and place.partition == 7
    assert place.output == str(tmp_path / "out.jsonl")
    st = (tmp_path / "out.jsonl").stat()
    assert place.ident == (st.st_dev, st.st_ino)
    assert not Spool(made.folder, made.token).chained
    plain = Spool.beside(_out.fileno())
    assert plain is not None and not plain.chained and plain.place(7).output is None
    plain.close()


def test_a_worker_that_cannot_append_leaves_the_output_as_it_was(
    chained: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while appending at its turn: what was written is cut off again, and the lines go
    into a part (appended from there, here in the kernel) or, when that fails too, to the client."""
    made, out = chained
    real = os.pwrite
    calls: list[int] = []

    def full(fd: int, data: Any, offset: int) -> int:
        if calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        calls.append(offset)
        return real(fd, bytes(data)[:3], offset)  # a short write, then the disk is full

    monkeypatch.setattr(os, "pwrite", full)
    assert deliver(made.place(0), b"zero\n") == ("part-0", 5)
    assert calls == [len(b"before\n")]
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\n"  # "zer" cut off, then the part
    assert [n for n in os.listdir(made.folder) if n.startswith("part-")] == []
    monkeypatch.setattr(os, "pwrite", real)
    settle(made, out, 0, ("part-0", 5))
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\n"
    monkeypatch.setattr(tempfile, "mkstemp", lambda **_: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    monkeypatch.setattr(os, "pwrite", full)
    assert deliver(made.place(1), b"one\n") is None
    monkeypatch.setattr(os, "pwrite", real)
    settle(made, out, 1, None, b"one\n")
    assert (tmp_path / "out.jsonl").read_bytes() == b"before\nzero\none\n"


def test_where_flock_fails_the_client_appends_every_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system without ``flock`` (some network ones): no turns, the parts wait for the client."""
    import engine.dask.spool as spool_module

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(spool_module._fcntl, "flock", no_locks)
    with (tmp_path / "out.jsonl").open("wb") as out:
        made = Spool.beside(out.fileno(), chain=True)
        assert made is not None and not made.chained
        part = deliver(made.place(0), b"zero\n")
        assert part is not None and part[0].startswith("part-")
        made.append(part, out.fileno())
        made.close()
    assert (tmp_path / "out.jsonl").read_bytes() == b"zero\n"
