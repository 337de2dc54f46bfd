"""The columnar engine against the per-record one: ``rulebook check`` over millions of generated applicants.

For each size N (``--n``, default 1,000,000 and 10,000,000) the script builds,
once, N applicant records with the shared benchmark's generator
(``../shared/bench/workload.py``) as JSON Lines, and the same records as a
Parquet file (dates as ``date32``, row groups of 100,000 rows).  It then times,
each in a fresh process and interleaved over ``--repeat`` rounds, on the
admission decision of ``hlj-musicians/membership``:

* ``columnar``: ``rulebook check RB FILE --decision admission --engine columnar
  --format parquet --output OUT.parquet``, from JSON Lines and from Parquet;
* ``(a) records``: the same with ``--engine records --jobs 2``: the per-record
  command line writing the statuses table only, from JSON Lines and from Parquet;
* ``(b) parse+write``: one Python process that parses each JSON line
  (``json.loads``) and writes one short line (``feed.py``'s floor);
* ``(c) baseline``: the shared benchmark's hand-written Python
  (``runners/baseline.py``) run record by record over the same file: parse each
  line, decide it, write one short line of its ten answers;
* ``(c') reference``: the same with ``workload.reference_checks`` (the shared
  benchmark's date-based reference semantics) instead.

It reports records/s (medians), the peak resident memory of the largest process
of each run (``getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a harness process per
run), the ratios of the columnar engine to (a), (b) and (c), and the two targets
of the issue: columnar at least 10 times (b), and at least 1,000,000 records/s
from Parquet.  After the timed rounds of each N it checks that the columnar
output table equals the per-record engine's (every rule's status and the outcome
of every row; the other columns are compared and reported too) and prints the
result; it exits 1 when they differ or a command failed.

Before timing, every command is tried on 2,000 records: a combination the
command line refuses (exit 2; e.g. ``--jobs 2`` with ``--format parquet``, or an
engine that is not there yet) falls back to the next form of that variant (for
(a): ``--format json`` instead of ``parquet``), and the form used is printed.

The data: records 1..1,000,000 are exactly ``workload.generate(1_000_000)``;
beyond that, block k of 1,000,000 records is generated with seed
``DEFAULT_SEED + k`` and ids continuing the numbering (blocks generated on all
cores), so every id is distinct and the 1,000,000 file is the first million of
the 10,000,000 one.  In the Parquet file an optional field that a record leaves
out holds the default its record schema gives (the schema's stated meaning of an
absent field: ``[]``, ``false``, ``0``, ``null``), because Parquet cannot tell an
absent value from a null.  Files are kept under ``--data-dir`` (reused when
present); without it they go to a temporary folder removed at the end
unless ``--keep``.

    python benchmarks/columnar.py --quick                       # 200,000 records, 1 round
    python benchmarks/columnar.py --n 1000000 --repeat 3 --data-dir ../columnar-data
    python benchmarks/columnar.py --json columnar.json          # 1M and 10M, 3 rounds each
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RULEBOOK = "hlj-musicians/membership"
DECISION = "admission"
RECORD_SCHEMA = ROOT / "engine" / "data" / "schemas" / "records" / "applicant.schema.json"
BLOCK = 1_000_000  # records generated per seed (and per worker task)
ROW_GROUP = 100_000  # rows per Parquet row group of the input
SAMPLE = 2_000  # records of the trial run of every command
LIMIT_SECONDS = 3600  # no single command may run longer than this
TARGET_OVER_PARSE = 10.0
TARGET_PARQUET_RATE = 1_000_000

PARSE_AND_WRITE = """
import json, sys
out = open(sys.argv[2], "w", encoding="utf-8")
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        out.write(json.dumps({"record": r.get("id"), "outcome": "pass"}, ensure_ascii=False) + "\\n")
out.close()
"""

# the shared benchmark's own code, one record at a time: argv = bench dir, mode, input, output
PER_RECORD = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/runners"]
from workload import RESULT_KEYS, reference_checks
from baseline import evaluate
if sys.argv[2] == "baseline":
    def decide(record):
        return evaluate([record])[0]
else:
    decide = reference_checks
out = open(sys.argv[4], "w", encoding="utf-8")
with open(sys.argv[3], encoding="utf-8") as f:
    for line in f:
        if not line.strip():
            continue
        r = json.loads(line)
        answers = decide(r)
        out.write(r["id"] + "\\t" + "".join("1" if answers[k] else "0" for k in RESULT_KEYS) + "\\n")
out.close()
"""

