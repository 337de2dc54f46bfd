"""Every message in the reader's language, with the same content in both.

GIVEN the engine's messages: the catalogue (``engine/messages.py``), the paired
texts modules keep in their own tables, and every place the source makes a
diagnostic, a runtime error or a paired text,
THEN each is written in both languages, the two name the same values, the
Chinese has no English sentence and the English no Chinese (outside quoted
data: text in backticks or quotes, codes, file names, numbers).

The source is read as syntax trees, so that a new diagnostic code or error
kind written with one language only, or with a plain string, fails here.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine
from engine import messages
from engine.messages import CATALOGUE, Text, fields, msg

ENGINE = Path(engine.__file__).parent
SOURCES = sorted(p for p in ENGINE.rglob("*.py"))

# ---------------------------------------------------------------------------
# What counts as English in Chinese text, and Chinese in English text
# ---------------------------------------------------------------------------

_QUOTED = re.compile(r"`[^`]*`|“[^”]*”|‘[^’]*’|「[^」]*」|'[^'\n]*'|\"[^\"\n]*\"")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# tokens that are not words of a sentence: options, $VARIABLES, paths, dotted codes, file
# extensions, ALL-CAPS names (JSON, YAML, UTF-8, RFC), snake_case and call-like names
_NOT_WORDS = re.compile(
    r"--?[\w-]+|\$\w+|\S*[/\\]\S*|\b\w+(?:\.\w+)+\b|\.\w+|\b[A-Z][A-Z0-9_-]+\b|\b\w*_\w*\b|"
    r"\b\w+\(\)?|%\(\w+\)[sr]|%[sr]|\{\w*\}"
)
_TWO_WORDS = re.compile(r"\b[A-Za-z]{2,}[ ]+[A-Za-z]{2,}\b")


def unquoted(text: str) -> str:
    return _QUOTED.sub(" ", text)


def english_in(zh: str) -> list[str]:
    """The English phrases (two words or more) in a Chinese text, outside quoted data."""
    return _TWO_WORDS.findall(_NOT_WORDS.sub(" ", unquoted(zh)))


def chinese_in(en: str) -> list[str]:
    """The Chinese characters in an English text, outside quoted data."""
    return _CJK.findall(unquoted(en))


def test_the_checks_themselves() -> None:
    assert english_in("规则 `adult` 未通过") == []
    assert english_in("无法读取 `x.json`：permission denied") == ["permission denied"]
    assert english_in("参见 `rulebook check --help`，或设置 RULEBOOK_PATH、docs/plugins.md、.xlsx、JSON") == []
    assert chinese_in("rule `年龄` failed (`是`/`否`)") == []
    assert chinese_in("the rule 未通过") == ["未", "通", "过"]


class _Sample:
    """A stand-in value for a template field: formats with any spec, reads as quoted data."""

    def __format__(self, spec: str) -> str:
        return format(42, spec) if spec else "42"


def _sample_values(*templates: str) -> dict[str, Any]:
    return {name: _Sample() for t in templates for name in fields(t)}


# ---------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------

# A field that only one language names, because a value both name repeats it.
NAMED_IN_ONE_LANGUAGE = {
    "eval.wrong-type:rule": {"path"},  # the reason (in both) already names the field; Chinese leads with it
}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_catalogue_entry_is_written_in_both_languages(key: str) -> None:
    en, zh = CATALOGUE[key]
    assert en.strip() and zh.strip(), key
    assert fields(en) ^ fields(zh) <= NAMED_IN_ONE_LANGUAGE.get(key, set()), (key, fields(en), fields(zh))
    text = msg(key, **_sample_values(en, zh))
    assert english_in(text.zh) == [], (key, text.zh)
    assert chinese_in(text.en) == [], (key, text.en)
    assert not text.en.endswith(".") or text.en.endswith("..."), (key, "no final period")


def test_a_message_is_rendered_in_the_reader_language_with_nested_texts() -> None:
    reason = msg("eval.missing-field", path="a.b")
    text = msg("eval.cannot-decide", reason=reason)
    assert text.get("zh") == "无法判断：记录缺少字段 `a.b`"
    assert text.get("en") == "cannot decide: the record has no `a.b`"
    with pytest.raises(KeyError):
        msg("no.such-key")


def test_a_text_needs_both_languages() -> None:
    with pytest.raises(TypeError):
        Text("only English")  # type: ignore[call-arg]


# ---------------------------------------------------------------------------
# The source: every diagnostic, error and paired text
# ---------------------------------------------------------------------------


def _calls() -> Iterator[tuple[Path, ast.Call]]:
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield path, node


def _name(call: ast.Call) -> str:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        base = f.value.id if isinstance(f.value, ast.Name) else ""
        return f"{base}.{f.attr}"
    return ""


def _is_plain_string(node: ast.AST | None) -> bool:
    """A string literal, an f-string, or a sum or %-format of them: text in one language."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _is_plain_string(node.left) or _is_plain_string(node.right)
    if isinstance(node, ast.IfExp):
        return _is_plain_string(node.body) or _is_plain_string(node.orelse)
    # str(...): an exception's own (English) words
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str"


