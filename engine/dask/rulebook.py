"""What a worker is sent of a rulebook, and how it builds the decision from it.

Compiled conditions are Python code objects made in one process; they are never
pickled to another.  The client sends a :class:`RulebookSpec` instead: the
rulebook's YAML text (each version's, when the version is chosen per record),
the record schema files its decisions name beside it, the decision, the schema
enforcement level and the plugins the rulebook needs (name, distribution,
version).  A worker builds the decision from that text once per process and
keeps it under the spec's content hash (:func:`decision_for`); every later
partition with the same spec finds it there.

A worker that lacks a plugin the rulebook needs, or has another version of it,
fails with :class:`WorkerSetupError`, a plain exception whose message names the
plugin and the worker, in the run's language, rather than with an unknown
function or a pickling traceback.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from engine.errors import Diagnostic, PluginError, UsageError
from engine.messages import msg

__all__ = [
    "BookText",
    "RulebookSpec",
    "WorkerSetupError",
    "built_keys",
    "check_plugin",
    "decision_for",
    "forget_built",
    "rulebook_spec",
]


@dataclass(frozen=True)
class BookText:
    """One rulebook file as text: its name in messages, its text, the record schema files
    beside it that its decisions name (``(name as written, text)``), and, for a version
    picked per record, the registry's header fields of it."""

    name: str
    text: str
    files: tuple[tuple[str, str], ...] = ()
    entry: tuple[tuple[str, Any], ...] | None = None


@dataclass(frozen=True)
class RulebookSpec:
    """Everything a worker needs to build a decision, as plain data (the unit sent to workers)."""

    rulebook: str  # the rulebook's id
    version: str  # the version shown (as ``check`` shows it)
    decision: str
    books: tuple[BookText, ...]
    versioned: bool  # an id alone: the version in force on each record's date
    enforcement: str | None
    plugins: tuple[tuple[str, str | None, str | None], ...]  # (name, distribution, version)

    @property
    def key(self) -> str:
        """The SHA-256 of everything the built decision depends on."""
        h = hashlib.sha256()
        parts: list[str] = [self.rulebook, self.version, self.decision, str(self.versioned), str(self.enforcement)]
        for book in self.books:
            parts += [book.name, book.text, repr(book.files), repr(book.entry)]
        parts += [repr(p) for p in self.plugins]
        for part in parts:
            data = part.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
        return h.hexdigest()


class WorkerSetupError(Exception):
    """A worker cannot build the rulebook (a plugin it needs is missing or another version).

    Made of plain strings only, so that Dask can send it back to the client as it is;
    ``str()`` is the message in the run's language, :meth:`error` the engine's error.
    """

    def __init__(self, key: str, values: dict[str, str], lang: str = "en") -> None:
        super().__init__(key, values, lang)
        self.key = key
        self.values = values
        self.lang = lang

    def __reduce__(self) -> tuple[Any, ...]:
        return (WorkerSetupError, (self.key, self.values, self.lang))

    def __str__(self) -> str:
        return msg(self.key, **self.values).get(self.lang)

    def error(self) -> PluginError:
        help_text = msg(f"{self.key}/help", **self.values)
        return PluginError(Diagnostic(self.key, msg(self.key, **self.values), help=help_text))


# -- on the client -------------------------------------------------------------------------------------------


def rulebook_spec(
    rulebook: str,
    decision: str | None = None,
    as_of: _dt.date | None = None,
    enforcement: str | None = None,
) -> tuple[RulebookSpec, Any]:
    """The spec of a rulebook named as ``check`` names it (id, id@version or path), and the
    decision built here (for the reports' rule specs and early errors)."""
    from engine.registry import Registry, VersionedDecision

    reg = Registry.default()
    rid, version, built = reg.decision(rulebook, decision, as_of)
    built = built.with_schema_enforcement(enforcement)
    books: list[BookText] = []
    paths: list[tuple[Path, Any]] = []
    if isinstance(built, VersionedDecision):
        for entry, _d in built.versions:
            paths.append((entry.path, entry))
    else:
        path = Path(rulebook)
        if not (rulebook.endswith((".yaml", ".yml")) or path.is_file()):
            path = reg.find(rulebook, as_of).path
        paths.append((path, None))
    supplier: set[str] = set()
    for path, entry in paths:
        book = reg.load_path(path)
        files = []
        for d in book.book.decisions:
            kind = d.record_kind
            if kind.endswith(".json"):
                files.append((kind, _beside(path, kind, book.id)))
        fields = None
        if entry is not None:
            fields = tuple(
                (k, getattr(entry, k))
                for k in ("id", "version", "status", "effective_from", "effective_until", "title", "origin", "plugin")
            )
            if entry.plugin:
                supplier.add(entry.plugin)
        else:
            supplier.update(e.plugin for e in reg.entries if e.plugin and _same(e.path, path))
        books.append(BookText(book.source.name, book.source.text, tuple(files), fields))
    spec = RulebookSpec(
        rid,
        version,
        built.name,
        tuple(books),
        isinstance(built, VersionedDecision),
        enforcement,
        _plugins_needed(supplier, [b.text for b in books]),
    )
    return spec, built


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _beside(path: Path, kind: str, rulebook: str) -> str:
    """The text of a record schema file a rulebook names, which must be in its folder or below."""
    pure = PurePosixPath(kind.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts:
        raise UsageError(Diagnostic.of("dask.schema-outside", kind=kind, rulebook=rulebook))
    return (path.parent / kind).read_text(encoding="utf-8")


def _plugins_needed(supplier: set[str], texts: list[str]) -> tuple[tuple[str, str | None, str | None], ...]:
    """The plugins a rulebook needs: the one that supplied it, and those whose functions or
    calendars its text names (a word of the text equal to the name: the check errs on the side
    of asking for a plugin)."""
    from engine.pluginmanager import get_plugin_manager

    pm = get_plugin_manager()
    words: set[str] = set()
    for text in texts:
        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text))
        words.update(w for word in list(words) for w in word.split("."))
    needed = set(supplier)
    for hook, names in (("register_functions", pm.functions().names()), ("register_calendars", list(pm.calendars()))):
        for name in names:
            info = pm.origin(hook, name)
            if info is not None and not info.builtin and name in words:
                needed.add(info.name)
    out = []
    for name in sorted(needed):
        info = pm.info(name)
        out.append((name, info.distribution, info.version))
    return tuple(out)


