"""ROC (民國) calendar helpers: users see 113年9月30日, storage keeps ISO/UTC."""

from __future__ import annotations

from datetime import date

ROC_OFFSET = 1911


def roc_year(year: int) -> int:
    """Convert a Gregorian year to an ROC year (2024 -> 113)."""
    return year - ROC_OFFSET


def gregorian_year(roc: int) -> int:
    """Convert an ROC year to a Gregorian year (113 -> 2024)."""
    return roc + ROC_OFFSET


def format_roc(d: date) -> str:
    """Format a date as users read it in Taiwan: ``113年9月30日``."""
    return f"{roc_year(d.year)}年{d.month}月{d.day}日"


def format_date(d: date, lang: str) -> str:
    """Format a date for ``lang``: ROC for zh-TW, ISO for English."""
    return format_roc(d) if lang == "zh-TW" else d.isoformat()
