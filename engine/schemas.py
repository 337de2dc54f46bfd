"""The published JSON Schemas and validation with positions.

Schemas live in ``schemas/`` at the top of the repository and ship inside the
package (``engine/data/schemas``).  ``validate_rulebook`` checks a loaded YAML
document against ``rulebook.schema.json`` and reports every problem as a
diagnostic in plain words, positioned at the offending key or value through
the loader's position table.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from engine.errors import Diagnostic
from engine.source import Source

__all__ = ["data_dir", "load_schema", "record_schema", "validate_rulebook"]


def data_dir() -> Path:
    """The directory holding the bundled ``rulebooks/`` and ``schemas/``."""
    return Path(str(resources.files("engine") / "data"))


@lru_cache(maxsize=64)
def load_schema(name: str) -> dict[str, Any]:
    """A bundled schema by file name relative to ``schemas/``, e.g. ``records/applicant.schema.json``."""
    path = data_dir() / "schemas" / name
    with path.open(encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


def record_schema(kind: str) -> dict[str, Any] | None:
    try:
        return load_schema(f"records/{kind}.schema.json")
    except FileNotFoundError:
        return None


def record_kinds() -> list[str]:
    folder = data_dir() / "schemas" / "records"
    return sorted(p.name.removesuffix(".schema.json") for p in folder.glob("*.schema.json"))


@lru_cache(maxsize=1)
def _rulebook_validator() -> jsonschema.protocols.Validator:
    schema = load_schema("rulebook.schema.json")
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)  # type: ignore[no-any-return]


def _plain(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "null"}
_TYPE_WORDS_ZH = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "true 或 false",
                  "array": "列表", "object": "映射", "null": "null"}


def _describe(err: ValidationError) -> tuple[str, str | None, str, str | None, bool]:
    """(message, help, message_zh, help_zh, at_key) for one leaf validation error."""
    where = "/".join(str(p) for p in err.absolute_path) or "the top level"
    v = err.validator
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return (f"missing key `{missing}` in `{where}`", f"add `{missing}:`",
                f"`{where}` 缺少键 `{missing}`", f"请添加 `{missing}:`", False)
    if v == "additionalProperties":
        allowed = list((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, dict) else []
        extra = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
        name = extra[0] if extra else "?"
        close = difflib.get_close_matches(str(name), allowed, n=1)
        help = f"did you mean `{close[0]}`?" if close else "allowed keys: " + ", ".join(f"`{a}`" for a in allowed)
        help_zh = f"是否想写 `{close[0]}`？" if close else "允许的键：" + "、".join(f"`{a}`" for a in allowed)
        return (f"unknown key `{name}` in `{where}`", help, f"`{where}` 中有未知的键 `{name}`", help_zh, True)
    if v == "enum":
        options = ", ".join(f"`{o}`" for o in err.validator_value)
        return (f"`{_plain(err.instance)}` is not allowed here; expected one of {options}", None,
                f"此处不允许 `{_plain(err.instance)}`，应为以下之一：{options}", None, False)
    if v == "const":
        return (f"`{_plain(err.instance)}` should be `{_plain(err.validator_value)}`", None,
                f"`{_plain(err.instance)}` 应为 `{_plain(err.validator_value)}`", None, False)
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in want)
        words_zh = "或".join(_TYPE_WORDS_ZH.get(w, w) for w in want)
        return (f"`{where}` should be {words}, not `{_plain(err.instance)}`", None,
                f"`{where}` 应为{words_zh}，而不是 `{_plain(err.instance)}`", None, False)
    if v == "pattern":
        return (f"`{_plain(err.instance)}` is not in the expected form", f"it must match `{err.validator_value}`",
                f"`{_plain(err.instance)}` 的格式不对", f"须符合 `{err.validator_value}`", False)
    if v in ("minItems", "minLength", "minProperties"):
        return (f"`{where}` must not be empty", None, f"`{where}` 不能为空", None, False)
    return (f"`{where}`: {err.message}", None, f"`{where}`：{err.message}", None, False)


def _leaves(err: ValidationError) -> Iterable[ValidationError]:
    if err.context:
        best = best_match(err.context)
        if best is not None:
            yield from _leaves(best)
            return
    yield err


def validate_rulebook(data: Any, source: Source, span_of: Any) -> list[Diagnostic]:
    """Every schema problem of a rulebook document, as positioned diagnostics.

    ``span_of(path, key)`` returns the Span of the node at ``path`` (its key
    when ``key`` is true), falling back to the nearest ancestor.
    """
    out: list[Diagnostic] = []
    for top in _rulebook_validator().iter_errors(data):
        for err in _leaves(top):
            message, help, message_zh, help_zh, at_key = _describe(err)
            path = tuple(err.absolute_path)
            if at_key and isinstance(err.instance, dict):
                allowed = (err.schema.get("properties") or {}) if isinstance(err.schema, dict) else {}
                extra = [k for k in err.instance if k not in allowed]
                if extra:
                    path = (*path, extra[0])
            code = f"schema.{err.validator}" if isinstance(err.validator, str) else "schema.invalid"
            out.append(Diagnostic(code, message, source=source, span=span_of(path, at_key), help=help,
                                  message_zh=message_zh, help_zh=help_zh))
    return out
