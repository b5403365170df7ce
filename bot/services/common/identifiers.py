"""Employee numbers and the national-ID shape that is never stored or asked for."""

from __future__ import annotations

import re
import unicodedata

from bot.services.common.cells import narrow
from bot.services.common.problems import CellError

NATIONAL_ID = re.compile(r"^[A-Z][12890A-D]\d{8}$")
"""A Taiwanese national ID or resident certificate number (統一證號, new [89] and old [A-D] second
character): never stored, never asked for."""


_NATIONAL_ID_INSIDE = re.compile(r"(?<![A-Z0-9])[A-Z][12890A-D]\d{8}(?![0-9])")


def holds_national_id(text: str) -> bool:
    """Whether ``text`` holds something shaped like a national ID anywhere ("我的身分證是A123456789")."""
    return _NATIONAL_ID_INSIDE.search(unicodedata.normalize("NFKC", text).upper().replace(" ", "")) is not None


_EMPLOYEE_NO = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")


def parse_employee_no(text: str) -> str:
    """An employee number: ASCII letters, digits, ``-`` or ``_``, at most 32, upper case.

    Raises:
        ValueError: empty, wrong characters, or shaped like a national ID (which we never store).
    """
    s = narrow(text).upper().replace(" ", "")
    if not s:
        raise CellError("imports.cell.empty", "employee number is empty")
    if NATIONAL_ID.match(s):
        raise CellError("imports.cell.national_id",
                        "looks like a national ID number; use the employee number (national IDs are never stored)")
    if not _EMPLOYEE_NO.match(s):
        raise CellError("imports.cell.not_employee_no",
                        f"{text.strip()!r} is not an employee number (letters, digits, - or _)", value=text.strip())
    return s
