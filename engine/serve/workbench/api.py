"""The workbench's JSON endpoints: read, check, complete and save a rulebook's text.

The page (``static/index.html``, served at ``/``) calls these; so can an editor plugin or a
language server.  Every answer is JSON (``impact``: JSON Lines); every error a problem
details object (``application/problem+json``) in the reader's language (``?lang=`` or
``Accept-Language``), as the rest of the service.  Positions are 1-based lines and columns
counted in characters (code points) of the text.

``GET /workbench/api/config``
    ``{"edit": bool, "auth": bool, "user": name|null, "samples": [{"name", "records"}],
    "lang_default": "zh"|"en", "max_text_bytes": n}``.  ``auth``: tokens are configured;
    ``user``: the name of the bearer token sent (``name: TOKEN`` in the tokens file), or null.
``GET /workbench/api/rulebooks/{id}/doc?version=&lang=``
    ``{"id", "version", "status", "effective_from", "effective_until", "title", "source",
    "parameters": [{"name", "value", "cite", "description"}], "decisions": [{"name", "title",
    "record_kind", "as_of", "values": [{"name", "expression"}], "rules": [{"id", "article",
    "item", "cite", "title", "kind", "severity", "waivable", "when", "require", "values",
    "message", "note", "parameters": [names], "examples": {"pass": [names], "fail": [...], ...}}],
    "outputs": [{"name", "value", "when", "description"}]}], "examples": [{"name",
    "decision", "description", "outcome", "ok"}], "html": the page of ``rulebook doc``}``
    (``version`` default: in force today, else the newest).
``GET /workbench/api/rulebooks/{id}/source?version=``
    ``{"id", "version", "status", "path", "text"}``.
``POST /workbench/api/diagnostics`` ``{"text", "path"?, "rulebook"?}``
    ``{"ok": bool, "diagnostics": [{"code", "severity", "message", "help", "suggestions",
    "line", "column", "end_line", "end_column"}]}``: what ``rulebook lint`` says of the text
    (``ok``: no error).  ``rulebook`` (an id) names the rulebook the text is a version of:
    record schema files are then found beside it.
``POST /workbench/api/completions`` ``{"text", "line", "column"}``
    ``{"from": column where the word starts, "items": [{"label", "kind", "detail", "doc"}]}``;
    ``kind``: ``field`` (after ``record.``, the fields at that path), ``value``,
    ``parameter``, ``function`` (``detail``: its signatures), ``keyword``.
``POST /workbench/api/hover`` ``{"text", "line", "column"}``
    ``{"rule", "decision", "article", "item", "cite", "title", "note"}`` for a position inside a
    rule, else ``{"rule": null}``.
``POST /workbench/api/examples`` ``{"text", "rulebook"?}``
    ``{"ok": bool (it built), "passed": n, "failed": [{"example", "decision", "line",
    "expected", "got", "problems": [texts], "rules": [{"id", "article", "cite"}]}],
    "coverage": {"rules": n, "covered": n, "uncovered": [{"decision", "rule", "missing"}]},
    "diagnostics": [...] (when it did not build)}``.
``POST /workbench/api/impact`` ``{"text", "against"?, "sample"? | "records"?, "decision"?}``
    JSON Lines: ``{"progress": done, "total": n}`` lines, then ``{"changed", "total",
    "unreadable", "records": [first 200: {"line", "id", "decision", "before", "after",
    "outputs_before", "outputs_after", "rules": [{"id", "article", "before", "after"}]}],
    "by_article": {cite: n}, "by_rule": {id: n}, "against", "decisions"}``; a problem met
    on the way ends it with ``{"error": problem}``.
``POST /workbench/api/records?rulebook=&decision=&format=csv|tsv|xlsx&version=&name=``
    The body: a spreadsheet's bytes (at most the batch limit).  It is read by the engine's own
    readers as ``rulebook check`` reads the file, its cells typed through the decision's record
    schema (``version``: default in force today, else the newest; ``name``: the file's name, shown
    in the answers).  JSON Lines, in the file's order: ``{"warning": {"code", "message", "help",
    "input": {"file", "line", "sheet"?}, "column"}}`` for each header column that names no field
    (``column``: the character column in a CSV's header line, the column number in a worksheet),
    then per row ``{"input": {"file", "line", "sheet"?}, "record": the record}`` (the row as its
    ``line``, as ``rulebook check`` reports it), or for a row it cannot read the error object
    ``rulebook check --format json`` writes (``"outcome": "error"``, ``"record": null``, the same
    ``"input"``, ``"message"``).  422 ``input.no-known-column`` when the header
    names no field at all.
``POST /workbench/api/drafts`` ``{"text", "based_on"}``
    Needs ``--edit`` (else 403 ``serve.read-only``) and, with tokens, a valid one (401).
    ``{"path", "id", "version", "saved_by", "saved_at", "supersedes"}``; 422
    ``workbench.refused`` with ``diagnostics`` (and ``failed`` examples) when the text does not
    load cleanly, its examples fail, its status is not ``draft``, its version exists or its id
    is another rulebook's.
``GET /workbench/api/drafts``
    ``{"drafts": [{"path", "id", "version", "based_on", "saved_by", "saved_at"}]}`` (the save log).
``GET /workbench/api/samples``
    ``{"samples": [{"name", "format", "records", "bytes"}]}``.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import re
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from engine.errors import Diagnostic, EngineError, UsageError
from engine.messages import Text, listing
from engine.serve.problems import Problem
from engine.serve.workbench import drafts as _drafts
from engine.serve.workbench import language

if TYPE_CHECKING:
    from engine.evaluate import CompiledRulebook
    from engine.serve.rulebooks import LoadedBook, Snapshot

__all__ = ["Workbench", "diagnostic_json", "refused"]

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
IMPACT_SHOWN = 200
IMPACT_CHUNK = 1000
_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`")


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False).encode("utf-8"), status, media_type=JSON_TYPE)


def _bad(field: str, what: Text) -> Problem:
    return Problem(
        400,
        "workbench.bad-body",
        Text(f"`{field}`: {what.en}", f"`{field}`：{what.zh}"),
        field=field,
    )


class Workbench:
    """The endpoints of the workbench, over the service's configuration and rulebooks."""

    def __init__(self, service: Any) -> None:
        self.service = service
        self.config = service.config
        self.memos = language.Memos()
        self.save_lock = threading.Lock()

    def routes(self) -> list[Route]:
        base = "/workbench/api"
        return [
            Route(f"{base}/config", self.get_config, methods=["GET"]),
            Route(f"{base}/samples", self.samples, methods=["GET"]),
            Route(f"{base}/drafts", self.list_drafts, methods=["GET"]),
            Route(f"{base}/drafts", self.save_draft, methods=["POST"]),
            Route(f"{base}/diagnostics", self.diagnostics, methods=["POST"]),
            Route(f"{base}/completions", self.completions, methods=["POST"]),
            Route(f"{base}/hover", self.hover, methods=["POST"]),
            Route(f"{base}/examples", self.examples, methods=["POST"]),
            Route(f"{base}/impact", self.impact, methods=["POST"]),
            Route(f"{base}/records", self.records, methods=["POST"]),
            Route(base + "/rulebooks/{rulebook:path}/doc", self.doc, methods=["GET"]),
            Route(base + "/rulebooks/{rulebook:path}/source", self.source, methods=["GET"]),
        ]

    # -- helpers ----------------------------------------------------------------------------

    def lang(self, request: Request) -> str:
        given = request.query_params.get("lang")
        if given in ("zh", "en"):
            return given
        header = request.headers.get("accept-language") or ""
        for part in header.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh"
            if tag.startswith("en"):
                return "en"
        return str(self.config.lang)

    def params(self, request: Request, allowed: frozenset[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if key not in allowed or key in out:
                raise Problem(
                    400,
                    "serve.unknown-parameter",
                    Text(f"unknown or repeated query parameter `{key}`", f"未知或重复的查询参数 `{key}`"),
                    parameter=key,
                    candidates=sorted(allowed),
                )
            out[key] = value
        return out

    async def body(self, request: Request, limit: int) -> dict[str, Any]:
        """The JSON object of the body, at most ``limit`` bytes (413 beyond)."""
        raw = await self.raw_body(request, limit)
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise Problem(
                400,
                "record.json",
                Text("the body is not a JSON object", "请求体不是 JSON 对象"),
                help=Text('send `{"text": "..."}`', '请发送 `{"text": "..."}`'),
            ) from None
        if not isinstance(value, dict):
            raise Problem(400, "record.json", Text("the body is not a JSON object", "请求体不是 JSON 对象"))
        return value

    async def raw_body(self, request: Request, limit: int) -> bytes:
        """The bytes of the body, at most ``limit`` (413 beyond)."""
        too_large = Problem(
            413,
            "serve.body-too-large",
            Text(f"the body is larger than {limit} bytes", f"请求体超过 {limit} 字节"),
            help=Text("make the text shorter", "请缩短文本"),
            limit=limit,
        )
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.config.request_timeout_s):
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    chunks.append(chunk)
        except TimeoutError:
            raise Problem(
                503, "serve.timeout", Text("the request took too long", "请求用时过长"), headers={"Retry-After": "1"}
            ) from None
        return b"".join(chunks)

    def text_of(self, body: dict[str, Any]) -> str:
        text = body.get("text")
        if not isinstance(text, str):
            raise _bad(
                "text", Text("the rulebook's YAML text (a string) is needed", "需要规则集的 YAML 文本（字符串）")
            )
        return text

    def position(self, body: dict[str, Any]) -> tuple[int, int]:
        line, column = body.get("line"), body.get("column")
        for name, value in (("line", line), ("column", column)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise _bad(name, Text("a whole number from 1", "从 1 起的整数"))
        return int(line), int(column)  # type: ignore[arg-type]

    def snapshot(self) -> Snapshot:
        return self.service.rulebooks.snapshot()  # type: ignore[no-any-return]

    def loaded(self, rulebook: str, version: str | None) -> LoadedBook:
        snapshot = self.snapshot()
        try:
            if version is not None:
                return snapshot.version(rulebook, version)
            versions = snapshot.versions(rulebook)
        except UsageError as e:
            candidates = (
                snapshot.ids()
                if e.diagnostics[0].code == "usage.unknown-rulebook"
                else [v.version for v in snapshot.versions(rulebook)]
            )
            raise Problem.of_usage(e, 404, candidates=candidates) from None
        today = _dt.date.today()
        in_force = [v for v in versions if v.entry.in_force_on(today)]
        return max(in_force or versions, key=lambda v: (v.entry.effective_from, v.version))

    def base_dir(self, body: dict[str, Any]) -> Path | None:
        rid = body.get("rulebook")
        if not isinstance(rid, str):
            return None
        try:
            return self.loaded(rid, None).entry.path.parent
        except Problem:
            return None

    async def run(self, fn: Callable[[], Any]) -> Any:
        """``fn`` in a worker thread (building is CPU work), within the request's time."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn), self.config.request_timeout_s)
        except TimeoutError:
            raise Problem(
                503,
                "serve.timeout",
                Text(
                    f"the request took longer than {self.config.request_timeout_s:g} seconds",
                    f"请求用时超过 {self.config.request_timeout_s:g} 秒",
                ),
                headers={"Retry-After": "1"},
            ) from None

    def user(self, request: Request) -> str | None:
        header = request.headers.get("authorization") or ""
        if header[:7].lower() != "bearer ":
            return None
        return self.config.token_name(header[7:].strip())  # type: ignore[no-any-return]

    # -- reading ----------------------------------------------------------------------------

    async def get_config(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        samples = await self.run(lambda: _drafts.list_samples(self.config.samples))
        return _json(
            {
                "edit": self.config.edit,
                "auth": bool(self.config.tokens),
                "user": self.user(request),
                "samples": [{"name": s["name"], "records": s["records"]} for s in samples],
                "lang_default": self.config.lang,
                "max_text_bytes": self.config.max_text_bytes,
            }
        )

    async def samples(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        return _json({"samples": await self.run(lambda: _drafts.list_samples(self.config.samples))})

    async def doc(self, request: Request) -> Response:
        params = self.params(request, frozenset({"lang", "version"}))
        lang = params.get("lang") or self.lang(request)
        loaded = self.loaded(request.path_params["rulebook"], params.get("version"))
        return _json(await self.run(lambda: language.doc_json(loaded, lang)))

    async def source(self, request: Request) -> Response:
        params = self.params(request, frozenset({"lang", "version"}))
        loaded = self.loaded(request.path_params["rulebook"], params.get("version"))
        text = loaded.book.source.text
        return _json(
            {
                "id": loaded.id,
                "version": loaded.version,
                "status": loaded.entry.status,
                "path": loaded.entry.path.name,
                "text": text,
            }
        )

    # -- checking ---------------------------------------------------------------------------

    async def diagnostics(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        lang = self.lang(request)
        body = await self.body(request, self.config.max_text_bytes)
        text = self.text_of(body)
        name = body.get("path") if isinstance(body.get("path"), str) else "rulebook.yaml"
        base = self.base_dir(body)
        result = await self.run(lambda: self.memos.diagnose(text, str(name), base))
        return _json({"ok": result.ok, "diagnostics": [diagnostic_json(d, lang) for d in result.diagnostics]})

    async def completions(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        lang = self.lang(request)
        body = await self.body(request, self.config.max_text_bytes)
        text = self.text_of(body)
        line, column = self.position(body)
        base = self.base_dir(body)
        return _json(await self.run(lambda: self.memos.complete(text, line, column, lang, base)))

    async def hover(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        lang = self.lang(request)
        body = await self.body(request, self.config.max_text_bytes)
        text = self.text_of(body)
        line, column = self.position(body)
        return _json(await self.run(lambda: language.hover(text, line, column, lang)))

    async def examples(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        lang = self.lang(request)
        body = await self.body(request, self.config.max_text_bytes)
        text = self.text_of(body)
        base = self.base_dir(body)

        def work() -> dict[str, Any]:
            built = self.memos.build(text, "rulebook.yaml", base)
            if built.book is None:
                return {
                    "ok": False,
                    "passed": 0,
                    "failed": [],
                    "coverage": {"rules": 0, "covered": 0, "uncovered": []},
                    "diagnostics": [diagnostic_json(d, lang) for d in built.diagnostics],
                }
            return {"ok": True, **language.examples_json(built.book, lang)}

        return _json(await self.run(work))

    async def impact(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        lang = self.lang(request)
        body = await self.body(request, self.config.max_text_bytes + self.config.max_batch_bytes)
        text = self.text_of(body)
        if len(text.encode("utf-8")) > self.config.max_text_bytes:
            raise _text_too_large(self.config.max_text_bytes)
        base = self.base_dir(body)
        built = await self.run(lambda: self.memos.build(text, "rulebook.yaml", base, whole=True))
        if built.book is None:
            raise Problem(
                422,
                "workbench.does-not-build",
                Text("the text does not build: fix its errors first", "文本无法构建：请先改正其中的错误"),
                diagnostics=[diagnostic_json(d, lang) for d in built.diagnostics],
            )
        new: CompiledRulebook = built.book
        against = body.get("against")
        if against is not None and not isinstance(against, str):
            raise _bad("against", Text("a version (a string)", "版本（字符串）"))
        old = self.loaded(new.id, against) if against else self.in_force_or_newest(new.id)
        decision = body.get("decision")
        if decision is not None and (not isinstance(decision, str) or decision not in new.decisions):
            names = listing(new.decisions)
            raise _bad("decision", Text(f"one of {names.en}", f"以下之一：{names.zh}"))
        records = _drafts.impact_records(body, self.config.samples, new, decision, lang)
        return StreamingResponse(
            self.impact_lines(old, new, records, decision, lang),
            media_type=NDJSON_TYPE,
        )

    async def records(self, request: Request) -> Response:
        params = self.params(request, frozenset({"lang", "rulebook", "decision", "format", "version", "name"}))
        lang = params.get("lang") or self.lang(request)
        for needed in ("rulebook", "decision", "format"):
            if not params.get(needed):
                raise Problem(
                    400,
                    "workbench.missing-parameter",
                    Text(f"the query parameter `{needed}` is needed", f"缺少查询参数 `{needed}`"),
                    help=Text(
                        "send `?rulebook=ID&decision=NAME&format=csv|tsv|xlsx`",
                        "请发送 `?rulebook=ID&decision=NAME&format=csv|tsv|xlsx`",
                    ),
                    parameter=needed,
                )
        fmt = params["format"]
        if fmt not in _drafts.SHEET_FORMATS:
            names = listing(_drafts.SHEET_FORMATS)
            raise Problem(
                400,
                "workbench.bad-format",
                Text(
                    f"`format` is one of {names.en}, not `{fmt}`",
                    f"`format` 应为以下之一：{names.zh}，而不是 `{fmt}`",
                ),
                candidates=list(_drafts.SHEET_FORMATS),
            )
        loaded = self.loaded(params["rulebook"], params.get("version"))
        decision = loaded.book.decisions.get(params["decision"])
        if decision is None:
            names = listing(loaded.book.decisions)
            raise Problem(
                404,
                "usage.unknown-decision",
                Text(
                    f"the rulebook {loaded.id} has no decision `{params['decision']}`: it has {names.en}",
                    f"规则集 {loaded.id} 没有决定 `{params['decision']}`：它有{names.zh}",
                ),
                candidates=list(loaded.book.decisions),
            )
        data = await self.raw_body(request, self.config.max_batch_bytes)
        name = params.get("name") or f"upload.{fmt}"
        key = (loaded.id, loaded.version, decision.name)

        def work() -> bytes:
            return _drafts.sheet_lines(data, fmt, name, decision.record_schema, key, lang)

        try:
            answer = await self.run(work)
        except UsageError as e:
            raise Problem.of_usage(e, 422) from None
        return Response(answer, media_type=NDJSON_TYPE)

    def in_force_or_newest(self, rulebook: str) -> LoadedBook:
        return self.loaded(rulebook, None)

    async def impact_lines(
        self, old: LoadedBook, new: CompiledRulebook, records: Any, decision: str | None, lang: str
    ) -> AsyncIterator[bytes]:
        job = _drafts.Impact(old, new, decision)
        try:
            total = await asyncio.to_thread(records.load)
            yield _line({"progress": 0, "total": total})
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.config.request_timeout_s
            done = 0
            while done < total:
                if loop.time() > deadline:
                    raise Problem(503, "serve.timeout", Text("the comparison took too long", "比较用时过长"))
                chunk = records.items[done : done + IMPACT_CHUNK]
                await asyncio.to_thread(job.compare, chunk)
                done += len(chunk)
                yield _line({"progress": done, "total": total})
            yield _line(job.summary(total, records.unreadable, IMPACT_SHOWN))
        except Problem as p:
            yield _line({"error": p.to_json(lang, "/workbench/api/impact")})
        except EngineError as e:
            yield _line({"error": {"code": e.diagnostics[0].code, "detail": e.render(lang)}})

    # -- saving -----------------------------------------------------------------------------

    def check_can_edit(self, request: Request) -> str | None:
        if not self.config.edit:
            raise Problem(
                403,
                "serve.read-only",
                Text("this server is read-only: it was started without `--edit`", "本服务为只读：启动时没有 `--edit`"),
                help=Text("start it with `rulebook serve --edit`", "请用 `rulebook serve --edit` 启动"),
            )
        return self.user(request)

    async def save_draft(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        lang = self.lang(request)
        user = self.check_can_edit(request)
        body = await self.body(request, self.config.max_text_bytes + 4096)
        text = self.text_of(body)
        if len(text.encode("utf-8")) > self.config.max_text_bytes:
            raise _text_too_large(self.config.max_text_bytes)
        based_on = body.get("based_on")
        if not isinstance(based_on, str) or not based_on:
            raise _bad("based_on", Text("the version the draft starts from", "草稿所依据的版本"))

        def work() -> dict[str, Any]:
            with self.save_lock:
                return _drafts.save(self, text, based_on, user, lang)

        return _json(await self.run(work), 201)

    async def list_drafts(self, request: Request) -> Response:
        self.params(request, frozenset({"lang"}))
        return _json({"drafts": await self.run(lambda: _drafts.read_log(self.config))})


def _text_too_large(limit: int) -> Problem:
    return Problem(
        413,
        "workbench.text-too-large",
        Text(f"the rulebook text is larger than {limit} bytes", f"规则集文本超过 {limit} 字节"),
        limit=limit,
    )


def _line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n"


def diagnostic_json(d: Diagnostic, lang: str) -> dict[str, Any]:
    """A diagnostic as the page shows it: 1-based start and end, the help and its suggestions."""
    message, help = d.text(lang)
    start = end = None
    if d.source is not None and d.span is not None:
        start = d.source.line_col(d.span.start)
        end = d.source.line_col(max(d.span.end, d.span.start))
    _en_message, en_help = d.text("en")
    suggestions = _DID_YOU_MEAN.findall(en_help or "")
    return {
        "code": d.code,
        "severity": d.severity,
        "message": message,
        "help": help,
        "suggestions": suggestions,
        "line": start[0] if start else None,
        "column": start[1] if start else None,
        "end_line": end[0] if end else None,
        "end_column": end[1] if end else None,
    }


def refused(diagnostics: list[Diagnostic], lang: str, why: Text, **extra: Any) -> Problem:
    return Problem(
        422,
        "workbench.refused",
        why,
        diagnostics=[diagnostic_json(d, lang) for d in diagnostics],
        **extra,
    )
