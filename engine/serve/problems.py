"""HTTP errors of `rulebook serve` as RFC 9457 problem details, in the reader's language.

A :class:`Problem` is raised wherever a request cannot be answered and becomes one
``application/problem+json`` response: ``type`` (a URI ending in the stable code, the same
code the command line shows for the same mistake, e.g. ``usage.unknown-rulebook``),
``title`` (the status in words), ``status``, ``detail`` (what went wrong), ``instance`` (the
request's path), and the extension members ``code``, ``help`` and whatever the problem
adds (``candidates``, ``line``, ``column``, ``limit``, ``schema``).

Codes of the service's own problems (besides the command line's ``usage.*`` and
``record.*``): ``serve.unknown-parameter``, ``serve.bad-parameter``, ``serve.bad-length``,
``serve.body-too-large``, ``serve.batch-too-long``, ``serve.line-too-long``,
``serve.timeout``, ``serve.overloaded``, ``serve.shutting-down``, ``serve.unauthorized``,
``serve.not-found``, ``serve.method-not-allowed``, ``serve.internal``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.errors import UsageError
from engine.messages import Text

__all__ = ["PROBLEM_BASE", "PROBLEM_TYPE", "Problem", "title"]

#: The media type of every error answer.
PROBLEM_TYPE = "application/problem+json"
#: ``type`` is this followed by the code.
PROBLEM_BASE = "https://rulebook-engine.example/problems/"

_TITLES = {
    400: Text("bad request", "请求有误"),
    401: Text("authentication needed", "需要身份验证"),
    404: Text("not found", "找不到"),
    405: Text("method not allowed", "不支持该请求方法"),
    413: Text("request too large", "请求过大"),
    422: Text("record refused", "记录被拒绝"),
    500: Text("internal error", "内部错误"),
    503: Text("service unavailable", "服务暂不可用"),
}


def title(status: int) -> Text:
    """The title of a status, in both languages."""
    return _TITLES.get(status, Text("error", "错误"))


class Problem(Exception):
    """An answer that is an error: status, stable code, detail (and help) in both languages."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: Text,
        *,
        help: Text | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail.en)
        self.status = status
        self.code = code
        self.detail = detail
        self.help = help
        self.headers = dict(headers or {})
        self.extra = extra

    @classmethod
    def of_usage(cls, e: UsageError, status: int = 404, **extra: Any) -> Problem:
        """The problem of a usage error (unknown rulebook, version, decision; bad date)."""
        d = e.diagnostics[0]
        return cls(status, d.code, d.message_text, help=d.help_text, **extra)

    def to_json(self, lang: str, instance: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": title(self.status).get(lang),
            "status": self.status,
            "detail": self.detail.get(lang),
            "instance": instance,
            "code": self.code,
        }
        if self.help is not None:
            out["help"] = self.help.get(lang)
        for key, value in self.extra.items():
            out[key] = value.get(lang) if isinstance(value, Text) else value
        return out

    def body(self, lang: str, instance: str) -> bytes:
        return json.dumps(self.to_json(lang, instance), ensure_ascii=False).encode("utf-8")
