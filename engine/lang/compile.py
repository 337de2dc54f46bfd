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
"""

from __future__ import annotations

import ast as py
import datetime as _dt
from typing import Any, Callable

from engine.errors import EvalError
from engine.lang import ast as A
from engine.lang import values as V
from engine.lang.check import Checked
from engine.lang.types import Type

__all__ = ["CompiledFn", "cached_value", "compile_condition", "python_source"]

CompiledFn = Callable[[dict[str, Any], _dt.date, dict[Any, Any]], Any]

_HELPERS: dict[str, Any] = {
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
    "_macroerr": None,  # set below
}

_GUARD_CLASS = {"string": "str", "int": "int", "bool": "bool", "list": "list", "object": "dict", "map": "dict",
                "double": "float"}
_PY_CLASSES = {"str": str, "int": int, "bool": bool, "list": list, "dict": dict, "float": float}
_SAME_KIND_EQ = {"string", "int", "bool", "date", "bytes", "uint", "timestamp", "duration", "type"}
_ORDERED = {"string", "int", "uint", "double", "date", "bytes", "timestamp", "duration"}
_CMP_OPS = {"==": py.Eq, "!=": py.NotEq, "<": py.Lt, "<=": py.LtE, ">": py.Gt, ">=": py.GtE}
_CMP_HELPERS = {"==": "_eq", "!=": "_ne", "<": "_lt", "<=": "_le", ">": "_gt", ">=": "_ge"}
_ARITH_HELPERS = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod"}
# Static kinds whose values are small and fixed-size: nothing to charge for them.
SCALAR_KINDS = frozenset({"bool", "int", "uint", "double", "null", "date", "timestamp", "duration", "type"})
COST = "_cost"


def _name(n: str) -> py.Name:
    return py.Name(id=n, ctx=py.Load())


def _store(n: str) -> py.Name:
    return py.Name(id=n, ctx=py.Store())


def _call(fn: str | py.expr, *args: py.expr) -> py.Call:
    return py.Call(func=_name(fn) if isinstance(fn, str) else fn, args=list(args), keywords=[])


def _assign(target: str, value: py.expr) -> py.Assign:
    return py.Assign(targets=[_store(target)], value=value)


def _is(a: py.expr, b: py.expr, negate: bool = False) -> py.Compare:
    return py.Compare(left=a, ops=[py.IsNot() if negate else py.Is()], comparators=[b])


def _raise(e: py.expr) -> py.Raise:
    return py.Raise(exc=e, cause=None)


def _try_catch(body: list[py.stmt], target: str) -> py.Try:
    """``try: body  except Exception as e: target = _wrap(e)``."""
    return py.Try(
        body=body,
        handlers=[py.ExceptHandler(type=_name("_Exc"), name="_e", body=[_assign(target, _call("_wrap", _name("_e")))])],
        orelse=[], finalbody=[],
    )


def _charge(amount: py.expr) -> py.AugAssign:
    """``_cost -= amount``."""
    return py.AugAssign(target=_store(COST), op=py.Sub(), value=amount)


def _check_budget() -> py.If:
    """``if _cost < 0: raise _over()``."""
    return py.If(test=py.Compare(left=_name(COST), ops=[py.Lt()], comparators=[py.Constant(0)]),
                 body=[_raise(_call("_over"))], orelse=[])


def is_constant(node: A.Node, checked: Checked) -> bool:
    """A literal or a parameter: its size is fixed by the rulebook, so scanning it costs nothing extra."""
    if isinstance(node, A.Literal):
        return True
    if isinstance(node, (A.Ident, A.Select)):
        return checked.idents.get(id(node), ("",))[0] in ("param", "type")
    return False


class _Gen:
    def __init__(self, checked: Checked, names: dict[tuple[str, str], Any], params: dict[str, Any]) -> None:
        self.c = checked
        self.names = names  # ("value"|"local", name) -> compiled function
        self.params = params
        self.g: dict[str, Any] = {"__builtins__": {}, **_HELPERS, **_PY_CLASSES}
        self.n = 0
        self.var_names: list[tuple[str, str, str]] = []  # (cel name, python name, path label)
        self.loop_depth = 0
        self.uses_cost = False

    def tmp(self, prefix: str = "t") -> str:
        self.n += 1
        return f"_{prefix}{self.n}"

    def const(self, value: Any) -> py.expr:
        if value is None or type(value) in (int, float, str, bool, bytes):
            return py.Constant(value=value)
        name = f"_k{self.n}"
        self.n += 1
        self.g[name] = value
        return _name(name)

    def t(self, node: A.Node) -> Type:
        return self.c.type_of(node)

    def as_name(self, e: py.expr, out: list[py.stmt]) -> py.expr:
        if isinstance(e, (py.Name, py.Constant)):
            return e
        n = self.tmp()
        out.append(_assign(n, e))
        return _name(n)

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
        out.append(_charge(amount))

    def scans(self, node: A.Node) -> bool:
        """Whether scanning the value of ``node`` is charged: inside a macro, and not a constant or a scalar."""
        return self.loop_depth > 0 and not is_constant(node, self.c) and self.t(node).kind not in SCALAR_KINDS

    def scan_cost(self, node: A.Node, value: py.expr, out: list[py.stmt], deep: bool = False) -> py.expr:
        """Inside a macro, charge the size of an operand that a comparison or function scans."""
        if not self.scans(node):
            return value
        value = self.as_name(value, out)
        self.charge(_call("_weight", value, _name(COST)) if deep else _call("_szc", value), out)
        return value

    # -- nodes

    def expr(self, node: A.Node, out: list[py.stmt]) -> py.expr:
        return getattr(self, "x_" + type(node).__name__)(node, out)  # type: ignore[no-any-return]

    def x_Literal(self, node: A.Literal, out: list[py.stmt]) -> py.expr:
        if node.kind == "uint":
            return self.const(V.UInt(node.value))  # type: ignore[arg-type]
        return self.const(node.value)

    def x_Ident(self, node: A.Node, out: list[py.stmt]) -> py.expr:
        resolved = self.c.idents.get(id(node))
        if resolved is None:
            return _call("_unkname", py.Constant(getattr(node, "name", None) or _dotted(node)))
        kind, name = resolved
        if kind == "record":
            return _name("rec")
        if kind == "as_of":
            return _name("as_of")
        if kind == "var":
            for cel, pyname, _label in reversed(self.var_names):
                if cel == name:
                    return _name(pyname)
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
        return _call(gname, _name("rec"), _name("as_of"), _name("ctx"))

    def path_of(self, node: A.Node) -> str:
        """A readable path for messages: ``recommender.kind``, ``introducers[].is_member``."""
        if isinstance(node, A.Select):
            if id(node) in self.c.idents:
                return self.c.idents[id(node)][1]
            base = self.path_of(node.operand)
            return f"{base}.{node.field}" if base else node.field
        if isinstance(node, A.Ident):
            kind, name = self.c.idents.get(id(node), ("", node.name))
            if kind == "record":
                return ""
            if kind == "var":
                for cel, _py, label in reversed(self.var_names):
                    if cel == name:
                        return label
            return name
        if isinstance(node, A.Index):
            return self.path_of(node.operand) + "[]"
        return "(value)"

    def guard(self, value: py.expr, ft: Type, path: str, out: list[py.stmt], into: str | None = None) -> py.expr:
        """Check a value read from the record against its schema type (``into``: a variable
        already holding the value, re-assigned in place)."""
        kind = ft.kind
        if kind not in _GUARD_CLASS and kind != "date":
            return value
        n = into or (value.id if isinstance(value, py.Name) and value.id.startswith("_t") else None)
        if n is None:
            n = self.tmp()
            out.append(_assign(n, value))
        call = _call("_want", _name(n), py.Constant(kind), py.Constant(path), py.Constant(ft.nullable))
        if kind == "date":
            if ft.nullable:
                out.append(py.If(test=_is(_name(n), py.Constant(None), negate=True),
                                 body=[_assign(n, call)], orelse=[]))
            else:
                out.append(_assign(n, call))
            return _name(n)
        cls = _GUARD_CLASS[kind]
        test: py.expr = _is(py.Attribute(value=_name(n), attr="__class__", ctx=py.Load()), _name(cls), negate=True)
        if ft.nullable:
            test = py.BoolOp(op=py.And(), values=[_is(_name(n), py.Constant(None), negate=True), test])
        out.append(py.If(test=test, body=[_assign(n, call)], orelse=[]))
        return _name(n)

    def x_Select(self, node: A.Select, out: list[py.stmt]) -> py.expr:
        if id(node) in self.c.idents:  # a qualified name such as `a.b.c`
            return self.x_Ident(node, out)
        ot = self.t(node.operand)
        o = self.as_name(self.expr(node.operand, out), out)
        path = self.path_of(node)
        if ot.kind != "object":
            return self.guard(_call("_select", o, py.Constant(node.field), py.Constant(path)), self.t(node), path, out)
        if ot.nullable:
            out.append(py.If(test=_is(o, py.Constant(None)), body=[
                py.Expr(value=_call("_null", o, py.Constant(node.field), py.Constant(path)))], orelse=[]))
        ft = self.t(node)
        key = py.Constant(node.field)
        if ft.has_default:
            read: py.expr = _call(py.Attribute(value=o, attr="get", ctx=py.Load()), key, self.const(_freeze(ft.default)))
        else:
            read = py.IfExp(test=py.Compare(left=key, ops=[py.In()], comparators=[o]),
                            body=py.Subscript(value=o, slice=key, ctx=py.Load()),
                            orelse=_call("_missing", py.Constant(path)))
        return self.guard(read, ft, path, out)

    def x_Has(self, node: A.Has, out: list[py.stmt]) -> py.expr:
        o = self.expr(node.operand, out)
        return _call("_has", o, py.Constant(node.field))

    def x_Index(self, node: A.Index, out: list[py.stmt]) -> py.expr:
        value = _call("_index", *self.ordered([node.operand, node.index], out))
        ot = self.t(node.operand)
        if ot.kind == "list" and ot.elem is not None:
            return self.guard(value, ot.elem, self.path_of(node), out)
        return value

    def element_charges(self, nodes: list[A.Node], exprs: list[py.expr], out: list[py.stmt]) -> list[py.expr]:
        """Charge the size of containers and texts placed into a new list or map."""
        charged = [i for i, n in enumerate(nodes) if not isinstance(n, A.Literal) and self.t(n).kind not in SCALAR_KINDS]
        if not charged:
            return exprs
        exprs = self.materialize(exprs, out)
        for i in charged:
            self.charge(_call("_weight", exprs[i], _name(COST)), out)
        return exprs

    def x_ListLit(self, node: A.ListLit, out: list[py.stmt]) -> py.expr:
        nodes = list(node.elements)
        elts = self.element_charges(nodes, self.ordered(nodes, out), out)
        return py.List(elts=elts, ctx=py.Load())

    def x_MapLit(self, node: A.MapLit, out: list[py.stmt]) -> py.expr:
        nodes = [x for kv in node.entries for x in kv]  # k1, v1, k2, v2, ... in the order they run
        flat = self.element_charges(nodes, self.ordered(nodes, out), out)
        return _call("_mkmap", py.List(elts=flat[0::2], ctx=py.Load()), py.List(elts=flat[1::2], ctx=py.Load()))

    def x_Unary(self, node: A.Unary, out: list[py.stmt]) -> py.expr:
        o = self.expr(node.operand, out)
        ot = self.t(node.operand)
        if node.op == "!":
            if ot.kind == "bool" and not ot.nullable:
                return py.UnaryOp(op=py.Not(), operand=o)
            return _call("_not", o)
        if ot.kind == "double" and not ot.nullable:
            return py.UnaryOp(op=py.USub(), operand=o)
        return _call("_neg", o)

    def logic(self, node: A.Binary, out: list[py.stmt]) -> py.expr:
        """A chain ``a && b && ...`` (or ``||``) with CEL's commutative error handling.

        The operands are evaluated in order inside one ``while True: ... break``
        block (so a long chain does not nest), each in its own ``try``.  The
        absorbing value (``false`` for ``&&``, ``true`` for ``||``) ends the chain
        at once; otherwise the first error (or non-bool) is raised at the end.
        """
        absorbing = node.op == "||"
        operands = _chain(node, node.op)
        r, err = self.tmp("r"), self.tmp("err")
        out.append(_assign(r, py.Constant(not absorbing)))
        out.append(_assign(err, py.Constant(None)))
        body: list[py.stmt] = []
        for operand in operands:
            v = self.tmp("a")
            stmts: list[py.stmt] = []
            stmts.append(_assign(v, self.expr(operand, stmts)))
            body.append(_try_catch(stmts, v))
            body.append(py.If(
                test=_is(_name(v), py.Constant(absorbing)),
                body=[_assign(r, py.Constant(absorbing)), py.Break()],
                orelse=[py.If(
                    test=py.BoolOp(op=py.And(), values=[_is(_name(v), py.Constant(not absorbing), negate=True),
                                                        _is(_name(err), py.Constant(None))]),
                    body=[_assign(err, _name(v))], orelse=[])]))
        body.append(py.Break())
        out.append(py.While(test=py.Constant(True), body=body, orelse=[]))
        out.append(py.If(
            test=py.BoolOp(op=py.And(), values=[_is(_name(r), py.Constant(not absorbing)),
                                                _is(_name(err), py.Constant(None), negate=True)]),
            body=[_raise(_call("_macroerr", _name(err), py.Constant(node.op)))], orelse=[]))
        return _name(r)

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
                if isinstance(value, (list, tuple)) and value and all(type(v) is str for v in value) \
                        and lt.kind == "string" and not lt.nullable:
                    return py.Compare(left=left, ops=[py.In()], comparators=[self.const(frozenset(value))])
            left, right = self.ordered_pair(left, right_node, out)
            if self.scans(right_node):
                left, right = self.materialize([left, right], out)
                right = self.scan_cost(right_node, right, out, deep=True)
            el = rt.elem if rt.kind == "list" else None
            if el is not None and el.kind == lt.kind and lt.kind in ("string", "date") and not lt.nullable:
                return py.Compare(left=left, ops=[py.In()], comparators=[right])
            return _call("_in", left, right)
        left, right = self.ordered([node.left, node.right], out)
        if op in _CMP_OPS:
            if not is_constant(node.right, self.c) and self.scans(node.left):
                left, right = self.materialize([left, right], out)
                left = self.scan_cost(node.left, left, out, deep=op in ("==", "!="))
            fast = False
            if op in ("==", "!="):
                fast = (lt.kind == rt.kind and lt.kind in _SAME_KIND_EQ) or (
                    "null" in (lt.kind, rt.kind) and "dyn" not in (lt.kind, rt.kind))
            else:
                fast = not lt.nullable and not rt.nullable and lt.kind == rt.kind and lt.kind in _ORDERED
            if not fast and not lt.nullable and not rt.nullable and {lt.kind, rt.kind} == {"int", "double"}:
                # int against double compares the int as a double; an int literal becomes one now
                if isinstance(node.left, A.Literal) and lt.kind == "int":
                    left, fast = py.Constant(float(node.left.value)), True  # type: ignore[arg-type]
                elif isinstance(node.right, A.Literal) and rt.kind == "int":
                    right, fast = py.Constant(float(node.right.value)), True  # type: ignore[arg-type]
            if fast:
                return py.Compare(left=left, ops=[_CMP_OPS[op]()], comparators=[right])
            return _call(_CMP_HELPERS[op], left, right)
        if lt.kind == rt.kind and not lt.nullable and not rt.nullable and (
                (lt.kind == "string" and op == "+") or (lt.kind == "double" and op in "+-*")):
            pyop = {"+": py.Add, "-": py.Sub, "*": py.Mult}[op]()
            result: py.expr = py.BinOp(left=left, op=pyop, right=right)
            if lt.kind == "string":
                result = self.as_name(result, out)
                self.charge(py.BinOp(left=_call("_len", result), op=py.RShift(), right=py.Constant(4)), out)
            return result
        result = _call(_ARITH_HELPERS[op], left, right)
        if op == "+" and (lt.kind not in SCALAR_KINDS or rt.kind not in SCALAR_KINDS):
            result = self.as_name(result, out)
            self.charge(_call("_szc", result), out)
        return result

    def x_Call(self, node: A.Call, out: list[py.stmt]) -> py.expr:
        args = ([node.target] if node.target is not None else []) + list(node.args)
        values = self.ordered(args, out)
        overload = self.c.overloads.get(id(node))
        spec = self.c.functions.get(node.function.lstrip(".")) if self.c.functions is not None else None
        if overload is None:
            impl: Any = _dispatcher(node, spec)
        else:
            impl = overload.impl
        if spec is not None and spec.scans and any(self.scans(a) for a in args):
            values = self.materialize(values, out)
            values = [self.scan_cost(a, v, out) for a, v in zip(args, values)]
        fname = f"_f{self.n}"
        self.n += 1
        self.g[fname] = impl
        return _call(fname, *values)

    def x_Conditional(self, node: A.Conditional, out: list[py.stmt]) -> py.expr:
        c = self.expr(node.cond, out)
        if not isinstance(c, py.Name):  # `is` with a literal would be a SyntaxWarning
            n = self.tmp()
            out.append(_assign(n, c))
            c = _name(n)
        r = self.tmp("r")
        then_body: list[py.stmt] = []
        then_body.append(_assign(r, self.expr(node.then, then_body)))
        else_body: list[py.stmt] = []
        else_body.append(_assign(r, self.expr(node.other, else_body)))
        out.append(py.If(test=_is(c, py.Constant(True)), body=then_body, orelse=[
            py.If(test=_is(c, py.Constant(False)), body=else_body,
                  orelse=[_raise(_call("_noover", py.Constant("?:"), c))])]))
        return _name(r)

    def x_Comprehension(self, node: A.Comprehension, out: list[py.stmt]) -> py.expr:
        target = self.expr(node.target, out)
        tt = self.t(node.target)
        if tt.kind not in ("list", "object", "map") or tt.nullable:
            target = _call("_iter", target, py.Constant(node.macro))
        var = self.tmp("v")
        label = self.path_of(node.target) + "[]" if tt.kind == "list" else node.var
        elem = tt.elem if tt.kind == "list" and not tt.nullable else None
        self.var_names.append((node.var, var, label))
        self.loop_depth += 1
        try:
            return self._comprehension(node, target, var, out, elem, label)
        finally:
            self.loop_depth -= 1
            self.var_names.pop()

    def element_guard(self, var: str, elem: Type | None, label: str) -> list[py.stmt]:
        """Statements checking one list element against the schema's item type."""
        if elem is None or elem.kind in ("dyn", "null"):
            return []
        stmts: list[py.stmt] = []
        self.guard(_name(var), elem, label, stmts, into=var)
        return stmts

    def _comprehension(self, node: A.Comprehension, target: py.expr, var: str, out: list[py.stmt],
                       elem: Type | None, label: str) -> py.expr:
        macro = node.macro
        acc, p = self.tmp("acc"), self.tmp("p")
        self.uses_cost = True
        loop_body: list[py.stmt] = [_charge(py.Constant(1)), _check_budget()]
        guard = self.element_guard(var, elem, label)
        if macro in ("all", "exists"):
            stop = macro == "exists"  # the predicate value that decides the result
            err = self.tmp("err")
            pbody: list[py.stmt] = guard
            pbody.append(_assign(p, self.expr(node.body, pbody)))
            out.append(_assign(acc, py.Constant(not stop)))
            out.append(_assign(err, py.Constant(None)))
            loop_body.append(_try_catch(pbody, p))
            loop_body.append(py.If(
                test=_is(_name(p), py.Constant(stop)),
                body=[_assign(acc, py.Constant(stop)), py.Break()],
                orelse=[py.If(test=py.BoolOp(op=py.And(), values=[
                    _is(_name(p), py.Constant(not stop), negate=True), _is(_name(err), py.Constant(None))]),
                    body=[_assign(err, _name(p))], orelse=[])]))
            out.append(py.For(target=_store(var), iter=target, body=loop_body, orelse=[]))
            out.append(py.If(
                test=py.BoolOp(op=py.And(), values=[_is(_name(acc), py.Constant(not stop)),
                                                    _is(_name(err), py.Constant(None), negate=True)]),
                body=[_raise(_call("_macroerr", _name(err), py.Constant(macro)))], orelse=[]))
            return _name(acc)
        loop_body.extend(guard)
        not_bool = py.If(test=_is(_name(p), py.Constant(False), negate=True),
                         body=[_raise(_call("_noover", py.Constant(macro), _name(p)))], orelse=[])
        if macro == "exists_one":
            out.append(_assign(acc, py.Constant(0)))
            loop_body.append(_assign(p, self.expr(node.body, loop_body)))
            loop_body.append(py.If(test=_is(_name(p), py.Constant(True)),
                                   body=[py.AugAssign(target=_store(acc), op=py.Add(), value=py.Constant(1))],
                                   orelse=[not_bool]))
            out.append(py.For(target=_store(var), iter=target, body=loop_body, orelse=[]))
            return py.Compare(left=_name(acc), ops=[py.Eq()], comparators=[py.Constant(1)])
        # filter and map build a list
        out.append(_assign(acc, py.List(elts=[], ctx=py.Load())))
        keep: list[py.stmt] = []
        if macro == "filter":
            item: py.expr = _name(var)
        else:
            item = self.element_charges([node.body], [self.expr(node.body, keep)], keep)[0]
        keep.append(py.Expr(value=_call(py.Attribute(value=_name(acc), attr="append", ctx=py.Load()), item)))
        predicate = node.body if macro == "filter" else node.filter
        if predicate is None:
            loop_body.extend(keep)
        else:
            loop_body.append(_assign(p, self.expr(predicate, loop_body)))
            loop_body.append(py.If(test=_is(_name(p), py.Constant(True)), body=keep, orelse=[not_bool]))
        out.append(py.For(target=_store(var), iter=target, body=loop_body, orelse=[]))
        return _name(acc)

    # -- whole function

    def function(self, node: A.Node, name: str = "_cel") -> Callable[..., Any]:
        body: list[py.stmt] = []
        result = self.expr(node, body)
        if self.uses_cost:
            body.insert(0, _assign(COST, py.Constant(V.MAX_COST)))
            result = self.as_name(result, body)
            body.append(_check_budget())
        body.append(py.Return(value=result))
        args = py.arguments(posonlyargs=[], args=[py.arg(arg="rec"), py.arg(arg="as_of"), py.arg(arg="ctx")],
                            vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
        fn = py.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None, type_params=[])
        module = py.Module(body=[fn], type_ignores=[])
        py.fix_missing_locations(module)
        code = compile(module, "<condition>", "exec")
        exec(code, self.g)  # noqa: S102 - generated from our own ast nodes, never from user text
        fn = self.g[name]
        fn.generated_ast = module  # for `python_source()`: reading the generated code when debugging
        return fn  # type: ignore[no-any-return]


