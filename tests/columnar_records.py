"""Records for the differential test of the columnar engine, generated with Hypothesis.

For every decision of the bundled rulebooks, :func:`profile` reads what the decision tests: its
record JSON Schema (``CompiledDecision.record_schema``), the numbers and strings of its
parameters and of its expressions, the values its own examples give each field, the rulebook's
date parameters, and the official calendar's holidays and make-up working weekends.  From that:

- :func:`valid_records`: records of the schema's types whose values sit on the edges the rules
  test: counts at a parameter and one either side, dates the rulebook's year spans (18, 75, ...)
  before or after one another (29 February, the day before and after), the year's first and last
  days, holidays and make-up working days, dates of years the calendar does not know yet;
- :func:`corrupted_records`: such a record spoiled once: a field missing, null, of another JSON
  type (a string for a number, 1.0 or ``true`` for an integer, a number for a string, a list for
  an object, ...), an extra field, a bad date (``2023-02-29``, ``2023-1-5``, full-width digits),
  a huge integer, an empty or a long list, non-ASCII and white-space strings, a waiver;
- :func:`feed_lines`: JSON Lines of both kinds mixed with lines written by hand: duplicate keys,
  broken JSON, a top-level value that is not an object, invalid UTF-8, blank lines.

Everything is drawn by Hypothesis (so a failing feed shrinks to its smallest line), and the
feeds are bytes, as a file would hold them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

import engine
from engine.calendars import ChineseCalendar
from engine.evaluate import CompiledDecision

ROOT = Path(__file__).resolve().parents[1]
RULEBOOKS = sorted((ROOT / "engine" / "data" / "rulebooks").glob("**/*.yaml"))


@functools.cache
def bundled_rulebooks() -> tuple[Any, ...]:
    return tuple(engine.load_rulebook(p) for p in RULEBOOKS)


def bundled_decisions() -> list[tuple[str, str]]:
    """``(rulebook id, decision name)`` of every bundled decision."""
    return [(book.id, name) for book in bundled_rulebooks() for name in book.decisions]


def bundled(book_id: str, name: str) -> CompiledDecision:
    for book in bundled_rulebooks():
        if book.id == book_id:
            return book.decision(name)  # type: ignore[no-any-return]
    raise KeyError(book_id)


# -- the calendar's edges --------------------------------------------------------------------------

LEAP_DAYS = [dt.date(y, 2, 29) for y in (1996, 2000, 2004, 2008, 2012, 2016, 2020, 2024, 2028)]
CALENDAR_YEARS = range(2019, 2029)  # known years, the last known one, and years not published yet


@functools.cache
def calendar_days() -> tuple[dt.date, ...]:
    """Holidays, make-up working days and unsure days of the calendar, with their neighbours."""
    cal = ChineseCalendar()
    days: set[dt.date] = set()
    for year in CALENDAR_YEARS:
        for d in cal.describe_year(year)["days"]:
            day = dt.date.fromisoformat(d["date"])
            days.update((day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)))
        days.update((dt.date(year, 1, 1), dt.date(year, 12, 31), dt.date(year - 1, 12, 31)))
    return tuple(sorted(days))


def shift_years(day: dt.date, years: int, *, leap_to_march: bool = False) -> dt.date:
    """The same month and day ``years`` later (29 February -> 28 February, or 1 March)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return dt.date(day.year + years, 3, 1) if leap_to_march else dt.date(day.year + years, 2, 28)


# -- what a decision tests -------------------------------------------------------------------------

_STRING_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")
_INT_LITERAL = re.compile(r"(?<![\w.])(\d{1,6})(?![\w.])")


@dataclass(frozen=True)
class Profile:
    """What the generators know of one decision."""

    book_id: str
    name: str
    schema: dict[str, Any]
    rule_ids: tuple[str, ...]
    ints: tuple[int, ...]  # numbers the rules compare with, and their neighbours
    years: tuple[int, ...]  # spans of years a rule may count (parameters and literals up to 100)
    strings: tuple[str, ...]  # strings of the parameters and of the expressions
    pools: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # path -> values the examples give
    dates: tuple[dt.date, ...] = ()  # the examples' and the parameters' dates
    examples: tuple[str, ...] = ()  # the JSON text of the examples' records (objects only)


