"""Classes (班期) of catalog courses, their meetings, and enrollments (seat or waitlist).

Seats are counted on the class row (``taken``) and only ever taken with one guarded UPDATE
(``... WHERE taken < capacity``); check constraints and unique keys are the backstop. A class whose
capacity HR lowered below the number already enrolled keeps everyone: ``over_capacity`` records how
many seats are above the new capacity, so ``taken <= capacity + over_capacity`` always holds and the
guard blocks new seats until enough people cancel.

Every enrollment attempt gets a per-class sequence number (``seq``) from the class's ``next_seq``
counter, assigned under the class row's lock: the waitlist is ordered by it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db.base import Base, UTCDateTime, utcnow

CLASS_STATUSES = ("open", "closed", "cancelled")
ENROLLMENT_STATUSES = ("enrolled", "waitlisted", "cancelled")
CANCEL_REASONS = ("self", "class_cancelled", "substituted")
ATTENDANCE_VALUES = ("attended", "absent")


def _one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> str:
    """A CHECK expression: ``column`` holds one of ``values`` (or NULL)."""
    allowed = f"{column} IN ({','.join(repr(v) for v in values)})"
    return f"{column} IS NULL OR {allowed}" if nullable else allowed


class TrainingClass(Base):
    """A class (班期) of a catalog course: when, where, how many seats, who may enroll, and until when."""

    __tablename__ = "classes"
    __table_args__ = (
        ForeignKeyConstraint(["plan_year", "course_code"], ["catalog_items.plan_year", "catalog_items.code"],
                             name="fk_classes_course_catalog_items"),
        CheckConstraint(_one_of("status", CLASS_STATUSES), name="status"),
        CheckConstraint("bucket IN ('policy','environment','democracy','other')", name="bucket"),
        CheckConstraint("capacity >= 0", name="capacity_nonnegative"),
        CheckConstraint("taken >= 0", name="taken_nonnegative"),
        CheckConstraint("over_capacity >= 0", name="over_capacity_nonnegative"),
        CheckConstraint("taken <= capacity + over_capacity", name="not_overbooked"),
        CheckConstraint("hours > 0", name="hours_positive"),
        CheckConstraint("closes_at > opens_at", name="window_order"),
        CheckConstraint("ends_at > starts_at", name="time_order"),
        Index("ix_classes_course", "plan_year", "course_code"),
        Index("ix_classes_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    plan_year: Mapped[int] = mapped_column(Integer)
    course_code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    mode: Mapped[str] = mapped_column(String(16))
    host_agency: Mapped[str] = mapped_column(String(100), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str | None] = mapped_column(String(500))
    materials_url: Mapped[str | None] = mapped_column(String(500))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    bucket: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    over_capacity: Mapped[int] = mapped_column(Integer, default=0)
    next_seq: Mapped[int] = mapped_column(Integer, default=0)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audience_note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    import_batch: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meetings: Mapped[list[ClassMeeting]] = relationship(
        back_populates="training_class", order_by="ClassMeeting.starts_at", cascade="all, delete-orphan")


class ClassMeeting(Base):
    """One meeting of a class: a date with start and end time (stored as UTC instants)."""

    __tablename__ = "class_meetings"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="time_order"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    training_class: Mapped[TrainingClass] = relationship(back_populates="meetings")


class Enrollment(Base):
    """One employee in one class: a seat (``enrolled``), a place in the queue (``waitlisted``) or ``cancelled``.

    A person has at most one row per class (re-enrolling after a cancellation reuses it with a new
    ``seq``). Attendance is recorded beside the status, so ``taken`` always equals the enrolled rows.
    """

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("class_id", "employee_id", name="uq_enrollments_class_employee"),
        UniqueConstraint("class_id", "seq", name="uq_enrollments_class_seq"),
        CheckConstraint(_one_of("status", ENROLLMENT_STATUSES), name="status"),
        CheckConstraint(_one_of("cancel_reason", CANCEL_REASONS, nullable=True), name="cancel_reason"),
        CheckConstraint(_one_of("attendance", ATTENDANCE_VALUES, nullable=True), name="attendance"),
        CheckConstraint("leave_hours IS NULL OR leave_hours >= 0", name="leave_nonnegative"),
        Index("ix_enrollments_employee_status", "employee_id", "status"),
        Index("ix_enrollments_class_status_seq", "class_id", "status", "seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(16))
    substitute_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollments.id", ondelete="SET NULL", name="fk_enrollments_substitute_for"))
    attendance: Mapped[str | None] = mapped_column(String(16))
    leave_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    unexcused_absence: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    training_class: Mapped[TrainingClass] = relationship()
