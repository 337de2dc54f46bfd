"""Which line of a YAML file is out of line, when PyYAML stops at an indentation mistake.

PyYAML notices a mis-indented key only where the structure breaks, which is
often the line *after* the mistake: when the first key of a mapping is
dedented, the next key looks like a continuation of its value ("mapping
values are not allowed here"), and when it is indented too deep, the next
key "does not match" the block the first one opened.  Its advice is then
about quoting, or points one line late.

:func:`misaligned` reads the lines around the place PyYAML gave up (only the
text: keys, their columns, whether a key has a value on its line) and says
which key disagrees with its neighbours, and by how many columns, when that
can be told:

* the first key of a block is checked against the column its parent and the
  file's usual indentation step give (``parent: `` at column 3 and a step of
  2 put its keys in column 5);
* a key that dropped out of the block its neighbours are in (the key before
  it opens a block that the key after it is in);
* a key that continues the value of the key above it is indented too deep
  when the key above is where its block says.

When the two lines could each be the mistaken one, it says so (``both``), so
that the diagnostic names both lines rather than guessing.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from typing import Literal, NamedTuple

__all__ = ["Misaligned", "misaligned"]

# A line that starts a `key: value` entry, possibly as a `- ` list item.
_ENTRY = re.compile(
    r"(?P<indent> *)(?P<dashes>(?:-[ ]+)*)"
    r"(?P<key>\"[^\"\n]*\"|'[^'\n]*'|[^\s#:'\"\[\]{}&*!|>%@`,-][^#:\n]*?|-[^\s#:\n][^#:\n]*?)"
    r"[ ]*:(?=\s|$)[ ]*(?P<value>[^#\n]*?)[ ]*(?:#.*)?"
)


class _Entry(NamedTuple):
    line: int  # 0-based
    start: int  # 0-based column of the line's first character
    col: int  # 0-based column of the key (after any `- `)
    key: str
    item: bool  # a `- key:` list item
    opens: bool  # nothing after the `:`: the key opens a block


class Misaligned(NamedTuple):
    """``kind`` ``first``: the earlier line is out of line; ``second``: the later one;
    ``both``: either could be.  Lines are 0-based; ``shift`` is the columns to add to
    the out-of-line key's line (negative: to remove)."""

    kind: Literal["first", "second", "both"]
    first_line: int
    first_key: str
    first_col: int  # 1-based column of the line's first character
    second_line: int
    second_key: str
    second_col: int
    shift: int


def _entry(lines: list[str], i: int) -> _Entry | None:
    m = _ENTRY.fullmatch(lines[i].rstrip("\r"))
    if m is None:
        return None
    start = len(m["indent"])
    return _Entry(i, start, start + len(m["dashes"]), m["key"], bool(m["dashes"]), m["value"] == "")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


class _Text:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        # the lines that hold something (not blank, not only a comment)
        self.order = [i for i, s in enumerate(self.lines) if s.strip() and not s.lstrip().startswith("#")]
        self._steps: list[tuple[int, bool, int]] | None = None

    def entry(self, i: int) -> _Entry | None:
        return _entry(self.lines, i)

    def step(self, item: bool, besides: int) -> int:
        """The file's usual indentation step for a mapping's keys (``item`` false; 2 when it
        cannot be told) or for a list's ``- `` (``item`` true; 0 when lists start in their
        key's column), as the file's other blocks than the one at line ``besides`` show."""
        if self._steps is None:
            self._steps = []
            for i, j in pairwise(self.order):
                a, b = self.entry(i), self.entry(j)
                if a is not None and b is not None and a.opens and (b.start > a.col or (b.item and b.start == a.col)):
                    self._steps.append((b.line, b.item, b.start - a.col if b.item else b.col - a.col))
        counts = Counter(step for line, is_item, step in self._steps if is_item == item and line != besides)
        return counts.most_common(1)[0][0] if counts else 2

    def want(self, q: _Entry) -> int | None:
        """The key column of ``q`` when it is the first entry of its block (its parent's column
        plus the usual step, 0 at the top of the file), else None."""
        k = self.order.index(q.line)
        if k == 0:
            return 0
        r = self.entry(self.order[k - 1])
        if r is None or not r.opens or r.col > q.start or (r.col == q.start and not q.item):
            return None
        return r.col + self.step(q.item, q.line) + (q.col - q.start)