def _expr_texts(decision: CompiledDecision) -> Iterator[str]:
    """The text of every expression of the decision."""
    spec = decision.spec
    if spec.as_of is not None:
        yield spec.as_of.text
    for _, e in spec.values:
        yield e.text
    for rule in spec.rules:
        if rule.when is not None:
            yield rule.when.text
        yield rule.require.text
        for _, e in rule.values:
            yield e.text
    for out in spec.outputs:
        yield out.value.text
        if out.when is not None:
            yield out.when.text


def _walk_values(value: Any, path: str, into: dict[str, list[Any]]) -> None:
    into.setdefault(path, []).append(value)
    if isinstance(value, dict):
        for k, v in value.items():
            _walk_values(v, f"{path}.{k}" if path else k, into)
    elif isinstance(value, list):
        for v in value:
            _walk_values(v, f"{path}[]", into)


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for v in value:
            yield from _scalars(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
    else:
        yield value


def date_of(value: Any) -> dt.date | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


@functools.cache
def profile(book_id: str, name: str) -> Profile:
    decision = bundled(book_id, name)
    book = decision.book
    ints: set[int] = {0, 1, 2}
    years: set[int] = {1}
    strings: set[str] = set()
    dates: set[dt.date] = set()
    for p in book.parameters:
        for v in _scalars(p.value):
            if isinstance(v, bool):
                continue
            if isinstance(v, int):
                ints.update((v - 1, v, v + 1))
                if 0 < v <= 100:
                    years.add(v)
            elif isinstance(v, str):
                d = date_of(v)
                if d is not None:
                    dates.update((d - dt.timedelta(days=1), d, d + dt.timedelta(days=1)))
                else:
                    strings.add(v)
    for text in _expr_texts(decision):
        for m in _STRING_LITERAL.finditer(text):
            s = m.group(1) if m.group(1) is not None else m.group(2)
            d = date_of(s)
            if d is not None:
                dates.update((d - dt.timedelta(days=1), d, d + dt.timedelta(days=1)))
            elif "\\" not in s:
                strings.add(s)
        for m in _INT_LITERAL.finditer(_STRING_LITERAL.sub("''", text)):
            v = int(m.group(1))
            ints.update((v - 1, v, v + 1))
            if 0 < v <= 100:
                years.add(v)
    pools: dict[str, list[Any]] = {}
    examples: list[str] = []
    for ex in book.examples:
        if ex.decision == name and isinstance(ex.record, dict):
            examples.append(json.dumps(ex.record, ensure_ascii=False, sort_keys=True))
            for k, v in ex.record.items():
                _walk_values(v, k, pools)
            for v in _scalars(ex.record):
                d = date_of(v)
                if d is not None:
                    dates.add(d)
            if ex.as_of is not None and date_of(ex.as_of) is not None:
                dates.add(dt.date.fromisoformat(ex.as_of))
    frozen_pools = {
        k: tuple(sorted({json.dumps(x, ensure_ascii=False, sort_keys=True) for x in v})) for k, v in pools.items()
    }
    return Profile(
        book_id=book_id,
        name=name,
        schema=decision.record_schema or {"type": "object"},
        rule_ids=tuple(decision.rule_ids),
        ints=tuple(sorted(i for i in ints if i >= -1)),
        years=tuple(sorted(years)),
        strings=tuple(sorted(strings)),
        pools={k: tuple(json.loads(x) for x in v) for k, v in frozen_pools.items()},
        dates=tuple(sorted(dates)),
        examples=tuple(examples),
    )


def date_fields(schema: dict[str, Any], path: str = "") -> list[str]:
    """The paths (``a.b``, ``list[].c``) of the schema's ``format: date`` strings."""
    out: list[str] = []
    if schema.get("format") == "date":
        out.append(path)
    for k, sub in schema.get("properties", {}).items():
        out.extend(date_fields(sub, f"{path}.{k}" if path else k))
    if isinstance(schema.get("items"), dict):
        out.extend(date_fields(schema["items"], f"{path}[]"))
    return out


# -- values of the schema's types, on the rules' edges ---------------------------------------------


def json_types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if t is None:
        return ["string"] if "enum" in schema else ["object"] if "properties" in schema else ["string"]
    return [t] if isinstance(t, str) else list(t)


@st.composite
def edge_dates(draw: st.DrawFn, prof: Profile, anchor: dt.date) -> dt.date:
    """A date near the anchor by the rulebook's spans, or on the calendar's and leap years' edges."""
    how = draw(st.integers(0, 9))
    if how <= 3:  # the anchor so many years before or after, on the day or next to it
        years = draw(st.sampled_from(prof.years))
        sign = draw(st.sampled_from([-1, 1])) if how == 0 else -1
        day = shift_years(anchor, sign * years, leap_to_march=draw(st.booleans()))
        return day + dt.timedelta(days=draw(st.sampled_from([0, 0, -1, 1])))
    if how <= 5:  # a few days or about a month (working-day deadlines) from the anchor
        return anchor + dt.timedelta(days=draw(st.integers(-45, 45)))
    if how == 6:
        return draw(st.sampled_from(calendar_days()))
    if how == 7:
        leap = draw(st.sampled_from(LEAP_DAYS))
        return leap + dt.timedelta(days=draw(st.sampled_from([-1, 0, 0, 1])))
    if how == 8 and prof.dates:
        return draw(st.sampled_from(prof.dates))
    return draw(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))


