"""The decision log's line as the logger gets it (written as text, the record masked in its JSON)
is the line the observers get as a dict, written by ``json.dumps``; and it reaches the logger's
handlers through everything a deployment configures on ``rulebook.serve.decisions``."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.serve import decisionlog
from engine.serve.config import ServeConfig
from engine.serve.decisionlog import LOGGER, DecisionLog, TextMask, dumps, mask
from tests.serve.conftest import MINI, ClientFactory, record

DEFAULT_FIELDS = sorted(ServeConfig().masked_fields)
# names that look like the text around a key, or hold what JSON escapes
TRICKY = [
    'x"name',
    'name"',
    "name\\",
    "\\",
    '"',
    '": ',
    ', "name": ',
    "{",
    "}",
    "[",
    "]",
    ":x",
    ",",
    " ",
    "",
    "名字",
    "é",
    "\u2028",
    "\x00",
    "\n",
    "\ud800",
    "***",
    "name name",
]
NAMES = DEFAULT_FIELDS + TRICKY + ["id", "level", "awards"]

keys = st.sampled_from(NAMES) | st.text(max_size=5)
characters = st.sampled_from(['"', "\\", ":", ",", " ", "{", "}", "[", "]", "n", "a", "名", "\x1f", "\ud800", "é"])
strings = st.sampled_from(NAMES) | st.text(characters, max_size=12) | st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | strings
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5), max_leaves=30
)
records = st.dictionaries(keys, values, max_size=8)
field_sets = st.frozensets(st.sampled_from(NAMES), max_size=5) | st.just(frozenset(DEFAULT_FIELDS))


class Decided:
    """What the log reads of a decision."""

    def __init__(
        self,
        rulebook: str = "serve-test/mini",
        record_id: str | None = "R-1",
        failing: tuple[tuple[str, str, str, str], ...] = (),
    ) -> None:
        self.rulebook = rulebook
        self.version = "2024-01-01"
        self.decision = "admission"
        self.record_id = record_id
        self.outcome = "fail" if failing else "pass"
        self.failing = failing


decisions = st.builds(
    Decided,
    rulebook=strings,
    record_id=st.none() | strings,
    failing=st.lists(
        st.tuples(strings, st.sampled_from(["fail", "error"]), st.just("error"), st.just("")), max_size=3
    ).map(tuple),
)


@contextmanager
def fixed_time() -> Iterator[None]:
    with mock.patch.object(decisionlog, "_now", lambda: "2026-01-02T03:04:05.678901+00:00"):
        yield


def old_line(log: DecisionLog, decision: Any, rec: Any, decision_id: str, latency_ms: float) -> str:
    """The line as it was always written: the dict, through ``json.dumps``."""
    return json.dumps(log.line(decision, rec, decision_id, latency_ms), ensure_ascii=False, default=str)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(decision=decisions, rec=records, fields=field_sets, latency=st.floats(min_value=0, max_value=1e6))
@example(decision=Decided(), rec={'x"name': "v", "name": "张三"}, fields=frozenset({"name"}), latency=0.0)
@example(decision=Decided(), rec={"a": ', "name": "v"', "b": {"name": 1}}, fields=frozenset({"name"}), latency=1.0)
@example(
    decision=Decided(), rec={"name": {"name": ["x"]}, "n": [{"name": None}]}, fields=frozenset({"name"}), latency=1.0
)
@example(decision=Decided(), rec={": ": ": ", "a, ": ": "}, fields=frozenset({": "}), latency=1.0)
@example(decision=Decided(), rec={"a, ": ": 1}", ": ": 2}, fields=frozenset({": "}), latency=1.0)
@example(decision=Decided(), rec={"name\\": "\\", "name": "\\\\"}, fields=frozenset({"name\\", "name"}), latency=1.0)
def test_the_text_line_is_the_dict_line(
    decision: Decided, rec: dict[str, Any], fields: frozenset[str], latency: float
) -> None:
    log = DecisionLog(fields)
    before = copy.deepcopy(rec)
    with fixed_time():
        text = log.text(decision, rec, "f07117dfa2d64b528fab5cdaeb5a91af", latency)
        line = log.line(decision, rec, "f07117dfa2d64b528fab5cdaeb5a91af", latency)
        assert text == old_line(log, decision, rec, "f07117dfa2d64b528fab5cdaeb5a91af", latency)
    assert json.loads(text) == line
    assert rec == before  # the record itself is never changed


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values, fields=field_sets)
def test_the_text_mask_is_the_value_mask(value: Any, fields: frozenset[str]) -> None:
    text_mask = TextMask.of(fields)
    if text_mask is None:  # nothing to mask, or a name beginning like the text after a string
        assert not fields or any(f[:1] in (",", ":", "]", "}") for f in fields)
        return
    assert text_mask.apply(dumps(value), value, fields) == dumps(mask(value, fields))


def test_what_is_masked_and_what_is_not() -> None:
    fields = frozenset({"name", "birth_date"})
    text_mask = TextMask.of(fields)
    assert text_mask is not None
    rec = {
        "name": "张三",
        'x"name': "kept: a key that ends with the name",
        "note": 'kept: ", "name": "text that looks like a key"',
        "birth_date": None,
        "people": [{"name": 1.5e300}, {"name": True}, {"name": "\\"}, {"kin": {"name": -0.0}}],
    }
    masked = json.loads(text_mask.apply(dumps(rec), rec, fields))
    assert masked["name"] == masked["birth_date"] == "***"
    assert masked['x"name'] == rec['x"name'] and masked["note"] == rec["note"]
    assert [p.get("name") for p in masked["people"]] == ["***", "***", "***", None]
    assert masked["people"][3]["kin"]["name"] == "***"
    # an object or a list under a masked name: masked whole, its insides never shown
    nested = {"name": {"family": "张", "given": "三"}, "birth_date": ["2005", "06"]}
    assert json.loads(text_mask.apply(dumps(nested), nested, fields)) == {"name": "***", "birth_date": "***"}
    # a name beginning with what may follow a closing quote: the record is masked as a value
    assert TextMask.of(frozenset({"name", ":x"})) is None and TextMask.of(frozenset()) is None
    log = DecisionLog({":x"})
    with fixed_time():
        assert log.text(Decided(), {":x": 1, "a": ":x"}, "d", 0.0) == old_line(
            log, Decided(), {":x": 1, "a": ":x"}, "d", 0.0
        )


def test_the_line_as_logged_keeps_its_fields_in_order() -> None:
    log = DecisionLog(DEFAULT_FIELDS)
    decision = Decided(failing=(("adult", "fail", "error", "第十二条"), ("award", "error", "warning", "")))
    with fixed_time():
        text = log.text(decision, record(), "abc", 0.8449)
    assert list(json.loads(text)) == [
        "decision_id",
        "time",
        "rulebook",
        "version",
        "decision",
        "record_id",
        "outcome",
        "failed_rules",
        "undecided_rules",
        "latency_ms",
        "record",
    ]
    assert text.startswith('{"decision_id": "abc", "time": "2026-01-02T03:04:05.678901+00:00", ')
    assert '"failed_rules": ["adult"], "undecided_rules": ["award"], "latency_ms": 0.845, ' in text
    assert text.endswith(
        '"record": {"id": "R-1", "name": "***", "birth_date": "***", "application_date": "2024-07-01"}}'
    )


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(filename)s %(funcName)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def handler_on_the_logger(level: int = logging.INFO) -> Iterator[Kept]:
    handler = Kept()
    old_level, old_propagate = LOGGER.level, LOGGER.propagate
    LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False
    try:
        yield handler
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(old_level)
        LOGGER.propagate = old_propagate


@pytest.mark.anyio
async def test_the_deployments_logging_configuration_applies(client_for: ClientFactory) -> None:
    async with client_for() as c:
        with handler_on_the_logger() as kept:
            r = await c.post(MINI, json=record())
            await c.post(MINI + "/batch", content=json.dumps(record(id="B-1")).encode() + b"\n")
        assert [json.loads(x.getMessage())["record_id"] for x in kept.records] == ["R-1", "B-1"]
        first = kept.records[0]
        assert json.loads(first.getMessage())["decision_id"] == r.headers["x-decision-id"]
        # the record names the place that wrote it, as Logger.info would
        assert kept.format(first).startswith("rulebook.serve.decisions INFO decisionlog.py write: {")
        assert first.levelno == logging.INFO and first.exc_info is None and first.args == ()

        def refuse(rec: logging.LogRecord) -> bool:
            return "R-2" not in rec.getMessage()

        with handler_on_the_logger() as kept:
            LOGGER.addFilter(refuse)
            try:
                await c.post(MINI, json=record(id="R-2"))
                await c.post(MINI, json=record(id="R-3"))
            finally:
                LOGGER.removeFilter(refuse)
        assert [json.loads(x.getMessage())["record_id"] for x in kept.records] == ["R-3"]

        with handler_on_the_logger(logging.WARNING) as kept:  # the level a deployment sets
            assert not c.app.state.service.log.wanted()
            await c.post(MINI, json=record())
        with handler_on_the_logger() as kept_disabled:
            logging.disable(logging.INFO)
            try:
                await c.post(MINI, json=record())
            finally:
                logging.disable(logging.NOTSET)
        assert kept.records == [] and kept_disabled.records == []


@pytest.mark.anyio
async def test_the_logger_and_the_observers_get_the_same_line(client_for: ClientFactory) -> None:
    from engine.hookspecs import DecisionContext, hookimpl
    from engine.pluginmanager import get_plugin_manager

    seen: list[dict[str, Any]] = []

    class Observer:
        @hookimpl
        def decision_made(self, decision: Any, context: DecisionContext) -> None:
            seen.append(context.options["log"])

    pm = get_plugin_manager()
    pm.register(Observer(), "serve-log-observer")
    try:
        async with client_for() as c:
            with handler_on_the_logger() as kept:
                await c.post(MINI, json=record(awards=[{"level": "national", "grade": 1, "name": "金钟奖"}]))
    finally:
        pm.unregister("serve-log-observer")
    assert len(seen) == 1 and len(kept.records) == 1
    assert kept.records[0].getMessage() == json.dumps(seen[0], ensure_ascii=False)
    assert seen[0]["record"]["name"] == seen[0]["record"]["awards"][0]["name"] == "***"


@contextmanager
def serve_logging(stream: Any) -> Iterator[Any]:
    """The decision log as ``rulebook serve`` configures it, writing to ``stream``."""
    import logging.config
    import sys

    from engine.serve.server import log_config

    saved = (list(LOGGER.handlers), list(LOGGER.filters), LOGGER.level, LOGGER.propagate, sys.stdout)
    sys.stdout = stream  # the configuration's "ext://sys.stdout"
    try:
        logging.config.dictConfig(log_config("warning"))
    finally:
        sys.stdout = saved[4]
    try:
        yield LOGGER.handlers[0]
    finally:
        for h in LOGGER.handlers:
            LOGGER.removeHandler(h)
        for h in saved[0]:
            LOGGER.addHandler(h)
        for f in list(LOGGER.filters):
            LOGGER.removeFilter(f)
        for f in saved[1]:
            LOGGER.addFilter(f)
        LOGGER.setLevel(saved[2])
        LOGGER.propagate = saved[3]


def test_serves_own_handler_gets_the_very_line_logging_would_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``rulebook serve``'s handler alone the line is written to its stream directly (no
    LogRecord is made), as logging would write it; anything a deployment adds (a filter, another
    handler, a formatter) sends the lines through logging again."""
    import io

    from engine.serve.decisionlog import LineHandler

    log = DecisionLog(("name",))
    made: list[Any] = []
    real = LOGGER.makeRecord

    def counted(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(LOGGER, "makeRecord", counted)
    stream = io.StringIO()
    with serve_logging(stream) as handler:
        assert isinstance(handler, LineHandler)
        log._log('{"a": "一"}')
        assert stream.getvalue() == '{"a": "一"}\n' and made == []
        # the same through logging itself, as it was before: the same text
        monkeypatch.setattr("engine.serve.decisionlog._direct_handler", lambda: None)
        log._log('{"a": "一"}')
        assert stream.getvalue() == '{"a": "一"}\n' * 2 and len(made) == 1
        monkeypatch.undo()
        monkeypatch.setattr(LOGGER, "makeRecord", counted)

        handler.addFilter(lambda r: "drop" not in r.getMessage())  # a deployment's filter applies
        log._log('{"drop": 1}')
        log._log('{"keep": 1}')
        assert stream.getvalue().splitlines()[-1] == '{"keep": 1}' and len(made) == 3
        handler.filters.clear()

        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))  # and its formatter
        log._log('{"b": 2}')
        assert stream.getvalue().splitlines()[-1] == 'INFO {"b": 2}'
        handler.setFormatter(logging.Formatter("%(message)s"))

        kept = Kept()
        LOGGER.addHandler(kept)  # and another handler of its own
        log._log('{"c": 3}')
        assert stream.getvalue().splitlines()[-1] == '{"c": 3}' and kept.records[-1].getMessage() == '{"c": 3}'
        LOGGER.removeHandler(kept)

        made.clear()
        log._log('{"d": 4}')  # back to serve's own configuration: direct again
        assert stream.getvalue().splitlines()[-1] == '{"d": 4}' and made == []


def test_a_failing_stream_is_reported_as_logging_reports_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError("the disk is full")

    reported: list[logging.LogRecord] = []
    with serve_logging(Broken()) as handler:
        monkeypatch.setattr(handler, "handleError", reported.append)
        DecisionLog(())._log('{"e": 5}')
    assert [r.getMessage() for r in reported] == ['{"e": 5}']
    assert reported[0].funcName == "test_a_failing_stream_is_reported_as_logging_reports_it"
