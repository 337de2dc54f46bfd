"""The condition language as a plain CEL evaluator, for the cel-spec conformance cases.

:func:`evaluate` has the adapter interface of the cel-spec conformance runner
(``run_conformance.py``, which accompanies the converted cases)::

    python run_conformance.py --adapter engine.conformance --core-only

The tests run the cases vendored in ``tests/data/conformance/`` through it.

It parses the expression, checks it in a plain CEL environment (no
``record`` or ``as_of``; each bound variable has the type ``type_env``
declares for it, else ``dyn``; names resolve inside ``container``), compiles
it and evaluates it.  A check error is an error result unless
``disable_check`` is set, in which case names and calls the checker could not
resolve fail at run time, as in CEL.  ``engine="interpreter"`` evaluates with
the reference interpreter instead of the compiler.

Values are exchanged in the runner's value model: ``None``, ``bool``,
``int``, ``float``, ``str``, ``bytes``, ``list``, ``dict``, and the runner's
``Uint``, ``Timestamp``, ``Duration`` and ``CelType``.  When the runner's
module is importable its classes are used, else the look-alikes below; the
helpers :func:`decode` and :func:`values_equal` read the cases file and
compare results as the runner does (strictly: int, uint and double differ).
"""

from __future__ import annotations

import base64
import math
from typing import Any, NamedTuple

from engine.errors import CheckError
from engine.lang import types as T
from engine.lang import values as V
from engine.lang.check import Scope, check_condition
from engine.lang.compile import compile_condition
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.interp import interpret_condition
from engine.lang.parser import parse_condition
from engine.lang.times import NS, parse_timestamp

__all__ = ["decode", "evaluate", "values_equal"]

_FUNCTIONS = FunctionTable(STANDARD_FUNCTIONS)


# -- the runner's value model -------------------------------------------------------------------------


class _Uint(int):
    def __repr__(self) -> str:
        return f"{int(self)}u"


class _Timestamp(NamedTuple):
    seconds: int
    nanos: int = 0


class _Duration(NamedTuple):
    seconds: int
    nanos: int = 0


class _CelType:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return getattr(other, "name", None) == self.name and type(other).__name__ == "CelType"

    def __hash__(self) -> int:
        return hash(("CelType", self.name))

    def __repr__(self) -> str:
        return f"CelType({self.name!r})"


_CelType.__name__ = "CelType"


def _model() -> tuple[type, type, type, type]:
    """(Uint, Timestamp, Duration, CelType) of the runner when it is loaded, else the look-alikes."""
    try:
        import run_conformance as rc  # type: ignore[import-not-found]  # the runner's, on sys.path when it runs us
    except ImportError:
        return _Uint, _Timestamp, _Duration, _CelType
    return rc.Uint, rc.Timestamp, rc.Duration, rc.CelType


def to_engine(v: Any) -> Any:
    """A value of the runner's model as an engine value."""
    if v is None or isinstance(v, (bool, str, bytes, float)):
        return v
    name = type(v).__name__
    if isinstance(v, int):
        return V.UInt(int(v)) if name in ("Uint", "_Uint") else int(v)
    if name in ("Timestamp", "_Timestamp"):
        return V.Timestamp(v.seconds * NS + v.nanos)
    if name in ("Duration", "_Duration"):
        return V.Duration(v.seconds * NS + v.nanos)
    if name in ("CelType", "_CelType"):
        return V.TYPES.get(v.name) or V.CelType(v.name)
    if isinstance(v, (list, tuple)):
        return [to_engine(x) for x in v]
    if isinstance(v, dict):
        return V.make_map([to_engine(k) for k in v], [to_engine(x) for x in v.values()])
    raise NotImplementedError(f"cannot bind a {name}")


def from_engine(v: Any) -> Any:
    """An engine value in the runner's model."""
    uint, timestamp, duration, cel_type = _model()
    return _from(v, uint, timestamp, duration, cel_type)


