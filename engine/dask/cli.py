"""``rulebook check ... --dask ADDRESS|local:N`` and ``rulebook diff ... --data ... --dask ...``.

The client cuts the inputs into partitions (``engine.dask.inputs``), submits one
task per partition (read, decide, format), and writes the results in input order
as they arrive, with a bounded number of partitions in flight: memory on the client
is a few partitions' worth however long the feed.  A worker that dies takes its
tasks with it; the scheduler runs them again elsewhere, and since a partition's
result is only written when its turn comes, no record is lost or written twice.

JSON lines into an output file the workers can reach (``--dask local:N``, or an
address with ``RULEBOOK_DASK_SHARED_OUTPUT=1``) do not travel: each worker writes
its partition's lines into a part beside the output and the client appends the
parts in input order (``engine.dask.spool``).  ``--output -`` is standard output, where the
lines travel to the client as with no ``--output``.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from engine.dask.decide import PartResult, decide_part, diff_part
from engine.dask.inputs import Part, count_lines, find_parts, line_bases
from engine.dask.rulebook import RulebookSpec, WorkerSetupError, rulebook_spec
from engine.dask.spool import Spool, shared_output
from engine.errors import Diagnostic, UsageError

__all__ = ["connect", "local_cluster", "run_check", "run_diff"]

MIN_BLOCK = 1 << 20
# A partition's JSON lines are about eight times its input (each decision explained rule by rule)
# and travel whole from the worker to the client: ranges of at most 4 MiB keep each result near
# 32 MiB, so that the client (a few partitions in flight) and the workers stay small.
MAX_BLOCK = 4 << 20


def local_cluster(workers: int) -> Any:
    """The cluster of ``--dask local:N``: N worker processes of one thread each on loopback, with no
    dashboard (the scheduler's other HTTP routes on a free loopback port, not on 8787) and without
    the workers' sampling profiler, which only the dashboard shows: it reads every thread's stack
    a hundred times a second, about 5-8% of a worker's time on the engine's partitions."""
    import dask
    from distributed import LocalCluster

    # the workers' configuration is the one in force when their nannies are made, here
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )


@contextlib.contextmanager
def connect(address: str) -> Iterator[Any]:
    """A client of the cluster at ``address``, or of a local cluster of N worker processes for
    ``local:N`` (on loopback, no dashboard), closed (and the local cluster stopped) after."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(Diagnostic.of("dask.not-installed")) from None
    if address.startswith("local:"):
        n = address.removeprefix("local:")
        if not n.isdigit() or int(n) < 1:
            raise UsageError(Diagnostic.of("dask.address", address=address))
        cluster = local_cluster(int(n))
        try:
            # results come straight from the workers, not through the scheduler (here in this process)
            with Client(cluster, direct_to_workers=True) as client:
                yield client
        finally:
            cluster.close()
        return
    if "://" not in address and ":" not in address:
        raise UsageError(Diagnostic.of("dask.address", address=address))
    try:
        client = Client(address, timeout=10)
    except (OSError, TimeoutError) as e:
        raise UsageError(Diagnostic.of("dask.unreachable", address=address, reason=str(e) or type(e).__name__)) from e
    try:
        yield client
    finally:
        client.close()


def on_this_machine(address: str) -> bool:
    """Whether every worker of the cluster at ``address`` runs on this machine: ``local:N``, or a
    scheduler listening on loopback (``127.0.0.0/8``, ``::1``, ``localhost``), which only workers of
    this machine reach."""
    if address.startswith("local:"):
        return True
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = urlsplit(address if "://" in address else f"tcp://{address}").hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _blocksize(parts_bytes: int, workers: int) -> int:
    """About four partitions per worker, each between 1 MiB and 4 MiB."""
    return max(MIN_BLOCK, min(MAX_BLOCK, parts_bytes // max(1, 4 * workers) + 1))


def _plan(client: Any, files: list[str], input_format: str | None) -> tuple[list[Part], list[Any]]:
    """The partitions of the inputs and, for each, the number of lines before it (futures)."""
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    whole = find_parts(files, None, input_format)
    size = 0
    for p in whole:
        with contextlib.suppress(OSError):
            size += p.fs.size(p.path) if p.fmt == "jsonl" else 0
    parts = find_parts(files, _blocksize(size, workers), input_format)
    counted = [client.submit(count_lines, p, pure=True) for p in parts if p.end is not None]
    found = iter(client.gather(counted))
    counts = [next(found) if p.end is not None else 0 for p in parts]
    return parts, line_bases(parts, counts, add_ints)


def add_ints(a: int, b: int) -> int:
    return a + b


class TaskProgress:
    """A bar on standard error that follows the cluster's tasks (partitions done of all), only
    on a terminal; quiet elsewhere."""

    def __init__(self, stderr: IO[str], total: int, lang: str, mode: str) -> None:
        tty = hasattr(stderr, "isatty") and stderr.isatty()
        self._progress: Any = None
        if not tty or mode == "never":
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

        label = "个分区（Dask）" if lang == "zh" else "partitions (Dask)"
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.completed}/{task.total} " + label),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=Console(file=stderr),
            transient=True,
        )
        self._task = self._progress.add_task("dask", total=total)
        self._progress.start()

    def done(self, _future: Any = None) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def in_order(client: Any, submit: Callable[[int], Any], total: int, progress: TaskProgress) -> Iterator[Any]:
    """The results of tasks 0..total-1 in order, with about two per worker in flight."""
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    window = 2 * workers + 2
    pending: collections.deque[Any] = collections.deque()
    following = 0
    try:
        while following < total or pending:
            while following < total and len(pending) < window:
                future = submit(following)
                future.add_done_callback(progress.done)
                pending.append(future)
                following += 1
            future = pending.popleft()
            try:
                yield future.result()
            except WorkerSetupError as e:
                raise e.error() from None
            finally:
                future.release()
    finally:
        for future in pending:
            future.cancel()


def run_check(
    address: str,
    *,
    rulebook: str,
    decision: str | None,
    as_of: _dt.date | None,
    enforcement: str | None,
    lang: str,
    files: list[str],
    input_format: str | None,
    sheet: str | None,
    schema: Any,
    report: Any,
    inputs: Any,
    observe: Any,
    stderr: IO[str],
    progress: str,
    shared: bool | None = None,
    chain: bool | None = None,
) -> None:
    """Decide ``files`` on the cluster and write each partition's results to ``report`` in order.

    ``shared``: whether the workers may write JSON lines into parts beside the output file
    (None: as :func:`engine.dask.spool.shared_output` says for ``address``); they do only for a
    report that takes blocks of lines written to a regular file that is not standard output.
    ``chain``: whether they append to it at their turn (None: as :func:`on_this_machine` says
    for ``address``: workers that share this machine and its locks)."""
    from engine.io.parallel import DecisionView

    wanted = shared_output(address) if shared is None else shared
    spec, built = rulebook_spec(rulebook, decision, as_of, enforcement)
    versions = getattr(built, "versions", None)
    compiled = [d for _e, d in versions] if versions is not None else [built]
    specs = {(d.book.version, d.name, r.spec.id): r.spec for d in compiled for r in d.rules}
    label = (spec.rulebook, spec.version)
    block = hasattr(report, "write_block") and not observe.active
    mode = "block" if block else "rows"
    with contextlib.ExitStack() as stack:
        spool = None
        if block and wanted and hasattr(report, "direct_fd"):
            fd = report.direct_fd()
            chained = on_this_machine(address) if chain is None else chain
            spool = Spool.beside(fd, chained) if fd is not None else None
            if spool is not None:  # removed last: after the cluster (and any task still writing) is gone
                stack.callback(spool.close)
        client = stack.enter_context(connect(address))
        parts, bases = _plan(client, files, input_format)
        bar = TaskProgress(stderr, len(parts), lang, progress)

        def submit(i: int) -> Any:
            where = None if spool is None else spool.place(i) if spool.chained else spool.where
            return client.submit(
                decide_part, parts[i], bases[i], spec, as_of, lang, mode, schema, sheet, where, pure=False, retries=2
            )

        try:
            for i, result in enumerate(in_order(client, submit, len(parts), bar)):
                _write(result, report, inputs, observe, label, spec, specs, DecisionView, lang, spool, i)
        finally:
            bar.stop()


def _write(
    result: PartResult,
    report: Any,
    inputs: Any,
    observe: Any,
    label: tuple[str, str],
    spec: RulebookSpec,
    specs: Any,
    view: Any,
    lang: str,
    spool: Spool | None = None,
    index: int = -1,
) -> None:
    for ref, note in result.notes:
        inputs.problem(ref, note)
    inputs.add(result.file, result.count, result.blank)
    if result.payload.__class__ is not list:
        block = result.payload
        if spool is not None and (spool.chained or result.spooled is not None):
            fd = report.direct_fd()  # everything written before flushed, so that what is appended follows it
            if fd is None:  # pragma: no cover - the output was a regular file when the run began
                raise RuntimeError("the output can no longer be written directly")
            if spool.chained:  # the lines (if they came back) written at the partition's turn
                from engine.io.parallel import Block

                lines = Block(block.text or b"", 0, {}, {}, 0)
                block.text = None

                def write() -> None:
                    report.write_block(lines)
                    report.direct_fd()  # flushed

                spool.settle(index, fd, result.spooled, write)
            elif result.spooled is not None:
                spool.append(result.spooled, fd)
        report.write_block(block)  # with no text once appended: its counts
        return
    for row in result.payload:
        if row[0] == "bad":
            _kind, ref, bad = row
            message = bad.message_zh if lang == "zh" else bad.message
            report.write_error(label[0], label[1], spec.decision, ref, message)
            observe.error(label, spec.decision, ref, message)
            continue
        _kind, _ref, line, outcome, failing, name = row
        d = view(line, outcome, failing, specs, {"name": name} if name else {})
        report.write(d)
        observe(d)


class _Change:
    """A changed record as the workers describe it (``RecordChange.to_json()``), read like one."""

    def __init__(self, data: dict[str, Any]) -> None:
        from types import SimpleNamespace

        from engine.evaluate import InputRef

        self._json = data
        inp = data.get("input")
        self.input = InputRef(inp["file"], inp["line"], inp.get("sheet")) if inp else None
        self.record = data.get("record")
        self.old = SimpleNamespace(outcome=data["outcome"]["old"])
        self.new = SimpleNamespace(outcome=data["outcome"]["new"])
        self.rules = tuple((r["id"], r["old"], r["new"]) for r in data["rules"])

    def to_json(self) -> dict[str, Any]:
        return self._json


def _as_loaded(name: str) -> str:
    """The rulebook file ``diff`` compares for a name, as a local ``diff`` loads it: a path as it is;
    an id alone the version in force today (not a version per record, as ``check`` picks), an
    ``id@version`` that version."""
    from engine.registry import Registry

    if name.endswith((".yaml", ".yml")) or Path(name).is_file():
        return name
    return str(Registry.default().find(name).path)


def run_diff(
    address: str,
    *,
    old: str,
    new: str,
    names: list[str],
    files: list[str],
    as_of: _dt.date | None,
    input_format: str | None,
    sheet: str | None,
    compared: Any,
    inputs: Any,
    stderr: IO[str],
    lang: str,
) -> tuple[list[Any], dict[tuple[str, str, str, str], int]]:
    """``diff --data`` on the cluster: the changed records in input order (read like
    ``RecordChange``), and the changes counted per (decision, rule, old status, new status)."""
    changed: list[Any] = []
    per_rule: dict[tuple[str, str, str, str], int] = {}
    with connect(address) as client:
        parts, bases = _plan(client, files, input_format)
        old_file, new_file = _as_loaded(old), _as_loaded(new)
        for name in names:
            old_spec, _o = rulebook_spec(old_file, name, None, None)
            new_spec, built = rulebook_spec(new_file, name, None, None)
            compiled = getattr(built, "newest", built)
            record_type = getattr(compiled, "record_type", None)
            schema = (record_type.root or record_type.schema) if record_type is not None else None
            bar = TaskProgress(stderr, len(parts), lang, "auto")

            def submit(i: int, o: RulebookSpec = old_spec, n: RulebookSpec = new_spec, s: Any = schema) -> Any:
                return client.submit(diff_part, parts[i], bases[i], o, n, as_of, s, sheet, lang, pure=False, retries=2)

            first = name == names[0]
            try:
                for i, (read, bad, blank, changes, rules) in enumerate(in_order(client, submit, len(parts), bar)):
                    if first:
                        counts = compared.files.setdefault(parts[i].name, [0, 0])
                        counts[0] += read
                        counts[1] += bad
                        inputs.add(parts[i].name, read, blank)
                    changed.extend(_Change(c) for c in changes)
                    for (rule, a, b), n in rules.items():
                        key = (name, rule, a, b)
                        per_rule[key] = per_rule.get(key, 0) + n
            finally:
                bar.stop()
    return changed, per_rule