def _pool(prof: Profile, path: str, kind: type) -> list[Any]:
    return [v for v in prof.pools.get(path, ()) if type(v) is kind]


@st.composite
def schema_value(draw: st.DrawFn, prof: Profile, schema: dict[str, Any], path: str, anchor: dt.date) -> Any:
    """A value of the schema's type for the field at ``path``."""
    types = json_types(schema)
    if "null" in types and draw(st.integers(0, 5)) == 0:
        return None
    types = [t for t in types if t != "null"] or ["null"]
    kind = draw(st.sampled_from(types))
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    if kind == "null":
        return None
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "integer":
        lo, hi = schema.get("minimum"), schema.get("maximum")
        edges = [i for i in prof.ints if (lo is None or i >= lo) and (hi is None or i <= hi)]
        seen = list(_pool(prof, path, int))
        choices = [st.integers(lo if lo is not None else -5, hi if hi is not None else 120)]
        if edges:
            choices.append(st.sampled_from(edges))
        if seen:
            choices.append(st.sampled_from(seen))
        if path.endswith("year"):
            choices.append(st.integers(anchor.year - 3, anchor.year + 1))
        return draw(st.one_of(choices))
    if kind == "number":
        return draw(st.one_of(st.sampled_from(prof.ints), st.floats(-1e6, 1e6, allow_nan=False)))
    if kind == "string":
        if schema.get("format") == "date":
            return draw(edge_dates(prof, anchor)).isoformat()
        seen = list(_pool(prof, path, str))
        choices = [st.text(alphabet=st.sampled_from("ab 中文\u3000"), max_size=4)]
        if seen:
            choices += [st.sampled_from(seen)] * 3
        if prof.strings:
            choices.append(st.sampled_from(prof.strings))
        if schema.get("pattern") == "^[A-Z]{2}$":
            choices.append(st.sampled_from(["CN", "KR", "US"]))
        return draw(st.one_of(choices))
    if kind == "array":
        items = schema.get("items", {})
        seen_lists = list(_pool(prof, path, list))
        if seen_lists and draw(st.integers(0, 3)) == 0:
            return draw(st.sampled_from(seen_lists))
        n = draw(st.integers(0, 4))
        return [draw(schema_value(prof, items, f"{path}[]", anchor)) for _ in range(n)]
    return draw(object_value(prof, schema, path, anchor))


