"""The plugin manager: a typed facade over ``pluggy.PluginManager`` (tox's ``Plugin``).

Loading order: the built-in plugins of :data:`DEFAULT_PLUGINS` first (the
bundled rulebooks, the standard functions, the ``CN`` calendar and the output
formats come through the same hooks as anybody's), then the ``rulebook``
entry points of the installed distributions, sorted by name.  Environment:

``RULEBOOK_DISABLE_PLUGINS``  comma-separated entry-point or distribution names not to load
``RULEBOOK_LOAD_PLUGINS``     load only these (set but empty: no external plugin at all)
``RULEBOOK_TRACE_PLUGINS``    any value but ``0``: print every plugin load and hook call to stderr

After loading, ``check_pending`` turns a misspelt hook name into a
``PluginError`` naming the plugin, and every ``register_*`` hook is run once,
so that two plugins claiming one rulebook ``id@version`` (found by the
registry), function, calendar or format name are a ``DuplicateNameError``
naming both plugins, their distributions and versions, and the name.

Callers use the typed methods (``functions()``, ``calendars()``,
``formats()``, ``rulebook_files()``, ``open_records()``, ``decision_made()``)
rather than ``pm.hook``: each ``register_*`` implementation and each observer
is called on its own, which is what lets every name and every failure be
attributed to its plugin.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import itertools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

import pluggy

from engine import hookspecs
from engine.errors import Diagnostic, DuplicateNameError, EngineError, PluginError
from engine.hookspecs import PROJECT, DecisionContext, RecordOptions

if TYPE_CHECKING:
    from engine.calendars import Calendar
    from engine.evaluate import Decision, InputRef
    from engine.lang.functions import FunctionSpec, FunctionTable

__all__ = [
    "DEFAULT_PLUGINS",
    "PluginFailure",
    "PluginInfo",
    "PluginManager",
    "get_plugin_manager",
    "reset_plugin_manager",
]

#: The engine's own plugins, loaded before any entry point (module names).
DEFAULT_PLUGINS: tuple[str, ...] = ("engine.builtin",)

ENV_DISABLE = "RULEBOOK_DISABLE_PLUGINS"
ENV_LOAD = "RULEBOOK_LOAD_PLUGINS"
ENV_TRACE = "RULEBOOK_TRACE_PLUGINS"

# Hooks the facade calls one implementation at a time (wrappers would be skipped).
_ONE_BY_ONE = ("register_rulebooks", "register_functions", "register_calendars", "register_formats",
               "open_records", "decision_made")
_FORMAT_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")
# Every change to any manager's plugins gets a new number: compiled rulebooks are cached by it.
_GENERATIONS = itertools.count(1)


@dataclass(frozen=True)
class PluginInfo:
    """Who a plugin is: its name and the distribution (and version) that installed it."""

    name: str
    distribution: str | None = None
    version: str | None = None
    builtin: bool = False
    entry_point: str | None = None

    @property
    def label(self) -> str:
        """``rulebook-dancers 0.1.0``; the engine's own: ``rulebook-engine 0.1.0 (bundled)``."""
        if self.distribution is None:
            return f"plugin `{self.name}`"
        text = f"{self.distribution} {self.version}" if self.version else self.distribution
        return f"{text} (bundled)" if self.builtin else text

    def describe(self) -> str:
        """``plugin `dancers` (rulebook-dancers 0.1.0)``: how errors name a plugin."""
        if self.distribution is None:
            return f"plugin `{self.name}`"
        dist = f"{self.distribution} {self.version}" if self.version else self.distribution
        return f"{'built-in ' if self.builtin else ''}plugin `{self.name}` ({dist})"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin's hook implementation that raised (an observer, typically)."""

    plugin: PluginInfo
    hook: str
    error: BaseException

    def message(self) -> str:
        return f"{self.plugin.describe()} failed in `{self.hook}`: {type(self.error).__name__}: {self.error}"

    def diagnostic(self) -> Diagnostic:
        return Diagnostic("plugin.hook-failed", self.message(), severity="warning",
                          help="the decision was still reported; tell the plugin's authors",
                          message_zh=f"插件 `{self.plugin.name}` 在 `{self.hook}` 中出错：{self.error}")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {_normal(n) for n in re.split(r"[,\s]+", value) if n}


