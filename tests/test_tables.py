"""Report tables as HR opens them: typed text is never a formula, whole numbers are numbers in xlsx."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from bot.services.common import write_csv, write_table

ROWS = [["question", "answers", "comment"], ["overall", "12", '=HYPERLINK("http://x","點我")'], ["total", "3", "-"]]


def test_csv_keeps_a_typed_formula_as_text() -> None:
    out = io.StringIO()
    write_csv(ROWS, out)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("overall,12,\"'=HYPERLINK") and lines[2] == "total,3,-"


def test_csv_file_has_the_bom_excel_needs(tmp_path: Path) -> None:
    write_table(ROWS, tmp_path / "t.csv", "csv")
    assert (tmp_path / "t.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_numbers_are_numbers_and_text_stays_text(tmp_path: Path) -> None:
    write_table(ROWS, tmp_path / "t.xlsx", "xlsx", sheet="問卷")
    ws = load_workbook(tmp_path / "t.xlsx")["問卷"]
    cell = ws["C2"]
    assert ws["B2"].value == 12 and cell.data_type == "s" and str(cell.value).startswith("=HYPERLINK")
