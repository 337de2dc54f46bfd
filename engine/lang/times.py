"""CEL's ``timestamp`` and ``duration`` values.

Both are kept as a whole number of nanoseconds (Python's ``datetime`` stops
at microseconds), with the ranges CEL uses:

* a :class:`Timestamp` is an instant from ``0001-01-01T00:00:00Z`` to
  ``9999-12-31T23:59:59.999999999Z``;
* a :class:`Duration` is at most 315,576,000,000 seconds (10,000 years) either
  way, as ``google.protobuf.Duration``.  The difference of two timestamps
  must also fit in a signed 64-bit count of nanoseconds, as in CEL's C++ and
  Go implementations.

Text forms: ``timestamp("2009-02-13T23:31:30.5+01:00")`` reads RFC 3339;
``duration("1h30m")``, ``duration("-1.5s")`` read Go's duration syntax (units
``h m s ms us µs ns``).  ``string()`` writes the canonical forms of
protobuf's JSON mapping: ``2009-02-13T23:31:30.500Z`` and ``5400s``,
``1.500s``, with 0, 3, 6 or 9 fraction digits.

The accessors (``getHours()`` and so on) read a timestamp in UTC, in a fixed
offset (``"+05:30"``, ``"-02:00"``, ``"02:00"``) or in an IANA time zone
(``"Asia/Shanghai"``).  Every failure raises :class:`engine.errors.EvalError`.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import Any

from engine.errors import EvalError
from engine.messages import msg

__all__ = ["Duration", "Timestamp", "parse_duration", "parse_timestamp"]

NS = 1_000_000_000
_EPOCH_DAYS = _dt.date(1970, 1, 1).toordinal()
MIN_TS_NS = -62135596800 * NS  # 0001-01-01T00:00:00Z
MAX_TS_NS = 253402300799 * NS + NS - 1  # 9999-12-31T23:59:59.999999999Z
MAX_DUR_NS = 315576000000 * NS + NS - 1
INT64_MAX = 2**63 - 1


def _range(what: str) -> EvalError:
    """``what``: ``timestamp``, ``timestamp-zone`` or ``duration``."""
    return EvalError("eval.overflow", msg(f"eval.overflow:{what}"))


class Timestamp:
    """An instant, in nanoseconds since 1970-01-01T00:00:00Z."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns

    @classmethod
    def checked(cls, ns: int) -> Timestamp:
        if MIN_TS_NS <= ns <= MAX_TS_NS:
            return cls(ns)
        raise _range("timestamp")

    @property
    def seconds(self) -> int:
        return self.ns // NS

    @property
    def nanos(self) -> int:
        return self.ns % NS

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Timestamp and other.ns == self.ns

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("timestamp", self.ns))

    def __lt__(self, other: Timestamp) -> bool:
        return self.ns < _ns_of(other, Timestamp)

    def __le__(self, other: Timestamp) -> bool:
        return self.ns <= _ns_of(other, Timestamp)

    def __gt__(self, other: Timestamp) -> bool:
        return self.ns > _ns_of(other, Timestamp)

    def __ge__(self, other: Timestamp) -> bool:
        return self.ns >= _ns_of(other, Timestamp)

    def __repr__(self) -> str:
        return f"timestamp({format_timestamp(self)!r})"

    def __str__(self) -> str:
        return format_timestamp(self)


