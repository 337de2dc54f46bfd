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
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any, cast

from engine.errors import CheckError, ConditionSyntaxError, Diagnostic, SchemaError
from engine.evaluate import (
    CompiledDecision,
    CompiledOutput,
    CompiledRule,
    CompiledRulebook,
    as_of_getter,
    constant_getter,
)
from engine.lang import ast as A
from engine.lang import compile as _compile
from engine.lang.calendar import bind_calendars
from engine.lang.check import Checked, Scope, check_condition
from engine.lang.compile import cached_value, compile_condition
from engine.lang.compile_decision import DecisionPlan, compile_decision
from engine.lang.functions import FunctionTable
from engine.lang.parser import parse_condition
from engine.lang.types import Type, schema_type, type_of_value
from engine.memo import BoundedMemo
from engine.messages import Text, listing, msg, os_reason
from engine.model import DecisionSpec, Expr, Rulebook, RuleSpec, Severity, rulebook_from_data
from engine.schemas import record_schema, validate_rulebook
from engine.source import Source, Span, scalar_offset_map
from engine.yamlload import Loaded, YamlMemo, load_yaml

__all__ = ["build_rulebook", "default_calendars", "default_functions"]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


_LOADS: OrderedDict[Source, Loaded] = OrderedDict()
_LOADS_LOCK = threading.Lock()


def load_yaml_cached(source: Source, memo: YamlMemo | None = None) -> Loaded:
    """``load_yaml`` remembered by file name and text, the last 32 (the registry, the builder,
    lint and the example runner all read the same files); ``memo``: see ``load_yaml``."""
    with _LOADS_LOCK:
        found = _LOADS.get(source)
        if found is not None:
            _LOADS.move_to_end(source)
            return found
    loaded = load_yaml(source, memo)
    with _LOADS_LOCK:
        _LOADS[source] = loaded
        if len(_LOADS) > 32:
            _LOADS.popitem(last=False)
    return loaded


def default_functions() -> FunctionTable:
    """The functions every plugin registered (the standard library is the built-in plugin's)."""
    from engine.pluginmanager import get_plugin_manager

    return get_plugin_manager().functions()


class BuildMemo:
    """What building one rulebook's text again and again can reuse: the parsed tree of each
    expression (by its text), the checked tree (by its text and what the names it uses stand
    for in its scope), the compiled function (by the checked tree and the functions and
    parameter values it reads), the record schemas read from files (by their text) and the
    schema validation of each part of the document (``validate_rulebook(..., memo=)``) and the
    YAML load of each top-level part of the text (:class:`~engine.yamlload.YamlMemo`).

    An editor that builds the text on every keystroke (``rulebook serve --edit``) keeps one
    per rulebook, so that an edit rebuilds only the expressions it touched.  Every memo is a
    :class:`~engine.memo.BoundedMemo`; an expression with a problem is never remembered
    (its diagnostics name what the whole scope holds).  The function table and calendars
    are resolved once, when the memo is made: a build with a memo uses them.
    """

    def __init__(
        self,
        limit: int = 20_000,
        functions: FunctionTable | None = None,
        calendars: Mapping[str, Any] | None = None,
    ) -> None:
        self.calendars = bind_calendars(calendars) if calendars is not None else default_calendars()
        self.functions = (functions or default_functions()).with_calendars(self.calendars)
        self.parsed: BoundedMemo[tuple[str, str], A.Node] = BoundedMemo(limit)
        self.checked: BoundedMemo[tuple[Any, ...], Checked] = BoundedMemo(limit)
        self.compiled: BoundedMemo[tuple[Any, ...], tuple[Checked, Any]] = BoundedMemo(limit)
        self.schemas: BoundedMemo[tuple[str, str], dict[str, Any]] = BoundedMemo(256)
        self.types: BoundedMemo[int, tuple[dict[str, Any], Type]] = BoundedMemo(256)
        self.validation: BoundedMemo[tuple[str, str], list[Any]] = BoundedMemo(limit)
        self.yaml = YamlMemo()

    def parse(self, text: str) -> A.Node:
        """``parse_condition(text)``, remembered (raises ConditionSyntaxError as it does)."""
        key = (text, "<expression>")
        found = self.parsed.get(key)
        if found is None:
            found = self.parsed.remember(key, parse_condition(text))
        return found

    def record_type(self, schema: dict[str, Any]) -> Type:
        """The type of a record schema, the same object for the same schema object (the checked
        trees remembered refer to it); the memo holds the schema, so its id is not reused."""
        found = self.types.get(id(schema))
        if found is None or found[0] is not schema:
            found = self.types.remember(id(schema), (schema, schema_type(schema)))
        return found[1]

    def schema_file(self, path: Path, text: str) -> dict[str, Any]:
        """A record schema file's JSON, the same object while its text is the same."""
        key = (str(path), text)
        found = self.schemas.get(key)
        if found is None:
            found = self.schemas.remember(key, json.loads(text))
        return found


