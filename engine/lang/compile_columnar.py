"""Compile checked expressions into Polars expressions: a whole column of records at once.

The per-record compiler (``engine.lang.compile``) stays the reference.  This backend
evaluates the same checked trees over a Polars frame in which each record is a row, and
gives each value a second column beside it: whether the value is exact for that row.  A
row is exact when nothing on the way to the value could have been an error in the
per-record engine (a missing field without a default, a value of the wrong type, a bad
date, an overflow, a function's error, a list too long for the cost budget), and where
this compiler is unsure of any of that, it says "not exact" instead.  The rows that are
not exact somewhere a decision looks are decided by the per-record engine (see
``engine.columnar``), so every row gets exactly the per-record answer.

Errors follow CEL where it lets a value win over an error: ``false && error`` is
``false``, ``true || error`` is ``true``, ``exists`` finds a true element despite the
errors of others, ``all`` a false one; a ternary needs only the branch it takes.

Polars is imported by the functions of this module only, so the engine does not need it
unless the columnar backend is used (extra ``[columnar]``).

Frames.  The record's top-level fields are the columns ``rec.<field>``; ``__asof`` is
the evaluation date; ``__p:<key>`` says (per row) whether the key may appear in the
record's text (JSON Lines: the quoted key is in the line; a table: always), which tells
an absent field (its default, or an error) from one given as null.  A macro (``exists``,
``all``, ``filter``, ``map``, ``exists_one``) explodes its list into a frame of one row
per element, evaluates its body there (with the outer values it reads carried along),
and aggregates back per row.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
from dataclasses import dataclass, replace
from typing import Any

from engine.lang import ast as A
from engine.lang import runtime as R
from engine.lang import values as V
from engine.lang.check import Checked
from engine.lang.compile_decision import DecisionPlan
from engine.lang.ext_strings import TRIMMED
from engine.lang.types import Type

__all__ = ["ColumnarDecision", "NotColumnar", "all_checked", "compile_columnar", "parse_date", "refine"]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class NotColumnar(Exception):
    """The decision cannot be decided by columns (the reason says why); the per-record engine decides it."""


class _LocalNotYet(NotColumnar):
    """A rule's value read before it is computed (its values are computed in an order that works)."""


@dataclass
class CV:
    """A value as two expressions over the current frame: the value, and whether it is exact."""

    v: Any  # pl.Expr
    ok: Any  # pl.Expr (Boolean, never null)
    t: Type


_ARROW_KINDS = ("string", "int", "bool", "date", "list", "object", "null")


def _pl() -> Any:
    import polars as pl

    return pl


class _Frame:
    """The frame expressions are evaluated over, and the macro variables bound in it."""

    def __init__(self, df: Any, vars: dict[str, tuple[str, Type]], depth: int, elements: Any = None) -> None:
        self.df = df
        self.elements = elements  # the list whose elements ``pl.element()`` is (in a ``list.eval``), or None
        self.vars = vars  # CEL variable -> (column, element type)
        self.depth = depth


