"""The one sender to Telegram users: replies, edits in place, callback answers, outbox rows; never twice.

Messages go through PTB's ``Bot.do_api_request`` with the rendered parameters as JSON: PTB's request
pipeline, rate limiter and errors, without building PTB objects for the keyboard or parsing the answer
into a ``Message`` the bot never reads (object construction was the largest single cost in the profile).

:class:`TelegramSender` owns every Bot API call that shows something to a user. Failures are read by
:func:`~bot.channels.telegram_client.failure_of`:

- **403** (blocked, deactivated) and **400 "chat not found"**: the account is marked unreachable and
  nothing more is sent to it (an outbox row raises :class:`RecipientUnreachable`, so it is skipped);
- **429**: the ``retry_after`` Telegram names is waited (``with_retries``' ``retry_after`` hook), and
  every other call of this sender waits with it (Telegram's flood wait is per bot);
- errors raised **before the request left** (no connection, a full pool) and 5xx answers: retried with
  doubling waits;
- **no answer** (a read time-out, a connection dropped mid-way): Telegram may have sent the message and
  the Bot API has no retry key, so it is **not** sent again.

Outbox rows (at most once): before each message of a row is sent, its key (``<retry key>:<part>``) is
claimed in ``processed_events`` under the channel ``telegram-out``. A later attempt of the row (the worker
retries after a failure, or a dead worker's lease ran out) sends only the parts never claimed; a part
whose send certainly failed gives its claim back. The price: a worker killed between the claim and the
send loses that message (rare) rather than show it twice. docs/telegram.md says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

from bot.channels.retry import Sleep, with_retries
from bot.channels.telegram_client import API_ERRORS, FAN_OUT, ExtBot, failure_of
from bot.channels.telegram_render import TgMessage, render
from bot.conversation import Reply
from bot.db.channel_accounts import set_reachable
from bot.db.engine import transaction
from bot.db.events import DuplicateEvent, forget_event, record_event
from bot.services.notices import DeliveryError, Recipient, RecipientUnreachable

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
# do_api_request on a method PTB wraps is deliberate here (see the module docstring): not worth a warning.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.\w+' instead of 'Bot\.do_api_request",
                        category=PTBUserWarning)

CHANNEL = "telegram"
SENT_MARKS = "telegram-out"
"""The ``processed_events`` channel of the claims made before an outbox message is sent."""
MAX_FLOOD_WAIT = 60.0
"""The longest 429 wait honoured in place; a longer one fails the call (an outbox row is tried later)."""


class Unreachable(Exception):
    """The user blocked the bot or the chat is gone (the account has been marked unreachable)."""


def markup(message: TgMessage) -> dict[str, Any] | None:
    """The message's URL buttons and keyboard as the Bot API's ``InlineKeyboardMarkup`` JSON."""
    if not message.keyboard and not message.links:
        return None
    return {"inline_keyboard": [[{"text": label, "url": url}] for label, url in message.links]
            + [[{"text": label, "callback_data": data} for label, data in row] for row in message.keyboard]}


def message_params(chat_id: int | str, message: TgMessage) -> dict[str, Any]:
    """The parameters of ``sendMessage`` (with a message id, ``editMessageText``); a picture's of ``sendPhoto``."""
    params: dict[str, Any]
    if message.photo:
        params = {"chat_id": chat_id, "photo": message.photo}
        if message.text:
            params.update(caption=message.text, parse_mode="HTML")
    else:
        params = {"chat_id": chat_id, "text": message.text, "parse_mode": "HTML",
                  "link_preview_options": {"is_disabled": True}}
    keyboard = markup(message)
    if keyboard is not None:
        params["reply_markup"] = keyboard
    return params


def method_of(message: TgMessage) -> str:
    """The Bot API method that sends ``message``."""
    return "sendPhoto" if message.photo else "sendMessage"