def _arg(call: ast.Call, index: int, keyword: str) -> ast.AST | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ENGINE.parent)}:{node.lineno}"  # type: ignore[attr-defined]


# (function name, index of the code argument, [(index, keyword) of each text argument])
_TEXT_ARGUMENTS = {
    "Diagnostic": (0, [(1, "message"), (4, "help"), (6, "note")]),
    "EvalError": (0, [(1, "message")]),
    "self.at": (0, [(2, "message"), (3, "help")]),
    "self.error": (0, [(2, "message"), (3, "help")]),
    "checker.error": (0, [(2, "message"), (3, "help")]),
    "CellError": (None, [(1, "text")]),
    "_bad": (None, [(2, "message")]),
    "UsageError": (None, [(0, "diagnostics")]),
    "RulebookError": (None, [(0, "diagnostics")]),
    "PluginError": (None, [(0, "diagnostics")]),
    "EngineError": (None, [(0, "diagnostics")]),
}


def test_diagnostics_and_errors_are_never_made_of_one_language() -> None:
    bad = []
    for path, call in _calls():
        name = _name(call)
        if name not in _TEXT_ARGUMENTS:
            continue
        _code, texts = _TEXT_ARGUMENTS[name]
        for index, keyword in texts:
            if _is_plain_string(_arg(call, index, keyword)):
                bad.append(f"{_where(path, call)}: {name} given plain `{keyword}` text")
        if name == "EvalError" and len(call.args) > 3:
            bad.append(f"{_where(path, call)}: EvalError given a separate Chinese text: give one Text")
        for k in call.keywords:
            if k.arg in ("message_zh", "help_zh"):
                bad.append(f"{_where(path, call)}: {name}({k.arg}=...): write a catalogue entry instead")
    assert bad == [], "\n".join(bad)


def test_records_that_cannot_be_read_say_why_in_both_languages() -> None:
    bad = [
        _where(path, call)
        for path, call in _calls()
        if _name(call) == "BadRecord" and any(_is_plain_string(a) for a in call.args)
    ]
    assert bad == [], "use BadRecord.of(msg(...)):\n" + "\n".join(bad)


