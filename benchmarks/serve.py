"""Load benchmark of ``rulebook serve`` on 127.0.0.1: decisions/s and latency, against the HTTP stack's ceiling.

Usage::

    python benchmarks/serve.py [--requests 20000] [--batch-records 20000] [--runs 3] [--workers 1,2]
                               [--connections 8] [--write] [--json PATH]

For each worker count, each run starts one ``rulebook serve --port 0 --no-access-log``
(the default configuration otherwise: decision log on, written to ``/dev/null``), waits
for ``/readyz`` and measures on that one server, in this order:

* ``empty``: ``GET /healthz``, a small JSON answer that touches no rulebook: the ceiling
  of the HTTP stack (uvicorn, Starlette, the service's middleware);
* ``decision``: ``POST /rulebooks/hlj-musicians/membership/decisions/admission`` with one
  applicant, the whole explained decision;
* ``decision, explain=false``: the same with ``?explain=false`` (outcome and statuses);
* ``batch``: ``POST .../admission/batch`` with ``--batch-records`` JSON Lines (the 20
  applicants of ``examples/applicants.jsonl`` over and over, each with its own id),
  streamed up and down by ``curl`` (with several workers, as many concurrent batches as
  workers, each with its share of the lines).  Every answer line is counted.

and, outside the server, ``rulebook check hlj-musicians/membership FILE --format json
--jobs 1`` on the same lines (a whole process, its start included, output to
``/dev/null``).  With two workers in the list, each run also starts two independent
one-worker servers side by side, each loaded by a load generator of its own at the same
time: their summed decisions/s is what this machine gives two processes that share
nothing, the ceiling against which ``--workers 2`` is read.

The single requests are sent by ``wrk`` (Debian's package, a compiled load generator;
when it is missing and the benchmark runs as root it is installed with ``apt-get``),
stopping by itself after ``--requests`` answers (a Lua script counts them; ``-d`` is
only a safety bound), over ``--connections`` kept-alive connections.  Without ``wrk`` an
asynchronous httpx client sends them instead, and its own ceiling is shown: its rate
against the empty endpoint, which it must exceed for its figures to say anything.  The
CPU time the load generator used is printed too (it shares the machine's cores with the
server).

Every figure is the median of ``--runs`` runs.  The targets checked (exit 1 when one is
missed): the decision endpoint at least 70% of the empty one; the batch at least 50% of
``check``'s records/s; two workers at least 1.7x one on single decisions.  ``--write``
replaces the "rulebook serve" section of ``benchmarks/RESULTS.md`` (between its marker
comments; added at the top when missing).  Everything listens on and is sent to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN = "<!-- serve:begin (written by benchmarks/serve.py --write) -->"
END = "<!-- serve:end -->"
DECISION = "/rulebooks/hlj-musicians/membership/decisions/admission"
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
TARGETS = {"decision / empty": 0.70, "batch / check": 0.50, "2 workers / 1": 1.70}
SAFETY_SECONDS = 300  # no single load run may take longer than this

WRK_SCRIPT = r"""
local body_file = os.getenv("BENCH_BODY")
local limit = tonumber(os.getenv("BENCH_LIMIT"))
if body_file ~= nil and body_file ~= "" then
  local f = io.open(body_file, "rb"); wrk.body = f:read("*a"); f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
local answered = 0
-- wrk runs for its -d duration even after a thread stops, so the script says when the first
-- answer came and when the last one counted did; the benchmark times those lines and interrupts
-- wrk (SIGINT), which then prints its summary
function response(status, headers, body)
  answered = answered + 1
  if answered == 1 then io.write("FIRST\n"); io.stdout:flush() end
  if answered == limit then
    io.write("LIMIT\n"); io.stdout:flush()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "bad_status": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d}\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