class TelegramSender:
    """Sends to Telegram users (see the module docstring); also the outbox worker's Telegram sender."""

    def __init__(self, bot: ExtBot[Any], metrics: Metrics, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 *, attempts: int = 4, backoff: float = 0.5, sleep: Sleep = asyncio.sleep) -> None:
        self.bot = bot
        self.metrics = metrics
        self.sessions = sessions
        self.clock = clock
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self._paused_until = 0.0
        self.blocked: set[str] = set()
        """Chats found unreachable since their rows were loaded (the rest of a batch is skipped at once);
        the channel forgets a chat again when its user writes or unblocks the bot."""

    # ------------------------------------------------------------------ one call

    async def _call(self, name: str, call: Callable[[], Awaitable[T]], attempts: int | None = None) -> T:
        """One Bot API call: retried only when it cannot have been sent; 429 waits what Telegram asked."""
        own_pause = 0.0  # a flood wait this call already sat out through with_retries

        async def counted() -> T:
            if self._paused_until > own_pause:  # another call met a 429: Telegram's wait is per bot
                wait = self._paused_until - time.monotonic()
                if wait > 0:
                    await self.sleep(wait)
            self.metrics.tg_api_calls.inc(name)
            return await call()

        def failed(exc: BaseException, attempt: int, delay: float | None) -> None:
            nonlocal own_pause
            failure = failure_of(exc)
            self.metrics.tg_api_failures.inc(name, str(failure.status))
            if failure.retry_after is not None:
                self._paused_until = max(self._paused_until, time.monotonic() + failure.retry_after)
                own_pause = self._paused_until
            if delay is not None:
                log.warning("Telegram %s failed status=%s attempt=%s; retrying in %.2fs", name, failure.status,
                            attempt, delay)

        return await with_retries(counted, attempts=attempts or self.attempts, backoff=self.backoff,
                                  errors=API_ERRORS, retryable=lambda e: failure_of(e).not_sent,
                                  sleep=self.sleep, failed=failed,
                                  retry_after=lambda e: failure_of(e).retry_after, max_wait=MAX_FLOOD_WAIT)

    async def _unreachable(self, chat_id: int | str) -> None:
        self.blocked.add(str(chat_id))
        try:
            async with transaction(self.sessions) as session:
                await set_reachable(session, CHANNEL, str(chat_id), False)
        except Exception as exc:
            log.warning("marking a Telegram account unreachable failed (%s)", type(exc).__name__)

    async def send(self, chat_id: int | str, message: TgMessage, *, paced: bool = False,
                   attempts: int | None = None) -> None:
        """Send one message; raises :class:`Unreachable` (account marked) or the API error."""
        try:
            method = method_of(message)
            await self._call(method, lambda: self.bot.do_api_request(
                method, message_params(chat_id, message), rate_limit_args=FAN_OUT if paced else None),
                attempts)
        except API_ERRORS as exc:
            if failure_of(exc).unreachable:
                await self._unreachable(chat_id)
                raise Unreachable(str(chat_id)) from exc
            raise

    async def edit(self, chat_id: int | str, message_id: int, message: TgMessage) -> bool:
        """Replace a message's text and keyboard in place; False when Telegram refuses (then send instead)."""
        try:
            await self._call("editMessageText", lambda: self.bot.do_api_request(
                "editMessageText", {**message_params(chat_id, message), "message_id": message_id}))
        except BadRequest as exc:
            return "not modified" in str(exc).lower()  # the same page again: nothing to change
        return True

    async def answer(self, chat_id: int | str, messages: Sequence[TgMessage], *,
                     edit_message_id: int | None = None) -> None:
        """Send an update's answer, the first message as an edit of ``edit_message_id`` when given.

        A blocked user ends the answer quietly (the account is marked unreachable).
        """
        rest = list(messages)
        try:
            if edit_message_id is not None and rest and await self.edit(chat_id, edit_message_id, rest[0]):
                rest = rest[1:]
            for message in rest:
                await self.send(chat_id, message)
        except Unreachable:
            log.info("Telegram user unreachable; answer dropped")

    async def answer_callback(self, query_id: str, text: str | None = None) -> None:
        """Answer a button press (stops the client's spinner), with a short notice when given; best effort."""
        try:
            await self._call("answerCallbackQuery", lambda: self.bot.answer_callback_query(query_id, text=text), 1)
        except API_ERRORS as exc:  # too old, or already answered: nothing the user can see
            log.info("answerCallbackQuery failed (%s)", type(exc).__name__)

    async def leave(self, chat_id: int | str, text: str) -> None:
        """Say one line in a group and leave it (best effort)."""
        with contextlib.suppress(*API_ERRORS):
            await self._call("sendMessage", lambda: self.bot.send_message(chat_id, text), 1)
        try:
            await self._call("leaveChat", lambda: self.bot.leave_chat(chat_id), 1)
        except API_ERRORS as exc:
            log.info("leaveChat failed (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ outbox rows

    async def _claim(self, key: str) -> bool:
        try:
            async with transaction(self.sessions) as session:
                await record_event(session, SENT_MARKS, key, self.clock.now())
        except DuplicateEvent:
            return False
        return True

    async def _give_back(self, key: str) -> None:
        async with transaction(self.sessions) as session:
            await forget_event(session, SENT_MARKS, key)

    async def deliver(self, recipient: Recipient, replies: list[Reply], retry_key: str) -> None:
        """The outbox worker's sender: each message of the row at most once, paced for fan-out."""
        if recipient.external_id in self.blocked:
            raise RecipientUnreachable("blocked or chat not found")
        for part, message in enumerate(render(replies)):
            key = f"{retry_key}:{part}"
            if not await self._claim(key):
                log.info("Telegram outbox part attempted before; not sent again")
                continue
            try:
                await self.send(recipient.external_id, message, paced=True)
            except Unreachable as exc:
                await self._give_back(key)
                raise RecipientUnreachable("blocked or chat not found") from exc
            except API_ERRORS as exc:
                failure = failure_of(exc)
                if failure.not_sent or failure.status >= 400:  # refused or never left: may be tried again
                    await self._give_back(key)
                    raise DeliveryError(f"Telegram sendMessage status {failure.status}",
                                        retry=failure.not_sent) from exc
                raise DeliveryError("Telegram sendMessage: no answer; not sent again (at most once)",
                                    retry=False) from exc
