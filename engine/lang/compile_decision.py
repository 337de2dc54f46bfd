"""Compile a whole decision into one function, and its JSON trace into another.

A whole decision is compiled into one function (:func:`compile_decision`):
every rule in its own ``try`` (an error stays that rule's), named values and a
rule's values as local variables computed where first needed, fields read in
several places read once, statuses returned as a tuple; beside it an optimistic
twin for the common case (no ``try``, no error values, no conversions: anything
unusual raises and the exact function decides that record).  Reports get a
generated trace (:func:`compile_trace`): each rule's JSON object, or its JSON
text, with the values it saw computed once per record and messages filled in
for the rules that failed.  Both give the results of the functions above,
which stay the reference (and serve the getters of ``RuleResult.values``).

The pieces (the expression lowering of ``engine.lang.compile``, its helpers
and its restricted namespace) are those of single expressions.
"""

from __future__ import annotations

import ast as py
import datetime as _dt
import json as _json
from collections.abc import Callable
from json.encoder import encode_basestring as _encode_string
from typing import Any

from engine.errors import EvalError
from engine.lang import ast as A
from engine.lang import pyast as P
from engine.lang import runtime as R
from engine.lang import values as V
from engine.lang.check import Checked
from engine.lang.compile import ExpressionGen
from engine.lang.types import Type
from engine.memo import BoundedMemo
from engine.messages import msg

__all__ = ["DATA_ERROR", "UNSET", "CompiledDecisionFns", "DecisionPlan", "compile_decision", "compile_trace"]


