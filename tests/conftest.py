"""Shared fixtures: settings on a throw-away database (SQLite and PostgreSQL), the app, a frozen clock.

Each test gets its own database: a copy of a template SQLite file, or on PostgreSQL a
``CREATE DATABASE … TEMPLATE`` of a template database, dropped afterwards. There are two kinds of
template, each made once per test run: *migrated* (the empty schema: ``sqlite_url`` / ``pg_url`` /
``db_url``) and *demo* (migrated, then the catalog mirror and the demo data as ``build_app(demo=True)``
loads them at the test clock's instant: ``demo_db_url``, and so ``app`` / ``sqlite_app``). PostgreSQL is
found through ``TEST_DATABASE_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``);
when no server answers, the PostgreSQL variants are skipped with a message saying so.

Tests using a database fixture are marked ``db`` (:func:`pytest_collection_modifyitems`); tests that
make their own database or run the bot as a process are marked ``db`` by hand. ``make test-fast``
(``pytest -m "not db"``) runs the others, the database-free tier, alone; a test of that tier that
opens a database or starts a process fails, saying how to mark it (:func:`_database_free`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import bootstrap
from bot.app import App as AppData
from bot.bootstrap import Runtime, build_app
from bot.clock import Clock, FrozenClock, SystemClock
from bot.config import DEFAULT_DATA_DIR, Settings
from bot.db import engine as engine_module
from bot.db import migrate
from bot.db.engine import create_engine, is_sqlite

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
# 2024-03-01 10:00 Taipei: inside plan year 113.
DEFAULT_NOW = datetime(2024, 3, 1, 2, 0, tzinfo=UTC)
T = TypeVar("T")


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


def _pg_url(name: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


async def _drop_pg_all(names: list[str]) -> None:
    """Drop these databases all at once (each DROP waits for a checkpoint; issued together they share one)."""
    await asyncio.gather(*(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)') for name in names))


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
    asyncio.run(_drop_pg_all([name]))


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


async def _seed(url: str, now: datetime) -> None:
    """Do to the database at ``url`` what ``build_app(demo=True)`` does with a clock reading ``now``."""
    app = await build_app(base_settings(url), clock=FrozenClock(now), demo=True)
    try:
        if is_sqlite(url):
            await _checkpoint(app.engine)
    finally:
        await app.close()  # no connection left: a PostgreSQL template must have none to be copied


class PgDatabases:
    """PostgreSQL databases for tests: copies of a template, made one test ahead, dropped in batches after use.

    On a server shared with other work, ``CREATE DATABASE … TEMPLATE`` takes from a tenth of a second
    to seconds and ``DROP DATABASE`` about a second, since each drop waits for a checkpoint (measured
    on this machine: 8 drops one after another 9 s, the same 8 at once 2 s, as they share checkpoints).
    So an event loop on a thread of its own copies the next database while a test runs, and drops
    used databases :data:`DROP_BATCH` at a time, all at once, while later tests run. Each test still
    gets a database of its own, copied from the template and used by no other test; the last ones are
    dropped when the run ends. The demo templates live here too, so that :meth:`close` drops them
    only once nothing is being copied from them.
    """

    DROP_BATCH = 8

    def __init__(self, migrated: str) -> None:
        self.migrated = migrated
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-databases", daemon=True)
        self._thread.start()
        self._ahead: dict[str, Future[str]] = {}
        self._used: list[str] = []
        self._drops: list[Future[None]] = []
        self._demo: dict[datetime, str] = {}

    def _submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _copy(self, template: str) -> Future[str]:
        async def create(name: str) -> str:
            await _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return name

        return self._submit(create(f"abc_t_{uuid.uuid4().hex[:10]}"))

    def _drop_used(self) -> None:
        names, self._used = self._used, []
        if names:
            self._drops.append(self._submit(_drop_pg_all(names)))

    def take(self, template: str) -> str:
        """A fresh database copied from ``template`` (made ahead if possible); the next copy starts."""
        future = self._ahead.pop(template, None) or self._copy(template)
        self._ahead[template] = self._copy(template)
        return future.result()

    def give_back(self, name: str) -> None:
        """A test is done with its database: drop it with the next batch."""
        self._used.append(name)
        if len(self._used) >= self.DROP_BATCH:
            self._drop_used()

    def demo_template(self, now: datetime) -> str:
        """The template database with the demo data as seeded at ``now`` (see :class:`SqliteDemoTemplates`)."""
        if now not in self._demo:
            name = f"abc_demo_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.migrated}"'))
            try:
                asyncio.run(_seed(_pg_url(name), now))
            except BaseException:
                asyncio.run(_drop_pg_all([name]))
                raise
            self._demo[now] = name
        return self._demo[now]

    def close(self) -> None:
        """Drop every database left (copies made ahead, the last batch, the demo templates); fail if one was not."""
        try:
            for future in self._ahead.values():
                if future.exception() is None:
                    self._used.append(future.result())
            self._ahead.clear()
            self._drop_used()
            for drop in self._drops:
                drop.result()
            self._submit(_drop_pg_all(list(self._demo.values()))).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()


@pytest.fixture(scope="session")
def pg_databases(pg_template: str) -> Iterator[PgDatabases]:
    """The PostgreSQL databases of this run (skips, with the reason, when no server answers)."""
    databases = PgDatabases(pg_template)
    yield databases
    databases.close()


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    return _fresh_sqlite(sqlite_template, tmp_path)


@pytest.fixture
def pg_url(pg_databases: PgDatabases) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (dropped afterwards)."""
    name = pg_databases.take(pg_databases.migrated)
    yield _pg_url(name)
    pg_databases.give_back(name)


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


