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
from collections.abc import Iterable, MutableMapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.errors import Diagnostic
from engine.messages import CATALOGUE, Text, listing, msg
from engine.source import Source

if TYPE_CHECKING:  # jsonschema is imported where a document is validated, not at start-up
    import jsonschema
    from jsonschema.exceptions import ValidationError

__all__ = ["data_dir", "load_schema", "record_schema", "validate_document", "validate_rulebook"]


def data_dir() -> Path:
    """The directory holding the bundled ``rulebooks/`` and ``schemas/``."""
    return Path(str(resources.files("engine") / "data"))


@lru_cache(maxsize=64)
def load_schema(name: str) -> dict[str, Any]:
    """A bundled schema by file name relative to ``schemas/``, e.g. ``records/applicant.schema.json``."""
    path = data_dir() / "schemas" / name
    with path.open(encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


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
    import jsonschema.validators

    schema = load_schema("rulebook.schema.json")
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _plain(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(err: ValidationError) -> tuple[Text, Text | None, bool]:
    """(message, help, at_key) for one leaf validation error."""
    path = "/".join(str(p) for p in err.absolute_path)
    where = Text(f"`{path}`", f"`{path}`") if path else msg("schema.top-level")
    v = err.validator
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return msg("schema.required", name=missing, where=where), msg("schema.required/help", name=missing), False
    if v == "additionalProperties":
        allowed = list((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, dict) else []
        extra = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
        name = extra[0] if extra else "?"
        close = difflib.get_close_matches(str(name), allowed, n=1)
        help = (
            msg("did-you-mean", name=close[0])
            if close
            else msg("schema.additionalProperties/help", keys=listing(allowed))
        )
        return msg("schema.additionalProperties", name=name, where=where), help, True
    if v == "enum":
        return (
            msg("schema.enum", value=_plain(err.instance), options=listing(cast("list[object]", err.validator_value))),
            None,
            False,
        )
    if v == "const":
        return msg("schema.const", value=_plain(err.instance), expected=_plain(err.validator_value)), None, False
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        words = [msg(f"schema.type:{w}") if f"schema.type:{w}" in CATALOGUE else Text(f"`{w}`", f"`{w}`") for w in want]
        either = Text(" or ".join(w.en for w in words), "或".join(w.zh for w in words))
        return msg("schema.type", where=where, expected=either, value=_plain(err.instance)), None, False
    if v == "pattern":
        return (
            msg("schema.pattern", value=_plain(err.instance)),
            msg("schema.pattern/help", pattern=err.validator_value),
            False,
        )
    if v in ("minItems", "minLength", "minProperties"):
        return msg("schema.empty", where=where), None, False
    return msg("schema.other", where=where, detail=err.message), None, False


def _leaves(err: ValidationError) -> Iterable[ValidationError]:
    if err.context:
        from jsonschema.exceptions import best_match

        best = best_match(err.context)
        if best is not None:
            yield from _leaves(best)
            return
    yield err


def validate_rulebook(
    data: Any, source: Source, span_of: Any, memo: MutableMapping[tuple[str, str], Any] | None = None
) -> list[Diagnostic]:
    """Every schema problem of a rulebook document, as positioned diagnostics.

    ``span_of(path, key)`` returns the Span of the node at ``path`` (its key
    when ``key`` is true), falling back to the nearest ancestor.  ``memo`` (a
    :class:`~engine.memo.BoundedMemo`, kept from one validation of the same
    rulebook to the next) remembers the parts of the document (each one a
    ``$ref`` of the schema: a rule, a decision, an example...) found valid, by
    their JSON text, so that a document validated again after an edit checks
    only the parts that changed.
    """
    if memo is None:
        return _validate(_rulebook_validator(), data, source, span_of)
    return _validate(_remembering_validator(memo), data, source, span_of)


def _remembering_validator(memo: MutableMapping[tuple[str, str], Any]) -> jsonschema.protocols.Validator:
    import jsonschema.validators

    base = _rulebook_validator()
    plain_ref = type(base).VALIDATORS["$ref"]

    def ref(validator: Any, ref: str, instance: Any, schema: Any) -> Any:
        try:
            key = (ref, json.dumps(instance, sort_keys=True, ensure_ascii=False))
        except (TypeError, ValueError):  # keys of several types: not remembered
            yield from plain_ref(validator, ref, instance, schema)
            return
        if key in memo:
            return
        errors = list(plain_ref(validator, ref, instance, schema))
        if errors:
            yield from errors
        elif hasattr(memo, "remember"):
            memo.remember(key, True)
        else:
            memo[key] = True

    cls = jsonschema.validators.extend(type(base), {"$ref": ref})
    return cls(base.schema)  # type: ignore[no-any-return]


@lru_cache(maxsize=8)
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema.validators

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_document(data: Any, source: Source, span_of: Any, schema: str) -> list[Diagnostic]:
    """Every problem of a YAML document against a bundled schema (by file name), positioned."""
    return _validate(_validator(schema), data, source, span_of)


def _validate(validator: jsonschema.protocols.Validator, data: Any, source: Source, span_of: Any) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for top in validator.iter_errors(data):
        for err in _leaves(top):
            message, help, at_key = _describe(err)
            path = tuple(err.absolute_path)
            if at_key and isinstance(err.instance, dict):
                allowed = (err.schema.get("properties") or {}) if isinstance(err.schema, dict) else {}
                extra = [k for k in err.instance if k not in allowed]
                if extra:
                    path = (*path, extra[0])
            code = f"schema.{err.validator}" if isinstance(err.validator, str) else "schema.invalid"
            out.append(Diagnostic(code, message, source=source, span=span_of(path, at_key), help=help))
    return out
