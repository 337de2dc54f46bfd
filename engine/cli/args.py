"""The arguments of the `rulebook` command line, in the reader's language.

The language of a run is chosen before anything else, so that every word the
command prints is in it, argparse's own included: ``--lang`` anywhere on the
command line (before or after the subcommand), else the ``RULEBOOK_LANG``
environment variable, else Chinese.  The parser is then built in that
language: every help text is a :class:`~engine.messages.Text`, and while the
parser is built and used, argparse's own words ("usage:", "options", "the
following arguments are required") are taken from :data:`ARGPARSE_ZH`.

The global options (``--lang``, ``--color``, ``--debug``) are accepted before
and after the subcommand.  They are declared on the main parser and on each
subcommand with no default (``argparse.SUPPRESS``), so that a subcommand that
is not given one never overwrites the value given before it; the defaults are
filled in afterwards.

``-`` names a standard stream wherever a path is given: standard input for an input
(``rulebook check RB -``), standard output for an output (``--output -``, exactly as
if no ``--output`` were given).  :data:`OUTPUT_FILES` lists the options naming a
file a command writes, and :func:`standard_output` turns their ``-`` into ``None``
(standard output) after parsing; :data:`OUTPUT_FOLDERS` lists those naming a folder
a command writes into, where ``-`` is refused (``usage.dash-folder``): standard
output is no folder.  A file or folder really named ``-`` is written as ``./-``.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import datetime as _dt
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn, cast

from engine.errors import Diagnostic, UsageError
from engine.messages import Text, msg, normal_lang

__all__ = [
    "ARGPARSE_ZH",
    "FAIL_ON",
    "LANG_ENV",
    "OUTPUT_FILES",
    "OUTPUT_FOLDERS",
    "STANDARD_STREAM",
    "argparse_words",
    "build_parser",
    "choose_lang",
    "given_options",
    "parse_args",
    "standard_output",
]

LANG_ENV = "RULEBOOK_LANG"
FAIL_ON = ("fail", "indeterminate", "warning")
STANDARD_STREAM = "-"  # as a path: standard input for an input, standard output for an output
#: the options naming a file a command writes (command -> (option, destination)): ``-`` is standard output
OUTPUT_FILES: dict[str, tuple[str, str]] = {"check": ("--output", "output"), "doc": ("--output", "output")}
#: the options naming a folder a command writes into: ``-`` (standard output) is refused
OUTPUT_FOLDERS: dict[str, tuple[str, str]] = {
    "init-plugin": ("--directory", "directory"),
    "schema": ("--directory", "directory"),
}

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("rulebook_cli_lang", default="zh")

# argparse's own words (the messages it passes through gettext) in Chinese.  The ones it uses
# only for mistakes in a program's own parser definition are listed in NOT_SHOWN_TO_USERS.
ARGPARSE_ZH: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示此帮助信息并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的取值 %(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "expected one argument": "需要一个值",
    "expected at least one argument": "至少需要一个值",
    "expected at most one argument": "最多只能有一个值",
    "expected %s argument": "需要 %s 个值",
    "expected %s arguments": "需要 %s 个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是：%(matches)s",
    "ignored explicit argument %r": "多余的取值 %r",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "必须给出参数 %s 之一",
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s'：%(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "没有子命令 %(parser_name)r（可选：%(choices)s）",
}
NOT_SHOWN_TO_USERS = frozenset(
    {
        "%r is not callable",
        "'required' is an invalid argument for positionals",
        ".__call__() not defined",
        'argument "-" with mode %r',
        "cannot have multiple subparser arguments",
        "cannot merge actions - two groups are named %r",
        "conflicting option string: %s",
        "conflicting option strings: %s",
        "conflicting subparser alias: %s",
        "conflicting subparser: %s",
        "dest= is required for options like %r",
        "invalid conflict_resolution value: %r",
        "invalid option string %(option)r: must start with a character %(prefix_chars)r",
        "mutually exclusive arguments must be optional",
        "unexpected option string: %s",
    }
)


@contextlib.contextmanager
def argparse_words(lang: str) -> Iterator[None]:
    """argparse speaks ``lang`` inside the block (its module's ``_``/``ngettext``, restored after)."""
    token = _LANG.set(lang)
    names = vars(argparse)  # the module's globals: argparse looks its words up there when it speaks
    saved = names["_"], names["ngettext"]
    if lang == "zh":
        names["_"] = lambda text: ARGPARSE_ZH.get(text, text)
        names["ngettext"] = lambda one, many, n: ARGPARSE_ZH.get(one if n == 1 else many, one if n == 1 else many)
    try:
        yield
    finally:
        names["_"], names["ngettext"] = saved
        _LANG.reset(token)


def choose_lang(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str:
    """The language of a run: ``--lang`` anywhere in ``argv``, else ``RULEBOOK_LANG``, else ``zh``."""
    given: str | None = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            given = argv[i + 1]
        elif arg.startswith("--lang="):
            given = arg.split("=", 1)[1]
    if given in ("zh", "en"):
        return given
    env = (os.environ if environ is None else environ).get(LANG_ENV, "")
    return normal_lang(env) if env.strip() else "zh"


def _text(value: Any) -> Any:
    return value.get(_LANG.get()) if isinstance(value, Text) else value


class _SubParsers(argparse._SubParsersAction):  # noqa: SLF001 - argparse's sub-command action has no public class
    def add_parser(self, name: str, **kwargs: Any) -> Any:
        for key in ("help", "description"):
            kwargs[key] = _text(kwargs.get(key))
        if kwargs.get("description") is None and kwargs.get("help") is not None:
            kwargs["description"] = kwargs["help"]
        return super().add_parser(name, **kwargs)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose help texts may be :class:`Text` (rendered in the run's language)
    and whose errors are usage diagnostics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for key in ("description", "epilog"):
            kwargs[key] = _text(kwargs.get(key))
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _SubParsers)

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["help"] = _text(kwargs.get("help"))
        return super().add_argument(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # ``message`` is argparse's, already in the run's language (see argparse_words)
        raise UsageError(
            Diagnostic("usage.arguments", Text(message, message), help=msg("usage.arguments/help", prog=self.prog))
        )


def _date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(msg("usage.bad-date", text=text).get(_LANG.get())) from None


def _global_options(parser: _Parser, *, top: bool) -> None:
    parser.add_argument(
        "--lang",
        choices=("zh", "en"),
        default=argparse.SUPPRESS,
        help=Text(
            f"language of every message (default: ${LANG_ENV}, else zh)",
            f"所有提示的语言（默认：${LANG_ENV}，否则为 zh）",
        ),
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=argparse.SUPPRESS,
        help=Text("colours in text output (auto: on a terminal)", "文本输出是否带颜色（auto：输出到终端时）"),
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help=Text("show the traceback of an internal error", "内部错误时显示调用栈"),
    )
    if top:
        parser.add_argument(
            "--version",
            action="store_true",
            default=argparse.SUPPRESS,
            help=Text(
                "the engine's version, Python's, and the installed plugins with theirs, then exit",
                "显示引擎和 Python 的版本，以及已安装的插件及其版本，然后退出",
            ),
        )


def build_parser(lang: str = "zh") -> argparse.ArgumentParser:
    """The parser of ``rulebook``, with its help in ``lang``."""
    with argparse_words(lang):
        return _build()


def _build() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    _global_options(common, top=False)
    parser = _Parser(
        prog="rulebook",
        description=Text(
            "Evaluate records against versioned YAML rulebooks and explain each decision rule by rule.",
            "按版本化的 YAML 规则集评估记录，并逐条规则解释每个决定。",
        ),
    )
    _global_options(parser, top=True)
    sub = cast(  # the action registered for "parsers" by _Parser
        _SubParsers,
        parser.add_subparsers(
            dest="command", metavar="COMMAND", parser_class=_Parser, title=Text("commands", "命令").get(_LANG.get())
        ),
    )

    rulebook_help = Text("rulebook id, id@version, or path to a YAML file", "规则集编号、编号@版本，或 YAML 文件的路径")
    decision_help = Text(
        "the decision to make (default: the rulebook's first)", "要做出的决定（默认：规则集的第一个决定）"
    )
    as_of_help = Text(
        "evaluation date YYYY-MM-DD (default: each record's own, as the decision defines it)",
        "评估日期 YYYY-MM-DD（默认：按决定的定义取每条记录自己的日期）",
    )
    input_format_help = Text(
        "format of the input: json, jsonl, csv, xlsx, parquet, or a plugin's (default: from the file name)",
        "输入的格式：json、jsonl、csv、xlsx、parquet 或插件提供的格式（默认：按文件名判断）",
    )
    sheet_help = Text(
        "the worksheet of an .xlsx file to read (default: the first)", "要读取的 .xlsx 工作表（默认：第一个）"
    )
    text_json = Text("output format: text (default) or json", "输出格式：text（默认）或 json")

    p = sub.add_parser(
        "list",
        parents=[common],
        help=Text("list the installed rulebooks and who supplied them", "列出已安装的规则集及其来源"),
    )
    p.add_argument(
        "--all-versions",
        action="store_true",
        help=Text("every version, not only the one in force today", "列出所有版本，而不只是今天生效的版本"),
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help=text_json)

    enforcement_help = Text(
        "what a record that breaks its record schema gets: none (not checked), warn (the violations are listed "
        "and count as warnings) or reject (outcome error); default: the rulebook's, else warn",
        "不符合记录结构的记录如何处理：none（不检查）、warn（列出问题，按警告计）或 reject（结论为 error）；"
        "默认：规则集中的设置，未设置时为 warn",
    )
    allow_empty_help = Text(
        "an input without records is not an error (exit 0 when nothing was decided)",
        "输入中没有记录不算错误（什么都没有决定时以 0 退出）",
    )
    dask_help = Text(
        "decide the records on a Dask cluster: its scheduler's address (tcp://host:8786), or local:N for N worker "
        "processes on this machine (needs the extra rulebook-engine[dask]; see docs/scale.md)",
        "在 Dask 集群上评估记录：调度器地址（`tcp://host:8786`），或 `local:N` 表示在本机启动 N 个工作进程"
        "（需要附加依赖 `rulebook-engine[dask]`，见 `docs/scale.md`）",
    )
    p = sub.add_parser(
        "check", parents=[common], help=Text("evaluate records and report every decision", "评估记录并报告每个决定")
    )
    p.add_argument("rulebook", help=rulebook_help)
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help=Text(
            ".json, .jsonl, .csv, .xlsx, .parquet, or - for standard input",
            ".json、.jsonl、.csv、.xlsx、.parquet 文件，或用 - 表示标准输入",
        ),
    )
    p.add_argument("--decision", help=decision_help)
    p.add_argument("--as-of", type=_date, help=as_of_help)
    p.add_argument(
        "--format",
        default="text",
        metavar="FORMAT",
        help=Text(
            "text (default), json, junit, sarif, github, html, parquet (with --output), or a plugin's "
            "(`rulebook plugins`)",
            "text（默认）、json、junit、sarif、github、html、parquet（需配合 --output），"
            "或插件提供的格式（见 `rulebook plugins`）",
        ),
    )
    p.add_argument(
        "--output",
        help=Text(
            "write the report to this file instead of standard output (- is standard output; ./- a file named -)",
            "把报告写入这个文件，而不是标准输出（- 表示标准输出；名为 - 的文件写作 ./-）",
        ),
    )
    p.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="indeterminate",
        help=Text(
            "exit 1 when some record fails (fail), is not a clear pass (indeterminate, the default), "
            "or also fails a warning rule (warning)",
            "何时以退出码 1 结束：有记录不通过（fail）；有记录不是明确通过（indeterminate，默认）；"
            "或还有记录未通过警告级规则（warning）",
        ),
    )
    p.add_argument("--input-format", metavar="FORMAT", help=input_format_help)
    p.add_argument("--sheet", help=sheet_help)
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help=Text(
            "worker processes (default: every core when JSON Lines files of 1 MB or more go to --format json, else 1)",
            "工作进程数（默认：JSON Lines 文件合计 1 MB 以上且 --format json 时用全部核心，否则为 1）",
        ),
    )
    p.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help=Text(
            "progress on standard error: a live line on a terminal, plain lines elsewhere (auto: only on a terminal)",
            "在标准错误上显示进度：终端上是一行动态进度，其他情况下是普通文本行（auto：只在终端上显示）",
        ),
    )
    p.add_argument("--allow-empty", action="store_true", help=allow_empty_help)
    p.add_argument("-v", "--verbose", action="store_true", help=Text("also show info rules", "也显示提示级规则"))
    p.add_argument("--schema-enforcement", choices=("none", "warn", "reject"), help=enforcement_help)
    p.add_argument("--dask", metavar="ADDRESS", help=dask_help)
    p.add_argument(
        "--engine",
        choices=("auto", "records", "columnar"),
        default="auto",
        help=Text(
            "how records are decided: records (one at a time), columnar (whole columns at once, for "
            "--format parquet over JSON Lines or Parquet files; needs the extra rulebook-engine[columnar]; "
            "see docs/columnar.md), auto (columnar for large inputs when it can, else records; the default)",
            "决定记录的方式：records（逐条）、columnar（整列一起算，用于 JSON Lines 或 Parquet 文件输出 "
            "--format parquet；需要附加依赖 rulebook-engine[columnar]，见 docs/columnar.md）、"
            "auto（输入大且可行时用 columnar，否则 records；默认）",
        ),
    )

    p = sub.add_parser(
        "explain",
        parents=[common],
        help=Text("explain the decision on records, rule by rule", "逐条规则解释对记录的决定"),
    )
    p.add_argument("rulebook", help=rulebook_help)
    p.add_argument(
        "record_file",
        metavar="RECORD_FILE",
        help=Text(
            "the records to explain (.json, .jsonl, .csv, .xlsx, or - for standard input)",
            "要解释的记录（.json、.jsonl、.csv、.xlsx 文件，或用 - 表示标准输入）",
        ),
    )
    p.add_argument("--decision", help=decision_help)
    p.add_argument("--as-of", type=_date, help=as_of_help)
    p.add_argument("--format", choices=("text", "json"), default="text", help=text_json)
    p.add_argument("--input-format", metavar="FORMAT", help=input_format_help)
    p.add_argument("--sheet", help=sheet_help)
    p.add_argument("--schema-enforcement", choices=("none", "warn", "reject"), help=enforcement_help)

    p = sub.add_parser("test", parents=[common], help=Text("run rulebooks' embedded examples", "运行规则集内嵌的示例"))
    p.add_argument(
        "rulebooks",
        nargs="*",
        metavar="RULEBOOK_OR_PATH",
        help=Text(
            "rulebook ids, YAML files or folders (default: every installed rulebook)",
            "规则集编号、YAML 文件或文件夹（默认：所有已安装的规则集）",
        ),
    )
    p.add_argument("-v", "--verbose", action="store_true", help=Text("list every example", "列出每个示例"))
    p.add_argument(
        "--min-coverage",
        type=float,
        metavar="PERCENT",
        help=Text(
            "fail when fewer rules than this share are made both to pass and to fail by the examples",
            "若示例使其既通过又不通过的规则所占比例低于此值，则判为失败",
        ),
    )

    p = sub.add_parser(
        "doc",
        parents=[common],
        help=Text("write a rulebook's page for policy editors", "为政策编写者生成规则集的说明页"),
    )
    p.add_argument("rulebook", help=rulebook_help)
    p.add_argument(
        "--format",
        choices=("markdown", "html"),
        default="markdown",
        help=Text("markdown (default) or html", "markdown（默认）或 html"),
    )
    p.add_argument(
        "--output",
        help=Text(
            "write the page to this file instead of standard output (- is standard output; ./- a file named -)",
            "把说明页写入这个文件，而不是标准输出（- 表示标准输出；名为 - 的文件写作 ./-）",
        ),
    )

    p = sub.add_parser(
        "lint",
        parents=[common],
        help=Text("check rulebooks without evaluating anything", "检查规则集，但不评估任何记录"),
    )
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=Text(
            "YAML files or folders (default: every installed rulebook: the bundled ones, the plugins' and those in "
            "RULEBOOK_PATH)",
            "YAML 文件或文件夹（默认：所有已安装的规则集，包括内置的、插件提供的和 RULEBOOK_PATH 中的）",
        ),
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help=Text(
            "text (default), json, sarif or github (workflow annotations)",
            "text（默认）、json、sarif 或 github（工作流注释）",
        ),
    )

    p = sub.add_parser(
        "diff",
        parents=[common],
        help=Text(
            "what changed between two rulebook versions, and for whom", "两个规则集版本之间有什么变化，影响了哪些记录"
        ),
    )
    p.add_argument("old", metavar="OLD", help=Text("rulebook id@version or path", "规则集编号@版本或路径"))
    p.add_argument("new", metavar="NEW", help=Text("rulebook id@version or path", "规则集编号@版本或路径"))
    p.add_argument(
        "--data",
        nargs="+",
        action="extend",
        metavar="FILE",
        help=Text(
            "records to decide with both versions (may be given more than once)",
            "用两个版本分别评估的记录（可多次给出）",
        ),
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help=Text(
            "decide the --data records on a Dask cluster: its scheduler's address, or local:N (see docs/scale.md)",
            "在 Dask 集群上评估 `--data` 的记录：调度器地址，或 `local:N`（见 `docs/scale.md`）",
        ),
    )
    p.add_argument(
        "--decision",
        help=Text(
            "the decision for --data (default: each decision both versions share)",
            "--data 使用的决定（默认：两个版本共有的每个决定）",
        ),
    )
    p.add_argument("--as-of", type=_date, help=as_of_help)
    p.add_argument("--input-format", metavar="FORMAT", help=input_format_help)
    p.add_argument("--sheet", help=sheet_help)
    p.add_argument("--format", choices=("text", "json"), default="text", help=text_json)
    p.add_argument("--allow-empty", action="store_true", help=allow_empty_help)

    p = sub.add_parser(
        "plugins",
        parents=[common],
        help=Text("list the plugins and the hooks each implements", "列出插件及其实现的钩子"),
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help=text_json)

    from engine.cli.calendar import add_calendar_parser

    add_calendar_parser(sub, common)

    from engine.cli.schema import add_schema_parser

    add_schema_parser(sub, common)

    from engine.serve.cli import add_serve_parser  # the options only: the web stack is imported by `serve` itself

    add_serve_parser(sub, _LANG.get(), (common,))

    p = sub.add_parser(
        "init-plugin",
        parents=[common],
        help=Text("write a new plugin package to start from", "生成一个新插件包作为起点"),
    )
    p.add_argument(
        "name",
        metavar="NAME",
        help=Text("distribution name, e.g. rulebook-acme-club", "发行包名，例如 rulebook-acme-club"),
    )
    p.add_argument(
        "--directory",
        default=".",
        help=Text(
            "where to create the folder NAME (default: here; ./- for a folder named -)",
            "在哪里创建 NAME 文件夹（默认：当前目录；名为 - 的文件夹写作 ./-）",
        ),
    )
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str], lang: str) -> argparse.Namespace:
    """Parse ``argv`` in ``lang`` and fill in the global options' defaults.

    Raises ``UsageError`` for a wrong command line, ``SystemExit`` after printing ``--help``.
    """
    with argparse_words(lang):
        args = parser.parse_args(argv)
    args.lang = getattr(args, "lang", lang)  # --lang, wherever it was given, chose ``lang`` already
    args.color = getattr(args, "color", "auto")
    args.debug = getattr(args, "debug", False)
    args.version = getattr(args, "version", False)
    return args


