"""The compiler against the reference interpreter: the same results everywhere.

Three sources of expressions go through both ``compile_condition`` and
``interpret_condition``, which must agree: the same value (int, uint and
double distinct, lists and tuples alike), or both an error with the same
code:

* every plain cel-spec conformance case (core and extensions), vendored in
  ``tests/data/conformance/`` (see ``tests/test_conformance.py``);
* every bundled rulebook, built once compiled and once interpreted, on every
  record of its examples: outcome, each rule's status, error code and the
  values it reports, outputs and output errors;
* generated expressions: sentences of the grammar (``hypothesis.extra.lark``,
  bounded as in ``test_parse.py``) over a fixed set of names, and typed
  expressions built from the operators, functions and macros, each run with
  declared types (the compiler's fast paths) and with ``dyn`` (its helpers).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Lark

import engine.build
from engine.build import load_rulebook
from engine.conformance import evaluate
from engine.errors import ConditionSyntaxError, EngineError, EvalError
from engine.evaluate import Decision
from engine.lang import values as V
from engine.lang.interp import interpret_condition
from engine.lang.parser import RESERVED_WORDS, grammar_path
from engine.model import Example
from tests.lang.test_parse import _BoundedLarkStrategy
from tests.test_conformance import ALL_CASES, case_id

ROOT = Path(__file__).resolve().parents[2]


# -- comparing results ------------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal values of the same CEL kinds (a tuple and a list are both lists)."""
    ka, kb = V.type_name(a), V.type_name(b)
    if ka != kb:
        return False
    if ka == "double":
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if ka == "list":
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if ka == "map":
        return len(a) == len(b) and all(any(same(k, k2) and same(v, b[k2]) for k2 in b) for k, v in a.items())
    return bool(a == b)


def outcome(fn: Any) -> tuple[str, Any]:
    """("value", v) or ("error", code); an exception that is not a CEL or engine error is a bug."""
    try:
        return "value", fn()
    except EvalError as e:
        return "error", e.code
    except EngineError as e:
        return "error", e.diagnostics[0].code if e.diagnostics else type(e).__name__


def assert_agree(compiled: tuple[str, Any], interpreted: tuple[str, Any], what: str) -> None:
    assert compiled[0] == interpreted[0], f"{what}: compiled {compiled!r}, interpreted {interpreted!r}"
    if compiled[0] == "value":
        assert same(compiled[1], interpreted[1]), f"{what}: compiled {compiled[1]!r}, interpreted {interpreted[1]!r}"
    else:
        assert compiled[1] == interpreted[1], f"{what}: compiled error {compiled[1]}, interpreted {interpreted[1]}"


# -- the conformance cases ------------------------------------------------------------------------------------

PLAIN = [c for c in ALL_CASES if "unsupported" not in c["expected"]]


def _conformance_params() -> list[Any]:
    return [pytest.param(c, id=case_id(c)) for c in PLAIN]


def _run(case: dict[str, Any], engine: str) -> tuple[str, Any]:
    from engine.conformance import decode

    try:
        bindings = {k: decode(v) for k, v in case.get("bindings", {}).items()}
        return outcome(
            lambda: evaluate(
                case["expr"],
                bindings,
                container=case.get("container"),
                disable_check=bool(case.get("disable_check")),
                type_env=case.get("type_env"),
                engine=engine,
            )
        )
    except NotImplementedError as e:
        return "not-implemented", str(e)


@pytest.mark.parametrize("case", _conformance_params())
def test_conformance_case(case: dict[str, Any]) -> None:
    assert_agree(_run(case, "compiled"), _run(case, "interpreter"), case["expr"])


# -- the bundled rulebooks on their examples ---------------------------------------------------------------

# the bundled rulebooks and the made-up versioned one (a plugin's rulebook needs its plugin's functions)
RULEBOOKS = (
    sorted((ROOT / "rulebooks").glob("**/*.yaml"))
    + sorted((ROOT / "tests" / "data" / "versioned").glob("*.yaml"))
    # two-variable macros, optional values and cel.bind over a record schema
    + [ROOT / "tests" / "data" / "rulebooks" / "extensions.yaml"]
)


