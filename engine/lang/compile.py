"""Compile a checked expression into a Python function, once.

The checked tree is lowered to Python ``ast`` statements (temporaries,
``if``/``try``/``for``), wrapped in ``def f(rec, as_of, ctx): ... return r``,
compiled with :func:`compile` and executed in a namespace whose
``__builtins__`` is empty.  User text only ever becomes constants (field
names, string literals) or numbered local names (macro variables): there is
no ``eval`` of source text, and no attribute of a user value is ever read by
name, so an expression cannot reach Python internals.

Semantics follow CEL (see ``engine.lang.values``); the reference interpreter
``engine.lang.interp`` implements the same semantics as a tree walk, and the
differential tests hold the two to the same results:

* errors are values: an operation that fails raises ``EvalError`` inside the
  generated code; ``&&`` and ``||`` catch the error of either operand and let
  a ``false`` (resp. ``true``) on the other side win, as do ``all`` and
  ``exists``; anything else propagates to the evaluator, which makes the rule
  status ``error`` and names the field;
* where the checker proved the operand types (a string field compared with a
  string literal) the plain Python operator is emitted; otherwise a general
  helper from ``engine.lang.values`` decides at run time (``dyn``);
* record fields are read through their schema: a field with a ``default``
  reads as the default when absent, one without raises ``eval.missing-field``
  naming the path, and every value read is checked against its declared type
  (dates are parsed) so that wrong data is an error, never a silent pass;
* names the checker could not resolve and calls it could not match (when a
  caller evaluates despite check errors, as CEL's ``disable_check`` does) are
  errors at run time, not at compile time;
* cost: the generated function keeps a budget of ``values.MAX_COST`` units in
  a local variable and charges it as ``values`` describes (each macro
  iteration; text, bytes and lists built by ``+``; containers placed in
  literals and ``map`` results; inside macros, the size of what comparisons,
  ``in`` and text functions scan).  The budget is checked at the start of
  every macro iteration and before returning; once spent, the result is the
  error ``eval.cost-limit``.

An expression that Python cannot compile (one nested so deeply that the
generated loops exceed Python's block limit) is evaluated by the interpreter
instead, with the same results.

Named values are compiled to functions that cache their result (or error) in
``ctx``, a dict that lives for one record.

Whole decisions and their JSON traces are compiled from these pieces in
``engine.lang.compile_decision``.
"""

from __future__ import annotations

import ast as py
import datetime as _dt
import sys
from collections.abc import Callable
from typing import Any, cast

from engine.errors import EvalError
from engine.lang import ast as A
from engine.lang import functions as F
from engine.lang import pyast as P
from engine.lang import runtime as R
from engine.lang import values as V
from engine.lang.check import Checked
from engine.lang.interp import interpret_condition
from engine.lang.runtime import CompiledFn
from engine.lang.types import Type

__all__ = ["CompiledFn", "ExpressionGen", "cached_value", "compile_condition", "python_source"]

_SAME_KIND_EQ = {"string", "int", "bool", "date", "bytes", "uint", "timestamp", "duration", "type"}
_ORDERED = {"string", "int", "uint", "double", "date", "bytes", "timestamp", "duration"}
_CMP_OPS = {"==": py.Eq, "!=": py.NotEq, "<": py.Lt, "<=": py.LtE, ">": py.Gt, ">=": py.GtE}
_CMP_HELPERS = {"==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_ARITH_HELPERS = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod"}


# Comparisons between values of these static kinds always give a Python bool.
_BOOL_CMP_KINDS = frozenset({"string", "int", "uint", "bool", "date", "double", "null"})


