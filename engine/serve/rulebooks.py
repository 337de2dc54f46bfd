"""The rulebooks a `rulebook serve` worker answers from, each built once, swapped whole.

A :class:`RulebookSet` holds the files it serves (the installed plugins' rulebooks,
``RULEBOOK_PATH``'s and the configured ``--rulebooks`` files and folders) and, at any moment,
one :class:`Snapshot`: an immutable view of every rulebook built from them.  A request takes
the snapshot once and answers from it alone, so a rulebook replaced meanwhile never mixes
into its answer.  ``reload_file`` builds a changed file and runs its examples; only when both
succeed does a new snapshot, with the new version in place of the old, replace the current
one (a single reference assignment).  Otherwise the old version keeps serving and the
failure, with its diagnostics in both languages, shows in :meth:`RulebookSet.status`.

A watched file that is gone (deleted, or renamed away by an editor that saves by renaming)
does not take its rulebook away: :meth:`RulebookSet.mark_gone` records the report
``serve.rulebook-gone`` (shown by ``status`` with the version still served), and the version
loaded from it keeps serving until the file is back and reloads like any edit.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import Diagnostic, EngineError, UsageError
from engine.evaluate import CompiledDecision, CompiledRulebook
from engine.messages import Text, listing, msg
from engine.registry import RulebookEntry, VersionedDecision
from engine.serve.config import ServeConfig

__all__ = ["GONE", "LoadedBook", "ReloadResult", "RulebookSet", "Snapshot"]

GONE = "serve.rulebook-gone"  # the code of the report of a watched file that is gone


@dataclass(frozen=True)
class LoadedBook:
    """One rulebook file built: its header as the registry shows it, and the compiled rulebook."""

    entry: RulebookEntry
    book: CompiledRulebook

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def version(self) -> str:
        return self.entry.version


@dataclass(frozen=True)
class Failure:
    """Why a file could not be (re)built, or that it is gone (``code`` :data:`GONE`), in both
    languages, and when."""

    path: Path
    message: Text
    at: str
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "diagnostic": {"zh": self.message.zh, "en": self.message.en}, "at": self.at}


@dataclass(frozen=True)
class ReloadResult:
    """What ``reload_file`` did: ``replaced`` (the new version serves), ``removed`` (the file is gone
    and its rulebook no longer serves), ``gone`` (the file is gone and its rulebook keeps serving,
    ``failure`` being the report), or none of them (``failure`` says why the old one still serves)."""

    path: Path
    replaced: bool
    removed: bool = False
    gone: bool = False
    failure: Failure | None = None
    book: LoadedBook | None = None


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class Snapshot:
    """An immutable view of the rulebooks served: by file, and by id with their versions.

    Built once and never changed; every structure a request reads from is made here, so a
    request holding a snapshot sees whole rulebooks only.
    """

    def __init__(self, books: Mapping[Path, LoadedBook]) -> None:
        self.books: Mapping[Path, LoadedBook] = dict(books)
        by_id: dict[str, list[LoadedBook]] = {}
        for loaded in self.books.values():
            by_id.setdefault(loaded.id, []).append(loaded)
        for versions in by_id.values():
            versions.sort(key=lambda b: (b.entry.effective_from, b.version))
        self.by_id: Mapping[str, tuple[LoadedBook, ...]] = {k: tuple(v) for k, v in sorted(by_id.items())}
        self._versioned: dict[tuple[str, str], VersionedDecision | UsageError] = {}
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        return list(self.by_id)

    def versions(self, rulebook_id: str) -> tuple[LoadedBook, ...]:
        """The versions of a rulebook, oldest first (raises UsageError ``usage.unknown-rulebook``)."""
        try:
            return self.by_id[rulebook_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(rulebook_id, list(self.by_id), n=1)
            raise UsageError(
                Diagnostic(
                    "usage.unknown-rulebook",
                    msg("usage.unknown-rulebook", rulebook=rulebook_id),
                    help=msg("did-you-mean", name=close[0]) if close else msg("usage.unknown-rulebook/help"),
                )
            ) from None

    def version(self, rulebook_id: str, version: str) -> LoadedBook:
        """One version by name (raises UsageError ``usage.unknown-version`` listing the versions)."""
        versions = self.versions(rulebook_id)
        for loaded in versions:
            if loaded.version == version:
                return loaded
        raise UsageError(
            Diagnostic.of(
                "usage.unknown-version",
                rulebook=rulebook_id,
                version=version,
                versions=listing(v.version for v in versions),
            )
        )

    def in_force(self, rulebook_id: str, day: _dt.date) -> LoadedBook:
        """The version in force on ``day`` (the latest to take effect), as the command line picks it."""
        versions = self.versions(rulebook_id)
        in_force = [v for v in versions if v.entry.in_force_on(day)]
        if in_force:
            return max(in_force, key=lambda v: (v.entry.effective_from, v.version))
        drafts = [v for v in versions if v.entry.status == "draft"]
        if drafts and len(drafts) == len(versions):
            latest = max(drafts, key=lambda v: (v.entry.effective_from, v.version))
            raise UsageError(Diagnostic.of("usage.draft-only", rulebook=rulebook_id, version=latest.version))
        shown = [
            msg(
                "usage.no-version-in-force:version",
                version=v.version,
                status=v.entry.status,
                start=v.entry.effective_from,
            )
            for v in versions
        ]
        raise UsageError(
            Diagnostic.of(
                "usage.no-version-in-force",
                rulebook=rulebook_id,
                day=day.isoformat(),
                versions=Text(", ".join(t.en for t in shown), "、".join(t.zh for t in shown)),
            )
        )

    def decision_of(self, loaded: LoadedBook, name: str) -> CompiledDecision:
        """A decision of one version (raises UsageError ``usage.unknown-decision`` listing its decisions)."""
        try:
            return loaded.book.decisions[name]
        except KeyError:
            raise UsageError(
                Diagnostic.of(
                    "usage.unknown-decision", rulebook=loaded.id, name=name, decisions=listing(loaded.book.decisions)
                )
            ) from None

    def versioned(self, rulebook_id: str, name: str) -> VersionedDecision:
        """The decision made by the version in force on each record's date (as ``check`` without
        ``--as-of``); raises UsageError when no version is in force or none has the decision."""
        key = (rulebook_id, name)
        found = self._versioned.get(key)
        if found is None:
            versions = self.versions(rulebook_id)
            in_force = [(v.entry, v.book) for v in versions if v.entry.status == "in_force"]
            try:
                if not in_force:
                    self.in_force(rulebook_id, _dt.date.today())  # raises the command line's error
                    raise AssertionError("not reached")  # pragma: no cover
                if not any(name in book.decisions for _e, book in in_force):
                    known = listing(sorted({d for _e, book in in_force for d in book.decisions}))
                    raise UsageError(
                        Diagnostic.of("usage.unknown-decision", rulebook=rulebook_id, name=name, decisions=known)
                    )
                found = VersionedDecision(rulebook_id, name, in_force)
            except UsageError as e:
                found = e
            with self._lock:
                found = self._versioned.setdefault(key, found)
        if isinstance(found, UsageError):
            raise found
        return found

    def label_version(self, rulebook_id: str) -> str:
        """The version an unreadable line's error object names when each record picks its own: the
        one in force today, else the newest (as ``check`` labels its run)."""
        versions = self.versions(rulebook_id)
        today = _dt.date.today()
        in_force = [v for v in versions if v.entry.in_force_on(today)]
        return max(in_force or versions, key=lambda v: (v.entry.effective_from, v.version)).version


@dataclass
class _State:
    books: dict[Path, LoadedBook] = field(default_factory=dict)
    failures: dict[Path, Failure] = field(default_factory=dict)
    gone: dict[Path, Failure] = field(default_factory=dict)  # watched files that are not there

    def copy(self, *, back: Path | None = None) -> _State:
        """A copy to change and publish (readers keep the one they took); ``back``: a file that
        is there again, whose report of being gone is dropped."""
        gone = {p: g for p, g in self.gone.items() if p != back}
        return _State(dict(self.books), dict(self.failures), gone)


class RulebookSet:
    """The rulebooks a server answers from: installed plugins' plus ``config.rulebook_paths``, each
    compiled once.

    Swapping a rulebook is atomic (one reference assignment of an immutable snapshot); a request
    holds the snapshot it started with, so it never sees half a rulebook.
    """

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self._snapshot = Snapshot({})
        self._state = _State()
        self._origins: dict[Path, tuple[str, str | None]] = {}  # file -> (origin, plugin)
        self._lock = threading.Lock()  # one writer at a time; readers never wait
        self.loaded = False

    # -- reading ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current view; a request reads everything from the one it took."""
        return self._snapshot

    def files(self) -> list[Path]:
        """The rulebook files a watcher should watch."""
        return list(self._origins)

    def status(self) -> dict[str, Any]:
        """What ``/readyz`` reports: ``ready`` once every file has a version serving, and per file
        its rulebook and version (``loaded``) or why it could not be built (``failed``; after a
        failed reload the old version still serves and both are shown).  A watched file that is
        gone shows its report instead (``code`` ``serve.rulebook-gone``, ``diagnostic``,
        ``gone_since``) beside the version still served."""
        state = self._state
        rulebooks = []
        for path in self._origins:
            loaded = state.books.get(path)
            failure = state.failures.get(path)
            gone = state.gone.get(path)
            item: dict[str, Any] = {"path": str(path), "status": "loaded" if loaded is not None else "failed"}
            if loaded is not None:
                item |= {"id": loaded.id, "version": loaded.version}
            if gone is not None:
                item |= {"code": GONE, "diagnostic": gone.to_json()["diagnostic"], "gone_since": gone.at}
            elif failure is not None:
                item["diagnostic"] = failure.to_json()["diagnostic"]
                item["failed_at"] = failure.at
            rulebooks.append(item)
        ready = self.loaded and bool(state.books) and all(p in state.books for p in self._origins)
        return {"ready": ready, "rulebooks": rulebooks}

    # -- building ---------------------------------------------------------------------------

    def load_all(self) -> None:
        """Build every rulebook; a file that fails is recorded (``status``), never raised."""
        from engine.registry import plugin_entries, rulebook_path_entries

        origins: dict[Path, tuple[str, str | None]] = {}
        try:
            for entry in [*plugin_entries(), *rulebook_path_entries()]:
                origins.setdefault(entry.path.resolve(), (entry.origin, entry.plugin))
        except EngineError as e:  # a plugin that cannot be loaded: nothing from the plugins serves
            with self._lock:
                self._state.failures[Path("<plugins>")] = Failure(Path("<plugins>"), _engine_text(e), _now())
        for root in self.config.rulebook_paths:
            for path in _yaml_files(root):
                origins.setdefault(path.resolve(), (f"--rulebooks ({root})", None))
        with self._lock:
            self._origins = origins
            state = _State(failures=dict(self._state.failures))
            for path, (origin, plugin) in origins.items():
                built = self._build(path, origin, plugin, examples=False)
                if not isinstance(built, Failure):
                    built = _unique(built, state.books, path)
                if isinstance(built, Failure):
                    state.failures[path] = built
                else:
                    state.books[path] = built
            self._publish(state)
            self.loaded = True

    def reload_file(self, path: Path, *, keep_when_gone: bool = False) -> ReloadResult:
        """Build ``path`` anew and run its examples; the new version replaces the old one only if both
        succeed.  Otherwise the old one keeps serving and the failure is recorded (``status``).

        A file that is not there is taken out of the set (``removed``), or with ``keep_when_gone``
        (the watcher) reported gone while its version keeps serving (``gone``, see ``mark_gone``).
        A file that is there again drops its report of being gone, whatever its build gives."""
        path = Path(path).resolve()
        with self._lock:
            origin, plugin = self._origins.get(path, (f"--rulebooks ({path.parent})", None))
            if not path.exists():
                if keep_when_gone:
                    report = self._gone(path)
                    return ReloadResult(path, replaced=False, gone=True, failure=report)
                state = self._state.copy(back=path)
                state.books.pop(path, None)
                state.failures.pop(path, None)
                self._origins.pop(path, None)
                self._publish(state)
                return ReloadResult(path, replaced=False, removed=True)
            built = self._build(path, origin, plugin, examples=True)
            if not isinstance(built, Failure):
                built = _unique(built, self._state.books, path)
            state = self._state.copy(back=path)
            self._origins.setdefault(path, (origin, plugin))
            if isinstance(built, Failure):
                state.failures[path] = built
                self._state = state  # the books and their snapshot stay as they were
                return ReloadResult(path, replaced=False, failure=built)
            state.books[path] = built
            state.failures.pop(path, None)
            self._publish(state)
            return ReloadResult(path, replaced=True, book=built)

    def mark_gone(self, path: Path) -> Failure:
        """Report that the watched file ``path`` is gone: the version loaded from it (if one was)
        keeps serving, and ``status`` shows the report (code :data:`GONE`, in both languages)
        until the file is reloaded.  Returns the report (the first one, when it was made already)."""
        path = Path(path).resolve()
        with self._lock:
            return self._gone(path)

    def _gone(self, path: Path) -> Failure:
        # called with the lock held; the snapshot is not touched: the same rulebooks serve
        report = self._state.gone.get(path)
        if report is not None:
            return report
        loaded = self._state.books.get(path)
        text = (
            msg("serve.rulebook-gone", path=str(path), rulebook=loaded.id, version=loaded.version)
            if loaded is not None
            else msg("serve.rulebook-gone:none", path=str(path))
        )
        report = Failure(path, text, _now(), code=GONE)
        state = self._state.copy()
        state.gone[path] = report
        self._state = state
        return report

    def _publish(self, state: _State) -> None:
        # INVARIANT: the snapshot is made whole before it is assigned; the assignment is the swap
        snapshot = Snapshot(state.books)
        self._state = state
        self._snapshot = snapshot

    def _build(self, path: Path, origin: str, plugin: str | None, examples: bool) -> LoadedBook | Failure:
        from engine.registry import Registry

        try:
            book = Registry([]).load_path(path)
        except EngineError as e:
            return Failure(path, _engine_text(e), _now())
        if examples:
            from engine.testing import run_examples

            bad = [r for r in run_examples(book) if not r.ok]
            if bad:
                lines_en = [
                    f"example `{r.example.name}` ({path.name}:{r.line}): {m.text('en')}"
                    for r in bad
                    for m in r.mismatches
                ]
                lines_zh = [
                    f"示例 `{r.example.name}`（{path.name}:{r.line}）：{m.text('zh')}"
                    for r in bad
                    for m in r.mismatches
                ]
                return Failure(path, Text("\n".join(lines_en), "\n".join(lines_zh)), _now())
        for decision in book.decisions.values():
            decision.compile()  # now, not on the first request
        b = book.book
        entry = RulebookEntry(
            b.id, b.version, b.status, b.effective_from, b.effective_until, b.title.zh, path, origin, plugin
        )
        return LoadedBook(entry, book)


def _unique(built: LoadedBook, books: Mapping[Path, LoadedBook], path: Path) -> LoadedBook | Failure:
    """The rulebook built, or a failure when another file serves the same id and version already."""
    clash = next((b for p, b in books.items() if p != path and (b.id, b.version) == (built.id, built.version)), None)
    if clash is None:
        return built
    return Failure(
        path,
        Text(
            f"`{built.id}@{built.version}` is served from `{clash.entry.path}` already",
            f"`{built.id}@{built.version}` 已由 `{clash.entry.path}` 提供",
        ),
        _now(),
    )


def _engine_text(e: EngineError) -> Text:
    return Text(e.render("en"), e.render("zh"))


def _yaml_files(root: Path) -> list[Path]:
    """A file as given, or the rulebook files of a folder (arrangement files under ``calendars/`` left out)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        return [root]  # reported as a failure to read it
    return sorted(
        p for p in [*root.rglob("*.yaml"), *root.rglob("*.yml")] if "calendars" not in p.relative_to(root).parts[:-1]
    )
