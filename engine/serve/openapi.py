"""The OpenAPI 3.1 document of a `rulebook serve` worker, made from the rulebooks it serves.

Every decision of every rulebook gets its own two paths (single record and batch), whose
request body is that decision's record JSON Schema (of the newest version serving; OpenAPI 3.1
schemas are JSON Schema 2020-12, so the record schemas go in as they are).  The answer of a
decision is the CONTRACT's decision object (``schemas/decision-output.schema.json``) with
``decision_id``; every error is a problem details object.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from engine.serve.rulebooks import Snapshot

__all__ = ["openapi_document"]

_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "help": {"type": "string"},
    },
    "additionalProperties": True,
}


def _name(*parts: str) -> str:
    return ".".join(re.sub(r"[^A-Za-z0-9_.-]", "-", p) for p in parts)


def _embed(schema: dict[str, Any], key: str, schemas: dict[str, Any]) -> None:
    """Put a JSON Schema into the document's components under ``key``: its ``$defs`` become
    components of their own (``key.name``) and its local references point at them."""
    schema = copy.deepcopy(schema)
    schema.pop("$schema", None)
    schema.pop("$id", None)
    defs = schema.pop("$defs", None) or schema.pop("definitions", None) or {}

    def point(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: point(v) for k, v in node.items()}
            ref = out.get("$ref")
            if isinstance(ref, str):
                for prefix in ("#/$defs/", "#/definitions/"):
                    if ref.startswith(prefix):
                        out["$ref"] = "#/components/schemas/" + _name(key, ref[len(prefix) :])
                if ref == "#":
                    out["$ref"] = "#/components/schemas/" + key
            return out
        if isinstance(node, list):
            return [point(v) for v in node]
        return node

    schemas[key] = point(schema)
    for name, sub in defs.items():
        schemas[_name(key, name)] = point(sub)


def _decision_output() -> dict[str, Any]:
    from engine.schemas import data_dir

    schema: dict[str, Any] = json.loads(
        (data_dir() / "schemas" / "decision-output.schema.json").read_text(encoding="utf-8")
    )
    schema.pop("$id", None)
    schema.pop("$schema", None)
    schema.setdefault("properties", {})["decision_id"] = {
        "type": "string",
        "description": "the id under which the decision log keeps the decision",
    }
    return schema


_STATUSES = {
    "description": "a decision with `explain=false`: the outcome and each rule's status",
    "type": "object",
    "required": ["rulebook", "version", "decision", "record", "as_of", "outcome", "statuses"],
    "properties": {
        "rulebook": {"type": "string"},
        "version": {"type": "string"},
        "decision": {"type": "string"},
        "record": {"type": ["string", "null"]},
        "input": {"type": ["object", "null"]},
        "as_of": {"type": ["string", "null"], "format": "date"},
        "outcome": {"enum": ["pass", "fail", "indeterminate", "error"]},
        "statuses": {
            "type": "object",
            "additionalProperties": {"enum": ["pass", "fail", "not_applicable", "error", "waived"]},
        },
        "schema": {"type": "array", "items": {"type": "object"}},
        "decision_id": {"type": "string"},
    },
    "additionalProperties": False,
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


_PARAMETERS = [
    _query(
        "as_of",
        "the evaluation date (default: the record's own, e.g. its application date)",
        {"type": "string", "format": "date"},
    ),
    _query("version", "the rulebook version (default: the one in force on the evaluation date)", {"type": "string"}),
    _query(
        "lang",
        "the language of messages (default: Accept-Language, else the server's)",
        {"type": "string", "enum": ["zh", "en"]},
    ),
    _query("explain", "`false`: the outcome and each rule's status only", {"type": "boolean"}),
]


def _problem_responses(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {
            "description": "a problem",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


_TEXT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["text"],
                "properties": {
                    "text": {"type": "string", "description": "the rulebook's YAML text"},
                    "path": {"type": "string"},
                    "rulebook": {"type": "string", "description": "the id of the rulebook the text is a version of"},
                    "line": {"type": "integer", "minimum": 1},
                    "column": {"type": "integer", "minimum": 1},
                    "against": {"type": "string"},
                    "sample": {"type": "string"},
                    "records": {"type": "string", "description": "JSON Lines"},
                    "decision": {"type": "string"},
                    "based_on": {"type": "string"},
                },
            }
        }
    },
}


def _workbench_paths() -> dict[str, Any]:
    """The workbench's endpoints (``engine/serve/workbench/api.py`` describes their answers)."""
    ok = {"description": "JSON", "content": {"application/json": {"schema": {"type": "object"}}}}
    out: dict[str, Any] = {}
    for name, summary in (
        ("config", "what the workbench may do here (editing, authentication, sample feeds)"),
        ("samples", "the sample feeds with their record counts"),
    ):
        out[f"/workbench/api/{name}"] = {
            "get": {"summary": summary, "operationId": _name("workbench", name), "responses": {"200": ok}}
        }
    for name, summary in (
        ("doc", "the page of `rulebook doc` as data (and as HTML)"),
        ("source", "the YAML text of a version"),
    ):
        out["/workbench/api/rulebooks/{rulebook}/" + name] = {
            "get": {
                "summary": summary,
                "operationId": _name("workbench", name),
                "parameters": [
                    {"name": "rulebook", "in": "path", "required": True, "schema": {"type": "string"}},
                    _query("version", "the version (default: in force today)", {"type": "string"}),
                ],
                "responses": {"200": ok, **_problem_responses(400, 401, 404)},
            }
        }
    for name, summary in (
        ("diagnostics", "everything `rulebook lint` says of a rulebook's text, positioned"),
        ("completions", "completion at a position: field paths, named values, parameters, functions, keys"),
        ("hover", "the rule at a position: its article, citation and note"),
        ("examples", "the text's examples run: passes, failures with the rules responsible, coverage"),
    ):
        out[f"/workbench/api/{name}"] = {
            "post": {
                "summary": summary,
                "operationId": _name("workbench", name),
                "requestBody": _TEXT_BODY,
                "responses": {"200": ok, **_problem_responses(400, 401, 413, 503)},
            }
        }
    out["/workbench/api/impact"] = {
        "post": {
            "summary": "the records whose decision would change (`rulebook diff --data`), streamed with progress",
            "operationId": "workbench.impact",
            "requestBody": _TEXT_BODY,
            "responses": {
                "200": {
                    "description": "JSON Lines",
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                **_problem_responses(400, 401, 404, 413, 422, 503),
            },
        }
    }
    required = {"required": True}
    out["/workbench/api/records"] = {
        "post": {
            "summary": "a spreadsheet read as `rulebook check` reads it, typed through the decision's record schema",
            "operationId": "workbench.records",
            "parameters": [
                {**_query("rulebook", "the rulebook's id", {"type": "string"}), **required},
                {
                    **_query("decision", "the decision whose record schema types the cells", {"type": "string"}),
                    **required,
                },
                {
                    **_query("format", "the file's format", {"type": "string", "enum": ["csv", "tsv", "xlsx"]}),
                    **required,
                },
                _query("version", "the version (default: in force today)", {"type": "string"}),
                _query("name", "the file's name, shown in the answers", {"type": "string"}),
                _query("lang", "the language of the messages", {"type": "string", "enum": ["zh", "en"]}),
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string", "format": "binary"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    },
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "responses": {
                "200": {
                    "description": "JSON Lines: the header's warnings (`{\"warning\": ...}`), then each row's "
                    '`{"input", "record"}`, or the error object `rulebook check --format json` writes '
                    'for a row it cannot read (`"record": null`)',
                    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                },
                **_problem_responses(400, 401, 404, 413, 422, 503),
            },
        }
    }
    out["/workbench/api/drafts"] = {
        "get": {"summary": "the save log", "operationId": "workbench.drafts", "responses": {"200": ok}},
        "post": {
            "summary": "save a new draft version (needs --edit; a token when tokens are set)",
            "operationId": "workbench.saveDraft",
            "requestBody": _TEXT_BODY,
            "responses": {"201": ok, **_problem_responses(400, 401, 403, 409, 413, 422, 503)},
        },
    }
    return out


def openapi_document(snapshot: Snapshot, version: str) -> dict[str, Any]:
    """The OpenAPI document of the rulebooks in ``snapshot`` (``version``: the engine's)."""
    schemas: dict[str, Any] = {"Problem": _PROBLEM, "DecisionStatuses": _STATUSES}
    _embed(_decision_output(), "Decision", schemas)
    paths: dict[str, Any] = {
        "/healthz": {
            "get": {"summary": "liveness", "operationId": "healthz", "responses": {"200": {"description": "alive"}}}
        },
        "/readyz": {
            "get": {
                "summary": "readiness with the load status of each rulebook",
                "operationId": "readyz",
                "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "operationId": "metrics",
                "responses": {
                    "200": {"description": "Prometheus text", "content": {"text/plain": {"schema": {"type": "string"}}}}
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "this document",
                "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3.1 document"}},
            }
        },
        "/rulebooks": {
            "get": {
                "summary": "the rulebooks served, with their versions",
                "operationId": "listRulebooks",
                "responses": {
                    "200": {
                        "description": "rulebooks",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_problem_responses(400),
                },
            }
        },
    }
    for rid, versions in snapshot.by_id.items():
        paths[f"/rulebooks/{rid}"] = {
            "get": {
                "summary": f"rulebook `{rid}`: its decisions, record schemas and rules",
                "operationId": _name("describe", rid),
                "responses": {
                    "200": {
                        "description": "the rulebook",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_problem_responses(400, 404),
                },
            }
        }
        names: dict[str, Any] = {}
        for loaded in versions:  # the newest version's schema wins for a decision in several
            for name, decision in loaded.book.decisions.items():
                names[name] = decision
        for name, decision in names.items():
            key = _name(rid, name, "record")
            _embed(decision.record_schema or {"type": "object"}, key, schemas)
            base = f"/rulebooks/{rid}/decisions/{name}"
            paths[base] = {
                "post": {
                    "summary": f"decide `{name}` of `{rid}` for one record",
                    "operationId": _name("decide", rid, name),
                    "parameters": _PARAMETERS,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{key}"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "the decision",
                            "headers": {"X-Decision-Id": {"schema": {"type": "string"}}},
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Decision"},
                                            {"$ref": "#/components/schemas/DecisionStatuses"},
                                        ]
                                    }
                                }
                            },
                        },
                        **_problem_responses(400, 401, 404, 413, 422, 503),
                    },
                }
            }
            paths[base + "/batch"] = {
                "post": {
                    "summary": f"decide `{name}` of `{rid}` for each line of JSON Lines, in order",
                    "operationId": _name("batch", rid, name),
                    "parameters": _PARAMETERS,
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "one JSON object per input line (blank lines skipped)",
                            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                        },
                        **_problem_responses(400, 401, 404, 413, 503),
                    },
                }
            }
    paths.update(_workbench_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rulebook serve",
            "version": version,
            "description": "Decisions from versioned rulebooks, explained rule by rule",
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
