"""The table reader, no database: Excel cells as a person sees them, titles, totals, units in headers, cells named."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from bot.services.common import ImportFileError, MappingFile, map_columns, read_table
from bot.services.common.csvio import is_total_row
from bot.services.common.problems import column_letter
from bot.services.common.xlsxio import cell_text

MAPPING = MappingFile(columns={"employee_no": ("員工編號",), "hours": ("時數",), "name": ("姓名",)})


@pytest.mark.parametrize(("value", "text"), [
    (None, ""), (3.0, "3"), (1.5, "1.5"), (0.1 + 0.2, "0.3"), (1e-7, "0.0000001"), (45356, "45356"),
    (datetime(2024, 3, 5), "2024-03-05"), (datetime(2024, 3, 5, 17, 0), "2024-03-05 17:00"),
    (date(2024, 3, 5), "2024-03-05"), (time(9, 30), "09:30"), ("　T0001 ", "　T0001 "), (True, "TRUE")])
def test_cells_read_as_a_person_sees_them(value: object, text: str) -> None:
    assert cell_text(value) == text


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 7, 25, 26, 27, 701, 702)] == ["A", "H", "Z", "AA", "AB", "ZZ", "AAA"]


@pytest.mark.parametrize(("first", "total"), [
    ("合計", True), ("合計：", True), ("總計", True), ("小計", True), ("Total", True), ("共 12 筆", True),
    ("合計：出席 2 人", True), ("共同供應契約研習", False), ("T0001", False), ("合計課程", True), ("總務科", False)])
def test_total_rows(first: str, total: bool) -> None:
    assert is_total_row(["", first, "3"]) is total


def test_a_title_above_the_header_and_a_unit_in_it(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("113年度 學習時數,,\n製表日期：113/10/1,,\n員工編號,姓名,時數（小時）\nT1,王,3\n合計,,3\n",
                    encoding="utf-8")
    table = read_table(path)
    cmap = map_columns(table, MAPPING, ["employee_no", "name", "hours"], ["employee_no", "hours"])
    assert (table.header_line, table.title_lines, table.totals) == (3, [1, 2], [5])
    assert [line for line, _ in table.rows] == [4]
    assert (cmap.header("hours"), cmap.cell("hours", 4), cmap.cell("email", 4)) == ("時數（小時）", "C4", "")


def test_a_header_too_far_down_is_still_missing(tmp_path: Path) -> None:
    path = tmp_path / "far.csv"
    path.write_text("title\n" + "note,\n" * 11 + "員工編號,時數\nT1,3\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="missing column"):
        map_columns(read_table(path), MAPPING, ["employee_no", "hours"], ["employee_no", "hours"])


def test_sheet_only_for_workbooks_and_old_xls_named(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("員工編號\nT1\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="--sheet is for an Excel workbook"):
        read_table(path, "1")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\x00\x00\x00\x00" * 8)
    with pytest.raises(ImportFileError, match=r"old \.xls"):
        read_table(old)