# one timed run in a fresh harness process: its RUSAGE_CHILDREN is that run's alone
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=float(sys.argv[1]))
elapsed = time.perf_counter() - t
sys.stderr.buffer.write(p.stderr[-4000:])
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)
"""


# --------------------------------------------------------------------------- data


def bench_dir(given: str | None) -> Path:
    for candidate in (given, os.environ.get("RULEBOOK_BENCH_DIR"), ROOT.parent / "shared" / "bench"):
        if candidate and (Path(candidate) / "workload.py").is_file():
            return Path(candidate).resolve()
    raise SystemExit("cannot find the shared benchmark's workload.py; give --bench-dir")


def _generate_block(task: tuple[str, int, int, int, str]) -> str:
    """Records ``first`` .. ``first + count - 1`` of block ``k`` (seed ``DEFAULT_SEED + k``) into ``path``."""
    bench, k, first, count, path = task
    sys.path.insert(0, bench)
    import random

    import workload  # type: ignore[import-not-found]

    rng = random.Random(workload.DEFAULT_SEED + k)
    with open(path, "w", encoding="utf-8") as f:
        for index in range(first, first + count):
            f.write(json.dumps(workload.make_record(rng, index), ensure_ascii=False))
            f.write("\n")
    return path


def generate_jsonl(n: int, path: Path, bench: Path, procs: int) -> None:
    tasks = []
    for k in range((n + BLOCK - 1) // BLOCK):
        first = k * BLOCK + 1
        tasks.append((str(bench), k, first, min(BLOCK, n - k * BLOCK), f"{path}.part{k}"))
    with multiprocessing.get_context("spawn").Pool(min(procs, len(tasks))) as pool:
        parts = pool.map(_generate_block, tasks, chunksize=1)
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 16 << 20)
            os.unlink(part)
    tmp.replace(path)


def _arrow_type(node: dict[str, Any], seen: dict[str, Any] | None, dates: bool) -> Any:
    """The Arrow type of a JSON Schema node; for objects, only the properties ``seen`` in the data."""
    import pyarrow as pa

    kinds = node.get("type", "string" if "enum" in node else None)
    kind = next(t for t in kinds if t != "null") if isinstance(kinds, list) else kinds
    if kind == "string":
        return pa.date32() if dates and node.get("format") == "date" else pa.string()
    if kind == "boolean":
        return pa.bool_()
    if kind == "integer":
        return pa.int64()
    if kind == "number":
        return pa.float64()
    if kind == "array":
        return pa.list_(_arrow_type(node["items"], (seen or {}).get("[]"), dates))
    if kind == "object":
        props = node["properties"]
        unknown = sorted(set(seen or {}) - set(props))
        if unknown:
            raise SystemExit(f"the generated records have fields the record schema does not type: {unknown}")
        return pa.struct(
            [pa.field(k, _arrow_type(v, (seen or {})[k], dates)) for k, v in props.items() if k in (seen or {})]
        )
    raise SystemExit(f"no Arrow type for the record schema's node {node}")


def _seen_fields(path: Path, limit: int = 20_000) -> dict[str, Any]:
    """The nested field names present in the first ``limit`` records (``[]`` for list items)."""
    seen: dict[str, Any] = {}

    def walk(value: Any, into: dict[str, Any]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, into.setdefault(k, {}))
        elif isinstance(value, list):
            for v in value:
                walk(v, into.setdefault("[]", {}))

    with path.open(encoding="utf-8") as f:
        for line in itertools.islice(f, limit):
            walk(json.loads(line), seen)
    return seen


def write_parquet(jsonl: Path, path: Path) -> None:
    """The records of ``jsonl`` as Parquet, streamed in row groups of ``ROW_GROUP`` records."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    schema_doc = json.loads(RECORD_SCHEMA.read_text(encoding="utf-8"))
    seen = _seen_fields(jsonl)
    read_schema = pa.schema(list(_arrow_type(schema_doc, seen, dates=False)))
    schema = pa.schema(list(_arrow_type(schema_doc, seen, dates=True)))
    defaults = {
        name: pa.scalar(schema_doc["properties"][name]["default"], type=schema.field(name).type)
        for name in schema.names
        if schema_doc["properties"][name].get("default") is not None
    }
    options = pj.ParseOptions(explicit_schema=read_schema, unexpected_field_behavior="error")
    tmp = path.with_suffix(".parquet.tmp")
    with jsonl.open("rb") as f, pq.ParquetWriter(tmp, schema) as writer:
        while block := b"".join(itertools.islice(f, ROW_GROUP)):
            table = pj.read_json(BytesIO(block), parse_options=options).cast(schema)
            for name, default in defaults.items():
                i = table.schema.get_field_index(name)
                table = table.set_column(i, name, pc.fill_null(table.column(i), default))
            writer.write_table(table, row_group_size=ROW_GROUP)
    tmp.replace(path)


