"""A Dask cluster of two worker processes on loopback, started and stopped by the tests."""

from __future__ import annotations

import io
from collections.abc import Iterator

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
