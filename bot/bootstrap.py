"""The one wiring point: settings → engine, catalog, rules, search, texts, dispatcher.

Nothing is built at import time. :func:`build_app` runs inside the event loop when a command starts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import migrate
from bot.db.engine import create_engine, session_factory
from bot.db.models import Employee
from bot.dispatcher import Dispatcher
from bot.intents import IntentRecognizer
from bot.services.catalog import Catalog, load_catalog
from bot.services.rules import RulesFile, load_rules
from bot.services.search import SearchEngine
from bot.texts import MessageCatalog

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything a command needs, built once."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: Catalog
    rules: RulesFile
    search: SearchEngine
    texts: MessageCatalog
    intents: IntentRecognizer
    clock: Clock
    dispatcher: Dispatcher = field(init=False)
    extras: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()


def load_static(settings: Settings) -> tuple[Catalog, RulesFile, IntentRecognizer, MessageCatalog]:
    """Load and validate every data file (fails loudly, naming the file and key)."""
    catalog = load_catalog(settings.data_dir, settings.plan_year)
    rules = load_rules(settings.data_dir, settings.plan_year)
    intents = IntentRecognizer.load(settings.data_dir / "intents.yaml")
    texts = MessageCatalog.load()
    check_feature_files(settings)
    return catalog, rules, intents, texts


def check_feature_files(settings: Settings) -> None:
    """Validate the data files that features read later, so a bad one stops the program at start-up.

    These are the enrollment settings, the binding policy and the import column mappings.
    """
    from bot.services.binding import load_policy
    from bot.services.classes import load_enrollment_settings
    from bot.services.csvio import load_mapping

    load_enrollment_settings(settings.data_dir, settings.plan_year)
    load_policy(settings.data_dir)
    for mapping in sorted((settings.data_dir / "imports").glob("*.yaml")):
        load_mapping(mapping)


async def build_app(settings: Settings, *, clock: Clock | None = None, prepare_db: bool = True,
                    demo: bool | None = False) -> App:
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

    catalog, rules, intents, texts = load_static(settings)
    engine = create_engine(settings.database_url)
    app = App(settings=settings, engine=engine, sessions=session_factory(engine), catalog=catalog,
              rules=rules, search=SearchEngine(catalog, intents.fillers), texts=texts, intents=intents,
              clock=clock or SystemClock())
    app.dispatcher = Dispatcher(app, build_routes())
    if prepare_db:
        try:
            await prepare_database(app, demo=demo)
        except BaseException:
            await engine.dispose()
            raise
    return app


@asynccontextmanager
async def running_app(settings: Settings, **kwargs: Any) -> AsyncIterator[App]:
    """Build the app for one command and close it however the command ends (``build_app`` arguments)."""
    app = await build_app(settings, **kwargs)
    try:
        yield app
    finally:
        await app.close()


async def prepare_database(app: App, *, demo: bool | None = None) -> None:
    """Migrate to the newest schema, mirror the catalog, and load demo data when asked (or when empty)."""
    from bot.services.seed import seed_demo, sync_catalog

    if await migrate.current_revisions(app.engine) != migrate.head_revisions():
        log.info("migrating database")
        await migrate.upgrade(app.engine)
    async with app.sessions.begin() as session:
        await sync_catalog(session, app.catalog, now=app.clock.now())
        if demo is None:
            demo = (await session.execute(select(func.count()).select_from(Employee))).scalar_one() == 0
        if demo:
            await seed_demo(session, app.settings.data_dir, now=app.clock.now())