def _literal_text(node: ast.AST) -> str | None:
    """The text a string expression makes, with each value it shows written as ``42``
    (None when it is not made of literals)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "42" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_text(node.left), _literal_text(node.right)
        return None if left is None and right is None else (left or "42") + (right or "42")
    return None


def _same_value(source: str) -> str:
    """An expression with its choice of language taken out: ``what_zh``, ``x.zh``, ``f(x, 'zh')``,
    ``hint[1]`` (of an (English, Chinese) pair) and a bare ``zh`` read as their English twins."""
    source = re.sub(r"(_zh|_en)\b|\.(zh|en)\b", "", source)
    source = re.sub(r"'(zh|en)'|\b(zh|en)\b", "LANG", source)
    return re.sub(r"\[[01]\]", "[LANG]", source)


def _interpolated(node: ast.AST) -> set[str]:
    """The values an f-string shows (``what_zh``/``.zh`` counted as ``what``/``.en``)."""
    if not isinstance(node, ast.JoinedStr):
        return set()
    out = set()
    for v in node.values:
        if isinstance(v, ast.FormattedValue):
            out.add(_same_value(ast.unparse(v.value)))
    return out


@pytest.mark.parametrize("function", ["Text", "Both", "Mismatch"])
def test_paired_texts_in_the_source_are_each_in_their_language(function: str) -> None:
    bad = []
    for path, call in _calls():
        if _name(call) != function or len(call.args) != 2:
            continue
        en, zh = call.args
        where = _where(path, call)
        en_text, zh_text = _literal_text(en), _literal_text(zh)
        if en_text is not None and chinese_in(en_text):
            bad.append(f"{where}: Chinese in the English text {en_text!r}")
        if zh_text is not None and english_in(zh_text):
            bad.append(f"{where}: English in the Chinese text {zh_text!r}")
        if isinstance(en, ast.JoinedStr) and isinstance(zh, ast.JoinedStr) and _interpolated(en) != _interpolated(zh):
            bad.append(f"{where}: the two texts show different values: {_interpolated(en)} and {_interpolated(zh)}")
    assert bad == [], "\n".join(bad)


def _catalogue_key_uses() -> Iterator[tuple[str, str, ast.Call]]:
    """(place, key or key prefix, call) of every ``msg("key")`` and ``Diagnostic.of("code")``."""
    for path, call in _calls():
        if _name(call) not in ("msg", "Diagnostic.of", "messages.msg") or not call.args:
            continue
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield _where(path, call), first.value, call
        elif isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
            yield _where(path, call), str(first.values[0].value) + "*", call


def test_every_catalogue_key_used_exists_with_the_values_it_needs() -> None:
    bad = []
    for where, key, call in _catalogue_key_uses():
        if key.endswith("*"):
            if not any(k.startswith(key[:-1]) for k in CATALOGUE):
                bad.append(f"{where}: no catalogue key starts with {key[:-1]!r}")
            continue
        if key not in CATALOGUE:
            bad.append(f"{where}: no catalogue entry {key!r}")
            continue
        if any(k.arg is None for k in call.keywords):  # **values: not known here
            continue
        given = {k.arg for k in call.keywords} - {"source", "span", "severity", "note"}
        wanted = {f for t in CATALOGUE[key] for f in fields(t)}
        if _name(call) == "Diagnostic.of" and f"{key}/help" in CATALOGUE:
            wanted |= {f for t in CATALOGUE[f"{key}/help"] for f in fields(t)}
        if wanted - given:
            bad.append(f"{where}: {key!r} needs {sorted(wanted - given)}")
    assert bad == [], "\n".join(bad)


def test_every_catalogue_entry_is_used() -> None:
    used = {key for _where, key, _call in _catalogue_key_uses()}
    text = "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)
    unused = []
    for key in CATALOGUE:
        base = key.split("/")[0]
        if key in used or base in used or any(u.endswith("*") and key.startswith(u[:-1]) for u in used):
            continue
        if f'"{key}"' in text or f'"{base}"' in text:  # a key chosen by a conditional expression
            continue
        unused.append(key)
    assert unused == []


# Codes whose texts come from a module's own table of pairs (checked below), not the catalogue.
TABLE_FAMILIES = ("yaml.", "syntax.", "schema.")
_CODE = re.compile(r"^(yaml|schema|syntax|check|rulebook|usage|plugin|eval|lint|record|calendar|input)\.[a-z0-9-]+$")


def emitted_codes() -> dict[str, list[tuple[str, ast.AST | None]]]:
    """Every diagnostic code and error kind the engine's source can emit: its places, each
    with the text given there (None where the code comes with catalogued texts by key)."""
    out: dict[str, list[tuple[str, ast.AST | None]]] = {}
    for path, call in _calls():
        name = _name(call)
        index, texts = _TEXT_ARGUMENTS.get(name, (None, []))
        if name in ("Diagnostic.of", "report.add", "report.fail", "self.add", "self.fail", "_diagnostic"):
            index, texts = 0, []
        if index is None or len(call.args) <= index:
            continue
        first = call.args[index]
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and _CODE.match(first.value):
            text = _arg(call, texts[0][0], texts[0][1]) if texts else None
            out.setdefault(first.value, []).append((_where(path, call), text))
    return out


def _paired(node: ast.AST | None) -> bool:
    """A text written in both languages right there: ``msg("...")`` or ``Text(en, zh)``."""
    return isinstance(node, ast.Call) and _name(node) in ("msg", "Text", "Both") and bool(node.args)


def test_every_code_and_error_kind_has_texts_in_both_languages() -> None:
    codes = emitted_codes()
    assert len(codes) > 60 and {
        "eval.missing-field",
        "eval.overflow",
        "eval.no-overload",
        "eval.division-by-zero",
        "eval.calendar-range",
        "eval.unknown-calendar",
        "usage.arguments",
    } <= set(codes)
    missing = []
    for code, places in sorted(codes.items()):
        if code.startswith(TABLE_FAMILIES):  # texts from the modules' tables, checked below
            continue
        if any(k == code or k.startswith((code + ":", code + "/")) for k in CATALOGUE):
            continue
        missing += [f"{where}: {code}" for where, text in places if not _paired(text)]
    assert missing == [], "codes without texts in both languages:\n" + "\n".join(missing)


def _table_pairs() -> Iterator[tuple[str, str, str]]:
    """(name, English, Chinese) of each paired text in the modules' own tables."""
    from engine import yamlload
    from engine.lang import parser

    for name, table in (("parser._MESSAGES", parser._MESSAGES), ("parser._HELPS", parser._HELPS)):
        for key, (en, zh) in table.items():
            yield f"{name}[{key!r}]", en, zh
    for key, texts in yamlload._TEXTS.items():
        yield f"yamlload._TEXTS[{key!r}]", texts[0], texts[1]
        yield f"yamlload._TEXTS[{key!r}]/help", texts[2], texts[3]
    for pattern, texts in yamlload._PROBLEM_PATTERNS:
        yield f"yamlload._PROBLEM_PATTERNS[{pattern.pattern!r}]", texts[0], texts[1].replace("{got_zh}", "{got}")
        yield f"yamlload._PROBLEM_PATTERNS[{pattern.pattern!r}]/help", texts[2], texts[3]


