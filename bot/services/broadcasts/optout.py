"""Employees turning optional announcements off (and on again); mandatory ones reach everyone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.broadcasts import BroadcastOptOut


async def set_opt_out(session: AsyncSession, employee_id: int, off: bool, *, now: datetime) -> bool:
    """Turn optional announcements off (``off``) or on for one employee; True when that changed something."""
    exists = (await session.execute(select(BroadcastOptOut.employee_id).where(
        BroadcastOptOut.employee_id == employee_id))).first() is not None
    if off and not exists:
        session.add(BroadcastOptOut(employee_id=employee_id, at=now))
        await session.flush()
        return True
    if not off and exists:
        await session.execute(delete(BroadcastOptOut).where(BroadcastOptOut.employee_id == employee_id))
        return True
    return False
