"""Parser of the condition language: text -> ``engine.lang.ast`` nodes.

The language is CEL's core syntax (google/cel-spec ``doc/langdef.md``) plus
the words ``and``, ``or`` and ``not`` for ``&&``, ``||`` and ``!``.  The
grammar lives in ``grammar.lark``; in short, lowest precedence first::

    expr      = or ["?" or ":" expr]               (right-associative)
    or        = or ("||" | "or") and
    and       = and ("&&" | "and") relation
    relation  = relation ("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") add
    add       = add ("+" | "-") mul
    mul       = mul ("*" | "/" | "%") unary
    unary     = ("!" | "not" | "-") unary | member
    member    = member "." (NAME | `QUOTED`) | member "." NAME "(" args ")"
              | member "[" expr "]" | primary
    primary   = ["."] NAME ["(" args ")"] | "(" expr ")"
              | "[" args "]" | "{" key ":" value, ... "}" | literal
    literal   = 42  0x2A  42u  1.5  .5  1e3  "s"  's'  '''s'''  r"s"  b"s"
              | true  false  null

Lists, maps and argument lists accept a trailing comma; ``//`` starts a
comment; newlines are whitespace.  After a dot, CEL's reserved words
(``x.for``, ``x.if()``) are ordinary field and method names, and a field
name may be quoted in backticks (``x.`content-type```, ``has(x.`a.b`)``).
Receiver calls named ``all``, ``exists``, ``exists_one``, ``filter`` and
``map`` whose first argument is a plain name become
:class:`~engine.lang.ast.Comprehension`; ``has(x.f)`` becomes
:class:`~engine.lang.ast.Has`.

Negative numbers are ``Unary("-", Literal(n))``, except one case: a minus
written directly before the literal ``9223372036854775808`` (2**63, also in
hex) is folded into ``Literal(-9223372036854775808, "int")``, so that the
smallest int can be written although 2**63 alone is out of range.

:func:`parse_condition` raises only :class:`~engine.errors.ConditionSyntaxError`,
whose diagnostics (English and Chinese) explain the mistakes policy editors
make: ``=`` for ``==``, full-width punctuation, ``且``/``或``/``非`` as
operators, ``≥``/``≤``/``≠`` for ``>=``/``<=``/``!=``, unclosed strings and
brackets, reserved words, and so on.  The tree is turned into nodes without
recursion, and expressions longer than ``MAX_LENGTH`` characters or nested
deeper than ``MAX_DEPTH`` are refused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, cast

from engine.errors import ConditionSyntaxError, Diagnostic
from engine.lang import ast as A
from engine.messages import Text
from engine.source import Source, Span

if TYPE_CHECKING:  # Lark is imported when an expression is first parsed, not at start-up
    from lark import Lark, Token, Tree
    from lark.exceptions import UnexpectedInput

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "RESERVED_WORDS", "grammar_path", "parse_condition"]

MAX_LENGTH = 20_000
MAX_DEPTH = 100

INT_MAX = 2**63 - 1
UINT_MAX = 2**64 - 1

# CEL's reserved words that are not otherwise part of the syntax.
RESERVED_WORDS = frozenset(
    [
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ]
)
# Words that are part of the syntax, with their terminal names; as names they are errors too.
_KEYWORD_TYPES = {w: f"_{w.upper()}" for w in ("in", "and", "or", "not", "true", "false", "null")}

# Macros: receiver calls whose first arguments are variable names.  The two-variable forms
# (`xs.all(i, x, p)`, the transforms) name an index or key and an element or value.
_MACRO_ARITY = {
    "all": (2, 3),
    "exists": (2, 3),
    "exists_one": (2, 3),
    "existsOne": (2, 3),
    "filter": (2,),
    "map": (2, 3),
    "transformList": (3, 4),
    "transformMap": (3, 4),
    "transformMapEntry": (3, 4),
    "optMap": (2,),
    "optFlatMap": (2,),
}
# The macros whose three-argument form has two variables (for `map`, the third is a filter).
_TWO_VARIABLE_AT_3 = frozenset(
    {"all", "exists", "exists_one", "existsOne", "transformList", "transformMap", "transformMapEntry"}
)
_MACRO_EXAMPLES = {
    "all": "`record.introducers.all(i, i.is_member)`",
    "exists": '`record.history.exists(h, h.event == "ban")`',
    "exists_one": '`record.roles.exists_one(r, r == "chair")`',
    "existsOne": '`record.roles.existsOne(r, r == "chair")`',
    "filter": "`record.introducers.filter(i, i.is_member)`",
    "map": "`record.awards.map(a, a.year)`",
    "transformList": "`record.awards.transformList(i, a, a.year + i)`",
    "transformMap": "`{'a': 1}.transformMap(k, v, v * 2)`",
    "transformMapEntry": "`{'a': 1}.transformMapEntry(k, v, {v: k})`",
    "optMap": "`record.?recommender.optMap(r, r.name)`",
    "optFlatMap": "`record.?recommender.optFlatMap(r, r.?name)`",
}
# The functions of CEL's optional extension, named with their namespace: `optional.of(x)` is a call of
# `optional.of` (not a method `of` of a name `optional`).
_NAMESPACED = {"optional": frozenset({"of", "none", "ofNonZeroValue"})}
_MACRO_NEED = {
    (2, 3): ("2 or 3", "2 或 3"),
    (3, 4): ("3 or 4", "3 或 4"),
    (2,): ("2", "2"),
}

_BINARY_RULES = dict(
    zip(
        ["logical_or", "logical_and", "eq", "ne", "lt", "le", "gt", "ge", "in_", "add", "sub", "mul", "div", "mod"],
        ["||", "&&", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"],
        strict=True,
    )
)

_SIMPLE_ESCAPES = dict(zip("\\\"'`?abfnrtv", "\\\"'`?\a\b\f\n\r\t\v", strict=True))
_HEX = frozenset("0123456789abcdefABCDEF")
_OCT = frozenset("01234567")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

# Full-width and Chinese punctuation -> the ASCII character meant.
_FULL_WIDTH: dict[str, str] = {
    **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},
    **dict(zip("\u3000“”‘’。、【】", " \"\"''.,[]", strict=True)),
}
# Mathematical signs (as typed in Chinese and Word documents) -> the operator meant.
_MATH_SIGNS: dict[str, str] = {
    "≥": ">=",
    "≧": ">=",
    "⩾": ">=",
    "≤": "<=",
    "≦": "<=",
    "⩽": "<=",
    "≠": "!=",
    "×": "*",
    "÷": "/",
    "−": "-",
}
# Chinese words used as operators -> the operator meant.
_CHINESE_OPERATORS = dict.fromkeys(("且", "并且", "而且", "与", "和"), "&&") | {"或": "||", "或者": "||", "非": "!"}


# ---- the Lark parser (lazy singleton) ---------------------------------------

_LARK: Lark | None = None
_LARK_LOCK = threading.Lock()


def _classify_ident(token: Token) -> Token:
    """Lexer callback: a keyword or reserved word lexed as a name is not a name.

    (Keywords lex as names where the parser cannot accept them, e.g. after a
    dot; giving them back their own type makes the parser reject them.)
    """
    kind = _KEYWORD_TYPES.get(token.value)
    if kind is None and token.value in RESERVED_WORDS:
        kind = "RESERVED"
    if kind is None:
        return token
    from lark import Token

    return Token.new_borrow_pos(kind, token.value, token)


def grammar_path() -> Path:
    """Where ``grammar.lark`` is (for tools such as test generators)."""
    return Path(__file__).with_name("grammar.lark")


def _lark() -> Lark:
    global _LARK  # noqa: PLW0603 - the parser is built once, on first use, under the lock
    if _LARK is None:
        with _LARK_LOCK:
            if _LARK is None:
                _LARK = _new_lark()
    return _LARK


def _new_lark() -> Lark:
    """The LALR parser of ``grammar.lark``; its tables come from the disk cache when they are there.

    Lark writes its cache file in place, so a missing file is written under a temporary name
    and renamed: another process never reads half of one.  The file's name carries the engine's
    fingerprint and Lark's version, and Lark checks the grammar and options it was made from.
    """
    from lark import Lark

    def make(cache: str | bool) -> Lark:
        return Lark(
            grammar_path().read_text(encoding="utf-8"),
            parser="lalr",
            lexer="contextual",
            propagate_positions=True,
            maybe_placeholders=False,
            lexer_callbacks={"IDENT": _classify_ident},
            cache=cache,
        )

    from engine.cachedir import lark_cache_file

    final = lark_cache_file()
    if final is None:
        return make(False)
    if os.path.exists(final):
        return make(final)
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(final), prefix=".tmp-", suffix=".part")
        os.close(fd)
        os.unlink(tmp)  # Lark reads a file that exists: give it none
    except OSError:
        return make(False)
    lark = make(tmp)
    try:
        os.chmod(tmp, 0o600)
        os.replace(tmp, final)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return lark


# ---- entry point -------------------------------------------------------------


class _Report:
    """Collects the diagnostics for one expression text."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self._source: Source | None = None
        self.items: list[Diagnostic] = []

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = Source(self.name, self.text)
        return self._source

    def add(self, code: str, start: int, end: int, msg: _Message) -> None:
        self.items.append(
            Diagnostic(
                code,
                Text(msg.en, msg.zh),
                source=self.source,
                span=Span(start, end),
                help=Text(msg.help_en, msg.help_zh) if msg.help_en else None,
            )
        )

    def fail(self, code: str | None = None, start: int = 0, end: int = 0, msg: _Message | None = None) -> NoReturn:
        if code is not None and msg is not None:
            self.add(code, start, end, msg)
        raise ConditionSyntaxError(self.items)


