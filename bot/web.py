"""The web server of ``abc-bot serve``: the LINE webhook, ``/healthz``, ``/metrics``, the outbox worker.

One asyncio process (aiohttp, which line-bot-sdk already depends on):

- ``POST /webhooks/line``: 413 for a body over 1 MiB, 400 for a missing or wrong signature or a body
  that is not a webhook document (nothing processed, counted by reason), else 200 at once; the events
  are handled after the answer (see :mod:`bot.channels.line`).
- ``GET /healthz``: 200 when the database answers, 503 when it does not.
- ``GET /metrics``: Prometheus text format (:mod:`bot.metrics`).

Shutdown (SIGTERM, SIGINT, or :meth:`WebServer.stop`): stop listening, answer 503 to webhook requests
still arriving on open connections (LINE redelivers those), finish queued events within the grace
period, stop the outbox worker after its current batch, close the connections, the SDK client and the
database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy import text

from bot.config import Settings
from bot.db.engine import once_more_if_dropped
from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.bootstrap import Runtime
    from bot.channels.line import LineChannel
    from bot.services.notices import DeliveryWorker

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
SHUTDOWN_GRACE = 20.0
PROCESSED_EVENTS_KEPT = timedelta(days=7)
PRUNE_EVERY = 3600.0
KNOWN_PATHS = ("/webhooks/line", "/healthz", "/metrics")


class WebServer:
    """The aiohttp application with its channels and background work."""

    def __init__(self, app: Runtime, metrics: Metrics, *, line: LineChannel | None = None,
                 worker: DeliveryWorker | None = None, max_body: int = MAX_BODY_BYTES,
                 grace: float = SHUTDOWN_GRACE) -> None:
        self.app = app
        self.metrics = metrics
        self.line = line
        self.worker = worker
        self.max_body = max_body
        self.grace = grace
        self.closing = False
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._prune: asyncio.Task[None] | None = None

    def application(self) -> web.Application:
        """The aiohttp application (routes and the request-counting middleware)."""
        application = web.Application(client_max_size=self.max_body, middlewares=[self._count])
        application.router.add_get("/healthz", self.healthz)
        application.router.add_get("/metrics", self.metrics_page)
        if self.line is not None:
            application.router.add_post("/webhooks/line", self.line_webhook)
        return application

    @web.middleware
    async def _count(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        path = request.path if request.path in KNOWN_PATHS else "other"
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

    async def line_webhook(self, request: web.Request) -> web.Response:
        """Verify, parse and queue a LINE webhook request; answer at once."""
        from bot.channels.line import WebhookRejected

        assert self.line is not None
        if self.closing:
            return web.Response(status=503, text="shutting down")
        if request.content_length is not None and request.content_length > self.max_body:
            return self._reject(413, "too_large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(413, "too_large")
        if self.closing:  # the stop began while the body was arriving: its events would be queued too late
            return web.Response(status=503, text="shutting down")
        try:
            await self.line.receive(body, request.headers.get("X-Line-Signature"))
        except WebhookRejected as exc:
            return self._reject(exc.status, exc.reason)
        return web.Response(text="OK")

    def _reject(self, status: int, reason: str) -> web.Response:
        self.metrics.webhooks_rejected.inc(reason)
        log.warning("LINE webhook refused status=%s reason=%s", status, reason)
        return web.Response(status=status, text=reason.replace("_", " "))

    # ------------------------------------------------------------------ life cycle

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> None:
        """Listen on ``host:port`` (0 = any free port; the chosen one is in :attr:`port`)."""
        self._runner = web.AppRunner(self.application(), handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_port=reuse_port or None)
        await site.start()
        self.port = self._runner.addresses[0][1]
        if self.worker is not None:
            self.worker.start()
        if self.line is not None:
            self._prune = asyncio.create_task(self._prune_loop())
        log.info("listening on http://%s:%s (LINE webhook: %s)", host, self.port,
                 "on" if self.line is not None else "off")

    async def stop(self) -> None:
        """Graceful shutdown (see the module docstring)."""
        self.closing = True
        started = time.monotonic()
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()
        if self.line is not None:
            await self.line.drain(self.grace)
        if self.worker is not None:
            await self.worker.stop()
        if self._prune is not None:
            self._prune.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune
        if self._runner is not None:
            await self._runner.cleanup()
        if self.line is not None:
            await self.line.close()
        log.info("stopped in %.1fs", time.monotonic() - started)

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
    """The server for an Runtime: the LINE channel when its credentials are set, and the outbox worker."""
    from bot.channels.line import CHANNEL, LineChannel
    from bot.services.notices import DeliveryWorker

    metrics = metrics or Metrics()
    line = LineChannel.from_settings(app, metrics) if app.settings.line_enabled else None
    senders = {CHANNEL: line.sender} if line is not None else {}
    worker = DeliveryWorker(app.sessions, app.clock, senders, metrics=metrics) if senders else None
    return WebServer(app, metrics, line=line, worker=worker)


def freeze_startup_objects() -> None:
    """Move what start-up built (catalog, search index, OpenCC tables, SDK and ORM classes) out of the GC's reach.

    Those objects live as long as the process, yet every full collection walked them all: in
    ``bench/webhook.py`` the loop stalled 100–140 ms each time, which was the whole p99 (160 ms with
    them, 40 ms after ``gc.freeze()``). Objects made later are collected as usual.
    """
    gc.collect()
    gc.freeze()


async def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> int:
    """Run the web server until SIGTERM or SIGINT; returns the exit code."""
    from bot.bootstrap import build_app

    if bool(settings.line_channel_secret) != bool(settings.line_channel_access_token):
        print("abc-bot serve: set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (or neither)",
              file=sys.stderr)
        return 2
    if not settings.line_enabled:
        print("abc-bot serve: no channel is configured; set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN",
              file=sys.stderr)
        return 2
    app = await build_app(settings)
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
            await stop.wait()
            log.info("stopping")
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await server.stop()
    finally:
        await app.close()
    return 0
