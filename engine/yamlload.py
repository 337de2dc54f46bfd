"""Loading YAML with positions.

:func:`load_yaml` reads one YAML document with PyYAML's parser (the safe
subset: no Python tags, no code) and builds plain Python
data -- ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``, ``None`` --
together with the position of every node, keyed by its path from the root::

    loaded = load_yaml(Source("membership.yaml", text))
    loaded.data["decisions"]["admission"]["rules"][0]["require"]
    loaded.positions[("decisions", "admission", "rules", 0, "require")].value  # Span

Composition and construction are our own (iterative, so no input can cause a
``RecursionError``); PyYAML only supplies the events.  The loader never raises
anything but :class:`~engine.errors.YamlError`.

The events come from libyaml when PyYAML has it (about ten times faster than
the pure-Python parser; its marks count characters exactly as the pure-Python
reader does, which a test checks on every YAML file in the repository).  A text
that libyaml refuses, or whose loading reports any problem, is loaded again
with the pure-Python parser, so every diagnostic is the same with or without
libyaml.  A text holding a byte-order mark (libyaml does not count one in its
offsets), a tab or a block scalar header touching a `#` (libyaml accepts some
of those that PyYAML refuses) goes the pure-Python way.

Decisions (the YAML 1.1 surprises are switched off; YAML 1.2 core schema
otherwise):

* Dates and times are not converted: ``2022-04-15`` is the string
  ``"2022-04-15"``.  An explicit ``!!timestamp`` tag is accepted and also
  gives the string.
* Booleans are ``true``/``True``/``TRUE`` and ``false``/``False``/``FALSE``
  only.  ``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` are strings.
* Null is ``null``/``Null``/``NULL``/``~`` or nothing.
* Integers are decimal (``-12``), ``0o17`` (octal) or ``0x1F`` (hex).  A
  number written with a leading zero (``0755``, ``010``, ``007.5``) stays a
  string: in the documents we read these are codes (area codes, item
  numbers), and YAML 1.1 would silently read ``0755`` as octal 493.  YAML 1.1
  sexagesimal numbers (``1:30``), ``0b1010`` and ``1_000`` stay strings too.
* Floats follow YAML 1.2: ``1.5``, ``.5``, ``1e3``, ``-.inf``, ``.nan``.
* Merge keys ``<<`` are supported as YAML 1.1 defines them (PyYAML does the
  same): ``<<: *base`` or ``<<: [*a, *b]`` copies the keys the mapping does
  not set itself; with a list, earlier mappings win.  A quoted ``"<<"`` is an
  ordinary key.  Merged entries count towards the alias limit.
* Duplicate keys are errors (``yaml.duplicate-key``), all of them reported.
  Keys merged with ``<<`` may be overridden, as YAML intends.
* Aliases are expanded into copies; the number of nodes produced through
  aliases is limited to :data:`MAX_ALIAS_NODES` (``yaml.alias-limit``),
  anchors may not be redefined (``yaml.duplicate-anchor``, as in PyYAML) and
  an alias inside its own anchor is refused (``yaml.recursive-alias``).
* Texts longer than :data:`MAX_CHARS` characters (``yaml.too-large``) and
  nesting deeper than :data:`MAX_DEPTH` (``yaml.too-deep``) are refused.
* Only one document per file (``yaml.multiple-documents``).
* Tags other than the standard ``!!str``, ``!!int``, ``!!float``, ``!!bool``,
  ``!!null``, ``!!timestamp``, ``!!seq``, ``!!map`` are refused
  (``yaml.unsupported-tag``).
* Non-string keys (``1: x``) are kept as loaded; a list or mapping used as a
  key is an error (``yaml.unhashable-key``).
* The position of a value reached through an alias is the position of the
  anchored node (that is where its text is written); its ``key`` is the key
  at the place of use.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from yaml.error import MarkedYAMLError, YAMLError
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.scanner import Scanner

from engine.errors import Diagnostic, YamlError
from engine.messages import Text, msg
from engine.source import Source, Span

__all__ = ["MAX_ALIAS_NODES", "MAX_CHARS", "MAX_DEPTH", "Loaded", "NodePos", "YamlMemo", "load_yaml"]

MAX_CHARS = 5_000_000
"""Longest text accepted, in characters."""

MAX_DEPTH = 200
"""Deepest nesting of mappings and sequences accepted."""

MAX_ALIAS_NODES = 10_000
"""Most nodes that aliases (and merge keys) may produce in one document."""

PathKey: TypeAlias = str | int | float | bool | None
Path = tuple[PathKey, ...]

_STD = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class NodePos:
    """Where a node is written.

    Attributes:
        value: the node's text (for a scalar: quotes or ``|`` header included).
        key: the mapping key's text, for values inside mappings.
        style: scalar style: None (plain or not a scalar), ``'``, ``"``, ``|``, ``>``.
    """

    value: Span
    key: Span | None = None
    style: str | None = None


@dataclass(frozen=True)
class Loaded:
    """A loaded YAML document: plain data and the position of every node."""

    data: object
    positions: dict[Path, NodePos]
    source: Source | None = field(default=None, compare=False, repr=False)

    def span(self, path: Path, key: bool = False) -> Span | None:
        """The span of the node at ``path`` (its key's span if ``key``).

        Falls back to the nearest ancestor that has a position (e.g. the
        mapping a missing key should be in), and to None for an empty document.
        """
        path = tuple(path)
        for n in range(len(path), -1, -1):
            pos = self.positions.get(path[:n])
            if pos is not None:
                if key and pos.key is not None:
                    return pos.key
                return pos.value
        return None


# ---------------------------------------------------------------------------
# Nodes (our own composer: iterative, keeps aliases visible)
# ---------------------------------------------------------------------------


class _Scalar:
    __slots__ = ("end", "start", "style", "tag", "value")

    def __init__(self, tag: str, value: str, start: int, end: int, style: str | None) -> None:
        self.tag, self.value, self.start, self.end, self.style = tag, value, start, end, style


class _Seq:
    __slots__ = ("end", "flow", "items", "start")

    def __init__(self, start: int, end: int, flow: bool) -> None:
        self.items: list[_Node] = []
        self.start, self.end, self.flow = start, end, flow


class _Map:
    __slots__ = ("end", "flow", "pairs", "start")

    def __init__(self, start: int, end: int, flow: bool) -> None:
        self.pairs: list[tuple[_Node, _Node]] = []
        self.start, self.end, self.flow = start, end, flow


class _Alias:
    __slots__ = ("end", "name", "start", "target")

    def __init__(self, target: _Scalar | _Seq | _Map, name: str, start: int, end: int) -> None:
        self.target, self.name, self.start, self.end = target, name, start, end


_Node: TypeAlias = _Scalar | _Seq | _Map | _Alias
_Entry = tuple[PathKey, _Node, _Node, _Node | None]
_MERGE = "<<merge>>"  # tag of a plain `<<` key


try:
    from yaml._yaml import CParser as _CParser

    _LIBYAML = True
except ImportError:  # PyYAML built without libyaml
    _LIBYAML = False


# texts that libyaml reads differently: a byte-order mark (not counted in libyaml's offsets),
# tabs and a block scalar header followed by `#` (accepted by libyaml, refused by PyYAML)
_PURE_ONLY = re.compile(r"\ufeff|\t|[|>][-+0-9]*#")


class _Events(Reader, Scanner, Parser):
    """PyYAML's pure-Python reader, scanner and parser: events only.

    Character offsets in marks are exact with the pure-Python reader (the
    libyaml one may count differently).
    """

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


class _Fatal(Exception):
    """Stop loading at once with this diagnostic."""

    def __init__(self, diag: Diagnostic) -> None:
        super().__init__(diag.message)
        self.diag = diag


# ---------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9]")


def _resolve(value: str) -> str:
    """The tag of an untagged plain scalar."""
    if _NULL.fullmatch(value):
        return _STD + "null"
    if _BOOL.fullmatch(value):
        return _STD + "bool"
    if _LEADING_ZERO.match(value):
        return _STD + "str"
    if _INT.fullmatch(value):
        return _STD + "int"
    if _FLOAT.fullmatch(value):
        return _STD + "float"
    return _STD + "str"


def _to_int(text: str) -> int:
    body = text.replace("_", "")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if body.startswith(("0x", "0X")):
        return sign * int(body[2:], 16)
    if body.startswith(("0o", "0O")):
        return sign * int(body[2:], 8)
    return sign * int(body, 10)


def _to_float(text: str) -> float:
    lowered = text.lower().replace("_", "")
    if lowered.lstrip("+-") == ".inf":
        return -math.inf if lowered.startswith("-") else math.inf
    if lowered == ".nan":
        return math.nan
    return float(lowered)


def _scalar_value(node: _Scalar) -> PathKey:
    """Python value of a scalar; ValueError if it does not fit its explicit tag."""
    tag, value = node.tag, node.value
    if tag == _STD + "str" or tag == _STD + "timestamp":
        return value
    if tag == _STD + "null":
        if not _NULL.fullmatch(value):
            raise ValueError
        return None
    if tag == _STD + "bool":
        if not _BOOL.fullmatch(value):
            raise ValueError
        return value.lower() == "true"
    if tag == _STD + "int":
        return _to_int(value)
    if tag == _STD + "float":
        return _to_float(value)
    raise ValueError  # pragma: no cover - tags are checked when composing


# ---------------------------------------------------------------------------
# Syntax errors in plain words
# ---------------------------------------------------------------------------

_TOKEN_WORDS = {
    "<block mapping start>": ("`key: value` entry", "`键: 值`"),
    "<block sequence start>": ("`- ` list item", "`- ` 列表项"),
    "<block end>": ("end of the indented block", "缩进块的结尾"),
    "<scalar>": ("value", "值"),
    "<stream end>": ("end of the file", "文件结尾"),
    "<document start>": ("`---`", "`---`"),
    "<document end>": ("`...`", "`...`"),
    "<alias>": ("alias `*name`", "别名 `*name`"),
    "<anchor>": ("anchor `&name`", "锚点 `&name`"),
    "<tag>": ("tag `!name`", "标签 `!name`"),
    "<directive>": ("`%` directive", "`%` 指令"),
    "?": ("`key: value` entry", "`键: 值`"),
    "-": ("`- ` list item", "`- ` 列表项"),
}

_CONTEXT_WORDS = {  # PyYAML context -> what it was reading
    "while scanning a simple key": ("key", "键"),
    "while parsing a block mapping": ("mapping", "映射"),
    "while parsing a block collection": ("list", "列表"),
    "while parsing a flow sequence": ("`[...]` list", "`[...]` 列表"),
    "while parsing a flow mapping": ("`{...}` mapping", "`{...}` 映射"),
    "while scanning a quoted scalar": ("quoted text", "引号文本"),
    "while scanning a double-quoted scalar": ("quoted text", "引号文本"),
    "while scanning a block scalar": ("`|`/`>` text", "`|`/`>` 文本"),
    "while scanning a plain scalar": ("value", "值"),
    "while parsing a block node": ("value", "值"),
    "while parsing a flow node": ("value", "值"),
    "while parsing a node": ("value", "值"),
}

_HELP_INDENT = (
    "check the indentation: entries of one mapping or list must start in the same column",
    "检查缩进：同一映射或列表中的各项必须从同一列开始",
)
_HELP_GENERIC = (
    "check the indentation, and quote values that contain `: `, ` #` or start with a special character",
    "检查缩进；值中含有 `: `、` #` 或以特殊字符开头时请加引号",
)


_PROBLEMS: dict[str, tuple[str, str, str, str]] = {
    "mapping values are not allowed here": (
        "unexpected `:` here",
        "此处不应出现 `:`",
        'a value that contains `: ` must be quoted (e.g. `title: "a: b"`); otherwise check the indentation',
        '含有 `: ` 的值必须加引号（如 `title: "a: b"`）；否则请检查缩进',
    ),
    "sequence entries are not allowed here": (
        "a `- ` list item is not allowed here",
        "此处不允许 `- ` 列表项",
        "start the list on a new line under its key, indented",
        "把列表写在键的下一行并缩进",
    ),
    "mapping keys are not allowed here": ("a `? ` key is not allowed here", "此处不允许 `? ` 键", *_HELP_INDENT),
    "could not find expected ':'": (
        "expected `:` after this key",
        "此键后缺少 `:`",
        "a key must be followed by `: ` on the same line; a value that spans lines must be indented or quoted",
        "键后必须在同一行写 `: `；跨行的值需要缩进或加引号",
    ),
    "found unexpected end of stream": (
        "this quoted text is not closed",
        "这段引号文本没有闭合",
        "add the closing quote; inside '...' write '' for a quote, inside \"...\" write \\\"",
        "补上结尾的引号；在 '...' 中用 '' 表示单引号，在 \"...\" 中用 \\\" 表示双引号",
    ),
}
_PROBLEMS["found unexpected document separator"] = _PROBLEMS["found unexpected end of stream"]

_PROBLEM_PATTERNS: list[tuple[re.Pattern[str], tuple[str, str, str, str]]] = [
    (
        re.compile(r"found character '(?P<ch>.*)' that cannot start any token"),
        ("a value cannot start with `{ch}`", "值不能以 `{ch}` 开头", "quote the value", "请给这个值加引号"),
    ),
    (
        re.compile(r"found unknown escape character '(?P<ch>.*)'"),
        (
            "unknown escape `\\{ch}` in double-quoted text",
            "双引号文本中有未知的转义 `\\{ch}`",
            "write `\\\\` for a backslash, or use single quotes",
            "反斜杠请写成 `\\\\`，或改用单引号",
        ),
    ),
    (
        re.compile(r"expected <block end>, but found '(?P<got>.*)'"),
        ("unexpected {got}: the indentation does not match", "意外的{got_zh}：缩进不一致", *_HELP_INDENT),
    ),
    (
        re.compile(r"expected ',' or '(?P<close>[\]}])', but got '(?P<got>.*)'"),
        (
            "expected `,` or `{close}`, found {got}",
            "应为 `,` 或 `{close}`，却是{got_zh}",
            "close the `{open}` with `{close}` and separate items with `,`",
            "用 `{close}` 闭合 `{open}`，并用 `,` 分隔各项",
        ),
    ),
    (
        re.compile(r"expected the node content, but found '(?P<got>.*)'"),
        ("expected a value, found {got}", "应为一个值，却是{got_zh}", *_HELP_GENERIC),
    ),
    (
        re.compile(r"expected '<document start>', but found .*"),
        (
            "unexpected content after the end of the document",
            "文档结束后还有多余内容",
            "check the indentation of this line",
            "检查这一行的缩进",
        ),
    ),
]


def _problem_words(problem: str) -> tuple[str, str, str, str]:
    """(message, message_zh, help, help_zh) for a PyYAML ``problem``."""
    if problem in _PROBLEMS:
        return _PROBLEMS[problem]
    for pattern, texts in _PROBLEM_PATTERNS:
        m = pattern.fullmatch(problem)
        if m:
            fields = m.groupdict()
            if "close" in fields:
                fields["open"] = "[" if fields["close"] == "]" else "{"
            if "got" in fields:
                token = fields["got"]
                fields["got"], fields["got_zh"] = _TOKEN_WORDS.get(token, (f"`{token}`", f"`{token}`"))
            en, zh, help_en, help_zh = (t.format(**fields) for t in texts)
            return en, zh, help_en, help_zh
    return problem, f"YAML 语法错误：`{problem}`", *_HELP_GENERIC


_TAB_TEXTS = {
    True: (
        "tabs are not allowed for indentation in YAML; use spaces",
        "YAML 不允许用制表符（Tab）缩进；请使用空格",
        "replace the tab at the start of this line with spaces",
        "把行首的制表符换成空格",
    ),
    False: (
        "a tab is not allowed here in YAML; use spaces",
        "YAML 中此处不允许制表符（Tab）；请使用空格",
        "replace the tab with spaces, or quote the value if the tab belongs to it",
        "把制表符换成空格；如果制表符属于值本身，请给值加引号",
    ),
}


def _tab_diagnostic(source: Source, index: int) -> Diagnostic:
    """``yaml.tab``: a tab in the indentation, or elsewhere PyYAML refuses one."""
    line, col = source.line_col(index)
    in_indent = source.line_text(line)[: col - 1].strip(" \t") == ""
    return _diagnostic("yaml.tab", source, Span(index, index + 1), texts=_TAB_TEXTS[in_indent])


def _point(source: Source, index: int) -> Span:
    """A one-character span at ``index`` (empty at a line break or the end)."""
    text = source.text
    index = max(0, min(index, len(text)))
    if index < len(text) and text[index] not in "\r\n":
        return Span(index, index + 1)
    return Span(index, index)


_AT_CONTEXT = frozenset(
    {"could not find expected ':'", "found unexpected end of stream", "found unexpected document separator"}
)


def _syntax_diagnostic(source: Source, exc: MarkedYAMLError) -> Diagnostic:
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    index = mark.index if mark is not None else 0
    if "'\\t'" in problem:
        return _tab_diagnostic(source, index)
    out_of_line = _misaligned(source, problem, mark, exc)
    if out_of_line is not None:
        return out_of_line
    message, message_zh, help_en, help_zh = _problem_words(problem)
    context = (exc.context or "").strip()
    note = None
    if exc.context_mark is not None and problem in _AT_CONTEXT:
        # "no `:` after this key", "this quote is not closed": point at the
        # key or the quote; the problem mark is where the scanner gave up.
        line, col = source.line_col(index)
        note = msg("yaml.syntax:gave-up", line=line, column=col)
        index = exc.context_mark.index
    elif exc.context_mark is not None and context and context != "while scanning for the next token":
        line = source.line_col(exc.context_mark.index)[0]
        if line != source.line_col(index)[0]:
            what, what_zh = _CONTEXT_WORDS.get(context, ("", ""))
            if what:
                message += f" (in the {what} that starts on line {line})"
                message_zh += f"（位于第 {line} 行开始的{what_zh}）"
            else:
                message += f" ({context} on line {line})"
                message_zh += f"（`{context}`，第 {line} 行）"
    return Diagnostic(
        "yaml.syntax",
        Text(message, message_zh),
        source,
        _point(source, index),
        help=Text(help_en, help_zh),
        note=note,
    )


def _misaligned(source: Source, problem: str, mark: Any, exc: MarkedYAMLError) -> Diagnostic | None:
    """``yaml.indentation`` at the key that is out of line, when that is what stopped PyYAML
    (often the line before the one PyYAML names; see ``engine.yamlindent``)."""
    from engine.yamlindent import misaligned

    if mark is None:
        return None
    context_line = exc.context_mark.line if exc.context_mark is not None else None
    found = misaligned(source.text, problem, mark.line, context_line)
    if found is None:
        return None
    if found.kind == "both":
        at = source.offset(found.first_line + 1, found.first_col)
        return _diagnostic(
            "yaml.indentation",
            source,
            _point(source, at),
            texts=_TEXTS["yaml.indentation:both"],
            key=found.first_key,
            col=found.first_col,
            other=found.second_key,
            other_line=found.second_line + 1,
            other_col=found.second_col,
            line=found.first_line + 1,
        )
    line, key, col = (
        (found.first_line, found.first_key, found.first_col)
        if found.kind == "first"
        else (found.second_line, found.second_key, found.second_col)
    )
    at = source.offset(line + 1, col)
    return _diagnostic(
        "yaml.indentation", source, _point(source, at), key=key, col=col, want=col + found.shift, line=line + 1
    )


# ---------------------------------------------------------------------------
# Messages: code -> (message, message_zh, help, help_zh), str.format fields
# ---------------------------------------------------------------------------

_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "yaml.indentation": (
        "`{key}` is out of line with the entries beside it: it starts in column {col}, they start in column {want}",
        "`{key}` 与相邻各项没有对齐：它从第 {col} 列开始，相邻各项从第 {want} 列开始",
        "indent line {line} to column {want}: the entries of one mapping start in the same column",
        "请把第 {line} 行缩进到第 {want} 列：同一映射中的各项须从同一列开始",
    ),
    "yaml.indentation:both": (
        (
            "`{key}` (column {col}) and `{other}` on line {other_line} (column {other_col}) are out of line, so YAML "
            "cannot tell which mapping `{other}` belongs to"
        ),
        (
            "`{key}`（第 {col} 列）与第 {other_line} 行的 `{other}`（第 {other_col} 列）没有对齐，"
            "YAML 无法判断 `{other}` 属于哪个映射"
        ),
        (
            "the entries of one mapping start in the same column: indent line {line} or line {other_line} like the "
            "entries around it"
        ),
        "同一映射中的各项须从同一列开始：请调整第 {line} 行或第 {other_line} 行的缩进，与周围各项对齐",
    ),
    "yaml.too-large": (
        "the file has {size:,} characters; the limit is {limit:,}",
        "文件有 {size:,} 个字符，超过上限 {limit:,}",
        "split the rulebook or its examples into smaller files",
        "把规则手册或其示例拆分成较小的文件",
    ),
    "yaml.too-deep": (
        "the YAML is nested more than {limit} levels deep",
        "YAML 嵌套超过 {limit} 层",
        "flatten the structure; rulebooks never need this much nesting",
        "请减少嵌套层数；规则手册不需要这么深的结构",
    ),
    "yaml.alias-limit": (
        "aliases expand to more than {limit:,} values",
        "别名展开后超过 {limit:,} 个值",
        (
            "anchors and aliases (`&name`, `*name`) and merge keys `<<` may not expand to more than {limit:,} values; "
            "write the data out, or share less"
        ),
        "锚点和别名（`&name`、`*name`）及合并键 `<<` 展开后不得超过 {limit:,} 个值；请直接写出数据或减少共用",
    ),
    "yaml.multiple-documents": (
        "a rulebook file holds one YAML document; a second one starts here",
        "一个文件只能包含一个 YAML 文档；此处开始了第二个文档",
        "remove the `---` line and what follows, or put the second document in its own file",
        "删除 `---` 及其后的内容，或把第二个文档放到单独的文件中",
    ),
    "yaml.undefined-alias": (
        "alias `*{name}` refers to no anchor `&{name}` above",
        "别名 `*{name}` 没有对应的锚点 `&{name}`（须在前面定义）",
        "define the anchor before using it, or check the spelling",
        "先定义锚点再使用，或检查拼写",
    ),
    "yaml.recursive-alias": (
        "alias `*{name}` is inside its own anchor",
        "别名 `*{name}` 位于它自己的锚点之内",
        "an anchored value cannot contain itself",
        "带锚点的值不能包含它自身",
    ),
    "yaml.duplicate-anchor": (
        "anchor `&{name}` is defined twice (first on line {line})",
        "锚点 `&{name}` 重复定义（第 {line} 行已定义）",
        "give each anchor its own name",
        "每个锚点使用不同的名字",
    ),
    "yaml.unsupported-tag": (
        "the tag `{tag}` is not supported",
        "不支持标签 `{tag}`",
        "remove the tag; rulebooks use plain YAML values (text, numbers, true/false, null, lists, mappings)",
        "删除该标签；规则手册只使用普通的 YAML 值（文本、数字、true/false、null、列表、映射）",
    ),
    "yaml.bad-value": (
        "`{value}` is not a valid {kind}",
        "`{value}` 不是有效的 {kind}",
        "fix the value, or quote it to keep it as text",
        "修正这个值，或加引号把它当作文本",
    ),
    "yaml.unhashable-key": (
        "a list or mapping cannot be used as a mapping key",
        "列表或映射不能用作键",
        "use a plain value (usually text) as the key",
        "请用普通的值（通常是文本）作键",
    ),
    "yaml.bad-merge": (
        "`<<` (merge key) needs a mapping or a list of mappings",
        "`<<`（合并键）的值必须是映射或映射的列表",
        'write `<<: *name` where `&name` is on a mapping, or quote "<<" to use it as a key',
        '写作 `<<: *name`，其中 `&name` 标在一个映射上；若要把 "<<" 当普通键请加引号',
    ),
    "yaml.duplicate-key": (
        "duplicate key `{name}` (first defined on line {line})",
        "键 `{name}` 重复（第 {line} 行已定义）",
        "remove one of them or rename it",
        "删除其中一个或给它改名",
    ),
    "yaml.bad-character": (
        "the character U+{char:04X} is not allowed in YAML",
        "YAML 中不允许字符 U+{char:04X}",
        'remove it, or write it as an escape in double quotes ("\\u{char:04x}")',
        '删除它，或在双引号中写成转义（"\\u{char:04x}"）',
    ),
}


def _diagnostic(
    code: str, source: Source, span: Span | None, *, texts: tuple[str, str, str, str] | None = None, **fields: object
) -> Diagnostic:
    """A diagnostic with the texts of ``code`` (or ``texts``) filled from ``fields``."""
    message, message_zh, help_en, help_zh = (t.format(**fields) for t in texts or _TEXTS[code])
    return Diagnostic(code, Text(message, message_zh), source, span, help=Text(help_en, help_zh))


# ---------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------


class _Loader:
    """One load: events -> nodes -> data and positions."""

    def __init__(self, source: Source, fast: bool = False) -> None:
        self.source = source
        self.fast = fast  # events from libyaml
        self.diagnostics: list[Diagnostic] = []
        self.positions: dict[Path, NodePos] = {}
        self.alias_nodes = 0
        self.effective: dict[int, list[_Entry]] = {}
        self.anchored = False  # the text defines an anchor (its parts cannot be loaded apart)

    def report(self, code: str, span: Span | None, **fields: Any) -> None:
        self.diagnostics.append(_diagnostic(code, self.source, span, **fields))

    def fatal(self, code: str, span: Span | None, **fields: Any) -> _Fatal:
        return _Fatal(_diagnostic(code, self.source, span, **fields))

    def too_deep(self, start: int) -> _Fatal:
        return self.fatal("yaml.too-deep", _point(self.source, start), limit=MAX_DEPTH)

    def count_alias(self, origin: _Node | None, n: int = 1) -> None:
        """Count ``n`` nodes produced through ``origin`` (an alias or `<<` value)."""
        self.alias_nodes += n
        if self.alias_nodes > MAX_ALIAS_NODES:
            span = Span(origin.start, origin.end) if origin is not None else None
            raise self.fatal("yaml.alias-limit", span, limit=MAX_ALIAS_NODES)

    # -- composing ---------------------------------------------------------

    def compose(self) -> _Node | None:
        """Build the node tree of the single document, iteratively."""
        events = _CParser(self.source.text) if self.fast else _Events(self.source.text)
        anchors: dict[str, tuple[_Scalar | _Seq | _Map, int]] = {}
        stack: list[_Seq | _Map] = []
        pending_key: list[_Node | None] = []
        open_ids: set[int] = set()
        root: _Node | None = None
        documents = 0

        def attach(node: _Node) -> None:
            nonlocal root
            if not stack:
                root = node
                return
            top = stack[-1]
            if isinstance(top, _Seq):
                top.items.append(node)
            elif pending_key[-1] is None:
                pending_key[-1] = node
            else:
                top.pairs.append((pending_key[-1], node))
                pending_key[-1] = None

        while True:
            event = events.get_event()
            if isinstance(event, StreamEndEvent):
                return root
            start, end = event.start_mark.index, event.end_mark.index  # type: ignore[union-attr]  # both parsers mark every event
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.fatal("yaml.multiple-documents", _point(self.source, start))
            elif isinstance(event, AliasEvent):
                name = event.anchor
                if name not in anchors:
                    self.report("yaml.undefined-alias", Span(start, end), name=name)
                    attach(_Scalar(_STD + "null", "", start, end, None))
                    continue
                target = anchors[name][0]
                if id(target) in open_ids:
                    raise self.fatal("yaml.recursive-alias", Span(start, end), name=name)
                attach(_Alias(target, name, start, end))
            elif isinstance(event, (ScalarEvent, CollectionStartEvent)):
                node: _Scalar | _Seq | _Map
                if isinstance(event, ScalarEvent):
                    node = _Scalar(self.scalar_tag(event, start), event.value, start, end, event.style or None)
                else:
                    if len(stack) >= MAX_DEPTH:
                        raise self.too_deep(start)
                    self.collection_tag(event, start)
                    cls = _Seq if isinstance(event, SequenceStartEvent) else _Map
                    node = cls(start, end, bool(event.flow_style))
                if event.anchor is not None:
                    self.anchored = True
                    if event.anchor in anchors:
                        line = self.source.line_col(anchors[event.anchor][1])[0]
                        self.report(
                            "yaml.duplicate-anchor",
                            Span(start, start + len(event.anchor) + 1),
                            name=event.anchor,
                            line=line,
                        )
                    anchors[event.anchor] = (node, start)
                attach(node)
                if not isinstance(node, _Scalar):
                    stack.append(node)
                    pending_key.append(None)
                    open_ids.add(id(node))
            elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                done = stack.pop()
                pending_key.pop()
                open_ids.discard(id(done))
                if done.flow:
                    done.end = end
                else:  # a block collection ends with its last value, not at the next token
                    last = done.items[-1] if isinstance(done, _Seq) else done.pairs[-1][1]
                    done.end = max(done.start, last.end)
            # StreamStart, DocumentEnd: nothing to do

    def scalar_tag(self, event: ScalarEvent, start: int) -> str:
        tag = event.tag
        if tag is None:
            if not event.style:  # plain: None from PyYAML's parser, "" from libyaml's
                return _MERGE if event.value == "<<" else _resolve(event.value)
            return _STD + "str"
        if tag == "!":
            return _STD + "str"
        if tag in _SCALAR_TAGS:
            return tag
        self.report("yaml.unsupported-tag", _point(self.source, start), tag=_short_tag(tag))
        return _STD + "str"

    def collection_tag(self, event: CollectionStartEvent, start: int) -> None:
        allowed = _STD + ("seq" if isinstance(event, SequenceStartEvent) else "map")
        if event.tag not in (None, "!", allowed):
            self.report("yaml.unsupported-tag", _point(self.source, start), tag=_short_tag(event.tag))

    # -- constructing ------------------------------------------------------

    def scalar(self, node: _Scalar) -> PathKey:
        if node.tag == _MERGE:
            return "<<"
        try:
            return _scalar_value(node)
        except ValueError:
            shown = node.value if len(node.value) <= 40 else node.value[:39] + "…"
            self.report("yaml.bad-value", Span(node.start, node.end), value=shown, kind=node.tag[len(_STD) :])
            return node.value

    def key(self, node: _Node) -> tuple[bool, PathKey]:
        """(ok, Python key) of a key node; reports list/mapping keys."""
        origin = node
        if isinstance(node, _Alias):
            self.count_alias(node)
            node = node.target
        if isinstance(node, _Scalar):
            return True, self.scalar(node)
        self.report("yaml.unhashable-key", _point(self.source, origin.start))
        return False, None

    def merge_sources(self, node: _Node) -> list[tuple[_Map, _Node | None]] | None:
        """The mappings a `<<` value names, each with the alias it came through."""
        via_list: _Node | None = node if isinstance(node, _Alias) else None
        items = node.target if isinstance(node, _Alias) else node
        candidates = items.items if isinstance(items, _Seq) else [items]
        out: list[tuple[_Map, _Node | None]] = []
        for item in candidates:
            via = item if isinstance(item, _Alias) else via_list
            target = item.target if isinstance(item, _Alias) else item
            if not isinstance(target, _Map):
                return None
            out.append((target, via))
        return out

    def entries(self, node: _Map, depth: int = 0) -> list[_Entry]:
        """The effective entries of a mapping after `<<` merges, memoized.

        Each entry is (key, key node, value node, the alias it was merged
        through or None).  The mapping's own keys override merged ones; among
        merged mappings the earlier wins.  Duplicates among the own keys are
        reported by :meth:`duplicates`.
        """
        cached = self.effective.get(id(node))
        if cached is not None:
            return cached
        if depth > MAX_DEPTH:
            raise self.too_deep(node.start)
        own: dict[PathKey, _Entry] = {}
        merged: dict[PathKey, _Entry] = {}
        for key_node, value_node in node.pairs:
            if isinstance(key_node, _Scalar) and key_node.tag == _MERGE:
                sources = self.merge_sources(value_node)
                if sources is None:
                    self.report("yaml.bad-merge", _point(self.source, value_node.start))
                    continue
                for source_map, via in sources:
                    inherited = self.entries(source_map, depth + 1)
                    self.count_alias(via or value_node, len(inherited))
                    for key, k_node, v_node, inner_via in inherited:
                        if key not in merged:
                            merged[key] = (key, k_node, v_node, via or inner_via)
                continue
            ok, key = self.key(key_node)
            if ok and key not in own:
                own[key] = (key, key_node, value_node, None)
        result = dict(merged)
        result.update(own)
        entries = list(result.values())
        self.effective[id(node)] = entries
        return entries

    def duplicates(self, node: _Map) -> None:
        """Report every repeated own key of ``node`` (merged keys may be overridden)."""
        first: dict[object, _Node] = {}
        for key_node, _ in node.pairs:
            target = key_node.target if isinstance(key_node, _Alias) else key_node
            if not isinstance(target, _Scalar):
                continue
            key = _MERGE_KEY if target.tag == _MERGE else _safe_scalar(target)
            if key is _BAD:
                continue
            if key in first:
                line = self.source.line_col(first[key].start)[0]
                self.report("yaml.duplicate-key", Span(key_node.start, key_node.end), name=target.value, line=line)
            else:
                first[key] = key_node

    def build(self, root: _Node | None) -> object:
        """Convert the node tree to data, recording positions; iterative."""
        if root is None:
            self.positions[()] = NodePos(Span(0, 0))
            return None
        holder: list[object] = [None]
        # (node, path, key span, container, slot, the alias it is reached through)
        work: list[tuple[_Node, Path, Span | None, Any, Any, _Node | None]]
        work = [(root, (), None, holder, 0, None)]
        while work:
            node, path, key_span, container, slot, origin = work.pop()
            if isinstance(node, _Alias):
                origin = origin or node
                node = node.target
            if origin is not None:
                self.count_alias(origin)
            if len(path) > MAX_DEPTH:
                raise self.too_deep(node.start)
            style = node.style if isinstance(node, _Scalar) else None
            self.positions[path] = NodePos(Span(node.start, node.end), key_span, style)
            if isinstance(node, _Scalar):
                container[slot] = self.scalar(node)
            elif isinstance(node, _Seq):
                items: list[object] = [None] * len(node.items)
                container[slot] = items
                for index in range(len(node.items) - 1, -1, -1):
                    work.append((node.items[index], (*path, index), None, items, index, origin))
            else:
                if origin is None:
                    self.duplicates(node)
                entries = self.entries(node)
                mapping: dict[object, object] = {key: None for key, _, _, _ in entries}
                container[slot] = mapping
                for key, key_node, value_node, via in reversed(entries):
                    work.append(
                        (value_node, (*path, key), Span(key_node.start, key_node.end), mapping, key, origin or via)
                    )
        return holder[0]


_BAD = object()
_MERGE_KEY = object()
_SCALAR_TAGS = frozenset(_STD + n for n in ("str", "int", "float", "bool", "null", "timestamp"))


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


def _safe_scalar(node: _Scalar) -> object:
    try:
        return _scalar_value(node)
    except ValueError:
        return _BAD


# A line that starts a top-level key of a block mapping (a plain word, then `:`).
_TOP_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*:(?=[ \n]|$)", re.MULTILINE)
# What makes a text's top-level parts unsafe to load apart: document markers and directives.
_NOT_APART = re.compile(r"^(?:---|\.\.\.|%)", re.MULTILINE)


class _Part:
    """A top-level part of a text loaded alone: its data and positions from its own start."""

    __slots__ = ("data", "positions", "root", "shifted")

    def __init__(self, data: dict[Any, Any], positions: dict[Path, NodePos], root: Span) -> None:
        self.data = data
        self.positions = positions
        self.root = root
        self.shifted: tuple[int, dict[Path, NodePos]] | None = None  # the positions at the last offset used

    def at(self, offset: int) -> dict[Path, NodePos]:
        if offset == 0:
            return self.positions
        if self.shifted is None or self.shifted[0] != offset:
            moved = {
                path: NodePos(pos.value.shift(offset), pos.key.shift(offset) if pos.key else None, pos.style)
                for path, pos in self.positions.items()
            }
            self.shifted = (offset, moved)
        return self.shifted[1]


class YamlMemo:
    """The loads of a text's top-level parts, by their text, for :func:`load_yaml`.

    An editor loads the same long text again after every edit; with a memo, only the
    top-level keys (``decisions:``, ``examples:`` ...) whose text changed are loaded again.
    A text whose parts are not plain top-level keys of one block mapping, that defines
    anchors, repeats a top-level key, or has any problem is loaded whole as without the
    memo, so the data, positions and diagnostics are always those of :func:`load_yaml`.
    """

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self.parts: dict[str, _Part | None] = {}  # None: the part cannot be loaded alone

    def part(self, text: str) -> _Part | None:
        if text in self.parts:
            return self.parts[text]
        found: _Part | None = None
        loader = _Loader(Source("<part>", text), fast=True)
        root: _Node | None = None
        try:
            root = loader.compose()
            data = loader.build(root)
        except Exception:  # noqa: BLE001 - the whole text is loaded again, for the exact diagnostics
            data = None
        if (
            isinstance(root, _Map)
            and not root.flow
            and isinstance(data, dict)
            and not loader.diagnostics
            and not loader.anchored
        ):
            found = _Part(data, loader.positions, loader.positions[()].value)
        if len(self.parts) >= self.limit:
            self.parts.clear()
        self.parts[text] = found
        return found

    def load(self, source: Source) -> Loaded | None:
        """The text loaded from its parts, or None when it must be loaded whole."""
        text = source.text
        if not _LIBYAML or _PURE_ONLY.search(text) or _NOT_APART.search(text):
            return None
        starts = [m.start() for m in _TOP_KEY.finditer(text)]
        if len(starts) < 2 or not _only_comments(text[: starts[0]]):
            return None
        starts[0] = 0
        bounds = [*starts, len(text)]
        data: dict[Any, Any] = {}
        positions: dict[Path, NodePos] = {}
        spans: list[Span] = []
        for begin, end in itertools.pairwise(bounds):
            part = self.part(text[begin:end])
            if part is None:
                return None
            for key, value in part.data.items():
                if key in data:
                    return None
                data[key] = value
            shifted = part.at(begin)
            positions.update(shifted)
            spans.append(shifted[()].value)
        positions[()] = NodePos(Span(spans[0].start, spans[-1].end))
        return Loaded(data, positions, source)


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.split("\n"))


def load_yaml(source: Source, memo: YamlMemo | None = None) -> Loaded:
    """Load the one YAML document in ``source`` with positions (``memo``: see :class:`YamlMemo`).

    Raises:
        YamlError: for any problem (syntax, duplicate keys, limits ...), with
            one diagnostic per problem found.
    """
    if len(source.text) > MAX_CHARS:
        raise YamlError(_diagnostic("yaml.too-large", source, None, size=len(source.text), limit=MAX_CHARS))
    if memo is not None:
        found = memo.load(source)
        if found is not None:
            return found
    if _LIBYAML and not _PURE_ONLY.search(source.text):
        fast = _Loader(source, fast=True)
        try:
            data = fast.build(fast.compose())
            clean = not fast.diagnostics
        except Exception:  # noqa: BLE001 - any problem: loaded again below, for the exact diagnostics
            clean = False
        if clean:
            return Loaded(data, fast.positions, source)
    loader = _Loader(source)
    try:
        root = loader.compose()
        data = loader.build(root)
    except _Fatal as fatal:
        raise YamlError([*loader.diagnostics, fatal.diag]) from None
    except ReaderError as exc:
        index = exc.position if isinstance(exc.position, int) else 0
        char = exc.character if isinstance(exc.character, int) else 0
        raise YamlError(_diagnostic("yaml.bad-character", source, _point(source, index), char=char)) from None
    except MarkedYAMLError as exc:
        raise YamlError([*loader.diagnostics, _syntax_diagnostic(source, exc)]) from None
    except YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors
        raise YamlError(Diagnostic.of("yaml.syntax", source=source, problem=str(exc))) from None
    if loader.diagnostics:
        raise YamlError(loader.diagnostics)
    return Loaded(data, loader.positions, source)