def parse_condition(text: str, name: str = "<expression>") -> A.Node:
    """Parse one condition expression.

    Args:
        text: the expression as written.
        name: what to call the text in diagnostics (a file name, a rule id).

    Returns:
        The root node; every node's ``span`` holds character offsets into ``text``.

    Raises:
        ConditionSyntaxError: the text is not a valid expression.  For any
            string this is the only exception raised (an unforeseen internal
            failure is reported as ``syntax.internal-error``).
        TypeError: ``text`` is not a string (a programming error).
    """
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, not {type(text).__name__}")
    report = _Report(name, text)
    try:
        return _parse(text, report)
    except ConditionSyntaxError:
        raise
    except Exception as exc:  # noqa: BLE001 - the promise is: only ConditionSyntaxError
        report.items.clear()
        report.fail("syntax.internal-error", 0, len(report.text), _msg("internal", kind=type(exc).__name__))


def _parse(text: str, report: _Report) -> A.Node:
    if len(text) > MAX_LENGTH:
        report.fail("syntax.too-long", MAX_LENGTH, len(text), _msg("too-long", length=len(text), limit=MAX_LENGTH))
    scan = _prescan(text, report)
    if report.items:
        report.fail()
    if not scan.significant:
        report.fail("syntax.empty", 0, len(text), _msg("empty"))
    from lark.exceptions import UnexpectedInput

    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        _explain_lark_error(exc, text, scan, report)
    node = _Builder(report).build(tree)
    _check_tree(node, text, report)
    if report.items:
        report.fail()
    return node


# ---- pre-scan: what never belongs outside strings; bracket balance ----------


class _Scan:
    def __init__(self) -> None:
        self.significant = False  # anything but whitespace and comments
        self.open: list[tuple[str, int]] = []  # brackets still open at the end
        self.bad_closers: dict[int, tuple[str, int] | None] = {}  # offset -> the opener it fails to match


def _string_end(text: str, i: int, raw: bool) -> int | None:
    """End offset of the string literal whose opening quote is at ``i``, or None."""
    q, n = text[i], len(text)
    if text.startswith(q * 3, i):
        if raw:
            j = text.find(q * 3, i + 3)
            return None if j < 0 else j + 3
        j = i + 3
        while j < n:
            if text[j] == "\\":
                j += 2
            elif text.startswith(q * 3, j):
                return j + 3
            else:
                j += 1
        return None
    j = i + 1
    while j < n:
        ch = text[j]
        if ch == q:
            return j + 1
        if ch in "\r\n" or (ch == "\\" and not raw and (j + 1 >= n or text[j + 1] in "\r\n")):
            return None
        j += 2 if ch == "\\" and not raw else 1
    return None


