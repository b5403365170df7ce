"""How an hour count reads: no trailing zeros."""

from __future__ import annotations

from decimal import Decimal


def format_hours(hours: Decimal) -> str:
    """``6.00`` → ``6``, ``1.50`` → ``1.5``."""
    return f"{Decimal(hours).normalize():f}"
