"""A Dask cluster of two worker processes on loopback, started and stopped by the tests."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable, Iterator
from typing import IO, Any

import pytest
from distributed import Client, LocalCluster

from engine.cli import main
from engine.dask.cli import local_cluster


def start_cluster(workers: int = 2) -> LocalCluster:
    """Worker processes on 127.0.0.1, one thread each, no dashboard: the cluster of ``--dask local:N``."""
    return local_cluster(workers)


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    with start_cluster() as c:
        yield c


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    with Client(cluster) as c:
        yield c


def check_killing_a_worker(
    client: Client,
    out: IO[str],
    rulebook: str,
    files: list[str],
    lang: str,
    *,
    on_block: Callable[[Any], None] | None = None,
    **options: Any,
) -> list[int]:
    """``run_check`` on ``client``'s cluster into a JSON report on ``out``, killing one worker
    (SIGKILL) once the first partition is written (``on_block`` sees that partition first); the
    killed process ids.  ``options``: more of ``run_check``'s keywords (``shared``, ``chain``)."""
    from engine.dask.cli import run_check
    from engine.io.records import InputTally
    from engine.io.report.json import JsonReport

    pids = client.run(os.getpid)
    killed: list[int] = []

    class Killing(JsonReport):
        def write_block(self, block: Any) -> None:
            super().write_block(block)
            if not killed:
                if on_block is not None:
                    on_block(block)
                pid = next(iter(pids.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    class Quiet:
        active = False

    report = Killing(out, lang=lang)
    report.begin()
    run_check(
        client.scheduler.address,
        rulebook=rulebook,
        decision=None,
        as_of=None,
        enforcement=None,
        lang=lang,
        files=files,
        input_format=None,
        sheet=None,
        schema=None,
        report=report,
        inputs=InputTally(),
        observe=Quiet(),
        stderr=io.StringIO(),
        progress="never",
        **options,
    )
    report.end()
    return killed


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# ``rulebook`` run as a script that counts the partitions whose lines the workers wrote beside the
# output (``engine.dask.spool``: parts the client appends, or lines appended at their turn) and says how
# many on standard error: whether a run took the path of parts beside the output.
SPY = """
import sys


def go():
    from engine.dask import spool

    calls = []
    original = spool.Spool.append
    settle = spool.Spool.settle

    def append(self, part, fd):
        calls.append(part)
        original(self, part, fd)

    def settled(self, index, fd, part, write):
        if part is not None:
            calls.append(part)
        settle(self, index, fd, part, write)

    spool.Spool.append = append
    spool.Spool.settle = settled
    from engine.cli import main

    code = main(sys.argv[1:])
    sys.stderr.write(f"appended {len(calls)}\\n")
    return code


if __name__ == "__main__":
    sys.exit(go())
"""
