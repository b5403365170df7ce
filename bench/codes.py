"""Benchmark: binding codes for a whole city (issue 15 part 6), on SQLite.

Builds N active employees (default 30,000) in a scratch SQLite file, then times the two halves of
``abc-bot admin codes --all``: hashing every code with the policy's scrypt cost (``data/accounts.yaml``,
outside any transaction, on every core) and the write transaction (revoke the older codes, insert the new
ones): how long SQLite's write lock is held, which is what a chat started meanwhile waits for.

Usage: .venv/bin/python bench/codes.py [--rows N]
Target: ≤ 60 s in all, each write transaction ≤ 2 s.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from bench.scratch import machine, options, scratch_sqlite
from bot.commands.accounts import CODES_PER_TRANSACTION
from bot.config import DEFAULT_DATA_DIR
from bot.db.engine import create_engine, session_factory
from bot.db.models.core import Employee
from bot.services.accounts import issue_codes, load_policy, prepare_codes

NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)


async def measure(url: str, n: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    policy = load_policy(DEFAULT_DATA_DIR)
    try:
        async with sessions.begin() as s:
            await s.execute(insert(Employee), [
                {"employee_no": f"C{i:06d}", "name": f"員工{i}", "agency": "機關", "unit": "", "rank": "薦任",
                 "is_supervisor": False, "gender": "F", "hire_date": date(2020, 1, 1), "email": None,
                 "active": True, "is_demo": False, "created_at": NOW, "updated_at": NOW} for i in range(n)])
        async with sessions() as s:
            people = list((await s.execute(select(Employee))).scalars())
            s.expunge_all()
        cores = os.cpu_count() or 1
        started, cpu = time.perf_counter(), time.process_time()
        prepared = prepare_codes(n, policy, workers=cores)
        hashing, hash_cpu = time.perf_counter() - started, time.process_time() - cpu
        holds: list[float] = []
        for start in range(0, n, CODES_PER_TRANSACTION):  # as `admin codes` writes them
            began = time.perf_counter()
            async with sessions.begin() as s:
                await issue_codes(s, people[start:start + CODES_PER_TRANSACTION], policy=policy, now=NOW,
                                  batch="bench", prepared=prepared[start:start + CODES_PER_TRANSACTION])
            holds.append(time.perf_counter() - began)
        writing = sum(holds)
        total = hashing + writing
        print(f"  scrypt 2^{policy.scrypt_log2_n}: hashing {n:,} codes on {cores} core(s) {hashing:6.1f} s "
              f"({hash_cpu / n * 1000:.2f} ms CPU each; {hash_cpu / cores:.1f} s on {cores} idle cores)")
        print(f"  {len(holds)} write transactions of {CODES_PER_TRANSACTION:,}: {writing:6.2f} s in all, the write "
              f"lock held {max(holds):.2f} s at most")
        print(f"  total {total:6.1f} s  {'OK' if total <= 60 and max(holds) <= 2 else 'OVER the target'}")
    finally:
        await engine.dispose()


async def main() -> None:
    parser = options(__doc__)
    parser.add_argument("--rows", type=int, default=30_000, help="employees (default 30,000)")
    args = parser.parse_args()
    print(f"binding codes, {machine()}")
    async with scratch_sqlite() as (url, _path):
        await measure(url, args.rows)


if __name__ == "__main__":
    asyncio.run(main())
