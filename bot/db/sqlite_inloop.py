"""SQLite for the async engine, run on the event loop's own thread (``sqlite://`` URLs).

SQLAlchemy's async engine needs an async driver; the usual one, aiosqlite, runs every call on a worker
thread and hands the result back through the loop. For the bot's statements (key lookups of well under a
millisecond) that hand-off is the expensive part: measured with ``bench/webhook.py``, one webhook event
cost 1.45 ms of CPU through aiosqlite and 0.95 ms here, and throughput went from ~600 to ~1050 req/s.

Here SQLAlchemy's synchronous pysqlite dialect is declared async and the standard library's ``sqlite3``
is called directly, inside the greenlet SQLAlchemy already runs the session in. The one place where a
statement can wait — another connection holding SQLite's write lock — does not block the loop:
SQLite's own busy timeout is 0 and a "database is locked" answer is retried after an ``await``ed sleep
(``sqlalchemy.util.concurrency.await_only``), so other coroutines, the webhook among them, keep running
while a second process or an HR import holds the lock. Retrying is what SQLite's busy handler would do
(the statement has taken no lock; its transaction stays open), only the waiting is asynchronous. A stale
read snapshot (``SQLITE_BUSY_SNAPSHOT``) is never retried: waiting cannot cure it.

Use it with ``sqlite:///path`` (the default); ``sqlite+aiosqlite:///path`` still selects aiosqlite.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util.concurrency import await_only, in_greenlet

DRIVER = "inloop"
BUSY_WAIT_SECONDS = 30.0
"""How long a statement waits for another connection's write lock before failing (as aiosqlite did)."""
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.02
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517

_T = TypeVar("_T")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # not from the SQLite library itself
        return False
    return bool(code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT)


def _pause(seconds: float) -> None:
    if in_greenlet():
        await_only(asyncio.sleep(seconds))
    else:  # used without the async engine (nothing else to run meanwhile)
        time.sleep(seconds)


async def _done() -> None:
    return None


def when_unlocked(call: Callable[[], _T], *, within: float | None = None) -> _T:
    """Run ``call``; while SQLite answers "locked", pause (yielding the loop) and try again.

    ``within`` seconds at most (default :data:`BUSY_WAIT_SECONDS`, read at each call), then the error is raised.

    Inside the async engine one ``await`` always happens (of a coroutine that is already done, so the
    loop is not entered): SQLAlchemy's ``AsyncConnection.execute`` checks that the driver awaited.
    """
    if in_greenlet():
        await_only(_done())
    deadline = time.monotonic() + (BUSY_WAIT_SECONDS if within is None else within)
    pause = _FIRST_PAUSE
    while True:
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        _pause(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)


class InLoopCursor(sqlite3.Cursor):
    """A ``sqlite3`` cursor whose statements wait for a write lock without blocking the loop."""

    def execute(self, sql: str, parameters: Any = (), /) -> InLoopCursor:
        """Execute one statement (see :func:`when_unlocked`)."""
        when_unlocked(lambda: super(InLoopCursor, self).execute(sql, parameters))
        return self

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> InLoopCursor:
        """Execute a statement for each parameter set (see :func:`when_unlocked`)."""
        rows = list(seq_of_parameters)  # a generator could not be replayed after "locked"
        when_unlocked(lambda: super(InLoopCursor, self).executemany(sql, rows))
        return self

    async def _async_soft_close(self) -> None:
        """Called by SQLAlchemy's async result; the rows are already here, so nothing to do."""


class InLoopConnection(sqlite3.Connection):
    """A ``sqlite3`` connection making :class:`InLoopCursor` cursors and retrying a locked commit."""

    def cursor(self, factory: Any = InLoopCursor) -> Any:
        """A new cursor (an :class:`InLoopCursor` unless told otherwise)."""
        return super().cursor(factory)

    def commit(self) -> None:
        """Commit, waiting (without blocking the loop) while another connection holds the lock."""
        when_unlocked(super().commit)


class SQLiteDialectInLoop(SQLiteDialect_pysqlite):
    """SQLAlchemy's pysqlite dialect, declared async so that ``create_async_engine`` accepts it."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        """An asyncio-aware pool: waiting for a free connection must not block the loop."""
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def create_connect_args(self, url: URL) -> Any:
        """The pysqlite arguments, plus our connection class and SQLite's own busy wait turned off."""
        cargs, cparams = super().create_connect_args(url)
        cparams.setdefault("factory", InLoopConnection)
        cparams["timeout"] = 0
        cparams["check_same_thread"] = False
        return cargs, cparams


def register() -> None:
    """Make ``sqlite+inloop://`` URLs known to SQLAlchemy (idempotent)."""
    registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialectInLoop")


def uses_inloop(drivername: str) -> bool:
    """True for the SQLite URLs served by this driver: ``sqlite://``, ``sqlite+pysqlite://``, ``sqlite+inloop://``."""
    return drivername in ("sqlite", "sqlite+pysqlite", f"sqlite+{DRIVER}")
