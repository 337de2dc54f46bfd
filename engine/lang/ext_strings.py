"""The string and encoder extension libraries of the condition language.

CEL's ``strings`` extension (``charAt``, ``indexOf``, ``lastIndexOf``,
``lowerAscii``, ``upperAscii``, ``replace``, ``split``, ``substring``,
``trim``, ``join``, ``reverse``, ``strings.quote`` and ``format``) and its
``encoders`` extension (``base64.encode``, ``base64.decode``).  Positions and
lengths count Unicode code points, as Python's ``str`` does, so
``"黑龙江省".charAt(3)`` is ``"省"``.

The implementations are plain functions of CEL values; :data:`DECLARED` says
how each is called and typed, and ``engine.lang.functions`` makes them
``FunctionSpec`` s of the standard library.  :class:`Sig` and
:class:`Declared` are shared with ``engine.lang.ext_math``.

A function whose result can be much larger than its arguments (``replace``,
``join``, ``format``) refuses to build text longer than :data:`MAX_TEXT`
characters with ``eval.cost-limit``: the cost budget counts text at 1 per 16
characters, so that is the whole budget spent on one value.
"""

from __future__ import annotations

import base64 as _b64
import binascii
import datetime as _dt
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from engine.errors import EvalError
from engine.lang import types as T
from engine.lang.types import Type
from engine.lang.values import MAX_COST, CelType, Duration, Timestamp, cost_limit, fail_no_overload, type_name
from engine.messages import Text, msg

__all__ = [
    "DECLARED",
    "MAX_TEXT",
    "TRIMMED",
    "Declared",
    "Sig",
    "check_format",
    "format_double",
    "format_value",
    "parse_format",
]

MAX_TEXT = MAX_COST * 16
"""The longest text ``replace``, ``join`` and ``format`` build (characters)."""


class Sig(NamedTuple):
    """One signature of an extension function (``engine.lang.functions.Overload`` 's fields)."""

    params: tuple[Type, ...]
    result: Type
    impl: Callable[..., Any]
    member: bool = False
    function: bool = True
    variadic: bool = False
    accept: Callable[[list[Type]], bool] | None = None
    shown: str = ""


class Declared(NamedTuple):
    """An extension function: its name, a line of documentation, its signatures, and whether its
    cost grows with its arguments (``FunctionSpec.scans``), counting all a list holds (``deep``)."""

    name: str
    doc: str
    sigs: tuple[Sig, ...]
    scans: bool = True
    deep: bool = False


def _text_limit(size: int) -> None:
    if size > MAX_TEXT:
        raise cost_limit()


def _want_str(name: str, s: Any, *more: Any) -> str:
    if not isinstance(s, str):
        fail_no_overload(name, s, *more)
    return s


def _want_int(name: str, n: object, *more: object) -> int:
    if not isinstance(n, int) or n.__class__ is not int:  # an int, not a bool or a uint
        fail_no_overload(name, *more, n)
    return n


def _out_of_range(index: int, size: int) -> EvalError:
    return EvalError("eval.index-out-of-range", msg("eval.index-out-of-range:text", index=index, size=size))


def char_at(s: object, i: object) -> str:
    """The character at code point ``i``; ``""`` at the end of the text."""
    s = _want_str("charAt", s, i)
    i = _want_int("charAt", i, s)
    if not 0 <= i <= len(s):
        raise _out_of_range(i, len(s))
    return s[i : i + 1]


def index_of(s: object, sub: object, start: object = 0) -> int:
    """The first position of ``sub`` at or after ``start``, or -1."""
    s = _want_str("indexOf", s, sub)
    sub = _want_str("indexOf", sub, s)
    start = _want_int("indexOf", start, s, sub)
    if not 0 <= start <= len(s):
        raise _out_of_range(start, len(s))
    return s.find(sub, start)


def last_index_of(s: object, sub: object, *end: object) -> int:
    """The last position of ``sub`` that starts at or before ``end`` (default: anywhere), or -1."""
    s = _want_str("lastIndexOf", s, sub)
    sub = _want_str("lastIndexOf", sub, s)
    if not end:
        return s.rfind(sub)
    last = _want_int("lastIndexOf", end[0], s, sub)
    if not 0 <= last < len(s) and not (last == 0 == len(s)):
        raise _out_of_range(last, len(s))
    return s.rfind(sub, 0, last + len(sub))


_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_UPPER = {c + 32: c for c in range(ord("A"), ord("Z") + 1)}


def lower_ascii(s: object) -> str:
    """The text with the ASCII letters A-Z made lower case; every other character as it is."""
    s = _want_str("lowerAscii", s)
    return s.lower() if s.isascii() else s.translate(_LOWER)


