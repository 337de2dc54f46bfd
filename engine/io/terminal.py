"""Text from the data made safe to show on a terminal.

A record's fields, a spreadsheet's column names and a file's name are the
data's words, not the engine's: written raw to a terminal, a control
character in them could recolour the screen (``ESC [31m``), move the cursor
and overwrite lines, rename the window or set the clipboard (OSC 52 on
terminals that honour it), and a bidirectional override could make a line
read differently from what it holds.  :func:`escape_controls` shows each such
character as an escape instead: ``\\x1b``, ``\\n``, ``\\u202e``.  The text
report, ``explain``, ``diff`` and the engine's own messages about input files
pass the data's words through it; JSON, SARIF, JUnit and HTML have their own
escaping.
"""

from __future__ import annotations

import re

__all__ = ["escape_controls"]

# C0 controls (line breaks and tabs too: a field is shown on one line), DEL, C1 controls,
# the line and paragraph separators, and the bidirectional marks, embeddings, overrides
# and isolates
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROLS_BUT_SPACING = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str, *, spacing: bool = False) -> str:
    """``text`` with every control character, line or paragraph separator and bidirectional
    control written as an escape (``\\x1b``, ``\\n``, ``\\u202e``); other text as it is.
    ``spacing``: keep tabs and line breaks (where they only space the text, as in HTML)."""
    pattern = _CONTROLS_BUT_SPACING if spacing else _CONTROLS
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escape, text)
