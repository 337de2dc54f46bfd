"""Run-time value semantics of the condition language (CEL core).

Values are plain Python: ``bool``, ``int`` (CEL int, 64-bit), :class:`UInt`
(CEL uint), ``float`` (double), ``str``, ``bytes``, ``None`` (null),
``datetime.date`` (date), ``list``, ``dict`` (map).  Functions here are the
slow, general paths the compiler calls when the checker could not prove the
operand types (``dyn``); for proven types it emits plain Python operators.

Every failure raises :class:`engine.errors.EvalError`: compiled code and the
interpreter catch it where CEL absorbs errors (``false && error``) and the
evaluator turns it into a rule status ``error``.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, NoReturn

from engine.errors import EvalError

__all__ = ["UInt", "EvalError", "cel_eq", "cel_lt", "type_name"]

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
UINT_MAX = 2**64 - 1


class UInt(int):
    """A CEL ``uint``: an int that is not equal in type to CEL ``int``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


def type_name(v: object) -> str:
    if v is None:
        return "null"
    if v is True or v is False:
        return "bool"
    if isinstance(v, UInt):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "bytes"
    if isinstance(v, _dt.date):
        return "date"
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, dict):
        return "map"
    return type(v).__name__


# -- errors -----------------------------------------------------------------


def no_overload(op: str, *args: object) -> EvalError:
    kinds = ", ".join(type_name(a) for a in args)
    return EvalError("eval.no-overload", f"`{op}` cannot be applied to ({kinds})")


def fail_no_overload(op: str, *args: object) -> NoReturn:
    raise no_overload(op, *args)


def missing_field(path: str) -> NoReturn:
    raise EvalError("eval.missing-field", f"the record has no `{path}`", path)


def wrap_error(e: BaseException) -> EvalError:
    """Any exception escaping an operation, as a CEL error value."""
    if isinstance(e, EvalError):
        return e
    if isinstance(e, RecursionError):
        return EvalError("eval.too-deep", "the value is nested too deeply")
    if isinstance(e, MemoryError):
        return EvalError("eval.too-large", "the value is too large")
    if isinstance(e, ZeroDivisionError):
        return EvalError("eval.division-by-zero", "division by zero")
    return EvalError("eval.internal", f"cannot evaluate: {e}")


# -- type guards for record fields ---------------------------------------------


def want(v: object, kind: str, path: str, nullable: bool = False) -> Any:
    """Check a record field read from JSON against its schema type; convert dates."""
    if v is None and nullable:
        return None
    if kind == "date":
        return to_date(v, path)
    ok = (
        (kind == "string" and isinstance(v, str))
        or (kind == "int" and isinstance(v, int) and not isinstance(v, bool))
        or (kind == "bool" and isinstance(v, bool))
        or (kind == "list" and isinstance(v, (list, tuple)))
        or (kind in ("object", "map") and isinstance(v, dict))
    )
    if ok:
        return v
    if kind == "double" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if kind == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    expected = {"object": "an object", "map": "an object", "list": "a list", "int": "an integer",
                "double": "a number", "bool": "true or false", "string": "a string"}.get(kind, kind)
    shown = "null" if v is None else type_name(v) if not isinstance(v, (str, int, float)) else repr(v)
    raise EvalError("eval.wrong-type", f"`{path}` should be {expected}, not {shown}", path)


def to_date(v: object, path: str | None = None) -> _dt.date:
    if isinstance(v, str):
        if len(v) == 10 and v[4] == "-" and v[7] == "-":
            try:
                return _dt.date.fromisoformat(v)
            except ValueError:
                pass
        where = f"`{path}` " if path else ""
        raise EvalError("eval.bad-date", f"{where}is not a date in YYYY-MM-DD form: {v!r}", path)
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return v
    where = f"`{path}` " if path else ""
    raise EvalError("eval.wrong-type", f"{where}should be a date (YYYY-MM-DD), not {type_name(v)}", path)


def select(obj: object, name: str, path: str) -> Any:
    """``obj.name`` for a map/object whose schema is not known."""
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        missing_field(path)
    if obj is None:
        raise EvalError("eval.null-field", f"cannot read `{name}`: `{path.rsplit('.', 1)[0]}` is null", path)
    raise EvalError("eval.no-such-field", f"cannot read `{name}` of a {type_name(obj)}", path)


