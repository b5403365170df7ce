"""The outbox delivery worker: claims due rows, hands them to the channel's sender, records the result.

Every message that is not a reply (waitlist promotions now; reminders and broadcasts later) is an
``outbox`` row (see :mod:`bot.services.notices.outbox`). Workers run inside ``abc-bot serve`` (LINE) and inside
the console chat; several may run at once, in one process or many:

- **Claiming** marks up to ``batch_size`` due rows ``sending`` with this worker's id in one statement.
  PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` then ``UPDATE``, so concurrent workers take disjoint
  batches without waiting. SQLite (which ignores ``FOR UPDATE``): one guarded
  ``UPDATE … WHERE id IN (…) AND status = 'pending' RETURNING id``; SQLite runs writers one at a time,
  so batches are disjoint too. A row left ``sending`` by a worker that died is due again after
  ``lease``; re-sending it is safe because its retry key makes LINE answer 409 instead of sending twice.
- **Checking again**, for the whole batch at once: quiet hours put a row back to pending until they end;
  each kind's "still true?" check (:data:`StillTrueCheck`) is asked ONCE per batch with every key of
  that kind, in one session, so a batch of 500 reminders costs a few set queries, not 500 sessions.
- **Delivering**: rows of one recipient go in order; recipients in parallel (``concurrency``).
- **Recording**, after the batch's sends, in ONE transaction guarded by ``claimed_by`` and ``sending``
  (one ``UPDATE … WHERE id IN (…)`` for the rows ending alike, an executemany for the rest): ``sent``;
  ``skipped`` when the user is unreachable (unfollowed or blocked) or a check said no; back to ``pending``
  with exponential backoff (``next_attempt_at``, from the app's clock) after a temporary failure;
  ``failed`` with the reason after a permanent one or ``max_attempts``. A crash between the sends and
  this write leaves the rows ``sending``; after the lease they are sent again with the SAME retry key,
  which LINE answers 409 ("accepted before"), recorded as sent: each message reaches its user once.

The worker never imports a chat SDK: each channel supplies a :class:`ChannelSender`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.conversation import Reply
from bot.db.models.core import ChannelAccount, OutboxMessage

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.services.notices.quiet import QuietHours

StillTrueCheck = Callable[[AsyncSession, str, Sequence[str], datetime], Coroutine[Any, Any, Mapping[str, str]]]
"""``(session, kind, dedupe_keys, now) -> {dedupe_key: reason}``: which rows of that kind (all of one claimed
batch) are no longer worth sending, and why; a key left out is still true. Asked once per kind and batch."""

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
MAX_IDS = 10_000
"""Row ids per ``UPDATE … WHERE id IN (…)`` (far below both databases' limit of bound values)."""

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A delivery did not happen; ``retry`` says whether trying again later may help."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class RecipientUnreachable(DeliveryError):
    """The user cannot receive messages (blocked the bot, left the channel): the row is skipped."""

    def __init__(self, reason: str = "unreachable") -> None:
        super().__init__(reason, retry=False)


@dataclass(frozen=True)
class Recipient:
    """Who a row is for, as the channel knows them."""

    account_id: int
    channel: str
    external_id: str
    lang: str


class ChannelSender(Protocol):
    """Delivers one outbox row on one channel; raises :class:`DeliveryError` when it cannot."""

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        """Send ``replies`` to ``recipient``; ``retry_key`` is the same on every attempt of this row."""
        ...


class BatchDelivery(Protocol):
    """Another kind of due work the worker runs on each round (the announcements' multicast chunks)."""

    async def run_once(self) -> dict[str, int]:
        """Deliver one batch; how many items ended in each state (empty when nothing was due)."""
        ...


def default_worker_id() -> str:
    """A worker id unique across hosts, processes and workers of one process."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: Recipient
    reachable: bool
    payload: list[dict[str, object]]
    retry_key: str
    attempts: int
    kind: str | None = None
    dedupe_key: str = ""


@dataclass
class DeliveryWorker:
    """Delivers due outbox rows of the channels it has senders for."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    senders: Mapping[str, ChannelSender]
    worker_id: str = field(default_factory=default_worker_id)
    batch_size: int = 200
    """Rows claimed, checked and recorded together: 200 keeps a 30,000-push fan-out at ~280 µs of CPU a push
    (at 50 the per-batch transactions double it: bench/reminders.py --batch-size 50), and a batch of LINE calls
    far inside the lease."""
    concurrency: int = 16
    max_attempts: int = 8
    base_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=30)
    lease: timedelta = timedelta(minutes=5)
    account_ids: frozenset[int] | None = None
    """Only rows for these accounts (the console chat delivers to its own user only)."""
    metrics: Metrics | None = None
    poll_interval: float = 1.0
    batches: Sequence[BatchDelivery] = ()
    """Other due work delivered on each round (multicast chunks), beside the outbox rows."""
    checks: Mapping[str, StillTrueCheck] = field(default_factory=dict)
    """Per notice kind, asked just before sending: a reason means the row is recorded ``skipped`` with it."""
    quiet: QuietHours | None = None
    """Rows of the kinds it covers that come due inside quiet hours wait, pending, for their end."""
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _stopping: bool = field(default=False, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    # ------------------------------------------------------------------ claiming

    def _due(self) -> list[ColumnElement[bool]]:
        now = self.clock.now()
        cond: list[ColumnElement[bool]] = [
            OutboxMessage.channel.in_(sorted(self.senders)),
            or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - self.lease)),
        ]
        if self.account_ids is not None:
            cond.append(OutboxMessage.account_id.in_(sorted(self.account_ids)))
        return cond

    async def claim(self) -> list[int]:
        """Mark up to ``batch_size`` due rows as taken by this worker; return their ids (oldest first)."""
        if not self.senders or (self.account_ids is not None and not self.account_ids):
            return []
        now = self.clock.now()
        values = {"status": "sending", "claimed_by": self.worker_id, "claimed_at": now,
                  "attempts": OutboxMessage.attempts + 1}
        order = (OutboxMessage.next_attempt_at, OutboxMessage.id)
        async with self.sessions.begin() as session:
            if session.get_bind().dialect.name == "sqlite":
                pick = select(OutboxMessage.id).where(*self._due()).order_by(*order).limit(self.batch_size)
                stmt = (update(OutboxMessage).where(OutboxMessage.id.in_(pick.scalar_subquery()), *self._due())
                        .values(**values).returning(OutboxMessage.id)
                        .execution_options(synchronize_session=False))
                ids = list((await session.execute(stmt)).scalars())
            else:
                pick = (select(OutboxMessage.id).where(*self._due()).order_by(*order).limit(self.batch_size)
                        .with_for_update(skip_locked=True))
                ids = list((await session.execute(pick)).scalars())
                if ids:
                    await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values)
                                          .execution_options(synchronize_session=False))
        return sorted(ids)

    async def _load(self, ids: list[int]) -> list[_Claimed]:
        async with self.sessions() as session:
            rows = (await session.execute(
                select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.retry_key, OutboxMessage.attempts,
                       ChannelAccount.id, ChannelAccount.channel, ChannelAccount.external_id, ChannelAccount.lang,
                       ChannelAccount.reachable, OutboxMessage.kind, OutboxMessage.dedupe_key)
                .join(ChannelAccount, ChannelAccount.id == OutboxMessage.account_id)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == self.worker_id)
                .order_by(OutboxMessage.id))).all()
        return [_Claimed(id=r[0], payload=list(r[1]), retry_key=r[2], attempts=r[3],
                         recipient=Recipient(account_id=r[4], channel=r[5], external_id=r[6], lang=r[7]),
                         reachable=bool(r[8]), kind=r[9], dedupe_key=r[10]) for r in rows]

    # ------------------------------------------------------------------ delivering

    def backoff(self, attempts: int) -> timedelta:
        """The wait before attempt ``attempts + 1``: doubling from ``base_backoff``, capped, with jitter."""
        delay: timedelta = min(self.base_backoff * (2 ** max(attempts - 1, 0)), self.max_backoff)
        return timedelta(seconds=delay.total_seconds() * random.uniform(1.0, 1.2))

    async def _record(self, outcomes: Sequence[tuple[int, dict[str, object]]]) -> None:
        """Write a batch's outcomes in ONE transaction, guarded by ``claimed_by`` and ``sending``.

        Rows ending with the same values (all the ``sent`` ones of a batch) are one ``UPDATE … WHERE id
        IN (…)``; the others (a retry's own ``next_attempt_at``) one executemany per set of columns.
        """
        if not outcomes:
            return
        same: dict[tuple[tuple[str, object], ...], list[int]] = defaultdict(list)
        for row_id, values in outcomes:
            same[tuple(sorted(values.items()))].append(row_id)
        guard = (OUTBOX.c.claimed_by == self.worker_id, OUTBOX.c.status == "sending")
        alone: dict[tuple[str, ...], list[dict[str, object]]] = defaultdict(list)
        async with self.sessions.begin() as session:
            conn = await session.connection()
            for items, ids in same.items():
                if len(ids) == 1:
                    alone[tuple(k for k, _ in items)].append({"row_id": ids[0], **{f"v_{k}": v for k, v in items}})
                    continue
                for start in range(0, len(ids), MAX_IDS):
                    await conn.execute(update(OUTBOX).where(OUTBOX.c.id.in_(ids[start:start + MAX_IDS]), *guard)
                                       .values(dict(items)))
            for columns, params in alone.items():
                stmt = (update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id"), *guard)
                        .values({c: bindparam(f"v_{c}", type_=OUTBOX.c[c].type) for c in columns}))
                await conn.execute(stmt, params)

    def _failed(self, row: _Claimed, reason: str, *, retry: bool, now: datetime) -> tuple[str, dict[str, object]]:
        channel = row.recipient.channel
        if retry and row.attempts < self.max_attempts:
            if self.metrics is not None:
                self.metrics.outbox_retries.inc(channel)
            log.warning("outbox delivery will be retried id=%s attempts=%s reason=%s", row.id, row.attempts, reason)
            return "retry", {"status": "pending", "last_error": reason[:500],
                             "next_attempt_at": now + self.backoff(row.attempts)}
        log.warning("outbox delivery failed id=%s attempts=%s reason=%s", row.id, row.attempts, reason)
        return self._count(channel, "failed"), {"status": "failed", "last_error": reason[:500]}

    def _before_sending(self, row: _Claimed, now: datetime) -> tuple[str, dict[str, object]] | None:
        """The outcome decided without sending (unreachable, abandoned, quiet hours), or None."""
        if not row.reachable:
            return self._count(row.recipient.channel, "skipped"), {"status": "skipped", "last_error": "unreachable"}
        if row.attempts > self.max_attempts:
            # Only a row whose workers kept dying before recording anything gets here (each claim
            # counts an attempt): stop, or a message that crashes the process would do so forever.
            return self._failed(row, f"abandoned after {row.attempts - 1} claims without an outcome",
                                retry=False, now=now)
        if self.quiet is not None and self.quiet.covers(row.kind) and self.quiet.contains(now):
            return "deferred", {"status": "pending", "next_attempt_at": self.quiet.defer(now),
                                "attempts": max(row.attempts - 1, 0)}
        return None

    async def _still_true(self, rows: Sequence[_Claimed], now: datetime) -> dict[int, str]:
        """Row id → reason for the rows a check says are no longer worth sending: one call per kind, one session."""
        by_kind: dict[str, list[_Claimed]] = defaultdict(list)
        for row in rows:
            if row.kind is not None and row.kind in self.checks:
                by_kind[row.kind].append(row)
        if not by_kind:
            return {}
        out: dict[int, str] = {}
        async with self.sessions() as session:
            for kind, group in by_kind.items():
                reasons = await self.checks[kind](session, kind, sorted({r.dedupe_key for r in group}), now)
                out.update((r.id, reasons[r.dedupe_key]) for r in group if r.dedupe_key in reasons)
        return out

    async def _send(self, row: _Claimed, now: datetime) -> tuple[str, dict[str, object]]:
        channel = row.recipient.channel
        try:
            replies = [Reply.from_dict(d) for d in row.payload]
            await self.senders[channel].deliver(row.recipient, replies, row.retry_key)
        except RecipientUnreachable as exc:
            return self._count(channel, "skipped"), {"status": "skipped", "last_error": exc.reason[:500]}
        except DeliveryError as exc:
            return self._failed(row, exc.reason, retry=exc.retry, now=now)
        except (ValueError, KeyError, TypeError) as exc:  # a payload no longer readable: do not retry
            return self._failed(row, f"bad payload: {type(exc).__name__}", retry=False, now=now)
        except Exception as exc:
            log.exception("outbox delivery crashed id=%s channel=%s", row.id, channel)
            return self._failed(row, f"error: {type(exc).__name__}", retry=True, now=now)
        return self._count(channel, "sent"), {"status": "sent", "sent_at": now, "last_error": None}

    def _count(self, channel: str, status: str) -> str:
        if self.metrics is not None:
            self.metrics.outbox.inc(channel, status)
        return status

    async def run_once(self) -> dict[str, int]:
        """Claim one batch, deliver it and record every outcome; how many rows ended in each state.

        ``retry`` counts rows put back to pending after a temporary failure, ``deferred`` those held for
        the end of quiet hours. The outcomes are written together after the batch's sends: a crash in
        between leaves the rows ``sending``, and whoever claims them after the lease sends them again
        with the same retry key, which LINE answers 409 (counted ``sent``), so nobody gets one twice.
        """
        summary: dict[str, int] = {}
        for other in self.batches:
            for key, value in (await other.run_once()).items():
                summary[key] = summary.get(key, 0) + value
        ids = await self.claim()
        if not ids:
            return summary
        rows = await self._load(ids)
        now = self.clock.now()
        outcomes: dict[int, tuple[str, dict[str, object]]] = {}
        for row in rows:
            decided = self._before_sending(row, now)
            if decided is not None:
                outcomes[row.id] = decided
        channels = {r.id: r.recipient.channel for r in rows}
        for row_id, reason in (await self._still_true([r for r in rows if r.id not in outcomes], now)).items():
            outcomes[row_id] = self._count(channels[row_id], "skipped"), {"status": "skipped",
                                                                          "last_error": reason[:500]}
        by_account: dict[int, list[_Claimed]] = defaultdict(list)
        for row in rows:
            if row.id not in outcomes:
                by_account[row.recipient.account_id].append(row)
        gate = asyncio.Semaphore(self.concurrency)

        async def one_recipient(queue: list[_Claimed]) -> None:
            async with gate:
                for row in queue:  # in order: a later notice never overtakes an earlier one
                    outcomes[row.id] = await self._send(row, now)

        await asyncio.gather(*(one_recipient(q) for q in by_account.values()))
        await self._record([(row_id, values) for row_id, (_, values) in outcomes.items()])
        for status, _ in outcomes.values():
            summary[status] = summary.get(status, 0) + 1
        return summary

    async def run_until_idle(self, max_batches: int = 1000) -> dict[str, int]:
        """Deliver batches until nothing is due (tests and the console use this)."""
        total: dict[str, int] = {}
        for _ in range(max_batches):
            summary = await self.run_once()
            if not summary:
                break
            for key, value in summary.items():
                total[key] = total.get(key, 0) + value
        return total

    # ------------------------------------------------------------------ background loop

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        """Run in the background until :meth:`stop`."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._loop(), name=f"outbox-worker-{self.worker_id}")

    async def stop(self) -> None:
        """Finish the batch in hand, then end the background loop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            await task

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                summary = await self.run_once()
            except Exception:
                log.exception("outbox worker: claiming failed; will try again")
                summary = {}
            if summary and sum(summary.values()) >= self.batch_size:
                continue
            self._wake.clear()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
