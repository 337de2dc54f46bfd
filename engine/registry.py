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

import copy
import datetime as _dt
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import Diagnostic, DuplicateNameError, EngineError, EvalError, RulebookError, UsageError
from engine.evaluate import CompiledDecision, CompiledRulebook, Decision, InputRef
from engine.lang.values import to_date
from engine.memo import BoundedMemo
from engine.messages import Text, listing, msg, os_reason
from engine.schemas import data_dir
from engine.source import Source

__all__ = [
    "Registry",
    "RulebookEntry",
    "VersionedDecision",
    "bundled_rulebook_paths",
    "installed_rulebook_paths",
    "plugin_entries",
]


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


def _supplier(e: RulebookEntry) -> Text:
    """Who supplied a rulebook, in words of both languages."""
    if e.plugin:
        return msg("plugin.label:origin", name=e.plugin, origin=e.origin)
    return Text(e.origin, e.origin)


def _header_fields(source: Source) -> dict[str, Any] | None:
    """The fields of a rulebook's header that the registry keeps, as plain data (None: not a rulebook)."""
    from engine.build import load_yaml_cached

    try:
        data = load_yaml_cached(source).data
    except EngineError:
        return None
    if not isinstance(data, dict) or "id" not in data:
        return None
    title = data.get("title")
    return {
        "id": str(data["id"]),
        "version": str(data.get("version", "")),
        "status": str(data.get("status", "")),
        "effective_from": str(data.get("effective_from", "")),
        "effective_until": str(data["effective_until"]) if data.get("effective_until") else None,
        "title": str(title.get("zh", "")) if isinstance(title, dict) else str(title or ""),
    }


def _read_header(path: Path, origin: str, plugin: str | None = None) -> RulebookEntry | None:
    from engine.cache import cached_header

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None

    def read() -> dict[str, Any] | None:
        from engine.build import display_name

        return _header_fields(Source(display_name(path), text))

    data = cached_header(text, read)  # the fields depend on the text alone
    if data is None:
        return None
    return RulebookEntry(**data, path=path, origin=origin, plugin=plugin)


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
            paths.extend(_rulebooks_in(Path(folder)))
    unique: dict[Path, Path] = {}  # the same file reached twice is linted once
    for path in paths:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _rulebooks_in(root: Path) -> list[Path]:
    """The rulebook files of a folder: its YAML files, but for arrangement files (``calendars/``)."""
    return sorted(
        p for p in [*root.rglob("*.yaml"), *root.rglob("*.yml")] if "calendars" not in p.relative_to(root).parts[:-1]
    )


def plugin_entries() -> list[RulebookEntry]:
    """Rulebooks registered by the plugins (the engine's own first), with who supplied each."""
    from engine.pluginmanager import get_plugin_manager

    return [
        e
        for path, info in get_plugin_manager().rulebook_files()
        if (e := _read_header(path, info.label, info.name)) is not None
    ]