class SqliteDemoTemplates:
    """SQLite template files holding the catalog mirror and the demo data, made on first use, kept for the run.

    What seeding writes depends on the clock: the sample classes are dated from "today", sample
    enrollments are made at a moment chosen from it, and rows carry ``created_at = now``. So a template
    (here, and :meth:`PgDatabases.demo_template`) is keyed by the exact instant it was seeded at: the
    tests at ``DEFAULT_NOW`` (all of them today) share one, and a test whose clock reads another
    instant when its database is made gets a template of its own, seeded at that instant.
    """

    def __init__(self, folder: Path, migrated: Path) -> None:
        self._folder = folder
        self._migrated = migrated
        self._files: dict[datetime, Path] = {}

    def template(self, now: datetime) -> Path:
        """The template file seeded at ``now`` (a copy of the migrated file, seeded, the first time)."""
        if now not in self._files:
            path = self._folder / f"demo-{len(self._files)}.sqlite3"
            shutil.copyfile(self._migrated, path)
            asyncio.run(_seed(f"sqlite:///{path}", now))
            self._files[now] = path
        return self._files[now]


@pytest.fixture(scope="session")
def sqlite_demo_templates(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> SqliteDemoTemplates:
    """The SQLite demo templates of this run (files in pytest's temporary folder)."""
    return SqliteDemoTemplates(tmp_path_factory.mktemp("demo"), sqlite_template)


@pytest.fixture
def sqlite_demo_url(sqlite_demo_templates: SqliteDemoTemplates, clock: FrozenClock, tmp_path: Path) -> str:
    """A fresh SQLite database for one test, holding the demo data as seeded at ``clock.now()``."""
    return _fresh_sqlite(sqlite_demo_templates.template(clock.now()), tmp_path)


@pytest.fixture
def pg_demo_url(pg_databases: PgDatabases, clock: FrozenClock) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, holding the demo data as seeded at ``clock.now()``."""
    name = pg_databases.take(pg_databases.demo_template(clock.now()))
    yield _pg_url(name)
    pg_databases.give_back(name)


@pytest.fixture
def demo_db_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A fresh database with the catalog mirror and the demo data, once on SQLite and once on PostgreSQL.

    It holds what ``build_app(demo=True)`` leaves in a migrated database with the test's clock, copied
    from a template seeded once per run instead of seeding again.
    """
    return str(request.getfixturevalue("sqlite_demo_url" if backend == "sqlite" else "pg_demo_url"))


_load_app = bootstrap.load_app
_loaded: dict[tuple[Path, int], AppData] = {}


def _load_app_once(settings: Settings, *, clock: Clock | None = None) -> AppData:
    """``load_app`` of the repo's data files, read and validated once per run (a third of a second each time).

    The fixtures' apps share what was loaded (it is frozen; no test writes into ``data/``: tests of bad
    data files use copies in ``tmp_path``, which are read anew); each gets its own settings and clock.
    """
    if settings.data_dir != DEFAULT_DATA_DIR:
        return _load_app(settings, clock=clock)
    key = (settings.data_dir, settings.plan_year)
    if key not in _loaded:
        _loaded[key] = _load_app(settings, clock=clock)
    return replace(_loaded[key], settings=settings, clock=clock or SystemClock())


async def _app(url: str, clock: FrozenClock) -> Runtime:
    """The app on a database that already holds the demo data (so nothing is migrated or seeded here)."""
    with mock.patch.object(bootstrap, "load_app", _load_app_once):
        return await build_app(base_settings(url), clock=clock, prepare_db=False)


@pytest.fixture
async def app(demo_db_url: str, clock: FrozenClock) -> AsyncIterator[Runtime]:
    """The app with demo data, on each database."""
    application = await _app(demo_db_url, clock)
    yield application
    await application.close()


@pytest.fixture
async def sqlite_app(sqlite_demo_url: str, clock: FrozenClock) -> AsyncIterator[Runtime]:
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


# ---------------------------------------------------------------- the database-free tier

DB_FIXTURES = frozenset({"sqlite_template", "pg_template", "backend", "cli_for"})
"""Fixtures every database fixture depends on (``cli_for`` runs the CLI on a database): a test using one is ``db``."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``db`` every test that uses a database fixture, directly or through another fixture."""
    for item in items:
        if DB_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


class NotDatabaseFree(Exception):
    """A test not marked ``db`` opened a database or started a process."""


@pytest.fixture(autouse=True)
def _database_free(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the tier honest: a test not marked ``db`` may open no database and start no process.

    Such a test fails (in ``make test`` too), saying what to do: use a database fixture, or mark the
    test (or its module, ``pytestmark = pytest.mark.db``) when it makes its own database or process.
    """
    if request.node.get_closest_marker("db") is not None:
        return

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*_args: Any, **_kwargs: Any) -> Any:
            raise NotDatabaseFree(f"{request.node.nodeid} {what} but is not marked db: use a database fixture, "
                                  "or mark it @pytest.mark.db (it then leaves the fast tier, make test-fast)")
        return refused

    monkeypatch.setattr(engine_module, "create_async_engine", refuse("opens a database"))
    monkeypatch.setattr(sqlite3, "connect", refuse("opens a SQLite file"))
    monkeypatch.setattr(subprocess, "Popen", refuse("starts a process"))


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

    # One instant for the whole test: a seed and a command either side of midnight in Taipei would see
    # two different "today"s (the demo's dates are relative to it) and disagree.
    instant = datetime.now(UTC)
    monkeypatch.setattr(SystemClock, "now", lambda self: instant)

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
