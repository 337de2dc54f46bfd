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
    member    = member "." NAME ["(" args ")"] | member "[" expr "]" | primary
    primary   = ["."] NAME ["(" args ")"] | "(" expr ")"
              | "[" args "]" | "{" key ":" value, ... "}" | literal
    literal   = 42  0x2A  42u  1.5  .5  1e3  "s"  's'  '''s'''  r"s"  b"s"
              | true  false  null

Lists, maps and argument lists accept a trailing comma; ``//`` starts a
comment; newlines are whitespace.  Receiver calls named ``all``, ``exists``,
``exists_one``, ``filter`` and ``map`` whose first argument is a plain name
become :class:`~engine.lang.ast.Comprehension`; ``has(x.f)`` becomes
:class:`~engine.lang.ast.Has`.

Negative numbers are ``Unary("-", Literal(n))``, except one case: a minus
written directly before the literal ``9223372036854775808`` (2**63, also in
hex) is folded into ``Literal(-9223372036854775808, "int")``, so that the
smallest int can be written although 2**63 alone is out of range.

:func:`parse_condition` raises only :class:`~engine.errors.ConditionSyntaxError`,
whose diagnostics (English and Chinese) explain the mistakes policy editors
make: ``=`` for ``==``, full-width punctuation, ``且``/``或``/``非`` as
operators, unclosed strings and brackets, reserved words, and so on.  The
tree is turned into nodes without recursion, and expressions longer than
``MAX_LENGTH`` characters or nested deeper than ``MAX_DEPTH`` are refused.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, NoReturn

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_analysis import Shift

from engine.errors import ConditionSyntaxError, Diagnostic
from engine.lang import ast as A
from engine.source import Source, Span

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "RESERVED_WORDS", "parse_condition"]

MAX_LENGTH = 20_000
MAX_DEPTH = 100

INT_MAX = 2**63 - 1
UINT_MAX = 2**64 - 1

# CEL's reserved words that are not otherwise part of the syntax.
RESERVED_WORDS = frozenset(
    "as break const continue else for function if import let loop package namespace return var void while".split()
)
# Words that are part of the syntax; as names they are errors too.
_KEYWORD_TYPES = {
    "in": "_IN",
    "and": "_AND",
    "or": "_OR",
    "not": "_NOT",
    "true": "_TRUE",
    "false": "_FALSE",
    "null": "_NULL",
}

_MACRO_ARITY = {"all": (2,), "exists": (2,), "exists_one": (2,), "filter": (2,), "map": (2, 3)}

_BINARY_RULES = {
    "logical_or": "||",
    "logical_and": "&&",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in_": "in",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "mod": "%",
}

_SIMPLE_ESCAPES = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "`": "`",
    "?": "?",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_HEX = frozenset("0123456789abcdefABCDEF")
_OCT = frozenset("01234567")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


# ---- the Lark parser (lazy singleton) ---------------------------------------

_LARK: Lark | None = None
_LARK_LOCK = threading.Lock()


def _classify_ident(token: Token) -> Token:
    """Lexer callback: a keyword or reserved word lexed as a name is not a name."""
    kind = _KEYWORD_TYPES.get(token.value)
    if kind is None and token.value in RESERVED_WORDS:
        kind = "RESERVED"
    return token if kind is None else Token.new_borrow_pos(kind, token.value, token)


def grammar_path() -> Path:
    """Where ``grammar.lark`` is (for tools such as test generators)."""
    return Path(__file__).with_name("grammar.lark")


def _lark() -> Lark:
    global _LARK
    if _LARK is None:
        with _LARK_LOCK:
            if _LARK is None:
                _LARK = Lark(
                    grammar_path().read_text(encoding="utf-8"),
                    parser="lalr",
                    lexer="contextual",
                    propagate_positions=True,
                    maybe_placeholders=False,
                    lexer_callbacks={"IDENT": _classify_ident},
                )
    return _LARK


# ---- entry point -------------------------------------------------------------


class _Report:
    """Collects diagnostics for one expression text."""

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

    def add(self, code: str, start: int, end: int, msg: _M.Message) -> None:
        self.items.append(
            Diagnostic(
                code,
                msg.en,
                source=self.source,
                span=Span(start, end),
                help=msg.help_en,
                message_zh=msg.zh,
                help_zh=msg.help_zh,
            )
        )

    def fail(self, code: str | None = None, start: int = 0, end: int = 0, msg: _M.Message | None = None) -> NoReturn:
        if code is not None and msg is not None:
            self.add(code, start, end, msg)
        raise ConditionSyntaxError(self.items)

    def position(self, offset: int) -> tuple[str, str]:
        """Where ``offset`` is, in words (English, Chinese)."""
        line, col = self.source.line_col(offset)
        if self.source.line_count == 1:
            return f"column {col}", f"第 {col} 列"
        return f"line {line}, column {col}", f"第 {line} 行第 {col} 列"


