"""Benchmark: queue 30,000 outbox rows in one transaction, on SQLite and on PostgreSQL.

Builds 30,000 employees with one chat account each (one in ten reads English, one in fifty is
unreachable) in a scratch database (SQLite file; PostgreSQL at BENCH_DATABASE_URL, default
TEST_DATABASE_URL or postgresql+asyncpg://postgres@127.0.0.1:5432/test, skipped with a line saying so
when no server answers), then prints seconds and rows/s (and this process's CPU seconds, which a busy
machine inflates less than the wall clock) of:

* ``enqueue_many``: 30,000 ready rows (a class notice's payload), committed;
* the same rows again: every key exists, nothing new (what a re-run of an import costs);
* ``Notifier.notify``: one class-cancelled notice to all 30,000 employees, the real renderer: the
  accounts SELECT, rendering (once per language), and the insert, committed.

Usage: .venv/bin/python bench/enqueue.py [--rows N] [--only sqlite|postgres]
Target (notices issue): ≤ 2 s for each on each database.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from bench.scratch import machine, options, scratch_postgres, scratch_sqlite
from bot.config import DEFAULT_DATA_DIR
from bot.db.engine import create_engine, session_factory
from bot.db.models.classes import ClassMeeting, TrainingClass
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.services.catalog import load_catalog, load_rules
from bot.services.classes import CLASS_CANCELLED
from bot.services.classes.notices import class_notice
from bot.services.notices import NoticeTo, Notifier, OutboxRow, enqueue_many
from bot.texts import MessageCatalog
from handlers.notices import renderer

NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
TARGET_SECONDS = 2.0


def sample_class() -> TrainingClass:
    """A class as a notice describes it (not stored: a notice carries its facts)."""
    cls = TrainingClass(course_code="B1-3-1", name="第1期", place="人事處 5樓電腦教室", online_url=None,
                        hours=Decimal("6"), bucket="other", materials_url="https://example.org/materials",
                        closes_at=datetime(2024, 3, 15, 9, 0, tzinfo=UTC))
    cls.meetings = [ClassMeeting(starts_at=datetime(2024, 3, d, 1, 0, tzinfo=UTC),
                                 ends_at=datetime(2024, 3, d, 4, 0, tzinfo=UTC)) for d in (20, 27)]
    return cls


class Timer:
    """Wall-clock seconds, and the CPU seconds of this process (SQLite's work included, PostgreSQL's not)."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def line(what: str, rows: int, timer: Timer, new: int) -> None:
    verdict = "OK" if timer.wall <= TARGET_SECONDS else f"OVER the {TARGET_SECONDS:.0f} s target"
    print(f"  {what:<42} {timer.wall:5.2f} s {rows / timer.wall:8,.0f} rows/s  (CPU {timer.cpu:4.2f} s; "
          f"{new:,} new) {verdict}")


async def measure(url: str, n: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as s:
            people = [{"employee_no": f"B{i:06d}", "name": f"員工{i}", "agency": "機關", "unit": "", "rank": "薦任",
                       "is_supervisor": False, "gender": "F", "hire_date": date(2020, 1, 1), "email": None,
                       "active": True, "is_demo": False, "created_at": NOW, "updated_at": NOW} for i in range(n)]
            ids = list((await s.execute(insert(Employee).returning(Employee.id), people)).scalars())
            accounts = [{"channel": "line", "external_id": f"U{i:032d}", "employee_id": eid,
                         "lang": "en" if i % 10 == 0 else "zh-TW", "state": None, "state_data": {},
                         "reachable": i % 50 != 0, "created_at": NOW, "last_seen_at": NOW}
                        for i, eid in enumerate(ids)]
            await s.execute(insert(ChannelAccount), accounts)
        async with sessions() as s:
            found = (await s.execute(select(ChannelAccount.id, ChannelAccount.channel, ChannelAccount.reachable)
                                     .order_by(ChannelAccount.id))).all()
        texts = MessageCatalog.load()
        render = renderer(texts, load_catalog(DEFAULT_DATA_DIR, 113), load_rules(DEFAULT_DATA_DIR, 113))
        notice = class_notice(CLASS_CANCELLED, sample_class())
        payload = [r.to_dict() for r in render(notice, "zh-TW")]
        rows = [OutboxRow(aid, channel, bool(reachable), payload, f"bench:{aid}", CLASS_CANCELLED, "bench")
                for aid, channel, reachable in found]

        for what in ("enqueue_many, new rows", "enqueue_many, every key already there"):
            with Timer() as timer:
                async with sessions.begin() as s:
                    new = await enqueue_many(s, rows, now=NOW)
            line(what, len(rows), timer, new)

        told = [NoticeTo(eid, notice, f"bench-notify:{eid}") for eid in ids]
        with Timer() as timer:
            async with sessions.begin() as s:
                new = await Notifier(render).notify(s, told, now=NOW, batch_id="bench-notify")
        line("Notifier.notify (SELECT, render, insert)", len(told), timer, new)
        async with sessions() as s:
            total = (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one()
        assert total == 2 * n, total
    finally:
        await engine.dispose()


async def main() -> None:
    parser = options(__doc__)
    parser.add_argument("--rows", type=int, default=30_000)
    args = parser.parse_args()
    print(f"{args.rows:,} outbox rows per run; {machine()}")
    if args.only in (None, "sqlite"):
        async with scratch_sqlite() as (url, _path):
            print("SQLite:")
            await measure(url, args.rows)
    if args.only in (None, "postgres"):
        async with scratch_postgres() as pg_url:
            if pg_url is not None:
                print("PostgreSQL:")
                await measure(pg_url, args.rows)


if __name__ == "__main__":
    asyncio.run(main())
