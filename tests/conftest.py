"""Shared fixtures and the ``--update-golden`` option."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_CACHE_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """The tests (and the commands they start) keep built rulebooks in a cache of their own, never
    in the user's: ``RULEBOOK_CACHE_DIR``, and ``XDG_CACHE_HOME`` for subprocesses started
    without the ``RULEBOOK_`` variables."""
    import os
    import tempfile

    home = tempfile.mkdtemp(prefix="rulebook-test-cache-")
    _CACHE_HOME.append(home)
    os.environ["RULEBOOK_CACHE_DIR"] = os.path.join(home, "rulebook-engine")
    os.environ["XDG_CACHE_HOME"] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    while _CACHE_HOME:
        shutil.rmtree(_CACHE_HOME.pop(), ignore_errors=True)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected files of golden and error-rendering tests",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
