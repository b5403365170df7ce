"""``kill -9`` in the middle of a 2,000-recipient sweep and of its delivery, then a restart: each reminder once.

Real processes (``tests/reminders/crash_runner.py``: the scheduler's sweep, then the outbox worker through
the real LINE SDK) against the fake LINE API of this test, on SQLite and PostgreSQL. The process kills
itself with SIGKILL at a point the test chooses (after N outbox INSERT statements of the sweep; after the
N-th push LINE accepted, before the worker recorded it), so the crash lands in the middle of writing rows
and between "sent" and "recorded" every time, not wherever a timer happened to fire.
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


async def start(at: str, environment: dict[str, str], cwd: Path, **crash: int) -> asyncio.subprocess.Process:
    """The bot process; ``crash`` sets its self-kill hooks (``CRASH_AFTER_OUTBOX_INSERTS=…``, see crash_runner)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.reminders.crash_runner", "--at", at,
        env={**environment, **{k: str(v) for k, v in crash.items()}}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def lines_until_death(proc: asyncio.subprocess.Process) -> list[str]:
    """Everything the process printed, once it has ended; it must have been killed by SIGKILL."""
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == -signal.SIGKILL, f"not killed (rc={proc.returncode}): {err.decode()[-2000:]}"
    return out.decode().splitlines()


async def until_line(proc: asyncio.subprocess.Process, word: str) -> None:
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 180)).decode()
        assert line, f"the process ended before {word!r}: " + (await proc.stderr.read()).decode()[-2000:]  # type: ignore[union-attr]
        if line.startswith(word):
            return


def accepted_per_person(fake: FakeLine) -> Counter[str]:
    """How many pushes LINE accepted (answered 200, or accepted with the answer lost) per user."""
    return Counter(fake.push_accepted)


async def test_killed_mid_insert_and_between_send_and_record_then_restarted_each_reminder_reaches_each_person_once(
        db_url: str, tmp_path: Path) -> None:
    await people_with_a_gap(db_url)
    fake = await FakeLine().start()
    environment = env(db_url, fake)
    cwd = ROOT
    try:
        # 1. killed while the sweep writes its 2,000 rows: 10 INSERTs of 100 rows ran, uncommitted
        out = await lines_until_death(await start(AT, environment, cwd, CRASH_AFTER_OUTBOX_INSERTS=10))
        assert "killed after 10 outbox inserts" in out and not any(x.startswith("swept") for x in out)
        assert sum((await outbox(db_url)).values()) == 0, "a killed sweep left part of its rows"

        # 2. the sweep completes; killed after LINE accepted the 1,234th push, before that batch is recorded
        out = await lines_until_death(await start(AT, environment, cwd, CRASH_AFTER_PUSHES=1234))
        assert "swept 2000" in out and "killed after 1234 pushes" in out
        accepted = len(fake.push_accepted)
        recorded = await outbox(db_url)
        assert sum(recorded.values()) == PEOPLE
        assert 1234 <= accepted < PEOPLE, "the process finished before it was killed: nothing was tested"
        assert recorded["sent"] < accepted, "nothing was accepted by LINE but unrecorded: the window was missed"
        assert recorded["sending"] > 0

        # 3. started again after the dead worker's lease: the unrecorded rows go again with THEIR retry
        #    keys (LINE answers 409: not delivered twice), the rest for the first time
        third = await start(LATER, environment, cwd)
        await until_line(third, "done")
        assert await third.wait() == 0
        per_person = accepted_per_person(fake)
        assert len(per_person) == PEOPLE and set(per_person.values()) == {1}
        pushes = [r for r in fake.requests if r.path == "/v2/bot/message/push"]
        by_key: dict[str, set[str]] = {}
        for r in pushes:
            by_key.setdefault(r.retry_key or "", set()).add(r.json["to"])
        assert "" not in by_key and len(by_key) == PEOPLE, "one retry key per reminder, and every push carries one"
        assert all(len(to) == 1 for to in by_key.values()), "a retry key was reused for someone else"
        resent = [r for r in pushes if r.status == 409]
        assert len(resent) >= accepted - recorded["sent"], "the unrecorded rows were not sent again with their keys"
        assert await outbox(db_url) == Counter({"sent": PEOPLE})
        assert all("還有 7 天" in r.json["messages"][0]["text"] for r in fake.sent("push")[:5])
    finally:
        await fake.stop()
