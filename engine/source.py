"""Source texts and positions.

``Source(name, text)`` is a file (or an expression) as the user wrote it;
``Span(start, end)`` is a half-open range of character offsets into it.
Line and column are computed on demand, 1-based, counted in characters.

Also here:

* :func:`snippet` -- the source line of a span and a caret line under it,
  aligned in display columns (wide characters count two, combining marks
  zero, tabs expand to multiples of 4); ``engine.errors.render_diagnostic``
  puts it under a diagnostic's head line.  This module is the ground layer:
  it imports no other module of the engine.
* :func:`display_width` -- the display width of a text in terminal columns.
* :func:`scalar_offset_map` -- maps each character of a loaded YAML scalar back
  to its offset in the file, so that a span inside an expression written as a
  YAML scalar points at the exact file position.
"""

from __future__ import annotations

import bisect
import unicodedata
from dataclasses import dataclass, field

__all__ = ["Source", "Span", "display_width", "scalar_offset_map", "snippet"]


@dataclass(frozen=True)
class Span:
    """Half-open range ``[start, end)`` of character offsets."""

    start: int
    end: int

    def shift(self, by: int) -> Span:
        return Span(self.start + by, self.end + by)


@dataclass(frozen=True)
class Source:
    """A named text: a rulebook file, a record file, or a bare expression."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        text = self.text
        i = text.find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = text.find("\n", i + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def offset(self, line: int, col: int) -> int:
        """Character offset of a 1-based (line, column)."""
        return self._line_starts[line - 1] + col - 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    @property
    def line_count(self) -> int:
        return len(self._line_starts)


# ---------------------------------------------------------------------------
# Display width
# ---------------------------------------------------------------------------

TAB_WIDTH = 4
"""Tabs expand to the next multiple of this many columns."""

MAX_LINE_WIDTH = 120
"""Longer source lines are shown as a window around the span."""

_WINDOW_CONTEXT = 40  # columns shown before the span in a windowed line
_ELLIPSIS = "…"


def _char_width(ch: str) -> int:
    """Terminal columns of one character (tabs are handled by the caller)."""
    if unicodedata.combining(ch):
        return 0
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf", "Cc"):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    return 1


def display_width(text: str) -> int:
    """Width of ``text`` in terminal columns.

    Wide and full-width characters count two, combining marks and other
    zero-width characters zero, and a tab advances to the next multiple of
    :data:`TAB_WIDTH` (counting from the start of ``text``).
    """
    col = 0
    for ch in text:
        if ch == "\t":
            col += TAB_WIDTH - col % TAB_WIDTH
        else:
            col += _char_width(ch)
    return col


def _expand(line: str) -> tuple[list[str], list[int]]:
    """The shown form of each character (tabs as spaces) and its start column.

    The second list has one more entry: the total width.  Control characters
    are shown as U+FFFD so that a diagnostic never prints them raw.
    """
    shown: list[str] = []
    cols: list[int] = []
    col = 0
    for ch in line:
        cols.append(col)
        if ch == "\t":
            width = TAB_WIDTH - col % TAB_WIDTH
            shown.append(" " * width)
        elif unicodedata.category(ch) == "Cc":  # never print control characters
            width = 1
            shown.append("\ufffd")
        else:
            width = _char_width(ch)
            shown.append(ch)
        col += width
    cols.append(col)
    return shown, cols


# ---------------------------------------------------------------------------
# The source line and carets under a span
# ---------------------------------------------------------------------------

_GUTTER = "   | "


def snippet(source: Source, span: Span) -> list[str]:
    """The source line of ``span.start`` and the caret line under the span."""
    text = source.text
    start = max(0, min(span.start, len(text)))
    end = max(start, min(span.end, len(text)))
    line_no, _ = source.line_col(start)
    line = source.line_text(line_no)
    line_start = source.offset(line_no, 1)
    first = min(start - line_start, len(line))
    last = max(first, min(end - line_start, len(line)))

    shown, cols = _expand(line)
    caret_start, caret_end = cols[first], cols[last]
    total = cols[-1]
    prefix = suffix = ""
    lo, hi = 0, len(line)
    if total > MAX_LINE_WIDTH:
        want = max(0, min(caret_start - _WINDOW_CONTEXT, total - MAX_LINE_WIDTH))
        lo = bisect.bisect_left(cols, want, 0, len(line))
        hi = bisect.bisect_right(cols, cols[lo] + MAX_LINE_WIDTH, lo, len(line) + 1) - 1
        hi = max(hi, lo)
        prefix = _ELLIPSIS if lo > 0 else ""
        suffix = _ELLIPSIS if hi < len(line) else ""
    visible_end = cols[hi]
    pad = display_width(prefix) + caret_start - cols[lo]
    width = min(caret_end, visible_end) - caret_start
    caret = "^" + "~" * max(0, width - 1)
    body = prefix + "".join(shown[lo:hi]) + suffix
    return [(_GUTTER + body).rstrip(), _GUTTER + " " * pad + caret]


# ---------------------------------------------------------------------------
# Offsets of a YAML scalar's characters in the file
# ---------------------------------------------------------------------------

_BREAKS = "\r\n\x85\u2028\u2029"
_BLANKS = " \t"
# Double-quoted escapes whose result is the escaped character itself.
_IDENTITY_ESCAPES = ' "/\\\t'


class _NoMap(Exception):
    """The raw text cannot be mapped exactly onto the value."""


class _Out:
    """Characters produced by re-scanning a scalar, each with its file offset."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.offsets: list[int] = []

    def add(self, ch: str, offset: int) -> None:
        self.chars.append(ch)
        self.offsets.append(offset)

    def text(self) -> str:
        return "".join(self.chars)