class ExpressionGen:
    """Lowers one checked expression to Python ``ast`` statements (subclassed for whole decisions)."""

    def __init__(self, checked: Checked, names: dict[tuple[str, str], Any], params: dict[str, Any]) -> None:
        self.c = checked
        self.names = names  # ("value"|"local", name) -> compiled function
        self.params = params
        self.g: dict[str, Any] = {"__builtins__": {}, **R.HELPERS, **R.PY_CLASSES}
        self.n = 0
        self.var_names: list[tuple[str, str, str]] = []  # (cel name, python name, path label)
        self.loop_depth = 0
        self.uses_cost = False
        self.cost = P.COST  # the name of the budget variable of the expression being generated
        self.charges = 0  # statements charging the budget generated so far
        # optimistic code (whole decisions): no error values; anything unexpected raises, and the
        # caller then runs the exact code instead (see ``compile_decision``)
        self.fast = False

    def tmp(self, prefix: str = "t") -> str:
        self.n += 1
        return f"_{prefix}{self.n}"

    def const(self, value: Any) -> py.expr:
        if value is None or type(value) in (int, float, str, bool, bytes):
            return py.Constant(value=value)
        name = f"_k{self.n}"
        self.n += 1
        self.g[name] = value
        return P.name(name)

    def t(self, node: A.Node) -> Type:
        return self.c.type_of(node)

    def as_name(self, e: py.expr, out: list[py.stmt]) -> py.expr:
        if isinstance(e, (py.Name, py.Constant)):
            return e
        n = self.tmp()
        out.append(P.assign(n, e))
        return P.name(n)

    def ordered(self, nodes: list[A.Node], out: list[py.stmt]) -> list[py.expr]:
        """The expressions of ``nodes``, evaluated left to right as CEL (and the interpreter) do.

        Generating a node may put statements into ``out`` (a record read and its
        guard, a macro); the expressions of the nodes before it are then moved
        into temporaries ahead of those statements, so they still run first.
        """
        results: list[py.expr] = []
        for node in nodes:
            mark = len(out)
            e = self.expr(node, out)
            if len(out) > mark and any(not isinstance(r, (py.Name, py.Constant)) for r in results):
                added = out[mark:]
                del out[mark:]
                results = [self.as_name(r, out) for r in results]
                out.extend(added)
            results.append(e)
        return results

    def ordered_pair(self, left: py.expr, right_node: A.Node, out: list[py.stmt]) -> tuple[py.expr, py.expr]:
        """``left`` (already generated) and the expression of ``right_node``, in that order."""
        mark = len(out)
        right = self.expr(right_node, out)
        if len(out) > mark and not isinstance(left, (py.Name, py.Constant)):
            added = out[mark:]
            del out[mark:]
            left = self.as_name(left, out)
            out.extend(added)
        return left, right

    def materialize(self, exprs: list[py.expr], out: list[py.stmt]) -> list[py.expr]:
        """Every expression in a temporary, in order (before statements that use them)."""
        return [self.as_name(e, out) for e in exprs]

    def charge(self, amount: py.expr, out: list[py.stmt]) -> None:
        self.uses_cost = True
        self.charges += 1
        out.append(P.charge(amount, self.cost))

    def scans(self, node: A.Node) -> bool:
        """Whether scanning the value of ``node`` is charged: inside a macro, and not a constant or a scalar."""
        return self.loop_depth > 0 and not R.is_constant(node, self.c) and self.t(node).kind not in R.SCALAR_KINDS

    def scan_cost(self, node: A.Node, value: py.expr, out: list[py.stmt], deep: bool = False) -> py.expr:
        """Inside a macro, charge the size of an operand that a comparison or function scans."""
        if not self.scans(node):
            return value
        value = self.as_name(value, out)
        self.charge(P.call("_weight", value, P.name(self.cost)) if deep else P.call("_szc", value), out)
        return value

    # -- nodes

    def expr(self, node: A.Node, out: list[py.stmt]) -> py.expr:
        return getattr(self, "x_" + type(node).__name__)(node, out)  # type: ignore[no-any-return]  # x_<kind> -> expr

    def x_Literal(self, node: A.Literal, out: list[py.stmt]) -> py.expr:
        if node.kind == "uint":
            return self.const(V.UInt(cast(int, node.value)))  # the parser gives a uint literal an int value
        return self.const(node.value)

    def x_Ident(self, node: A.Node, out: list[py.stmt]) -> py.expr:
        resolved = self.c.idents.get(id(node))
        if resolved is None:
            return P.call("_unkname", py.Constant(getattr(node, "name", None) or R.dotted(node)))
        kind, name = resolved
        if kind == "record":
            return P.name("rec")
        if kind == "as_of":
            return P.name("as_of")
        if kind == "var":
            for cel, pyname, _label in reversed(self.var_names):
                if cel == name:
                    return P.name(pyname)
            raise AssertionError(name)
        if kind == "param":
            value = self.params[name]
            return self.const(tuple(value) if isinstance(value, list) else value)
        if kind == "type":
            return self.const(V.TYPES[name])
        fn = self.names[(kind, name)]
        gname = f"_n{self.n}"
        self.n += 1
        self.g[gname] = fn
        return P.call(gname, P.name("rec"), P.name("as_of"), P.name("ctx"))

    def path_of(self, node: A.Node) -> str:
        """A readable path for messages (see ``Checked.path_of``)."""

        def label(name: str) -> str | None:
            return next((lbl for cel, _py, lbl in reversed(self.var_names) if cel == name), None)

        return self.c.path_of(node, label)

    def guard(self, value: py.expr, ft: Type, path: str, out: list[py.stmt], into: str | None = None) -> py.expr:
        """Check a value read from the record against its schema type (``into``: a variable
        already holding the value, re-assigned in place)."""
        kind = ft.kind
        if kind not in P.GUARD_CLASS and kind != "date":
            return value
        n = into or (value.id if isinstance(value, py.Name) and value.id.startswith("_t") else None)
        if n is None:
            n = self.tmp()
            out.append(P.assign(n, value))
        call: py.expr = P.call("_want", P.name(n), py.Constant(kind), py.Constant(path), py.Constant(ft.nullable))
        if kind == "date":
            call = P.call("_wdate", P.name(n), py.Constant(path))  # `want` for a value that is not null
            if self.fast:
                # a text YYYY-MM-DD parsed inline (a bad one raises: the exact code says why)
                x = P.name(n)
                call = py.IfExp(
                    test=py.BoolOp(
                        op=py.And(),
                        values=[
                            P.is_(P.class_of(x), P.name("str")),
                            py.Compare(left=P.call("_len", x), ops=[py.Eq()], comparators=[py.Constant(10)]),
                            py.Compare(
                                left=py.Subscript(value=x, slice=py.Constant(4), ctx=py.Load()),
                                ops=[py.Eq()],
                                comparators=[py.Constant("-")],
                            ),
                            py.Compare(
                                left=py.Subscript(value=x, slice=py.Constant(7), ctx=py.Load()),
                                ops=[py.Eq()],
                                comparators=[py.Constant("-")],
                            ),
                        ],
                    ),
                    body=P.call("_fromiso", x),
                    orelse=call,
                )
            if ft.nullable:
                out.append(
                    py.If(test=P.is_(P.name(n), py.Constant(None), negate=True), body=[P.assign(n, call)], orelse=[])
                )
            else:
                out.append(P.assign(n, call))
            return P.name(n)
        cls = P.GUARD_CLASS[kind]
        test: py.expr = P.is_(py.Attribute(value=P.name(n), attr="__class__", ctx=py.Load()), P.name(cls), negate=True)
        if kind == "list":  # a default (frozen to a tuple) or a parameter list is a list too
            test = py.BoolOp(op=py.And(), values=[test, P.is_(P.class_of(P.name(n)), P.name("tuple"), negate=True)])
        if ft.nullable:
            test = py.BoolOp(op=py.And(), values=[P.is_(P.name(n), py.Constant(None), negate=True), test])
        if self.fast and cls == "dict":
            # only a plain dict, whose missing keys raise KeyError (``select`` relies on it)
            out.append(py.If(test=test, body=[P.raise_(P.name("_Bail"))], orelse=[]))
            return P.name(n)
        out.append(py.If(test=test, body=[P.assign(n, call)], orelse=[]))
        return P.mark_bool(P.name(n)) if kind == "bool" and not ft.nullable else P.name(n)

    def x_Select(self, node: A.Select, out: list[py.stmt]) -> py.expr:
        if id(node) in self.c.idents:  # a qualified name such as `a.b.c`
            return self.x_Ident(node, out)
        cache = self.read_cache(node)
        if cache is not None:
            # read (and check) once: later reads of the same field use the variable
            stmts: list[py.stmt] = []
            stmts.append(P.assign(cache, self.select(node, stmts)))
            out.append(py.If(test=P.is_(P.name(cache), P.name("_U")), body=stmts, orelse=[]))
            return P.name(cache)
        return self.select(node, out)

    def read_cache(self, node: A.Select) -> str | None:
        """The variable that keeps this field once read (whole-decision code only)."""
        return None

    def iteration_caches(self, node: A.Comprehension) -> list[py.stmt]:
        """Statements starting each iteration of a macro (whole-decision code only)."""
        return []

    def select(self, node: A.Select, out: list[py.stmt]) -> py.expr:
        ot = self.t(node.operand)
        o = self.as_name(self.expr(node.operand, out), out)
        path = self.path_of(node)
        if ot.kind != "object":
            return self.guard(P.call("_select", o, py.Constant(node.field), py.Constant(path)), self.t(node), path, out)
        if ot.nullable:
            out.append(
                py.If(
                    test=P.is_(o, py.Constant(None)),
                    body=[py.Expr(value=P.call("_null", o, py.Constant(node.field), py.Constant(path)))],
                    orelse=[],
                )
            )
        ft = self.t(node)
        key = py.Constant(node.field)
        if ft.has_default:
            read: py.expr = P.call(
                py.Attribute(value=o, attr="get", ctx=py.Load()), key, self.const(R.freeze(ft.default))
            )
        elif self.fast:
            read = py.Subscript(value=o, slice=key, ctx=py.Load())  # a plain dict: KeyError when missing
        else:
            read = py.IfExp(
                test=py.Compare(left=key, ops=[py.In()], comparators=[o]),
                body=py.Subscript(value=o, slice=key, ctx=py.Load()),
                orelse=P.call("_missing", py.Constant(path)),
            )
        return self.guard(read, ft, path, out)

    def x_Has(self, node: A.Has, out: list[py.stmt]) -> py.expr:
        o = self.expr(node.operand, out)
        return P.mark_bool(P.call("_has", o, py.Constant(node.field)))  # the helpers of tests give exact bools

    def x_OptSelect(self, node: A.OptSelect, out: list[py.stmt]) -> py.expr:
        o = self.expr(node.operand, out)
        path = self.path_of(node)
        value: py.expr = P.call("_optsel", o, py.Constant(node.field), py.Constant(path))
        ot = self.t(node.operand)
        if ot.kind == "optional":
            ot = ot.elem or ot
        ft = self.t(node).elem
        if ot.kind == "object" and ft is not None and (ft.kind in P.GUARD_CLASS or ft.kind == "date"):
            # a record field read through its schema: the value it holds is checked (dates parsed)
            value = P.call("_optguard", value, py.Constant(ft.kind), py.Constant(path), py.Constant(ft.nullable))
        return value

    def x_OptIndex(self, node: A.OptIndex, out: list[py.stmt]) -> py.expr:
        return P.call("_optidx", *self.ordered([node.operand, node.index], out))

    def x_Index(self, node: A.Index, out: list[py.stmt]) -> py.expr:
        value = P.call("_index", *self.ordered([node.operand, node.index], out))
        ot = self.t(node.operand)
        if ot.kind == "list" and ot.elem is not None:
            return self.guard(value, ot.elem, self.path_of(node), out)
        return value

    def element_charges(self, nodes: list[A.Node], exprs: list[py.expr], out: list[py.stmt]) -> list[py.expr]:
        """Charge the size of containers and texts placed into a new list or map."""
        charged = [
            i for i, n in enumerate(nodes) if not isinstance(n, A.Literal) and self.t(n).kind not in R.SCALAR_KINDS
        ]
        if not charged:
            return exprs
        exprs = self.materialize(exprs, out)
        for i in charged:
            self.charge(P.call("_weight", exprs[i], P.name(self.cost)), out)
        return exprs

    def x_ListLit(self, node: A.ListLit, out: list[py.stmt]) -> py.expr:
        nodes = list(node.elements)
        elts = self.element_charges(nodes, self.ordered(nodes, out), out)
        if node.optional:  # elements written `?x`: kept when they hold a value
            return P.call("_optlist", py.List(elts=elts, ctx=py.Load()), self.const(node.optional))
        return py.List(elts=elts, ctx=py.Load())

    def x_MapLit(self, node: A.MapLit, out: list[py.stmt]) -> py.expr:
        nodes = [x for kv in node.entries for x in kv]  # k1, v1, k2, v2, ... in the order they run
        flat = self.element_charges(nodes, self.ordered(nodes, out), out)
        keys, values = py.List(elts=flat[0::2], ctx=py.Load()), py.List(elts=flat[1::2], ctx=py.Load())
        if node.optional:  # entries written `?k: v`: kept when `v` holds a value
            return P.call("_optmap", keys, values, self.const(node.optional))
        return P.call("_mkmap", keys, values)

    def x_Unary(self, node: A.Unary, out: list[py.stmt]) -> py.expr:
        o = self.expr(node.operand, out)
        ot = self.t(node.operand)
        if node.op == "!":
            if ot.kind == "bool" and not ot.nullable:
                return py.UnaryOp(op=py.Not(), operand=o)
            return P.mark_bool(P.call("_not", o))
        if ot.kind == "double" and not ot.nullable:
            return py.UnaryOp(op=py.USub(), operand=o)
        return P.call("_neg", o)

    def logic(self, node: A.Binary, out: list[py.stmt]) -> py.expr:
        """A chain ``a && b && ...`` (or ``||``) with CEL's commutative error handling.

        The operands are evaluated in order inside one ``while True: ... break``
        block (so a long chain does not nest), each in its own ``try``.  The
        absorbing value (``false`` for ``&&``, ``true`` for ``||``) ends the chain
        at once; otherwise the first error (or non-bool) is raised at the end.
        """
        absorbing = node.op == "||"
        operands = R.operands(node, node.op)
        if self.fast:
            return self.fast_logic(operands, absorbing, out)
        r, err = self.tmp("r"), self.tmp("err")
        out.append(P.assign(r, py.Constant(not absorbing)))
        out.append(P.assign(err, py.Constant(None)))
        body: list[py.stmt] = []
        for operand in operands:
            v = self.tmp("a")
            stmts: list[py.stmt] = []
            e = self.expr(operand, stmts)
            if P.is_bool(e):
                # exactly true or false, or an exception: one test, and the handler keeps the first error
                stmts.append(
                    py.If(
                        test=e if absorbing else py.UnaryOp(op=py.Not(), operand=e),
                        body=[P.assign(r, py.Constant(absorbing)), py.Break()],
                        orelse=[],
                    )
                )
                body.append(P.try_keep_first(stmts, err))
                continue
            stmts.append(P.assign(v, e))
            body.append(P.try_catch(stmts, v))
            body.append(P.absorb_or_keep_error(v, r, err, absorbing))
        body.append(py.Break())
        out.append(py.While(test=py.Constant(True), body=body, orelse=[]))
        out.append(
            py.If(
                test=py.BoolOp(
                    op=py.And(),
                    values=[
                        P.is_(P.name(r), py.Constant(not absorbing)),
                        P.is_(P.name(err), py.Constant(None), negate=True),
                    ],
                ),
                body=[P.raise_(P.call("_macroerr", P.name(err), py.Constant(node.op)))],
                orelse=[],
            )
        )
        return P.mark_bool(P.name(r))  # only ever assigned True or False

    def fast_logic(self, operands: list[A.Node], absorbing: bool, out: list[py.stmt]) -> py.expr:
        """The chain in optimistic code: no errors to keep (an error raises), so it stops at the
        first absorbing value."""
        r = self.tmp("r")
        out.append(P.assign(r, py.Constant(not absorbing)))
        body: list[py.stmt] = []
        stop = [P.assign(r, py.Constant(absorbing)), py.Break()]
        for operand in operands:
            self.stop_at(self.expr(operand, body), absorbing, stop, body)
        body.append(py.Break())
        out.append(py.While(test=py.Constant(True), body=body, orelse=[]))
        return P.mark_bool(P.name(r))

    def stop_at(self, e: py.expr, absorbing: bool, stop: list[py.stmt], out: list[py.stmt]) -> None:
        """Run ``stop`` when ``e`` is ``absorbing``; a value that is not a bool leaves the
        optimistic function (``_Bail``: the exact one then reports it)."""
        if P.is_bool(e):
            out.append(py.If(test=e if absorbing else py.UnaryOp(op=py.Not(), operand=e), body=stop, orelse=[]))
            return
        v = self.named(e, out)
        out.append(
            py.If(
                test=P.is_(v, py.Constant(absorbing)),
                body=stop,
                orelse=[
                    py.If(
                        test=P.is_(v, py.Constant(not absorbing), negate=True),
                        body=[P.raise_(P.name("_Bail"))],
                        orelse=[],
                    )
                ],
            )
        )

    def named(self, e: py.expr, out: list[py.stmt]) -> py.Name:
        """``e`` in a variable (a constant too: ``is`` with a literal is a SyntaxWarning)."""
        if isinstance(e, py.Name):
            return e
        n = self.tmp()
        out.append(P.assign(n, e))
        return P.name(n)

    def x_Binary(self, node: A.Binary, out: list[py.stmt]) -> py.expr:
        op = node.op
        if op in ("&&", "||"):
            return self.logic(node, out)
        lt, rt = self.t(node.left), self.t(node.right)
        if op == "in":
            left = self.expr(node.left, out)
            right_node = node.right
            resolved = self.c.idents.get(id(right_node), ("", ""))
            if resolved[0] == "param":
                value = self.params.get(resolved[1])
                if isinstance(value, (list, tuple)) and value and all(type(v) is str for v in value):
                    if lt.kind == "string" and not lt.nullable:
                        return P.mark_bool(
                            py.Compare(left=left, ops=[py.In()], comparators=[self.const(frozenset(value))])
                        )
                    if lt.kind in ("dyn", "string"):
                        # a string is looked up in a set; anything else takes CEL's general `in`
                        left = self.as_name(left, out)
                        return P.mark_bool(
                            py.IfExp(
                                test=P.is_(P.class_of(left), P.name("str")),
                                body=py.Compare(left=left, ops=[py.In()], comparators=[self.const(frozenset(value))]),
                                orelse=P.call("_in", left, self.const(tuple(value))),
                            )
                        )
            left, right = self.ordered_pair(left, right_node, out)
            if self.scans(right_node):
                left, right = self.materialize([left, right], out)
                right = self.scan_cost(right_node, right, out, deep=True)
            el = rt.elem if rt.kind == "list" else None
            if el is not None and el.kind == lt.kind and lt.kind in ("string", "date") and not lt.nullable:
                return P.mark_bool(py.Compare(left=left, ops=[py.In()], comparators=[right]))
            return P.mark_bool(P.call("_in", left, right))
        left, right = self.ordered([node.left, node.right], out)
        if op in ("==", "!=") and any(isinstance(n, A.Literal) and n.kind == "null" for n in (node.left, node.right)):
            # CEL's `x == null` is true exactly for null (``cel_eq``): an identity test (and a
            # comparison with a literal is not charged)
            other = right if isinstance(node.left, A.Literal) and node.left.kind == "null" else left
            return P.mark_bool(
                py.Compare(left=other, ops=[py.Is() if op == "==" else py.IsNot()], comparators=[py.Constant(None)])
            )
        if op in _CMP_OPS:
            if not R.is_constant(node.right, self.c) and self.scans(node.left):
                left, right = self.materialize([left, right], out)
                left = self.scan_cost(node.left, left, out, deep=op in ("==", "!="))
            fast = False
            if op in ("==", "!="):
                fast = (lt.kind == rt.kind and lt.kind in _SAME_KIND_EQ) or (
                    "null" in (lt.kind, rt.kind) and "dyn" not in (lt.kind, rt.kind)
                )
            else:
                fast = not lt.nullable and not rt.nullable and lt.kind == rt.kind and lt.kind in _ORDERED
            if not fast and not lt.nullable and not rt.nullable and {lt.kind, rt.kind} == {"int", "double"}:
                # int against double compares the int as a double; an int literal becomes one now
                if isinstance(node.left, A.Literal) and lt.kind == "int":
                    left, fast = py.Constant(float(cast(int, node.left.value))), True  # an int literal's value
                elif isinstance(node.right, A.Literal) and rt.kind == "int":
                    right, fast = py.Constant(float(cast(int, node.right.value))), True  # an int literal's value
            if fast:
                cmp = py.Compare(left=left, ops=[_CMP_OPS[op]()], comparators=[right])
                return P.mark_bool(cmp) if lt.kind in _BOOL_CMP_KINDS and rt.kind in _BOOL_CMP_KINDS else cmp
            if op in ("==", "!=") and "dyn" in (lt.kind, rt.kind):
                # a dyn operand against a string or int literal: the plain operator when the classes match
                if (
                    isinstance(node.left, A.Literal)
                    and node.left.kind in ("string", "int")
                    and isinstance(right, py.Name)
                ):
                    cls = "str" if node.left.kind == "string" else "int"
                    return P.mark_bool(
                        py.IfExp(
                            test=P.is_(P.class_of(right), P.name(cls)),
                            body=py.Compare(left=left, ops=[_CMP_OPS[op]()], comparators=[right]),
                            orelse=P.call(_CMP_HELPERS[op], left, right),
                        )
                    )
                if isinstance(node.right, A.Literal) and node.right.kind in ("string", "int"):
                    left = self.as_name(left, out)
                    cls = "str" if node.right.kind == "string" else "int"
                    return P.mark_bool(
                        py.IfExp(
                            test=P.is_(P.class_of(left), P.name(cls)),
                            body=py.Compare(left=left, ops=[_CMP_OPS[op]()], comparators=[right]),
                            orelse=P.call(_CMP_HELPERS[op], left, right),
                        )
                    )
            return P.mark_bool(P.call(_CMP_HELPERS[op], left, right))
        if (
            lt.kind == rt.kind
            and not lt.nullable
            and not rt.nullable
            and ((lt.kind == "string" and op == "+") or (lt.kind == "double" and op in "+-*"))
        ):
            pyop = {"+": py.Add, "-": py.Sub, "*": py.Mult}[op]()
            result: py.expr = py.BinOp(left=left, op=pyop, right=right)
            if lt.kind == "string":
                result = self.as_name(result, out)
                self.charge(py.BinOp(left=P.call("_len", result), op=py.RShift(), right=py.Constant(4)), out)
            return result
        if op == "+" and lt.kind == rt.kind == "list" and not lt.nullable and not rt.nullable:
            # two lists (list or tuple values): a new list of both, as ``cel_add`` makes
            result = self.as_name(P.call("_ladd", left, right), out)
            self.charge(P.call("_len", result), out)
            return result
        result = P.call(_ARITH_HELPERS[op], left, right)
        if op == "+" and (lt.kind not in R.SCALAR_KINDS or rt.kind not in R.SCALAR_KINDS):
            result = self.as_name(result, out)
            self.charge(P.call("_szc", result), out)
        return result

    def x_Call(self, node: A.Call, out: list[py.stmt]) -> py.expr:
        function, args, _member = R.call_parts(node, self.c)
        values = self.ordered(args, out)
        overload = self.c.overloads.get(id(node))
        spec = self.c.functions.get(function) if self.c.functions is not None else None
        if overload is None:
            impl: Any = R.dispatcher(node, spec, self.c)
        else:
            impl = overload.impl
            for general, fast_impl in R.FAST_IMPLS:
                if impl is general:
                    impl = fast_impl
            if impl is F.size and len(args) == 1:
                at = self.t(args[0])
                if at.kind in ("string", "list") and not at.nullable:
                    impl = len  # proven a string or a list: `size` is its length
        if spec is not None and spec.scans and any(self.scans(a) for a in args):
            values = self.materialize(values, out)
            values = [self.scan_cost(a, v, out, spec.scans_deep) for a, v in zip(args, values, strict=True)]
        fname = f"_f{self.n}"
        self.n += 1
        self.g[fname] = impl
        return P.call(fname, *values)

    def x_Conditional(self, node: A.Conditional, out: list[py.stmt]) -> py.expr:
        c = self.expr(node.cond, out)
        if not isinstance(c, py.Name):  # `is` with a literal would be a SyntaxWarning
            n = self.tmp()
            out.append(P.assign(n, c))
            c = P.name(n)
        r = self.tmp("r")
        then_body: list[py.stmt] = []
        then_body.append(P.assign(r, self.expr(node.then, then_body)))
        else_body: list[py.stmt] = []
        else_body.append(P.assign(r, self.expr(node.other, else_body)))
        out.append(
            py.If(
                test=P.is_(c, py.Constant(True)),
                body=then_body,
                orelse=[
                    py.If(
                        test=P.is_(c, py.Constant(False)),
                        body=else_body,
                        orelse=[P.raise_(P.call("_noover", py.Constant("?:"), c))],
                    )
                ],
            )
        )
        return P.name(r)

    def x_Comprehension(self, node: A.Comprehension, out: list[py.stmt]) -> py.expr:
        if node.macro in ("optMap", "optFlatMap"):
            return self.optional_macro(node, out)
        target = self.expr(node.target, out)
        tt = self.t(node.target)
        if node.var2 is not None:  # (index, element) of a list, (key, value) of a map
            target = P.call("_pairs", target, py.Constant(node.macro))
        elif tt.kind not in ("list", "object", "map") or tt.nullable:
            target = P.call("_iter", target, py.Constant(node.macro))
        var = self.tmp("v")
        label = self.path_of(node.target) + "[]" if tt.kind == "list" else node.var2 or node.var
        elem = tt.elem if tt.kind == "list" and not tt.nullable else None
        key = None
        if node.var2 is not None:
            key = self.tmp("v")
            self.var_names.append((node.var, key, node.var))
            self.var_names.append((node.var2, var, label))
        else:
            self.var_names.append((node.var, var, label))
        self.loop_depth += 1
        try:
            return self._comprehension(node, target, var, out, elem, label, key)
        finally:
            self.loop_depth -= 1
            del self.var_names[-2 if key is not None else -1 :]

    def optional_macro(self, node: A.Comprehension, out: list[py.stmt]) -> py.expr:
        """``o.optMap(x, f)`` and ``o.optFlatMap(x, f)``: ``f`` with ``x`` the value ``o`` holds, or none."""
        macro = py.Constant(node.macro)
        inner, r, var = self.tmp(), self.tmp("r"), self.tmp("v")
        out.append(P.assign(inner, P.call("_optinner", self.expr(node.target, out), macro)))
        body: list[py.stmt] = [P.assign(var, P.name(inner))]
        self.var_names.append((node.var, var, node.var))
        try:
            e = self.expr(node.body, body)
        finally:
            self.var_names.pop()
        if node.macro == "optMap":
            body.append(P.assign(r, P.call("_optof", e)))
        else:
            body.append(P.assign(r, P.call("_wantopt", e, macro)))
        out.append(
            py.If(test=P.is_(P.name(inner), P.name("_NOVAL")), body=[P.assign(r, P.name("_OPTNONE"))], orelse=body)
        )
        return P.name(r)

    def x_Bind(self, node: A.Bind, out: list[py.stmt]) -> py.expr:
        var = self.tmp("v")
        out.append(P.assign(var, self.expr(node.init, out)))
        path = self.path_of(node.init)
        self.var_names.append((node.var, var, node.var if path.startswith("(value)") or not path else path))
        try:
            return self.expr(node.body, out)
        finally:
            self.var_names.pop()

    def element_guard(self, var: str, elem: Type | None, label: str) -> list[py.stmt]:
        """Statements checking one list element against the schema's item type."""
        if elem is None or elem.kind in ("dyn", "null"):
            return []
        stmts: list[py.stmt] = []
        self.guard(P.name(var), elem, label, stmts, into=var)
        return stmts

    def _comprehension(
        self,
        node: A.Comprehension,
        target: py.expr,
        var: str,
        out: list[py.stmt],
        elem: Type | None,
        label: str,
        key: str | None = None,
    ) -> py.expr:
        acc, p = self.tmp("acc"), self.tmp("p")
        self.uses_cost = True
        self.charges += 1
        charges = self.charges
        loop_body: list[py.stmt] = []
        guard = self.element_guard(var, elem, label)
        caches = self.iteration_caches(node)
        if caches:
            loop_body.extend(caches)
        after: list[py.stmt] = []
        if self.fast:
            result = self.fast_comprehension(node, var, acc, p, guard, loop_body, out)
        else:
            result = self.exact_comprehension(node, var, acc, p, guard, loop_body, out, after)
        if self.fast and self.charges == charges:
            # nothing in the body charges: count the iterations, test the budget after the loop
            # (the work done meanwhile is one step per element of a list already in memory)
            loop_body[:0] = [P.charge(py.Constant(1), self.cost)]
            after.insert(0, P.check_budget(self.cost))
        else:
            loop_body[:0] = [P.charge(py.Constant(1), self.cost), P.check_budget(self.cost)]
        loop_var: py.expr = P.store(var)
        if key is not None:
            loop_var = py.Tuple(elts=[P.store(key), P.store(var)], ctx=py.Store())
        out.append(py.For(target=loop_var, iter=target, body=loop_body, orelse=[]))
        out.extend(after)
        return result

    def fast_comprehension(
        self,
        node: A.Comprehension,
        var: str,
        acc: str,
        p: str,
        guard: list[py.stmt],
        loop_body: list[py.stmt],
        out: list[py.stmt],
    ) -> py.expr:
        """The macro in optimistic code: an error (or a value that is not a bool) raises."""
        macro = node.macro
        loop_body.extend(guard)
        if macro in ("all", "exists"):
            stop = macro == "exists"
            out.append(P.assign(acc, py.Constant(not stop)))
            done = [P.assign(acc, py.Constant(stop)), py.Break()]
            self.stop_at(self.expr(node.body, loop_body), stop, done, loop_body)
            return P.mark_bool(P.name(acc))
        return self.build_comprehension(node, var, acc, p, loop_body, out)

    def exact_comprehension(
        self,
        node: A.Comprehension,
        var: str,
        acc: str,
        p: str,
        guard: list[py.stmt],
        loop_body: list[py.stmt],
        out: list[py.stmt],
        after: list[py.stmt],
    ) -> py.expr:
        """The macro with CEL's error handling (``after``: statements following the loop)."""
        macro = node.macro
        if macro in ("all", "exists"):
            stop = macro == "exists"  # the predicate value that decides the result
            err = self.tmp("err")
            pbody: list[py.stmt] = guard
            e = self.expr(node.body, pbody)
            out.append(P.assign(acc, py.Constant(not stop)))
            out.append(P.assign(err, py.Constant(None)))
            if P.is_bool(e):
                pbody.append(
                    py.If(
                        test=e if stop else py.UnaryOp(op=py.Not(), operand=e),
                        body=[P.assign(acc, py.Constant(stop)), py.Break()],
                        orelse=[],
                    )
                )
                loop_body.append(P.try_keep_first(pbody, err))
            else:
                pbody.append(P.assign(p, e))
                loop_body.append(P.try_catch(pbody, p))
            if not P.is_bool(e):
                loop_body.append(P.absorb_or_keep_error(p, acc, err, stop))
            after.append(
                py.If(
                    test=py.BoolOp(
                        op=py.And(),
                        values=[
                            P.is_(P.name(acc), py.Constant(not stop)),
                            P.is_(P.name(err), py.Constant(None), negate=True),
                        ],
                    ),
                    body=[P.raise_(P.call("_macroerr", P.name(err), py.Constant(macro)))],
                    orelse=[],
                )
            )
            return P.mark_bool(P.name(acc))
        loop_body.extend(guard)
        return self.build_comprehension(node, var, acc, p, loop_body, out)

    def build_comprehension(
        self, node: A.Comprehension, var: str, acc: str, p: str, loop_body: list[py.stmt], out: list[py.stmt]
    ) -> py.expr:
        """exists_one, filter and map (the same in exact and optimistic code)."""
        macro = node.macro
        not_bool = py.If(
            test=P.is_(P.name(p), py.Constant(False), negate=True),
            body=[P.raise_(P.call("_noover", py.Constant(macro), P.name(p)))],
            orelse=[],
        )
        if macro == "exists_one":
            out.append(P.assign(acc, py.Constant(0)))
            e = self.expr(node.body, loop_body)
            count: list[py.stmt] = [py.AugAssign(target=P.store(acc), op=py.Add(), value=py.Constant(1))]
            if P.is_bool(e):
                loop_body.append(py.If(test=e, body=count, orelse=[]))
            else:
                loop_body.append(P.assign(p, e))
                loop_body.append(py.If(test=P.is_(P.name(p), py.Constant(True)), body=count, orelse=[not_bool]))
            return P.mark_bool(py.Compare(left=P.name(acc), ops=[py.Eq()], comparators=[py.Constant(1)]))
        # filter, map and transformList build a list, transformMap and transformMapEntry a map
        builds_map = macro in ("transformMap", "transformMapEntry")
        out.append(P.assign(acc, py.Dict(keys=[], values=[]) if builds_map else py.List(elts=[], ctx=py.Load())))
        keep: list[py.stmt] = []
        if macro == "filter":
            item: py.expr = P.name(var)
        else:
            item = self.element_charges([node.body], [self.expr(node.body, keep)], keep)[0]
        if macro == "transformMap":
            key = next(pyname for cel, pyname, _label in reversed(self.var_names) if cel == node.var)
            keep.append(
                py.Assign(targets=[py.Subscript(value=P.name(acc), slice=P.name(key), ctx=py.Store())], value=item)
            )
        elif macro == "transformMapEntry":
            keep.append(py.Expr(value=P.call("_mergeentry", P.name(acc), item, py.Constant(macro))))
        else:
            keep.append(py.Expr(value=P.call(py.Attribute(value=P.name(acc), attr="append", ctx=py.Load()), item)))
        predicate = node.body if macro == "filter" else node.filter
        if predicate is None:
            loop_body.extend(keep)
        else:
            e = self.expr(predicate, loop_body)
            if P.is_bool(e):
                loop_body.append(py.If(test=e, body=keep, orelse=[]))
            else:
                loop_body.append(P.assign(p, e))
                loop_body.append(py.If(test=P.is_(P.name(p), py.Constant(True)), body=keep, orelse=[not_bool]))
        return P.name(acc)

    # -- whole function

    def function(self, node: A.Node, name: str = "_cel") -> Callable[..., Any]:
        body: list[py.stmt] = []
        result = self.expr(node, body)
        if self.uses_cost:
            body.insert(0, P.assign(P.COST, py.Constant(V.MAX_COST)))
            result = self.as_name(result, body)
            body.append(P.check_budget())
        body.append(py.Return(value=result))
        return self.define(name, ("rec", "as_of", "ctx"), body, "<condition>")

    def define(
        self, name: str, params: tuple[str, ...], body: list[py.stmt], where: str, fuse: bool = True
    ) -> Callable[..., Any]:
        """``def name(params): body`` compiled and run in the restricted namespace (``fuse``: boolean
        guards fused first); the function keeps its tree for :func:`python_source`."""
        args = py.arguments(
            posonlyargs=[],
            args=[py.arg(arg=a) for a in params],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=[],
        )
        fn = py.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None)
        if sys.version_info >= (3, 12):
            fn.type_params = []  # a field from 3.12 on, which compile() then requires
        if fuse:
            _fuse_bool_guards(fn)
        module = py.Module(body=[fn], type_ignores=[])
        py.fix_missing_locations(module)
        code = compile(module, where, "exec")
        exec(code, self.g)  # noqa: S102 - generated from our own ast nodes, never from user text
        made = self.g[name]
        made.generated_ast = module  # for `python_source()`: reading the generated code when debugging
        return made  # type: ignore[no-any-return]  # the function just defined


