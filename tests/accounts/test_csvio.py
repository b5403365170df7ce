"""Cells and files as HR really has them: ROC and Excel dates, full-width digits, BOMs, Big5, UTF-16."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.services.common import (
    ImportFileError,
    MappingFile,
    map_columns,
    parse_bool,
    parse_date,
    parse_employee_no,
    parse_hours,
    read_table,
)


@pytest.mark.parametrize("text", [
    "2024-03-05", "2024/3/5", "2024.03.05", "20240305", "113/3/5", "113/03/05", "113年3月5日", "民國113年3月5日",
    "1130305", "45356", "45356.0", "2024/3/5 00:00", "2024/3/5 上午 12:00:00", "１１３／３／５", " 2024-03-05 ",
])
def test_dates_in_every_usual_spelling(text: str) -> None:
    assert parse_date(text) == date(2024, 3, 5)


def test_leap_day_and_impossible_days() -> None:
    assert parse_date("113/2/29") == date(2024, 2, 29)
    for bad in ("112/2/29", "113/2/30", "2024-13-01", "yesterday", "", "3/5"):
        with pytest.raises(ValueError):
            parse_date(bad)


@pytest.mark.parametrize(("text", "value"), [("2", "2"), ("1.5", "1.5"), ("１．５", "1.5"), ("3小時", "3"),
                                             ("0.25", "0.25"), (" 2 ", "2"), ("2h", "2")])
def test_hours(text: str, value: str) -> None:
    assert parse_hours(text) == Decimal(value)


@pytest.mark.parametrize("text", ["0", "-1", "abc", "", "1.333", "NaN", "Infinity", "5000"])
def test_bad_hours(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(text)


def test_yes_no_and_employee_numbers() -> None:
    assert parse_bool("是") and parse_bool("Y") and parse_bool("主管") and not parse_bool("") and not parse_bool("否")
    with pytest.raises(ValueError):
        parse_bool("maybe")
    assert parse_employee_no("ｔ０００１") == "T0001"
    assert parse_employee_no(' ="00123" ') == "00123"               # Excel's keep-the-zeros form
    with pytest.raises(ValueError, match="national ID"):
        parse_employee_no("A123456789")
    with pytest.raises(ValueError):
        parse_employee_no("王小明")


def test_files_with_bom_big5_utf16_semicolons_and_blank_lines(write_file: Callable[..., Path]) -> None:
    text = "員工編號,姓名\n\nT0001,王小明\n,\nT0002,李小華\n"
    for encoding in ("utf-8", "utf-8-sig", "cp950"):
        table = read_table(write_file(f"f-{encoding}.csv", text, encoding, newline="\r\n"))
        assert table.headers == ["員工編號", "姓名"]
        assert [(line, cells) for line, cells in table.rows] == [(3, ["T0001", "王小明"]), (5, ["T0002", "李小華"])]
    table = read_table(write_file("u16.txt", "\ufeff" + text.replace(",", "\t"), "utf-16-le"))
    assert table.encoding == "utf-16" and table.rows[1][1] == ["T0002", "李小華"]
    table = read_table(write_file("semi.csv", text.replace(",", ";")))
    assert table.rows[0][1] == ["T0001", "王小明"]


def test_multiline_cells_keep_line_numbers(write_file: Callable[..., Path]) -> None:
    table = read_table(write_file("m.csv", 'a,b\n1,"two\nlines"\n3,4\n'))
    assert [line for line, _ in table.rows] == [2, 4]


def test_unreadable_files(write_file: Callable[..., Path], tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="empty"):
        read_table(write_file("empty.csv", "\n\n"))
    with pytest.raises(ImportFileError, match="not a readable Excel workbook"):
        xlsx = tmp_path / "x.csv"
        xlsx.write_bytes(b"PK\x03\x04\x00\x00binary")
        read_table(xlsx)
    with pytest.raises(ImportFileError, match="cannot read"):
        read_table(tmp_path / "missing.csv")


def test_headers_found_by_alias_and_national_id_columns_ignored(write_file: Callable[..., Path]) -> None:
    mapping = MappingFile(columns={"employee_no": ("員工編號",), "name": ("姓名",)})
    table = read_table(write_file("h.csv", "員工 編號,身分證字號,ＮＡＭＥ\nT1,A123456789,x\n"))
    cmap = map_columns(table, mapping, ["employee_no", "name"], ["employee_no", "name"])
    assert cmap.index == {"employee_no": 0, "name": 2}
    assert cmap.ignored_national_id == ["身分證字號"]
    with pytest.raises(ImportFileError, match="missing column"):
        map_columns(table, mapping, ["employee_no", "email"], ["email"])
