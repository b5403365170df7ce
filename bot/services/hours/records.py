"""Single learning records, for HR correcting one: a record with the employee it belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import Employee
from bot.db.models.hours import LearningRecord


async def record_with_owner(session: AsyncSession, record_id: int) -> tuple[LearningRecord, Employee] | None:
    """A learning record by id and the employee it belongs to, or None."""
    stmt = (select(LearningRecord, Employee).join(Employee, Employee.id == LearningRecord.employee_id)
            .where(LearningRecord.id == record_id))
    found = (await session.execute(stmt)).first()
    return None if found is None else (found[0], found[1])
