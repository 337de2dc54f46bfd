"""Completion at a position of a rulebook's text: field paths, named values, parameters, functions, keys.

Inside an expression (the value of a ``require``, ``when``, ``value``, ``as_of`` key, or of a
named value) the words offered are the record's field paths from the decision's record schema
(after ``record.`` or ``record.a.``, the fields at that path), the decision's named values and
the rule's own, the rulebook's parameters and the functions with their signatures.  Elsewhere,
the keys the rulebook JSON Schema allows at that place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError
from engine.source import Source

if TYPE_CHECKING:
    from engine.build import BuildMemo
    from engine.evaluate import CompiledRulebook

__all__ = ["completions"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_PATH = re.compile(r"((?:[A-Za-z_][A-Za-z0-9_]*\.)+)([A-Za-z_][A-Za-z0-9_]*)?$")
_EXPRESSION_KEYS = frozenset({"require", "when", "as_of", "value"})
_KEY_LINE = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:")
KEYWORDS = ("true", "false", "null", "and", "or", "not", "in", "as_of", "record")


def _type_text(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = " | ".join(str(k) for k in kind)
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"][:8])
    return str(kind or "")


def _field_doc(schema: Any, lang: str) -> str:
    if not isinstance(schema, dict):
        return ""
    title = schema.get(f"x-title-{lang}") or schema.get("title")  # the form's label, in the page's language
    if isinstance(title, dict):
        title = title.get(lang)
    desc = schema.get("description") or ""
    return " — ".join(str(x) for x in (title, desc) if x)


def _resolve(schema: Any, root: Any) -> Any:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        node = root
        for part in schema["$ref"][2:].split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        schema = node
    return schema


def _fields(schema: Any, path: list[str]) -> dict[str, Any]:
    """The properties of the object at ``path`` in a record schema (through lists' items)."""
    root = schema
    node = _resolve(schema, root)
    for name in path:
        if not isinstance(node, dict):
            return {}
        props = node.get("properties") or {}
        node = _resolve(props.get(name), root)
        while isinstance(node, dict) and node.get("type") == "array":
            node = _resolve(node.get("items"), root)
    if not isinstance(node, dict):
        return {}
    return {k: _resolve(v, root) for k, v in (node.get("properties") or {}).items()}


def _context(lines: list[str], line: int) -> tuple[str | None, str | None]:
    """(the key whose value the line belongs to, the decision it is under), read from the indentation."""
    key: str | None = None
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip()) if line - 1 < len(lines) else 0
    decision = None
    for i in range(line - 1, -1, -1):
        m = _KEY_LINE.match(lines[i])
        if not m:
            continue
        col = len(m.group(1)) + len(m.group(2) or "")
        if key is None and (i == line - 1 or col < indent):
            key = m.group(3)
        if len(m.group(1)) == 2 and not m.group(2) and decision is None:
            # a key two spaces in under `decisions:` names a decision
            for j in range(i - 1, -1, -1):
                top = _KEY_LINE.match(lines[j])
                if top and not top.group(1) and not top.group(2):
                    if top.group(3) == "decisions":
                        decision = m.group(3)
                    break
            if decision is not None:
                break
        if not m.group(1) and not m.group(2):
            break
    return key, decision


def completions(
    text: str, line: int, column: int, lang: str, book: CompiledRulebook | None, memo: BuildMemo
) -> dict[str, Any]:
    lines = text.replace("\r\n", "\n").split("\n")
    if line > len(lines):
        return {"from": column, "items": []}
    current = lines[line - 1]
    before = current[: column - 1]
    key, decision = _context(lines, line)
    in_expression = key in _EXPRESSION_KEYS or (key is not None and _is_value_name(lines, line))
    word = _WORD.search(before)
    start = column - (len(word.group(0)) if word else 0)
    if not in_expression:
        return {"from": start, "items": _keys(text, line, word.group(0) if word else "")}
    items: list[dict[str, Any]] = []
    path = _PATH.search(before)
    schema = _record_schema(book, decision) or _schema_of_text(text, decision)
    if path and path.group(1).startswith("record."):
        parts = path.group(1).split(".")[1:-1]
        for name, sub in sorted(_fields(schema, parts).items()):
            items.append({"label": name, "kind": "field", "detail": _type_text(sub), "doc": _field_doc(sub, lang)})
        prefix = path.group(2) or ""
        return {"from": column - len(prefix), "items": [i for i in items if i["label"].startswith(prefix)]}
    if path:  # after another dotted name: a member function
        prefix = path.group(2) or ""
        return {
            "from": column - len(prefix),
            "items": [i for i in _functions(memo, member=True) if i["label"].startswith(prefix)],
        }
    prefix = word.group(0) if word else ""
    items.append({"label": "record", "kind": "keyword", "detail": "record", "doc": ""})
    items.append({"label": "as_of", "kind": "keyword", "detail": "date", "doc": ""})
    if book is not None:
        for p in book.book.parameters:
            items.append(
                {
                    "label": p.name,
                    "kind": "parameter",
                    "detail": repr(p.value)[:60],
                    "doc": p.description.get(lang) if p.description else "",
                }
            )
        for spec in book.book.decisions:
            if decision is None or spec.name == decision:
                for name, expr in spec.values:
                    items.append({"label": name, "kind": "value", "detail": expr.text.strip()[:80], "doc": ""})
                for rule in spec.rules:
                    for name, expr in rule.values:
                        items.append({"label": name, "kind": "value", "detail": expr.text.strip()[:80], "doc": rule.id})
    else:  # the text does not build (an edit half typed): the parameters as written
        data = _loads(text)
        params = data.get("parameters") if isinstance(data, dict) else None
        for name, spec in (params or {}).items() if isinstance(params, dict) else ():
            value = spec.get("value") if isinstance(spec, dict) else None
            items.append({"label": str(name), "kind": "parameter", "detail": repr(value)[:60], "doc": ""})
    items.extend(_functions(memo, member=False))
    items.extend({"label": k, "kind": "keyword", "detail": "", "doc": ""} for k in KEYWORDS[:7])
    seen: set[str] = set()
    out = []
    for item in items:
        if item["label"].startswith(prefix) and item["label"] not in seen:
            seen.add(item["label"])
            out.append(item)
    return {"from": start, "items": out}