@st.composite
def object_value(draw: st.DrawFn, prof: Profile, schema: dict[str, Any], path: str, anchor: dt.date) -> dict[str, Any]:
    required = set(schema.get("required", ()))
    for cond in schema.get("allOf", ()):  # `if office is X then also require ...`: require them all
        required.update(cond.get("then", {}).get("required", ()))
    out: dict[str, Any] = {}
    for key, sub in schema.get("properties", {}).items():
        if key == "waivers":
            continue
        if key in required or draw(st.integers(0, 2)) > 0:
            out[key] = draw(schema_value(prof, sub, f"{path}.{key}" if path else key, anchor))
    return out


@st.composite
def anchors(draw: st.DrawFn, prof: Profile, as_of: dt.date | None = None) -> dt.date:
    """The date the record's dates are placed around: the evaluation date, an edge of the
    calendar, a leap day, or a date of the examples."""
    choices = [st.sampled_from(calendar_days()), st.sampled_from(LEAP_DAYS)]
    if prof.dates:
        choices.append(st.sampled_from(prof.dates))
    if as_of is not None:
        choices += [st.just(as_of)] * 3
    return draw(st.one_of(choices))


@st.composite
def valid_records(draw: st.DrawFn, prof: Profile, as_of: dt.date | None = None) -> dict[str, Any]:
    """A record of the decision's schema (its types; values on the rules' edges), with an id."""
    anchor = draw(anchors(prof, as_of))
    if prof.examples and draw(st.booleans()):  # one of the examples with a few fields drawn again
        record = json.loads(draw(st.sampled_from(prof.examples)))
        props = prof.schema.get("properties", {})
        for key in draw(st.lists(st.sampled_from(sorted(props)), max_size=3, unique=True)):
            if key != "waivers":
                record[key] = draw(schema_value(prof, props[key], key, anchor))
    else:
        record = draw(object_value(prof, prof.schema, "", anchor))
    record["id"] = draw(st.from_regex(r"[A-Z]-[0-9]{4}", fullmatch=True))
    if draw(st.integers(0, 7)) == 0:  # a well-formed waiver of one of its rules
        record["waivers"] = [
            {
                "rule": draw(st.sampled_from(prof.rule_ids)),
                "reason": "经批准",
                "approved_by": "主席团",
                "date": anchor.isoformat(),
            }
        ]
    return record


# -- spoiled records -------------------------------------------------------------------------------

HUGE_INTS = [2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30]
BAD_DATES = [
    "2023-02-29",
    "2023-1-5",
    "２０２４-０１-０１",
    "2024-13-01",
    "2024-00-10",
    "0000-01-01",
    "2024-02-30",
    "2024/02/29",
    " 2024-02-29",
    "2024-02-29 ",
    "2024-02-29T00:00:00",
    "20240229",
    "",
    "9999-12-31",
    "0001-01-01",
]
ODD_STRINGS = [
    "",
    " ",
    "\u3000",
    "黑龙江\u3000",
    " 黑龙江",
    "ＣＮ",
    "cn",
    "中\u00a0共党员",
    "团\u3000员",
    "x" * 300,
    "\t\n",
]


def wrong_types(value: Any) -> list[Any]:
    """Values of other JSON types than ``value``'s (and the tricky ones of its own)."""
    if isinstance(value, bool):
        return [1, 0, "true", "false", None, [], "是", 1.0]
    if isinstance(value, int):
        return [str(value), float(value), value + 0.5, True, False, None, [value], {"v": value}, *HUGE_INTS, -1]
    if isinstance(value, float):
        return [int(value), str(value), True, None]
    if isinstance(value, str):
        return [1, 2024, 1.5, True, None, [value], {"v": value}, *BAD_DATES[:4], *ODD_STRINGS]
    if isinstance(value, list):
        return [{}, "", "a、b", 1, None, True, [None], [[]], [1, "x"], [{}]]
    if isinstance(value, dict):
        return [[], [value], "x", 1, None, True, {}]
    return ["x", 1, True, [], {}]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place inside a record (keys of objects, indexes of lists), outermost first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*path, k)
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*path, i)
            yield from _paths(v, (*path, i))


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        value = value[p]
    return value