def rulebook_path_entries() -> list[RulebookEntry]:
    """Rulebooks in the folders of the ``RULEBOOK_PATH`` environment variable."""
    out: list[RulebookEntry] = []
    for folder in os.environ.get("RULEBOOK_PATH", "").split(os.pathsep):
        if not folder.strip():
            continue
        for path in _rulebooks_in(Path(folder)):
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
                raise DuplicateNameError(
                    Diagnostic(
                        "plugin.duplicate-name",
                        msg(
                            "rulebook.duplicate",
                            rulebook=f"{e.id}@{e.version}",
                            first=_supplier(first),
                            first_path=first.path,
                            second=_supplier(e),
                            second_path=e.path,
                        ),
                        help=msg("rulebook.duplicate/help"),
                    )
                )

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
            raise UsageError(
                Diagnostic(
                    "usage.unknown-rulebook",
                    msg("usage.unknown-rulebook", rulebook=rid),
                    help=msg("did-you-mean", name=close[0]) if close else msg("usage.unknown-rulebook/help"),
                )
            )
        if version:
            for e in versions:
                if e.version == version:
                    return e
            raise UsageError(
                Diagnostic.of(
                    "usage.unknown-version",
                    rulebook=rid,
                    version=version,
                    versions=listing(e.version for e in versions),
                )
            )
        day = on or _dt.date.today()
        in_force = [e for e in versions if e.in_force_on(day)]
        if not in_force:
            shown = [
                msg("usage.no-version-in-force:version", version=e.version, status=e.status, start=e.effective_from)
                for e in versions
            ]
            drafts = [e for e in versions if e.status == "draft"]
            if drafts and len(drafts) == len(versions):
                # only drafts: say so, and how to name the latest one
                latest = max(drafts, key=lambda e: (e.effective_from, e.version))
                raise UsageError(Diagnostic.of("usage.draft-only", rulebook=rid, version=latest.version))
            raise UsageError(
                Diagnostic.of(
                    "usage.no-version-in-force",
                    rulebook=rid,
                    day=day.isoformat(),
                    versions=Text(", ".join(v.en for v in shown), "、".join(v.zh for v in shown)),
                )
            )
        return max(in_force, key=lambda e: (e.effective_from, e.version))

    def find_for_testing(self, name: str) -> RulebookEntry:
        """What ``rulebook test`` runs for a name: as ``find``, but an id alone with no version in force
        today is its latest draft (policy editors test a draft before it comes into force)."""
        rid, _, version = name.partition("@")
        if not version:
            versions = self.versions(rid)
            today = _dt.date.today()
            if versions and not any(e.in_force_on(today) for e in versions):
                drafts = [e for e in versions if e.status == "draft"]
                if drafts:
                    return max(drafts, key=lambda e: (e.effective_from, e.version))
        return self.find(name)

    def load(self, name: str, on: _dt.date | None = None) -> CompiledRulebook:
        """Resolve a rulebook named by id, id@version or path, and build it (cached)."""
        path = Path(name)
        if name.endswith((".yaml", ".yml")) or (path.exists() and path.is_file()):
            if not path.is_file():
                raise UsageError(Diagnostic("usage.no-such-file", msg("usage.no-such-file:rulebook", path=name)))
        else:
            path = self.find(name, on).path
        return self.load_path(path)

    def decision(
        self, name: str, decision: str | None = None, on: _dt.date | None = None
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
        entry = (
            self.find(name, None)
            if not any(e.in_force_on(_dt.date.today()) for e in self.versions(rid))
            else self.find(name)
        )
        versions = [(e, self.load_path(e.path)) for e in self.versions(rid) if e.status == "in_force"]
        name_of = decision or next(iter(versions[-1][1].decisions))
        if decision is not None:
            _pick(self.load_path(entry.path), decision)  # a clear error for an unknown decision
        return rid, entry.version, VersionedDecision(rid, name_of, versions)

    def load_path(self, path: Path) -> CompiledRulebook:
        try:
            text = path.read_bytes()
        except OSError as e:
            raise RulebookError(Diagnostic.of("rulebook.unreadable", path=path, reason=os_reason(e))) from None
        from engine.pluginmanager import get_plugin_manager

        # by content: an edit is a new build even within the same second and size; the plugins'
        # functions are compiled in, so a change of plugins is a new build too
        key = (str(path.resolve()), hashlib.sha256(text).hexdigest(), get_plugin_manager().generation)
        book = _COMPILED.get(key)
        if book is None:
            book = _COMPILED[key] = _load_or_build(path, text)
        return book


def _load_or_build(path: Path, text: bytes) -> CompiledRulebook:
    """Build a rulebook, through the disk cache of built rulebooks (``engine.cache``)."""
    from engine.cache import load_or_build

    return load_or_build(path, text, _build)  # type: ignore[no-any-return]  # what load_rulebook built


def _build(path: Path, text: bytes) -> CompiledRulebook:
    """The builder (YAML, schemas, the parser) is imported only when the cache does not have the rulebook."""
    from engine.build import load_rulebook

    return load_rulebook(path, text)


# Compiled rulebooks by (file, SHA-256 of its text, plugin generation): built once per process
# (forked workers inherit them; spawned ones build each again from its text).
_COMPILED: dict[tuple[str, str, int], CompiledRulebook] = {}


def _pick(book: CompiledRulebook, name: str | None) -> CompiledDecision:
    try:
        if name is None:
            return next(iter(book.decisions.values()))
        return book.decision(name)
    except (KeyError, StopIteration):
        raise UsageError(
            Diagnostic.of(
                "usage.unknown-decision", rulebook=book.id, name=name or "", decisions=listing(book.decisions)
            )
        ) from None


DAYS_REMEMBERED = 4096  # a feed's days are few: the version per day is remembered, starting again when full


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
            known = sorted({d for _e, book in versions for d in book.decisions})
            raise UsageError(
                Diagnostic(
                    "usage.unknown-decision",
                    msg("usage.unknown-decision:in-force", rulebook=rulebook_id, name=name),
                    help=msg("usage.unknown-decision/help", decisions=listing(known)),
                )
            )
        self.newest = self.versions[-1][1]
        # latest first: the first version in force on a day is the one that took effect last
        self._ranked = sorted(self.versions, key=lambda ed: (ed[0].effective_from, ed[0].version), reverse=True)
        self._on: BoundedMemo[_dt.date, CompiledDecision | None] = BoundedMemo(DAYS_REMEMBERED)  # version_on

    def version_on(self, day: _dt.date) -> CompiledDecision | None:
        """The version in force on ``day`` (the latest to take effect), or None."""
        try:
            return self._on[day]
        except KeyError:
            pass
        return self._on.remember(day, next((d for e, d in self._ranked if e.in_force_on(day)), None))

    enforcement_override: str | None = None

    def with_schema_enforcement(self, level: str | None) -> VersionedDecision:
        """Every version's decision with another schema enforcement level (``None``: their own)."""
        if level is None:
            return self
        other: VersionedDecision = copy.copy(self)
        other.versions = [(e, d.with_schema_enforcement(level)) for e, d in self.versions]
        other.newest = other.versions[-1][1]
        other._ranked = sorted(other.versions, key=lambda ed: (ed[0].effective_from, ed[0].version), reverse=True)
        other._on = BoundedMemo(DAYS_REMEMBERED)
        other.enforcement_override = level
        return other

    def evaluate(self, record: object, as_of: _dt.date | str | None = None, input: InputRef | None = None) -> Decision:
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
            err = EvalError("eval.no-version", msg("eval.no-version", rulebook=self.rulebook_id, day=day.isoformat()))
            return self.newest.evaluate_error(record, day, err, input)
        return decision.evaluate(record, day, input)