def prepare(n: int, data: Path, bench: Path) -> tuple[Path, Path]:
    """``applicants-N.jsonl`` and ``.parquet`` in ``data``, made unless already there (a stamp records how)."""
    jsonl, parquet = data / f"applicants-{n}.jsonl", data / f"applicants-{n}.parquet"
    stamp_path = data / f"applicants-{n}.stamp.json"
    workload_text = (bench / "workload.py").read_bytes()
    import hashlib

    stamp = {"n": n, "block": BLOCK, "row_group": ROW_GROUP, "workload": hashlib.sha256(workload_text).hexdigest()}
    try:
        old = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    if (
        old is not None
        and {k: old.get(k) for k in stamp} == stamp
        and jsonl.is_file()
        and parquet.is_file()
        and old.get("jsonl_bytes") == jsonl.stat().st_size
        and old.get("parquet_bytes") == parquet.stat().st_size
    ):
        print(f"reusing {jsonl.name} and {parquet.name} in {data}", file=sys.stderr)
        return jsonl, parquet
    t = time.perf_counter()
    bigger = sorted(
        (int(p.name.split("-")[1].split(".")[0]), p)
        for p in data.glob("applicants-*.jsonl")
        if p.name.split("-")[1].split(".")[0].isdigit()
    )
    source = next((p for m, p in bigger if m > n and _stamped(data, m, stamp)), None)
    if source is not None:  # the first n records of a bigger file are the same records
        with source.open("rb") as f, jsonl.open("wb") as out:
            out.writelines(itertools.islice(f, n))
        how = f"the first {n:,} of {source.name}"
    else:
        generate_jsonl(n, jsonl, bench, os.cpu_count() or 1)
        how = f"generated on {min(os.cpu_count() or 1, (n + BLOCK - 1) // BLOCK)} processes"
    made = time.perf_counter()
    print(
        f"{jsonl.name}: {n:,} records, {jsonl.stat().st_size / 2**20:,.0f} MiB ({how}) in {made - t:.0f} s",
        file=sys.stderr,
    )
    write_parquet(jsonl, parquet)
    print(
        f"{parquet.name}: {parquet.stat().st_size / 2**20:,.0f} MiB in {time.perf_counter() - made:.0f} s",
        file=sys.stderr,
    )
    stamp.update(jsonl_bytes=jsonl.stat().st_size, parquet_bytes=parquet.stat().st_size)
    stamp_path.write_text(json.dumps(stamp), encoding="utf-8")
    return jsonl, parquet