def upper_ascii(s: object) -> str:
    """The text with the ASCII letters a-z made upper case; every other character as it is."""
    s = _want_str("upperAscii", s)
    return s.upper() if s.isascii() else s.translate(_UPPER)


def replace(s: object, old: object, new: object, n: object = -1) -> str:
    """``s`` with the first ``n`` occurrences of ``old`` replaced by ``new`` (all when ``n`` < 0)."""
    if s.__class__ is str and old.__class__ is str and new.__class__ is str and n.__class__ is int:
        # the common case first: a result that cannot outgrow the limit needs no counting
        grow = len(new) - len(old)
        if grow <= 0 or len(s) + (len(s) + 1) * grow <= MAX_TEXT:
            return s.replace(old, new, n if n > 0 else -1) if n else s
    s = _want_str("replace", s, old, new)
    old = _want_str("replace", old, s, new)
    new = _want_str("replace", new, s, old)
    n = _want_int("replace", n, s, old, new)
    if n == 0 or (not s and old):
        return s
    count = s.count(old) if old else len(s) + 1
    if n > 0:
        count = min(count, n)
    _text_limit(len(s) + count * (len(new) - len(old)))
    return s.replace(old, new, n if n > 0 else -1)


def split(s: object, sep: object, n: object = -1) -> list[str]:
    """The pieces of ``s`` between the separators; at most ``n`` pieces when ``n`` > 0 (the last
    holds the rest), none when ``n`` is 0.  An empty separator splits into characters."""
    s = _want_str("split", s, sep)
    sep = _want_str("split", sep, s)
    n = _want_int("split", n, s, sep)
    if n == 0:
        return []
    if sep:
        return s.split(sep, n - 1 if n > 0 else -1)
    if n < 0 or n > len(s):
        return list(s)
    return [*s[: n - 1], s[n - 1 :]] if n > 1 else [s]


def substring(s: object, start: object, *end: object) -> str:
    """The characters from position ``start`` up to (not including) ``end`` (default: the end)."""
    s = _want_str("substring", s, start, *end)
    start = _want_int("substring", start, s)
    stop = _want_int("substring", end[0], s, start) if end else len(s)
    if not 0 <= start <= len(s):
        raise _out_of_range(start, len(s))
    if not 0 <= stop <= len(s):
        raise _out_of_range(stop, len(s))
    if start > stop:
        raise EvalError("eval.bad-argument", msg("eval.bad-argument:substring", start=start, end=stop))
    return s[start:stop]


# White space as Unicode defines it (the property White_Space): what `trim` removes.
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_SPACE += "\u2028\u2029\u202f\u205f\u3000"
TRIMMED = _SPACE  # what `trim` takes off either end (the columnar compiler takes the same)


def trim(s: object) -> str:
    """The text without white space (Unicode's, including the ideographic space) at either end."""
    if s.__class__ is str:
        return s.strip(_SPACE)
    return _want_str("trim", s)


def join(items: object, sep: object = "") -> str:
    """The strings of the list, one after the other, with ``sep`` between them."""
    if not isinstance(items, (list, tuple)):
        fail_no_overload("join", items, sep)
    sep = _want_str("join", sep, items)
    size = 0
    for v in items:
        if v.__class__ is not str:
            fail_no_overload("join", v)
        size += len(v) + len(sep)
    _text_limit(size)
    return sep.join(items)


def reverse(s: object) -> str:
    """The characters of the text in the opposite order."""
    s = _want_str("reverse", s)
    return s[::-1]


_QUOTED = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
_QUOTED.update({"\\": "\\\\", '"': '\\"'})
_QUOTE_TABLE = {ord(k): v for k, v in _QUOTED.items()}


def quote(s: object) -> str:
    """The text as a CEL string literal in double quotes (``"a\\nb"``), that reads back as ``s``."""
    s = _want_str("strings.quote", s)
    body = s.translate(_QUOTE_TABLE)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot be written: the replacement character instead
        body = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in body)
    return '"' + body + '"'


def format_double(f: float) -> str:
    """A double as CEL's ``string()`` writes it: the shortest digits that read back, in
    ``%g`` style with exponents from 1e+06 and below 1e-04 (``1``, ``0.5``, ``1e+06``, ``1e-05``)."""
    if f != f:
        return "nan"
    if f in (math.inf, -math.inf):
        return "inf" if f > 0 else "-inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return sign + "0"
    digits, exponent = _shortest_digits(abs(f))
    point = len(digits) + exponent  # the value is 0.DIGITS x 10**point
    exp10 = point - 1
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _shortest_digits(f: float) -> tuple[str, int]:
    """``f`` (positive, finite) as significant digits D and exponent E with f = D x 10**E."""
    mantissa, _, exp = repr(f).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = (int(exp) if exp else 0) - len(frac)
    stripped = digits.rstrip("0")
    return stripped, exponent + (len(digits) - len(stripped))


