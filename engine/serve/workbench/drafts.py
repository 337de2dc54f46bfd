"""Saving a draft version, the save log, sample feeds and the impact of a text on records.

Where a draft is saved: into the folder of the rulebook file it is based on when that file is
under a folder given with ``--rulebooks`` (a watched folder); a rulebook supplied otherwise (a
plugin's, the bundled ones) is saved into the first folder given with ``--rulebooks``.  The
file is ``<name>-<version>.yaml`` (``name``: the part of the id after ``/``; every character
of the version but letters, digits, ``.``, ``_`` and ``-`` written ``-``), created with
``O_EXCL`` under a temporary name in that folder and linked into place, so an existing file
is never overwritten and a reader never sees half a file.  ``supersedes`` (a key of the
format) gets ``id@based_on`` when the text does not list it.  The save log is
``.workbench-log.jsonl`` in that folder: one JSON line per save (who, when, what, based on).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Diagnostic, EngineError
from engine.messages import Text
from engine.serve.problems import Problem

if TYPE_CHECKING:
    from engine.evaluate import CompiledRulebook
    from engine.serve.config import ServeConfig
    from engine.serve.rulebooks import LoadedBook

__all__ = ["LOG_NAME", "Impact", "impact_records", "list_samples", "read_log", "save"]

LOG_NAME = ".workbench-log.jsonl"
SAMPLE_SUFFIXES = (".jsonl", ".json", ".csv", ".xlsx")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


# -- sample feeds ---------------------------------------------------------------------------------


def _sample_files(folders: tuple[Path, ...]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in SAMPLE_SUFFIXES and path.is_file() and not path.name.startswith("."):
                out.setdefault(path.name, path)
    return out


_COUNTS: dict[tuple[str, int, int], int] = {}


def list_samples(folders: tuple[Path, ...]) -> list[dict[str, Any]]:
    """The sample feeds of the configured folders, with their record counts (remembered by file
    size and modification time)."""
    from engine.io.records import read_records

    out = []
    for name, path in _sample_files(folders).items():
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        count = _COUNTS.get(key)
        if count is None:
            try:
                count = sum(1 for _ref, rec in read_records(str(path)) if isinstance(rec, dict))
            except EngineError:
                count = 0
            _COUNTS[key] = count
        out.append({"name": name, "format": path.suffix.lstrip(".").lower(), "records": count, "bytes": st.st_size})
    return out


@dataclass
class Records:
    """The records an impact check reads: loaded in a worker thread, then compared in chunks.

    ``key``: what a sample feed's records are remembered by (its path, size, modification time
    and the record schema typing its cells), so that the next check over the same unchanged
    feed reads it from memory; evaluating a record does not change it, so the records are shared.
    """

    reader: Any
    items: list[tuple[Any, Any]] = field(default_factory=list)
    unreadable: int = 0
    key: tuple[Any, ...] | None = None

    def load(self) -> int:
        if self.key is not None:
            with _SAMPLES_LOCK:
                found = _SAMPLES.get(self.key)
            if found is not None:
                self.items, self.unreadable = found
                return len(self.items)
        try:
            for ref, rec in self.reader():
                if isinstance(rec, dict):
                    self.items.append((ref, rec))
                else:
                    self.unreadable += 1
        except EngineError as e:
            raise Problem(400, e.diagnostics[0].code, e.diagnostics[0].message_text) from None
        if self.key is not None:
            with _SAMPLES_LOCK:
                _SAMPLES.clear()  # one feed at a time: a feed may be large
                _SAMPLES[self.key] = (self.items, self.unreadable)
        return len(self.items)


_SAMPLES: dict[tuple[Any, ...], tuple[list[tuple[Any, Any]], int]] = {}
_SAMPLES_LOCK = threading.Lock()


def impact_records(
    body: dict[str, Any], folders: tuple[Path, ...], book: CompiledRulebook, decision: str | None, lang: str
) -> Records:
    """The records of the request: a configured sample feed by name, or JSON Lines in ``records``."""
    from engine.evaluate import InputRef
    from engine.io.records import parse_json_line, read_records

    sample, records = body.get("sample"), body.get("records")
    name = decision or next(iter(book.decisions))
    schema = book.decisions[name].record_schema
    if isinstance(sample, str):
        path = _sample_files(folders).get(sample)
        if path is None:
            raise Problem(
                404,
                "workbench.unknown-sample",
                Text(f"no sample feed `{sample}`", f"没有样本数据 `{sample}`"),
                candidates=sorted(_sample_files(folders)),
            )
        try:
            stat = path.stat()
            key: tuple[Any, ...] | None = (
                str(path),
                stat.st_size,
                stat.st_mtime_ns,
                json.dumps(schema, sort_keys=True, default=str),
            )
        except OSError:
            key = None
        return Records(lambda: read_records(str(path), schema=schema), key=key)
    if isinstance(records, str):

        def lines() -> Any:
            for number, line in enumerate(records.split("\n"), 1):
                if line.strip():
                    try:
                        yield InputRef("records", number), parse_json_line(line)
                    except ValueError:
                        yield InputRef("records", number), None

        return Records(lines)
    raise Problem(
        400,
        "workbench.bad-body",
        Text(
            "give `sample` (a feed's name) or `records` (JSON Lines)",
            "请给出 `sample`（样本名）或 `records`（JSON Lines）",
        ),
    )


def _expressions(value: Any) -> list[str]:
    """The text of every expression inside a decision's specification."""
    import dataclasses

    from engine.model import Expr

    out: list[str] = []
    work = [value]
    while work:
        item = work.pop()
        if isinstance(item, Expr):
            out.append(item.text)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            work.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, (tuple, list)):
            work.extend(item)
        elif isinstance(item, dict):
            work.extend(item.values())
    return out


