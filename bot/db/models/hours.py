"""Learning-hours records: one row per credited (or forfeited) piece of learning of an employee.

Rows come from portal/HR imports (``source`` ``portal`` or ``hr``), from our own classes after
attendance is recorded (``class``), and from approved claims (``claim``). ``natural_key`` makes every
import idempotent.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, UTCDateTime, utcnow


class LearningRecord(Base):
    """Hours an employee earned (or lost, with the reason) in one course."""

    __tablename__ = "learning_records"
    __table_args__ = (
        CheckConstraint("hours >= 0", name="hours_nonnegative"),
        CheckConstraint("source IN ('portal','hr','class','claim')", name="source"),
        CheckConstraint("bucket IN ('policy','environment','democracy','other')", name="bucket"),
        Index("ix_learning_records_employee_year", "employee_id", "plan_year"),
        # The HR report sums a year's credited hours per employee and bucket from this index (0003).
        Index("ix_learning_records_year_report", "plan_year", "employee_id", "credited", "bucket", "hours"),
        # Audit lines and import batches name records by id: SQLite must never hand out a deleted one's (0013).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    plan_year: Mapped[int] = mapped_column(Integer)
    occurred_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    course_code: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    bucket: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16), default="")
    source: Mapped[str] = mapped_column(String(16))
    natural_key: Mapped[str] = mapped_column(String(255), unique=True)
    credited: Mapped[bool] = mapped_column(Boolean, default=True)
    forfeit_reason: Mapped[str | None] = mapped_column(String(200))
    enrollment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    import_batch: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
