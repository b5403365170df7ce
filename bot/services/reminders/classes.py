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
from bot.services.reminders.source import Due, SweepContext, at_local, chunks, keyed_ids

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
        return (await self.still_true_many(session, kind, [dedupe_key], now)).get(dedupe_key)

    async def still_true_many(self, session: AsyncSession, kind: str, dedupe_keys: Sequence[str],
                              now: datetime) -> dict[str, str]:
        """:meth:`still_true` of many keys (``<kind>:<meeting>:<employee>``): two set queries."""
        keys = keyed_ids(dedupe_keys, 2)
        meetings: dict[int, tuple[datetime, int, str]] = {}
        for part in chunks(m for m, _ in keys.values()):
            for meeting_id, starts_at, class_id, status in (await session.execute(
                    select(ClassMeeting.id, ClassMeeting.starts_at, TrainingClass.id, TrainingClass.status)
                    .join(TrainingClass, TrainingClass.id == ClassMeeting.class_id)
                    .where(ClassMeeting.id.in_(part)))).all():
                meetings[meeting_id] = (starts_at, class_id, status)
        seats = await _seats(session, {c for _, c, _ in meetings.values()}, {e for _, e in keys.values()})
        out = {}
        for key, (meeting_id, employee_id) in keys.items():
            found = meetings.get(meeting_id)
            if found is None:
                out[key] = "meeting no longer exists"
            elif found[2] == "cancelled":
                out[key] = "class cancelled"
            elif seats.get((found[1], employee_id)) != "enrolled":
                out[key] = "seat cancelled"
            elif found[0] <= now:
                out[key] = "meeting already started"
        return out


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
        return (await self.still_true_many(session, kind, [dedupe_key], now)).get(dedupe_key)

    async def still_true_many(self, session: AsyncSession, kind: str, dedupe_keys: Sequence[str],
                              now: datetime) -> dict[str, str]:
        """:meth:`still_true` of many keys (``<kind>:<class>:<employee>``): two set queries."""
        keys = keyed_ids(dedupe_keys, 2)
        classes: dict[int, tuple[datetime, str]] = {}
        for part in chunks(c for c, _ in keys.values()):
            for class_id, closes_at, status in (await session.execute(
                    select(TrainingClass.id, TrainingClass.closes_at, TrainingClass.status)
                    .where(TrainingClass.id.in_(part)))).all():
                classes[class_id] = (closes_at, status)
        seats = await _seats(session, set(classes), {e for _, e in keys.values()})
        out = {}
        for key, (class_id, employee_id) in keys.items():
            found = classes.get(class_id)
            if found is None or found[1] == "cancelled":
                out[key] = "class cancelled"
            elif seats.get((class_id, employee_id)) != "waitlisted":
                out[key] = "no longer waitlisted"
            elif found[0] <= now:
                out[key] = "registration closed"
        return out


async def _seats(session: AsyncSession, class_ids: set[int], employee_ids: set[int]) -> dict[tuple[int, int], str]:
    """The enrollment status of these people in these classes, by (class, employee)."""
    out: dict[tuple[int, int], str] = {}
    if not class_ids:
        return out
    for part in chunks(employee_ids):
        for class_id, employee_id, status in (await session.execute(
                select(Enrollment.class_id, Enrollment.employee_id, Enrollment.status)
                .where(Enrollment.class_id.in_(sorted(class_ids)), Enrollment.employee_id.in_(part)))).all():
            out[(class_id, employee_id)] = status
    return out
