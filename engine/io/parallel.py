"""`check --jobs N`: evaluate records in worker processes, report them in input order.

Compiled rules are Python code objects and cannot be sent to another process,
so each worker makes its own decision object: forked workers inherit the
parent's compiled rulebook, spawned ones rebuild it from the rulebook's name
(the registry builds each file once per process).  The parent reads the
records, sends them in chunks, and keeps only a bounded number of chunks in
flight, so memory stays constant however long the feed is.  A worker returns
each decision as its CONTRACT JSON object (messages and values already filled
in, which is most of the work); the parent wraps it in a :class:`DecisionView`
that the report formats read like a ``Decision``.

JSON Lines in and ``--format json`` out, with no plugin observing decisions,
take a leaner road (:func:`evaluate_blocks`, also for ``--jobs 1``): the
parent finds runs of whole lines (about 256 KiB) and hands each worker the
run's place in the file (file, first line number, offset, length); the
worker reads, parses, decides and writes the run's JSON lines itself when
its turn comes (a shared counter orders the blocks) and sends back only the
summary's counts.  Where processes fork, the workers are plain forked
processes on pipes (no pool threads in the parent), so the parent does little
beyond finding line ends.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import errno
import json
import multiprocessing as mp
import os
import stat
from collections.abc import Generator, Iterable, Iterator
from typing import Any, Literal, cast, overload

from engine.evaluate import InputRef
from engine.model import Outcome, Status

__all__ = ["Block", "DecisionView", "evaluate_blocks", "evaluate_parallel"]

CHUNK = 256
BLOCK_BYTES = 1 << 18  # JSON Lines blocks: about 250 records of 1 KiB

_WORKER: dict[str, Any] = {}


def _init(
    rulebook: str,
    decision: str | None,
    as_of: _dt.date | None,
    lang: str,
    parent_decision: Any,
    enforcement: str | None = None,
) -> None:
    import signal

    # Ctrl-C is the parent's to handle (it stops the workers): no worker prints a traceback for it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_decision is not None:  # forked: the parent's compiled decision is already here
        _WORKER["decision"] = parent_decision
    else:  # spawned: build it again from the rulebook's name
        from engine.registry import Registry

        _WORKER["decision"] = (
            Registry.default().decision(rulebook, decision, as_of)[2].with_schema_enforcement(enforcement)
        )
    _WORKER["as_of"] = as_of
    _WORKER["lang"] = lang


def _summary(d: Any) -> tuple[str, tuple[tuple[str, str, str, str], ...]]:
    """What the parent's counts need: the outcome and the rules that did not pass."""
    return str(d.outcome), tuple(
        (r.id, str(r.status), str(r.severity), r.spec.cite) for r in d.rules if r.status in ("fail", "error")
    )


def _work(chunk: list[tuple[InputRef, Any]]) -> list[tuple[Any, ...]]:
    """Each record's decision as (JSON line, outcome, rules not passing); a string is far cheaper
    to send back than a dict.  Raw JSON lines are parsed here, in the worker."""
    from engine.io.records import BadRecord, parse_json_line

    decision = _WORKER["decision"]
    as_of = _WORKER["as_of"]
    lang = _WORKER["lang"]
    out: list[tuple[Any, ...]] = []
    for ref, item in chunk:
        record = parse_json_line(item) if item.__class__ is str or item.__class__ is bytes else item
        if isinstance(record, BadRecord):
            out.append(("bad", record))
            continue
        d = decision.evaluate(record, as_of, ref)
        name = record.get("name")  # what the text and HTML reports show beside the id
        out.append(("ok", d.to_json_text(lang), *_summary(d), name if isinstance(name, str) else None))
    return out


