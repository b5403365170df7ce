"""Certificate claims (拾貳 獎勵): one row per claim, from the photo to HR's decision.

The photo itself is a file named by its SHA-256 (``bot.services.certificates.storage``); the row keeps
its hash, size and type, and when retention deleted the file (``photo_deleted_at``) the claim stays.
An approved claim is the record of the reward: later claims of the same scheme read it.
Statuses change only in ``bot.services.certificates.transitions``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime

CLAIM_STATUSES = ("draft", "pending", "approved", "rejected", "withdrawn")
"""draft: the wizard is being answered; pending: submitted, HR to decide; approved / rejected: final;
withdrawn: the employee took it back (or left the wizard)."""


class CertificateClaim(Base):
    """A claim for a certificate reward."""

    __tablename__ = "certificate_claims"
    __table_args__ = (
        CheckConstraint(f"status IN ({','.join(repr(s) for s in CLAIM_STATUSES)})", name="status"),
        Index("ix_certificate_claims_employee_scheme", "employee_id", "scheme", "status"),
        Index("ix_certificate_claims_agency_status", "agency", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    agency: Mapped[str] = mapped_column(String(100), default="")
    """The claimant's agency when the claim was made: whose HR decides it."""
    status: Mapped[str] = mapped_column(String(16))
    plan_year: Mapped[int] = mapped_column(Integer)
    scheme: Mapped[str | None] = mapped_column(String(16))
    test_id: Mapped[str | None] = mapped_column(String(16))
    level_label: Mapped[str | None] = mapped_column(String(64))
    scores: Mapped[str | None] = mapped_column(String(64))
    """The typed scores, ``/``-separated (``785/310``), for a test reported by score."""
    grade: Mapped[str | None] = mapped_column(String(16))
    tier_level: Mapped[str | None] = mapped_column(String(16))
    tier_rank: Mapped[int | None] = mapped_column(Integer)
    reward: Mapped[str | None] = mapped_column(String(32))
    dated: Mapped[date | None] = mapped_column(Date)
    """The date the window counts from: the issue date (English) or the mailing date (Hakka)."""
    window_end: Mapped[date | None] = mapped_column(Date)
    photo_sha256: Mapped[str] = mapped_column(String(64), index=True)
    photo_size: Mapped[int] = mapped_column(Integer)
    photo_type: Mapped[str] = mapped_column(String(32))
    """The stored file's type (``image/jpeg``); ``source_type`` what was sent (a PDF, a HEIC photo)."""
    source_type: Mapped[str] = mapped_column(String(32))
    photo_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_days: Mapped[int | None] = mapped_column(Integer)
    """The last "window closes in N days" reminder sent for a draft (so each goes once)."""
