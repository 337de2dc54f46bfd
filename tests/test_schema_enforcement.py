"""Records checked against their record schema: ``none``, ``warn`` and ``reject``
(``engine.recordcheck``, ``CompiledDecision.check_schema``, ``rulebook check --schema-enforcement``)."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from engine.recordcheck import compile_schema
from engine.registry import Registry
from engine.schemas import record_kinds, record_schema

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


SCHEMA = {
    "type": "object",
    "required": ["id", "born"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "born": {"type": "string", "format": "date"},
        "code": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "level": {"type": "string", "enum": ["low", "high"]},
        "count": {"type": "integer", "minimum": 0, "maximum": 10},
        "ratio": {"type": ["number", "null"], "exclusiveMaximum": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "people": {"type": "array", "items": {"$ref": "#/$defs/person"}},
        "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    },
    "$defs": {
        "person": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "member": {"type": "boolean"}},
        }
    },
}
GOOD = {
    "id": "X",
    "born": "2000-02-29",
    "code": "CN",
    "level": "low",
    "count": 10,
    "ratio": 0.5,
    "tags": ["a"],
    "people": [{"name": "A", "member": True}],
    "either": 3,
}

CASES = [
    ("id", "", "schema.minLength", "id"),
    ("born", "2001-02-29", "schema.format", "born"),
    ("born", 20000229, "schema.type", "born"),
    ("code", "cn", "schema.pattern", "code"),
    ("level", "middle", "schema.enum", "level"),
    ("count", 11, "schema.maximum", "count"),
    ("count", -1, "schema.minimum", "count"),
    ("count", 1.5, "schema.type", "count"),
    ("count", True, "schema.type", "count"),
    ("ratio", 1, "schema.exclusiveMaximum", "ratio"),
    ("tags", "a", "schema.type", "tags"),
    ("tags", ["a", 1], "schema.type", "tags[1]"),
    ("tags", ["a", "b", "c", "d"], "schema.maxItems", "tags"),
    ("people", [{"name": "A", "memebr": True}], "schema.additionalProperties", "people[0].memebr"),
    ("people", [{"member": True}], "schema.required", "people[0].name"),
    ("either", [1], "schema.anyOf", "either"),
]


def test_a_good_record_has_no_violations() -> None:
    assert compile_schema(SCHEMA)(GOOD) == ()
    assert compile_schema(SCHEMA)({**GOOD, "ratio": None, "count": 10.0}) == ()


@pytest.mark.parametrize(("field", "value", "code", "path"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_each_keyword_is_enforced(field: str, value: Any, code: str, path: str) -> None:
    record = {**GOOD, field: value}
    got = compile_schema(SCHEMA)(record)
    assert [(v.code, v.path) for v in got] == [(code, path)]
    v = got[0]
    assert v.severity == "error"
    j = v.to_json("en")
    assert set(j) >= {"path", "expected", "value", "message"}
    assert path in j["message"] and path in v.to_json("zh")["message"]


def test_missing_required_and_unknown_keys() -> None:
    record = {k: v for k, v in GOOD.items() if k != "born"}
    record["cod"] = "CN"
    got = compile_schema(SCHEMA)(record)
    by_code = {v.code: v for v in got}
    assert by_code["schema.required"].path == "born"
    unknown = by_code["schema.unknown-key"]
    assert unknown.severity == "warning"  # a record may carry fields the rulebook does not read
    assert "did you mean `code`?" in unknown.message.en and "是否想写 `code`？" in unknown.message.zh
    assert compile_schema(SCHEMA)(["not", "an", "object"])[0].code == "schema.type"


def test_the_fast_test_never_hides_a_violation() -> None:
    """Every way to break a field, on every bundled record kind: the fast generated test and the
    describing checker agree (the fast test only decides whether the checker runs)."""
    from engine.recordcheck import _Compiler, _Fast

    breakers: list[Any] = [None, "", "x", 0, -1, 1.5, True, [], ["x"], [1], {}, {"x": 1}, "2026-13-01"]
    for kind in record_kinds():
        schema = record_schema(kind)
        assert schema is not None
        fast = _Fast(schema).build()
        assert fast is not None, kind
        slow = _Compiler(schema).node(schema)
        base = _example_record(kind)
        for name in schema["properties"]:
            for value in breakers:
                record = {**base, name: value}
                out: list[Any] = []
                slow(record, (), out)
                assert fast(record) == (not out), (kind, name, value, out)


def _example_record(kind: str) -> dict[str, Any]:
    """A record of ``kind`` from a bundled rulebook's examples that breaks nothing."""
    reg = Registry.default()
    for e in reg.entries:
        book = reg.load_path(e.path)
        for ex in book.book.examples:
            d = book.decision(ex.decision)
            if d.spec.record_kind == kind and not d.check_schema(ex.record):
                return copy.deepcopy(ex.record)  # type: ignore[no-any-return]
    raise AssertionError(f"no clean example of {kind}")


