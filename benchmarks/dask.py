"""The engine on a Dask cluster against a local run: ``rulebook check`` over a large generated feed.

Generates N applicant records in a temporary folder (the bundled
``examples/applicants.jsonl`` cycled with new ids, over several JSON Lines files,
with a broken line every 50,000), then times, in one run and each in a fresh
process:

* ``check --jobs 1`` and ``check --jobs 2`` (``--format json`` to a file): the
  local runs;
* ``check --dask ADDRESS`` on a ``LocalCluster`` of 2 worker processes and of 1
  (127.0.0.1, no dashboard, one thread each), started by this script before the
  command (its start is timed apart) and stopped after it, so that every worker's
  peak memory is that run's; as with ``--dask local:N``, the workers write their
  partitions' JSON lines beside the output (``RULEBOOK_DASK_SHARED_OUTPUT=1``),
  appending them to it at their turn since the scheduler is on loopback, and the
  client fetches results from the workers directly
  (``DASK_DISTRIBUTED__CLIENT__DIRECT_TO_WORKERS=True``);
* with ``--sent``, also ``check --dask`` on 2 workers with every JSON line sent to
  the client and written there (``RULEBOOK_DASK_SHARED_OUTPUT=0``: the path of a
  cluster whose workers do not share the output's folder);
* the bag API on 2 workers: ``summarize(check_bag(RB, read_records(files)))``,
  counts computed on the cluster, nothing gathered.

The output of each ``--dask`` run is compared byte for byte with the local one.
It reports records/s, the Dask path's overhead per record (``--dask`` on 1 worker
against ``--jobs 1``; on 2 against ``--jobs 2``), the overhead of one partition
(tasks of a one-record partition on the 1-worker cluster, against the same call in
this process), the peak resident memory of the client and of each worker, and the
load average.  Medians over ``--runs`` runs (interleaved, so noise falls on every
variant alike); the machine is shared, so quote ratios.  Every command has a time
limit; the temporary folder and the clusters go when it ends.

    python benchmarks/dask.py                        # 1,000,000 records, 2 runs
    python benchmarks/dask.py --records 100000 --runs 1
    python benchmarks/dask.py --sent                 # also the lines sent to the client
    python benchmarks/dask.py --write                # also update its section of RESULTS.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# this file is named after the package it measures: run as a script, its folder comes first on the
# path and would hide the real ``dask`` from ``distributed`` (and from the worker processes it spawns)
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN = "<!-- dask:begin (written by benchmarks/dask.py --write) -->"
END = "<!-- dask:end -->"
RULEBOOK = "hlj-musicians/membership"
BROKEN_EVERY = 50_000
LIMIT_SECONDS = 1800  # no single command may run longer than this
TARGET = 1.3  # Dask on 2 workers within 1.3x of --jobs 2
# as ``--dask local:N`` does (docs/scale.md): the client fetches results from the workers directly, and
# the workers write their JSON lines into parts beside the output (``sent``: to the client instead)
DIRECT = {"DASK_DISTRIBUTED__CLIENT__DIRECT_TO_WORKERS": "True"}
SHARED = {**DIRECT, "RULEBOOK_DASK_SHARED_OUTPUT": "1"}
SENT = {**DIRECT, "RULEBOOK_DASK_SHARED_OUTPUT": "0"}

MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=float(sys.argv[1]))
elapsed = time.perf_counter() - t
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def generate(n: int, folder: Path, files: int) -> list[Path]:
    """``n`` records over ``files`` JSON Lines files: the bundled applicants with ids of their own,
    and every ``BROKEN_EVERY``-th line cut short (not JSON: an error object at its line)."""
    templates = (ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in templates if line.strip()]
    paths = [folder / f"applicants-{f}.jsonl" for f in range(files)]
    per = -(-n // files)
    i = 0
    for path in paths:
        with path.open("w", encoding="utf-8") as out:
            for _ in range(min(per, n - i)):
                i += 1
                record = dict(records[i % len(records)])
                record["id"] = f"A-{i:08d}"
                line = json.dumps(record, ensure_ascii=False)
                out.write((line[: len(line) // 2] if i % BROKEN_EVERY == 0 else line) + "\n")
    return paths


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(seconds, peak RSS of the largest process it ran in MiB, exit code), in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(LIMIT_SECONDS), *cmd],
        capture_output=True,
        text=True,
        check=True,
        timeout=LIMIT_SECONDS + 60,
        env=None if env is None else {**os.environ, **env},
    ).stdout
    seconds, rss_kib, code = out.split()
    return float(seconds), int(rss_kib) / 1024, int(code)


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def max_rss_mib() -> float:
    """This process's peak resident memory (run on each worker with ``client.run``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_cluster(workers: int) -> Any:
    """The cluster ``--dask local:N`` starts (the same settings)."""
    from engine.dask.cli import local_cluster

    return local_cluster(workers)


