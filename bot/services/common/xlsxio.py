"""Reading an Excel workbook (``.xlsx``) as HR saves it, into what a CSV file gives (``csvio.Table``).

The first sheet is read (or the one ``sheet`` names, by name or by number from 1); cell values become
the text a person sees: a whole number without ``.0``, a date as ``2024-03-05`` (with its time when it
has one), formulas by their cached value. Each row keeps its Excel row number, so that an error can
name the cell (``H5``) HR opens.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from bot.services.common.problems import ImportFileError

XLSX_MAGIC = b"PK\x03\x04"
MAX_ROWS = 200_000
"""A sheet longer than this is refused before it fills the memory (an HR file has some thousands)."""


def is_xlsx(path: Path, head: bytes) -> bool:
    """True when the file is an Excel workbook: its name ends in ``.xlsx``/``.xlsm`` or its bytes are a zip."""
    return path.suffix.lower() in (".xlsx", ".xlsm") or head.startswith(XLSX_MAGIC)


def cell_text(value: object) -> str:
    """The text a person sees in a cell (``3`` not ``3.0``, ``0.3`` not ``0.30000000000000004``; dates ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(f"{value:.15g}").normalize(), "f")  # Excel shows 15 significant digits
    return str(value)


def read_xlsx(path: Path, raw: bytes, sheet: str | None = None) -> tuple[list[str], int, list[tuple[int, list[str]]]]:
    """Read one sheet of a workbook: its header (first non-blank row), that row's number, and the rows below.

    Raises:
        ImportFileError: not a readable workbook, no such sheet, an empty sheet, or too many rows.
    """
    import io

    from openpyxl import load_workbook  # only when HR brings a workbook (the import costs ~0.2 s)
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError, TypeError) as exc:
        raise ImportFileError(f"{path}: not a readable Excel workbook ({type(exc).__name__}); "
                              "save it again from Excel as .xlsx") from None
    try:
        names = book.sheetnames
        if sheet is None:
            ws = book.worksheets[0]
        elif sheet in names:
            ws = book[sheet]
        elif sheet.isdigit() and 1 <= int(sheet) <= len(names):
            ws = book.worksheets[int(sheet) - 1]
        else:
            raise ImportFileError(f"{path}: no sheet {sheet!r}; its sheets: {', '.join(names)}")
        headers: list[str] | None = None
        header_line = 1
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                raise ImportFileError(f"{path}: more than {MAX_ROWS} rows; split the file")
            cells = [cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if headers is None:
                headers = [c.strip() for c in cells]
                header_line = number
                continue
            rows.append((number, cells))
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise ImportFileError(f"{path}: the workbook cannot be read ({type(exc).__name__}); "
                              "save it again from Excel as .xlsx") from None
    finally:
        book.close()
    if headers is None:
        raise ImportFileError(f"{path}: the sheet is empty (no header row)")
    return headers, header_line, rows
