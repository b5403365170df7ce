"""The read model of a person's enrollments: "my enrollments" and what they may still cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.hours import LearningRecord
from bot.services.classes.queries import waitlist_position
from bot.services.classes.refusals import cancel_refusal
from bot.services.classes.transitions import ACTIVE
from bot.services.hours import format_hours


@dataclass(frozen=True)
class EnrollmentView:
    """One row of "my enrollments"."""

    enrollment: Enrollment
    training_class: TrainingClass
    position: int | None
    credited_hours: str | None
    forfeit_reason: str | None
    upcoming: bool


async def my_enrollments(session: AsyncSession, employee_id: int, *, now: datetime,
                         limit: int = 10) -> list[EnrollmentView]:
    """Upcoming enrollments (soonest first), then past ones (latest first); self-cancelled ones are left out."""
    rows = (await session.execute(
        select(Enrollment).options(selectinload(Enrollment.training_class).selectinload(TrainingClass.meetings))
        .where(Enrollment.employee_id == employee_id,
               or_(Enrollment.status.in_(ACTIVE), Enrollment.cancel_reason.in_(("class_cancelled", "substituted"))))
        .execution_options(populate_existing=True))).scalars().all()
    records = {}
    if rows:
        records = {r.enrollment_id: r for r in (await session.execute(
            select(LearningRecord).where(LearningRecord.enrollment_id.in_([e.id for e in rows]),
                                         LearningRecord.source == "class"))).scalars()}
    views = []
    for e in rows:
        cls = e.training_class
        upcoming = cls.ends_at > now and e.attendance is None
        if e.status == "cancelled" and not upcoming:
            continue
        position = await waitlist_position(session, cls.id, e.seq) if e.status == "waitlisted" else None
        record = records.get(e.id)
        views.append(EnrollmentView(e, cls, position,
                                    format_hours(record.hours) if record is not None and record.credited else None,
                                    record.forfeit_reason if record is not None and not record.credited else None,
                                    upcoming))
    # Cancelled classes after the ones still on: they are not "coming up" (the card says they were cancelled).
    upcoming_views = sorted((v for v in views if v.upcoming),
                            key=lambda v: (v.enrollment.status == "cancelled", v.training_class.starts_at))
    past_views = sorted((v for v in views if not v.upcoming), key=lambda v: v.training_class.starts_at, reverse=True)
    return (upcoming_views + past_views)[:limit]


async def cancellable(session: AsyncSession, employee_id: int, *, now: datetime) -> list[EnrollmentView]:
    """The enrollments the employee may still cancel themselves."""
    views = await my_enrollments(session, employee_id, now=now, limit=50)
    return [v for v in views if v.upcoming and v.enrollment.status in ACTIVE
            and cancel_refusal(v.enrollment, v.training_class, now, "zh-TW") is None]