"""


def serve_command() -> list[str]:
    return [sys.executable, "-m", "engine", "serve"]


def check_command() -> list[str]:
    return [sys.executable, "-m", "engine", "check"]


class Server:
    """One ``rulebook serve`` process on a free port of 127.0.0.1."""

    def __init__(self, workers: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RULEBOOK_SERVE_")}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.proc = subprocess.Popen(
            [*serve_command(), "--port", "0", "--workers", str(workers), "--no-access-log"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        self.url = ""
        self.lines: list[str] = []
        found = threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line)
                m = SERVING.search(line)
                if m and not self.url:
                    self.url = m.group(1)
                    found.set()
            found.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not found.wait(120) or not self.url:
            self.stop()
            raise SystemExit("the server did not start:\n" + "".join(self.lines))
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("the server never became ready:\n" + "".join(self.lines))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the supervisor and its workers
                self.proc.wait()
        self.reader.join(10)


# -- load generators ---------------------------------------------------------------------------------------


def find_wrk(install: bool) -> str | None:
    found = shutil.which("wrk")
    if found or not install or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("wrk is not installed: installing Debian's package (apt-get install -y wrk)", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=600)
    return shutil.which("wrk")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(wrk: str, script: Path, url: str, requests: int, connections: int, body: Path | None) -> dict[str, Any]:
    env = {**os.environ, "BENCH_LIMIT": str(requests), "BENCH_BODY": str(body) if body else ""}
    cpu = _children_cpu()
    proc = subprocess.Popen(
        [wrk, "-t1", f"-c{connections}", f"-d{SAFETY_SECONDS}s", "--timeout", "10s", "-s", str(script), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    guard = threading.Timer(SAFETY_SECONDS + 30, proc.kill)
    guard.start()
    first = last = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("FIRST"):
            first = time.perf_counter()
        elif line.startswith("LIMIT"):
            last = time.perf_counter()
            proc.send_signal(signal.SIGINT)
            break
    out, err = proc.communicate()
    guard.cancel()
    cpu = _children_cpu() - cpu
    summary = next((ln for ln in out.splitlines() if ln.startswith("{")), None)
    if proc.returncode != 0 or summary is None or first is None or last is None:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
    r = json.loads(summary)
    seconds = last - first
    errors = r["bad_status"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    if errors:
        raise SystemExit(f"{errors} requests to {url} failed: {r}")
    return {
        "rate": (requests - 1) / seconds,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "requests": r["requests"],
        "client_cpu": cpu / seconds,
    }


def run_httpx(url: str, requests: int, connections: int, body: Path | None) -> dict[str, Any]:
    import httpx

    content = body.read_bytes() if body else None
    latencies: list[float] = []

    async def worker(client: httpx.AsyncClient, n: int) -> None:
        for _ in range(n):
            t = time.perf_counter()
            if content is None:
                answer = await client.get(url)
            else:
                answer = await client.post(url, content=content, headers={"content-type": "application/json"})
            latencies.append(time.perf_counter() - t)
            if answer.status_code != 200:
                raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:300]}")

    async def main() -> float:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            t = time.perf_counter()
            share = [requests // connections + (1 if i < requests % connections else 0) for i in range(connections)]
            await asyncio.wait_for(asyncio.gather(*(worker(client, n) for n in share)), SAFETY_SECONDS)
            return time.perf_counter() - t

    cpu = time.process_time()
    seconds = asyncio.run(main())
    latencies.sort()
    return {
        "rate": requests / seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "requests": requests,
        "client_cpu": (time.process_time() - cpu) / seconds,
    }


# -- batch and check ---------------------------------------------------------------------------------------


def write_records(path: Path, n: int) -> None:
    base = [
        json.loads(line)
        for line in (ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(base[i % len(base)] | {"id": f"B-{i:07d}"}, ensure_ascii=False) + "\n")


def split_records(path: Path, parts: int, folder: Path) -> list[Path]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    size = -(-len(lines) // parts)
    out = []
    for i in range(parts):
        part = folder / f"part-{i}.jsonl"
        part.write_text("".join(lines[i * size : (i + 1) * size]), encoding="utf-8")
        out.append(part)
    return out


def run_batch(url: str, parts: list[Path], folder: Path) -> dict[str, Any]:
    curl = shutil.which("curl")
    if curl is None:
        raise SystemExit("the batch is sent with curl, which is not installed")
    outputs = [folder / f"answer-{i}.jsonl" for i in range(len(parts))]
    t = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                curl,
                "-sS",
                "--fail",
                "-X",
                "POST",
                "-T",
                str(part),
                "-H",
                "Content-Type: application/x-ndjson",
                "-o",
                str(out),
                "--max-time",
                str(SAFETY_SECONDS),
                url + DECISION + "/batch",
            ]
        )
        for part, out in zip(parts, outputs, strict=True)
    ]
    codes = [p.wait() for p in procs]
    seconds = time.perf_counter() - t
    if any(codes):
        raise SystemExit(f"a batch failed: curl exit codes {codes}")
    sent = sum(len(p.read_bytes().splitlines()) for p in parts)
    answered = 0
    for out in outputs:
        data = out.read_bytes()
        answered += data.count(b"\n")
        if b'"type": "https://' in data or b'"type":"https://' in data:
            raise SystemExit(f"the batch ended with a problem: {data.splitlines()[-1][:300]!r}")
    if answered != sent:
        raise SystemExit(f"the batch answered {answered} lines for {sent}")
    return {"rate": sent / seconds, "seconds": seconds}


def run_check(records: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    n = len(records.read_bytes().splitlines())
    t = time.perf_counter()
    done = subprocess.run(
        [*check_command(), "hlj-musicians/membership", str(records), "--format", "json", "--jobs", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=SAFETY_SECONDS,
    )
    seconds = time.perf_counter() - t
    if done.returncode not in (0, 1):
        raise SystemExit(f"rulebook check failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return {"rate": n / seconds, "seconds": seconds}


# -- one run, many runs ------------------------------------------------------------------------------------


def one_run(workers: int, args: argparse.Namespace, wrk: str | None, folder: Path) -> dict[str, dict[str, Any]]:
    record = folder / "record.json"
    record.write_text(
        (ROOT / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0], encoding="utf-8"
    )
    script = folder / "count.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    server = Server(workers)
    try:

        def load(path: str, body: Path | None) -> dict[str, Any]:
            if wrk is not None:
                return run_wrk(wrk, script, server.url + path, args.requests, args.connections, body)
            return run_httpx(server.url + path, args.requests, args.connections, body)

        load("/healthz", None)  # warm-up: connections, first requests, caches
        load(DECISION, record)
        out = {
            "empty": load("/healthz", None),
            "decision": load(DECISION, record),
            "decision, explain=false": load(DECISION + "?explain=false", record),
        }
        parts = split_records(folder / "records.jsonl", workers, folder)
        out["batch"] = run_batch(server.url, parts, folder)
    finally:
        server.stop()
    return out


def side_by_side(args: argparse.Namespace, wrk: str | None, folder: Path) -> dict[str, Any]:
    """Two independent one-worker servers, each loaded by a load generator of its own at once: the
    decisions/s this machine gives two processes that share nothing, the ceiling of two workers."""
    record = folder / "record.json"
    servers = [Server(1), Server(1)]
    try:
        rates: list[float] = [0.0, 0.0]

        def load(i: int) -> None:
            url = servers[i].url + DECISION
            if wrk is not None:
                rates[i] = run_wrk(wrk, folder / "count.lua", url, args.requests, args.connections, record)["rate"]
            else:
                rates[i] = run_httpx(url, args.requests, args.connections, record)["rate"]

        for i in (0, 1):  # warm-up, one at a time
            load(i)
        threads = [threading.Thread(target=load, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for server in servers:
            server.stop()
    return {"rate": sum(rates)}


def medians(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    keys = runs[0].keys()
    return {k: {f: statistics.median(r[k][f] for r in runs) for f in runs[0][k]} for k in keys}


def report(
    results: dict[int, dict[str, dict[str, float]]],
    check: dict[str, float],
    pair: dict[str, float] | None,
    args: argparse.Namespace,
    generator: str,
) -> tuple[str, dict[str, float], bool]:
    lines = [
        "| workers | measure | answers/s (median) | p50 ms | p99 ms | load generator CPU |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for workers, m in results.items():
        for key in ("empty", "decision", "decision, explain=false"):
            r = m[key]
            lines.append(
                f"| {workers} | {key} | {r['rate']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{r['client_cpu'] * 100:.0f}% of a core |"
            )
        lines.append(
            f"| {workers} | batch, records/s ({workers} concurrent batch{'es' if workers > 1 else ''}) | "
            f"{m['batch']['rate']:,.0f} | | | |"
        )
    lines.append(
        f"| - | `rulebook check --format json --jobs 1`, records/s (whole process) | {check['rate']:,.0f} | | | |"
    )
    if pair is not None:
        lines.append(
            f"| 1 + 1 | decision, two independent one-worker servers side by side (sum) | {pair['rate']:,.0f} | | | |"
        )
    one = results[min(results)]
    ratios = {
        "decision / empty": one["decision"]["rate"] / one["empty"]["rate"],
        "decision, explain=false / empty": one["decision, explain=false"]["rate"] / one["empty"]["rate"],
        "batch / check": one["batch"]["rate"] / check["rate"],
    }
    if 2 in results and 1 in results:
        ratios["2 workers / 1"] = results[2]["decision"]["rate"] / results[1]["decision"]["rate"]
        ratios["2 workers / 1, explain=false"] = (
            results[2]["decision, explain=false"]["rate"] / results[1]["decision, explain=false"]["rate"]
        )
        ratios["2 workers / 1, batch"] = results[2]["batch"]["rate"] / results[1]["batch"]["rate"]
        ratios["2 workers / 1, empty"] = results[2]["empty"]["rate"] / results[1]["empty"]["rate"]
    if pair is not None and 1 in results:
        ratios["two independent servers / 1 (the machine's ceiling)"] = pair["rate"] / results[1]["decision"]["rate"]
    ok = True
    lines += ["", "| ratio | measured | target |", "| --- | ---: | ---: |"]
    for name, value in ratios.items():
        target = TARGETS.get(name)
        met = target is None or value >= target
        ok &= met
        times = "workers" in name or "servers" in name
        shown = f"{value:.2f}" if times else f"{value:.0%}"
        want = "" if target is None else (f"≥ {target:.2f}" if times else f"≥ {target:.0%}")
        lines.append(f"| {name} | {shown} | {want}{'' if met else ' (missed)'} |")
    table = "\n".join(lines)
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = f"""{BEGIN}
## rulebook serve (`benchmarks/serve.py --runs {args.runs}`, {now})

