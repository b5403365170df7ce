"""The LINE channel: webhook intake (signature, parsing, per-user queues) and events → the dispatcher.

The modules of the channel, by reason to change (only ``bot/channels/line*`` import ``linebot``):
this one (the :class:`~bot.channels.base.Channel` implementation, intake and events),
:mod:`~bot.channels.line_client` (the SDK client and the content download),
:mod:`~bot.channels.line_sender` (reply versus push, retry keys, 409), :mod:`~bot.channels.line_render`
(replies → LINE messages) and :mod:`~bot.channels.line_richmenu`. The flow of one webhook request (see
docs/line.md):

1. :meth:`LineChannel.webhook` (``POST /webhooks/line``) caps the body at 1 MiB (413) and hands it with
   the ``X-Line-Signature`` header to :meth:`LineChannel.receive`: the signature is checked in constant
   time before anything is parsed (400); the body is parsed with the v3 ``WebhookParser`` (events the SDK
   cannot read are logged by type only and acknowledged). Each event is queued for its user and the
   request is answered 200 straight away; once the channel stops, requests are answered 503.
2. :class:`~bot.channels.queues.UserQueues` runs events with bounded concurrency, one at a time per user
   (in arrival order).
3. :meth:`LineChannel.handle_event` turns an event into an :class:`IncomingMessage` (fetching an image
   through the content API with a size cap) and calls the dispatcher with the event's
   ``webhookEventId``: the id is stored in the handler's own transaction (on SQLite claimed just before,
   in batches), so a redelivered event (also one arriving at another server process) is answered once.
4. :class:`~bot.channels.line_sender.LineSender` answers; it is also the outbox worker's LINE sender.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import aiohttp.http_exceptions
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from linebot.v3 import WebhookParser
from linebot.v3.models.events import UnknownEvent  # what the parser returns for what it cannot read
from linebot.v3.webhooks import (
    Event,
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)

from bot.channels.base import DEFAULT_MAX_BODY, Route, shutting_down
from bot.channels.line_checks import MAX_POSTBACK, event_problem, reply_token, safe_text
from bot.channels.line_client import API_ERRORS, LineClient, status_of
from bot.channels.line_render import render
from bot.channels.line_sender import LineSender
from bot.channels.queues import UserQueues
from bot.conversation import MAX_IMAGE_BYTES, IncomingMessage, MessageKind
from bot.db.engine import is_sqlite
from bot.db.events import EventLedger
from bot.logsafe import SafeRecords, install

FILE_SUFFIXES = frozenset({"jpg", "jpeg", "png", "webp", "heic", "heif", "pdf"})
"""File names a LINE file message may have to be fetched as a certificate photo (the bytes decide after)."""

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

CHANNEL = "line"
WEBHOOK_PATH = "/webhooks/line"
MAX_BODY_BYTES = DEFAULT_MAX_BODY
"""The largest webhook body accepted (1 MiB; LINE's own are far smaller); larger ones are answered 413."""
LOADING_AFTER = 1.0
"""Seconds of handling after which the user sees LINE's loading animation."""
BODY_TIMEOUT = 10.0
"""Seconds a webhook body may take to arrive (LINE sends it at once); a slower one is answered 408."""
SDK_LOGGER = "linebot"
"""The SDK's logger: it logs ``Unknown event type. type=<raw>`` (CR/LF and megabytes included) without a filter."""


def signature_of(body: bytes, secret: str) -> str:
    """``X-Line-Signature`` of a raw body: base64 of HMAC-SHA256 keyed with the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_ok(body: bytes, signature: str | None, secret: str) -> bool:
    """Constant-time check of a webhook signature (a missing one is wrong)."""
    if not signature:
        return False
    # A header with bytes that are not UTF-8 arrives with surrogate escapes: wrong, not a crash.
    given = signature.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(signature_of(body, secret).encode(), given)


class WebhookRejected(Exception):
    """A webhook request refused as a whole; ``status`` is the HTTP answer, ``reason`` the metric label."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Event:
    event: Event
    received_at: float


def _type_label(kind: object) -> str:
    """An event type fit for logs and metric labels (never user content)."""
    text = str(kind or "unknown")
    return text if len(text) <= 32 and text.replace("_", "").isalnum() else "invalid"


def _event_type(event: Any) -> str:
    return _type_label(getattr(event, "type", None))


class LineChannel:
    """Receives LINE webhooks and answers them (see the module docstring); a :class:`~bot.channels.base.Channel`."""

    def __init__(self, app: Runtime, metrics: Metrics, *, secret: str, client: LineClient,
                 sender: LineSender | None = None, concurrency: int = 32, max_image_bytes: int = MAX_IMAGE_BYTES,
                 loading_after: float = LOADING_AFTER, max_body: int = MAX_BODY_BYTES,
                 body_timeout: float = BODY_TIMEOUT) -> None:
        self.app = app
        self.metrics = metrics
        self.secret = secret
        self.client = client
        self._sender = sender or LineSender(client, metrics)
        self.parser = WebhookParser(secret, skip_signature_verification=lambda: True)  # checked before
        install(SDK_LOGGER, SafeRecords())
        self.queues = UserQueues(concurrency=concurrency, label="LINE")
        self.max_image_bytes = max_image_bytes
        self.loading_after = loading_after
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.closing = False
        """Set when the channel begins to stop: webhook requests are then answered 503 (LINE redelivers)."""
        self._loading_tasks: set[asyncio.Task[None]] = set()
        # SQLite has one writer: transactions that overlap wait in its busy handler (sleeps of up to
        # 100 ms). Queueing them here instead keeps latency flat; PostgreSQL runs them in parallel.
        self._db_gate = asyncio.Semaphore(1 if is_sqlite(app.settings.database_url) else concurrency)
        # Event ids: on SQLite, claimed in batches ahead of the handler (a message that writes nothing then
        # costs a read-only transaction: 1.70 -> 1.51 ms of CPU per event); on PostgreSQL, claimed inside
        # the handler's own transaction (one transaction per event measured faster there: 803 vs 346 req/s).
        self.ledger = (EventLedger(app.sessions, app.engine.dialect.name, app.clock.now, gate=self._db_gate)
                       if is_sqlite(app.settings.database_url) else None)

    @classmethod
    def from_settings(cls, app: Runtime, metrics: Metrics) -> LineChannel:
        """Build the channel and its SDK client from the settings (call inside the running loop)."""
        settings = app.settings
        if not (settings.line_channel_secret and settings.line_channel_access_token):
            raise ValueError("LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are both needed")
        client = LineClient(settings.line_channel_access_token, settings.line_api_base_url)
        return cls(app, metrics, secret=settings.line_channel_secret, client=client)

    # -------------------------------------------------------------- the Channel protocol

    @property
    def name(self) -> str:
        """``line``."""
        return CHANNEL

    @property
    def sender(self) -> LineSender:
        """The one sender to LINE users, also the outbox worker's."""
        return self._sender

    def routes(self) -> Sequence[Route]:
        """``POST /webhooks/line``."""
        return (Route("POST", WEBHOOK_PATH, self.webhook, max_body=self.max_body),)

    async def start(self) -> None:
        """Accept webhooks (the SDK client was made with the channel, inside the running loop)."""
        self.closing = False

    async def stop(self, grace: float) -> None:
        """Answer 503 from now on, finish queued events within ``grace`` seconds, close the SDK client."""
        self.closing = True
        try:
            await self.drain(grace)
        finally:
            await self.client.close()

    # -------------------------------------------------------------- intake

    async def webhook(self, request: web.Request) -> web.Response:
        """``POST /webhooks/line``: verify, parse and queue a webhook request; answer at once."""
        if self.closing:
            return shutting_down()
        if request.content_length is not None and request.content_length > self.max_body:
            return self._reject(413, "too_large")
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(413, "too_large")
        except TimeoutError:
            return self._reject(408, "body_timeout")
        except (RequestPayloadError, aiohttp.ClientError, aiohttp.http_exceptions.HttpProcessingError,
                ConnectionError, ValueError):
            return self._reject(400, "unreadable")  # a damaged Content-Encoding, a connection reset mid-body
        if len(body) > self.max_body:  # a chunked body under the server's cap but over this one's
            return self._reject(413, "too_large")
        if self.closing:  # the stop began while the body was arriving: its events would be queued too late
            return shutting_down()
        try:
            await self.receive(body, request.headers.get("X-Line-Signature"))
        except WebhookRejected as exc:
            return self._reject(exc.status, exc.reason)
        return web.Response(text="OK")

    def _reject(self, status: int, reason: str) -> web.Response:
        self.metrics.webhooks_rejected.inc(reason)
        log.warning("LINE webhook refused status=%s reason=%s", status, reason)
        return web.Response(status=status, text=reason.replace("_", " "))

    def parse(self, body: bytes, signature: str | None) -> list[Event]:
        """Verify and parse a webhook body, or raise :class:`WebhookRejected` (nothing was processed)."""
        if not signature_ok(body, signature, self.secret):
            raise WebhookRejected(400, "signature")
        try:
            text = body.decode("utf-8")
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, or nested beyond the parser
            raise WebhookRejected(400, "malformed") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
            raise WebhookRejected(400, "malformed")
        try:
            return list(self.parser.parse(text, signature or "", as_payload=True).events)
        except Exception:
            # One unreadable event must not sink the others: read them one by one.
            return [e for e in (self._parse_one(raw) for raw in doc["events"]) if e is not None]

    def _parse_one(self, raw: object) -> Event | None:
        try:
            if not isinstance(raw, dict):
                raise TypeError("event is not an object")
            try:
                return Event.from_dict(raw)
            except ValueError:  # as the parser does: a type it does not know (or cannot read) is "unknown"
                return UnknownEvent.new_from_json_dict(raw)
        except Exception:
            kind = _type_label(raw.get("type") if isinstance(raw, dict) else None)
            log.warning("LINE event malformed; acknowledged and dropped type=%s", kind)
            self.metrics.events_handled.inc(kind, "malformed")
            return None

    async def receive(self, body: bytes, signature: str | None) -> int:
        """Accept one webhook request: queue its events (per user) and return how many were queued."""
        events = self.parse(body, signature)
        now = time.monotonic()
        queued = 0
        for event in events:
            kind = _event_type(event)
            if isinstance(event, UnknownEvent) or not isinstance(event, Event):
                log.info("LINE event of unknown type acknowledged type=%s", kind)
                self.metrics.events_handled.inc(kind, "unknown")
                continue
            source = getattr(event, "source", None)
            if not isinstance(source, UserSource) or not source.user_id:
                log.info("LINE event not from a one-to-one chat ignored type=%s", kind)
                self.metrics.events_handled.inc(kind, "ignored")
                continue
            problem = event_problem(event)
            if problem is not None:  # before it is claimed or stored: one bad event never affects another
                log.warning("LINE event malformed; acknowledged and dropped type=%s field=%s", kind, problem)
                self.metrics.events_handled.inc(kind, "malformed")
                continue
            self.metrics.events_received.inc(kind)
            item = _Event(event, now)
            await self.queues.submit(source.user_id, lambda item=item: self.handle_event(item))  # type: ignore[misc]
            queued += 1
        return queued

    # -------------------------------------------------------------- handling

    async def _message(self, event: Event, user_id: str) -> IncomingMessage | None:
        if isinstance(event, MessageEvent):
            content = event.message
            if isinstance(content, TextMessageContent):
                return IncomingMessage.from_text(CHANNEL, user_id, safe_text(content.text))
            if isinstance(content, ImageMessageContent):
                return await self._image(content, user_id)
            if isinstance(content, FileMessageContent):
                return await self._file(content, user_id)
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.OTHER)
        if isinstance(event, PostbackEvent):
            return IncomingMessage.from_payload(CHANNEL, user_id, safe_text(event.postback.data, MAX_POSTBACK))
        if isinstance(event, FollowEvent):
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.FOLLOW)
        if isinstance(event, UnfollowEvent):
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.UNFOLLOW)
        return None

    async def _image(self, content: ImageMessageContent, user_id: str) -> IncomingMessage:
        provider = getattr(content.content_provider, "type", "line")
        if provider != "line":
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.IMAGE, image_problem="external")
        return await self._content(content.id, user_id)

    async def _file(self, content: FileMessageContent, user_id: str) -> IncomingMessage:
        """A file message: fetched like a photo when it may be one (an image or a PDF: the content decides)."""
        name = (content.file_name or "").lower()
        suffix = name.rsplit(".", 1)[-1] if "." in name else ""
        if suffix and suffix not in FILE_SUFFIXES:
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.IMAGE, image_problem="not_image")
        if content.file_size is not None and content.file_size > self.max_image_bytes:
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.IMAGE, image_problem="too_large")
        return await self._content(content.id, user_id)

    async def _content(self, message_id: str, user_id: str) -> IncomingMessage:
        """Fetch a message's content (capped at ``max_image_bytes``) into an image message, or say what failed."""
        problem: str | None = None
        data: bytes | None = None
        await self.sender.show_loading(user_id, 20)
        self.metrics.api_calls.inc("content")
        try:
            data = await self.client.fetch_content(message_id, self.max_image_bytes)
        except API_ERRORS as exc:
            self.metrics.api_failures.inc("content", str(status_of(exc)))
            problem = "unavailable"
        else:
            if data is None:
                problem = "too_large"
        return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.IMAGE, image=data,
                               image_problem=problem)

    async def handle_event(self, item: _Event) -> None:
        """Handle one event: dispatch it once (by its webhookEventId) and send the answer."""
        event, kind = item.event, _event_type(item.event)
        user_id: str = item.event.source.user_id
        event_id: str | None = str(event.webhook_event_id)
        if self.ledger is not None:
            if not await self.ledger.claim(CHANNEL, str(event_id)):  # before any work, e.g. a download
                self.metrics.events_handled.inc(kind, "duplicate")
                return
            event_id = None  # claimed already
        msg = await self._message(event, user_id)
        if msg is None:
            log.info("LINE event needs no answer type=%s", kind)
            self.metrics.events_handled.inc(kind, "ignored")
            return
        loop = asyncio.get_running_loop()
        loading = loop.call_later(self.loading_after, self._start_loading, user_id)
        try:
            async with self._db_gate:
                outcome = await self.app.dispatcher.handle(msg, event_id=event_id)
        finally:
            loading.cancel()
        if outcome.duplicate:
            self.metrics.events_handled.inc(kind, "duplicate")
            return
        if outcome.replies:
            messages = render(outcome.replies)
            try:
                await self.sender.answer(user_id, reply_token(event), item.received_at, messages)
            except Exception as exc:
                self.metrics.events_handled.inc(kind, "send_failed")
                log.warning("LINE answer not delivered type=%s error=%s status=%s", kind, type(exc).__name__,
                            status_of(exc))
                return
        self.metrics.events_handled.inc(kind, "ok")
        self.metrics.event_latency.observe(time.monotonic() - item.received_at)

    def _start_loading(self, user_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self.sender.show_loading(user_id))
        self._loading_tasks.add(task)
        task.add_done_callback(self._loading_tasks.discard)

    async def drain(self, within: float) -> int:
        """Finish queued events within ``within`` seconds; returns how many had to be dropped."""
        if await self.queues.join(within):
            dropped = 0
        else:
            dropped = await self.queues.cancel()
            log.warning("shutdown: %s LINE events were not finished in %.0fs", dropped, within)
        if self._loading_tasks:
            await asyncio.gather(*self._loading_tasks, return_exceptions=True)
        return dropped
