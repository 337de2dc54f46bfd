"""The engine on a Dask cluster: the same rulebooks decide records partition by partition.

Install the extra ``rulebook-engine[dask]``.  Three functions::

    import dask.bag
    from engine.dask import check_bag, read_records, summarize

    records = read_records("s3://registry/members/*.jsonl")        # (where, record) pairs, lazily
    decisions = check_bag("hlj-musicians/membership", records)       # CONTRACT JSON objects, lazily
    counts = summarize(decisions).compute()                          # a reduction on the cluster

* :func:`read_records` makes a bag of ``(InputRef, record)`` pairs from JSON Lines, JSON,
  CSV and XLSX files (paths, globs, fsspec URLs); a line that cannot be read is a
  ``BadRecord`` at its file and line, as ``rulebook check`` reports it.
* :func:`check_bag` turns a bag of records (pairs from :func:`read_records`, or plain
  dicts) into a bag of decision objects, the JSON objects ``rulebook check --format json``
  writes, record for record and field for field.
* :func:`summarize` counts decisions by outcome, by rule and status, and by article: each
  partition is counted where it is, and only the counts travel.
* :func:`check_dataframe` decides a ``dask.dataframe`` of records by columns (the extra
  ``[columnar]``) into a dataframe of the results table; :func:`summarize_table` counts it
  (``engine.dask.columnar``).

What is sent to the workers is the rulebook's text (and the record schemas beside it),
never compiled code; each worker process builds the decision once and keeps it by the
text's hash (``engine.dask.rulebook``).  The engine, and any plugin the rulebook needs,
must be installed where the workers run (docs/scale.md).
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from engine.dask.columnar import check_dataframe, summarize_table
from engine.dask.decide import decide_objects
from engine.dask.inputs import DEFAULT_BLOCK, Part, count_lines, find_parts, line_bases, read_part
from engine.dask.rulebook import RulebookSpec, WorkerSetupError, rulebook_spec

__all__ = [
    "DecisionCounts",
    "RulebookSpec",
    "WorkerSetupError",
    "check_bag",
    "check_dataframe",
    "read_records",
    "rulebook_spec",
    "summarize",
    "summarize_table",
]


def _records_of(part: Part, base: int, schema: Any, sheet: str | None) -> list[tuple[Any, Any]]:
    """A partition's records (blank lines and notes left out); JSON Lines stay raw bytes here and
    are parsed where they are decided."""
    from engine.io.records import InputNote

    return [(ref, item) for ref, item in read_part(part, base, schema, sheet) if item.__class__ is not InputNote]


def read_records(
    urlpath: str | Iterable[str],
    *,
    blocksize: int | None = DEFAULT_BLOCK,
    input_format: str | None = None,
    schema: Any = None,
    sheet: str | None = None,
) -> Any:
    """A ``dask.bag`` of ``(InputRef, record)`` pairs from the files named, in order.

    ``urlpath``: a path, glob or fsspec URL, or a list of them.  JSON Lines files are cut
    into ranges of about ``blocksize`` bytes (``None``: a partition per file); each line
    keeps its file and line number, counted over the whole file.  A JSON Lines record is
    carried as its line's bytes and parsed when decided, so that a broken line becomes an
    error decision at its place.  ``schema``: the record JSON Schema that types CSV and
    XLSX cells (as ``check`` types them with the decision's schema); ``sheet``: a workbook's
    sheet.

    Raises:
        UsageError: a file that does not exist, a glob that matches nothing, standard input.
    """
    import dask
    import dask.bag as db

    parts = find_parts(urlpath, blocksize, input_format)
    count = dask.delayed(count_lines, pure=True)
    counts = [count(p) if p.end is not None else 0 for p in parts]
    bases = line_bases(parts, counts, dask.delayed(operator.add, pure=True))
    read = dask.delayed(_records_of, pure=True)
    return db.from_delayed([read(p, b, schema, sheet) for p, b in zip(parts, bases, strict=True)])


def check_bag(
    rulebook: str | RulebookSpec,
    bag: Any,
    decision: str | None = None,
    as_of: _dt.date | None = None,
    lang: str = "zh",
    *,
    schema_enforcement: str | None = None,
) -> Any:
    """The bag of decisions on ``bag``'s records, lazily: each a CONTRACT JSON object.

    ``rulebook``: an id, ``id@version`` or YAML path, resolved here as ``rulebook check``
    resolves it (an id alone: the version in force on each record's date), or a spec made
    by :func:`rulebook_spec`.  Elements of ``bag``: ``(InputRef, record)`` pairs from
    :func:`read_records`, or records alone (their decisions have ``input: null``).

    Raises:
        EngineError: an unknown rulebook or decision, a rulebook with errors (here, before
            anything is computed).
    """
    spec = (
        rulebook
        if isinstance(rulebook, RulebookSpec)
        else rulebook_spec(rulebook, decision, as_of, schema_enforcement)[0]
    )
    return bag.map_partitions(decide_objects, spec, as_of, lang)


@dataclass
class DecisionCounts:
    """Decisions counted: by outcome, by rule (``decision/rule`` -> status -> n) and by article
    (the article's number as text -> status -> n, over the rules citing it)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    articles: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def add(self, other: DecisionCounts) -> DecisionCounts:
        for key, n in other.outcomes.items():
            self.outcomes[key] = self.outcomes.get(key, 0) + n
        for mine, theirs in ((self.rules, other.rules), (self.articles, other.articles)):
            for key, value in theirs.items():
                into = mine.setdefault(key, {})
                for status, n in value.items():
                    into[status] = into.get(status, 0) + n
        return self

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "outcomes": self.outcomes, "rules": self.rules, "articles": self.articles}


def _count(decisions: Iterable[dict[str, Any]]) -> DecisionCounts:
    counts = DecisionCounts()
    for d in decisions:
        counts.outcomes[d["outcome"]] = counts.outcomes.get(d["outcome"], 0) + 1
        for r in d.get("rules") or ():
            status = r["status"]
            rule = counts.rules.setdefault(f"{d['decision']}/{r['id']}", {})
            rule[status] = rule.get(status, 0) + 1
            number = r.get("article")
            article = counts.articles.setdefault("-" if number is None else str(number), {})
            article[status] = article.get(status, 0) + 1
    return counts


def _merge(parts: Iterable[DecisionCounts]) -> DecisionCounts:
    total = DecisionCounts()
    for part in parts:
        total.add(part)
    return total


def summarize(decisions: Any, split_every: int = 16) -> Any:
    """The counts of a bag of decisions (from :func:`check_bag`) as a lazy dask object whose
    ``compute()`` is a :class:`DecisionCounts`: a tree reduction over the partitions, so that
    no decision is gathered to the client."""
    return decisions.reduction(_count, _merge, split_every=split_every)