class Duration:
    """A signed span of time, in nanoseconds."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns

    @classmethod
    def checked(cls, ns: int) -> Duration:
        if -MAX_DUR_NS <= ns <= MAX_DUR_NS:
            return cls(ns)
        raise _range("duration")

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Duration and other.ns == self.ns

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("duration", self.ns))

    def __lt__(self, other: Duration) -> bool:
        return self.ns < _ns_of(other, Duration)

    def __le__(self, other: Duration) -> bool:
        return self.ns <= _ns_of(other, Duration)

    def __gt__(self, other: Duration) -> bool:
        return self.ns > _ns_of(other, Duration)

    def __ge__(self, other: Duration) -> bool:
        return self.ns >= _ns_of(other, Duration)

    def __repr__(self) -> str:
        return f"duration({format_duration(self)!r})"

    def __str__(self) -> str:
        return format_duration(self)


def _ns_of(other: Timestamp | Duration, cls: type[Timestamp | Duration]) -> int:
    if other.__class__ is not cls:
        raise TypeError(f"cannot order {cls.__name__} and {type(other).__name__}")
    return other.ns


# -- arithmetic ------------------------------------------------------------------------------------


def ts_add(t: Timestamp, d: Duration) -> Timestamp:
    return Timestamp.checked(t.ns + d.ns)


def ts_sub(t: Timestamp, d: Duration) -> Timestamp:
    return Timestamp.checked(t.ns - d.ns)


def ts_diff(a: Timestamp, b: Timestamp) -> Duration:
    ns = a.ns - b.ns
    if -INT64_MAX - 1 <= ns <= INT64_MAX:
        return Duration.checked(ns)
    raise _range("difference")


def dur_add(a: Duration, b: Duration) -> Duration:
    return Duration.checked(a.ns + b.ns)


def dur_sub(a: Duration, b: Duration) -> Duration:
    return Duration.checked(a.ns - b.ns)


# -- text ---------------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (checked)."""
    return _dt.date(y, m, d).toordinal() - _EPOCH_DAYS


def parse_timestamp(text: str) -> Timestamp:
    """RFC 3339, e.g. ``2009-02-13T23:31:30Z`` or ``2009-02-13T23:31:30.123+01:00``."""
    m = _RFC3339.fullmatch(text) if len(text) <= 64 else None
    if m is None:
        raise EvalError("eval.bad-conversion", msg("eval.bad-conversion:rfc3339", shown=_show(text)))
    y, mo, d, h, mi, s = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    frac = m.group(7) or ""
    if h > 23 or mi > 59 or s > 60:
        raise EvalError("eval.bad-conversion", msg("eval.bad-conversion:timestamp", shown=_show(text)))
    try:
        days = _days_from_civil(y, mo, d)
    except ValueError:
        if y == 0 and 1 <= mo <= 12 and 1 <= d <= 31:
            raise _range("timestamp") from None
        raise EvalError("eval.bad-conversion", msg("eval.bad-conversion:timestamp", shown=_show(text))) from None
    offset = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            raise EvalError("eval.bad-conversion", msg("eval.bad-conversion:timestamp", shown=_show(text)))
        offset = (oh * 60 + om) * 60 * (1 if m.group(9) == "+" else -1)
    seconds = days * 86400 + h * 3600 + mi * 60 + s - offset
    nanos = int((frac + "000000000")[:9])
    return Timestamp.checked(seconds * NS + nanos)


def timestamp_from_seconds(seconds: int) -> Timestamp:
    if not MIN_TS_NS // NS <= seconds <= MAX_TS_NS // NS:
        raise _range("timestamp")
    return Timestamp(seconds * NS)


_DUR_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 1_000_000, "s": NS, "m": 60 * NS, "h": 3600 * NS}


def parse_duration(text: str) -> Duration:
    """Go's duration syntax: an optional sign and numbers with units, e.g. ``1h30m``, ``-1.5s``, ``100ms``."""
    bad = EvalError("eval.bad-conversion", msg("eval.bad-conversion:duration", shown=_show(text)))
    if len(text) > 128:
        raise bad
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return Duration(0)
    if not s:
        raise bad
    total = 0
    pos = 0
    while pos < len(s):
        m = _DUR_PART.match(s, pos)
        if m is None or (not m.group(1) and not m.group(2)):
            raise bad
        whole, frac, unit = m.group(1) or "0", m.group(2) or "", m.group(3)
        scale = _UNIT_NS[unit]
        total += int(whole) * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        pos = m.end()
        if total > MAX_DUR_NS * 4:  # keep the numbers small; the range check follows
            raise _range("duration")
    return Duration.checked(sign * total)


def _fraction(nanos: int) -> str:
    """0, 3, 6 or 9 fraction digits, as protobuf's JSON mapping writes them."""
    if nanos == 0:
        return ""
    if nanos % 1_000_000 == 0:
        return f".{nanos // 1_000_000:03d}"
    if nanos % 1000 == 0:
        return f".{nanos // 1000:06d}"
    return f".{nanos:09d}"


