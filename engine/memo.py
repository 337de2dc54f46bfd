"""A small memo that starts again when full.

Several hot paths remember a few derived values keyed by what they are made
of: the JSON object of a rule in a generated trace (``lang/compile_decision``),
the version of a rulebook in force on a day (``registry.VersionedDecision``),
a file's head and the ``as_of``/``outcome`` part of a JSON line
(``evaluate``).  Their keys are few in practice (a feed's days, its files, the
combinations of a rule's values), but nothing bounds them, so each memo
forgets everything once it holds ``limit`` entries: no eviction order to keep,
lookups stay a plain dict's, and the memory is bounded.

This module imports no other module of the engine.
"""

from __future__ import annotations

from typing import TypeVar

__all__ = ["BoundedMemo"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(dict[K, V]):
    """A dict whose :meth:`remember` clears it first when it holds ``limit`` entries.

    Read it as a dict (``memo.get(key)``, ``memo[key]``): reads are the dict's own.
    Only :meth:`remember` adds entries, so the size never exceeds ``limit``.  It is
    cleared in place, so a hot path may bind ``memo.get`` once and call that (a lookup
    through a subclass's attribute costs more than a plain dict's).
    """

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a memo holds at least one entry, not {limit}")
        super().__init__()
        self.limit = limit

    def remember(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (starting again when full) and return it."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value

    def __reduce__(self) -> tuple[object, ...]:
        # a copy starts empty: what it remembered is derived and cheap to make again
        return (BoundedMemo, (self.limit,))
