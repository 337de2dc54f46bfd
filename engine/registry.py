"""Rulebooks by id and version; picking the version in force on a date.

A rulebook is named on the command line by id (``hlj-musicians/membership``),
by id and version (``hlj-musicians/membership@2022-04-15``) or by a path to a
YAML file.  By id alone, the version in force on the evaluation date decides:
status ``in_force`` and ``effective_from <= date <= effective_until``; among
several, the latest ``effective_from``.  Drafts and repealed versions are used
only when named with their version or by path.  When the evaluation date comes
from each record (e.g. its application date), :class:`VersionedDecision`
picks the version per record, so that one feed spanning a change of the rules
is judged by the rules in force for each record.

Rulebooks come from the plugins' ``register_rulebooks`` hook (the bundled
ones, ``rulebooks/`` in the repository, from the engine's own plugin) and from
the folders listed in the ``RULEBOOK_PATH`` environment variable (separated
like ``PATH``); the same id and version twice is a ``DuplicateNameError``
naming both suppliers (plugin, distribution and version) and both files.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from engine.errors import Diagnostic, DuplicateNameError, EngineError, EvalError, RulebookError, UsageError
from engine.evaluate import CompiledDecision, CompiledRulebook, Decision, InputRef
from engine.lang.values import to_date
from engine.schemas import data_dir
from engine.source import Source

__all__ = ["Registry", "RulebookEntry", "VersionedDecision", "bundled_rulebook_paths", "installed_rulebook_paths",
           "plugin_entries"]


@dataclass(frozen=True)
class RulebookEntry:
    """What ``rulebook list`` shows about one rulebook version, read from its header."""

    id: str
    version: str
    status: str
    effective_from: str
    effective_until: str | None
    title: str
    path: Path
    origin: str = "rulebook-engine (bundled)"
    plugin: str | None = None  # the name of the plugin that registered it (None: RULEBOOK_PATH)

    @property
    def supplier(self) -> str:
        """Who supplied it, for messages: ``plugin `dancers` (rulebook-dancers 0.1.0)``."""
        return f"plugin `{self.plugin}` ({self.origin})" if self.plugin else self.origin

    def in_force_on(self, day: _dt.date) -> bool:
        if self.status != "in_force":
            return False
        start = self.effective_from
        end = self.effective_until
        iso = day.isoformat()
        return start <= iso and (end is None or iso <= end)


def _read_header(path: Path, origin: str, plugin: str | None = None) -> RulebookEntry | None:
    from engine.build import display_name, load_yaml_cached

    try:
        data = load_yaml_cached(Source(display_name(path), path.read_text(encoding="utf-8"))).data
    except (OSError, UnicodeDecodeError, EngineError):
        return None
    if not isinstance(data, dict) or "id" not in data:
        return None
    title = data.get("title")
    return RulebookEntry(
        id=str(data["id"]), version=str(data.get("version", "")), status=str(data.get("status", "")),
        effective_from=str(data.get("effective_from", "")),
        effective_until=str(data["effective_until"]) if data.get("effective_until") else None,
        title=str(title.get("zh", "")) if isinstance(title, dict) else str(title or ""),
        path=path, origin=origin, plugin=plugin)


def bundled_rulebook_paths() -> list[Path]:
    """The rulebook files the engine itself ships (registered by its built-in plugin)."""
    root = data_dir() / "rulebooks"
    return sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")])


def installed_rulebook_paths() -> list[Path]:
    """Every rulebook file installed: the plugins' (the engine's own first), then those in the
    ``RULEBOOK_PATH`` folders; files that do not load are included (``lint`` reports them)."""
    from engine.pluginmanager import get_plugin_manager

    paths = [Path(path) for path, _info in get_plugin_manager().rulebook_files()]
    for folder in os.environ.get("RULEBOOK_PATH", "").split(os.pathsep):
        if folder.strip():
            root = Path(folder)
            paths.extend(sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]))
    unique: dict[Path, Path] = {}  # the same file reached twice is linted once
    for path in paths:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def plugin_entries() -> list[RulebookEntry]:
    """Rulebooks registered by the plugins (the engine's own first), with who supplied each."""
    from engine.pluginmanager import get_plugin_manager

    return [e for path, info in get_plugin_manager().rulebook_files()
            if (e := _read_header(path, info.label, info.name)) is not None]


def rulebook_path_entries() -> list[RulebookEntry]:
    """Rulebooks in the folders of the ``RULEBOOK_PATH`` environment variable."""
    out: list[RulebookEntry] = []
    for folder in os.environ.get("RULEBOOK_PATH", "").split(os.pathsep):
        if not folder.strip():
            continue
        root = Path(folder)
        for path in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]):
            entry = _read_header(path, f"RULEBOOK_PATH ({folder})")
            if entry is not None:
                out.append(entry)
    return out


