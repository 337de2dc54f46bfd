"""Read input records: JSON (an object or an array), JSON Lines, standard input.

``read_records(path)`` yields ``(InputRef, record)`` pairs, one per input
record, streaming where the format allows (JSON Lines is read line by line).
A record that cannot be read yields ``(InputRef, BadRecord)`` instead, naming
the file, the line and the reason, and reading goes on: one broken line never
stops a feed and never loses the records after it.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, TextIO

from engine.errors import Diagnostic, UsageError
from engine.evaluate import InputRef

__all__ = ["BadRecord", "read_records"]

FORMATS = ("json", "jsonl")


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be read, and why."""

    message: str
    message_zh: str


def _format_for(name: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith((".csv", ".xlsx")):
        raise UsageError(Diagnostic("usage.unsupported-input", f"`{name}`: CSV and XLSX input is not supported yet",
                                    help="export the records as JSON Lines (.jsonl)",
                                    message_zh=f"`{name}`：暂不支持 CSV 和 XLSX 输入"))
    raise UsageError(Diagnostic("usage.unknown-input-format", f"cannot tell the format of `{name}` from its name",
                                help="use a .json or .jsonl file, or give --input-format json|jsonl",
                                message_zh=f"无法从文件名判断 `{name}` 的格式"))


def _checked(value: Any) -> Any:
    """A record must be a JSON object; anything else cannot be read as one."""
    if isinstance(value, dict):
        return value
    kind = {list: "an array", str: "a string", bool: "true/false", type(None): "null"}.get(type(value), "a number")
    return BadRecord(f"a record must be a JSON object, not {kind}", "每条记录必须是 JSON 对象")


def _json_error(e: json.JSONDecodeError) -> BadRecord:
    return BadRecord(f"not valid JSON: {e.msg} (column {e.colno})", f"不是有效的 JSON：{e.msg}（第 {e.colno} 列）")


def _read_jsonl(stream: TextIO, name: str) -> Iterator[tuple[InputRef, Any]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        ref = InputRef(name, number)
        try:
            yield ref, _checked(json.loads(line))
        except json.JSONDecodeError as e:
            yield ref, _json_error(e)
        except RecursionError:
            yield ref, BadRecord("the JSON is nested too deeply", "JSON 嵌套过深")


def _read_json(text: str, name: str) -> Iterator[tuple[InputRef, Any]]:
    """A JSON object, or an array of them, with the line where each element starts."""
    decoder = json.JSONDecoder()
    i = 0
    n = len(text)
    while i < n and text[i] in " \t\r\n\ufeff":
        i += 1
    if i >= n:
        return
    if text[i] != "[":
        ref = InputRef(name, text.count("\n", 0, i) + 1)
        try:
            value, end = decoder.raw_decode(text, i)
            if text[end:].strip():
                raise json.JSONDecodeError("extra data after the record", text, end)
            yield ref, _checked(value)
        except json.JSONDecodeError as e:
            yield InputRef(name, e.lineno), _json_error(e)
        except RecursionError:
            yield ref, BadRecord("the JSON is nested too deeply", "JSON 嵌套过深")
        return
    i += 1
    expect_value = True
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            yield InputRef(name, text.count("\n", 0, i) + 1), BadRecord(
                "the JSON array is not closed with `]`", "JSON 数组缺少结尾的 `]`")
            return
        if text[i] == "]":
            return
        if not expect_value:
            if text[i] != ",":
                line = text.count("\n", 0, i) + 1
                yield InputRef(name, line), BadRecord(
                    "expected `,` or `]` between records; the rest of the file cannot be read",
                    "记录之间应为 `,` 或 `]`，文件其余部分无法读取")
                return
            i += 1
            expect_value = True
            continue
        line = text.count("\n", 0, i) + 1
        try:
            value, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as e:
            yield InputRef(name, e.lineno), _json_error(e)
            return
        except RecursionError:
            yield InputRef(name, line), BadRecord("the JSON is nested too deeply", "JSON 嵌套过深")
            return
        yield InputRef(name, line), _checked(value)
        expect_value = False


def read_records(path: str, input_format: str | None = None, stdin: TextIO | None = None
                 ) -> Iterator[tuple[InputRef, Any]]:
    """Every record of a file (or ``-`` for standard input) with where it came from."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        if input_format == "jsonl":
            yield from _read_jsonl(stream, "-")
            return
        text = stream.read()
        fmt = input_format or ("json" if text.lstrip()[:1] in ("[", "") else "jsonl")
        if fmt == "json":
            yield from _read_json(text, "-")
        else:
            yield from _read_jsonl(io.StringIO(text), "-")
        return
    fmt = _format_for(path, input_format)
    p = Path(path)
    try:
        if fmt == "jsonl":
            with p.open(encoding="utf-8-sig") as f:
                yield from _read_jsonl(f, path)
        else:
            yield from _read_json(p.read_text(encoding="utf-8-sig"), path)
    except FileNotFoundError:
        raise UsageError(Diagnostic("usage.no-such-file", f"no such file `{path}`",
                                    message_zh=f"找不到文件 `{path}`")) from None
    except UnicodeDecodeError as e:
        yield InputRef(path, None), BadRecord(f"the file is not UTF-8 text ({e.reason})", "文件不是 UTF-8 文本")
    except OSError as e:
        raise UsageError(Diagnostic("usage.unreadable", f"cannot read `{path}`: {e.strerror}",
                                    message_zh=f"无法读取 `{path}`")) from None