def _plain_pairs() -> Iterator[tuple[str, str, str]]:
    """(name, English, Chinese) of the tables of finished texts (no values to fill in)."""
    from engine import yamlload

    for name, table in (
        ("yamlload._TOKEN_WORDS", yamlload._TOKEN_WORDS),
        ("yamlload._CONTEXT_WORDS", yamlload._CONTEXT_WORDS),
    ):
        for key, (en, zh) in table.items():
            yield f"{name}[{key!r}]", en, zh
    for name, table4 in (("yamlload._PROBLEMS", yamlload._PROBLEMS), ("yamlload._TAB_TEXTS", yamlload._TAB_TEXTS)):
        for key, texts in table4.items():
            yield f"{name}[{key!r}]", texts[0], texts[1]
            yield f"{name}[{key!r}]/help", texts[2], texts[3]


def test_the_modules_tables_of_paired_texts() -> None:
    bad = []
    for name, en, zh in _plain_pairs():
        if english_in(zh) or chinese_in(en):
            bad.append(f"{name}: {en!r} / {zh!r}")
    for name, en, zh in _table_pairs():
        values = _sample_values(en, zh)
        en_text, zh_text = en.format(**values), zh.format(**values)
        if fields(en) != {f.removesuffix("_zh") for f in fields(zh)}:
            bad.append(f"{name}: different values {fields(en)} and {fields(zh)}")
        if english_in(zh_text) or chinese_in(en_text):
            bad.append(f"{name}: {en_text!r} / {zh_text!r}")
    assert bad == [], "\n".join(bad)


# ---------------------------------------------------------------------------
# Rendered: diagnostics of broken rulebooks, runtime errors of records
# ---------------------------------------------------------------------------


def _message_lines(rendered: str) -> list[str]:
    """The lines of rendered diagnostics that are the engine's words (not the quoted source)."""
    out = []
    for line in rendered.splitlines():
        if line.startswith("   | ") or line.strip() == "|":
            continue
        out.append(re.sub(r"^\S+:\d+:\d+: ", "", line))  # file:line:col
    return out


def test_every_broken_rulebook_is_explained_in_both_languages(root: Path) -> None:
    from engine.tools.lint import lint_file

    cases = sorted((root / "tests" / "data" / "errors").glob("*.yaml"))
    assert len(cases) > 30
    codes = set()
    for case in cases:
        for d in lint_file(case):
            codes.add(d.code)
            for line in _message_lines(d.render("zh")):
                assert english_in(line) == [], (case.name, line)
            for line in _message_lines(d.render("en")):
                assert chinese_in(line) == [], (case.name, line)
    assert {"yaml.duplicate-key", "schema.required", "check.unknown-field", "check.type"} <= codes


# Records that make rules error in as many ways as a small rulebook allows.
_RULEBOOK = """\
rulebook: 1
id: messages/test
version: "1"
status: in_force
effective_from: 2000-01-01
title: {zh: 运行时错误, en: runtime errors}
source: {title: 测试}
decisions:
  d:
    record: r.schema.json
    rules:
"""
_RULES = {  # rule id: require
    "missing": "record.n > 0",
    "divide": "10 / record.n > 1",
    "overflow": "record.n * 9223372036854775807 > 0",
    "no_overload": "dyn(record.s) + 1 > 0",
    "calendar": "working_days_after(record.d, 1) > record.d",
    "index": "[1][record.n] > 0",
    "dates": "record.d > date('2000-01-01')",
    "regex": "record.s.matches('(')",
    "conversion": "int(record.s) > 0",
}


