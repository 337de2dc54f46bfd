"""The math extension library of the condition language.

CEL's ``math`` extension: ``math.greatest`` and ``math.least`` (of numbers
given as arguments or as one list; int, uint and double may be mixed and are
compared by value; as an extension of this engine also of dates, or of
timestamps, of one kind at a time), ``math.ceil``, ``math.floor``,
``math.round`` (halves away from zero), ``math.trunc``, ``math.abs``,
``math.sign``, ``math.isNaN``, ``math.isInf``, ``math.isFinite`` and the
bitwise ``math.bitAnd``, ``math.bitOr``, ``math.bitXor``, ``math.bitNot``,
``math.bitShiftLeft`` and ``math.bitShiftRight`` on 64-bit ints and uints.

Errors follow the extension's specification: ``math.abs`` of the smallest
int overflows (``eval.overflow``); a shift by a negative offset is
``eval.bad-argument``; a shift by 64 or more gives 0; ``bitShiftRight`` on
an int shifts in zeros (a logical shift, as in CEL).
"""

from __future__ import annotations

import math
from typing import Any

from engine.errors import EvalError
from engine.lang import types as T
from engine.lang.ext_strings import Declared, Sig
from engine.lang.types import Type
from engine.lang.values import INT_MIN, UINT_MAX, UInt, cel_cmp, fail_no_overload, to_date, type_name
from engine.messages import msg

__all__ = ["DECLARED"]

_NUMERIC = frozenset({"int", "uint", "double"})
_ORDERED_OTHER = frozenset({"date", "timestamp"})


def _items(name: str, args: tuple[Any, ...]) -> Any:
    items: Any = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
    if not items:
        raise EvalError("eval.empty", msg("eval.empty", name=name))
    kinds = {type_name(v) for v in items}
    if kinds == {"string"}:  # dates as a record holds them: text YYYY-MM-DD
        try:
            return [to_date(v) for v in items]
        except EvalError:
            fail_no_overload(name, *items)
    if not (kinds <= _NUMERIC or (len(kinds) == 1 and kinds <= _ORDERED_OTHER)):
        fail_no_overload(name, *items)
    return items


def greatest(*args: Any) -> Any:
    """The largest of the arguments, or of the one list given (the first of equal values)."""
    items = _items("math.greatest", args)
    best = items[0]
    for v in items[1:]:
        if cel_cmp(v, best, "math.greatest") == 1:
            best = v
    return best


def least(*args: Any) -> Any:
    """The smallest of the arguments, or of the one list given (the first of equal values)."""
    items = _items("math.least", args)
    best = items[0]
    for v in items[1:]:
        if cel_cmp(v, best, "math.least") == -1:
            best = v
    return best


def _want_double(name: str, x: Any) -> float:
    if not isinstance(x, float):
        fail_no_overload(name, x)
    return x


def ceil(x: object) -> float:
    x = _want_double("math.ceil", x)
    return float(math.ceil(x)) if math.isfinite(x) else x


def floor(x: object) -> float:
    x = _want_double("math.floor", x)
    return float(math.floor(x)) if math.isfinite(x) else x


def round_half_away(x: object) -> float:
    """The nearest whole number; a half is rounded away from zero (-1.5 to -2.0)."""
    x = _want_double("math.round", x)
    if not math.isfinite(x):
        return x
    whole = math.floor(abs(x))
    if abs(x) - whole >= 0.5:
        whole += 1
    return math.copysign(float(whole), x)


def trunc(x: object) -> float:
    x = _want_double("math.trunc", x)
    return float(math.trunc(x)) if math.isfinite(x) else x


def _number(name: str, x: Any) -> None:
    if x.__class__ is bool or not isinstance(x, (int, float)):
        fail_no_overload(name, x)


def absolute(x: Any) -> Any:
    _number("math.abs", x)
    if x.__class__ is int and x == INT_MIN:
        raise EvalError("eval.overflow", msg("eval.overflow:int", op="math.abs"))
    return x if isinstance(x, UInt) else abs(x)


def sign(x: Any) -> Any:
    _number("math.sign", x)
    if isinstance(x, UInt):
        return UInt(1 if x else 0)
    if x.__class__ is float:
        if x != x:
            return x
        return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
    return (x > 0) - (x < 0)


def is_nan(x: Any) -> bool:
    return math.isnan(_want_double("math.isNaN", x))


def is_inf(x: Any) -> bool:
    return math.isinf(_want_double("math.isInf", x))


def is_finite(x: Any) -> bool:
    return math.isfinite(_want_double("math.isFinite", x))


_MASK = (1 << 64) - 1


def _signed(n: int) -> int:
    n &= _MASK
    return n - (1 << 64) if n >> 63 else n


def _pair(name: str, a: Any, b: Any) -> bool:
    """True for two uints, False for two ints; no overload otherwise."""
    ua, ub = isinstance(a, UInt), isinstance(b, UInt)
    if ua and ub:
        return True
    if a.__class__ is int and b.__class__ is int:
        return False
    fail_no_overload(name, a, b)


def bit_and(a: Any, b: Any) -> Any:
    return UInt(a & b) if _pair("math.bitAnd", a, b) else int(a) & int(b)