def _result(kind: Literal["first", "second", "both"], q: _Entry, p: _Entry) -> Misaligned:
    shift = p.col - q.col if kind == "first" else q.col - p.col
    return Misaligned(kind, q.line, q.key, q.start + 1, p.line, p.key, p.start + 1, shift)


def misaligned(text: str, problem: str, line: int, context_line: int | None) -> Misaligned | None:
    """The key out of line with its neighbours, for PyYAML's ``problem`` on 0-based ``line``.

    Args:
        text: the whole YAML text.
        problem: PyYAML's problem text (``mapping values are not allowed here``,
            ``expected <block end>, but found ...``, ``expected '<document start>', ...``).
        line: the 0-based line of the problem mark.
        context_line: the 0-based line of PyYAML's context mark, if any.

    Returns:
        What is out of line, or None when the problem is not one of indentation (or the
        lines around it are not plain ``key: value`` entries).
    """
    t = _Text(text)
    if line not in t.order:
        return None
    p = t.entry(line)
    if p is None or p.item:
        return None
    k = t.order.index(line)
    if problem == "mapping values are not allowed here":
        return _continued(t, p, k)
    if problem.startswith(("expected <block end>", "expected '<document start>'")):
        return _dedented(t, p, k, context_line, top=problem.startswith("expected '<document"))
    return None


def _continued(t: _Text, p: _Entry, k: int) -> Misaligned | None:
    """P, deeper than the key Q above it, reads as a continuation of Q's value."""
    q = t.entry(t.order[k - 1]) if k >= 1 else None
    if q is None or q.opens or p.col <= q.col:
        return None
    want = t.want(q)
    if want is not None:
        if q.col != want and p.col == want:
            return _result("first", q, p)
        if q.col == want:
            return _result("second", q, p)
    if q.item:
        return _result("second", q, p)  # a `- key:` line sets the column of its item's keys
    r = t.entry(t.order[k - 2]) if k >= 2 else None
    if r is not None:
        if r.opens and q.start <= r.col < p.col:
            return _result("first", q, p)  # R opens a block, P is in it, Q dropped out of it
        if r.col == q.col and not r.opens:
            return _result("second", q, p)  # Q and the entry before it agree
    return _result("both", q, p)


def _dedented(t: _Text, p: _Entry, k: int, context_line: int | None, *, top: bool) -> Misaligned | None:
    """P does not match the column of the block before it."""
    lines, order = t.lines, t.order
    # the run of deeper lines just before P: the block P's column closed
    j = k
    while j > 0 and _indent(lines[order[j - 1]]) > p.start:
        j -= 1
    candidates = [order[j]] if j < k else []
    if top:
        candidates.append(order[0])
    elif context_line is not None and context_line in order and context_line < p.line:
        candidates.append(context_line)
    for c in candidates:
        q = t.entry(c)
        if q is None or q.col == p.col:
            continue
        if any(q.line < i < p.line and _indent(lines[i]) <= q.col for i in order):
            continue  # Q has siblings that agree with it
        want = t.want(q)
        if want is not None and q.col != want and p.col == want:
            return _result("first", q, p)
    # the entry just before that run, dropped out of the block P belongs to
    q = t.entry(order[j - 1]) if j >= 1 else None
    r = t.entry(order[j - 2]) if j >= 2 else None
    if q is None or r is None or q.item or q.col >= p.col:
        return None
    if r.opens and q.start <= r.col < p.col and t.want(p) is None:
        return _result("first", q, p)
    s_line = next((i for i in reversed(order[: j - 1]) if _indent(lines[i]) <= p.col), None)
    s = t.entry(s_line) if s_line is not None else None
    if q.opens and j < k and s is not None and s.col == p.col and s.opens and order.index(s.line) < j - 2:
        return _result("first", q, p)  # Q and its entries look like the entry S before it, one level out
    if not r.opens and r.col == p.col and j == k:
        return _result("both", q, p)  # Q dropped out of R's mapping, or P was indented into it
    return None
