"""Syntax tree of the condition language.

Produced by ``engine.lang.parser``, read by the checker, the compiler and the
reference interpreter.  Nodes are frozen; each carries a ``span`` (character
offsets into the expression text) that is kept out of equality, so two parses
of the same text compare equal wherever they sit in a file.

Node kinds::

    Literal(value, kind)             42, 42u, 1.5, "s", b"s", true, null
    Ident(name)                      record, as_of, min_age, x
    Select(operand, field)           record.birth_date
    Has(operand, field)              has(record.awards)   (CEL's presence test)
    Index(operand, index)            xs[0], m["k"]
    Call(function, args, target)     size(xs), xs.size(), years_after(d, 3)
    ListLit(elements)                [1, 2]
    MapLit(entries)                  {"a": 1}
    Unary(op, operand)               !x, -x               (``not x`` is ``!x``)
    Binary(op, left, right)          + - * / % == != < <= > >= in && ||
                                     (``and``/``or`` are ``&&``/``||``)
    Conditional(cond, then, other)   c ? a : b
    Comprehension(macro, target, var, body, filter, var2)
                                     xs.all(x, p)  xs.exists(x, p)
                                     xs.exists_one(x, p)  xs.filter(x, p)
                                     xs.map(x, f)  xs.map(x, p, f) (filter=p, body=f)
                                     two variables (var2): xs.all(i, x, p)
                                     xs.transformList(i, x, [p,] f)
                                     m.transformMap(k, v, [p,] f)
                                     m.transformMapEntry(k, v, [p,] f)
                                     on an optional value: o.optMap(x, f)
                                     o.optFlatMap(x, f)
    Bind(var, init, body)            cel.bind(x, init, body)
    OptSelect(operand, field)        x.?f        (an optional value)
    OptIndex(operand, index)         xs[?0], m[?"k"]
    ListLit / MapLit ``optional``    [?x, y], {?"k": v}: the positions of the
                                     elements (entries) written with ``?``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

from engine.source import Span

__all__ = [
    "Binary",
    "Bind",
    "Call",
    "Comprehension",
    "Conditional",
    "Has",
    "Ident",
    "Index",
    "ListLit",
    "Literal",
    "MapLit",
    "Node",
    "OptIndex",
    "OptSelect",
    "Select",
    "Unary",
    "walk",
]

_NO_SPAN = Span(0, 0)


@dataclass(frozen=True)
class Literal:
    """A literal. ``kind`` is one of int, uint, double, string, bytes, bool, null.

    ``value`` is the Python value: int for int and uint, float, str, bytes,
    bool, None.
    """

    value: object
    kind: str
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Ident:
    """A name. A leading-dot name (``.a``) keeps its dot in ``name``."""

    name: str
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Select:
    """``operand.field``; ``field_span`` points at the field's name."""

    operand: Node
    field: str
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    field_span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Has:
    """``has(operand.field)``: whether the field is present."""

    operand: Node
    field: str
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    field_span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Index:
    operand: Node
    index: Node
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class OptSelect:
    """``operand.?field``: the field as an optional value (none when it is absent)."""

    operand: Node
    field: str
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    field_span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class OptIndex:
    """``operand[?index]``: the element or entry as an optional value (none when there is none)."""

    operand: Node
    index: Node
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Call:
    """A call: ``function(args)`` when ``target`` is None, else ``target.function(args)``."""

    function: str
    args: tuple[Node, ...]
    target: Node | None = None
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    name_span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class ListLit:
    """``optional``: the positions of the elements written ``?x`` (kept only when ``x`` has a value)."""

    elements: tuple[Node, ...]
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    optional: tuple[int, ...] = ()


@dataclass(frozen=True)
class MapLit:
    """``optional``: the positions of the entries written ``?k: v`` (kept only when ``v`` has a value)."""

    entries: tuple[tuple[Node, Node], ...]
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    optional: tuple[int, ...] = ()


@dataclass(frozen=True)
class Unary:
    """``op`` is ``!`` or ``-``."""

    op: str
    operand: Node
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Binary:
    """``op`` is one of ``+ - * / % == != < <= > >= in && ||``."""

    op: str
    left: Node
    right: Node
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Conditional:
    cond: Node
    then: Node
    other: Node
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Comprehension:
    """A macro over a list or map: ``target.macro(var, body)``.

    ``macro`` is one of all, exists, exists_one, filter, map, transformList,
    transformMap, transformMapEntry, optMap, optFlatMap (``existsOne`` is
    read as ``exists_one``).  For the three-argument ``map(x, p, f)``,
    ``filter`` is ``p`` and ``body`` is ``f``; likewise for the four-argument
    transforms.  ``var2`` is the second variable of the two-variable forms
    (``var`` is then the index of a list or the key of a map, ``var2`` the
    element or value).  ``var_span`` points at the variable's name.
    """

    macro: str
    target: Node
    var: str
    body: Node
    filter: Node | None = None
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    var_span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    var2: str | None = None
    var2_span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True)
class Bind:
    """``cel.bind(var, init, body)``: ``body`` with ``var`` standing for the value of ``init``."""

    var: str
    init: Node
    body: Node
    span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)
    var_span: Span = dataclasses.field(default=_NO_SPAN, compare=False, repr=False)


Node: TypeAlias = (
    Literal
    | Ident
    | Select
    | Has
    | Index
    | Call
    | ListLit
    | MapLit
    | Unary
    | Binary
    | Conditional
    | Comprehension
    | Bind
    | OptSelect
    | OptIndex
)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``, in source order."""
    if isinstance(node, (Literal, Ident)):
        return ()
    if isinstance(node, (Select, Has, OptSelect)):
        return (node.operand,)
    if isinstance(node, (Index, OptIndex)):
        return (node.operand, node.index)
    if isinstance(node, Call):
        return ((node.target,) if node.target is not None else ()) + node.args
    if isinstance(node, ListLit):
        return node.elements
    if isinstance(node, MapLit):
        return tuple(x for kv in node.entries for x in kv)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Conditional):
        return (node.cond, node.then, node.other)
    if isinstance(node, Comprehension):
        return (node.target,) + ((node.filter,) if node.filter is not None else ()) + (node.body,)
    if isinstance(node, Bind):
        return (node.init, node.body)
    raise TypeError(f"not a node: {node!r}")


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