class UnsetType:
    """The value of a named value (or a cached field) not computed yet in this evaluation."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


UNSET = UnsetType()


class DecisionPlan:
    """What :func:`compile_decision` compiles: the checked expressions of one decision.

    ``values``: named values by name (any order; each is computed where first used).
    ``rules``: per rule ``(rule id, {local name: Checked}, when or None, require, decisive)``.
    ``outputs``: per output ``(name, value, when or None)``.
    ``as_of``: the decision's ``as_of`` expression, if any.
    ``data_rules``: the indices of the rules of kind ``data`` (a false ``require`` is the
    rule's error :data:`DATA_ERROR`, not a failure).
    """

    def __init__(
        self,
        values: dict[str, Checked],
        rules: list[tuple[str, dict[str, Checked], Checked | None, Checked, bool]],
        outputs: list[tuple[str, Checked, Checked | None]],
        as_of: Checked | None = None,
        data_rules: frozenset[int] = frozenset(),
    ) -> None:
        self.values = values
        self.rules = rules
        self.outputs = outputs
        self.as_of = as_of
        self.data_rules = data_rules


# The error of a rule of kind ``data`` whose ``require`` is false: the record contradicts
# itself.  Reports show the rule's own message (filled in with its values) in its place.
DATA_ERROR = EvalError("eval.data-inconsistent", msg("eval.data-inconsistent"))


class _TooBig(Exception):
    pass


# Inlining named values where they are used could grow without bound for values used many
# times by values used many times; past this many generated nodes the decision is not compiled
# as one function (each expression keeps its own function).
MAX_DECISION_NODES = 60_000


def _record_path(node: A.Select, checked: Checked) -> tuple[str, Any] | None:
    """``record.a.b`` -> ("record", key); ``x.a`` for a macro variable x -> ("var:x", key).

    The key is the path with the static type of each step: the checker narrows a
    nullable field once tested (``x != null && x.y``), and a read of a narrowed
    field is different code, so it is kept apart.
    """
    parts: list[Any] = []
    n: A.Node = node
    while isinstance(n, A.Select):
        if id(n) in checked.idents:
            return None
        t = checked.type_of(n)
        parts.append((n.field, t, t.has_default, repr(t.default)))
        n = n.operand
    if not isinstance(n, A.Ident):
        return None
    resolved = checked.idents.get(id(n))
    if resolved is None:
        return None
    if resolved[0] == "record":
        return "record", tuple(reversed(parts))
    if resolved[0] == "var":
        return "var:" + resolved[1], tuple(reversed(parts))
    return None


class _Bailout(Exception):
    """Raised by optimistic code where the exact code would have to handle an error."""


class _DecisionGen(ExpressionGen):
    """Generates ``def decide(rec, as_of)`` for a whole decision.

    Each rule's ``when``/``require`` runs in its own ``try``, so an error is that
    rule's alone.  Named values (and the rule's own values) are local variables,
    computed where first needed and at most once; one that fails is left unset
    and its error raised where it is used, so that every rule using it gets the
    error (computing it again gives the same error).  Each expression keeps its
    own cost budget, as when compiled alone.  Record fields read in more than one
    place are read (and checked, dates parsed) once per record.

    With ``fast``, the code is optimistic: no ``try``, no error values, no type
    conversions; anything that is not the common case (a missing field, a wrong
    type, an error, a value that is not a bool, a spent budget) raises, and the
    caller runs the exact function on that record instead.  Evaluation has no side
    effects, so the record's results are the exact function's either way.
    """

    def __init__(self, plan: DecisionPlan, params: dict[str, Any], fast: bool) -> None:
        super().__init__(Checked(node=A.Literal(True, "bool")), {}, params)
        self.plan = plan
        self.fast = fast
        self.rule_id = ""
        self.value_vars: dict[tuple[str, ...], str] = {}
        self.generating: set[tuple[str, ...]] = set()
        self.read_vars: dict[tuple[str, Any], str] = {}  # (root variable, typed path) -> cache variable
        self.shared_reads: set[Any] = set()  # typed record paths worth reading once
        self.nodes = 0

    def expr(self, node: A.Node, out: list[py.stmt]) -> py.expr:
        self.nodes += 1
        if self.nodes > MAX_DECISION_NODES:
            raise _TooBig
        return super().expr(node, out)

    # -- units: one expression with its own budget

    def unit(self, checked: Checked, out: list[py.stmt]) -> py.expr:
        saved = (self.c, self.var_names, self.loop_depth, self.uses_cost, self.cost)
        self.c, self.var_names, self.loop_depth, self.uses_cost = checked, [], 0, False
        self.cost = self.tmp("cost")
        try:
            body: list[py.stmt] = []
            result = self.expr(checked.node, body)
            if self.uses_cost:
                body.insert(0, P.assign(self.cost, py.Constant(V.MAX_COST)))
                if not P.pure(result):
                    boolean = P.is_bool(result)
                    result = self.as_name(result, body)
                    if boolean:
                        result = P.mark_bool(result)
                if not (body and P.same_stmt(body[-1], P.check_budget(self.cost))):
                    body.append(P.check_budget(self.cost))
        finally:
            self.c, self.var_names, self.loop_depth, self.uses_cost, self.cost = saved
        out.extend(body)
        return result

    def x_Ident(self, node: A.Node, out: list[py.stmt]) -> py.expr:
        resolved = self.c.idents.get(id(node))
        if resolved is not None and resolved[0] in ("value", "local"):
            kind, name = resolved
            key = ("value", name) if kind == "value" else ("local", self.rule_id, name)
            return self.use_value(key, out)
        return super().x_Ident(node, out)

    def checked_value(self, key: tuple[str, ...]) -> Checked:
        if key[0] == "value":
            return self.plan.values[key[1]]
        for rule_id, locals_, _w, _r, _d in self.plan.rules:
            if rule_id == key[1]:
                return locals_[key[2]]
        raise KeyError(key)

    def use_value(self, key: tuple[str, ...], out: list[py.stmt]) -> py.expr:
        """``if v is UNSET: v = <value>``; the value's error propagates and leaves it unset."""
        if key in self.generating:
            raise _TooBig  # a cycle: the build reports it; never compiled
        var = self.value_vars.get(key)
        if var is None:
            var = self.value_vars[key] = f"_nv{len(self.value_vars)}"
        stmts: list[py.stmt] = []
        self.generating.add(key)
        try:
            result = self.unit(self.checked_value(key), stmts)
        finally:
            self.generating.discard(key)
        stmts.append(P.assign(var, result))
        out.append(py.If(test=P.is_(P.name(var), P.name("_U")), body=stmts, orelse=[]))
        # past the test, the variable holds the value: exactly a bool when the expression gives one
        return P.mark_bool(P.name(var)) if P.is_bool(result) else P.name(var)

    # -- fields read once

    def read_cache(self, node: A.Select) -> str | None:
        rp = _record_path(node, self.c)
        if rp is None:
            return None
        root, path = rp
        if root == "record":
            if path not in self.shared_reads:
                return None
            key = ("rec", path)
            var = self.read_vars.get(key)
            if var is None:
                var = self.read_vars[key] = f"_rc{len(self.read_vars)}"
            return var
        for cel, pyname, _label in reversed(self.var_names):
            if "var:" + cel == root:
                return self.read_vars.get((pyname, path))
        return None

    def worth_caching(self, path: Any, count: int) -> bool:
        """Read once what is read more than once; in optimistic code (where a read is a plain
        subscript) only dates, whose parsing is the cost."""
        return count > 1 and (not self.fast or path[-1][1].kind == "date")

    def iteration_caches(self, node: A.Comprehension) -> list[py.stmt]:
        # the macro's variables: the last one or two pushed (the element last)
        variables = self.var_names[-2:] if node.var2 is not None else self.var_names[-1:]
        counts: dict[Any, int] = {}
        for part in (node.body, node.filter):
            if part is None:
                continue
            for n in A.walk(part):
                if isinstance(n, A.Select):
                    rp = _record_path(n, self.c)
                    if rp is not None and any(rp[0] == "var:" + cel for cel, _py, _l in variables):
                        key = (rp[0], rp[1])
                        counts[key] = counts.get(key, 0) + 1
        pynames = {"var:" + cel: pyname for cel, pyname, _label in variables}
        names = []
        for (root, path), count in counts.items():
            if self.worth_caching(path, count):
                var = f"_ic{self.n}"
                self.n += 1
                self.read_vars[(pynames[root], path)] = var
                names.append(var)
        if not names:
            return []
        return [py.Assign(targets=[P.store(v) for v in names], value=P.name("_U"))]

    # -- the function

    def decide_time_units(self) -> list[Checked]:
        """The expressions evaluated while deciding: conditions, outputs and the values they use."""
        units: list[Checked] = []
        seen: set[tuple[str, ...]] = set()
        todo: list[tuple[Checked, str]] = []
        for rule_id, _locals, when, require, _d in self.plan.rules:
            todo.extend((c, rule_id) for c in (when, require) if c is not None)
        for _name, value, when in self.plan.outputs:
            todo.extend((c, "") for c in (value, when) if c is not None)
        if self.fast and self.plan.as_of is not None:
            todo.append((self.plan.as_of, ""))
        while todo:
            c, rule_id = todo.pop()
            units.append(c)
            for kind, name in c.idents.values():
                if kind in ("value", "local"):
                    key = ("value", name) if kind == "value" else ("local", rule_id, name)
                    if key not in seen:
                        seen.add(key)
                        todo.append((self.checked_value(key), rule_id))
        return units

    def count_reads(self) -> None:
        counts: dict[Any, int] = {}
        for c in self.decide_time_units():
            for n in A.walk(c.node):
                if isinstance(n, A.Select):
                    rp = _record_path(n, c)
                    if rp is not None and rp[0] == "record":
                        counts[rp[1]] = counts.get(rp[1], 0) + 1
        self.shared_reads = {p for p, k in counts.items() if self.worth_caching(p, k)}

    def status_of(
        self, checked: Checked, what: str, out: list[py.stmt], then: list[py.stmt], otherwise: list[py.stmt]
    ) -> None:
        """Run ``then`` when the expression is true, ``otherwise`` when false; else raise not-bool."""
        e = self.unit(checked, out)
        if P.is_bool(e):
            out.append(py.If(test=e, body=then, orelse=otherwise))
            return
        e = self.named(e, out)
        out.append(
            py.If(
                test=P.is_(e, py.Constant(True)),
                body=then,
                orelse=[
                    py.If(
                        test=P.is_(e, py.Constant(False)),
                        body=otherwise,
                        orelse=[P.raise_(P.call("_notbool", py.Constant(what)))],
                    )
                ],
            )
        )

    def decide(self) -> Callable[..., Any]:
        self.count_reads()
        fast = self.fast
        body: list[py.stmt] = []
        if fast:
            # waivers and a date to find are left to the caller and the exact function
            body.append(
                py.If(
                    test=py.Compare(left=py.Constant("waivers"), ops=[py.In()], comparators=[P.name("rec")]),
                    body=[P.raise_(P.name("_Bail"))],
                    orelse=[],
                )
            )
            find: list[py.stmt] = []
            if self.plan.as_of is not None:
                day = self.named(self.unit(self.plan.as_of, find), find)
                find.append(
                    py.If(
                        test=P.is_(P.class_of(day), P.name("_date"), negate=True),
                        body=[P.raise_(P.name("_Bail"))],
                        orelse=[],
                    )
                )
                find.append(P.assign("as_of", day))
            else:
                find.append(P.assign("as_of", P.call("_today")))
            body.append(py.If(test=P.is_(P.name("as_of"), py.Constant(None)), body=find, orelse=[]))
        body.append(P.assign("_failed", py.Constant(False)))
        if not fast:
            body.append(P.assign("_errored", py.Constant(False)))
            body.append(P.assign("_errs", py.Constant(None)))
        statuses: list[py.expr] = []
        for k, (rule_id, _locals, when, require, decisive) in enumerate(self.plan.rules):
            self.rule_id = rule_id
            s = f"_s{k}"
            statuses.append(P.name(s))
            on_fail: list[py.stmt] = [P.assign(s, P.name("_FAIL"))]
            if decisive:
                on_fail.append(P.assign("_failed", py.Constant(True)))
            if k in self.plan.data_rules:
                # a data check that does not hold: the rule's error (the optimistic code leaves it
                # to the exact function, as every error); rules of kind ``rule`` are unchanged
                on_fail = (
                    [P.raise_(P.name("_Bail"))]
                    if fast
                    else [
                        P.assign(s, P.name("_ERROR")),
                        *([P.assign("_errored", py.Constant(True))] if decisive else []),
                        P.assign("_errs", P.call("_adderr", P.name("_errs"), py.Constant(k), P.name("_DATA"))),
                    ]
                )
            rule_body: list[py.stmt] = []
            if when is None:
                self.status_of(require, "require", rule_body, [P.assign(s, P.name("_PASS"))], on_fail)
            else:
                req: list[py.stmt] = []
                self.status_of(require, "require", req, [P.assign(s, P.name("_PASS"))], on_fail)
                self.status_of(when, "when", rule_body, req, [P.assign(s, P.name("_NA"))])
            if fast:
                body.extend(rule_body)
                continue
            on_error: list[py.stmt] = [P.assign(s, P.name("_ERROR"))]
            if decisive:
                on_error.append(P.assign("_errored", py.Constant(True)))
            on_error.append(P.assign("_errs", P.call("_adderr", P.name("_errs"), py.Constant(k), P.name("_e"))))
            body.append(
                py.Try(
                    body=rule_body,
                    handlers=[py.ExceptHandler(type=P.name("_Exc"), name="_e", body=on_error)],
                    orelse=[],
                    finalbody=[],
                )
            )
        self.rule_id = ""
        if fast:
            body.append(
                P.assign("_outcome", py.IfExp(test=P.name("_failed"), body=P.name("_OFAIL"), orelse=P.name("_OPASS")))
            )
        else:
            body.append(
                P.assign(
                    "_outcome",
                    py.IfExp(
                        test=P.name("_failed"),
                        body=P.name("_OFAIL"),
                        orelse=py.IfExp(test=P.name("_errored"), body=P.name("_OINDET"), orelse=P.name("_OPASS")),
                    ),
                )
            )
            body.append(P.assign("_oerrs", py.Constant(None)))
        body.append(P.assign("_outs", py.Dict(keys=[], values=[])))
        for name, value, when in self.plan.outputs:
            stmts: list[py.stmt] = []
            store: list[py.stmt] = []
            v = self.unit(value, store)
            store.append(
                py.Assign(
                    targets=[py.Subscript(value=P.name("_outs"), slice=py.Constant(name), ctx=py.Store())], value=v
                )
            )
            if when is None:
                stmts.extend(store)
            else:
                w = self.unit(when, stmts)
                test = w if P.is_bool(w) else P.is_(self.named(w, stmts), py.Constant(True))
                stmts.append(py.If(test=test, body=store, orelse=[]))
            if fast:
                body.extend(stmts)
                continue
            body.append(
                py.Try(
                    body=stmts,
                    handlers=[
                        py.ExceptHandler(
                            type=P.name("_Exc"),
                            name="_e",
                            body=[
                                P.assign("_oerrs", P.call("_adderr", P.name("_oerrs"), py.Constant(name), P.name("_e")))
                            ],
                        )
                    ],
                    orelse=[],
                    finalbody=[],
                )
            )
        cached = [*self.value_vars.values(), *(v for k, v in self.read_vars.items() if k[0] == "rec")]
        if cached:
            body.insert(0, py.Assign(targets=[P.store(v) for v in cached], value=P.name("_U")))
        body.append(
            py.Return(
                value=py.Tuple(
                    elts=[
                        py.Tuple(elts=statuses, ctx=py.Load()),
                        py.Constant(None) if fast else P.name("_errs"),
                        py.Tuple(elts=[P.name(v) for v in self.value_vars.values()], ctx=py.Load()),
                        P.name("_outcome"),
                        P.name("_outs"),
                        *([py.Constant(None), P.name("as_of"), py.Constant(None)] if fast else [P.name("_oerrs")]),
                    ],
                    ctx=py.Load(),
                )
            )
        )
        return self.define("decide_fast" if fast else "decide", ("rec", "as_of"), body, "<decision>")

    def value_keys(self) -> tuple[tuple[str, ...], ...]:
        return tuple(self.value_vars)


