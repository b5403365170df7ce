"""Shared fixtures: settings on a throw-away database (SQLite and PostgreSQL), the app, a frozen clock.

Each test gets its own database: a copy of a migrated SQLite template file, or on PostgreSQL a
``CREATE DATABASE … TEMPLATE`` of a migrated template database. PostgreSQL is found through
``TEST_DATABASE_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``); when no server
answers, the PostgreSQL variants are skipped with a message saying so.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import Runtime, build_app
from bot.clock import FrozenClock
from bot.config import DEFAULT_DATA_DIR, Settings
from bot.db import migrate
from bot.db.engine import create_engine

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# 2024-03-01 10:00 Taipei: inside plan year 113.
DEFAULT_NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)


def base_settings(database_url: str) -> Settings:
    """Settings for tests: no channel credentials, the repo's data, the given database."""
    return Settings(database_url=database_url, data_dir=DEFAULT_DATA_DIR, plan_year=113, default_lang="zh-TW",
                    demo_employee_no="T0001")


# ---------------------------------------------------------------- PostgreSQL discovery

_pg_state: dict[str, object] = {}


def _pg_dsn(database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    if database:
        url = url.set(database=database)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def drop_pg_connections(database: str | None) -> int:
    """What a PostgreSQL restart does to the bot: drop every connection to ``database``; returns how many."""
    import asyncpg

    admin = await asyncpg.connect(_pg_dsn(), timeout=5)
    try:
        return int(await admin.fetchval("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        "WHERE datname = $1", database))
    finally:
        await admin.close()


async def issue_code(app: Runtime, employee_no: str) -> str:
    """Issue a linking code for one employee; returns it as printed for HR (with the dash)."""
    from sqlalchemy import select

    from bot.db.models.core import Employee
    from bot.services.accounts import format_code, issue_codes, load_policy

    policy = load_policy(app.settings.data_dir)
    async with app.sessions.begin() as s:
        emp = (await s.execute(select(Employee).where(Employee.employee_no == employee_no))).scalar_one()
        [issued] = await issue_codes(s, [emp], policy=policy, now=app.clock.now(), batch="test")
    return format_code(issued.code, policy)


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    if "reason" not in _pg_state:
        try:
            asyncio.run(_pg_exec("SELECT 1"))
            _pg_state["reason"] = None
        except Exception as exc:  # any failure to connect means "not here"
            _pg_state["reason"] = f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); set TEST_DATABASE_URL"
    return _pg_state["reason"]  # type: ignore[return-value]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL template database for this test run."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    name = f"abc_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def make() -> None:
        await _pg_exec(f'CREATE DATABASE "{name}"')
        engine = create_engine(PG_URL.rsplit("/", 1)[0] + f"/{name}")
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())
    yield name
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file to copy for each test."""
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"

    async def make() -> None:
        engine = create_engine(f"sqlite:///{path}")
        try:
            await migrate.upgrade(engine)
            async with engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            await engine.dispose()

    asyncio.run(make())
    return path


def _fresh_sqlite(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "bot.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    return _fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (dropped afterwards)."""
    name = f"abc_t_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh migrated database, once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen at 113-03-01 10:00 Taipei; tests move it explicitly."""
    return FrozenClock(DEFAULT_NOW)


async def _app(url: str, clock: FrozenClock) -> Runtime:
    return await build_app(base_settings(url), clock=clock, demo=True)


@pytest.fixture
async def app(db_url: str, clock: FrozenClock) -> AsyncIterator[Runtime]:
    """The app with demo data, on each database."""
    application = await _app(db_url, clock)
    yield application
    await application.close()


@pytest.fixture
async def sqlite_app(sqlite_url: str, clock: FrozenClock) -> AsyncIterator[Runtime]:
    """The app with demo data on SQLite only (conversation tests)."""
    application = await _app(sqlite_url, clock)
    yield application
    await application.close()


@pytest.fixture
def settings_for() -> object:
    """Build settings for a database URL (for CLI and bootstrap tests)."""
    return lambda url, **kw: replace(base_settings(url), **kw)


@pytest.fixture
def shared_dir() -> Path:
    """The shared reference folder (plan text, LINE specs); tests using it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (reference material lives outside the project)")
    return SHARED


# ---------------------------------------------------------------- the CLI in this process

CLI_ENV_PREFIXES = ("LINE_", "TELEGRAM_", "DATABASE_URL", "LOG_LEVEL", "LOG_FILE", "DEMO_TODAY")
"""Settings from the developer's environment that would change what a CLI test sees."""

Cli = Callable[[list[str]], subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> Callable[[str], Cli]:
    """``abc-bot ARGS`` in this process against a database URL, in ``tmp_path``.

    The settings of :data:`CLI_ENV_PREFIXES` are cleared first; each run returns its exit code and output.
    """
    from bot.cli import main

    def make(database_url: str) -> Cli:
        for name in [n for n in os.environ if n.startswith(CLI_ENV_PREFIXES)]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.chdir(tmp_path)

        def run(args: list[str]) -> subprocess.CompletedProcess[str]:
            capsys.readouterr()
            code = main(args)
            out, err = capsys.readouterr()
            return subprocess.CompletedProcess(args, code, out, err)

        return run

    return make
