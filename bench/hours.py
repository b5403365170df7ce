"""Benchmark: one employee's hours status and the full HR report, among 30,000 employees × 40 records.

Builds the data on SQLite (a scratch file) and on PostgreSQL (a scratch database at BENCH_DATABASE_URL,
default TEST_DATABASE_URL or postgresql+asyncpg://postgres@127.0.0.1:5432/test; skipped with a message
when no server answers), then prints:

* the p50 / p99 time of one employee's status, the way the chat gets it (a session, the employee by
  number, their records of the year, the bucket arithmetic): 2,000 random employees, after a warm-up;
* the time of the full report (query, arithmetic for every employee, sort) and of writing it as CSV and xlsx.

Usage: .venv/bin/python bench/hours.py [--employees N] [--records N] [--only sqlite|postgres]
Targets (issue 3): status p99 < 5 ms; full report < 5 s.
"""

from __future__ import annotations

import asyncio
import gc
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import machine, options, plain_dsn, scratch_postgres, scratch_sqlite
from bot.config import DEFAULT_DATA_DIR
from bot.db.engine import create_engine, session_factory
from bot.services.accounts import find_employee
from bot.services.catalog import load_rules
from bot.services.hours import build_report, load_status, write_csv, write_xlsx
from bot.texts import MessageCatalog

NOW = datetime(2024, 10, 1, 2, 0, tzinfo=UTC)
TODAY = date(2024, 10, 1)
AGENCIES = [f"桃園市政府機關{i:02d}" for i in range(60)]
BUCKETS = ["policy", "environment", "democracy", "other", "other", "other"]
SOURCES = ["portal", "portal", "portal", "hr", "class"]


def employee_rows(n: int) -> list[tuple[object, ...]]:
    rnd = random.Random(1)
    ranks = ["簡任", "薦任", "委任", "約聘", "約僱", "臨時人員"]
    return [(i + 1, f"B{i + 1:06d}", f"員工{i + 1}", rnd.choice(AGENCIES), "科", rnd.choice(ranks), False, "F",
             date(2000 + i % 24, 1 + i % 12, 1), None, True, False, NOW, NOW) for i in range(n)]


def record_rows(n_employees: int, per_employee: int) -> list[tuple[object, ...]]:
    rnd = random.Random(2)
    rows: list[tuple[object, ...]] = []
    rid = 0
    for emp in range(1, n_employees + 1):
        for k in range(per_employee):
            rid += 1
            year = 113 if k < per_employee * 3 // 4 else 112            # a quarter from last year
            on = date(1911 + year, 1, 1) + timedelta(days=rnd.randrange(0, 270))
            credited = rnd.random() > 0.03
            rows.append((rid, emp, year, on, f"課程{k}", None, Decimal(rnd.choice(["0.5", "1", "1.5", "2", "3"])),
                         rnd.choice(BUCKETS), "digital", rnd.choice(SOURCES), f"bench:{rid}", credited,
                         None if credited else "hours.forfeit.leave_over_limit", None, "bench", NOW))
    return rows


EMP_COLS = ("id, employee_no, name, agency, unit, rank, is_supervisor, gender, hire_date, email, active, is_demo, "
            "created_at, updated_at")
REC_COLS = ("id, employee_id, plan_year, occurred_on, title, course_code, hours, bucket, mode, source, natural_key, "
            "credited, forfeit_reason, enrollment_id, import_batch, created_at")


