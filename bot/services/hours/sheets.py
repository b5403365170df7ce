"""An HR report's sheet as HR hands it on: a title, the as-of date, a frozen header with filters, fitting widths.

Row 1 is the title, row 2 the as-of line, row 3 the header (frozen, with Excel's filter buttons), data from
row 4. Numbers are numbers; roster text that starts like a formula stays text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

HEADER_ROW = 3
MIN_WIDTH, MAX_WIDTH = 8, 48


def _width(text: str) -> int:
    """Display width in Excel's character units: CJK (wide) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _value(text: str, numeric: bool) -> Any:
    if numeric and text != "":
        try:
            d = Decimal(text)
        except ArithmeticError:
            return text
        return int(d) if d == d.to_integral() else float(d)
    return text


def add_sheet(wb: Any, name: str, title: str, as_of: str, header: Sequence[str], rows: Sequence[Sequence[str]],
              numeric: Sequence[bool]) -> Any:
    """Add one sheet (see the module docstring); ``numeric[i]`` says whether column ``i`` holds numbers."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title=name[:31])
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    ws.cell(row=2, column=1, value=as_of)
    for col, text in enumerate(header, start=1):
        ws.cell(row=HEADER_ROW, column=col, value=text).font = Font(bold=True)
    widths = [_width(h) for h in header]
    for r, row in enumerate(rows, start=HEADER_ROW + 1):
        for col, text in enumerate(row, start=1):
            cell = ws.cell(row=r, column=col, value=_value(text, numeric[col - 1] if col <= len(numeric) else False))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the roster says
            if col <= len(widths):
                widths[col - 1] = max(widths[col - 1], _width(text))
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    if header:
        last = get_column_letter(len(header))
        ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + max(len(rows), 1)}"
        for col, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = min(max(w + 2, MIN_WIDTH), MAX_WIDTH)
    return ws


def new_workbook() -> Any:
    """An empty workbook (its default sheet removed)."""
    from openpyxl import Workbook

    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    return wb