# -- in decisions ------------------------------------------------------------------------------------

APPLICANT = {
    "id": "A-1",
    "name": "张三",
    "citizenship": "CN",
    "province": "黑龙江",
    "birth_date": "1990-01-01",
    "application_date": "2026-01-05",
    "occupations": ["作曲"],
    "accepts_charter": True,
    "self_applied": True,
    "introducers": [{"member_id": "M-1", "is_member": True}, {"member_id": "M-2", "is_member": True}],
    "recommender": {"kind": "group_member_unit", "name": "x"},
    "professional_title": "中级",
}


def _decide(level: str | None, record: dict[str, Any]) -> dict[str, Any]:
    import jsonschema

    from engine.schemas import load_schema

    d = Registry.default().load("hlj-musicians/membership").decision("admission").with_schema_enforcement(level)
    decision = d.evaluate(record)
    j = decision.to_json("en")
    assert json.loads(decision.to_json_text("en")) == j == json.loads(decision.to_json_bytes("en"))
    jsonschema.validate(j, load_schema("decision-output.schema.json"))
    jsonschema.validate(decision.to_json("zh"), load_schema("decision-output.schema.json"))
    return j


def test_warn_lists_what_an_absorbing_rule_would_hide() -> None:
    # an award level that is not one of the schema's: the qualification rule's `||` finds another
    # condition met (the title), so the rules alone pass the record
    record = {**APPLICANT, "awards": [{"name": "x", "level": "county", "grade": 1, "government": True, "year": 2020}]}
    assert _decide("none", record)["outcome"] == "pass"
    assert "schema" not in _decide("none", record)
    warned = _decide("warn", record)
    assert warned["outcome"] == "pass"
    assert [(s["path"], s["code"]) for s in warned["schema"]] == [("awards[0].level", "schema.enum")]
    assert warned["schema"][0]["value"] == "county"
    rejected = _decide("reject", record)
    assert rejected["outcome"] == "error"
    assert rejected["schema"] == warned["schema"]
    assert "record schema" in rejected["message"]
    assert rejected["record"] == "A-1" and rejected["rules"] == [] and rejected["outputs"] == {}
    assert _decide(None, record)["schema"] == warned["schema"]  # the rulebook's default is warn


def test_an_unknown_key_warns_but_does_not_reject() -> None:
    record = {**APPLICANT, "birthdate": "1990-01-01"}
    j = _decide("reject", record)
    assert j["outcome"] == "pass"
    assert j["schema"][0]["code"] == "schema.unknown-key" and "`birth_date`" in j["schema"][0]["message"]