@st.composite
def corrupted_records(draw: st.DrawFn, prof: Profile, as_of: dt.date | None = None) -> Any:
    """A valid record spoiled in one way (or two), or a JSON value that is not a record."""
    record = draw(valid_records(prof, as_of))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2]))):
        record = draw(_spoil(prof, record))
    return record


@st.composite
def _spoil(draw: st.DrawFn, prof: Profile, record: Any) -> Any:
    if not isinstance(record, dict):
        return record
    record = json.loads(json.dumps(record))  # a deep copy
    how = draw(st.sampled_from(["missing", "null", "type", "type", "extra", "date", "list", "string", "waiver", "top"]))
    paths = list(_paths(record))
    if how == "top":
        return draw(st.sampled_from([[record], "record", 1, None, [], True]))
    if how == "extra":
        record[draw(st.sampled_from(["extra", "ID", "Birth_Date", "备注", "rules", "outcome"]))] = draw(
            st.sampled_from(["x", 1, None, [], {"a": 1}])
        )
        return record
    if how == "waiver":
        rid = draw(st.sampled_from([*prof.rule_ids, "no_such_rule"]))
        record["waivers"] = draw(
            st.sampled_from(
                [
                    [{"rule": rid, "reason": "r", "approved_by": "a", "date": "2024-01-01"}],
                    [{"rule": rid, "reason": "r"}],
                    [{"rule": rid, "reason": "r", "approved_by": "a", "date": "2024-01-01"}, "junk", {"rule": rid}],
                    "not a list",
                    None,
                    [],
                    [{"rule": rid, "reason": "", "approved_by": "a", "date": "2024-02-30"}],
                ]
            )
        )
        return record
    if how == "date":
        dated = [p for p in paths if isinstance(_get(record, p), str) and date_of(_get(record, p)) is not None]
        if dated:
            p = draw(st.sampled_from(dated))
            _get(record, p[:-1])[p[-1]] = draw(st.sampled_from(BAD_DATES))
            return record
        how = "type"
    if how == "list":
        lists = [p for p in paths if isinstance(_get(record, p), list)]
        if lists:
            p = draw(st.sampled_from(lists))
            old = _get(record, p)
            new: list[Any]
            if draw(st.booleans()) or not old:
                new = []
            else:
                new = [json.loads(json.dumps(old[i % len(old)])) for i in range(draw(st.sampled_from([50, 300])))]
            _get(record, p[:-1])[p[-1]] = new
            return record
        how = "type"
    if how == "string":
        strs = [p for p in paths if isinstance(_get(record, p), str)]
        if strs:
            p = draw(st.sampled_from(strs))
            old = _get(record, p)
            _get(record, p[:-1])[p[-1]] = draw(
                st.sampled_from([*ODD_STRINGS, f"\u3000{old}", f"{old} ", old.upper(), old + "\u200b"])
            )
            return record
        how = "type"
    if not paths:
        return record
    p = draw(st.sampled_from(paths))
    parent, key = _get(record, p[:-1]), p[-1]
    if how == "missing":
        del parent[key]  # a key, or an element of a list
    elif how == "null":
        parent[key] = None
    else:
        parent[key] = draw(st.sampled_from(wrong_types(parent[key])))
    return record


# -- lines of a feed -------------------------------------------------------------------------------


def _dumps(value: Any, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def duplicate_key_lines(draw: st.DrawFn, prof: Profile, as_of: dt.date | None = None) -> bytes:
    """A record whose JSON text names one key twice (JSON readers keep the last)."""
    record = draw(valid_records(prof, as_of))
    key = draw(st.sampled_from(list(record)))
    other = draw(st.sampled_from([*wrong_types(record[key]), record[key]]))
    first_wins = draw(st.booleans())
    body = [f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False)}" for k, v in record.items()]
    extra = f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(other, ensure_ascii=False)}"
    body = [extra, *body] if first_wins else [*body, extra]
    return ("{" + ", ".join(body) + "}").encode("utf-8")


