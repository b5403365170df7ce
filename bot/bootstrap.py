"""The one wiring point: settings → the loaded app, the engine, the dispatcher, the channels, the outbox worker.

Nothing is built at import time. :func:`load_app` loads and validates every data file once;
:func:`build_app` adds the database and the dispatcher inside the running event loop;
:func:`build_channels` builds the webhook channels the settings configure (:data:`CHANNELS` says how) and
:func:`build_worker` the outbox worker with one sender per channel. The web server, the CLI and the
console ask this module for what they need and build nothing themselves.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bot.app import App
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.datafiles import DataFileError
from bot.db import migrate
from bot.db.engine import create_engine, session_factory
from bot.db.models import Employee
from bot.dispatcher import Dispatcher
from bot.intents import IntentRecognizer
from bot.runtime import Runtime as Runtime  # re-exported: commands and tests name it here
from bot.services.catalog import Catalog, SearchEngine, load_catalog, load_rules, load_search_words
from bot.services.notices import DeliveryWorker
from bot.texts import MessageCatalog

if TYPE_CHECKING:
    from bot.channels.base import Channel
    from bot.metrics import Metrics
    from bot.services.catalog import RulesFile
    from bot.services.certificates import CertDeps
    from bot.services.notices import Notifier

log = logging.getLogger(__name__)


def load_app(settings: Settings, *, clock: Clock | None = None) -> App:
    """Load and validate every data file once (fails loudly, naming the file and key) into the frozen app.

    Also wires the notices seam: the handlers layer's renderer goes into the one :class:`Notifier`, after
    checking that every notice kind a service declares has a render function (``MissingRenderer`` if not).
    """
    from bot.services.accounts import load_import_limits, load_policy
    from bot.services.broadcasts import NOTICE_KINDS as BROADCAST_KINDS
    from bot.services.certificates import NOTICE_KINDS as CERT_NOTICE_KINDS
    from bot.services.classes import NOTICE_KINDS, Deps, load_enrollment_settings
    from bot.services.common import load_mapping
    from bot.services.notices import Notifier, QuietHours, require_renderers
    from bot.services.reminders import NOTICE_KINDS as REMINDER_KINDS
    from bot.services.reminders import build_reminders, load_reminders
    from handlers.notices import RENDERERS, renderer

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
    load_import_limits(settings.data_dir)  # read again by the roster import, like the mappings
    require_renderers((*NOTICE_KINDS, *REMINDER_KINDS), RENDERERS)
    require_renderers(CERT_NOTICE_KINDS, RENDERERS)
    require_renderers(BROADCAST_KINDS, RENDERERS)
    notifier = Notifier(renderer(texts, catalog, rules))
    reminders = build_reminders(load_reminders(settings.data_dir, settings.plan_year), rules, catalog,
                                QuietHours.load(settings.data_dir), notifier)
    return App(settings=settings, clock=clock or SystemClock(), catalog=catalog, rules=rules, texts=texts,
               intents=intents, search=SearchEngine(catalog, intents.fillers, load_search_words(settings.data_dir)),
               enrollment=enrollment,
               binding=load_policy(settings.data_dir), deps=Deps(catalog, texts, rules, enrollment, notifier),
               certificates=certificate_deps(settings, rules, notifier), reminders=reminders,
               insights=partial(broadcast_insights, settings))


def certificate_deps(settings: Settings, rules: RulesFile, notifier: Notifier) -> CertDeps:
    """The certificate feature's tests file, photo folder and link signer (None without a secret and base URL)."""
    from bot.services.certificates import CertDeps, MediaStore, UrlSigner, load_certificate_settings, rapidocr_reader

    signer = (UrlSigner(settings.media_url_secret.encode(), settings.public_base_url, settings.media_url_ttl_seconds)
              if settings.media_url_secret and settings.public_base_url else None)
    return CertDeps(rules=rules, settings=load_certificate_settings(settings.data_dir, settings.plan_year, rules),
                    store=MediaStore(settings.media_dir), notices=notifier, signer=signer,
                    retention_days=settings.media_retention_days,
                    ocr=rapidocr_reader() if settings.ocr_prefill else None)


def catalog_names(catalog: Catalog) -> list[str]:
    """The course words of the catalog (titles in both languages, aliases): examples of text to search."""
    return [name for item in catalog for name in (item.title, item.title_en, *item.aliases)]


