"""The whole-decision functions against the general evaluation loop: the same results everywhere.

A decision whose expressions compiled is evaluated by one generated function
(``compile_decision``: an optimistic variant for the common case and an exact
one), its ``RuleResult`` objects are built only when ``rules`` is read, and its
JSON comes from a generated trace (``compile_trace``).  The general loop
(``CompiledDecision._evaluate``: each rule's compiled expressions in turn, named
values cached in a dict) is the reference here.  For every bundled rulebook, the
test rulebooks, a rulebook made to exercise errors, and the benchmark's
admission records (``tests/data/feed/admission-300.jsonl``), each record is evaluated as given and spoiled in many
ways (fields missing, null, of the wrong type, bad dates, waivers, other dates):
outcome, statuses, errors, waivers, values, messages, outputs, ``to_json`` and
``to_json_text`` must be the same.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.build import build_rulebook, load_rulebook
from engine.evaluate import CompiledDecision, Decision, InputRef
from engine.lang.compile import python_source
from engine.model import Outcome, Status
from engine.source import Source

ROOT = Path(__file__).resolve().parents[1]
RULEBOOKS = (
    sorted((ROOT / "rulebooks").glob("**/*.yaml"))
    + sorted((ROOT / "tests" / "data" / "rulebooks").glob("*.yaml"))
    + sorted((ROOT / "tests" / "data" / "versioned").glob("*.yaml"))
)
# The first 300 records of the peer benchmark's admission workload (its generator with its
# default seed, 20260301), kept as data so that every clone runs the test.
BENCH_RECORDS = ROOT / "tests" / "data" / "feed" / "admission-300.jsonl"

ODD_VALUES: list[Any] = [
    None,
    "x",
    "",
    5,
    -1,
    1.5,
    True,
    False,
    [],
    {},
    ["x"],
    [{}],
    {"a": 1},
    "2020-02-30",
    "2020-02-29",
    "2021-02-29",
    "1999-12-31",
    "20200101",
    2**70,
]


def spoiled(record: dict[str, Any], rng: random.Random, keys: int = 1000) -> Iterator[dict[str, Any]]:
    """The record, then copies with one field (or one field of a list element) changed or removed
    (of at most ``keys`` fields, drawn at random)."""
    yield record
    for key in rng.sample(list(record), min(keys, len(record))):
        r = dict(record)
        del r[key]
        yield r
        for v in rng.sample(ODD_VALUES, 5):
            r = dict(record)
            r[key] = copy.deepcopy(v)
            yield r
        value = record[key]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in list(value[0]):
                r = copy.deepcopy(record)
                del r[key][0][inner]
                yield r
                r = copy.deepcopy(record)
                r[key][0][inner] = copy.deepcopy(rng.choice(ODD_VALUES))
                yield r
            r = copy.deepcopy(record)
            r[key].append(rng.choice(ODD_VALUES))
            yield r
        if isinstance(value, dict):
            for inner in list(value):
                r = copy.deepcopy(record)
                r[key][inner] = copy.deepcopy(rng.choice(ODD_VALUES))
                yield r


def with_waivers(record: dict[str, Any], rule_ids: list[str], rng: random.Random) -> Iterator[dict[str, Any]]:
    for rid in rng.sample(rule_ids, min(3, len(rule_ids))):
        good = {"rule": rid, "reason": "r", "approved_by": "a", "date": "2024-01-01"}
        yield {**record, "waivers": [good]}
        yield {**record, "waivers": [{"rule": rid, "reason": "r"}]}
        yield {**record, "waivers": [good, "junk", {"rule": rid}]}
    yield {**record, "waivers": "not a list"}


def results(d: Decision, langs: tuple[str, ...] = ("zh", "en")) -> dict[str, Any]:
    """Everything a decision says, read through the public API."""
    out: dict[str, Any] = {
        "outcome": d.outcome,
        "record": d.record_id,
        "as_of": d.as_of,
        "input": d.input,
        "rulebook": d.rulebook,
        "version": d.version,
        "decision": d.decision,
        "message": d.message,
        "outputs": repr(d.outputs),
        "output_errors": {k: (e.code, e.message, e.path) for k, e in d.output_errors.items()},
        "statuses": d.statuses,
        "status_tuple": d.status_tuple,
        "failing": d.failing,
    }
    for lang in langs:
        js = d.to_json(lang)
        out["json", lang] = js
        assert d.to_json_text(lang) == json.dumps(js, ensure_ascii=False)
    rules = []
    for r in d.rules:
        err = (r.error.code, r.error.message, r.error.path) if r.error is not None else None
        rules.append(
            (r.id, r.status, err, r.waiver, r.waiver_unused, repr(r.values), *(r.message(lang) for lang in langs))
        )
        assert d.status_of(r.id) == r.status
        assert d.rule(r.id) is r
    out["rules"] = rules
    assert d.status_of("no such rule") is None and d.rule("no such rule") is None
    return out


def check_decision(decision: CompiledDecision, record: Any, as_of: Any = None, input: InputRef | None = None) -> None:
    # schema enforcement (the rulebook's level, warn) adds the record's violations and nothing else;
    # its three JSON forms agree too
    checked = decision.evaluate(record, as_of, input)
    for lang in ("zh", "en"):
        j = checked.to_json(lang)
        assert json.loads(checked.to_json_text(lang)) == j == json.loads(checked.to_json_bytes(lang))
        assert [v["path"] for v in j.get("schema", [])] == [v.path for v in decision.check_schema(record)]
    decision = decision.with_schema_enforcement("none")
    fast = decision.evaluate(record, as_of, input)
    general = decision._evaluate(record, as_of, input)
    assert {k: v for k, v in checked.to_json("en").items() if k != "schema"} == fast.to_json("en")
    # first the JSON (before `rules` is read: the generated trace), then everything else
    for lang in ("zh", "en"):
        assert fast.to_json(lang) == general.to_json(lang)
        text = json.dumps(general.to_json(lang), ensure_ascii=False)
        assert fast.to_json_text(lang) == text
        # the JSON lines a feed writes (rule objects remembered from earlier records: see memo_key)
        assert decision.evaluate(record, as_of, input).to_json_bytes(lang) == text.encode("utf-8")
    again = decision.evaluate(record, as_of, input)
    assert results(again) == results(general)
    assert results(fast) == results(general)


def decisions(path: Path) -> list[CompiledDecision]:
    return list(load_rulebook(path).decisions.values())


WITH_EXAMPLES = [p for p in RULEBOOKS if load_rulebook(p).book.examples]


@pytest.mark.parametrize("path", WITH_EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in WITH_EXAMPLES])
def test_rulebook_examples_spoiled(path: Path) -> None:
    book = load_rulebook(path)
    rng = random.Random(path.name)
    examples = book.book.examples
    assert examples
    for ex in examples:
        decision = book.decision(ex.decision)
        decision.compile()
        assert decision._decide is not None and decision._decide_fast is not None, "compiled as one function"
        for as_of in (None, "2030-06-30"):
            check_decision(decision, ex.record, as_of, InputRef("f.jsonl", 7))
        # spoil a few fields of each example (all of them over the examples)
        for record in spoiled(ex.record, rng, keys=max(2, 40 // len(examples))):
            check_decision(decision, record, ex.as_of, InputRef("f.jsonl", 7))
        for record in with_waivers(ex.record, list(decision.rule_ids), rng):
            check_decision(decision, record, ex.as_of)


def test_odd_records_and_dates() -> None:
    decision = load_rulebook(ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml").decision("admission")
    for record in (None, 5, "x", [], [{}], {}, {"application_date": "bad"}, {"application_date": 5}):
        for as_of in (None, dt.date(2024, 1, 1), "2024-01-01", "bad", 5, dt.datetime(2024, 1, 1)):
            check_decision(decision, record, as_of)
    ex = load_rulebook(ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml").book.examples[0]
    for as_of in (dt.date(2024, 1, 1), "2024-02-29", "bad", dt.datetime(2024, 1, 1)):
        check_decision(decision, ex.record, as_of, InputRef("x.xlsx", 3, "Sheet 1"))
    from collections import OrderedDict

    check_decision(decision, OrderedDict(ex.record))  # a mapping that is not a plain dict


SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "day": {"type": "string", "format": "date"},
        "n": {"type": "integer"},
        "x": {"type": "number"},
        "flag": {"type": "boolean"},
        "opt": {"type": ["string", "null"], "default": None},
        "tags": {"type": "array", "items": {"type": "string"}, "default": []},
        "days": {"type": "array", "items": {"type": "string", "format": "date"}, "default": []},
        "items": {
            "type": "array",
            "default": [],
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string"},
                    "n": {"type": "integer"},
                    "on": {"type": "string", "format": "date"},
                    "any": {},
                },
            },
        },
        "addr": {"type": ["object", "null"], "default": None, "properties": {"city": {"type": "string"}}},
        "any": {},
        "waivers": {"type": "array"},
    },
}

RULEBOOK = """\
rulebook: 1
id: t/fast
version: "1"
status: in_force
effective_from: "2020-01-01"
title: {zh: 测试, en: test}
source: {title: T}
parameters:
  lim: {value: 3}
  kinds: {value: [a, b]}
  nums: {value: [1, 2.5]}
