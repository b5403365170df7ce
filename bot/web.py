"""The web server of ``abc-bot serve``: the channels' webhooks, ``/healthz``, ``/metrics``, the outbox worker.

One asyncio process (aiohttp, which line-bot-sdk already depends on). The server knows no chat
platform: :mod:`bot.bootstrap` builds the channels the settings configure (:class:`bot.channels.base.Channel`)
and the outbox worker with one sender per channel, and the server mounts each channel's routes (LINE:
``POST /webhooks/line``, see :mod:`bot.channels.line`) next to its own:

- ``GET /healthz``: 200 when the database answers, 503 when it does not.
- ``GET /metrics``: Prometheus text format (:mod:`bot.metrics`).
- ``GET /media/claims/…``: a certificate photo at a signed, expiring link (:mod:`bot.web_media`).
- ``GET /media/announcements/…``: an announcement's picture at a signed link (:mod:`bot.web_media`).
- anything else: 404.

Shutdown (SIGTERM, SIGINT, or :meth:`WebServer.stop`): stop listening, answer 503 to webhook requests
still arriving on open connections (the platforms send them again), let the outbox worker finish its
batch (it sends through the channels' clients), let each channel finish its queued events within the
grace period and close its SDK client, then close the connections and the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot import web_media
from bot.channels.base import DEFAULT_MAX_BODY, shutting_down
from bot.config import Settings
from bot.db.engine import once_more_if_dropped
from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.bootstrap import Runtime
    from bot.channels.base import Channel, Handler
    from bot.services.notices import DeliveryWorker

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 20.0
PROCESSED_EVENTS_KEPT = timedelta(days=7)
PRUNE_EVERY = 3600.0
OWN_PATHS = ("/healthz", "/metrics")
HEADER_TIMEOUT = 15.0
"""Seconds a connection may stay without a complete request (headers) before it is closed."""


class WebServer:
    """The aiohttp application with its channels and background work."""

    def __init__(self, app: Runtime, metrics: Metrics, *, channels: Sequence[Channel] = (),
                 worker: DeliveryWorker | None = None, grace: float = SHUTDOWN_GRACE,
                 header_timeout: float = HEADER_TIMEOUT) -> None:
        self.app = app
        self.metrics = metrics
        self.channels = tuple(channels)
        self.worker = worker
        self.grace = grace
        self.header_timeout = header_timeout
        self.closing = False
        self.port = 0
        self._routes = [route for channel in self.channels for route in channel.routes()]
        self._known_paths = frozenset((*OWN_PATHS, *(route.path for route in self._routes)))
        self._runner: web.AppRunner | None = None
        self._prune: asyncio.Task[None] | None = None

    def application(self) -> web.Application:
        """The aiohttp application (routes and the request-counting middleware)."""
        max_body = max((route.max_body for route in self._routes), default=DEFAULT_MAX_BODY)
        application = web.Application(client_max_size=max_body, middlewares=[self._count])
        application.router.add_get("/healthz", self.healthz)
        application.router.add_get("/metrics", self.metrics_page)
        application.router.add_get(web_media.ROUTE, web_media.photo_handler(self.app))  # signed photo links
        application.router.add_get(web_media.ANNOUNCEMENT_ROUTE, web_media.announcement_image_handler(self.app))
        for route in self._routes:
            application.router.add_route(route.method, route.path, self._while_open(route.handler))
        return application

    def _while_open(self, handler: Handler) -> Handler:
        """A channel's handler, answered 503 once the server began to stop."""
        async def guarded(request: web.Request) -> web.StreamResponse:
            if self.closing:
                return shutting_down()
            return await handler(request)

        return guarded

    @web.middleware
    async def _count(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        path = request.path if request.path in self._known_paths else "other"
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self.metrics.requests.inc(path, str(exc.status))
            raise
        self.metrics.requests.inc(path, str(response.status))
        return response

    # ------------------------------------------------------------------ routes

    async def healthz(self, request: web.Request) -> web.Response:
        """200 when the database answers within 3 seconds, else 503.

        A pooled connection the database had dropped fails once and is discarded (connections are not
        pinged before use); the check then asks again on a new one.
        """
        try:
            async with asyncio.timeout(3):
                await once_more_if_dropped(self._select_one)
        except Exception as exc:
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def _select_one(self) -> None:
        async with self.app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def metrics_page(self, request: web.Request) -> web.Response:
        """The Prometheus text exposition."""
        return web.Response(text=self.metrics.render(), content_type="text/plain",
                            headers={"X-Content-Format": "prometheus 0.0.4"})

    # ------------------------------------------------------------------ life cycle

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> None:
        """Start the channels, then listen on ``host:port`` (0 = any free port; the chosen one is in :attr:`port`)."""
        for channel in self.channels:
            await channel.start()
        from bot.logsafe import ShortHttpErrors, install

        install("aiohttp.server", ShortHttpErrors())  # malformed HTTP: one short line, never a traceback
        # keepalive_timeout also bounds how long a connection may take to send a request's headers (aiohttp
        # closes a connection still waiting for a whole request then): a byte-at-a-time client is cut off.
        self._runner = web.AppRunner(self.application(), handle_signals=False, access_log=None,
                                     keepalive_timeout=self.header_timeout)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self.worker is not None:
            self.worker.start()
        if self.channels:
            self._prune = asyncio.create_task(self._prune_loop())
        log.info("listening on http://%s:%s (channels: %s)", host, self.port,
                 ", ".join(channel.name for channel in self.channels) or "none")

    async def stop(self) -> None:
        """Graceful shutdown (see the module docstring)."""
        self.closing = True
        started = time.monotonic()
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()
        if self.worker is not None:
            await self.worker.stop()
        await self._stop_channels()
        if self._prune is not None:
            self._prune.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune
        if self._runner is not None:
            await self._runner.cleanup()
        log.info("stopped in %.1fs", time.monotonic() - started)

    async def _stop_channels(self) -> None:
        """Stop every channel at once (each within the grace period); one that fails does not keep the others."""
        results = await asyncio.gather(*(channel.stop(self.grace) for channel in self.channels),
                                       return_exceptions=True)
        for channel, result in zip(self.channels, results, strict=True):
            if isinstance(result, BaseException):
                log.error("stopping the %s channel failed (%s)", channel.name, type(result).__name__)

    async def _prune_loop(self) -> None:
        """Forget processed webhook event ids after a week (LINE redelivers within hours)."""
        from bot.db.events import forget_events

        while True:
            try:
                async with self.app.sessions.begin() as session:
                    await forget_events(session, before=self.app.clock.now() - PROCESSED_EVENTS_KEPT)
            except Exception as exc:
                log.warning("pruning processed events failed (%s)", type(exc).__name__)
            await asyncio.sleep(PRUNE_EVERY)


async def build_server(app: Runtime, metrics: Metrics | None = None) -> WebServer:
    """The server for a Runtime: the channels the settings configure and the outbox worker, both from bootstrap."""
    from bot.bootstrap import build_channels, build_worker

    metrics = metrics or Metrics()
    channels = build_channels(app, metrics)
    return WebServer(app, metrics, channels=channels, worker=build_worker(app, channels, metrics=metrics))


def freeze_startup_objects() -> None:
    """Move what start-up built (catalog, search index, OpenCC tables, SDK and ORM classes) out of the GC's reach.

    Those objects live as long as the process, yet every full collection walked them all: in
    ``bench/webhook.py`` the loop stalled 100–140 ms each time, which was the whole p99 (160 ms with
    them, 40 ms after ``gc.freeze()``). Objects made later are collected as usual. The collector, which
    ``abc-bot`` pauses during start-up (:func:`bot.bootstrap.end_of_startup`), runs again from here.
    """
    gc.collect()
    gc.freeze()
    gc.enable()


async def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> int:
    """Run the web server until SIGTERM or SIGINT; returns the exit code."""
    from bot.bootstrap import build_app, channel_settings_problem

    problem = channel_settings_problem(settings)
    if problem is not None:
        print(f"abc-bot serve: {problem}", file=sys.stderr)
        return 2
    app = await build_app(settings, settle=False)
    try:
        server = await build_server(app)
        freeze_startup_objects()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        address = (host or settings.host, settings.port if port is None else port)
        try:
            try:
                await server.start(*address)
            except OSError as exc:
                print(f"abc-bot serve: cannot listen on {address[0]}:{address[1]}: {exc.strerror or exc}",
                      file=sys.stderr)
                return 1
            runner = None
            if settings.scheduler:  # the reminders' scheduler; stands by while another process leads
                from bot.scheduler import SchedulerRunner

                runner = SchedulerRunner(app, on_queued=server.worker.wake if server.worker else None)
                runner.start()
            await stop.wait()
            if runner is not None:
                await runner.stop()
            log.info("stopping")
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await server.stop()
    finally:
        await app.close()
    return 0