def _add_error(errors: dict[Any, Any] | None, key: Any, e: BaseException) -> dict[Any, Any]:
    if errors is None:
        errors = {}
    errors[key] = V.wrap_error(e)
    return errors


def _not_bool(what: str) -> EvalError:
    return EvalError("eval.not-bool", msg("eval.not-bool:part", what=what))


class CompiledDecisionFns:
    """The functions of a decision compiled as a whole (see :func:`compile_decision`)."""

    def __init__(
        self,
        exact: Callable[..., Any],
        fast: Callable[..., Any] | None,
        value_keys: tuple[tuple[str, ...], ...],
        plan: DecisionPlan,
        params: dict[str, Any],
    ) -> None:
        self.exact = exact
        self.fast = fast
        self.value_keys = value_keys
        self.plan = plan  # kept for ``compile_trace``
        self.params = params


def compile_decision(plan: DecisionPlan, params: dict[str, Any] | None = None) -> CompiledDecisionFns | None:
    """Compile a whole decision to ``decide(rec, as_of)``, or None when it cannot be one function.

    ``exact(rec, as_of)`` returns ``(statuses, errors, values, outcome, outputs,
    output_errors)``: each rule's status (before waivers) in order; ``None`` or a
    dict rule index -> ``EvalError``; the named values and rule values computed, in
    the order of ``value_keys`` (``("value", name)`` or ``("local", rule id, name)``;
    :data:`UNSET` when not computed, or when it failed); the outcome; the outputs;
    ``None`` or a dict output name -> ``EvalError``.  The results are those of
    evaluating each expression with :func:`compile_condition` and
    :func:`cached_value`.

    ``fast(rec, as_of)`` is for the common case (no errors at all, no waivers) and
    raises for anything else; the caller then calls ``exact``.  ``as_of`` may be
    ``None``: it is then the value of the decision's ``as_of`` expression, or today.
    It returns the same six items followed by the evaluation date and ``None`` (no
    waivers).  It is ``None`` when it could not be compiled.
    """
    from engine.model import Outcome, Status

    consts = {
        "_U": UNSET,
        "_adderr": _add_error,
        "_notbool": _not_bool,
        "_Bail": _Bailout,
        "_date": _dt.date,
        "_today": _dt.date.today,
        "_PASS": Status.PASS,
        "_FAIL": Status.FAIL,
        "_ERROR": Status.ERROR,
        "_NA": Status.NOT_APPLICABLE,
        "_OPASS": Outcome.PASS,
        "_OFAIL": Outcome.FAIL,
        "_OINDET": Outcome.INDETERMINATE,
        "_DATA": DATA_ERROR,
    }
    fns: list[Any] = []
    for fast in (False, True):
        gen = _DecisionGen(plan, params or {}, fast)
        gen.g.update(consts)
        try:
            fns.append(gen.decide())
        except (_TooBig, SyntaxError, RecursionError, MemoryError):
            if not fast:
                return None
            fns.append(None)
        if not fast:
            keys = gen.value_keys()
        elif gen.value_keys() != keys:  # the same values in the same order, or no fast function
            fns[-1] = None
    return CompiledDecisionFns(fns[0], fns[1], keys, plan, params or {})


