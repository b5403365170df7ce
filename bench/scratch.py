"""What the benchmarks share: scratch databases (a migrated SQLite file or PostgreSQL database), the options.

PostgreSQL is found at BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
postgresql+asyncpg://postgres@127.0.0.1:5432/test; when no server answers, :func:`scratch_postgres`
prints a line saying so and yields None. Both are removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import timeit
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.db import migrate
from bot.db.engine import create_engine

PG_URL = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def options(doc: str | None) -> argparse.ArgumentParser:
    """The command line of a benchmark: its first docstring line as the description, and ``--only``."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0] if doc else None)
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="measure one database only")
    return parser


def machine() -> str:
    """How busy the machine is: the load average, and ``sum(range(10**6))`` (about 10 ms on an idle core)."""
    ms = min(timeit.repeat("sum(range(10**6))", number=1, repeat=5)) * 1000
    return (f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; sum(range(10**6)) takes {ms:.0f} ms "
            "(about 10 on an idle core)")


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def scratch_sqlite() -> AsyncIterator[tuple[str, Path]]:
    """A migrated SQLite database in a temporary folder: its URL and its file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        url = f"sqlite:///{path}"
        await _migrate(url)
        yield url, path


@asynccontextmanager
async def scratch_postgres() -> AsyncIterator[str | None]:
    """A migrated PostgreSQL database (dropped afterwards), or None when no server answers."""
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL)
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"abc_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
    except Exception as exc:  # any failure to connect means "no server here"
        print(f"PostgreSQL: skipped, no server at {PG_URL} ({type(exc).__name__}); set BENCH_DATABASE_URL")
        yield None
        return
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        await _migrate(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def plain_dsn(url: str) -> str:
    """An asyncpg connection string for a SQLAlchemy PostgreSQL URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
