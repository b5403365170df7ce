"""The one wiring point: settings → the loaded app, the engine, the dispatcher, the channels.

Nothing is built at import time. :func:`load_app` loads and validates every data file once;
:func:`build_app` adds the database and the dispatcher inside the running event loop. The web server,
the CLI and the console ask this module for what they need and build nothing themselves.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.datafiles import DataFileError
from bot.db import migrate
from bot.db.engine import create_engine, session_factory
from bot.db.models import Employee
from bot.dispatcher import Dispatcher
from bot.intents import IntentRecognizer
from bot.services.catalog import Catalog, RulesFile, SearchEngine, load_catalog, load_rules
from bot.texts import MessageCatalog

log = logging.getLogger(__name__)


def load_app(settings: Settings, *, clock: Clock | None = None) -> App:
    """Load and validate every data file once (fails loudly, naming the file and key) into the frozen app."""
    from bot.services.accounts import load_policy
    from bot.services.classes import Deps, load_enrollment_settings
    from bot.services.common import load_mapping

    catalog = load_catalog(settings.data_dir, settings.plan_year)
    rules = load_rules(settings.data_dir, settings.plan_year)
    intents = IntentRecognizer.load(settings.data_dir / "intents.yaml", search_names=catalog_names(catalog),
                                    cache_dir=settings.model_cache_dir)
    texts = MessageCatalog.load()
    known = texts.keys()
    missing = sorted(k for k in (intents.label_key(n) for n in intents.names) if k and k not in known)
    if missing:
        raise DataFileError(f"{settings.data_dir / 'intents.yaml'}: labels with no text: {', '.join(missing)}")
    enrollment = load_enrollment_settings(settings.data_dir, settings.plan_year)
    for mapping in sorted((settings.data_dir / "imports").glob("*.yaml")):
        load_mapping(mapping)  # read again by each import (HR's --mapping lays over it); checked here at start-up
    return App(settings=settings, clock=clock or SystemClock(), catalog=catalog, rules=rules, texts=texts,
               intents=intents, search=SearchEngine(catalog, intents.fillers), enrollment=enrollment,
               binding=load_policy(settings.data_dir), deps=Deps(catalog, texts, rules, enrollment))


def catalog_names(catalog: Catalog) -> list[str]:
    """The course words of the catalog (titles in both languages, aliases): examples of text to search."""
    return [name for item in catalog for name in (item.title, item.title_en, *item.aliases)]


@dataclass
class Runtime:
    """The loaded app with its database and dispatcher: what a running command holds."""

    app: App
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher

    @property
    def settings(self) -> Settings:
        """The settings the app was loaded with."""
        return self.app.settings

    @property
    def clock(self) -> Clock:
        """The app's clock."""
        return self.app.clock

    @property
    def texts(self) -> MessageCatalog:
        """The message catalog."""
        return self.app.texts

    @property
    def catalog(self) -> Catalog:
        """The plan year's catalog."""
        return self.app.catalog

    @property
    def rules(self) -> RulesFile:
        """The plan year's rules."""
        return self.app.rules

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()


async def build_app(settings: Settings, *, clock: Clock | None = None, prepare_db: bool = True,
                    demo: bool | None = False) -> Runtime:
    """Build the application.

    Args:
        settings: the loaded settings.
        clock: the clock to use (tests pass a frozen one).
        prepare_db: migrate the database and load the catalog if needed.
        demo: load the demo data; None means "only when the database has no employees yet" (the
            console chat), False (the default) never: a server or an HR command pointed at an empty
            production database must not fill it with sample people.
    """
    from handlers import build_routes

    app = load_app(settings, clock=clock)
    routes = build_routes()
    unrouted = app.intents.names - set(routes.intents)
    if unrouted:
        path = settings.data_dir / "intents.yaml"
        raise DataFileError(f"{path}: rules no feature answers: {', '.join(sorted(unrouted))}")
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    dispatcher = Dispatcher(sessions=sessions, clock=app.clock, texts=app.texts, intents=app.intents,
                            default_lang=settings.default_lang, routes=routes, app=app)
    runtime = Runtime(app=app, engine=engine, sessions=sessions, dispatcher=dispatcher)
    if prepare_db:
        try:
            await prepare_database(runtime, demo=demo)
        except BaseException:
            await engine.dispose()
            raise
    return runtime


@asynccontextmanager
async def running_app(settings: Settings, **kwargs: Any) -> AsyncIterator[Runtime]:
    """Build the app for one command and close it however the command ends (``build_app`` arguments)."""
    runtime = await build_app(settings, **kwargs)
    try:
        yield runtime
    finally:
        await runtime.close()


async def prepare_database(runtime: Runtime, *, demo: bool | None = None) -> None:
    """Migrate to the newest schema, mirror the catalog, and load demo data when asked (or when empty)."""
    from bot.services.catalog import sync_catalog
    from bot.services.demo import seed_demo

    app = runtime.app
    if await migrate.current_revisions(runtime.engine) != migrate.head_revisions():
        log.info("migrating database")
        await migrate.upgrade(runtime.engine)
    async with runtime.sessions.begin() as session:
        await sync_catalog(session, app.catalog, now=app.clock.now())
        if demo is None:
            demo = (await session.execute(select(func.count()).select_from(Employee))).scalar_one() == 0
        if demo:
            await seed_demo(session, app.settings.data_dir, now=app.clock.now(), deps=app.deps)