def _interpreted_build(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(engine.build, "compile_condition", interpret_condition)
        return load_rulebook(path)


def _summary(decision: Decision) -> dict[str, Any]:
    rules = {}
    for r in decision.rules:
        rules[r.id] = (str(r.status), r.error.code if r.error is not None else None, r.values)
    return {
        "outcome": str(decision.outcome),
        "rules": rules,
        "outputs": decision.outputs,
        "output_errors": {k: e.code for k, e in decision.output_errors.items()},
    }


def _agree_summaries(a: dict[str, Any], b: dict[str, Any], what: str) -> None:
    assert a["outcome"] == b["outcome"], what
    assert a["rules"].keys() == b["rules"].keys(), what
    for rid, (status, code, values) in a["rules"].items():
        status2, code2, values2 = b["rules"][rid]
        assert (status, code) == (status2, code2), f"{what}: rule {rid}"
        assert values.keys() == values2.keys(), f"{what}: rule {rid} values"
        for k in values:
            assert same(values[k], values2[k]), f"{what}: rule {rid} value {k}: {values[k]!r} / {values2[k]!r}"
    assert a["outputs"].keys() == b["outputs"].keys(), what
    for k in a["outputs"]:
        assert same(a["outputs"][k], b["outputs"][k]), f"{what}: output {k}"
    assert a["output_errors"] == b["output_errors"], what


@pytest.mark.parametrize("path", RULEBOOKS, ids=[str(p.relative_to(ROOT)) for p in RULEBOOKS])
def test_rulebook_examples(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = load_rulebook(path)
    interpreted = _interpreted_build(path, monkeypatch)
    examples: list[Example] = list(compiled.book.examples)
    assert examples, "every rulebook compared here has examples"
    for ex in examples:
        for as_of in (ex.as_of, "2030-06-30"):
            a = compiled.decision(ex.decision).evaluate(ex.record, as_of)
            b = interpreted.decision(ex.decision).evaluate(ex.record, as_of)
            _agree_summaries(_summary(a), _summary(b), f"{path.name} example {ex.name} as of {as_of}")


def test_interpreted_build_really_interprets(monkeypatch: pytest.MonkeyPatch) -> None:
    book = _interpreted_build(ROOT / "tests" / "data" / "rulebooks" / "mini.yaml", monkeypatch)
    rule = book.decision("admission").rules[0]
    assert rule.require.__qualname__.startswith("interpret_condition")


# -- generated expressions ------------------------------------------------------------------------------------

BINDINGS: dict[str, Any] = {
    "i": 7,
    "j": -3,
    "big": 2**62,
    "u": V.UInt(5),
    "f": 2.5,
    "g": -0.0,
    "s": "héllo",
    "e": "",
    "b": True,
    "n": None,
    "l": [1, 2.0, 3],
    "ls": ["a", "b"],
    "m": {"a": 1, "b": 2},
    "mi": {1: "x", 2: "y"},
    "by": b"\x00ab",
    "ts": V.Timestamp(1234567890 * 10**9),
    "du": V.Duration(90 * 10**9),
}
TYPE_ENV = {
    "i": "int",
    "j": "int",
    "big": "int",
    "u": "uint",
    "f": "double",
    "g": "double",
    "s": "string",
    "e": "string",
    "b": "bool",
    "n": "null_type",
    "l": "list(dyn)",
    "ls": "list(string)",
    "m": "map(string, int)",
    "mi": "map(int, string)",
    "by": "bytes",
    "ts": "google.protobuf.Timestamp",
    "du": "google.protobuf.Duration",
}
FUNCTIONS = [
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "dyn",
    "type",
    "timestamp",
    "duration",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "getHours",
    "getFullYear",
    "getDayOfWeek",
    "max",
    "min",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "has",
]


def _model(v: Any) -> Any:
    from engine.conformance import from_engine

    return from_engine(v)


MODEL_BINDINGS = {k: _model(v) for k, v in BINDINGS.items()}


def _both(text: str, typed: bool) -> None:
    env = TYPE_ENV if typed else None
    runs = []
    for engine_name in ("compiled", "interpreter"):
        try:
            runs.append(
                outcome(partial(evaluate, text, MODEL_BINDINGS, disable_check=True, type_env=env, engine=engine_name))
            )
        except ConditionSyntaxError:
            return
    assert_agree(runs[0], runs[1], text)


_GRAMMAR = Lark(grammar_path().read_text(encoding="utf-8"), parser="lalr", lexer="contextual")
_NAMES = st.sampled_from(sorted(BINDINGS) + FUNCTIONS)
_SENTENCES = _BoundedLarkStrategy(
    _GRAMMAR,
    budget=40,
    explicit={
        "COMMENT": st.just(" "),
        **{f"_{w.upper()}": st.just(f" {w} ") for w in ("in", "and", "or", "not", "true", "false", "null")},
        "RESERVED": st.sampled_from(sorted(RESERVED_WORDS)),
        "IDENT": _NAMES,
        "QIDENT": _NAMES.map(lambda n: f"`{n}`"),
        "INT": st.sampled_from(["0", "1", "2", "3", "10", "0x10", "9223372036854775807"]),
        "UINT": st.sampled_from(["0u", "1u", "7u", "18446744073709551615u"]),
        "DOUBLE": st.sampled_from(["0.0", "0.5", "1.0", "2.5", "1e300", ".5"]),
        "STRING": st.sampled_from(['"a"', "'b'", '""', '"héllo"', "b'ab'", '"1"', '"2009-02-13T23:31:30Z"', '"90s"']),
    },
).filter(lambda s: len(s) <= 300)

_SETTINGS = settings(
    max_examples=int(os.environ.get("RULEBOOK_DIFFERENTIAL_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@_SETTINGS
@given(_SENTENCES, st.booleans())
def test_grammar_sentences_agree(text: str, typed: bool) -> None:
    _both(text, typed)


# Typed expressions: level by level, each type's expressions are built from the level below,
# so that most are well typed and give values (x is the variable of the enclosing macro).

_ATOMS: dict[str, list[str]] = {
    "int": ["0", "1", "-1", "7", "i", "j", "big", "9223372036854775807", "-9223372036854775808", "x", "m['a']"],
    "uint": ["0u", "1u", "u", "18446744073709551615u"],
    "double": ["0.0", "-0.0", "1.5", "f", "g", "1e308", "0.0 / 0.0", "-1.0 / 0.0"],
    "string": ['"a"', '""', "s", "e", '"héllo"', "ls[0]", "mi[1]", "'2009-02-13T23:31:30Z'"],
    "bool": ["true", "false", "b", "n == null"],
    "list": ["[]", "[1, 2, 3]", "[i, j]", "l", "[x]"],
    "slist": ["ls", '["a", "b", "a"]', "[]"],
    "time": ["ts", "timestamp(0)", "timestamp('2000-02-29T12:00:00.5+01:00')"],
    "span": ["du", "duration('-1.5s')", "duration('1h30m')"],
}


def _level(below: dict[str, st.SearchStrategy[str]]) -> dict[str, st.SearchStrategy[str]]:
    N, U, D, S, B = below["int"], below["uint"], below["double"], below["string"], below["bool"]
    L, LS, TS, DU = below["list"], below["slist"], below["time"], below["span"]

    def f(template: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.tuples(*parts).map(lambda t: template.format(*t))

    def op(ops: str) -> st.SearchStrategy[str]:
        return st.sampled_from(ops.split())

    num = st.one_of(N, U, D)
    any_ = st.one_of(N, U, D, S, B, L, LS)
    out = {
        "int": st.one_of(
            f("({} {} {})", N, op("+ - * / %"), N),
            f("-{}", N),
            f("size({})", st.one_of(S, L, LS)),
            f("int({})", st.one_of(D, U, S)),
            f("({} ? {} : {})", B, N, N),
            f("{}[{}]", L, N),
            f("dyn({})", N),
            # the strings and math extensions
            f("{}.indexOf({})", S, S),
            f("{}.lastIndexOf({}, {})", S, S, N),
            f("math.{}({})", op("abs sign bitNot"), N),
            f("math.{}({}, {})", op("bitAnd bitOr bitXor bitShiftLeft bitShiftRight greatest least"), N, N),
            f("{}.{}()", TS, op("getHours getDayOfWeek getFullYear getDayOfYear")),
            f("{}.getHours({})", TS, st.sampled_from(["'+05:30'", "'Asia/Shanghai'", "'UTC'"])),
            f("int({})", TS),
            f("{}.getSeconds()", DU),
            f("cel.bind(y, {}, y - {})", N, N),
            f("optional.of({}).orValue(0)", N),
            f("{}[?{}].orValue(-1)", L, N),
            f("m.?{}.orValue(-2)", op("a z")),
            f("optional.ofNonZeroValue({}).optMap(y, y * 2).orValue(5)", N),
        ),
        "uint": st.one_of(f("({} {} {})", U, op("+ - * / %"), U), f("uint({})", st.one_of(N, D)), f("dyn({})", U)),
        "double": st.one_of(
            f("({} {} {})", D, op("+ - * /"), D),
            f("-{}", D),
            f("double({})", st.one_of(N, U, S)),
            f("({} ? {} : {})", B, D, D),
            f("dyn({})", D),
            f("math.{}({})", op("ceil floor round trunc abs sign"), D),
            f("math.{}([{}, {}, {}])", op("greatest least"), D, N, U),
        ),
        "string": st.one_of(
            f("({} + {})", S, S),
            f("string({})", st.one_of(N, U, D, B, TS, DU)),
            f("({} ? {} : {})", B, S, S),
            f("{}[{}]", LS, N),
            f("dyn({})", S),
            f("{}.charAt({})", S, N),
            f("{}.substring({}, {})", S, N, N),
            f("{}.replace({}, {})", S, S, S),
            f("{}.replace({}, {}, {})", S, S, S, N),
            f("{}.{}()", S, op("trim lowerAscii upperAscii reverse")),
            f("{}.join({})", LS, S),
            f("strings.quote({})", S),
            f(
                "{}.format([{}, {}])",
                st.sampled_from(["'%s %d'", "'%s %x'", "'%s %.2f%%'", "'%s %b'", "'%s %e'"]),
                any_,
                N,
            ),
            f("base64.encode(bytes({}))", S),
            f("string(base64.decode({}))", S),
        ),
        "bool": st.one_of(
            f("({} {} {})", num, op("== != < <= > >="), num),
            f("({} {} {})", S, op("== != < <= > >="), S),
            f("({} {} {})", st.one_of(TS, DU), op("== != < >="), st.one_of(TS, DU)),
            f("({} {} {})", B, op("&& || == !="), B),
            f("!{}", B),
            f("math.{}({})", op("isNaN isInf isFinite"), D),
            f("({} == {})", any_, any_),
            f("({} in {})", num, L),
            f("({} in {})", S, st.one_of(LS, st.just("m"))),
            f("{}.{}({})", S, op("contains startsWith endsWith"), S),
            f("{}.matches({})", S, st.sampled_from(["'a'", "'^h.*o$'", "'[0-9]+'", "''"])),
            f("{}.{}(x, {})", L, op("all exists exists_one"), B),
            f("{}.{}(x, {})", st.just("m"), op("all exists"), st.just("x == 'a'")),
            f("has({}.{})", st.just("m"), op("a z")),
            f("{}.{}(k, x, {})", L, op("all exists existsOne"), B),
            f("m.{}(k, v, {})", op("all exists exists_one"), st.just("k == 'a' && v > 0")),
            f("optional.ofNonZeroValue({}).hasValue()", any_),
            f("(optional.of({}) == optional.of({}))", any_, any_),
            f("size({}.transformMap(k, x, {})) >= 0", L, N),
            f("size(m.transformMapEntry(k, v, {}, {{v: k}})) >= 0", B),
            f("({} ? {} : {})", B, B, B),
        ),
        "list": st.one_of(
            f("[{}, {}]", N, N),
            f("({} + {})", L, L),
            f("{}.map(x, {})", L, N),
            f("{}.map(x, {}, {})", L, B, N),
            f("{}.filter(x, {})", L, B),
            f("{}.transformList(k, x, {})", L, N),
            f("{}.transformList(k, x, {}, {})", L, B, N),
            f("[?optional.ofNonZeroValue({}), {}]", N, N),
            f("[?{}[?{}], ?m.?a]", L, N),
            f("dyn({})", L),
            f("[{}, {}, {}]", N, D, U),
        ),
        "slist": st.one_of(
            f("[{}, {}]", S, S),
            f("{}.split({})", S, S),
            f("{}.split({}, {})", S, S, N),
            f("({} + {})", LS, LS),
            f("{}.filter(x, {})", LS, B),
            f("{}.map(x, x + {})", LS, S),
        ),
        "time": st.one_of(f("({} + {})", TS, DU), f("({} - {})", TS, DU), f("timestamp({})", st.one_of(S, N))),
        "span": st.one_of(f("({} + {})", DU, DU), f("({} - {})", DU, DU), f("({} - {})", TS, TS), f("duration({})", S)),
    }
    return {k: st.one_of(st.sampled_from(_ATOMS[k]), v) for k, v in out.items()}


def _typed() -> st.SearchStrategy[str]:
    levels = {k: st.sampled_from(v) for k, v in _ATOMS.items()}
    for _ in range(3):
        levels = _level(levels)
    return st.one_of(*levels.values())


@_SETTINGS
@given(_typed(), st.booleans())
def test_typed_expressions_agree(text: str, typed: bool) -> None:
    _both(text, typed)
    _both(f"[1, 2].all(x, ({text}) == ({text}))", typed)  # inside a macro: x is bound, scans are charged


@pytest.mark.parametrize(
    "text",
    [
        "dyn(9007199254740993) == 9007199254740992.0",
        "i < f && f > i && 7 == 7.0 && i == 7.0",
        "[1, 2].map(x, [x, x]).map(y, y + y)",
        "['a', 'b'].all(x, x in ls) && ls.exists(x, x == 'b')",
        "{'a': 1, 'b': 2}.filter(k, m[k] > 1)",
        "[1, 0].exists(x, 1 / x > 0) || [0].all(x, 1 / x > 0)",
        "ts + du > ts && ts - ts == duration('0s') && string(ts) < string(ts + du)",
        "mi[1] + s + string(u) + string(f)",
        "l.map(x, type(x)) == [int, double, int]",
        (
            "[1].all(a, [2].all(b, [3].all(c, [4].all(d, [5].all(e, [6].all(f, [7].all(g, [8].all(h, "
            "[9].all(k, [10].all(o, [11].all(p, a < p))))))))))) )"
        ),
    ],
)
def test_chosen_expressions_agree(text: str) -> None:
    for typed in (True, False):
        _both(text, typed)


def test_dates_agree() -> None:
    # the rulebook's date type through both engines (as_of is a date)
    from engine.lang.check import Scope, check_condition
    from engine.lang.compile import compile_condition
    from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
    from engine.lang.parser import parse_condition
    from engine.lang.types import DYN
    from engine.pluginmanager import get_calendar

    scope = Scope(DYN, FunctionTable(STANDARD_FUNCTIONS).with_calendars({"CN": get_calendar("CN")}))
    for text in [
        "years_after(as_of, 1) > as_of",
        'full_years(date("2000-02-29"), as_of)',
        "string(as_of)",
        "working_days_after(as_of, 3) > as_of",
        '[as_of, date("2020-01-01")].map(d, d.year())',
        'max([as_of, date("2020-01-01")])',
        'as_of in [date("2024-02-29")]',
    ]:
        c = check_condition(parse_condition(text), scope)
        assert c.ok
        a = outcome(lambda c=c: compile_condition(c)({}, dt.date(2024, 2, 29), {}))
        b = outcome(lambda c=c: interpret_condition(c)({}, dt.date(2024, 2, 29), {}))
        assert_agree(a, b, text)
