"""``rulebook serve``: the command line of the decision service.

Two functions for the ``rulebook`` command line to wire in, so that the command
line's own modules never import this subpackage's web stack:

* :func:`add_serve_parser` adds the ``serve`` subcommand and its options (help in the
  reader's language) to the command line's subparsers.  It imports nothing beyond
  the standard library and the engine's messages, so building the parser costs
  every other command nothing;
* :func:`cmd_serve` runs it.  Starlette, uvicorn and prometheus-client are an
  optional extra (``pip install 'rulebook-engine[serve]'``); without them the
  command says so in the reader's language and exits 2, without a traceback.

What the options set is a :class:`~engine.serve.config.ServeConfig`: the
``RULEBOOK_SERVE_*`` environment variables first (``ServeConfig.from_env``), then
each option given on the command line over them.  Bearer tokens are never taken
from the command line, where every user of the machine can read them (``ps``):
``RULEBOOK_SERVE_TOKENS`` or a file (``--tokens-file``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.errors import Diagnostic, EngineError, UsageError
from engine.messages import Text

if TYPE_CHECKING:
    from engine.serve.config import ServeConfig

__all__ = ["SERVE_EXTRA", "add_serve_parser", "cmd_serve", "configuration"]

SERVE_EXTRA = "rulebook-engine[serve]"
_SERVE_PACKAGES = ("starlette", "uvicorn", "prometheus_client")


def _checked(lang: str, convert: Callable[[str], Any], ok: Callable[[Any], bool], what: Text) -> Callable[[str], Any]:
    """An argparse ``type`` that reads a number and says, in ``lang``, what was expected instead."""

    def read(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(Text(f"`{text}` is not {what.en}", f"`{text}` 不是{what.zh}").get(lang))
        return value

    return read


def add_serve_parser(subparsers: Any, lang: str, parents: tuple[argparse.ArgumentParser, ...] = ()) -> None:
    """Add ``serve`` to the command line's ``subparsers``, its help in ``lang``.

    ``parents`` are the parsers of the options every subcommand accepts (``--lang``,
    ``--color``, ``--debug``), as the other subcommands are given them.
    """

    def t(en: str, zh: str) -> str:
        return Text(en, zh).get(lang)

    positive = _checked(lang, int, lambda n: n >= 1, Text("a whole number of at least 1", "不小于 1 的整数"))
    port = _checked(lang, int, lambda n: 0 <= n <= 65535, Text("a port number (0 to 65535)", "端口号（0 至 65535）"))
    seconds = _checked(lang, float, lambda x: x > 0, Text("a number of seconds above 0", "大于 0 的秒数"))

    p = subparsers.add_parser(
        "serve",
        parents=list(parents),
        help=t(
            "serve decisions over HTTP (JSON; needs the serve extra)",
            "通过 HTTP 提供决定服务（JSON；需要安装 serve 扩展）",
        ),
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help=t(
            "the address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every interface)",
            "监听的地址（默认 127.0.0.1，仅本机可访问；0.0.0.0 表示所有网络接口）",
        ),
    )
    p.add_argument(
        "--port",
        type=port,
        default=8000,
        help=t(
            "the TCP port (default 8000; 0 picks a free one, which the log names)",
            "TCP 端口（默认 8000；0 表示自动选择空闲端口，日志中会写出）",
        ),
    )
    p.add_argument(
        "--workers",
        type=positive,
        default=1,
        metavar="N",
        help=t(
            "worker processes answering on the same port (default 1); each loads the rulebooks itself",
            "在同一端口上应答的工作进程数（默认 1）；每个进程各自加载规则集",
        ),
    )
    p.add_argument(
        "--rulebooks",
        nargs="+",
        action="extend",
        type=Path,
        metavar="PATH",
        help=t(
            "rulebook files or folders to serve besides the installed ones (may be given more than once)",
            "除已安装的规则集外，还要提供服务的规则集文件或文件夹（可多次给出）",
        ),
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help=t(
            "reload a rulebook file when it changes; the new version replaces the old one only once it "
            "builds and its examples pass",
            "规则集文件改动后重新加载；新版本只有在成功构建且示例全部通过后才替换旧版本",
        ),
    )
    p.add_argument(
        "--watch-interval",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help=t("how often --watch looks at the files (default 1)", "--watch 检查文件的间隔秒数（默认 1）"),
    )
    p.add_argument(
        "--edit",
        action="store_true",
        default=None,
        help=t(
            "let the workbench (the page at /) save new draft versions into the --rulebooks folders",
            "允许工作台（/ 处的网页）把新的草稿版本保存到 --rulebooks 文件夹中",
        ),
    )
    p.add_argument(
        "--samples",
        nargs="+",
        action="extend",
        type=Path,
        metavar="DIR",
        help=t(
            "folders of sample feeds (.jsonl, .json, .csv, .xlsx) the workbench checks an edit against",
            "工作台用来检验修改影响的样本数据文件夹（.jsonl、.json、.csv、.xlsx）",
        ),
    )
    p.add_argument(
        "--max-body-bytes",
        type=positive,
        metavar="BYTES",
        help=t(
            "largest body of a single-record request (default 1048576)", "单条记录请求体的最大字节数（默认 1048576）"
        ),
    )
    p.add_argument(
        "--max-batch-bytes",
        type=positive,
        metavar="BYTES",
        help=t("largest body of a batch request (default 268435456)", "批量请求体的最大字节数（默认 268435456）"),
    )
    p.add_argument(
        "--max-batch-lines",
        type=positive,
        metavar="N",
        help=t("most lines in a batch request (default 100000)", "批量请求的最大行数（默认 100000）"),
    )
    p.add_argument(
        "--max-depth",
        type=positive,
        metavar="N",
        help=t("deepest JSON nesting of a record (default 64)", "记录中 JSON 嵌套的最大层数（默认 64）"),
    )
    p.add_argument(
        "--max-concurrency",
        type=positive,
        metavar="N",
        help=t(
            "requests in progress per worker; more are answered 503 with Retry-After (default 64)",
            "每个工作进程同时处理的请求数上限；超出的请求得到 503 和 Retry-After（默认 64）",
        ),
    )
    p.add_argument(
        "--request-timeout",
        type=seconds,
        metavar="SECONDS",
        help=t("longest time a request may take (default 30)", "单个请求的最长处理时间（秒，默认 30）"),
    )
    p.add_argument(
        "--tokens-file",
        type=Path,
        metavar="FILE",
        help=t(
            "bearer tokens, one a line; requests without one of them are refused (401). Tokens are never taken "
            "from the command line: use this or RULEBOOK_SERVE_TOKENS",
            "持有者令牌文件，每行一个；没有其中之一的请求被拒绝（401）。令牌不从命令行读取："
            "请用此文件或 RULEBOOK_SERVE_TOKENS",
        ),
    )
    p.add_argument(
        "--cors-origin",
        dest="cors_origins",
        action="append",
        metavar="ORIGIN",
        help=t(
            "a web origin allowed to call the service from a browser (may be given more than once; default none)",
            "允许从浏览器调用本服务的网页来源（可多次给出；默认不允许任何来源）",
        ),
    )
    p.add_argument(
        "--mask-field",
        dest="masked_fields",
        action="append",
        metavar="FIELD",
        help=t(
            "a record field masked in the decision log (may be given more than once; replaces the default list)",
            "决定日志中要遮盖的记录字段（可多次给出；给出后取代默认列表）",
        ),
    )
    p.add_argument(
        "--metrics-open",
        action="store_true",
        default=None,
        help=t(
            "let /metrics answer without a token when tokens are set (default: it needs one)",
            "设置了令牌时，/metrics 也无需令牌即可访问（默认需要令牌）",
        ),
    )
    p.add_argument(
        "--no-decision-log",
        dest="decision_log",
        action="store_false",
        default=None,
        help=t(
            "do not write the decision log (plugins' decision_made observers are still called)",
            "不写决定日志（插件的 decision_made 观察者仍会被调用）",
        ),
    )
    p.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help=t("do not log a line per HTTP request", "不为每个 HTTP 请求记录一行访问日志"),
    )
    p.add_argument(
        "--graceful-timeout",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help=t(
            "on SIGTERM, how long requests in progress may take to finish (default 30)",
            "收到 SIGTERM 后，等待进行中的请求完成的最长时间（秒，默认 30）",
        ),
    )
    p.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help=t(
            "the least important log lines shown on standard error (default info)",
            "标准错误上显示的日志的最低级别（默认 info）",
        ),
    )


def _missing_extra(error: ModuleNotFoundError) -> UsageError:
    package = (error.name or "").split(".")[0]
    return UsageError(
        Diagnostic(
            "usage.missing-package",
            Text(
                f"`rulebook serve` needs the `{package}` package, which is not installed",
                f"`rulebook serve` 需要 `{package}` 包，但它没有安装",
            ),
            help=Text(f"run `pip install '{SERVE_EXTRA}'`", f"请运行 `pip install '{SERVE_EXTRA}'`"),
        )
    )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration the command line gives (options not given leave the environment's)."""
    out: dict[str, Any] = {}
    if not os.environ.get("RULEBOOK_SERVE_LANG", "").strip():
        out["lang"] = args.lang  # answers speak the command's language unless the service's own is set
    if args.rulebooks:
        out["rulebook_paths"] = tuple(args.rulebooks)
    for option, field in (
        ("max_body_bytes", "max_body_bytes"),
        ("max_batch_bytes", "max_batch_bytes"),
        ("max_batch_lines", "max_batch_lines"),
        ("max_depth", "max_depth"),
        ("max_concurrency", "max_concurrency"),
        ("request_timeout", "request_timeout_s"),
        ("decision_log", "decision_log"),
        ("metrics_open", "metrics_open"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            out[field] = value
    if args.cors_origins:
        out["cors_origins"] = tuple(args.cors_origins)
    if args.masked_fields:
        out["masked_fields"] = tuple(args.masked_fields)
    if args.tokens_file is not None:
        out["tokens"] = _read_tokens(args.tokens_file)
        from engine.serve.config import named_tokens

        names = named_tokens(args.tokens_file.read_text(encoding="utf-8"))
        out["tokens"] = frozenset(names)
        out["token_names"] = tuple(sorted((t, n) for t, n in names.items() if n))
    if getattr(args, "edit", None):
        out["edit"] = True
    if getattr(args, "samples", None):
        out["samples"] = tuple(args.samples)
    return out


def configuration(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ServeConfig:
    """The configuration ``serve`` runs with: the ``RULEBOOK_SERVE_*`` variables of ``environ``
    (default: this process's), each option given on the command line over them.

    Raises:
        UsageError: a variable that cannot be read, a tokens file that cannot be read.
    """
    from engine.serve.config import ServeConfig

    return ServeConfig.from_env(os.environ if environ is None else environ, **_overrides(args))


def _read_tokens(path: Path) -> frozenset[str]:
    from engine.messages import os_reason

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            Diagnostic("usage.no-such-file", Text(f"no such file `{path}`", f"找不到文件 `{path}`"))
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        reason = os_reason(e) if isinstance(e, OSError) else Text("not UTF-8 text", "不是 UTF-8 文本")
        raise UsageError(
            Diagnostic(
                "usage.unreadable",
                Text(f"cannot read `{path}`: {reason.get('en')}", f"无法读取 `{path}`：{reason.get('zh')}"),
            )
        ) from None
    tokens = frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    )  # as RULEBOOK_SERVE_TOKENS_FILE
    if not tokens:
        raise UsageError(
            Diagnostic(
                "usage.arguments",
                Text(f"`{path}` holds no token", f"`{path}` 中没有令牌"),
                help=Text("write one token a line", "每行写一个令牌"),
            )
        )
    return tokens


def cmd_serve(args: argparse.Namespace, stdout: IO[str], stderr: IO[str], lang: str) -> int:
    """Run ``rulebook serve`` until SIGTERM or SIGINT; 0 after a clean stop, 2 when it cannot start."""
    try:
        for path in [*(args.rulebooks or ()), *(getattr(args, "samples", None) or ())]:
            if not path.exists():
                raise UsageError(
                    Diagnostic(
                        "usage.no-such-file", Text(f"no such file or folder `{path}`", f"找不到文件或文件夹 `{path}`")
                    )
                )
        try:
            import prometheus_client  # noqa: F401
            import starlette  # noqa: F401
            import uvicorn  # noqa: F401

            from engine.serve import server
        except ModuleNotFoundError as e:
            if (e.name or "").split(".")[0] not in _SERVE_PACKAGES:
                raise
            raise _missing_extra(e) from None
        config = configuration(args)
        options = server.ServerOptions(
            host=args.host,
            port=args.port,
            workers=args.workers,
            watch=args.watch,
            watch_interval=args.watch_interval or server.DEFAULT_WATCH_INTERVAL,
            graceful_timeout=args.graceful_timeout or server.DEFAULT_GRACEFUL_TIMEOUT,
            log_level=args.log_level,
            access_log=args.access_log,
        )
        return server.serve(config, options, stderr=stderr)
    except EngineError as e:
        stderr.write(e.render(lang) + "\n")
        return 2
