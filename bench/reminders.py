"""Benchmark: the reminders' sweep and their delivery at the plan's scale, on SQLite and on PostgreSQL.

Builds 30,000 employees, each with a LINE account and 40 learning records (most of them short of the
mandatory hours), in a scratch database (SQLite file; PostgreSQL at BENCH_DATABASE_URL, default
TEST_DATABASE_URL or postgresql+asyncpg://postgres@127.0.0.1:5432/test, skipped with a line saying so when
no server answers), then prints wall and CPU seconds of:

* the deadline sweep at 113/9/23 09:00 (7 days before 9/30): decide who has a gap, render, queue (target ≤ 5 s);
* the sweep one minute later, with nothing due (target ≤ 50 ms);
* delivering the queued personalised pushes through the real LINE SDK to the fake LINE API, run in its
  own process so its work is not counted, each push with its retry key (target ≤ 10 s of this process's
  CPU; SQLite's work is in this process, PostgreSQL's is not).

Each line gives wall seconds, this process's CPU seconds (``time.process_time``: what the goals are
about, since other work on a shared machine inflates the wall clock) and the calls made: SQL statements
sent to the database and, for delivery, the push calls the fake LINE API received, accepted (to how many
distinct users) and answered 409.

Usage: .venv/bin/python bench/reminders.py [--people N] [--records N] [--only sqlite|postgres]
       [--skip-delivery] [--no-checks] [--batch-size N] [--concurrency N]
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.scratch import machine, options, scratch_postgres, scratch_sqlite
from bot.channels.line_client import LineClient
from bot.channels.line_sender import LineSender
from bot.clock import TAIPEI, FrozenClock
from bot.config import DEFAULT_DATA_DIR
from bot.db.engine import create_engine, session_factory
from bot.db.models.core import ChannelAccount, Employee, OutboxMessage
from bot.db.models.hours import LearningRecord
from bot.metrics import Metrics
from bot.services.catalog import load_catalog, load_rules
from bot.services.notices import DeliveryWorker, Notifier, QuietHours
from bot.services.reminders import build_reminders, load_reminders
from bot.texts import MessageCatalog
from handlers.notices import renderer

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2024, 9, 23, 9, 0, tzinfo=TAIPEI)
CREATED = datetime(2024, 9, 1, tzinfo=UTC)
BUCKETS = ("policy", "environment", "democracy", "other")


class Timer:
    """Wall-clock and CPU seconds of this process."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def verdict(value: float, target: float) -> str:
    return "OK" if value <= target else f"OVER the {target:g} s target"


