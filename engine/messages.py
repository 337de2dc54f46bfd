"""Every message the engine shows a person, written once in each language.

A message is a :class:`Text`: the same content in English and in Chinese.  A
:class:`~engine.errors.Diagnostic`, an :class:`~engine.errors.EvalError`, a
record that cannot be read and the command line's own words all carry
``Text`` values, and whoever renders them picks the reader's language with
``text.get(lang)``.  There is no fallback from one language to the other: a
``Text`` cannot be made without both.

Two ways to make one:

* ``msg(key, **values)``: the templates of ``key`` in :data:`CATALOGUE`
  (``str.format`` fields, filled with the named values).  A value that is a
  ``Text`` itself is rendered in the same language, so messages compose
  (``msg("eval.cannot-decide", reason=err.text)``).  Use this for anything
  with a stable wording: the catalogue is where translators read, and
  ``tests/test_messages.py`` renders every entry in both languages, checks
  that both name the same values and that neither strays into the other's
  script.
* ``Text(en, zh)``: for a module that keeps its own table of paired texts
  next to the code that picks them (YAML reader problems, parser hints).  The
  same test reads every ``Text(...)`` call in ``engine/`` and checks its two
  literals the same way.

Keys: a diagnostic's message is catalogued under its code
(``usage.no-such-file``), its advice under ``code/help``, and a code with more
than one wording under ``code:variant``.  Values named in a template are
written in backticks when they are the user's text (file names, field
paths, rule ids), so that a Chinese message quoting an English name stays
readable and checkable.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

__all__ = ["CATALOGUE", "LANGS", "Text", "listing", "msg", "normal_lang", "os_reason"]

LANGS = ("zh", "en")


def normal_lang(lang: str | None) -> str:
    """``zh`` or ``en`` for a language name as users write it (``zh_CN.UTF-8``, ``EN``)."""
    text = (lang or "").strip().lower().replace("-", "_")
    return "en" if text.startswith("en") else "zh"


class Text:
    """One message in both languages.  ``get(lang)`` is the text a reader of ``lang`` sees
    (``zh``, or English for anything else).  Texts from ``msg`` are filled in when first read."""

    __slots__ = ("_en", "_zh", "key", "values")

    def __init__(self, en: str, zh: str) -> None:
        self._en = en
        self._zh = zh
        self.key: str | None = None
        self.values: dict[str, Any] = {}

    @property
    def en(self) -> str:
        return self._en

    @property
    def zh(self) -> str:
        return self._zh

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.en, self.zh) == (other.en, other.zh)

    def __hash__(self) -> int:
        return hash((self.en, self.zh))

    def __repr__(self) -> str:
        return f"Text({self.en!r}, {self.zh!r})"

    def __str__(self) -> str:
        return self.en


class _Catalogued(Text):
    """A catalogued message, its templates filled in when first read in each language."""

    __slots__ = ("_filled_en", "_filled_zh")
    key: str

    def __init__(self, key: str, values: dict[str, Any]) -> None:
        self.key = key
        self.values = values
        self._filled_en: str | None = None
        self._filled_zh: str | None = None

    @property
    def en(self) -> str:
        if self._filled_en is None:
            self._filled_en = _fill(CATALOGUE[self.key][0], self.values, "en")
        return self._filled_en

    @property
    def zh(self) -> str:
        if self._filled_zh is None:
            self._filled_zh = _fill(CATALOGUE[self.key][1], self.values, "zh")
        return self._filled_zh


def msg(key: str, /, **values: Any) -> Text:
    """The catalogued message ``key`` with its named values (raises ``KeyError`` for an unknown key).

    A message about a number of things has a ``KEY:one`` entry for exactly one (``1 record``,
    not ``1 records``): it is used when the message's count (``count`` or ``total``) is 1.
    """
    if key not in CATALOGUE:
        raise KeyError(key)
    if key + ":one" in CATALOGUE and _counts_one(values):
        key += ":one"
    return _Catalogued(key, values)


def _counts_one(values: dict[str, Any]) -> bool:
    for name in ("count", "total"):
        if name in values:
            return values[name] == 1 and values[name] is not True
    return False


def listing(items: Iterable[object], *, quote: bool = True) -> Text:
    """Names joined as a list in each language: ```a`, `b``` and ```a`、`b```."""
    shown = [f"`{x}`" if quote else str(x) for x in items]
    return Text(", ".join(shown), "、".join(shown))


def os_reason(e: BaseException) -> Text:
    """Why an operation on a file failed, in words of both languages (the system's own
    ``strerror`` is English whatever the reader's language)."""
    import errno

    code = getattr(e, "errno", None)
    name = errno.errorcode.get(code, "") if isinstance(code, int) else ""
    if f"os.{name}" in CATALOGUE:
        return msg(f"os.{name}")
    return msg("os.other", name=name or type(e).__name__)


def _fill(template: str, values: dict[str, Any], lang: str) -> str:
    if not values:
        return template.replace("{{", "{").replace("}}", "}")
    return template.format_map({k: v.get(lang) if isinstance(v, Text) else v for k, v in values.items()})


def fields(template: str) -> set[str]:
    """The names of the values a template uses (for the tests)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


# ---------------------------------------------------------------------------
# The catalogue: key -> (English, Chinese)
# ---------------------------------------------------------------------------

CATALOGUE: dict[str, tuple[str, str]] = {}


def _add(entries: dict[str, tuple[str, str]]) -> None:
    for key, pair in entries.items():
        if key in CATALOGUE:  # pragma: no cover - caught when the module is imported by any test
            raise ValueError(f"message key {key} is defined twice")
        CATALOGUE[key] = pair


# -- the command line ---------------------------------------------------------

_add(
    {
        "usage.arguments": ("{detail}", "{detail}"),
        "usage.arguments/help": ("see `{prog} --help`", "参见 `{prog} --help`"),
        "usage.bad-date": ("`{text}` is not a date in YYYY-MM-DD form", "`{text}` 不是 YYYY-MM-DD 格式的日期"),
        "usage.jobs": ("`--jobs` must be at least 1", "`--jobs` 至少为 1"),
        "usage.columnar": (
            "`--engine columnar` cannot decide this run: {reason}",
            "`--engine columnar` 无法处理这次运行：{reason}",
        ),
        "usage.columnar/help": (
            "use `--engine records` (or `auto`, which picks what works)",
            "请改用 `--engine records`（或 `auto`，自动选择可行的方式）",
        ),
        "usage.option-unused": ("{options} do nothing here: {reason}", "{options} 在这里不起作用：{reason}"),
        "usage.option-unused:one": ("{options} does nothing here: {reason}", "{options} 在这里不起作用：{reason}"),
        "option-unused.why:version": (
            "it is an option of `rulebook` alone, and with it `rulebook {command}` would not run",
            "它是 `rulebook` 本身的选项，带上它 `rulebook {command}` 就不会运行",
        ),
        "usage.option-unused/help:version": (
            "run `rulebook --version` by itself, or `rulebook {command}` without it",
            "请单独运行 `rulebook --version`，或去掉它再运行 `rulebook {command}`",
        ),
        "option-unused.why:sheet": (
            "no input is an .xlsx workbook or read by a plugin's reader",
            "没有一个输入是 .xlsx 工作簿，也没有输入由插件的读取器读取",
        ),
        "usage.option-unused/help:sheet": (
            "`--sheet` picks the worksheet of an .xlsx input: remove it, or give an .xlsx file",
            "`--sheet` 用于选择 .xlsx 输入的工作表：请去掉它，或给出 .xlsx 文件",
        ),
        "option-unused.why:data": (
            "without `--data` no record is read: `rulebook diff` compares the two rulebooks only",
            "没有 `--data` 时不读取任何记录：`rulebook diff` 只比较两个规则集本身",
        ),
        "usage.option-unused/help:data": (
            (
                "`--decision`, `--as-of`, `--input-format`, `--sheet`, `--allow-empty` and `--dask` apply to the "
                "records of `--data`: give `--data FILE`, or remove {options}"
            ),
            (
                "`--decision`、`--as-of`、`--input-format`、`--sheet`、`--allow-empty` 和 `--dask` 作用于 `--data` "
                "的记录：请给出 `--data 文件`，或去掉 {options}"
            ),
        ),
        "option-unused.why:verbose": (
            (
                "`--format {format}` writes the same with or without it: only the text report leaves out info rules "
                "unless it is given"
            ),
            "有没有它，`--format {format}` 的输出都一样：只有文本报告在没有它时不显示提示级规则",
        ),
        "usage.option-unused/help:verbose": (
            "remove it, or use `--format text`",
            "请去掉它，或改用 `--format text`",
        ),
        "option-unused.why:progress-dask": (
            "with `--dask` progress is shown on a terminal only, and standard error is not one",
            "使用 `--dask` 时只在终端上显示进度，而标准错误不是终端",
        ),
        "usage.option-unused/help:progress-dask": (
            "remove `--progress always`: on a terminal progress is shown without it",
            "请去掉 `--progress always`：在终端上不加它也会显示进度",
        ),
        "option-unused.why:install": (
            (
                "`--directory` (where the settings are written) and `--pattern` (the files they check) apply to "
                "`--install` only, and `--install` is not given"
            ),
            "`--directory`（设置写入的位置）和 `--pattern`（设置检查的文件）只用于 `--install`，而没有给出 `--install`",
        ),
        "usage.option-unused/help:install": (
            "add `--install`, or remove {options}",
            "请加上 `--install`，或去掉 {options}",
        ),
        "option-unused.why:watch": (
            "it is how often `--watch` looks at the files, and `--watch` is not given",
            "它是 `--watch` 检查文件的间隔，而没有给出 `--watch`",
        ),
        "usage.option-unused/help:watch": (
            "add `--watch`, or remove `--watch-interval`",
            "请加上 `--watch`，或去掉 `--watch-interval`",
        ),
        "option-unused.why:tokens": (
            (
                "no bearer token is set (`--tokens-file`, RULEBOOK_SERVE_TOKENS or RULEBOOK_SERVE_TOKENS_FILE), so "
                "every endpoint, `/metrics` included, answers without one"
            ),
            (
                "没有设置持有者令牌（`--tokens-file`、RULEBOOK_SERVE_TOKENS 或 RULEBOOK_SERVE_TOKENS_FILE），"
                "所有端点（包括 `/metrics`）本来就无需令牌"
            ),
        ),
        "usage.option-unused/help:tokens": (
            "remove `--metrics-open`, or set tokens with `--tokens-file FILE`",
            "请去掉 `--metrics-open`，或用 `--tokens-file 文件` 设置令牌",
        ),
        "option-unused.why:decision-log": (
            (
                "it masks fields in the decision log, which is off (`--no-decision-log` or "
                "RULEBOOK_SERVE_DECISION_LOG=0)"
            ),
            "它只遮盖决定日志中的字段，而决定日志已关闭（`--no-decision-log` 或 RULEBOOK_SERVE_DECISION_LOG=0）",
        ),
        "usage.option-unused/help:decision-log": (
            "remove `--mask-field`, or leave the decision log on",
            "请去掉 `--mask-field`，或保持决定日志开启",
        ),
        "option-unused.why:folder": (
            (
                "the workbench saves drafts into a rulebook folder, and none is given (`--rulebooks` or "
                "RULEBOOK_SERVE_RULEBOOKS)"
            ),
            "工作台把草稿保存到规则集文件夹中，而没有给出文件夹（`--rulebooks` 或 RULEBOOK_SERVE_RULEBOOKS）",
        ),
        "usage.option-unused/help:folder": (
            "add `--rulebooks FOLDER` (drafts are written there), or remove `--edit`",
            "请加上 `--rulebooks 文件夹`（草稿写入其中），或去掉 `--edit`",
        ),
        "option-unused.why:install-id": (
            "`--install` writes the settings of the rulebook schema only",
            "`--install` 只写入规则集模式的设置",
        ),
        "usage.option-unused/help:install-id": (
            "give `--install` without an id, or the id without `--install` (to see where that schema is)",
            "请只给出 `--install` 而不给 id，或只给出 id 而不给 `--install`（查看该模式的位置）",
        ),
        "columnar.why:package": (
            "the extra rulebook-engine[columnar] (Polars, PyArrow) is not installed",
            "未安装附加依赖 rulebook-engine[columnar]（Polars、PyArrow）",
        ),
        "columnar.why:format": (
            "it writes `--format parquet` only (the other formats explain records one by one)",
            "它只输出 `--format parquet`（其他格式需逐条解释记录）",
        ),
        "columnar.why:input": (
            "it reads JSON Lines (.jsonl, .ndjson) and Parquet (.parquet) files only, not `{name}`",
            "它只读取 JSON Lines（.jsonl、.ndjson）和 Parquet（.parquet）文件，不能读取 `{name}`",
        ),
        "columnar.why:dask": (
            "on a Dask cluster it reads JSON Lines and Parquet files and writes `--format parquet` only",
            "在 Dask 集群上它只读取 JSON Lines 和 Parquet 文件，只输出 `--format parquet`",
        ),
        "columnar.why:observers": (
            "plugins watch each decision (decision_made observers)",
            "有插件在观察每个决定（decision_made）",
        ),
        "columnar.why:decision": (
            "the decision uses an expression or a record schema that only the per-record engine decides",
            "该决定含有只能逐条判定的表达式或记录结构",
        ),
        "columnar.used": (
            "engine: columnar ({total} records, {fallback} of them decided one by one)",
            "引擎：columnar（共 {total} 条记录，其中 {fallback} 条逐条判定）",
        ),
        "columnar.not-used": ("engine: records ({reason})", "引擎：records（{reason}）"),
        "usage.unknown-format": ("no output format `{name}`", "没有输出格式 `{name}`"),
        "usage.unknown-format/help": ("formats: {formats}", "可用的格式：{formats}"),
        "usage.unknown-format/help:close": (
            "did you mean `{close}`? formats: {formats}",
            "是否想写 `{close}`？可用的格式：{formats}",
        ),
        "usage.unwritable": ("cannot write `{path}`: {reason}", "无法写入 `{path}`：{reason}"),
        "usage.dash-folder": (
            "`{option} -` means standard output, and `{option}` names a folder to write into",
            "`{option} -` 表示标准输出，而 `{option}` 应是要写入的文件夹",
        ),
        "usage.dash-folder/help": (
            "give the folder's path (a folder named `-` is `{option} ./-`)",
            "请给出文件夹的路径（名为 `-` 的文件夹写作 `{option} ./-`）",
        ),
        "usage.no-such-file": ("no such file `{path}`", "找不到文件 `{path}`"),
        "usage.no-such-file:path": ("no such file or folder `{path}`", "找不到文件或文件夹 `{path}`"),
        "usage.no-such-file:rulebook": ("no such rulebook file `{path}`", "找不到规则集文件 `{path}`"),
        "usage.unreadable": ("cannot read `{path}`: {reason}", "无法读取 `{path}`：{reason}"),
        "usage.unsupported-input:xls": (
            "`{name}`: the old Excel format (.xls) is not read",
            "`{name}`：不支持旧版 Excel 格式（.xls）",
        ),
        "usage.unsupported-input:xls/help": (
            "save the workbook as .xlsx (or export it as CSV)",
            "把工作簿另存为 .xlsx（或导出为 CSV）",
        ),
        "usage.unsupported-input:stdin": ("a workbook cannot be read from standard input", "不能从标准输入读取工作簿"),
        "usage.unsupported-input:stdin/help": ("give the .xlsx file's path", "请给出 .xlsx 文件的路径"),
        "usage.unsupported-input:reader": (
            "no installed reader can read `{path}`",
            "没有已安装的读取器可以读取 `{path}`",
        ),
        "usage.unsupported-input:reader/help": (
            "use .json or .jsonl, or install a plugin that reads this kind of file",
            "请使用 .json 或 .jsonl 文件，或安装能读取这种文件的插件",
        ),
        "usage.unknown-input-format": (
            "cannot tell the format of `{name}` from its name",
            "无法从文件名判断 `{name}` 的格式",
        ),
        "usage.unknown-input-format/help": (
            "use a .json, .jsonl, .csv, .xlsx or .parquet file, or give --input-format",
            "请使用 .json、.jsonl、.csv、.xlsx 或 .parquet 文件，或用 --input-format 指定格式",
        ),
        "usage.missing-package": ("reading .xlsx needs the `{package}` package", "读取 .xlsx 需要安装 `{package}` 包"),
        "usage.missing-package/help": ("run `pip install {package}`", "请运行 `pip install {package}`"),
        "usage.missing-package:parquet": (
            "reading Parquet needs the `pyarrow` package",
            "读取 Parquet 需要安装 `pyarrow` 包",
        ),
        "usage.missing-package:parquet/help": (
            "install the extra: `pip install 'rulebook-engine[columnar]'`",
            "安装这个附加依赖：`pip install 'rulebook-engine[columnar]'`",
        ),
        "usage.not-parquet": (
            "`{path}` is not a Parquet file (`{reason}`)",
            "`{path}` 不是 Parquet 文件（`{reason}`）",
        ),
        "usage.not-parquet/help": (
            "check the file, or give its real format with --input-format",
            "请检查这个文件，或用 --input-format 指定它实际的格式",
        ),
        "usage.unreadable:parquet": (
            "cannot read `{path}` from row {row} on: `{reason}`",
            "无法读取 `{path}` 第 {row} 行及之后的内容：`{reason}`",
        ),
        "usage.unreadable:parquet/help": (
            "the file is damaged or cut short: write it again",
            "文件已损坏或不完整：请重新生成",
        ),
        "usage.parquet-column-type": (
            "`{path}`: the column `{column}` has the type {type}, which a record cannot hold",
            "`{path}`：列 `{column}` 的类型是 {type}，记录中不能存放这种类型的值",
        ),
        "usage.parquet-column-type/help:decimal": (
            "write it as float64 (or int64 when it has no fraction), or as a string of its digits",
            "请把它写成 float64（没有小数部分时写成 int64），或写成数字的字符串",
        ),
        "usage.parquet-column-type/help:binary": (
            "write it as a UTF-8 string (base64 text for bytes that are not text)",
            "请把它写成 UTF-8 字符串（不是文本的字节写成 base64 文本）",
        ),
        "usage.parquet-column-type/help:other": (
            "write it as a string, a number, a boolean, a date, a timestamp, a list or a struct",
            "请把它写成字符串、数字、布尔值、日期、时间戳、列表或结构体",
        ),
        "usage.unsupported-input:stdin-parquet": (
            "a Parquet file cannot be read from this standard input",
            "不能从这个标准输入读取 Parquet 文件",
        ),
        "usage.unsupported-input:stdin-parquet/help": ("give the .parquet file's path", "请给出 .parquet 文件的路径"),
        "usage.parquet-output": (
            "`--format parquet` writes a binary file, not text for a terminal or a pipe",
            "`--format parquet` 写出的是二进制文件，不能输出到终端或管道",
        ),
        "usage.parquet-output/help": (
            "give the file with `--output results.parquet` (or use `--format json` for text)",
            "请用 `--output results.parquet` 指定文件（需要文本时用 `--format json`）",
        ),
        "usage.missing-package:parquet-output": (
            "`--format parquet` needs the `pyarrow` package",
            "`--format parquet` 需要安装 `pyarrow` 包",
        ),
        "usage.missing-package:parquet-output/help": (
            "install the extra: `pip install 'rulebook-engine[columnar]'`",
            "安装这个附加依赖：`pip install 'rulebook-engine[columnar]'`",
        ),
        "usage.unknown-sheet": ("`{name}` has no sheet `{sheet}`", "`{name}` 中没有工作表 `{sheet}`"),
        "usage.unknown-sheet/help": ("sheets: {sheets}", "工作表：{sheets}"),
        "usage.unknown-rulebook": ("no rulebook `{rulebook}` is installed", "没有安装规则集 `{rulebook}`"),
        "usage.unknown-rulebook/help": (
            "`rulebook list` shows the installed rulebooks; a path to a YAML file works too",
            "`rulebook list` 列出已安装的规则集；也可以给出 YAML 文件的路径",
        ),
        "usage.unknown-version": (
            "rulebook `{rulebook}` has no version `{version}`",
            "规则集 `{rulebook}` 没有版本 `{version}`",
        ),
        "usage.unknown-version/help": ("versions: {versions}", "已有的版本：{versions}"),
        "usage.no-version-in-force": (
            "no version of `{rulebook}` is in force on {day}",
            "规则集 `{rulebook}` 在 {day} 没有生效的版本",
        ),
        "usage.no-version-in-force/help": (
            "name a version with `{rulebook}@VERSION`, or give another `--as-of`; versions: {versions}",
            "用 `{rulebook}@VERSION` 指定版本，或换一个 `--as-of` 日期；已有的版本：{versions}",
        ),
        "usage.draft-only": (
            "`{rulebook}` has only a draft (version `{version}`), which is not in force",
            "`{rulebook}` 只有草案（版本 `{version}`），尚未生效",
        ),
        "usage.draft-only/help": (
            "to use the draft, name its version: `{rulebook}@{version}`; `rulebook test {rulebook}` tests it",
            "要使用草案，请写明版本：`{rulebook}@{version}`；`rulebook test {rulebook}` 可测试它",
        ),
        "usage.no-version-in-force:version": (
            "`{version}` ({status}, from {start})",
            "`{version}`（{status}，{start} 起）",
        ),
        "usage.unknown-decision": (
            "rulebook `{rulebook}` has no decision `{name}`",
            "规则集 `{rulebook}` 没有决定 `{name}`",
        ),
        "usage.unknown-decision:in-force": (
            "no version of `{rulebook}` in force has a decision `{name}`",
            "规则集 `{rulebook}` 生效的版本中没有决定 `{name}`",
        ),
        "usage.unknown-decision/help": (
            "its decisions: {decisions}; `--decision NAME` picks one",
            "它的决定有：{decisions}；用 `--decision NAME` 选择其一",
        ),
        "serve.unknown-decision/help": (
            "its decisions: {decisions}; ask `/rulebooks/{rulebook}/decisions/NAME` for one",
            "它的决定有：{decisions}；请求 `/rulebooks/{rulebook}/decisions/NAME` 选择其一",
        ),
        "usage.plugin-name": (
            "`{name}` is not a plugin name: use lowercase letters, digits and `-`",
            "`{name}` 不是有效的插件名：只能用小写字母、数字和 `-`",
        ),
        "usage.plugin-name/help": ("for example `rulebook-acme-club`", "例如 `rulebook-acme-club`"),
        "usage.exists": ("`{path}` exists already", "`{path}` 已存在"),
        "usage.exists/help": ("choose another name or --directory", "请换一个名字，或用 --directory 指定别的位置"),
        "usage.unknown-calendar": ("no calendar named `{name}`", "没有名为 `{name}` 的日历"),
        "usage.unknown-calendar/help": ("calendars: {calendars}", "已有的日历：{calendars}"),
        "cli.internal-error": (
            "rulebook: internal error, please report it (run again with --debug for details)",
            "rulebook：内部错误，请报告此问题（加 --debug 重新运行可看到详情）",
        ),
        "cli.interrupted": ("interrupted", "已中断"),
        "cli.summary": (
            "{total} records: pass {passed}, fail {failed}, indeterminate {indeterminate}, error {errors}",
            "{total} 条记录：通过 {passed}，不通过 {failed}，无法判断 {indeterminate}，出错 {errors}",
        ),
        "cli.summary:one": (
            "{total} record: pass {passed}, fail {failed}, indeterminate {indeterminate}, error {errors}",
            "{total} 条记录：通过 {passed}，不通过 {failed}，无法判断 {indeterminate}，出错 {errors}",
        ),
        "cli.summary:schema": ("; {count} breaking their record schema", "；不符合记录结构 {count} 条"),
        "cli.summary:schema:one": ("; {count} breaking its record schema", "；不符合记录结构 {count} 条"),
        "cli.observers-failed": (
            "rulebook: observer plugins failed {count} times; every decision was still reported",
            "rulebook：观察者插件出错 {count} 次；所有决定均已输出",
        ),
        "cli.created": ("created {folder}", "已创建 {folder}"),
        "cli.test-summary": ("{passed} passed, {failed} failed", "{passed} 个示例通过，{failed} 个不通过"),
        "cli.test-book": ("{passed}/{total} examples passed", "{passed}/{total} 个示例通过"),
        "cli.test-coverage": ("rule coverage {percent}%", "规则覆盖 {percent}%"),
        "cli.test-not-covered": (
            "not covered: {decision}/{rule} (never {missing})",
            "未覆盖：{decision}/{rule}（没有示例使其{missing}）",
        ),
        "cli.test-low-coverage": (
            "rule coverage too low: {book}: {percent}% < {minimum}%",
            "规则覆盖率不足：{book}：{percent}% < {minimum}%",
        ),
        "cli.diff-unchanged": ("(no structural change)", "（结构无变化）"),
        "cli.diff-records": ("{count} records decide differently", "{count} 条记录的决定有变化"),
        "cli.diff-records:one": ("{count} record decides differently", "{count} 条记录的决定有变化"),
        "cli.no-id": ("(no id)", "（无编号）"),
        "report.unreadable-record": ("unreadable record", "无法读取的记录"),
        "report.unreadable": ("(unreadable)", "（无法读取）"),
        "cli.lint-ok": ("{name}: ok", "{name}：没有问题"),
        "cli.built-in": ("built-in", "内置"),
        "cli.not-loaded": ("not loaded (disabled)", "未加载（已禁用）"),
        "cli.version-engine": ("rulebook {version} (rulebook-engine)", "rulebook {version}（rulebook-engine）"),
        "cli.version-python": ("Python {version} ({implementation})", "Python {version}（{implementation}）"),
        "cli.version-plugins": ("plugins:", "插件："),
        "cli.version-no-plugins": ("plugins: none besides the built-in ones", "插件：除内置插件外没有"),
        "cli.version-plugin": ("{name} ({distribution} {version})", "{name}（{distribution} {version}）"),
        "cli.version-disabled": ("(disabled)", "（已禁用）"),
        "os.ENOENT": ("no such file or folder", "文件或文件夹不存在"),
        "os.EACCES": ("permission denied", "没有权限"),
        "os.EPERM": ("operation not permitted", "不允许此操作"),
        "os.EISDIR": ("it is a folder", "这是一个文件夹"),
        "os.ENOTDIR": ("a part of the path is not a folder", "路径中的某一部分不是文件夹"),
        "os.ENOSPC": ("no space left on the device", "磁盘空间不足"),
        "os.EROFS": ("the file system is read-only", "文件系统是只读的"),
        "os.EEXIST": ("it exists already", "已存在"),
        "os.other": ("system error {name}", "系统错误 {name}"),
    }
)

# -- rulebooks ---------------------------------------------------------------

_add(
    {
        "rulebook.unreadable": ("cannot read `{path}`: {reason}", "无法读取 `{path}`：{reason}"),
        "rulebook.encoding": ("`{path}` is not UTF-8 text", "`{path}` 不是 UTF-8 文本"),
        "rulebook.encoding/help": ("save the file as UTF-8", "请把文件另存为 UTF-8 编码"),
        "rulebook.record-schema": (
            "cannot read the record schema `{kind}`: {reason}",
            "无法读取记录模式 `{kind}`：{reason}",
        ),
        "rulebook.record-schema:object": (
            "the record schema `{kind}` must describe an object with properties",
            "记录模式 `{kind}` 必须描述一个带属性（properties）的对象",
        ),
        "rulebook.unknown-record-kind": ("unknown record kind `{kind}`", "未知的记录类型 `{kind}`"),
        "rulebook.unknown-record-kind/help": (
            "known kinds: {kinds}; or give a path to a `.json` schema next to the rulebook",
            "已知的类型：{kinds}；或给出规则集旁边的 `.json` 模式文件的路径",
        ),
        "rulebook.duplicate-rule": (
            "rule id `{rule}` is used twice in decision `{decision}`",
            "规则编号 `{rule}` 在决定 `{decision}` 中重复",
        ),
        "rulebook.unknown-decision": (
            "example `{example}` names an unknown decision `{decision}`",
            "示例 `{example}` 引用了不存在的决定 `{decision}`",
        ),
        "rulebook.unknown-rule": (
            "example `{example}` expects a status for unknown rule `{rule}`",
            "示例 `{example}` 为不存在的规则 `{rule}` 指定了预期状态",
        ),
        "rulebook.unknown-output": (
            "example `{example}` expects an unknown output `{name}`",
            "示例 `{example}` 引用了不存在的输出 `{name}`",
        ),
        "rulebook.duplicate": (
            "rulebook `{rulebook}` is supplied twice: by {first} in `{first_path}` and by {second} in `{second_path}`",
            "规则集 `{rulebook}` 重复提供：{first}（`{first_path}`）与 {second}（`{second_path}`）",
        ),
        "rulebook.duplicate/help": (
            "remove one of them, or give one another version",
            "删除其中一个，或给其中一个换个版本号",
        ),
        "check.name-clash": (
            "the value `{name}` has the same name as a parameter or built-in name",
            "值 `{name}` 与参数或内置名称同名",
        ),
        "check.name-clash/help": ("rename one of them", "给其中一个改名"),
        "check.type:as-of": ("`as_of` must be a date", "`as_of` 必须是日期"),
        "check.cycle": ("the values refer to each other: {cycle}", "值之间循环引用：{cycle}"),
        "check.cycle/help": ("a value cannot depend on itself", "值不能依赖它自身"),
        "check.unknown-placeholder": (
            "the message of rule `{rule}` uses `{{{name}}}`, which the rule does not know",
            "规则 `{rule}` 的提示语使用了未知的占位符 `{{{name}}}`",
        ),
        "check.unknown-placeholder/help": (
            "placeholders: the rule's values, named values, parameters, as_of and record fields",
            "可用的占位符：规则的取值、命名值、参数、as_of 和记录的字段",
        ),
        "check.unknown-placeholder:close/help": ("did you mean `{{{name}}}`?", "是否想写 `{{{name}}}`？"),
        "check.unknown-name": ("unknown name `{name}`", "未知的名称 `{name}`"),
        "check.unknown-name:record/help": (
            "record fields are written `record.{name}`",
            "记录的字段要写成 `record.{name}`",
        ),
        "check.unknown-field": ("unknown field `{field}` in {owner}", "{owner} 中没有字段 `{field}`"),
        "check.unknown-field/help": ("known fields: {fields}", "已知的字段：{fields}"),
        "check.type:no-fields-read": (
            "{base} has no fields; cannot read `{field}`",
            "{base} 类型的值没有字段，不能读取 `{field}`",
        ),
        "check.type:no-fields-test": (
            "{base} has no fields; cannot test `{field}`",
            "{base} 类型的值没有字段，不能检查 `{field}`",
        ),
        "check.type:size/help": (
            "the number of elements is `size(x)` or `x.size()`, with the parentheses",
            "元素个数请写 `size(x)` 或 `x.size()`（带括号）",
        ),
        "check.type:index": ("a list index must be a number, not {index}", "列表下标必须是数字，而不是 {index}"),
        "check.type:not-indexable": ("cannot index {operand}", "不能对 {operand} 取下标"),
        "check.type:negate": ("cannot negate {operand}", "不能对 {operand} 取负"),
        "check.type:never-equal": (
            "`{op}` compares {left} with {right}; they are never equal",
            "`{op}` 比较的两边类型不同（{left} 与 {right}），永远不相等",
        ),
        "check.type:order": ("cannot order {left} and {right} with `{op}`", "不能用 `{op}` 比较 {left} 与 {right}"),
        "check.type:never-in": ("{left} is never in a list of {elem}", "{left} 不可能出现在元素为 {elem} 的列表中"),
        "check.type:in-right": (
            "`in` needs a list or map on the right, not {right}",
            "`in` 的右边必须是列表或映射，而不是 {right}",
        ),
        "check.type:arithmetic": ("cannot apply `{op}` to {left} and {right}", "不能对 {left} 与 {right} 使用 `{op}`"),
        "check.type:arithmetic-one": ("cannot apply `{op}` to {left}", "不能对 {left} 使用 `{op}`"),
        "check.type:dates/help": (
            "dates: use years_after(), months_after(), days_after() or full_years()",
            "日期请用 years_after()、months_after()、days_after() 或 full_years()",
        ),
        "check.type:date-string/help": ('write the date as `date("YYYY-MM-DD")`', '日期请写成 `date("YYYY-MM-DD")`'),
        "check.type:nullable/help": (
            "the value may be null: test `x != null && ...` first",
            "这个值可能为 null：请先判断 `x != null && ...`",
        ),
        "check.type:macro": (
            "`{macro}` needs a list or map, not {target}",
            "`{macro}` 需要列表或映射，而不是 {target}",
        ),
        "check.type:opt-macro": (
            "`{macro}` needs an optional value, not {target}",
            "`{macro}` 需要可选值，而不是 {target}",
        ),
        "check.type:opt-flat": (
            "`optFlatMap` needs an optional value as its result, not {actual}",
            "`optFlatMap` 的结果必须是可选值，而不是 {actual}",
        ),
        "check.type:opt-element": (
            "an element or entry written with `?` needs an optional value, not {actual}",
            "用 `?` 写的元素或条目需要可选值，而不是 {actual}",
        ),
        "check.type:opt-element/help": (
            "write `?optional.of(x)`, `?record.?field`, or leave out the `?`",
            "请写 `?optional.of(x)`、`?record.?field`，或去掉 `?`",
        ),
        "check.type:map-entry": (
            "`transformMapEntry` needs a map as its result, e.g. `{{k: v}}`, not {actual}",
            "`transformMapEntry` 的结果必须是映射，例如 `{{k: v}}`，而不是 {actual}",
        ),
        "check.type:arguments": ("`{function}` cannot take ({types})", "`{function}` 不接受这些类型的参数（{types}）"),
        "check.type:arguments/help": ("it takes {signatures}", "它接受的参数类型：{signatures}"),
        "check.shadow": ("the variable `{name}` hides a name already in use", "变量名 `{name}` 与已有名称冲突"),
        "check.shadow/help": ("choose another variable name", "请换一个变量名"),
        "check.not-bool": ("{what} needs true or false, but this is {actual}", "{what} 需要真假值，但这里是 {actual}"),
        "check.not-bool:must": (
            "{what} must be true or false, but this is {actual}",
            "{what} 必须是真假值，但这里是 {actual}",
        ),
        "check.not-bool/help": ("compare it with something, e.g. `x == ...`", "请与某个值比较，例如 `x == ...`"),
        "check.what:not": ("`!` (not)", "`!`（非）"),
        "check.what:and": ("`&&` (and)", "`&&`（并且）"),
        "check.what:or": ("`||` (or)", "`||`（或者）"),
        "check.what:condition": ("the condition of `?:`", "`?:` 的条件"),
        "check.what:filter": ("the filter of `{macro}`", "`{macro}` 的筛选条件"),
        "check.what:predicate": ("the predicate of `{macro}`", "`{macro}` 的判断条件"),
        "check.unknown-function": ("unknown function `{function}`", "未知的函数 `{function}`"),
        "check.format:count": (
            "the text has {clauses} formatting clause(s) for {count} value(s)",
            "格式文本有 {clauses} 个格式说明符，而列表有 {count} 个值",
        ),
        "check.format/help": (
            (
                "each clause (%s, %d, %.2f, %e, %b, %o, %x, %X) takes the next value of the list, in order; "
                "%% is a percent sign"
            ),
            "每个格式说明符（%s、%d、%.2f、%e、%b、%o、%x、%X）依次取列表中的下一个值；百分号写作 %%",
        ),
        "check.unknown-function:namespace/help": (
            "the functions of `{namespace}` are {functions}",
            "`{namespace}` 的函数有 {functions}",
        ),
        "check.arity:method": ("`{function}` cannot be called as a method", "`{function}` 不能作为方法调用"),
        "check.arity:function": ("`{function}` cannot be called on its own", "`{function}` 不能单独调用"),
        "check.arity:call/help": ("write it as {how}", "请写成 {how}"),
        "check.arity": (
            "`{function}` takes {want} arguments, not {got}",
            "`{function}` 需要 {want} 个参数，而不是 {got} 个",
        ),
        "check.arity:one": (
            "`{function}` takes {want} argument, not {got}",
            "`{function}` 需要 {want} 个参数，而不是 {got} 个",
        ),
        "yaml.syntax": ("invalid YAML: `{problem}`", "YAML 格式错误：`{problem}`"),
        "yaml.syntax:gave-up": (
            "the YAML reader gave up at line {line}, column {column}",
            "YAML 读取器在第 {line} 行第 {column} 列停止",
        ),
        "schema.top-level": ("the top level", "顶层"),
        "schema.required": ("missing key `{name}` in {where}", "{where} 缺少键 `{name}`"),
        "schema.required/help": ("add `{name}:`", "请添加 `{name}:`"),
        "schema.additionalProperties": ("unknown key `{name}` in {where}", "{where} 中有未知的键 `{name}`"),
        "schema.additionalProperties/help": ("allowed keys: {keys}", "允许的键：{keys}"),
        "schema.enum": (
            "`{value}` is not allowed here; expected one of {options}",
            "此处不允许 `{value}`，应为以下之一：{options}",
        ),
        "schema.const": ("`{value}` should be `{expected}`", "`{value}` 应为 `{expected}`"),
        "schema.type": ("{where} should be {expected}, not `{value}`", "{where} 应为{expected}，而不是 `{value}`"),
        "schema.type:string": ("text", "文本"),
        "schema.type:integer": ("a whole number", "整数"),
        "schema.type:number": ("a number", "数字"),
        "schema.type:boolean": ("true or false", "true 或 false"),
        "schema.type:array": ("a list", "列表"),
        "schema.type:object": ("a mapping", "映射"),
        "schema.type:null": ("null", "null"),
        "schema.pattern": ("`{value}` is not in the expected form", "`{value}` 的格式不对"),
        "schema.pattern/help": ("it must match `{pattern}`", "须符合 `{pattern}`"),
        "schema.empty": ("{where} must not be empty", "{where} 不能为空"),
        "schema.other": ("{where}: {detail}", "{where}：`{detail}`"),
        "did-you-mean": ("did you mean `{name}`?", "是否想写 `{name}`？"),
        "note.approximate-column": (
            "the column is approximate: escapes in the quoted text move positions",
            "列号是近似的：引号内的转义字符使位置发生偏移",
        ),
    }
)

# -- lint ----------------------------------------------------------------------

_add(
    {
        "lint.constant-condition": (
            "`{role}` of rule `{rule}` does not read the record: {what}",
            "规则 `{rule}` 的 `{role}` 没有读取记录：{what}",
        ),
        "lint.constant-condition:never-applies": ("the rule never applies", "该规则永远不适用"),
        "lint.constant-condition:always-applies": ("the `when` is always true; drop it", "`when` 恒为真，可以删除"),
        "lint.constant-condition:never-fails": ("the rule can never fail", "该规则永远不会不通过"),
        "lint.constant-condition:always-fails": ("the rule always fails", "该规则总是不通过"),
        "lint.constant-condition/help": (
            "compare a field of `record` (or `as_of`) with the parameter",
            "请把 `record` 的某个字段（或 `as_of`）与参数比较",
        ),
        "lint.example-mismatch": (
            "example `{example}` does not hold: {problem}",
            "示例 `{example}` 与规则不符：{problem}",
        ),
        "lint.example-mismatch/help": (
            "fix the rule, or the example's `expect` if the rule is right",
            "请修正规则；如果规则是对的，请修正示例的 `expect`",
        ),
        "lint.uncovered-rule": (
            "no example makes rule `{rule}` of `{decision}` {missing}",
            "没有示例使决定 `{decision}` 的规则 `{rule}` 得到{missing}",
        ),
        "lint.uncovered-rule/help": ("add an example that makes it {missing}", "请添加使它得到{missing}的示例"),
        "status:pass": ("pass", "“通过”"),
        "status:fail": ("fail", "“不通过”"),
        "status:error": ("error", "“无法判断”"),
        "status:not_applicable": ("not_applicable", "“不适用”"),
        "status:waived": ("waived", "“已豁免”"),
    }
)

# -- plugins ---------------------------------------------------------------------

_add(
    {
        "plugin.hook-failed": ("{plugin} failed in `{hook}`: {error}", "{plugin} 在 `{hook}` 中出错：{error}"),
        "plugin.hook-failed:observer/help": (
            "the decision was still reported; tell the plugin's authors",
            "决定仍已输出；请告知插件的作者",
        ),
        "plugin.hook-failed:reader": (
            "{plugin} failed in `{hook}` on `{path}`: {error}",
            "{plugin} 在 `{hook}` 中读取 `{path}` 时出错：{error}",
        ),
        "plugin.hook-failed:reader/help": (
            "run with --debug for the traceback; tell the plugin's authors",
            "加 --debug 运行可看到调用栈；请告知插件的作者",
        ),
        "plugin.duplicate-name": (
            "two plugins are named `{name}`: {first} and {second}",
            "两个插件同名 `{name}`：{first} 与 {second}",
        ),
        "plugin.duplicate-name:registered": (
            "{what} `{name}` is registered twice: by {first} and by {second}",
            "{what} `{name}` 被注册了两次：{first} 与 {second}",
        ),
        "plugin.duplicate-name/help": ("uninstall one of them, or set {variable}", "卸载其中一个，或设置 {variable}"),
        "plugin.load": (
            "{plugin} cannot be loaded from `{entry_point}`: {error}",
            "无法从 `{entry_point}` 加载{plugin}：{error}",
        ),
        "plugin.load/help": (
            "reinstall or fix it, or skip it with {variable}={name}",
            "请重新安装或修复它，或设置 {variable}={name} 跳过它",
        ),
        "plugin.invalid": ("{plugin} does not fit the hooks: {detail}", "{plugin} 与钩子定义不符：{detail}"),
        "plugin.invalid/help": (
            "the hooks and their arguments are listed in docs/plugins.md",
            "钩子及其参数见 docs/plugins.md",
        ),
        "plugin.invalid:wrapper": (
            "{plugin}: `{hook}` cannot be a wrapper",
            "{plugin}：`{hook}` 不能是包装器（wrapper）",
        ),
        "plugin.invalid:wrapper/help": (
            "remove `wrapper=True` / `hookwrapper=True` from its @hookimpl",
            "从它的 @hookimpl 中去掉 `wrapper=True` / `hookwrapper=True`",
        ),
        "plugin.invalid:registration": ("{plugin} in `{hook}`: {detail}", "{plugin} 在 `{hook}` 中注册有误：{detail}"),
        "plugin.invalid:expected": ("expected a {expected}, got {got}", "应为 `{expected}`，实为 `{got}`"),
        "plugin.invalid:calendar": (
            (
                "a calendar needs a `name` and the methods `is_working_day(day)` and "
                "`working_days_after(day, n)`; an arrangement is an `engine.calendars.Arrangement` "
                "or the path of an arrangement file"
            ),
            (
                "日历必须有 `name` 以及 `is_working_day(day)` 和 `working_days_after(day, n)` 两个方法；"
                "放假安排须是 `engine.calendars.Arrangement` 或放假安排文件的路径"
            ),
        ),
        "plugin.invalid:format-call": ("call `register(name, report_class)`", "请调用 `register(name, report_class)`"),
        "plugin.invalid:format-name": (
            "`{name}` is not a format name (lowercase letters, digits, `-` and `_`)",
            "`{name}` 不是有效的格式名（只能用小写字母、数字、`-` 和 `_`）",
        ),
        "plugin.invalid:not-a-path": ("`{path}` is neither a file nor a folder", "`{path}` 既不是文件也不是文件夹"),
        "plugin.invalid:arguments": (
            "`register` takes one argument, got {count}",
            "`register` 只接受一个参数，实为 {count} 个",
        ),
        "plugin.already-registered": ("{plugin} is registered already: {detail}", "{plugin} 已注册过：{detail}"),
        "plugin.unknown-hook": (
            "{plugin} implements `{hook}`, which is not a hook",
            "{plugin} 实现了不存在的钩子 `{hook}`",
        ),
        "plugin.unknown-hook/help": ("the hooks are listed in docs/plugins.md", "钩子列表见 docs/plugins.md"),
        "plugin.label": ("plugin `{name}`", "插件 `{name}`"),
        "plugin.label:distribution": ("plugin `{name}` ({distribution})", "插件 `{name}`（{distribution}）"),
        "plugin.label:built-in": ("built-in plugin `{name}` ({distribution})", "内置插件 `{name}`（{distribution}）"),
        "plugin.label:origin": ("plugin `{name}` ({origin})", "插件 `{name}`（{origin}）"),
        "plugin.what:function": ("function", "函数"),
        "plugin.what:calendar": ("calendar", "日历"),
        "plugin.what:format": ("format", "输出格式"),
        "plugin.what:rulebook": ("rulebook", "规则集"),
    }
)

# -- records -------------------------------------------------------------------

_add(
    {
        "record.not-an-object": (
            "a record must be a JSON object, not {kind}",
            "每条记录必须是 JSON 对象，而不是{kind}",
        ),
        "record.kind:array": ("an array", "数组"),
        "record.kind:string": ("a string", "文本"),
        "record.kind:bool": ("true/false", "真假值"),
        "record.kind:null": ("null", " null"),
        "record.kind:number": ("a number", "数字"),
        "record.json": ("not valid JSON: {problem} (column {column})", "不是有效的 JSON：{problem}（第 {column} 列）"),
        "record.json:at": ("not valid JSON: {problem} column {column}", "不是有效的 JSON：{problem}第 {column} 列"),
        "record.not-utf8-file": ("the file is not UTF-8 text ({reason})", "文件不是 UTF-8 文本（`{reason}`）"),
        "record.json-too-deep": ("the JSON is nested too deeply", "JSON 嵌套过深"),
        "record.number-too-long": (
            "a number in the record has more than {limit} digits; write such a value as a string",
            "记录中有超过 {limit} 位的数字；这样的值请写成字符串",
        ),
        "record.json-array-open": ("the JSON array is not closed with `]`", "JSON 数组缺少结尾的 `]`"),
        "record.json-array-separator": (
            "expected `,` or `]` between records; the rest of the file cannot be read",
            "记录之间应为 `,` 或 `]`，文件其余部分无法读取",
        ),
        "record.not-utf8-line": (
            "the line is not UTF-8 text (byte 0x{byte:02x} at byte {at} of the line)",
            "该行不是 UTF-8 文本（行内第 {at} 个字节 0x{byte:02x}）",
        ),
        "record.workbook": ("cannot open the workbook: {error}", "无法打开工作簿：{error}"),
        "record.where:row": ("row {row}", "第 {row} 行"),
        "record.where:sheet-row": ("sheet `{sheet}` row {row}", "工作表 `{sheet}` 第 {row} 行"),
        "record.cell": ("{where}, column `{column}`: {problem}", "{where}，列 `{column}`：{problem}"),
        "cell.date": ("`{cell}` is not a date (write YYYY-MM-DD)", "`{cell}` 不是日期（请写成 YYYY-MM-DD）"),
        "cell.int": ("`{cell}` is not a whole number", "`{cell}` 不是整数"),
        "cell.number": ("`{cell}` is not a number", "`{cell}` 不是数字"),
        "cell.bool": (
            "`{cell}` is not yes or no (write true/false, `是`/`否`)",
            "`{cell}` 不是“是/否”（请写 是/否 或 true/false）",
        ),
        "cell.json": ("`{cell}` is not valid JSON for {want}", "`{cell}` 不是有效的 JSON {want}"),
        "cell.want:list": ("a list", "列表"),
        "cell.want:object": ("an object", "对象"),
        "cell.list": ("a list is expected", "此处应为列表"),
        "cell.object-list": (
            "a list of objects: write a JSON array, or use columns like `{column}.1.name`",
            "对象列表请写成 JSON 数组，或使用 `{column}.1.name` 这样的列",
        ),
        "cell.object": ("an object is expected", "此处应为对象"),
        "cell.object-columns": (
            'an object: write JSON such as `{{"name": ...}}`, or use columns like `{column}.name`',
            '对象请写成 JSON（例如 `{{"name": ...}}`），或使用 `{column}.name` 这样的列',
        ),
        "cell.position": ("list positions in column names start at 1", "列名中的序号从 1 开始"),
        "json.Expecting value": ("Expecting value", "此处应为一个值"),
        "json.Expecting property name enclosed in double quotes": (
            "Expecting property name enclosed in double quotes",
            "此处应为带双引号的键",
        ),
        "json.Expecting ':' delimiter": ("Expecting ':' delimiter", "键后面应为 `:`"),
        "json.Expecting ',' delimiter": ("Expecting ',' delimiter", "各项之间应为 `,`"),
        "json.Unterminated string starting at": ("Unterminated string starting at", "引号内的文本没有闭合，起始于"),
        "json.Invalid control character at": ("Invalid control character at", "引号内有控制字符（例如换行），位于"),
        "json.Invalid \\escape": ("Invalid \\escape", "无效的 `\\` 转义"),
        "json.Invalid \\uXXXX escape": ("Invalid \\uXXXX escape", "无效的 `\\u` 转义"),
        "json.Extra data": ("Extra data", "值后面还有多余的内容"),
        "json.Illegal trailing comma before end of object": (
            "Illegal trailing comma before end of object",
            "`}}` 之前多了 `,`",
        ),
        "json.Illegal trailing comma before end of array": (
            "Illegal trailing comma before end of array",
            "`]` 之前多了 `,`",
        ),
        "json.other": ("{problem}", "`{problem}`"),
    }
)

# -- what the inputs held besides records (check, diff) ------------------------------

_add(
    {
        "input.unknown-column": (
            "column `{column}` names no field of the record: no rule reads it",
            "列 `{column}` 不对应记录的任何字段：没有规则会读取它",
        ),
        "input.unknown-column:cell": (
            "column `{column}` (cell {cell} of sheet `{sheet}`) names no field of the record: no rule reads it",
            "列 `{column}`（工作表 `{sheet}` 的 {cell} 单元格）不对应记录的任何字段：没有规则会读取它",
        ),
        "input.unknown-column/help": ("the record's fields: {fields}", "记录的字段有：{fields}"),
        "input.unknown-column:about": (
            "a column of a spreadsheet that names no field of the record",
            "电子表格中不对应记录任何字段的列",
        ),
        "input.empty:about": ("an input that holds no records", "没有记录的输入"),
        "input.no-known-column": (
            "no column of the header row names a field of the record: {columns}",
            "表头中没有任何一列对应记录的字段：{columns}",
        ),
        "input.no-known-column:sheet": (
            "no column of the header row of sheet `{sheet}` names a field of the record: {columns}",
            "工作表 `{sheet}` 的表头中没有任何一列对应记录的字段：{columns}",
        ),
        "input.no-known-column/help": (
            "the first row names the fields, e.g. {fields}",
            "第一行应写字段名，例如 {fields}",
        ),
        "input.no-known-column:sheet/help": (
            (
                "the first row names the fields, e.g. {fields}; if the records are on "
                "another sheet, give --sheet (sheets: {sheets})"
            ),
            "第一行应写字段名，例如 {fields}；如果记录在另一个工作表中，请用 --sheet 指定（工作表：{sheets}）",
        ),
        "input.empty": ("`{file}` holds no records", "`{file}` 中没有记录"),
        "input.empty:blank": (
            "`{file}` holds no records, only blank lines ({count})",
            "`{file}` 中没有记录，只有 {count} 个空行",
        ),
        "input.empty/help": (
            "a check that decided nothing has not passed; give --allow-empty where an empty input is expected",
            "没有作出任何决定的检查不算通过；如果输入本来就可能为空，请加 --allow-empty",
        ),
        "input.empty:some/help": (
            "the other inputs were read; give --allow-empty where an empty input is expected",
            "其他输入已读取；如果输入本来就可能为空，请加 --allow-empty",
        ),
        "input.empty:explain/help": (
            "there is nothing to explain: the input must hold at least one record",
            "没有可解释的内容：输入中至少要有一条记录",
        ),
        "cli.summary-blank": ("blank lines skipped: {count}", "跳过空行 {count} 行"),
        "cli.summary-warnings": ("warnings about the input: {count}", "关于输入的警告 {count} 条"),
        "cli.progress": ("progress: {count:,} records, {seconds} s", "进度：{count:,} 条记录，{seconds} 秒"),
        "cli.progress:total": (
            "progress: {count:,} of {total:,} records ({percent}%), {seconds} s",
            "进度：{count:,}/{total:,} 条记录（{percent}%），{seconds} 秒",
        ),
        "cli.progress:done": (
            "progress: done, {count:,} records in {seconds} s",
            "进度：完成，{count:,} 条记录，用时 {seconds} 秒",
        ),
        "cli.diff-compared": (
            "{count} records compared ({decisions}): {files}",
            "比较了 {count} 条记录（{decisions}）：{files}",
        ),
        "cli.diff-compared:one": (
            "{count} record compared ({decisions}): {files}",
            "比较了 {count} 条记录（{decisions}）：{files}",
        ),
        "cli.diff-file": ("`{file}` {count}", "`{file}` {count} 条"),
        "cli.diff-file:unreadable": (
            "`{file}` {count} ({unreadable} unreadable)",
            "`{file}` {count} 条（{unreadable} 条无法读取）",
        ),
    }
)

# -- runtime errors of expressions (EvalError) -------------------------------------

_add(
    {
        "eval.cannot-decide": ("cannot decide: {reason}", "无法判断：{reason}"),
        "eval.missing-field": ("the record has no `{path}`", "记录缺少字段 `{path}`"),
        "eval.missing-field:rule": ("cannot decide: the record has no `{path}`", "记录缺少字段 `{path}`，无法判断"),
        "eval.wrong-type:rule": ("cannot decide: {reason}", "字段 `{path}` 的类型不对：{reason}"),
        "eval.wrong-type": ("`{path}` should be {expected}, not {shown}", "`{path}` 应为{expected}，而不是 {shown}"),
        "eval.wrong-type:date": (
            "{where}should be a date (YYYY-MM-DD), not {kind}",
            "{where}应为日期（YYYY-MM-DD），而不是 {kind}",
        ),
        "eval.bad-date": (
            "{where}is not a date in YYYY-MM-DD form: {shown}",
            "{where}不是 YYYY-MM-DD 格式的日期：{shown}",
        ),
        "expected:object": ("an object", "对象"),
        "expected:list": ("a list", "列表"),
        "expected:int": ("an integer", "整数"),
        "expected:double": ("a number", "数字"),
        "expected:bool": ("true or false", "是/否（true 或 false）"),
        "expected:string": ("a string", "文本"),
        "expected:other": ("{kind}", "`{kind}`"),
        "eval.no-overload": ("`{op}` cannot be applied to ({kinds})", "`{op}` 不能用于（{kinds}）"),
        "eval.no-overload:time-zone": ("a time zone must be a string", "时区必须是文本"),
        "eval.no-overload:accessor": ("no accessor {part}", "没有取值函数 {part}"),
        "eval.no-overload:duration": ("`{part}` cannot be applied to a duration", "`{part}` 不能用于时长"),
        "eval.unknown-name": ("no value is bound to `{name}`", "名称 `{name}` 没有值"),
        "eval.unknown-function": ("no function `{name}`", "没有函数 `{name}`"),
        "eval.cost-limit": (
            (
                "the expression is too costly to evaluate (it needs more than {limit:,} steps); it loops over "
                "or builds values too large"
            ),
            "表达式计算量过大（超过 {limit:,} 步）：它遍历或构造的值太大",
        ),
        "eval.too-deep": ("the value is nested too deeply", "值的嵌套过深"),
        "eval.too-large": ("the value is too large", "值太大"),
        "eval.division-by-zero": ("division by zero", "除数为零"),
        "eval.division-by-zero:modulus": ("modulus by zero", "取模的除数为零"),
        "eval.internal": ("cannot evaluate: {error}", "无法计算：{error}"),
        "eval.missing-key": ("no such key: {key}", "没有这个键：{key}"),
        "eval.null-field": ("cannot read `{name}`: `{parent}` is null", "无法读取 `{name}`：`{parent}` 为 null"),
        "eval.no-such-field": ("cannot read `{name}` of a {kind}", "无法读取 {kind} 类型的值的 `{name}`"),
        "eval.no-such-field:has": ("has() needs a map or object, not {kind}", "has() 需要映射或对象，而不是 {kind}"),
        "eval.not-bool": ("{what} must be true or false, not {kind}", "{what} 必须是真假值，而不是 {kind}"),
        "eval.not-bool:part": ("`{what}` must be true or false", "`{what}` 的值必须是真假值"),
        "eval.overflow:int": ("integer overflow in `{op}`", "`{op}` 的整数结果溢出"),
        "eval.overflow:uint": ("unsigned integer overflow in `{op}`", "`{op}` 的无符号整数结果溢出"),
        "eval.overflow:range": ("{shown} is out of the {kind} range", "{shown} 超出 {kind} 的范围"),
        "eval.overflow:timestamp": ("the timestamp is out of range", "时间戳超出范围"),
        "eval.overflow:timestamp-zone": ("the timestamp in that time zone is out of range", "该时区下的时间戳超出范围"),
        "eval.overflow:duration": ("the duration is out of range", "时长超出范围"),
        "eval.overflow:difference": ("the difference of the timestamps is out of range", "两个时间戳之差超出范围"),
        "eval.bad-index": ("list index must be a whole number, not {index}", "列表下标必须是整数，而不是 {index}"),
        "eval.index-out-of-range": (
            "index {index} is out of range for a list of {size}",
            "下标 {index} 超出范围（列表只有 {size} 个元素）",
        ),
        "eval.bad-key": (
            "a map key must be a string, int, uint or bool, not {kind}",
            "映射的键必须是 string、int、uint 或 bool，而不是 {kind}",
        ),
        "eval.bad-key:mixed": (
            "the map keys {first} and {second} cannot be used in the same map",
            "键 {first} 和 {second} 不能出现在同一个映射中",
        ),
        "eval.duplicate-key": ("duplicate map key: {key}", "映射的键重复：{key}"),
        "eval.optional-none": (
            "the optional value has no value (use `.orValue(…)` or test `.hasValue()` first)",
            "可选值没有值（请用 `.orValue(…)`，或先用 `.hasValue()` 判断）",
        ),
        "eval.date-range": ("year {year} is out of range", "年份 {year} 超出范围"),
        "eval.date-range:day": ("no such date", "没有这个日期"),
        "eval.date-range:date": ("date out of range", "日期超出范围"),
        "eval.unknown-calendar": ("no calendar named `{name}`", "没有名为 `{name}` 的日历"),
        "eval.calendar-range": (
            (
                "the `{calendar}` calendar is known for {first}-{last}; {year} is not known (the official "
                "holidays and make-up working days of a year are announced late in the year before)"
            ),
            (
                "`{calendar}` 日历只包含 {first}-{last} 年；{year} 年未知（每年的法定节假日和调休上班日"
                "在上一年年底才公布）"
            ),
        ),
        "eval.bad-argument:working-days": (
            "the number of working days must be between 0 and {limit}",
            "工作日天数必须在 0 到 {limit} 之间",
        ),
        "eval.bad-argument:unicode": ("the text is not valid Unicode", "文本不是有效的 Unicode"),
        "eval.bad-argument:substring": (
            "the substring would start at {start}, after its end {end}",
            "子串的起点 {start} 在终点 {end} 之后",
        ),
        "eval.bad-argument:shift": (
            "cannot shift bits by a negative offset ({offset})",
            "位移的位数不能为负数（{offset}）",
        ),
        "eval.bad-argument:base64": ("the text is not valid base64", "文本不是有效的 base64 编码"),
        "eval.index-out-of-range:text": (
            "position {index} is out of range for a text of {size} characters",
            "位置 {index} 超出范围（文本只有 {size} 个字符）",
        ),
        "eval.bad-format:clause": (
            "`{clause}` is not a formatting clause (use %s, %d, %f, %e, %b, %o, %x, %X, or %% for a percent sign)",
            "`{clause}` 不是格式说明符（可用 %s、%d、%f、%e、%b、%o、%x、%X，百分号写作 %%）",
        ),
        "eval.bad-format:kind": ("`%{verb}` cannot format {kind}", "`%{verb}` 不能格式化 {kind} 类型的值"),
        "eval.bad-format:missing": (
            "the text asks for argument {index} (counted from 0) but the list has {count}",
            "格式文本要用第 {index} 个参数（从 0 数起），但列表只有 {count} 个",
        ),
        "eval.bad-argument:time-zone": ("unknown time zone {name}", "未知的时区 {name}"),
        "eval.empty": ("{name}() of an empty list", "不能对空列表求 {name}()"),
        "eval.bad-conversion": ("cannot convert {shown} to {kind}", "无法把 {shown} 转换为 {kind}"),
        "eval.bad-conversion:utf8": ("bytes are not valid UTF-8", "字节不是有效的 UTF-8"),
        "eval.bad-conversion:unicode": ("the text is not valid Unicode", "文本不是有效的 Unicode"),
        "eval.bad-conversion:rfc3339": (
            "cannot convert {shown} to a timestamp (RFC 3339 expected)",
            "无法把 {shown} 转换为时间戳（应为 RFC 3339 格式）",
        ),
        "eval.bad-conversion:timestamp": ("cannot convert {shown} to a timestamp", "无法把 {shown} 转换为时间戳"),
        "eval.bad-conversion:duration": (
            'cannot convert {shown} to a duration (e.g. "1h30m", "2.5s")',
            '无法把 {shown} 转换为时长（例如 "1h30m"、"2.5s"）',
        ),
        "eval.bad-regex": ("invalid regular expression {pattern}: {detail}", "无效的正则表达式 {pattern}：`{detail}`"),
        "eval.data-inconsistent": ("the record contradicts itself", "记录自相矛盾"),
        "eval.not-an-object": ("the record is not a JSON object", "记录不是 JSON 对象"),
        "eval.as-of": ("cannot determine the evaluation date: {reason}", "无法确定评估日期：{reason}"),
        "eval.not-waivable": (
            "rule `{rule}` cannot be waived, but the record carries a waiver for it",
            "规则 `{rule}` 不可豁免，但记录中有对它的豁免",
        ),
        "eval.bad-waiver": ("the waiver for `{rule}` lacks {missing}", "对 `{rule}` 的豁免缺少 {missing}"),
        "eval.no-version": ("no version of `{rulebook}` is in force on {day}", "`{rulebook}` 在 {day} 没有生效的版本"),
    }
)


# -- the engine on a Dask cluster (engine/dask) ---------------------------------------------------------------

_add(
    {
        "dask.not-installed": ("`--dask` needs Dask, which is not installed", "`--dask` 需要 Dask，但没有安装"),
        "dask.not-installed/help": (
            "install the extra: `pip install 'rulebook-engine[dask]'`",
            "安装这个附加依赖：`pip install 'rulebook-engine[dask]'`",
        ),
        "dask.address": (
            (
                "`--dask {address}` names no cluster: give a scheduler address (tcp://host:8786) or local:N with N "
                "of 1 or more"
            ),
            "`--dask {address}` 不是集群：请给出调度器地址（`tcp://host:8786`），或 `local:N`（N 至少为 1）",
        ),
        "dask.unreachable": (
            "cannot reach the Dask scheduler at {address}: {reason}",
            "无法连接位于 {address} 的 Dask 调度器：{reason}",
        ),
        "dask.unreachable/help": (
            (
                "start one with `dask scheduler` (and workers with `dask worker ADDRESS`), or run on this machine "
                "with --dask local:2"
            ),
            "先用 `dask scheduler` 启动调度器（用 `dask worker 地址` 启动工作进程），或用 `--dask local:2` 在本机运行",
        ),
        "dask.stdin": (
            "`--dask` reads files that the workers open themselves, not standard input",
            "`--dask` 读取工作进程自己打开的文件，不能读取标准输入",
        ),
        "dask.stdin/help": (
            "write the records to a file (or a bucket the workers can read) and name it",
            "先把记录写入文件（或工作进程能读取的存储桶），再给出它的名字",
        ),
        "dask.missing-plugin": (
            "the Dask worker {worker} has no plugin `{plugin}` ({distribution}), which rulebook `{rulebook}` needs",
            "Dask 工作进程 {worker} 上没有规则集 `{rulebook}` 所需的插件 `{plugin}`（{distribution}）",
        ),
        "dask.missing-plugin/help": (
            "install it where every worker runs: `pip install {requirement}`",
            "在每个工作进程的运行环境中安装它：`pip install {requirement}`",
        ),
        "dask.missing-reader": (
            "the Dask worker {worker} has no plugin `{plugin}` ({distribution}), which reads `{file}`",
            "Dask 工作进程 {worker} 上没有读取 `{file}` 所需的插件 `{plugin}`（{distribution}）",
        ),
        "dask.missing-reader/help": (
            (
                "install it where every worker runs: `pip install {requirement}` (with --dask the workers read the "
                "files, with the plugin that reads them here)"
            ),
            (
                "在每个工作进程的运行环境中安装它：`pip install {requirement}`"
                "（使用 `--dask` 时由工作进程读取文件，所用插件与本机读取时相同）"
            ),
        ),
        "dask.plugin-version": (
            "the Dask worker {worker} has plugin `{plugin}` {found}, but this run uses {wanted}",
            "Dask 工作进程 {worker} 上的插件 `{plugin}` 是 {found}，而本次运行使用的是 {wanted}",
        ),
        "dask.plugin-version/help": (
            "install the same version where every worker runs: `pip install {requirement}`",
            "在每个工作进程的运行环境中安装同一版本：`pip install {requirement}`",
        ),
        "dask.schema-outside": (
            (
                "the record schema `{kind}` of rulebook `{rulebook}` is outside the rulebook's folder, so it cannot "
                "be sent to the workers with it"
            ),
            "规则集 `{rulebook}` 的记录结构 `{kind}` 不在规则集所在的文件夹中，无法随规则集发送给工作进程",
        ),
        "dask.schema-outside/help": (
            "put the schema in the rulebook's folder (or one below it) and name it relative to the rulebook",
            "把记录结构文件放在规则集所在的文件夹（或其子文件夹）中，并用相对于规则集的路径引用它",
        ),
        "dask.jobs": (
            "`--jobs` and `--dask` cannot be given together: on a cluster its workers share the records",
            "`--jobs` 与 `--dask` 不能同时使用：在集群上由工作进程分担记录",
        ),
        "dask.no-match": ("no file matches `{pattern}`", "没有文件与 `{pattern}` 匹配"),
        "dask.no-match/help": (
            "check the pattern; the files must be readable where the workers run",
            "请检查这个模式；工作进程所在的机器必须能读取这些文件",
        ),
    }
)

# -- rulebook serve --watch (engine/serve/watch.py) ------------------------------------

_add(
    {
        "serve.rulebook-gone": (
            "rulebook file `{path}` is gone; `{rulebook}@{version}`, loaded from it, keeps serving",
            "规则集文件 `{path}` 已不存在；从中加载的 `{rulebook}@{version}` 继续提供服务",
        ),
        "serve.rulebook-gone:none": (
            "rulebook file `{path}` is gone; no version of it was serving",
            "规则集文件 `{path}` 已不存在；它没有正在提供服务的版本",
        ),
        "serve.rulebook-gone/help": (
            (
                "put the file back and it is reloaded like an edit (its examples run first); "
                "to stop serving it, restart the server without it"
            ),
            "把文件放回后会像修改一样重新加载（先运行其示例）；若不再提供它，请在没有它的情况下重启服务",
        ),
        "serve.rulebook-back": (
            "rulebook file `{path}` is back: it is reloaded like an edit",
            "规则集文件 `{path}` 已恢复：像修改一样重新加载",
        ),
    }
)