def same_decision(old: CompiledRulebook, new: CompiledRulebook, name: str) -> bool:
    """Whether decision ``name`` decides every record alike in both versions: the same
    specification (expressions, rules, outputs ...), record schema and enforcement, and the
    same value of every parameter its expressions name (an expression that does not parse
    counts as naming them all)."""
    from engine.lang import ast as A
    from engine.lang.parser import parse_condition

    a, b = old.decisions.get(name), new.decisions.get(name)
    if a is None or b is None or a.spec != b.spec:
        return False
    if a.record_schema != b.record_schema or a.schema_enforcement != b.schema_enforcement:
        return False
    params_a = {p.name: p.value for p in old.book.parameters}
    params_b = {p.name: p.value for p in new.book.parameters}
    names: set[str] = set()
    for text in _expressions(b.spec):
        try:
            node = parse_condition(text)
        except EngineError:
            names = set(params_a) | set(params_b)
            break
        names |= {n.name.lstrip(".").split(".", 1)[0] for n in A.walk(node) if isinstance(n, A.Ident)}
    names = {p for p in {*params_a, *params_b} if p.split(".", 1)[0] in names}  # CEL's dotted names
    missing = object()
    return all(
        params_a.get(n, missing) == params_b.get(n, missing) and type(params_a.get(n)) is type(params_b.get(n))
        for n in names
    )


class Impact:
    """``rulebook diff --data``: the records whose outcome, outputs or rule statuses change."""

    def __init__(self, old: LoadedBook, new: CompiledRulebook, decision: str | None) -> None:
        names = [decision] if decision else [n for n in new.decisions if n in old.book.decisions]
        self.pairs = [(n, old.book.decisions[n], new.decisions[n]) for n in names]
        # a decision whose text, record schema and the parameters it reads are the same in both
        # versions decides every record alike: it is listed but not evaluated twice
        self.compared = [(n, o, c) for n, o, c in self.pairs if not same_decision(old.book, new, n)]
        self.against = old.version
        self.rules = {(d.name, r.id): r for d in new.book.decisions for r in d.rules}
        self.rules_old = {(d.name, r.id): r for d in old.book.book.decisions for r in d.rules}
        self.changed = 0
        self.shown: list[dict[str, Any]] = []
        self.by_article: dict[str, int] = {}
        self.by_rule: dict[str, int] = {}

    def compare(self, chunk: list[tuple[Any, Any]]) -> None:
        from engine.evaluate import to_json_value
        from engine.tools.diff import diff_records

        for name, old, new in self.compared:
            for change in diff_records(old, new, chunk):
                self.changed += 1
                articles: set[str] = set()
                rules = []
                for rid, before, after in change.rules:
                    spec = self.rules.get((name, rid)) or self.rules_old.get((name, rid))
                    cite = spec.cite if spec is not None else rid
                    articles.add(cite)
                    self.by_rule[rid] = self.by_rule.get(rid, 0) + 1
                    rules.append(
                        {
                            "id": rid,
                            "article": spec.article if spec else None,
                            "cite": cite,
                            "before": before,
                            "after": after,
                        }
                    )
                for cite in articles:
                    self.by_article[cite] = self.by_article.get(cite, 0) + 1
                if len(self.shown) < 200:
                    self.shown.append(
                        {
                            "line": change.input.line if change.input else None,
                            "id": change.record,
                            "decision": name,
                            "before": str(change.old.outcome),
                            "after": str(change.new.outcome),
                            "outputs_before": to_json_value(change.old.outputs),
                            "outputs_after": to_json_value(change.new.outputs),
                            "rules": rules,
                        }
                    )

    def summary(self, total: int, unreadable: int, shown: int) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "total": total,
            "unreadable": unreadable,
            "against": self.against,
            "decisions": [n for n, _o, _n in self.pairs],
            "records": self.shown[:shown],
            "by_article": self.by_article,
            "by_rule": self.by_rule,
        }