def _stamped(data: Path, m: int, stamp: dict[str, Any]) -> bool:
    try:
        old = json.loads((data / f"applicants-{m}.stamp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return old.get("workload") == stamp["workload"] and old.get("block") == stamp["block"]


def sample_files(jsonl: Path, data: Path) -> tuple[Path, Path]:
    sample = data / f"sample-{SAMPLE}.jsonl"
    with jsonl.open("rb") as f, sample.open("wb") as out:
        out.writelines(itertools.islice(f, SAMPLE))
    parquet = sample.with_suffix(".parquet")
    write_parquet(sample, parquet)
    return sample, parquet


# --------------------------------------------------------------------------- variants


def check_cmd(inp: Path, out: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "engine",
        "check",
        RULEBOOK,
        str(inp),
        "--decision",
        DECISION,
        *options,
        "--output",
        str(out),
        "--progress",
        "never",
    ]


def variant_forms(name: str, inp: Path, out: Path, bench: Path) -> list[tuple[list[str], str]]:
    """The forms of a variant to try, best first, each with what to say when it is the one used."""
    if name.startswith("columnar"):
        return [(check_cmd(inp, out, "--engine", "columnar", "--format", "parquet"), "")]
    if name.startswith("(a)"):
        json_out = out.with_suffix(".jsonl")
        return [
            (check_cmd(inp, out, "--engine", "records", "--format", "parquet", "--jobs", "2"), ""),
            (
                check_cmd(inp, json_out, "--engine", "records", "--format", "json", "--jobs", "2"),
                "--format parquet with --jobs 2 refused: --format json used",
            ),
            (
                check_cmd(inp, json_out, "--format", "json", "--jobs", "2"),
                "no --engine option yet: the per-record engine with --format json",
            ),
        ]
    if name.startswith("(b)"):
        return [([sys.executable, "-c", PARSE_AND_WRITE, str(inp), str(out)], "")]
    mode = "baseline" if name.startswith("(c)") else "reference"
    return [([sys.executable, "-c", PER_RECORD, str(bench), mode, str(inp), str(out)], "")]


VARIANTS: tuple[tuple[str, str], ...] = (  # (name, input format)
    ("columnar", "jsonl"),
    ("columnar", "parquet"),
    ("(a) records --jobs 2", "jsonl"),
    ("(a) records --jobs 2", "parquet"),
    ("(b) parse+write", "jsonl"),
    ("(c) baseline per record", "jsonl"),
    ("(c') reference per record", "jsonl"),
)


ENGINE_SOURCE: list[str] = [str(ROOT)]  # where the timed commands import ``engine`` from (--engine-src)


def run_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (*ENGINE_SOURCE, env.get("PYTHONPATH")) if p)
    env["RULEBOOK_LANG"] = "en"
    return env


def measure(cmd: list[str]) -> tuple[float, float, int, str]:
    """(seconds, peak RSS of the largest process in MiB, exit code, tail of its stderr), in a fresh process."""
    p = subprocess.run(
        [sys.executable, "-c", MEASURE, str(LIMIT_SECONDS), *cmd],
        capture_output=True,
        text=True,
        env=run_env(),
        cwd=ENGINE_SOURCE[0],  # ``python -m`` puts the working folder first on the path
        check=False,
    )
    if p.returncode != 0:
        return float("nan"), float("nan"), -1, p.stderr[-2000:]
    seconds, rss_kib, code = p.stdout.split()
    return float(seconds), int(rss_kib) / 1024, int(code), p.stderr


def choose_forms(
    sample: dict[str, Path], work: Path, bench: Path
) -> dict[tuple[str, str], tuple[int, str] | tuple[None, str]]:
    """For each variant, the index of the first form the command line accepts on the sample, or why none."""
    chosen: dict[tuple[str, str], tuple[int, str] | tuple[None, str]] = {}
    for name, fmt in VARIANTS:
        why = ""
        for i, (cmd, note) in enumerate(variant_forms(name, sample[fmt], work / "trial.parquet", bench)):
            _, _, code, err = measure(cmd)
            if code in (0, 1):  # 1: some records did not pass, as check says
                chosen[(name, fmt)] = (i, note)
                break
            said = [line.strip() for line in err.splitlines() if line.strip()]
            why = next((line for line in said if "error" in line.lower()), said[0] if said else f"exit {code}")
        else:
            chosen[(name, fmt)] = (None, why)
            print(f"  {name} ({fmt}): not available: {why}", file=sys.stderr)
    return chosen


# --------------------------------------------------------------------------- comparison


def compare_tables(columnar: Path, records: Path) -> dict[str, Any]:
    """Column by column (one at a time, to bound memory): rows differing, first differing rows."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    a, b = pq.ParquetFile(columnar), pq.ParquetFile(records)
    report: dict[str, Any] = {
        "rows": [a.metadata.num_rows, b.metadata.num_rows],
        "same_schema": a.schema_arrow.equals(b.schema_arrow),
        "columns": {},
    }
    for name in a.schema_arrow.names:
        if name not in b.schema_arrow.names:
            report["columns"][name] = {"missing_in_records": True}
            continue
        x = pq.read_table(columnar, columns=[name]).column(0).combine_chunks()
        y = pq.read_table(records, columns=[name]).column(0).combine_chunks()
        if x.type != y.type or len(x) != len(y):
            report["columns"][name] = {"types": [str(x.type), str(y.type)], "lengths": [len(x), len(y)]}
            continue
        same = pc.or_kleene(pc.equal(x, y), pc.and_(x.is_null(), y.is_null()))
        differs = pc.invert(pc.fill_null(same, False))
        count = pc.sum(differs).as_py() or 0
        entry: dict[str, Any] = {"differing_rows": count}
        if count:
            rows = pc.indices_nonzero(differs)[:3].to_pylist()
            entry["first"] = [{"row": r + 1, "columnar": x[r].as_py(), "records": y[r].as_py()} for r in rows]
        report["columns"][name] = entry
    decisive = [c for c in report["columns"] if c == "outcome" or c.startswith("rule.")]
    report["statuses_and_outcomes_equal"] = (
        report["rows"][0] == report["rows"][1]
        and bool(decisive)
        and all(report["columns"][c].get("differing_rows") == 0 for c in decisive)
    )
    report["all_columns_equal"] = report["same_schema"] and all(
        v.get("differing_rows") == 0 for v in report["columns"].values()
    )
    return report


def describe_comparison(label: str, report: dict[str, Any]) -> str:
    rules = [c for c in report["columns"] if c.startswith("rule.")]
    lines = [
        (
            f"{label}: {report['rows'][0]:,} rows against {report['rows'][1]:,}; the {len(rules)} status columns and "
            f"the outcome {'equal on every row' if report['statuses_and_outcomes_equal'] else 'DIFFER'}; "
            f"all {len(report['columns'])} columns {'equal' if report['all_columns_equal'] else 'not all equal'}"
            f"{'' if report['same_schema'] else ' (schemas differ)'}"
        )
    ]
    for name, entry in report["columns"].items():
        if entry.get("differing_rows") != 0:
            lines.append(f"    {name}: {entry}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the run


def machine_note() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for module in ("polars", "pyarrow"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        **versions,
    }


def show_command(cmd: list[str]) -> str:
    """The command as a reader would type it: ``python``, file names without their folders."""
    if cmd[1] == "-c":
        return "python -c SCRIPT " + " ".join(Path(a).name for a in cmd[3:])
    shown = ["rulebook" if cmd[1:3] == ["-m", "engine"] else "python"]
    return " ".join(shown + [Path(a).name if a.startswith(os.sep) else a for a in cmd[3:]])


def describe_machine(note: dict[str, Any]) -> str:
    loads = [note.get("load_average"), note.get("load_average_after")]
    shown = " -> ".join(", ".join(f"{x:.2f}" for x in load) for load in loads if load)
    return (
        f"{note['cpu']}, {note['cores']} cores; CPython {note['python']}, polars {note['polars']}, "
        f"pyarrow {note['pyarrow']}; load average (1, 5, 15 min) {shown}"
    )


def run_size(
    n: int, files: dict[str, Path], work: Path, bench: Path, repeat: int, forms: dict[Any, Any], verify: bool
) -> dict[str, Any]:
    outputs = {  # one output per variant, kept for the comparison
        key: work / f"out-{i}-{key[1]}.{'parquet' if key[0].startswith(('columnar', '(a)')) else 'txt'}"
        for i, key in enumerate(VARIANTS)
    }
    cmds: dict[tuple[str, str], tuple[list[str], str]] = {}
    for key in VARIANTS:
        index, _ = forms[key]
        if index is not None:
            cmds[key] = variant_forms(key[0], files[key[1]], outputs[key], bench)[index]
    runs: dict[tuple[str, str], list[tuple[float, float, int, str]]] = {k: [] for k in cmds}
    started = dt.datetime.now(dt.UTC)
    for round_ in range(repeat):
        for key, (cmd, _) in cmds.items():  # interleaved, so noise falls on every variant alike
            runs[key].append(measure(cmd))
            seconds, rss, code, err = runs[key][-1]
            print(
                f"  [{n:,}, round {round_ + 1}] {key[0]} ({key[1]}): {seconds:.1f} s, {rss:,.0f} MiB, exit {code}",
                file=sys.stderr,
            )
            if code not in (0, 1):
                print(err, file=sys.stderr)
    figures: dict[str, Any] = {}
    for key, results in runs.items():
        seconds = statistics.median(r[0] for r in results)
        tail = [line for line in results[-1][3].splitlines() if line.strip()][-3:]
        figures[f"{key[0]} | {key[1]}"] = {
            "variant": key[0],
            "input": key[1],
            "command": show_command(cmds[key][0]),
            "note": cmds[key][1],
            "seconds": seconds,
            "all_seconds": [r[0] for r in results],
            "records_per_s": n / seconds,
            "peak_rss_mib": max(r[1] for r in results),
            "exit_codes": sorted({r[2] for r in results}),
            "stderr_tail": tail,
        }
    result: dict[str, Any] = {"n": n, "repeat": repeat, "started": started.isoformat(timespec="seconds")}
    result["figures"] = figures
    ok = all(set(f["exit_codes"]) <= {0, 1} for f in figures.values())
    if verify:
        comparisons = {}
        for fmt in ("jsonl", "parquet"):
            col, rec = ("columnar", fmt), ("(a) records --jobs 2", fmt)
            if col not in cmds:
                continue
            rec_out = outputs[rec]
            if forms[rec][0] != 0:  # not timed as Parquet: one more run
                rec_out = work / f"verify-records-{fmt}.parquet"
                cmd = check_cmd(files[fmt], rec_out, "--engine", "records", "--format", "parquet")
                code = measure(cmd)[2]
                if code not in (0, 1):
                    print(f"  the per-record Parquet run for the comparison failed (exit {code})", file=sys.stderr)
                    ok = False
                    continue
            report = compare_tables(outputs[col], rec_out)
            comparisons[fmt] = report
            print(describe_comparison(f"columnar vs records, {fmt}, {n:,} records", report), file=sys.stderr)
            ok = ok and report["statuses_and_outcomes_equal"]
        result["comparisons"] = comparisons
    result["ok"] = ok
    return result


def print_table(result: dict[str, Any]) -> None:
    n, figures = result["n"], result["figures"]

    def rate(variant: str, fmt: str = "jsonl") -> float | None:
        f = figures.get(f"{variant} | {fmt}")
        return f["records_per_s"] if f else None

    print(f"\n### {n:,} records, {result['repeat']} round(s), medians\n")
    print("| variant | input | records/s | seconds | peak RSS (MiB) | columnar (same input) ÷ this |")
    print("|---|---|---:|---:|---:|---:|")
    for f in figures.values():
        col = rate("columnar", f["input"]) or rate("columnar", "jsonl")
        ratio = f"{col / f['records_per_s']:.1f}x" if col and not f["variant"].startswith("columnar") else ""
        print(
            f"| {f['variant']} | {'JSON Lines' if f['input'] == 'jsonl' else 'Parquet'} | {f['records_per_s']:,.0f} "
            f"| {f['seconds']:.1f} | {f['peak_rss_mib']:,.0f} | {ratio} |"
        )
    notes = [f"{f['variant']} ({f['input']}): {f['note']}" for f in figures.values() if f["note"]]
    for note in notes:
        print(f"\n{note}")
    parse = rate("(b) parse+write")
    for fmt in ("jsonl", "parquet"):
        col = rate("columnar", fmt)
        if col and parse:
            print(
                f"\ncolumnar from {fmt}: {col / parse:.1f}x (b) (target {TARGET_OVER_PARSE:.0f}x: "
                f"{'met' if col >= TARGET_OVER_PARSE * parse else 'missed'})",
                end="",
            )
    col = rate("columnar", "parquet")
    if col:
        print(
            f"\ncolumnar from Parquet: {col:,.0f} records/s (target {TARGET_PARQUET_RATE:,}: "
            f"{'met' if col >= TARGET_PARQUET_RATE else 'missed'})"
        )
    for f in figures.values():
        if f["variant"] == "columnar" and f["stderr_tail"]:
            print(f"\ncolumnar ({f['input']}) said: " + " / ".join(f["stderr_tail"]))
    print()


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--n takes sizes separated by commas, not {text!r}") from None
    if not sizes or sizes[0] < SAMPLE:
        raise argparse.ArgumentTypeError(f"every size must be at least {SAMPLE}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=parse_sizes, default=[1_000_000, 10_000_000], help="sizes, e.g. 1000000,10000000")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds of every variant (median reported)")
    parser.add_argument("--quick", action="store_true", help="200,000 records, one round")
    parser.add_argument("--data-dir", help="keep the generated files here and reuse them (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument("--bench-dir", help="the shared benchmark (default: $RULEBOOK_BENCH_DIR or ../shared/bench)")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip comparing the columnar table with the records one"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--engine-src",
        help="time the engine in this folder (e.g. `git archive` of one commit's engine/) instead of the checkout",
    )
    parser.add_argument(
        "--only",
        help="time only the variants whose names start with one of these, comma-separated (e.g. columnar,(b))",
    )
    parser.add_argument(
        "--inputs", default="jsonl,parquet", help="the inputs of the engine's variants: jsonl, parquet or both"
    )
    parser.add_argument("--prepare-only", action="store_true", help="make the data files under --data-dir and stop")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeat = [200_000], 1
    if not {i.strip() for i in args.inputs.split(",")} <= {"jsonl", "parquet"}:
        parser.error("--inputs takes jsonl, parquet or jsonl,parquet")
    if args.prepare_only and not args.data_dir:
        parser.error("--prepare-only needs --data-dir (where the files stay)")
    bench = bench_dir(args.bench_dir)
    if args.engine_src:
        if not (Path(args.engine_src) / "engine" / "__init__.py").is_file():
            parser.error(f"--engine-src: no engine/__init__.py in {args.engine_src}")
        ENGINE_SOURCE[:] = [str(Path(args.engine_src).resolve())]
    if args.data_dir:
        data = Path(args.data_dir).resolve()
        data.mkdir(parents=True, exist_ok=True)
    else:
        data = Path(tempfile.mkdtemp(prefix="columnar-bench-"))
    work = Path(tempfile.mkdtemp(prefix="out-", dir=data))
    note = machine_note()
    print(f"machine: {describe_machine(note)}", file=sys.stderr)
    results: list[dict[str, Any]] = []
    try:
        prepared = {n: prepare(n, data, bench) for n in sorted(args.n, reverse=True)}  # the largest first
        if args.prepare_only:
            return 0
        sample = dict(zip(("jsonl", "parquet"), sample_files(prepared[min(args.n)][0], data), strict=True))
        forms = choose_forms(sample, work, bench)
        wanted = tuple(w.strip() for w in (args.only or "").split(",") if w.strip()) or ("",)
        inputs = {i.strip() for i in args.inputs.split(",")}
        forms = {
            k: v if k[0].startswith(wanted) and k[1] in inputs else (None, "left out by --only or --inputs")
            for k, v in forms.items()
        }
        for n in sorted(args.n):
            jsonl, parquet = prepared[n]
            result = run_size(
                n, {"jsonl": jsonl, "parquet": parquet}, work, bench, args.repeat, forms, not args.no_verify
            )
            results.append(result)
            print_table(result)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.data_dir:
            if args.keep:
                print(f"the data stays in {data}", file=sys.stderr)
            else:
                shutil.rmtree(data, ignore_errors=True)
    note["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"machine: {describe_machine(note)}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": note, "engine_source": args.engine_src or "checkout", "runs": results},
                indent=2,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
    return 0 if results and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
