"""Rulebooks by id and version; picking the version in force on a date.

A rulebook is named on the command line by id (``hlj-musicians/membership``),
by id and version (``hlj-musicians/membership@2022-04-15``) or by a path to a
YAML file.  By id alone, the registry picks the version in force on the
evaluation date: status ``in_force`` (or ``repealed``, for a date inside its
effective period), ``effective_from <= date <= effective_until``; among
several, the latest ``effective_from``.  Drafts are only used when named
with their version or by path.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from engine.errors import Diagnostic, EngineError, RulebookError, UsageError
from engine.evaluate import CompiledRulebook
from engine.schemas import data_dir
from engine.source import Source

__all__ = ["Registry", "RulebookEntry"]


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

    def in_force_on(self, day: _dt.date) -> bool:
        if self.status == "draft":
            return False
        start = self.effective_from
        end = self.effective_until
        iso = day.isoformat()
        return start <= iso and (end is None or iso <= end)


def _read_header(path: Path, origin: str) -> RulebookEntry | None:
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
        path=path, origin=origin)


def bundled_rulebook_paths() -> list[Path]:
    root = data_dir() / "rulebooks"
    return sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")])


class Registry:
    """The installed rulebooks (bundled ones and, later, those of plugins)."""

    def __init__(self, entries: Iterable[RulebookEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: (e.id, e.effective_from, e.version))

    @classmethod
    def default(cls) -> Registry:
        entries = [e for p in bundled_rulebook_paths() if (e := _read_header(p, "rulebook-engine (bundled)"))]
        return cls(entries)

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

    def load_path(self, path: Path) -> CompiledRulebook:
        from engine.build import load_rulebook

        try:
            stat = path.stat()
        except OSError as e:
            raise RulebookError(Diagnostic("rulebook.unreadable", f"cannot read `{path}`: {e.strerror}")) from None
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        book = _COMPILED.get(key)
        if book is None:
            book = _COMPILED[key] = load_rulebook(path)
        return book


# Compiled rulebooks by (file, modification time, size): building is done once per process.
_COMPILED: dict[tuple[str, int, int], CompiledRulebook] = {}
