"""Static checking of condition expressions.

``check_condition(node, scope)`` resolves every name (record, ``as_of``,
parameters, named values, a rule's own values, macro variables), checks
field paths against the record's JSON Schema, picks function overloads by
argument count and type, and gives every node a :class:`Type`.  It collects
all problems at once as diagnostics whose spans are offsets into the
expression text (``build`` maps them into the YAML file), each with a stable
code and a did-you-mean where a close name exists:

    check.unknown-name      a name that is not in scope
    check.shadow            a macro variable that hides a name in use
    check.unknown-field     a field the record schema does not have
    check.unknown-function  a function that does not exist
    check.arity             wrong number of arguments
    check.type              operands or arguments of the wrong type
    check.not-bool          a condition that is not true/false
    check.format            a literal ``format`` text whose clauses do not fit its literal list

Names follow CEL: a dotted name ``a.b.c`` is resolved longest prefix first
(``a.b.c`` as one name if it is declared, else ``a.b`` and a field ``c``, and
so on), each tried inside the scope's container before the root; a leading
dot (``.y``) skips the container (and, outside rulebooks, the macro
variables).  Type names (``int``, ``list``, ``google.protobuf.Timestamp``,
...) are values of type ``type``.  Resolutions are recorded in
:attr:`Checked.idents` for the compiler and the interpreter, and a call's
overload in :attr:`Checked.overloads`; when several overloads accept ``dyn``
arguments the result is their common type, else ``dyn``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Diagnostic
from engine.lang import ast as A
from engine.lang import types as T
from engine.lang.ext_strings import check_format, format_text
from engine.lang.functions import FunctionTable, Overload, describe_types, result_type
from engine.lang.types import Type
from engine.lang.values import TYPE_NAMES
from engine.messages import Text, listing, msg
from engine.source import Span

__all__ = ["Checked", "Scope", "check_condition"]


@dataclass
class Scope:
    """What an expression can refer to.

    ``params`` are constants (a rulebook's parameters, or the variables
    bound for a plain CEL evaluation), by name; a name may be qualified
    (``com.example.x``), and is then found through CEL's rules: the longest
    dotted prefix of ``a.b.c`` that names something wins, and a name is tried
    inside ``container`` (``com.example``) before the root.  Type names
    (``int``, ``google.protobuf.Timestamp``, ...) are names too.

    ``rulebook`` is false for a plain CEL environment: then there is no
    ``record`` and ``as_of``, and macro variables may hide other names, as
    in CEL.
    """

    record: Type
    functions: FunctionTable
    record_kind: str = "record"
    params: dict[str, tuple[Any, Type]] = field(default_factory=dict)
    values: dict[str, Type] = field(default_factory=dict)
    locals: dict[str, Type] = field(default_factory=dict)
    container: str | None = None
    rulebook: bool = True

    def names(self) -> list[str]:
        base = ["record", "as_of"] if self.rulebook else []
        return [*base, *self.params, *self.values, *self.locals]

    def candidates(self, name: str) -> list[str]:
        """The names ``name`` may stand for, most specific first (CEL's container rule)."""
        if name.startswith("."):
            return [name[1:]]
        out = []
        container = self.container or ""
        while container:
            out.append(f"{container}.{name}")
            container = container.rpartition(".")[0]
        out.append(name)
        return out


@dataclass
class Checked:
    """The result of checking: the tree with its types and name resolutions."""

    node: A.Node
    types: dict[int, Type] = field(default_factory=dict)
    idents: dict[int, tuple[str, str]] = field(default_factory=dict)
    overloads: dict[int, Overload] = field(default_factory=dict)
    refs: set[tuple[str, str]] = field(default_factory=set)
    record_paths: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    functions: FunctionTable | None = None

    def type_of(self, node: A.Node) -> Type:
        return self.types.get(id(node), T.DYN)

    def path_of(self, node: A.Node, var_label: Callable[[str], str | None] = lambda _name: None) -> str:
        """A readable path for messages: ``recommender.kind``, ``introducers[].is_member``.

        ``var_label`` gives the label of a comprehension variable in scope (e.g. ``introducers[]``
        for ``i`` in ``introducers.filter(i, ...)``), or None.
        """
        if isinstance(node, A.Select):
            if id(node) in self.idents:
                return self.idents[id(node)][1]
            base = self.path_of(node.operand, var_label)
            return f"{base}.{node.field}" if base else node.field
        if isinstance(node, A.Ident):
            kind, name = self.idents.get(id(node), ("", node.name))
            if kind == "record":
                return ""
            if kind == "var":
                label = var_label(name)
                if label is not None:
                    return label
            return name
        if isinstance(node, A.OptSelect):
            base = self.path_of(node.operand, var_label)
            return f"{base}.{node.field}" if base else node.field
        if isinstance(node, (A.Index, A.OptIndex)):
            return self.path_of(node.operand, var_label) + "[]"
        return "(value)"

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def _path_key(node: A.Node) -> tuple[str, ...] | None:
    """``record.a.b`` -> ("record", "a", "b"); None for anything but a chain of fields."""
    parts: list[str] = []
    while isinstance(node, A.Select):
        parts.append(node.field)
        node = node.operand
    if isinstance(node, A.Ident):
        return (node.name, *reversed(parts))
    return None


def _null_tests(node: A.Node, op: str) -> list[tuple[str, ...]]:
    """The paths that ``node`` being true proves (op ``!=``) or being false proves (op ``==``)
    to be non-null: ``x != null``, ``null != x``, and conjunctions (resp. disjunctions) of them."""
    if isinstance(node, A.Binary):
        if node.op == op:
            for a, b in ((node.left, node.right), (node.right, node.left)):
                if isinstance(b, A.Literal) and b.kind == "null":
                    key = _path_key(a)
                    return [key] if key is not None else []
        if node.op == ("&&" if op == "!=" else "||"):
            return _null_tests(node.left, op) + _null_tests(node.right, op)
    return []


def _join(parts: Any) -> str:
    """``people``, ``[]``, ``age`` -> ``people[].age``."""
    out = ""
    for p in parts:
        out += p if p == "[]" or not out else "." + p
    return out


def _a(t: Type) -> str:
    """``a string``, ``an int``: the type with its article."""
    text = str(t)
    return ("an " if text[:1] in "aeiou" else "a ") + text


def _ty(t: Type) -> Text:
    """A type in a message: ``a string`` in English, `` `string` `` in Chinese."""
    return Text(_a(t), f"`{t}`")


def _suggest(name: str, candidates: list[str]) -> Text | None:
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return msg("did-you-mean", name=close[0]) if close else None


_COMPARABLE = {"int", "uint", "double", "string", "bytes", "bool", "date", "timestamp", "duration"}
_TIME_ARITHMETIC = {
    ("+", "timestamp", "duration"): T.TIMESTAMP,
    ("+", "duration", "timestamp"): T.TIMESTAMP,
    ("+", "duration", "duration"): T.DURATION,
    ("-", "timestamp", "duration"): T.TIMESTAMP,
    ("-", "timestamp", "timestamp"): T.DURATION,
    ("-", "duration", "duration"): T.DURATION,
}
# The names of type values: `int`, `list`, `google.protobuf.Timestamp`, ...
TYPE_VALUES = frozenset(TYPE_NAMES)


class _Checker:
    def __init__(self, scope: Scope, checked: Checked) -> None:
        self.scope = scope
        self.out = checked
        self.vars: list[tuple[str, Type, str]] = []  # (name, type, path label for messages)
        self.non_null: list[tuple[str, ...]] = []  # paths proven non-null by `x != null && ...`

    # -- reporting

    def error(self, code: str, node_span: Any, message: Text, help: Text | None = None) -> None:
        self.out.diagnostics.append(Diagnostic(code, message, span=node_span, help=help))

    def set(self, node: A.Node, t: Type) -> Type:
        self.out.types[id(node)] = t
        return t

    # -- traversal

    def visit(self, node: A.Node) -> Type:
        method = getattr(self, "visit_" + type(node).__name__)
        t = method(node)
        if t.nullable and self.non_null and _path_key(node) in self.non_null:
            t = t.non_null()
        return self.set(node, t)

    def visit_narrowed(self, node: A.Node, keys: list[tuple[str, ...]]) -> Type:
        """Visit ``node`` knowing that the paths ``keys`` are not null there."""
        self.non_null.extend(keys)
        try:
            return self.visit(node)
        finally:
            del self.non_null[len(self.non_null) - len(keys) :]

    def visit_Literal(self, node: A.Literal) -> Type:
        return {
            "int": T.INT,
            "uint": T.UINT,
            "double": T.DOUBLE,
            "string": T.STRING,
            "bytes": T.BYTES,
            "bool": T.BOOL,
            "null": T.NULL,
        }[node.kind]

    def resolve(self, node: A.Node, name: str) -> Type | None:
        """Resolve a (possibly qualified, possibly leading-dot) name; None if it names nothing."""
        rooted = name.startswith(".")
        plain = name.lstrip(".")
        if not rooted or self.scope.rulebook:
            for var, t, _label in reversed(self.vars):
                if var == plain:
                    self.out.idents[id(node)] = ("var", plain)
                    return t
        s = self.scope
        if s.rulebook and plain in ("record", "as_of"):
            self.out.idents[id(node)] = (plain, plain)
            self.out.refs.add((plain, plain))
            return s.record if plain == "record" else T.DATE
        for kind, table in (("local", s.locals), ("value", s.values)):
            if plain in table:
                self.out.idents[id(node)] = (kind, plain)
                self.out.refs.add((kind, plain))
                return table[plain]
        for candidate in s.candidates(name):
            if candidate in s.params:
                self.out.idents[id(node)] = ("param", candidate)
                self.out.refs.add(("param", candidate))
                return s.params[candidate][1]
        for candidate in s.candidates(name):
            if candidate in TYPE_VALUES:
                self.out.idents[id(node)] = ("type", candidate)
                return T.TYPE
        return None

    def visit_Ident(self, node: A.Ident) -> Type:
        t = self.resolve(node, node.name)
        if t is not None:
            return t
        s = self.scope
        name = node.name.lstrip(".")
        candidates = s.names() + [v for v, _t, _l in self.vars]
        help = _suggest(name, candidates)
        if help is None and self.scope.record.kind == "object" and name in self.scope.record.fields():
            help = msg("check.unknown-name:record/help", name=name)
        self.error("check.unknown-name", node.span, msg("check.unknown-name", name=name), help)
        return T.DYN

    def _record_path(self, node: A.Node) -> str | None:
        parts: list[str] = []
        while isinstance(node, (A.Select, A.Index)):
            if isinstance(node, A.Index):
                parts.append("[]")
            else:
                parts.append(node.field)
            node = node.operand
        if isinstance(node, A.Ident):
            kind = self.out.idents.get(id(node), ("",))[0]
            if kind == "record":
                return _join(reversed(parts))
            if kind == "var":
                for var, _t, label in reversed(self.vars):
                    if var == node.name:
                        return _join([label, *reversed(parts)])
        return None

    def _field(self, operand_t: Type, node: A.Select | A.Has | A.OptSelect, what: str) -> Type:
        base = operand_t
        if base.kind == "optional":  # a field of an optional value is optional (none when absent)
            return T.optional_of(self._field(base.elem or T.DYN, node, what))
        if base.kind == "object":
            fields = base.fields()
            if node.field in fields:
                return fields[node.field]
            where = self._record_path(node.operand)
            owner = f"`{where}`" if where else f"`{self.scope.record_kind}`"
            if isinstance(node.operand, A.Ident) and self.out.idents.get(id(node.operand), ("",))[0] == "record":
                owner = f"`{self.scope.record_kind}`"
            help = _suggest(node.field, sorted(fields))
            if help is None:
                help = msg("check.unknown-field/help", fields=listing(sorted(fields)[:12]))
            self.error(
                "check.unknown-field",
                node.field_span if node.field_span.end else node.span,
                msg("check.unknown-field", field=node.field, owner=owner),
                help,
            )
            return T.DYN
        if base.kind == "map":
            return base.elem or T.DYN
        if base.kind == "dyn":
            return T.DYN
        help = None
        if node.field in ("size", "length", "len", "count") and base.kind in ("list", "string", "bytes", "map"):
            help = msg("check.type:size/help")
        self.error("check.type", node.span, msg(f"check.type:no-fields-{what}", base=_ty(base), field=node.field), help)
        return T.DYN

    def qualified(self, node: A.Node) -> str | None:
        """``a.b.c`` as one dotted name, when the chain starts with a name that is not a macro variable."""
        parts: list[str] = []
        while isinstance(node, A.Select):
            parts.append(node.field)
            node = node.operand
        if not isinstance(node, A.Ident) or not parts:
            return None
        if not node.name.startswith(".") and any(v == node.name for v, _t, _l in self.vars):
            return None
        return ".".join([node.name, *reversed(parts)])

    def visit_Select(self, node: A.Select) -> Type:
        name = self.qualified(node)
        if name is not None and (self.scope.params or self.scope.container or not self.scope.rulebook):
            t = self.resolve(node, name)
            if t is not None:
                return t
        t = self._field(self.visit(node.operand), node, "read")
        path = self._record_path(node)
        if path is not None:
            self.out.record_paths.append(path)
        return t

    def visit_Has(self, node: A.Has) -> Type:
        self._field(self.visit(node.operand), node, "test")
        return T.BOOL

    def visit_OptSelect(self, node: A.OptSelect) -> Type:
        t = self.visit(node.operand)
        field_t = self._field(t.elem or T.DYN if t.kind == "optional" else t, node, "read")
        return T.optional_of(field_t)

    def visit_OptIndex(self, node: A.OptIndex) -> Type:
        c = self.visit(node.operand)
        i = self.visit(node.index)
        return T.optional_of(self._element(node, c.elem or T.DYN if c.kind == "optional" else c, i))

    def visit_Index(self, node: A.Index) -> Type:
        c = self.visit(node.operand)
        i = self.visit(node.index)
        if c.kind == "optional":  # an element of an optional value is optional (none when absent)
            return T.optional_of(self._element(node, c.elem or T.DYN, i))
        return self._element(node, c, i)

    def _element(self, node: A.Index | A.OptIndex, c: Type, i: Type) -> Type:
        if c.nullable and c.kind != "null":
            c = c.non_null()  # a null operand is a run-time error
        if c.kind == "list":
            if i.kind not in ("int", "uint", "double", "dyn"):
                self.error("check.type", node.index.span, msg("check.type:index", index=_ty(i)))
            return c.elem or T.DYN
        if c.kind == "map":
            return c.elem or T.DYN
        if c.kind in ("dyn", "object"):
            return T.DYN
        self.error("check.type", node.span, msg("check.type:not-indexable", operand=_ty(c)))
        return T.DYN

    def _optional_element(self, node: A.Node, t: Type) -> Type:
        """The type an element ``?x`` adds: what the optional value ``x`` holds."""
        if t.kind == "optional":
            return t.elem or T.DYN
        if t.kind != "dyn":
            self.error(
                "check.type",
                node.span,
                msg("check.type:opt-element", actual=_ty(t)),
                msg("check.type:opt-element/help"),
            )
        return T.DYN

    def visit_ListLit(self, node: A.ListLit) -> Type:
        elems = set()
        for i, e in enumerate(node.elements):
            t = self.visit(e)
            elems.add(self._optional_element(e, t) if i in node.optional else t)
        return T.list_of(elems.pop() if len(elems) == 1 else T.DYN)

    def visit_MapLit(self, node: A.MapLit) -> Type:
        keys, vals = set(), set()
        for i, (k, v) in enumerate(node.entries):
            keys.add(self.visit(k))
            t = self.visit(v)
            vals.add(self._optional_element(v, t) if i in node.optional else t)
        return Type("map", vals.pop() if len(vals) == 1 else T.DYN, keys.pop() if len(keys) == 1 else T.DYN)

    def visit_Unary(self, node: A.Unary) -> Type:
        t = self.visit(node.operand)
        if node.op == "!":
            self._want_bool(node.operand, t, msg("check.what:not"))
            return T.BOOL
        if t.kind not in ("int", "double", "dyn"):
            self.error("check.type", node.span, msg("check.type:negate", operand=_ty(t)))
            return T.DYN
        return t.non_null() if t.kind != "dyn" else t

    def _want_bool(self, node: A.Node, t: Type, what: Text) -> None:
        if t.kind not in ("bool", "dyn") or t.nullable:
            self.error(
                "check.not-bool", node.span, msg("check.not-bool", what=what, actual=_ty(t)), msg("check.not-bool/help")
            )

    def visit_Binary(self, node: A.Binary) -> Type:
        lt = self.visit(node.left)
        if node.op in ("&&", "||"):
            rt = self.visit_narrowed(node.right, _null_tests(node.left, "!=" if node.op == "&&" else "=="))
        else:
            rt = self.visit(node.right)
        op = node.op
        if op in ("&&", "||"):
            word = msg("check.what:and") if op == "&&" else msg("check.what:or")
            self._want_bool(node.left, lt, word)
            self._want_bool(node.right, rt, word)
            return T.BOOL
        if op in ("==", "!="):
            if not (
                lt.is_dyn
                or rt.is_dyn
                or lt.kind == rt.kind
                or (lt.is_numeric and rt.is_numeric)
                or ("null" in (lt.kind, rt.kind) and (lt.nullable or rt.nullable or "dyn" in (lt.kind, rt.kind)))
                or {lt.kind, rt.kind} <= {"map", "object"}
            ):
                self.error(
                    "check.type",
                    node.span,
                    msg("check.type:never-equal", op=op, left=_ty(lt), right=_ty(rt)),
                    _compare_help(lt, rt),
                )
            return T.BOOL
        if op in ("<", "<=", ">", ">="):
            ok = (
                lt.is_dyn
                or rt.is_dyn
                or (lt.is_numeric and rt.is_numeric)
                or (lt.kind == rt.kind and lt.kind in _COMPARABLE)
            )
            if not ok or lt.nullable or rt.nullable:
                self.error(
                    "check.type",
                    node.span,
                    msg("check.type:order", op=op, left=_ty(lt), right=_ty(rt)),
                    _compare_help(lt, rt),
                )
            return T.BOOL
        if op == "in":
            if rt.kind == "list":
                el = rt.elem or T.DYN
                if not (el.is_dyn or lt.is_dyn or el.kind == lt.kind or (el.is_numeric and lt.is_numeric)):
                    self.error(
                        "check.type", node.span, msg("check.type:never-in", left=_ty(lt), elem=Text(str(el), f"`{el}`"))
                    )
            elif rt.kind not in ("map", "object", "dyn"):
                self.error("check.type", node.right.span, msg("check.type:in-right", right=_ty(rt)))
            return T.BOOL
        # arithmetic
        if lt.is_dyn or rt.is_dyn:
            known = rt if lt.is_dyn else lt
            if known.kind in ("timestamp", "duration") or known.is_dyn:
                return T.DYN  # e.g. timestamp - dyn is a timestamp or a duration
            if known.kind == "list":
                return T.LIST_DYN
            return known.non_null()
        time_result = _TIME_ARITHMETIC.get((op, lt.kind, rt.kind))
        if time_result is not None and not lt.nullable and not rt.nullable:
            return time_result
        if lt.kind != rt.kind or lt.nullable or rt.nullable:
            self.error(
                "check.type",
                node.span,
                msg("check.type:arithmetic", op=op, left=_ty(lt), right=_ty(rt)),
                msg("check.type:dates/help") if "date" in (lt.kind, rt.kind) else None,
            )
            return T.DYN
        allowed = {
            "+": {"int", "uint", "double", "string", "bytes", "list"},
            "-": {"int", "uint", "double"},
            "*": {"int", "uint", "double"},
            "/": {"int", "uint", "double"},
            "%": {"int", "uint"},
        }[op]
        if lt.kind not in allowed:
            self.error(
                "check.type",
                node.span,
                msg("check.type:arithmetic-one", op=op, left=_ty(lt)),
                msg("check.type:dates/help") if lt.kind == "date" else None,
            )
            return T.DYN
        if lt.kind == "list" and lt.elem != rt.elem:
            return T.LIST_DYN
        return lt

    def visit_Conditional(self, node: A.Conditional) -> Type:
        self._want_bool(node.cond, self.visit(node.cond), msg("check.what:condition"))
        a = self.visit_narrowed(node.then, _null_tests(node.cond, "!="))
        b = self.visit_narrowed(node.other, _null_tests(node.cond, "=="))
        if a == b:
            return a
        if a.kind == b.kind and a.kind in ("list", "map") and (a.elem != b.elem or a.key != b.key):
            return Type(a.kind, T.DYN, T.DYN if a.kind == "map" else None, a.nullable or b.nullable)
        if a.kind == b.kind and a.kind != "dyn":
            return Type(a.kind, a.elem, a.key, a.nullable or b.nullable, a.schema, a.root)
        if a.kind == "null" or b.kind == "null":
            other = b if a.kind == "null" else a
            return Type(other.kind, other.elem, other.key, True, other.schema, other.root)
        return T.DYN

    def _shadow(self, var: str, span: Any) -> None:
        if self.scope.rulebook and (var in ("record", "as_of") or var in self.scope.params or var in self.scope.values):
            self.error("check.shadow", span, msg("check.shadow", name=var), msg("check.shadow/help"))

    def visit_Comprehension(self, node: A.Comprehension) -> Type:
        target = self.visit(node.target)
        key_t = T.DYN  # the first variable's type in the two-variable forms: an index or a key
        if node.macro in ("optMap", "optFlatMap"):
            if target.kind == "optional":
                var_t = target.elem or T.DYN
            else:
                if target.kind != "dyn":
                    msg_ = msg("check.type:opt-macro", macro=node.macro, target=_ty(target))
                    self.error("check.type", node.target.span, msg_)
                var_t = T.DYN
        elif target.kind == "list":
            var_t = target.elem or T.DYN
            key_t = T.INT
        elif target.kind == "map":
            var_t = target.key or T.DYN
            key_t = var_t
        elif target.kind == "object":
            var_t = T.STRING
            key_t = var_t
        elif target.kind == "dyn":
            var_t = T.DYN
        else:
            self.error("check.type", node.target.span, msg("check.type:macro", macro=node.macro, target=_ty(target)))
            var_t = T.DYN
        self._shadow(node.var, node.var_span)
        target_path = self._record_path(node.target)
        label = f"{target_path}[]" if target_path else node.var
        if node.var2 is not None:
            self._shadow(node.var2, node.var2_span)
            if target.kind in ("map", "object"):
                var_t = (target.elem or T.DYN) if target.kind == "map" else T.DYN
            self.vars.append((node.var, key_t, node.var))
            self.vars.append((node.var2, var_t, label))
        else:
            self.vars.append((node.var, var_t, label))
        try:
            if node.filter is not None:
                self._want_bool(node.filter, self.visit(node.filter), msg("check.what:filter", macro=node.macro))
            body = self.visit(node.body)
        finally:
            del self.vars[-2 if node.var2 is not None else -1 :]
        if node.macro in ("all", "exists", "exists_one", "filter"):
            self._want_bool(node.body, body, msg("check.what:predicate", macro=node.macro))
        if node.macro == "filter":
            return T.list_of(var_t)
        if node.macro in ("map", "transformList"):
            return T.list_of(body)
        if node.macro == "transformMap":
            return Type("map", body, key_t)
        if node.macro == "transformMapEntry":
            if body.kind not in ("map", "dyn") or body.nullable:
                self.error("check.type", node.body.span, msg("check.type:map-entry", actual=_ty(body)))
                return T.MAP_DYN
            return body
        if node.macro == "optMap":
            return T.optional_of(body)
        if node.macro == "optFlatMap":
            if body.kind not in ("optional", "dyn"):
                self.error("check.type", node.body.span, msg("check.type:opt-flat", actual=_ty(body)))
                return T.OPTIONAL_DYN
            return body if body.kind == "optional" else T.OPTIONAL_DYN
        return T.BOOL

    def visit_Bind(self, node: A.Bind) -> Type:
        init = self.visit(node.init)
        self._shadow(node.var, node.var_span)
        self.vars.append((node.var, init, self._record_path(node.init) or node.var))
        try:
            return self.visit(node.body)
        finally:
            self.vars.pop()

    def namespace(self, node: A.Call) -> str | None:
        """``math`` for ``math.greatest(…)``: the target of a member call when it is a (dotted) name
        that, with the function's name, names a function (which wins over a variable, as in CEL), or
        a namespace of functions that is not also a name in scope.  The call is then recorded as
        ``idents[id(call)] = ("function", "math.greatest")``."""
        prefix = call_namespace(node.target) if node.target is not None else None
        if prefix is None:
            return None
        if self.scope.functions.get(f"{prefix}.{node.function}") is not None:
            return prefix
        if not any(n.startswith(prefix + ".") for n in self.scope.functions.names()):
            return None
        saved = dict(self.out.idents), set(self.out.refs)
        try:
            shadowed = self.resolve(node.target, prefix) is not None  # type: ignore[arg-type]  # not None here
        finally:
            self.out.idents, self.out.refs = saved
        return None if shadowed else prefix

    def check_format(self, node: A.Call) -> None:
        """``"%s: %d".format([a, b])`` with a literal text and list: the clauses against the values."""
        text, values = node.target, node.args[0] if len(node.args) == 1 else None
        if not (isinstance(text, A.Literal) and text.kind == "string" and isinstance(values, A.ListLit)):
            return
        if getattr(values, "optional", ()):  # `[?x]`: how many values there are is known at run time only
            return
        problem = check_format(str(text.value), [self.out.types.get(id(e), T.DYN).kind for e in values.elements])
        if problem is not None:
            self.error("check.format", node.span, problem, msg("check.format/help"))

    def visit_Call(self, node: A.Call) -> Type:
        prefix = self.namespace(node)
        function = node.function if prefix is None else f"{prefix}.{node.function}"
        if prefix is not None:
            self.out.idents[id(node)] = ("function", function)
        args = ([node.target] if node.target is not None and prefix is None else []) + list(node.args)
        arg_types = [self.visit(a) for a in args]
        spec = self.scope.functions.get(function.lstrip("."))
        name_span = node.name_span if node.name_span.end else node.span
        if prefix is not None and node.target is not None:
            name_span = Span(node.target.span.start, name_span.end)
        member = node.target is not None and prefix is None
        method = function if member else None  # signatures are shown as `string.charAt(int)`
        if spec is None:
            names = self.scope.functions.names()
            if prefix is None:
                help = _suggest(function, names)
            else:  # a close name of the same namespace, else the namespace's functions
                names = [n[len(prefix) + 1 :] for n in names if n.startswith(prefix + ".")]
                close = difflib.get_close_matches(node.function, names, n=1, cutoff=0.6)
                help = (
                    msg("did-you-mean", name=f"{prefix}.{close[0]}")
                    if close
                    else msg("check.unknown-function:namespace/help", namespace=prefix, functions=listing(names[:20]))
                )
            self.error("check.unknown-function", name_span, msg("check.unknown-function", function=function), help)
            return T.DYN
        usable = [o for o in spec.overloads if (o.member if member else o.function)]
        if not usable:
            how = "`x." + function + "(…)`" if not member else "`" + function + "(x, …)`"
            self.error(
                "check.arity",
                name_span,
                msg("check.arity:method" if member else "check.arity:function", function=function),
                msg("check.arity:call/help", how=how),
            )
            return T.DYN
        by_count = [o for o in usable if (o.variadic and len(args) >= 1) or len(o.params) == len(args)]
        if not by_count:
            counts = sorted({len(o.params) - (1 if member else 0) for o in usable})
            want = Text(" or ".join(str(c) for c in counts), "或".join(str(c) for c in counts))
            got = len(node.args)
            self.error(
                "check.arity",
                name_span,
                msg("check.arity" if counts != [1] else "check.arity:one", function=function, want=want, got=got),
                msg("check.type:arguments/help", signatures="; ".join(o.describe(method) for o in usable)),
            )
            return T.DYN
        accepting = [o for o in by_count if o.accepts(arg_types)]
        if accepting:
            self.out.overloads[id(node)] = accepting[0]
            if accepting[0].impl is format_text:
                self.check_format(node)
            results = {result_type(spec, o, arg_types) for o in accepting}
            return results.pop() if len(results) == 1 else T.DYN
        sigs = "; ".join(o.describe(method) for o in by_count)
        self.error(
            "check.type",
            node.span,
            msg("check.type:arguments", function=function, types=describe_types(arg_types)),
            msg("check.type:arguments/help", signatures=sigs),
        )
        return T.DYN


def call_namespace(node: A.Node) -> str | None:
    """``math`` for the name ``math``, ``a.b`` for ``a.b``; None for anything but a dotted name."""
    parts: list[str] = []
    while isinstance(node, A.Select):
        parts.append(node.field)
        node = node.operand
    if not isinstance(node, A.Ident):
        return None
    return ".".join([node.name.lstrip("."), *reversed(parts)])


def _compare_help(a: Type, b: Type) -> Text | None:
    kinds = {a.kind, b.kind}
    if kinds == {"date", "string"}:
        return msg("check.type:date-string/help")
    if a.nullable or b.nullable:
        return msg("check.type:nullable/help")
    return None


def check_condition(node: A.Node, scope: Scope, *, want_bool: Text | str | None = None) -> Checked:
    """Check ``node`` in ``scope``. ``want_bool`` names the role (e.g. "`require`") when the
    result must be a bool."""
    checked = Checked(node, functions=scope.functions)
    checker = _Checker(scope, checked)
    t = checker.visit(node)
    if want_bool is not None and (t.kind not in ("bool", "dyn") or t.nullable):
        if isinstance(want_bool, str):  # a name in backticks, the same in every language
            want_bool = Text(want_bool, want_bool)
        checker.error(
            "check.not-bool",
            node.span,
            msg("check.not-bool:must", what=want_bool, actual=_ty(t)),
            msg("check.not-bool/help"),
        )
    return checked