# -- on a worker ---------------------------------------------------------------------------------------------

_BUILT: dict[str, Any] = {}  # spec key -> decision, built once per worker process
BUILDS: list[str] = []  # the keys built in this process, in order (what the tests count)


def decision_for(spec: RulebookSpec, lang: str = "en") -> Any:
    """The decision of ``spec``, built from its text the first time this process is asked."""
    key = spec.key
    built = _BUILT.get(key)
    if built is None:
        import gc

        built = _BUILT[key] = _build(spec, lang)
        BUILDS.append(key)
        # The decision, its compiled code and the worker's own modules are long-lived: the collector
        # need not look at them again each time a record's garbage is collected (as ``check --jobs``).
        gc.freeze()
    return built


def built_keys() -> list[str]:
    """The keys of the specs this process built, in the order built (run it on the workers with
    ``client.run(built_keys)`` to see what each one built)."""
    return list(BUILDS)


def forget_built() -> None:
    """Drop the decisions this process built (the next partition builds its decision again)."""
    _BUILT.clear()
    BUILDS.clear()


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        import socket

        return f"{socket.gethostname()} (pid {os.getpid()})"


def _check_plugins(spec: RulebookSpec, lang: str) -> None:
    for plugin in spec.plugins:
        check_plugin(plugin, "dask.missing-plugin", {"rulebook": spec.rulebook}, lang)


def check_plugin(
    plugin: tuple[str, str | None, str | None], missing: str, values: dict[str, str], lang: str = "en"
) -> None:
    """That this worker has the plugin ``(name, distribution, version)`` the client used, else a
    :class:`WorkerSetupError`: ``missing`` (with ``values``) when it has none, ``dask.plugin-version``
    when it has another version."""
    from engine.pluginmanager import get_plugin_manager

    pm = get_plugin_manager()
    name, distribution, version = plugin
    wanted = f"{distribution} {version}" if distribution and version else (distribution or name)
    requirement = f"{distribution}=={version}" if distribution and version else (distribution or name)
    loaded = {i.name: i for i, _hooks in pm.plugins()}
    info = loaded.get(name)
    if info is None:
        raise WorkerSetupError(
            missing,
            {**values, "worker": _worker_name(), "plugin": name, "distribution": wanted, "requirement": requirement},
            lang,
        )
    if version is not None and info.version != version:
        found = f"{info.distribution} {info.version}" if info.distribution else "?"
        raise WorkerSetupError(
            "dask.plugin-version",
            {"worker": _worker_name(), "plugin": name, "found": found, "wanted": wanted, "requirement": requirement},
            lang,
        )


def _build(spec: RulebookSpec, lang: str) -> Any:
    from engine.build import build_rulebook
    from engine.registry import RulebookEntry, VersionedDecision
    from engine.source import Source

    _check_plugins(spec, lang)
    built: list[tuple[Any, Any]] = []
    for book in spec.books:
        folder = Path(tempfile.mkdtemp(prefix="rulebook-dask-"))
        try:
            for name, text in book.files:  # the record schemas, where the rulebook names them
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            compiled = build_rulebook(Source(book.name, book.text), base_dir=folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        entry = None
        if book.entry is not None:
            fields = dict(book.entry)
            entry = RulebookEntry(**fields, path=Path(book.name))
        built.append((entry, compiled))
    if spec.versioned:
        decision: Any = VersionedDecision(spec.rulebook, spec.decision, built)
    else:
        decision = built[0][1].decisions[spec.decision]  # the client checked that it exists
    decision = decision.with_schema_enforcement(spec.enforcement)
    compile_ahead = getattr(decision, "compile_ahead", None)
    if compile_ahead is not None:
        compile_ahead()
    return decision