# -- saving ---------------------------------------------------------------------------------------


def _folder_for(config: ServeConfig, source: Path) -> Path:
    """Where a draft of the rulebook read from ``source`` is written (see the module's text)."""
    folders = [p.resolve() for p in config.rulebook_paths if p.is_dir()]
    src = source.resolve()
    for folder in folders:
        if src.is_relative_to(folder):
            return src.parent
    if folders:
        return folders[0]
    raise Problem(
        409,
        "workbench.no-folder",
        Text(
            "no rulebook folder to save into: start the server with `--rulebooks FOLDER`",
            "没有可保存到的规则集文件夹：请用 `--rulebooks 文件夹` 启动服务",
        ),
    )


def file_name(rulebook_id: str, version: str) -> str:
    """``<name>-<version>.yaml`` with only safe characters (never a path)."""
    name = _UNSAFE.sub("-", rulebook_id.rsplit("/", 1)[-1]).lstrip(".-") or "rulebook"
    safe = _UNSAFE.sub("-", version).strip(".-") or "draft"
    return f"{name}-{safe}.yaml"


def with_supersedes(text: str, entry: str) -> str:
    """The text with ``entry`` in its top-level ``supersedes`` list (added when absent)."""
    from engine.source import Source
    from engine.yamlload import load_yaml

    loaded = load_yaml(Source("draft.yaml", text))
    data: Any = loaded.data
    current = data.get("supersedes") if isinstance(data, dict) else None
    if isinstance(current, list) and entry in current:
        return text
    if isinstance(current, list):
        pos = loaded.positions[("supersedes",)].value
        flow = json.dumps([*current, entry], ensure_ascii=False)
        return text[: pos.start] + flow + text[pos.end :]
    # a new top-level key, after the `status:` line
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("status:"):
            lines.insert(i + 1, f"supersedes: [{json.dumps(entry, ensure_ascii=False)}]")
            return "\n".join(lines)
    return text.rstrip("\n") + f"\nsupersedes: [{json.dumps(entry, ensure_ascii=False)}]\n"