def _prescan(text: str, report: _Report) -> _Scan:
    """One pass outside strings and comments: full-width characters, Chinese
    operator words, unterminated strings, bracket balance and depth."""
    scan = _Scan()
    stack = scan.open
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\n\r\f":
            i += 1
            continue
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        scan.significant = True
        if c == "`":
            j = text.find("`", i + 1)
            line_end = text.find("\n", i + 1)
            if j > 0 and (line_end < 0 or j < line_end):
                i = j + 1
                continue
        if c == '"' or c == "'":
            k = i
            while k > 0 and text[k - 1] in _IDENT_CHARS:
                k -= 1
            end = _string_end(text, i, text[k:i].lower() in ("r", "rb", "br"))
            if end is None:
                triple = text.startswith(c * 3, i)
                line_end = text.find("\n", i)
                rest = text[i + 1 : n if line_end < 0 else line_end]
                variant = "-curly" if any(ch in rest for ch in "“”‘’") else "-triple" if triple else ""
                msg = _msg("unterminated", "unterminated" + variant, close=c * 3 if triple else c, triple=c * 3)
                report.add("syntax.unterminated-string", i, i + (3 if triple else 1), msg)
                return scan
            i = end
            continue
        if c in _OPENERS:
            stack.append((c, i))
            if len(stack) > MAX_DEPTH:
                report.add("syntax.too-deep", i, i + 1, _msg("too-deep", limit=MAX_DEPTH))
                return scan
        elif c in _CLOSERS:
            opener = stack.pop() if stack else None
            if opener is None or _OPENERS[opener[0]] != c:
                scan.bad_closers[i] = opener
        elif c in _FULL_WIDTH:
            report.add("syntax.full-width", i, i + 1, _full_width(c))
        elif c in _MATH_SIGNS:
            report.add("syntax.math-sign", i, i + 1, _msg("not-operator", "math-sign", word=c, op=_MATH_SIGNS[c]))
        elif not c.isascii() and c.isalpha():
            j = i
            while j < n and not text[j].isascii() and text[j].isalpha():
                j += 1
            if text[i:j] in _CHINESE_OPERATORS:
                op = _CHINESE_OPERATORS[text[i:j]]
                report.add("syntax.chinese-operator", i, j, _msg("not-operator", op, word=text[i:j]))
            i = j
            continue
        i += 1
    return scan


# ---- Lark errors -> diagnostics ---------------------------------------------


def _explain_lark_error(exc: UnexpectedInput, text: str, scan: _Scan, report: _Report) -> NoReturn:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0  # always set on UnexpectedCharacters; lark types it Optional
        c = text[pos : pos + 1]
        if c == "=":
            report.fail("syntax.assignment", pos, pos + 1, _msg("assignment"))
        if c in ("&", "|"):
            report.fail("syntax.single-and-or", pos, pos + 1, _msg("not-operator", c * 2, word=c))
        if c in ('"', "'"):  # normally found by the pre-scan
            report.fail("syntax.unterminated-string", pos, pos + 1, _msg("unterminated", close=c, triple=c * 3))
        if c in _FULL_WIDTH:
            report.fail("syntax.full-width", pos, pos + 1, _full_width(c))
        if c in _MATH_SIGNS:  # normally found by the pre-scan
            msg = _msg("not-operator", "math-sign", word=c, op=_MATH_SIGNS[c])
            report.fail("syntax.math-sign", pos, pos + 1, msg)
        report.fail("syntax.unexpected-character", pos, pos + 1, _unexpected_character(c))
    if not isinstance(exc, UnexpectedToken):  # LALR raises nothing else
        report.fail("syntax.unexpected-token", 0, len(text), _msg("internal", kind=type(exc).__name__))
    tok = exc.token
    expected = _acceptable(exc.state, set(exc.expected))
    en, zh = _expected_words(expected)
    start = tok.start_pos or 0
    end = tok.end_pos if tok.end_pos is not None else start + len(tok.value)
    if tok.type == "$END":  # positioned like the last token
        if scan.open:
            bracket, pos = scan.open[-1]
            msg = _msg("unclosed", bracket=bracket, closer=_OPENERS[bracket])
            report.fail("syntax.unclosed-bracket", pos, pos + 1, msg)
        one_dot = (
            "IDENT" in expected
            and expected <= _AFTER_DOT
            and text[:end].endswith(".")
            and text[: end - 1][-1:].isdigit()
        )
        help_key = "one-dot" if one_dot else "unexpected-end"
        report.fail("syntax.unexpected-end", end, end, _msg("unexpected-end", help_key, expected=en, expected_zh=zh))
    before = text[:start].rstrip()
    after_dot = before.endswith(".") and (
        before[:-1].rstrip()[-1:] in _IDENT_CHARS | {")", "]", "}", "`"} and before[:-1].rstrip() != ""
    )
    names_only = "IDENT" in expected and expected <= _AFTER_DOT
    if tok.type == "RESERVED" or (tok.type in _KEYWORD_TYPES.values() and names_only):
        calls = text[end:].lstrip().startswith("(")
        help_key = "if-function" if tok.value == "if" and calls else "reserved-field" if after_dot else "reserved-word"
        report.fail("syntax.reserved-word", start, end, _msg("reserved-word", help_key, word=tok.value))
    if start in scan.bad_closers:
        opener = scan.bad_closers[start]
        if opener is None:
            msg = _msg("unmatched", closer=tok.value, opener=_CLOSERS[tok.value])
        else:
            line, col = report.source.line_col(opener[1])
            at = {"line": line, "col": col, "closer": tok.value, "opener": opener[0], "right": _OPENERS[opener[0]]}
            msg = _msg("mismatched-line" if "\n" in text else "mismatched", "mismatched", **at)
        report.fail("syntax.unmatched-bracket", start, end, msg)
    msg = _msg("unexpected-token", shown=_show(tok.value), expected=en, expected_zh=zh)
    report.fail("syntax.unexpected-token", start, end, msg)