class Registry:
    """The installed rulebooks: the plugins' (bundled ones included) and those on ``RULEBOOK_PATH``."""

    def __init__(self, entries: Iterable[RulebookEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: (e.id, e.effective_from, e.version))
        seen: dict[tuple[str, str], RulebookEntry] = {}
        for e in self.entries:
            first = seen.setdefault((e.id, e.version), e)
            if first is not e:
                raise DuplicateNameError(Diagnostic(
                    "plugin.duplicate-name", f"rulebook `{e.id}@{e.version}` is supplied twice: by "
                    f"{first.supplier} in `{first.path}` and by {e.supplier} in `{e.path}`",
                    help="remove one of them, or give one another version",
                    message_zh=f"规则集 `{e.id}@{e.version}` 重复：{first.supplier}（{first.path}）与 "
                    f"{e.supplier}（{e.path}）"))

    @classmethod
    def default(cls) -> Registry:
        return cls([*plugin_entries(), *rulebook_path_entries()])

    def ids(self) -> list[str]:
        return sorted({e.id for e in self.entries})

    def versions(self, rulebook_id: str) -> list[RulebookEntry]:
        return [e for e in self.entries if e.id == rulebook_id]

    def find(self, name: str, on: _dt.date | None = None) -> RulebookEntry:
        """The entry for ``id`` or ``id@version`` (raises UsageError with suggestions)."""
        rid, _, version = name.partition("@")
        versions = self.versions(rid)
        if not versions:
            import difflib

            close = difflib.get_close_matches(rid, self.ids(), n=1)
            raise UsageError(Diagnostic(
                "usage.unknown-rulebook", f"no rulebook `{rid}` is installed",
                help=f"did you mean `{close[0]}`?" if close else
                "`rulebook list` shows the installed rulebooks; a path to a YAML file works too",
                message_zh=f"没有安装规则集 `{rid}`"))
        if version:
            for e in versions:
                if e.version == version:
                    return e
            raise UsageError(Diagnostic(
                "usage.unknown-version", f"rulebook `{rid}` has no version `{version}`",
                help="versions: " + ", ".join(f"`{e.version}`" for e in versions),
                message_zh=f"规则集 `{rid}` 没有版本 `{version}`"))
        day = on or _dt.date.today()
        in_force = [e for e in versions if e.in_force_on(day)]
        if not in_force:
            raise UsageError(Diagnostic(
                "usage.no-version-in-force", f"no version of `{rid}` is in force on {day.isoformat()}",
                help="name a version with `" + rid + "@VERSION`, or give another `--as-of`; versions: "
                + ", ".join(f"`{e.version}` ({e.status}, from {e.effective_from})" for e in versions),
                message_zh=f"规则集 `{rid}` 在 {day.isoformat()} 没有生效的版本"))
        return max(in_force, key=lambda e: (e.effective_from, e.version))

    def load(self, name: str, on: _dt.date | None = None) -> CompiledRulebook:
        """Resolve a rulebook named by id, id@version or path, and build it (cached)."""
        path = Path(name)
        if name.endswith((".yaml", ".yml")) or (path.exists() and path.is_file()):
            if not path.is_file():
                raise UsageError(Diagnostic("usage.no-such-file", f"no such rulebook file `{name}`",
                                            message_zh=f"找不到规则集文件 `{name}`"))
        else:
            path = self.find(name, on).path
        return self.load_path(path)

    def decision(self, name: str, decision: str | None = None, on: _dt.date | None = None
                 ) -> tuple[str, str, CompiledDecision | VersionedDecision]:
        """What ``check``/``explain`` evaluate with: (rulebook id, version shown, decision).

        A path, an ``id@version`` or a given date fixes one version; an id alone
        gives a :class:`VersionedDecision` that picks the version per record.
        """
        rid = name.partition("@")[0]
        fixed = "@" in name or on is not None or name.endswith((".yaml", ".yml")) or Path(name).is_file()
        if fixed:
            book = self.load(name, on)
            return book.id, book.version, _pick(book, decision)
        entry = self.find(name, None) if not any(e.in_force_on(_dt.date.today()) for e in self.versions(rid)) \
            else self.find(name)
        versions = [(e, self.load_path(e.path)) for e in self.versions(rid) if e.status == "in_force"]
        name_of = decision or next(iter(versions[-1][1].decisions))
        if decision is not None:
            _pick(self.load_path(entry.path), decision)  # a clear error for an unknown decision
        return rid, entry.version, VersionedDecision(rid, name_of, versions)

    def load_path(self, path: Path) -> CompiledRulebook:
        from engine.build import load_rulebook

        try:
            text = path.read_bytes()
        except OSError as e:
            raise RulebookError(Diagnostic("rulebook.unreadable", f"cannot read `{path}`: {e.strerror}")) from None
        from engine.pluginmanager import get_plugin_manager

        # by content: an edit is a new build even within the same second and size; the plugins'
        # functions are compiled in, so a change of plugins is a new build too
        key = (str(path.resolve()), hashlib.sha256(text).hexdigest(), get_plugin_manager().generation)
        book = _COMPILED.get(key)
        if book is None:
            book = _COMPILED[key] = load_rulebook(path, text)
        return book


# Compiled rulebooks by (file, SHA-256 of its text, plugin generation): built once per process
# (forked workers inherit them; spawned ones build each again from its text).
_COMPILED: dict[tuple[str, str, int], CompiledRulebook] = {}


def _pick(book: CompiledRulebook, name: str | None) -> CompiledDecision:
    try:
        if name is None:
            return next(iter(book.decisions.values()))
        return book.decision(name)
    except (KeyError, StopIteration) as e:
        raise UsageError(Diagnostic("usage.unknown-decision", str(e.args[0]) if e.args else "no decision",
                                    help="`--decision NAME` picks one", message_zh="没有这个决定")) from None


class VersionedDecision:
    """One decision of a rulebook id, made by the version in force on each record's date.

    The date is the one given, else the one the newest version's ``as_of``
    expression computes from the record.  A record whose date no version covers
    gets every rule ``error`` ("no version ... in force on ..."), never a
    silent choice of another version.
    """

    def __init__(self, rulebook_id: str, name: str, versions: list[tuple[RulebookEntry, CompiledRulebook]]) -> None:
        self.rulebook_id = rulebook_id
        self.name = name
        self.versions = [(e, book.decisions[name]) for e, book in versions if name in book.decisions]
        if not self.versions:
            raise UsageError(Diagnostic("usage.unknown-decision", f"no version of `{rulebook_id}` in force has a "
                                        f"decision `{name}`", message_zh=f"规则集 `{rulebook_id}` 没有决定 `{name}`"))
        self.newest = self.versions[-1][1]
        # latest first: the first version in force on a day is the one that took effect last
        self._ranked = sorted(self.versions, key=lambda ed: (ed[0].effective_from, ed[0].version), reverse=True)
        self._on: dict[_dt.date, CompiledDecision | None] = {}  # version_on, remembered per day

    def version_on(self, day: _dt.date) -> CompiledDecision | None:
        """The version in force on ``day`` (the latest to take effect), or None."""
        try:
            return self._on[day]
        except KeyError:
            pass
        found = next((d for e, d in self._ranked if e.in_force_on(day)), None)
        if len(self._on) >= 4096:  # a feed's days are few; a memo that starts again when full
            self._on.clear()
        self._on[day] = found
        return found

    def evaluate(self, record: object, as_of: _dt.date | str | None = None, input: InputRef | None = None
                 ) -> Decision:
        try:
            if as_of is not None:
                day = to_date(as_of, "as_of")
            elif isinstance(record, dict):
                day = self.newest.resolve_as_of(record, None)
            else:
                return self.newest.evaluate(record, None, input)
        except Exception:  # noqa: BLE001 - the newest version reports why the date is unknown
            return self.newest.evaluate(record, as_of, input)
        decision = self.version_on(day)
        if decision is None:
            err = EvalError("eval.no-version", f"no version of `{self.rulebook_id}` is in force on {day.isoformat()}",
                            None, f"`{self.rulebook_id}` 在 {day.isoformat()} 没有生效的版本")
            return self.newest.evaluate_error(record, day, err, input)
        return decision.evaluate(record, day, input)