class _RuleView:
    """One rule's result read back from JSON, with its spec from the parent's rulebook."""

    __slots__ = ("_json", "record", "spec")

    def __init__(self, data: dict[str, Any], spec: Any, record: Any) -> None:
        self._json = data
        self.spec = spec
        self.record = record

    @property
    def id(self) -> str:
        return str(self._json["id"])

    @property
    def status(self) -> Status:
        return Status(self._json["status"])

    @property
    def severity(self) -> str:
        return str(self._json["severity"])

    @property
    def values(self) -> dict[str, Any]:
        return dict(self._json.get("values") or {})

    @property
    def waiver(self) -> dict[str, Any] | None:
        return self._json.get("waiver")

    @property
    def waiver_unused(self) -> bool:
        w = self._json.get("waiver")
        return bool(w and w.get("unused"))

    @property
    def error(self) -> Any:
        err = self._json.get("error")
        if err is None:
            return None
        from engine.errors import EvalError
        from engine.messages import Text

        text = err["message"]  # written in the report's language already: the same in either
        return EvalError(err["code"], Text(text, text), err.get("path"))

    def message(self, lang: str = "zh") -> str | None:
        return self._json.get("message")

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return self._json


class DecisionView:
    """A decision computed in a worker, as its JSON line, readable like a ``Decision``.

    ``json_line`` is what the JSON format writes as it is; the other
    attributes parse it on first use.
    """

    def __init__(
        self,
        line: str,
        outcome: str,
        failing: tuple[tuple[str, str, str, str], ...],
        specs: dict[tuple[str, str, str], Any],
        record: Any,
    ) -> None:
        self.json_line = line
        self.failing = failing  # (rule id, status, severity, cite) of the rules that did not pass
        self._outcome = Outcome(outcome)
        self._specs = specs
        self._record = record
        self._parsed = False
        if '"schema": [' not in line:
            self.schema: list[dict[str, Any]] = []  # else read from the line when first asked

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self._parsed:
            raise AttributeError(name)
        self._parse()
        return getattr(self, name)

    def _parse(self) -> None:
        data: dict[str, Any] = json.loads(self.json_line)
        specs, record = self._specs, self._record
        self._parsed = True
        self._json = data
        self.rulebook = data["rulebook"]
        self.version = data["version"]
        self.decision = data["decision"]
        self.record_id = data["record"]
        inp = data.get("input")
        self.input = InputRef(inp["file"], inp["line"], inp.get("sheet")) if inp else None
        self.as_of = _dt.date.fromisoformat(data["as_of"]) if data.get("as_of") else None
        self.outputs = data.get("outputs") or {}
        self.output_errors: dict[str, Any] = {}
        self.message = data.get("message")
        self.schema = data.get("schema") or []
        self.rules = [_RuleView(r, specs.get((self.version, self.decision, r["id"])), record) for r in data["rules"]]

    @property
    def outcome(self) -> Outcome:
        return self._outcome

    def rule(self, rule_id: str) -> _RuleView | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        if not self._parsed:
            self._parse()
        return self._json


def _specs(decision: Any) -> dict[tuple[str, str, str], Any]:
    """Rule specs by (version, decision, rule id), for a decision or a versioned decision."""
    versions = getattr(decision, "versions", None)
    compiled = [d for _e, d in versions] if versions is not None else [decision]
    return {(d.book.version, d.name, r.spec.id): r.spec for d in compiled for r in d.rules}