def save(bench: Any, text: str, based_on: str, user: str | None, lang: str) -> dict[str, Any]:
    """Check and write a draft; the rulebooks are reloaded (atomically) to serve it."""
    from engine.serve.workbench.api import diagnostic_json, refused
    from engine.serve.workbench.language import examples_json

    config = bench.config
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    built = bench.memos.diagnose(text, "draft.yaml", None)
    errors = [d for d in built.diagnostics if d.severity == "error"]
    if built.book is None or errors:
        raise refused(
            errors or built.diagnostics,
            lang,
            Text("the text does not load cleanly", "文本无法顺利加载"),
        )
    book: CompiledRulebook = built.book
    rb = book.book
    base = bench.loaded(rb.id, based_on) if rb.id in bench.snapshot().by_id else None
    if base is None:
        raise refused(
            [],
            lang,
            Text(
                f"`{rb.id}` is not a rulebook this server serves: a draft keeps the id of the rulebook it edits",
                f"本服务没有规则集 `{rb.id}`：草稿须保留所编辑规则集的 id",
            ),
        )
    if rb.status != "draft":
        raise refused(
            [],
            lang,
            Text(
                f"the status is `{rb.status}`: a saved version is a `draft`",
                f"状态为 `{rb.status}`：保存的版本应为 `draft`",
            ),
        )
    if rb.version in {v.version for v in bench.snapshot().versions(rb.id)}:
        raise refused(
            [],
            lang,
            Text(
                f"version `{rb.version}` of `{rb.id}` exists already: give the draft a new `version`",
                f"`{rb.id}` 已有版本 `{rb.version}`：请为草稿填写新的 `version`",
            ),
        )
    results = examples_json(book, lang)
    if results["failed"]:
        raise refused([], lang, Text("some examples do not hold", "有示例不成立"), failed=results["failed"])
    entry = f"{rb.id}@{based_on}"
    final_text = with_supersedes(text, entry) if based_on != rb.version else text
    folder = _folder_for(config, base.entry.path)
    target = folder / file_name(rb.id, rb.version)
    if target.resolve().parent != folder.resolve() or target.is_symlink():
        raise Problem(400, "workbench.bad-path", Text("the file name leaves the folder", "文件名超出了文件夹"))
    if target.exists():
        raise refused(
            [],
            lang,
            Text(
                f"`{target.name}` exists already; nothing is overwritten", f"`{target.name}` 已存在；不会覆盖任何文件"
            ),
        )
    _write_new(target, final_text)
    result = bench.service.rulebooks.reload_file(target)
    if not result.replaced:
        target.unlink(missing_ok=True)
        bench.service.rulebooks.reload_file(target)
        message = result.failure.message if result.failure is not None else Text("not loaded", "未能加载")
        raise refused([Diagnostic("workbench.refused", message)], lang, message)
    saved_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    record = {
        "path": target.name,
        "id": rb.id,
        "version": rb.version,
        "based_on": based_on,
        "supersedes": entry if based_on != rb.version else None,
        "saved_by": user,
        "saved_at": saved_at,
    }
    with open(folder / LOG_NAME, "a", encoding="utf-8") as log:
        log.write(json.dumps(record, ensure_ascii=False) + "\n")
    _ = diagnostic_json
    return record


def _write_new(target: Path, text: str) -> None:
    """Write ``target``, which must not exist, whole or not at all (never following a link)."""
    tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, target)  # fails when the target exists: nothing is overwritten
        except FileExistsError:
            raise Problem(
                422, "workbench.refused", Text(f"`{target.name}` exists already", f"`{target.name}` 已存在")
            ) from None
    finally:
        tmp.unlink(missing_ok=True)


def read_log(config: ServeConfig) -> list[dict[str, Any]]:
    """Every save of every rulebook folder's log, newest first."""
    out: list[dict[str, Any]] = []
    for folder in {p.resolve() for p in config.rulebook_paths if p.is_dir()}:
        log = folder / LOG_NAME
        if not log.is_file():
            continue
        for line in log.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                out.append(item)
    return sorted(out, key=lambda i: str(i.get("saved_at")), reverse=True)


# -- spreadsheets read by the engine --------------------------------------------------------------

SHEET_FORMATS = ("csv", "tsv", "xlsx")


def sheet_lines(
    data: bytes, fmt: str, name: str, schema: dict[str, Any] | None, decision: tuple[str, str, str], lang: str
) -> bytes:
    """A spreadsheet's bytes read as ``rulebook check`` reads the file (``engine.io.records``, cells
    typed through ``schema``): JSON Lines of the header's warnings, then for each row its record
    with where it is (``{"input", "record"}``) or the error object ``check --format json`` writes
    for it (``"record": null``; ``decision``: rulebook id, version, name).

    Raises:
        UsageError: the header names no field of the record.
    """
    import tempfile

    from engine.evaluate import InputRef
    from engine.io.records import BadRecord, InputNote, read_records
    from engine.io.report import error_object

    def dumps(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode("utf-8") + b"\n"

    out: list[bytes] = []
    with tempfile.TemporaryDirectory(prefix="rulebook-sheet-") as tmp:
        path = Path(tmp) / f"upload.{fmt}"
        path.write_bytes(data)
        items = read_records(str(path), "csv" if fmt == "tsv" else fmt, schema=schema, notes=True)
        for ref, record in items:
            where = InputRef(name, ref.line, ref.sheet)
            if record.__class__ is InputNote:
                problem = record.problem
                if problem is not None:
                    message, help_text = problem.text(lang)
                    out.append(
                        dumps(
                            {
                                "warning": {
                                    "code": problem.code,
                                    "message": message,
                                    "help": help_text,
                                    "input": where.to_json(),
                                    "column": record.column,
                                }
                            }
                        )
                    )
                continue
            if isinstance(record, BadRecord):
                out.append(dumps(error_object(*decision, where, record.text(lang))))
                continue
            out.append(dumps({"input": where.to_json(), "record": record}))
    return b"".join(out)