def _scan_break(text: str, i: int) -> tuple[int, str]:
    """Consume the line break at ``i`` as PyYAML does: (next index, produced)."""
    if text.startswith("\r\n", i):
        return i + 2, "\n"
    if text[i] in "\r\n\x85":
        return i + 1, "\n"
    return i + 1, text[i]


def _fold(text: str, i: int, stop: int, out: _Out, blanks: str) -> int:
    """Fold a run of whitespace containing a line break, starting at ``i``.

    Trailing blanks before the break and leading ``blanks`` on the following
    lines are dropped; a single break becomes a space, ``n + 1`` breaks become
    ``n`` newlines (YAML line folding in plain and quoted scalars).
    Returns the index after the run; ``i`` is where the content ended.
    """
    j = i
    while j < stop and text[j] in _BLANKS:
        j += 1
    j, first = _scan_break(text, j)
    extra: list[tuple[str, int]] = []
    while j < stop:
        k = j
        while k < stop and text[k] in blanks:
            k += 1
        if k < stop and text[k] in _BREAKS:
            nxt, produced = _scan_break(text, k)
            extra.append((produced, k))
            j = nxt
        else:
            j = k
            break
    if first != "\n":
        out.add(first, i)
    elif not extra:
        out.add(" ", i)
    for produced, offset in extra:
        out.add(produced, offset)
    return j


def _ends_in_break(text: str, i: int, stop: int) -> bool:
    """Whether the blank run at ``i`` ends in a line break before ``stop``."""
    while i < stop and text[i] in _BLANKS:
        i += 1
    return i < stop and text[i] in _BREAKS


def _plain_offsets(text: str, start: int, end: int) -> tuple[_Out, int]:
    out = _Out()
    i = start
    while i < end:
        ch = text[i]
        if ch in _BLANKS or ch in _BREAKS:
            if _ends_in_break(text, i, end):
                i = _fold(text, i, end, out, " ")
                continue
            while i < end and text[i] in _BLANKS:
                out.add(text[i], i)
                i += 1
            continue
        out.add(ch, i)
        i += 1
    return out, end


def _quoted_offsets(text: str, start: int, end: int, quote: str) -> tuple[_Out, int]:
    if end - start < 2 or text[start] != quote or text[end - 1] != quote:
        raise _NoMap
    out = _Out()
    i, stop = start + 1, end - 1
    while i < stop:
        ch = text[i]
        if quote == "'" and ch == "'":
            if i + 1 < stop and text[i + 1] == "'":
                out.add("'", i)
                i += 2
                continue
            raise _NoMap
        if quote == '"' and ch == "\\":
            if i + 1 >= stop:
                raise _NoMap
            nxt = text[i + 1]
            if nxt in _IDENTITY_ESCAPES:
                out.add(nxt, i + 1)
                i += 2
                continue
            if nxt in _BREAKS:
                # An escaped line break: no folding, leading blanks dropped.
                j, _ = _scan_break(text, i + 1)
                while j < stop:
                    k = j
                    while k < stop and text[k] in _BLANKS:
                        k += 1
                    if k < stop and text[k] in _BREAKS:
                        j, produced = _scan_break(text, k)
                        out.add(produced, k)
                    else:
                        j = k
                        break
                i = j
                continue
            raise _NoMap  # \n, \x41, \u4e2d ...: the value's character is not in the file
        if ch in _BLANKS or ch in _BREAKS:
            if _ends_in_break(text, i, stop):
                i = _fold(text, i, stop, out, _BLANKS)
                continue
            while i < stop and text[i] in _BLANKS:
                out.add(text[i], i)
                i += 1
            continue
        out.add(ch, i)
        i += 1
    return out, stop


def _block_header(text: str, start: int, end: int, style: str) -> tuple[bool | None, bool, int]:
    """Parse ``|+2 # comment`` up to its line break: (chomping, explicit indent, next index)."""
    if start >= end or text[start] != style:
        raise _NoMap
    i = start + 1
    chomping: bool | None = None
    explicit = False
    for _ in range(2):
        if i < end and text[i] in "+-" and chomping is None:
            chomping = text[i] == "+"
            i += 1
        elif i < end and text[i] in "123456789" and not explicit:
            explicit = True
            i += 1
    while i < end and text[i] == " ":
        i += 1
    if i < end and text[i] == "#":
        while i < end and text[i] not in _BREAKS:
            i += 1
    if i < end:
        if text[i] not in _BREAKS:
            raise _NoMap
        i, _ = _scan_break(text, i)
    return chomping, explicit, i