def parse_condition(text: str, name: str = "<expression>") -> A.Node:
    """Parse one condition expression.

    Args:
        text: the expression as written.
        name: what to call the text in diagnostics (a file name, a rule id).

    Returns:
        The root node; every node's ``span`` holds character offsets into ``text``.

    Raises:
        ConditionSyntaxError: the text is not a valid expression; the only
            exception this function raises.
    """
    report = _Report(name, text)
    try:
        return _parse(text, report)
    except ConditionSyntaxError:
        raise
    except Exception as exc:  # noqa: BLE001 - the promise is: only ConditionSyntaxError
        report.fail("syntax.internal-error", 0, len(text), _M.internal_error(type(exc).__name__))


def _parse(text: str, report: _Report) -> A.Node:
    if not isinstance(text, str):
        report.fail("syntax.empty", 0, 0, _M.empty())
    if len(text) > MAX_LENGTH:
        report.fail("syntax.too-long", MAX_LENGTH, len(text), _M.too_long(len(text), MAX_LENGTH))
    scan = _prescan(text, report)
    if report.items:
        report.fail()
    if not scan.significant:
        report.fail("syntax.empty", 0, len(text), _M.empty())
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        _explain_lark_error(exc, text, scan, report)
    except LarkError as exc:
        report.fail("syntax.unexpected-token", 0, len(text), _M.internal_error(type(exc).__name__))
    node = _Builder(text, report).build(tree)
    _check_tree(node, text, report)
    if report.items:
        report.fail()
    return node


# ---- pre-scan: characters that never belong outside strings, brackets ------


class _Scan:
    def __init__(self) -> None:
        self.significant = False
        self.open: list[tuple[str, int]] = []  # unclosed brackets at the end
        self.bad_closers: dict[int, tuple[str, int] | None] = {}  # pos -> mismatched opener


def _string_end(text: str, i: int, raw: bool) -> int | None:
    """End offset of the string literal whose opening quote is at ``i``, or None."""
    q = text[i]
    n = len(text)
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
        if ch in "\r\n":
            return None
        if ch == "\\" and not raw:
            if j + 1 >= n or text[j + 1] in "\r\n":
                return None
            j += 2
        else:
            j += 1
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
        if c == '"' or c == "'":
            k = i
            while k > 0 and text[k - 1] in _IDENT_CHARS:
                k -= 1
            prefix = text[k:i].lower()
            raw = prefix in ("r", "rb", "br")
            end = _string_end(text, i, raw)
            if end is None:
                triple = text.startswith(c * 3, i)
                line_end = text.find("\n", i)
                rest = text[i + 1 : n if line_end < 0 else line_end]
                report.add(
                    "syntax.unterminated-string",
                    i,
                    i + (3 if triple else 1),
                    _M.unterminated_string(c, triple, any(ch in rest for ch in "“”‘’")),
                )
                return scan
            i = end
            continue
        if c in _OPENERS:
            stack.append((c, i))
            if len(stack) > MAX_DEPTH:
                report.add("syntax.too-deep", i, i + 1, _M.too_deep(MAX_DEPTH))
                return scan
        elif c in _CLOSERS:
            if not stack:
                scan.bad_closers[i] = None
            else:
                opener = stack.pop()
                if _OPENERS[opener[0]] != c:
                    scan.bad_closers[i] = opener
        elif c in _M.FULL_WIDTH:
            report.add("syntax.full-width", i, i + 1, _M.full_width(c))
        elif not c.isascii() and c.isalpha():
            j = i
            while j < n and not text[j].isascii() and text[j].isalpha():
                j += 1
            word = text[i:j]
            if word in _M.CHINESE_OPERATORS:
                report.add("syntax.chinese-operator", i, j, _M.chinese_operator(word))
            i = j
            continue
        i += 1
    return scan


# ---- Lark errors -> diagnostics ---------------------------------------------


def _explain_lark_error(exc: UnexpectedInput, text: str, scan: _Scan, report: _Report) -> NoReturn:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        c = text[pos] if pos < len(text) else ""
        if c == "=":
            report.fail("syntax.assignment", pos, pos + 1, _M.assignment())
        if c in ("&", "|"):
            report.fail("syntax.single-and-or", pos, pos + 1, _M.single_and_or(c))
        if c in ('"', "'"):
            report.fail("syntax.unterminated-string", pos, pos + 1, _M.unterminated_string(c, False, False))
        if c in _M.FULL_WIDTH:
            report.fail("syntax.full-width", pos, pos + 1, _M.full_width(c))
        report.fail("syntax.unexpected-character", pos, pos + 1, _M.unexpected_character(c))
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = _acceptable(exc.state, set(exc.expected))
        if tok.type == "$END":
            _explain_end(text, tok, expected, scan, report)
        start = tok.start_pos if tok.start_pos is not None else 0
        end = tok.end_pos if tok.end_pos is not None else start + len(tok.value)
        after_dot = text[:start].rstrip().endswith(".")
        if tok.type == "RESERVED":
            calls = text[end:].lstrip().startswith("(")
            report.fail("syntax.reserved-word", start, end, _M.reserved_word(tok.value, after_dot, calls))
        if tok.type in _KEYWORD_TYPES.values() and expected == {"IDENT"}:
            report.fail("syntax.reserved-word", start, end, _M.reserved_word(tok.value, True, False))
        if start in scan.bad_closers:
            opener = scan.bad_closers[start]
            if opener is None:
                report.fail("syntax.unmatched-bracket", start, end, _M.unmatched_closer(tok.value))
            report.fail(
                "syntax.unmatched-bracket",
                start,
                end,
                _M.mismatched_closer(tok.value, opener[0], report.position(opener[1])),
            )
        report.fail("syntax.unexpected-token", start, end, _M.unexpected_token(tok.value, _expected_words(expected)))
    if isinstance(exc, UnexpectedEOF):  # not raised by LALR; kept for safety
        _explain_end(text, None, set(exc.expected), scan, report)
    report.fail("syntax.unexpected-token", 0, len(text), _M.internal_error(type(exc).__name__))


