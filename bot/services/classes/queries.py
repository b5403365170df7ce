"""Read-only queries of classes and enrollments (no locks, no writes): by id, by HR's code, upcoming, open.

The ``*_of`` and ``fresh_class`` reads bypass the session's identity map (``populate_existing``): under the
class lock a change must see the row as the database has it now, not the copy loaded before the lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, overload

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.db.models.classes import Enrollment, TrainingClass
from bot.db.models.core import Employee


async def get_class(session: AsyncSession, class_id: int) -> TrainingClass | None:
    """A class with its meetings, by id."""
    return (await session.execute(select(TrainingClass).options(selectinload(TrainingClass.meetings))
                                  .where(TrainingClass.id == class_id))).scalar_one_or_none()


async def find_class(session: AsyncSession, ref: str) -> TrainingClass | None:
    """A class by HR's code (any letter case when that is unambiguous) or by its number."""
    ref = ref.strip()
    stmt = select(TrainingClass).options(selectinload(TrainingClass.meetings))
    found = (await session.execute(stmt.where(TrainingClass.code == ref))).scalar_one_or_none()
    if found is None and ref:
        same = (await session.execute(stmt.where(func.upper(TrainingClass.code) == ref.upper()).limit(2))).scalars()
        candidates = list(same)
        found = candidates[0] if len(candidates) == 1 else None
    if found is None and ref.isdigit():
        found = (await session.execute(stmt.where(TrainingClass.id == int(ref)))).scalar_one_or_none()
    return found


async def upcoming_classes(session: AsyncSession, plan_year: int, course_codes: Sequence[str], *,
                           now: datetime, limit: int = 10) -> list[TrainingClass]:
    """Classes of these courses that have not started yet and are not cancelled, soonest first."""
    stmt = (select(TrainingClass).options(selectinload(TrainingClass.meetings))
            .where(TrainingClass.plan_year == plan_year, TrainingClass.starts_at > now,
                   TrainingClass.status != "cancelled")
            .order_by(TrainingClass.starts_at, TrainingClass.id).limit(limit))
    if course_codes:
        stmt = stmt.where(TrainingClass.course_code.in_(list(course_codes)))
    return list((await session.execute(stmt)).scalars())


async def open_for_registration(session: AsyncSession, plan_year: int, *, now: datetime,
                                limit: int = 10) -> list[TrainingClass]:
    """Classes taking registrations right now, closing soonest first."""
    stmt = (select(TrainingClass).options(selectinload(TrainingClass.meetings))
            .where(TrainingClass.plan_year == plan_year, TrainingClass.status == "open",
                   TrainingClass.opens_at <= now, TrainingClass.closes_at > now)
            .order_by(TrainingClass.closes_at, TrainingClass.starts_at, TrainingClass.id).limit(limit))
    return list((await session.execute(stmt)).scalars())


@overload
async def fresh_class(session: AsyncSession, class_id: int) -> TrainingClass: ...
@overload
async def fresh_class(session: AsyncSession, class_id: int, *, missing_ok: Literal[True]) -> TrainingClass | None: ...
async def fresh_class(session: AsyncSession, class_id: int, *, missing_ok: bool = False) -> TrainingClass | None:
    """The class with its meetings as the database has it now (not the copy this session loaded earlier).

    Raises:
        LookupError: the class is gone (unless ``missing_ok``, which returns None).
    """
    found = (await session.execute(
        select(TrainingClass).options(selectinload(TrainingClass.meetings)).where(TrainingClass.id == class_id)
        .execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None and not missing_ok:
        raise LookupError(f"class {class_id} is gone")
    return found


async def enrollment_of(session: AsyncSession, class_id: int, employee_id: int) -> Enrollment | None:
    """A person's enrollment row in a class (any status), read fresh, or None."""
    return (await session.execute(
        select(Enrollment).where(Enrollment.class_id == class_id, Enrollment.employee_id == employee_id)
        .execution_options(populate_existing=True))).scalar_one_or_none()


async def own_enrollment(session: AsyncSession, enrollment_id: int, employee_id: int) -> Enrollment | None:
    """An enrollment by id, only when it belongs to ``employee_id`` (a button must not reach another's row)."""
    row = await session.get(Enrollment, enrollment_id)
    return row if row is not None and row.employee_id == employee_id else None


async def enrollment_with_person(session: AsyncSession, enrollment_id: int) -> tuple[Enrollment, Employee] | None:
    """An enrollment and the employee it belongs to, or None."""
    found = (await session.execute(select(Enrollment, Employee).join(Employee, Employee.id == Enrollment.employee_id)
                                   .where(Enrollment.id == enrollment_id))).first()
    return None if found is None else (found[0], found[1])


async def waitlist_position(session: AsyncSession, class_id: int, seq: int) -> int:
    """1 for the first in the queue: how many waitlisted rows of the class have ``seq`` up to this one."""
    return (await session.execute(select(func.count()).select_from(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.status == "waitlisted", Enrollment.seq <= seq))).scalar_one()


async def waitlist_length(session: AsyncSession, class_id: int) -> int:
    """How many people wait for a seat in the class."""
    return (await session.execute(select(func.count()).select_from(Enrollment).where(
        Enrollment.class_id == class_id, Enrollment.status == "waitlisted"))).scalar_one()


async def waitlist_lengths(session: AsyncSession, class_ids: Sequence[int]) -> dict[int, int]:
    """How many people wait for a seat, per class (a class nobody waits for is absent), in one query."""
    if not class_ids:
        return {}
    rows = (await session.execute(select(Enrollment.class_id, func.count()).where(
        Enrollment.class_id.in_(list(class_ids)), Enrollment.status == "waitlisted").group_by(Enrollment.class_id)))
    return {class_id: count for class_id, count in rows.all()}
