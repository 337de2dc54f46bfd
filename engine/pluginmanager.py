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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from engine import hookspecs
from engine.errors import Diagnostic, DuplicateNameError, EngineError, PluginError
from engine.hookspecs import PROJECT, DecisionContext, RecordOptions
from engine.messages import Text, msg

if TYPE_CHECKING:
    from engine.calendars import Calendar
    from engine.evaluate import Decision, InputRef
    from engine.lang.functions import FunctionTable

__all__ = [
    "DEFAULT_PLUGINS",
    "PluginFailure",
    "PluginInfo",
    "PluginManager",
    "calendar_names",
    "get_calendar",
    "get_plugin_manager",
    "reset_plugin_manager",
]

#: The engine's own plugins, loaded before any entry point (module names).
DEFAULT_PLUGINS: tuple[str, ...] = ("engine.builtin",)

ENV_DISABLE = "RULEBOOK_DISABLE_PLUGINS"
ENV_LOAD = "RULEBOOK_LOAD_PLUGINS"
ENV_TRACE = "RULEBOOK_TRACE_PLUGINS"

# Hooks the facade calls one implementation at a time (wrappers would be skipped).
_ONE_BY_ONE = (
    "register_rulebooks",
    "register_functions",
    "register_calendars",
    "register_formats",
    "open_records",
    "decision_made",
)
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

    def describe_text(self) -> Text:
        """How messages name a plugin, in both languages: ``plugin `dancers` (rulebook-dancers 0.1.0)``."""
        if self.distribution is None:
            return msg("plugin.label", name=self.name)
        dist = f"{self.distribution} {self.version}" if self.version else self.distribution
        return msg(
            "plugin.label:built-in" if self.builtin else "plugin.label:distribution", name=self.name, distribution=dist
        )

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
        return Diagnostic(
            "plugin.hook-failed",
            msg(
                "plugin.hook-failed", plugin=self.plugin.describe_text(), hook=self.hook, error=_error_text(self.error)
            ),
            severity="warning",
            help=msg("plugin.hook-failed:observer/help"),
        )


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
        from engine.version import __version__ as version
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
            info = PluginInfo(
                ep.name,
                dist.name if dist else None,
                dist.version if dist else None,
                entry_point=f"{ep.name} = {ep.value}",
            )
            keys = {_normal(ep.name)} | ({_normal(dist.name)} if dist else set())
            if (allow is not None and not keys & allow) or keys & block:
                self.disabled.append(info)
                self.trace(f"not loading {info.describe()}: " + (ENV_DISABLE if keys & block else ENV_LOAD))
                continue
            other = self._info.get(ep.name)
            if other is not None:
                raise DuplicateNameError(
                    Diagnostic.of(
                        "plugin.duplicate-name",
                        name=ep.name,
                        first=other.describe_text(),
                        second=info.describe_text(),
                        variable=ENV_DISABLE,
                    )
                )
            try:
                plugin = ep.load()
            except Exception as e:
                raise PluginError(
                    Diagnostic.of(
                        "plugin.load",
                        plugin=info.describe_text(),
                        entry_point=ep.value,
                        error=_error_text(e),
                        variable=ENV_DISABLE,
                        name=ep.name,
                    )
                ) from e
            self.register(plugin, info=info, validate=False)
            self.trace(f"loaded {info.describe()} from entry point `{info.entry_point}`")

    def register(
        self, plugin: object, name: str | None = None, *, info: PluginInfo | None = None, validate: bool = True
    ) -> str:
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
            raise PluginError(
                Diagnostic.of("plugin.invalid", plugin=info.describe_text(), detail=f"`{text}`")
            ) from None
        except ValueError as e:  # the name or the object is registered already
            raise PluginError(
                Diagnostic.of("plugin.already-registered", plugin=info.describe_text(), detail=f"`{e}`")
            ) from None
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
            bad = [
                n
                for n in self._pm.hook.__dict__
                if not n.startswith("_")
                and not getattr(self._pm.hook, n).has_spec()
                and any(i.plugin is e.plugin for i in getattr(self._pm.hook, n).get_hookimpls())
            ]
            hook = bad[0] if bad else "?"
            close = difflib.get_close_matches(hook, hookspecs.__all__, n=1)
            raise PluginError(
                Diagnostic(
                    "plugin.unknown-hook",
                    msg("plugin.unknown-hook", plugin=info.describe_text(), hook=hook),
                    help=msg("did-you-mean", name=close[0]) if close else msg("plugin.unknown-hook/help"),
                )
            ) from None
        for hook in _ONE_BY_ONE:
            for impl in getattr(self._pm.hook, hook).get_hookimpls():
                if impl.wrapper or impl.hookwrapper:
                    raise PluginError(
                        Diagnostic(
                            "plugin.invalid",
                            msg(
                                "plugin.invalid:wrapper", plugin=self.info(impl.plugin_name).describe_text(), hook=hook
                            ),
                            help=msg("plugin.invalid:wrapper/help"),
                        )
                    )
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
        self.trace(
            f"{hook}({', '.join(_short(k, kwargs[k]) for k in impl.argnames)}) -> "
            f"{self.info(impl.plugin_name).describe()}"
        )
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
            except Exception as e:
                raise PluginError(
                    Diagnostic(
                        "plugin.hook-failed",
                        msg("plugin.hook-failed", plugin=info.describe_text(), hook=hook, error=_error_text(e)),
                    )
                ) from e
        return out

    def _named(self, hook: str, what: str, items: Iterable[tuple[PluginInfo, str, Any]]) -> dict[str, Any]:
        by_name: dict[str, tuple[PluginInfo, Any]] = {}
        for info, name, value in items:
            first = by_name.get(name)
            if first is not None:
                raise DuplicateNameError(
                    Diagnostic(
                        "plugin.duplicate-name",
                        msg(
                            "plugin.duplicate-name:registered",
                            what=msg(f"plugin.what:{what}"),
                            name=name,
                            first=first[0].describe_text(),
                            second=info.describe_text(),
                        ),
                        help=msg("plugin.duplicate-name/help", variable=ENV_DISABLE),
                    )
                )
            by_name[name] = (info, value)
        self._cache[f"origin:{hook}"] = {n: i for n, (i, _) in by_name.items()}
        return {n: v for n, (_, v) in by_name.items()}

    def origin(self, hook: str, name: str) -> PluginInfo | None:
        """Which plugin registered ``name`` through ``hook`` (e.g. ``register_functions``)."""
        {"register_functions": self.functions, "register_calendars": self.calendars, "register_formats": self.formats}[
            hook
        ]()
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
                    raise _bad(
                        info,
                        "register_functions",
                        msg("plugin.invalid:expected", expected="FunctionSpec", got=type(spec).__name__),
                    )
                items.append((info, spec.name, spec))
            table = self._cache["functions"] = FunctionTable(
                self._named("register_functions", "function", items).values()
            )
        return table

    def calendars(self) -> dict[str, Calendar]:
        """Every registered calendar by name, with the year arrangements given to it applied, each
        bound to the others (``engine.calendars.bind_calendars``).

        ``register_calendars`` takes calendars, and also a year's arrangement for a calendar
        (an ``engine.calendars.Arrangement``, or the path of an arrangement file or of a folder of
        them); arrangement files in the ``calendars`` folder of every rulebook folder (the
        plugins' and the ``RULEBOOK_PATH`` ones) are read too.
        """
        cals = self._cache.get("calendars")
        if cals is None:
            from engine.calendars import Arrangement, load_arrangement_file

            items = []
            arrangements: list[tuple[str, Arrangement]] = []
            for info, args in self._collect("register_calendars"):
                cal = _one(info, "register_calendars", args)
                if isinstance(cal, Arrangement):
                    arrangements.append((info.describe(), cal))
                    continue
                if isinstance(cal, (str, os.PathLike)):
                    path = Path(cal)
                    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
                    for file in files:
                        arrangements.append((info.describe(), load_arrangement_file(file)))
                    continue
                name = getattr(cal, "name", None)
                if (
                    not isinstance(name, str)
                    or not name
                    or not all(callable(getattr(cal, m, None)) for m in ("is_working_day", "working_days_after"))
                ):
                    raise _bad(info, "register_calendars", msg("plugin.invalid:calendar"))
                items.append((info, name, cal))
            cals = self._named("register_calendars", "calendar", items)
            for folder in self.calendar_folders():
                for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
                    arrangements.append((str(file), load_arrangement_file(file)))
            _apply_arrangements(cals, arrangements)
            from engine.calendars import bind_calendars

            cals = self._cache["calendars"] = bind_calendars(cals)
        return cals

    def calendar_folders(self) -> list[Path]:
        """The ``calendars`` folders of every rulebook folder: the plugins' and ``RULEBOOK_PATH``'s."""
        self.rulebook_files()
        roots = list(self._cache.get("rulebook_folders", []))
        roots += [Path(f) for f in os.environ.get("RULEBOOK_PATH", "").split(os.pathsep) if f.strip()]
        out: dict[Path, Path] = {}
        for root in roots:
            folder = root / "calendars"
            if folder.is_dir():
                out.setdefault(folder.resolve(), folder)
        return list(out.values())

    def formats(self) -> dict[str, type]:
        """Every registered output format of ``check`` by name."""
        fmts = self._cache.get("formats")
        if fmts is None:
            items = []
            for info, args in self._collect("register_formats"):
                if len(args) != 2 or not isinstance(args[0], str) or not callable(args[1]):
                    raise _bad(info, "register_formats", msg("plugin.invalid:format-call"))
                if not _FORMAT_NAME.match(args[0]):
                    raise _bad(info, "register_formats", msg("plugin.invalid:format-name", name=args[0]))
                items.append((info, args[0], args[1]))
            fmts = self._cache["formats"] = self._named("register_formats", "format", items)
        return fmts

    def rulebook_files(self) -> list[tuple[Path, PluginInfo]]:
        """Every rulebook YAML file the plugins registered (folders expanded), with its plugin.

        Duplicate ``id@version`` pairs are found by the registry, which reads the headers.
        """
        files = self._cache.get("rulebooks")
        if files is None:
            files = []
            folders: list[Path] = []
            for info, args in self._collect("register_rulebooks"):
                raw = _one(info, "register_rulebooks", args)
                if not isinstance(raw, (str, os.PathLike)):
                    raise _bad(
                        info,
                        "register_rulebooks",
                        msg("plugin.invalid:expected", expected="path", got=type(raw).__name__),
                    )
                path = Path(raw)
                if path.is_dir():
                    folders.append(path)
                    # arrangement files (``calendars/``) sit beside the rulebooks but are not rulebooks
                    files.extend(
                        (p, info)
                        for p in sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
                        if "calendars" not in p.relative_to(path).parts[:-1]
                    )
                elif path.is_file():
                    files.append((path, info))
                else:
                    raise _bad(info, "register_rulebooks", msg("plugin.invalid:not-a-path", path=path))
            self._cache["rulebooks"] = files
            self._cache["rulebook_folders"] = folders
        return files

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
            except Exception as e:
                raise _failed(info, "open_records", path, e) from e
            if reader is not None:
                return _guarded(reader, info, path)
        from engine.errors import UsageError

        raise UsageError(
            Diagnostic(
                "usage.unsupported-input",
                msg("usage.unsupported-input:reader", path=path),
                help=msg("usage.unsupported-input:reader/help"),
            )
        )

    def reader_of(self, path: str, options: RecordOptions | None = None) -> PluginInfo | None:
        """The plugin other than the built-in one whose ``open_records`` would read ``path`` (None:
        the built-in reader would, or none can); the reader it returns is closed unread.  For
        callers that read the file elsewhere (``check --dask``) and must read it the same way.

        Raises:
            PluginError: a reader raised something other than an ``EngineError``.
        """
        options = options or RecordOptions()
        for impl in reversed(self._impls("open_records")):
            info = self.info(impl.plugin_name)
            if info.builtin:
                continue
            try:
                reader = self._call(impl, "open_records", {"path": path, "options": options})
            except EngineError:
                raise
            except Exception as e:
                raise _failed(info, "open_records", path, e) from e
            if reader is not None:
                close = getattr(reader, "close", None)
                if callable(close):
                    close()
                return info
        return None

    def has_observers(self) -> bool:
        return bool(self._pm.hook.decision_made.get_hookimpls())

    def decision_made(self, decision: Decision, context: DecisionContext) -> list[PluginFailure]:
        """Tell every observer about a decision; returns the observers that failed (never raises)."""
        failures: list[PluginFailure] = []
        for impl in self._impls("decision_made"):
            try:
                self._call(impl, "decision_made", {"decision": decision, "context": context})
            except Exception as e:  # noqa: BLE001 - a failing observer never loses a decision
                failures.append(PluginFailure(self.info(impl.plugin_name), "decision_made", e))
        return failures


