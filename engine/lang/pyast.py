"""Building blocks of generated code: Python ``ast`` nodes made by name.

``engine.lang.compile`` (single expressions) and ``engine.lang.compile_decision``
(whole decisions and their JSON traces) build Python functions as ``ast``
trees; these are the small node constructors and tests on generated nodes
that both use.  Names in the generated code are the compiler's own (``_t3``,
``_cost``, the helper names of ``engine.lang.runtime.HELPERS``): user text
never becomes a name here, only constants.
"""

from __future__ import annotations

import ast as py

__all__ = [
    "COST",
    "GUARD_CLASS",
    "assign",
    "call",
    "charge",
    "check_budget",
    "class_of",
    "is_",
    "is_bool",
    "mark_bool",
    "name",
    "pure",
    "raise_",
    "same_stmt",
    "store",
    "try_catch",
    "try_keep_first",
]

COST = "_cost"
"""The local variable holding what is left of the cost budget."""

GUARD_CLASS = {
    "string": "str",
    "int": "int",
    "bool": "bool",
    "list": "list",
    "object": "dict",
    "map": "dict",
    "double": "float",
}
"""Schema kind -> the name (in the generated namespace) of the one Python class a value of it has."""


def name(n: str) -> py.Name:
    return py.Name(id=n, ctx=py.Load())


def store(n: str) -> py.Name:
    return py.Name(id=n, ctx=py.Store())


def call(fn: str | py.expr, *args: py.expr) -> py.Call:
    return py.Call(func=name(fn) if isinstance(fn, str) else fn, args=list(args), keywords=[])


def assign(target: str, value: py.expr) -> py.Assign:
    return py.Assign(targets=[store(target)], value=value)


def is_(a: py.expr, b: py.expr, negate: bool = False) -> py.Compare:
    """``a is b`` (``a is not b`` with ``negate``)."""
    return py.Compare(left=a, ops=[py.IsNot() if negate else py.Is()], comparators=[b])


def raise_(e: py.expr) -> py.Raise:
    return py.Raise(exc=e, cause=None)


def try_catch(body: list[py.stmt], target: str) -> py.Try:
    """``try: body  except Exception as e: target = _wrap(e)``."""
    return py.Try(
        body=body,
        handlers=[py.ExceptHandler(type=name("_Exc"), name="_e", body=[assign(target, call("_wrap", name("_e")))])],
        orelse=[],
        finalbody=[],
    )


def absorb_or_keep_error(value: str, result: str, err: str, absorbing: bool) -> py.If:
    """One operand of a short-circuit ``&&``/``||`` (or macro step) seen: ``value is absorbing``
    sets ``result`` and breaks out of the loop; a value neither true nor false (an error) is kept
    in ``err`` when it is the first one."""
    return py.If(
        test=is_(name(value), py.Constant(absorbing)),
        body=[assign(result, py.Constant(absorbing)), py.Break()],
        orelse=[
            py.If(
                test=py.BoolOp(
                    op=py.And(),
                    values=[
                        is_(name(value), py.Constant(not absorbing), negate=True),
                        is_(name(err), py.Constant(None)),
                    ],
                ),
                body=[assign(err, name(value))],
                orelse=[],
            )
        ],
    )


def try_keep_first(body: list[py.stmt], err: str) -> py.Try:
    """``try: body  except Exception as e: if err is None: err = _wrap(e)``."""
    return py.Try(
        body=body,
        handlers=[
            py.ExceptHandler(
                type=name("_Exc"),
                name="_e",
                body=[
                    py.If(
                        test=is_(name(err), py.Constant(None)), body=[assign(err, call("_wrap", name("_e")))], orelse=[]
                    )
                ],
            )
        ],
        orelse=[],
        finalbody=[],
    )


def charge(amount: py.expr, cost: str = COST) -> py.AugAssign:
    """``_cost -= amount``."""
    return py.AugAssign(target=store(cost), op=py.Sub(), value=amount)


def check_budget(cost: str = COST) -> py.If:
    """``if _cost < 0: raise _over()``."""
    return py.If(
        test=py.Compare(left=name(cost), ops=[py.Lt()], comparators=[py.Constant(0)]),
        body=[raise_(call("_over"))],
        orelse=[],
    )


def mark_bool(e: py.expr) -> py.expr:
    """Mark a generated expression whose value is always exactly True or False."""
    e.cel_bool = True  # type: ignore[attr-defined]  # a mark of our own on the generated node (is_bool)
    return e


def is_bool(e: py.expr) -> bool:
    """Whether a generated expression is known to be exactly True or False (see :func:`mark_bool`)."""
    return getattr(e, "cel_bool", False) or (isinstance(e, py.UnaryOp) and isinstance(e.op, py.Not))


def pure(e: py.expr) -> bool:
    """An expression of local variables that cannot fail or change (may run after later statements)."""
    if isinstance(e, (py.Name, py.Constant)):
        return True
    return (
        isinstance(e, py.UnaryOp) and isinstance(e.op, py.Not) and isinstance(e.operand, py.Name) and is_bool(e.operand)
    )


def same_stmt(a: py.stmt, b: py.stmt) -> bool:
    return py.dump(a) == py.dump(b)


def class_of(e: py.expr) -> py.Attribute:
    """``e.__class__``."""
    return py.Attribute(value=e, attr="__class__", ctx=py.Load())
