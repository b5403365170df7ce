"""The outbox: every message that is not a reply (promotions, reminders, broadcasts) is a row here.

Enqueueing is idempotent through ``dedupe_key``; each row carries its own ``retry_key`` (sent as
``X-Line-Retry-Key``), so a push retried after a timeout is delivered once. Delivery workers live with
the channels; this module only writes rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Reply
from bot.db.models.core import ChannelAccount, OutboxMessage


async def enqueue(session: AsyncSession, account: ChannelAccount, replies: list[Reply], *, dedupe_key: str,
                  now: datetime, not_before: datetime | None = None) -> OutboxMessage | None:
    """Queue ``replies`` for ``account`` unless a row with ``dedupe_key`` exists.

    Args:
        session: the caller's transaction (the row commits or rolls back with the caller's work).
        account: the recipient's channel account.
        replies: neutral replies, stored as JSON.
        dedupe_key: a key naming the logical message, e.g. ``promote:<enrollment id>``.
        now: the current time.
        not_before: do not deliver before this instant (default: now).

    Returns:
        The new row, or None when the message was already queued. An unreachable account gets a
        row marked ``skipped`` so the decision is visible.
    """
    existing = (await session.execute(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))).scalar_one_or_none()
    if existing is not None:
        return None
    row = OutboxMessage(dedupe_key=dedupe_key, channel=account.channel, account_id=account.id,
                        payload=[r.to_dict() for r in replies], retry_key=str(uuid.uuid4()),
                        status="pending" if account.reachable else "skipped", attempts=0,
                        next_attempt_at=not_before or now, created_at=now,
                        last_error=None if account.reachable else "unreachable")
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return None
    return row


async def enqueue_for_employee(session: AsyncSession, employee_id: int, replies: list[Reply], *,
                               dedupe_key: str, now: datetime) -> list[OutboxMessage]:
    """Queue ``replies`` to every channel account bound to an employee (one row per account).

    The key of each row is ``dedupe_key`` plus the account's channel, so the same notice reaches an
    employee on LINE and on Telegram once each.
    """
    accounts = (await session.execute(
        select(ChannelAccount).where(ChannelAccount.employee_id == employee_id))).scalars().all()
    rows = []
    for account in accounts:
        row = await enqueue(session, account, replies, dedupe_key=f"{dedupe_key}:{account.channel}", now=now)
        if row is not None:
            rows.append(row)
    return rows