def _from(v: Any, uint: Any, timestamp: Any, duration: Any, cel_type: Any) -> Any:
    if v is None or isinstance(v, (bool, str, bytes, float)):
        return v
    if isinstance(v, V.UInt):
        return uint(int(v))
    if isinstance(v, int):
        return int(v)
    if isinstance(v, V.Timestamp):
        return timestamp(v.ns // NS, v.ns % NS)
    if isinstance(v, V.Duration):
        sign = -1 if v.ns < 0 else 1
        seconds, nanos = divmod(abs(v.ns), NS)
        return duration(sign * seconds, sign * nanos)
    if isinstance(v, V.CelType):
        return cel_type(v.name)
    if isinstance(v, (list, tuple)):
        return [_from(x, uint, timestamp, duration, cel_type) for x in v]
    if isinstance(v, dict):
        return {
            _from(k, uint, timestamp, duration, cel_type): _from(x, uint, timestamp, duration, cel_type)
            for k, x in v.items()
        }
    raise NotImplementedError(f"a {type(v).__name__} result has no conformance form")


# -- the adapter --------------------------------------------------------------------------------------------


def evaluate(
    expr: str,
    bindings: dict[str, Any],
    *,
    container: str | None = None,
    disable_macros: bool = False,
    disable_check: bool = False,
    locale: str | None = None,
    type_env: dict[str, Any] | None = None,
    engine: str = "compiled",
    **_options: Any,
) -> Any:
    """Evaluate the CEL expression ``expr`` with ``bindings``; raise for any CEL error."""
    if disable_macros:
        raise NotImplementedError("macros cannot be turned off")
    node = parse_condition(expr)
    params: dict[str, tuple[Any, T.Type]] = {}
    for name, value in bindings.items():
        declared = (type_env or {}).get(name)
        try:
            t = T.parse_cel_type(declared) if isinstance(declared, str) else T.DYN
        except ValueError:
            raise NotImplementedError(f"the type {declared!r}") from None
        params[name] = (to_engine(value), t)
    scope = Scope(T.DYN, _FUNCTIONS, "record", params, container=container or None, rulebook=False)
    checked = check_condition(node, scope)
    if not checked.ok and not disable_check:
        raise CheckError(checked.diagnostics)
    values = {name: value for name, (value, _t) in params.items()}
    build = interpret_condition if engine == "interpreter" else compile_condition
    fn = build(checked, {}, values)
    return from_engine(fn({}, None, {}))  # type: ignore[arg-type]  # the cases have no evaluation date


# -- reading cases and comparing results (the runner's rules) ---------------------------------------------


def decode(v: Any) -> Any:
    """A tagged JSON value of the cases file in the runner's value model."""
    uint, timestamp, duration, cel_type = _model()
    return _decode(v, uint, timestamp, duration, cel_type)


def _decode(v: Any, uint: Any, timestamp: Any, duration: Any, cel_type: Any) -> Any:
    if v is None or isinstance(v, (bool, str, int, float)):
        return v
    if isinstance(v, list):
        return [_decode(x, uint, timestamp, duration, cel_type) for x in v]
    if not isinstance(v, dict):
        raise TypeError(f"a value in the cases file is JSON, not {type(v).__name__}")
    if len(v) == 1:
        ((tag, x),) = v.items()
        if tag == "$int":
            return int(x)
        if tag == "$uint":
            return uint(int(x))
        if tag == "$double":
            return float(x)
        if tag == "$bytes":
            return base64.b64decode(x)
        if tag == "$timestamp":
            t = parse_timestamp(x)
            return timestamp(t.ns // NS, t.ns % NS)
        if tag == "$duration":
            body = x[:-1]
            sign = -1 if body.startswith("-") else 1
            whole, _, frac = body.lstrip("-+").partition(".")
            return duration(sign * int(whole or "0"), sign * int((frac + "000000000")[:9]) if frac else 0)
        if tag == "$type":
            name = x.split("(", 1)[0].strip()
            return cel_type(
                {
                    "timestamp": "google.protobuf.Timestamp",
                    "duration": "google.protobuf.Duration",
                    "null": "null_type",
                }.get(name, name)
            )
        if tag == "$map":
            return {
                _decode(k, uint, timestamp, duration, cel_type): _decode(val, uint, timestamp, duration, cel_type)
                for k, val in x
            }
        if tag in ("$message", "$enum"):
            raise NotImplementedError(tag)
    return {k: _decode(val, uint, timestamp, duration, cel_type) for k, val in v.items()}


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    name = type(v).__name__
    if isinstance(v, bool):
        return "bool"
    if name in ("Uint", "_Uint"):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "bytes"
    if name in ("Timestamp", "_Timestamp", "Duration", "_Duration", "CelType", "_CelType"):
        return name.lstrip("_")
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    return "?"


def values_equal(expected: Any, actual: Any) -> bool:
    """The runner's strict match: same kinds (int, uint and double differ), NaN matches NaN,
    maps regardless of order, lists and maps deeply."""
    ke, ka = _kind(expected), _kind(actual)
    if ke != ka:
        return False
    if ke == "double":
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        return bool(expected == actual)
    if ke == "list":
        return len(expected) == len(actual) and all(values_equal(a, b) for a, b in zip(expected, actual, strict=True))
    if ke == "map":
        if len(expected) != len(actual):
            return False
        remaining = list(actual.items())
        for k, v in expected.items():
            for i, (k2, v2) in enumerate(remaining):
                if values_equal(k, k2):
                    if not values_equal(v, v2):
                        return False
                    del remaining[i]
                    break
            else:
                return False
        return True
    if ke in ("Timestamp", "Duration"):
        return (expected.seconds, expected.nanos) == (actual.seconds, actual.nanos)
    if ke == "CelType":
        return bool(expected.name == actual.name)
    return bool(expected == actual)
