"""Start-up benchmark: one-record commands, with an empty and with a filled disk cache.

Usage::

    python benchmarks/startup.py [--runs 9] [--write] [--json PATH]

Times, as wall time of a whole process started with :mod:`subprocess`, each of

* ``check``: ``rulebook check hlj-musicians/membership examples/applicant.json --as-of 2026-03-01``
* ``explain``: the same with ``explain``
* ``lint``: ``rulebook lint rulebooks/hlj-musicians/membership.yaml``
* ``test``: ``rulebook test hlj-musicians/membership`` (the rulebook's 119 examples)

in three states of the cache of built rulebooks (``engine/cache.py``):

* ``no cache``: ``RULEBOOK_NO_CACHE=1``, every run builds everything (as before the cache);
* ``cold``: every run with a new, empty cache directory (it builds and fills it);
* ``warm``: the same directory every run, filled by one run before timing.

and ``python -c pass`` (the interpreter's own start) in the same rounds, so a busy
machine shows in every column alike.  Each figure is the median of ``--runs``
runs; the rounds interleave the variants.

Python's own bytecode cache (``__pycache__``) is allowed for every run (the
variable ``PYTHONDONTWRITEBYTECODE`` is removed from the runs' environment) and
written by an untimed run first: that is how Python starts on a user's machine;
without it every run also compiles the engine's modules from source.

``--write`` replaces the "Start-up" section of ``benchmarks/RESULTS.md`` (between its
marker comments; added at the top when missing) with the table.  The exit status is 0
when every command exited as expected (0, or 1 for a check whose record fails) and the
warm ``check`` median is under 300 ms, else 1.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN = "<!-- startup:begin (written by benchmarks/startup.py --write) -->"
END = "<!-- startup:end -->"
TARGET_MS = 300.0

COMMANDS = {
    "check": ["check", "hlj-musicians/membership", "examples/applicant.json", "--as-of", "2026-03-01"],
    "explain": ["explain", "hlj-musicians/membership", "examples/applicant.json", "--as-of", "2026-03-01"],
    "lint": ["lint", "rulebooks/hlj-musicians/membership.yaml"],
    "test": ["test", "hlj-musicians/membership"],
}
STATES = ("no cache", "cold", "warm")


def rulebook_command() -> list[str]:
    """The ``rulebook`` script beside this Python, else ``python -m engine``."""
    script = Path(sys.executable).with_name("rulebook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "engine"]


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
    return took, proc.returncode


def measure(runs: int) -> tuple[dict[str, dict[str, float]], float, list[str]]:
    """Median milliseconds by command and state, ``python -c pass``'s, and the problems seen."""
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "RULEBOOK_NO_CACHE")}
    exe = rulebook_command()
    problems: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="rulebook-startup-"))
    try:
        warm_dir = work / "warm"
        # untimed: Python's bytecode cache, and the warm rulebook cache
        for args in COMMANDS.values():
            run_once([*exe, *args], dict(base_env, RULEBOOK_CACHE_DIR=str(warm_dir)))
        times: dict[tuple[str, str], list[float]] = {}
        bare: list[float] = []
        for i in range(runs):
            t, _ = run_once([sys.executable, "-c", "pass"], base_env)
            bare.append(t)
            for name, args in COMMANDS.items():
                for state in STATES:
                    env = dict(base_env)
                    if state == "no cache":
                        env["RULEBOOK_NO_CACHE"] = "1"
                    elif state == "cold":
                        env["RULEBOOK_CACHE_DIR"] = str(work / f"cold-{name}-{i}")
                    else:
                        env["RULEBOOK_CACHE_DIR"] = str(warm_dir)
                    t, code = run_once([*exe, *args], env)
                    if code not in (0, 1):
                        problems.append(f"{name} ({state}) exited {code}")
                    times.setdefault((name, state), []).append(t)
        medians = {
            name: {state: statistics.median(times[(name, state)]) * 1000 for state in STATES} for name in COMMANDS
        }
        return medians, statistics.median(bare) * 1000, problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(medians: dict[str, dict[str, float]], bare: float, runs: int) -> str:
    lines = [f"| command | {' | '.join(STATES)} | warm minus `python -c pass` |", "|---|" + "---:|" * (len(STATES) + 1)]
    for name, row in medians.items():
        cells = " | ".join(f"{row[s]:.0f} ms" for s in STATES)
        lines.append(f"| `{name}` | {cells} | {row['warm'] - bare:.0f} ms |")
    lines.append(f"| `python -c pass` | {bare:.0f} ms | | | |")
    lines.append("")
    lines.append(f"Median wall time of {runs} runs each, in interleaved rounds.")
    return "\n".join(lines)


def section(text: str, runs: int) -> str:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ""
    if hasattr(os, "getloadavg"):
        load = (
            f" Load average when written: {os.getloadavg()[0]:.2f}"
            " (other work on the machine slows every column alike)."
        )
    commands = "\n".join(f"* `{name}`: `rulebook {' '.join(args)}`" for name, args in COMMANDS.items())
    return f"""{BEGIN}
## Start-up (`benchmarks/startup.py --runs {runs}`, {now})

CPython {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs. One process per run,
timed from start to exit. `no cache`: `RULEBOOK_NO_CACHE=1` (everything built, as before the
disk cache); `cold`: an empty cache directory each run (built, then stored); `warm`: the cache
filled by an earlier run. Python's own bytecode cache is in place in every state.{load}

{commands}

{text}
{END}
"""


def write_results(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        _, _, tail = rest.partition(END)
        new = head + text.rstrip("\n") + tail
    else:
        title, nl, body = old.partition("\n")
        new = f"{title}{nl}\n{text}{body}"
    RESULTS.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="runs of each command in each state (default 9)")
    ap.add_argument("--write", action="store_true", help="update the Start-up section of benchmarks/RESULTS.md")
    ap.add_argument("--json", type=Path, help="also write the medians as JSON to this file")
    args = ap.parse_args(argv)
    medians, bare, problems = measure(args.runs)
    text = table(medians, bare, args.runs)
    print(text)
    if args.json:
        args.json.write_text(
            json.dumps({"python_pass_ms": bare, "medians_ms": medians}, indent=2) + "\n", encoding="utf-8"
        )
    if args.write:
        write_results(section(text, args.runs))
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    warm_check = medians["check"]["warm"]
    if warm_check >= TARGET_MS:
        print(f"warm check {warm_check:.0f} ms: not under {TARGET_MS:.0f} ms", file=sys.stderr)
    return 1 if problems or warm_check >= TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
