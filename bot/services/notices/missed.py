"""Notices missed while a user had blocked the bot: sent again when they follow it again.

While a chat account is unreachable (a LINE user blocked the bot), the outbox writes its rows as ``skipped``
(:mod:`bot.services.notices.outbox`) and the delivery worker skips those it finds so. When the account
follows again, :func:`resend_missed` puts the recent ones back to ``pending`` with a new retry key, so the
worker delivers them like any other row; ``data/refollow.yaml`` says how recent and how many.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles import read_yaml, validate_file
from bot.db.models.core import OutboxMessage


class MissedNotices(BaseModel):
    """``missed_notices`` of ``data/refollow.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    within_days: int = Field(default=14, ge=0, le=365)
    at_most: int = Field(default=5, ge=0, le=50)


class RefollowFile(BaseModel):
    """The whole ``data/refollow.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    missed_notices: MissedNotices = MissedNotices()


def load_refollow_policy(data_dir: Path) -> MissedNotices:
    """Load and validate ``data/refollow.yaml`` (absent: the defaults)."""
    path = data_dir / "refollow.yaml"
    if not path.exists():
        return MissedNotices()
    return validate_file(RefollowFile, read_yaml(path), path).missed_notices


async def resend_missed(session: AsyncSession, account_id: int, *, policy: MissedNotices, now: datetime) -> int:
    """Queue again the newest notices this account missed while unreachable; returns how many.

    Only rows ``skipped`` within ``policy.within_days`` count, at most ``policy.at_most`` of them (the newest).
    """
    if policy.at_most == 0:
        return 0
    ids = list((await session.execute(
        select(OutboxMessage.id).where(OutboxMessage.account_id == account_id, OutboxMessage.status == "skipped",
                                       OutboxMessage.created_at >= now - timedelta(days=policy.within_days))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(policy.at_most))).scalars())
    for row_id in ids:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == "skipped")
                              .values(status="pending", next_attempt_at=now, attempts=0, last_error=None,
                                      claimed_by=None, claimed_at=None, retry_key=str(uuid.uuid4())))
    return len(ids)
