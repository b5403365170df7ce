"""The in-loop SQLite driver (bot/db/sqlite_inloop.py): lock waits yield the loop; aiosqlite URLs still work.

"Another process" holding SQLite's write lock is played by a plain ``sqlite3`` connection to the same file
(SQLite cannot tell the difference: locks are on the file).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.bootstrap import build_app
from bot.clock import FrozenClock
from bot.conversation import IncomingMessage
from bot.db.engine import create_engine, session_factory
from bot.db.models.core import ChannelAccount
from bot.db.sqlite_inloop import InLoopConnection, when_unlocked
from tests.conftest import base_settings

pytestmark = pytest.mark.db  # every test here opens SQLite files


def _path(url: str) -> str:
    return url.split(":///", 1)[1]


async def test_the_default_sqlite_url_runs_in_the_loop(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        assert engine.dialect.driver == "inloop"
        assert create_engine("sqlite+aiosqlite:///" + _path(sqlite_url)).dialect.driver == "aiosqlite"
    finally:
        await engine.dispose()


async def test_a_write_waiting_for_another_process_lets_the_loop_run(sqlite_url: str) -> None:
    other = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other process holds the write lock
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)

    async def write() -> None:
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO processed_events (channel, event_id, received_at) "
                                       "VALUES ('line', 'waited', '2024-03-01 02:00:00')"))

    try:
        writer = asyncio.create_task(write())
        started = time.monotonic()
        turns = 0
        while turns < 200 and not writer.done():  # this coroutine keeps getting turns while the write waits
            await asyncio.sleep(0)
            turns += 1
        # A wait inside SQLite's busy handler would hold the loop for its whole timeout (seconds).
        assert turns == 200 and not writer.done() and time.monotonic() - started < 1.0
        other.execute("COMMIT")
        await asyncio.wait_for(writer, 10)
        count = other.execute("SELECT count(*) FROM processed_events WHERE event_id = 'waited'").fetchone()
        assert count == (1,)
    finally:
        other.close()
        await engine.dispose()


def test_a_lock_that_outlasts_the_wait_is_reported(sqlite_url: str) -> None:
    other = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    ours = sqlite3.connect(_path(sqlite_url), factory=InLoopConnection, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            when_unlocked(lambda: ours.execute("BEGIN IMMEDIATE"), within=0.01)
    finally:
        other.close()
        ours.close()


def test_a_stale_snapshot_is_not_waited_for(sqlite_url: str) -> None:
    """Waiting cannot help a transaction whose snapshot is older than another's commit: fail at once."""
    path = _path(sqlite_url)
    ours = sqlite3.connect(path, factory=InLoopConnection, timeout=0, isolation_level=None)
    other = sqlite3.connect(path, isolation_level=None)
    attempts = 0

    def update() -> object:
        nonlocal attempts
        attempts += 1
        return ours.execute("UPDATE processed_events SET channel = channel")

    try:
        ours.execute("BEGIN")
        ours.execute("SELECT count(*) FROM processed_events").fetchall()  # our snapshot starts here
        other.execute("INSERT INTO processed_events (channel, event_id, received_at) "
                      "VALUES ('line', 'later', '2024-03-01 02:00:00')")
        with pytest.raises(sqlite3.OperationalError) as caught:
            when_unlocked(update, within=5)
        assert caught.value.sqlite_errorcode == sqlite3.SQLITE_BUSY_SNAPSHOT
        assert attempts == 1
    finally:
        ours.close()
        other.close()


@pytest.mark.parametrize("driver", ["sqlite", "sqlite+aiosqlite"])
async def test_a_conversation_works_on_either_sqlite_driver(sqlite_url: str, clock: FrozenClock,
                                                            driver: str) -> None:
    url = f"{driver}:///{_path(sqlite_url)}"
    app = await build_app(base_settings(url), clock=clock, demo=True)
    try:
        first = await app.dispatcher.handle(IncomingMessage.from_text("line", "Udriver", "English"))
        second = await app.dispatcher.handle(IncomingMessage.from_text("line", "Udriver", "courses"))
        assert (first.intent, second.intent) == ("help", "browse")
        assert app.engine.dialect.driver == ("aiosqlite" if "aiosqlite" in driver else "inloop")
        async with app.sessions() as session:
            account = (await session.execute(select(ChannelAccount).where(
                ChannelAccount.external_id == "Udriver"))).scalar_one()
            assert account.lang == "en"
            assert (await session.execute(select(func.count()).select_from(ChannelAccount))).scalar_one() >= 1
    finally:
        await app.close()


def test_a_missing_folder_is_made(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'deeper' / 'bot.sqlite3'}"
    engine = create_engine(url)
    assert (tmp_path / "new" / "deeper").is_dir()
    asyncio.run(engine.dispose())