def test_the_rulebook_sets_the_level_and_the_command_line_overrides_it(tmp_path: Path) -> None:
    text = (ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml").read_text(encoding="utf-8")
    text = text.replace("\ndecisions:\n", "\nschema_enforcement: reject\ndecisions:\n", 1)
    path = tmp_path / "membership.yaml"
    path.write_text(text, encoding="utf-8")
    book = Registry.default().load_path(path)
    assert book.decision("admission").schema_enforcement == "reject"
    record = json.dumps({**APPLICANT, "occupations": "作曲"})
    code, out, _ = run("check", str(path), "-", "--format", "json", stdin=record)
    assert json.loads(out)["outcome"] == "error" and code == 1
    code, out, _ = run("check", str(path), "-", "--format", "json", "--schema-enforcement", "none", stdin=record)
    assert "schema" not in json.loads(out)
    code, _, _ = run("check", str(path), "-", "--schema-enforcement", "bogus")
    assert code == 2


def test_the_rulebook_schema_refuses_an_unknown_level(tmp_path: Path) -> None:
    text = (ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml").read_text(encoding="utf-8")
    path = tmp_path / "membership.yaml"
    path.write_text(text.replace("\ndecisions:\n", "\nschema_enforcement: strict\ndecisions:\n", 1), encoding="utf-8")
    code, out, err = run("lint", str(path), "--lang", "en")
    assert code == 2 and "schema_enforcement" in out + err


# -- every record kind, every format ------------------------------------------------------------------


def _broken_feed(tmp_path: Path) -> list[tuple[str, str, Path, str]]:
    """Per decision of the bundled rulebooks: a JSON Lines file of one record whose first typed text
    field holds a list (wrong type), and the path of that field."""
    reg = Registry.default()
    out = []
    for e in reg.entries:
        book = reg.load_path(e.path)
        for name, d in book.decisions.items():
            schema = d.record_schema
            record = _example_record(d.spec.record_kind)
            field = next(k for k, p in schema["properties"].items() if p.get("type") == "string" and k != "id")
            record[field] = ["wrong", "type"]
            path = tmp_path / f"{book.id.replace('/', '-')}-{name}.jsonl"
            path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
            ref = f"{book.id}@{book.version}" if book.book.status == "draft" else book.id
            out.append((ref, name, path, field))
    return out


def test_every_record_kind_shows_the_violation_in_every_format(tmp_path: Path) -> None:
    feeds = _broken_feed(tmp_path)
    assert {f[1] for f in feeds} >= {
        "admission",
        "termination",
        "member-status",
        "school-union",
        "department-union",
        "congress",
        "cadre",
        "organization",
        "election",
        "removal",
    }
    for rulebook, decision, path, field in feeds:
        base = ["check", rulebook, str(path), "--decision", decision, "--lang", "en", "--as-of", "2026-03-01"]
        code, out, _ = run(*base, "--format", "json")
        j = json.loads(out)
        assert [s["path"] for s in j["schema"]] == [field], (decision, j["schema"])
        message = j["schema"][0]["message"]
        assert "should be text" in message
        for fmt in ("text", "junit", "sarif", "github", "html"):
            code, out, _ = run(*base, "--format", fmt)
            shown = out.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")
            assert field in shown and "should be text" in shown, (decision, fmt)
        if j["outcome"] == "pass":
            assert run(*base, "--format", "json", "--fail-on", "warning")[0] == 1
        code, out, _ = run(*base, "--format", "json", "--schema-enforcement", "reject")
        assert json.loads(out)["outcome"] == "error" and code == 1
        code, out, _ = run(*base, "--format", "junit", "--schema-enforcement", "reject")
        assert 'type="error"' in out


def test_workers_carry_the_violations_and_the_level(tmp_path: Path) -> None:
    lines = []
    for i in range(300):
        rec = {**APPLICANT, "id": f"A-{i}"}
        if i % 3 == 0:
            rec["occupations"] = "作曲"
        lines.append(json.dumps(rec, ensure_ascii=False))
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outs = []
    for jobs in ("1", "2"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "engine",
                "check",
                "hlj-musicians/membership",
                str(path),
                "--format",
                "json",
                "--jobs",
                jobs,
                "--schema-enforcement",
                "reject",
                "--lang",
                "en",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        outs.append(proc.stdout)
        assert "100 breaking their record schema" in proc.stderr, proc.stderr
    assert outs[0] == outs[1]
    assert sum(json.loads(line)["outcome"] == "error" for line in outs[0].splitlines()) == 100
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "check",
            "hlj-musicians/membership",
            str(path),
            "--format",
            "junit",
            "--jobs",
            "2",
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.count("<system-out>") == 100


def test_conditional_requirements_are_enforced_and_described() -> None:
    schema = {
        "type": "object",
        "properties": {
            "office": {"enum": ["a", "b"], "default": "a"},
            "x": {"type": "integer"},
            "y": {"type": "integer"},
        },
        "allOf": [
            {"if": {"properties": {"office": {"const": "a"}}}, "then": {"required": ["x"]}},
            {
                "if": {"required": ["office"], "properties": {"office": {"const": "b"}}},
                "then": {"required": ["y"]},
                "else": {"properties": {"y": {"maximum": 5}}},
            },
        ],
    }
    from engine.recordcheck import _Fast

    assert _Fast(schema).build() is not None  # the fast test handles allOf and if/then/else
    check = compile_schema(schema)
    assert [(v.code, v.path) for v in check({})] == [("schema.required", "x")]
    assert check({"x": 1, "z": 0})[0].code == "schema.unknown-key"  # an unlisted key does not flip the `if`
    assert [(v.code, v.path) for v in check({"office": "b"})] == [("schema.required", "y")]
    assert [(v.code, v.path) for v in check({"x": 1, "y": 9})] == [("schema.maximum", "y")]
    assert check({"office": "b", "y": 9}) == ()