def _type_key(t: Type) -> tuple[Any, ...]:
    return (t, id(t.schema), id(t.root))


def _scope_key(scope: Scope, node: A.Node) -> tuple[Any, ...]:
    """What the names an expression uses stand for in ``scope`` (and the names that could hide
    them under CEL's dotted-name rule): the part of the scope its check depends on."""
    idents = {n.name.lstrip(".") for n in A.walk(node) if isinstance(n, A.Ident)}
    if not idents:
        return ()

    def used(name: str) -> bool:
        return name in idents or name.split(".", 1)[0] in idents

    return (
        tuple(sorted((n, repr(v), _type_key(t)) for n, (v, t) in scope.params.items() if used(n))),
        tuple(sorted((n, _type_key(t)) for n, t in scope.values.items() if used(n))),
        tuple(sorted((n, _type_key(t)) for n, t in scope.locals.items() if used(n))),
    )


class _Builder:
    def __init__(
        self,
        book: Rulebook,
        source: Source,
        loaded: Loaded,
        base_dir: Path | None,
        functions: FunctionTable,
        memo: BuildMemo | None = None,
    ) -> None:
        self.book = book
        self.memo = memo
        self.whole = True  # the decisions compiled as one function each (``build_rulebook(whole=)``)
        self.source = source
        self.loaded = loaded
        self.base_dir = base_dir
        self.functions = functions
        self.syntax: list[Diagnostic] = []
        self.check: list[Diagnostic] = []
        self.params = {p.name: p.value for p in book.parameters}
        self.param_types = {p.name: (p.value, type_of_value(p.value)) for p in book.parameters}
        self.record_schemas: dict[str, dict[str, Any]] = {}  # by decision: what schema enforcement checks

    # -- positions

    def span_at(self, path: tuple[Any, ...], key: bool = False) -> Span | None:
        return self.loaded.span(path, key=key)

    def at(
        self, code: str, path: tuple[Any, ...], message: Text, help: Text | None = None, *, key: bool = False
    ) -> Diagnostic:
        return Diagnostic(code, message, source=self.source, span=self.span_at(path, key), help=help)

    def remap(self, diag: Diagnostic, expr: Expr) -> Diagnostic:
        """Move a diagnostic from expression offsets to file offsets."""
        pos = self.loaded.positions.get(expr.path)
        if pos is None:
            return diag.replace(source=self.source, span=self.span_at(expr.path))
        span = diag.span or Span(0, len(expr.text))
        offsets = scalar_offset_map(self.source, pos.value.start, pos.value.end, pos.style, expr.text)
        note = diag.note_text_
        if offsets is not None:
            start = offsets[min(span.start, len(expr.text))]
            end = offsets[span.end - 1] + 1 if span.end > span.start else start
            file_span = Span(start, max(start, end))
        else:
            file_span = Span(pos.value.start, pos.value.start + 1)
            note = msg("note.approximate-column")
        return diag.replace(source=self.source, span=file_span, note=note)

    # -- stages

    def parse(self, expr: Expr | None) -> A.Node | None:
        if expr is None:
            return None
        memo = self.memo
        if memo is not None:
            found = memo.parsed.get((expr.text, self.source.name))
            if found is not None:
                return found
        try:
            node = parse_condition(expr.text, self.source.name)
            if memo is not None:
                memo.parsed.remember((expr.text, self.source.name), node)
            return node
        except ConditionSyntaxError as e:
            self.syntax.extend(self.remap(d, expr) for d in e.diagnostics)
            return None

    def checked(
        self, node: A.Node | None, expr: Expr | None, scope: Scope, want_bool: str | None = None
    ) -> Checked | None:
        if node is None or expr is None:
            return None
        memo = self.memo
        key: tuple[Any, ...] | None = None
        if memo is not None:
            key = (expr.text, want_bool, _type_key(scope.record), scope.record_kind, _scope_key(scope, node))
            found = memo.checked.get(key)
            if found is not None:
                return found
        c = check_condition(node, scope, want_bool=want_bool)
        self.check.extend(self.remap(d, expr) for d in c.diagnostics)
        if key is not None and memo is not None and c.ok and not c.diagnostics:
            memo.checked.remember(key, c)
        return c if c.ok else None

    def compile(self, c: Checked, names: dict[tuple[str, str], Any], cache: Any = None) -> Any:
        """``compile_condition`` of ``c`` (wrapped by ``cached_value(cache, ...)`` when ``cache`` is
        given), remembered by the checked tree, the functions of the names it reads and the values
        of the parameters it inlines."""
        memo = self.memo
        if memo is None:
            fn = compile_condition(c, names, self.params)
            return cached_value(cache, fn) if cache is not None else fn
        key = (
            id(c),
            cache,
            tuple(sorted((k, id(names[k])) for k in c.refs if k in names)),
            tuple(sorted((n, repr(self.params.get(n))) for kind, n in c.refs if kind == "param")),
        )
        found = memo.compiled.get(key)
        if found is not None and found[0] is c:
            return found[1]
        fn = compile_condition(c, names, self.params)
        if cache is not None:
            fn = cached_value(cache, fn)
        memo.compiled.remember(key, (c, fn))
        return fn

    def record_type(self, decision: DecisionSpec) -> Type | None:
        kind = decision.record_kind
        schema: dict[str, Any] | None
        if kind.endswith(".json"):
            path = (self.base_dir or Path()) / kind
            try:
                text = path.read_text(encoding="utf-8")
                schema = json.loads(text) if self.memo is None else self.memo.schema_file(path, text)
            except (OSError, ValueError) as e:
                reason = os_reason(e) if isinstance(e, OSError) else Text(f"`{e}`", f"`{e}`")
                self.check.append(
                    self.at(
                        "rulebook.record-schema",
                        (*decision.path, "record"),
                        msg("rulebook.record-schema", kind=kind, reason=reason),
                    )
                )
                return None
        else:
            schema = record_schema(kind)
            if schema is None:
                import difflib

                from engine.schemas import record_kinds

                kinds = record_kinds()
                close = difflib.get_close_matches(kind, kinds, n=1)
                self.check.append(
                    self.at(
                        "rulebook.unknown-record-kind",
                        (*decision.path, "record"),
                        msg("rulebook.unknown-record-kind", kind=kind),
                        msg("did-you-mean", name=close[0])
                        if close
                        else msg("rulebook.unknown-record-kind/help", kinds=listing(kinds)),
                    )
                )
                return None
        t = schema_type(schema) if self.memo is None else self.memo.record_type(schema)
        self.record_schemas[decision.name] = schema
        if t.kind != "object":
            self.check.append(
                self.at(
                    "rulebook.record-schema",
                    (*decision.path, "record"),
                    msg("rulebook.record-schema:object", kind=kind),
                )
            )
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
        return CompiledRulebook(
            self.book,
            self.source,
            {d.name: d for d in decisions if d is not None},
            warnings=[d for d in self.check if d.severity != "error"],
        )

    def names_clash(self, decision: DecisionSpec) -> None:
        for name, expr in decision.values:
            if name in self.params or name in ("record", "as_of"):
                self.check.append(
                    self.at(
                        "check.name-clash",
                        expr.path,
                        msg("check.name-clash", name=name),
                        msg("check.name-clash/help"),
                        key=True,
                    )
                )

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
            names[("value", name)] = self.compile(c, names, ("value", name))
            checked_values[name] = c

        as_of_fn = as_of_checked = None
        if spec.as_of is not None:
            as_of_scope = Scope(scope.record, self.functions, spec.record_kind, dict(self.param_types))
            c = self.checked(self.parse(spec.as_of), spec.as_of, as_of_scope)
            if c is not None:
                if c.type_of(c.node).kind not in ("date", "dyn"):
                    self.check.append(self.at("check.type", spec.as_of.path, msg("check.type:as-of")))
                as_of_fn = self.compile(c, names)
                as_of_checked = c

        rules = []
        seen_ids: set[str] = set()
        for rule in spec.rules:
            if rule.id in seen_ids:
                self.check.append(
                    self.at(
                        "rulebook.duplicate-rule",
                        (*rule.path, "id"),
                        msg("rulebook.duplicate-rule", rule=rule.id, decision=spec.name),
                    )
                )
            seen_ids.add(rule.id)
            compiled = self.rule(rule, scope, names)
            if compiled is not None:
                rules.append(compiled)

        outputs = []
        for out in spec.outputs:
            when = self.checked(self.parse(out.when), out.when, scope, "`when`")
            value = self.checked(self.parse(out.value), out.value, scope)
            if value is not None and (out.when is None or when is not None):
                outputs.append(
                    CompiledOutput(
                        out,
                        self.compile(value, names),
                        self.compile(when, names) if when else None,
                        (value, when),
                    )
                )
        if record_t is None:
            return None
        return CompiledDecision(
            self.book,
            spec,
            record_t,
            as_of_fn,
            tuple(rules),
            tuple(outputs),
            {k[1]: v for k, v in names.items() if k[0] == "value"},
            fast=self.whole_decision(checked_values, rules, outputs, as_of_checked),
            record_schema=self.record_schemas.get(spec.name),
        )

    def whole_decision(
        self,
        values: dict[str, Checked],
        rules: list[CompiledRule],
        outputs: list[CompiledOutput],
        as_of: Checked | None,
    ) -> Any:
        """How to compile the decision as one function (see ``compile_decision``), when it can be.

        Not when the expressions are compiled some other way (the differential tests
        build rulebooks with the reference interpreter in place of ``compile_condition``),
        nor when the rulebook has errors (it is not built then).
        """
        if (
            compile_condition is not _compile.compile_condition
            or not self.whole
            or self.syntax
            or any(d.severity == "error" for d in self.check)
        ):
            return None
        plan = DecisionPlan(
            values,
            [
                (
                    r.spec.id,
                    r.checked[0],
                    r.checked[1],
                    r.checked[2],
                    r.spec.severity == Severity.ERROR or r.spec.is_data,
                )
                for r in rules
            ],
            [(o.spec.name, o.checked[0], o.checked[1]) for o in outputs],
            as_of,
            frozenset(i for i, r in enumerate(rules) if r.spec.is_data),
        )
        # compiled when the decision is first used; a partial of an importable function, so that a rulebook
        # read from the disk cache needs nothing of the builder
        return partial(compile_decision, plan, self.params)

    def value_order(
        self, spec: DecisionSpec, parsed: dict[str, tuple[Expr, A.Node | None]]
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
                members = trail[trail.index(n) :] if n in trail else [n]
                cyclic.update(members)
                cycle = " -> ".join([*members, n])
                self.check.append(
                    self.at("check.cycle", parsed[n][0].path, msg("check.cycle", cycle=cycle), msg("check.cycle/help"))
                )
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
        scope = Scope(
            decision_scope.record,
            self.functions,
            decision_scope.record_kind,
            decision_scope.params,
            decision_scope.values,
            {},
        )
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
            fn = self.compile(c, local_names, ("local", rule.id, name))
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
            self.compile(when, local_names) if when is not None else None,
            self.compile(require, local_names),
            tuple((k, v) for k, v in seen.items() if v is not None),
            extra,
            (checked_locals, when, require),
        )

    def path_getter(self, path: str, scope: Scope) -> Any:
        memo = self.memo
        key = ("record." + path, "<path>")
        node = memo.parsed.get(key) if memo is not None else None
        if node is None:
            try:
                node = parse_condition("record." + path)
            except ConditionSyntaxError:
                return None
            if memo is not None:
                memo.parsed.remember(key, node)
        ckey = ("record." + path, None, _type_key(scope.record), scope.record_kind, "<path>")
        c = memo.checked.get(ckey) if memo is not None else None
        if c is None:
            c = check_condition(node, scope)
            if not c.ok:
                return None
            if memo is not None and not c.diagnostics:
                memo.checked.remember(ckey, c)
        # cached per record by path: the rules that show the same field read it once
        getter = self.compile(c, {}, ("path", path))
        getter.checked = c  # a function's attribute, for the trace (``compile_trace``)
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

    def placeholders(
        self, rule: RuleSpec, scope: Scope, seen: dict[str, Any], names: dict[tuple[str, str], Any]
    ) -> tuple[tuple[str, Any], ...]:
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
                    extra[name] = constant_getter(self.params[name])
                elif name == "as_of":
                    extra[name] = as_of_getter
                elif ("value", name) in names:
                    extra[name] = names[("value", name)]
                else:
                    getter = self.path_getter(name, scope) if re.fullmatch(r"[A-Za-z_][\w.]*", name) else None
                    if getter is None:
                        known = sorted({*seen, *self.params, *scope.values, "as_of"})

                        close = self.placeholder_suggestion(name, known, scope)
                        self.check.append(
                            self.at(
                                "check.unknown-placeholder",
                                (*rule.path, "message", lang),
                                msg("check.unknown-placeholder", rule=rule.id, name=name),
                                msg("check.unknown-placeholder:close/help", name=close[0])
                                if close
                                else msg("check.unknown-placeholder/help"),
                            )
                        )
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
                self.check.append(
                    self.at(
                        "rulebook.unknown-decision",
                        (*ex.path, "decision"),
                        msg("rulebook.unknown-decision", example=ex.name, decision=ex.decision),
                    )
                )
                continue
            for rid in ex.expect_rules:
                if rid not in rules[ex.decision]:
                    self.check.append(
                        self.at(
                            "rulebook.unknown-rule",
                            (*ex.path, "expect", "rules", rid),
                            msg("rulebook.unknown-rule", example=ex.name, rule=rid),
                            key=True,
                        )
                    )
            for name in ex.expect_outputs:
                if name not in outputs[ex.decision]:
                    self.check.append(
                        self.at(
                            "rulebook.unknown-output",
                            (*ex.path, "expect", "outputs", name),
                            msg("rulebook.unknown-output", example=ex.name, name=name),
                            key=True,
                        )
                    )


