"""Reminders: who opted out of which category, and how far each source's sweep got.

Business reminders are never stored as scheduler jobs: the sweep derives them from meetings, enrollments
and learning records, and each lands once in the outbox through its dedupe key. The tables here hold
only what cannot be derived: a person's opt-outs and each source's watermark (the instant up to which
its moments were decided).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

REMINDER_CATEGORIES = ("class", "deadline", "survey")
"""What a person can switch off in 提醒設定: class reminders, deadline reminders, surveys."""


class ReminderOptOut(Base):
    """One category of reminders a person asked not to get."""

    __tablename__ = "reminder_optouts"
    __table_args__ = (
        CheckConstraint(f"category IN ({','.join(repr(c) for c in REMINDER_CATEGORIES)})", name="category"),
    )

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReminderWatermark(Base):
    """Up to which instant a reminder source decided its moments (the scheduler's sweeps move it forward)."""

    __tablename__ = "reminder_watermarks"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    swept_until: Mapped[datetime] = mapped_column(UTCDateTime)