def _one(info: PluginInfo, hook: str, args: tuple[Any, ...]) -> Any:
    if len(args) != 1:
        raise _bad(info, hook, msg("plugin.invalid:arguments", count=len(args)))
    return args[0]


def _bad(info: PluginInfo, hook: str, message: Text) -> PluginError:
    return PluginError(
        Diagnostic(
            "plugin.invalid", msg("plugin.invalid:registration", plugin=info.describe_text(), hook=hook, detail=message)
        )
    )


def _failed(info: PluginInfo, hook: str, path: str, e: Exception) -> PluginError:
    return PluginError(
        Diagnostic(
            "plugin.hook-failed",
            msg("plugin.hook-failed:reader", plugin=info.describe_text(), hook=hook, path=path, error=_error_text(e)),
            help=msg("plugin.hook-failed:reader/help"),
        )
    )


def _error_text(e: BaseException) -> Text:
    """A plugin's exception (its words are the plugin's own, in no particular language: quoted
    in a Chinese message)."""
    return Text(f"{type(e).__name__}: {e}", f"`{type(e).__name__}: {e}`")


def _guarded(reader: Iterable[tuple[InputRef, Any]], info: PluginInfo, path: str) -> Iterator[tuple[InputRef, Any]]:
    it = iter(reader)
    while True:
        try:
            item = next(it)
        except StopIteration:
            return
        except EngineError:
            raise
        except Exception as e:
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


