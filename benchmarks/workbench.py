"""The workbench's feedback time, server side, on the membership rulebook (3,846 lines).

Each round edits the text (a different `min_age` comparison each time, so nothing is answered
from a memo of the whole text) and times, in process through the ASGI application:
`POST /workbench/api/diagnostics`, `POST /workbench/api/examples`, and five times
`POST /workbench/api/impact` over a 20,000-record feed, each with another `min_age` (the
first reads the feed, the next ones find it remembered).  "before" is the same edit built
from nothing (`build_rulebook` without a memo, whole decisions compiled) plus `lint_book`.
Medians.  Run: `.venv/bin/python benchmarks/workbench.py [rounds]`.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
MEMBERSHIP = REPO / "rulebooks" / "hlj-musicians" / "membership.yaml"


def edited(text: str, i: int) -> str:
    return text.replace("require: age >= min_age", f"require: age + {i} >= min_age + {i}", 1)


async def main(rounds: int) -> None:
    from engine.build import build_rulebook
    from engine.serve.app import create_app
    from engine.serve.config import ServeConfig
    from engine.source import Source
    from engine.tools.lint import lint_book

    text = MEMBERSHIP.read_text(encoding="utf-8")
    before = []
    for i in range(min(rounds, 5)):
        t = time.perf_counter()
        book = build_rulebook(Source("m.yaml", edited(text, 1000 + i)), base_dir=MEMBERSHIP.parent)
        lint_book(book)
        before.append(time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp)
        lines = (REPO / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()
        with open(samples / "feed.jsonl", "w", encoding="utf-8") as f:
            for n in range(20_000):
                rec = json.loads(lines[n % len(lines)])
                rec["id"] = f"B-{n}"
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        app = create_app(ServeConfig(samples=(samples,), decision_log=False, request_timeout_s=600))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://b") as c:
            api = "/workbench/api"
            await c.post(f"{api}/diagnostics", json={"text": text})  # the first build fills the memo
            await c.post(f"{api}/examples", json={"text": text})
            diag, ex = [], []
            for i in range(rounds):
                body = {"text": edited(text, i)}
                t = time.perf_counter()
                r = await c.post(f"{api}/diagnostics", json=body)
                diag.append(time.perf_counter() - t)
                assert r.json()["ok"], r.text
                t = time.perf_counter()
                r = await c.post(f"{api}/examples", json=body)
                ex.append(time.perf_counter() - t)
                assert not r.json()["failed"]
            impact = []
            for i in range(5):  # the first reads the feed; the next ones find it in memory
                new = edited(text, 500 + i).replace("value: 18", f"value: {20 + i}", 1)
                body = {"text": new, "sample": "feed.jsonl"}
                t = time.perf_counter()
                r = await c.post(f"{api}/impact", json=body)
                impact.append(time.perf_counter() - t)
                final = json.loads(r.text.splitlines()[-1])
                assert final.get("total") == 20_000, final
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    print(f"before (build from nothing + lint), median of {len(before)}: {ms(before):.0f} ms")
    print(f"diagnostics after an edit, median of {rounds}: {ms(diag):.0f} ms")
    print(f"examples after an edit, median of {rounds}: {ms(ex):.0f} ms")
    print(f"impact over 20,000 records, the first (the feed read): {impact[0] * 1000:.0f} ms")
    print(f"impact over 20,000 records, median of the next {len(impact) - 1}: {ms(impact[1:]):.0f} ms")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 15))
