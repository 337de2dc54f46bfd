"""Inputs and reports: reading records (JSON, JSON Lines, CSV, XLSX), deciding feeds in parallel,
and writing the report formats.  Above ``build`` and ``registry``; below the tools and the command
line (see ``docs/architecture.md``)."""
