"""Broadcasts: HR's announcements, their multicast chunks (the unit LINE is called with) and opt-outs.

An announcement with the same text for everyone goes out as *chunks*: up to 500 LINE user ids of one
language per row, each with its own retry key kept on the row, so a chunk retried after a crash (or a
lost answer) is answered 409 by LINE instead of being sent twice. Personalised announcements go through
the outbox, one row per chat account, labelled ``batch_id = "broadcast:<id>"``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow

BROADCAST_STATUSES = ("scheduled", "cancelled", "queued")
CHUNK_STATUSES = ("pending", "sending", "sent", "failed", "cancelled")


class Broadcast(Base):
    """One announcement: who sent it, to which audience, its texts, when, and the counts it was sent with."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint(f"status IN ({','.join(repr(s) for s in BROADCAST_STATUSES)})", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    actor_employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    audience: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(String(1000))
    link_label: Mapped[str | None] = mapped_column(String(40))
    image_url: Mapped[str | None] = mapped_column(String(2000))
    image_preview_url: Mapped[str | None] = mapped_column(String(2000))
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    personalised: Mapped[bool] = mapped_column(Boolean, default=False)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    unit: Mapped[str] = mapped_column(String(30))
    """LINE's custom aggregation unit of its messages (opens and clicks are counted per unit)."""
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))


class BroadcastChunk(Base):
    """Up to 500 recipients of one language on one channel, sent by ONE multicast call with a kept retry key.

    ``recipients`` is a list of ``[account_id, external_id, agency]``.
    """

    __tablename__ = "broadcast_chunks"
    __table_args__ = (
        CheckConstraint(f"status IN ({','.join(repr(s) for s in CHUNK_STATUSES)})", name="status"),
        Index("ix_broadcast_chunks_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    retry_key: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[Any]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BroadcastOptOut(Base):
    """An employee who turned off announcements HR marked optional (mandatory ones still reach them)."""

    __tablename__ = "broadcast_optouts"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