CPython {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.2f} when
written. One `rulebook serve --no-access-log` per run and worker count (decision log on, to
`/dev/null`); single requests sent by {generator} over {args.connections} kept-alive connections,
{args.requests:,} answers per measure; the batch: {args.batch_records:,} applicants as JSON Lines sent
by `curl` (as many concurrent batches as workers); `check` on the same file. Medians of {args.runs} runs.

{table}
{END}
"""
    return text, ratios, ok


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
    ap.add_argument("--requests", type=int, default=20_000, help="answers per single-request measure (default 20000)")
    ap.add_argument("--batch-records", type=int, default=20_000, help="lines of the batch (default 20000)")
    ap.add_argument("--connections", type=int, default=8, help="kept-alive connections (default 8)")
    ap.add_argument("--runs", type=int, default=3, help="runs of everything; medians are reported (default 3)")
    ap.add_argument("--workers", default="1,2", help="worker counts, comma separated (default 1,2)")
    ap.add_argument(
        "--client",
        choices=("auto", "wrk", "httpx"),
        default="auto",
        help="load generator for single requests (default: wrk when installed or installable)",
    )
    ap.add_argument("--write", action="store_true", help="update the rulebook serve section of benchmarks/RESULTS.md")
    ap.add_argument("--json", type=Path, help="also write the medians as JSON to this file")
    args = ap.parse_args(argv)
    wrk = None if args.client == "httpx" else find_wrk(install=True)
    if args.client == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    generator = "`wrk` (one thread)" if wrk else "an asynchronous httpx client"
    workers_list = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        folder = Path(tmp)
        write_records(folder / "records.jsonl", args.batch_records)
        runs: dict[int, list[dict[str, dict[str, Any]]]] = {w: [] for w in workers_list}
        checks = []
        pairs = []
        for i in range(args.runs):
            for w in workers_list:
                result = one_run(w, args, wrk, folder)
                runs[w].append(result)
                print(
                    f"run {i + 1}, {w} worker(s): " + ", ".join(f"{k} {v['rate']:,.0f}/s" for k, v in result.items()),
                    file=sys.stderr,
                )
            checks.append(run_check(folder / "records.jsonl"))
            print(f"run {i + 1}: check {checks[-1]['rate']:,.0f} records/s", file=sys.stderr)
            if 2 in workers_list:
                pairs.append(side_by_side(args, wrk, folder))
                print(f"run {i + 1}: two one-worker servers {pairs[-1]['rate']:,.0f} decisions/s", file=sys.stderr)
        results = {w: medians(r) for w, r in runs.items()}
        check = {f: statistics.median(c[f] for c in checks) for f in checks[0]}
        pair = {"rate": statistics.median(p["rate"] for p in pairs)} if pairs else None
    text, ratios, ok = report(results, check, pair, args, generator)
    print(text)
    if args.write:
        write_results(text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "workers": {str(k): v for k, v in results.items()},
                    "check": check,
                    "ratios": ratios,
                    "generator": generator,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