class ColumnarDecision:
    """One decision compiled for columns: give it a frame, get statuses, outcome and outputs per row.

    ``plan`` is the decision's :class:`DecisionPlan` (its checked expressions), ``params``
    the rulebook's parameters, ``record_type`` the decision's record type.
    """

    def __init__(self, plan: DecisionPlan, params: dict[str, Any], record_type: Type) -> None:
        self.plan = plan
        self.params = params
        self.record_type = record_type
        self.unsupported: set[str] = set()  # what the rows reaching it leave to the per-record engine
        sizes = [len(v) for v in params.values() if isinstance(v, (str, list, tuple))]
        self.param_size = max(sizes, default=0)  # the longest text or list a parameter holds
        self._n = 0

    # ------------------------------------------------------------------ driving

    def decide(self, df: Any, as_of: _dt.date | None, table: bool = False) -> tuple[Any, list[str], list[str]]:
        """``df``: the frame of records (``rec.<field>`` columns, ``__p:<key>`` columns, ``__ok``
        for rows read exactly).  Returns the frame with ``__asof``, one status column per rule
        (``__s<i>``: 0 pass, 1 fail, 2 not applicable), one column per output (``__o<i>``: its JSON
        text, null when absent), and ``__exact``: the rows this decision answered exactly."""
        pl = _pl()
        self._n = 0
        self.values: dict[str, tuple[str, str]] = {}
        self.locals: dict[str, tuple[str, str]] = {}
        self.table = table
        self.unique_calls = 0
        df = df.lazy().with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("__i"))
        self.columns = set(df.collect_schema().names())
        frame = _Frame(df, {}, 0)
        # the evaluation date
        if as_of is not None:
            frame.df = frame.df.with_columns(pl.lit(as_of, dtype=pl.Date).alias("__asof"), pl.lit(True).alias("__aok"))
        elif self.plan.as_of is not None:
            cv = self.expr(self.plan.as_of, self.plan.as_of.node, frame)
            if cv.t.kind != "date":
                raise NotColumnar("the decision's `as_of` is not a date")
            frame.df = (
                frame.df.with_columns(cv.v.alias("__asof"), cv.ok.alias("__aok")).collect().lazy()
            )  # step by step: one plan of everything is slower
        else:
            frame.df = frame.df.with_columns(
                pl.lit(_dt.date.today(), dtype=pl.Date).alias("__asof"), pl.lit(True).alias("__aok")
            )
        # named values: columns computed once (exact or not per row; used where reached)
        for name in _value_order(self.plan):
            c = self.plan.values[name]
            cv = self.expr(c, c.node, frame)
            vcol, okcol = f"__val:{name}", f"__vok:{name}"
            frame.df = frame.df.with_columns(cv.v.alias(vcol), cv.ok.alias(okcol)).collect().lazy()
            self.values[name] = (vcol, okcol)
        exact = pl.col("__ok") & pl.col("__aok") & self.cost_bound_ok()
        statuses: list[str] = []
        for i, (_rid, locals_, when, require, _decisive) in enumerate(self.plan.rules):
            # the rule's own values (what its message shows, and what its conditions may read)
            self.locals = {}
            pending = {name: locals_[name] for name in _locals_read(locals_, when, require)}
            while pending:
                progressed = False
                for lname, lc in list(pending.items()):
                    try:
                        lv = self.expr(lc, lc.node, frame)
                    except _LocalNotYet:
                        continue
                    vcol, okcol = f"__loc{i}:{lname}", f"__lok{i}:{lname}"
                    frame.df = frame.df.with_columns(lv.v.alias(vcol), lv.ok.alias(okcol)).collect().lazy()
                    self.locals[lname] = (vcol, okcol)
                    del pending[lname]
                    progressed = True
                if not progressed:
                    raise NotColumnar("rule values that read each other in a cycle")
            req = self.expr(require, require.node, frame)
            if req.t.kind != "bool" or req.t.nullable:
                raise NotColumnar("a `require` that is not a boolean")
            data = i in self.plan.data_rules
            if when is not None:
                w = self.expr(when, when.node, frame)
                if w.t.kind != "bool" or w.t.nullable:
                    raise NotColumnar("a `when` that is not a boolean")
                status = (
                    pl.when(~w.v)
                    .then(pl.lit(2, pl.Int8))
                    .when(req.v)
                    .then(pl.lit(0, pl.Int8))
                    .otherwise(pl.lit(1, pl.Int8))
                )
                rule_ok = w.ok & (~w.v | (req.ok & (~pl.lit(data) | req.v)))
            else:
                status = pl.when(req.v).then(pl.lit(0, pl.Int8)).otherwise(pl.lit(1, pl.Int8))
                rule_ok = req.ok & (~pl.lit(data) | req.v)
            col = f"__s{i}"
            frame.df = frame.df.with_columns(status.alias(col), rule_ok.alias(f"__sok{i}")).collect().lazy()
            exact = exact & pl.col(f"__sok{i}")
            statuses.append(col)
        outputs: list[str] = []
        for i, (_name, value, when) in enumerate(self.plan.outputs):
            v = self.expr(value, value.node, frame)
            text, text_ok = self.json_text(v)
            if when is not None:
                w = self.expr(when, when.node, frame)
                if w.t.kind != "bool" or w.t.nullable:
                    raise NotColumnar("an output's `when` that is not a boolean")
                out = pl.when(w.v).then(text).otherwise(pl.lit(None, pl.String))
                out_ok = w.ok & (~w.v | (v.ok & text_ok))
            else:
                out, out_ok = text, v.ok & text_ok
            frame.df = frame.df.with_columns(out.alias(f"__o{i}"), out_ok.alias(f"__ook{i}")).collect().lazy()
            exact = exact & pl.col(f"__ook{i}")
            outputs.append(f"__o{i}")
        frame.df = frame.df.with_columns(exact.fill_null(False).alias("__exact"))
        return frame.df, statuses, outputs

    def cost_bound_ok(self) -> Any:
        """Rows whose evaluation surely stays far within the per-record engine's cost budget.

        An upper bound of what the per-record engine charges (``values.MAX_COST``): each macro
        iteration, and the size of what an operation inside it scans or builds, bounded by the
        longest text or list of the record, times one more for each ``+`` that may have joined
        texts; nested macros iterate at most the longest list's length per level.  Rows over a
        quarter of the budget go to the per-record engine, which says whether the budget is spent.
        """
        pl = _pl()
        n = pl.col("__nmax").cast(pl.Float64)
        biggest = pl.max_horizontal(pl.col("__tmax").cast(pl.Float64), n, pl.lit(float(self.param_size)))
        ok = pl.lit(True)
        for c in self.evaluated():  # each expression has a budget of its own
            nodes = list(A.walk(c.node))
            pluses = 1 + sum(1 for x in nodes if isinstance(x, A.Binary) and x.op == "+")
            bound = len(nodes) * biggest * pluses
            for m in nodes:
                if isinstance(m, A.Comprehension):
                    body = list(A.walk(m.body))
                    scans = 1 + sum(1 for x in body if isinstance(x, (A.Binary, A.Call, A.Comprehension)))
                    plus_m = 1 + sum(1 for x in body if isinstance(x, A.Binary) and x.op == "+")
                    iterations = n.pow(float(_macro_depth(m)))
                    bound = bound + iterations * (1 + scans * biggest * plus_m)
            ok = ok & (bound <= V.MAX_COST / 4)
        return ok.fill_null(False)

    def evaluated(self) -> list[Checked]:
        """The expressions this compiler evaluates: named values, conditions and the rule values they
        read, outputs, the decision's date (not the rule values that only fill messages)."""
        plan = self.plan
        out: list[Checked] = list(plan.values.values())
        for _rid, locals_, when, require, _d in plan.rules:
            out.extend(locals_[name] for name in _locals_read(locals_, when, require))
            out.extend(c for c in (when, require) if c is not None)
        for _name, value, when in plan.outputs:
            out.extend(c for c in (value, when) if c is not None)
        if plan.as_of is not None:
            out.append(plan.as_of)
        return out

    def json_text(self, cv: CV) -> tuple[Any, Any]:
        """The JSON text of an output value (as ``json.dumps`` writes the value's JSON form)."""
        pl = _pl()
        kind = cv.t.kind
        if kind == "date":
            text = pl.lit('"') + cv.v.dt.to_string("%Y-%m-%d") + pl.lit('"')
            ok = pl.lit(True)
        elif kind == "int":
            text, ok = cv.v.cast(pl.String), pl.lit(True)
        elif kind == "bool":
            text, ok = pl.when(cv.v).then(pl.lit("true")).otherwise(pl.lit("false")), pl.lit(True)
        elif kind == "string":
            # text without anything JSON escapes is written as it is; other text goes to the reference
            text = pl.lit('"') + cv.v + pl.lit('"')
            ok = ~cv.v.str.contains(r'["\\\x00-\x1f]').fill_null(True)
        else:
            raise NotColumnar(f"an output of type {cv.t}")
        if cv.t.nullable:
            text = pl.when(cv.v.is_null()).then(pl.lit("null")).otherwise(text)
            ok = ok | cv.v.is_null()
        return text, ok.fill_null(False)

    # ------------------------------------------------------------------ expressions

    def tmp(self, what: str) -> str:
        self._n += 1
        return f"__{what}{self._n}"

    def expr(self, c: Checked, node: A.Node, frame: _Frame) -> CV:
        """The node as a value and its exactness.  What this compiler cannot express is a value that
        is exact nowhere: the rows that reach it (past ``&&``, ``||``, ``?:`` and the macros that
        stop before it) go to the per-record engine, the others are decided here."""
        method = getattr(self, "x_" + type(node).__name__, None)
        try:
            if method is None:
                raise NotColumnar(f"the expression `{type(node).__name__}`")
            cv: CV = method(c, node, frame)
        except NotColumnar as e:
            if isinstance(e, _LocalNotYet):
                raise
            self.unsupported.add(str(e))
            return CV(_typed_null(c.type_of(node)), _pl().lit(False), c.type_of(node))
        return cv

    def x_Literal(self, c: Checked, node: A.Literal, frame: _Frame) -> CV:
        pl = _pl()
        t = c.type_of(node)
        dtypes = {"int": pl.Int64, "string": pl.String, "bool": pl.Boolean, "null": pl.Null}
        if node.kind not in dtypes and t.kind not in dtypes:
            raise NotColumnar(f"a literal of kind {node.kind}")
        return CV(pl.lit(node.value, dtype=dtypes.get(t.kind, dtypes.get(node.kind))), pl.lit(True), t)

    def x_Ident(self, c: Checked, node: A.Node, frame: _Frame) -> CV:
        pl = _pl()
        resolved = c.idents.get(id(node))
        t = c.type_of(node)
        if resolved is None:
            raise NotColumnar("a name the checker did not resolve")
        kind, name = resolved
        if kind == "as_of":
            return CV(pl.col("__asof"), pl.col("__aok"), t)
        if kind == "var":
            if name not in frame.vars:
                raise NotColumnar("a macro variable outside its macro")
            col, et = frame.vars[name]
            if col == "":  # the element of a list.eval
                return CV(pl.element(), pl.element().is_not_null() if not et.nullable else pl.lit(True), et)
            return CV(pl.col(col), pl.col(col + ":ok"), et)
        if kind == "param":
            return self.constant(self.params[name], t)
        if kind == "value":
            if name not in self.values:
                raise NotColumnar(f"the named value `{name}` before it is computed")
            vcol, okcol = self.values[name]
            return CV(pl.col(vcol), pl.col(okcol), t)
        if kind == "local":
            if name not in self.locals:
                raise _LocalNotYet(name)
            vcol, okcol = self.locals[name]
            return CV(pl.col(vcol), pl.col(okcol), t)
        if kind == "record":
            raise NotColumnar("the whole record as a value")
        raise NotColumnar(f"a name of kind {kind}")

    def constant(self, value: Any, t: Type) -> CV:
        pl = _pl()
        if isinstance(value, bool):
            return CV(pl.lit(value, pl.Boolean), pl.lit(True), t)
        if isinstance(value, int):
            return CV(pl.lit(value, pl.Int64), pl.lit(True), t)
        if isinstance(value, str):
            return CV(pl.lit(value, pl.String), pl.lit(True), t)
        if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
            return CV(pl.lit(value, pl.Date), pl.lit(True), t)
        if isinstance(value, (list, tuple)) and all(isinstance(x, str) for x in value):
            return CV(pl.lit(pl.Series([list(value)], dtype=pl.List(pl.String))).first(), pl.lit(True), t)
        if isinstance(value, (list, tuple)) and all(isinstance(x, int) and not isinstance(x, bool) for x in value):
            return CV(pl.lit(pl.Series([list(value)], dtype=pl.List(pl.Int64))).first(), pl.lit(True), t)
        raise NotColumnar(f"a parameter of type {type(value).__name__}")

    def field(self, c: Checked, node: A.Select | A.Has, frame: _Frame) -> tuple[Any, Any, Any, Type]:
        """A field's column as read (``record.f`` or ``x.f``): its value, whether the object it is read
        from is there (a field of null is an error), whether the key may be given (JSON text: as null
        somewhere; a table: whether it has the column), and the type of the object it is read from."""
        pl = _pl()
        operand = node.operand
        if isinstance(operand, A.Ident) and c.idents.get(id(operand), ("",))[0] == "record":
            col = f"rec.{node.field}"
            if col not in self.columns:
                raise NotColumnar(f"the field `{node.field}` is not read")
            present = pl.col(f"__top:{node.field}") if self.table else pl.col(f"__p:{node.field}")
            return pl.col(col), pl.lit(True), present, self.record_type
        if c.type_of(operand).kind != "object":
            raise NotColumnar(f"a field of a value of type {c.type_of(operand)}")
        o = self.expr(c, operand, frame)
        present = pl.lit(True) if self.table else pl.col(f"__p:{node.field}")
        return o.v.struct.field(node.field), o.ok & o.v.is_not_null(), present, o.t

    def x_Select(self, c: Checked, node: A.Select, frame: _Frame) -> CV:
        if id(node) in c.idents:
            return self.x_Ident(c, node, frame)
        value, base_ok, present, parent = self.field(c, node, frame)
        return self.read(value, base_ok, present, _field_type(parent, node.field, c.type_of(node)), frame)

    def read(self, value: Any, base_ok: Any, present: Any, ft: Type, frame: _Frame) -> CV:
        """A field as the per-record engine reads it: its value, its default when absent, an
        error when absent without a default or null where null is not allowed."""
        pl = _pl()
        if ft.kind not in _ARROW_KINDS and ft.kind != "date":
            raise NotColumnar(f"a field of type {ft}")
        is_null = value.is_null()
        # a null read: absent for sure, given as null for sure, or either.  In a table (Parquet) a null where
        # the schema allows null is a null given, elsewhere the field's absence; in JSON text the key is
        # surely absent where ``present`` (the key may be given as null somewhere) is false.
        if self.table:  # ``present``: the table has the column
            absent, given = ~present | pl.lit(not ft.nullable), present & pl.lit(ft.nullable)
        else:
            absent, given = ~present, pl.lit(False)
        if ft.has_default:
            default = ft.default
            if default is None:
                if not ft.nullable:
                    raise NotColumnar("a field whose default is null but which may not be null")
                # absent or null: null either way
                out_v, ok_null = value, pl.lit(True)
            else:
                if isinstance(default, (list, tuple)):
                    if default or ft.kind != "list":
                        raise NotColumnar("a field whose default is a list that is not empty")
                    dv = pl.lit([])  # an empty list, of the column's type
                else:
                    dv = self.constant(default, ft).v
                # absent -> the default; given null -> null (an error unless nullable); unsure -> not exact
                out_v = pl.when(is_null & absent).then(dv).otherwise(value)
                ok_null = absent | (given & pl.lit(ft.nullable))
        else:
            # absent -> error; given null -> null if nullable; unsure -> not exact
            out_v = value
            ok_null = given & pl.lit(ft.nullable)
        ok = base_ok & (~is_null | ok_null)
        if ft.kind == "date" and not self.is_date(value, frame):  # text read as a date (a table may hold dates)
            parsed, parsed_ok = parse_date(out_v)
            ok = ok & (out_v.is_null() | parsed_ok)
            out_v = parsed
        return CV(out_v, ok.fill_null(False), ft)

    @staticmethod
    def is_date(value: Any, frame: _Frame) -> bool:
        pl = _pl()
        if frame.elements is not None:
            inner = frame.df.select(frame.elements.list.eval(value).alias("x")).collect_schema()["x"]
            return bool(inner.inner == pl.Date)
        return bool(frame.df.select(value.alias("x")).collect_schema()["x"] == pl.Date)

    def x_Has(self, c: Checked, node: A.Has, frame: _Frame) -> CV:
        pl = _pl()
        t = c.type_of(node)
        value, base_ok, present, parent = self.field(c, node, frame)
        # a value: present; null: in a table, given where the schema allows null (else absent); in JSON
        # text absent where the key is not given as null anywhere, else unsure
        ft = _field_type(parent, node.field, parent.fields().get(node.field, Type("dyn")))
        if self.table:
            return CV(value.is_not_null() | (present & pl.lit(ft.nullable)), base_ok.fill_null(False), t)
        sure = value.is_not_null() | ~present
        return CV(value.is_not_null(), (base_ok & sure).fill_null(False), t)

    def x_Unary(self, c: Checked, node: A.Unary, frame: _Frame) -> CV:
        pl = _pl()
        o = self.expr(c, node.operand, frame)
        if node.op == "!" and o.t.kind == "bool" and not o.t.nullable:
            return CV(~o.v, o.ok, c.type_of(node))
        if node.op == "-" and o.t.kind == "int" and not o.t.nullable:
            return CV(-o.v, o.ok & (o.v != INT_MIN), c.type_of(node))
        _ = pl
        raise NotColumnar(f"the operator {node.op} on {o.t}")

    def x_Binary(self, c: Checked, node: A.Binary, frame: _Frame) -> CV:
        pl = _pl()
        op = node.op
        t = c.type_of(node)
        if op in ("&&", "||"):
            a = self.expr(c, node.left, frame)
            b = self.expr(c, node.right, frame)
            for x in (a, b):
                if x.t.kind != "bool" or x.t.nullable:
                    raise NotColumnar(f"{op} on {x.t}")
            if op == "&&":
                a_false, b_false = a.ok & ~a.v, b.ok & ~b.v
                return CV(a.v & b.v, (a_false | b_false | (a.ok & b.ok)).fill_null(False), t)
            a_true, b_true = a.ok & a.v, b.ok & b.v
            return CV(a.v | b.v, (a_true | b_true | (a.ok & b.ok)).fill_null(False), t)
        a = self.expr(c, node.left, frame)
        b = self.expr(c, node.right, frame)
        ok = a.ok & b.ok
        ka, kb = a.t.kind, b.t.kind
        if op in ("==", "!="):
            if "null" not in (ka, kb) and (ka != kb or ka in ("list", "object")):
                raise NotColumnar(f"{op} between {a.t} and {b.t}")
            if "null" in (ka, kb):
                other = b if ka == "null" else a
                v = other.v.is_null()
            else:
                v = a.v.eq_missing(b.v)
            return CV(v if op == "==" else ~v, ok, t)
        if op in ("<", "<=", ">", ">="):
            if ka != kb or ka not in ("int", "string", "date"):
                raise NotColumnar(f"{op} between {a.t} and {b.t}")
            fn = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}[op]
            v = getattr(a.v, fn)(b.v)
            nn = pl.lit(True)
            if a.t.nullable:
                nn = nn & a.v.is_not_null()
            if b.t.nullable:
                nn = nn & b.v.is_not_null()
            return CV(v.fill_null(False), (ok & nn).fill_null(False), t)
        if op == "in":
            if kb != "list" or b.t.elem is None or b.t.elem.kind != ka or ka not in ("string", "int", "bool"):
                raise NotColumnar(f"`in` between {a.t} and {b.t}")
            known = _literal_value(node.right, c, self.params)
            if isinstance(known, (list, tuple)) and all(isinstance(x, (str, int)) for x in known):
                # a list the rulebook gives (a parameter): a test of membership in it, element by element
                if any(x.__class__ is not {"string": str, "int": int, "bool": bool}[ka] for x in known):
                    raise NotColumnar("`in` a parameter list of mixed types")
                return CV(a.v.is_in(list(known)).fill_null(False), ok, t)
            v = b.v.list.contains(a.v, nulls_equal=True) if _has_nulls_equal() else b.v.list.contains(a.v)
            if a.t.nullable:
                # null in a list: true only if the list holds a null (lists of text from the schema do not)
                v = pl.when(a.v.is_null()).then(pl.lit(False)).otherwise(v)
                ok = ok & (a.v.is_not_null() | b.v.list.eval(pl.element().is_null()).list.any().not_())
            return CV(v.fill_null(False), (ok & b.v.is_not_null() & _no_null_elements(b.v)).fill_null(False), t)
        if op in ("+", "-", "*"):
            if ka == kb == "int" and not a.t.nullable and not b.t.nullable:
                r = {"+": a.v + b.v, "-": a.v - b.v, "*": a.v * b.v}[op]
                # an overflow of 64-bit integers is CEL's error: checked in floating point, with a margin
                f = {
                    "+": a.v.cast(pl.Float64) + b.v.cast(pl.Float64),
                    "-": a.v.cast(pl.Float64) - b.v.cast(pl.Float64),
                    "*": a.v.cast(pl.Float64) * b.v.cast(pl.Float64),
                }[op]
                return CV(r, (ok & (f.abs() < 2.0**62)).fill_null(False), t)
            if op == "+" and ka == kb == "string" and not a.t.nullable and not b.t.nullable:
                return CV(a.v + b.v, ok, t)
            if op == "+" and ka == kb == "list" and not a.t.nullable and not b.t.nullable:
                return CV(pl.concat_list([a.v, b.v]), ok, t)
        raise NotColumnar(f"the operator {op} between {a.t} and {b.t}")

    def x_Conditional(self, c: Checked, node: A.Conditional, frame: _Frame) -> CV:
        pl = _pl()
        cond = self.expr(c, node.cond, frame)
        x = self.expr(c, node.then, frame)
        y = self.expr(c, node.other, frame)
        if cond.t.kind != "bool" or cond.t.nullable:
            raise NotColumnar("a condition that is not a boolean")
        t = c.type_of(node)
        if x.t.kind != y.t.kind and "null" not in (x.t.kind, y.t.kind):
            raise NotColumnar("a conditional whose branches differ in type")
        v = pl.when(cond.v).then(x.v).otherwise(y.v)
        ok = cond.ok & pl.when(cond.v).then(x.ok).otherwise(y.ok)
        return CV(v, ok.fill_null(False), t)

    def x_Call(self, c: Checked, node: A.Call, frame: _Frame) -> CV:
        pl = _pl()
        function, args, _member = R.call_parts(node, c)
        t = c.type_of(node)
        values = [self.expr(c, a, frame) for a in args]
        ok = pl.lit(True)
        for v in values:
            ok = ok & v.ok
        kinds = [v.t.kind for v in values]
        nullable = any(v.t.nullable for v in values)
        overload = c.overloads.get(id(node))
        if overload is None or not getattr(overload.impl, "__module__", "").startswith("engine.lang."):
            # a plugin's function (which may share a built-in's name): only its own implementation says
            return self.by_unique(c, node, function, values, ok, t)
        if nullable:
            # a built-in given a null where the checker allowed one: the per-record engine says what that
            # makes (an error, mostly); the rows with a value are computed here as by the non-null form
            for v in values:
                if v.t.nullable:
                    ok = ok & v.v.is_not_null()
            values = [CV(v.v, v.ok, replace(v.t, nullable=False)) if v.t.nullable else v for v in values]
            nullable = False
        if function == "size" and len(values) == 1 and not nullable:
            if kinds[0] == "list":
                return CV(values[0].v.list.len().cast(pl.Int64), ok, t)
            if kinds[0] == "string":
                return CV(values[0].v.str.len_chars().cast(pl.Int64), ok, t)
        if function == "year" and kinds == ["date"] and not nullable:
            return CV(values[0].v.dt.year().cast(pl.Int64), ok, t)
        if function == "string" and kinds == ["int"] and not nullable:
            return CV(values[0].v.cast(pl.String), ok, t)
        if function == "string" and kinds == ["string"] and not nullable:
            return CV(values[0].v, ok, t)
        if function == "date" and kinds == ["string"] and not nullable:
            d, d_ok = parse_date(values[0].v)
            return CV(d, (ok & d_ok).fill_null(False), t)
        if function == "date" and kinds == ["date"] and not nullable:
            return CV(values[0].v, ok, t)
        if function == "years_after" and kinds == ["date", "int"] and not nullable:
            d, n = values[0].v, values[1].v
            y = d.dt.year().cast(pl.Int64) + n
            m, day = d.dt.month(), d.dt.day()
            leap = ((y % 4) == 0) & (((y % 100) != 0) | ((y % 400) == 0))
            day2 = pl.when((m == 2) & (day == 29) & ~leap).then(pl.lit(28)).otherwise(day)
            in_range = (y >= 1) & (y <= 9999)
            yc = pl.when(in_range).then(y).otherwise(pl.lit(2000))
            return CV(pl.date(yc, m, day2), (ok & in_range).fill_null(False), t)
        if function == "full_years" and kinds == ["date", "date"] and not nullable:
            s, e = values[0].v, values[1].v
            n = e.dt.year().cast(pl.Int64) - s.dt.year().cast(pl.Int64)
            sm, em, sd, ed = s.dt.month(), e.dt.month(), s.dt.day(), e.dt.day()
            ey = e.dt.year()
            leap = ((ey % 4) == 0) & (((ey % 100) != 0) | ((ey % 400) == 0))
            sd2 = pl.when((sm == 2) & (sd == 29) & ~leap).then(pl.lit(28, pl.Int8)).otherwise(sd)
            before = (sm > em) | ((sm == em) & (sd2 > ed))
            r = pl.when((n > 0) & before).then(n - 1).otherwise(n)
            return CV(r, (ok & (n >= 0)).fill_null(False), t)  # a negative span goes to the reference
        if function == "trim" and kinds == ["string"] and not nullable:
            return CV(values[0].v.str.strip_chars(TRIMMED), ok, t)
        if function == "replace" and kinds == ["string", "string", "string"] and not nullable:
            pat = _literal_value(args[1], c, self.params)
            rep = _literal_value(args[2], c, self.params)
            if isinstance(pat, str) and pat and isinstance(rep, str):
                return CV(values[0].v.str.replace_all(pat, rep, literal=True), ok, t)
        if function in ("startsWith", "endsWith", "contains") and kinds == ["string", "string"] and not nullable:
            pat = _literal_value(args[1], c, self.params)
            if isinstance(pat, str):
                meth = {"startsWith": "starts_with", "endsWith": "ends_with"}.get(function)
                v = values[0].v.str.contains(pat, literal=True) if meth is None else getattr(values[0].v.str, meth)(pat)
                return CV(v, ok, t)
        if function == "distinct" and len(values) == 1 and kinds == ["list"] and not nullable:
            et = values[0].t.elem
            if et is not None and et.kind in ("string", "int", "bool", "date") and not et.nullable:
                lst = values[0].v
                return CV(lst.list.unique(maintain_order=True), (ok & _no_null_elements(lst)).fill_null(False), t)
        if function == "normalize" and kinds == ["string"] and not nullable:
            # ASCII text: lower case, white space at either end removed; other text goes to the reference
            v = values[0].v
            ascii_only = ~v.str.contains(r"[^\x00-\x7f]").fill_null(True)
            return CV(v.str.to_lowercase().str.strip_chars(_PY_SPACE), (ok & ascii_only).fill_null(False), t)
        if function in ("max", "min") and not nullable:
            agg = "max" if function == "max" else "min"
            if (
                len(values) == 1
                and kinds[0] == "list"
                and values[0].t.elem is not None
                and values[0].t.elem.kind in ("date", "int")
            ):
                lst = values[0].v
                v = getattr(lst.list, agg)()
                return CV(v, (ok & (lst.list.len() > 0) & _no_null_elements(lst)).fill_null(False), t)
            if len(values) >= 2 and len(set(kinds)) == 1 and kinds[0] in ("date", "int"):
                v = (
                    pl.max_horizontal([x.v for x in values])
                    if agg == "max"
                    else pl.min_horizontal([x.v for x in values])
                )
                return CV(v, ok, t)
        return self.by_unique(c, node, function, values, ok, t)

    def by_unique(self, c: Checked, node: A.Call, function: str, values: list[CV], ok: Any, t: Type) -> CV:
        """A call this compiler has no column form for, made by the reference implementation once
        per distinct combination of arguments (working days of a calendar: few distinct dates)."""
        pl = _pl()
        self.unique_calls += 1
        overload = c.overloads.get(id(node))
        if overload is None:
            raise NotColumnar(f"the call `{function}` the checker did not match")
        scalar = ("date", "int", "string", "bool")
        if any(v.t.kind not in scalar for v in values) or t.kind not in scalar or t.nullable:
            raise NotColumnar(f"the call `{function}` on {', '.join(str(v.t) for v in values)}")
        impl = overload.impl
        # the pending frame is needed to see the argument values: this call is compiled against the
        # frame's current data by a deferred step (see ``decide``'s use of ``pl.map_batches``)
        dtype = _polars_type(t)
        arg_exprs = [v.v for v in values]
        want = {"date": _dt.date, "int": int, "string": str, "bool": bool}[t.kind]

        def compute(s: Any) -> Any:
            frame = s.struct.unnest()
            ok_s = frame.get_column("__ok")
            args_df = frame.drop("__ok")
            uniq = args_df.filter(ok_s).unique()
            results: list[Any] = []
            oks: list[bool] = []
            for row in uniq.iter_rows():
                try:
                    r = impl(*row)
                except Exception:  # noqa: BLE001 - any error of the reference is "not exact here"
                    results.append(None)
                    oks.append(False)
                    continue
                good = r.__class__ is want and not (want is _dt.date and isinstance(r, _dt.datetime))
                results.append(r if good else None)
                oks.append(good)
            table = uniq.with_columns(pl.Series("__r", results, dtype=dtype), pl.Series("__rok", oks, dtype=pl.Boolean))
            joined = args_df.with_columns(ok_s).join(
                table, on=list(args_df.columns), how="left", nulls_equal=True, maintain_order="left"
            )
            rok = joined.get_column("__rok").fill_null(False) & ok_s
            return pl.struct([joined.get_column("__r").alias("v"), rok.alias("ok")], eager=True)

        names = [f"a{i}" for i in range(len(arg_exprs))]
        packed = pl.struct(
            [e.alias(nm) for e, nm in zip(arg_exprs, names, strict=True)] + [ok.fill_null(False).alias("__ok")]
        )
        res = packed.map_batches(compute, return_dtype=pl.Struct({"v": dtype, "ok": pl.Boolean}))
        return CV(res.struct.field("v"), res.struct.field("ok"), t)

    def element_only(self, c: Checked, node: A.Comprehension) -> bool:
        """Whether the macro's body reads nothing but its element and constants (so ``list.eval`` can run it)."""
        for n in A.walk(node.body):
            if isinstance(n, A.Comprehension):
                return False
            r = c.idents.get(id(n))
            if r is not None and not (r[0] == "param" or (r[0] == "var" and r[1] == node.var)):
                return False
            if isinstance(n, A.Ident) and r is None:
                return False
            if isinstance(n, A.Has) or (
                isinstance(n, A.Select)
                and not self.table
                and (
                    (c.type_of(n).has_default and c.type_of(n).default is not None)
                    or (not c.type_of(n).has_default and c.type_of(n).nullable)
                )
            ):
                return False  # a read that needs the row's text (absent or null)
        return True

    def per_element(self, c: Checked, node: A.Comprehension, lst: CV, et: Type, t: Type, frame: _Frame) -> CV | None:
        """The macro by ``list.eval`` over each row's list: no frame of elements, no join back."""
        pl = _pl()
        before = self.unique_calls
        inner = _Frame(frame.df, {**frame.vars, node.var: ("", et)}, frame.depth, lst.v)
        body = self.expr(c, node.body, inner)
        if node.filter is not None or self.unique_calls != before:
            return None
        macro = "exists_one" if node.macro == "existsOne" else node.macro
        if macro in ("exists", "all", "exists_one", "filter") and (body.t.kind != "bool" or body.t.nullable):
            raise NotColumnar(f"`{node.macro}` with a body that is not a boolean")
        lv = lst.v
        err = lv.list.eval((~body.ok).fill_null(True)).list.any()
        nullel = _has_null_elements(lv) if not et.nullable else pl.lit(False)
        if macro == "exists":
            value = lv.list.eval((body.v & body.ok).fill_null(False)).list.any()
            ok = value | ~err
        elif macro == "all":
            falsy = lv.list.eval((~body.v & body.ok).fill_null(False)).list.any()
            value, ok = ~falsy, falsy | ~err
        elif macro == "exists_one":
            value = lv.list.eval((body.v & body.ok).fill_null(False)).list.sum() == 1
            ok = ~err
        elif macro == "filter":
            value = lv.list.eval(pl.element().filter((body.v & body.ok).fill_null(False)))
            ok = ~err
        else:
            value = lv.list.eval(body.v)
            ok = ~err
        return CV(value, (lst.ok & ok & ~nullel).fill_null(False), t)

    def x_Comprehension(self, c: Checked, node: A.Comprehension, frame: _Frame) -> CV:
        pl = _pl()
        if node.var2 is not None or node.macro not in ("exists", "all", "filter", "map", "exists_one", "existsOne"):
            raise NotColumnar(f"the macro `{node.macro}`")
        lst = self.expr(c, node.target, frame)
        if lst.t.kind != "list" or lst.t.nullable or lst.t.elem is None:
            raise NotColumnar(f"`{node.macro}` over {lst.t}")
        et = lst.t.elem
        t = c.type_of(node)
        if frame.depth == 0 and self.element_only(c, node):
            fast = self.per_element(c, node, lst, et, t, frame)
            if fast is not None:
                return fast
        lcol, lok = self.tmp("l"), self.tmp("lok")
        df = frame.df.with_columns(lst.v.alias(lcol), lst.ok.alias(lok)).collect()
        # the frame of elements: one row per element of the rows whose list is exact, with what the body
        # reads from outside its element carried along; its results are put back into lists by the lists'
        # lengths (the elements stay in row order), with no join
        names = df.columns
        fields = _record_fields_read(c, node.body)
        carry = [
            col
            for col in names
            if col.startswith(("__p:", "__top:", "__val:", "__vok:", "__loc", "__lok", "__var"))
            or col in ("__asof", "__aok", "__table")
            or (col.startswith("rec.") and col[4:] in fields)
        ]
        carry = [col for col in carry if col not in (lcol, lok)]
        vcol = self.tmp("var")
        lens = pl.when(pl.col(lok)).then(pl.col(lcol).list.len()).otherwise(0).fill_null(0)
        lengths = df.select(lens.cast(pl.Int64).alias("n")).get_column("n")
        sub = (
            df.lazy()
            .filter(pl.col(lok) & (pl.col(lcol).list.len() > 0))
            .select(pl.col(lcol).alias(vcol), *carry)
            .explode(vcol)
            .with_columns(
                pl.col(vcol).is_not_null().alias(vcol + ":ok") if not et.nullable else pl.lit(True).alias(vcol + ":ok")
            )
        )
        inner = _Frame(sub, {**frame.vars, node.var: (vcol, et)}, frame.depth + 1)
        body = self.expr(c, node.body, inner)
        if node.filter is not None:
            raise NotColumnar("a macro with a filter clause")
        macro = "exists_one" if node.macro == "existsOne" else node.macro
        if macro in ("exists", "all", "exists_one", "filter") and (body.t.kind != "bool" or body.t.nullable):
            raise NotColumnar(f"`{node.macro}` with a body that is not a boolean")
        flat = inner.df.select(
            body.v.alias("b"),
            body.ok.fill_null(False).alias("k"),
            pl.col(vcol + ":ok").alias("e"),
            *([pl.col(vcol).alias("x")] if macro == "filter" else []),
        ).collect()
        offsets = pl.concat([pl.Series([0], dtype=pl.Int64), lengths.cum_sum()])
        starts, ends = offsets.slice(0, len(lengths)), offsets.slice(1)

        def per_row(flags: Any) -> Any:
            """How many elements of each row's list are flagged (a sum over each row's run of elements)."""
            sums = pl.concat([pl.Series([0], dtype=pl.Int64), flags.fill_null(False).cast(pl.Int64).cum_sum()])
            return sums.gather(ends) - sums.gather(starts)

        def lists(values: Any, offsets: Any) -> Any:
            import pyarrow as pa

            arr = values.to_arrow()
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            return pl.Series(pa.LargeListArray.from_arrays(offsets.to_arrow(), arr))

        k = self.tmp("")
        extra = {"__err" + k: per_row(~flat.get_column("k")), "__nul" + k: per_row(~flat.get_column("e"))}
        if body.t.kind == "bool":
            good = flat.get_column("b") & flat.get_column("k")
            extra["__good" + k] = per_row(good)
            extra["__bad" + k] = per_row(~flat.get_column("b") & flat.get_column("k"))
        if macro == "map":
            extra["__res" + k] = lists(flat.get_column("b"), offsets)
        elif macro == "filter":
            # the kept elements, put into lists by the counts kept per row (no gather by positions)
            kept = good.fill_null(False)
            kept_offsets = pl.concat([pl.Series([0], dtype=pl.Int64), extra["__good" + k].cum_sum()])
            extra["__res" + k] = lists(flat.get_column("x").filter(kept), kept_offsets)
        df = df.with_columns([v.alias(n) for n, v in extra.items()])
        err = pl.col("__err" + k) > 0
        nullel = pl.col("__nul" + k) > 0
        if macro == "exists":
            value = pl.col("__good" + k) > 0
            ok = value | ~err
        elif macro == "all":
            falsy = pl.col("__bad" + k) > 0
            value, ok = ~falsy, falsy | ~err
        elif macro == "exists_one":
            value = pl.col("__good" + k) == 1
            ok = ~err
        else:  # filter, map: the lists made above
            value = pl.col("__res" + k)
            ok = ~err
        # a null element where the schema allows none, or a list long enough to reach the cost budget: the reference
        ok = pl.col(lok) & ok & ~nullel
        res_col, res_ok = self.tmp("m"), self.tmp("mok")
        frame.df = (
            df.with_columns(value.alias(res_col), ok.fill_null(False).alias(res_ok)).drop([*extra, lcol, lok]).lazy()
        )
        return CV(pl.col(res_col), pl.col(res_ok), t)


