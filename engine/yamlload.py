"""Loading YAML with positions.

:func:`load_yaml` reads one YAML document with PyYAML's pure-Python scanner
and parser (the safe subset: no Python tags, no code) and builds plain Python
data -- ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``, ``None`` --
together with the position of every node, keyed by its path from the root::

    loaded = load_yaml(Source("membership.yaml", text))
    loaded.data["decisions"]["admission"]["rules"][0]["require"]
    loaded.positions[("decisions", "admission", "rules", 0, "require")].value  # Span

Composition and construction are our own (iterative, so no input can cause a
``RecursionError``); PyYAML only supplies the events.  The loader never raises
anything but :class:`~engine.errors.YamlError`.

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

import math
import re
from dataclasses import dataclass, field
from typing import Union

from yaml.error import MarkedYAMLError, YAMLError
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.scanner import Scanner

from engine.errors import Diagnostic, YamlError
from engine.source import Source, Span

__all__ = ["MAX_ALIAS_NODES", "MAX_CHARS", "MAX_DEPTH", "Loaded", "NodePos", "load_yaml"]

MAX_CHARS = 5_000_000
"""Longest text accepted, in characters."""

MAX_DEPTH = 200
"""Deepest nesting of mappings and sequences accepted."""

MAX_ALIAS_NODES = 10_000
"""Most nodes that aliases (and merge keys) may produce in one document."""

PathKey = Union[str, int, float, bool, None]
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
    __slots__ = ("tag", "value", "start", "end", "style")

    def __init__(self, tag: str, value: str, start: int, end: int, style: str | None) -> None:
        self.tag, self.value, self.start, self.end, self.style = tag, value, start, end, style


class _Seq:
    __slots__ = ("items", "start", "end", "flow")

    def __init__(self, start: int, end: int, flow: bool) -> None:
        self.items: list[_Node] = []
        self.start, self.end, self.flow = start, end, flow


class _Map:
    __slots__ = ("pairs", "start", "end", "flow")

    def __init__(self, start: int, end: int, flow: bool) -> None:
        self.pairs: list[tuple[_Node, _Node]] = []
        self.start, self.end, self.flow = start, end, flow


class _Alias:
    __slots__ = ("target", "name", "start", "end")

    def __init__(self, target: _Scalar | _Seq | _Map, name: str, start: int, end: int) -> None:
        self.target, self.name, self.start, self.end = target, name, start, end


_Node = Union[_Scalar, _Seq, _Map, _Alias]
_Entry = tuple[object, _Node, _Node, Union[_Node, None]]
_MERGE = "<<merge>>"  # tag of a plain `<<` key


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


def _scalar_value(node: _Scalar) -> object:
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
    "<block mapping start>": ("a new `key: value` entry", "新的 `键: 值`"),
    "<block sequence start>": ("a `- ` list item", "`- ` 列表项"),
    "<block end>": ("the end of the indented block", "缩进块的结尾"),
    "<scalar>": ("a value", "一个值"),
    "<stream end>": ("the end of the file", "文件结尾"),
    "<document start>": ("`---`", "`---`"),
    "<document end>": ("`...`", "`...`"),
    "<alias>": ("an alias `*name`", "别名 `*name`"),
    "<anchor>": ("an anchor `&name`", "锚点 `&name`"),
    "<tag>": ("a tag `!name`", "标签 `!name`"),
    "<directive>": ("a `%` directive", "`%` 指令"),
    "?": ("a `key: value` entry", "`键: 值`"),
    ":": ("`:`", "`:`"),
    "-": ("a `- ` list item", "`- ` 列表项"),
    ",": ("`,`", "`,`"),
    "[": ("`[`", "`[`"),
    "]": ("`]`", "`]`"),
    "{": ("`{`", "`{`"),
    "}": ("`}`", "`}`"),
}

_CONTEXT_WORDS = {
    "while scanning a simple key": ("in the key that starts on line {line}", "位于第 {line} 行开始的键"),
    "while parsing a block mapping": ("in the mapping that starts on line {line}", "位于第 {line} 行开始的映射"),
    "while parsing a block collection": ("in the list that starts on line {line}", "位于第 {line} 行开始的列表"),
    "while parsing a flow sequence": ("in the `[...]` list that starts on line {line}", "位于第 {line} 行开始的 `[...]` 列表"),
    "while parsing a flow mapping": ("in the `{{...}}` mapping that starts on line {line}", "位于第 {line} 行开始的 `{{...}}` 映射"),
    "while scanning a quoted scalar": ("in the quoted text that starts on line {line}", "位于第 {line} 行开始的引号文本"),
    "while scanning a double-quoted scalar": ("in the quoted text that starts on line {line}", "位于第 {line} 行开始的引号文本"),
    "while scanning a block scalar": ("in the `|`/`>` text that starts on line {line}", "位于第 {line} 行开始的 `|`/`>` 文本"),
    "while scanning a plain scalar": ("in the value that starts on line {line}", "位于第 {line} 行开始的值"),
    "while parsing a block node": ("in the value that starts on line {line}", "位于第 {line} 行开始的值"),
    "while parsing a flow node": ("in the value that starts on line {line}", "位于第 {line} 行开始的值"),
    "while parsing a node": ("in the value that starts on line {line}", "位于第 {line} 行开始的值"),
}

_HELP_INDENT = (
    "check the indentation: entries of one mapping or list must start in the same column",
    "检查缩进：同一映射或列表中的各项必须从同一列开始",
)
_HELP_GENERIC = (
    "check the indentation, and quote values that contain `: `, ` #` or start with a special character",
    "检查缩进；值中含有 `: `、` #` 或以特殊字符开头时请加引号",
)


def _problem_words(problem: str) -> tuple[str, str, tuple[str, str]]:
    """(message en, message zh, (help en, help zh)) for a PyYAML ``problem``."""
    if problem == "mapping values are not allowed here":
        return (
            "unexpected `:` here",
            "此处不应出现 `:`",
            (
                "a value that contains `: ` must be quoted (e.g. `title: \"a: b\"`); otherwise check the indentation",
                "含有 `: ` 的值必须加引号（如 `title: \"a: b\"`）；否则请检查缩进",
            ),
        )
    if problem == "sequence entries are not allowed here":
        return (
            "a `- ` list item is not allowed here",
            "此处不允许 `- ` 列表项",
            ("start the list on a new line under its key, indented", "把列表写在键的下一行并缩进"),
        )
    if problem == "mapping keys are not allowed here":
        return ("a `? ` key is not allowed here", "此处不允许 `? ` 键", _HELP_INDENT)
    if problem == "could not find expected ':'":
        return (
            "expected `:` after this key",
            "此键后缺少 `:`",
            (
                "a key must be followed by `: ` on the same line; a value that spans lines must be indented or quoted",
                "键后必须在同一行写 `: `；跨行的值需要缩进或加引号",
            ),
        )
    if problem in ("found unexpected end of stream", "found unexpected document separator"):
        return (
            "the quoted text is not closed",
            "引号文本没有闭合",
            ("add the closing quote; inside '...' write '' for a quote", "补上结尾的引号；在 '...' 中用 '' 表示一个单引号"),
        )
    m = re.fullmatch(r"found character '(.*)' that cannot start any token", problem)
    if m:
        ch = m.group(1)
        return (
            f"a value cannot start with `{ch}`",
            f"值不能以 `{ch}` 开头",
            ("quote the value", "请给这个值加引号"),
        )
    m = re.fullmatch(r"found unknown escape character '(.*)'", problem)
    if m:
        return (
            f"unknown escape `\\{m.group(1)}` in double-quoted text",
            f"双引号文本中有未知的转义 `\\{m.group(1)}`",
            ("write `\\\\` for a backslash, or use single quotes", "反斜杠请写成 `\\\\`，或改用单引号"),
        )
    m = re.fullmatch(r"expected (<block end>|',' or '[\]}]'), but (?:found|got) '?(.*?)'?", problem)
    if m:
        got = _TOKEN_WORDS.get(m.group(2), (m.group(2), m.group(2)))
        if m.group(1) == "<block end>":
            return (f"unexpected {got[0]}", f"意外的{got[1]}", _HELP_INDENT)
        close = m.group(1)[-2]
        return (
            f"expected `,` or `{close}`, found {got[0]}",
            f"应为 `,` 或 `{close}`，却是{got[1]}",
            (f"close the `{'[' if close == ']' else '{'}` with `{close}` and separate items with `,`",
             f"用 `{close}` 闭合，并用 `,` 分隔各项"),
        )
    m = re.fullmatch(r"expected the node content, but found '?(.*?)'?", problem)
    if m:
        got = _TOKEN_WORDS.get(m.group(1), (m.group(1), m.group(1)))
        return (f"expected a value, found {got[0]}", f"应为一个值，却是{got[1]}", _HELP_GENERIC)
    if problem.startswith("expected '<document start>'"):
        return (
            "unexpected content after the end of the document",
            "文档结束后还有多余内容",
            ("check the indentation of this line", "检查这一行的缩进"),
        )
    return (problem, problem, _HELP_GENERIC)


def _tab_diagnostic(source: Source, index: int) -> Diagnostic:
    line, col = source.line_col(index)
    in_indent = source.line_text(line)[: col - 1].strip(" \t") == ""
    if in_indent:
        return Diagnostic(
            "yaml.tab",
            "tabs are not allowed for indentation in YAML; use spaces",
            source,
            Span(index, index + 1),
            help="replace the tab at the start of this line with spaces",
            message_zh="YAML 不允许用制表符（Tab）缩进；请使用空格",
            help_zh="把行首的制表符换成空格",
        )
    return Diagnostic(
        "yaml.tab",
        "a tab is not allowed here in YAML; use spaces",
        source,
        Span(index, index + 1),
        help="replace the tab with spaces, or quote the value if the tab belongs to it",
        message_zh="YAML 中此处不允许制表符（Tab）；请使用空格",
        help_zh="把制表符换成空格；如果制表符属于值本身，请给值加引号",
    )


def _point(source: Source, index: int) -> Span:
    """A one-character span at ``index`` (empty at a line break or the end)."""
    text = source.text
    index = max(0, min(index, len(text)))
    if index < len(text) and text[index] not in "\r\n":
        return Span(index, index + 1)
    return Span(index, index)


def _syntax_diagnostic(source: Source, exc: MarkedYAMLError) -> Diagnostic:
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    index = mark.index if mark is not None else 0
    if "'\\t'" in problem:
        return _tab_diagnostic(source, index)
    message, message_zh, (help_en, help_zh) = _problem_words(problem)
    context = (exc.context or "").strip()
    if exc.context_mark is not None and context and exc.context != "while scanning for the next token":
        line = source.line_col(exc.context_mark.index)[0]
        if line != source.line_col(index)[0]:
            words = _CONTEXT_WORDS.get(context)
            if words is not None:
                message += " (" + words[0].format(line=line) + ")"
                message_zh += "（" + words[1].format(line=line) + "）"
            else:
                message += f" ({context} on line {line})"
                message_zh += f"（{context}，第 {line} 行）"
    return Diagnostic(
        "yaml.syntax",
        message,
        source,
        _point(source, index),
        help=help_en,
        message_zh=message_zh,
        help_zh=help_zh,
    )


# ---------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------


class _Loader:
    """One load: events -> nodes -> data and positions."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.positions: dict[Path, NodePos] = {}
        self.alias_nodes = 0
        self.effective: dict[int, list[_Entry]] = {}

    # -- diagnostics -------------------------------------------------------

    def diag(self, code: str, message: str, span: Span | None, help: str | None = None,
             message_zh: str | None = None, help_zh: str | None = None) -> Diagnostic:
        return Diagnostic(code, message, self.source, span, help=help,
                          message_zh=message_zh, help_zh=help_zh)

    def too_deep(self, start: int) -> _Fatal:
        return _Fatal(self.diag(
            "yaml.too-deep", f"the YAML is nested more than {MAX_DEPTH} levels deep",
            _point(self.source, start),
            help="flatten the structure; rulebooks never need this much nesting",
            message_zh=f"YAML 嵌套超过 {MAX_DEPTH} 层",
            help_zh="请减少嵌套层数；规则手册不需要这么深的结构",
        ))

    def count_alias(self, origin: _Node | None, n: int = 1) -> None:
        self.alias_nodes += n
        if self.alias_nodes > MAX_ALIAS_NODES:
            span = Span(origin.start, origin.end) if origin is not None else None
            raise _Fatal(self.diag(
                "yaml.alias-limit",
                f"aliases expand to more than {MAX_ALIAS_NODES:,} values",
                span,
                help="anchors and aliases (`&name`, `*name`) and merge keys `<<` may not expand to more "
                f"than {MAX_ALIAS_NODES:,} values; write the data out, or share less",
                message_zh=f"别名展开后超过 {MAX_ALIAS_NODES:,} 个值",
                help_zh=f"锚点和别名（`&name`、`*name`）及合并键 `<<` 展开后不得超过 {MAX_ALIAS_NODES:,} 个值",
            ))

    # -- composing ---------------------------------------------------------

    def compose(self) -> _Node | None:
        """Build the node tree of the single document, iteratively."""
        events = _Events(self.source.text)
        anchors: dict[str, _Node] = {}
        anchor_marks: dict[str, int] = {}
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
                top.pairs.append((pending_key[-1], node))  # type: ignore[arg-type]
                pending_key[-1] = None

        while True:
            event = events.get_event()
            if isinstance(event, StreamEndEvent):
                return root
            if isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Fatal(self.diag(
                        "yaml.multiple-documents",
                        "a rulebook file holds one YAML document; found a second one here",
                        _point(self.source, event.start_mark.index),
                        help="remove the `---` line and what follows, or put the second document in its own file",
                        message_zh="一个文件只能包含一个 YAML 文档；此处开始了第二个文档",
                        help_zh="删除 `---` 及其后的内容，或把第二个文档放到单独的文件中",
                    ))
                continue
            start, end = event.start_mark.index, event.end_mark.index
            if isinstance(event, AliasEvent):
                target = anchors.get(event.anchor)
                if target is None:
                    self.diagnostics.append(self.diag(
                        "yaml.undefined-alias", f"alias `*{event.anchor}` refers to no anchor `&{event.anchor}` above",
                        Span(start, end), help="define the anchor before using it, or check the spelling",
                        message_zh=f"别名 `*{event.anchor}` 没有对应的锚点 `&{event.anchor}`（须在前面定义）",
                        help_zh="先定义锚点再使用，或检查拼写"))
                    attach(_Scalar(_STD + "null", "", start, end, None))
                    continue
                if id(target) in open_ids:
                    raise _Fatal(self.diag(
                        "yaml.recursive-alias", f"alias `*{event.anchor}` is inside its own anchor",
                        Span(start, end), help="an anchored value cannot contain itself",
                        message_zh=f"别名 `*{event.anchor}` 位于它自己的锚点之内",
                        help_zh="带锚点的值不能包含它自身"))
                attach(_Alias(target, event.anchor, start, end))
                continue
            if isinstance(event, (ScalarEvent, CollectionStartEvent)):
                node: _Node
                if isinstance(event, ScalarEvent):
                    node = _Scalar(self.scalar_tag(event), event.value, start, end, event.style)
                else:
                    if len(stack) >= MAX_DEPTH:
                        raise self.too_deep(start)
                    self.collection_tag(event)
                    cls = _Seq if isinstance(event, SequenceStartEvent) else _Map
                    node = cls(start, end, bool(event.flow_style))
                if event.anchor is not None:
                    if event.anchor in anchors:
                        first = self.source.line_col(anchor_marks[event.anchor])[0]
                        self.diagnostics.append(self.diag(
                            "yaml.duplicate-anchor",
                            f"anchor `&{event.anchor}` is defined twice (first on line {first})",
                            Span(start, start + len(event.anchor) + 1),
                            help="give each anchor its own name",
                            message_zh=f"锚点 `&{event.anchor}` 重复定义（第 {first} 行已定义）",
                            help_zh="每个锚点使用不同的名字"))
                    anchors[event.anchor] = node
                    anchor_marks[event.anchor] = start
                attach(node)
                if not isinstance(node, _Scalar):
                    stack.append(node)
                    pending_key.append(None)
                    open_ids.add(id(node))
                continue
            if isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                node = stack.pop()
                pending_key.pop()
                open_ids.discard(id(node))
                if node.flow:
                    node.end = end
                else:
                    last = node.items[-1] if isinstance(node, _Seq) else (node.pairs[-1][1] if node.pairs else None)
                    node.end = max(node.start, last.end) if last is not None else end
                continue
            # StreamStart, DocumentEnd: nothing to do

    def unsupported_tag(self, tag: str, start: int) -> None:
        shown = "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag
        self.diagnostics.append(self.diag(
            "yaml.unsupported-tag", f"the tag `{shown}` is not supported",
            _point(self.source, start),
            help="remove the tag; rulebooks use plain YAML values (text, numbers, true/false, null, lists, mappings)",
            message_zh=f"不支持标签 `{shown}`",
            help_zh="删除该标签；规则手册只使用普通的 YAML 值（文本、数字、true/false、null、列表、映射）"))

    def scalar_tag(self, event: ScalarEvent) -> str:
        tag = event.tag
        if tag is None:
            if event.style is None:
                if event.value == "<<":
                    return _MERGE
                return _resolve(event.value)
            return _STD + "str"
        if tag == "!":
            return _STD + "str"
        if tag in {_STD + n for n in ("str", "int", "float", "bool", "null", "timestamp")}:
            return tag
        self.unsupported_tag(tag, event.start_mark.index)
        return _STD + "str"

    def collection_tag(self, event: CollectionStartEvent) -> None:
        tag = event.tag
        allowed = _STD + ("seq" if isinstance(event, SequenceStartEvent) else "map")
        if tag not in (None, "!", allowed):
            self.unsupported_tag(tag, event.start_mark.index)

    # -- constructing ------------------------------------------------------

    def scalar(self, node: _Scalar) -> object:
        if node.tag == _MERGE:
            return "<<"
        try:
            return _scalar_value(node)
        except ValueError:
            kind = node.tag[len(_STD):]
            shown = node.value if len(node.value) <= 40 else node.value[:39] + "…"
            self.diagnostics.append(self.diag(
                "yaml.bad-value", f"`{shown}` is not a valid {kind}",
                Span(node.start, node.end),
                help="fix the value, or quote it to keep it as text",
                message_zh=f"`{shown}` 不是有效的 {kind}",
                help_zh="修正这个值，或加引号把它当作文本"))
            return node.value

    def key(self, node: _Node) -> tuple[bool, object]:
        """(ok, Python key) of a key node; reports list/mapping keys."""
        origin = node
        if isinstance(node, _Alias):
            self.count_alias(node)
            node = node.target
        if isinstance(node, _Scalar):
            return True, self.scalar(node)
        self.diagnostics.append(self.diag(
            "yaml.unhashable-key", "a list or mapping cannot be used as a mapping key",
            _point(self.source, origin.start),
            help="use a plain value (usually text) as the key",
            message_zh="列表或映射不能用作键", help_zh="请用普通的值（通常是文本）作键"))
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

        Each entry is (key, key node, value node, alias it was merged
        through or None).  The mapping's own keys override merged ones; among
        merged mappings the earlier wins.  Duplicates among the own keys are
        reported by :meth:`duplicates`.
        """
        cached = self.effective.get(id(node))
        if cached is not None:
            return cached
        if depth > MAX_DEPTH:
            raise self.too_deep(node.start)
        own: dict[object, _Entry] = {}
        merged: dict[object, _Entry] = {}
        for key_node, value_node in node.pairs:
            if isinstance(key_node, _Scalar) and key_node.tag == _MERGE:
                sources = self.merge_sources(value_node)
                if sources is None:
                    self.diagnostics.append(self.diag(
                        "yaml.bad-merge", "`<<` (merge key) needs a mapping or a list of mappings",
                        _point(self.source, value_node.start),
                        help="write `<<: *name` where `&name` is on a mapping, or quote \"<<\" to use it as a key",
                        message_zh="`<<`（合并键）的值必须是映射或映射的列表",
                        help_zh="写作 `<<: *name`，其中 `&name` 标在一个映射上；若要把 \"<<\" 当普通键请加引号"))
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
                name = target.value
                self.diagnostics.append(self.diag(
                    "yaml.duplicate-key", f"duplicate key `{name}` (first defined on line {line})",
                    Span(key_node.start, key_node.end),
                    help="remove one of them or rename it",
                    message_zh=f"键 `{name}` 重复（第 {line} 行已定义）",
                    help_zh="删除其中一个或给它改名"))
            else:
                first[key] = key_node

    def build(self, root: _Node | None) -> object:
        """Convert the node tree to data, recording positions; iterative."""
        if root is None:
            self.positions[()] = NodePos(Span(0, 0))
            return None
        holder: list[object] = [None]
        # (node, path, key span, container, slot, alias it is reached through)
        work: list[tuple[_Node, Path, Span | None, list[object] | dict[object, object], object, _Node | None]]
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
                container[slot] = self.scalar(node)  # type: ignore[index]
            elif isinstance(node, _Seq):
                items: list[object] = [None] * len(node.items)
                container[slot] = items  # type: ignore[index]
                for index in range(len(node.items) - 1, -1, -1):
                    work.append((node.items[index], path + (index,), None, items, index, origin))
            else:
                if origin is None:
                    self.duplicates(node)
                entries = self.entries(node)
                mapping: dict[object, object] = {key: None for key, _, _, _ in entries}
                container[slot] = mapping  # type: ignore[index]
                for key, key_node, value_node, via in reversed(entries):
                    work.append((value_node, path + (key,), Span(key_node.start, key_node.end),
                                 mapping, key, origin or via))
        return holder[0]


_BAD = object()
_MERGE_KEY = object()


def _safe_scalar(node: _Scalar) -> object:
    try:
        return _scalar_value(node)
    except ValueError:
        return _BAD


def load_yaml(source: Source) -> Loaded:
    """Load the one YAML document in ``source`` with positions.

    Raises:
        YamlError: for any problem (syntax, duplicate keys, limits ...), with
            one diagnostic per problem found.
    """
    if len(source.text) > MAX_CHARS:
        raise YamlError(Diagnostic(
            "yaml.too-large",
            f"the file has {len(source.text):,} characters; the limit is {MAX_CHARS:,}",
            source,
            help="split the rulebook or its examples into smaller files",
            message_zh=f"文件有 {len(source.text):,} 个字符，超过上限 {MAX_CHARS:,}",
            help_zh="把规则手册或其示例拆分成较小的文件",
        ))
    loader = _Loader(source)
    try:
        root = loader.compose()
        data = loader.build(root)
    except _Fatal as fatal:
        raise YamlError([*loader.diagnostics, fatal.diag]) from None
    except ReaderError as exc:
        index = exc.position if isinstance(exc.position, int) else 0
        char = exc.character if isinstance(exc.character, int) else 0
        raise YamlError(Diagnostic(
            "yaml.bad-character",
            f"the character U+{char:04X} is not allowed in YAML",
            source,
            Span(index, index + 1),
            help=f"remove it, or write it as an escape in double quotes (\"\\u{char:04x}\")",
            message_zh=f"YAML 中不允许字符 U+{char:04X}",
            help_zh=f"删除它，或在双引号中写成转义（\"\\u{char:04x}\"）",
        )) from None
    except MarkedYAMLError as exc:
        raise YamlError([*loader.diagnostics, _syntax_diagnostic(source, exc)]) from None
    except YAMLError as exc:  # pragma: no cover - PyYAML raises marked errors
        raise YamlError(Diagnostic("yaml.syntax", f"invalid YAML: {exc}", source)) from None
    except RecursionError:  # pragma: no cover - everything above is iterative
        raise YamlError(loader.diag("yaml.too-deep", "the YAML is nested too deeply", None)) from None
    if loader.diagnostics:
        raise YamlError(loader.diagnostics)
    return Loaded(data, loader.positions, source)
