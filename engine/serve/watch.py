"""``rulebook serve --watch``: reload a rulebook file when it changes, without a restart.

A thread looks at the files the server answers from (``RulebookSet.files()``, asked
again at every look, so that a file added to a watched folder is seen) every
``interval`` seconds.  It needs no dependency: a file has changed when its
modification time or size differs from the last look, and its content's SHA-256 then
differs from the content last handed to the server (saving a file unchanged, or
``touch``, reloads nothing).

A changed file goes to ``RulebookSet.reload_file``, which builds it anew and runs its
examples, and replaces the version being served only when both succeed, in one
reference assignment: a request holds the snapshot it started with, so it is answered
by the old version or the new one, never by half of each.  An edit that does not load
(a YAML mistake, a condition that does not check) or whose examples fail leaves the
old version serving; the watcher logs the diagnostic (logger ``rulebook.serve``), and
``/readyz`` reports it until a later edit loads.  A file saved in two steps by an
editor may be seen half-written: that look fails, and the next one loads the whole
file.

A file that is gone (deleted, or renamed away: an editor that saves by renaming may make it
vanish for a moment) never takes its rulebook away, since nothing could replace it whole:
the version loaded from it keeps serving.  That is reported, not kept quiet: once in the
log (a warning, ``serve.rulebook-gone``) and in ``/readyz``, in the file's entry, until the
file is back.  A file that comes back is reloaded like an edit (examples first, whatever
its content), which clears the report.

With several workers (``--workers N``) each worker process runs its own watcher on the
same files; for a moment after an edit some workers may answer with the new version
and others with the old one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import Diagnostic
from engine.messages import msg
from engine.serve.rulebooks import GONE

if TYPE_CHECKING:
    from engine.serve.rulebooks import Failure, ReloadResult, RulebookSet

__all__ = ["FileState", "RulebookWatcher", "describe_result"]

log = logging.getLogger("rulebook.serve")


@dataclass(frozen=True)
class FileState:
    """What a look at a file saw: ``None`` fields for a file that is not there."""

    mtime_ns: int | None
    size: int | None

    @classmethod
    def of(cls, path: Path) -> FileState:
        try:
            st = path.stat()
        except OSError:
            return cls(None, None)
        return cls(st.st_mtime_ns, st.st_size)

    @property
    def exists(self) -> bool:
        return self.size is not None


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def describe_result(result: ReloadResult, lang: str) -> str:
    """A reload's outcome for the log: the new rulebook version, or the diagnostic (in ``lang``)
    of why the old version was kept."""
    if result.failure is not None:
        return result.failure.message.get(lang)  # why the old version serves, or that the file is gone
    if result.book is not None:
        return f"{result.book.id}@{result.book.version}"
    return ""


class RulebookWatcher:
    """Polls the files of a :class:`RulebookSet` and reloads the ones that changed."""

    def __init__(self, rulebooks: RulebookSet, *, interval: float = 1.0, lang: str = "zh") -> None:
        self.rulebooks = rulebooks
        self.interval = interval
        self.lang = lang
        self._seen: dict[Path, FileState] = {}
        self._digests: dict[Path, str | None] = {}
        self._gone: set[Path] = set()  # files reported gone, not seen since
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reloads = 0  # reloads attempted, for tests and the log
        for path in self.paths():
            self._seen[path] = FileState.of(path)
            self._digests[path] = _digest(path)

    def paths(self) -> list[Path]:
        return [Path(p) for p in self.rulebooks.files()]

    def scan(self) -> list[tuple[Path, ReloadResult | None]]:
        """One look at every file; reload the changed ones and those that are back.  Returns
        (file, ReloadResult) of each reload.  A file that is gone is reported (``gone``), once."""
        done: list[tuple[Path, ReloadResult | None]] = []
        for path in self.paths():
            state = FileState.of(path)
            if state == self._seen.get(path):
                continue
            self._seen[path] = state
            if not state.exists:
                self._report_gone(path)
                continue
            digest = _digest(path)
            if path in self._gone:  # back: reloaded whatever its content, so that the report clears
                self._gone.discard(path)
                log.info("%s", msg("serve.rulebook-back", path=str(path)).get(self.lang))
            elif digest is None or (path in self._digests and digest == self._digests[path]):
                continue  # unreadable for a moment, or saved unchanged
            done.append((path, self._reload(path, digest)))
        return done

    def _report_gone(self, path: Path, report: Failure | None = None) -> None:
        """The file is gone: its version keeps serving, ``/readyz`` says so, and the log once."""
        self._seen[path] = FileState(None, None)
        report = self.rulebooks.mark_gone(path) if report is None else report
        if path in self._gone:
            return
        self._gone.add(path)
        diagnostic = Diagnostic(GONE, report.message, help=msg("serve.rulebook-gone/help"), severity="warning")
        log.warning("%s", diagnostic.render(self.lang))

    def _reload(self, path: Path, digest: str | None) -> ReloadResult | None:
        self.reloads += 1
        try:
            result = self.rulebooks.reload_file(path, keep_when_gone=True)
        except Exception:
            log.exception("reloading %s failed; the version loaded before keeps serving", path)
            return None
        if result.gone or (not result.replaced and not FileState.of(path).exists):
            # gone between the look and the reload: what the build said of it is moot
            self._report_gone(path, result.failure if result.gone else None)
            return result
        if digest is not None:
            self._digests[path] = digest
        if result.replaced:
            log.info("reloaded %s: %s now serving", path, describe_result(result, self.lang))
        else:
            log.error(
                "%s changed but does not load or its examples fail; the version loaded before keeps serving:\n%s",
                path,
                describe_result(result, self.lang),
            )
        return result

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.scan()
            except Exception:
                log.exception("watching the rulebook files failed")

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rulebook-watch", daemon=True)
            self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        self._stop.set()
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