# Python's white space (``str.isspace``, which ``normalize`` strips): the engine's ``trim`` set and \x1c-\x1f
_PY_SPACE = TRIMMED + "\x1c\x1d\x1e\x1f"


def refine(schema: Any, t: Type) -> Type:
    """``t``, or text where the schema gives no type but an enumeration of texts (which the data must be)."""
    if t.kind == "dyn" and isinstance(schema, dict) and "type" not in schema:
        options = schema.get("enum")
        if isinstance(options, list) and options and all(isinstance(o, str) or o is None for o in options):
            return Type(
                "string",
                nullable=None in options,
                has_default=t.has_default or "default" in schema,
                default=t.default if t.has_default else schema.get("default"),
            )
    return t


def _field_type(parent: Type, name: str, ft: Type) -> Type:
    if ft.kind != "dyn" or parent.schema is None:
        return ft
    prop = (parent.schema.get("properties") or {}).get(name)
    if isinstance(prop, dict) and "$ref" in prop and parent.root is not None:
        from engine.lang.types import resolve_ref as _resolve

        prop = _resolve(prop, parent.root)
    return refine(prop, ft)


@functools.cache
def _has_nulls_equal() -> bool:
    """Whether this Polars' ``list.contains`` takes ``nulls_equal`` (asked once)."""
    import inspect

    pl = _pl()
    try:
        return "nulls_equal" in inspect.signature(pl.col("x").list.contains).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def _has_null_elements(lst: Any) -> Any:
    return lst.list.eval(_pl().element().is_null()).list.any().fill_null(False)


