"""`--format sarif`: SARIF 2.1.0, as code-scanning services accept it.

One result per failed rule (and per unreadable record), located at the input
file and line of the record, with the rule's id as ``ruleId``; the rules are
described in ``tool.driver.rules`` with their citation, their message and
interpretation note.  Levels: error-severity rules ``error``, warnings
``warning``, errors of evaluation ``error`` too.  Every result carries a
``partialFingerprints`` entry (file, record, rule) so that services can track
it across runs.  A record that breaks its record schema gets one result per
violation (rule ``record.schema``; ``warning``, or ``error`` when rejected).
Results are spooled to a temporary file (constant memory).
"""

from __future__ import annotations

import hashlib
import json
from typing import IO, Any

from engine import messages
from engine.evaluate import Decision, InputRef
from engine.io.report import Spool, Summary, failed_rules, schema_items

__all__ = ["SARIF_SCHEMA", "SarifReport"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
UNREADABLE = "record.unreadable"
SCHEMA = "record.schema"


def _location(ref: InputRef | None) -> list[dict[str, Any]]:
    if ref is None or ref.file is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": ref.file.replace("\\", "/")}}
    if ref.line is not None:
        physical["region"] = {"startLine": ref.line}
    return [{"physicalLocation": physical}]


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "backslashreplace")).hexdigest()[:32]


