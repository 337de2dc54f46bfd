"""The policy editor's workbench, served by ``rulebook serve`` at ``/``.

The page itself is in ``static/`` (``index.html`` and its modules, the vendored editor); the JSON
endpoints behind it are in :mod:`engine.serve.workbench.api` (the API is described there), with
what they know of a rulebook's text in ``language`` and ``complete`` and the saving of drafts,
the sample feeds and the impact check in ``drafts``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STATIC_DIR"]

#: The page's files.
STATIC_DIR = Path(__file__).parent / "static"