def _acceptable(state: Any, expected: set[str]) -> set[str]:
    """The terminals that really can come next.

    LALR merges look-ahead sets, so Lark's ``expected`` lists tokens that a
    later reduction would reject.  Replay each candidate on a copy of the
    parser's state stack (no values, so this is cheap) and keep those shifted.
    """
    from lark.parsers.lalr_analysis import Shift

    try:
        table, end_state = state.parse_conf.states, state.parse_conf.end_state
        start_stack = list(state.state_stack)
    except AttributeError:
        return expected
    result = set()
    for terminal in expected | {"$END"}:
        stack = list(start_stack)
        while terminal in table[stack[-1]]:
            action, arg = table[stack[-1]][terminal]
            if action is Shift:
                result.add(terminal)
                break
            if arg.expansion:
                del stack[-len(arg.expansion) :]
            stack.append(table[stack[-1]][arg.origin.name][1])
            if terminal == "$END" and stack[-1] == end_state:
                result.add(terminal)
                break
    return result or expected


_NAME_TOKENS = frozenset({"IDENT", "RESERVED", "QIDENT"})
# After a dot: a name, `?` (`x.?f`) or the method `or` (`o.or(p)`).
_AFTER_DOT = _NAME_TOKENS | {"_QUESTION", "_OR"}
_CLOSER_TOKENS = [("_RPAR", ")"), ("_RSQB", "]"), ("_RBRACE", "}"), ("_COMMA", ","), ("_COLON", ":")]
_OPERATOR_TOKENS = frozenset(
    [
        "_OROR",
        "_OR",
        "_ANDAND",
        "_AND",
        "_EQ",
        "_NE",
        "_LT",
        "_LE",
        "_GT",
        "_GE",
        "_IN",
        "_PLUS",
        "_STAR",
        "_SLASH",
        "_PERCENT",
        "_QUESTION",
    ]
)


def _expected_words(expected: set[str]) -> tuple[str, str]:
    """Terminal names -> what a user can recognise, in English and Chinese."""
    words = [(f"`{ch}`", f"`{ch}`") for name, ch in _CLOSER_TOKENS if name in expected]
    if "IDENT" in expected:
        words.append(("a name", "一个名称") if expected <= _AFTER_DOT | {"_LPAR"} else ("a value", "一个值"))
    if expected & _OPERATOR_TOKENS and not ("IDENT" in expected and expected <= _AFTER_DOT | {"_LPAR"}):
        words.append(("an operator", "运算符"))
    if not words:
        words.append(("end of expression", "表达式结尾") if "$END" in expected else ("something else", "其他内容"))
    if len(words) == 1:
        return words[0]
    en, zh = [w[0] for w in words], [w[1] for w in words]
    return ", ".join(en[:-1]) + " or " + en[-1], "、".join(zh[:-1]) + " 或 " + zh[-1]


# ---- tree -> AST ---------------------------------------------------------------


def _span(meta: Any) -> Span:
    return Span(meta.start_pos, meta.end_pos)


def _tok_span(tok: Token) -> Span:
    # the lexer's tokens carry their positions (lark types them Optional for tokens made by hand)
    return Span(cast(int, tok.start_pos), cast(int, tok.end_pos))


def _constant(value: object, kind: str) -> Callable[[Any, Any, list[Any]], A.Node]:
    return lambda self, meta, c: A.Literal(value, kind, span=_span(meta))


class _Optional(NamedTuple):
    """An element ``?x`` or entry ``?k: v`` of a list or map literal, while the literal is built."""

    item: Any