def has(obj: object, name: str) -> bool:
    if isinstance(obj, dict):
        return name in obj
    raise EvalError("eval.no-such-field", f"has() needs a map or object, not {type_name(obj)}")


# -- equality and ordering -------------------------------------------------------


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def cel_eq(a: object, b: object) -> bool:
    """CEL equality: heterogeneous numbers compare by value, other kinds must match."""
    if _num(a) and _num(b):
        return bool(a == b)
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        return False
    if ta == "list":
        assert isinstance(a, (list, tuple)) and isinstance(b, (list, tuple))
        if len(a) != len(b):
            return False
        return all(cel_eq(x, y) for x, y in zip(a, b))
    if ta == "map":
        assert isinstance(a, dict) and isinstance(b, dict)
        if len(a) != len(b):
            return False
        for k, v in a.items():
            match = _map_lookup(b, k)
            if match is _ABSENT or not cel_eq(v, match):
                return False
        return True
    return bool(a == b)


def cel_ne(a: object, b: object) -> bool:
    return not cel_eq(a, b)


_ABSENT = object()


def _map_lookup(m: dict[Any, Any], key: object) -> Any:
    if key.__class__ in (str, bool) or key is None:
        return m.get(key, _ABSENT) if _key_kind_matches(m, key) else _ABSENT
    if _num(key):
        for k, v in m.items():
            if _num(k) and k == key:
                return v
        return _ABSENT
    return m.get(key, _ABSENT)  # type: ignore[call-overload]


def _key_kind_matches(m: dict[Any, Any], key: object) -> bool:
    if key in m:
        for k in m:
            if k == key:
                return type_name(k) == type_name(key)
    return True


def cel_cmp(a: object, b: object, op: str) -> int:
    """-1, 0, 1 for ordered operands of comparable kinds; error otherwise."""
    if _num(a) and _num(b):
        if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
            return 2  # unordered
        return -1 if a < b else (1 if a > b else 0)  # type: ignore[operator]
    ta, tb = type_name(a), type_name(b)
    if ta != tb or ta in ("list", "map", "null"):
        fail_no_overload(op, a, b)
    return -1 if a < b else (1 if a > b else 0)  # type: ignore[operator]


def cel_lt(a: object, b: object) -> bool:
    return cel_cmp(a, b, "<") == -1


def cel_le(a: object, b: object) -> bool:
    return cel_cmp(a, b, "<=") in (-1, 0)


def cel_gt(a: object, b: object) -> bool:
    return cel_cmp(a, b, ">") == 1


def cel_ge(a: object, b: object) -> bool:
    return cel_cmp(a, b, ">=") in (1, 0)


def cel_in(x: object, container: object) -> bool:
    if isinstance(container, (list, tuple)):
        return any(cel_eq(x, y) for y in container)
    if isinstance(container, (frozenset, set)):
        if x.__class__ in (str, bytes):
            return x in container
        return any(cel_eq(x, y) for y in container)
    if isinstance(container, dict):
        return _map_lookup(container, x) is not _ABSENT
    fail_no_overload("in", x, container)


# -- logic --------------------------------------------------------------------


def logic_fix(op: str, a: object, b: object) -> bool:
    """Slow path of ``a && b`` / ``a || b`` once either side is an error or not a bool.

    CEL's commutative rule: for ``&&`` a false on either side wins over an
    error; for ``||`` a true does.  Otherwise the first error is raised.
    """
    absorbing = op == "||"
    if a is absorbing or b is absorbing:
        return absorbing
    for v in (a, b):
        if isinstance(v, BaseException):
            raise wrap_error(v)
    for v in (a, b):
        if v is not True and v is not False:
            fail_no_overload(op, a, b)
    return not absorbing


def cel_not(a: object) -> bool:
    if a is True:
        return False
    if a is False:
        return True
    fail_no_overload("!", a)


def want_bool(v: object, what: str) -> bool:
    if v is True or v is False:
        return v
    raise EvalError("eval.not-bool", f"{what} must be true or false, not {type_name(v)}")


# -- arithmetic -----------------------------------------------------------------


def _check_int(v: int, op: str) -> int:
    if INT_MIN <= v <= INT_MAX:
        return v
    raise EvalError("eval.overflow", f"integer overflow in `{op}`")


