"""One cell of an HR file: tidying the text as typed, and turning it into a date, hours or yes/no.

``parse_*`` raise :class:`~bot.services.common.problems.CellError` (a ``ValueError`` with an English
text) whose key says the same in the reader's language.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from bot.dates import ROC_OFFSET
from bot.services.common.problems import CellError

EXCEL_EPOCH = date(1899, 12, 30)


def fold(text: str) -> str:
    """Fold for comparing labels: NFKC (full-width → half-width), casefold, no spaces or separators."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-・·．.:：/()（）\[\]【】]+", "", text)


def clean(text: str) -> str:
    """A cell as typed, tidied: no BOM or invisible characters, Excel's ``="007"`` unwrapped, trimmed."""
    text = text.replace("\ufeff", "").replace("\u200b", "").replace("\u00a0", " ").strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return re.sub(r"\s+", " ", text).strip()


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel or LibreOffice read a CSV cell as a formula (CSV injection)."""


def excel_safe(value: str) -> str:
    """A text cell for a CSV that people open in Excel, never read as a formula.

    A cell that would start a formula gets a leading apostrophe, so ``=HYPERLINK(…)`` typed as a name
    in the roster stays text. Plain numbers (``-1.5``) and a lone ``-`` are kept as they are.
    """
    if len(value) > 1 and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def narrow(text: str) -> str:
    """A cleaned cell with full-width letters, digits and punctuation made ASCII (NFKC)."""
    return unicodedata.normalize("NFKC", clean(text)).strip()


# ---------------------------------------------------------------------------------------------- values

_DATE_SEP = re.compile(r"^(\d{2,4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_TIME_TAIL = re.compile(r"\s+(上午|下午|am|pm)?\s*\d{1,2}:\d{2}(:\d{2})?\s*(am|pm)?$", re.IGNORECASE)


def parse_date(text: str) -> date:
    """A date as HR writes it.

    Accepts ISO ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``20240305``; ROC ``113/3/5``, ``113年3月5日``,
    ``民國113年3月5日``, ``1130305``; an Excel serial day number (``45356``); and any of these followed by
    a time of day (Excel's ``2024/3/5 00:00``).

    Raises:
        CellError: not a date, or not a real day (113/2/30).
    """
    s = narrow(text).replace("民國", "").strip()
    s = _TIME_TAIL.sub("", s).strip()
    if not s:
        raise CellError("imports.cell.empty", "date is empty")
    try:
        if re.fullmatch(r"\d{5}(\.\d+)?", s):
            serial = int(float(s))
            if 20000 <= serial <= 80000:
                return EXCEL_EPOCH + timedelta(days=serial)
        if re.fullmatch(r"\d{8}", s):
            return date(int(s[:4]), int(s[4:6]), int(s[6:]))
        if re.fullmatch(r"\d{6,7}", s):
            return date(int(s[:-4]) + ROC_OFFSET, int(s[-4:-2]), int(s[-2:]))
        m = _DATE_SEP.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            if y < 1000:
                y += ROC_OFFSET
            return date(y, mo, d)
    except ValueError:
        raise CellError("imports.cell.not_real_date", f"{text.strip()!r} is not a real date",
                        value=text.strip()) from None
    raise CellError("imports.cell.not_date", f"{text.strip()!r} is not a date (use 2024-03-05 or 113/3/5)",
                    value=text.strip())


_HOURS_TAIL = re.compile(r"\s*(小時|時|hours?|hrs?|h)$", re.IGNORECASE)


def parse_hours(text: str, *, maximum: Decimal = Decimal(1000)) -> Decimal:
    """Hours as a positive exact decimal with at most two decimals (``1.5``, ``２``, ``3小時``).

    Raises:
        CellError: empty, not a number, zero or negative, over ``maximum``, or more than two decimals.
    """
    s = _HOURS_TAIL.sub("", narrow(text))
    if not s:
        raise CellError("imports.cell.empty", "hours are empty")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise CellError("imports.cell.not_hours", f"{text.strip()!r} is not a number of hours",
                        value=text.strip()) from None
    if not value.is_finite() or value <= 0:
        raise CellError("imports.cell.hours_positive", f"hours must be more than 0, got {text.strip()!r}",
                        value=text.strip())
    if value > maximum:
        raise CellError("imports.cell.hours_max", f"{text.strip()!r} hours is more than {maximum}",
                        value=text.strip(), maximum=maximum)
    if value != value.quantize(Decimal("0.01")):
        raise CellError("imports.cell.hours_decimals", f"{text.strip()!r}: at most two decimals",
                        value=text.strip())
    return value


_YES = {"1", "y", "yes", "true", "t", "是", "有", "v", "✓", "主管", "○"}
_NO = {"", "0", "n", "no", "false", "f", "否", "無", "非主管", "x", "-"}


def parse_bool(text: str) -> bool:
    """Yes/no as HR writes it (是/否, Y/N, 1/0, true/false, 主管/非主管); blank is no.

    Raises:
        CellError: anything else.
    """
    s = narrow(text).casefold()
    if s in _YES:
        return True
    if s in _NO:
        return False
    raise CellError("imports.cell.not_bool", f"{text.strip()!r} is not yes or no (是/否)", value=text.strip())