# -- what each rule saw, for reports ----------------------------------------------------------------


class _TraceGen(_DecisionGen):
    """Generates ``def trace(rec, as_of, nv, st, lang)``: every rule's JSON object of a decision
    whose rules had no error and no waiver (as a list of dicts, or as JSON text in UTF-8: the one
    text form; ``Decision.to_json_text`` decodes it).

    Each rule's values are those its getters would give (a value that fails is left out);
    each is computed at most once per record, beginning with those the decision computed
    (``nv``).  Messages are filled in only for rules that failed.
    """

    def __init__(self, fns: CompiledDecisionFns, paths: dict[str, Checked], mode: str) -> None:
        super().__init__(fns.plan, fns.params, False)
        self.paths = paths
        if mode not in ("dict", "bytes"):
            raise ValueError(f"trace mode {mode!r}: 'dict' or 'bytes'")
        self.raw = mode == "bytes"  # JSON text in UTF-8, else the JSON values (dicts and lists)
        for key in fns.value_keys:  # the values the decision computed come in ``nv``
            self.value_vars[key] = f"_nv{len(self.value_vars)}"
        self.given = len(self.value_vars)
        self.single_paths: set[Any] = set()

    def checked_value(self, key: tuple[str, ...]) -> Checked:
        if key[0] == "path":
            return self.paths[key[1]]
        return super().checked_value(key)

    def count_reads(self) -> None:
        pass  # values are kept in variables; each field is read once through them

    def source(self, entry: tuple[str, Any], out: list[py.stmt]) -> tuple[py.expr, Type | None]:
        """The expression of one getter (statements into ``out``) and its static type."""
        kind, what = entry
        if kind == "const":
            return self.const(tuple(what) if isinstance(what, list) else what), None
        if kind == "as_of":
            return P.name("as_of"), Type("date")
        c = self.checked_value(what)
        if what in self.single_paths:
            return self.unit(c, out), c.type_of(c.node)
        return self.use_value(what, out), c.type_of(c.node)

    def encode(self, x: py.expr, t: Type | None, boolean: bool = False) -> py.expr:
        """JSON text in UTF-8 (bytes) or JSON value (dicts) of ``x``; typed common cases inline
        (``boolean``: the value is exactly a bool)."""
        kind = t.kind if t is not None and not t.nullable else ""
        if self.raw:
            general = _encoded(P.call("_jt", x))
            if boolean:
                return py.IfExp(test=x, body=py.Constant(b"true"), orelse=py.Constant(b"false"))
            if kind == "string":
                return py.IfExp(
                    test=P.is_(P.class_of(x), P.name("str")), body=_encoded(P.call("_es", x)), orelse=general
                )
            if kind == "int":
                return py.IfExp(
                    test=P.is_(P.class_of(x), P.name("int")),
                    body=py.BinOp(left=py.Constant(b"%d"), op=py.Mod(), right=x),
                    orelse=general,
                )
            if kind == "bool":
                return py.IfExp(
                    test=P.is_(x, py.Constant(True)),
                    body=py.Constant(b"true"),
                    orelse=py.IfExp(test=P.is_(x, py.Constant(False)), body=py.Constant(b"false"), orelse=general),
                )
            if kind == "list":
                return py.IfExp(
                    test=py.BoolOp(
                        op=py.And(), values=[P.is_(P.class_of(x), P.name("list")), py.UnaryOp(op=py.Not(), operand=x)]
                    ),
                    body=py.Constant(b"[]"),
                    orelse=general,
                )
            return general
        if boolean:
            return x
        if kind in ("string", "int", "bool"):
            return py.IfExp(test=P.is_(P.class_of(x), P.name(P.GUARD_CLASS[kind])), body=x, orelse=P.call("_tjv", x))
        if kind == "list":  # often empty: a new empty list, as ``to_json_value`` makes
            return py.IfExp(
                test=py.BoolOp(
                    op=py.And(), values=[P.is_(P.class_of(x), P.name("list")), py.UnaryOp(op=py.Not(), operand=x)]
                ),
                body=py.List(elts=[], ctx=py.Load()),
                orelse=P.call("_tjv", x),
            )
        return P.call("_tjv", x)

    def fill(self, template: tuple[Any, ...], slots: dict[str, tuple[str, Type | None, bool]], lang: str) -> py.expr:
        """A message template as an f-string: each placeholder's value as ``format_value`` writes
        it, ``?`` for one that has no value."""
        parts: list[py.expr] = []
        for part in template:
            if part.__class__ is str:
                parts.append(py.Constant(part))
                continue
            slot = slots.get(part[0])
            if slot is None:
                parts.append(py.Constant("?"))
                continue
            x, t, boolean = slot
            general = py.IfExp(
                test=P.is_(P.name(x), P.name("_MISS")),
                body=py.Constant("?"),
                orelse=P.call("_fv", P.name(x), py.Constant(lang)),
            )
            if boolean:
                yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
                value: py.expr = py.IfExp(
                    test=P.is_(P.name(x), py.Constant(True)),
                    body=py.Constant(yes),
                    orelse=py.IfExp(test=P.is_(P.name(x), py.Constant(False)), body=py.Constant(no), orelse=general),
                )
            elif t is not None and t.kind == "int" and not t.nullable:
                value = py.IfExp(
                    test=P.is_(P.class_of(P.name(x)), P.name("int")), body=P.call("_ir", P.name(x)), orelse=general
                )
            else:
                value = py.IfExp(test=P.is_(P.class_of(P.name(x)), P.name("str")), body=P.name(x), orelse=general)
            parts.append(py.FormattedValue(value=value, conversion=-1, format_spec=None))
        return py.JoinedStr(values=parts) if parts else py.Constant("")

    def memo_key(self, x: str, t: Type | None, boolean: bool) -> py.expr:
        """``x``'s part of a rule's memo key: values equal as keys must be written alike, so a
        value whose class its static type does not fix goes through ``_mk``, and one that is not
        of the class its type names makes the key unhashable (``_NOKEY``): not remembered."""
        kind = t.kind if t is not None and not t.nullable else ""
        if boolean:
            return P.name(x)
        if kind == "list":  # often empty: ``()`` (no other value's part is an empty tuple)
            return py.IfExp(
                test=py.BoolOp(
                    op=py.And(),
                    values=[P.is_(P.class_of(P.name(x)), P.name("list")), py.UnaryOp(op=py.Not(), operand=P.name(x))],
                ),
                body=py.Tuple(elts=[], ctx=py.Load()),
                orelse=P.call("_mk", P.name(x)),
            )
        cls = {"string": "str", "int": "int", "bool": "bool", "date": "_date"}.get(kind)
        if cls is None:
            return P.call("_mk", P.name(x))
        return py.IfExp(test=P.is_(P.class_of(P.name(x)), P.name(cls)), body=P.name(x), orelse=P.name("_NOKEY"))

    def memo(
        self, k: int, s: str, xs: list[tuple[str, str, Type | None, bool]], shows_more: bool, compute: list[py.stmt]
    ) -> list[py.stmt]:
        """Rule ``k``'s JSON object ``_r{k}``, from a per-rule memo when the same status, language
        and values were written before (``compute`` makes it otherwise).  Not remembered: a rule
        with a value missing (``_bad``), a failed rule whose message shows more than its values
        (``shows_more``), a value that is not a plain scalar or a list of strings and dates."""
        r, memo, key, lookup = f"_r{k}", f"_memo{k}", f"_key{k}", f"_mg{k}"
        self.g[memo] = BoundedMemo(MEMO_SIZE)
        self.g[lookup] = self.g[memo].get  # its lookups bound once: as fast as a plain dict's
        test: py.expr = py.UnaryOp(op=py.Not(), operand=P.name("_bad"))
        if shows_more:
            test = py.BoolOp(op=py.And(), values=[test, P.is_(P.name(s), P.name("_FAIL"), negate=True)])
        parts = [P.name(s), P.name("lang"), *(self.memo_key(x, t, b) for _n, x, t, b in xs)]
        remember: list[py.stmt] = [
            py.Expr(
                value=P.call(py.Attribute(value=P.name(memo), attr="remember", ctx=py.Load()), P.name(key), P.name(r))
            )
        ]
        return [
            P.assign(key, py.IfExp(test=test, body=py.Tuple(elts=parts, ctx=py.Load()), orelse=py.Constant(None))),
            py.Try(
                body=[P.assign(r, P.call(lookup, P.name(key)))],
                handlers=[
                    py.ExceptHandler(
                        type=P.name("_TypeError"),
                        name=None,
                        body=[py.Assign(targets=[P.store(r), P.store(key)], value=py.Constant(None))],
                    )
                ],
                orelse=[],
                finalbody=[],
            ),
            py.If(
                test=P.is_(P.name(r), py.Constant(None)),
                body=[
                    *compute,
                    py.If(test=P.is_(P.name(key), py.Constant(None), negate=True), body=remember, orelse=[]),
                ],
                orelse=[],
            ),
        ]

    def trace(
        self,
        rules: list[tuple[list[tuple[str, Any]], list[tuple[str, Any]]]],
        heads: list[tuple[str, dict[str, Any], str]],
        templates: list[tuple[Any, Any]],
    ) -> Callable[..., Any]:
        # a record path shown by one rule only is read where it is shown, without a variable
        uses: dict[Any, int] = {}
        for seen, extra in rules:
            for _name, entry in (*seen, *extra):
                if entry[0] == "key":
                    uses[entry[1]] = uses.get(entry[1], 0) + 1
        self.single_paths = {k for k, n in uses.items() if isinstance(k, tuple) and k[0] == "path" and n == 1}
        body: list[py.stmt] = [P.assign("_bad", py.Constant(False))]
        statuses = [f"_st{k}" for k in range(len(rules))]
        if statuses:
            body.append(
                py.Assign(targets=[py.Tuple(elts=[P.store(x) for x in statuses], ctx=py.Store())], value=P.name("st"))
            )
        pieces: list[py.expr] = [py.Constant("[")]
        dicts: list[py.expr] = []
        for k, ((seen, extra), (prefix, head, severity)) in enumerate(zip(rules, heads, strict=True)):
            self.rule_id = self.plan.rules[k][0]
            xs: list[tuple[str, str, Type | None, bool]] = []
            for name, entry in seen:
                x = f"_x{self.n}"
                self.n += 1
                stmts: list[py.stmt] = []
                e, t = self.source(entry, stmts)
                stmts.append(P.assign(x, e))
                body.append(
                    py.Try(
                        body=stmts,
                        handlers=[
                            py.ExceptHandler(
                                type=P.name("_Exc"),
                                name=None,
                                body=[P.assign(x, P.name("_MISS")), P.assign("_bad", py.Constant(True))],
                            )
                        ],
                        orelse=[],
                        finalbody=[],
                    )
                )
                xs.append((name, x, t, P.is_bool(e)))
            s = statuses[k]
            m = f"_m{k}"
            mark = len(body)
            # the message, for a rule that failed (no rule is waived here): the template of the
            # language, filled in with the rule's values and its placeholders' own
            msg: list[py.stmt] = []
            slots: dict[str, tuple[str, Type | None, bool]] = {n: (x, t, b) for n, x, t, b in xs}
            wanted = {p[0] for tpl in templates[k] for p in tpl if p.__class__ is tuple}
            for name, entry in extra:
                if name in slots or name not in wanted:
                    continue
                x = f"_x{self.n}"
                self.n += 1
                stmts = []
                e, t = self.source(entry, stmts)
                stmts.append(P.assign(x, e))
                msg.append(
                    py.Try(
                        body=stmts,
                        handlers=[
                            py.ExceptHandler(type=P.name("_Exc"), name=None, body=[P.assign(x, P.name("_MISS"))])
                        ],
                        orelse=[],
                        finalbody=[],
                    )
                )
                slots[name] = (x, t, P.is_bool(e))
            filled = [self.fill(tpl, slots, lang) for tpl, lang in zip(templates[k], ("zh", "en"), strict=True)]
            message: py.expr = py.IfExp(
                test=py.Compare(left=P.name("lang"), ops=[py.Eq()], comparators=[py.Constant("zh")]),
                body=filled[0],
                orelse=filled[1],
            )
            encoded = P.call("_es", message)
            msg.append(P.assign(m, _encoded(encoded) if self.raw else message))
            null: Any = b"null" if self.raw else None
            body.append(
                py.If(test=P.is_(P.name(s), P.name("_FAIL")), body=msg, orelse=[P.assign(m, py.Constant(null))])
            )
            # the values: all there (the common case) in one expression, else the general helper
            v = f"_v{k}"
            pairs = [py.Tuple(elts=[py.Constant(n), P.name(x)], ctx=py.Load()) for n, x, _t, _b in xs]
            if self.raw:
                pieces_b: list[py.expr] = []
                for i, (name, x, t, b) in enumerate(xs):
                    key = ("{" if i == 0 else ", ") + _json.dumps(name, ensure_ascii=False) + ": "
                    pieces_b += [py.Constant(key.encode("utf-8")), self.encode(P.name(x), t, b)]
                pieces_b.append(py.Constant(b"}"))
                # the pieces, joined with the whole line at the end
                whole: py.expr = py.Tuple(elts=pieces_b if xs else [py.Constant(b"{}")], ctx=py.Load())
                general: py.expr = py.Tuple(elts=[_encoded(P.call("_vtext", *pairs))], ctx=py.Load())
            else:
                whole = py.Dict(
                    keys=[py.Constant(n) for n, _x, _t, _b in xs],
                    values=[self.encode(P.name(x), t, b) for _n, x, t, b in xs],
                )
                general = P.call("_vdict", *pairs)
            if xs:
                body.append(
                    py.If(
                        test=P.name("_bad"),
                        body=[P.assign(v, general), P.assign("_bad", py.Constant(False))],
                        orelse=[P.assign(v, whole)],
                    )
                )
            else:
                body.append(P.assign(v, whole))
            status = py.Subscript(value=P.name("_STB" if self.raw else "_STV"), slice=P.name(s), ctx=py.Load())
            if self.raw:
                # the rule's whole JSON object, remembered by what it is made of (see ``memo_key``)
                r = f"_r{k}"
                made = P.assign(
                    r,
                    _join_bytes(
                        [
                            py.Constant(((", " if k else "") + prefix).encode("utf-8")),
                            status,
                            py.Constant(
                                (', "severity": ' + _json.dumps(severity, ensure_ascii=False) + ', "message": ').encode(
                                    "utf-8"
                                )
                            ),
                            P.name(m),
                            py.Constant(b', "values": '),
                            py.Starred(value=P.name(v), ctx=py.Load()),
                            py.Constant(b"}"),
                        ]
                    ),
                )
                computed = body[mark:]
                del body[mark:]
                # a failed rule's message may show more than its values (``extra``): not remembered
                shows_more = any(
                    name not in {n for n, *_ in xs} for name, entry in extra if name in wanted and entry[0] != "const"
                )
                body.extend(self.memo(k, s, xs, shows_more, [*computed, made]))
                pieces.append(P.name(r))
            else:
                keys = [*head, "status", "severity", "message", "values"]
                values = [self.const(x) for x in head.values()] + [status, py.Constant(severity), P.name(m), P.name(v)]
                dicts.append(py.Dict(keys=[py.Constant(key) for key in keys], values=values))
        self.rule_id = ""
        if self.raw:
            pieces[0] = py.Constant(b"[")
            pieces.append(py.Constant(b"]"))
            body.append(py.Return(value=_join_bytes(pieces)))
        else:
            body.append(py.Return(value=py.List(elts=dicts, ctx=py.Load())))
        head_stmts: list[py.stmt] = []
        given = list(self.value_vars.values())[: self.given]
        if given:
            head_stmts.append(
                py.Assign(targets=[py.Tuple(elts=[P.store(v) for v in given], ctx=py.Store())], value=P.name("nv"))
            )
        unset = [
            *list(self.value_vars.values())[self.given :],
            *(v for k, v in self.read_vars.items() if k[0] == "rec"),
        ]
        if unset:
            head_stmts.append(py.Assign(targets=[P.store(v) for v in unset], value=P.name("_U")))
        return self.define("trace", ("rec", "as_of", "nv", "st", "lang"), head_stmts + body, "<trace>", fuse=False)


