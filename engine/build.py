"""Build a rulebook: the ordered stages from YAML text to compiled decisions.

    load (yamlload)  ->  validate (schemas)  ->  model  ->  parse (lang.parser)
      ->  check (lang.check)  ->  compile (lang.compile)  ->  CompiledRulebook

Each stage collects every problem it finds as diagnostics positioned in the
YAML file; the pipeline stops after the first stage that found errors and
raises the matching ``RulebookError`` subclass.  ``lint`` runs the same
stages.  A compiled rulebook is immutable and shared by all evaluations.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.errors import CheckError, ConditionSyntaxError, Diagnostic, SchemaError
from engine.evaluate import CompiledDecision, CompiledOutput, CompiledRule, CompiledRulebook
from engine.lang import ast as A
from engine.lang.check import Checked, Scope, check_condition
from engine.lang import compile as _compile
from engine.lang.compile import cached_value, compile_condition
from engine.lang.compile_decision import DecisionPlan, compile_decision
from engine.lang.functions import FunctionTable
from engine.lang.parser import parse_condition
from engine.lang.types import Type, schema_type, type_of_value
from engine.model import DecisionSpec, Expr, Rulebook, RuleSpec, Severity, rulebook_from_data
from engine.schemas import record_schema, validate_rulebook
from engine.source import Source, Span, scalar_offset_map
from engine.yamlload import Loaded, load_yaml

__all__ = ["build_rulebook", "default_functions"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@lru_cache(maxsize=32)
def load_yaml_cached(source: Source) -> Loaded:
    """``load_yaml`` remembered by file name and text (the registry, the builder and the
    example runner all read the same files)."""
    return load_yaml(source)


def default_functions() -> FunctionTable:
    """The functions every plugin registered (the standard library is the built-in plugin's)."""
    from engine.pluginmanager import get_plugin_manager

    return get_plugin_manager().functions()


class _Builder:
    def __init__(self, book: Rulebook, source: Source, loaded: Loaded, base_dir: Path | None,
                 functions: FunctionTable) -> None:
        self.book = book
        self.source = source
        self.loaded = loaded
        self.base_dir = base_dir
        self.functions = functions
        self.syntax: list[Diagnostic] = []
        self.check: list[Diagnostic] = []
        self.params = {p.name: p.value for p in book.parameters}
        self.param_types = {p.name: (p.value, type_of_value(p.value)) for p in book.parameters}

    # -- positions

    def span_at(self, path: tuple[Any, ...], key: bool = False) -> Span | None:
        return self.loaded.span(path, key=key)

    def at(self, code: str, path: tuple[Any, ...], message: str, help: str | None = None, *, key: bool = False,
           message_zh: str | None = None, help_zh: str | None = None) -> Diagnostic:
        return Diagnostic(code, message, source=self.source, span=self.span_at(path, key), help=help,
                          message_zh=message_zh, help_zh=help_zh)

    def remap(self, diag: Diagnostic, expr: Expr) -> Diagnostic:
        """Move a diagnostic from expression offsets to file offsets."""
        pos = self.loaded.positions.get(expr.path)
        if pos is None:
            return Diagnostic(diag.code, diag.message, self.source, self.span_at(expr.path), diag.help,
                              diag.severity, diag.note, diag.message_zh, diag.help_zh)
        span = diag.span or Span(0, len(expr.text))
        offsets = scalar_offset_map(self.source, pos.value.start, pos.value.end, pos.style, expr.text)
        note = diag.note
        if offsets is not None:
            start = offsets[min(span.start, len(expr.text))]
            end = offsets[span.end - 1] + 1 if span.end > span.start else start
            file_span = Span(start, max(start, end))
        else:
            file_span = Span(pos.value.start, pos.value.start + 1)
            note = "the column is approximate: escapes in the quoted text move positions"
        return Diagnostic(diag.code, diag.message, self.source, file_span, diag.help, diag.severity, note,
                          diag.message_zh, diag.help_zh)

    # -- stages

    def parse(self, expr: Expr | None) -> A.Node | None:
        if expr is None:
            return None
        try:
            return parse_condition(expr.text, self.source.name)
        except ConditionSyntaxError as e:
            self.syntax.extend(self.remap(d, expr) for d in e.diagnostics)
            return None

    def checked(self, node: A.Node | None, expr: Expr | None, scope: Scope, want_bool: str | None = None
                ) -> Checked | None:
        if node is None or expr is None:
            return None
        c = check_condition(node, scope, want_bool=want_bool)
        self.check.extend(self.remap(d, expr) for d in c.diagnostics)
        return c if c.ok else None

    def record_type(self, decision: DecisionSpec) -> Type | None:
        kind = decision.record_kind
        schema: dict[str, Any] | None
        if kind.endswith(".json"):
            path = (self.base_dir or Path()) / kind
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                self.check.append(self.at("rulebook.record-schema", (*decision.path, "record"),
                                          f"cannot read the record schema `{kind}`: {e}"))
                return None
        else:
            schema = record_schema(kind)
            if schema is None:
                from engine.schemas import record_kinds

                import difflib

                kinds = record_kinds()
                close = difflib.get_close_matches(kind, kinds, n=1)
                self.check.append(self.at(
                    "rulebook.unknown-record-kind", (*decision.path, "record"), f"unknown record kind `{kind}`",
                    f"did you mean `{close[0]}`?" if close else "known kinds: " + ", ".join(f"`{k}`" for k in kinds)
                    + "; or give a path to a `.json` schema next to the rulebook",
                    message_zh=f"未知的记录类型 `{kind}`"))
                return None
        t = schema_type(schema)
        if t.kind != "object":
            self.check.append(self.at("rulebook.record-schema", (*decision.path, "record"),
                                      f"the record schema `{kind}` must describe an object with properties"))
            return None
        return t

    def build(self) -> CompiledRulebook:
        decisions = [self.decision(d) for d in self.book.decisions]
        self.examples()
        if self.syntax:
            raise ConditionSyntaxError(self.syntax)
        errors = [d for d in self.check if d.severity == "error"]
        if errors:
            raise CheckError(self.check)
        return CompiledRulebook(self.book, self.source, {d.name: d for d in decisions if d is not None},
                                warnings=[d for d in self.check if d.severity != "error"])

    def names_clash(self, decision: DecisionSpec) -> None:
        for name, expr in decision.values:
            if name in self.params or name in ("record", "as_of"):
                self.check.append(self.at("check.name-clash", expr.path,
                                          f"the value `{name}` has the same name as a parameter or built-in name",
                                          "rename one of them", key=True, message_zh=f"值 `{name}` 与参数或内置名称同名"))

    def decision(self, spec: DecisionSpec) -> CompiledDecision | None:
        record_t = self.record_type(spec)
        self.names_clash(spec)
        kind_name = spec.record_kind.rsplit("/", 1)[-1].removesuffix(".json").removesuffix(".schema")
        scope = Scope(record_t or Type("dyn"), self.functions, kind_name, dict(self.param_types))
        names: dict[tuple[str, str], Any] = {}

        # named values, in dependency order; a value that is broken (or in a cycle) is
        # reported once and stands in as `dyn`, so that its users are still checked
        parsed = {name: (expr, self.parse(expr)) for name, expr in spec.values}
        order, cyclic = self.value_order(spec, parsed)
        checked_values: dict[str, Checked] = {}
        for name in parsed:
            scope.values[name] = Type("dyn")
            names[("value", name)] = _broken
        for name in order:
            expr, node = parsed[name]
            if name in cyclic:
                continue
            c = self.checked(node, expr, scope)
            if c is None:
                continue
            scope.values[name] = c.type_of(c.node)
            names[("value", name)] = cached_value(("value", name), compile_condition(c, names, self.params))
            checked_values[name] = c

        as_of_fn = as_of_checked = None
        if spec.as_of is not None:
            as_of_scope = Scope(scope.record, self.functions, spec.record_kind, dict(self.param_types))
            c = self.checked(self.parse(spec.as_of), spec.as_of, as_of_scope)
            if c is not None:
                if c.type_of(c.node).kind not in ("date", "dyn"):
                    self.check.append(self.at("check.type", spec.as_of.path, "`as_of` must be a date",
                                              message_zh="`as_of` 必须是日期"))
                as_of_fn = compile_condition(c, names, self.params)
                as_of_checked = c

        rules = []
        seen_ids: set[str] = set()
        for rule in spec.rules:
            if rule.id in seen_ids:
                self.check.append(self.at("rulebook.duplicate-rule", (*rule.path, "id"),
                                          f"rule id `{rule.id}` is used twice in decision `{spec.name}`",
                                          message_zh=f"规则编号 `{rule.id}` 在决定 `{spec.name}` 中重复"))
            seen_ids.add(rule.id)
            compiled = self.rule(rule, scope, names)
            if compiled is not None:
                rules.append(compiled)

        outputs = []
        for out in spec.outputs:
            when = self.checked(self.parse(out.when), out.when, scope, "`when`")
            value = self.checked(self.parse(out.value), out.value, scope)
            if value is not None and (out.when is None or when is not None):
                outputs.append(CompiledOutput(out, compile_condition(value, names, self.params),
                                              compile_condition(when, names, self.params) if when else None,
                                              (value, when)))
        if record_t is None:
            return None
        return CompiledDecision(self.book, spec, record_t, as_of_fn, tuple(rules), tuple(outputs),
                                {k[1]: v for k, v in names.items() if k[0] == "value"},
                                fast=self.whole_decision(checked_values, rules, outputs, as_of_checked))

    def whole_decision(self, values: dict[str, Checked], rules: list[CompiledRule], outputs: list[CompiledOutput],
                       as_of: Checked | None) -> Any:
        """How to compile the decision as one function (see ``compile_decision``), when it can be.

        Not when the expressions are compiled some other way (the differential tests
        build rulebooks with the reference interpreter in place of ``compile_condition``),
        nor when the rulebook has errors (it is not built then).
        """
        if compile_condition is not _compile.compile_condition or self.syntax or any(
                d.severity == "error" for d in self.check):
            return None
        plan = DecisionPlan(values, [(r.spec.id, r.checked[0], r.checked[1], r.checked[2],
                                      r.spec.severity == Severity.ERROR or r.spec.is_data) for r in rules],
                            [(o.spec.name, o.checked[0], o.checked[1]) for o in outputs], as_of,
                            frozenset(i for i, r in enumerate(rules) if r.spec.is_data))
        params = self.params
        return lambda: compile_decision(plan, params)  # compiled when the decision is first used

    def value_order(self, spec: DecisionSpec, parsed: dict[str, tuple[Expr, A.Node | None]]
                    ) -> tuple[list[str], set[str]]:
        deps: dict[str, set[str]] = {}
        for name, (_expr, node) in parsed.items():
            refs = {n.name for n in A.walk(node) if isinstance(n, A.Ident)} if node is not None else set()
            deps[name] = {r for r in refs if r in parsed and r != name}
            if node is not None and name in refs:
                deps[name].add(name)
        order: list[str] = []
        cyclic: set[str] = set()
        state: dict[str, int] = {}

        def visit(n: str, trail: list[str]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1 or n in deps[n]:
                members = trail[trail.index(n):] if n in trail else [n]
                cyclic.update(members)
                cycle = " -> ".join([*members, n])
                self.check.append(self.at("check.cycle", parsed[n][0].path, f"the values refer to each other: {cycle}",
                                          "a value cannot depend on itself", message_zh=f"值之间循环引用：{cycle}"))
                state[n] = 2
                return
            state[n] = 1
            for d in sorted(deps[n]):
                visit(d, [*trail, n])
            state[n] = 2
            order.append(n)

        for name in parsed:
            visit(name, [])
        return order, cyclic

    def rule(self, rule: RuleSpec, decision_scope: Scope, names: dict[tuple[str, str], Any]) -> CompiledRule | None:
        scope = Scope(decision_scope.record, self.functions, decision_scope.record_kind, decision_scope.params,
                      decision_scope.values, {})
        local_names = dict(names)
        locals_: list[tuple[str, Any]] = []
        checked_locals: dict[str, Checked] = {}
        ok = True
        for name, expr in rule.values:
            c = self.checked(self.parse(expr), expr, scope)
            if c is None:
                ok = False
                scope.locals[name] = Type("dyn")
                local_names[("local", name)] = _broken
                continue
            scope.locals[name] = c.type_of(c.node)
            checked_locals[name] = c
            fn = cached_value(("local", rule.id, name), compile_condition(c, local_names, self.params))
            local_names[("local", name)] = fn
            locals_.append((name, fn))
        when = self.checked(self.parse(rule.when), rule.when, scope, "`when`")
        require = self.checked(self.parse(rule.require), rule.require, scope, "`require`")
        if require is None or (rule.when is not None and when is None) or not ok:
            return None

        # what the rule saw: its own values, the named values and the record fields it reads
        seen: dict[str, Any] = dict(locals_)
        for c in (when, require):
            if c is None:
                continue
            for kind, name in sorted(c.refs):
                if kind == "value" and name not in seen:
                    seen[name] = names.get(("value", name))
            for path in c.record_paths:
                if path not in seen and not any(p.startswith(path + ".") for p in c.record_paths):
                    getter = self.path_getter(path, scope)
                    if getter is not None:
                        seen[path] = getter
        extra = self.placeholders(rule, scope, seen, names)
        return CompiledRule(
            rule,
            compile_condition(when, local_names, self.params) if when is not None else None,
            compile_condition(require, local_names, self.params),
            tuple((k, v) for k, v in seen.items() if v is not None),
            extra,
            (checked_locals, when, require),
        )

    def path_getter(self, path: str, scope: Scope) -> Any:
        try:
            node = parse_condition("record." + path)
        except ConditionSyntaxError:
            return None
        c = check_condition(node, scope)
        if not c.ok:
            return None
        # cached per record by path: the rules that show the same field read it once
        getter = cached_value(("path", path), compile_condition(c, {}, self.params))
        getter.checked = c  # for the decision's trace function (``compile_trace``)
        return getter

    def placeholder_span(self, path: tuple[Any, ...], text: str, start: int, end: int) -> Span | None:
        """The span in the file of ``text[start:end]``, a placeholder in the message scalar at ``path``
        (None where escapes keep the scalar from mapping character for character)."""
        pos = self.loaded.positions.get(path)
        if pos is None:
            return None
        offsets = scalar_offset_map(self.source, pos.value.start, pos.value.end, pos.style, text)
        if offsets is None or end > len(text):
            return None
        return Span(offsets[start], offsets[end - 1] + 1)

    def placeholder_suggestion(self, name: str, known: list[str], scope: Scope) -> list[str]:
        """What an unknown placeholder probably meant: a record field written with `record.`
        (placeholders name fields without it), else the closest name the rule knows."""
        import difflib

        bare = name.removeprefix("record.")
        if bare != name and re.fullmatch(r"[A-Za-z_][\w.]*", bare) and self.path_getter(bare, scope) is not None:
            return [bare]
        return difflib.get_close_matches(bare, known, n=1) or difflib.get_close_matches(bare.lower(), known, n=1)

    def placeholders(self, rule: RuleSpec, scope: Scope, seen: dict[str, Any],
                     names: dict[tuple[str, str], Any]) -> tuple[tuple[str, Any], ...]:
        """Getters for message placeholders that the rule's trace does not already have."""
        extra: dict[str, Any] = {}
        for lang in ("zh", "en"):
            text = rule.message.get(lang)
            for m in _PLACEHOLDER.finditer(text):
                name = m.group(1)
                if name is None or name in seen or name in extra:
                    continue
                name = name.strip()
                if name in self.params:
                    extra[name] = _constant(self.params[name])
                elif name == "as_of":
                    extra[name] = _as_of
                elif ("value", name) in names:
                    extra[name] = names[("value", name)]
                else:
                    getter = self.path_getter(name, scope) if re.fullmatch(r"[A-Za-z_][\w.]*", name) else None
                    if getter is None:
                        known = sorted({*seen, *self.params, *scope.values, "as_of"})
                        import difflib

                        close = self.placeholder_suggestion(name, known, scope)
                        self.check.append(self.at(
                            "check.unknown-placeholder", (*rule.path, "message", lang),
                            f"the message of rule `{rule.id}` uses `{{{name}}}`, which the rule does not know",
                            f"did you mean `{{{close[0]}}}`?" if close else
                            "placeholders: the rule's values, named values, parameters, as_of and record fields",
                            message_zh=f"规则 `{rule.id}` 的提示语使用了未知的占位符 `{{{name}}}`"))
                        # the caret under the placeholder, not the whole message
                        span = self.placeholder_span((*rule.path, "message", lang), text, m.start(), m.end())
                        if span is not None:
                            self.check[-1] = self.check[-1].replace(span=span)
                    else:
                        extra[name] = getter
        return tuple(extra.items())

    def examples(self) -> None:
        rules = {d.name: {r.id for r in d.rules} for d in self.book.decisions}
        outputs = {d.name: {o.name for o in d.outputs} for d in self.book.decisions}
        for ex in self.book.examples:
            if ex.decision not in rules:
                self.check.append(self.at("rulebook.unknown-decision", (*ex.path, "decision"),
                                          f"example `{ex.name}` names an unknown decision `{ex.decision}`",
                                          message_zh=f"示例 `{ex.name}` 引用了不存在的决定 `{ex.decision}`"))
                continue
            for rid in ex.expect_rules:
                if rid not in rules[ex.decision]:
                    self.check.append(self.at("rulebook.unknown-rule", (*ex.path, "expect", "rules", rid),
                                              f"example `{ex.name}` expects a status for unknown rule `{rid}`",
                                              key=True, message_zh=f"示例 `{ex.name}` 引用了不存在的规则 `{rid}`"))
            for name in ex.expect_outputs:
                if name not in outputs[ex.decision]:
                    self.check.append(self.at("rulebook.unknown-output", (*ex.path, "expect", "outputs", name),
                                              f"example `{ex.name}` expects an unknown output `{name}`", key=True,
                                              message_zh=f"示例 `{ex.name}` 引用了不存在的输出 `{name}`"))


def _constant(value: Any) -> Any:
    def get(rec: Any, as_of: Any, ctx: Any) -> Any:
        return value

    get.constant = value  # type: ignore[attr-defined]
    return get


def _as_of(rec: Any, as_of: Any, ctx: Any) -> Any:
    return as_of


_as_of.is_as_of = True  # type: ignore[attr-defined]


def _broken(rec: Any, as_of: Any, ctx: Any) -> Any:
    """Stands in for a value that did not check; the build reports it and never runs this."""
    raise AssertionError("a rulebook with errors was evaluated")


def build_rulebook(source: Source, *, base_dir: Path | None = None,
                   functions: FunctionTable | None = None) -> CompiledRulebook:
    """Run every stage on a rulebook's text.

    Raises:
        YamlError, SchemaError, ConditionSyntaxError, CheckError: with positioned diagnostics.
    """
    loaded = load_yaml_cached(source)
    diagnostics = validate_rulebook(loaded.data, source, loaded.span)
    if diagnostics:
        raise SchemaError(diagnostics)
    book = rulebook_from_data(loaded.data)
    return _Builder(book, source, loaded, base_dir, functions or default_functions()).build()


def display_name(path: Path) -> str:
    """How a rulebook file is named in messages: bundled ones as ``rulebooks/...``,
    others relative to the working directory when they are below it."""
    from engine.schemas import data_dir

    resolved = path.resolve()
    for root, prefix in ((data_dir() / "rulebooks", "rulebooks"), (Path.cwd(), "")):
        try:
            rel = resolved.relative_to(root.resolve())
        except ValueError:
            continue
        return f"{prefix}/{rel.as_posix()}" if prefix else rel.as_posix()
    return str(path)


def load_rulebook(path: str | Path, data: bytes | None = None) -> CompiledRulebook:
    """Read, check and compile the rulebook in a YAML file (``data``: its bytes, when already read)."""
    path = Path(path)
    try:
        # as a text-mode read gives it: universal newlines
        text = (path.read_bytes() if data is None else data).decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except OSError as e:
        from engine.errors import RulebookError

        raise RulebookError(Diagnostic("rulebook.unreadable", f"cannot read `{path}`: {e.strerror or e}")) from None
    except UnicodeDecodeError:
        from engine.errors import RulebookError

        raise RulebookError(Diagnostic("rulebook.encoding", f"`{path}` is not UTF-8 text",
                                       help="save the file as UTF-8")) from None
    return build_rulebook(Source(display_name(path), text), base_dir=path.parent)