def evaluate_parallel(
    records: Iterable[tuple[InputRef, Any]],
    decision: Any,
    *,
    rulebook: str,
    decision_name: str | None,
    as_of: _dt.date | None,
    lang: str,
    jobs: int,
) -> Iterator[tuple[InputRef, Any, Any]]:
    """``(ref, record, decision view)`` for each readable record, in input order; records that
    could not be read pass through as ``(ref, bad record, None)`` at their place."""
    from engine.io.records import BadRecord

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    parent = decision if method == "fork" else None
    specs = _specs(decision)
    initargs = (rulebook, decision_name, as_of, lang, parent, getattr(decision, "enforcement_override", None))

    def chunks() -> Iterator[list[tuple[InputRef, Any]]]:
        chunk: list[tuple[InputRef, Any]] = []
        for item in records:
            chunk.append(item)
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def views(items: list[tuple[InputRef, Any]], results: list[tuple[Any, ...]]) -> Iterator[tuple[InputRef, Any, Any]]:
        for (ref, rec), res in zip(items, results, strict=True):  # one result for each record
            if res[0] == "bad" or isinstance(rec, BadRecord):
                yield ref, res[1] if res[0] == "bad" else rec, None
            else:
                shown = rec if isinstance(rec, dict) else ({"name": res[4]} if res[4] else {})
                yield ref, rec, DecisionView(res[1], res[2], res[3], specs, shown)

    if method == "fork":
        # Forked workers on pipes, as for blocks: a pool's threads could not be stopped when the
        # run ends early (a closed output) while tasks still fill the pipe to its workers.
        held: collections.deque[list[tuple[InputRef, Any]]] = collections.deque()

        def tasks() -> Iterator[tuple[int, list[tuple[InputRef, Any]]]]:
            for seq, items in enumerate(chunks()):
                held.append(items)
                yield seq, items

        for results in _forked(ctx, jobs, tasks(), initargs, init=_init, work=_work_task, small=lambda _t: False):
            yield from views(held.popleft(), results)
        return
    pending: collections.deque[tuple[Any, list[tuple[InputRef, Any]]]] = collections.deque()
    in_flight = max(2, 2 * jobs)
    with ctx.Pool(jobs, initializer=_init, initargs=initargs) as pool:
        for items in chunks():
            pending.append((pool.apply_async(_work, (items,)), items))
            while len(pending) > in_flight:
                result, done = pending.popleft()
                yield from views(done, result.get())
        while pending:
            result, done = pending.popleft()
            yield from views(done, result.get())


def default_jobs(files: list[str]) -> int:
    """All cores for inputs of a megabyte or more; one for small files and standard input."""
    try:
        size = sum(os.path.getsize(f) for f in files if f != "-")
    except OSError:
        return 1
    if "-" in files or size < (1 << 20):
        return 1
    return max(1, os.cpu_count() or 1)


# -- JSON Lines in, JSON Lines out: blocks of records -----------------------------------------------------


class Block:
    """The JSON lines of a run of records (``text``: ``str``, or UTF-8 ``bytes`` from a worker
    process) and what the report's summary counts of them; ``file`` is the input they come
    from and ``blank`` the blank lines skipped among them."""

    __slots__ = (
        "blank",
        "count",
        "failures",
        "file",
        "outcomes",
        "schema_problems",
        "schema_records",
        "text",
        "warnings",
    )

    def __init__(
        self,
        text: str | bytes,
        count: int,
        outcomes: dict[str, int],
        failures: dict[tuple[str, str, str], int],
        warnings: int,
        schema_records: int = 0,
        schema_problems: dict[str, int] | None = None,
    ) -> None:
        self.text: str | bytes | None = text  # None once written to the output
        self.count = count
        self.outcomes = outcomes
        self.failures = failures
        self.warnings = warnings
        self.schema_records = schema_records
        self.schema_problems = schema_problems or {}
        self.file = ""
        self.blank = 0


