"""Who runs the scheduler: exactly one process holds the leader lock; the others stand by and take over.

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection kept open for it;
the server releases it when that connection ends, so a killed holder frees it. :meth:`LeaderLock.hold`
pings the connection and, when it was lost, tries to take the lock again on a new one. SQLite: an
exclusive ``flock`` on a file beside the database, released by the kernel when the process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

ADVISORY_KEY = 0x4142_4331  # "ABC1": the scheduler's advisory lock key
"""The advisory lock's key; other advisory locks of the project use transaction-level locks on other keys."""


class LeaderLock(Protocol):
    """Held by at most one process at a time."""

    async def hold(self) -> bool:
        """True when this process holds the lock now (taking it if it is free)."""
        ...

    async def release(self) -> None:
        """Let another process take it."""
        ...


class AdvisoryLock:
    """PostgreSQL session-level advisory lock on a dedicated connection."""

    def __init__(self, engine: AsyncEngine, key: int = ADVISORY_KEY) -> None:
        self.engine, self.key = engine, key
        self._conn: AsyncConnection | None = None

    async def hold(self) -> bool:
        """Ping the held connection; on none (or a lost one), try to take the lock on a new connection."""
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection is gone, and the lock with it
                log.warning("scheduler lock: connection lost; trying to take the lock again")
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None
        try:
            conn = await self.engine.connect()
        except Exception:
            log.warning("scheduler lock: cannot connect; standing by")
            return False
        try:
            got = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar())
            await conn.commit()  # leave no transaction open on the held connection
        except Exception:
            await conn.close()
            return False
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def release(self) -> None:
        """Unlock and close the connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                await self._conn.commit()
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None


class FileLock:
    """An exclusive ``flock`` on a file (SQLite)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    async def hold(self) -> bool:
        """True when this process holds the file lock (taking it without waiting when it is free)."""
        return self._take()

    def _take(self) -> bool:
        """Open the local lock file and try ``flock`` without waiting (microseconds; no thread needed)."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+")  # noqa: SIM115 (kept open while held)
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f
        return True

    async def release(self) -> None:
        """Unlock and close the file."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def leader_lock(engine: AsyncEngine, fallback_dir: Path) -> LeaderLock:
    """The lock for this database: advisory on PostgreSQL, a file beside the SQLite file (or in ``fallback_dir``)."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    database = engine.url.database
    if database and database != ":memory:":
        return FileLock(Path(f"{database}.scheduler.lock"))
    return FileLock(fallback_dir / "scheduler.lock")