def format_timestamp(t: Timestamp) -> str:
    seconds, nanos = divmod(t.ns, NS)
    days, rest = divmod(seconds, 86400)
    day = _dt.date.fromordinal(days + _EPOCH_DAYS)
    h, rest = divmod(rest, 3600)
    mi, s = divmod(rest, 60)
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}T{h:02d}:{mi:02d}:{s:02d}{_fraction(nanos)}Z"


def format_duration(d: Duration) -> str:
    sign = "-" if d.ns < 0 else ""
    seconds, nanos = divmod(abs(d.ns), NS)
    return f"{sign}{seconds}{_fraction(nanos)}s"


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:39] + "…")


# -- accessors ------------------------------------------------------------------------------------

_FIXED_TZ = re.compile(r"([+-]?)(\d{1,2}):(\d{2})", re.ASCII)


@lru_cache(maxsize=128)
def _zone(name: str) -> _dt.tzinfo:
    if name == "UTC":
        return _dt.UTC
    m = _FIXED_TZ.fullmatch(name)
    if m is not None:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        return (
            _dt.timezone(_dt.timedelta(minutes=-minutes if m.group(1) == "-" else minutes))
            if minutes < 24 * 60
            else _Offset(minutes * (-1 if m.group(1) == "-" else 1))
        )
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except Exception:  # noqa: BLE001 - unknown name, bad characters, missing data
        raise EvalError("eval.bad-argument", msg("eval.bad-argument:time-zone", name=_show(name))) from None


class _Offset(_dt.tzinfo):
    """A fixed offset of a day or more (``+25:00``), which ``datetime.timezone`` refuses."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes

    def utcoffset(self, dt: Any) -> _dt.timedelta:
        return _dt.timedelta(minutes=self.minutes % (24 * 60))

    def dst(self, dt: Any) -> None:
        return None

    def tzname(self, dt: _dt.datetime | None) -> str:
        hours, minutes = divmod(abs(self.minutes), 60)
        return f"{'-' if self.minutes < 0 else '+'}{hours:02d}:{minutes:02d}"


def local_parts(t: Timestamp, tz: str | None) -> tuple[_dt.datetime, int]:
    """The timestamp as a naive local date-time (seconds precision) and its nanoseconds."""
    seconds, nanos = divmod(t.ns, NS)
    utc = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=seconds)
    if tz is None:
        return utc, nanos
    if not isinstance(tz, str):
        raise EvalError("eval.no-overload", msg("eval.no-overload:time-zone"))
    zone = _zone(tz)
    try:
        local = utc.replace(tzinfo=_dt.UTC).astimezone(zone).replace(tzinfo=None)
    except (OverflowError, ValueError):
        raise _range("timestamp-zone") from None
    return local, nanos


def timestamp_part(t: Timestamp, part: str, tz: str | None = None) -> int:
    local, nanos = local_parts(t, tz)
    if part == "getFullYear":
        return local.year
    if part == "getMonth":
        return local.month - 1
    if part == "getDate":
        return local.day
    if part == "getDayOfMonth":
        return local.day - 1
    if part == "getDayOfWeek":
        return (local.weekday() + 1) % 7  # Sunday is 0
    if part == "getDayOfYear":
        return local.timetuple().tm_yday - 1
    if part == "getHours":
        return local.hour
    if part == "getMinutes":
        return local.minute
    if part == "getSeconds":
        return local.second
    if part == "getMilliseconds":
        return nanos // 1_000_000
    raise EvalError("eval.no-overload", msg("eval.no-overload:accessor", part=part))


def duration_part(d: Duration, part: str) -> int:
    ns = d.ns
    sign = -1 if ns < 0 else 1
    a = abs(ns)
    if part == "getHours":
        return sign * (a // (3600 * NS))
    if part == "getMinutes":
        return sign * (a // (60 * NS))
    if part == "getSeconds":
        return sign * (a // NS)
    if part == "getMilliseconds":
        return sign * ((a % NS) // 1_000_000)
    raise EvalError("eval.no-overload", msg("eval.no-overload:duration", part=part))