def _no_null_elements(lst: Any) -> Any:
    pl = _pl()
    return lst.list.eval(pl.element().is_null()).list.any().not_().fill_null(False)


def parse_date(s: Any) -> tuple[Any, Any]:
    """Text YYYY-MM-DD as the per-record engine reads a date (``date.fromisoformat`` of exactly that form)."""
    pl = _pl()
    form = s.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$") & (s.str.slice(0, 4) != "0000")
    parsed = s.str.to_date("%Y-%m-%d", strict=False)
    ok = (form & parsed.is_not_null()).fill_null(False)
    return pl.when(ok).then(parsed).otherwise(pl.lit(None, pl.Date)), ok


def _polars_type(t: Type) -> Any:
    pl = _pl()
    simple = {"string": pl.String, "int": pl.Int64, "bool": pl.Boolean, "date": pl.Date, "null": pl.Null}
    if t.kind in simple:
        return simple[t.kind]
    if t.kind == "list" and t.elem is not None:
        inner = _polars_type(t.elem)
        return pl.List(inner)
    if t.kind == "object":
        fields = t.fields()
        return pl.Struct({k: _polars_type(v) for k, v in fields.items()})
    raise NotColumnar(f"a value of type {t}")


def _literal_value(node: A.Node, c: Checked, params: dict[str, Any]) -> Any:
    if isinstance(node, A.Literal):
        return node.value
    resolved = c.idents.get(id(node))
    if resolved is not None and resolved[0] == "param":
        return params.get(resolved[1])
    return None


