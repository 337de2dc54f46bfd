"""Printing syntax trees back to canonical condition text.

:func:`format_expr` is the inverse of ``engine.lang.parser.parse_condition``
up to spelling and layout: for any text ``s`` that parses,
``parse_condition(format_expr(parse_condition(s))) == parse_condition(s)``
(spans are not part of node equality).

The canonical spelling uses ``&&``, ``||`` and ``!`` (never ``and``, ``or``,
``not``), one space around binary operators and after commas and colons, and
only the parentheses that precedence requires.  Strings are printed in double
quotes with escapes for backslash, quote and invisible characters; bytes as
``b"..."`` with ``\\xHH`` for everything that is not printable ASCII; uints
with a ``u``; doubles always with a point or an exponent (``1.0``, ``1e+100``)
so that they read back as doubles.  A negative number literal (the parser
makes one only for the smallest int, ``-9223372036854775808``) binds like a
unary minus and is parenthesised where that matters.
"""

from __future__ import annotations

import math
import re

from engine.lang import ast as A

__all__ = ["format_expr"]

# Binding strength, loosest first; an operand printed where a tighter level is
# required gets parentheses.
_CONDITIONAL = 1
_BINARY = {
    "||": 2,
    "&&": 3,
    "==": 4,
    "!=": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "in": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
_UNARY = 7
_MEMBER = 8
_PRIMARY = 9

_NAMED_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def format_expr(node: A.Node) -> str:
    """Canonical condition text for ``node``.

    Raises:
        ValueError: the tree holds something no text can express, such as a
            NaN or infinite double, or an unknown literal kind.
    """
    return _format(node, 0)


def _precedence(node: A.Node) -> int:
    if isinstance(node, A.Conditional):
        return _CONDITIONAL
    if isinstance(node, A.Binary):
        return _BINARY[node.op]
    if isinstance(node, A.Unary):
        return _UNARY
    if isinstance(node, A.Literal):
        value = node.value
        if node.kind == "int" and isinstance(value, int) and value < 0:
            return _UNARY
        if node.kind == "double" and isinstance(value, float) and math.copysign(1.0, value) < 0:
            return _UNARY
        return _PRIMARY
    if isinstance(node, (A.Select, A.Index, A.Comprehension, A.OptSelect, A.OptIndex)):
        return _MEMBER
    if isinstance(node, A.Call) and node.target is not None:
        return _MEMBER
    return _PRIMARY


def _format(node: A.Node, required: int) -> str:
    text = _format_bare(node)
    return f"({text})" if _precedence(node) < required else text


def _args(nodes: tuple[A.Node, ...]) -> str:
    return ", ".join(_format(n, 0) for n in nodes)


def _format_bare(node: A.Node) -> str:
    if isinstance(node, A.Literal):
        return _literal(node)
    if isinstance(node, A.Ident):
        return node.name
    if isinstance(node, A.Select):
        return f"{_format(node.operand, _MEMBER)}.{_field(node.field)}"
    if isinstance(node, A.Has):
        return f"has({_format(node.operand, _MEMBER)}.{_field(node.field)})"
    if isinstance(node, A.Index):
        return f"{_format(node.operand, _MEMBER)}[{_format(node.index, 0)}]"
    if isinstance(node, A.Call):
        call = f"{node.function}({_args(node.args)})"
        return call if node.target is None else f"{_format(node.target, _MEMBER)}.{call}"
    if isinstance(node, A.OptSelect):
        return f"{_format(node.operand, _MEMBER)}.?{_field(node.field)}"
    if isinstance(node, A.OptIndex):
        return f"{_format(node.operand, _MEMBER)}[?{_format(node.index, 0)}]"
    if isinstance(node, A.Comprehension):
        names = (node.var,) if node.var2 is None else (node.var, node.var2)
        parts = names + ((_format(node.filter, 0),) if node.filter is not None else ()) + (_format(node.body, 0),)
        return f"{_format(node.target, _MEMBER)}.{node.macro}({', '.join(parts)})"
    if isinstance(node, A.Bind):
        return f"cel.bind({node.var}, {_format(node.init, 0)}, {_format(node.body, 0)})"
    if isinstance(node, A.ListLit):
        marks = ["?" if i in node.optional else "" for i in range(len(node.elements))]
        return "[" + ", ".join(m + _format(e, 0) for m, e in zip(marks, node.elements, strict=True)) + "]"
    if isinstance(node, A.MapLit):
        marks = ["?" if i in node.optional else "" for i in range(len(node.entries))]
        pairs = zip(marks, node.entries, strict=True)
        return "{" + ", ".join(f"{m}{_format(k, 0)}: {_format(v, 0)}" for m, (k, v) in pairs) + "}"
    if isinstance(node, A.Unary):
        return f"{node.op}{_format(node.operand, _UNARY)}"
    if isinstance(node, A.Binary):
        level = _BINARY[node.op]
        return f"{_format(node.left, level)} {node.op} {_format(node.right, level + 1)}"
    if isinstance(node, A.Conditional):
        cond = _format(node.cond, _CONDITIONAL + 1)
        then = _format(node.then, _CONDITIONAL + 1)
        return f"{cond} ? {then} : {_format(node.other, _CONDITIONAL)}"
    raise TypeError(f"not a node: {node!r}")


def _literal(node: A.Literal) -> str:
    kind, value = node.kind, node.value
    if kind == "bool":
        return "true" if value else "false"
    if kind == "null":
        return "null"
    if kind == "int" and isinstance(value, int):
        return str(value)
    if kind == "uint" and isinstance(value, int):
        return f"{value}u"
    if kind == "double" and isinstance(value, (int, float)):
        return _double(float(value))
    if kind == "string" and isinstance(value, str):
        return _string(value)
    if kind == "bytes" and isinstance(value, bytes):
        return _bytes(value)
    raise ValueError(f"cannot print literal {value!r} of kind {kind!r}")


def _double(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written as a literal")
    text = repr(value)  # shortest round-trip form: always has "." or "e"
    return text if ("." in text or "e" in text) else text + ".0"


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        named = _NAMED_ESCAPES.get(ch)
        if named is not None:
            out.append(named)
        elif ch.isprintable() or "\ud800" <= ch <= "\udfff":
            # Lone surrogates have no escape; written as they are they read back the same.
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _bytes(value: bytes) -> str:
    out = ['b"']
    for byte in value:
        ch = chr(byte)
        named = _NAMED_ESCAPES.get(ch)
        if named is not None:
            out.append(named)
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    out.append('"')
    return "".join(out)


_PLAIN_FIELD = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_KEYWORDS = frozenset({"in", "and", "or", "not", "true", "false", "null"})


def _field(name: str) -> str:
    """A field name after a dot: plain, or in backticks when it is not a name (``x.`content-type```)."""
    if _PLAIN_FIELD.fullmatch(name) and name not in _KEYWORDS:
        return name
    return f"`{name}`"