# -- format -------------------------------------------------------------------------------------------


def _double_text(f: float) -> str:
    if f != f:
        return "NaN"
    if f in (math.inf, -math.inf):
        return "Infinity" if f > 0 else "-Infinity"
    return format_double(f)


def format_value(v: Any) -> str:
    """A value as ``%s`` writes it: text as it is, numbers and times as ``string()`` writes them,
    lists as ``[a, b]`` and maps as ``{k: v}`` with the keys in order."""
    c = v.__class__
    if c is str:
        return str(v)
    if v is None:
        return "null"
    if c is bool:
        return "true" if v else "false"
    if c is float:
        return _double_text(v)
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, (Timestamp, Duration)):
        return str(v)
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, CelType):
        return v.name
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, dict):
        pairs = sorted((format_value(k), format_value(x)) for k, x in v.items())
        return "{" + ", ".join(f"{k}: {x}" for k, x in pairs) + "}"
    fail_no_overload("format", v)


def _kind(v: Any) -> str:
    return "null_type" if v is None else type_name(v)


def _bad_kind(verb: str, v: Any) -> EvalError:
    return EvalError("eval.bad-format", msg("eval.bad-format:kind", verb=verb, kind=_kind(v)))


def _integer(verb: str, v: Any, base: str) -> str:
    if v.__class__ is bool or not isinstance(v, int):
        raise _bad_kind(verb, v)
    return format(int(v), base)


def _clause(verb: str, precision: int | None, v: Any) -> str:
    if verb == "s":
        return format_value(v)
    if verb == "d":
        if v.__class__ is float and not math.isfinite(v):
            return _double_text(v)
        return _integer(verb, v, "d")
    if verb in "fe":
        if v.__class__ is bool or not isinstance(v, (int, float)):
            raise _bad_kind(verb, v)
        f = float(v)
        if not math.isfinite(f):
            return _double_text(f)
        return format(f, f".{6 if precision is None else precision}{verb}")
    if verb == "b":
        if v.__class__ is bool:
            return "1" if v else "0"
        return _integer(verb, v, "b")
    if verb == "o":
        return _integer(verb, v, "o")
    # x and X
    if v.__class__ is str:
        text = v.encode("utf-8", "surrogatepass").hex()
    elif v.__class__ is bytes:
        text = v.hex()
    else:
        text = _integer(verb, v, "x")
    return text.upper() if verb == "X" else text


_VERBS = frozenset("sdfeboxX")


Piece = str | tuple[str, int | None]
"""A piece of a format text: literal text, or a clause (verb, precision)."""


@lru_cache(maxsize=256)
def parse_format(template: str) -> tuple[Piece, ...] | EvalError:
    """The pieces of a format text (``%%`` becomes literal ``%``), or the error of its first bad clause."""
    out: list[Piece] = []
    i, n = 0, len(template)
    while i < n:
        j = template.find("%", i)
        if j < 0:
            out.append(template[i:])
            break
        if j > i:
            out.append(template[i:j])
        i = j + 1
        precision: int | None = None
        if i < n and template[i] == ".":
            k = i + 1
            while k < n and template[k].isascii() and template[k].isdigit():
                k += 1
            if k == i + 1 or k - i > 4:
                return EvalError("eval.bad-format", msg("eval.bad-format:clause", clause=template[j : k + 1]))
            precision = int(template[i + 1 : k])
            i = k
        if i >= n:
            return EvalError("eval.bad-format", msg("eval.bad-format:clause", clause=template[j:]))
        verb = template[i]
        i += 1
        if verb == "%" and precision is None:
            out.append("%")
        elif verb in _VERBS:
            out.append((verb, precision))
        else:
            return EvalError("eval.bad-format", msg("eval.bad-format:clause", clause=template[j:i]))
    return tuple(out)


def format_text(template: object, args: object) -> str:
    """``template`` with each clause (``%s``, ``%d``, ``%.2f``, ...) replaced by the next argument
    written that way; ``%%`` is a percent sign."""
    template = _want_str("format", template, args)
    if not isinstance(args, (list, tuple)):
        fail_no_overload("format", template, args)
    pieces = parse_format(template)
    if isinstance(pieces, EvalError):
        raise pieces
    out: list[str] = []
    size = used = 0
    for piece in pieces:
        if isinstance(piece, str):
            text = piece
        else:
            if used >= len(args):
                raise EvalError("eval.bad-format", msg("eval.bad-format:missing", index=used, count=len(args)))
            verb, precision = piece
            text = _clause(verb, precision, args[used])
            used += 1
        size += len(text)
        _text_limit(size)
        out.append(text)
    return "".join(out)