def load_sqlite(path: Path, emps: list[tuple[object, ...]], recs: list[tuple[object, ...]]) -> None:
    def fix(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(str(v) if isinstance(v, Decimal | date) else v for v in row)

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    naive = NOW.replace(tzinfo=None).isoformat(sep=" ")
    conn.executemany(f"INSERT INTO employees ({EMP_COLS}) VALUES ({','.join('?' * 14)})",
                     [(*fix(r[:12]), naive, naive) for r in emps])
    conn.executemany(f"INSERT INTO learning_records ({REC_COLS}) VALUES ({','.join('?' * 16)})",
                     [(*fix(r[:15]), naive) for r in recs])
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


async def load_postgres(dsn: str, emps: list[tuple[object, ...]], recs: list[tuple[object, ...]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table("employees", records=emps, columns=[c.strip() for c in EMP_COLS.split(",")])
        await conn.copy_records_to_table("learning_records", records=recs,
                                         columns=[c.strip() for c in REC_COLS.split(",")])
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def measure(url: str, n_employees: int, samples: int) -> None:
    rules = load_rules(DEFAULT_DATA_DIR, 113)
    engine = create_engine(url)
    sessions = session_factory(engine)
    rnd = random.Random(3)
    numbers = [f"B{rnd.randrange(1, n_employees + 1):06d}" for _ in range(samples + 200)]

    async def sample() -> None:
        times: list[float] = []
        for i, number in enumerate(numbers):
            started = time.perf_counter()
            async with sessions() as session:
                emp = await find_employee(session, number)
                assert emp is not None
                await load_status(session, rules, emp, today=TODAY)
            if i >= 200:                                                        # after the warm-up
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p99 = times[int(len(times) * 0.99) - 1]
        print(f"  one employee's status ({samples} samples): p50 {p50:.2f} ms, p99 {p99:.2f} ms "
              f"{'OK' if p99 < 5 else 'OVER the 5 ms target'}")

    try:
        await sample()
        texts = MessageCatalog.load()

        def t(key: str) -> str:
            return texts.get(key, "zh-TW")

        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            async with sessions() as session:
                report = await build_report(session, rules, today=TODAY)
            built = time.perf_counter() - started
            write_csv(report, Path(tmp) / "r.csv", t, "zh-TW")
            with_csv = time.perf_counter() - started
            started_x = time.perf_counter()
            write_xlsx(report, Path(tmp) / "r.xlsx", t, "zh-TW")
            xlsx = time.perf_counter() - started_x
        print(f"  full report of {len(report.rows):,} employees: built in {built:.2f} s, with the CSV files "
              f"{with_csv:.2f} s {'OK' if with_csv < 5 else 'OVER the 5 s target'}; xlsx writing alone {xlsx:.2f} s")
    finally:
        await engine.dispose()


def generate(n_employees: int, per_employee: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    started = time.perf_counter()
    emps, recs = employee_rows(n_employees), record_rows(n_employees, per_employee)
    print(f"  generated {len(emps):,} employees × {per_employee} records in {time.perf_counter() - started:.1f} s")
    return emps, recs


def settle() -> None:
    """Drop the generated rows before measuring: a heap of a million tuples makes the GC pause for ms."""
    gc.collect()


async def bench_sqlite(n_employees: int, per_employee: int, samples: int) -> None:
    async with scratch_sqlite() as (url, path):
        print("SQLite:")
        emps, recs = generate(n_employees, per_employee)
        started = time.perf_counter()
        load_sqlite(path, emps, recs)
        print(f"  loaded in {time.perf_counter() - started:.1f} s")
        del emps, recs
        settle()
        await measure(url, n_employees, samples)


async def bench_postgres(n_employees: int, per_employee: int, samples: int) -> None:
    async with scratch_postgres() as url:
        if url is None:
            return
        print("PostgreSQL:")
        emps, recs = generate(n_employees, per_employee)
        started = time.perf_counter()
        await load_postgres(plain_dsn(url), emps, recs)
        print(f"  loaded in {time.perf_counter() - started:.1f} s")
        del emps, recs
        settle()
        await measure(url, n_employees, samples)


async def main() -> None:
    parser = options(__doc__)
    parser.add_argument("--employees", type=int, default=30_000)
    parser.add_argument("--records", type=int, default=40, help="records per employee")
    parser.add_argument("--samples", type=int, default=2_000)
    args = parser.parse_args()
    print(f"{args.employees:,} employees × {args.records} records; {machine()} (other work on the machine "
          "shows in the p99)")
    if args.only in (None, "sqlite"):
        await bench_sqlite(args.employees, args.records, args.samples)
    if args.only in (None, "postgres"):
        await bench_postgres(args.employees, args.records, args.samples)


if __name__ == "__main__":
    asyncio.run(main())
