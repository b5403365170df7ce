"""``kill -9`` in the middle of a 2,000-recipient sweep and of its delivery, then a restart: each reminder once.

Real processes (``tests/reminders/crash_runner.py``: the scheduler's sweep, then the outbox worker through
the real LINE SDK) against the fake LINE API of this test, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.db.engine import create_engine, session_factory
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from tests.line import webhooks as wh
from tests.line.fake_line import FakeLine

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 2000
AT = "2024-09-23T09:00:00+08:00"
LATER = "2024-09-23T09:10:00+08:00"  # the restart: past the worker's lease of the rows the dead one held


async def people_with_a_gap(url: str) -> None:
    """2,000 employees without any hours, each with a LINE account."""
    engine = create_engine(url)
    now = datetime(2024, 9, 1, tzinfo=UTC)
    try:
        async with session_factory(engine).begin() as s:
            ids = (await s.execute(insert(Employee).returning(Employee.id), [
                {"employee_no": f"K{i:05d}", "name": f"測試{i}", "agency": "測試局", "unit": "", "rank": "薦任",
                 "is_supervisor": False, "gender": "F", "active": True, "is_demo": False, "created_at": now,
                 "updated_at": now} for i in range(PEOPLE)])).scalars().all()
            await s.execute(insert(ChannelAccount), [
                {"channel": "line", "external_id": wh.user_id(f"k{n}"), "employee_id": i, "lang": "zh-TW",
                 "state_data": {}, "reachable": True, "created_at": now, "last_seen_at": now}
                for n, i in enumerate(ids)])
    finally:
        await engine.dispose()


async def outbox(url: str) -> Counter[str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as s:
            rows = await s.execute(select(OutboxMessage.status, func.count()).where(
                OutboxMessage.kind == "reminders.deadline").group_by(OutboxMessage.status))
            return Counter(dict(rows.all()))  # type: ignore[arg-type]
    finally:
        await engine.dispose()


def env(url: str, fake: FakeLine) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "TELEGRAM_", "DATABASE_URL"))}
    out.update(DATABASE_URL=url, LINE_CHANNEL_SECRET=wh.SECRET, LINE_CHANNEL_ACCESS_TOKEN=wh.TOKEN,
               LINE_API_BASE_URL=fake.url, LOG_LEVEL="WARNING")
    return out


async def start(at: str, environment: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.reminders.crash_runner", "--at", at, env=environment, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def until_line(proc: asyncio.subprocess.Process, word: str) -> None:
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
        assert line, f"the process ended before {word!r}: " + (await proc.stderr.read()).decode()[-2000:]  # type: ignore[union-attr]
        if line.startswith(word):
            return


def kill_9(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)


async def test_killed_mid_sweep_and_mid_delivery_then_restarted_each_reminder_reaches_each_person_once(
        db_url: str, tmp_path: Path) -> None:
    await people_with_a_gap(db_url)
    fake = await FakeLine().start()
    environment = env(db_url, fake)
    cwd = ROOT
    try:
        # 1. killed as its sweep of 2,000 rows begins: all or nothing was queued
        first = await start(AT, environment, cwd)
        await until_line(first, "sweeping")
        kill_9(first)
        await first.wait()
        assert sum((await outbox(db_url)).values()) in (0, PEOPLE)

        # 2. killed in the middle of delivering
        second = await start(AT, environment, cwd)
        await until_line(second, "delivering")
        await fake.wait_for(PEOPLE // 10, "push", within=120)
        kill_9(second)
        await second.wait()
        delivered_before = len(fake.sent("push"))
        assert delivered_before < PEOPLE, "the process finished before it was killed: nothing was tested"

        # 3. started again later: the rest goes, nothing twice
        third = await start(LATER, environment, cwd)
        await until_line(third, "done")
        assert await third.wait() == 0
        pushes = fake.sent("push")
        per_person = Counter(r.json["to"] for r in pushes)
        assert len(per_person) == PEOPLE
        assert set(per_person.values()) == {1}
        assert await outbox(db_url) == Counter({"sent": PEOPLE})
        assert all("還有 7 天" in r.json["messages"][0]["text"] for r in pushes[:5])
    finally:
        await fake.stop()