def _acceptable(state: Any, expected: set[str]) -> set[str]:
    """The terminals that really can come next.

    LALR merges look-ahead sets, so Lark's ``expected`` lists tokens that a
    later reduction would reject.  Replay each candidate on a copy of the
    parser's state stack (no values, so this is cheap) and keep those shifted.
    """
    try:
        conf = state.parse_conf
        start_stack = list(state.state_stack)
    except AttributeError:
        return expected
    table, end_state = conf.states, conf.end_state
    candidates = set(expected) | {"$END"}
    result = set()
    for terminal in candidates:
        stack = list(start_stack)
        while True:
            row = table[stack[-1]]
            if terminal not in row:
                break
            action, arg = row[terminal]
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


def _explain_end(text: str, tok: Token | None, expected: set[str], scan: _Scan, report: _Report) -> NoReturn:
    if scan.open:
        bracket, pos = scan.open[-1]
        report.fail("syntax.unclosed-bracket", pos, pos + 1, _M.unclosed_bracket(bracket, _OPENERS[bracket]))
    stripped = text.rstrip()
    while True:  # step back over trailing comments
        line_start = stripped.rfind("\n") + 1
        line = stripped[line_start:]
        cut = _comment_start(line)
        if cut is None:
            break
        stripped = stripped[: line_start + cut].rstrip()
    pos = len(stripped)
    one_dot = expected == {"IDENT"} and stripped.endswith(".") and stripped[:-1][-1:].isdigit()
    report.fail("syntax.unexpected-end", pos, pos, _M.unexpected_end(_expected_words(expected), one_dot))


def _comment_start(line: str) -> int | None:
    """Offset of a ``//`` comment in one line, skipping strings, or None."""
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            end = _string_end(line, i, False)
            if end is None:
                return None
            i = end
        elif line.startswith("//", i):
            return i
        else:
            i += 1
    return None


_CLOSER_TOKENS = [("_RPAR", ")"), ("_RSQB", "]"), ("_RBRACE", "}"), ("_COMMA", ","), ("_COLON", ":")]
_OPERATOR_TOKENS = frozenset(
    "_OROR _OR _ANDAND _AND _EQ _NE _LT _LE _GT _GE _IN _PLUS _STAR _SLASH _PERCENT _QUESTION".split()
)


def _expected_words(expected: set[str]) -> list[_M.Word]:
    """Terminal names -> a short list of things a user can recognise."""
    words: list[_M.Word] = [_M.Word(f"`{ch}`", f"`{ch}`") for name, ch in _CLOSER_TOKENS if name in expected]
    if "IDENT" in expected:
        words.append(_M.A_NAME if expected <= {"IDENT", "_LPAR"} else _M.A_VALUE)
    if expected & _OPERATOR_TOKENS:
        words.append(_M.AN_OPERATOR)
    if not words:
        words.append(_M.END if "$END" in expected else _M.SOMETHING_ELSE)
    return words


# ---- tree -> AST ---------------------------------------------------------------


def _span(meta: Any) -> Span:
    return Span(meta.start_pos, meta.end_pos)


def _tok_span(tok: Token) -> Span:
    return Span(tok.start_pos, tok.end_pos)