def _dotted(node: A.Node) -> str:
    parts: list[str] = []
    while isinstance(node, A.Select):
        parts.append(node.field)
        node = node.operand
    if isinstance(node, A.Ident):
        parts.append(node.name)
    return ".".join(reversed(parts))


def _dispatcher(node: A.Call, spec: Any) -> Callable[..., Any]:
    """The implementation of a call the checker could not match: chosen at run time by the
    number of arguments, or an error."""
    name = node.function.lstrip(".")
    member = node.target is not None
    count = len(node.args) + (1 if member else 0)
    if spec is None:
        def unknown(*args: Any) -> Any:
            V.unknown_function(name)
        return unknown
    for o in spec.overloads:
        if (o.member if member else o.function) and (len(o.params) == count or (o.variadic and count >= 1)):
            return o.impl  # type: ignore[no-any-return]

    def no_match(*args: Any) -> Any:
        V.fail_no_overload(name, *args)
    return no_match


def _chain(node: A.Node, op: str) -> list[A.Node]:
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


def _macro_error(err: object, macro: str) -> EvalError:
    if isinstance(err, BaseException):
        return V.wrap_error(err)
    return V.no_overload(macro, err)


_HELPERS["_macroerr"] = _macro_error


def _freeze(value: Any) -> Any:
    """Defaults are shared by every record: lists become tuples (CEL lists are immutable)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def compile_condition(checked: Checked, names: dict[tuple[str, str], Any] | None = None,
                      params: dict[str, Any] | None = None) -> CompiledFn:
    """Compile a checked expression to ``f(rec, as_of, ctx) -> value`` (raises ``EvalError``).

    ``names`` maps ("value", name) and ("local", name) to the compiled functions
    of named values (see :func:`cached_value`); ``params`` maps parameter
    names to their values, inlined as constants.
    """
    gen = _Gen(checked, names or {}, params or {})
    try:
        return gen.function(checked.node)
    except (SyntaxError, RecursionError, MemoryError):
        # Python's own limits (e.g. "too many statically nested blocks"): walk the tree instead.
        from engine.lang.interp import interpret_condition

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

    get.generated_ast = getattr(fn, "generated_ast", None)  # type: ignore[attr-defined]
    return get
