"""CSV and XLSX input: cells typed through the record schema, positions, errors that name row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from engine.io.cells import CellError, convert, row_to_record
from engine.io.records import BadRecord, read_records
from engine.schemas import record_schema

APPLICANT = record_schema("applicant")
assert APPLICANT is not None
PROPS = APPLICANT["properties"]


@pytest.mark.parametrize(
    ("field", "cell", "expected"),
    [
        ("birth_date", "2026-03-01", "2026-03-01"),
        ("birth_date", "2026/3/1", "2026-03-01"),
        ("birth_date", "2026.3.1", "2026-03-01"),
        ("birth_date", "2026年3月1日", "2026-03-01"),
        ("birth_date", dt.datetime(2026, 3, 1, 0, 0), "2026-03-01"),  # a spreadsheet date cell
        ("accepts_charter", "是", True),
        ("accepts_charter", "否", False),
        ("accepts_charter", "TRUE", True),
        ("accepts_charter", "no", False),
        ("accepts_charter", "√", True),
        ("accepts_charter", 1, True),
        ("event_participations", "4", 4),
        ("event_participations", 4.0, 4),
        ("occupations", "作曲;音乐教育", ["作曲", "音乐教育"]),
        ("occupations", "作曲、指挥", ["作曲", "指挥"]),
        ("occupations", '["作曲"]', ["作曲"]),
        ("recommender", '{"kind": "group_member_unit", "name": "x"}', {"kind": "group_member_unit", "name": "x"}),
        ("recommender", "null", None),
        ("name", 12345.0, "12345"),
    ],
)
def test_cells_are_typed_by_the_schema(field: str, cell: Any, expected: Any) -> None:
    assert convert(cell, PROPS[field], APPLICANT, field) == expected


@pytest.mark.parametrize(
    ("field", "cell", "words"),
    [
        ("birth_date", "2026-02-30", "not a date"),
        ("birth_date", "yesterday", "not a date"),
        ("accepts_charter", "maybe", "not yes or no"),
        ("event_participations", "three", "not a whole number"),
        ("event_participations", "3.5", "not a whole number"),
        ("introducers", "M-1;M-2", "list of objects"),
        ("recommender", "协会", "an object"),
        ("recommender", "{broken", "not valid JSON"),
    ],
)
def test_cells_that_do_not_fit_are_errors(field: str, cell: Any, words: str) -> None:
    with pytest.raises(CellError, match=words) as info:
        convert(cell, PROPS[field], APPLICANT, field)
    assert info.value.column == field and info.value.message_zh


def test_dotted_and_numbered_columns_build_nested_records() -> None:
    header = [
        "id",
        "recommender.kind",
        "introducers.1.member_id",
        "introducers.1.is_member",
        "introducers[2].member_id",
        "introducers[2].is_member",
        "unknown column",
    ]
    row = ["A", "group_member_unit", "M-1", "是", "M-2", "否", "kept"]
    assert row_to_record(header, row, APPLICANT) == {
        "id": "A",
        "recommender": {"kind": "group_member_unit"},
        "introducers": [{"member_id": "M-1", "is_member": True}, {"member_id": "M-2", "is_member": False}],
        "unknown column": "kept",
    }


def test_empty_cells_leave_the_field_out_so_defaults_apply() -> None:
    assert row_to_record(["id", "awards", "event_participations"], ["A", "", "  "], APPLICANT) == {"id": "A"}


def _write_csv(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.write_bytes(text.encode(encoding))


HEADER = "id,name,birth_date,accepts_charter,occupations\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_rows_keep_their_line_and_encodings_are_recognised(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "feed.csv"
    _write_csv(
        path,
        HEADER + 'A-1,王芳,1990-05-01,是,作曲\n\nA-2,"李 ""强""",1990/5/2,否,"作曲;\n指挥"\nA-3,赵,1990-13-01,是,作曲\n'
        "A-4,钱,1991-01-01,是,演奏\n",
        encoding,
    )
    got = list(read_records(str(path), schema=APPLICANT))
    assert [ref.line for ref, _ in got] == [2, 4, 6, 7]
    assert got[0][1] == {
        "id": "A-1",
        "name": "王芳",
        "birth_date": "1990-05-01",
        "accepts_charter": True,
        "occupations": ["作曲"],
    }
    assert got[1][1]["name"] == '李 "强"' and got[1][1]["occupations"] == ["作曲", "指挥"]
    bad = got[2][1]
    assert isinstance(bad, BadRecord)
    assert "row 6, column `birth_date`" in bad.message and "第 6 行" in bad.message_zh
    assert got[3][1]["id"] == "A-4"  # the feed goes on after a bad row


def test_tab_and_semicolon_separated(tmp_path: Path) -> None:
    for name, sep in (("feed.tsv", "\t"), ("semi.csv", ";")):
        path = tmp_path / name
        _write_csv(path, f"id{sep}accepts_charter\nA{sep}是\n")
        [(_, record)] = list(read_records(str(path), schema=APPLICANT))
        assert record == {"id": "A", "accepts_charter": True}


def test_xlsx_rows_with_date_cells_and_sheet_names(tmp_path: Path) -> None:
    path = tmp_path / "feed.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "申请人"
    ws.append(["id", "name", "birth_date", "accepts_charter", "event_participations"])
    ws.append(["X-1", "王芳", dt.datetime(1990, 5, 1), "是", 4])
    ws.append([None, None, None, None, None])
    ws.append(["X-2", "李强", "not a date", True, 2])
    book.save(path)
    got = list(read_records(str(path), schema=APPLICANT))
    assert [(ref.line, ref.sheet) for ref, _ in got] == [(2, "申请人"), (4, "申请人")]
    assert got[0][1] == {
        "id": "X-1",
        "name": "王芳",
        "birth_date": "1990-05-01",
        "accepts_charter": True,
        "event_participations": 4,
    }
    bad = got[1][1]
    assert isinstance(bad, BadRecord) and "sheet `申请人` row 4, column `birth_date`" in bad.message
    assert got[0][0].to_json() == {"file": str(path), "line": 2, "sheet": "申请人"}


def test_a_broken_workbook_is_one_unreadable_result(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file")
    [(_, bad)] = list(read_records(str(path), schema=APPLICANT))
    assert isinstance(bad, BadRecord) and "workbook" in bad.message


def test_csv_without_a_schema_keeps_text(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    _write_csv(path, "id,n\nA, 3 \n")
    assert [r for _, r in read_records(str(path))] == [{"id": "A", "n": "3"}]