class Statements:
    """Counts the SQL statements an engine sends (an executemany counts once)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1

    def take(self) -> int:
        """The count since the last take."""
        count, self.count = self.count, 0
        return count


def fake_counts(api: str) -> dict[str, int]:
    with urllib.request.urlopen(api + "/__fake/push", timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


async def populate(url: str, people: int, records: int) -> None:
    """Employees with a LINE account and ``records`` small records each (about one in eight has no gap)."""
    engine = create_engine(url)
    rng = random.Random(7)
    try:
        async with session_factory(engine).begin() as s:
            ids = list((await s.execute(insert(Employee).returning(Employee.id), [
                {"employee_no": f"R{i:06d}", "name": f"員工{i}", "agency": "機關", "unit": "", "rank": "薦任",
                 "is_supervisor": False, "gender": "F", "hire_date": date(2020, 1, 1), "email": None, "active": True,
                 "is_demo": False, "created_at": CREATED, "updated_at": CREATED} for i in range(people)])).scalars())
            await s.execute(insert(ChannelAccount), [
                {"channel": "line", "external_id": f"U{i:032x}", "employee_id": eid, "lang": "en" if i % 10 == 0
                 else "zh-TW", "state": None, "state_data": {}, "reachable": True, "created_at": CREATED,
                 "last_seen_at": CREATED} for i, eid in enumerate(ids)])
        rows = []
        for eid in ids:
            per = Decimal("0.25") if rng.random() < 0.875 else Decimal("0.5")  # 40 × 0.5 = every bucket full
            for n in range(records):
                rows.append({"employee_id": eid, "plan_year": 113, "occurred_on": date(2024, 5, 1) + timedelta(n),
                             "title": f"課程{n}", "course_code": None, "hours": per, "bucket": BUCKETS[n % 4],
                             "mode": "digital", "source": "portal", "natural_key": f"{eid}:{n}", "credited": True,
                             "forfeit_reason": None, "enrollment_id": None, "import_batch": None,
                             "created_at": CREATED})
                if len(rows) >= 20_000:
                    async with session_factory(engine).begin() as s:
                        await s.execute(insert(LearningRecord), rows)
                    rows = []
        if rows:
            async with session_factory(engine).begin() as s:
                await s.execute(insert(LearningRecord), rows)
    finally:
        await engine.dispose()


async def fake_line() -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.line.fake_line", "--port", "0",
                                                stdout=asyncio.subprocess.PIPE,
                                                cwd=ROOT)
    assert proc.stdout is not None
    port = (await proc.stdout.readline()).decode().split()[1]
    return proc, f"http://127.0.0.1:{port}"


async def measure(url: str, people: int, records: int, *, skip_delivery: bool = False, batch_size: int = 200,
                  concurrency: int = 16) -> None:
    with Timer() as t:
        await populate(url, people, records)
    print(f"  set-up: {people:,} employees × {records} records in {t.wall:.1f} s")
    catalog, rules = load_catalog(DEFAULT_DATA_DIR, 113), load_rules(DEFAULT_DATA_DIR, 113)
    reminders = build_reminders(load_reminders(DEFAULT_DATA_DIR, 113), rules, catalog,
                                QuietHours.load(DEFAULT_DATA_DIR), Notifier(renderer(MessageCatalog.load(), catalog,
                                                                                     rules)))
    engine = create_engine(url)
    sessions = session_factory(engine)
    statements = Statements(engine)
    try:
        statements.take()
        with Timer() as t:
            async with sessions.begin() as s:
                result = await reminders.sweep(s, AT, since=AT - timedelta(minutes=1))
        queued = sum(result.queued.values())
        print(f"  deadline sweep: {queued:,} reminders queued in {t.wall:.2f} s wall, CPU {t.cpu:.2f} s, "
              f"{statements.take()} SQL statements; wall {verdict(t.wall, 5)}, CPU {verdict(t.cpu, 5)}")
        with Timer() as t:
            async with sessions.begin() as s:
                idle = await reminders.sweep(s, AT + timedelta(minutes=1))
        assert idle.total == 0, idle
        print(f"  sweep with nothing due: {t.wall * 1000:.1f} ms wall, CPU {t.cpu * 1000:.1f} ms, "
              f"{statements.take()} SQL statements; {verdict(t.wall, 0.05)}")

        if skip_delivery:
            return
        proc, api = await fake_line()
        client = LineClient("bench-token", api)
        worker = DeliveryWorker(sessions, FrozenClock(AT + timedelta(minutes=1)),
                                {"line": LineSender(client, Metrics())}, batch_size=batch_size, concurrency=concurrency,
                                checks={} if "--no-checks" in sys.argv else reminders.checks(),
                                quiet=reminders.ctx.quiet)
        try:
            statements.take()
            with Timer() as t:
                done = await worker.run_until_idle(max_batches=10_000)
            sql = statements.take()
            calls = fake_counts(api)
        finally:
            await client.close()
            proc.terminate()
            await proc.wait()
        async with sessions() as s:
            sent = (await s.execute(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.status == "sent"))).scalar_one()
        print(f"  delivery: {sent:,} pushes sent ({done}) in {t.wall:.1f} s wall, CPU {t.cpu:.2f} s "
              f"({t.cpu / max(sent, 1) * 1e6:.0f} µs a push) {verdict(t.cpu, 10)}; batches of {batch_size}, "
              f"{concurrency} at a time, "
              f"{sql} SQL statements; push calls {calls['calls']:,}, accepted {calls['accepted']:,} "
              f"to {calls['unique']:,} users, 409 {calls['conflicts']}")
    finally:
        await engine.dispose()


async def main() -> None:
    parser = options(__doc__)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--records", type=int, default=40)
    parser.add_argument("--no-checks", action="store_true", help="deliver without the still-true checks")
    parser.add_argument("--skip-delivery", action="store_true", help="measure the sweeps only")
    parser.add_argument("--batch-size", type=int, default=200, help="rows a batch (default 200, the worker's)")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="recipients sent to at once (default 16, the worker's; 64 cost a quarter more CPU a push)")
    args = parser.parse_args()
    print(f"{args.people:,} employees × {args.records} records; {machine()}")
    if args.only in (None, "sqlite"):
        async with scratch_sqlite() as (url, _path):
            print("SQLite:")
            await measure(url, args.people, args.records, skip_delivery=args.skip_delivery,
                          batch_size=args.batch_size, concurrency=args.concurrency)
    if args.only in (None, "postgres"):
        async with scratch_postgres() as pg_url:
            if pg_url is not None:
                print("PostgreSQL:")
                await measure(pg_url, args.people, args.records, skip_delivery=args.skip_delivery,
                              batch_size=args.batch_size, concurrency=args.concurrency)


if __name__ == "__main__":
    asyncio.run(main())
