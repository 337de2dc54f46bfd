"""What a `rulebook serve` worker is configured with, and how it reads that from the environment.

A :class:`ServeConfig` is frozen: the application reads it once when it is made.  The
command line builds one from its options; worker processes started by uvicorn read the
same configuration back from environment variables (``to_env`` writes them, ``from_env``
reads them, and the two round-trip).

Environment variables (every one optional):

=====================================  ==================================================================
``RULEBOOK_SERVE_RULEBOOKS``           extra rulebook files or folders, separated like ``PATH``
``RULEBOOK_SERVE_LANG``                default language of answers: ``zh`` (default) or ``en``
``RULEBOOK_SERVE_MAX_BODY_BYTES``      largest body of a single-record request (default 1048576)
``RULEBOOK_SERVE_MAX_BATCH_BYTES``     largest body of a batch request (default 268435456)
``RULEBOOK_SERVE_MAX_BATCH_LINES``     most lines in one batch request (default 100000)
``RULEBOOK_SERVE_MAX_DEPTH``           deepest JSON nesting of a record (default 64)
``RULEBOOK_SERVE_MAX_CONCURRENCY``     requests in flight per worker; beyond it 503 (default 64)
``RULEBOOK_SERVE_REQUEST_TIMEOUT``     seconds a request may take, body reading included (default 30)
``RULEBOOK_SERVE_TOKENS``              bearer tokens, separated by commas (none: no authentication)
``RULEBOOK_SERVE_TOKENS_FILE``         a file with one bearer token per line (``#`` starts a comment)
``RULEBOOK_SERVE_CORS``                origins allowed by CORS, separated by commas (none: no CORS headers)
``RULEBOOK_SERVE_MASKED_FIELDS``       record fields masked in the decision log, separated by commas
``RULEBOOK_SERVE_DECISION_LOG``        ``0`` turns the decision log off (default ``1``)
``RULEBOOK_SERVE_METRICS_OPEN``        ``1`` lets ``/metrics`` answer without a token (default ``0``)
``RULEBOOK_SERVE_EDIT``                ``1`` turns the workbench's editing on (``--edit``; default ``0``)
``RULEBOOK_SERVE_SAMPLES``             folders of sample feeds for the workbench, separated like ``PATH``
``RULEBOOK_SERVE_MAX_TEXT_BYTES``      largest rulebook text the workbench accepts (default 2097152)
``RULEBOOK_SERVE_TOKEN_NAMES``         who each token is, ``name:token`` separated by commas (from the
                                       tokens file's ``name: TOKEN`` lines; shown as who saved a draft)
=====================================  ==================================================================

A value that cannot be read raises :class:`~engine.errors.UsageError` naming the variable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import Diagnostic, UsageError
from engine.messages import Text

__all__ = ["DEFAULT_MASKED_FIELDS", "ENV_PREFIX", "ServeConfig", "named_tokens"]

ENV_PREFIX = "RULEBOOK_SERVE_"

#: Personal data in the bundled record kinds (names, birth dates, identity numbers), masked in the decision log.
DEFAULT_MASKED_FIELDS = (
    "name",
    "birth_date",
    "id_number",
    "id_card",
    "identity_number",
    "passport_number",
    "phone",
    "email",
    "address",
)

# (attribute, variable suffix, kind) of the plain settings
_SCALARS = (
    ("lang", "LANG", "lang"),
    ("max_body_bytes", "MAX_BODY_BYTES", "count"),
    ("max_batch_bytes", "MAX_BATCH_BYTES", "count"),
    ("max_batch_lines", "MAX_BATCH_LINES", "count"),
    ("max_depth", "MAX_DEPTH", "count"),
    ("max_concurrency", "MAX_CONCURRENCY", "count"),
    ("request_timeout_s", "REQUEST_TIMEOUT", "seconds"),
    ("decision_log", "DECISION_LOG", "flag"),
    ("metrics_open", "METRICS_OPEN", "flag"),
    ("edit", "EDIT", "flag"),
    ("max_text_bytes", "MAX_TEXT_BYTES", "count"),
)


def _bad(variable: str, value: str, expected: Text) -> UsageError:
    return UsageError(
        Diagnostic(
            "serve.config",
            Text(f"`{variable}={value}`: expected {expected.en}", f"`{variable}={value}`：应为{expected.zh}"),
        )
    )


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split(",") if w.strip())


@dataclass(frozen=True)
class ServeConfig:
    """The settings of one `rulebook serve` worker.

    Attributes:
        rulebook_paths: extra rulebook files or folders (``--rulebooks``), besides the installed plugins'.
        lang: the default language of answers; a request's ``?lang=`` or ``Accept-Language`` overrides it.
        max_body_bytes: the largest body of a single-record request (413 beyond it); also the longest
            line of a batch (a longer line is that line's error).
        max_batch_bytes: the largest body of a batch (413 when the announced length is larger; a final
            error line when the streamed bytes grow beyond it).
        max_batch_lines: the most lines in one batch (a final error line after them).
        max_depth: the deepest nesting of arrays and objects in a record (400 beyond it).
        max_concurrency: requests in flight in one worker; one more is answered 503 with ``Retry-After``.
        request_timeout_s: the wall-clock time a request may take, reading its body included.
        tokens: bearer tokens accepted (empty: no authentication).
        cors_origins: origins CORS allows (empty: no CORS headers at all).
        masked_fields: record fields (at any depth) whose values the decision log replaces by ``***``.
        decision_log: whether each decision is written to the log and told to the observers.
        metrics_open: whether ``/metrics`` answers without a token when tokens are set.
        edit: whether the workbench may save drafts (``--edit``).
        samples: folders of sample feeds the workbench offers for its impact check (``--samples``).
        max_text_bytes: the largest rulebook text the workbench's endpoints accept (413 beyond).
        token_names: (token, name) pairs: who holds a token (a tokens file's ``name: TOKEN`` lines).
    """

    rulebook_paths: tuple[Path, ...] = ()
    lang: str = "zh"
    max_body_bytes: int = 1_048_576
    max_batch_bytes: int = 256 * 1_048_576
    max_batch_lines: int = 100_000
    max_depth: int = 64
    max_concurrency: int = 64
    request_timeout_s: float = 30.0
    tokens: frozenset[str] = frozenset()
    cors_origins: tuple[str, ...] = ()
    masked_fields: tuple[str, ...] = DEFAULT_MASKED_FIELDS
    decision_log: bool = True
    metrics_open: bool = False
    edit: bool = False
    samples: tuple[Path, ...] = ()
    max_text_bytes: int = 2 * 1_048_576
    token_names: tuple[tuple[str, str], ...] = ()

    def token_name(self, token: str) -> str | None:
        """The name of a valid token (None for a token without a name or not valid)."""
        import hmac

        found = None
        for known, name in self.token_names:
            if hmac.compare_digest(known.encode("utf-8"), token.encode("utf-8")):
                found = name
        return found if token in self.tokens else None

    def __post_init__(self) -> None:
        if self.lang not in ("zh", "en"):
            raise _bad(ENV_PREFIX + "LANG", self.lang, Text("`zh` or `en`", "`zh` 或 `en`"))
        for name in (
            "max_body_bytes",
            "max_batch_bytes",
            "max_batch_lines",
            "max_depth",
            "max_concurrency",
            "max_text_bytes",
        ):
            if getattr(self, name) < 1:
                raise _bad(
                    ENV_PREFIX + name.upper(),
                    str(getattr(self, name)),
                    Text("a whole number of at least 1", "不小于 1 的整数"),
                )
        if not self.request_timeout_s > 0:
            raise _bad(
                ENV_PREFIX + "REQUEST_TIMEOUT",
                str(self.request_timeout_s),
                Text("a number of seconds above 0", "大于 0 的秒数"),
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **overrides: Any) -> ServeConfig:
        """The configuration the environment gives (see the module's table), with ``overrides`` on top.

        Raises:
            UsageError: a variable whose value cannot be read, or a tokens file that cannot be read.
        """
        values: dict[str, Any] = {}
        for attr, suffix, kind in _SCALARS:
            variable = ENV_PREFIX + suffix
            raw = environ.get(variable)
            if raw is None or raw.strip() == "":
                continue
            values[attr] = _read(variable, raw.strip(), kind)
        paths = environ.get(ENV_PREFIX + "RULEBOOKS", "")
        if paths.strip():
            values["rulebook_paths"] = tuple(Path(p) for p in paths.split(os.pathsep) if p.strip())
        tokens = set(_words(environ.get(ENV_PREFIX + "TOKENS", "")))
        names = {
            w.partition(":")[2]: w.partition(":")[0]
            for w in _words(environ.get(ENV_PREFIX + "TOKEN_NAMES", ""))
            if ":" in w
        }
        token_file = environ.get(ENV_PREFIX + "TOKENS_FILE", "").strip()
        if token_file:
            named = named_tokens(_read_tokens_file(token_file))
            tokens |= set(named)
            names |= {t: n for t, n in named.items() if n}
        if tokens:
            values["tokens"] = frozenset(tokens)
        if names:
            values["token_names"] = tuple(sorted(names.items()))
        samples = environ.get(ENV_PREFIX + "SAMPLES", "")
        if samples.strip():
            values["samples"] = tuple(Path(p) for p in samples.split(os.pathsep) if p.strip())
        if ENV_PREFIX + "CORS" in environ:
            values["cors_origins"] = _words(environ[ENV_PREFIX + "CORS"])
        if ENV_PREFIX + "MASKED_FIELDS" in environ:
            values["masked_fields"] = _words(environ[ENV_PREFIX + "MASKED_FIELDS"])
        values.update(overrides)
        if "rulebook_paths" in values:
            values["rulebook_paths"] = tuple(Path(p) for p in values["rulebook_paths"])
        if "tokens" in values:
            values["tokens"] = frozenset(values["tokens"])
        if "samples" in values:
            values["samples"] = tuple(Path(p) for p in values["samples"])
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """Environment variables from which ``from_env`` makes this configuration again (for worker
        processes).  Tokens are passed in ``RULEBOOK_SERVE_TOKENS``: the workers' environment is
        as private as the parent's."""
        env: dict[str, str] = {}
        for attr, suffix, kind in _SCALARS:
            value = getattr(self, attr)
            env[ENV_PREFIX + suffix] = (
                ("1" if value else "0") if kind == "flag" else repr(value) if kind == "seconds" else str(value)
            )
        env[ENV_PREFIX + "RULEBOOKS"] = os.pathsep.join(str(p) for p in self.rulebook_paths)
        env[ENV_PREFIX + "TOKENS"] = ",".join(sorted(self.tokens))
        env[ENV_PREFIX + "TOKENS_FILE"] = ""
        env[ENV_PREFIX + "TOKEN_NAMES"] = ",".join(f"{n}:{t}" for t, n in self.token_names)
        env[ENV_PREFIX + "SAMPLES"] = os.pathsep.join(str(p) for p in self.samples)
        env[ENV_PREFIX + "CORS"] = ",".join(self.cors_origins)
        env[ENV_PREFIX + "MASKED_FIELDS"] = ",".join(self.masked_fields)
        return env

    def replace(self, **changes: Any) -> ServeConfig:
        """This configuration with some settings changed."""
        return dataclasses.replace(self, **changes)


def _read(variable: str, raw: str, kind: str) -> Any:
    if kind == "lang":
        return raw.lower()
    if kind == "flag":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise _bad(variable, raw, Text("`1` or `0`", "`1` 或 `0`"))
    try:
        return int(raw) if kind == "count" else float(raw)
    except ValueError:
        raise _bad(variable, raw, Text("a number", "一个数")) from None


def _read_tokens_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError(
            Diagnostic("serve.config", Text(f"cannot read the tokens file `{path}`", f"无法读取令牌文件 `{path}`"))
        ) from None


def _tokens_from_file(path: str) -> set[str]:
    return set(named_tokens(_read_tokens_file(path)))


def named_tokens(text: str) -> dict[str, str | None]:
    """The tokens of a tokens file, each with its holder's name: a line is ``TOKEN`` or ``name: TOKEN``
    (a name, a colon and a space; tokens hold no spaces), ``#`` starts a comment line."""
    out: dict[str, str | None] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, token = line.partition(": ")
        if sep and token.strip() and " " not in token.strip():
            out[token.strip()] = name.strip() or None
        else:
            out[line] = None
    return out