decisions:
  d:
    record: fast.json
    as_of: record.day
    values:
      total: record.items.map(i, i.n).filter(k, k > 0).size()
      big: total > lim
      firsts: record.items.filter(i, i.kind in kinds)
      late: record.days.filter(x, x > as_of)
      ratio: record.n / (record.n - 3)
      flagged: record.flag || record.n > 10
      when_city: record.addr != null && record.addr.city == "x"
      anyv: record.any
    rules:
      - id: r_all
        article: 1
        cite: c1
        require: record.items.all(i, i.n >= 0 && i.kind != "z")
        message: {zh: "全部 {total} {firsts}", en: "all {total} {{x}} {lim} {as_of} {day}"}
      - id: r_when
        article: 1
        item: 2
        cite: c2
        when: big
        require: firsts.size() > 0 || when_city
        waivable: true
        message: {zh: "{big} {when_city} { total }", en: "{big} {lim}"}
      - id: r_ratio
        article: 2
        cite: c3
        severity: warning
        waivable: true
        values:
          r: ratio * 2
          r2: r + 1
        require: r2 > 0
        message: {zh: "{r} {r2}", en: "{r}"}
      - id: r_any
        article: 2
        cite: c4
        severity: info
        require: anyv == "yes" || anyv in nums || anyv == 7
        message: {zh: "{anyv}", en: "{anyv} {any}"}
      - id: r_when_dyn
        article: 3
        cite: c5
        when: anyv
        require: 'record.opt == null ? true : record.opt.startsWith("o")'
        message: {zh: "{opt}", en: "{opt}"}
      - id: r_dates
        article: 3
        cite: c6
        values:
          n_late: size(late)
        require: n_late == 0 && record.days.exists_one(x, x == as_of) || record.days.size() == 0
        message: {zh: "{late} {n_late}", en: "{days}"}
      - id: r_flag
        article: 4
        cite: c7
        require: flagged && !record.flag
        message: {zh: "{flagged}", en: "{flag}"}
      - id: r_nested
        article: 4
        cite: c8
        require: record.items.exists(i, i.on <= as_of && years_after(i.on, 1) > as_of) || record.tags.all(t, t != "q")
        message: {zh: "{items}", en: "{tags}"}
      - id: r_costly
        article: 5
        cite: c9
        require: record.tags.all(a, record.tags.all(b, a + b != "zz"))
        message: {zh: "贵", en: "costly"}
    outputs:
      count:
        value: total
      late_days:
        when: size(late) > 0
        value: late
      bad:
        when: record.n > 0
        value: 10 / (record.n - 1)