async def build_app(settings: Settings, *, clock: Clock | None = None, prepare_db: bool = True,
                    demo: bool | None = False, settle: bool = True) -> Runtime:
    """Build the application.

    Args:
        settings: the loaded settings.
        clock: the clock to use (tests pass a frozen one).
        prepare_db: migrate the database and load the catalog if needed.
        demo: load the demo data; None means "only when the database has no employees yet" (the
            console chat), False (the default) never: a server or an HR command pointed at an empty
            production database must not fill it with sample people.
        settle: end the start-up (:func:`end_of_startup`) once built; ``serve`` says False and ends it
            itself after building its channels.
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
    if settle:
        end_of_startup()
    return runtime


def end_of_startup() -> None:
    """Collect once, freeze what start-up built, and turn the garbage collector back on, if ``abc-bot`` paused it.

    ``bot.cli.main`` pauses the cyclic collector while the program imports and loads: start-up makes a few
    hundred thousand objects (modules, classes, the catalog, the indexes) that live as long as the
    process, and each automatic full collection walked all of them again, about a fifth of a start's CPU
    (``bench/startup.py``). One collection here frees what start-up threw away; ``gc.freeze()`` then puts
    the survivors out of the collector's reach, so later collections walk only what came after. Does
    nothing where the collector is on (tests, or any caller that did not pause it).
    """
    if gc.isenabled():
        return
    gc.collect()
    gc.freeze()
    gc.enable()


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


# ---------------------------------------------------------------------------------------- channels


@dataclass(frozen=True)
class ChannelSetup:
    """How one webhook channel is configured and built; adding a channel is one more entry in :data:`CHANNELS`."""

    name: str
    credentials: tuple[str, ...]
    """The settings it needs, all of them (their environment variables are the same names in upper case)."""
    build: Callable[[Runtime, Metrics], Channel]
    """Builds the channel and its SDK client (inside the running loop)."""

    @property
    def variables(self) -> tuple[str, ...]:
        """The environment variables of its credentials."""
        return tuple(name.upper() for name in self.credentials)

    def configured(self, settings: Settings) -> bool:
        """True when every credential is set."""
        return all(getattr(settings, name) for name in self.credentials)

    def half_configured(self, settings: Settings) -> bool:
        """True when some credentials are set but not all: a mistake the server refuses to start with."""
        return any(getattr(settings, name) for name in self.credentials) and not self.configured(settings)


def _line(runtime: Runtime, metrics: Metrics) -> Channel:
    from bot.channels.line import LineChannel

    return LineChannel.from_settings(runtime, metrics)


def _telegram(runtime: Runtime, metrics: Metrics) -> Channel:
    from bot.channels.telegram import TelegramChannel

    return TelegramChannel.from_settings(runtime, metrics)


CHANNELS: tuple[ChannelSetup, ...] = (
    ChannelSetup("line", ("line_channel_secret", "line_channel_access_token"), _line),
    ChannelSetup("telegram", ("telegram_bot_token", "telegram_webhook_secret"), _telegram),
)
"""The webhook channels ``abc-bot serve`` can run, in the order they are started."""


def configured_channels(settings: Settings) -> list[ChannelSetup]:
    """The webhook channels whose credentials are all set (``abc-bot run`` serves when there is one)."""
    return [setup for setup in CHANNELS if setup.configured(settings)]


def channel_settings_problem(settings: Settings) -> str | None:
    """Why ``abc-bot serve`` cannot start with these settings (a channel set up half-way, or none), or None."""
    for setup in CHANNELS:
        if setup.half_configured(settings):
            names = " and ".join(setup.variables)
            return f"set both {names} (or neither)" if len(setup.variables) == 2 else f"set all of {names} (or none)"
    if not configured_channels(settings):
        wanted = " or ".join(" and ".join(setup.variables) for setup in CHANNELS)
        return f"no channel is configured; set {wanted}"
    return None


def build_channels(runtime: Runtime, metrics: Metrics) -> list[Channel]:
    """The webhook channels the settings configure, built with their SDK clients (inside the running loop)."""
    return [setup.build(runtime, metrics) for setup in configured_channels(runtime.settings)]


def build_worker(runtime: Runtime, channels: Sequence[Channel], *, metrics: Metrics | None = None,
                 account_ids: frozenset[int] | None = None,
                 poll_interval: float | None = None) -> DeliveryWorker | None:
    """The outbox worker with one sender per channel (None without channels).

    Args:
        runtime: the built app.
        channels: the channels whose rows it delivers, each through its ``sender``.
        metrics: where it counts deliveries.
        account_ids: only rows for these accounts (the console chat delivers to its own user only).
        poll_interval: seconds between looks at the outbox when idle (default: the worker's).
    """
    if not channels:
        return None
    options: dict[str, Any] = {} if poll_interval is None else {"poll_interval": poll_interval}
    if account_ids is None:
        options["batches"] = broadcast_deliverers(runtime, channels)
    reminders = runtime.app.reminders
    if reminders is not None:  # checked again just before delivery; held back during quiet hours
        options.update(checks=reminders.checks(), quiet=reminders.ctx.quiet)
    return DeliveryWorker(runtime.sessions, runtime.clock, {channel.name: channel.sender for channel in channels},
                          metrics=metrics, account_ids=account_ids, **options)


def broadcast_deliverers(runtime: Runtime, channels: Sequence[Channel]) -> list[Any]:
    """The announcements' chunk deliverer over the channels whose sender can multicast (``deliver_many``)."""
    from bot.services.broadcasts import ChunkDeliverer

    senders = {c.name: c.sender for c in channels if hasattr(c.sender, "deliver_many")}
    if not senders:
        return []
    return [ChunkDeliverer(runtime.sessions, runtime.clock, senders,  # type: ignore[arg-type]
                           runtime.app.deps.notices.render)]


@asynccontextmanager
async def broadcast_insights(settings: Settings) -> AsyncIterator[Any]:
    """LINE's quota and statistics for the broadcast commands (None when LINE is not configured)."""
    if not settings.line_channel_access_token:
        yield None
        return
    from bot.channels.line_client import LineClient
    from bot.channels.line_insights import LineInsights

    client = LineClient(settings.line_channel_access_token, settings.line_api_base_url)
    insights = LineInsights(client)
    try:
        yield insights
    finally:
        await insights.close()
        await client.close()
