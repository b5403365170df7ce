"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bot.db import sqlite_inloop

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build an async engine; for SQLite make the folder and turn on WAL, foreign keys and a busy timeout.

    Args:
        url: ``sqlite:///path`` (SQLite on the loop's thread, see :mod:`bot.db.sqlite_inloop`),
            ``sqlite+aiosqlite:///path`` (SQLite through aiosqlite) or ``postgresql+asyncpg://...``.
        **kwargs: passed to ``create_async_engine``.
    """
    parsed = make_url(url)
    # Every connection is released by a Session or Connection that has already committed or rolled
    # back (SQLAlchemy 2 closes with a rollback), so the pool's own reset is a second, wasted round
    # trip on every message (measured: 0.17 ms of 1.5 ms per message on SQLite).
    kwargs.setdefault("pool_reset_on_return", None)
    # Statement parameters are personal data (employee numbers, names, user ids): never in a log line nor
    # in an exception's text (SQLAlchemy's "[parameters: …]"), whatever the log level.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        busy_ms = 0  # the in-loop driver waits for locks itself, yielding the loop (sqlite_inloop.py)
        if sqlite_inloop.uses_inloop(parsed.drivername):
            sqlite_inloop.register()
            url = parsed.set(drivername=f"sqlite+{sqlite_inloop.DRIVER}").render_as_string(hide_password=False)
        else:  # sqlite+aiosqlite: SQLite's busy handler waits on aiosqlite's thread
            busy_ms = int(sqlite_inloop.BUSY_WAIT_SECONDS * 1000)
            kwargs.setdefault("connect_args", {"timeout": sqlite_inloop.BUSY_WAIT_SECONDS})
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            mode = str(cur.fetchone()[0]).lower()
            if mode not in ("wal", "memory"):  # e.g. a network file system: readers then block writers
                log.warning("SQLite could not use WAL (journal mode %s); concurrent use will be slow", mode)
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    # No ping before each use: it is a round trip on every message (bench/webhook.py on PostgreSQL:
    # 855 -> 959 req/s without it). A dead connection fails its first statement instead, the pool drops
    # it and the dispatcher runs that message again (Dispatcher._handle).
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(url, **kwargs)


class CommitOutcomeUnknown(Exception):
    """The connection failed while committing: the database may or may not have kept the transaction."""


@contextlib.asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session in a transaction: committed when the block ends, rolled back if it raises, then closed.

    What ``async with sessions.begin()`` does, for the path every message takes: SQLAlchemy's context
    manager runs commit and close as shielded tasks (two tasks and ~6 loop turns per transaction, ~45 µs
    of a ~200 µs one-query transaction on SQLite). Awaited directly, a transaction on the in-loop SQLite
    driver never yields mid-way, so it never holds the write lock while other coroutines run. A
    cancellation during the commit still closes the session.

    Raises:
        CommitOutcomeUnknown: the connection was lost during the commit, so whether the work was kept is
            unknown; unlike a connection lost earlier, the block must not simply be run again.
    """
    session = sessions()
    try:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        try:
            await session.commit()
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise CommitOutcomeUnknown("connection lost during commit") from exc
            raise
    finally:
        await session.close()


async def once_more_if_dropped(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``; if its connection turned out dead, run it once more on a fresh one.

    Connections are not pinged before use (a round trip per message, see :func:`create_engine`); one the
    server dropped (a restart, an idle timeout) fails its first statement with ``connection_invalidated``
    and the pool discards it and every older one. Only for work that kept nothing when it failed: a
    failure during the commit itself is :class:`CommitOutcomeUnknown` and is not retried.
    """
    try:
        return await call()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("database connection lost; trying once more")
    return await call()


IMPORT_LOCK_KEY = 0x6162_635F_696D_7074  # "abc_impt": names the PostgreSQL advisory lock of the HR imports
"""The one advisory lock every HR import takes (any constant; only these imports use it)."""


class ImportBusy(Exception):
    """Another import (or another program) held the SQLite database longer than a writer waits."""


async def one_import_at_a_time(session: AsyncSession) -> None:
    """Make the session's transaction the only HR import running; a second one waits here for the first.

    An import reads what is there, then writes what differs; two at once would both read "not there yet"
    and both insert (a unique-key error). Called before the import reads anything, in its transaction:

    * PostgreSQL: a transaction-level advisory lock (``pg_advisory_xact_lock``), released by the commit
      or rollback. Each statement reads what was committed before it started, so the second import sees
      everything the first wrote. A wait is logged once (no data), so an operator knows why it pauses.
    * SQLite: its write lock, taken now by a write that changes nothing rather than at the first real
      write: reads made before it would miss what another writer commits meanwhile. The wait is the
      driver's (30 s); an import still running after that gives :class:`ImportBusy`.

    Re-entrant: a transaction that already holds the lock (the demo seed runs two imports) goes on.

    Raises:
        ImportBusy: SQLite only, the write lock stayed taken for the driver's whole wait.
    """
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql":
        key = {"key": IMPORT_LOCK_KEY}
        if not (await session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key)).scalar_one():
            log.warning("another import is running; waiting for it to finish")
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)
    elif dialect == "sqlite":
        try:
            await session.execute(text("UPDATE employees SET id = id WHERE 0 = 1"))
        except OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
            raise ImportBusy("another import or program kept the database busy for "
                             f"{sqlite_inloop.BUSY_WAIT_SECONDS:g} s; nothing was written, "
                             "run this import again when it has finished") from None


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