def all_checked(plan: DecisionPlan) -> list[Checked]:
    out: list[Checked] = list(plan.values.values())
    for _rid, locals_, when, require, _d in plan.rules:
        out.extend(locals_.values())
        if when is not None:
            out.append(when)
        out.append(require)
    for _name, value, when in plan.outputs:
        out.append(value)
        if when is not None:
            out.append(when)
    if plan.as_of is not None:
        out.append(plan.as_of)
    return out


def _macro_depth(node: A.Node) -> int:
    best = 0
    for child in _children(node):
        best = max(best, _macro_depth(child))
    return best + (1 if isinstance(node, A.Comprehension) else 0)


def _children(node: A.Node) -> list[A.Node]:
    out: list[A.Node] = []
    for n in A.walk(node):
        if n is not node:
            out.append(n)
    # ``walk`` goes through all descendants; keep the direct ones (those not under another)
    direct: list[A.Node] = []
    under: set[int] = set()
    for n in out:
        if id(n) in under:
            continue
        direct.append(n)
        for m in A.walk(n):
            if m is not n:
                under.add(id(m))
    return direct


def _typed_null(t: Type) -> Any:
    """A null of the type's column type where there is one."""
    pl = _pl()
    try:
        return pl.lit(None, dtype=_polars_type(t))
    except NotColumnar:
        return pl.lit(None)


