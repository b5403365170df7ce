"""A report table (first row the header) written as HR opens it: CSV for Excel, or an xlsx workbook.

Every text cell goes through :func:`~bot.services.common.cells.excel_safe` in CSV and is stored as text in
xlsx, so what employees typed (a survey's free text, a name) is never run as a formula; whole numbers are
numbers in xlsx so HR can sum them.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.services.common.cells import excel_safe


def write_csv(rows: Sequence[Sequence[str]], target: TextIO) -> None:
    """Write the rows as CSV to an open text stream (formula-looking cells kept as text)."""
    csv.writer(target).writerows([excel_safe(c) for c in row] for row in rows)


def write_table(rows: Sequence[Sequence[str]], out: Path, fmt: str, *, sheet: str = "report") -> None:
    """Write the rows to ``out`` as ``csv`` (UTF-8 with a BOM, as Excel opens it) or ``xlsx`` (one sheet)."""
    if fmt != "xlsx":
        with out.open("w", encoding="utf-8-sig", newline="") as target:
            write_csv(rows, target)
        return
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    for row in rows:
        cells = []
        for text in row:
            if text.isdigit():
                cells.append(WriteOnlyCell(ws, value=int(text)))
            else:
                cell = WriteOnlyCell(ws, value=text)
                cell.data_type = "s"  # never a formula, whatever was typed
                cells.append(cell)
        ws.append(cells)
    book.save(out)
