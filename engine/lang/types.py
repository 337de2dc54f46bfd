"""Static types of the condition language, and their derivation from JSON Schema.

The checker gives every node a :class:`Type`.  Record fields get theirs from
the decision's record JSON Schema: ``string`` (with ``format: date`` a date),
``integer``, ``number`` (double), ``boolean``, ``array`` (a list of the item
type), ``object`` (an object whose properties are known, so that field paths
can be checked), and ``null`` in a type list makes the type nullable.  Where
nothing is known the type is ``dyn`` and checks happen at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Type", "parse_cel_type", "resolve_ref", "schema_type", "type_of_value"]


@dataclass(frozen=True)
class Type:
    """A type. ``kind`` is one of: dyn bool int uint double string bytes null
    date timestamp duration list map object type optional.

    ``elem`` is the element type of a list or the value type of a map/object
    without known properties; ``key`` the key type of a map; ``schema`` the
    JSON Schema of an object (its ``properties`` give the field types);
    ``nullable`` says null is allowed too; ``default`` (from the schema) is
    what an absent field reads as; ``has_default`` says there is one.
    """

    kind: str
    elem: Type | None = None
    key: Type | None = None
    nullable: bool = False
    schema: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    root: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    has_default: bool = field(default=False, compare=False)
    default: Any = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        if self.kind == "list":
            text = f"list({self.elem})" if self.elem is not None and self.elem.kind != "dyn" else "list"
        elif self.kind == "map":
            text = f"map({self.key}, {self.elem})" if self.key is not None else "map"
        elif self.kind == "optional":
            text = f"optional({self.elem})" if self.elem is not None else "optional(dyn)"
        else:
            text = self.kind
        return text + (" or null" if self.nullable and self.kind != "null" else "")

    @property
    def is_dyn(self) -> bool:
        return self.kind == "dyn"

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "uint", "double")

    def non_null(self) -> Type:
        if not self.nullable:
            return self
        return Type(self.kind, self.elem, self.key, False, self.schema, self.root)

    def fields(self) -> dict[str, Type]:
        """Field name -> type for an object type with known properties."""
        if self.kind != "object" or self.schema is None:
            return {}
        props = self.schema.get("properties", {})
        return {name: schema_type(sub, self.root) for name, sub in props.items()}


DYN = Type("dyn")
BOOL = Type("bool")
INT = Type("int")
UINT = Type("uint")
DOUBLE = Type("double")
STRING = Type("string")
BYTES = Type("bytes")
NULL = Type("null")
DATE = Type("date")
TYPE = Type("type")
TIMESTAMP = Type("timestamp")
DURATION = Type("duration")
LIST_DYN = Type("list", DYN)
MAP_DYN = Type("map", DYN, DYN)
OPTIONAL_DYN = Type("optional", DYN)


def list_of(t: Type) -> Type:
    return Type("list", t)


def optional_of(t: Type) -> Type:
    """``optional(t)``: a value of type ``t``, or none."""
    return Type("optional", t)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any] | None) -> Mapping[str, Any]:
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema and root is not None and seen < 20:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        target: Any = root
        for part in ref[2:].split("/"):
            if not isinstance(target, Mapping) or part not in target:
                return {}
            target = target[part]
        schema = target
        seen += 1
    return schema


def resolve_ref(schema: Mapping[str, Any], root: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``schema`` with its local ``$ref``s followed (``#/...`` within ``root``)."""
    return _resolve(schema, root)


def schema_type(schema: Mapping[str, Any] | bool, root: Mapping[str, Any] | None = None) -> Type:
    """The type of values described by a JSON Schema node (local ``$ref``s followed)."""
    if not isinstance(schema, Mapping):
        return DYN
    if root is None:
        root = schema
    schema = _resolve(schema, root)
    has_default = "default" in schema
    default = schema.get("default")
    declared = schema.get("type")
    kinds = [declared] if isinstance(declared, str) else list(declared) if isinstance(declared, list) else []
    nullable = "null" in kinds
    kinds = [k for k in kinds if k != "null"]
    if len(kinds) != 1:
        base = NULL if nullable and not kinds else DYN
        return Type(base.kind, nullable=False, has_default=has_default, default=default)
    kind = kinds[0]
    if kind == "string":
        t = Type("date" if schema.get("format") == "date" else "string", nullable=nullable)
    elif kind == "integer":
        t = Type("int", nullable=nullable)
    elif kind == "number":
        t = Type("double", nullable=nullable)
    elif kind == "boolean":
        t = Type("bool", nullable=nullable)
    elif kind == "array":
        t = Type("list", schema_type(schema.get("items", True), root), nullable=nullable)
    elif kind == "object":
        if "properties" in schema:
            t = Type("object", nullable=nullable, schema=schema, root=root)
        else:
            extra = schema.get("additionalProperties", True)
            t = Type("map", schema_type(extra, root), STRING, nullable=nullable)
    else:
        t = DYN
    if has_default:
        t = Type(t.kind, t.elem, t.key, t.nullable, t.schema, t.root, True, default)
    return t


