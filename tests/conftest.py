"""Shared fixtures: settings on a throw-away database (SQLite and PostgreSQL), the app, a frozen clock.

Each test gets its own database: a copy of a template SQLite file, or on PostgreSQL a
``CREATE DATABASE … TEMPLATE`` of a template database, dropped afterwards. There are two kinds of
template, each made once per test run: *migrated* (the empty schema: ``sqlite_url`` / ``pg_url`` /
``db_url``) and *demo* (migrated, then the catalog mirror and the demo data as ``build_app(demo=True)``
loads them at the test clock's instant: ``demo_db_url``, and so ``app`` / ``sqlite_app``). PostgreSQL is
found through ``TEST_DATABASE_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``);
when no server answers, the PostgreSQL variants are skipped with a message saying so.

Tests that use none of the database fixtures are marked ``nodb`` automatically
(:func:`pytest_collection_modifyitems`); tests using one are marked ``db``. ``make test-fast``
(``pytest -m "not db"``) runs the database-free tier alone, and such a test that opens a database or
starts a process anyway fails, saying how to mark it (:func:`_database_free`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import App, build_app
from bot.clock import FrozenClock
from bot.config import DEFAULT_DATA_DIR, Settings
from bot.db import migrate
from bot.db.engine import create_engine, is_sqlite

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


async def issue_code(app: App, employee_no: str) -> str:
    """Issue a linking code for one employee; returns it as printed for HR (with the dash)."""
    from sqlalchemy import select

    from bot.db.models import Employee
    from bot.services.binding import format_code, issue_codes, load_policy

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


def _pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL template database for this test run."""
    reason = _pg_available()
    if reason:
        pytest.skip(reason)
    name = f"abc_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def make() -> None:
        await _pg_exec(f'CREATE DATABASE "{name}"')
        engine = create_engine(_pg_url(name))
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())
    yield name
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _checkpoint(engine: AsyncEngine) -> None:
    """Fold SQLite's write-ahead log into the main file, so that copying the file copies everything."""
    async with engine.connect() as conn:
        await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file to copy for each test."""
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"

    async def make() -> None:
        engine = create_engine(f"sqlite:///{path}")
        try:
            await migrate.upgrade(engine)
            await _checkpoint(engine)
        finally:
            await engine.dispose()

    asyncio.run(make())
    return path


def _fresh_sqlite(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "bot.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@contextlib.contextmanager
def _fresh_pg(template: str) -> Iterator[str]:
    name = f"abc_t_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    return _fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (dropped afterwards)."""
    with _fresh_pg(pg_template) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` then ``postgres``: the fixtures that depend on it run a test once on each database."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh migrated database, once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url"))


@pytest.fixture
def clock() -> FrozenClock:
    """A clock frozen at 113-03-01 10:00 Taipei; tests move it explicitly."""
    return FrozenClock(DEFAULT_NOW)


# ---------------------------------------------------------------- the demo data, seeded once per run


async def _seed(url: str, now: datetime) -> None:
    """Do to the database at ``url`` what ``build_app(demo=True)`` does with a clock reading ``now``."""
    app = await build_app(base_settings(url), clock=FrozenClock(now), demo=True)
    try:
        if is_sqlite(url):
            await _checkpoint(app.engine)
    finally:
        await app.close()


class DemoTemplates:
    """Template databases holding the catalog mirror and the demo data, made on first use, kept for the run.

    What seeding writes depends on the clock: the sample classes are dated from "today", sample
    enrollments are made at a moment chosen from it, and rows carry ``created_at = now``. So a template
    is keyed by the exact instant it was seeded at: the tests at ``DEFAULT_NOW`` (all of them today)
    share one, and a test whose clock reads another instant when its database is made gets a template
    of its own, seeded at that instant (and shared with later tests at that instant).
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite: dict[datetime, Path] = {}
        self._pg: dict[datetime, str] = {}

    def sqlite(self, migrated: Path, now: datetime) -> Path:
        """The SQLite template file seeded at ``now`` (made from the ``migrated`` file the first time)."""
        if now not in self._sqlite:
            path = self._folder / f"demo-{len(self._sqlite)}.sqlite3"
            shutil.copyfile(migrated, path)
            asyncio.run(_seed(f"sqlite:///{path}", now))
            self._sqlite[now] = path
        return self._sqlite[now]

    def pg(self, migrated: str, now: datetime) -> str:
        """The PostgreSQL template database seeded at ``now`` (made from ``migrated`` the first time)."""
        if now not in self._pg:
            name = f"abc_demo_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{migrated}"'))
            try:
                asyncio.run(_seed(_pg_url(name), now))  # closes its connections: the database can be copied
            except BaseException:
                asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                raise
            self._pg[now] = name
        return self._pg[now]

    def drop(self) -> None:
        """Drop the PostgreSQL templates (the SQLite files go with pytest's temporary folder)."""
        for name in self._pg.values():
            asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._pg.clear()


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplates]:
    """The demo-data templates of this test run."""
    templates = DemoTemplates(tmp_path_factory.mktemp("demo"))
    yield templates
    templates.drop()


@pytest.fixture
def sqlite_demo_url(sqlite_template: Path, demo_templates: DemoTemplates, clock: FrozenClock,
                    tmp_path: Path) -> str:
    """A fresh SQLite database for one test, holding the demo data as seeded at ``clock.now()``."""
    return _fresh_sqlite(demo_templates.sqlite(sqlite_template, clock.now()), tmp_path)


@pytest.fixture
def pg_demo_url(pg_template: str, demo_templates: DemoTemplates, clock: FrozenClock) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, holding the demo data as seeded at ``clock.now()``."""
    with _fresh_pg(demo_templates.pg(pg_template, clock.now())) as url:
        yield url


@pytest.fixture
def demo_db_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh database with the catalog mirror and the demo data, once on SQLite and once on PostgreSQL.

    It holds what ``build_app(demo=True)`` leaves in a migrated database with the test's clock, copied
    from a template seeded once per run instead of seeding again.
    """
    return str(request.getfixturevalue("sqlite_demo_url" if backend == "sqlite" else "pg_demo_url"))


async def _app(url: str, clock: FrozenClock) -> App:
    """The app on a database that already holds the demo data (so nothing is migrated or seeded here)."""
    return await build_app(base_settings(url), clock=clock, prepare_db=False)


@pytest.fixture
async def app(demo_db_url: str, clock: FrozenClock) -> AsyncIterator[App]:
    """The app with demo data, on each database."""
    application = await _app(demo_db_url, clock)
    yield application
    await application.close()


@pytest.fixture
async def sqlite_app(sqlite_demo_url: str, clock: FrozenClock) -> AsyncIterator[App]:
    """The app with demo data on SQLite only (conversation tests)."""
    application = await _app(sqlite_demo_url, clock)
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

CLI_ENV_PREFIXES = ("LINE_", "TELEGRAM_", "DATABASE_URL", "LOG_LEVEL", "DEMO_TODAY")
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
