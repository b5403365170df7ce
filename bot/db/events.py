"""The ledger of webhook events already handled, written in batches (group commit).

Every webhook event carries an id, and LINE may deliver it again. Claiming an id inserts it into
``processed_events``; the primary key decides who handles it, also across server processes and restarts.
Events that arrive together are claimed in one write transaction (``INSERT … ON CONFLICT DO NOTHING
RETURNING``), which on SQLite halves the cost of a message that otherwise writes nothing.

:func:`record_event` is the other way, inside the handler's own transaction (used on PostgreSQL, where a
second transaction per event costs a WAL flush).

The batched claim happens before the handler runs, in its own transaction. That loses nothing that the claim in
the handler's transaction would keep: the webhook has already answered 200, so LINE redelivers only events
whose 200 it never saw, and those were never claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from sqlalchemy import Table, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import transaction
from bot.db.models.core import ProcessedEvent

EVENT_ID_MAX = 128
_Key = tuple[str, str]
# Core statements: no ORM bookkeeping on the hot path of every webhook event.
_EVENTS: Table = ProcessedEvent.__table__  # type: ignore[assignment]
_INSERT_EVENT = insert(_EVENTS)


class DuplicateEvent(Exception):
    """The webhook event was already handled (its id is in ``processed_events``)."""


async def record_event(session: AsyncSession, channel: str, event_id: str, now: datetime) -> None:
    """Claim an event id inside the caller's transaction; a unique violation means "already handled".

    Used as the first statement of the handler's own transaction (PostgreSQL). Being the first write
    also makes SQLite take its write lock before any read.

    Raises:
        DuplicateEvent: the id is taken (handled before, or being handled by another process).
    """
    row = {"channel": channel, "event_id": event_id[:EVENT_ID_MAX], "received_at": now}
    try:
        await session.execute(_INSERT_EVENT, row)
    except IntegrityError as exc:
        raise DuplicateEvent(event_id) from exc


async def forget_events(session: AsyncSession, *, before: datetime) -> int:
    """Delete the ids of events received before ``before`` (LINE redelivers within hours); returns how many."""
    result = await session.execute(delete(_EVENTS).where(_EVENTS.c.received_at < before))
    return int(getattr(result, "rowcount", 0) or 0)


class EventLedger:
    """Claims webhook event ids, batching the claims that arrive while a write is under way."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str, now: Callable[[], datetime], *,
                 gate: asyncio.Semaphore | None = None) -> None:
        self._sessions = sessions
        dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self._claim = (dialect_insert(_EVENTS).on_conflict_do_nothing(index_elements=["channel", "event_id"])
                       .returning(_EVENTS.c.channel, _EVENTS.c.event_id))
        self._now = now
        self._gate = gate
        self._pending: dict[_Key, asyncio.Future[bool]] = {}
        self._in_flight: set[_Key] = set()
        self._flusher: asyncio.Task[None] | None = None

    async def claim(self, channel: str, event_id: str) -> bool:
        """True when this caller should handle the event; False when it was (or is being) handled."""
        key = (channel, event_id[:EVENT_ID_MAX])
        if key in self._pending or key in self._in_flight:
            return False  # the same id twice in this process: the first claimer handles it
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            self._in_flight = set(batch)
            try:
                claimed = await self._write(list(batch))
            except Exception as exc:
                for future in batch.values():
                    if not future.done():
                        future.set_exception(exc)
            else:
                for key, future in batch.items():
                    if not future.done():
                        future.set_result(key in claimed)
            finally:
                self._in_flight = set()

    async def _write(self, keys: list[_Key]) -> set[_Key]:
        now = self._now()
        rows = [{"channel": c, "event_id": e, "received_at": now} for c, e in keys]
        # One statement shape for every batch size: SQLAlchemy's "insertmanyvalues" turns the parameter
        # list into multi-row INSERTs from one cached compilation (a .values([...]) of N rows would be
        # compiled anew for each N).
        async with self._gated(), transaction(self._sessions) as session:
            result = await session.execute(self._claim, rows)
            claimed = result.all()
        return {(str(r[0]), str(r[1])) for r in claimed}

    def _gated(self) -> AbstractAsyncContextManager[None]:
        return _hold(self._gate) if self._gate is not None else contextlib.nullcontext()


@contextlib.asynccontextmanager
async def _hold(gate: asyncio.Semaphore) -> AsyncIterator[None]:
    async with gate:
        yield


async def forget_event(session: AsyncSession, channel: str, event_id: str) -> None:
    """Remove one claimed id (a send that certainly did not happen gives its attempt back)."""
    await session.execute(delete(_EVENTS).where(_EVENTS.c.channel == channel,
                                                _EVENTS.c.event_id == event_id[:EVENT_ID_MAX]))