def _broken(rec: Any, as_of: Any, ctx: Any) -> Any:
    """Stands in for a value that did not check; the build reports it and never runs this."""
    raise AssertionError("a rulebook with errors was evaluated")


def default_calendars() -> dict[str, Any]:
    """The working-day calendars every plugin registered (``CN`` is the built-in plugin's), with the
    year arrangements given to them."""
    from engine.pluginmanager import get_plugin_manager

    return dict(get_plugin_manager().calendars())


def build_rulebook(
    source: Source,
    *,
    base_dir: Path | None = None,
    functions: FunctionTable | None = None,
    calendars: Mapping[str, Any] | None = None,
    memo: BuildMemo | None = None,
    whole: bool = True,
) -> CompiledRulebook:
    """Run every stage on a rulebook's text.

    What the rulebook uses from the plugins is resolved here and handed down: the function table
    (``functions``, default the plugins') and the working-day calendars (``calendars``, name ->
    calendar, default the plugins'; each calendar that reads another is bound to the others), to
    which every function that reads calendars is bound (``FunctionSpec.bind``). The compiled
    rulebook carries both (``CompiledRulebook.functions``, ``.calendars``): evaluating it reads no
    process-wide state, so loading a plugin later does not change its answers.

    ``memo`` (a :class:`BuildMemo`, whose functions and calendars then serve) lets a text built
    again reuse what its unchanged expressions gave the last time; ``whole=False`` leaves each
    decision to run rule by rule, never compiled as one function (what an editor wants of a text
    it builds on every change: compiling a large decision whole takes longer than its examples
    take to run without it).

    Raises:
        YamlError, SchemaError, ConditionSyntaxError, CheckError: with positioned diagnostics.
    """
    loaded = load_yaml_cached(source, memo.yaml if memo else None)
    diagnostics = validate_rulebook(loaded.data, source, loaded.span, memo=memo.validation if memo else None)
    if diagnostics:
        raise SchemaError(diagnostics)
    book = rulebook_from_data(cast(dict[str, Any], loaded.data))  # valid under the schema: a mapping
    if memo is not None:
        cals, table = memo.calendars, memo.functions
    else:
        cals = bind_calendars(calendars) if calendars is not None else default_calendars()
        table = (functions or default_functions()).with_calendars(cals)
    builder = _Builder(book, source, loaded, base_dir, table, memo)
    builder.whole = whole
    compiled = builder.build()
    compiled.functions, compiled.calendars = table, cals
    return compiled


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

        raise RulebookError(Diagnostic.of("rulebook.unreadable", path=path, reason=os_reason(e))) from None
    except UnicodeDecodeError:
        from engine.errors import RulebookError

        raise RulebookError(Diagnostic.of("rulebook.encoding", path=path)) from None
    return build_rulebook(Source(display_name(path), text), base_dir=path.parent)