def _check_uint(v: int, op: str) -> UInt:
    if 0 <= v <= UINT_MAX:
        return UInt(v)
    raise EvalError("eval.overflow", f"unsigned integer overflow in `{op}`")


def _arith_kind(op: str, a: object, b: object) -> str:
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        fail_no_overload(op, a, b)
    return ta


def cel_add(a: Any, b: Any) -> Any:
    t = _arith_kind("+", a, b)
    if t == "int":
        return _check_int(a + b, "+")
    if t == "uint":
        return _check_uint(a + b, "+")
    if t in ("double", "string", "bytes"):
        return a + b
    if t == "list":
        return list(a) + list(b)
    fail_no_overload("+", a, b)


def cel_sub(a: Any, b: Any) -> Any:
    t = _arith_kind("-", a, b)
    if t == "int":
        return _check_int(a - b, "-")
    if t == "uint":
        return _check_uint(a - b, "-")
    if t == "double":
        return a - b
    fail_no_overload("-", a, b)


def cel_mul(a: Any, b: Any) -> Any:
    t = _arith_kind("*", a, b)
    if t == "int":
        return _check_int(a * b, "*")
    if t == "uint":
        return _check_uint(a * b, "*")
    if t == "double":
        return a * b
    fail_no_overload("*", a, b)


def cel_div(a: Any, b: Any) -> Any:
    t = _arith_kind("/", a, b)
    if t in ("int", "uint"):
        if b == 0:
            raise EvalError("eval.division-by-zero", "division by zero")
        q = abs(a) // abs(b)
        q = q if (a >= 0) == (b >= 0) else -q
        return _check_int(q, "/") if t == "int" else UInt(q)
    if t == "double":
        try:
            return a / b
        except ZeroDivisionError:
            if math.isnan(a) or a == 0:
                return math.nan
            return math.copysign(math.inf, a) * math.copysign(1.0, b)
    fail_no_overload("/", a, b)


def cel_mod(a: Any, b: Any) -> Any:
    t = _arith_kind("%", a, b)
    if t in ("int", "uint"):
        if b == 0:
            raise EvalError("eval.division-by-zero", "modulus by zero")
        r = abs(a) % abs(b)
        return (r if a >= 0 else -r) if t == "int" else UInt(r)
    fail_no_overload("%", a, b)


def cel_neg(a: Any) -> Any:
    t = type_name(a)
    if t == "int":
        return _check_int(-a, "-")
    if t == "double":
        return -a
    fail_no_overload("-", a)


# -- containers ---------------------------------------------------------------


def cel_index(c: Any, i: Any) -> Any:
    if isinstance(c, (list, tuple)):
        if _num(i):
            if isinstance(i, float) and not i.is_integer():
                raise EvalError("eval.bad-index", f"list index must be a whole number, not {i}")
            n = int(i)
            if 0 <= n < len(c):
                return c[n]
            raise EvalError("eval.index-out-of-range", f"index {n} is out of range for a list of {len(c)}")
        fail_no_overload("[]", c, i)
    if isinstance(c, dict):
        v = _map_lookup(c, i)
        if v is _ABSENT:
            raise EvalError("eval.missing-key", f"no such key: {i!r}")
        return v
    fail_no_overload("[]", c, i)


def make_map(keys: list[Any], values: list[Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for k, v in zip(keys, values):
        if not (isinstance(k, (str, int)) or k is None):
            raise EvalError("eval.bad-key", f"a map key must be a string, int, uint or bool, not {type_name(k)}")
        if k is None or isinstance(k, float):
            raise EvalError("eval.bad-key", f"a map key cannot be {type_name(k)}")
        if _map_lookup(out, k) is not _ABSENT:
            raise EvalError("eval.duplicate-key", f"duplicate map key: {k!r}")
        if k in out:  # e.g. 1 and true: different CEL keys that one Python dict cannot keep apart
            raise EvalError("eval.bad-key", f"the map keys {next(x for x in out if x == k)!r} and {k!r} "
                            "cannot be used in the same map")
        out[k] = v
    return out


def iterate(c: Any, macro: str) -> Any:
    if isinstance(c, (list, tuple, dict)):
        return c
    fail_no_overload(macro, c)