def bit_or(a: Any, b: Any) -> Any:
    return UInt(a | b) if _pair("math.bitOr", a, b) else int(a) | int(b)


def bit_xor(a: Any, b: Any) -> Any:
    return UInt(a ^ b) if _pair("math.bitXor", a, b) else int(a) ^ int(b)


def bit_not(a: Any) -> Any:
    if isinstance(a, UInt):
        return UInt(UINT_MAX ^ a)
    if a.__class__ is not int:
        fail_no_overload("math.bitNot", a)
    return ~a


def _shift(name: str, a: Any, n: Any) -> int:
    if n.__class__ is not int or not (isinstance(a, UInt) or a.__class__ is int):
        fail_no_overload(name, a, n)
    if n < 0:
        raise EvalError("eval.bad-argument", msg("eval.bad-argument:shift", offset=n))
    return int(n)


def bit_shift_left(a: Any, n: Any) -> Any:
    n = _shift("math.bitShiftLeft", a, n)
    if n >= 64:
        return UInt(0) if isinstance(a, UInt) else 0
    return UInt((a << n) & _MASK) if isinstance(a, UInt) else _signed(a << n)


def bit_shift_right(a: Any, n: Any) -> Any:
    n = _shift("math.bitShiftRight", a, n)
    if n >= 64:
        return UInt(0) if isinstance(a, UInt) else 0
    return UInt(a >> n) if isinstance(a, UInt) else _signed((a & _MASK) >> n)


# -- declarations -------------------------------------------------------------------------------------

INT, U, DBL, B, DYN, D, TS = T.INT, T.UINT, T.DOUBLE, T.BOOL, T.DYN, T.DATE, T.TIMESTAMP

_EXTREME_KINDS = frozenset({"int", "uint", "double", "date", "timestamp", "dyn"})


def _extreme_args(args: list[Type]) -> bool:
    """Numbers (of any of the three kinds), or dates, or timestamps; or one list of them."""
    if len(args) == 1 and args[0].kind == "list":
        args = [args[0].elem or DYN]
    kinds = {a.kind for a in args} - {"dyn"}
    return kinds <= _NUMERIC or (len(kinds) == 1 and kinds <= _ORDERED_OTHER)


def _one(name: str, kinds: tuple[Type, ...], impl: Any, result: Type | None = None) -> tuple[Sig, ...]:
    return tuple(Sig((k,), result or k, impl) for k in kinds)


def _binary(impl: Any) -> tuple[Sig, ...]:
    return (Sig((INT, INT), INT, impl), Sig((U, U), U, impl))


def _shifts(impl: Any) -> tuple[Sig, ...]:
    return (Sig((INT, INT), INT, impl), Sig((U, INT), U, impl))


_EXTREME_SHOWN = "numbers, or dates, or timestamps, or a list of them"

DECLARED: tuple[Declared, ...] = (
    Declared(
        "math.greatest",
        "the largest of numbers (int, uint and double mixed) or of dates, given as arguments or as a list",
        (Sig((DYN,), DYN, greatest, variadic=True, accept=_extreme_args, shown=_EXTREME_SHOWN),),
    ),
    Declared(
        "math.least",
        "the smallest of numbers (int, uint and double mixed) or of dates, given as arguments or as a list",
        (Sig((DYN,), DYN, least, variadic=True, accept=_extreme_args, shown=_EXTREME_SHOWN),),
    ),
    Declared("math.ceil", "the smallest whole number not below a double", (Sig((DBL,), DBL, ceil),), False),
    Declared("math.floor", "the largest whole number not above a double", (Sig((DBL,), DBL, floor),), False),
    Declared(
        "math.round",
        "the nearest whole number to a double (halves away from zero)",
        (Sig((DBL,), DBL, round_half_away),),
        False,
    ),
    Declared("math.trunc", "a double without its fraction", (Sig((DBL,), DBL, trunc),), False),
    Declared("math.abs", "the absolute value of a number", _one("math.abs", (INT, U, DBL), absolute), False),
    Declared(
        "math.sign", "-1, 0 or 1: the sign of a number, of its type", _one("math.sign", (INT, U, DBL), sign), False
    ),
    Declared("math.isNaN", "whether a double is NaN", (Sig((DBL,), B, is_nan),), False),
    Declared("math.isInf", "whether a double is infinite", (Sig((DBL,), B, is_inf),), False),
    Declared("math.isFinite", "whether a double is neither infinite nor NaN", (Sig((DBL,), B, is_finite),), False),
    Declared("math.bitAnd", "the bits set in both numbers", _binary(bit_and), False),
    Declared("math.bitOr", "the bits set in either number", _binary(bit_or), False),
    Declared("math.bitXor", "the bits set in exactly one of the numbers", _binary(bit_xor), False),
    Declared("math.bitNot", "every bit of the number flipped", _one("math.bitNot", (INT, U), bit_not), False),
    Declared("math.bitShiftLeft", "the bits moved left by n places (0 from 64)", _shifts(bit_shift_left), False),
    Declared(
        "math.bitShiftRight", "the bits moved right by n places, zeros shifted in", _shifts(bit_shift_right), False
    ),
)
