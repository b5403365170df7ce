"""What a person controls and sees: their opt-outs (提醒設定) and the reminders queued for them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models.core import OutboxMessage
from bot.db.models.reminders import REMINDER_CATEGORIES, ReminderOptOut


async def opt_outs(session: AsyncSession, employee_id: int) -> set[str]:
    """The categories this employee switched off."""
    rows = await session.execute(select(ReminderOptOut.category).where(ReminderOptOut.employee_id == employee_id))
    return set(rows.scalars())


async def set_opt_out(session: AsyncSession, employee_id: int, category: str, *, off: bool, now: datetime) -> None:
    """Switch a category off (``off``) or back on; doing it twice changes nothing.

    Raises:
        ValueError: ``category`` is not one of :data:`REMINDER_CATEGORIES` (a bug: buttons carry known ones).
    """
    if category not in REMINDER_CATEGORIES:
        raise ValueError(f"unknown reminder category {category!r}")
    if not off:
        await session.execute(delete(ReminderOptOut).where(ReminderOptOut.employee_id == employee_id,
                                                           ReminderOptOut.category == category))
        return
    insert = sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
    await session.execute(insert(ReminderOptOut).values(employee_id=employee_id, category=category, created_at=now)
                          .on_conflict_do_nothing())


@dataclass(frozen=True)
class Queued:
    """One reminder queued for a chat account, as "my reminders" lists it."""

    kind: str
    not_before: datetime
    status: str
    reason: str | None
    text: str


async def queued_for(session: AsyncSession, account_id: int, *, limit: int = 10) -> list[Queued]:
    """The reminders queued for one chat account, newest moment first (kinds ``reminders.*``)."""
    rows = (await session.execute(
        select(OutboxMessage.kind, OutboxMessage.next_attempt_at, OutboxMessage.status, OutboxMessage.last_error,
               OutboxMessage.payload)
        .where(OutboxMessage.account_id == account_id, OutboxMessage.kind.like("reminders.%"))
        .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc()).limit(limit))).all()
    return [Queued(r[0], r[1], r[2], r[3] if r[2] in ("skipped", "failed") else None, first_text(r[4]))
            for r in rows]


def first_text(payload: Sequence[Mapping[str, Any]]) -> str:
    """The first line of the first reply of a payload (stored, or as ``Reply.to_dict`` gives it)."""
    for reply in payload:
        text = reply.get("text")
        if isinstance(text, str) and text:
            return text.splitlines()[0]
    return ""