def test_every_runtime_error_kind_reads_in_both_languages(tmp_path: Path) -> None:
    from engine.build import load_rulebook

    schema = tmp_path / "r.schema.json"
    schema.write_text(
        '{"type": "object", "properties": {"id": {"type": "string"}, "n": {"type": "integer"}, '
        '"s": {"type": "string"}, "d": {"type": "string", "format": "date"}}}',
        encoding="utf-8",
    )
    path = tmp_path / "book.yaml"
    rules = "".join(
        f'      - {{id: {rid}, article: {n}, cite: 第{n}条, require: "{require}", '
        f"message: {{zh: 不符合, en: not met}}}}\n"
        for n, (rid, require) in enumerate(_RULES.items(), 1)
    )
    path.write_text(_RULEBOOK + rules, encoding="utf-8")
    decision = load_rulebook(path).decision("d")
    records = [
        {"id": "a"},
        {"id": "b", "n": 0, "s": "x", "d": "2999-01-01"},
        {"id": "c", "n": 3, "s": "x", "d": "not a date"},
        {"id": "d", "n": 1, "s": "12", "d": 5},
    ]
    kinds = set()
    for record in records:
        d = decision.evaluate(record, "2024-06-01")
        for r in d.rules:
            if r.error is None:
                continue
            kinds.add(r.error.code)
            zh, en = r.message("zh") or "", r.message("en") or ""
            assert english_in(zh) == [], (r.id, zh)
            assert chinese_in(en) == [], (r.id, en)
            assert d.to_json("zh")["rules"][[x.id for x in d.rules].index(r.id)]["error"]["message"] == r.error.text.zh
    assert {
        "eval.missing-field",
        "eval.division-by-zero",
        "eval.overflow",
        "eval.no-overload",
        "eval.calendar-range",
        "eval.index-out-of-range",
        "eval.bad-date",
        "eval.bad-regex",
        "eval.bad-conversion",
        "eval.wrong-type",
    } <= kinds


def test_every_error_value_made_in_the_engine_renders_in_both_languages() -> None:
    from engine.errors import EvalError
    from engine.evaluate import error_message

    for key in CATALOGUE:
        if not key.startswith("eval.") or key.endswith(":rule"):
            continue
        en, zh = CATALOGUE[key]
        err = EvalError(key.split(":")[0], msg(key, **_sample_values(en, zh)), "field")
        assert english_in(error_message(err, "zh")) == [], key
        assert chinese_in(error_message(err, "en")) == [], key


def test_messages_module_documents_the_mechanism() -> None:
    from engine import errors

    assert "catalogue" in (messages.__doc__ or "") and "msg(" in (errors.__doc__ or "")
    assert {name for _, name, _, _ in string.Formatter().parse(CATALOGUE["usage.no-such-file"][1]) if name} == {"path"}


def test_every_code_is_documented(root: Path) -> None:
    cli_md = (root / "docs" / "cli.md").read_text(encoding="utf-8")
    language_md = (root / "docs" / "language.md").read_text(encoding="utf-8")
    missing = [
        code
        for code in sorted(emitted_codes())
        if f"`{code}`" not in (language_md if code.startswith("syntax.") else cli_md)
    ]
    assert missing == [], "codes missing from docs/cli.md (syntax.*: docs/language.md)"


def test_diagnostics_and_errors_keep_both_languages_through_pickling() -> None:
    import pickle

    from engine.errors import Diagnostic, EvalError, UsageError

    d = Diagnostic.of("usage.no-such-file", path="x.json")
    assert pickle.loads(pickle.dumps(d)) == d  # noqa: S301 - the bytes this test just made
    again = pickle.loads(pickle.dumps(UsageError(d)))  # noqa: S301 - the bytes this test just made
    assert isinstance(again, UsageError) and again.render("zh") == "error[usage.no-such-file]: 找不到文件 `x.json`"
    made = pickle.dumps(EvalError("eval.missing-field", msg("eval.missing-field", path="a"), "a"))
    err = pickle.loads(made)  # noqa: S301 - the bytes this test just made
    assert (err.code, err.text.zh, err.path) == ("eval.missing-field", "记录缺少字段 `a`", "a")


def test_a_count_of_one_takes_the_singular_entry() -> None:
    """``KEY:one`` is used for exactly one thing (``1 record``), the plural entry otherwise; Chinese
    has one form, and a flag is not a count."""
    from engine.messages import CATALOGUE, msg

    assert msg("cli.diff-records", count=1).get("en") == "1 record decides differently"
    assert msg("cli.diff-records", count=2).get("en") == "2 records decide differently"
    assert msg("cli.diff-records", count=0).get("en") == "0 records decide differently"
    assert msg("cli.diff-records", count=1).get("zh") == msg("cli.diff-records", count=2).get("zh").replace("2", "1")
    assert msg("cli.diff-records", count=True).get("en").endswith("decide differently")
    for key in [k for k in CATALOGUE if k.endswith(":one")]:
        assert key.removesuffix(":one") in CATALOGUE, f"{key} has no plural entry"