def type_of_value(value: object) -> Type:
    """The static type of a constant (a parameter's value)."""
    from engine.lang.values import CelType, Duration, Timestamp, UInt

    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, UInt):
        return UINT
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STRING
    if isinstance(value, bytes):
        return BYTES
    if isinstance(value, Timestamp):
        return TIMESTAMP
    if isinstance(value, Duration):
        return DURATION
    if isinstance(value, CelType):
        return TYPE
    import datetime as _dt

    if isinstance(value, _dt.date):
        return DATE
    if isinstance(value, (list, tuple, frozenset)):
        elems = {type_of_value(v) for v in value}
        return list_of(elems.pop() if len(elems) == 1 else DYN)
    if isinstance(value, dict):
        return MAP_DYN
    return DYN


def assignable(param: Type, arg: Type) -> bool:
    """Whether a value of type ``arg`` may be passed where ``param`` is expected."""
    if param.is_dyn or arg.is_dyn:
        return True
    if arg.kind == "null":
        return param.nullable or param.kind == "null"
    if param.kind == "list" and arg.kind == "list":
        return assignable(param.elem or DYN, arg.elem or DYN)
    if param.kind == "map" and arg.kind in ("map", "object"):
        return True
    if param.kind == "double" and arg.kind in ("int", "uint"):
        return False
    return param.kind == arg.kind


_CEL_NAMES: dict[str, Type] = {
    "dyn": DYN,
    "bool": BOOL,
    "int": INT,
    "uint": UINT,
    "double": DOUBLE,
    "string": STRING,
    "bytes": BYTES,
    "null_type": NULL,
    "type": TYPE,
    "list": LIST_DYN,
    "map": MAP_DYN,
    "timestamp": TIMESTAMP,
    "google.protobuf.Timestamp": TIMESTAMP,
    "duration": DURATION,
    "google.protobuf.Duration": DURATION,
    # protobuf's well-known wrappers and JSON types are the plain values they stand for
    "google.protobuf.BoolValue": Type("bool", nullable=True),
    "google.protobuf.Int32Value": Type("int", nullable=True),
    "google.protobuf.Int64Value": Type("int", nullable=True),
    "google.protobuf.UInt32Value": Type("uint", nullable=True),
    "google.protobuf.UInt64Value": Type("uint", nullable=True),
    "google.protobuf.FloatValue": Type("double", nullable=True),
    "google.protobuf.DoubleValue": Type("double", nullable=True),
    "google.protobuf.StringValue": Type("string", nullable=True),
    "google.protobuf.BytesValue": Type("bytes", nullable=True),
    "google.protobuf.Value": DYN,
    "google.protobuf.ListValue": LIST_DYN,
    "google.protobuf.Struct": Type("map", DYN, STRING),
}


def parse_cel_type(text: str) -> Type:
    """A type written in CEL notation: ``int``, ``list(string)``, ``map(string, dyn)``,
    ``google.protobuf.Timestamp``, ``google.protobuf.Int64Value``, ...

    Raises:
        ValueError: not a type this engine knows.
    """
    t, rest = _parse_type(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise ValueError(f"not a type: {text!r}")
    return t


def _parse_type(s: str, i: int) -> tuple[Type, int]:
    j = i
    while j < len(s) and (s[j].isalnum() or s[j] in "._"):
        j += 1
    name = s[i:j]
    if j < len(s) and s[j] == "(" and name in ("list", "map"):
        params = []
        j += 1
        while True:
            t, j = _parse_type(s, j)
            params.append(t)
            if j < len(s) and s[j] == ",":
                j += 1
                continue
            if j < len(s) and s[j] == ")":
                j += 1
                break
            raise ValueError(f"not a type: {s!r}")
        if name == "list" and len(params) == 1:
            return Type("list", params[0]), j
        if name == "map" and len(params) == 2:
            return Type("map", params[1], params[0]), j
        raise ValueError(f"not a type: {s!r}")
    if name not in _CEL_NAMES:
        raise ValueError(f"unknown type {name!r}")
    return _CEL_NAMES[name], j