def compile_condition(
    checked: Checked, names: dict[tuple[str, str], Any] | None = None, params: dict[str, Any] | None = None
) -> CompiledFn:
    """Compile a checked expression to ``f(rec, as_of, ctx) -> value`` (raises ``EvalError``).

    ``names`` maps ("value", name) and ("local", name) to the compiled functions
    of named values (see :func:`cached_value`); ``params`` maps parameter
    names to their values, inlined as constants.
    """
    gen = ExpressionGen(checked, names or {}, params or {})
    try:
        return gen.function(checked.node)
    except (SyntaxError, RecursionError, MemoryError):
        # Python's own limits (e.g. "too many statically nested blocks"): walk the tree instead.
        return interpret_condition(checked, names, params)


def python_source(fn: Any) -> str:
    """The Python code generated for a compiled expression (for debugging and docs)."""
    module = getattr(fn, "generated_ast", None)
    return py.unparse(module) if module is not None else "<not generated code>"


def cached_value(key: Any, fn: CompiledFn) -> CompiledFn:
    """Wrap a named value's function so it is computed at most once per record."""

    def get(rec: dict[str, Any], as_of: _dt.date, ctx: dict[Any, Any]) -> Any:
        try:
            v = ctx[key]
        except KeyError:
            try:
                v = fn(rec, as_of, ctx)
            except Exception as e:  # noqa: BLE001 - every failure becomes an error value
                v = V.wrap_error(e)
            ctx[key] = v
        if v.__class__ is EvalError:
            raise v
        return v

    get.generated_ast = getattr(fn, "generated_ast", None)  # type: ignore[attr-defined]  # for python_source()
    get.cache_key = key  # type: ignore[attr-defined]  # for readers that look in ``ctx`` themselves
    get.compute = fn  # type: ignore[attr-defined]  # the value's own function, for readers that skip the memo
    return get