def partition_overhead(client: Any, folder: Path, tasks: int = 200) -> tuple[float, float]:
    """(seconds per partition through the cluster, seconds of the same call here) for a partition
    of one record, the tasks submitted as ``check --dask`` submits them (a window per worker)."""
    from engine.dask.decide import decide_part
    from engine.dask.inputs import find_parts
    from engine.dask.rulebook import decision_for, rulebook_spec

    one = folder / "one.jsonl"
    one.write_text((ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0] + "\n")
    part = find_parts([str(one)], None)[0]
    spec, _built = rulebook_spec(RULEBOOK)
    decision_for(spec, "zh")
    t = time.perf_counter()
    for _ in range(tasks):
        decide_part(part, 0, spec, None, "zh", "block", None, None)
    here = (time.perf_counter() - t) / tasks
    client.submit(decide_part, part, 0, spec, None, "zh", "block", None, None, pure=False).result()  # built there
    t = time.perf_counter()
    window: list[Any] = []
    for _ in range(tasks):
        window.append(client.submit(decide_part, part, 0, spec, None, "zh", "block", None, None, pure=False))
        if len(window) >= 4:
            window.pop(0).result()
    for future in window:
        future.result()
    return (time.perf_counter() - t) / tasks, here


def run_once(
    args: argparse.Namespace, folder: Path, files: list[Path], figures: dict[str, list[dict[str, Any]]]
) -> None:
    cli = [
        sys.executable,
        "-m",
        "engine",
        "check",
        RULEBOOK,
        *map(str, files),
        "--format",
        "json",
        "--progress",
        "never",
    ]
    reference: str | None = None
    for jobs in (1, 2):
        out = folder / f"local-{jobs}.jsonl"
        load = os.getloadavg()[0]
        seconds, rss, code = measure([*cli, "--output", str(out), "--jobs", str(jobs)])
        reference = digest(out)
        figures[f"local {jobs}"].append({"seconds": seconds, "rss": rss, "code": code, "load": load})
        print(f"  check --jobs {jobs}: {seconds:.1f} s, peak {rss:.0f} MiB, load {load:.1f}", file=sys.stderr)
    from distributed import Client

    for variant in ("dask 2", "dask 2 sent", "bag 2", "dask 1"):
        if (variant == "bag 2" and args.no_bag) or (variant == "dask 2 sent" and not args.sent):
            continue
        workers = int(variant.split()[1])
        sent = variant.endswith("sent")
        t = time.perf_counter()
        cluster = start_cluster(workers)
        started = time.perf_counter() - t
        try:
            with Client(cluster) as client:
                if variant == "bag 2":
                    figures[variant].append(bag_summary(client, files))
                    continue
                out = folder / f"dask-{workers}{'-sent' if sent else ''}.jsonl"
                load = os.getloadavg()[0]
                seconds, rss, code = measure(
                    [*cli, "--output", str(out), "--dask", cluster.scheduler_address], SENT if sent else SHARED
                )
                same = digest(out) == reference
                out.unlink()
                # nothing but the inputs and the local outputs is left: the parts went with the run
                stray = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
                if stray:
                    print(f"  left beside the output: {', '.join(stray)}", file=sys.stderr)
                    same = False
                peaks = sorted(client.run(max_rss_mib).values())
                entry = {
                    "seconds": seconds,
                    "rss": rss,
                    "code": code,
                    "load": load,
                    "start": started,
                    "workers_rss": peaks,
                    "same": same,
                }
                print(
                    f"  check --dask ({workers} worker{'s' if workers > 1 else ''}"
                    f"{', lines sent to the client' if sent else ''}): {seconds:.1f} s "
                    f"(cluster start {started:.1f} s), client {rss:.0f} MiB, workers "
                    f"{', '.join(f'{p:.0f}' for p in peaks)} MiB, same output: {same}, load {load:.1f}",
                    file=sys.stderr,
                )
                if workers == 1:
                    per_part, here = partition_overhead(client, folder)
                    entry["partition"] = per_part
                    entry["partition_here"] = here
                    print(
                        f"  one partition: {per_part * 1000:.1f} ms there, {here * 1000:.1f} ms here", file=sys.stderr
                    )
                figures[variant].append(entry)
        finally:
            cluster.close()
    for jobs in (1, 2):
        (folder / f"local-{jobs}.jsonl").unlink(missing_ok=True)