def _record_fields_read(c: Checked, node: A.Node) -> set[str]:
    """The top-level record fields an expression reads."""
    out: set[str] = set()
    for n in A.walk(node):
        if isinstance(n, (A.Select, A.Has)) and isinstance(n.operand, A.Ident):
            r = c.idents.get(id(n.operand))
            if r is not None and r[0] == "record":
                out.add(n.field)
    return out


def _locals_read(locals_: dict[str, Checked], when: Checked | None, require: Checked) -> list[str]:
    """The rule's values its conditions read, directly or through one another (the others only fill its message)."""
    todo = [c for c in (when, require) if c is not None]
    seen: list[str] = []
    while todo:
        c = todo.pop()
        for n in A.walk(c.node):
            r = c.idents.get(id(n))
            if r is not None and r[0] == "local" and r[1] in locals_ and r[1] not in seen:
                seen.append(r[1])
                todo.append(locals_[r[1]])
    return seen


def _value_order(plan: DecisionPlan) -> list[str]:
    """The named values in an order where each comes after the values it reads."""
    deps: dict[str, set[str]] = {}
    for name, c in plan.values.items():
        deps[name] = {
            r[1] for n in A.walk(c.node) if (r := c.idents.get(id(n))) is not None and r[0] == "value" and r[1] != name
        }
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in seen or name in stack or name not in deps:
            return
        for d in sorted(deps[name]):
            visit(d, (*stack, name))
        seen.add(name)
        order.append(name)

    for name in itertools.chain(plan.values):
        visit(name, ())
    return order


def compile_columnar(plan: DecisionPlan, params: dict[str, Any], record_type: Type) -> ColumnarDecision:
    """The decision compiled for columns, or :class:`NotColumnar` saying why it cannot be."""
    return ColumnarDecision(plan, params, record_type)