def get_calendar(name: str = "CN") -> Calendar:
    """The calendar registered under ``name`` by a plugin in this process (``CN``: the built-in one).

    For tools, tests and plugins' own commands: a compiled rulebook evaluates with the
    calendars it was built with (``CompiledRulebook.calendars``), never with this.

    Raises:
        KeyError: no plugin registered a calendar of that name.
    """
    return get_plugin_manager().calendars()[name]


def calendar_names() -> list[str]:
    """The names of every calendar the plugins registered in this process."""
    return sorted(get_plugin_manager().calendars())


def get_plugin_manager() -> PluginManager:
    """The process's plugin manager, loaded on first use (built-ins, then entry points)."""
    global _MANAGER  # noqa: PLW0603 - one manager per process, like pytest's config.pluginmanager
    if _MANAGER is None:
        _MANAGER = PluginManager().load()
    return _MANAGER


def reset_plugin_manager() -> None:
    """Forget the process's plugin manager: the next use loads the plugins again
    (and reads the ``RULEBOOK_*_PLUGINS`` variables again)."""
    global _MANAGER  # noqa: PLW0603 - the same process-wide manager as get_plugin_manager
    _MANAGER = None


def _apply_arrangements(cals: dict[str, Any], arrangements: list[tuple[str, Any]]) -> None:
    """Give each year's arrangement to its calendar; two for the same calendar and year is an error."""
    from engine.calendars import CalendarError
    from engine.messages import Text

    seen: dict[tuple[str, int], str] = {}
    for origin, a in arrangements:
        cal = cals.get(a.calendar)
        if cal is None or not callable(getattr(cal, "add", None)):
            known = ", ".join(f"`{n}`" for n in sorted(n for n, c in cals.items() if callable(getattr(c, "add", None))))
            raise CalendarError(
                Diagnostic(
                    "calendar.unknown-calendar",
                    Text(
                        f"{origin}: the arrangement is for calendar `{a.calendar}`, which "
                        "takes no arrangements or is not installed",
                        f"{origin}：放假安排所属的日历 `{a.calendar}` 未安装或不接受放假安排",
                    ),
                    help=Text(f"calendars that take arrangements: {known}", f"接受放假安排的日历：{known}"),
                )
            )
        first = seen.setdefault((a.calendar, a.year), origin)
        if first != origin:
            raise CalendarError(
                Diagnostic(
                    "calendar.duplicate-year",
                    Text(
                        f"the {a.year} arrangement of calendar `{a.calendar}` is given "
                        f"twice: by {first} and by {origin}",
                        f"日历 `{a.calendar}` 的 {a.year} 年放假安排重复：{first} 与 {origin}",
                    ),
                    help=Text("keep one of them", "请只保留一个"),
                )
            )
        cal.add(a)