def _encoded(e: py.expr) -> py.expr:
    """``e.encode()``: UTF-8."""
    return py.Call(func=py.Attribute(value=e, attr="encode", ctx=py.Load()), args=[], keywords=[])


def _join_bytes(parts: list[py.expr]) -> py.expr:
    """``b"".join((parts...))``."""
    return py.Call(
        func=py.Attribute(value=py.Constant(b""), attr="join", ctx=py.Load()),
        args=[py.Tuple(elts=parts, ctx=py.Load())],
        keywords=[],
    )


def compile_trace(
    fns: CompiledDecisionFns,
    paths: dict[str, Checked],
    rules: list[tuple[list[tuple[str, Any]], list[tuple[str, Any]]]],
    heads: list[tuple[str, dict[str, Any], str]],
    templates: list[tuple[Any, Any]],
    helpers: dict[str, Any],
    mode: str,
) -> Callable[..., Any] | None:
    """Compile ``trace(rec, as_of, nv, st, lang)`` for a decision compiled by :func:`compile_decision`:
    the ``rules`` part of its JSON object (``mode`` "dict": a list of dicts; "bytes": the JSON
    text in UTF-8, which is also where JSON text comes from), for a decision whose rules had no error and no
    waiver; ``nv`` are the values the decision computed, ``st`` the statuses.

    ``rules``: per rule, the getters of what it saw and of its placeholders, each
    ``(name, ("key", cache key) | ("const", value) | ("as_of", None))``; ``paths``: the checked
    ``record.<path>`` of each path key; ``heads``: per rule the JSON text up to the status,
    the fixed keys as a dict, and the severity; ``templates``: per rule its message in zh and
    in en, as literal text and ``(placeholder,)`` parts.  ``helpers``: ``_fv``
    (``format_value``), ``_tjv`` (``to_json_value``), ``_jt`` (JSON text of a value),
    ``_vdict``/``_vtext`` (values with some left out).
    """
    from engine.model import Status

    gen = _TraceGen(fns, paths, mode)
    gen.g.update(
        {
            "_U": UNSET,
            "_MISS": R.MISSING,
            "_FAIL": Status.FAIL,
            "_WAIVED": Status.WAIVED,
            "_STV": {s: s.value for s in Status},
            "_STB": {s: _json.dumps(s.value).encode() for s in Status},
            "_es": _encode_string,
            "_ir": int.__repr__,
            "_mk": _memo_key,
            "_NOKEY": _NOKEY,
            "_TypeError": TypeError,
            "_date": _dt.date,
            **helpers,
        }
    )
    try:
        return gen.trace(rules, heads, templates)
    except Exception:  # noqa: BLE001 - reports then build each rule's JSON the general way
        return None


MEMO_SIZE = 1024  # rule JSON objects remembered per rule, a few hundred bytes each (a BoundedMemo)


class _Unhashable:
    """A memo-key part that makes the key unhashable: that rule's object is not remembered."""

    __hash__ = None  # type: ignore[assignment]  # unhashable on purpose


_NOKEY = _Unhashable()


def _memo_key(x: Any) -> Any:
    """The memo-key part of a value whose static type does not fix its class: values equal as
    keys are written alike (``1`` and ``true`` differ; so do ``0.0`` and ``-0.0``, so floats are
    not remembered)."""
    c = x.__class__
    if c is str or c is _dt.date:
        return x
    if c is int or c is bool:
        return c, x
    if x is None:
        return None
    if c is list or c is tuple:
        for e in x:
            if e.__class__ is not str and e.__class__ is not _dt.date:
                return _NOKEY
        return c, *x
    return _NOKEY