class SarifReport:
    # a record that passed is only counted and named here: the columnar engine need not explain it
    shows_passes = False

    def __init__(self, out: IO[str], *, lang: str = "zh", **_: Any) -> None:
        from engine.version import __version__

        self.out = out
        self.lang = lang
        self.version = __version__
        self.summary = Summary()
        self.spool = Spool()
        self.rules: dict[str, dict[str, Any]] = {}
        self.index: dict[str, int] = {}
        self.first = True

    def begin(self) -> None:
        return None

    def _rule(self, rule_id: str, describe: dict[str, Any]) -> int:
        if rule_id not in self.index:
            self.index[rule_id] = len(self.rules)
            self.rules[rule_id] = {"id": rule_id, **describe}
        return self.index[rule_id]

    def _result(self, result: dict[str, Any]) -> None:
        self.spool.add(("" if self.first else ",\n") + "        " + json.dumps(result, ensure_ascii=False))
        self.first = False

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)
        for r in failed_rules(decision):
            spec = r.spec
            rule_id = f"{decision.decision}/{spec.id}"
            note = spec.note.get(self.lang) if spec.note is not None else None
            index = self._rule(
                rule_id,
                {
                    "name": spec.id,
                    "shortDescription": {"text": f"{spec.cite} {spec.title.get(self.lang) if spec.title else spec.id}"},
                    "fullDescription": {"text": spec.message.get(self.lang)},
                    "help": {"text": note or spec.cite},
                    "properties": {
                        "rulebook": decision.rulebook,
                        "version": decision.version,
                        "article": spec.article,
                        "item": spec.item,
                        "cite": spec.cite,
                        "severity": str(spec.severity),
                    },
                    "defaultConfiguration": {"level": "warning" if spec.severity == "warning" else "error"},
                },
            )
            message = r.message(self.lang) or str(r.status)
            self._result(
                {
                    "ruleId": rule_id,
                    "ruleIndex": index,
                    "level": "warning" if spec.severity == "warning" and r.status == "fail" else "error",
                    "message": {"text": f"{decision.record_id or messages.msg('cli.no-id').get(self.lang)}: {message}"},
                    "locations": _location(decision.input),
                    "partialFingerprints": {
                        "recordRule/v1": _fingerprint(
                            decision.input.file if decision.input else "", decision.record_id, rule_id
                        )
                    },
                    "properties": {
                        "record": decision.record_id,
                        "status": str(r.status),
                        "cite": spec.cite,
                        "outcome": str(decision.outcome),
                    },
                }
            )
        items = schema_items(decision, self.lang)
        if items:
            zh = self.lang == "zh"
            index = self._rule(
                SCHEMA,
                {
                    "name": "record-schema",
                    "shortDescription": {
                        "text": "记录不符合其记录结构" if zh else "a record that breaks its record schema"
                    },
                    "fullDescription": {
                        "text": "字段类型、枚举值、必填字段或未知字段与决定的记录结构不符（schema enforcement）"
                        if zh
                        else "a field of the wrong type, a value outside an enum, a missing required "
                        "field or an unknown key (schema enforcement)"
                    },
                    "defaultConfiguration": {"level": "warning"},
                },
            )
            rejected = str(decision.outcome) == "error"
            for v in items:
                self._result(
                    {
                        "ruleId": SCHEMA,
                        "ruleIndex": index,
                        "level": "error" if rejected and v["severity"] == "error" else "warning",
                        "message": {
                            "text": f"{decision.record_id or messages.msg('cli.no-id').get(self.lang)}: {v['message']}"
                        },
                        "locations": _location(decision.input),
                        "partialFingerprints": {
                            "recordRule/v1": _fingerprint(
                                decision.input.file if decision.input else "", decision.record_id, SCHEMA, v["path"]
                            )
                        },
                        "properties": {
                            "record": decision.record_id,
                            "path": v["path"],
                            "expected": v["expected"],
                            "value": v["value"],
                            "code": v["code"],
                            "outcome": str(decision.outcome),
                        },
                    }
                )

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.add_error()
        index = self._rule(
            UNREADABLE,
            {
                "name": "unreadable-record",
                "shortDescription": {"text": "a record that cannot be read"},
                "fullDescription": {"text": "the input line is not valid JSON, or not a JSON object"},
                "defaultConfiguration": {"level": "error"},
            },
        )
        self._result(
            {
                "ruleId": UNREADABLE,
                "ruleIndex": index,
                "level": "error",
                "message": {"text": message},
                "locations": _location(ref),
                "partialFingerprints": {"recordRule/v1": _fingerprint(ref.file, ref.line, UNREADABLE)},
            }
        )

    def write_input_problem(self, ref: InputRef, note: Any) -> None:
        """A problem with an input as a whole (``engine.io.records.InputNote``: a column that names no
        field, an empty input): a result at the file, and at its header cell where it has one."""
        d = note.problem
        message, advice = d.text(self.lang)
        about = messages.msg(f"{d.code}:about").get(self.lang) if f"{d.code}:about" in messages.CATALOGUE else d.code
        index = self._rule(
            d.code, {"name": d.code, "shortDescription": {"text": about}, "defaultConfiguration": {"level": d.severity}}
        )
        locations = _location(ref)
        if locations and note.column is not None and ref.line is not None:
            locations[0]["physicalLocation"]["region"]["startColumn"] = note.column
        self._result(
            {
                "ruleId": d.code,
                "ruleIndex": index,
                "level": "error" if d.severity == "error" else "warning",
                "message": {"text": f"{message} ({advice})" if advice else message},
                "locations": locations,
                "partialFingerprints": {"recordRule/v1": _fingerprint(ref.file, ref.line, note.column, d.code)},
            }
        )

    def end(self) -> Summary:
        driver = {
            "name": "rulebook",
            "informationUri": "https://pypi.org/project/rulebook-engine/",
            "semanticVersion": self.version,
            "version": self.version,
            "rules": list(self.rules.values()),
        }
        head = {"$schema": SARIF_SCHEMA, "version": "2.1.0"}
        text = json.dumps(head, ensure_ascii=False)[:-1]
        self.out.write(
            text
            + ',\n  "runs": [\n    {\n      "tool": {"driver": '
            + json.dumps(driver, ensure_ascii=False)
            + '},\n      "results": [\n'
        )
        self.spool.replay(self.out)
        self.out.write("\n      ]\n    }\n  ]\n}\n")
        self.out.flush()
        return self.summary
