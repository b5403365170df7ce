"""Core models: catalog mirror, employees, channel accounts, outbox, processed webhook events.

Channel accounts carry the conversation state; the outbox holds every message that is not a reply.

Feature modules add their own tables in their own model modules; all share :class:`Base`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, UTCDateTime, utcnow


class CatalogRow(Base):
    """A catalog item of a plan year, mirrored from ``data/`` so other tables can refer to it."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("plan_year", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_year: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(300))
    track: Mapped[str] = mapped_column(String(4))
    category: Mapped[str] = mapped_column(String(16))
    series: Mapped[str | None] = mapped_column(String(16))
    bucket: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Employee(Base):
    """A person on the city's roster (imported by HR)."""

    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    agency: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(100), default="")
    rank: Mapped[str] = mapped_column(String(50), default="")
    is_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    gender: Mapped[str] = mapped_column(String(16), default="")
    hire_date: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    accounts: Mapped[list[ChannelAccount]] = relationship(back_populates="employee")


class ChannelAccount(Base):
    """A chat user on one channel, its language, conversation state and (once bound) its employee."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"), index=True)
    lang: Mapped[str] = mapped_column(String(8), default="zh-TW")
    state: Mapped[str | None] = mapped_column(String(64))
    state_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped[Employee | None] = relationship(back_populates="accounts")


OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "skipped")
"""Where an outbox row stands: waiting, claimed by a worker, delivered, given up, not deliverable."""


class OutboxMessage(Base):
    """A message that is not a reply (a promotion notice, a reminder, a broadcast), one row per recipient.

    ``dedupe_key`` makes enqueueing idempotent; ``retry_key`` is sent as ``X-Line-Retry-Key`` so a
    retried push is delivered once. ``kind`` names what the message is about (``classes.promoted``) and
    ``batch_id`` groups the rows of one sending (an import, a broadcast) for the delivery report.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(f"status IN ({','.join(repr(s) for s in OUTBOX_STATUSES)})", name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"), index=True)
    payload: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    retry_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str | None] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(64), index=True)


class ProcessedEvent(Base):
    """A webhook event id already accepted; the primary key makes redeliveries no-ops."""

    __tablename__ = "processed_events"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # Indexed for the hourly prune of ids older than a week (a full scan would run on the loop with SQLite).
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
