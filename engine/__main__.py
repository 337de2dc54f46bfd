"""`python -m engine` runs the `rulebook` command line."""

from __future__ import annotations

from engine.cli import run

if __name__ == "__main__":
    run()
