"""Reference interpreter: a small tree walker over a checked expression.

It is the oracle for the compiler (``engine.lang.compile``): the same
semantics written as plainly as possible, with the general helpers of
``engine.lang.values`` for every operation (the compiler's fast paths for
proven types must agree with them).  The differential tests run the
conformance cases, the bundled rulebooks' examples and generated
expressions through both and require the same results.

It also evaluates the rare expression that Python cannot compile (nesting
beyond Python's block limit).

What it shares with the compiler, so that results can be compared exactly:

* the checker's resolutions (names, qualified names, overloads) and types;
* record reads through the schema: defaults, ``eval.missing-field``,
  ``eval.wrong-type`` with the same paths (``people[].age``);
* CEL's error rules for ``&&``, ``||``, ``?:`` and the macros;
* the cost budget (``values.MAX_COST``), charged for the same things at the
  same points and checked at the start of every macro iteration and at the
  end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from engine.lang import ast as A
from engine.lang import values as V
from engine.lang.check import Checked
from engine.lang.runtime import (
    SCALAR_KINDS,
    CompiledFn,
    call_parts,
    dispatcher,
    dotted,
    freeze,
    is_constant,
    macro_error,
    operands,
)
from engine.lang.types import Type

__all__ = ["interpret_condition"]

_GUARDED = {"string": str, "int": int, "bool": bool, "list": list, "object": dict, "map": dict, "double": float}


class _Env:
    __slots__ = ("as_of", "cost", "ctx", "loops", "rec", "vars")

    def __init__(self, rec: Any, as_of: Any, ctx: Any) -> None:
        self.rec = rec
        self.as_of = as_of
        self.ctx = ctx
        self.cost = V.MAX_COST
        self.loops = 0
        self.vars: list[tuple[str, Any, str]] = []  # (name, value, path label)


def interpret_condition(
    checked: Checked, names: dict[tuple[str, str], Any] | None = None, params: dict[str, Any] | None = None
) -> CompiledFn:
    """``f(rec, as_of, ctx) -> value`` evaluating ``checked`` by walking the tree (raises ``EvalError``).

    Same signature and results as ``engine.lang.compile.compile_condition``.
    """
    walker = _Walker(checked, names or {}, params or {})

    def run(rec: Any, as_of: Any, ctx: Any) -> Any:
        env = _Env(rec, as_of, ctx)
        result = walker.ev(checked.node, env)
        if env.cost < 0:
            raise V.cost_limit()
        return result

    return run


class _Walker:
    def __init__(self, checked: Checked, names: dict[tuple[str, str], Any], params: dict[str, Any]) -> None:
        self.c = checked
        self.names = names
        self.params = params

    def t(self, node: A.Node) -> Type:
        return self.c.type_of(node)

    def ev(self, node: A.Node, env: _Env) -> Any:
        method: Callable[[Any, _Env], Any] = getattr(self, "ev_" + type(node).__name__)
        return method(node, env)

    # -- cost

    def scan(self, node: A.Node, value: Any, env: _Env, deep: bool = False) -> None:
        if env.loops == 0 or is_constant(node, self.c) or self.t(node).kind in SCALAR_KINDS:
            return
        env.cost -= V.weight(value, env.cost) if deep else V.size_cost(value)

    def charge_elements(self, nodes: list[A.Node], values: list[Any], env: _Env) -> None:
        for node, value in zip(nodes, values, strict=True):
            if not isinstance(node, A.Literal) and self.t(node).kind not in SCALAR_KINDS:
                env.cost -= V.weight(value, env.cost)

    # -- names and record reads

    def ev_Literal(self, node: A.Literal, env: _Env) -> Any:
        if node.kind == "uint":
            return V.UInt(cast(int, node.value))  # the parser gives a uint literal an int value
        return node.value

    def ev_Ident(self, node: A.Node, env: _Env) -> Any:
        resolved = self.c.idents.get(id(node))
        if resolved is None:
            V.unknown_name(getattr(node, "name", None) or dotted(node))
        kind, name = resolved
        if kind == "record":
            return env.rec
        if kind == "as_of":
            return env.as_of
        if kind == "var":
            for var, value, _label in reversed(env.vars):
                if var == name:
                    return value
            raise AssertionError(name)
        if kind == "param":
            value = self.params[name]
            return tuple(value) if isinstance(value, list) else value
        if kind == "type":
            return V.TYPES[name]
        return self.names[(kind, name)](env.rec, env.as_of, env.ctx)

    def path_of(self, node: A.Node, env: _Env) -> str:
        def label(name: str) -> str | None:
            return next((lbl for var, _value, lbl in reversed(env.vars) if var == name), None)

        return self.c.path_of(node, label)

    def guard(self, value: Any, ft: Type, path: str) -> Any:
        kind = ft.kind
        if kind == "date":
            if ft.nullable and value is None:
                return None
            return V.want(value, "date", path, ft.nullable)
        cls = _GUARDED.get(kind)
        if cls is None or (ft.nullable and value is None) or value.__class__ is cls:
            return value
        return V.want(value, kind, path, ft.nullable)

    def ev_Select(self, node: A.Select, env: _Env) -> Any:
        if id(node) in self.c.idents:
            return self.ev_Ident(node, env)
        ot = self.t(node.operand)
        o = self.ev(node.operand, env)
        path = self.path_of(node, env)
        if ot.kind != "object":
            return self.guard(V.select(o, node.field, path), self.t(node), path)
        if ot.nullable and o is None:
            V.select(o, node.field, path)
        ft = self.t(node)
        if ft.has_default:
            value = o.get(node.field, freeze(ft.default))
        elif node.field in o:
            value = o[node.field]
        else:
            V.missing_field(path)
        return self.guard(value, ft, path)

    def ev_Has(self, node: A.Has, env: _Env) -> Any:
        return V.has(self.ev(node.operand, env), node.field)

    def ev_OptSelect(self, node: A.OptSelect, env: _Env) -> Any:
        o = self.ev(node.operand, env)
        path = self.path_of(node, env)
        value = V.optional_select(o, node.field, path)
        ot = self.t(node.operand)
        if ot.kind == "optional":
            ot = ot.elem or ot
        ft = self.t(node).elem
        if ot.kind == "object" and ft is not None and (ft.kind in _GUARDED or ft.kind == "date"):
            value = V.optional_guard(value, ft.kind, path, ft.nullable)
        return value

    def ev_OptIndex(self, node: A.OptIndex, env: _Env) -> Any:
        o = self.ev(node.operand, env)
        return V.optional_index(o, self.ev(node.index, env))

    def ev_Index(self, node: A.Index, env: _Env) -> Any:
        o = self.ev(node.operand, env)
        i = self.ev(node.index, env)
        value = V.cel_index(o, i)
        ot = self.t(node.operand)
        if ot.kind == "list" and ot.elem is not None:
            return self.guard(value, ot.elem, self.path_of(node, env))
        return value

    # -- literals and operators

    def ev_ListLit(self, node: A.ListLit, env: _Env) -> Any:
        values = [self.ev(e, env) for e in node.elements]
        self.charge_elements(list(node.elements), values, env)
        return V.optional_list(values, node.optional) if node.optional else values

    def ev_MapLit(self, node: A.MapLit, env: _Env) -> Any:
        nodes = [x for kv in node.entries for x in kv]
        flat = [self.ev(x, env) for x in nodes]
        self.charge_elements(nodes, flat, env)
        if node.optional:
            return V.optional_map(flat[0::2], flat[1::2], node.optional)
        return V.make_map(flat[0::2], flat[1::2])

    def ev_Unary(self, node: A.Unary, env: _Env) -> Any:
        o = self.ev(node.operand, env)
        return V.cel_not(o) if node.op == "!" else V.cel_neg(o)

    def ev_Binary(self, node: A.Binary, env: _Env) -> Any:
        op = node.op
        if op in ("&&", "||"):
            return self.logic(node, env)
        if op == "in":
            left = self.ev(node.left, env)
            right = self.ev(node.right, env)
            self.scan(node.right, right, env, deep=True)
            return V.cel_in(left, right)
        left = self.ev(node.left, env)
        right = self.ev(node.right, env)
        if op in _COMPARE:
            if not is_constant(node.left, self.c) and not is_constant(node.right, self.c):
                self.scan(node.left, left, env, deep=op in ("==", "!="))
            return _COMPARE[op](left, right)
        result = _ARITH[op](left, right)
        if op == "+" and (self.t(node.left).kind not in SCALAR_KINDS or self.t(node.right).kind not in SCALAR_KINDS):
            env.cost -= V.size_cost(result)
        return result

    def logic(self, node: A.Binary, env: _Env) -> Any:
        absorbing = node.op == "||"
        err: Any = None
        for operand in operands(node, node.op):
            try:
                v = self.ev(operand, env)
            except Exception as e:  # noqa: BLE001 - errors are values here
                v = V.wrap_error(e)
            if v is absorbing:
                return absorbing
            if v is not (not absorbing) and err is None:
                err = v
        if err is not None:
            raise macro_error(err, node.op)
        return not absorbing

    def ev_Conditional(self, node: A.Conditional, env: _Env) -> Any:
        c = self.ev(node.cond, env)
        if c is True:
            return self.ev(node.then, env)
        if c is False:
            return self.ev(node.other, env)
        raise V.no_overload("?:", c)

    def ev_Call(self, node: A.Call, env: _Env) -> Any:
        function, args, _member = call_parts(node, self.c)
        values = [self.ev(a, env) for a in args]
        overload = self.c.overloads.get(id(node))
        spec = self.c.functions.get(function) if self.c.functions is not None else None
        impl = overload.impl if overload is not None else dispatcher(node, spec, self.c)
        if spec is not None and spec.scans:
            for a, v in zip(args, values, strict=True):
                self.scan(a, v, env, deep=spec.scans_deep)
        return impl(*values)

    # -- macros

    def ev_Comprehension(self, node: A.Comprehension, env: _Env) -> Any:
        if node.macro in ("optMap", "optFlatMap"):
            inner = V.optional_inner(self.ev(node.target, env), node.macro)
            if inner is V.NO_VALUE:
                return V.OPTIONAL_NONE
            env.vars.append((node.var, inner, node.var))
            try:
                value = self.ev(node.body, env)
            finally:
                env.vars.pop()
            return V.optional_of(value) if node.macro == "optMap" else V.want_optional(value, node.macro)
        target = self.ev(node.target, env)
        tt = self.t(node.target)
        if node.var2 is not None:
            target = V.pairs(target, node.macro)
        elif tt.kind not in ("list", "object", "map") or tt.nullable:
            target = V.iterate(target, node.macro)
        label = self.path_of(node.target, env) + "[]" if tt.kind == "list" else node.var2 or node.var
        elem = tt.elem if tt.kind == "list" and not tt.nullable else None
        env.loops += 1
        try:
            return self.macro(node, target, elem, label, env)
        finally:
            env.loops -= 1

    def ev_Bind(self, node: A.Bind, env: _Env) -> Any:
        value = self.ev(node.init, env)
        path = self.path_of(node.init, env)
        env.vars.append((node.var, value, node.var if path.startswith("(value)") or not path else path))
        try:
            return self.ev(node.body, env)
        finally:
            env.vars.pop()

    def bind_item(self, node: A.Comprehension, item: Any, guard: Type | None, label: str, env: _Env) -> None:
        """Bind the macro's variable(s) to one element (``(key, value)`` for two variables)."""
        if node.var2 is not None:
            key, item = item
            env.vars.append((node.var, key, node.var))
            env.vars.append((node.var2, self.guard(item, guard, label) if guard is not None else item, label))
        else:
            env.vars.append((node.var, self.guard(item, guard, label) if guard is not None else item, label))

    @staticmethod
    def unbind(node: A.Comprehension, env: _Env) -> None:
        del env.vars[-2 if node.var2 is not None else -1 :]

    def macro(self, node: A.Comprehension, target: Any, elem: Type | None, label: str, env: _Env) -> Any:
        macro = node.macro
        guard = elem if elem is not None and elem.kind not in ("dyn", "null") else None
        if macro in ("all", "exists"):
            stop = macro == "exists"
            err: Any = None
            for item in target:
                self.step(env)
                try:
                    self.bind_item(node, item, guard, label, env)
                    try:
                        p = self.ev(node.body, env)
                    finally:
                        self.unbind(node, env)
                except Exception as e:  # noqa: BLE001 - errors are values here
                    p = V.wrap_error(e)
                if p is stop:
                    return stop
                if p is not (not stop) and err is None:
                    err = p
            if err is not None:
                raise macro_error(err, macro)
            return not stop
        count = 0
        out: list[Any] = []
        entries: dict[Any, Any] = {}
        for item in target:
            self.step(env)
            self.bind_item(node, item, guard, label, env)
            try:
                if macro == "exists_one":
                    p = self.ev(node.body, env)
                    if p is True:
                        count += 1
                    elif p is not False:
                        raise V.no_overload(macro, p)
                    continue
                predicate = node.body if macro == "filter" else node.filter
                if predicate is not None:
                    p = self.ev(predicate, env)
                    if p is not True:
                        if p is not False:
                            raise V.no_overload(macro, p)
                        continue
                if macro == "filter":
                    out.append(env.vars[-1][1])
                else:
                    value = self.ev(node.body, env)
                    self.charge_elements([node.body], [value], env)
                    if macro == "transformMap":
                        entries[env.vars[-2][1]] = value
                    elif macro == "transformMapEntry":
                        V.merge_entry(entries, value, macro)
                    else:
                        out.append(value)
            finally:
                self.unbind(node, env)
        if macro in ("transformMap", "transformMapEntry"):
            return entries
        return count == 1 if macro == "exists_one" else out

    @staticmethod
    def step(env: _Env) -> None:
        env.cost -= 1
        if env.cost < 0:
            raise V.cost_limit()


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": V.cel_eq,
    "!=": V.cel_ne,
    "<": V.cel_lt,
    "<=": V.cel_le,
    ">": V.cel_gt,
    ">=": V.cel_ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": V.cel_add,
    "-": V.cel_sub,
    "*": V.cel_mul,
    "/": V.cel_div,
    "%": V.cel_mod,
}
