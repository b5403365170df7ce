"""Delivering an announcement's chunks: one multicast call per chunk, exactly once, across crashes.

Like the outbox worker (:mod:`bot.services.notices.delivery`): a chunk is claimed with a guarded
``UPDATE`` (status ``pending`` → ``sending``, this worker's id; a chunk left ``sending`` by a dead worker is
due again after ``lease``), sent with its kept retry key, then recorded ``sent`` (LINE's 409 "already
accepted" is a success), back to ``pending`` with backoff after 429/5xx/no answer, or ``failed``. The
worker runs it beside the outbox on every round (``DeliveryWorker.batches``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.conversation import Reply
from bot.db.models.broadcasts import Broadcast, BroadcastChunk
from bot.services.broadcasts.compose import Content, content_of
from bot.services.notices import DeliveryError, Renderer
from bot.services.notices.delivery import default_worker_id

log = logging.getLogger(__name__)


class MulticastSender(Protocol):
    """A channel sender that can send one message to many users in one call."""

    async def deliver_many(self, external_ids: Sequence[str], replies: list[Reply], retry_key: str,
                           unit: str | None = None) -> None:
        """Send ``replies`` to every id (≤ 500) with ``retry_key``; raise ``DeliveryError`` when it did not."""
        ...


@dataclass
class ChunkDeliverer:
    """Claims due chunks of announcements and multicasts them."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    senders: Mapping[str, MulticastSender]
    render: Renderer
    worker_id: str = field(default_factory=default_worker_id)
    batch_size: int = 20
    concurrency: int = 8
    max_attempts: int = 8
    base_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=30)
    lease: timedelta = timedelta(minutes=5)

    async def claim(self) -> list[int]:
        """Take up to ``batch_size`` due chunks; their ids."""
        if not self.senders:
            return []
        now = self.clock.now()
        due: list[ColumnElement[bool]] = [BroadcastChunk.channel.in_(sorted(self.senders)),
               or_(and_(BroadcastChunk.status == "pending", BroadcastChunk.next_attempt_at <= now),
                   and_(BroadcastChunk.status == "sending", BroadcastChunk.claimed_at < now - self.lease))]
        async with self.sessions.begin() as session:
            pick = select(BroadcastChunk.id).where(*due).order_by(BroadcastChunk.next_attempt_at, BroadcastChunk.id)
            if session.get_bind().dialect.name != "sqlite":
                ids = list((await session.execute(pick.limit(self.batch_size).with_for_update(skip_locked=True)))
                           .scalars())
                where: list[ColumnElement[bool]] = [BroadcastChunk.id.in_(ids)]
            else:
                ids = []
                where = [BroadcastChunk.id.in_(pick.limit(self.batch_size).scalar_subquery()), *due]
            if ids or session.get_bind().dialect.name == "sqlite":
                stmt = (update(BroadcastChunk).where(*where)
                        .values(status="sending", claimed_by=self.worker_id, claimed_at=now,
                                attempts=BroadcastChunk.attempts + 1)
                        .returning(BroadcastChunk.id).execution_options(synchronize_session=False))
                ids = list((await session.execute(stmt)).scalars())
        return sorted(ids)

    async def run_once(self) -> dict[str, int]:
        """Claim and send one batch of chunks; how many chunks ended in each state (``retry`` = pending)."""
        ids = await self.claim()
        if not ids:
            return {}
        async with self.sessions() as session:
            rows = (await session.execute(
                select(BroadcastChunk, Broadcast).join(Broadcast, Broadcast.id == BroadcastChunk.broadcast_id)
                .where(BroadcastChunk.id.in_(ids), BroadcastChunk.claimed_by == self.worker_id))).all()
            work = [(c.id, c.channel, c.lang, c.retry_key, c.attempts, [r[1] for r in c.recipients], b.unit,
                     content_of(b), bool(b.optional)) for c, b in rows]
        gate = asyncio.Semaphore(self.concurrency)
        outcomes: list[tuple[int, dict[str, object]]] = []

        async def one(item: tuple[int, str, str, str, int, list[str], str, Content, bool]) -> None:
            async with gate:
                outcomes.append((item[0], await self._deliver(*item)))

        await asyncio.gather(*(one(w) for w in work))
        # every outcome in one transaction: a crash before it leaves the chunks 'sending', and sending them
        # again after the lease is answered 409 (their keys were accepted), so recording late is safe
        async with self.sessions.begin() as session:
            for chunk_id, values in outcomes:
                await session.execute(update(BroadcastChunk).where(
                    BroadcastChunk.id == chunk_id, BroadcastChunk.claimed_by == self.worker_id,
                    BroadcastChunk.status == "sending").values(**values).execution_options(synchronize_session=False))
        summary: dict[str, int] = {}
        for _, values in outcomes:
            status = "retry" if values["status"] == "pending" else str(values["status"])
            summary[status] = summary.get(status, 0) + 1
        return summary

    async def _deliver(self, chunk_id: int, channel: str, lang: str, retry_key: str, attempts: int,
                       ids: list[str], unit: str, content: Content, optional: bool) -> dict[str, object]:
        """Send one chunk; the values to record on its row."""
        try:
            replies = self.render(content.notice(optional=optional), lang)
            await self.senders[channel].deliver_many(ids, replies, retry_key, unit)
        except DeliveryError as exc:
            if exc.retry and attempts < self.max_attempts:
                delay = min(self.base_backoff * (2 ** max(attempts - 1, 0)), self.max_backoff)
                wait = timedelta(seconds=delay.total_seconds() * random.uniform(1.0, 1.2))
                return {"status": "pending", "last_error": exc.reason[:500], "next_attempt_at": self.clock.now() + wait}
            return {"status": "failed", "last_error": exc.reason[:500]}
        except Exception as exc:
            log.exception("broadcast chunk delivery crashed id=%s", chunk_id)
            return {"status": "pending", "last_error": f"error: {type(exc).__name__}",
                    "next_attempt_at": self.clock.now() + self.base_backoff}
        return {"status": "sent", "sent_at": self.clock.now(), "last_error": None}