class _Builder:
    """Transformer from the Lark tree to AST nodes, one method per rule.

    Unlike ``lark.Transformer`` it walks the tree with an explicit stack, so a
    deeply nested expression cannot exhaust Python's recursion limit.
    Problems (bad escapes, bad macros, numbers out of range) are collected in
    the report and a stand-in node is returned, so several can be reported.
    """

    def __init__(self, text: str, report: _Report) -> None:
        self.text = text
        self.report = report

    def build(self, tree: Tree) -> A.Node:
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
                values.append(self._dispatch(item.data, item.meta, children))
        result = values[0]
        assert not isinstance(result, (tuple, Token))
        return result  # type: ignore[no-any-return]

    def _dispatch(self, rule: str, meta: Any, children: list[Any]) -> Any:
        op = _BINARY_RULES.get(rule)
        if op is not None:
            return A.Binary(op, children[0], children[1], span=_span(meta))
        method: Callable[[Any, list[Any]], Any] = getattr(self, "r_" + rule)
        return method(meta, children)

    # -- operators

    def r_conditional(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Conditional(c[0], c[1], c[2], span=_span(meta))

    def r_not_(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Unary("!", c[0], span=_span(meta))

    def r_neg(self, meta: Any, c: list[Any]) -> A.Node:
        operand = c[0]
        if isinstance(operand, A.Literal) and operand.kind == "int" and operand.value == INT_MAX + 1:
            return A.Literal(-(INT_MAX + 1), "int", span=_span(meta))
        return A.Unary("-", operand, span=_span(meta))

    # -- members and names

    def r_select(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Select(c[0], str(c[1]), span=_span(meta), field_span=_tok_span(c[1]))

    def r_index(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Index(c[0], c[1], span=_span(meta))

    def r_ident(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Ident(str(c[0]), span=_span(meta))

    def r_root_ident(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Ident("." + str(c[0]), span=_span(meta))

    def r_method_call(self, meta: Any, c: list[Any]) -> A.Node:
        target, name, args = c[0], str(c[1]), c[2]
        span, name_span = _span(meta), _tok_span(c[1])
        arity = _MACRO_ARITY.get(name)
        if arity is None:
            return A.Call(name, args, target, span=span, name_span=name_span)
        if len(args) not in arity:
            self.report.add("syntax.bad-macro", span.start, span.end, _M.macro_arity(name, len(args)))
        elif not isinstance(args[0], A.Ident) or args[0].name.startswith("."):
            first = args[0].span
            self.report.add("syntax.bad-macro", first.start, first.end, _M.macro_variable(name))
        else:
            var = args[0]
            return A.Comprehension(
                name,
                target,
                var.name,
                args[-1],
                args[1] if len(args) == 3 else None,
                span=span,
                var_span=var.span,
            )
        return A.Call(name, args, target, span=span, name_span=name_span)

    def r_global_call(self, meta: Any, c: list[Any]) -> A.Node:
        name, args = str(c[0]), c[1]
        span = _span(meta)
        if name == "has":
            if len(args) == 1 and isinstance(args[0], A.Select):
                sel = args[0]
                return A.Has(sel.operand, sel.field, span=span, field_span=sel.field_span)
            self.report.add("syntax.bad-macro", span.start, span.end, _M.bad_has())
        return A.Call(name, args, None, span=span, name_span=_tok_span(c[0]))

    def r_root_call(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Call("." + str(c[0]), c[1], None, span=_span(meta), name_span=_tok_span(c[0]))

    # -- aggregates

    def r_args(self, meta: Any, c: list[Any]) -> tuple[A.Node, ...]:
        return tuple(c)

    def r_entries(self, meta: Any, c: list[Any]) -> tuple[tuple[A.Node, A.Node], ...]:
        return tuple(c)

    def r_entry(self, meta: Any, c: list[Any]) -> tuple[A.Node, A.Node]:
        return (c[0], c[1])

    def r_list_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.ListLit(c[0], span=_span(meta))

    def r_map_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.MapLit(c[0], span=_span(meta))

    # -- literals

    def r_true_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Literal(True, "bool", span=_span(meta))

    def r_false_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Literal(False, "bool", span=_span(meta))

    def r_null_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Literal(None, "null", span=_span(meta))

    def r_int_lit(self, meta: Any, c: list[Any]) -> A.Node:
        # Range is checked after the tree is built (see _check_tree), because
        # 2**63 is fine right after a minus sign.
        return A.Literal(_int_value(str(c[0])), "int", span=_span(meta))

    def r_uint_lit(self, meta: Any, c: list[Any]) -> A.Node:
        value = _int_value(str(c[0])[:-1])
        span = _span(meta)
        if value > UINT_MAX:
            self.report.add("syntax.int-range", span.start, span.end, _M.int_range(str(c[0]), True))
            value = 0
        return A.Literal(value, "uint", span=span)

    def r_double_lit(self, meta: Any, c: list[Any]) -> A.Node:
        value = float(str(c[0]))
        span = _span(meta)
        if value == float("inf"):
            self.report.add("syntax.double-range", span.start, span.end, _M.double_range(str(c[0])))
            value = 0.0
        return A.Literal(value, "double", span=span)

    def r_string_lit(self, meta: Any, c: list[Any]) -> A.Node:
        tok: Token = c[0]
        value, kind = _decode_string(str(tok), tok.start_pos, self.report)
        return A.Literal(value, kind, span=_span(meta))


def _int_value(digits: str) -> int:
    """The value of an int literal's digits; absurdly long ones count as 2**80
    (out of range either way, and Python limits int() on long digit strings)."""
    if len(digits) > 40:
        return 2**80
    if digits.startswith("0x"):
        return int(digits[2:], 16)
    return int(digits, 10)


def _decode_string(token: str, offset: int, report: _Report) -> tuple[str | bytes, str]:
    """Value and kind of a string or bytes literal token starting at ``offset``."""
    q = 0
    while token[q] not in "\"'":
        q += 1
    prefix = token[:q].lower()
    is_bytes = "b" in prefix
    quote_len = 3 if token.startswith(token[q] * 3, q) and len(token) - q >= 6 else 1
    body = token[q + quote_len : len(token) - quote_len]
    kind = "bytes" if is_bytes else "string"
    if "r" in prefix:
        return (body.encode("utf-8", "surrogatepass") if is_bytes else body), kind
    return _unescape(body, is_bytes, offset + q + quote_len, report), kind


def _unescape(body: str, is_bytes: bool, offset: int, report: _Report) -> str | bytes:
    """Process the escapes of a non-raw literal body; ``offset`` is where it starts."""
    parts: list[str] = []
    out = bytearray()

    def put_text(s: str) -> None:
        if is_bytes:
            out.extend(s.encode("utf-8", "surrogatepass"))
        else:
            parts.append(s)

    def put_code(code: int) -> None:  # \x and octal: a byte in bytes, a code point in strings
        if is_bytes:
            out.append(code)
        else:
            parts.append(chr(code))

    def bad(j: int, length: int, why: str) -> str | bytes:
        length = max(2, min(length, len(body) - j))
        report.add("syntax.invalid-escape", offset + j, offset + j + length, _M.invalid_escape(body[j : j + length], why))
        return b"" if is_bytes else ""

    j, n = 0, len(body)
    while j < n:
        k = body.find("\\", j)
        if k < 0:
            put_text(body[j:])
            break
        if k > j:
            put_text(body[j:k])
        j = k
        e = body[j + 1] if j + 1 < n else ""
        if e in _SIMPLE_ESCAPES and e:
            put_text(_SIMPLE_ESCAPES[e])
            j += 2
        elif e in ("x", "X"):
            digits = body[j + 2 : j + 4]
            if len(digits) < 2 or not set(digits) <= _HEX:
                return bad(j, 4, "hex2")
            put_code(int(digits, 16))
            j += 4
        elif e in ("u", "U"):
            width = 4 if e == "u" else 8
            digits = body[j + 2 : j + 2 + width]
            if is_bytes:
                return bad(j, 2 + width, "bytes-unicode")
            if len(digits) < width or not set(digits) <= _HEX:
                return bad(j, 2 + width, "hex4" if e == "u" else "hex8")
            code = int(digits, 16)
            length = 2 + width
            if 0xD800 <= code <= 0xDBFF and e == "u" and body[j + 6 : j + 8] == "\\u":
                low_digits = body[j + 8 : j + 12]
                if len(low_digits) == 4 and set(low_digits) <= _HEX and 0xDC00 <= int(low_digits, 16) <= 0xDFFF:
                    code = 0x10000 + ((code - 0xD800) << 10) + (int(low_digits, 16) - 0xDC00)
                    length = 12
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                return bad(j, length, "codepoint")
            parts.append(chr(code))
            j += length
        elif e in "01234567" and e:
            digits = body[j + 1 : j + 4]
            if len(digits) < 3 or not set(digits) <= _OCT or e > "3":
                return bad(j, 4, "octal")
            put_code(int(digits, 8))
            j += 4
        else:
            return bad(j, 2, "unknown")
    return bytes(out) if is_bytes else "".join(parts)


# ---- checks on the finished tree ------------------------------------------------


def _check_tree(root: A.Node, text: str, report: _Report) -> None:
    """Depth limit and int range, without recursion."""
    stack: list[tuple[A.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            report.items.clear()
            report.fail("syntax.too-deep", node.span.start, node.span.end, _M.too_deep(MAX_DEPTH))
        if isinstance(node, A.Literal):
            if node.kind == "int" and node.value > INT_MAX:  # type: ignore[operator]
                span = node.span
                report.add("syntax.int-range", span.start, span.end, _M.int_range(text[span.start : span.end], False))
            continue
        stack.extend((child, depth + 1) for child in A.children(node))


# ---- messages (English and Chinese) ---------------------------------------------


class _M:
    """Wording of every diagnostic: lowercase, no final period, user text in backticks."""

    class Message:
        __slots__ = ("en", "zh", "help_en", "help_zh")

        def __init__(self, en: str, zh: str, help_en: str | None = None, help_zh: str | None = None) -> None:
            self.en, self.zh, self.help_en, self.help_zh = en, zh, help_en, help_zh

    class Word:
        __slots__ = ("en", "zh")

        def __init__(self, en: str, zh: str) -> None:
            self.en, self.zh = en, zh

    A_VALUE = Word("a value", "一个值")
    A_NAME = Word("a name", "一个名称")
    AN_OPERATOR = Word("an operator", "运算符")
    END = Word("end of expression", "表达式结尾")
    SOMETHING_ELSE = Word("something else", "其他内容")

    # Full-width and Chinese punctuation -> the ASCII character meant.
    FULL_WIDTH: dict[str, str] = {
        **{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},
        "\u3000": " ",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "。": ".",
        "、": ",",
        "【": "[",
        "】": "]",
    }
    CURLY_QUOTES = frozenset("“”‘’")
    # Chinese words used as operators -> (symbol, word).
    CHINESE_OPERATORS: dict[str, tuple[str, str]] = {
        "且": ("&&", "and"),
        "并且": ("&&", "and"),
        "而且": ("&&", "and"),
        "与": ("&&", "and"),
        "和": ("&&", "and"),
        "或": ("||", "or"),
        "或者": ("||", "or"),
        "非": ("!", "not"),
    }
    MACRO_EXAMPLES = {
        "all": "`record.introducers.all(i, i.is_member)`",
        "exists": '`record.history.exists(h, h.event == "ban")`',
        "exists_one": '`record.roles.exists_one(r, r == "chair")`',
        "filter": "`record.introducers.filter(i, i.is_member)`",
        "map": "`record.awards.map(a, a.year)`",
    }

    @staticmethod
    def show(text: str) -> str:
        text = text.replace("\r", "\\r").replace("\n", "\\n")
        return text if len(text) <= 30 else text[:29] + "…"

    @staticmethod
    def join(words: list[_M.Word]) -> tuple[str, str]:
        en = [w.en for w in words]
        zh = [w.zh for w in words]
        if len(words) == 1:
            return en[0], zh[0]
        return ", ".join(en[:-1]) + " or " + en[-1], "、".join(zh[:-1]) + " 或 " + zh[-1]

    @staticmethod
    def empty() -> _M.Message:
        return _M.Message(
            "expression is empty",
            "表达式是空的",
            "write a condition, e.g. `record.age >= 18`",
            "请写一个条件，例如 `record.age >= 18`",
        )

    @staticmethod
    def too_long(length: int, limit: int) -> _M.Message:
        return _M.Message(
            f"expression is too long ({length} characters; the limit is {limit})",
            f"表达式太长（{length} 个字符，上限是 {limit}）",
            "split the condition into several smaller rules",
            "请把条件拆成几条较小的规则",
        )

    @staticmethod
    def too_deep(limit: int) -> _M.Message:
        return _M.Message(
            f"expression is nested too deeply (more than {limit} levels)",
            f"表达式嵌套太深（超过 {limit} 层）",
            "simplify the expression or split it into several conditions",
            "请简化表达式，或拆成几个条件",
        )

    @staticmethod
    def unterminated_string(quote: str, triple: bool, curly: bool) -> _M.Message:
        close = quote * 3 if triple else quote
        if curly:
            help_en = f"the text seems to end with a curly quote; type the straight quote `{quote}` instead"
            help_zh = f"文字结尾似乎用了中文引号，请改用英文引号 `{quote}`"
        elif triple:
            help_en = f"add `{close}` where the text ends"
            help_zh = f"请在文字结束处补上 `{close}`"
        else:
            help_en = (
                f"add `{close}` where the text ends; a quoted string must end on the same line "
                f'(use `{quote * 3}` for text over several lines)'
            )
            help_zh = f"请在文字结束处补上 `{close}`；字符串必须在同一行内结束（多行文字请用 `{quote * 3}`）"
        return _M.Message(
            f"unterminated string: the closing `{close}` is missing",
            f"字符串没有结束：缺少结尾的 `{close}`",
            help_en,
            help_zh,
        )

    @staticmethod
    def full_width(char: str) -> _M.Message:
        ascii_char = _M.FULL_WIDTH[char]
        if char == "\u3000":
            return _M.Message(
                "full-width space cannot be used here",
                "此处不能使用全角空格",
                "type an ordinary space instead",
                "请改用普通（半角）空格",
            )
        if char in _M.CURLY_QUOTES:
            return _M.Message(
                f"curly quote `{char}` cannot be used here",
                f"此处不能使用中文引号 `{char}`",
                f"type the straight quote `{ascii_char}` instead (switch the input method to English)",
                f"请改用英文引号 `{ascii_char}`（把输入法切换到英文状态）",
            )
        return _M.Message(
            f"full-width character `{char}` cannot be used here",
            f"此处不能使用全角字符 `{char}`",
            f"type the half-width `{ascii_char}` instead (switch the input method to English punctuation)",
            f"请改用半角字符 `{ascii_char}`（把输入法切换到英文标点）",
        )

    @staticmethod
    def chinese_operator(word: str) -> _M.Message:
        symbol, keyword = _M.CHINESE_OPERATORS[word]
        meaning_en, meaning_zh = {
            "&&": ("to require both conditions", "表示两个条件都要满足"),
            "||": ("to accept either condition", "表示满足任一条件即可"),
            "!": ("to negate a condition", "表示否定一个条件"),
        }[symbol]
        return _M.Message(
            f"`{word}` is not an operator",
            f"`{word}` 不是运算符",
            f"write `{symbol}` (or `{keyword}`) {meaning_en}",
            f"请写 `{symbol}`（或 `{keyword}`）{meaning_zh}",
        )

    @staticmethod
    def assignment() -> _M.Message:
        return _M.Message(
            "`=` cannot be used to compare values",
            "`=` 不能用来比较",
            'use `==` to test whether two values are equal, e.g. `record.citizenship == "CN"`',
            '判断两个值是否相等请用 `==`，例如 `record.citizenship == "CN"`',
        )

    @staticmethod
    def single_and_or(char: str) -> _M.Message:
        double, word = (char * 2, "and" if char == "&" else "or")
        meaning_en, meaning_zh = (
            ("to require both conditions", "表示两个条件都要满足")
            if char == "&"
            else ("to accept either condition", "表示满足任一条件即可")
        )
        return _M.Message(
            f"`{char}` is not an operator",
            f"`{char}` 不是运算符",
            f"write `{double}` (or `{word}`) {meaning_en}",
            f"请写 `{double}`（或 `{word}`）{meaning_zh}",
        )

    @staticmethod
    def unexpected_character(char: str) -> _M.Message:
        visible = char.isprintable() and not char.isspace()
        shown = f"`{char}`" if visible else f"U+{ord(char):04X}"
        if not visible:
            help_en = "delete this invisible character (it is often pasted in by accident)"
            help_zh = "请删除这个看不见的字符（它通常是复制粘贴时带进来的）"
        elif char == "#":
            help_en = "to add a note, start it with `//`"
            help_zh = "如需写注释，请用 `//` 开头"
        elif not char.isascii() and char.isalpha():
            help_en = 'names use English letters, digits and `_`; put text in quotes to make a string, e.g. `"中国"`'
            help_zh = '名称只能由英文字母、数字和 `_` 组成；文字请放在引号里，例如 `"中国"`'
        else:
            help_en = "remove it; outside quotes only names, numbers and operators can be written"
            help_zh = "请删除它；引号外只能写名称、数字和运算符"
        return _M.Message(f"unexpected character {shown}", f"此处不应出现字符 {shown}", help_en, help_zh)

    @staticmethod
    def reserved_word(word: str, after_dot: bool, called: bool) -> _M.Message:
        if word == "if" and called:
            help_en = "there is no `if()` function; write `condition ? value_if_true : value_if_false`"
            help_zh = "没有 `if()` 函数；请写 `条件 ? 成立时的值 : 不成立时的值`"
        elif after_dot:
            help_en = f'to read a field named `{word}`, write `["{word}"]` instead of `.{word}`, e.g. `record["{word}"]`'
            help_zh = f'要读取名为 `{word}` 的字段，请把 `.{word}` 写成 `["{word}"]`，例如 `record["{word}"]`'
        else:
            help_en = "choose a different name"
            help_zh = "请换一个名称"
        return _M.Message(
            f"`{word}` is a reserved word and cannot be used as a name",
            f"`{word}` 是保留字，不能用作名称",
            help_en,
            help_zh,
        )

    @staticmethod
    def unclosed_bracket(bracket: str, closer: str) -> _M.Message:
        return _M.Message(
            f"`{bracket}` is never closed",
            f"`{bracket}` 没有闭合",
            f"add the matching `{closer}`",
            f"请补上对应的 `{closer}`",
        )

    @staticmethod
    def unmatched_closer(closer: str) -> _M.Message:
        opener = _CLOSERS[closer]
        return _M.Message(
            f"`{closer}` has no matching `{opener}`",
            f"`{closer}` 没有对应的 `{opener}`",
            f"remove it, or add the missing `{opener}` before it",
            f"请删除它，或在前面补上缺少的 `{opener}`",
        )

    @staticmethod
    def mismatched_closer(closer: str, opener: str, where: tuple[str, str]) -> _M.Message:
        right = _OPENERS[opener]
        return _M.Message(
            f"`{closer}` does not match the `{opener}` at {where[0]}",
            f"`{closer}` 与{where[1]}的 `{opener}` 不配对",
            f"close `{opener}` with `{right}`",
            f"`{opener}` 应该用 `{right}` 闭合",
        )

    @staticmethod
    def unexpected_token(value: str, expected: list[_M.Word]) -> _M.Message:
        en, zh = _M.join(expected)
        shown = _M.show(value)
        return _M.Message(f"unexpected `{shown}`", f"此处不应出现 `{shown}`", f"expected {en} here", f"这里应为{zh}")

    @staticmethod
    def unexpected_end(expected: list[_M.Word], one_dot: bool) -> _M.Message:
        en, zh = _M.join(expected)
        if one_dot:
            help_en, help_zh = "a number needs a digit after the point: write `1.0`, not `1.`", "小数点后要有数字：请写 `1.0`，不要写 `1.`"
        else:
            help_en, help_zh = "the expression stops before it is complete", "表达式还没有写完"
        return _M.Message(f"expected {en}; got end of expression", f"应为{zh}，但表达式已经结束", help_en, help_zh)

    @staticmethod
    def bad_has() -> _M.Message:
        return _M.Message(
            "has() needs a field selection such as `has(record.awards)`",
            "has() 需要一个字段选择，例如 `has(record.awards)`",
            "inside the parentheses, write a record and a field name joined by `.`",
            "括号里请写记录和字段名，中间用 `.` 连接",
        )

    @staticmethod
    def macro_arity(name: str, got: int) -> _M.Message:
        example = _M.MACRO_EXAMPLES[name]
        if name == "map":
            need_en, need_zh = "2 or 3 arguments", "2 个或 3 个参数"
            what_en = "a variable name, an optional condition and a value"
            what_zh = "一个变量名、一个可选的条件和一个值"
        else:
            need_en, need_zh = "2 arguments", "2 个参数"
            what_en, what_zh = "a variable name and a condition", "一个变量名和一个条件"
        return _M.Message(
            f"`{name}()` takes {need_en}, not {got}",
            f"`{name}()` 需要 {need_zh}，这里有 {got} 个",
            f"write {what_en}, e.g. {example}",
            f"请写{what_zh}，例如 {example}",
        )

    @staticmethod
    def macro_variable(name: str) -> _M.Message:
        example = _M.MACRO_EXAMPLES[name]
        return _M.Message(
            f"the first argument of `{name}()` must be a variable name",
            f"`{name}()` 的第一个参数必须是变量名",
            f"name each element with a new variable, e.g. {example}",
            f"请用一个新的变量名代表每个元素，例如 {example}",
        )

    @staticmethod
    def invalid_escape(seq: str, why: str) -> _M.Message:
        helps = {
            "unknown": (
                "`\\` starts an escape such as `\\n`, `\\t`, `\\\"` or `\\\\`; write `\\\\` for a backslash, "
                'or use a raw string such as `r"C:\\path"`',
                "`\\` 用于转义，例如 `\\n`、`\\t`、`\\\"`、`\\\\`；反斜杠本身请写成 `\\\\`，"
                '或使用原始字符串，例如 `r"C:\\path"`',
            ),
            "hex2": ("`\\x` must be followed by two hex digits, e.g. `\\x41`", "`\\x` 后面必须是两位十六进制数字，例如 `\\x41`"),
            "hex4": ("`\\u` must be followed by four hex digits, e.g. `\\u4e2d`", "`\\u` 后面必须是四位十六进制数字，例如 `\\u4e2d`"),
            "hex8": (
                "`\\U` must be followed by eight hex digits, e.g. `\\U0001F600`",
                "`\\U` 后面必须是八位十六进制数字，例如 `\\U0001F600`",
            ),
            "octal": (
                "an octal escape is three digits from `\\000` to `\\377`",
                "八进制转义必须是 `\\000` 到 `\\377` 之间的三位数字",
            ),
            "codepoint": ("this is not a valid Unicode character", "这不是有效的 Unicode 字符"),
            "bytes-unicode": (
                "`\\u` and `\\U` cannot be used in bytes; use `\\xHH` or octal escapes",
                "字节串中不能使用 `\\u` 和 `\\U`；请使用 `\\xHH` 或八进制转义",
            ),
        }
        help_en, help_zh = helps[why]
        shown = _M.show(seq)
        return _M.Message(f"invalid escape `{shown}`", f"无效的转义 `{shown}`", help_en, help_zh)

    @staticmethod
    def int_range(text: str, unsigned: bool) -> _M.Message:
        shown = _M.show(text)
        if unsigned:
            return _M.Message(
                f"unsigned integer `{shown}` is out of range",
                f"无符号整数 `{shown}` 超出范围",
                "a uint must be between 0 and 18446744073709551615",
                "uint 的范围是 0 到 18446744073709551615",
            )
        return _M.Message(
            f"integer `{shown}` is out of range",
            f"整数 `{shown}` 超出范围",
            "an int must be between -9223372036854775808 and 9223372036854775807",
            "int 的范围是 -9223372036854775808 到 9223372036854775807",
        )

    @staticmethod
    def double_range(text: str) -> _M.Message:
        shown = _M.show(text)
        return _M.Message(
            f"number `{shown}` is too large",
            f"数字 `{shown}` 太大",
            "a double must be smaller than about 1.8e308",
            "double 的绝对值必须小于约 1.8e308",
        )

    @staticmethod
    def internal_error(kind: str) -> _M.Message:
        return _M.Message(
            f"the expression could not be read ({kind})",
            f"无法读取表达式（{kind}）",
            "this is a bug in the engine; please report it together with the expression",
            "这是引擎的缺陷，请连同表达式一起报告",
        )