# -- a whole decision in one function ------------------------------------------------------------------------


def _bool_guard(st: py.stmt) -> tuple[str, py.expr] | None:
    """``if n.__class__ is not bool: n = _want(...)`` -> (n, the call)."""
    if not (isinstance(st, py.If) and not st.orelse and len(st.body) == 1 and isinstance(st.test, py.Compare)):
        return None
    t = st.test
    if not (
        isinstance(t.left, py.Attribute)
        and t.left.attr == "__class__"
        and isinstance(t.left.value, py.Name)
        and len(t.ops) == 1
        and isinstance(t.ops[0], py.IsNot)
        and isinstance(t.comparators[0], py.Name)
        and t.comparators[0].id == "bool"
    ):
        return None
    a = st.body[0]
    n = t.left.value.id
    if (
        isinstance(a, py.Assign)
        and len(a.targets) == 1
        and isinstance(a.targets[0], py.Name)
        and a.targets[0].id == n
        and isinstance(a.value, py.Call)
        and isinstance(a.value.func, py.Name)
        and a.value.func.id == "_want"
    ):
        return n, a.value
    return None


def _fuse_bool_guards(fn: py.FunctionDef) -> None:
    """``if n.__class__ is not bool: n = _want(...)`` then ``if n: A else: B``, where n is used nowhere
    else (it is assigned once, before), becomes ``if n is True: A  elif n is False: B  else: _want(...)``
    (``want`` raises for anything but a bool): one test instead of two."""
    counts: dict[str, int] = {}
    for node in py.walk(fn):
        if isinstance(node, py.Name):
            counts[node.id] = counts.get(node.id, 0) + 1

    def block(stmts: list[py.stmt]) -> list[py.stmt]:
        out: list[py.stmt] = []
        i = 0
        while i < len(stmts):
            st = stmts[i]
            for name in ("body", "orelse", "finalbody"):
                if isinstance(getattr(st, name, None), list):
                    setattr(st, name, block(getattr(st, name)))
            for h in getattr(st, "handlers", ()):
                h.body = block(h.body)
            guard = _bool_guard(st)
            nxt = stmts[i + 1] if i + 1 < len(stmts) else None
            if guard is not None and isinstance(nxt, py.If) and counts.get(guard[0]) == 5:
                n, call = guard
                test = nxt.test
                negated = False
                if isinstance(test, py.UnaryOp) and isinstance(test.op, py.Not):
                    negated, test = True, test.operand
                if isinstance(test, py.Name) and test.id == n:
                    nxt.body = block(nxt.body)
                    nxt.orelse = block(nxt.orelse)
                    first, second = (False, True) if negated else (True, False)
                    out.append(
                        py.If(
                            test=P.is_(P.name(n), py.Constant(first)),
                            body=nxt.body,
                            orelse=[
                                py.If(
                                    test=P.is_(P.name(n), py.Constant(second)),
                                    body=nxt.orelse or [py.Pass()],
                                    orelse=[py.Expr(value=call)],
                                )
                            ],
                        )
                    )
                    i += 2
                    continue
            out.append(st)
            i += 1
        return out

    fn.body = block(fn.body)