def _block(
    decision: Any,
    as_of: _dt.date | None,
    lang: str,
    label: tuple[str, str],
    chunk: tuple[str, int, list[Any]],
    encode: bool,
) -> Block:
    """Decide the records of ``chunk`` (file, number of its first line, lines): one JSON line each,
    as the JSON report writes them (a line that is not a record: its error object)."""
    from engine.io.records import BadRecord, parse_json_line
    from engine.io.report import Summary, error_object

    path, number, lines = chunk
    summary = Summary()
    add = summary.add
    # decisions alike for the summary (same compiled decision, statuses and outcome) are counted
    # once per block: the summary of one of them, times how many there were
    alike: dict[Any, list[Any]] = {}
    evaluate = decision.evaluate
    out: list[Any] = []  # the lines: UTF-8 bytes if ``encode``, else text
    append = out.append
    count = blank = 0
    for line in lines:
        number += 1
        if not line or line.isspace():
            blank += 1
            continue
        ref = InputRef(path, number - 1)
        record = parse_json_line(line)
        count += 1
        if isinstance(record, BadRecord):
            message = record.message_zh if lang == "zh" else record.message
            summary.outcomes["error"] += 1
            text = json.dumps(error_object(label[0], label[1], decision.name, ref, message), ensure_ascii=False)
            append(text.encode("utf-8") if encode else text)
            continue
        d = evaluate(record, as_of, ref)
        compiled = getattr(d, "_cd", None)
        if compiled is not None and not d.schema:
            key = (compiled, d.status_tuple, d.outcome)
            seen = alike.get(key)
            if seen is None:
                alike[key] = [d, 1]
            else:
                seen[1] += 1
        else:
            add(d)
        append(d.to_json_bytes(lang) if encode else d.to_json_text(lang))
    for d, n in alike.values():
        one = Summary()
        one.add(d)
        for outcome, v in one.outcomes.items():
            summary.outcomes[outcome] += v * n
        for failure, v in one.failures.items():
            summary.failures[failure] += v * n
        summary.warnings += one.warnings * n
    if out:  # one join, the last line's newline included
        out.append(b"" if encode else "")
    joined = b"\n".join(out) if encode else "\n".join(out)
    block = Block(
        joined,
        count,
        dict(summary.outcomes),
        dict(summary.failures),
        summary.warnings,
        summary.schema_records,
        dict(summary.schema_problems),
    )
    block.file = path
    block.blank = blank
    return block


def _work_block(task: tuple[int, tuple[str, int, Any] | tuple[str, int, int, int]]) -> Block:
    seq, chunk = task
    if len(chunk) == 4:  # a span of a regular file, read here: (file, first line, offset, length)
        from engine.io.records import split_lines

        path, number, offset, length = chunk
        fds = _WORKER.setdefault("fds", {})
        fd = fds.get(path)
        if fd is None:
            fd = fds[path] = os.open(path, os.O_RDONLY)
        data = os.pread(fd, length, offset)
        while len(data) < length:  # a short read: the rest
            more = os.pread(fd, length - len(data), offset + len(data))
            if not more:
                break
            data += more
        chunk = (path, number, split_lines(data))
    block = _block(_WORKER["decision"], _WORKER["as_of"], _WORKER["lang"], _WORKER["label"], chunk, True)
    out = _WORKER.get("out")
    if out is not None:  # the worker writes its lines itself when every block before it is written
        fd, turn, lock = out
        with lock:
            if turn.value == seq:
                _write_all(fd, cast(bytes, block.text))  # a worker's lines are UTF-8 (a closed output: BrokenPipeError)
                turn.value = seq + 1
                block.text = None
    return block


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _init_blocks(
    rulebook: str,
    decision: str | None,
    as_of: _dt.date | None,
    lang: str,
    parent_decision: Any,
    label: tuple[str, str],
    out: Any,
    enforcement: str | None = None,
) -> None:
    _init(rulebook, decision, as_of, lang, parent_decision, enforcement)
    _WORKER["label"] = label
    _WORKER["out"] = out