# The static kinds each clause accepts (a `dyn` value is checked when the record is evaluated).
_CLAUSE_KINDS = {
    "d": {"int", "uint", "double"},  # a double only for NaN and the infinities
    "f": {"int", "uint", "double"},
    "e": {"int", "uint", "double"},
    "b": {"int", "uint", "bool"},
    "o": {"int", "uint"},
    "x": {"int", "uint", "string", "bytes"},
    "X": {"int", "uint", "string", "bytes"},
}


def check_format(template: str, kinds: list[str]) -> Text | None:
    """What is wrong with formatting values of the static ``kinds`` with ``template`` (a literal text
    and a literal list, which the checker can read), or None."""
    pieces = parse_format(template)
    if isinstance(pieces, EvalError):
        return pieces.text
    clauses = [p for p in pieces if not isinstance(p, str)]
    if len(clauses) != len(kinds):
        return msg("check.format:count", clauses=len(clauses), count=len(kinds))
    for (verb, _precision), kind in zip(clauses, kinds, strict=True):
        allowed = _CLAUSE_KINDS.get(verb)
        if allowed is not None and kind != "dyn" and kind not in allowed:
            return msg("eval.bad-format:kind", verb=verb, kind=kind)
    return None


# -- encoders -----------------------------------------------------------------------------------------


def base64_encode(b: Any) -> str:
    """The bytes in base64 (the standard alphabet, with padding)."""
    if b.__class__ is not bytes:
        fail_no_overload("base64.encode", b)
    return _b64.b64encode(b).decode("ascii")


def base64_decode(s: object) -> bytes:
    """The bytes the base64 text stands for; the padding ``=`` may be left out."""
    s = _want_str("base64.decode", s)
    text = s.strip()
    if len(text) % 4:
        text += "=" * (-len(text) % 4)
    try:
        return _b64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise EvalError("eval.bad-argument", msg("eval.bad-argument:base64")) from None


# -- declarations -------------------------------------------------------------------------------------

S, INT, B, BY, DYN = T.STRING, T.INT, T.BOOL, T.BYTES, T.DYN
LIST_S = T.list_of(S)


def _method(params: tuple[Type, ...], result: Type, impl: Callable[..., Any]) -> Sig:
    return Sig(params, result, impl, member=True, function=False)


DECLARED: tuple[Declared, ...] = (
    Declared("charAt", "the character at a position (counted in characters)", (_method((S, INT), S, char_at),)),
    Declared(
        "indexOf",
        "the position of the first occurrence of a text, from a start position; -1 if none",
        (_method((S, S), INT, index_of), _method((S, S, INT), INT, index_of)),
    ),
    Declared(
        "lastIndexOf",
        "the position of the last occurrence of a text, up to a position; -1 if none",
        (_method((S, S), INT, last_index_of), _method((S, S, INT), INT, last_index_of)),
    ),
    Declared("lowerAscii", "the text with A-Z in lower case", (_method((S,), S, lower_ascii),)),
    Declared("upperAscii", "the text with a-z in upper case", (_method((S,), S, upper_ascii),)),
    Declared(
        "replace",
        "the text with every (or the first n) occurrences of a text replaced by another",
        (_method((S, S, S), S, replace), _method((S, S, S, INT), S, replace)),
    ),
    Declared(
        "split",
        "the pieces of the text between separators (at most n pieces)",
        (_method((S, S), LIST_S, split), _method((S, S, INT), LIST_S, split)),
    ),
    Declared(
        "substring",
        "the characters from a start position up to an end position",
        (_method((S, INT), S, substring), _method((S, INT, INT), S, substring)),
    ),
    Declared("trim", "the text without white space at either end", (_method((S,), S, trim),)),
    Declared(
        "join",
        "the strings of a list one after the other, with a separator between them",
        (_method((LIST_S,), S, join), _method((LIST_S, S), S, join)),
        deep=True,
    ),
    Declared("reverse", "the characters of the text in the opposite order", (_method((S,), S, reverse),)),
    Declared("strings.quote", "the text as a string literal in double quotes", (Sig((S,), S, quote),)),
    Declared(
        "format",
        "the text with its clauses (`%s`, `%d`, `%.2f`, `%e`, `%b`, `%o`, `%x`, `%X`) filled from a list",
        (_method((S, T.LIST_DYN), S, format_text),),
        deep=True,
    ),
    Declared("base64.encode", "bytes written in base64", (Sig((BY,), S, base64_encode),)),
    Declared("base64.decode", "the bytes of a base64 text (padding optional)", (Sig((S,), BY, base64_decode),)),
)
