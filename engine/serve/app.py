"""The ASGI application of `rulebook serve` (Starlette): decisions over HTTP, explained rule by rule.

Endpoints (``docs/serve.md``):

* ``GET /rulebooks``, ``GET /rulebooks/{id}``: what is served;
* ``POST /rulebooks/{id}/decisions/{decision}``: one record (JSON) in, one decision out, the
  CONTRACT's object plus ``decision_id`` (also in the ``X-Decision-Id`` header); query ``as_of``,
  ``version``, ``lang``, ``explain``;
* ``POST /rulebooks/{id}/decisions/{decision}/batch``: JSON Lines in, JSON Lines out, streamed
  both ways, in input order; a line that cannot be read is answered by the same error object
  ``rulebook check --format json`` writes;
* ``GET /healthz``, ``GET /readyz``, ``GET /metrics``, ``GET /openapi.json``.

Errors are problem details (``engine.serve.problems``).  Limits (``ServeConfig``): body size
(413; the announced length and the bytes streamed both count), batch length and batch bytes
(a batch has answered 200 before it ends, so going beyond them ends it with a final error
line), JSON nesting depth (400; in a batch, that line's error), wall-clock time per request
(503 ``serve.timeout``; in a batch, a final error line), requests in flight per worker (503
``serve.overloaded`` with ``Retry-After``, never queued).  Bearer tokens, when configured, are
needed everywhere but ``/healthz`` and ``/readyz`` (and ``/metrics`` with ``metrics_open``).

Shutting down: the server sets ``app.state.draining`` (a ``threading.Event``).  ``/readyz``
then answers 503, new decision requests get 503 ``serve.shutting-down``, a single decision in
progress completes, and a batch in progress stops at the next line boundary with a final error
line (``serve.shutting-down``, naming the first line not answered), so that a shutdown never
waits on a long batch and the client knows where to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import hmac
import json
import os
import threading
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from engine.errors import UsageError
from engine.evaluate import Decision, InputRef
from engine.messages import CATALOGUE, Text, listing, msg
from engine.model import Outcome
from engine.serve.config import ServeConfig
from engine.serve.decisionlog import DecisionLog
from engine.serve.metrics import CONTENT_TYPE, Metrics
from engine.serve.problems import PROBLEM_TYPE, Problem
from engine.serve.rulebooks import RulebookSet, Snapshot

__all__ = ["create_app", "create_app_from_env"]

Scope = Mapping[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"
DECISION_PARAMS = frozenset({"as_of", "version", "lang", "explain"})
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # never refused for load
BATCH_YIELD_LINES = 256  # a batch lets other requests run after this many lines
AHEAD = 4  # chunks of a batch's answer decided ahead of the one being sent


# ``json.dumps(value, ensure_ascii=False)``, with one encoder made once (``json.dumps`` makes one
# for every call but with its default options)
_text = json.JSONEncoder(ensure_ascii=False).encode


def _dumps(value: Any) -> bytes:
    return _text(value).encode("utf-8", "surrogatepass")


def _json(value: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    try:
        body = _text(value).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a record: escaped, still valid JSON
        body = json.dumps(value).encode("ascii")
    return Response(body, status, headers=dict(headers or {}), media_type=JSON_TYPE)


# -- language and query parameters ------------------------------------------------------------


def _accept_language(header: str | None, default: str) -> str:
    """The first of zh and en in an ``Accept-Language`` header, by preference (else ``default``)."""
    if not header:
        return default
    best: tuple[float, str] | None = None
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        lang = "zh" if tag.startswith("zh") else "en" if tag.startswith("en") else None
        if lang is None:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        if q > 0 and (best is None or (q, -i) > (best[0], 0)):
            best = (q, lang)
            if q >= 1.0:
                break
    return best[1] if best is not None else default


def _lang_of(request: Request, default: str) -> str:
    """The language of the answer: ``?lang=`` when it is zh or en, else Accept-Language, else the default."""
    given = request.query_params.get("lang")
    if given in ("zh", "en"):
        return given
    return _accept_language(request.headers.get("accept-language"), default)


def _params(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    """The query parameters, each known and given once (else a 400 problem: never ignored)."""
    out: dict[str, str] = {}
    if not request.scope.get("query_string"):  # none (the common case): no parsing
        return out
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            names = listing(sorted(allowed))
            raise Problem(
                400,
                "serve.unknown-parameter",
                Text(f"unknown query parameter `{key}`", f"未知的查询参数 `{key}`"),
                help=Text(f"parameters here: {names.en}", f"此处可用的参数：{names.zh}"),
                parameter=key,
                candidates=sorted(allowed),
            )
        if key in out:
            raise Problem(
                400,
                "serve.bad-parameter",
                Text(f"query parameter `{key}` is given twice", f"查询参数 `{key}` 出现了两次"),
                parameter=key,
            )
        out[key] = value
    lang = out.get("lang")
    if lang is not None and lang not in ("zh", "en"):
        raise Problem(
            400,
            "serve.bad-parameter",
            Text(f"`lang={lang}`: the language is `zh` or `en`", f"`lang={lang}`：语言应为 `zh` 或 `en`"),
            parameter="lang",
            candidates=["zh", "en"],
        )
    return out


def _explain(params: Mapping[str, str]) -> bool:
    raw = params.get("explain")
    if raw is None:
        return True
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise Problem(
        400,
        "serve.bad-parameter",
        Text(f"`explain={raw}`: expected `true` or `false`", f"`explain={raw}`：应为 `true` 或 `false`"),
        parameter="explain",
        candidates=["true", "false"],
    )


def _as_of(params: Mapping[str, str]) -> _dt.date | None:
    raw = params.get("as_of")
    if raw is None:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return _dt.date.fromisoformat(raw)
    except ValueError:
        raise Problem(400, "usage.bad-date", msg("usage.bad-date", text=raw), parameter="as_of") from None


# -- reading bodies ---------------------------------------------------------------------------


def _announced_length(request: Request, limit: int) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit():
        raise Problem(
            400,
            "serve.bad-length",
            Text(f"`Content-Length: {raw}` is not a number of bytes", f"`Content-Length: {raw}` 不是字节数"),
        )
    length = int(raw)
    if length > limit:
        raise _too_large(limit)
    return length


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "serve.body-too-large",
        Text(f"the body is larger than {limit} bytes", f"请求体超过 {limit} 字节"),
        help=Text("send fewer records at a time", "请每次少发送一些记录"),
        limit=limit,
    )


def _timeout(seconds: float) -> Problem:
    return Problem(
        503,
        "serve.timeout",
        Text(f"the request took longer than {seconds:g} seconds", f"请求用时超过 {seconds:g} 秒"),
        headers={"Retry-After": "1"},
        limit=seconds,
    )


async def _read_body(request: Request, limit: int, deadline: float, timeout: float) -> bytes:
    """The body: 413 beyond ``limit`` bytes (announced or streamed), 503 ``serve.timeout`` when it
    has not all come by ``deadline``, ``ClientDisconnect`` when the client goes away first."""
    _announced_length(request, limit)
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await _receive(receive, deadline, timeout)
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif kind == "http.disconnect":
            raise ClientDisconnect


async def _receive(receive: Callable[[], Awaitable[Any]], deadline: float, timeout: float) -> Any:
    """The next ASGI message; waiting for it ends at ``deadline`` with 503 ``serve.timeout``.

    A message that is already there (a body that came with its headers: the common case) is
    taken without setting up the timer: the server's ``receive`` is run up to its first wait,
    and only when it has to wait is it awaited further under ``asyncio.timeout_at``.
    """
    waiting = receive().__await__()
    try:
        signal = waiting.send(None)
    except StopIteration as done:
        return done.value
    try:
        async with asyncio.timeout_at(deadline):
            return await _resume(waiting, signal)
    except TimeoutError:
        raise _timeout(timeout) from None


@types.coroutine
def _resume(waiting: Generator[Any, Any, Any], signal: Any) -> Generator[Any, Any, Any]:
    """Await a coroutine that ran up to a wait, where it yielded ``signal`` (a future): what
    ``yield from`` does, from that wait on (the task's wake-ups and cancellation go to it)."""
    while True:
        try:
            sent = yield signal
        except GeneratorExit:
            waiting.close()
            raise
        except BaseException as e:  # noqa: BLE001 - thrown in by the task (its cancellation): passed on
            try:
                signal = waiting.throw(e)
            except StopIteration as done:
                return done.value
        else:
            try:
                signal = waiting.send(sent)
            except StopIteration as done:
                return done.value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` in ``value`` (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if item.__class__ is dict:
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in item.values() if v.__class__ in (dict, list))
        elif item.__class__ is list:
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in item if v.__class__ in (dict, list))
    return False


def _could_be_deep(data: bytes | str, limit: int) -> bool:
    """False when the text has too few brackets to nest deeper than ``limit`` (the common case)."""
    if isinstance(data, bytes):
        return data.count(b"{") + data.count(b"[") > limit
    return data.count("{") + data.count("[") > limit


def _too_deep(limit: int) -> Problem:
    return Problem(
        400,
        "record.json-too-deep",
        msg("record.json-too-deep"),
        help=Text(f"nest arrays and objects at most {limit} deep", f"数组与对象最多嵌套 {limit} 层"),
        limit=limit,
    )


def _json_problem(e: json.JSONDecodeError) -> Problem:
    problem = msg(f"json.{e.msg}") if f"json.{e.msg}" in CATALOGUE else msg("json.other", problem=e.msg)
    return Problem(
        400,
        "record.json",
        Text(
            f"not valid JSON at line {e.lineno}, column {e.colno}: {problem.en}",
            f"不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列）：{problem.zh}",
        ),
        line=e.lineno,
        column=e.colno,
    )


def parse_record(body: bytes, max_depth: int) -> dict[str, Any]:
    """The record a body holds (one JSON object), or a 400 problem saying why there is none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Problem(
            400,
            "record.not-utf8",
            Text(
                f"the body is not UTF-8 text (byte 0x{body[e.start]:02x} at byte {e.start + 1})",
                f"请求体不是 UTF-8 文本（第 {e.start + 1} 字节为 0x{body[e.start]:02x}）",
            ),
            byte=e.start + 1,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise _json_problem(e) from None
    except RecursionError:
        raise _too_deep(max_depth) from None
    except ValueError as e:  # an integer of more digits than Python converts
        raise Problem(400, "record.json", Text(f"not valid JSON: {e}", f"不是有效的 JSON：`{e}`")) from None
    if _could_be_deep(body, max_depth) and _depth_exceeds(value, max_depth):
        raise _too_deep(max_depth)
    if value.__class__ is not dict:
        kind = {list: "array", str: "string", bool: "bool", type(None): "null"}.get(type(value), "number")
        raise Problem(400, "record.not-an-object", msg("record.not-an-object", kind=msg(f"record.kind:{kind}")))
    return value


# -- what a decision request decides with ------------------------------------------------------


class Target:
    """The decision a request asked for: one version's, or the one in force on each record's date.

    ``label`` is the version an error object names (a batch's unreadable line); a single decision
    never needs it, so ``labelled=False`` leaves it empty (when each record picks its own version
    it costs a look at today's date and the versions).
    """

    def __init__(
        self, snapshot: Snapshot, rulebook: str, name: str, params: Mapping[str, str], *, labelled: bool = True
    ) -> None:
        self.rulebook = rulebook
        self.name = name
        self.as_of = _as_of(params)
        version = params.get("version")
        try:
            if version is not None:
                loaded = snapshot.version(rulebook, version)
                self.decision: Any = snapshot.decision_of(loaded, name)
                self.label = loaded.version
            elif self.as_of is not None:
                loaded = snapshot.in_force(rulebook, self.as_of)
                self.decision = snapshot.decision_of(loaded, name)
                self.label = loaded.version
            else:
                self.decision = snapshot.versioned(rulebook, name)
                self.label = snapshot.label_version(rulebook) if labelled else ""
        except UsageError as e:
            raise _usage_problem(e, snapshot, rulebook, name) from None

    def evaluate(self, record: Any, input: InputRef | None) -> Decision:
        return self.decision.evaluate(record, self.as_of, input)  # type: ignore[no-any-return]


def _usage_problem(e: UsageError, snapshot: Snapshot, rulebook: str, name: str) -> Problem:
    code = e.diagnostics[0].code
    candidates: list[str] = []
    if code == "usage.unknown-rulebook":
        candidates = snapshot.ids()
    elif code in ("usage.unknown-version", "usage.no-version-in-force", "usage.draft-only"):
        candidates = [v.version for v in snapshot.versions(rulebook)]
    elif code == "usage.unknown-decision":
        candidates = sorted({d for v in snapshot.versions(rulebook) for d in v.book.decisions})
        # the command line's help names --decision; here the decision is the last part of the path
        d = e.diagnostics[0]
        help_text = msg("serve.unknown-decision/help", decisions=listing(candidates), rulebook=rulebook)
        return Problem(404, d.code, d.message_text, help=help_text, candidates=candidates)
    return Problem.of_usage(e, 404, candidates=candidates)


def decision_bytes(d: Decision, lang: str, explain: bool, decision_id: str | None) -> bytes:
    """The decision's JSON object (CONTRACT) with ``decision_id``; ``explain=False``: without rules'
    messages and values, each rule's status under ``statuses``."""
    if explain:
        try:
            raw = d.to_json_bytes(lang)
        except UnicodeEncodeError:  # a lone surrogate in the record: escaped, still the same JSON
            raw = json.dumps(d.to_json(lang)).encode("ascii")
        if decision_id is None:
            return raw
        return b'%s, "decision_id": "%s"}' % (raw[:-1], decision_id.encode("ascii"))
    out: dict[str, Any] = {
        "rulebook": d.rulebook,
        "version": d.version,
        "decision": d.decision,
        "record": d.record_id,
        "input": d.input.to_json() if d.input else None,
        "as_of": d.as_of.isoformat() if d.as_of else None,
        "outcome": str(d.outcome),
        "statuses": {k: str(v) for k, v in d.statuses.items()},
    }
    if d.schema:
        out["schema"] = [v.to_json(lang) for v in d.schema]
    if decision_id is not None:
        out["decision_id"] = decision_id
    try:
        return _text(out).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(out).encode("ascii")


def _rejected(d: Decision) -> bool:
    """Refused under schema enforcement ``reject``: no decision, the record breaks its schema."""
    return d.outcome == Outcome.ERROR and bool(d.schema)


class DecisionAnswer:
    """The answer to a single decision: what ``Response(body, headers={"X-Decision-Id": id},
    media_type="application/json")`` sends (the same headers in the same order), with its headers
    written here rather than through Starlette's general ones."""

    __slots__ = ("body", "headers")

    def __init__(self, body: bytes, decision_id: str) -> None:
        self.body = body
        self.headers = [
            (b"x-decision-id", decision_id.encode("latin-1")),
            (b"content-length", b"%d" % len(body)),
            (b"content-type", b"application/json"),
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def _new_id() -> str:
    """A new decision or batch id: ``uuid.uuid4().hex`` (32 hexadecimal digits of 16 random bytes,
    with the version 4 and variant bits set), without building a ``uuid.UUID``."""
    b = bytearray(os.urandom(16))
    b[6] = b[6] & 0x0F | 0x40
    b[8] = b[8] & 0x3F | 0x80
    return b.hex()


# -- the application ----------------------------------------------------------------------------


class Service:
    """What the endpoints share: the configuration, the rulebooks, the metrics and the decision log."""

    def __init__(self, config: ServeConfig, rulebooks: RulebookSet) -> None:
        self.config = config
        self.rulebooks = rulebooks
        self.metrics = Metrics()
        self.log = DecisionLog(config.masked_fields, config.decision_log)
        self.draining = threading.Event()
        self._openapi: tuple[Snapshot, bytes] | None = None
        self._tokens = [t.encode("utf-8") for t in sorted(config.tokens)]

    # -- helpers --

    def problem_response(self, problem: Problem, request: Request | None, scope: Scope | None = None) -> Response:
        self.metrics.reject(problem.code)
        if request is None and scope is not None:
            request = Request(dict(scope))
        lang = _lang_of(request, self.config.lang) if request is not None else self.config.lang
        instance = request.url.path if request is not None else ""
        return Response(problem.body(lang, instance), problem.status, headers=problem.headers, media_type=PROBLEM_TYPE)

    def authorized(self, header: str | None) -> bool:
        if not self._tokens:
            return True
        if not header or header[:7].lower() != "bearer ":
            return False
        given = header[7:].strip().encode("utf-8")
        ok = False
        for token in self._tokens:  # every token compared, in constant time each
            ok |= hmac.compare_digest(given, token)
        return ok

    def check_draining(self) -> None:
        if self.draining.is_set():
            raise Problem(
                503,
                "serve.shutting-down",
                Text("the server is shutting down", "服务正在停止"),
                help=Text("send the request again: another worker answers it", "请重新发送请求，将由其他进程回答"),
                headers={"Retry-After": "1"},
            )

    # -- endpoints --

    async def healthz(self, request: Request) -> Response:
        _params(request, frozenset({"lang"}))
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        _params(request, frozenset({"lang"}))
        status = self.rulebooks.status()
        if self.draining.is_set():
            status = {**status, "ready": False, "draining": True}
        return _json(status, 200 if status["ready"] else 503)

    async def metrics_endpoint(self, request: Request) -> Response:
        _params(request, frozenset())
        return Response(self.metrics.text(), media_type=CONTENT_TYPE)

    async def openapi(self, request: Request) -> Response:
        _params(request, frozenset())
        snapshot = self.rulebooks.snapshot()
        cached = self._openapi
        if cached is None or cached[0] is not snapshot:
            from engine import __version__
            from engine.serve.openapi import openapi_document

            cached = self._openapi = (snapshot, _dumps(openapi_document(snapshot, __version__)))
        return Response(cached[1], media_type=JSON_TYPE)

    async def list_rulebooks(self, request: Request) -> Response:
        params = _params(request, frozenset({"lang"}))
        lang = params.get("lang") or _lang_of(request, self.config.lang)
        snapshot = self.rulebooks.snapshot()
        today = _dt.date.today()
        out = []
        for rid, versions in snapshot.by_id.items():
            in_force = [v.version for v in versions if v.entry.in_force_on(today)]
            out.append(
                {
                    "id": rid,
                    "in_force": in_force[-1] if in_force else None,
                    "versions": [_version_json(v, lang) for v in versions],
                }
            )
        return _json({"rulebooks": out})

    async def describe(self, request: Request) -> Response:
        params = _params(request, frozenset({"lang", "version"}))
        lang = params.get("lang") or _lang_of(request, self.config.lang)
        snapshot = self.rulebooks.snapshot()
        rid = request.path_params["rulebook"]
        if "/decisions/" in rid:  # a decision's path, asked with GET
            raise Problem(
                405,
                "serve.method-not-allowed",
                Text(f"`{request.method}` is not allowed here", f"此处不支持 `{request.method}`"),
                headers={"Allow": "POST"},
            )
        try:
            versions = (
                [snapshot.version(rid, params["version"])] if "version" in params else list(snapshot.versions(rid))
            )
        except UsageError as e:
            raise _usage_problem(e, snapshot, rid, "") from None
        return _json({"id": rid, "versions": [_version_json(v, lang, detail=True) for v in versions]})

    async def decide(self, request: Request) -> DecisionAnswer:
        started = time.perf_counter()
        config = self.config
        deadline = asyncio.get_running_loop().time() + config.request_timeout_s
        self.check_draining()
        params = _params(request, DECISION_PARAMS)
        # ``lang`` given is zh or en (``_params`` checked): else the header's, as ``_lang_of`` reads it
        lang = params.get("lang") or _accept_language(request.headers.get("accept-language"), config.lang)
        explain = _explain(params)
        rulebook, name = request.path_params["rulebook"], request.path_params["decision"]
        target = Target(self.rulebooks.snapshot(), rulebook, name, params, labelled=False)
        body = await _read_body(request, config.max_body_bytes, deadline, config.request_timeout_s)
        record = parse_record(body, config.max_depth)
        decision = target.evaluate(record, None)
        decision_id = _new_id()
        self.metrics.decided(decision.rulebook, decision.decision, str(decision.outcome))
        log = self.log
        if log.wanted():
            log.write(
                decision,
                record,
                decision_id,
                (time.perf_counter() - started) * 1000,
                {
                    "rulebook": rulebook,
                    "run_id": decision_id,
                    "options": {
                        "endpoint": "decision",
                        "as_of": params.get("as_of"),
                        "version": params.get("version"),
                        "lang": lang,
                        "explain": explain,
                    },
                },
            )
        if _rejected(decision):
            from engine.io.report import schema_items

            n = sum(1 for v in decision.schema if v.severity == "error")
            raise Problem(
                422,
                "record.schema",
                Text(
                    f"the record breaks its record schema ({n} problems); under `reject` it gets no decision",
                    f"记录不符合其记录结构（{n} 处），按 `reject` 不作决定",
                ),
                schema=schema_items(decision, lang),
                decision_id=decision_id,
            )
        answer = DecisionAnswer(decision_bytes(decision, lang, explain, decision_id), decision_id)
        self.metrics.single(time.perf_counter() - started)
        return answer

    async def batch(self, request: Request) -> Any:
        config = self.config
        self.check_draining()
        params = _params(request, DECISION_PARAMS)
        lang = params.get("lang") or _accept_language(request.headers.get("accept-language"), config.lang)
        explain = _explain(params)
        rulebook, name = request.path_params["rulebook"], request.path_params["decision"]
        target = Target(self.rulebooks.snapshot(), rulebook, name, params)
        _announced_length(request, config.max_batch_bytes)
        return BatchResponse(self, request, target, lang, explain, params)

    # -- problems raised by Starlette itself (no route, wrong method) --

    async def http_exception(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 405:
            problem = Problem(
                405,
                "serve.method-not-allowed",
                Text(f"`{request.method}` is not allowed here", f"此处不支持 `{request.method}`"),
                headers=dict(getattr(exc, "headers", None) or {}),
            )
        elif status == 404:
            problem = Problem(
                404,
                "serve.not-found",
                Text(f"no such endpoint `{request.url.path}`", f"没有端点 `{request.url.path}`"),
                help=Text("`/openapi.json` lists the endpoints", "`/openapi.json` 列出了所有端点"),
            )
        else:
            problem = Problem(
                status,
                "serve.http",
                Text(f"HTTP error {status}", f"HTTP 错误 {status}"),
            )
        return self.problem_response(problem, request)

    async def problem(self, request: Request, exc: Exception) -> Response:
        if not isinstance(exc, Problem):  # pragma: no cover - registered for Problem only
            raise exc
        return self.problem_response(exc, request)


def _version_json(v: Any, lang: str, detail: bool = False) -> dict[str, Any]:
    e = v.entry
    book = v.book.book
    out: dict[str, Any] = {
        "version": e.version,
        "status": e.status,
        "effective_from": e.effective_from,
        "effective_until": e.effective_until,
        "title": book.title.get(lang),
        "supplied_by": e.origin,
        "plugin": e.plugin,
        "decisions": list(v.book.decisions),
    }
    if not detail:
        return out
    decisions = {}
    for name, cd in v.book.decisions.items():
        spec = cd.spec
        decisions[name] = {
            "title": spec.title.get(lang) if spec.title else None,
            "record_kind": spec.record_kind,
            "schema_enforcement": cd.schema_enforcement,
            "record_schema": cd.record_schema,
            "rules": [
                {
                    "id": r.id,
                    "article": r.article,
                    "item": r.item,
                    "cite": r.cite,
                    "title": r.title.get(lang) if r.title else None,
                    "severity": str(r.severity),
                    "kind": str(r.kind),
                    "waivable": r.waivable,
                }
                for r in spec.rules
            ],
            "outputs": [o.name for o in spec.outputs],
        }
    out["decisions"] = decisions
    out["source"] = book.source
    return out


# -- the batch: JSON Lines both ways ------------------------------------------------------------


class BatchResponse:
    """Streams a batch's answer: one line out per non-blank line in, in order, as the lines come.

    Memory stays bounded by one chunk of the body and one line (at most ``max_body_bytes``; a
    longer line is discarded as it streams and answered by its error object).  The status is
    200, sent with the first answered chunk (after the body has begun to be read), so a limit
    reached on the way, the request's time running out or the server shutting down ends the
    answer with a final error line: a
    problem object (``type``, ``title``, ``status``, ``detail``, ``code``) with ``line``, the
    first input line not answered.
    """

    def __init__(
        self, service: Service, request: Request, target: Target, lang: str, explain: bool, params: Mapping[str, str]
    ) -> None:
        self.service = service
        self.request = request
        self.target = target
        self.lang = lang
        self.explain = explain
        self.params = params
        self.batch_id = _new_id()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", NDJSON_TYPE.encode()), (b"x-batch-id", self.batch_id.encode())],
        }
        # The lines are decided by a task of their own while this one sends what is decided: when the
        # client reads the answer more slowly than it comes (the connection's buffer full), deciding
        # goes on instead of waiting, up to AHEAD chunks of answer held (memory stays bounded).  The
        # status goes with the first chunk, once the body has begun to be read: a client that asked
        # for `Expect: 100-continue` (curl does for a body of more than 1 MB) is told to go on when
        # the body is first read, and a final status sent before that would leave it waiting
        # (a second, with curl) before it sends the body.
        ahead: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(AHEAD)
        producer = asyncio.create_task(self._produce(ahead))
        begun = False
        try:
            while True:
                item = await ahead.get()
                if isinstance(item, BaseException):
                    raise item
                if not begun:
                    await send(start)
                    begun = True
                if item is None:
                    break
                await send({"type": "http.response.body", "body": item, "more_body": True})
        except (ClientDisconnect, OSError):  # the client went away (while the answer was written)
            if not begun:  # an answer all the same, which no one reads, rather than none
                with contextlib.suppress(OSError):
                    await send(start)
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await producer
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        self.service.metrics.batch(time.perf_counter() - started)

    async def _produce(self, ahead: asyncio.Queue[bytes | BaseException | None]) -> None:
        """Put the answer's chunks into ``ahead``, then None (or what stopped them, to be raised)."""
        try:
            async for chunk in self.lines():
                await ahead.put(chunk)
        except Exception as e:  # noqa: BLE001 - raised again by the task that sends
            await ahead.put(e)
            return
        await ahead.put(None)

    def _final(self, problem: Problem, line: int) -> bytes:
        self.service.metrics.reject(problem.code)
        out = problem.to_json(self.lang, self.request.url.path)
        out["line"] = line
        return _dumps(out) + b"\n"

    async def lines(self) -> AsyncIterator[bytes]:
        service = self.service
        config = service.config
        loop = asyncio.get_running_loop()
        deadline = loop.time() + config.request_timeout_s
        stream = self.request.stream().__aiter__()
        held: list[bytes] = []
        held_size = 0
        skipping = False  # inside a line longer than the limit: its bytes are dropped
        number = 0
        size = 0
        counts: dict[tuple[str, str, str], int] = {}
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await stream.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    yield self._final(_timeout(config.request_timeout_s), number + 1)
                    return
                size += len(chunk)
                if size > config.max_batch_bytes:
                    yield self._final(_too_large(config.max_batch_bytes), number + 1)
                    return
                cut = chunk.rfind(b"\n") + 1
                if not cut:  # no line ends here
                    if not skipping:
                        held.append(chunk)
                        held_size += len(chunk)
                        if held_size > config.max_body_bytes:
                            held, held_size, skipping = [], 0, True
                    continue
                whole = chunk[:cut]
                if skipping:  # the end of an over-long line: its error, then the rest
                    first_end = whole.index(b"\n") + 1
                    whole = whole[first_end:]
                    number += 1
                    yield self._line_error(number, _line_too_long(config.max_body_bytes))
                    skipping = False
                elif held:
                    whole = b"".join((*held, whole))
                    held, held_size = [], 0
                rest = chunk[cut:]
                if rest:
                    held, held_size = [rest], len(rest)
                    if held_size > config.max_body_bytes:
                        held, held_size, skipping = [], 0, True
                out, number, stop = await self._decide_lines(whole, number, deadline, counts)
                if out:
                    yield out
                if stop is not None:
                    yield stop
                    return
            if skipping:
                number += 1
                yield self._line_error(number, _line_too_long(config.max_body_bytes))
            elif held:
                out, number, stop = await self._decide_lines(b"".join(held), number, deadline, counts)
                if out:
                    yield out
                if stop is not None:
                    yield stop
        finally:
            for (rid, name, outcome), n in counts.items():
                service.metrics.decided(rid, name, outcome, n)

    def _line_error(self, number: int, text: Text) -> bytes:
        from engine.io.report import error_object

        t = self.target
        return (
            _dumps(error_object(t.rulebook, t.label, t.decision.name, InputRef(None, number), text.get(self.lang)))
            + b"\n"
        )

    async def _decide_lines(
        self, data: bytes, number: int, deadline: float, counts: dict[tuple[str, str, str], int]
    ) -> tuple[bytes, int, bytes | None]:
        """Decide the whole lines in ``data``: (their answer, the last line's number, a final line or None)."""
        from engine.io.records import BadRecord, parse_json_line, split_lines

        service = self.service
        config = service.config
        loop = asyncio.get_running_loop()
        target = self.target
        lang, explain = self.lang, self.explain
        log = service.log if service.log.wanted() else None
        out: list[bytes] = []
        since_yield = 0
        for line in split_lines(data):
            if number >= config.max_batch_lines:
                return (
                    b"".join(out),
                    number,
                    self._final(
                        Problem(
                            413,
                            "serve.batch-too-long",
                            Text(
                                f"the batch has more than {config.max_batch_lines} lines",
                                f"批量请求超过 {config.max_batch_lines} 行",
                            ),
                            help=Text("send the rest in another batch", "请把其余的行放在另一次批量请求中发送"),
                            limit=config.max_batch_lines,
                        ),
                        number + 1,
                    ),
                )
            number += 1
            if service.draining.is_set():
                return (
                    b"".join(out),
                    number - 1,
                    self._final(
                        Problem(
                            503,
                            "serve.shutting-down",
                            Text("the server is shutting down", "服务正在停止"),
                            help=Text("send the lines from `line` on again", "请从 `line` 所指的行起重新发送"),
                        ),
                        number,
                    ),
                )
            since_yield += 1
            if since_yield >= BATCH_YIELD_LINES:
                since_yield = 0
                if loop.time() > deadline:
                    return b"".join(out), number - 1, self._final(_timeout(config.request_timeout_s), number)
                await asyncio.sleep(0)  # let other requests run
            if len(line) > config.max_body_bytes:
                out.append(self._line_error(number, _line_too_long(config.max_body_bytes)))
                continue
            if not line.strip():
                continue  # a blank line, skipped as `check` skips it
            try:
                record = parse_json_line(line)
            except ValueError as e:  # an integer of more digits than Python converts
                record = BadRecord.of(Text(f"not valid JSON: {e}", f"不是有效的 JSON：`{e}`"))
            if (
                record.__class__ is not BadRecord
                and _could_be_deep(line, config.max_depth)
                and _depth_exceeds(record, config.max_depth)
            ):
                record = BadRecord.of(msg("record.json-too-deep"))
            if record.__class__ is BadRecord:
                out.append(self._line_error(number, Text(record.message, record.message_zh)))
                continue
            decision = target.evaluate(record, InputRef(None, number))
            decision_id = f"{self.batch_id}-{number}"
            key = (decision.rulebook, decision.decision, str(decision.outcome))
            counts[key] = counts.get(key, 0) + 1
            if log is not None:
                log.write(
                    decision,
                    record,
                    decision_id,
                    0.0,
                    {
                        "rulebook": target.rulebook,
                        "run_id": self.batch_id,
                        "options": {"endpoint": "batch", "line": number, **self.params},
                    },
                )
            out.append(decision_bytes(decision, lang, explain, decision_id) + b"\n")
        return b"".join(out), number, None


def _line_too_long(limit: int) -> Text:
    return Text(f"the line is longer than {limit} bytes", f"该行超过 {limit} 字节")


# -- the guard: authentication, load, last-resort errors -----------------------------------------


class Guard:
    """ASGI middleware in front of the routes: bearer tokens, the limit of requests in flight, and
    a problem (never a traceback) for anything unexpected before the answer started."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service
        self.in_flight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = self.service
        config = service.config
        path = scope["path"]
        if path not in OPEN_PATHS and not (path == "/metrics" and config.metrics_open) and config.tokens:
            auth = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"authorization"), None)
            if not service.authorized(auth):
                problem = Problem(
                    401,
                    "serve.unauthorized",
                    Text("a valid bearer token is needed", "需要有效的持有者令牌（`bearer token`）"),
                    help=Text("send `Authorization: Bearer TOKEN`", "请发送 `Authorization: Bearer TOKEN`"),
                    headers={"WWW-Authenticate": 'Bearer realm="rulebook"'},
                )
                await service.problem_response(problem, None, scope)(scope, receive, send)
                return
        if path in UNLIMITED_PATHS:
            await self._run(scope, receive, send)
            return
        if self.in_flight >= config.max_concurrency:
            problem = Problem(
                503,
                "serve.overloaded",
                Text(
                    f"more than {config.max_concurrency} requests at once",
                    f"同时处理的请求超过 {config.max_concurrency} 个",
                ),
                help=Text("send it again after `Retry-After` seconds", "请在 `Retry-After` 秒后重新发送"),
                headers={"Retry-After": "1"},
                limit=config.max_concurrency,
            )
            await service.problem_response(problem, None, scope)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self._run(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _run(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            return
        except Exception:
            if started:
                raise
            import logging

            logging.getLogger("rulebook.serve").exception("internal error answering %s", scope.get("path"))
            problem = Problem(500, "serve.internal", Text("internal error, please report it", "内部错误，请报告"))
            await self.service.problem_response(problem, None, scope)(scope, receive, send)


def create_app(config: ServeConfig | None = None, rulebooks: RulebookSet | None = None) -> Starlette:
    """The application: ``config`` (default: from the environment) and its rulebooks (default:
    a :class:`RulebookSet` of the configuration, loaded now)."""
    config = config if config is not None else ServeConfig.from_env()
    if rulebooks is None:
        rulebooks = RulebookSet(config)
        rulebooks.load_all()
    service = Service(config, rulebooks)
    routes = [
        # the decision first: routes are tried in order, and it is the one asked most
        Route("/rulebooks/{rulebook:path}/decisions/{decision}", service.decide, methods=["POST"]),
        Route("/rulebooks/{rulebook:path}/decisions/{decision}/batch", service.batch, methods=["POST"]),
        Route("/healthz", service.healthz, methods=["GET"]),
        Route("/readyz", service.readyz, methods=["GET"]),
        Route("/metrics", service.metrics_endpoint, methods=["GET"]),
        Route("/openapi.json", service.openapi, methods=["GET"]),
        Route("/rulebooks", service.list_rulebooks, methods=["GET"]),
        Route("/rulebooks/{rulebook:path}", service.describe, methods=["GET"]),
    ]
    from engine.serve.workbench.api import Workbench

    routes += Workbench(service).routes()
    routes += _static_routes()
    middleware = []
    if config.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept-Language"],
                expose_headers=["X-Decision-Id", "X-Batch-Id", "Retry-After"],
            )
        )
    middleware.append(Middleware(Guard, service=service))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={Problem: service.problem, HTTPException: service.http_exception},
    )
    app.state.service = service
    app.state.config = config
    app.state.rulebooks = rulebooks
    app.state.draining = service.draining
    app.state.metrics = service.metrics
    return app


def _static_routes() -> list[Any]:
    """The workbench's page at ``/`` and its files under ``/static/`` (no directory listing)."""
    import mimetypes

    from starlette.responses import FileResponse
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    from engine.serve.workbench import STATIC_DIR

    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("text/javascript", ".mjs")
    mimetypes.add_type("text/css", ".css")

    async def index(request: Request) -> Response:
        page = STATIC_DIR / "index.html"
        if not page.is_file():
            raise Problem(404, "serve.not-found", Text("the workbench page is not installed", "没有安装工作台页面"))
        return FileResponse(page, media_type="text/html; charset=utf-8")

    return [
        Route("/", index, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]


def create_app_from_env() -> Starlette:
    """The application configured by the environment (``ServeConfig.from_env``): uvicorn's factory."""
    return create_app(ServeConfig.from_env(os.environ))
