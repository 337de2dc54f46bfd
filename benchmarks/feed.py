"""The data-feed benchmark: `rulebook check` over a large JSON Lines feed, as CI runs it.

Generates N applicant records with the shared benchmark's generator
(``../shared/bench/workload.py``), then times, each in a fresh process:

* ``parse+write``: a Python process that only parses each line and writes one
  JSON line per record (the floor for any CLI that reads and reports);
* ``check --jobs 1`` and ``check --jobs 2`` with ``--format json`` to a file;
* ``2 x --jobs 1, halves``: two independent ``check --jobs 1`` processes side by
  side, each on one half of the feed: the speed-up this machine gives two
  processes doing this work with nothing shared, the ceiling for ``--jobs 2``.

It reports records/s, the ratio to parse+write, the speed-up of two jobs, and
the peak resident memory of the largest process (parent or worker).  Medians
over ``--repeat`` runs; the machine is shared, so quote ratios.

    python benchmarks/feed.py                 # 1,000,000 records, 3 runs each
    python benchmarks/feed.py --n 200000 --repeat 1 --json feed.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULEBOOK = "hlj-musicians/membership"

PARSE_AND_WRITE = """
import json, sys
out = open(sys.argv[2], "w", encoding="utf-8")
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        out.write(json.dumps({"record": r.get("id"), "outcome": "pass"}, ensure_ascii=False) + "\\n")
out.close()
"""

MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
elapsed = time.perf_counter() - t
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def bench_dir(given: str | None) -> Path:
    for candidate in (given, os.environ.get("RULEBOOK_BENCH_DIR"), ROOT.parent / "shared" / "bench"):
        if candidate and (Path(candidate) / "workload.py").is_file():
            return Path(candidate)
    raise SystemExit("cannot find the shared benchmark's workload.py; give --bench-dir")


def generate(n: int, path: Path, bench: Path) -> None:
    sys.path.insert(0, str(bench))
    import workload  # type: ignore[import-not-found]

    with path.open("w", encoding="utf-8") as f:
        for record in workload.generate(n=n, seed=workload.DEFAULT_SEED):
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(seconds, peak RSS of the largest child process in MiB, exit code), in a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True).stdout
    seconds, rss_kib, code = out.split()
    return float(seconds), int(rss_kib) / 1024, int(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bench-dir")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    bench = bench_dir(args.bench_dir)
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.jsonl"
        t = time.perf_counter()
        generate(args.n, feed, bench)
        print(
            f"generated {args.n:,} records ({feed.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.0f} s",
            file=sys.stderr,
        )
        out = str(Path(tmp) / "out.jsonl")
        halves = [Path(tmp) / "half-1.jsonl", Path(tmp) / "half-2.jsonl"]
        with (
            feed.open(encoding="utf-8") as f,
            halves[0].open("w", encoding="utf-8") as h1,
            halves[1].open("w", encoding="utf-8") as h2,
        ):
            for i, line in enumerate(f):
                (h1 if i < args.n // 2 else h2).write(line)
        cli = [
            sys.executable,
            "-m",
            "engine",
            "check",
            RULEBOOK,
            str(feed),
            "--format",
            "json",
            "--output",
            out,
            "--progress",
            "never",
        ]
        variants = {
            "parse+write": [sys.executable, "-c", PARSE_AND_WRITE, str(feed), out],
            "check --jobs 1": [*cli, "--jobs", "1"],
            "check --jobs 2": [*cli, "--jobs", "2"],
            "2 x --jobs 1, halves": [
                "sh",
                "-c",
                " & ".join(
                    shlex.join(
                        [
                            sys.executable,
                            "-m",
                            "engine",
                            "check",
                            RULEBOOK,
                            str(h),
                            "--format",
                            "json",
                            "--output",
                            f"{h}.out",
                            "--progress",
                            "never",
                            "--jobs",
                            "1",
                        ]
                    )
                    for h in halves
                )
                + " & wait",
            ],
        }
        runs: dict[str, list[tuple[float, float, int]]] = {k: [] for k in variants}
        for _ in range(args.repeat):
            for name, cmd in variants.items():  # interleaved, so noise hits every variant alike
                runs[name].append(measure(cmd))
                print(f"  {name}: {runs[name][-1][0]:.1f} s", file=sys.stderr)
        with open(out, encoding="utf-8") as written:
            lines = sum(1 for _ in written)
    figures = {}
    for name, results in runs.items():
        seconds = statistics.median(r[0] for r in results)
        figures[name] = {
            "seconds": seconds,
            "records_per_s": args.n / seconds,
            "peak_rss_mib": max(r[1] for r in results),
            "exit_codes": sorted({r[2] for r in results}),
        }
    base = figures["parse+write"]["records_per_s"]
    one = figures["check --jobs 1"]["records_per_s"]
    two = figures["check --jobs 2"]["records_per_s"]
    print(
        f"\n{args.n:,} records, {args.repeat} runs each (median); CPython {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores\n"
    )
    print("| variant | records/s | seconds | of parse+write | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, f in figures.items():
        print(
            f"| {name} | {f['records_per_s']:,.0f} | {f['seconds']:.1f} | {f['records_per_s'] / base:.2f} | "
            f"{f['peak_rss_mib']:.0f} |"
        )
    ceiling = figures["2 x --jobs 1, halves"]["records_per_s"]
    print(
        f"\n--jobs 2 speed-up over --jobs 1: {two / one:.2f}x; two independent processes on halves: "
        f"{ceiling / one:.2f}x; output lines of the last run: {lines:,}"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "n": args.n,
                    "repeat": args.repeat,
                    "figures": figures,
                    "jobs2_speedup": two / one,
                    "independent_halves_speedup": ceiling / one,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    _ = resource  # measured in the child harness
    return 0 if lines == args.n else 1


if __name__ == "__main__":
    sys.exit(main())
