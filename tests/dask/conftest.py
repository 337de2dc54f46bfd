"""A Dask cluster of two worker processes on loopback, started and stopped by the tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from distributed import Client, LocalCluster

from engine.cli import main


def start_cluster(workers: int = 2, **kwargs: Any) -> LocalCluster:
    """Worker processes on 127.0.0.1, one thread each, no dashboard."""
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
        **kwargs,
    )


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
