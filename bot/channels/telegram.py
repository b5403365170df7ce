"""The Telegram channel: webhook intake (secret token, size cap, per-user queues), updates → the dispatcher.

The modules of the channel, by reason to change (only ``bot/channels/telegram*`` import ``telegram``):
this one (the :class:`~bot.channels.base.Channel`: intake, updates, long polling),
:mod:`~bot.channels.telegram_client` (PTB's ``Application`` without an Updater, pacing, what an error
means), :mod:`~bot.channels.telegram_sender` (replies, edits, callback answers, outbox rows at most once)
and :mod:`~bot.channels.telegram_render` (replies → HTML and inline keyboards). See docs/telegram.md.

1. :meth:`TelegramChannel.webhook` (``POST /webhooks/telegram``) caps the body (413), compares
   ``X-Telegram-Bot-Api-Secret-Token`` in constant time (missing or wrong: 403, nothing read further),
   parses the update with PTB (``Update.de_json``) and queues it for its user (``UserQueues``: one user's
   updates in order); the request is answered 200 at once. ``abc-bot telegram poll`` feeds updates from
   ``getUpdates`` into the same :meth:`TelegramChannel.accept`.
2. Each update runs through PTB's ``Application.process_update`` (one ``TypeHandler``) into
   :meth:`TelegramChannel.handle_update`: the ``update_id`` is claimed in ``processed_events`` (on SQLite
   in batches before the work, on PostgreSQL inside the dispatcher's transaction, as on LINE), so an update
   Telegram delivers again is answered once.
3. Private chats only: a message in a group gets one line and the bot leaves. ``/start`` is the follow of
   LINE (welcome, reachable again), ``/start bind_<code>`` a binding link, a press of a button a payload
   (every press answered with ``answerCallbackQuery``, a stale one with a short notice), photos and image or
   PDF documents are fetched (``getFile``, 10 MiB) into ``IncomingMessage.image``; a user who blocks the
   bot is marked unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.channels.base import Route, shutting_down
from bot.channels.queues import UserQueues
from bot.channels.telegram_client import API_ERRORS, TelegramApp, build_application, failure_of
from bot.channels.telegram_render import render
from bot.channels.telegram_sender import CHANNEL, TelegramSender
from bot.conversation import MAX_IMAGE_BYTES, IncomingMessage, Intent, MessageKind
from bot.db.channel_accounts import set_reachable
from bot.db.engine import is_sqlite, transaction
from bot.db.events import EventLedger
from handlers.account import BindWithCode
from handlers.search import MoreResults

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/telegram"
MAX_BODY_BYTES = 256 * 1024
"""The largest update accepted (Telegram's are a few KiB; a long text with entities stays far below)."""
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PAGING = (MoreResults,)
"""Buttons whose answer replaces the list they sit under (the next page, edited in place)."""
DOCUMENT_TYPES = ("image/", "application/pdf")
_BIND_LINK = re.compile(r"^/start(?:@\w+)?\s+bind_([A-Za-z0-9_-]{1,59})$")
_START = re.compile(r"^/start(?:@\w+)?(?:\s+\S+)?$")
_ADDRESSED = re.compile(r"^(/\w+)@\w+")
"""``/hours@abc_bot`` (a command chosen from the menu can carry the bot's name): the name is dropped."""


def secret_ok(given: str | None, secret: str) -> bool:
    """Constant-time check of the webhook's secret token (a missing one is wrong)."""
    if not given:
        return False
    return hmac.compare_digest(secret.encode(), given.encode("utf-8", "surrogateescape"))


def lang_of_user(language_code: str | None) -> str | None:
    """The bot's language for a Telegram ``language_code``: Chinese → zh-TW, any other → en, none → None."""
    if not language_code:
        return None
    return "zh-TW" if language_code.lower().startswith("zh") else "en"


class WebhookRejected(Exception):
    """A webhook request refused as a whole (``status``, and ``reason`` as the metric label)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class _Meta:
    received_at: float


def update_type(update: Update) -> str:
    """What an update is, for logs and metric labels (never its content)."""
    if update.callback_query is not None:
        return "callback_query"
    if update.my_chat_member is not None:
        return "my_chat_member"
    message = update.message
    if message is None:
        return "other"
    for kind in ("text", "photo", "document", "sticker", "voice", "video", "location"):
        if getattr(message, kind, None):
            return kind
    return "message"


class TelegramChannel:
    """Receives Telegram updates and answers them (see the module docstring); a :class:`~bot.channels.base.Channel`."""

    def __init__(self, app: Runtime, metrics: Metrics, *, secret: str, application: TelegramApp,
                 sender: TelegramSender | None = None, concurrency: int = 32, max_image_bytes: int = MAX_IMAGE_BYTES,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.metrics = metrics
        self.secret = secret
        self.application = application
        self.bot = application.bot
        self._sender = sender or TelegramSender(application.bot, metrics, app.sessions, app.clock)
        self.queues = UserQueues(concurrency=concurrency, label="Telegram")
        self.max_image_bytes = max_image_bytes
        self.max_body = max_body
        self.closing = False
        self._started = False
        self._meta: dict[int, _Meta] = {}
        sqlite = is_sqlite(app.settings.database_url)
        self._db_gate = asyncio.Semaphore(1 if sqlite else concurrency)  # as on LINE: SQLite has one writer
        self.ledger = (EventLedger(app.sessions, app.engine.dialect.name, app.clock.now, gate=self._db_gate)
                       if sqlite else None)
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)

    @classmethod
    def from_settings(cls, app: Runtime, metrics: Metrics) -> TelegramChannel:
        """Build the channel and PTB's Application from the settings (token, webhook secret, API address)."""
        settings = app.settings
        if not (settings.telegram_bot_token and settings.telegram_webhook_secret):
            raise ValueError("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are both needed")
        application = build_application(settings.telegram_bot_token, settings.telegram_api_base_url)
        return cls(app, metrics, secret=settings.telegram_webhook_secret, application=application)

    # -------------------------------------------------------------- the Channel protocol

    @property
    def name(self) -> str:
        """``telegram``."""
        return CHANNEL

    @property
    def sender(self) -> TelegramSender:
        """The one sender to Telegram users, also the outbox worker's."""
        return self._sender

    def routes(self) -> Sequence[Route]:
        """``POST /webhooks/telegram``."""
        return (Route("POST", WEBHOOK_PATH, self.webhook, max_body=self.max_body),)

    async def start(self) -> None:
        """Initialise PTB's Application (it asks ``getMe``) and accept updates."""
        if not self._started:
            await self.application.initialize()
            self._started = True
        self.closing = False

    async def stop(self, grace: float) -> None:
        """Answer 503 from now on, finish queued updates within ``grace`` seconds, shut PTB down."""
        self.closing = True
        try:
            await self.drain(grace)
        finally:
            if self._started:
                self._started = False
                await self.application.shutdown()

    # -------------------------------------------------------------- intake

    async def webhook(self, request: web.Request) -> web.Response:
        """``POST /webhooks/telegram``: check the secret, read and queue the update; answer at once."""
        if self.closing:
            return shutting_down()
        if not secret_ok(request.headers.get(SECRET_HEADER), self.secret):
            return self._reject(403, "secret")
        if request.content_length is not None and request.content_length > self.max_body:
            return self._reject(413, "too_large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._reject(413, "too_large")
        if len(body) > self.max_body:
            return self._reject(413, "too_large")
        if self.closing:
            return shutting_down()
        try:
            await self.receive(body)
        except WebhookRejected as exc:
            return self._reject(exc.status, exc.reason)
        return web.Response(text="OK")

    def _reject(self, status: int, reason: str) -> web.Response:
        self.metrics.tg_rejected.inc(reason)
        log.warning("Telegram webhook refused status=%s reason=%s", status, reason)
        return web.Response(status=status, text=reason.replace("_", " "))

    async def receive(self, body: bytes) -> bool:
        """Parse one update (the secret was checked) and queue it; False when it was not queued."""
        try:
            doc = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise WebhookRejected(400, "malformed") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("update_id"), int):
            raise WebhookRejected(400, "malformed")
        try:
            update = Update.de_json(doc, self.bot)
        except Exception:  # a shape PTB cannot read: acknowledged, or Telegram would send it forever
            log.warning("Telegram update unreadable; acknowledged and dropped")
            self.metrics.tg_updates.inc("unknown", "malformed")
            return False
        return await self.accept(update, time.monotonic())

    async def accept(self, update: Update, received_at: float) -> bool:
        """Queue an update for its user (the webhook and ``telegram poll`` both end here)."""
        user = update.effective_user
        if user is None:
            self.metrics.tg_updates.inc(update_type(update), "ignored")
            return False
        self._meta[update.update_id] = _Meta(received_at)
        await self.queues.submit(str(user.id), lambda: self._run(update))
        return True

    async def _run(self, update: Update) -> None:
        try:
            if self.ledger is not None and not await self.ledger.claim(CHANNEL, str(update.update_id)):
                self.metrics.tg_updates.inc(update_type(update), "duplicate")
                return
            await self.application.process_update(update)
        finally:
            self._meta.pop(update.update_id, None)  # handle_update took it, unless the update never got there

    async def _on_update(self, update: object, _: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            await self.handle_update(update)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Telegram update failed (%s)", type(context.error).__name__, exc_info=context.error)

    # -------------------------------------------------------------- handling

    async def handle_update(self, update: Update) -> None:
        """Handle one update: private chats only; dispatch it once (by its update_id) and answer."""
        meta = self._meta.pop(update.update_id, None) or _Meta(time.monotonic())
        kind = update_type(update)
        chat = update.effective_chat
        user = update.effective_user
        if user is None or chat is None:
            self.metrics.tg_updates.inc(kind, "ignored")
            return
        lang = lang_of_user(user.language_code)
        if chat.type != "private":
            await self._group(update, lang)
            self.metrics.tg_updates.inc(kind, "group")
            return
        if update.my_chat_member is not None:
            await self._membership(update)
            return
        self.sender.blocked.discard(str(user.id))  # they write: they can be written to
        msg = await self._message(update, lang)
        if msg is None:
            self.metrics.tg_updates.inc(kind, "ignored")
            return
        event_id = None if self.ledger is not None else str(update.update_id)
        async with self._db_gate:
            outcome = await self.app.dispatcher.handle(msg, event_id=event_id)
        if outcome.duplicate:
            self.metrics.tg_updates.inc(kind, "duplicate")
            return
        query = update.callback_query
        edit: int | None = None
        if query is not None:
            stale = msg.bad_payload or outcome.intent == Intent.UNKNOWN
            await self.sender.answer_callback(query.id, self.app.texts.get("telegram.callback.stale", lang or
                                                                            self.app.settings.default_lang)
                                              if stale else None)
            if (isinstance(msg.action, PAGING) and query.message is not None and outcome.replies
                    and outcome.replies[0].type == "cards"):
                edit = query.message.message_id
        if outcome.replies:
            try:
                await self.sender.answer(chat.id, render(outcome.replies), edit_message_id=edit)
            except API_ERRORS as exc:
                self.metrics.tg_updates.inc(kind, "send_failed")
                log.warning("Telegram answer not delivered type=%s error=%s status=%s", kind, type(exc).__name__,
                            failure_of(exc).status)
                return
        self.metrics.tg_updates.inc(kind, "ok")
        self.metrics.tg_latency.observe(time.monotonic() - meta.received_at)

    async def _group(self, update: Update, lang: str | None) -> None:
        """A group or channel: one line, then leave (only when the bot was added or spoken to)."""
        member = update.my_chat_member
        if member is not None and member.new_chat_member.status in ("left", "kicked"):
            return  # the bot was removed: nothing to say
        chat = update.effective_chat
        assert chat is not None
        text = self.app.texts.get("telegram.group_only", lang or self.app.settings.default_lang)
        await self.sender.leave(chat.id, text)

    async def _membership(self, update: Update) -> None:
        """A private chat's member status: blocked → unreachable, unblocked → reachable (no answer either way)."""
        member = update.my_chat_member
        assert member is not None and update.effective_user is not None
        reachable = member.new_chat_member.status not in ("kicked", "left")
        if reachable:
            self.sender.blocked.discard(str(update.effective_user.id))
        else:
            self.sender.blocked.add(str(update.effective_user.id))
        async with self._db_gate, transaction(self.app.sessions) as session:
            await set_reachable(session, CHANNEL, str(update.effective_user.id), reachable)
        self.metrics.tg_updates.inc("my_chat_member", "ok")

    async def _message(self, update: Update, lang: str | None) -> IncomingMessage | None:
        user_id = str(update.effective_user.id) if update.effective_user else ""
        query = update.callback_query
        if query is not None:
            msg = IncomingMessage.from_payload(CHANNEL, user_id, query.data or "")
            return _with_lang(msg, lang)
        message = update.message
        if message is None:
            return None
        if message.text is not None:
            text = message.text.strip()
            link = _BIND_LINK.match(text)
            if link is not None:
                try:
                    action = BindWithCode(link.group(1))
                except ValueError:
                    action = None
                if action is not None:
                    return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.ACTION, action=action,
                                           lang=lang)
            if _START.match(text):
                return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.FOLLOW, lang=lang)
            return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.TEXT,
                                   text=_ADDRESSED.sub(r"\1", text), lang=lang)
        if message.photo:
            largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
            return await self._image(user_id, largest.file_id, largest.file_size, lang)
        document = message.document
        if document is not None and (document.mime_type or "").startswith(DOCUMENT_TYPES):
            return await self._image(user_id, document.file_id, document.file_size, lang)
        return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.OTHER, lang=lang)

    async def _image(self, user_id: str, file_id: str, size: int | None, lang: str | None) -> IncomingMessage:
        """Fetch a photo or document through ``getFile`` with the size cap LINE images have."""
        problem: str | None = None
        data: bytes | None = None
        if size is not None and size > self.max_image_bytes:
            problem = "too_large"
        else:
            self.metrics.tg_api_calls.inc("getFile")
            try:
                file = await self.bot.get_file(file_id)
                if file.file_size is not None and file.file_size > self.max_image_bytes:
                    problem = "too_large"
                else:
                    data = bytes(await file.download_as_bytearray())
                    if len(data) > self.max_image_bytes:
                        data, problem = None, "too_large"
            except API_ERRORS as exc:
                self.metrics.tg_api_failures.inc("getFile", str(failure_of(exc).status))
                problem = "unavailable"
        return IncomingMessage(channel=CHANNEL, user_id=user_id, kind=MessageKind.IMAGE, image=data,
                               image_problem=problem, lang=lang)

    async def drain(self, within: float) -> int:
        """Finish queued updates within ``within`` seconds; returns how many had to be dropped."""
        if await self.queues.join(within):
            return 0
        dropped = await self.queues.cancel()
        log.warning("shutdown: %s Telegram updates were not finished in %.0fs", dropped, within)
        return dropped

    # -------------------------------------------------------------- long polling (development)

    async def poll(self, stop: asyncio.Event, *, wait: int = 25) -> None:
        """Feed ``getUpdates`` into :meth:`accept` until ``stop`` is set (the webhook is removed first)."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=wait,
                                                     allowed_updates=list(ALLOWED_UPDATES))
            except API_ERRORS as exc:
                failures += 1
                log.warning("getUpdates failed (%s); trying again", type(exc).__name__)
                await _sleep_or_stop(stop, min(30.0, 0.5 * 2 ** failures))
                continue
            failures = 0
            for update in updates:
                offset = update.update_id + 1
                await self.accept(update, time.monotonic())


def _with_lang(msg: IncomingMessage, lang: str | None) -> IncomingMessage:
    from dataclasses import replace

    return replace(msg, lang=lang)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


__all__ = ["ALLOWED_UPDATES", "WEBHOOK_PATH", "TelegramChannel", "lang_of_user", "secret_ok", "update_type"]