@st.composite
def broken_lines(draw: st.DrawFn, prof: Profile, as_of: dt.date | None = None) -> bytes:
    """A line that is not one JSON value, or not UTF-8, or a record written in a way JSON refuses."""
    text = json.dumps(draw(valid_records(prof, as_of)), ensure_ascii=False)
    how = draw(st.integers(0, 11))
    if how == 0:
        return text[: draw(st.integers(1, max(1, len(text) - 1)))].encode("utf-8")
    if how == 1:
        return text.encode("gb18030")
    if how == 2:
        return (text[:-1] + ",}").encode("utf-8")
    if how == 3:
        return text.replace('"', "'").encode("utf-8")
    if how == 4:
        return (text + " " + text).encode("utf-8")
    if how == 5:
        return text.replace("}", ', "n": NaN}', 1).encode("utf-8") if text.endswith("}") else b"NaN"
    if how == 6:
        return text.replace("}", ', "n": Infinity}', 1).encode("utf-8") if text.endswith("}") else b"-Infinity"
    if how == 7:
        return b"\xef\xbb\xbf" + text.encode("utf-8")  # a byte order mark
    if how == 8:
        return text.replace("}", ', "s": "\\ud800"}', 1).encode("utf-8")  # a lone surrogate
    if how == 9:
        return b'{"id": "x\x00"}'
    if how == 10:
        return draw(st.sampled_from([b"{", b"}", b"[", b"null", b'"text"', b"42", b"[]", b"{}", b"\x80\x81"]))
    return text.encode("utf-16-le")


def is_null_line(line: bytes) -> bool:
    """Whether the line is the JSON value ``null`` (PyArrow 26's JSON reader crashes on one)."""
    return line.strip() == b"null"


@st.composite
def feed_lines(
    draw: st.DrawFn,
    prof: Profile,
    as_of: dt.date | None = None,
    *,
    max_lines: int = 24,
    broken: bool = True,
    null_lines: bool = True,
) -> list[bytes]:
    """The lines of a feed (without their ends): valid and spoiled records, and, when ``broken``,
    lines written by hand (duplicate keys, broken JSON, blank lines); lines that are ``null``
    only when ``null_lines``."""
    kinds = ["valid"] * 5 + ["corrupted"] * 4
    if broken:
        kinds += ["duplicate", "broken", "blank"]
    out: list[bytes] = []
    for _ in range(draw(st.integers(1, max_lines))):
        kind = draw(st.sampled_from(kinds))
        if kind == "valid":
            out.append(_dumps(draw(valid_records(prof, as_of)), draw(st.booleans())).encode("utf-8"))
        elif kind == "corrupted":
            out.append(_dumps(draw(corrupted_records(prof, as_of)), draw(st.booleans())).encode("utf-8"))
        elif kind == "duplicate":
            out.append(draw(duplicate_key_lines(prof, as_of)))
        elif kind == "broken":
            out.append(draw(broken_lines(prof, as_of)))
        else:
            out.append(draw(st.sampled_from([b"", b"   ", b"\t", b"\r"])))
        if not null_lines and is_null_line(out[-1]):
            out[-1] = b"[null]"  # not an object either, read as one error like `null`
    return out


@st.composite
def feeds(
    draw: st.DrawFn,
    prof: Profile,
    as_of: dt.date | None = None,
    *,
    max_lines: int = 24,
    broken: bool = True,
    null_lines: bool = True,
) -> bytes:
    """A JSON Lines feed as bytes: the lines of :func:`feed_lines` ended by ``\\n`` or ``\\r\\n``,
    the last one ended or not."""
    lines = draw(feed_lines(prof, as_of, max_lines=max_lines, broken=broken, null_lines=null_lines))
    end = draw(st.sampled_from([b"\n", b"\n", b"\r\n"]))
    return end.join(lines) + draw(st.sampled_from([end, b""]))


def jsonl(records: list[Any]) -> bytes:
    """Records as JSON Lines bytes."""
    return b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records)
