"""One test per hook (``test_hook_<name>``, required by test_docs_plugins.py): a small plugin
registered in-process, used end to end through the command line.  The examples for
``open_records`` and ``decision_made`` in docs/plugins.md are taken from this file."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine import hookimpl
from engine.cli import main
from engine.errors import CheckError, EvalError
from engine.evaluate import Decision, InputRef
from engine.hookspecs import DecisionContext, RecordOptions, RegisterCalendar, RegisterFunction
from engine.io.records import BadRecord
from engine.lang import types as T
from engine.lang.functions import FunctionSpec, Overload
from engine.pluginmanager import PluginManager
from engine.registry import Registry

ROOT = Path(__file__).resolve().parent.parent.parent
VERSIONED = ROOT / "tests" / "data" / "versioned"


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin) if stdin is not None else None)
    return code, out.getvalue(), err.getvalue()


def fees_rulebook(folder: Path, require: str, record_extra: str = "") -> Path:
    """A one-rule rulebook ``test/plugin-fees`` whose requirement is ``require``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "payment.schema.json").write_text(
        (VERSIONED / "payment.schema.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    path = folder / "fees.yaml"
    path.write_text(
        f"""\
rulebook: 1
id: test/plugin-fees
version: "1"
status: in_force
effective_from: "2020-01-01"
title: {{zh: 会费, en: fees}}
source: {{title: 测试}}
decisions:
  fee:
    record: payment.schema.json
    as_of: record.paid_on
    rules:
      - id: ok
        article: 1
        cite: 第一条
        require: '{require}'
        message: {{zh: 不符合, en: not met}}
{record_extra}""",
        encoding="utf-8",
    )
    return path


class RulebookFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def register_rulebooks(self, register: Any) -> None:
        register(self.folder)


def test_hook_register_rulebooks(pm: PluginManager) -> None:
    # GIVEN a plugin registering a folder with three versions of `test/fees`
    pm.register(RulebookFolder(VERSIONED), "fees-plugin")
    # THEN the registry lists them, attributed to the plugin, and check uses them by id
    registry = Registry.default()
    assert [(e.version, e.plugin) for e in registry.versions("test/fees")] == [
        ("2022", "fees-plugin"),
        ("2024", "fees-plugin"),
        ("2025", "fees-plugin"),
    ]
    code, out, _ = run("list", "--all-versions", "--format", "json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert {(o["id"], o["version"], o["plugin"]) for o in listed} >= {("test/fees", "2025", "fees-plugin")}
    code, out, _ = run(
        "check",
        "test/fees",
        "-",
        "--format",
        "json",
        stdin=json.dumps({"id": "P", "paid_on": "2025-02-01", "amount": 120}),
    )
    assert code == 1 and json.loads(out)["version"] == "2025"
    # AND once unregistered they are gone
    pm.unregister("fees-plugin")
    assert "test/fees" not in Registry.default().ids()


# [docs:register_functions_test]
def _percent(part: int, whole: int) -> int:
    if whole == 0:
        raise EvalError("eval.division-by-zero", "percent() of a whole of 0")
    return part * 100 // whole


class Percent:
    @hookimpl
    def register_functions(self, register: RegisterFunction) -> None:
        register(
            FunctionSpec(
                "percent",
                (Overload((T.INT, T.INT), T.INT, _percent),),
                doc="part as a whole percentage of whole, rounded down",
            )
        )


# [/docs]


def test_hook_register_functions(pm: PluginManager, tmp_path: Path) -> None:
    pm.register(Percent(), "percent")
    path = fees_rulebook(tmp_path / "ok", "percent(record.amount, 200) >= 50")
    feed = (
        "\n".join(json.dumps({"id": i, "paid_on": "2025-01-01", "amount": a}) for i, a in (("A", 100), ("B", 99)))
        + "\n"
    )
    code, out, _ = run("check", str(path), "-", "--format", "json", stdin=feed)
    assert code == 1
    assert [json.loads(line)["outcome"] for line in out.splitlines()] == ["pass", "fail"]
    # the checker knows the signature: a string where an int is expected is a lint error
    bad = fees_rulebook(tmp_path / "bad", 'percent(record.amount, "200") >= 50')
    code, out, _ = run("lint", str(bad), "--lang", "en")
    assert code == 2 and "check." in out and "percent" in out
    # a run-time error of the function makes the rule `error`, naming why
    zero = fees_rulebook(tmp_path / "zero", "percent(record.amount, 0) >= 50")
    code, out, _ = run(
        "check",
        str(zero),
        "-",
        "--format",
        "json",
        "--lang",
        "en",
        stdin=json.dumps({"id": "Z", "paid_on": "2025-01-01", "amount": 1}),
    )
    rule = json.loads(out)["rules"][0]
    assert (rule["status"], rule["error"]["code"]) == ("error", "eval.division-by-zero")
    # without the plugin the function is unknown
    pm.unregister("percent")
    with pytest.raises(CheckError, match="percent"):
        Registry.default().load(str(path))


# [docs:register_calendars_test]
class Fridays:
    """A calendar on which only Fridays are working days."""

    name = "fridays"

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() == 4

    def working_days_after(self, day: dt.date, n: int) -> dt.date:
        while n > 0:
            day += dt.timedelta(days=1)
            n -= self.is_working_day(day)
        return day


class FridaysPlugin:
    @hookimpl
    def register_calendars(self, register: RegisterCalendar) -> None:
        register(Fridays())


# [/docs]


def test_hook_register_calendars(pm: PluginManager, tmp_path: Path) -> None:
    pm.register(FridaysPlugin(), "fridays")
    from engine.pluginmanager import calendar_names, get_calendar

    assert calendar_names() == ["CN", "fridays"]
    assert get_calendar("fridays").working_days_after(dt.date(2025, 3, 3), 2) == dt.date(2025, 3, 14)
    path = fees_rulebook(
        tmp_path,
        'working_days_after(record.paid_on, 1, "fridays") == date("2025-03-07") '
        '&& !is_working_day(record.paid_on, "fridays")',
    )
    code, out, _ = run(
        "check", str(path), "-", "--format", "json", stdin=json.dumps({"id": "A", "paid_on": "2025-03-03", "amount": 1})
    )
    assert code == 0, out
    # the built-in CN calendar arrives through the same hook
    assert pm.origin("register_calendars", "CN").builtin  # type: ignore[union-attr]
    assert pm.origin("register_calendars", "fridays").name == "fridays"  # type: ignore[union-attr]


class TallyReport:
    """One line at the end: the number of records by outcome."""

    def __init__(self, out: Any, **_: Any) -> None:
        self.out = out
        from engine.io.report import Summary

        self.summary = Summary()

    def begin(self) -> None:
        return None

    def write(self, decision: Decision) -> None:
        self.summary.add(decision)

    def write_error(self, rulebook: str, version: str, decision: str, ref: InputRef, message: str) -> None:
        self.summary.outcomes["error"] += 1

    def end(self) -> Any:
        self.out.write(json.dumps(dict(sorted(self.summary.outcomes.items()))) + "\n")
        return self.summary


class TallyPlugin:
    @hookimpl
    def register_formats(self, register: Any) -> None:
        register("tally", TallyReport)


def test_hook_register_formats(pm: PluginManager, root: Path) -> None:
    assert {"text", "json"} <= set(pm.formats())  # the built-in formats come through the hook too
    pm.register(TallyPlugin(), "tally")
    code, out, err = run(
        "check",
        "hlj-musicians/membership",
        str(root / "examples" / "applicants.jsonl"),
        "--format",
        "tally",
        "--lang",
        "en",
    )
    assert code == 1
    tally = json.loads(out)
    assert sum(tally.values()) == 20 and tally["fail"] > 0
    assert "20 records" in err
    # an unknown format is a usage error listing the formats there are
    code, _, err = run("check", "hlj-musicians/membership", "-", "--format", "taly", "--lang", "en", stdin="")
    assert code == 2 and "did you mean `tally`?" in err and "`json`" in err


# [docs:open_records]
class SqliteReader:
    """Reads the table `records` of an SQLite database (`.sqlite`, `.db`): one record per row."""

    @hookimpl
    def open_records(self, path: str, options: RecordOptions) -> Iterator[tuple[InputRef, Any]] | None:
        if not path.endswith((".sqlite", ".db")) and options.input_format != "sqlite":
            return None  # not ours: let the other readers try
        return self.read(path)

    def read(self, path: str) -> Iterator[tuple[InputRef, Any]]:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            for row in db.execute("SELECT rowid AS row_number, * FROM records ORDER BY rowid"):
                where = InputRef(path, row["row_number"])  # the row stands for the line
                columns = row.keys()  # a sqlite3.Row iterates its values, not its column names
                record = {key: row[key] for key in columns if key != "row_number"}
                if record.get("id") is None:
                    yield where, BadRecord("the row has no id", "该行没有 id")
                    continue
                yield where, record


# [/docs]


def test_hook_open_records(pm: PluginManager, tmp_path: Path) -> None:
    pm.register(SqliteReader(), "sqlite")
    db = tmp_path / "payments.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE records (id TEXT, paid_on TEXT, amount INTEGER)")
        conn.executemany(
            "INSERT INTO records VALUES (?, ?, ?)",
            [("A", "2025-03-01", 200), (None, "2025-03-01", 5), ("C", "2025-03-02", 10)],
        )
        conn.commit()
    path = fees_rulebook(tmp_path / "rb", "record.amount >= 100")
    code, out, _ = run("check", str(path), str(db), "--format", "json", "--lang", "en")
    objs = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [(o["record"], o["input"]["line"], o["outcome"]) for o in objs] == [
        ("A", 1, "pass"),
        (None, 2, "error"),
        ("C", 3, "fail"),
    ]
    assert objs[1]["message"] == "the row has no id"
    # JSON Lines still goes to the built-in reader, tried last
    code, out, _ = run(
        "check",
        str(path),
        "-",
        "--format",
        "json",
        stdin=json.dumps({"id": "D", "paid_on": "2025-03-01", "amount": 100}),
    )
    assert code == 0 and json.loads(out)["record"] == "D"


def test_the_builtin_reader_types_csv_cells_by_the_record_schema(pm: PluginManager, tmp_path: Path) -> None:
    feed = tmp_path / "payments.csv"
    feed.write_text("id,paid_on,amount\nA,2025年3月1日,200\nB,2025-03-01,ten\n", encoding="utf-8")
    path = fees_rulebook(tmp_path / "rb", "record.amount >= 100")
    code, out, _ = run("check", str(path), str(feed), "--format", "json", "--lang", "en")
    objs = [json.loads(line) for line in out.splitlines()]
    assert [(o["record"], o["outcome"]) for o in objs] == [("A", "pass"), (None, "error")]
    assert code == 1


def test_open_records_with_no_reader_is_a_usage_error(pm: PluginManager, tmp_path: Path) -> None:
    path = fees_rulebook(tmp_path, "true")
    code, _, err = run("check", str(path), "-", "--input-format", "avro", "--lang", "en", stdin="")
    assert code == 2 and "no installed reader can read `-`" in err


# [docs:decision_made]
class AuditLog:
    """Appends one line per decision to a JSON Lines audit log."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @hookimpl
    def decision_made(self, decision: Decision, context: DecisionContext) -> None:
        entry = {
            "run": context.run_id,
            "at": context.started_at.isoformat(),
            "command": context.command,
            "rulebook": decision.rulebook,
            "version": decision.version,
            "record": decision.record_id,
            "outcome": str(decision.outcome),
            "failed": [r.id for r in decision.rules if r.status == "fail"],
        }
        with self.path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False) + "\n")


# [/docs]


def test_hook_decision_made(pm: PluginManager, tmp_path: Path, root: Path) -> None:
    log = tmp_path / "audit.jsonl"
    pm.register(AuditLog(log), "audit")
    feed = (root / "examples" / "applicants.jsonl").read_text(encoding="utf-8") + "{not json\n"
    code, out, _ = run("check", "hlj-musicians/membership", "-", "--format", "json", stdin=feed)
    decisions = [json.loads(line) for line in out.splitlines()]
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == len(decisions) == 21  # the unreadable line too
    assert [e["record"] for e in entries] == [d["record"] for d in decisions]
    assert [e["outcome"] for e in entries] == [d["outcome"] for d in decisions]
    assert entries[-1]["outcome"] == "error"
    assert len({e["run"] for e in entries}) == 1 and {e["command"] for e in entries} == {"check"}
    assert code == 1


class Broken:
    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def decision_made(self, decision: Decision, context: DecisionContext) -> None:
        self.calls += 1
        raise OSError("the audit database is down")


def test_a_failing_observer_is_reported_and_loses_no_decision(pm: PluginManager, tmp_path: Path, root: Path) -> None:
    broken = Broken()
    log = tmp_path / "audit.jsonl"
    pm.register(broken, "broken-audit")
    pm.register(AuditLog(log), "audit")
    code, out, err = run(
        "check",
        "hlj-musicians/membership",
        str(root / "examples" / "applicants.jsonl"),
        "--format",
        "json",
        "--lang",
        "en",
    )
    assert len(out.splitlines()) == 20 and code == 1  # every decision reported, exit code from the decisions
    assert broken.calls == 20
    assert len(log.read_text(encoding="utf-8").splitlines()) == 20  # the other observer still told
    assert err.count("plugin `broken-audit` failed in `decision_made`: OSError: the audit database is down") == 1
    assert "observer plugins failed 20 times" in err


def test_explain_tells_the_observers_too(pm: PluginManager, tmp_path: Path, root: Path) -> None:
    log = tmp_path / "audit.jsonl"
    pm.register(AuditLog(log), "audit")
    record = tmp_path / "one.json"
    first = (root / "examples" / "applicants.jsonl").read_text(encoding="utf-8").splitlines()[0]
    record.write_text(first, encoding="utf-8")
    run("explain", "hlj-musicians/membership", str(record))
    [entry] = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert entry["command"] == "explain" and entry["record"] == json.loads(first)["id"]


def test_dancers_csv_report_class_is_a_format(pm: PluginManager, root: Path, dancers_source: Path) -> None:
    # the example plugin's format class, registered from its source folder (the installed
    # package is tested in test_example_plugin.py)
    from rulebook_dancers.csvreport import COLUMNS, CsvReport

    class CsvPlugin:
        @hookimpl
        def register_formats(self, register: Any) -> None:
            register("csv", CsvReport)

    pm.register(CsvPlugin(), "csv")
    code, out, _ = run(
        "check", "hlj-musicians/membership", str(root / "examples" / "applicants.jsonl"), "--format", "csv"
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 21 and code == 1
