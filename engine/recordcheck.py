"""Records checked against their record schema (schema enforcement).

A decision's record schema says what each field is (``type``, ``enum``,
``format: date``, lengths, bounds, patterns, required fields, the items of a
list, the fields of an object).  The rules read the fields they need and an
error in one of them is a rule ``error``; but a rule whose ``||`` absorbs that
error could pass on data of the wrong shape.  Schema enforcement checks the
whole record against what its schema states, before anyone trusts the rules:

- ``none``: no check;
- ``warn`` (the default): the decision carries the violations (``schema``:
  path, what was expected, the value, a message), reported by every format and
  counted in the summary; ``--fail-on warning`` fails on them;
- ``reject``: a record with a violation gets the outcome ``error``, with the
  same list.

Keys that the schema does not list are reported too ("did you mean ...?"), as
warnings only, since a record may carry fields the rulebook does not read;
under ``reject`` they do not reject the record unless the schema says
``additionalProperties: false``.

``compile_schema(schema)`` turns a schema into a checker, once per schema: a
tree of small functions specialised to each keyword the schema uses, so that a
record that breaks nothing costs one pass over its fields and no allocation.
Keywords the compiler does not specialise (``anyOf``, ``oneOf``, ``allOf``,
``not``, ``if``...) are checked by ``jsonschema`` for that part of the schema.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
from collections.abc import Callable
from typing import Any

from engine.memo import BoundedMemo
from engine.messages import Text

__all__ = ["ENFORCEMENT_LEVELS", "Violation", "compile_schema"]

ENFORCEMENT_LEVELS = ("none", "warn", "reject")

# keywords that only describe; they never make a record wrong (and every ``x-`` keyword: ``x-cell``,
# the workbench form's ``x-title-zh``/``x-title-en``, anyone's own)
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$defs",
        "definitions",
    }
)


def _describes(key: str) -> bool:
    """Whether a schema keyword only describes (an annotation, or an extension keyword ``x-...``)."""
    return key in _ANNOTATIONS or key.startswith("x-")


_HANDLED = frozenset(
    {
        "type",
        "enum",
        "const",
        "format",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "uniqueItems",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "$ref",
    }
)

# the JSON Schema kind of each class a JSON value has (exact classes: a bool is not an integer here)
_KIND_OF_CLASS: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
    list: "array",
    tuple: "array",
    dict: "object",
}

_TYPE_WORDS = {
    "string": ("text", "文本"),
    "integer": ("a whole number", "整数"),
    "number": ("a number", "数字"),
    "boolean": ("true or false", "true 或 false"),
    "array": ("a list", "列表"),
    "object": ("an object", "对象"),
    "null": ("null", "null"),
}


class Violation:
    """One way a record breaks its schema."""

    __slots__ = ("code", "expected", "message", "path", "severity", "value")

    def __init__(
        self, code: str, path: str, expected: Text, value: Any, message: Text, severity: str = "error"
    ) -> None:
        self.code, self.path, self.expected, self.value = code, path, expected, value
        self.message, self.severity = message, severity

    def to_json(self, lang: str = "zh") -> dict[str, Any]:
        return {
            "path": self.path,
            "expected": self.expected.get(lang),
            "value": _plain(self.value),
            "message": self.message.get(lang),
            "code": self.code,
            "severity": self.severity,
        }

    def __repr__(self) -> str:
        return f"Violation({self.code!r}, {self.path!r})"


def _plain(v: Any) -> Any:
    """The value as JSON shows it (dates as text, long text cut)."""
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, str) and len(v) > 200:
        return v[:197] + "..."
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in list(v)[:20]]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in list(v.items())[:20]}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def _shown(v: Any) -> str:
    text = json.dumps(_plain(v), ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(record)"


Out = list[Violation]
Check = Callable[[Any, tuple[Any, ...], Out], None]


def compile_schema(schema: dict[str, Any]) -> Callable[[Any], tuple[Violation, ...]]:
    """A checker for ``schema``: ``check(record)`` gives its violations (an empty tuple when none)."""
    compiler = _Compiler(schema)
    inner = compiler.node(schema)
    fast = _Fast(schema).build()

    def check(record: Any) -> tuple[Violation, ...]:
        if fast is not None and fast(record):
            return ()
        out: Out = []
        inner(record, (), out)
        return tuple(out) if out else ()

    return check


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def resolve(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            raise ValueError(f"only references inside the schema are supported: {ref}")
        node: Any = self.root
        for part in ref[1:].split("/"):
            if part:
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node  # type: ignore[no-any-return]  # a part of the schema (a KeyError when it is not there)

    def node(self, schema: Any, unknown: bool = True) -> Check:
        """The checker of ``schema``; ``unknown``: report keys that no ``properties`` lists (not in the
        parts of an ``allOf`` or the branches of an ``if``, which see only some of the keys)."""
        if schema is True or not isinstance(schema, dict):
            return _nothing
        if schema is False:
            return _never
        checks: list[Check] = []
        if "$ref" in schema:
            ref = schema["$ref"]
            if ref not in self.refs:
                self.refs[ref] = _nothing  # a recursive schema: the reference is filled in below
                target = self.node(self.resolve(ref))
                self.refs[ref] = target
            refs = self.refs

            def follow(v: Any, p: tuple[Any, ...], o: Out, _r: str = ref) -> None:
                refs[_r](v, p, o)

            checks.append(follow)
        for part in schema.get("allOf") or ():
            checks.append(self.node(part, unknown=False))
        if "if" in schema:
            checks.append(self.conditional(schema))
        rest = {
            k: v
            for k, v in schema.items()
            if not _describes(k) and k not in _HANDLED and k not in ("allOf", "if", "then", "else")
        }
        if rest:
            checks.append(
                _by_jsonschema(self.root, {**rest, **({"$defs": self.root["$defs"]} if "$defs" in self.root else {})})
            )
        types = schema.get("type")
        kinds = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
        typed = self.typed(schema, kinds, unknown)
        if typed is not None:
            checks.append(typed)
        if "enum" in schema:
            checks.append(_enum(schema["enum"]))
        if "const" in schema:
            checks.append(_enum([schema["const"]]))
        if not checks:
            return _nothing
        if len(checks) == 1:
            return checks[0]
        return _all(checks)

    def conditional(self, schema: dict[str, Any]) -> Check:
        """``if``/``then``/``else``: whether the ``if`` holds is asked of ``jsonschema`` (exact), and the
        branch taken is checked here, so that its violations are described like the others."""
        import jsonschema

        cls = jsonschema.validators.validator_for(self.root)
        cond = cls(
            {
                **(schema["if"] if isinstance(schema["if"], dict) else {}),
                **({"$defs": self.root["$defs"]} if "$defs" in self.root else {}),
            }
        )
        then = self.node(schema.get("then", True), unknown=False)
        other = self.node(schema.get("else", True), unknown=False)

        def check(v: Any, path: tuple[Any, ...], out: Out) -> None:
            if isinstance(v, _dt.date):
                v = v.isoformat()
            (then if cond.is_valid(v) else other)(v, path, out)

        return check

    def typed(self, schema: dict[str, Any], kinds: list[str], unknown: bool = True) -> Check | None:
        """The type test, then the keywords of each kind, for values of that kind only."""
        string = _string_checks(schema)
        number = _number_checks(schema)
        array = self.array_checks(schema)
        obj = self.object_checks(schema, unknown)
        if not kinds and string is None and number is None and array is None and obj is None:
            return None
        allowed = frozenset(kinds)
        expected = _expected_types(kinds, schema.get("format")) if kinds else None
        # a date is text in JSON; a spreadsheet cell may give a date already
        date_ok = schema.get("format") == "date"

        by_kind = {"string": string, "integer": number, "number": number, "array": array, "object": obj}

        def check(v: Any, path: tuple[Any, ...], out: Out) -> None:
            kind = _KIND_OF_CLASS.get(v.__class__)
            if kind is None:  # not a JSON value: a spreadsheet's date is one where a date is expected
                if allowed and not (date_ok and isinstance(v, _dt.date)):
                    _wrong_type(v, path, out, expected)
                return
            if (
                allowed
                and kind not in allowed
                and not (
                    (kind == "integer" and "number" in allowed)
                    or (kind == "number" and "integer" in allowed and v.is_integer())
                )
            ):
                _wrong_type(v, path, out, expected)
                return
            inner = by_kind.get(kind)
            if inner is not None:
                inner(v, path, out)

        return check

    def array_checks(self, schema: dict[str, Any]) -> Check | None:
        items = self.node(schema["items"]) if "items" in schema and isinstance(schema["items"], (dict, bool)) else None
        if items is _nothing:
            items = None
        lo, hi, unique = schema.get("minItems"), schema.get("maxItems"), schema.get("uniqueItems") is True
        if items is None and lo is None and hi is None and not unique:
            return None

        def check(v: Any, path: tuple[Any, ...], out: Out) -> None:
            n = len(v)
            if lo is not None and n < lo:
                out.append(
                    Violation(
                        "schema.minItems",
                        _join(path),
                        Text(f"at least {lo} item(s)", f"至少 {lo} 项"),
                        v,
                        Text(
                            f"`{_join(path)}` has {n} item(s), fewer than {lo}",
                            f"`{_join(path)}` 只有 {n} 项，少于 {lo} 项",
                        ),
                    )
                )
            if hi is not None and n > hi:
                out.append(
                    Violation(
                        "schema.maxItems",
                        _join(path),
                        Text(f"at most {hi} item(s)", f"至多 {hi} 项"),
                        v,
                        Text(
                            f"`{_join(path)}` has {n} items, more than {hi}", f"`{_join(path)}` 有 {n} 项，多于 {hi} 项"
                        ),
                    )
                )
            if unique:
                seen: list[str] = []
                for x in v:
                    key = json.dumps(_plain(x), sort_keys=True, ensure_ascii=False)
                    if key in seen:
                        out.append(
                            Violation(
                                "schema.uniqueItems",
                                _join(path),
                                Text("no item twice", "不重复的项"),
                                x,
                                Text(
                                    f"`{_join(path)}` lists {_shown(x)} twice", f"`{_join(path)}` 重复列出 {_shown(x)}"
                                ),
                            )
                        )
                        break
                    seen.append(key)
            if items is not None:
                for i, x in enumerate(v):
                    items(x, (*path, i), out)

        return check

    def object_checks(self, schema: dict[str, Any], unknown: bool = True) -> Check | None:
        props: dict[str, Any] = schema.get("properties") or {}
        required = tuple(schema.get("required") or ())
        extra = schema.get("additionalProperties", True)
        if not props and not required and extra is True:
            return None
        checks = {name: self.node(sub) for name, sub in props.items()}
        plain = {name: c for name, c in checks.items() if c is not _nothing}
        # the keys the schema knows: its properties and those of its conditional parts
        known = dict.fromkeys([*props, *sorted(_known_keys(schema) - set(props))])
        names = tuple(known) if unknown else ()
        closed = extra is False
        extra_check = self.node(extra) if isinstance(extra, dict) else None

        def check(v: dict[str, Any], path: tuple[Any, ...], out: Out) -> None:
            for k, x in v.items():
                c = plain.get(k)
                if c is not None:
                    c(x, (*path, k), out)
                elif k not in checks and k not in known:
                    if extra_check is not None:
                        extra_check(x, (*path, k), out)
                    elif names or closed:
                        _unknown_key(k, x, path, names, out, closed)
            for k in required:
                if k not in v:
                    where = _join((*path, k))
                    out.append(
                        Violation(
                            "schema.required",
                            where,
                            Text("present", "必填"),
                            None,
                            Text(f"`{where}` is missing", f"缺少 `{where}`"),
                        )
                    )

        return check


def _known_keys(schema: Any, depth: int = 0) -> set[str]:
    """The keys an object schema lists: its ``properties`` and those of its ``allOf``/``anyOf``/
    ``oneOf`` parts and ``if`` branches."""
    if not isinstance(schema, dict) or depth > 8:
        return set()
    keys = set(schema.get("properties") or {})
    for name in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(name) or ():
            keys |= _known_keys(part, depth + 1)
    for name in ("then", "else"):
        keys |= _known_keys(schema.get(name), depth + 1)
    return keys


def _nothing(v: Any, path: tuple[Any, ...], out: Out) -> None:
    return None


def _never(v: Any, path: tuple[Any, ...], out: Out) -> None:
    out.append(
        Violation(
            "schema.false",
            _join(path),
            Text("nothing here", "此处不应有值"),
            v,
            Text(f"`{_join(path)}` is not allowed", f"不允许 `{_join(path)}`"),
        )
    )


def _all(checks: list[Check]) -> Check:
    def check(v: Any, path: tuple[Any, ...], out: Out) -> None:
        for c in checks:
            c(v, path, out)

    return check


def _expected_types(kinds: list[str], form: Any = None) -> Text:
    words = dict(_TYPE_WORDS)
    if form == "date":  # text in JSON, but what a person means is a date
        words["string"] = ("a date (YYYY-MM-DD)", "日期（YYYY-MM-DD）")
    return Text(" or ".join(words.get(k, (k, k))[0] for k in kinds), "或".join(words.get(k, (k, k))[1] for k in kinds))


def _wrong_type(v: Any, path: tuple[Any, ...], out: Out, expected: Text | None) -> None:
    where = _join(path)
    exp = expected or Text("another kind of value", "另一种值")
    out.append(
        Violation(
            "schema.type",
            where,
            exp,
            v,
            Text(f"`{where}` should be {exp.en}, not {_shown(v)}", f"`{where}` 应为{exp.zh}，而不是 {_shown(v)}"),
        )
    )


def _enum(options: list[Any]) -> Check:
    allowed = [json.dumps(o, sort_keys=True, ensure_ascii=False) for o in options]
    simple = frozenset(o for o in options if isinstance(o, str))
    only_strings = len(simple) == len(options)
    shown = ", ".join(f"`{o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)}`" for o in options)
    shown_zh = "、".join(f"`{o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)}`" for o in options)

    def check(v: Any, path: tuple[Any, ...], out: Out) -> None:
        if v.__class__ is str and only_strings:
            if v in simple:
                return
        elif json.dumps(_plain(v), sort_keys=True, ensure_ascii=False) in allowed:
            return
        where = _join(path)
        close = difflib.get_close_matches(str(v), [str(o) for o in options], n=1) if isinstance(v, str) else []
        hint = (f"; did you mean `{close[0]}`?", f"；是否想写 `{close[0]}`？") if close else ("", "")
        out.append(
            Violation(
                "schema.enum",
                where,
                Text(f"one of {shown}", f"以下之一：{shown_zh}"),
                v,
                Text(
                    f"`{where}` is {_shown(v)}, not one of {shown}{hint[0]}",
                    f"`{where}` 为 {_shown(v)}，不是以下之一：{shown_zh}{hint[1]}",
                ),
            )
        )

    return check


def _string_checks(schema: dict[str, Any]) -> Check | None:
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    pattern = schema.get("pattern")
    date = schema.get("format") == "date"
    if lo is None and hi is None and pattern is None and not date:
        return None
    matcher = None
    if pattern is not None:
        import re2  # linear-time matching: a schema's pattern cannot hang a feed

        matcher = re2.compile(pattern).search

    def check(v: str, path: tuple[Any, ...], out: Out) -> None:
        if lo is not None and len(v) < lo:
            where = _join(path)
            if lo == 1:
                out.append(
                    Violation(
                        "schema.minLength",
                        where,
                        Text("text that is not empty", "非空文本"),
                        v,
                        Text(f"`{where}` is empty", f"`{where}` 为空"),
                    )
                )
            else:
                out.append(
                    Violation(
                        "schema.minLength",
                        where,
                        Text(f"at least {lo} characters", f"至少 {lo} 个字符"),
                        v,
                        Text(f"`{where}` is shorter than {lo} characters", f"`{where}` 少于 {lo} 个字符"),
                    )
                )
        if hi is not None and len(v) > hi:
            where = _join(path)
            out.append(
                Violation(
                    "schema.maxLength",
                    where,
                    Text(f"at most {hi} characters", f"至多 {hi} 个字符"),
                    v,
                    Text(f"`{where}` is longer than {hi} characters", f"`{where}` 超过 {hi} 个字符"),
                )
            )
        if matcher is not None and matcher(v) is None:
            where = _join(path)
            out.append(
                Violation(
                    "schema.pattern",
                    where,
                    Text(f"text matching `{pattern}`", f"符合 `{pattern}` 的文本"),
                    v,
                    Text(
                        f"`{where}` is not in the expected form (`{pattern}`): {_shown(v)}",
                        f"`{where}` 的格式不对（应符合 `{pattern}`）：{_shown(v)}",
                    ),
                )
            )
        if date and not _is_date(v):
            where = _join(path)
            out.append(
                Violation(
                    "schema.format",
                    where,
                    Text("a date, YYYY-MM-DD", "日期（YYYY-MM-DD）"),
                    v,
                    Text(
                        f"`{where}` is not a date in YYYY-MM-DD form: {_shown(v)}",
                        f"`{where}` 不是 YYYY-MM-DD 格式的日期：{_shown(v)}",
                    ),
                )
            )

    return check


def _is_date(v: str) -> bool:
    if len(v) != 10 or v[4] != "-" or v[7] != "-":
        return False
    try:
        _dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _number_checks(schema: dict[str, Any]) -> Check | None:
    bounds = [
        (k, schema[k])
        for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        if isinstance(schema.get(k), (int, float)) and not isinstance(schema.get(k), bool)
    ]
    if not bounds:
        return None
    words = {
        "minimum": ("at least {b}", "不小于 {b}"),
        "maximum": ("at most {b}", "不大于 {b}"),
        "exclusiveMinimum": ("more than {b}", "大于 {b}"),
        "exclusiveMaximum": ("less than {b}", "小于 {b}"),
    }

    def check(v: float, path: tuple[Any, ...], out: Out) -> None:
        for key, b in bounds:
            ok = (
                v >= b
                if key == "minimum"
                else v <= b
                if key == "maximum"
                else v > b
                if key == "exclusiveMinimum"
                else v < b
            )
            if not ok:
                where = _join(path)
                en, zh = (w.format(b=b) for w in words[key])
                out.append(
                    Violation(
                        f"schema.{key}",
                        where,
                        Text(en, zh),
                        v,
                        Text(f"`{where}` is {_shown(v)}; it should be {en}", f"`{where}` 为 {_shown(v)}，应{zh}"),
                    )
                )

    return check


_CLOSE: BoundedMemo[tuple[str, tuple[str, ...]], list[str]] = BoundedMemo(4096)


def _unknown_key(k: Any, v: Any, path: tuple[Any, ...], names: tuple[str, ...], out: Out, closed: bool) -> None:
    where = _join((*path, k))
    close = _CLOSE.get((str(k), names))
    if close is None:
        close = _CLOSE.remember((str(k), names), difflib.get_close_matches(str(k), list(names), n=1, cutoff=0.6))
    hint = (f"; did you mean `{close[0]}`?", f"；是否想写 `{close[0]}`？") if close else ("", "")
    expected = Text("a field of the record schema", "记录结构中的字段")
    if closed:
        out.append(
            Violation(
                "schema.additionalProperties",
                where,
                expected,
                v,
                Text(
                    f"`{where}` is not a field of the record schema{hint[0]}",
                    f"`{where}` 不是记录结构中的字段{hint[1]}",
                ),
            )
        )
    else:
        out.append(
            Violation(
                "schema.unknown-key",
                where,
                expected,
                v,
                Text(
                    f"`{where}` is not a field of the record schema and no rule reads it{hint[0]}",
                    f"`{where}` 不是记录结构中的字段，没有规则读取它{hint[1]}",
                ),
                severity="warning",
            )
        )


def _by_jsonschema(root: dict[str, Any], part: dict[str, Any]) -> Check:
    import jsonschema

    cls = jsonschema.validators.validator_for(root)
    validator = cls(part)

    def check(v: Any, path: tuple[Any, ...], out: Out) -> None:
        if isinstance(v, _dt.date):
            v = v.isoformat()
        for err in validator.iter_errors(v):
            where = _join((*path, *err.absolute_path))
            out.append(
                Violation(
                    f"schema.{err.validator}",
                    where,
                    Text(str(err.validator), str(err.validator)),
                    err.instance,
                    Text(
                        f"`{where}` breaks the record schema: {err.message}",
                        f"`{where}` 不符合记录结构：`{err.message}`",
                    ),
                )
            )

    return check


# ---------------------------------------------------------------------------------------------
# The fast test: one generated function that only says whether the record may break anything
# ---------------------------------------------------------------------------------------------


class _Fast:
    """Generates ``ok(record) -> bool``: True when the record certainly breaks nothing the schema
    states; False sends it to the checker above, which finds and describes the violations.

    The generated source holds only generated names and numbers: every string of the schema (a
    property name, an enum value, a pattern) is a constant in the function's namespace.
    """

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.ns: dict[str, Any] = {
            "__builtins__": {},
            "_isdate": _is_date,
            "_monthdays": _MONTH_DAYS,
            "str": str,
            "int": int,
            "float": float,
            "bool": bool,
            "list": list,
            "dict": dict,
            "len": len,
        }
        self.n = 0
        self.depth = 0
        self.exact = False  # True: the test of an ``if``, where an unlisted key is no violation

    def const(self, value: Any) -> str:
        self.n += 1
        name = f"_k{self.n}"
        self.ns[name] = value
        return name

    def var(self) -> str:
        self.n += 1
        return f"_v{self.n}"

    def resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 20:
            extra = {k: v for k, v in schema.items() if k != "$ref" and not _describes(k)}
            if extra:
                raise _Unsupported
            schema = _Compiler(self.root).resolve(schema["$ref"])
            seen += 1
        return schema

    def node(self, schema: Any, var: str, ind: str) -> list[str]:
        schema = self.resolve(schema)
        if schema is True or schema == {} or not isinstance(schema, dict):
            return []
        if schema is False:
            return [f"{ind}return False"]
        keys = {k for k in schema if not _describes(k)}
        if keys - _HANDLED - {"allOf", "if", "then", "else"}:
            raise _Unsupported
        self.depth += 1
        if self.depth > 12:
            raise _Unsupported
        try:
            lines: list[str] = []
            # the parts of an allOf and the branches of an if see only some keys: no unknown-key test there
            was, self.exact = self.exact, True
            try:
                for part in schema.get("allOf") or ():
                    lines.extend(self.node(part, var, ind))
                if "if" in schema:
                    lines.extend(self.conditional(schema, var, ind))
            finally:
                self.exact = was
            if "enum" in schema or "const" in schema:
                options = schema["enum"] if "enum" in schema else [schema["const"]]
                if not all(isinstance(o, str) for o in options):
                    raise _Unsupported  # 1 == 1.0 == true in Python sets: left to the checker
                lines.append(
                    f"{ind}if {var}.__class__ is not str or {var} not in {self.const(frozenset(options))}: return False"
                )
            types = schema.get("type")
            kinds = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
            branches = []
            for kind in kinds or ["string", "integer", "number", "boolean", "array", "object", "null"]:
                test, body = self.kind(kind, schema, var, ind + "    ")
                if test is None:
                    continue
                branches.append((test, body))
            if not kinds and all(not body for _, body in branches):
                return lines
            first = True
            for test, body in branches:
                lines.append(f"{ind}{'if' if first else 'elif'} {test}:")
                lines.extend(body or [f"{ind}    pass"])
                first = False
            lines.append(f"{ind}else:" if branches else f"{ind}if True:")
            lines.append(f"{ind}    return False" if kinds else f"{ind}    pass")
            return lines
        finally:
            self.depth -= 1

    def conditional(self, schema: dict[str, Any], var: str, ind: str) -> list[str]:
        """``if``/``then``/``else``: the ``if`` as an exact test of its own (only keywords whose test
        is exact: no formats or patterns, where a value the checker accepts might fail the test)."""
        cond = self.resolve(schema["if"])
        if json.dumps(cond).count('"format"') or json.dumps(cond).count('"pattern"'):
            raise _Unsupported
        test = _Fast(self.root)
        test.ns, test.n, test.exact = self.ns, self.n, True
        body = test.node(cond, "_c", "    ")
        self.n = test.n + 1
        name = f"_if{self.n}"
        source = f"def {name}(_c):\n" + "\n".join(body) + "\n    return True\n"
        exec(compile(source, "<record schema>", "exec"), self.ns)  # noqa: S102 - generated names only
        then = self.node(schema.get("then", True), var, ind + "    ")
        other = self.node(schema.get("else", True), var, ind + "    ")
        lines = [f"{ind}if {name}({var}):", *(then or [f"{ind}    pass"])]
        if other:
            lines += [f"{ind}else:", *other]
        return lines

    def kind(self, kind: str, schema: dict[str, Any], var: str, ind: str) -> tuple[str | None, list[str]]:
        if kind == "string":
            body = []
            lo, hi = schema.get("minLength"), schema.get("maxLength")
            if lo == 1:
                body.append(f"{ind}if not {var}: return False")
            elif lo is not None:
                body.append(f"{ind}if len({var}) < {int(lo)}: return False")
            if hi is not None:
                body.append(f"{ind}if len({var}) > {int(hi)}: return False")
            if "pattern" in schema:
                import re2

                good: set[str] = set()
                body.append(
                    f"{ind}if {var} not in {self.const(good)} and not "
                    f"{self.const(_remembered(re2.compile(schema['pattern']).search, good))}({var}): "
                    "return False"
                )
            if schema.get("format") == "date":
                # YYYY-MM-DD with a month and day that exist (29 February asked of the calendar)
                year = self.var()
                body.append(
                    f"{ind}if len({var}) != 10 or {var}[4] != '-' or not ({var}[5:] in _monthdays or "
                    f"_isdate({var})) or not ({year} := {var}[:4]).isdigit() or not {year}.isascii() or "
                    f"{year} == '0000': return False"
                )
            return f"{var}.__class__ is str", body
        if kind == "boolean":
            return f"{var}.__class__ is bool", []
        if kind in ("integer", "number"):
            body = []
            for key, op in (("minimum", "<"), ("maximum", ">"), ("exclusiveMinimum", "<="), ("exclusiveMaximum", ">=")):
                b = schema.get(key)
                if isinstance(b, (int, float)) and not isinstance(b, bool):
                    body.append(f"{ind}if {var} {op} {self.const(b)}: return False")
            test = (
                f"{var}.__class__ is int"
                if kind == "integer"
                else f"({var}.__class__ is int or {var}.__class__ is float)"
            )
            return test, body
        if kind == "null":
            return f"{var} is None", []
        if kind == "array":
            body = []
            lo, hi = schema.get("minItems"), schema.get("maxItems")
            if lo is not None:
                body.append(f"{ind}if len({var}) < {int(lo)}: return False")
            if hi is not None:
                body.append(f"{ind}if len({var}) > {int(hi)}: return False")
            if schema.get("uniqueItems") is True:
                raise _Unsupported
            if "items" in schema:
                item = self.var()
                inner = self.node(schema["items"], item, ind + "    ")
                if inner:
                    body.append(f"{ind}for {item} in {var}:")
                    body.extend(inner)
            return f"{var}.__class__ is list", body
        if kind == "object":
            body = []
            props: dict[str, Any] = schema.get("properties") or {}
            required = schema.get("required") or []
            extra = schema.get("additionalProperties", True)
            if isinstance(extra, dict):
                raise _Unsupported
            known = _known_keys(schema)
            if (props and not self.exact) or extra is False:
                # a key the schema does not list (a warning only): the checker names it; in the exact
                # test of an ``if``, only a real violation counts
                body.append(f"{ind}if not {self.const(frozenset(known))}.issuperset({var}): return False")
            if required and len(required) <= 8:  # a few `in` tests are quicker than a set operation
                body.append(
                    f"{ind}if not ({' and '.join(f'{self.const(k)} in {var}' for k in required)}): return False"
                )
            elif required:
                body.append(f"{ind}if not {self.const(frozenset(required))}.issubset({var}.keys()): return False")
            missing = self.const(_MISS)
            simple_keys: list[str] = []
            simple_standins: list[Any] = []
            simple_classes: list[type] = []
            for name, sub in props.items():
                simple = self.simple_type(sub)
                if simple is not None:
                    # a type test alone: the absent field's stand-in is a value of that type
                    cls, standin = simple
                    simple_keys.append(name)
                    simple_standins.append(standin)
                    simple_classes.append({"str": str, "bool": bool, "list": list}[cls])
                    continue
                v = self.var()
                inner = self.node(sub, v, ind + "    ")
                if inner:
                    body.append(f"{ind}{v} = {var}.get({self.const(name)}, {missing})")
                    body.append(f"{ind}if {v} is not {missing}:")
                    body.extend(inner)
            for key, standin, want in zip(simple_keys, simple_standins, simple_classes, strict=True):
                body.append(
                    f"{ind}if {var}.get({self.const(key)}, {self.const(standin)}).__class__ is not "
                    f"{self.const(want)}: return False"
                )
            return f"{var}.__class__ is dict", body
        return None, []

    def simple_type(self, schema: Any) -> tuple[str, Any] | None:
        """(class name, stand-in) for a schema that is one type and nothing else: text, true or false,
        or a list of anything."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return None
        keys = {k for k in schema if not _describes(k)}
        if keys != {"type"} and not (
            keys == {"type", "items"} and schema.get("type") == "array" and schema["items"] in ({}, True)
        ):
            return None
        return (
            {"string": ("str", ""), "boolean": ("bool", False), "array": ("list", ())}.get(
                schema["type"] if isinstance(schema["type"], str) else ""
            )
            if schema.get("type") != "array"
            else ("list", [])
            if schema.get("items", {}) in ({}, True)
            else None
        )

    def build(self) -> Callable[[Any], bool] | None:
        try:
            body = self.node(self.root, "_r", "    ")
        except (_Unsupported, ValueError, KeyError, TypeError):
            return None
        source = "def _ok(_r):\n" + "\n".join(body) + "\n    return True\n"
        code = compile(source, "<record schema>", "exec")
        exec(code, self.ns)  # noqa: S102 - generated names and numbers only; data are constants
        return self.ns["_ok"]  # type: ignore[no-any-return]  # the function just compiled


# "MM-DD" of every day of a common year: with four ASCII digits of a year (not 0000) before it, a
# date; 29 February is asked of the calendar
_MONTH_DAYS = frozenset((_dt.date(2001, 1, 1) + _dt.timedelta(days=i)).isoformat()[5:] for i in range(365))


def _remembered(test: Callable[[str], Any], good: set[str]) -> Callable[[str], bool]:
    """``test`` for a text, remembering (a bounded number of) the texts that passed."""

    def check(v: str) -> bool:
        if not test(v):
            return False
        if len(good) > 65536:
            good.clear()
        good.add(v)
        return True

    return check


class _Unsupported(Exception):
    """A part of the schema the fast test does not handle: the checker alone is used."""


_MISS = object()
