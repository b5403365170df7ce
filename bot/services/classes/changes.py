"""HR's changes to a class and what they do to its people: cancel it, set its capacity, move it.

Called by ``abc-bot import classes`` (:mod:`~bot.services.classes.imports`) inside the import's
transaction. Each takes the class lock first, as enrollments do, and tells everyone concerned through
the outbox. Nobody is ever dropped by a lower capacity; a higher one is filled from the waitlist at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.classes import Enrollment
from bot.services.classes.deps import Deps
from bot.services.classes.enrollment import promote
from bot.services.classes.locks import CLASSES, lock_class
from bot.services.classes.notices import CLASS_CANCELLED, changed_kind, class_notice
from bot.services.classes.queries import fresh_class
from bot.services.classes.transitions import ACTIVE, cancel_row
from bot.services.notices import NoticeTo


@dataclass
class ClassChange:
    """What an HR change did to the people of a class (for the import report)."""

    cancelled_people: int = 0
    promoted: list[int] = field(default_factory=list)
    over_capacity: int = 0


async def cancel_class(session: AsyncSession, class_id: int, *, now: datetime, deps: Deps,
                       batch_id: str | None = None) -> ClassChange:
    """HR cancels a class: every enrolled or waitlisted person is cancelled and told; no seat stays taken.

    ``batch_id`` labels the notices (the import's batch), for the delivery report.
    """
    await lock_class(session, class_id)
    people = (await session.execute(
        select(Enrollment).where(Enrollment.class_id == class_id, Enrollment.status.in_(ACTIVE))
        .order_by(Enrollment.seq).execution_options(populate_existing=True))).scalars().all()
    for row in people:
        cancel_row(row, "class_cancelled", now)
    await session.flush()
    await session.execute(update(CLASSES).where(CLASSES.c.id == class_id)
                          .values(status="cancelled", taken=0, over_capacity=0, updated_at=now))
    notice = class_notice(CLASS_CANCELLED, await fresh_class(session, class_id))
    told = [NoticeTo(row.employee_id, notice, f"class-cancelled:{class_id}:{row.id}:{row.seq}") for row in people]
    await deps.notices.notify(session, told, now=now, batch_id=batch_id)
    return ClassChange(cancelled_people=len(people))


async def tell_class_changed(session: AsyncSession, class_id: int, *, time_changed: bool, place_changed: bool,
                             change_key: str, now: datetime, deps: Deps, batch_id: str | None = None) -> int:
    """Tell everyone enrolled or waitlisted that a class's time and/or place (or link) changed.

    Nothing is sent for a cancelled class or one that is over. ``change_key`` names this change (an
    import batch and the new schedule), so importing the same file again tells nobody twice. Returns how
    many people were told.
    """
    cls = await fresh_class(session, class_id)
    if cls.status == "cancelled" or cls.ends_at <= now or not (time_changed or place_changed):
        return 0
    notice = class_notice(changed_kind(time_changed=time_changed, place_changed=place_changed), cls)
    people = (await session.execute(
        select(Enrollment.id, Enrollment.employee_id).where(Enrollment.class_id == class_id,
                                                             Enrollment.status.in_(ACTIVE))
        .order_by(Enrollment.seq))).all()
    told = [NoticeTo(employee_id, notice, f"class-changed:{change_key}:{enrollment_id}")
            for enrollment_id, employee_id in people]
    await deps.notices.notify(session, told, now=now, batch_id=batch_id)
    return len(people)


async def set_capacity(session: AsyncSession, class_id: int, capacity: int, *, now: datetime,
                       deps: Deps, batch_id: str | None = None) -> ClassChange:
    """HR sets a new capacity; nobody is dropped.

    Seats above a lowered capacity are kept (``over_capacity``) and no new seat is given until enough
    people cancel; a raised capacity is filled from the waitlist at once.
    """
    await lock_class(session, class_id)
    over = case((CLASSES.c.taken > capacity, CLASSES.c.taken - capacity), else_=0)
    await session.execute(update(CLASSES).where(CLASSES.c.id == class_id)
                          .values(capacity=capacity, over_capacity=over, updated_at=now))
    cls = await fresh_class(session, class_id)
    change = ClassChange(over_capacity=cls.over_capacity)
    if cls.taken < capacity:
        change.promoted = await promote(session, class_id, now=now, deps=deps, batch_id=batch_id)
    return change
