"""What a running command holds: the loaded app with its database and its dispatcher.

:func:`bot.bootstrap.build_app` builds it. It lives in its own module, not in bootstrap, so that the
channels bootstrap builds can name it without importing bootstrap back (the import graph has no cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App
from bot.clock import Clock
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.services.catalog import Catalog, RulesFile
from bot.texts import MessageCatalog


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