class _Builder:
    """Transformer from the Lark tree to AST nodes: one ``r_<rule>`` method per rule.

    Unlike ``lark.Transformer`` it walks the tree with an explicit stack, so a
    deeply nested expression cannot exhaust Python's recursion limit.
    Problems (bad escapes, bad macros, numbers out of range) are added to the
    report and a stand-in node is returned, so that several can be reported.
    """

    def __init__(self, report: _Report) -> None:
        self.report = report

    def build(self, tree: Tree) -> A.Node:
        from lark import Tree

        values: list[Any] = []
        stack: list[tuple[Any, bool]] = [(tree, False)]
        while stack:
            item, ready = stack.pop()
            if not isinstance(item, Tree):
                values.append(item)
            elif not ready:
                stack.append((item, True))
                stack.extend((child, False) for child in reversed(item.children))
            else:
                count = len(item.children)
                children = values[len(values) - count :]
                del values[len(values) - count :]
                op = _BINARY_RULES.get(item.data)
                if op is not None:
                    values.append(A.Binary(op, children[0], children[1], span=_span(item.meta)))
                else:
                    method: Callable[[Any, list[Any]], Any] = getattr(self, "r_" + item.data)
                    values.append(method(item.meta, children))
        return values[0]  # type: ignore[no-any-return]  # the root's rule built the expression's node

    def r_conditional(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Conditional(c[0], c[1], c[2], span=_span(meta))

    def r_not_(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Unary("!", c[0], span=_span(meta))

    def r_neg(self, meta: Any, c: list[Any]) -> A.Node:
        operand = c[0]
        if isinstance(operand, A.Literal) and operand.kind == "int" and operand.value == INT_MAX + 1:
            return A.Literal(-(INT_MAX + 1), "int", span=_span(meta))  # the smallest int
        return A.Unary("-", operand, span=_span(meta))

    def r_select(self, meta: Any, c: list[Any]) -> A.Node:
        name = str(c[1])
        if c[1].type == "QIDENT":
            name = name[1:-1]
        return A.Select(c[0], name, span=_span(meta), field_span=_tok_span(c[1]))

    def r_index(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Index(c[0], c[1], span=_span(meta))

    def r_ident(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Ident(str(c[0]), span=_span(meta))

    def r_root_ident(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Ident("." + str(c[0]), span=_span(meta))

    def r_method_call(self, meta: Any, c: list[Any]) -> A.Node:
        target, name, args = c[0], str(c[1]), c[2]
        span, name_span = _span(meta), _tok_span(c[1])
        if isinstance(target, A.Ident) and name in _NAMESPACED.get(target.name, ()):
            name_span = Span(target.span.start, name_span.end)
            return A.Call(f"{target.name}.{name}", args, None, span=span, name_span=name_span)
        if isinstance(target, A.Ident) and target.name == "cel" and name == "bind":
            return self.bind(args, span)
        arity = _MACRO_ARITY.get(name)
        if arity is None:
            return A.Call(name, args, target, span=span, name_span=name_span)
        example = _MACRO_EXAMPLES[name]
        two = len(args) == 4 or (len(args) == 3 and name in _TWO_VARIABLE_AT_3)
        variables = args[:2] if two else args[:1]
        if len(args) not in arity:
            need, need_zh = _MACRO_NEED[arity]
            help_key = "map-args" if name == "map" else "transform-args" if arity == (3, 4) else "macro-args"
            if name in ("all", "exists", "exists_one", "existsOne"):
                help_key = "macro2-args"
            msg = _msg("macro-arity", help_key, name=name, need=need, need_zh=need_zh, got=len(args), example=example)
            self.report.add("syntax.bad-macro", span.start, span.end, msg)
        elif bad := next((a for a in variables if not isinstance(a, A.Ident) or a.name.startswith(".")), None):
            msg = _msg("macro-variable", name=name, example=example)
            self.report.add("syntax.bad-macro", bad.span.start, bad.span.end, msg)
        elif two and cast(A.Ident, variables[0]).name == cast(A.Ident, variables[1]).name:
            second = cast(A.Ident, variables[1])
            msg = _msg("macro-same-variables", name=name, var=second.name)
            self.report.add("syntax.bad-macro", second.span.start, second.span.end, msg)
        else:
            var = cast(A.Ident, variables[0])
            var2 = cast(A.Ident, variables[1]) if two else None
            rest = args[len(variables) :]
            cond = rest[0] if len(rest) == 2 else None
            macro = "exists_one" if name == "existsOne" else name
            return A.Comprehension(
                macro,
                target,
                var.name,
                rest[-1],
                cond,
                span=span,
                var_span=var.span,
                var2=var2.name if var2 is not None else None,
                var2_span=var2.span if var2 is not None else Span(0, 0),
            )
        return A.Call(name, args, target, span=span, name_span=name_span)

    def bind(self, args: tuple[A.Node, ...], span: Span) -> A.Node:
        """``cel.bind(var, init, body)``."""
        if len(args) != 3:
            self.report.add("syntax.bad-macro", span.start, span.end, _msg("bind-arity", got=len(args)))
        elif not isinstance(args[0], A.Ident) or args[0].name.startswith("."):
            self.report.add("syntax.bad-macro", args[0].span.start, args[0].span.end, _msg("bind-variable"))
        else:
            return A.Bind(args[0].name, args[1], args[2], span=span, var_span=args[0].span)
        return A.Call("cel.bind", args, None, span=span, name_span=span)

    def r_or_call(self, meta: Any, c: list[Any]) -> A.Node:
        target, args, span = c[0], c[1], _span(meta)
        start = target.span.end + 1
        return A.Call("or", args, target, span=span, name_span=Span(start, start + 2))

    def r_opt_select(self, meta: Any, c: list[Any]) -> A.Node:
        name = str(c[1])
        if c[1].type == "QIDENT":
            name = name[1:-1]
        return A.OptSelect(c[0], name, span=_span(meta), field_span=_tok_span(c[1]))

    def r_opt_index(self, meta: Any, c: list[Any]) -> A.Node:
        return A.OptIndex(c[0], c[1], span=_span(meta))

    def r_opt_element(self, meta: Any, c: list[Any]) -> _Optional:
        return _Optional(c[0])

    def r_opt_entry(self, meta: Any, c: list[Any]) -> _Optional:
        return _Optional((c[0], c[1]))

    def r_global_call(self, meta: Any, c: list[Any]) -> A.Node:
        name, args, span = str(c[0]), c[1], _span(meta)
        if name == "has":
            if len(args) == 1 and isinstance(args[0], A.Select):
                return A.Has(args[0].operand, args[0].field, span=span, field_span=args[0].field_span)
            self.report.add("syntax.bad-macro", span.start, span.end, _msg("bad-has"))
        return A.Call(name, args, None, span=span, name_span=_tok_span(c[0]))

    def r_root_call(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Call("." + str(c[0]), c[1], None, span=_span(meta), name_span=_tok_span(c[0]))

    def r_args(self, meta: Any, c: list[Any]) -> tuple[Any, ...]:
        return tuple(c)

    r_entries = r_args
    r_elements = r_args

    def r_entry(self, meta: Any, c: list[Any]) -> tuple[A.Node, A.Node]:
        return (c[0], c[1])

    def r_list_lit(self, meta: Any, c: list[Any]) -> A.Node:
        items = c[0]
        optional = tuple(i for i, e in enumerate(items) if isinstance(e, _Optional))
        elements = tuple(e.item if isinstance(e, _Optional) else e for e in items)
        return A.ListLit(elements, span=_span(meta), optional=optional)

    def r_map_lit(self, meta: Any, c: list[Any]) -> A.Node:
        items = c[0]
        optional = tuple(i for i, e in enumerate(items) if isinstance(e, _Optional))
        entries = tuple(e.item if isinstance(e, _Optional) else e for e in items)
        return A.MapLit(entries, span=_span(meta), optional=optional)

    r_true_lit = _constant(True, "bool")
    r_false_lit = _constant(False, "bool")
    r_null_lit = _constant(None, "null")

    def r_int_lit(self, meta: Any, c: list[Any]) -> A.Node:
        # The range is checked on the finished tree (_check_tree): 2**63 is
        # fine right after a minus sign.
        return A.Literal(_int_value(str(c[0])), "int", span=_span(meta))

    def r_uint_lit(self, meta: Any, c: list[Any]) -> A.Node:
        value, span = _int_value(str(c[0])[:-1]), _span(meta)
        if value > UINT_MAX:
            self.report.add("syntax.int-range", span.start, span.end, _msg("uint-range", shown=_show(str(c[0]))))
            value = 0
        return A.Literal(value, "uint", span=span)

    def r_double_lit(self, meta: Any, c: list[Any]) -> A.Node:
        value, span = float(str(c[0])), _span(meta)
        if value == float("inf"):
            self.report.add("syntax.double-range", span.start, span.end, _msg("double-range", shown=_show(str(c[0]))))
            value = 0.0
        return A.Literal(value, "double", span=span)

    def r_string_lit(self, meta: Any, c: list[Any]) -> A.Node:
        tok: Token = c[0]
        value, kind = _decode_string(str(tok), cast(int, tok.start_pos), self.report)  # a lexer token's position
        return A.Literal(value, kind, span=_span(meta))


def _int_value(digits: str) -> int:
    """The value of an int literal's digits.  Absurdly long ones count as 2**80:
    out of range either way, and Python limits ``int()`` on long digit strings."""
    if len(digits) > 40:
        return 2**80
    return int(digits[2:], 16) if digits.startswith("0x") else int(digits, 10)


def _decode_string(token: str, offset: int, report: _Report) -> tuple[str | bytes, str]:
    """Value and kind of a string or bytes literal token starting at ``offset``."""
    q = 0
    while token[q] not in "\"'":
        q += 1
    prefix = token[:q].lower()
    is_bytes = "b" in prefix
    quote_len = 3 if len(token) - q >= 6 and token.startswith(token[q] * 3, q) else 1
    body = token[q + quote_len : len(token) - quote_len]
    kind = "bytes" if is_bytes else "string"
    if "r" in prefix:
        return (body.encode("utf-8", "surrogatepass") if is_bytes else body), kind
    return _unescape(body, is_bytes, offset + q + quote_len, report), kind


def _unescape(body: str, is_bytes: bool, offset: int, report: _Report) -> str | bytes:
    """Process the escapes of a non-raw literal's body, which starts at ``offset``."""
    parts: list[str] = []
    out = bytearray()

    def text(s: str) -> None:
        if is_bytes:
            out.extend(s.encode("utf-8", "surrogatepass"))
        else:
            parts.append(s)

    def code_unit(code: int) -> None:  # \x and octal: a byte in bytes, a code point in strings
        if is_bytes:
            out.append(code)
        else:
            parts.append(chr(code))

    def bad(j: int, length: int, why: str) -> str | bytes:
        length = max(2, min(length, len(body) - j))
        seq = _show(body[j : j + length])
        report.add("syntax.invalid-escape", offset + j, offset + j + length, _msg("invalid-escape", why, shown=seq))
        return b"" if is_bytes else ""

    j, n = 0, len(body)
    while j < n:
        k = body.find("\\", j)
        if k < 0:
            text(body[j:])
            break
        if k > j:
            text(body[j:k])
        j = k
        e = body[j + 1 : j + 2]
        if e and e in _SIMPLE_ESCAPES:
            text(_SIMPLE_ESCAPES[e])
            j += 2
        elif e in ("x", "X"):
            digits = body[j + 2 : j + 4]
            if len(digits) < 2 or not set(digits) <= _HEX:
                return bad(j, 4, "escape-hex2")
            code_unit(int(digits, 16))
            j += 4
        elif e in ("u", "U"):
            width = 4 if e == "u" else 8
            digits = body[j + 2 : j + 2 + width]
            if is_bytes:
                return bad(j, 2 + width, "escape-bytes-unicode")
            if len(digits) < width or not set(digits) <= _HEX:
                return bad(j, 2 + width, "escape-hex4" if e == "u" else "escape-hex8")
            code, length = int(digits, 16), 2 + width
            low = body[j + 8 : j + 12]
            if (  # a surrogate pair
                e == "u"
                and 0xD800 <= code <= 0xDBFF
                and body[j + 6 : j + 8] == "\\u"
                and len(low) == 4
                and set(low) <= _HEX
                and 0xDC00 <= int(low, 16) <= 0xDFFF
            ):
                code, length = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00), 12
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                return bad(j, length, "escape-codepoint")
            parts.append(chr(code))
            j += length
        elif e and e in _OCT:
            digits = body[j + 1 : j + 4]
            if len(digits) < 3 or not set(digits) <= _OCT or e > "3":
                return bad(j, 4, "escape-octal")
            code_unit(int(digits, 8))
            j += 4
        else:
            return bad(j, 2, "escape-unknown")
    return bytes(out) if is_bytes else "".join(parts)


def _check_tree(root: A.Node, text: str, report: _Report) -> None:
    """Depth limit and int range on the finished tree, without recursion."""
    stack: list[tuple[A.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            report.items.clear()
            report.fail("syntax.too-deep", node.span.start, node.span.end, _msg("too-deep", limit=MAX_DEPTH))
        if isinstance(node, A.Literal):
            if node.kind == "int" and node.value > INT_MAX:  # type: ignore[operator]  # an int literal's value is an int
                shown = _show(text[node.span.start : node.span.end])
                report.add("syntax.int-range", node.span.start, node.span.end, _msg("int-range", shown=shown))
            continue
        stack.extend((child, depth + 1) for child in A.children(node))


# ---- messages (English and Chinese) ---------------------------------------------
# Lowercase start, no final period, user text in backticks.  ``_MESSAGES`` and
# ``_HELPS`` map a key to (English, Chinese) templates for ``str.format``.


class _Message(NamedTuple):
    en: str
    zh: str
    help_en: str
    help_zh: str


# fmt: off
_MESSAGES: dict[str, tuple[str, str]] = {
    "empty": ("expression is empty", "表达式是空的"),
    "too-long": ("expression is too long ({length} characters; the limit is {limit})",
                 "表达式太长（{length} 个字符，上限是 {limit}）"),
    "too-deep": ("expression is nested too deeply (more than {limit} levels)", "表达式嵌套太深（超过 {limit} 层）"),
    "unterminated": ("unterminated string: the closing `{close}` is missing", "字符串没有结束：缺少结尾的 `{close}`"),
    "full-width": ("full-width character `{char}` cannot be used here", "此处不能使用全角字符 `{char}`"),
    "full-width-space": ("full-width space cannot be used here", "此处不能使用全角空格"),
    "curly-quote": ("curly quote `{char}` cannot be used here", "此处不能使用中文引号 `{char}`"),
    "not-operator": ("`{word}` is not an operator", "`{word}` 不是运算符"),
    "assignment": ("`=` cannot be used to compare values", "`=` 不能用来比较"),
    "unexpected-character": ("unexpected character {shown}", "此处不应出现字符 {shown}"),
    "reserved-word": ("`{word}` is a reserved word and cannot be used as a name", "`{word}` 是保留字，不能用作名称"),
    "unclosed": ("`{bracket}` is never closed", "`{bracket}` 没有闭合"),
    "unmatched": ("`{closer}` has no matching `{opener}`", "`{closer}` 没有对应的 `{opener}`"),
    "mismatched": ("`{closer}` does not match the `{opener}` at column {col}",
                   "`{closer}` 与第 {col} 列的 `{opener}` 不配对"),
    "mismatched-line": ("`{closer}` does not match the `{opener}` at line {line}, column {col}",
                        "`{closer}` 与第 {line} 行第 {col} 列的 `{opener}` 不配对"),
    "unexpected-token": ("unexpected `{shown}`", "此处不应出现 `{shown}`"),
    "unexpected-end": ("expected {expected}; got end of expression", "应为{expected_zh}，但表达式已经结束"),
    "bad-has": ("has() needs a field selection such as `has(record.awards)`",
                "has() 需要一个字段选择，例如 `has(record.awards)`"),
    "macro-arity": ("`{name}()` takes {need} arguments, not {got}",
                    "`{name}()` 需要 {need_zh} 个参数，这里有 {got} 个"),
    "macro-variable": ("the first argument of `{name}()` must be a variable name",
                       "`{name}()` 的第一个参数必须是变量名"),
    "macro-same-variables": ("the two variables of `{name}()` are both named `{var}`",
                             "`{name}()` 的两个变量都叫 `{var}`"),
    "bind-arity": ("`cel.bind()` takes 3 arguments, not {got}", "`cel.bind()` 需要 3 个参数，这里有 {got} 个"),
    "bind-variable": ("the first argument of `cel.bind()` must be a variable name",
                      "`cel.bind()` 的第一个参数必须是变量名"),
    "invalid-escape": ("invalid escape `{shown}`", "无效的转义 `{shown}`"),
    "int-range": ("integer `{shown}` is out of range", "整数 `{shown}` 超出范围"),
    "uint-range": ("unsigned integer `{shown}` is out of range", "无符号整数 `{shown}` 超出范围"),
    "double-range": ("number `{shown}` is too large", "数字 `{shown}` 太大"),
    "internal": ("the expression could not be read ({kind})", "无法读取表达式（{kind}）"),
}

_HELPS: dict[str, tuple[str, str]] = {
    "empty": ("write a condition, e.g. `record.age >= 18`", "请写一个条件，例如 `record.age >= 18`"),
    "too-long": ("split the condition into several smaller rules", "请把条件拆成几条较小的规则"),
    "too-deep": ("simplify the expression or split it into several conditions", "请简化表达式，或拆成几个条件"),
    "unterminated": (("add `{close}` where the text ends; a quoted string must end on the same line (use `{triple}` "
                      "for text over several lines)"),
                     "请在文字结束处补上 `{close}`；字符串必须在同一行内结束（多行文字请用 `{triple}`）"),
    "unterminated-triple": ("add `{close}` where the text ends", "请在文字结束处补上 `{close}`"),
    "unterminated-curly": ("the text seems to end with a curly quote; type the straight quote `{close}` instead",
                           "文字结尾似乎用了中文引号，请改用英文引号 `{close}`"),
    "full-width": ("type the half-width `{ascii}` instead (switch the input method to English punctuation)",
                   "请改用半角字符 `{ascii}`（把输入法切换到英文标点）"),
    "full-width-space": ("type an ordinary space instead", "请改用普通（半角）空格"),
    "curly-quote": ("type the straight quote `{ascii}` instead (switch the input method to English)",
                    "请改用英文引号 `{ascii}`（把输入法切换到英文状态）"),
    "&&": ("write `&&` (or `and`) to require both conditions", "请写 `&&`（或 `and`）表示两个条件都要满足"),
    "||": ("write `||` (or `or`) to accept either condition", "请写 `||`（或 `or`）表示满足任一条件即可"),
    "!": ("write `!` (or `not`) to negate a condition", "请写 `!`（或 `not`）表示否定一个条件"),
    "math-sign": ("write `{op}` instead (operators are typed with plain ASCII characters)",
                  "请改写为 `{op}`（运算符请用英文半角字符输入）"),
    "assignment": ('use `==` to test whether two values are equal, e.g. `record.citizenship == "CN"`',
                   '判断两个值是否相等请用 `==`，例如 `record.citizenship == "CN"`'),
    "invisible": ("delete this invisible character (it is often pasted in by accident)",
                  "请删除这个看不见的字符（它通常是复制粘贴时带进来的）"),
    "hash": ("to add a note, start it with `//`", "如需写注释，请用 `//` 开头"),
    "letter": ('names use English letters, digits and `_`; put text in quotes to make a string, e.g. `"中国"`',
               '名称只能由英文字母、数字和 `_` 组成；文字请放在引号里，例如 `"中国"`'),
    "unexpected-character": ("remove it; outside quotes only names, numbers and operators can be written",
                             "请删除它；引号外只能写名称、数字和运算符"),
    "if-function": ("there is no `if()` function; write `condition ? value_if_true : value_if_false`",
                    "没有 `if()` 函数；请写 `条件 ? 成立时的值 : 不成立时的值`"),
    "reserved-field": (('to read a field named `{word}`, write `["{word}"]` instead of `.{word}`, e.g. '
                        '`record["{word}"]`'),
                       '要读取名为 `{word}` 的字段，请把 `.{word}` 写成 `["{word}"]`，例如 `record["{word}"]`'),
    "reserved-word": ("choose a different name", "请换一个名称"),
    "unclosed": ("add the matching `{closer}`", "请补上对应的 `{closer}`"),
    "unmatched": ("remove it, or add the missing `{opener}` before it", "请删除它，或在前面补上缺少的 `{opener}`"),
    "mismatched": ("close `{opener}` with `{right}`", "`{opener}` 应该用 `{right}` 闭合"),
    "unexpected-token": ("expected {expected} here", "这里应为{expected_zh}"),
    "unexpected-end": ("the expression stops before it is complete", "表达式还没有写完"),
    "one-dot": ("a number needs a digit after the point: write `1.0`, not `1.`",
                "小数点后要有数字：请写 `1.0`，不要写 `1.`"),
    "bad-has": ("inside the parentheses, write a record and a field name joined by `.`",
                "括号里请写记录和字段名，中间用 `.` 连接"),
    "macro-args": ("write a variable name and a condition, e.g. {example}", "请写一个变量名和一个条件，例如 {example}"),
    "map-args": ("write a variable name, an optional condition and a value, e.g. {example}",
                 "请写一个变量名、一个可选的条件和一个值，例如 {example}"),
    "macro-variable": ("name each element with a new variable, e.g. {example}",
                       "请用一个新的变量名代表每个元素，例如 {example}"),
    "macro2-args": (("write a variable name and a condition, or an index (key) name, an element (value) name "
                     "and a condition, e.g. {example}"),
                    ("请写一个变量名和一个条件，或者一个下标（键）变量名、一个元素（值）变量名和一个条件，"
                     "例如 {example}")),
    "transform-args": (("write an index (key) name, an element (value) name, an optional condition and a value, "
                        "e.g. {example}"),
                       "请写一个下标（键）变量名、一个元素（值）变量名、一个可选的条件和一个值，例如 {example}"),
    "macro-same-variables": ("give the index (key) and the element (value) different names",
                             "请给下标（键）和元素（值）起不同的名字"),
    "bind-arity": (("write a variable name, its value and the expression that uses it, e.g. "
                    "`cel.bind(age, full_years(record.birth_date, as_of), age >= 18 && age < 65)`"),
                   ("请写一个变量名、它的值和使用它的表达式，例如 "
                    "`cel.bind(age, full_years(record.birth_date, as_of), age >= 18 && age < 65)`")),
    "bind-variable": ("name the value with a new variable, e.g. `cel.bind(n, size(record.awards), n > 0 && n < 5)`",
                      "请用一个新的变量名代表这个值，例如 `cel.bind(n, size(record.awards), n > 0 && n < 5)`"),
    "escape-unknown": (('`\\` starts an escape such as `\\n`, `\\t`, `\\"` or `\\\\`; write `\\\\` for a backslash, '
                        'or use a raw string such as `r"C:\\path"`'),
                       ('`\\` 用于转义，例如 `\\n`、`\\t`、`\\"`、`\\\\`；反斜杠本身请写成 `\\\\`，或使用原始字符串，'
                        '例如 `r"C:\\path"`')),
    "escape-hex2": ("`\\x` must be followed by two hex digits, e.g. `\\x41`",
                    "`\\x` 后面必须是两位十六进制数字，例如 `\\x41`"),
    "escape-hex4": ("`\\u` must be followed by four hex digits, e.g. `\\u4e2d`",
                    "`\\u` 后面必须是四位十六进制数字，例如 `\\u4e2d`"),
    "escape-hex8": ("`\\U` must be followed by eight hex digits, e.g. `\\U0001F600`",
                    "`\\U` 后面必须是八位十六进制数字，例如 `\\U0001F600`"),
    "escape-octal": ("an octal escape is three digits from `\\000` to `\\377`",
                     "八进制转义必须是 `\\000` 到 `\\377` 之间的三位数字"),
    "escape-codepoint": ("this is not a valid Unicode character", "这不是有效的 Unicode 字符"),
    "escape-bytes-unicode": ("`\\u` and `\\U` cannot be used in bytes; use `\\xHH` or octal escapes",
                             "字节串中不能使用 `\\u` 和 `\\U`；请使用 `\\xHH` 或八进制转义"),
    "int-range": ("an int must be between -9223372036854775808 and 9223372036854775807",
                  "int 的范围是 -9223372036854775808 到 9223372036854775807"),
    "uint-range": ("a uint must be between 0 and 18446744073709551615", "uint 的范围是 0 到 18446744073709551615"),
    "double-range": ("a double must be smaller than about 1.8e308", "double 的绝对值必须小于约 1.8e308"),
    "internal": ("this is a bug in the engine; please report it together with the expression",
                 "这是引擎的缺陷，请连同表达式一起报告"),
}
# fmt: on


def _msg(key: str, help_key: str | None = None, **values: object) -> _Message:
    """The message ``key`` with the help ``help_key`` (default: the same key)."""
    en, zh = _MESSAGES[key]
    help_en, help_zh = _HELPS[help_key or key]
    return _Message(en.format(**values), zh.format(**values), help_en.format(**values), help_zh.format(**values))


def _show(text: str) -> str:
    """User text for a message: one line, at most 30 characters."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= 30 else text[:29] + "…"


def _full_width(char: str) -> _Message:
    key = "full-width-space" if char == "\u3000" else "curly-quote" if char in "“”‘’" else "full-width"
    return _msg(key, char=char, ascii=_FULL_WIDTH[char])


def _unexpected_character(char: str) -> _Message:
    visible = char.isprintable() and not char.isspace()
    shown = f"`{char}`" if visible else f"U+{ord(char):04X}"
    if not visible:
        help_key = "invisible"
    elif char == "#":
        help_key = "hash"
    elif not char.isascii() and char.isalpha():
        help_key = "letter"
    else:
        help_key = "unexpected-character"
    return _msg("unexpected-character", help_key, shown=shown)
