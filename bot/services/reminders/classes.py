"""Class reminders: the evening before and the morning of each meeting; "registration closes tomorrow".

Decided from ``class_meetings`` and ``enrollments``: everyone enrolled in a class that is not cancelled
gets, for each meeting, one reminder the evening before and one the morning of (the class, date, time,
place or link, materials, 公假 and 職務代理人, the full-attendance rule, and "cancel my seat" while
cancelling is still allowed). A missed one is still useful until the meeting starts. Everyone waitlisted
on a class whose registration closes tomorrow hears so once, until it closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.clock import TAIPEI
from bot.db.models.classes import ClassMeeting, Enrollment, TrainingClass
from bot.services.classes import ClassFacts
from bot.services.notices import Notice
from bot.services.reminders.source import Due, SweepContext, at_local, key_parts

CLASS_EVENING = "reminders.class_evening"
CLASS_MORNING = "reminders.class_morning"
WAITLIST_CLOSING = "reminders.waitlist_closing"


def _moments(ctx: SweepContext, meeting_start: datetime) -> list[tuple[str, datetime]]:
    """The evening-before and morning-of moments of a meeting (a morning after the start is left out)."""
    day = meeting_start.astimezone(TAIPEI).date()
    times = ctx.settings.class_
    out = [(CLASS_EVENING, at_local(day - timedelta(days=1), times.evening_before))]
    morning = at_local(day, times.morning_of)
    if morning < meeting_start:
        out.append((CLASS_MORNING, morning))
    return out


class ClassReminders:
    """The reminders of enrolled people before each meeting."""

    name = "class"
    category = "class"
    kinds: Sequence[str] = (CLASS_EVENING, CLASS_MORNING)

    async def due(self, session: AsyncSession, ctx: SweepContext, since: datetime, until: datetime, *,
                  only: int | None = None) -> list[Due]:
        """Reminders of meetings whose evening-before or morning-of moment falls in ``(since, until]``."""
        # A meeting's moments lie at most two days before its start: look at meetings starting from `since`.
        meetings = (await session.execute(
            select(ClassMeeting).join(TrainingClass, TrainingClass.id == ClassMeeting.class_id)
            .where(ClassMeeting.starts_at > since, ClassMeeting.starts_at <= until + timedelta(days=2),
                   TrainingClass.status != "cancelled")
            .options(selectinload(ClassMeeting.training_class).selectinload(TrainingClass.meetings))
            .order_by(ClassMeeting.starts_at))).scalars().all()
        wanted = [(m, kind, at) for m in meetings for kind, at in _moments(ctx, m.starts_at) if since < at <= until]
        if not wanted:
            return []
        class_ids = sorted({m.class_id for m, _, _ in wanted})
        people: dict[int, list[tuple[int, int]]] = {}
        for row in (await session.execute(
                select(Enrollment.class_id, Enrollment.employee_id, Enrollment.id)
                .where(Enrollment.class_id.in_(class_ids), Enrollment.status == "enrolled"))).all():
            people.setdefault(row[0], []).append((row[1], row[2]))
        out = []
        for meeting, kind, at in wanted:
            cls = meeting.training_class
            facts = ClassFacts.of(cls).to_json()
            number = [m.id for m in cls.meetings].index(meeting.id) + 1
            for employee_id, enrollment_id in people.get(cls.id, ()):
                if only is not None and employee_id != only:
                    continue
                values = {"class": facts, "meeting": [meeting.starts_at.isoformat(), meeting.ends_at.isoformat()],
                          "number": number, "of": len(cls.meetings), "enrollment_id": enrollment_id,
                          "can_cancel": at < cls.closes_at}
                out.append(Due(employee_id, Notice(kind, values), f"{kind}:{meeting.id}:{employee_id}", at,
                               meeting.starts_at))
        return out

    async def still_true(self, session: AsyncSession, kind: str, dedupe_key: str, now: datetime) -> str | None:
        """Skipped when the seat was cancelled, the class cancelled, or the meeting has begun."""
        ids = key_parts(dedupe_key, 2)
        if ids is None:
            return None
        found = (await session.execute(
            select(ClassMeeting.starts_at, TrainingClass.status, Enrollment.status)
            .join(TrainingClass, TrainingClass.id == ClassMeeting.class_id)
            .outerjoin(Enrollment, (Enrollment.class_id == TrainingClass.id) & (Enrollment.employee_id == ids[1]))
            .where(ClassMeeting.id == ids[0]))).first()
        if found is None:
            return "meeting no longer exists"
        starts_at, class_status, seat = found
        if class_status == "cancelled":
            return "class cancelled"
        if seat != "enrolled":
            return "seat cancelled"
        if starts_at <= now:
            return "meeting already started"
        return None


class WaitlistClosing:
    """"Registration for a class you are waitlisted on closes tomorrow", once, to each waitlisted person."""

    name = "waitlist"
    category = "class"
    kinds: Sequence[str] = (WAITLIST_CLOSING,)

    async def due(self, session: AsyncSession, ctx: SweepContext, since: datetime, until: datetime, *,
                  only: int | None = None) -> list[Due]:
        """Waitlisted people of classes whose "closes tomorrow" moment falls in ``(since, until]``."""
        classes = (await session.execute(
            select(TrainingClass).options(selectinload(TrainingClass.meetings))
            .where(TrainingClass.status == "open", TrainingClass.closes_at > since,
                   TrainingClass.closes_at <= until + timedelta(days=2)))).scalars().all()
        wanted = []
        for cls in classes:
            closes_local = cls.closes_at.astimezone(TAIPEI)
            day = closes_local.date() if closes_local.timetz().replace(tzinfo=None).isoformat() != "00:00:00" \
                else closes_local.date() - timedelta(days=1)  # a close at midnight is the end of the day before
            at = at_local(day - timedelta(days=1), ctx.settings.waitlist_closing.at)
            if since < at <= until and at < cls.closes_at:
                wanted.append((cls, at))
        if not wanted:
            return []
        out = []
        waiting = (await session.execute(
            select(Enrollment.class_id, Enrollment.employee_id)
            .where(Enrollment.class_id.in_([c.id for c, _ in wanted]), Enrollment.status == "waitlisted"))).all()
        by_class: dict[int, list[int]] = {}
        for class_id, employee_id in waiting:
            by_class.setdefault(class_id, []).append(employee_id)
        for cls, at in wanted:
            notice = Notice(WAITLIST_CLOSING, {"class": ClassFacts.of(cls).to_json()})
            for employee_id in by_class.get(cls.id, ()):
                if only is not None and employee_id != only:
                    continue
                out.append(Due(employee_id, notice, f"{WAITLIST_CLOSING}:{cls.id}:{employee_id}", at, cls.closes_at))
        return out

    async def still_true(self, session: AsyncSession, kind: str, dedupe_key: str, now: datetime) -> str | None:
        """Skipped when the person is no longer waitlisted (seated, or cancelled) or registration closed."""
        ids = key_parts(dedupe_key, 2)
        if ids is None:
            return None
        found = (await session.execute(
            select(TrainingClass.closes_at, TrainingClass.status, Enrollment.status)
            .outerjoin(Enrollment, (Enrollment.class_id == TrainingClass.id) & (Enrollment.employee_id == ids[1]))
            .where(TrainingClass.id == ids[0]))).first()
        if found is None or found[1] == "cancelled":
            return "class cancelled"
        if found[2] != "waitlisted":
            return "no longer waitlisted"
        if found[0] <= now:
            return "registration closed"
        return None
