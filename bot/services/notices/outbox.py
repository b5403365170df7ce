"""The outbox: every message that is not a reply (promotions, reminders, broadcasts) is a row here.

Enqueueing is idempotent through ``dedupe_key``; each row carries its own ``retry_key`` (sent as
``X-Line-Retry-Key``), so a push retried after a timeout is delivered once. This module only writes
rows and counts them; :mod:`bot.services.notices.delivery` sends them.

:func:`enqueue_many` writes any number of rows as ONE ``INSERT … VALUES (…), (…), … ON CONFLICT
(dedupe_key) DO NOTHING RETURNING id`` (the SQLite and PostgreSQL dialects' own insert constructs),
split only where a statement would pass :data:`MAX_PARAMETERS` bound values (2,666 rows). An existing
key is skipped by the database, not by a read first, so two transactions queueing the same notice at
once still make one row. How it is sent, and why (``bench/enqueue.py``, 30,000 rows):

* as an executemany that SQLAlchemy batches into multi-row VALUES ("insertmanyvalues"): the statement
  is compiled once. Building the same statement with ``.values([...])`` compiled 32,000 bind parameters
  per chunk: 14 s on SQLite against about 3 s, measured side by side on the same busy machine;
* a payload shared by many rows (one notice, one language) is serialised once and bound as JSON text.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Table, Text, bindparam, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import Reply
from bot.db.models.core import OUTBOX_STATUSES, ChannelAccount, OutboxMessage

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
MAX_PARAMETERS = 32_000
"""Bound values per statement: PostgreSQL's wire protocol allows 32,767, SQLite (≥ 3.32) 32,766."""


@dataclass(frozen=True)
class OutboxRow:
    """One message to queue: the recipient's channel account, the replies as JSON, the key and labels."""

    account_id: int
    channel: str
    reachable: bool
    payload: Sequence[Mapping[str, Any]]
    """Neutral replies as ``Reply.to_dict()`` gives them."""
    dedupe_key: str
    kind: str | None = None
    """What the message is about (a notice kind such as ``classes.promoted``)."""
    batch_id: str | None = None
    """The sending it belongs to (an import, a broadcast), for :func:`delivery_report`."""
    not_before: datetime | None = None
    skip_reason: str | None = None
    """Record the row as ``skipped`` with this reason instead of sending it (a reminder whose moment passed)."""

    @classmethod
    def to_account(cls, account: ChannelAccount, replies: Sequence[Reply], *, dedupe_key: str,
                   kind: str | None = None, batch_id: str | None = None,
                   not_before: datetime | None = None) -> OutboxRow:
        """A row for a loaded channel account."""
        return cls(account.id, account.channel, bool(account.reachable), [r.to_dict() for r in replies],
                   dedupe_key, kind, batch_id, not_before)


def _values(row: OutboxRow, payload_json: str, now: datetime) -> dict[str, Any]:
    """The row's columns; an unreachable account's row is ``skipped`` at once, so the decision is visible."""
    if row.skip_reason is not None:
        reason: str | None = row.skip_reason
    else:
        reason = None if row.reachable else "unreachable"
    return {"dedupe_key": row.dedupe_key, "channel": row.channel, "account_id": row.account_id,
            "payload_json": payload_json, "retry_key": str(uuid.uuid4()),
            "status": "pending" if reason is None else "skipped", "attempts": 0,
            "next_attempt_at": row.not_before or now, "created_at": now,
            "last_error": reason, "kind": row.kind, "batch_id": row.batch_id}


async def enqueue_many(session: AsyncSession, rows: Iterable[OutboxRow], *, now: datetime) -> int:
    """Queue every row whose ``dedupe_key`` is not in the outbox yet; returns how many were new.

    Args:
        session: the caller's transaction (the rows commit or roll back with the caller's work).
        rows: the messages; a key repeated among them is queued once (the first one).
        now: the current time (``created_at``, and ``next_attempt_at`` unless a row says ``not_before``).
    """
    seen: set[str] = set()
    payloads: dict[int, tuple[object, str]] = {}  # rows of one notice share one payload: serialised once
    values = []
    for row in rows:
        if row.dedupe_key not in seen:
            seen.add(row.dedupe_key)
            known = payloads.get(id(row.payload))
            if known is None:  # the entry keeps the payload alive, so its id is not reused meanwhile
                known = payloads[id(row.payload)] = (row.payload, json.dumps(list(row.payload), ensure_ascii=False))
            values.append(_values(row, known[1], now))
    if not values:
        return 0
    sqlite_db = session.get_bind().dialect.name == "sqlite"
    insert = sqlite.insert if sqlite_db else postgresql.insert
    payload = bindparam("payload_json", type_=Text)
    stmt = (insert(OUTBOX).values(payload=payload if sqlite_db else cast(payload, JSON))
            .on_conflict_do_nothing(index_elements=[OUTBOX.c.dedupe_key]).returning(OUTBOX.c.id)
            .execution_options(insertmanyvalues_page_size=MAX_PARAMETERS // len(values[0])))
    return len((await session.execute(stmt, values)).all())


async def enqueue(session: AsyncSession, account: ChannelAccount, replies: list[Reply], *, dedupe_key: str,
                  now: datetime, not_before: datetime | None = None, kind: str | None = None,
                  batch_id: str | None = None) -> OutboxMessage | None:
    """Queue ``replies`` for one ``account`` unless a row with ``dedupe_key`` exists (:func:`enqueue_many`).

    Returns:
        The new row, or None when the message was already queued. An unreachable account gets a
        row marked ``skipped`` so the decision is visible.
    """
    row = OutboxRow.to_account(account, replies, dedupe_key=dedupe_key, kind=kind, batch_id=batch_id,
                               not_before=not_before)
    if not await enqueue_many(session, [row], now=now):
        return None
    return (await session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))).scalar_one()


# ---------------------------------------------------------------- delivery report


@dataclass(frozen=True)
class StatusCounts:
    """How many rows are in each delivery state."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Every row counted."""
        return self.pending + self.sending + self.sent + self.failed + self.skipped


@dataclass(frozen=True)
class DeliveryReport:
    """Where the rows of a batch (or of the whole outbox) stand, per kind and overall."""

    batch_id: str | None
    by_kind: dict[str | None, StatusCounts] = field(default_factory=dict)
    """``None`` holds rows queued without a kind."""
    overall: StatusCounts = StatusCounts()


async def delivery_report(session: AsyncSession, batch_id: str | None = None) -> DeliveryReport:
    """Count the rows of ``batch_id`` (every row when None) by kind and status, in one grouped query."""
    stmt = select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(OutboxMessage.kind,
                                                                                  OutboxMessage.status)
    if batch_id is not None:
        stmt = stmt.where(OutboxMessage.batch_id == batch_id)
    counts: dict[str | None, dict[str, int]] = {}
    totals = dict.fromkeys(OUTBOX_STATUSES, 0)
    for kind, status, count in (await session.execute(stmt)).all():
        counts.setdefault(kind, dict.fromkeys(OUTBOX_STATUSES, 0))[status] = count
        totals[status] += count
    by_kind = {kind: StatusCounts(**counts[kind]) for kind in sorted(counts, key=lambda k: (k is None, k or ""))}
    return DeliveryReport(batch_id, by_kind, StatusCounts(**totals))
