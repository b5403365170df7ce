"""Channel accounts: find or create the chat user of a message (the dispatcher's first statement)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.db.models.core import ChannelAccount

LAST_SEEN_RESOLUTION = timedelta(minutes=15)
"""``last_seen_at`` is refreshed at most this often, so a plain read-only message writes nothing."""

# Built once: this runs on every incoming message, and building the statement cost more than running it.
_ACCOUNT_BY_ID = (select(ChannelAccount).options(joinedload(ChannelAccount.employee))
                  .where(ChannelAccount.channel == bindparam("channel"),
                         ChannelAccount.external_id == bindparam("external_id")))


async def find_account(session: AsyncSession, channel: str, external_id: str) -> ChannelAccount | None:
    """The account of ``external_id`` on ``channel`` with its employee, or None before first contact."""
    params = {"channel": channel, "external_id": external_id}
    return (await session.execute(_ACCOUNT_BY_ID, params)).scalar_one_or_none()


async def lang_of(session: AsyncSession, channel: str, external_id: str, *, default: str) -> str:
    """The language a chat user reads (``default`` before their first message)."""
    account = await find_account(session, channel, external_id)
    return account.lang if account is not None else default


async def get_or_create_account(session: AsyncSession, channel: str, external_id: str, *,
                                lang: str, now: datetime) -> ChannelAccount:
    """Return the account of ``external_id`` on ``channel``, creating it on first contact.

    Two first messages racing each other both end up with the one row (the unique key decides).
    """
    account = await find_account(session, channel, external_id)
    if account is None:
        try:
            async with session.begin_nested():
                account = ChannelAccount(channel=channel, external_id=external_id, lang=lang, state=None,
                                         state_data={}, reachable=True, created_at=now, last_seen_at=now)
                session.add(account)
                await session.flush()
        except IntegrityError:
            account = await find_account(session, channel, external_id)
            assert account is not None  # the other message created it
        else:
            await session.refresh(account, ["employee"])
    if now - account.last_seen_at >= LAST_SEEN_RESOLUTION:
        account.last_seen_at = now
    return account


async def set_reachable(session: AsyncSession, channel: str, external_id: str, reachable: bool) -> bool:
    """Mark a chat user (un)reachable, e.g. after the platform said they blocked the bot; True if they exist."""
    from sqlalchemy import update

    result = await session.execute(
        update(ChannelAccount).where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
        .values(reachable=reachable).execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))