def standard_output(args: argparse.Namespace) -> None:
    """``-`` for an output of the command: a file's ``-`` becomes ``None`` (standard output, as
    with the option not given); a folder's ``-`` is refused.

    Raises:
        UsageError: ``usage.dash-folder``, an option naming a folder given ``-``.
    """
    command = getattr(args, "command", None) or ""
    if command in OUTPUT_FILES:
        _option, dest = OUTPUT_FILES[command]
        if getattr(args, dest, None) == STANDARD_STREAM:
            setattr(args, dest, None)
    if command in OUTPUT_FOLDERS:
        option, dest = OUTPUT_FOLDERS[command]
        if getattr(args, dest, None) == STANDARD_STREAM:
            raise UsageError(
                Diagnostic(
                    "usage.dash-folder",
                    msg("usage.dash-folder", option=option),
                    help=msg("usage.dash-folder/help", option=option),
                )
            )


def given_options(parser: argparse.ArgumentParser, argv: Sequence[str], lang: str) -> frozenset[str]:
    """The destinations of the options (and arguments) present on the command line ``argv``.

    An option counts as given when it is written, whatever its value: ``--directory .`` is
    given although ``.`` is its default.  ``argv`` is parsed a second time with every default
    suppressed (argparse then sets only what the command line names), and the defaults are put
    back.  Call it after :func:`parse_args` succeeded on the same ``argv``: this parse cannot fail.
    """
    saved: dict[int, tuple[argparse.Action, Any]] = {}
    for action in _actions(parser):
        saved.setdefault(id(action), (action, action.default))  # a parent's actions are shared
        action.default = argparse.SUPPRESS
    try:
        with argparse_words(lang):
            given = parser.parse_args(argv)
    finally:
        for action, default in saved.values():
            action.default = default
    return frozenset(vars(given))


def _actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """Every action of ``parser`` and of its subcommands' parsers, at any depth."""
    for action in parser._actions:  # noqa: SLF001 - argparse lists a parser's actions nowhere public
        yield action
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001 - see _SubParsers
            seen: set[int] = set()
            for sub in action.choices.values():
                if id(sub) not in seen:  # an alias names the same parser
                    seen.add(id(sub))
                    yield from _actions(sub)


def print_help(parser: argparse.ArgumentParser, out: Any, lang: str) -> None:
    with argparse_words(lang):
        parser.print_help(out)