"""

GOOD = {
    "id": "F-1",
    "day": "2024-03-01",
    "n": 5,
    "x": 1.5,
    "flag": False,
    "opt": "ok",
    "tags": ["a", "b"],
    "days": ["2024-03-01", "2023-01-01"],
    "any": True,
    "addr": {"city": "x"},
    "items": [
        {"kind": "a", "n": 2, "on": "2023-06-01", "any": 1},
        {"kind": "b", "n": 3, "on": "2024-02-01"},
        {"kind": "c", "n": 0, "on": "2020-01-01"},
    ],
}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> CompiledDecision:
    base = tmp_path_factory.mktemp("fast")
    (base / "fast.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    return build_rulebook(Source("fast.yaml", RULEBOOK), base_dir=base).decision("d")


def test_made_rulebook(made: CompiledDecision) -> None:
    made.compile()
    assert made._decide is not None and made._decide_fast is not None
    rng = random.Random(3)
    fast = 0
    for record in spoiled(GOOD, random.Random(1)):
        try:
            made._decide_fast(record, None)
            fast += 1
        except Exception:  # noqa: BLE001, S112 - the optimistic function may give up with any error: not counted
            continue
    assert fast > 20, "the optimistic function decides the common case"
    assert made._trace_function("bytes") is not None and made._trace_function("dict") is not None
    variants = [
        GOOD,
        {**GOOD, "n": 3},
        {**GOOD, "n": 1},
        {**GOOD, "n": 20, "flag": True},
        {**GOOD, "any": "yes"},
        {**GOOD, "any": 2.5},
        {**GOOD, "any": 2},
        {**GOOD, "opt": None},
        {**GOOD, "addr": None},
        {**GOOD, "tags": ["q"] * 1200},
        {**GOOD, "days": []},
        {**GOOD, "items": []},
        {**GOOD, "day": "2024-02-01"},
    ]
    for i, base in enumerate(variants):
        for record in spoiled(base, rng, keys=20 if i == 0 else 3):
            check_decision(made, record)
        for record in with_waivers(base, list(made.rule_ids), rng):
            check_decision(made, record, "2024-03-01")


def test_bench_records() -> None:
    decision = load_rulebook(ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml").decision("admission")
    decision.compile()
    with BENCH_RECORDS.open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    assert len(records) == 300
    for record in records:  # as generated: the optimistic function decides every one of them
        day = dt.date.fromisoformat(record["application_date"])
        assert decision._decide_fast(record, None)[:6] == (
            *decision._decide(record, day)[:2],
            decision._decide_fast(record, None)[2],
            *decision._decide(record, day)[3:],
        )
        check_decision(decision, record, None, InputRef("feed.jsonl", 1))
    rng = random.Random(5)
    for record in rng.sample(records, 12):
        for bad in spoiled(record, rng, keys=4):
            check_decision(decision, bad)


def test_lazy_rules_and_statuses() -> None:
    book = load_rulebook(ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml")
    decision = book.decision("admission")
    ex = book.book.examples[0]
    assert decision._lazy is not None  # compiled when first used
    d = decision.evaluate(ex.record, ex.as_of)
    assert decision._lazy is None
    assert d._rules is None  # nothing built by deciding
    assert d.status_tuple == tuple(d.statuses.values())
    assert list(d.statuses) == list(decision.rule_ids)
    assert d._rules is None
    rules = d.rules
    assert d.rules is rules and [r.id for r in rules] == list(decision.rule_ids)
    assert d.outcome in (Outcome.PASS, Outcome.FAIL, Outcome.INDETERMINATE)
    assert all(isinstance(s, Status) for s in d.status_tuple)
    assert "def decide_fast(rec, as_of):" in python_source(decision._decide_fast)


def test_plain_decision_keeps_its_constructor() -> None:
    d = Decision("b", "1", "d", None, None, None, Outcome.ERROR, [], message="unreadable")
    assert d.outputs == {} and d.output_errors == {} and d.statuses == {} and d.failing == ()
    assert d.to_json()["message"] == "unreadable"
    assert d.to_json_text() == json.dumps(d.to_json(), ensure_ascii=False)
    assert d == Decision("b", "1", "d", None, None, None, Outcome.ERROR, [], message="unreadable")


def test_interpreted_build_takes_the_general_loop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import engine.build
    from engine.lang.interp import interpret_condition

    monkeypatch.setattr(engine.build, "compile_condition", interpret_condition)
    book = load_rulebook(ROOT / "rulebooks" / "hlj-musicians" / "membership.yaml")
    for d in book.decisions.values():
        d.compile()
        assert d._decide is None


def test_a_deep_decision_still_evaluates(tmp_path: Path) -> None:
    # Python refuses more than 20 nested blocks: this decision is not one function
    deep = "".join(f"record.tags.exists(a{i}, " for i in range(12)) + 'a11 == "b" || record.flag' + ")" * 12
    text = textwrap.dedent(f"""\
        rulebook: 1
        id: t/deep
        version: "1"
        status: in_force
        effective_from: "2020-01-01"
        title: {{zh: 测试, en: test}}
        source: {{title: T}}
        decisions:
          d:
            record: fast.json
            as_of: record.day
            rules:
              - id: deep
                article: 1
                cite: c
                require: '{deep}'
                message: {{zh: 深, en: deep}}
        """)
    (tmp_path / "fast.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    decision = build_rulebook(Source("deep.yaml", text), base_dir=tmp_path).decision("d")
    decision.compile()
    assert decision._decide is None
    for record in ({**GOOD, "n": 400}, {**GOOD, "n": 4}, {**GOOD, "n": "x"}, {"day": "2024-01-01"}):
        check_decision(decision, record)


def test_remembered_rule_objects_are_those_of_equal_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSON trace remembers each rule's object by its status and values: values that are
    equal as Python keys but written differently (1, true, 1.0; 0.0 and -0.0; a list of them)
    must never share one, and a memo that fills up starts again."""
    import engine.lang.compile_decision as compile_module

    monkeypatch.setattr(compile_module, "MEMO_SIZE", 3)
    (tmp_path / "fast.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    # every value of `any` passes here: only the values tell the records apart
    shows_any = RULEBOOK.split("decisions:")[0] + textwrap.dedent("""\
        decisions:
          d:
            record: fast.json
            as_of: record.day
            values:
              anyv: record.any
            rules:
              - id: r_shows
                article: 9
                cite: c0
                require: anyv != "never" || anyv == null
                message: {zh: "{anyv}", en: "{anyv}"}
              - id: r_n
                article: 9
                cite: c1
                require: record.n != 99
                message: {zh: "{n}", en: "{n}"}
        """)
    # the record schema is not checked: ``n`` of another type is on purpose (test_schema_enforcement.py
    # checks the JSON of decisions that carry violations)
    decision = (
        build_rulebook(Source("fast.yaml", shows_any), base_dir=tmp_path).decision("d").with_schema_enforcement("none")
    )
    assert decision.rule_ids[0] == "r_shows"
    alike = [
        1,
        True,
        1.0,
        0,
        False,
        0.0,
        -0.0,
        "1",
        [1],
        [True],
        [1.0],
        ["1"],
        [],
        ["a", "b"],
        ["a", "b"],
        "2024-01-01",
        ["2024-01-01"],
        None,
        2**70,
        {"a": 1},
        1,
        True,
        1.0,
    ]
    for lang_first in ("zh", "en"):
        for value in alike:
            for record in (
                {**GOOD, "any": value},
                {**GOOD, "any": value, "items": [], "tags": ["q"]},
                {**GOOD, "any": value, "n": value},
            ):
                general = decision._evaluate(record, None, InputRef("f.jsonl", 7))
                line = decision.evaluate(record, None, InputRef("f.jsonl", 7)).to_json_bytes(lang_first)
                assert line == json.dumps(general.to_json(lang_first), ensure_ascii=False).encode("utf-8")
    trace = decision._trace_function("bytes")
    memos = {k: v for k, v in trace.__globals__.items() if k.startswith("_memo")}
    assert memos and all(len(m) <= 3 for m in memos.values())
    assert any(m for m in memos.values()), "rule objects are remembered"