def _runs(f: Any, size: int, offset: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """A binary file, from ``offset`` where it stands, in runs of whole lines of about ``size``
    bytes: (number of the run's first line, its offset in the file, its bytes).  A line longer
    than ``size`` is one run."""
    number = 1
    held: list[bytes] = []  # the start of a line that did not end in what was read
    while True:
        data = f.read(size)
        if not data:
            if held:
                run = b"".join(held)
                yield number, offset, run
            return
        cut = data.rfind(b"\n") + 1
        if not cut:
            held.append(data)
            continue
        if held:
            held.append(data[:cut])
            run = b"".join(held)
            held = []
        else:
            run = data if cut == len(data) else data[:cut]
        if cut < len(data):
            held.append(data[cut:])
        yield number, offset, run
        number += run.count(b"\n")
        offset += len(run)


@overload
def _chunks(path: str, size: int, spans: Literal[False] = False) -> Iterator[tuple[str, int, list[Any]]]: ...


@overload
def _chunks(path: str, size: int, spans: bool) -> Iterator[tuple[str, int, list[Any]] | tuple[str, int, int, int]]: ...


def _chunks(
    path: str, size: int, spans: bool = False
) -> Iterator[tuple[str, int, list[Any]] | tuple[str, int, int, int]]:
    """The lines of a JSON Lines file (as bytes, without line feeds) in runs of about ``size``
    bytes of whole lines, as (file, first line number, lines).  ``spans``: for a regular file,
    (file, first line number, offset, length) instead, for a worker to read the run itself."""
    from engine.io.records import input_error, open_jsonl, split_lines

    try:
        with open_jsonl(path) as f:
            spans = spans and stat.S_ISREG(os.fstat(f.fileno()).st_mode)  # a pipe has no offsets
            for number, offset, run in _runs(f, size, f.tell() if spans else 0):
                yield (path, number, offset, len(run)) if spans else (path, number, split_lines(run))
    except OSError as e:
        raise input_error(path, e) from None


def _compile_ahead(decision: Any) -> None:
    """Compile each version's decision functions and JSON trace now (else on first use)."""
    versions = getattr(decision, "versions", None)
    for compiled in [d for _e, d in versions] if versions is not None else [decision]:
        with contextlib.suppress(Exception):  # nothing lost: each worker compiles on first use
            compiled.compile_ahead()


def evaluate_blocks(
    files: list[str],
    decision: Any,
    *,
    rulebook: str,
    decision_name: str | None,
    as_of: _dt.date | None,
    lang: str,
    label: tuple[str, str],
    jobs: int,
    out_fd: int | None = None,
) -> Generator[Block, None, None]:
    """The JSON Lines files' records decided and written as JSON lines, in blocks, in input order.

    With ``jobs`` > 1 the parent only reads lines and hands them out: parsing, deciding,
    writing each line and counting for the summary happen in the workers.  Given the
    output's file descriptor (UTF-8, nothing buffered) and forked workers, a worker whose
    block is next in order writes it there itself (a shared counter says which block is
    next), and the parent writes the others when their turn comes: the blocks come back
    without text.  Otherwise their text comes back as UTF-8 bytes.
    """
    import gc

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    if jobs > 1 and method == "fork":
        _compile_ahead(decision)  # here, not once in each forked worker
    # The rulebook, its compiled code and the modules are long-lived: the collector need not look
    # at them again each time a record's garbage is collected (and forked workers share them).
    gc.freeze()
    if jobs <= 1:  # in this process: UTF-8 when it goes straight to the file
        for path in files:
            for chunk in _chunks(path, BLOCK_BYTES):
                yield _block(decision, as_of, lang, label, chunk, out_fd is not None)
        return
    ctx = mp.get_context(method)
    parent = decision if method == "fork" else None
    out = (out_fd, ctx.Value("q", 0, lock=False), ctx.Lock()) if method == "fork" and out_fd is not None else None
    pending: collections.deque[Any] = collections.deque()
    in_flight = max(2, 2 * jobs)

    def done(block: Block) -> Block:
        if out is not None and block.text is not None:  # its worker finished before an earlier block did
            fd, turn, lock = out
            with lock:
                _write_all(fd, cast(bytes, block.text))  # with an output to write to, blocks come back as UTF-8
                turn.value += 1
            block.text = None
        return block

    tasks = (
        (seq, chunk)
        for seq, chunk in enumerate(
            chunk for path in files for chunk in _chunks(path, BLOCK_BYTES, spans=hasattr(os, "pread"))
        )
    )
    if method == "fork":  # forked workers and pipes, nothing else running in this process
        for block in _forked(ctx, jobs, tasks, (rulebook, decision_name, as_of, lang, parent, label, out)):
            yield done(block)
        return
    with ctx.Pool(
        jobs,
        initializer=_init_blocks,
        initargs=(
            rulebook,
            decision_name,
            as_of,
            lang,
            parent,
            label,
            out,
            getattr(decision, "enforcement_override", None),
        ),
    ) as pool:
        for task in tasks:
            pending.append(pool.apply_async(_work_block, (task,)))
            while len(pending) > in_flight:
                yield done(pending.popleft().get())
        while pending:
            yield done(pending.popleft().get())


def _work_task(task: tuple[int, list[tuple[InputRef, Any]]]) -> list[tuple[Any, ...]]:
    return _work(task[1])


def _serve(conn: Any, initargs: tuple[Any, ...], init: Any = None, work: Any = None) -> None:
    """A forked worker: tasks (blocks to decide, by default) come in on ``conn``, each goes
    back as (sequence number, True, what ``work`` made of it), (sequence number, None, None)
    when the output was closed under it (its reader stopped reading), or (sequence number,
    False, what went wrong)."""
    (init or _init_blocks)(*initargs)
    work = work or _work_block
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            conn.send((task[0], True, work(task)))
        except BrokenPipeError:  # the output, not ``conn``: the parent ends the run as a closed pipe
            try:
                conn.send((task[0], None, None))
            except OSError:
                return
        except Exception:  # noqa: BLE001 - a bug, not a record: the parent stops with it
            import traceback

            conn.send((task[0], False, traceback.format_exc()))


def _is_span(task: tuple[int, Any]) -> bool:
    """A task that is a span of a file (file, first line, offset, length): a few bytes to send."""
    return len(task[1]) == 4 and isinstance(task[1][2], int)


def _ended(process: Any) -> RuntimeError:
    process.join(timeout=1)
    return RuntimeError(f"a worker process ended unexpectedly (exit code {process.exitcode})")


def _forked(
    ctx: Any,
    jobs: int,
    tasks: Iterator[tuple[int, Any]],
    initargs: tuple[Any, ...],
    *,
    init: Any = None,
    work: Any = None,
    small: Any = None,
) -> Iterator[Any]:
    """The blocks of ``tasks`` decided by ``jobs`` forked workers, in order.  Each worker has
    at most two blocks at a time, and at most ``4 * jobs`` blocks are out of order (memory
    stays bounded when one block is slow).  Other tasks: ``init`` and ``work`` say what a
    worker does (default: blocks), ``small(task)`` whether a task is sent to a worker that
    is still busy (default: spans of a file, not lines)."""
    from multiprocessing.connection import wait

    workers = []
    try:
        for _ in range(jobs):
            mine, theirs = ctx.Pipe()
            process = ctx.Process(target=_serve, args=(theirs, initargs, init, work), daemon=True)
            process.start()
            theirs.close()
            workers.append((process, mine))
        busy = {conn: 0 for _p, conn in workers}
        by_process = {conn: p for p, conn in workers}
        made: dict[int, Any] = {}  # what ``work`` made of each task, by sequence number
        sent = 0
        following = 0  # the next block to give back
        ahead = next(tasks, None)  # the next task, taken but not sent yet (None: no more)

        def give(conn: Any) -> None:
            nonlocal sent, ahead
            while ahead is not None and busy[conn] < 2 and sent - following < 4 * jobs:
                # A span is a few bytes; lines (from a pipe) may fill the pipe to the worker, and
                # a worker sending a block back cannot read: lines go only to a worker with none.
                if not (small or _is_span)(ahead) and busy[conn]:
                    return
                try:
                    conn.send(ahead)
                except OSError:
                    raise _ended(by_process[conn]) from None
                ahead = next(tasks, None)
                busy[conn] += 1
                sent += 1

        for conn in busy:
            give(conn)
        while following < sent or ahead is not None:
            ready: list[Any] = wait([c for c, n in busy.items() if n])  # the connections given
            for conn in ready:
                try:
                    seq, ok, result = conn.recv()
                except (EOFError, OSError):
                    raise _ended(by_process[conn]) from None
                if ok is None:
                    raise BrokenPipeError(errno.EPIPE, "the output was closed")
                if not ok:
                    raise RuntimeError(f"a worker process failed:\n{result}")
                busy[conn] -= 1
                made[seq] = result
            while following in made:
                yield made.pop(following)
                following += 1
            for conn in busy:
                give(conn)
    except BaseException:  # interrupted, or a worker failed: the others stop now
        for process, _conn in workers:
            if process.is_alive():
                process.terminate()
        raise
    finally:
        for _process, conn in workers:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        for process, _conn in workers:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