def bag_summary(client: Any, files: list[Path]) -> dict[str, Any]:
    """``summarize(check_bag(...))`` on the cluster: the counts only come back."""
    from engine.dask import check_bag, read_records, summarize

    load = os.getloadavg()[0]
    t = time.perf_counter()
    counts = summarize(check_bag(RULEBOOK, read_records([str(f) for f in files], blocksize=4 << 20))).compute()
    seconds = time.perf_counter() - t
    peaks = sorted(client.run(max_rss_mib).values())
    print(f"  summarize(check_bag) (2 workers): {seconds:.1f} s, {counts.total:,} decisions counted", file=sys.stderr)
    return {"seconds": seconds, "total": counts.total, "load": load, "workers_rss": peaks, "rss": None}


def median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def report(args: argparse.Namespace, figures: dict[str, list[dict[str, Any]]], mib: float, when: str) -> str:
    n = args.records
    sec = {k: median(v, "seconds") for k, v in figures.items() if v}
    rate = {k: n / s for k, s in sec.items()}
    loads = [r["load"] for v in figures.values() for r in v]
    d1, d2 = figures["dask 1"], figures["dask 2"]
    part = median(d1, "partition")
    part_here = median(d1, "partition_here")
    ratio = sec["dask 2"] / sec["local 2"]
    start2 = median(d2, "start")
    # T(w) = serial + parallel / w, fitted to the medians at 1 and 2 workers
    parallel = 2 * (sec["dask 1"] - sec["dask 2"])
    serial = sec["dask 1"] - parallel
    partitions = -(-int(mib * (1 << 20)) // (4 << 20))
    lines = [
        BEGIN,
        f"## The engine on a Dask cluster (`benchmarks/dask.py --records {n} --runs {args.runs}`, {when})",
        "",
        (
            f"CPython {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs shared with other "
            f"engineers' work: load average {min(loads):.1f}-{max(loads):.1f} at the starts of the measures. "
            f"{n:,} generated applicants ({mib:.0f} MiB of JSON Lines over {args.files} files, a broken line every "
            f"{BROKEN_EVERY:,}); every command writes `--format json` to a file. The clusters are `LocalCluster`s of "
            "worker processes (one thread each) on 127.0.0.1 without a dashboard, started before the command "
            f"(in {start2:.1f} s for 2 workers, the median; `--dask local:2` adds that much) and stopped after it; "
            "as with `--dask local:N`, the workers write their partitions' JSON lines beside the output "
            "(`RULEBOOK_DASK_SHARED_OUTPUT=1`), each appending its own to the output when every partition before "
            "it is there (the scheduler is on loopback) and leaving a part for the one before it to append "
            "otherwise, and the client fetches the rest of each result from the workers directly. "
            f"Medians of {args.runs} runs."
        ),
        "",
        "| run | records/s (median) | seconds | client peak MiB | worker peaks MiB | same output as local |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    names = {
        "local 1": "`check --jobs 1`",
        "local 2": "`check --jobs 2`",
        "dask 1": "`check --dask` on 1 worker",
        "dask 2": "`check --dask` on 2 workers",
        "dask 2 sent": "`check --dask` on 2 workers, lines sent to the client (`RULEBOOK_DASK_SHARED_OUTPUT=0`)",
        "bag 2": "`summarize(check_bag(...))` on 2 workers (counts only)",
    }
    for key, name in names.items():
        rows = figures.get(key) or []
        if not rows:
            continue
        client = "-" if rows[0]["rss"] is None else f"{max(r['rss'] for r in rows):.0f}"
        workers = rows[-1].get("workers_rss")
        peaks = ", ".join(f"{p:.0f}" for p in workers) if workers else "(the largest process)"
        same = "" if "same" not in rows[0] else ("yes" if all(r["same"] for r in rows) else "**no**")
        lines.append(f"| {name} | {rate[key]:,.0f} | {sec[key]:.1f} | {client} | {peaks} | {same} |")
    over1 = (sec["dask 1"] - sec["local 1"]) / n * 1e6
    over2 = (sec["dask 2"] - sec["local 2"]) / n * 1e6
    verdict = "met" if ratio <= TARGET else "missed"
    lines += [
        "",
        "| ratio | measured (medians) | target |",
        "| --- | ---: | ---: |",
        f"| `--dask` on 2 workers / `--jobs 2` (time) | {ratio:.2f}x | ≤ {TARGET}x ({verdict}) |",
        f"| the same with the cluster's start counted | {(sec['dask 2'] + start2) / sec['local 2']:.2f}x | |",
        f"| `--dask` 2 workers / 1 worker (rate) | {rate['dask 2'] / rate['dask 1']:.2f}x | |",
        f"| `--jobs 2` / `--jobs 1` (rate) | {rate['local 2'] / rate['local 1']:.2f}x | |",
    ]
    if "dask 2 sent" in sec:
        lines.append(
            f"| `--dask` on 2 workers, lines sent to the client / `--jobs 2` (time) | "
            f"{sec['dask 2 sent'] / sec['local 2']:.2f}x | |"
        )
    lines += [
        "",
        (
            f"The Dask path's overhead per record: {over1:+.1f} µs on one worker against `--jobs 1`, {over2:+.1f} µs "
            "on two against `--jobs 2` (wall time; negative: the cluster was faster). One partition costs "
            f"{part * 1000:.1f} ms through the cluster against {part_here * 1000:.1f} ms for the same call in "
            f"one process, so about {(part - part_here) * 1000:.1f} ms of scheduling and transfer per partition; "
            f"this feed is about {partitions} partitions of at most 4 MiB."
        ),
        "",
    ]
    if parallel > 0 and serial > 0:
        projected = ", ".join(
            f"{w} workers ≈ {n / (serial + parallel / w + partitions * max(0.0, part - part_here) / w):,.0f}/s"
            for w in (4, 8, 16)
        )
        lines.append(
            f"How the rate grows with workers: fitting T(w) = S + W/w to the medians at 1 and 2 workers gives "
            f"S ≈ {serial:.1f} s that does not shrink with workers (the client planning the partitions "
            f"and counting their lines, appending the parts of {n:,} JSON lines that finished before their turn, "
            "the cluster's bookkeeping, and on two cores the contention of the client and the workers) "
            f"and W ≈ {parallel:.1f} s of "
            "deciding shared among them. With the per-partition overhead measured above added per worker, the "
            f"projection is {projected}, tending to {n / serial:,.0f}/s, where the client's own share is the "
            "limit; here the two workers also shared two cores with the client and with others, so the measured "
            "step from 1 to 2 understates what separate machines give. A `summarize` needs no client share: its "
            "counts are reduced on the cluster."
        )
    else:
        lines.append(
            "How the rate grows with workers: the run at 2 workers was not faster than at 1 (the two workers "
            "and the client shared two busy cores), so no fit T(w) = S + W/w is possible from these runs; "
            f"each partition adds about {(part - part_here) * 1000:.1f} ms of scheduling per worker."
        )
    lines.append(END)
    return "\n".join(lines) + "\n"


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
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="records generated (default 1000000)")
    ap.add_argument("--files", type=int, default=4, help="JSON Lines files they are spread over (default 4)")
    ap.add_argument("--runs", type=int, default=2, help="runs of everything; medians are reported (default 2)")
    ap.add_argument("--no-bag", action="store_true", help="leave out the summarize(check_bag) measure")
    ap.add_argument(
        "--sent",
        action="store_true",
        help="also time --dask on 2 workers with the JSON lines sent to the client (RULEBOOK_DASK_SHARED_OUTPUT=0)",
    )
    ap.add_argument("--write", action="store_true", help="update the Dask section of benchmarks/RESULTS.md")
    ap.add_argument("--json", help="also write the raw figures to this file")
    args = ap.parse_args(argv)
    os.chdir(ROOT)
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    figures: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("local 1", "local 2", "dask 1", "dask 2", "dask 2 sent", "bag 2")
    }
    with tempfile.TemporaryDirectory(prefix="rulebook-dask-bench-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        files = generate(args.records, folder, args.files)
        mib = sum(f.stat().st_size for f in files) / 2**20
        print(f"generated {args.records:,} records ({mib:.0f} MiB) in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        for i in range(args.runs):
            print(f"run {i + 1} of {args.runs}", file=sys.stderr)
            run_once(args, folder, files, figures)
    when += time.strftime("-%H:%M UTC", time.gmtime())
    text = report(args, figures, mib, when)
    print(text)
    if args.json:
        meta = {"records": args.records, "files": args.files, "runs": args.runs, "mib": mib, "when": when}
        Path(args.json).write_text(json.dumps({**meta, "figures": figures}, indent=2), encoding="utf-8")
    if args.write:
        write_results(text)
    same = all(r["same"] for k in ("dask 1", "dask 2", "dask 2 sent") for r in figures[k])
    totals = all(r["total"] == args.records for r in figures["bag 2"])
    return 0 if same and totals else 1


if __name__ == "__main__":
    sys.exit(main())
