"""The strings and encoders extensions: Unicode positions (Chinese text included), errors, typing, cost.

The cel-spec conformance cases of ``string_ext`` and ``encoders_ext`` run in
``tests/test_conformance.py`` and, through both engines, in
``tests/lang/test_differential.py``; these tests add what the cases do not
pin: text in Chinese, the checker's messages at the call, the cost of large
texts, and the engine's own error codes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.conformance import evaluate
from engine.errors import CheckError, EvalError
from engine.lang.check import Scope, check_condition
from engine.lang.compile import compile_condition, python_source
from engine.lang.ext_strings import MAX_TEXT, format_value
from engine.lang.functions import STANDARD_FUNCTIONS, FunctionTable
from engine.lang.interp import interpret_condition
from engine.lang.parser import parse_condition
from engine.lang.types import schema_type

ENGINES = ["compiled", "interpreter"]
FUNCTIONS = FunctionTable(STANDARD_FUNCTIONS)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "province": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "nums": {"type": "array", "items": {"type": "integer"}},
    },
}


def cel(text: str, engine: str = "compiled", **bindings: Any) -> Any:
    return evaluate(text, bindings, engine=engine)


def run(text: str, rec: dict[str, Any], engine: str = "compiled") -> tuple[str, Any]:
    """Check against SCHEMA, build with ``engine``, evaluate on ``rec``: ("value", v) or ("error", code)."""
    checked = check_condition(parse_condition(text), Scope(schema_type(SCHEMA), FUNCTIONS))
    assert checked.ok, [d.message for d in checked.diagnostics]
    build = interpret_condition if engine == "interpreter" else compile_condition
    try:
        return "value", build(checked, {}, {})(rec, dt.date(2026, 3, 1), {})
    except EvalError as e:
        return "error", e.code


def check_errors(text: str) -> list[tuple[str, str, str]]:
    """(code, the text at the span, the English help) of each diagnostic of ``text`` in a rulebook scope."""
    checked = check_condition(parse_condition(text), Scope(schema_type(SCHEMA), FUNCTIONS))
    return [(d.code, text[d.span.start : d.span.end] if d.span else "", d.help or "") for d in checked.diagnostics]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'黑龙江省'.charAt(3)", "省"),
        ("'黑龙江省'.charAt(4)", ""),
        ("'哈尔滨市音乐家协会'.indexOf('音乐')", 4),
        ("'音乐家、歌唱家、音乐评论家'.indexOf('音乐', 1)", 8),
        ("'音乐家、歌唱家、音乐评论家'.lastIndexOf('家')", 12),
        ("'音乐家、歌唱家、音乐评论家'.lastIndexOf('家', 7)", 6),
        ("'黑龙江省'.substring(0, 3)", "黑龙江"),
        ("'黑龙江省哈尔滨市'.substring(4)", "哈尔滨市"),
        ("'黑龙江省'.replace('省', '')", "黑龙江"),
        ("'一、二、三'.replace('、', '，', 1)", "一，二、三"),
        ("'钢琴、小提琴、二胡'.split('、')", ["钢琴", "小提琴", "二胡"]),
        ("'钢琴、小提琴、二胡'.split('、', 2)", ["钢琴", "小提琴、二胡"]),
        ("'钢琴'.split('')", ["钢", "琴"]),
        ("'\u3000 张三\t\u3000'.trim()", "张三"),
        ("['钢琴', '二胡'].join('、')", "钢琴、二胡"),
        ("'黑龙江'.reverse()", "江龙黑"),
        ("'Zhang San 张三'.upperAscii()", "ZHANG SAN 张三"),
        ("'ZHANG San 张三'.lowerAscii()", "zhang san 张三"),
        ("strings.quote('张三\\n')", '"张三\\n"'),
        ("'%s 年满 %d 岁，会费 %.2f 元'.format(['张三', 18, 120.5])", "张三 年满 18 岁，会费 120.50 元"),
        ("'%s'.format([['钢琴', 1, 2.5, null, true]])", "[钢琴, 1, 2.5, null, true]"),
        ("'%s'.format([{'b': 2, 'a': '甲'}])", "{a: 甲, b: 2}"),
        ("'%x %X %o %b'.format([255, 255, 8, 5])", "ff FF 10 101"),
        ("'%e'.format([1234.5678])", "1.234568e+03"),
        ("base64.encode(bytes('黑龙江'))", "6buR6b6Z5rGf"),
        ("string(base64.decode('6buR6b6Z5rGf'))", "黑龙江"),
        ("base64.decode('6buR6b6Z5rG!')", None),
    ],
)
def test_chinese_text(text: str, expected: Any, engine: str) -> None:
    if expected is None:
        with pytest.raises(EvalError) as e:
            cel(text, engine)
        assert e.value.code == "eval.bad-argument"
        return
    assert cel(text, engine) == expected


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("'张三'.charAt(3)", "eval.index-out-of-range", "position 3 is out of range for a text of 2 characters"),
        ("'张三'.substring(-1)", "eval.index-out-of-range", "position -1"),
        ("'张三'.substring(2, 1)", "eval.bad-argument", "start at 2, after its end 1"),
        ("'张三'.indexOf('三', 5)", "eval.index-out-of-range", "position 5"),
        ("'%a'.format(dyn([1]))", "eval.bad-format", "`%a` is not a formatting clause"),
        ("'%.f'.format(dyn([1.0]))", "eval.bad-format", "`%.f` is not a formatting clause"),
        ("'%s %s'.format(dyn(['a']))", "eval.bad-format", "argument 1 (counted from 0) but the list has 1"),
        ("'%d'.format(dyn(['a']))", "eval.bad-format", "`%d` cannot format string"),
        ("'%f'.format(dyn([null]))", "eval.bad-format", "`%f` cannot format null_type"),
        ("base64.decode('不是')", "eval.bad-argument", "not valid base64"),
        ("dyn(['a', 1]).join()", "eval.no-overload", "join"),
        ("dyn(1).trim()", "eval.no-overload", "trim"),
    ],
)
def test_errors_say_what_went_wrong(text: str, code: str, words: str, engine: str) -> None:
    with pytest.raises(EvalError) as e:
        cel(text, engine)
    assert e.value.code == code
    assert words in e.value.message
    assert e.value.message_zh and e.value.message_zh != e.value.message  # and in Chinese


@pytest.mark.parametrize(
    ("text", "code", "at", "help"),
    [
        ("record.name.charAt('1') == ''", "check.type", "record.name.charAt('1')", "string.charAt(int)"),
        (
            "record.name.replace('a') == ''",
            "check.arity",
            "replace",
            "string.replace(string, string); string.replace(string, string, int)",
        ),
        ("record.name.substring(1, 2, 3) == ''", "check.arity", "substring", "string.substring(int, int)"),
        ("record.nums.join('、') == ''", "check.type", "record.nums.join('、')", "list(string).join(string)"),
        ("strings.quote(1) == ''", "check.type", "strings.quote(1)", "(string)"),
        ("base64.encode('x') == ''", "check.type", "base64.encode('x')", "(bytes)"),
        ("strings.qoute('x') == ''", "check.unknown-function", "strings.qoute", "strings.quote"),
        ("base64.dekode('x') == b''", "check.unknown-function", "base64.dekode", "base64.decode"),
        ("'%s'.format('x') == ''", "check.type", "'%s'.format('x')", "string.format(list)"),
        (
            "'%s 今年 %d 岁'.format([record.name]) == ''",
            "check.format",
            "'%s 今年 %d 岁'.format([record.name])",
            "%s, %d",
        ),
        ("'%d 岁'.format([record.name]) == ''", "check.format", "'%d 岁'.format([record.name])", "in order"),
        ("'%s'.format([record.name, 1]) == ''", "check.format", "'%s'.format([record.name, 1])", "next value"),
        ("'%z'.format([1]) == ''", "check.format", "'%z'.format([1])", "percent sign"),
    ],
)
def test_wrong_arguments_are_reported_at_the_call(text: str, code: str, at: str, help: str) -> None:
    errors = check_errors(text)
    assert errors, text
    got_code, got_at, got_help = errors[0]
    assert (got_code, got_at) == (code, at)
    assert help in got_help


def test_format_clauses_are_checked_only_when_text_and_list_are_written_out() -> None:
    checked = check_condition(
        parse_condition("'%s 今年 %d 岁'.format([record.name, 18])"), Scope(schema_type(SCHEMA), FUNCTIONS)
    )
    assert checked.ok
    assert [
        d.message
        for d in check_condition(
            parse_condition("'%d 岁'.format([record.name])"), Scope(schema_type(SCHEMA), FUNCTIONS)
        ).diagnostics
    ] == ["`%d` cannot format string"]
    for text in [
        "'%d'.format(record.tags) == ''",
        "record.name.format([1, 2]) == ''",
        "'%d'.format([dyn(record.name)]) == ''",
    ]:
        assert check_errors(text) == [], text  # the list or the text known only at run time


def test_a_variable_named_like_a_namespace_is_still_a_variable() -> None:
    # `strings` bound as a value: a method that no namespace has is a method on it
    assert evaluate("strings.size()", {"strings": ["a", "b"]}) == 2
    assert evaluate("strings.join('-')", {"strings": ["a", "b"]}) == "a-b"
    # a function of the namespace wins, as in CEL
    assert evaluate("strings.quote('a')", {"strings": ["a", "b"]}) == '"a"'


def test_namespaced_calls_are_compiled_not_interpreted() -> None:
    checked = check_condition(
        parse_condition("strings.quote(record.name) + base64.encode(bytes(record.province))"),
        Scope(schema_type(SCHEMA), FUNCTIONS),
    )
    assert checked.ok
    source = python_source(compile_condition(checked, {}, {}))
    assert "interp" not in source and "_f" in source
    assert compile_condition(checked, {}, {})({"name": "张三", "province": "黑龙江"}, dt.date(2026, 1, 1), {}) == (
        '"张三"6buR6b6Z5rGf'
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_scans_of_large_texts_inside_macros_are_charged(engine: str) -> None:
    big = "音" * 400_000
    rec = {"name": big, "province": "黑龙江省", "tags": [big, big], "nums": list(range(3000))}
    for text in [
        "record.nums.all(i, record.name.replace('乐', '') != '')",
        "record.nums.all(i, record.tags.join('、') != '')",
        "record.nums.all(i, '%s'.format(record.tags) != '')",
        "record.nums.all(i, record.name.indexOf('乐') == -1)",
        "record.nums.all(i, record.name.split('、').size() == 1)",
        "record.nums.all(i, record.name.trim() != '')",
        "record.nums.all(i, record.name.reverse() != '')",
    ]:
        assert run(text, rec, engine) == ("error", "eval.cost-limit"), text
    # once, outside a macro, the same is fine
    assert run("record.name.replace('乐', '') == record.name", rec, engine) == ("value", True)
    # and a constant text costs nothing extra inside a macro
    assert run("record.nums.all(i, '黑龙江省'.replace('省', '') == '黑龙江')", rec, engine) == ("value", True)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_text_cannot_grow_past_the_limit(engine: str) -> None:
    rec = {"name": "x" * 5000, "province": "", "tags": ["y" * 5000] * 5000, "nums": []}
    assert run("record.name.replace('x', record.name).size() > 0", rec, engine) == ("error", "eval.cost-limit")
    assert run("record.tags.join(record.name).size() > 0", rec, engine) == ("error", "eval.cost-limit")
    assert run("'%s%s'.format([record.tags, record.tags]).size() > 0", rec, engine) == ("error", "eval.cost-limit")
    # just below the limit is fine
    rec["name"] = "x" * 4000
    assert run("record.name.replace('x', 'yy').size()", rec, engine) == ("value", 8000)
    assert MAX_TEXT >= 16_000_000


def test_format_value_writes_every_kind() -> None:
    assert format_value(dt.date(2026, 3, 1)) == "2026-03-01"
    assert format_value(float("nan")) == "NaN"
    assert format_value(float("-inf")) == "-Infinity"
    assert format_value(b"\xe9\xbb\x91") == "黑"
    assert format_value({True: 1, 2: "二"}) == "{2: 二, true: 1}"


def test_check_error_for_a_bad_call_in_plain_cel() -> None:
    with pytest.raises(CheckError):
        evaluate("'a'.charAt(true)", {})


def test_a_plugins_dotted_function_is_called_as_written() -> None:
    from engine.lang import types as T
    from engine.lang.functions import FunctionSpec, Overload

    table = FunctionTable([*STANDARD_FUNCTIONS, FunctionSpec("acme.score", (Overload((T.STRING,), T.INT, len),))])
    scope = Scope(schema_type(SCHEMA), table, values={"acme": T.STRING})
    checked = check_condition(parse_condition("acme.score(record.name) + acme.size()"), scope)
    assert checked.ok, [d.message for d in checked.diagnostics]
    typo = check_condition(parse_condition("acme.scor(record.name)"), Scope(schema_type(SCHEMA), table))
    assert [(d.code, d.help) for d in typo.diagnostics] == [("check.unknown-function", "did you mean `acme.score`?")]
    fn = compile_condition(checked, {("value", "acme"): lambda rec, as_of, ctx: "abc"}, {})
    assert fn({"name": "黑龙江省"}, dt.date(2026, 1, 1), {}) == 4 + 3