def _is_value_name(lines: list[str], line: int) -> bool:
    """Whether the line's key is a named value (a key under ``values:``)."""
    current = lines[line - 1]
    indent = len(current) - len(current.lstrip())
    for i in range(line - 2, -1, -1):
        m = _KEY_LINE.match(lines[i])
        if m and len(m.group(1)) < indent:
            return m.group(3) == "values"
    return False


def _record_schema(book: CompiledRulebook | None, decision: str | None) -> Any:
    if book is None:
        return {}
    for name, d in book.decisions.items():
        if decision is None or name == decision:
            return d.record_schema or {}
    return {}


def _functions(memo: BuildMemo, member: bool) -> list[dict[str, Any]]:
    table = memo.functions
    out = []
    for name in table.names():
        spec = table.get(name)
        if spec is None or not name.isidentifier():
            continue
        sigs = [o for o in spec.overloads if (o.member if member else o.function)]
        if not sigs:
            continue
        detail = "; ".join(f"{name}{o.describe()} -> {o.result}" for o in sigs[:4])
        out.append({"label": name, "kind": "function", "detail": detail, "doc": spec.doc})
    return out


def _keys(text: str, line: int, prefix: str) -> list[dict[str, Any]]:
    """The keys the rulebook schema allows for the mapping the line is in (best effort)."""
    from engine.schemas import load_schema

    schema = load_schema("rulebook.schema.json")
    defs = schema.get("$defs", {})
    lines = text.split("\n")
    current = lines[line - 1] if line <= len(lines) else ""
    indent = len(current) - len(current.lstrip(" -"))
    chain: list[str] = []
    for i in range(line - 2, -1, -1):
        m = _KEY_LINE.match(lines[i])
        if m and len(m.group(1)) + len(m.group(2) or "") < indent:
            chain.insert(0, m.group(3))
            indent = len(m.group(1))
            if indent == 0:
                break
    candidates: dict[str, Any] = dict(schema.get("properties", {}))
    if chain:
        top = chain[0]
        guess = {
            "decisions": "decision",
            "rules": "rule",
            "examples": "example",
            "parameters": "parameter",
            "outputs": "output",
        }
        target = None
        for name in reversed(chain):
            if name in guess:
                target = guess[name]
                break
        if target is None and top in guess:
            target = guess[top]
        candidates = dict(defs.get(target, {}).get("properties", {})) if target else {}
    out = []
    for name, sub in candidates.items():
        if name.startswith(prefix):
            doc = sub.get("description", "") if isinstance(sub, dict) else ""
            out.append({"label": name, "kind": "keyword", "detail": "key", "doc": doc})
    return out


def _schema_of_text(text: str, decision: str | None) -> Any:
    """The record schema a text's decision names (a bundled record kind), read without building it."""
    from engine.schemas import record_schema

    data = _loads(text)
    decisions = data.get("decisions") if isinstance(data, dict) else None
    if not isinstance(decisions, dict):
        return {}
    for name, spec in decisions.items():
        if (decision is None or name == decision) and isinstance(spec, dict) and isinstance(spec.get("record"), str):
            return record_schema(spec["record"]) or {}
    return {}


def _loads(text: str) -> Any:
    from engine.yamlload import load_yaml

    try:
        return load_yaml(Source("rulebook.yaml", text)).data
    except EngineError:
        return None