def _block_breaks(text: str, i: int, end: int, indent: int, col: int, out: list[tuple[str, int]]) -> tuple[int, int]:
    """PyYAML's ``scan_block_scalar_breaks``: returns (index, column)."""
    while col < indent and i < end and text[i] == " ":
        i += 1
        col += 1
    while i < end and text[i] in _BREAKS:
        nxt, produced = _scan_break(text, i)
        out.append((produced, i))
        i, col = nxt, 0
        while col < indent and i < end and text[i] == " ":
            i += 1
            col += 1
    return i, col


def _block_simulate(text: str, body: int, end: int, indent: int, folded: bool, chomping: bool | None) -> _Out:
    """Re-scan a block scalar's content with a given indentation."""
    out = _Out()
    breaks: list[tuple[str, int]] = []
    i, col = _block_breaks(text, body, end, indent, 0, breaks)
    line_break: tuple[str, int] = ("", i)
    while col == indent and i < end:
        for produced, offset in breaks:
            out.add(produced, offset)
        leading_non_space = text[i] not in _BLANKS
        while i < end and text[i] not in _BREAKS:
            out.add(text[i], i)
            i += 1
        if i < end:
            nxt, produced = _scan_break(text, i)
            line_break = (produced, i)
            i = nxt
        else:
            line_break = ("", i)
        breaks = []
        i, col = _block_breaks(text, i, end, indent, 0, breaks)
        if not (col == indent and i < end):
            break
        if folded and line_break[0] == "\n" and leading_non_space and text[i] not in _BLANKS:
            if not breaks:
                out.add(" ", line_break[1])
        else:
            out.add(*line_break)
    if chomping is not False and line_break[0]:
        out.add(*line_break)
    if chomping is True:
        for produced, offset in breaks:
            out.add(produced, offset)
    return out


def _block_offsets(text: str, start: int, end: int, style: str, value: str) -> tuple[_Out, int]:
    chomping, explicit, body = _block_header(text, start, end, style)
    # The indentation depends on the parent node, which we do not know: try the
    # auto-detected one first, then every smaller one (an explicit indicator).
    leads: list[int] = []
    i = body
    while i < end:
        j = i
        while j < end and text[j] == " ":
            j += 1
        leads.append(j - i)
        if j < end and text[j] not in _BREAKS:
            break
        while j < end and text[j] not in _BREAKS:
            j += 1
        i = _scan_break(text, j)[0] if j < end else end
    auto = max(leads, default=1) or 1
    candidates = [auto, *range(auto - 1, 0, -1)]
    if explicit or not value.strip("\n"):
        candidates += range(auto + 1, auto + 10)
    for indent in candidates:
        out = _block_simulate(text, body, end, indent, style == ">", chomping)
        if out.text() == value:
            if not out.offsets:
                return out, body
            last = out.offsets[-1]
            after = _scan_break(text, last)[0] if text[last] in _BREAKS else last + 1
            return out, after
    raise _NoMap


def _skip_properties(text: str, start: int, end: int) -> int:
    """Skip an anchor ``&a`` and/or a tag ``!!str`` before a scalar's content."""
    while start < end and text[start] in "&!":
        while start < end and text[start] not in _BLANKS and text[start] not in _BREAKS:
            start += 1
        while start < end and (text[start] in _BLANKS or text[start] in _BREAKS):
            start += 1
    return start


def scalar_offset_map(source: Source, start: int, end: int, style: str | None, value: str) -> list[int] | None:
    """File offsets of the characters of a loaded YAML scalar.

    ``source.text[start:end]`` is the scalar as written (PyYAML's node marks:
    quotes and the ``|``/``>`` header included, possibly an anchor or tag
    before it) and ``value`` is the string it loaded as.  Returns
    ``len(value) + 1`` offsets: where each character of ``value`` is in the
    file, then one past the last character.  Characters the loader produced
    rather than copied (a folded line break, a kept newline) map to the line
    break they come from; ``''`` and ``\\"`` map to the quote itself.

    Returns None when the mapping cannot be exact: an escape such as ``\\n``
    or ``\\u4e2d`` whose character does not appear in the file, or any
    disagreement between the re-scanned text and ``value``.  Callers then
    point at ``start`` and say that the column is approximate.
    """
    text = source.text
    if not 0 <= start <= end <= len(text):
        return None
    start = _skip_properties(text, start, end)
    try:
        if style is None:
            out, final = _plain_offsets(text, start, end)
        elif style in ("'", '"'):
            out, final = _quoted_offsets(text, start, end, style)
        elif style in ("|", ">"):
            out, final = _block_offsets(text, start, end, style, value)
        else:
            return None
    except (_NoMap, IndexError):
        return None
    if out.text() != value:
        return None
    return [*out.offsets, final]
