"""What compiled code and the reference interpreter share at run time.

``engine.lang.compile`` (and ``engine.lang.compile_decision``) generate Python
functions whose namespace is :data:`HELPERS` (plus :data:`PY_CLASSES`);
``engine.lang.interp`` walks the tree and calls the same ``engine.lang.values``
operations directly.  Both need the same answers to a few questions, kept
here so that neither imports the other:

* which calls the checker could not match are dispatched at run time
  (:func:`dispatcher`), how a macro's non-boolean result becomes an error
  (:func:`macro_error`), the operands of a chain of ``&&``/``||``
  (:func:`operands`), the dotted name of an unresolved qualified name
  (:func:`dotted`);
* what costs nothing to scan (:func:`is_constant`, :data:`SCALAR_KINDS`);
* defaults shared by every record (:func:`freeze`);
* :data:`MISSING`, the value a trace shows for a value it could not read.

The layer: ``values``/``functions``/``check`` below, ``runtime`` here, then
``interp`` and ``compile`` (which falls back on ``interp``), then
``compile_decision`` on top of ``compile``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.errors import EvalError
from engine.lang import ast as A
from engine.lang import functions as F
from engine.lang import values as V

if TYPE_CHECKING:
    from engine.lang.check import Checked

__all__ = [
    "FAST_IMPLS",
    "HELPERS",
    "MISSING",
    "PY_CLASSES",
    "SCALAR_KINDS",
    "CompiledFn",
    "call_parts",
    "dispatcher",
    "dotted",
    "freeze",
    "is_constant",
    "macro_error",
    "operands",
]

CompiledFn = Callable[[dict[str, Any], _dt.date, dict[Any, Any]], Any]
"""``f(rec, as_of, ctx) -> value`` (raises ``EvalError``): a compiled or interpreted expression."""

MISSING: Any = object()
"""A value a rule's trace could not read: left out of the rule's ``values``."""

# The Python classes generated code tests values against, by these names.
PY_CLASSES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "float": float, "tuple": tuple}
# Static kinds whose values are small and fixed-size: nothing to charge for them.
SCALAR_KINDS = frozenset({"bool", "int", "uint", "double", "null", "date", "timestamp", "duration", "type"})


def is_constant(node: A.Node, checked: Checked) -> bool:
    """A literal or a parameter: its size is fixed by the rulebook, so scanning it costs nothing extra."""
    if isinstance(node, A.Literal):
        return True
    if isinstance(node, (A.Ident, A.Select)):
        return checked.idents.get(id(node), ("",))[0] in ("param", "type")
    return False


def dotted(node: A.Node) -> str:
    parts: list[str] = []
    while isinstance(node, A.Select):
        parts.append(node.field)
        node = node.operand
    if isinstance(node, A.Ident):
        parts.append(node.name)
    return ".".join(reversed(parts))


def call_parts(node: A.Call, checked: Checked) -> tuple[str, list[A.Node], bool]:
    """The function a call names, its argument nodes (a method's receiver first) and whether it is
    a method call: ``math.greatest(a, b)`` names ``math.greatest`` with two arguments when the
    checker resolved ``math`` as a namespace (``Checked.idents[id(call)]``)."""
    resolved = checked.idents.get(id(node))
    if resolved is not None and resolved[0] == "function":
        return resolved[1], list(node.args), False
    member = node.target is not None
    return node.function.lstrip("."), ([node.target] if node.target is not None else []) + list(node.args), member


def dispatcher(node: A.Call, spec: F.FunctionSpec | None, checked: Checked | None = None) -> Callable[..., Any]:
    """The implementation of a call the checker could not match: chosen at run time by the
    number of arguments, or an error."""
    if checked is not None:
        name, args, member = call_parts(node, checked)
        count = len(args)
    else:
        name = node.function.lstrip(".")
        member = node.target is not None
        count = len(node.args) + (1 if member else 0)
    if spec is None:

        def unknown(*args: Any) -> Any:
            V.unknown_function(name)

        return unknown
    for o in spec.overloads:
        if (o.member if member else o.function) and (len(o.params) == count or (o.variadic and count >= 1)):
            return o.impl

    def no_match(*args: Any) -> Any:
        V.fail_no_overload(name, *args)

    return no_match


def operands(node: A.Node, op: str) -> list[A.Node]:
    """The operands of a chain of one logical operator, in source order."""
    out: list[A.Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Binary) and n.op == op:
            stack.append(n.right)
            stack.append(n.left)
        else:
            out.append(n)
    return out


def macro_error(err: object, macro: str) -> EvalError:
    if isinstance(err, BaseException):
        return V.wrap_error(err)
    return V.no_overload(macro, err)


_date = _dt.date
_fromiso = _dt.date.fromisoformat


def _want_date(v: Any, path: str) -> _dt.date:
    """``values.want(v, "date", path)`` for a ``v`` that is not null, with the common case inline."""
    if v.__class__ is str and len(v) == 10 and v[4] == "-" and v[7] == "-":
        try:
            return _fromiso(v)
        except ValueError:
            pass
    return V.to_date(v, path)


def _is_leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _fast_full_years(start: Any, end: Any) -> Any:
    """``functions.full_years`` with the common case (two dates, start first) inline."""
    if start.__class__ is _date and end.__class__ is _date:
        n = end.year - start.year
        if n > 0:
            sm, em = start.month, end.month
            if sm > em:
                return n - 1
            if sm == em:
                sd = start.day
                if sd == 29 and sm == 2 and not _is_leap(end.year):
                    sd = 28  # 29 Feb -> 28 Feb in a common year
                if sd > end.day:
                    return n - 1
            return n
        if n == 0:
            return 0
    return F.full_years(start, end)


def _fast_years_after(d: Any, n: Any) -> Any:
    """``functions.years_after`` with the common case inline."""
    if d.__class__ is _date and n.__class__ is int:
        y = d.year + n
        if 1 <= y <= 9999:
            if d.month == 2 and d.day == 29 and not _is_leap(y):
                return _date(y, 2, 28)
            return d.replace(year=y)
    return F.years_after(d, n)


def _list_add(a: Any, b: Any) -> Any:
    """``values.cel_add`` for two values typed as lists."""
    ca, cb = a.__class__, b.__class__
    if (ca is list or ca is tuple) and (cb is list or cb is tuple):
        return [*a, *b]
    return V.cel_add(a, b)


def _fast_max(*args: Any) -> Any:
    """``functions.maximum`` with two ints inline (the first of equal values, as ``_extreme`` picks)."""
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            return b if b > a else a
    return F.maximum(*args)


def _fast_min(*args: Any) -> Any:
    """``functions.minimum`` with two ints inline."""
    if len(args) == 2:
        a, b = args
        if a.__class__ is int and b.__class__ is int:
            return b if b < a else a
    return F.minimum(*args)


FAST_IMPLS = (
    (F.full_years, _fast_full_years),
    (F.years_after, _fast_years_after),
    (F.maximum, _fast_max),
    (F.minimum, _fast_min),
)
"""(general implementation, the same with its common case inline): the compiler calls the second."""


def freeze(value: Any) -> Any:
    """Defaults are shared by every record: lists become tuples (CEL lists are immutable)."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


# The namespace of generated code: the helpers it calls by these names.
HELPERS: dict[str, Any] = {
    "_E": EvalError,
    "_Exc": Exception,
    "_wrap": V.wrap_error,
    "_want": V.want,
    "_missing": V.missing_field,
    "_select": V.select,
    "_has": V.has,
    "_eq": V.cel_eq,
    "_ne": V.cel_ne,
    "_lt": V.cel_lt,
    "_le": V.cel_le,
    "_gt": V.cel_gt,
    "_ge": V.cel_ge,
    "_in": V.cel_in,
    "_not": V.cel_not,
    "_logic": V.logic_fix,
    "_wantbool": V.want_bool,
    "_add": V.cel_add,
    "_sub": V.cel_sub,
    "_mul": V.cel_mul,
    "_div": V.cel_div,
    "_mod": V.cel_mod,
    "_neg": V.cel_neg,
    "_index": V.cel_index,
    "_mkmap": V.make_map,
    "_iter": V.iterate,
    "_noover": V.no_overload,
    "_null": V.select,
    "_unkname": V.unknown_name,
    "_unkfn": V.unknown_function,
    "_over": V.cost_limit,
    "_weight": V.weight,
    "_szc": V.size_cost,
    "_len": len,
    "_macroerr": macro_error,
    "_ladd": _list_add,
    "_wdate": _want_date,
    "_fromiso": _fromiso,
    # optional values, two-variable macros
    "_optsel": V.optional_select,
    "_optidx": V.optional_index,
    "_optguard": V.optional_guard,
    "_optlist": V.optional_list,
    "_optmap": V.optional_map,
    "_optinner": V.optional_inner,
    "_wantopt": V.want_optional,
    "_optof": V.optional_of,
    "_OPTNONE": V.OPTIONAL_NONE,
    "_NOVAL": V.NO_VALUE,
    "_pairs": V.pairs,
    "_mergeentry": V.merge_entry,
}