def _engine_info(module: str) -> PluginInfo:
    try:
        version = importlib.metadata.version("rulebook-engine")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        from engine import __version__ as version
    return PluginInfo(module.removeprefix("engine."), "rulebook-engine", version, builtin=True)


class PluginManager:
    """The engine's plugins, and typed access to what they register.

    Args:
        env: the environment to read ``RULEBOOK_*_PLUGINS`` from (default ``os.environ``).
        trace: where to write trace lines (default: standard error when
            ``RULEBOOK_TRACE_PLUGINS`` is set, else nowhere).
    """

    def __init__(self, env: Mapping[str, str] | None = None, trace: Callable[[str], None] | None = None) -> None:
        self.env = os.environ if env is None else env
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        self.disabled: list[PluginInfo] = []
        self.generation = next(_GENERATIONS)
        self._cache: dict[str, Any] = {}
        tracing = self.env.get(ENV_TRACE, "") not in ("", "0")
        self._trace = trace if trace is not None else (_stderr_trace if tracing else None)

    # -- loading ------------------------------------------------------------------------------

    def load(self, entry_points: bool = True) -> PluginManager:
        """Register the built-in plugins, then (unless told not to) the entry points.

        Raises:
            PluginError: a plugin cannot be imported, implements an unknown hook,
                or breaks a hook's rules.
            DuplicateNameError: two plugins register the same name.
        """
        for module in DEFAULT_PLUGINS:
            self.register(importlib.import_module(module), info=_engine_info(module), validate=False)
        if entry_points:
            self.load_entry_points()
        self.validate()
        return self

    def load_entry_points(self) -> None:
        """Register the ``rulebook`` entry points allowed by the environment."""
        allow = _names(self.env.get(ENV_LOAD))
        block = _names(self.env.get(ENV_DISABLE)) or set()
        eps = sorted(importlib.metadata.entry_points(group=PROJECT), key=lambda ep: (ep.name, ep.value))
        for ep in eps:
            dist = ep.dist
            info = PluginInfo(ep.name, dist.name if dist else None, dist.version if dist else None,
                              entry_point=f"{ep.name} = {ep.value}")
            keys = {_normal(ep.name)} | ({_normal(dist.name)} if dist else set())
            if (allow is not None and not keys & allow) or keys & block:
                self.disabled.append(info)
                self.trace(f"not loading {info.describe()}: "
                           + (ENV_DISABLE if keys & block else ENV_LOAD))
                continue
            other = self._info.get(ep.name)
            if other is not None:
                raise DuplicateNameError(Diagnostic(
                    "plugin.duplicate-name", f"two plugins are named `{ep.name}`: {other.describe()} and "
                    f"{info.describe()}", help=f"uninstall one of them, or set {ENV_DISABLE}",
                    message_zh=f"两个插件同名 `{ep.name}`：{other.label} 与 {info.label}"))
            try:
                plugin = ep.load()
            except Exception as e:  # noqa: BLE001 - any import problem of a plugin is reported as its own
                raise PluginError(Diagnostic(
                    "plugin.load", f"{info.describe()} cannot be loaded from `{ep.value}`: "
                    f"{type(e).__name__}: {e}", help=f"reinstall or fix it, or skip it with {ENV_DISABLE}={ep.name}",
                    message_zh=f"无法加载插件 `{ep.name}`：{e}")) from e
            self.register(plugin, info=info, validate=False)
            self.trace(f"loaded {info.describe()} from entry point `{info.entry_point}`")

    def register(self, plugin: object, name: str | None = None, *, info: PluginInfo | None = None,
                 validate: bool = True) -> str:
        """Register a plugin object (a module, a class or an instance with ``@hookimpl`` s).

        With ``validate`` (the default) the manager checks the new set of plugins at
        once, and unregisters the plugin again if it breaks a rule.

        Returns:
            the plugin's name.
        """
        if info is None:
            name = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin)}"
            info = PluginInfo(name)
        try:
            self._pm.register(plugin, name=info.name)
        except pluggy.PluginValidationError as e:
            text = " ".join(line.strip() for line in str(e).splitlines())
            raise PluginError(Diagnostic("plugin.invalid", f"{info.describe()} does not fit the hooks: {text}",
                                         help="the hooks and their arguments are listed in docs/plugins.md",
                                         message_zh=f"插件 `{info.name}` 与钩子定义不符：{text}")) from None
        except ValueError as e:  # the name or the object is registered already
            raise PluginError(Diagnostic("plugin.already-registered", f"{info.describe()}: {e}")) from None
        self._info[info.name] = info
        self._changed()
        if validate:
            try:
                self.validate()
            except EngineError:
                self.unregister(info.name)
                raise
        return info.name

    def unregister(self, plugin: object | str) -> None:
        """Remove a plugin (by object or name); what it registered is gone too."""
        name = plugin if isinstance(plugin, str) else self._pm.get_name(plugin)
        if name is None or self._pm.get_plugin(name) is None:
            return
        self._pm.unregister(name=name)
        self._info.pop(name, None)
        self._changed()

    def _changed(self) -> None:
        self.generation = next(_GENERATIONS)
        self._cache.clear()

    def validate(self) -> None:
        """Misspelt hooks, wrappers where none may be, and duplicate names are errors."""
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as e:
            name = self._pm.get_name(e.plugin) or "?"
            info = self._info.get(name, PluginInfo(name))
            bad = [n for n in self._pm.hook.__dict__ if not n.startswith("_")
                   and not getattr(self._pm.hook, n).has_spec()
                   and any(i.plugin is e.plugin for i in getattr(self._pm.hook, n).get_hookimpls())]
            hook = bad[0] if bad else "?"
            close = difflib.get_close_matches(hook, hookspecs.__all__, n=1)
            raise PluginError(Diagnostic(
                "plugin.unknown-hook", f"{info.describe()} implements `{hook}`, which is not a hook",
                help=f"did you mean `{close[0]}`?" if close else "the hooks are listed in docs/plugins.md",
                message_zh=f"插件 `{info.name}` 实现了不存在的钩子 `{hook}`")) from None
        for hook in _ONE_BY_ONE:
            for impl in getattr(self._pm.hook, hook).get_hookimpls():
                if impl.wrapper or impl.hookwrapper:
                    raise PluginError(Diagnostic(
                        "plugin.invalid", f"{self.info(impl.plugin_name).describe()}: `{hook}` cannot be a wrapper",
                        help="remove `wrapper=True` / `hookwrapper=True` from its @hookimpl"))
        self.functions()
        self.calendars()
        self.formats()
        self.rulebook_files()

    # -- what is loaded -------------------------------------------------------------------------

    def info(self, name: str) -> PluginInfo:
        return self._info.get(name) or PluginInfo(name)

    def plugins(self) -> list[tuple[PluginInfo, list[str]]]:
        """Every registered plugin, in loading order, with the hooks it implements."""
        out = []
        for name, plugin in self._pm.list_name_plugin():
            hooks = sorted(c.name for c in self._pm.get_hookcallers(plugin) or [])
            out.append((self.info(name), hooks))
        return out

    def trace(self, message: str) -> None:
        if self._trace is not None:
            self._trace(message)

    # -- the register_* hooks -----------------------------------------------------------------

    def _impls(self, hook: str) -> list[pluggy.HookImpl]:
        """The implementations in registration order (built-ins first); tryfirst/trylast respected."""
        impls: list[pluggy.HookImpl] = getattr(self._pm.hook, hook).get_hookimpls()
        return impls

    def _call(self, impl: pluggy.HookImpl, hook: str, kwargs: dict[str, Any]) -> Any:
        self.trace(f"{hook}({', '.join(_short(k, kwargs[k]) for k in impl.argnames)}) -> "
                   f"{self.info(impl.plugin_name).describe()}")
        return impl.function(**{k: kwargs[k] for k in impl.argnames})

    def _collect(self, hook: str) -> list[tuple[PluginInfo, tuple[Any, ...]]]:
        """Call each implementation of a ``register_*`` hook; what each registered, attributed."""
        out: list[tuple[PluginInfo, tuple[Any, ...]]] = []
        for impl in self._impls(hook):
            info = self.info(impl.plugin_name)

            def register(*args: Any, _info: PluginInfo = info) -> None:
                out.append((_info, args))

            try:
                self._call(impl, hook, {"register": register})
            except EngineError:
                raise
            except Exception as e:  # noqa: BLE001 - a broken plugin is reported by name
                raise PluginError(Diagnostic(
                    "plugin.hook-failed", f"{info.describe()} failed in `{hook}`: {type(e).__name__}: {e}",
                    message_zh=f"插件 `{info.name}` 在 `{hook}` 中出错：{e}")) from e
        return out

    def _named(self, hook: str, what: str, items: Iterable[tuple[PluginInfo, str, Any]]) -> dict[str, Any]:
        by_name: dict[str, tuple[PluginInfo, Any]] = {}
        for info, name, value in items:
            first = by_name.get(name)
            if first is not None:
                raise DuplicateNameError(Diagnostic(
                    "plugin.duplicate-name", f"{what} `{name}` is registered twice: by {first[0].describe()} and by "
                    f"{info.describe()}", help=f"uninstall one of them, or set {ENV_DISABLE}",
                    message_zh=f"{_WHAT_ZH.get(what, what)} `{name}` 重复注册：{first[0].describe()} 与 "
                    f"{info.describe()}", help_zh=f"请卸载其中一个，或设置 {ENV_DISABLE}"))
            by_name[name] = (info, value)
        self._cache[f"origin:{hook}"] = {n: i for n, (i, _) in by_name.items()}
        return {n: v for n, (_, v) in by_name.items()}

    def origin(self, hook: str, name: str) -> PluginInfo | None:
        """Which plugin registered ``name`` through ``hook`` (e.g. ``register_functions``)."""
        {"register_functions": self.functions, "register_calendars": self.calendars,
         "register_formats": self.formats}[hook]()
        origins: dict[str, PluginInfo] = self._cache.get(f"origin:{hook}", {})
        return origins.get(name)

    def functions(self) -> FunctionTable:
        """Every registered function (the standard library included), checked for duplicates."""
        table = self._cache.get("functions")
        if table is None:
            from engine.lang.functions import FunctionSpec, FunctionTable

            items = []
            for info, args in self._collect("register_functions"):
                spec = _one(info, "register_functions", args)
                if not isinstance(spec, FunctionSpec):
                    raise _bad(info, "register_functions", f"expected a FunctionSpec, got {type(spec).__name__}")
                items.append((info, spec.name, spec))
            table = self._cache["functions"] = FunctionTable(self._named("register_functions", "function",
                                                                         items).values())
        return table  # type: ignore[no-any-return]

    def calendars(self) -> dict[str, Calendar]:
        """Every registered calendar by name."""
        cals = self._cache.get("calendars")
        if cals is None:
            items = []
            for info, args in self._collect("register_calendars"):
                cal = _one(info, "register_calendars", args)
                name = getattr(cal, "name", None)
                if not isinstance(name, str) or not name or not all(
                        callable(getattr(cal, m, None)) for m in ("is_working_day", "working_days_after")):
                    raise _bad(info, "register_calendars", "a calendar needs a `name` and the methods "
                               "`is_working_day(day)` and `working_days_after(day, n)`")
                items.append((info, name, cal))
            cals = self._cache["calendars"] = self._named("register_calendars", "calendar", items)
        return cals  # type: ignore[no-any-return]

    def formats(self) -> dict[str, type]:
        """Every registered output format of ``check`` by name."""
        fmts = self._cache.get("formats")
        if fmts is None:
            items = []
            for info, args in self._collect("register_formats"):
                if len(args) != 2 or not isinstance(args[0], str) or not callable(args[1]):
                    raise _bad(info, "register_formats", "call `register(name, report_class)`")
                if not _FORMAT_NAME.match(args[0]):
                    raise _bad(info, "register_formats", f"`{args[0]}` is not a format name (lowercase letters, "
                               "digits, `-` and `_`)")
                items.append((info, args[0], args[1]))
            fmts = self._cache["formats"] = self._named("register_formats", "format", items)
        return fmts  # type: ignore[no-any-return]

    def rulebook_files(self) -> list[tuple[Path, PluginInfo]]:
        """Every rulebook YAML file the plugins registered (folders expanded), with its plugin.

        Duplicate ``id@version`` pairs are found by the registry, which reads the headers.
        """
        files = self._cache.get("rulebooks")
        if files is None:
            files = []
            for info, args in self._collect("register_rulebooks"):
                raw = _one(info, "register_rulebooks", args)
                if not isinstance(raw, (str, os.PathLike)):
                    raise _bad(info, "register_rulebooks", f"expected a path, got {type(raw).__name__}")
                path = Path(raw)
                if path.is_dir():
                    files.extend((p, info) for p in sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")]))
                elif path.is_file():
                    files.append((path, info))
                else:
                    raise _bad(info, "register_rulebooks", f"`{path}` is neither a file nor a folder")
            self._cache["rulebooks"] = files
        return files  # type: ignore[no-any-return]

    # -- open_records and decision_made -------------------------------------------------------------

    def has_custom_readers(self) -> bool:
        """Whether a plugin other than the built-in one implements ``open_records``."""
        return any(not self.info(impl.plugin_name).builtin for impl in self._impls("open_records"))

    def open_records(self, path: str, options: RecordOptions | None = None) -> Iterator[tuple[InputRef, Any]]:
        """The records of ``path`` from the first plugin whose ``open_records`` returns a reader.

        Raises:
            UsageError: no plugin can read it.
            PluginError: a reader raised something other than an ``EngineError``.
        """
        options = options or RecordOptions()
        # pluggy calls the last registered first (tryfirst/trylast respected); so do we
        for impl in reversed(self._impls("open_records")):
            info = self.info(impl.plugin_name)
            try:
                reader = self._call(impl, "open_records", {"path": path, "options": options})
            except EngineError:
                raise
            except Exception as e:  # noqa: BLE001
                raise _failed(info, "open_records", path, e) from e
            if reader is not None:
                return _guarded(reader, info, path)
        from engine.errors import UsageError

        raise UsageError(Diagnostic("usage.unsupported-input", f"no installed reader can read `{path}`",
                                    help="use .json or .jsonl, or install a plugin that reads this kind of file",
                                    message_zh=f"没有可以读取 `{path}` 的读取器"))

    def has_observers(self) -> bool:
        return bool(getattr(self._pm.hook, "decision_made").get_hookimpls())

    def decision_made(self, decision: Decision, context: DecisionContext) -> list[PluginFailure]:
        """Tell every observer about a decision; returns the observers that failed (never raises)."""
        failures: list[PluginFailure] = []
        for impl in self._impls("decision_made"):
            try:
                self._call(impl, "decision_made", {"decision": decision, "context": context})
            except Exception as e:  # noqa: BLE001 - a failing observer never loses a decision
                failures.append(PluginFailure(self.info(impl.plugin_name), "decision_made", e))
        return failures


_WHAT_ZH = {"function": "函数", "calendar": "日历", "format": "输出格式"}


def _one(info: PluginInfo, hook: str, args: tuple[Any, ...]) -> Any:
    if len(args) != 1:
        raise _bad(info, hook, f"`register` takes one argument, got {len(args)}")
    return args[0]


def _bad(info: PluginInfo, hook: str, message: str) -> PluginError:
    return PluginError(Diagnostic("plugin.invalid", f"{info.describe()} in `{hook}`: {message}",
                                  message_zh=f"插件 `{info.name}` 在 `{hook}` 中注册有误：{message}"))


def _failed(info: PluginInfo, hook: str, path: str, e: Exception) -> PluginError:
    return PluginError(Diagnostic(
        "plugin.hook-failed", f"{info.describe()} failed in `{hook}` on `{path}`: {type(e).__name__}: {e}",
        help="run with --debug for the traceback; tell the plugin's authors",
        message_zh=f"插件 `{info.name}` 读取 `{path}` 时出错：{e}"))


def _guarded(reader: Iterable[tuple[InputRef, Any]], info: PluginInfo, path: str) -> Iterator[tuple[InputRef, Any]]:
    it = iter(reader)
    while True:
        try:
            item = next(it)
        except StopIteration:
            return
        except EngineError:
            raise
        except Exception as e:  # noqa: BLE001
            raise _failed(info, "open_records", path, e) from e
        yield item


def _short(name: str, value: Any) -> str:
    if name == "register":
        return "register"
    if name == "decision" and hasattr(value, "record_id"):
        return f"decision=<{value.decision} {value.record_id}: {value.outcome}>"
    text = repr(value)
    return f"{name}={text if len(text) <= 60 else text[:57] + '...'}"


def _stderr_trace(message: str) -> None:
    sys.stderr.write(f"rulebook-trace: {message}\n")


_MANAGER: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process's plugin manager, loaded on first use (built-ins, then entry points)."""
    global _MANAGER  # noqa: PLW0603 - one manager per process, like pytest's config.pluginmanager
    if _MANAGER is None:
        _MANAGER = PluginManager().load()
    return _MANAGER


def reset_plugin_manager() -> None:
    """Forget the process's plugin manager: the next use loads the plugins again
    (and reads the ``RULEBOOK_*_PLUGINS`` variables again)."""
    global _MANAGER  # noqa: PLW0603
    _MANAGER = None

